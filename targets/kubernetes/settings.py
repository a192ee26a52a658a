"""Settings the Kubernetes target accepts (validated by ``stacks/``; no provider SDK here).

Target settings come from ``gpu-platform:kubernetes``; pool settings from a
blueprint's ``pools.<name>.targets.kubernetes`` merged with ``gpu-platform:pools.<name>``.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from stacks.profiles import Profile

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

    key: str = Field(description="The taint's key. Required.")
    operator: Literal["Exists", "Equal"] = Field(
        default="Exists", description="Exists or Equal (then value). Default: Exists."
    )
    value: str | None = Field(default=None, description="The taint's value, for Equal. Default: none.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default="NoSchedule",
        description="NoSchedule, PreferNoSchedule, NoExecute or null (every effect). Default: NoSchedule.",
    )


class KubernetesPoolSettings(BaseModel):
    """How a pool maps onto nodes: a node selector, tolerations, and GPU sharing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node_selector: dict[Label, str] = Field(
        default_factory=dict,
        description=(
            "Node labels the pool's pods are scheduled on. Default: none. The stack's "
            "gpu-platform:pools.<name> overrides the blueprint's value."
        ),
    )
    tolerations: list[Toleration] = Field(
        default_factory=list,
        description=(
            "Taints the pool's nodes carry (GPU pools also tolerate nvidia.com/gpu:NoSchedule). Default: "
            "none. The stack's gpu-platform:pools.<name> overrides the blueprint's value."
        ),
    )
    # NVIDIA device plugin time-slicing: each card is advertised as this many shared units.
    time_slicing_replicas: Annotated[int, Field(ge=1, le=48)] = Field(
        default=4,
        description=(
            "NVIDIA device plugin time-slicing: each card is advertised as this many shared units (1-48). "
            "Default: 4. The stack's gpu-platform:pools.<name> overrides the blueprint's value."
        ),
    )


class KubernetesSettings(BaseModel):
    """Which cluster, which namespace, which Gateway, and which operators the cluster has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    context: str | None = Field(
        default=None, description="The kubeconfig context. Default: none (the kubeconfig's current context)."
    )
    kubeconfig: str | None = Field(
        default=None,
        description="Path to the kubeconfig. Default: none (the provider's default: KUBECONFIG or ~/.kube/config).",
    )
    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")] | None = Field(
        default=None, description="The namespace the stack creates. Default: none, gpu-platform-<stack>."
    )
    gateway_class: str = Field(
        default="eg",
        description="The GatewayClass of the cluster's Gateway API implementation. Default: eg (Envoy Gateway).",
    )
    # Where the Gateway implementation's data-plane pods run (allowed in by NetworkPolicy).
    gateway_namespace: str = Field(
        default="envoy-gateway-system",
        description=(
            "Where the Gateway implementation's data-plane pods run (allowed in by NetworkPolicy). Default: "
            "envoy-gateway-system."
        ),
    )
    # GEP-1619 sessionPersistence is experimental: emit it only where the implementation supports it.
    session_persistence: bool = Field(
        default=False,
        description=(
            "Emits GEP-1619 sessionPersistence (experimental) for sticky gateways, where the implementation "
            "supports it. Default: false."
        ),
    )
    cluster_issuer: str | None = Field(
        default=None,
        description=(
            "The cert-manager ClusterIssuer for CA-issued TLS; required by the prod profile. Default: none "
            "(staging creates a self-signed Issuer)."
        ),
    )
    cnpg: bool = Field(
        default=False,
        description=(
            "Postgres as a CloudNativePG Cluster (read replicas, HA). Default: false (a StatefulSet on a PVC)."
        ),
    )
    cnpg_namespace: str = Field(
        default="cnpg-system",
        description="Where the CloudNativePG operator runs (allowed in by NetworkPolicy). Default: cnpg-system.",
    )
    storage_class: str | None = Field(
        default=None,
        description=(
            "StorageClass for PVCs (it must offer ReadWriteMany for shared volumes). Default: none (the "
            "cluster's default)."
        ),
    )
    device_plugin_namespace: str = Field(
        default="gpu-operator",
        description=(
            "Where the NVIDIA device plugin runs; the time-slicing ConfigMap is written there. Default: gpu-operator."
        ),
    )
    # The cluster's pod address ranges (e.g. 10.244.0.0/16; on EKS the VPC's CIDR): the TURN
    # relay refuses private peers except these, where the Pixel Streaming streamer runs.
    pod_cidrs: list[Cidr] = Field(
        default_factory=list,
        description=(
            "The cluster's pod address ranges (e.g. 10.244.0.0/16; on EKS the VPC's CIDR): the TURN relay "
            "allows these private peers; required with pixel_streaming. Default: none."
        ),
    )
    # Public workloads (the TURN relay) are LoadBalancer Services; which controller provisions
    # them, and how, is the cluster's: the in-tree AWS provider cannot serve UDP or mixed protocols.
    load_balancer_class: Annotated[str, Field(min_length=1, max_length=253)] | None = Field(
        default=None,
        description=(
            "spec.loadBalancerClass of public Services (the TURN relay), e.g. service.k8s.aws/nlb for the "
            "AWS Load Balancer Controller on EKS. Default: none (the cluster's default balancer)."
        ),
    )
    load_balancer_annotations: dict[Label, str] = Field(
        default_factory=dict,
        description=(
            "Annotations on public Services for the balancer controller, e.g. "
            "service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing. Default: none."
        ),
    )
    # Egress beyond the wiring (e.g. to external APIs): CIDRs, default none.
    egress_cidrs: list[Cidr] = Field(
        default_factory=list,
        description=(
            "Egress allowed beyond the wiring (e.g. external APIs), as CIDR networks with host bits zero. "
            "Default: none."
        ),
    )


def requirements(profile: Profile, has_tls_settings: bool, settings: KubernetesSettings) -> list[str]:
    """CA-issued TLS on Kubernetes comes from a cert-manager ClusterIssuer the cluster already has."""
    del has_tls_settings
    if profile.tls == "ca" and not settings.cluster_issuer:
        return [
            "gpu-platform:kubernetes.cluster_issuer|the profile serves CA-issued TLS: name the cert-manager "
            "ClusterIssuer that signs it (e.g. letsencrypt-prod)"
        ]
    return []


TARGET_SETTINGS = KubernetesSettings
POOL_SETTINGS = KubernetesPoolSettings
