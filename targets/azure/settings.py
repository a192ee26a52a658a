"""Settings the Azure target accepts (validated by ``stacks/``; no provider SDK here).

Target settings come from ``gpu-platform:azure``; pool settings from a blueprint's
``pools.<name>.targets.azure`` merged with ``gpu-platform:pools.<name>``. The workload-profile
table is Container Apps' published one (learn.microsoft.com/azure/container-apps/workload-profiles-overview,
"Profile types"): the checks (``checks.py``) and the apps (``apps.py``) both size replicas from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from targets.networks import private_ipv4_network

if TYPE_CHECKING:
    from stacks.profiles import Profile

UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ACTION_GROUP = (
    r"(?i)^/subscriptions/[0-9a-f-]{36}/resourceGroups/[^/]+/providers/microsoft\.insights/actionGroups/[^/]+$"
)
CONSUMPTION = "Consumption"


@dataclass(frozen=True)
class WorkloadProfile:
    """One Container Apps workload profile type: what a replica may get and where it exists.

    ``per_replica`` profiles (Consumption, serverless GPU) size each replica on its own and bill it;
    dedicated ones are nodes (``cpu``/``memory_gib`` per node) that replicas are packed onto.
    ``regions`` is empty where every Container Apps region offers it.
    """

    cpu: float
    memory_gib: float
    gpus: int
    gpu_model: str | None
    per_replica: bool
    regions: frozenset[str] = frozenset()


# Serverless GPUs: "available in West US 3, Australia East, and Sweden Central"; dedicated GPU profiles:
# "West US 3 and North Europe" (workload-profiles-overview). A region outside these fails the checks.
SERVERLESS_GPU_REGIONS = frozenset({"westus3", "australiaeast", "swedencentral"})
DEDICATED_GPU_REGIONS = frozenset({"westus3", "northeurope"})
WORKLOAD_PROFILES: dict[str, WorkloadProfile] = {
    # Consumption: 0.25-4 vCPU, 0.5-8 GiB per replica, memory twice the vCPU in 0.25 steps.
    CONSUMPTION: WorkloadProfile(4, 8, 0, None, per_replica=True),
    "Consumption-GPU-NC8as-T4": WorkloadProfile(8, 56, 1, "T4", per_replica=True, regions=SERVERLESS_GPU_REGIONS),
    "Consumption-GPU-NC24-A100": WorkloadProfile(24, 220, 1, "A100", per_replica=True, regions=SERVERLESS_GPU_REGIONS),
    **{f"D{n}": WorkloadProfile(n, 4 * n, 0, None, per_replica=False) for n in (4, 8, 16, 32)},
    **{f"E{n}": WorkloadProfile(n, 8 * n, 0, None, per_replica=False) for n in (4, 8, 16, 32)},
    "NC24-A100": WorkloadProfile(24, 220, 1, "A100", per_replica=False, regions=DEDICATED_GPU_REGIONS),
    "NC48-A100": WorkloadProfile(48, 440, 2, "A100", per_replica=False, regions=DEDICATED_GPU_REGIONS),
    "NC96-A100": WorkloadProfile(96, 880, 4, "A100", per_replica=False, regions=DEDICATED_GPU_REGIONS),
}
# Container Apps: at most 1000 replicas per revision (quotas page: "1000 in Azure CLI").
MAX_REPLICAS = 1000
# The ingress cuts a request (and a WebSocket) idle for longer than this: the environment's
# ingressConfiguration.requestIdleTimeout defaults to 4 minutes; Front Door's WebSocket idle timeout is 5.
INGRESS_IDLE_TIMEOUT_S = 240
# Azure Database for PostgreSQL flexible server tiers by SKU name (Standard_B*, Standard_D*, Standard_E*).
POSTGRES_TIERS = {"B": "Burstable", "D": "GeneralPurpose", "E": "MemoryOptimized"}
# The VNet is cut into 2**SUBNET_SPLIT_BITS blocks: apps, postgres, private endpoints, TURN. A workload-profiles
# environment needs at least a /27 (networking docs), so the VNet is /16 to /24.
SUBNET_SPLIT_BITS = 3
VNET_PREFIXES = (16, 27 - SUBNET_SPLIT_BITS)


def consumption_size(cpu: float, memory_mib: int) -> tuple[float, float]:
    """The smallest Consumption allocation (vCPU, GiB) holding ``cpu`` and ``memory_mib``: Container Apps takes
    vCPU in 0.25 steps with twice as many GiB (0.25/0.5Gi ... 4/8Gi)."""
    quarters = max(1, math.ceil(cpu * 4 - 1e-9), math.ceil(memory_mib / 1024 / 0.5 - 1e-9))
    return quarters / 4, quarters / 2


def replica_size(profile: str, cpu: float, memory_mib: int) -> tuple[float, float]:
    """(vCPU, GiB) a replica gets on ``profile``: the Consumption ladder, else the ask rounded up to 0.25 vCPU
    and 0.5 GiB (dedicated and GPU profiles take any size up to the node's)."""
    if profile == CONSUMPTION:
        return consumption_size(cpu, memory_mib)
    return max(0.25, math.ceil(cpu * 4 - 1e-9) / 4), max(0.5, math.ceil(memory_mib / 512 - 1e-9) / 2)


def postgres_tier(sku: str) -> str:
    """Burstable, GeneralPurpose or MemoryOptimized, from a flexible-server SKU name."""
    return POSTGRES_TIERS[sku.removeprefix("Standard_")[0]]


class AzurePoolSettings(BaseModel):
    """How a pool maps onto Container Apps: the workload profile its apps run on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workload_profile: str | None = Field(
        default=None,
        description=(
            "Container Apps workload profile type: Consumption, Consumption-GPU-NC8as-T4, Consumption-GPU-NC24-A100"
            " (serverless, per replica), D4-D32, E4-E32 or NC24/48/96-A100 (dedicated nodes). Default: none, "
            "Consumption-GPU-NC8as-T4 when the pool has GPUs, else Consumption."
        ),
    )
    min_nodes: Annotated[int, Field(ge=0, le=100)] = Field(
        default=0, description="Fewest nodes of a dedicated profile (0-100). Default: 0."
    )
    max_nodes: Annotated[int, Field(ge=1, le=100)] = Field(
        default=2, description="Most nodes of a dedicated profile (1-100). Default: 2."
    )

    @field_validator("workload_profile")
    @classmethod
    def _known_profile(cls, value: str | None) -> str | None:
        if value is not None and value not in WORKLOAD_PROFILES:
            raise ValueError(f"not a Container Apps workload profile type; allowed: {', '.join(WORKLOAD_PROFILES)}")
        return value

    @model_validator(mode="after")
    def _nodes(self) -> AzurePoolSettings:
        if self.min_nodes > self.max_nodes:
            raise ValueError(f"min_nodes ({self.min_nodes}) must not exceed max_nodes ({self.max_nodes})")
        return self

    def profile_type(self, gpus: int) -> str:
        """The workload profile type a pool with ``gpus`` per node runs on."""
        return self.workload_profile or ("Consumption-GPU-NC8as-T4" if gpus else CONSUMPTION)


class AzureSettings(BaseModel):
    """Subscription, region, network and database size for the Azure target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subscription_id: Annotated[str, Field(pattern=UUID)] | None = Field(
        default=None,
        description="The Azure subscription id (a lowercase GUID); every Azure stack needs it. Default: none.",
    )
    location: Annotated[str, Field(pattern=r"^[a-z]+[0-9]?$")] = Field(
        default="swedencentral",
        description=(
            "The Azure region (e.g. swedencentral, which has serverless T4 and A100 GPUs). Default: swedencentral."
        ),
    )
    vnet_cidr: str = Field(
        default="10.60.0.0/16",
        description=(
            "The VNet's network: a private (RFC 1918) /16 to /24 network address, cut into eight subnets (apps, "
            "postgres, private endpoints, TURN). Default: 10.60.0.0/16."
        ),
    )
    postgres_sku: Annotated[str, Field(pattern=r"^Standard_[BDE][0-9a-z_]+$")] = Field(
        default="Standard_D2ds_v5",
        description=(
            "Flexible-server compute SKU (Standard_B* Burstable, Standard_D* General Purpose, Standard_E* Memory "
            "Optimized); read replicas and HA need D or E. Default: Standard_D2ds_v5."
        ),
    )
    action_group_id: Annotated[str, Field(pattern=ACTION_GROUP)] | None = Field(
        default=None,
        description=(
            "Resource id of the Azure Monitor action group the prod alerts notify "
            "(/subscriptions/<id>/resourceGroups/<rg>/providers/microsoft.insights/actionGroups/<name>); required by "
            "the prod profile. Default: none."
        ),
    )
    postgres_password_version: Annotated[int, Field(ge=1)] = Field(
        default=1, description="Raise it to rotate the databases' generated admin passwords. Default: 1."
    )

    @field_validator("vnet_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        """Checked before any resource: the subnets are cut from it and the apps subnet must be /27 or larger."""
        return private_ipv4_network(
            value, VNET_PREFIXES, "10.60.0.0/16", "each subnet is 1/8 of it; a Container Apps environment needs /27"
        )


def requirements(profile: Profile, has_tls_settings: bool, settings: AzureSettings) -> list[str]:
    """Every Azure stack names its subscription (the provider and the resource ids need it); a profile asking
    databases for HA or read replicas needs a tier that has them (Burstable has neither: flexible-server
    concepts-high-availability and concepts-read-replicas)."""
    del has_tls_settings
    needs = []
    if not settings.subscription_id:
        needs.append("gpu-platform:azure.subscription_id|give the Azure subscription id (az account show --query id)")
    if profile.monitoring == "alerting" and not settings.action_group_id:
        needs.append(
            "gpu-platform:azure.action_group_id|prod raises alerts: give the resource id of the Azure Monitor action "
            "group they notify (/subscriptions/<id>/resourceGroups/<rg>/providers/microsoft.insights/actionGroups/<n>)"
        )
    if (profile.ha == "multi-az" or profile.read_replicas) and postgres_tier(settings.postgres_sku) == "Burstable":
        needs.append(
            f"gpu-platform:azure.postgres_sku|the {profile.name} profile gives databases zone-redundant HA and "
            f"{profile.read_replicas} read replica(s), which Burstable servers lack: use a Standard_D* (General "
            "Purpose) or Standard_E* (Memory Optimized) SKU"
        )
    return needs


TARGET_SETTINGS = AzureSettings
POOL_SETTINGS = AzurePoolSettings
