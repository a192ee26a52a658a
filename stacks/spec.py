"""The blueprint: what to deploy, independent of where (pydantic v2 models).

A blueprint is YAML under ``blueprints/`` (or any path). Every model forbids
unknown keys so a typo is an error, not a silently ignored setting. Sizes are
normalised on the way in (memory to MiB, CPU to cores) so targets never parse.
Cross-references (pools, ``uses`` wiring, host ports) are checked in
:meth:`Blueprint._check_references` so the message can name the key path.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from stacks.units import parse_cpu, parse_memory_mib

NAME_PATTERN = r"^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$"
NAME_RULE = "a lowercase DNS label: a-z, 0-9 and '-', starting with a letter, at most 32 characters"

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
MemoryMiB = Annotated[int, BeforeValidator(parse_memory_mib)]
Cores = Annotated[float, BeforeValidator(parse_cpu)]
Port = Annotated[int, Field(ge=1, le=65535)]
Architecture = Literal["amd64", "arm64"]

_IMAGE = re.compile(
    r"^(?P<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
IMAGE_RULE = "an image reference pinned to a version tag or digest, e.g. postgres:16.6-alpine (never 'latest')"


def check_image(value: str) -> str:
    """Reject unpinned images: a tagless or ``latest`` image changes under a running stack."""
    match = _IMAGE.match(value)
    if not match:
        raise ValueError(IMAGE_RULE)
    tag, digest = match.group("tag"), match.group("digest")
    if digest is None and (tag is None or tag == "latest"):
        raise ValueError(IMAGE_RULE)
    return value


Image = Annotated[str, BeforeValidator(check_image)]


class Strict(BaseModel):
    """Base for every blueprint model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Resources(Strict):
    """CPU (cores), memory (MiB) and GPU units for one replica."""

    cpu: Cores = 0.25
    memory: MemoryMiB = 256
    gpu: float = Field(default=0, ge=0, le=8)
    # GPU memory the workload needs on its card(s); the bev seed's "GPU units" are GB of a 10 GB card.
    gpu_memory: MemoryMiB | None = None

    @model_validator(mode="after")
    def _gpu_memory_needs_gpu(self) -> Resources:
        if self.gpu_memory is not None and self.gpu <= 0:
            raise ValueError("gpu_memory needs gpu (the share of a card, e.g. 0.65 for 6.5 GB of a 10 GB card)")
        return self

    @field_validator("gpu")
    @classmethod
    def _gpu_units(cls, value: float) -> float:
        # A fraction is a time-sliced share of one card; above one card it must be whole.
        if value > 1 and value != int(value):
            raise ValueError("GPU units above 1 must be whole numbers (fractions share one card)")
        return value


class HealthCheck(Strict):
    """How a target decides a replica is healthy.

    ``http`` and ``grpc`` are what load balancers understand; ``command`` is for
    images that ship their own probe; ``tcp`` is the fallback.
    """

    kind: Literal["http", "grpc", "tcp", "command"] = "http"
    path: str = "/health"
    port: Port | None = None
    command: list[str] | None = None
    interval_s: int = Field(default=15, ge=1, le=300)
    timeout_s: int = Field(default=5, ge=1, le=60)
    retries: int = Field(default=3, ge=1, le=10)
    start_period_s: int = Field(default=20, ge=0, le=600)

    @model_validator(mode="after")
    def _command_when_needed(self) -> HealthCheck:
        if self.kind == "command" and not self.command:
            raise ValueError("health.kind 'command' needs health.command, e.g. ['pg_isready']")
        if not self.path.startswith("/"):
            raise ValueError("health.path must start with '/'")
        return self


class PortSpec(Strict):
    """A container port; ``host_port`` publishes it on the pool's host (Docker)."""

    name: Name = "http"
    container_port: Port
    protocol: Literal["tcp", "udp"] = "tcp"
    app_protocol: Literal["http", "http2", "grpc", "websocket", "tcp", "udp"] = "http"
    host_port: Port | None = None


class Autoscale(Strict):
    """Target-tracking autoscaling on CPU (where the target has an autoscaler)."""

    min: int = Field(ge=0, le=100)
    max: int = Field(ge=1, le=100)
    cpu_percent: int = Field(default=70, ge=10, le=95)

    @model_validator(mode="after")
    def _ordered(self) -> Autoscale:
        if self.min > self.max:
            raise ValueError(f"autoscale.min ({self.min}) must not exceed autoscale.max ({self.max})")
        return self


