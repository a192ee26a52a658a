"""Settings the Kubernetes target accepts (validated by ``stacks/``; no provider SDK here).

Target settings come from ``gpu-platform:kubernetes``; pool settings from a
blueprint's ``pools.<name>.targets.kubernetes`` merged with ``gpu-platform:pools.<name>``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Label = Annotated[str, Field(min_length=1, max_length=253)]


class Toleration(BaseModel):
    """A pod toleration (the taint a pool's nodes carry)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    operator: Literal["Exists", "Equal"] = "Exists"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = "NoSchedule"


class KubernetesPoolSettings(BaseModel):
    """How a pool maps onto nodes: a node selector, tolerations, and GPU sharing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node_selector: dict[Label, str] = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=list)
    # NVIDIA device plugin time-slicing: each card is advertised as this many shared units.
    time_slicing_replicas: Annotated[int, Field(ge=1, le=48)] = 4


class KubernetesSettings(BaseModel):
    """Which cluster, which namespace, which Gateway, and which operators the cluster has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    context: str | None = None
    kubeconfig: str | None = None
    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")] | None = None
    gateway_class: str = "eg"
    # Where the Gateway implementation's data-plane pods run (allowed in by NetworkPolicy).
    gateway_namespace: str = "envoy-gateway-system"
    # GEP-1619 sessionPersistence is experimental: emit it only where the implementation supports it.
    session_persistence: bool = False
    cluster_issuer: str | None = None
    cnpg: bool = False
    cnpg_namespace: str = "cnpg-system"
    storage_class: str | None = None
    device_plugin_namespace: str = "gpu-operator"
    # Egress beyond the wiring (e.g. to external APIs): CIDRs, default none.
    egress_cidrs: list[str] = Field(default_factory=list)


def requirements(profile: Any, has_tls_settings: bool, settings: BaseModel) -> list[str]:
    """CA-issued TLS on Kubernetes comes from a cert-manager ClusterIssuer the cluster already has."""
    del has_tls_settings
    assert isinstance(settings, KubernetesSettings)
    if profile.tls == "ca" and not settings.cluster_issuer:
        return [
            "gpu-platform:kubernetes.cluster_issuer|the profile serves CA-issued TLS: name the cert-manager "
            "ClusterIssuer that signs it (e.g. letsencrypt-prod)"
        ]
    return []


TARGET_SETTINGS = KubernetesSettings
POOL_SETTINGS = KubernetesPoolSettings
