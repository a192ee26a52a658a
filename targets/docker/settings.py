"""Settings the Docker target accepts (validated by ``stacks/``; no provider SDK here).

Pool settings come from a blueprint's ``pools.<name>.targets.docker`` merged with
the stack's ``gpu-platform:pools.<name>``; target settings from ``gpu-platform:docker``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from stacks.units import parse_memory_mib

if TYPE_CHECKING:
    from stacks.profiles import Profile

HOST_RULE = "a Docker host URL: unix:///path, ssh://user@host[:port] or tcp://host:port"
_HOST = re.compile(r"^(unix:///\S+|ssh://[A-Za-z0-9._-]+@[A-Za-z0-9._-]+(:\d{1,5})?|tcp://[A-Za-z0-9._-]+:\d{1,5})$")

LOCAL_HOST = "unix:///var/run/docker.sock"


class DockerPoolSettings(BaseModel):
    """Where a pool's containers run: the local engine or a remote one over SSH."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(
        default=LOCAL_HOST,
        description=(
            "The pool's Docker engine: unix:///path, ssh://user@host[:port] or tcp://host:port. Default: "
            "unix:///var/run/docker.sock (the local engine). The stack's gpu-platform:pools.<name> overrides "
            "the blueprint's value."
        ),
    )
    # The address other engines reach this host's published ports on (cross-host wiring).
    address: str | None = Field(
        default=None,
        description=(
            "The address other engines reach this host's published ports on (cross-host wiring). Default: "
            "none, the host name of an ssh:// or tcp:// host, else 127.0.0.1. The stack's "
            "gpu-platform:pools.<name> overrides the blueprint's value."
        ),
    )
    ssh_opts: list[str] = Field(
        default_factory=list,
        description=(
            "Extra ssh options for an ssh:// host. Default: none. The stack's gpu-platform:pools.<name> "
            "overrides the blueprint's value."
        ),
    )
    gpu_driver: str = Field(
        default="nvidia",
        description=(
            "The device-request driver for GPU containers. Default: nvidia. The stack's "
            "gpu-platform:pools.<name> overrides the blueprint's value."
        ),
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not _HOST.match(value):
            raise ValueError(HOST_RULE)
        return value

    @property
    def advertised_address(self) -> str:
        """The address to reach published ports on from another engine."""
        if self.address:
            return self.address
        if self.host.startswith(("ssh://", "tcp://")):
            return self.host.split("://", 1)[1].split("@")[-1].split(":")[0]
        return "127.0.0.1"


class EngineCapacity(BaseModel):
    """What one engine's machine offers. Pools that share the engine are checked together against it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu: Annotated[float, Field(gt=0, le=4096)] = Field(
        description="Cores of the engine's machine (above 0, at most 4096). Required."
    )
    memory: Annotated[int, BeforeValidator(parse_memory_mib), Field(gt=0)] = Field(
        description="Memory of the engine's machine: a number of MiB or a size such as 64Gi. Required."
    )
    # The cost estimate (python -m preview STACK --cost, targets/docker/cost.py) prices each engine
    # host at this figure; the program registers nothing with a list price on a machine you run.
    hourly_cost: Annotated[float, Field(ge=0, le=1000)] | None = Field(
        default=None,
        description=(
            "What the engine's machine costs, in USD per hour (0 to 1000), for the cost estimate (--cost): "
            "the host is priced at it for 730 hours a month. Default: none, the host is shown at zero with "
            "that reason. A usage file's resource_usage.<host>.hourly_cost overrides it."
        ),
    )


class DockerSettings(BaseModel):
    """Target-wide Docker settings: where the edge (nginx) listens on its host, and GPU access.

    ``gpus: none`` runs GPU workloads without device requests, for laptops and CI without an
    NVIDIA GPU or container toolkit (the engine refuses a device request it cannot serve).
    The preview warns for each workload affected; the default asks for real devices.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    gpus: Literal["devices", "none"] = Field(
        default="devices",
        description=(
            "devices asks the engine for GPU devices; none runs GPU workloads without device requests "
            "(laptops, CI; the preview warns for each). Default: devices."
        ),
    )
    # The engine's CPU count where it is smaller than the limits the blueprint asks for (a
    # laptop, a 2-core CI runner): Docker refuses a container whose CPU limit exceeds the
    # host's CPUs, so limits above this are lowered to it (the preview warns for each).
    max_cpus: Annotated[float, Field(gt=0, le=1024)] | None = Field(
        default=None,
        description=(
            "The engine's CPU count where it is below the blueprint's limits: CPU limits above it are lowered"
            " to it (the preview warns for each). Default: none (limits unchanged)."
        ),
    )
    # Capacity of the engines that several pools share, by host URL (unix:///var/run/docker.sock,
    # ssh://...): the blueprint's pools are checked one by one; this checks their sum per machine.
    engines: dict[str, EngineCapacity] = Field(
        default_factory=dict,
        description=(
            "Capacity of engines that several pools share, by host URL: their pools' sum is checked against "
            "it. Default: none (the preview warns while a shared engine is undeclared)."
        ),
    )
    edge_pool: str | None = Field(
        default=None, description="The pool whose host runs the nginx edge. Default: none, the blueprint's first pool."
    )
    http_port: Annotated[int, Field(ge=1, le=65535)] = Field(
        default=8080, description="Host port of the edge's HTTP listener. Default: 8080."
    )
    https_port: Annotated[int, Field(ge=1, le=65535)] = Field(
        default=8443, description="Host port of the edge's HTTPS listener (profiles with TLS). Default: 8443."
    )
    log_max_size: str = Field(
        default="10m", description="Size at which a container's json-file log rotates. Default: 10m."
    )
    log_max_files: Annotated[int, Field(ge=1, le=20)] = Field(
        default=3, description="Rotated log files kept per container (1-20). Default: 3."
    )


def requirements(profile: Profile, has_tls_settings: bool, settings: DockerSettings) -> list[str]:
    """CA-issued TLS on Docker needs the certificate and key in stack config."""
    del settings
    if profile.tls == "ca" and not has_tls_settings:
        return [
            "gpu-platform:tls|the profile serves CA-issued TLS: set gpu-platform:tls.certificate and "
            "(with --secret) gpu-platform:tls.private_key to the PEM certificate and key"
        ]
    return []


TARGET_SETTINGS = DockerSettings
POOL_SETTINGS = DockerPoolSettings
