"""GPU sharing on Kubernetes: the NVIDIA device plugin's time-slicing config for a pool.

A10G, L4, T4 and consumer cards have no MIG, so a fractional GPU (the bev
seed's 0.5) is a time-sliced share: the device plugin advertises each card as
``replicas`` units of ``nvidia.com/gpu`` and pods request whole units
(``pods.gpu_units``). The ConfigMap goes into the device plugin's namespace with
one key per pool; nodes of the pool carry ``nvidia.com/device-plugin.config=<key>``
and the GPU Operator's ClusterPolicy (or the plugin's Helm values) names the
ConfigMap — the cluster prerequisite the README states.
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


def time_slicing_config(
    pool: str, replicas: int, stack: str, settings: KubernetesSettings, cluster: Cluster, parent: pulumi.Resource
) -> k8s.core.v1.ConfigMap:
    name = f"{stack}-{pool}-time-slicing"
    return k8s.core.v1.ConfigMap(
        f"{pool}-time-slicing",
        metadata={"name": name, "namespace": settings.device_plugin_namespace, "labels": labels(stack, name)},
        data={pool: sharing_config(replicas)},
        opts=pulumi.ResourceOptions(parent=parent, provider=cluster.provider),
    )