class Volume(Strict):
    """A named volume mounted into a service (state that outlives a container)."""

    path: str
    size: MemoryMiB = 1024
    shared: bool = False

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("volume path must be absolute, e.g. /app/data")
        return value


class RouteSpec(Strict):
    """Public entry for a service through the target's edge (nginx, Gateway, ALB)."""

    path: str = "/"
    port: Name = "http"

    @field_validator("path")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("route path must start with '/'")
        return value


def check_single_writer(volumes: dict[str, Volume], replicas: int, autoscaled: bool) -> None:
    """A volume that is not ``shared`` attaches to one replica: more would fight over it."""
    single_writer = [n for n, v in volumes.items() if not v.shared]
    if single_writer and (replicas > 1 or autoscaled):
        raise ValueError(
            f"volumes {single_writer} are single-writer, so the workload runs one replica: drop replicas/autoscale "
            "or mark the volumes shared: true"
        )


class ServiceSpec(Strict):
    """A long-running container workload."""

    image: Image
    command: list[str] | None = None
    args: list[str] | None = None
    ports: list[PortSpec] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    requests: Resources = Field(default_factory=Resources)
    limits: Resources | None = None
    replicas: int = Field(default=1, ge=1, le=100)
    autoscale: Autoscale | None = None
    pool: Name | None = None
    architectures: list[Architecture] = Field(default_factory=lambda: ["amd64", "arm64"])
    health: HealthCheck = Field(default_factory=HealthCheck)
    uses: list[Name] = Field(default_factory=list)
    route: RouteSpec | None = None
    user: Annotated[str, Field(pattern=r"^(root|\d{1,10})(:\d{1,10})?$")] = "10001:10001"
    allow_root: bool = False
    read_only_root: bool = True
    volumes: dict[Name, Volume] = Field(default_factory=dict)
    public: bool = False

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", key):
                raise ValueError(f"environment variable name {key!r} must match [A-Z_][A-Z0-9_]*")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ServiceSpec:
        if self.user.split(":")[0] in ("root", "0") and not self.allow_root:
            raise ValueError("user root needs allow_root: true (containers run as non-root by default)")
        check_single_writer(self.volumes, self.replicas, autoscaled=self.autoscale is not None)
        names = [p.name for p in self.ports]
        if len(names) != len(set(names)):
            raise ValueError(f"port names must be unique, got {names}")
        if self.health.kind in ("http", "grpc", "tcp") and self.health.port is None and not self.ports:
            raise ValueError(
                f"a {self.health.kind} health check needs a port: add ports, set health.port, "
                "or use health.kind 'command'"
            )
        if self.route is not None and self.route.port not in names:
            raise ValueError(f"route.port {self.route.port!r} is not one of this service's ports {names}")
        if self.limits is not None:
            for field in ("cpu", "memory", "gpu"):
                if getattr(self.limits, field) < getattr(self.requests, field):
                    raise ValueError(f"limits.{field} is below requests.{field}")
        return self

    def port(self, name: str) -> PortSpec:
        """The port called ``name`` (validated to exist by whoever asks)."""
        return next(p for p in self.ports if p.name == name)


class Pool(Strict):
    """A place workloads run: a node or node group with a capacity (a GpuNode).

    ``targets`` holds per-target settings that the blueprint itself needs (a
    Docker host URL, a node selector, an instance type); a stack may add more.
    """

    cpu: Cores
    memory: MemoryMiB
    gpus: int = Field(default=0, ge=0, le=16)
    gpu_model: str | None = None
    gpu_memory: MemoryMiB | None = None
    architecture: Architecture = "amd64"
    allocation_cap: float = Field(default=0.8, gt=0, le=1)
    targets: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _gpu_fields(self) -> Pool:
        if self.gpus == 0 and self.gpu_model is not None:
            raise ValueError("gpu_model is set but gpus is 0")
        return self


class WebSocketGatewaySpec(Strict):
    """A WebSocket service behind a route with long idle timeout and affinity."""

    service: ServiceSpec
    path: str = "/ws"
    idle_timeout_s: int = Field(default=3600, ge=1, le=4000)
    ping_interval_s: int = Field(default=30, ge=1, le=3600)
    sticky: bool = True
    drain_s: int = Field(default=30, ge=0, le=3600)

    @model_validator(mode="after")
    def _timeouts(self) -> WebSocketGatewaySpec:
        if self.idle_timeout_s <= self.ping_interval_s:
            raise ValueError(
                f"idle_timeout_s ({self.idle_timeout_s}) must exceed ping_interval_s "
                f"({self.ping_interval_s}) or idle connections are cut between pings"
            )
        if not self.service.ports:
            raise ValueError("a WebSocket gateway's service needs a port")
        return self


