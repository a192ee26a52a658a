"""Settings the GCP target accepts (validated by ``stacks/``; no provider SDK here).

Target settings come from ``gpu-platform:gcp``; pool settings from a blueprint's
``pools.<name>.targets.gcp`` merged with ``gpu-platform:pools.<name>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from targets.networks import private_ipv4_network

if TYPE_CHECKING:
    from stacks.profiles import Profile

# https://cloud.google.com/resource-manager/docs/creating-managing-projects: 6-30 characters, a letter first.
PROJECT_ID = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"
REGION = r"^[a-z]+-[a-z]+\d+$"
KMS_KEY = r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$"
MACHINE_TYPE = r"^[a-z][a-z0-9]*-[a-z0-9-]+$"
# Cloud Run Direct VPC egress takes a subnet of /26 or larger (docs: run/docs/configuring/vpc-direct-vpc);
# VMs take their addresses from the same subnet.
SUBNET_PREFIXES = (16, 26)


class GcpPoolSettings(BaseModel):
    """How a pool's VM workloads are sized (Cloud Run sizes itself from the workload's limits)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    machine_type: Annotated[str, Field(pattern=MACHINE_TYPE)] | None = Field(
        default=None,
        description=(
            "Compute Engine machine type of the pool's VM workloads (e.g. g2-standard-8). Default: none, the "
            "smallest e2-standard (CPU) or g2-standard (L4) type that holds the workload's limits. The stack's "
            "gpu-platform:pools.<name> overrides the blueprint's value."
        ),
    )
    boot_disk_gib: Annotated[int, Field(ge=20, le=2000)] = Field(
        default=50,
        description=(
            "Boot disk of each VM workload in GiB (20-2000; GPU images need 30+). Default: 50. The stack's "
            "gpu-platform:pools.<name> overrides the blueprint's value."
        ),
    )


class GcpSettings(BaseModel):
    """Project, region, network, database tier and keys for the GCP target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project: Annotated[str, Field(pattern=PROJECT_ID)] = Field(
        description="The Google Cloud project id (6-30 characters: lowercase letters, digits, hyphens). Required."
    )
    region: Annotated[str, Field(pattern=REGION)] = Field(
        default="us-central1", description="The region of every regional resource. Default: us-central1."
    )
    subnet_cidr: str = Field(
        default="10.60.0.0/20",
        description=(
            "The private subnet of Cloud Run (Direct VPC egress) and the VMs: a private (RFC 1918) /16 to /26 "
            "network address. Default: 10.60.0.0/20."
        ),
    )
    services_prefix_length: Annotated[int, Field(ge=16, le=24)] = Field(
        default=20,
        description=(
            "Prefix length of the range reserved for Private Service Access (Cloud SQL's private IPs), 16-24. "
            "Default: 20."
        ),
    )
    db_tier: Annotated[str, Field(pattern=r"^db-[a-z0-9-]+$")] = Field(
        default="db-custom-2-7680",
        description="Cloud SQL machine tier of every database (Enterprise edition). Default: db-custom-2-7680.",
    )
    kms_key: Annotated[str, Field(pattern=KMS_KEY)] | None = Field(
        default=None,
        description=(
            "Cloud KMS key (projects/<p>/locations/<region>/keyRings/<r>/cryptoKeys/<k>) for customer-managed "
            "encryption of Cloud SQL, disks, buckets, secrets and Cloud Run. Default: none (Google-managed keys)."
        ),
    )
    gpu_zonal_redundancy: bool = Field(
        default=True,
        description=(
            "Cloud Run GPU services keep zonal redundancy (its own quota); false trades it for a lower price. "
            "Default: true."
        ),
    )
    rate_limit_per_minute: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=6000,
        description=(
            "Cloud Armor's per-client-IP limit (requests per minute) where the profile sets no rate limit. "
            "Default: 6000."
        ),
    )

    vm_workloads: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description=(
            "Workloads to run on a Compute Engine VM although Cloud Run could take them, by name (a Pixel "
            "Streaming signalling server, which its streamer reaches at ws://host:port without a Google ID "
            "token). Default: none."
        ),
    )

    @field_validator("subnet_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        return private_ipv4_network(
            value, SUBNET_PREFIXES, "10.60.0.0/20", "Cloud Run Direct VPC egress needs /26 or larger"
        )


def requirements(profile: Profile, has_tls_settings: bool, settings: GcpSettings) -> list[str]:
    """A Google-managed certificate needs the stack's domain; there is nothing else to give."""
    del profile, has_tls_settings, settings
    return []


TARGET_SETTINGS = GcpSettings
POOL_SETTINGS = GcpPoolSettings
