"""GPU sharing on Kubernetes: the NVIDIA device plugin's time-slicing config, one ConfigMap per stack.

A10G, L4, T4 and consumer cards have no MIG, so a fractional GPU (the bev
seed's 0.5) is a time-sliced share: the device plugin advertises each card as
``replicas`` units of ``nvidia.com/gpu`` and pods request whole units
(``pods.gpu_units``). The GPU Operator's ClusterPolicy (``devicePlugin.config.name``,
or the plugin's Helm value ``config.name``) names exactly *one* ConfigMap, whose
keys are named configs; a node picks its key with the label
``nvidia.com/device-plugin.config=<key>``. So the stack writes one ConfigMap
(:func:`config_map_name`) with one key per time-sliced pool, keyed by the pool's
name, and the pool's nodes must carry that label — the cluster prerequisite the
README states (the program does not manage nodes).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import yaml

from targets.kubernetes.cluster import Cluster
from targets.kubernetes.pods import GPU_RESOURCE, labels
from targets.kubernetes.settings import KubernetesSettings


def sharing_config(replicas: int) -> str:
    """The device plugin's config file (version v1) for time-slicing each GPU ``replicas`` ways."""
    return yaml.safe_dump(
        {
            "version": "v1",
            "flags": {"migStrategy": "none"},
            "sharing": {
                "timeSlicing": {
                    "renameByDefault": False,
                    "failRequestsGreaterThanOne": False,
                    "resources": [{"name": GPU_RESOURCE, "replicas": replicas}],
                }
            },
        },
        sort_keys=False,
    )


def config_map_name(stack: str) -> str:
    """The ConfigMap the ClusterPolicy's ``devicePlugin.config.name`` must name."""
    return f"{stack}-time-slicing"


def time_slicing_config(
    replicas_by_pool: dict[str, int], stack: str, settings: KubernetesSettings, cluster: Cluster
) -> k8s.core.v1.ConfigMap:
    """One ConfigMap in the device plugin's namespace: key ``<pool>`` = that pool's sharing config."""
    name = config_map_name(stack)
    return k8s.core.v1.ConfigMap(
        "time-slicing",
        metadata={"name": name, "namespace": settings.device_plugin_namespace, "labels": labels(stack, name)},
        data={pool: sharing_config(replicas) for pool, replicas in sorted(replicas_by_pool.items())},
        opts=pulumi.ResourceOptions(parent=cluster, provider=cluster.provider),
    )