def _major_version(value: object) -> object:
    """An integer major version (``version: 16``) as the string the choices name; anything else unchanged."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class DatabaseSpec(Strict):
    """A PostgreSQL database managed by the target (container, operator or RDS)."""

    engine: Literal["postgres"] = "postgres"
    # YAML reads an unquoted 16 as an integer; a major version is a name, so 16 and "16" both mean "16".
    version: Annotated[Literal["14", "15", "16", "17"], BeforeValidator(_major_version)] = "16"
    database: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")] = "app"
    username: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")] = "app"
    storage: MemoryMiB = 20 * 1024
    requests: Resources = Field(default_factory=lambda: Resources(cpu=0.5, memory=1024))
    pool: Name | None = None
    read_replicas: int | None = Field(default=None, ge=0, le=5)


class GrpcToolSpec(Strict):
    """One gRPC tool service of a fleet; its port is its gRPC port."""

    image: Image
    port: Port
    command: list[str] | None = None
    requests: Resources = Field(default_factory=Resources)
    limits: Resources | None = None
    replicas: int = Field(default=1, ge=1, le=100)
    pool: Name | None = None
    env: dict[str, str] = Field(default_factory=dict)
    volumes: dict[Name, Volume] = Field(default_factory=dict)
    uses: list[Name] = Field(default_factory=list)

    @model_validator(mode="after")
    def _single_writer(self) -> GrpcToolSpec:
        check_single_writer(self.volumes, self.replicas, autoscaled=False)
        return self


class GrpcToolFleetSpec(Strict):
    """An HTTP API (e.g. FastAPI) in front of N gRPC tool services."""

    api: ServiceSpec
    tools: dict[Name, GrpcToolSpec]
    public_grpc: bool = False

    @model_validator(mode="after")
    def _fleet(self) -> GrpcToolFleetSpec:
        if not self.tools:
            raise ValueError("a gRPC tool fleet needs at least one tool")
        ports = [t.port for t in self.tools.values()]
        if len(ports) != len(set(ports)):
            raise ValueError(f"tool ports must be distinct, got {sorted(ports)}")
        if self.api.route is None:
            raise ValueError("the fleet's api needs a route (its public HTTP entry)")
        return self


class TurnSpec(Strict):
    """The TURN relay (coturn) that WebRTC clients behind NAT need."""

    image: Image = "coturn/coturn:4.6.3-alpine"
    listening_port: Port = 3478
    relay_min_port: Port = 49160
    relay_max_port: Port = 49200

    @model_validator(mode="after")
    def _range(self) -> TurnSpec:
        if self.relay_min_port > self.relay_max_port:
            raise ValueError("relay_min_port must not exceed relay_max_port")
        if self.relay_max_port - self.relay_min_port > 1000:
            raise ValueError("the relay range may span at most 1000 ports")
        return self


class PixelStreamingSpec(Strict):
    """Unreal Pixel Streaming: streamer(s) on a GPU pool, signalling, TURN.

    Epic removed the matchmaker in UE 5.5, so it is optional.
    """

    streamer: ServiceSpec
    signalling: WebSocketGatewaySpec
    turn: TurnSpec = Field(default_factory=TurnSpec)
    matchmaker: ServiceSpec | None = None

    @model_validator(mode="after")
    def _gpu(self) -> PixelStreamingSpec:
        if self.streamer.requests.gpu <= 0:
            raise ValueError("the streamer renders on a GPU: set streamer.requests.gpu (e.g. 1)")
        return self


class Blueprint(Strict):
    """A whole platform: pools and the workloads that run on them."""

    name: Name
    description: str = ""
    pools: dict[Name, Pool] = Field(default_factory=dict)
    services: dict[Name, ServiceSpec] = Field(default_factory=dict)
    websocket_gateways: dict[Name, WebSocketGatewaySpec] = Field(default_factory=dict)
    databases: dict[Name, DatabaseSpec] = Field(default_factory=dict)
    grpc_tool_fleets: dict[Name, GrpcToolFleetSpec] = Field(default_factory=dict)
    pixel_streaming: dict[Name, PixelStreamingSpec] = Field(default_factory=dict)

    def workload_names(self) -> dict[str, str]:
        """Every top-level name mapped to its section (names share one namespace)."""
        names: dict[str, str] = {}
        for section in ("services", "websocket_gateways", "databases", "grpc_tool_fleets", "pixel_streaming"):
            for name in getattr(self, section):
                names.setdefault(name, section)
        return names
