"""The stack's footing on a cluster: an explicit Provider and the stack's Namespace.

The Namespace enforces Pod Security Admission ``restricted`` (so a pod that
slips past the policy pack is still refused by the API server), and every
resource the target creates goes through :meth:`Cluster.opts` so it uses this
provider and waits for the namespace.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.protocol import TargetContext
from targets.kubernetes.pods import labels
from targets.kubernetes.settings import KubernetesSettings


class Cluster(pulumi.ComponentResource):
    """Provider + Namespace (type ``gpu-platform:kubernetes:Cluster``)."""

    def __init__(self, name: str, context: TargetContext[KubernetesSettings], settings: KubernetesSettings) -> None:
        super().__init__("gpu-platform:kubernetes:Cluster", name, None, None)
        self.stack = context.stack
        self.namespace_name = settings.namespace or f"gpu-platform-{context.stack}"
        self.provider = k8s.Provider(
            f"{name}-provider",
            context=settings.context,
            kubeconfig=settings.kubeconfig,
            namespace=self.namespace_name,
            enable_server_side_apply=True,
            delete_unreachable=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": self.namespace_name,
                "labels": {
                    **labels(context.stack, self.namespace_name),
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        self.register_outputs({"namespace": self.namespace_name})

    def opts(self, parent: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
        """Options for a namespaced resource: this provider, after the namespace."""
        depends = [self.namespace, *extra.pop("depends_on", [])]
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, depends_on=depends, **extra)
