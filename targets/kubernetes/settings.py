"""Settings the Kubernetes target accepts (validated by ``stacks/``; no provider SDK here).

Target settings come from ``gpu-platform:kubernetes``; pool settings from a
blueprint's ``pools.<name>.targets.kubernetes`` merged with ``gpu-platform:pools.<name>``.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Label = Annotated[str, Field(min_length=1, max_length=253)]

CIDR_RULE = (
    "an IPv4 or IPv6 network in CIDR notation with its host bits zero, e.g. 203.0.113.0/24 or 2001:db8::/32 "
    "(a single address is /32 or /128)"
)


def check_cidr(value: str) -> str:
    """A NetworkPolicy ``ipBlock.cidr``: a network address with an explicit prefix, written canonically.

    ``10.0.0.1/8`` is an error, not silently ``10.0.0.0/8``: it is ambiguous (the network, or
    the host 10.0.0.1/32?), and API servers with strict IP validation reject it. The message
    names both readings.
    """
    address, slash, _ = value.partition("/")
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(CIDR_RULE) from None
    if not slash:
        raise ValueError(f"{CIDR_RULE}; add the prefix length (e.g. {network})")
    if network.network_address != ipaddress.ip_address(address):
        host = f"{address}/{network.max_prefixlen}"
        raise ValueError(f"{CIDR_RULE}; did you mean the network {network} or the host {host}?")
    return str(network)


Cidr = Annotated[str, AfterValidator(check_cidr)]


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
    # The cluster's pod address ranges (e.g. 10.244.0.0/16; on EKS the VPC's CIDR): the TURN
    # relay refuses private peers except these, where the Pixel Streaming streamer runs.
    pod_cidrs: list[Cidr] = Field(default_factory=list)
    # Egress beyond the wiring (e.g. to external APIs): CIDRs, default none.
    egress_cidrs: list[Cidr] = Field(default_factory=list)


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
