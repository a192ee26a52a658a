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

    cpu: Cores = Field(
        default=0.25, description="CPU in cores: a number (0.5, 2) or millicores ('500m'). Default: 0.25."
    )
    memory: MemoryMiB = Field(
        default=256,
        description=(
            "Memory in MiB: a number of MiB or a size such as 512Mi, 4Gi or 2GB (powers of 1024). Default: 256 (MiB)."
        ),
    )
    gpu: float = Field(
        default=0,
        ge=0,
        le=8,
        description=(
            "GPU units (0-8): below 1 a time-sliced share of one card, above 1 whole cards. Default: 0. A GPU"
            " workload gets GPU_MEMORY_FRACTION = min(gpu, 1) x the profile's GPU share (dev 0.4, staging "
            "0.6, prod 0.8)."
        ),
    )
    # GPU memory the workload needs on its card(s); the bev seed's "GPU units" are GB of a 10 GB card.
    gpu_memory: MemoryMiB | None = Field(
        default=None,
        description=(
            "GPU memory the workload needs on its card(s), a size like memory; needs gpu. Default: none (not "
            "counted). Placement adds it up per pool against the pool's gpus x gpu_memory."
        ),
    )

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

    kind: Literal["http", "grpc", "tcp", "command"] = Field(
        default="http",
        description=(
            "How a replica is probed: http (GET path), grpc (the gRPC health service), tcp (a connection) or "
            "command (run command in the container). Default: http."
        ),
    )
    path: str = Field(
        default="/health", description="The path an http check requests; starts with '/'. Default: /health."
    )
    port: Port | None = Field(
        default=None, description="The container port probed (1-65535). Default: none, the workload's first port."
    )
    command: list[str] | None = Field(
        default=None,
        description=(
            "The probe a command check runs, e.g. ['pg_isready']; required when kind is command. Default: none."
        ),
    )
    interval_s: int = Field(default=15, ge=1, le=300, description="Seconds between probes (1-300). Default: 15.")
    timeout_s: int = Field(
        default=5, ge=1, le=60, description="Seconds before a probe counts as failed (1-60). Default: 5."
    )
    retries: int = Field(
        default=3, ge=1, le=10, description="Failed probes in a row before the replica is unhealthy (1-10). Default: 3."
    )
    start_period_s: int = Field(
        default=20,
        ge=0,
        le=600,
        description="Seconds after start in which failed probes do not count (0-600). Default: 20.",
    )

    @model_validator(mode="after")
    def _command_when_needed(self) -> HealthCheck:
        if self.kind == "command" and not self.command:
            raise ValueError("health.kind 'command' needs health.command, e.g. ['pg_isready']")
        if not self.path.startswith("/"):
            raise ValueError("health.path must start with '/'")
        return self


class PortSpec(Strict):
    """A container port; ``host_port`` publishes it on the pool's host (Docker)."""

    name: Name = Field(
        default="http",
        description="The port's name (a DNS label, unique per workload), which route.port refers to. Default: http.",
    )
    container_port: Port = Field(description="The port the container listens on (1-65535). Required.")
    protocol: Literal["tcp", "udp"] = Field(default="tcp", description="Transport protocol: tcp or udp. Default: tcp.")
    app_protocol: Literal["http", "http2", "grpc", "websocket", "tcp", "udp"] = Field(
        default="http",
        description=(
            "What speaks on the port, for the edge and service discovery: http, http2, grpc, websocket, tcp "
            "or udp. Default: http."
        ),
    )
    host_port: Port | None = Field(
        default=None,
        description="Publishes the port on the pool's host at this port (Docker). Default: none (not published).",
    )


class Autoscale(Strict):
    """Target-tracking autoscaling on CPU (where the target has an autoscaler)."""

    min: int = Field(
        ge=0,
        le=100,
        description="Fewest replicas (0-100), at most max. Required. Docker has no autoscaler and runs min replicas.",
    )
    max: int = Field(
        ge=1, le=100, description="Most replicas (1-100); placement reserves requests for max replicas. Required."
    )
    cpu_percent: int = Field(
        default=70,
        ge=10,
        le=95,
        description="Average CPU utilisation the autoscaler keeps replicas at (10-95). Default: 70.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Autoscale:
        if self.min > self.max:
            raise ValueError(f"autoscale.min ({self.min}) must not exceed autoscale.max ({self.max})")
        return self


class Volume(Strict):
    """A named volume mounted into a service (state that outlives a container)."""

    path: str = Field(description="Absolute mount path in the container, e.g. /app/data. Required.")
    size: MemoryMiB = Field(
        default=1024,
        description=(
            "Size, a number of MiB or a size such as 10Gi. Default: 1024 (MiB). Protected and retained in "
            "prod (the profile's protection of state)."
        ),
    )
    shared: bool = Field(
        default=False,
        description=(
            "Whether several replicas may mount it at once (ReadWriteMany on Kubernetes, EFS on AWS). "
            "Default: false: a single-writer volume, so the workload runs one replica."
        ),
    )

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("volume path must be absolute, e.g. /app/data")
        return value


class RouteSpec(Strict):
    """Public entry for a service through the target's edge (nginx, Gateway, ALB)."""

    path: str = Field(
        default="/",
        description="The public path at the target's edge; starts with '/', one route per path. Default: /.",
    )
    port: Name = Field(
        default="http", description="Name of the service port the route sends to (one of its ports). Default: http."
    )

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

    image: Image = Field(
        description=(
            "Container image pinned to a version tag or digest, e.g. postgres:16.6-alpine (never latest). Required."
        )
    )
    command: list[str] | None = Field(
        default=None, description="Overrides the image's entrypoint. Default: none (the image's own)."
    )
    args: list[str] | None = Field(
        default=None,
        description="Arguments to the command, replacing the image's CMD. Default: none (the image's own).",
    )
    ports: list[PortSpec] = Field(
        default_factory=list, description="Ports the container listens on (unique names). Default: none."
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Environment variables (names [A-Z_][A-Z0-9_]*). Default: none. The wiring of uses and "
            "GPU_MEMORY_FRACTION are added over them and win on a clash."
        ),
    )
    requests: Resources = Field(
        default_factory=Resources,
        description=(
            "What one replica reserves: placement fits requests x replicas into the pool's capacity x "
            "allocation_cap. Default: 0.25 cores, 256 MiB, no GPU. Autoscaled services count at "
            "autoscale.max."
        ),
    )
    limits: Resources | None = Field(
        default=None,
        description=(
            "Per-replica ceiling (cpu, memory, gpu), never below requests. Default: the profile's limits "
            "raised to the requests (dev 2 cores/4Gi, staging 4 cores/6Gi, prod 6 cores/8Gi; gpu = "
            "requests.gpu). On Docker, gpu-platform:docker.max_cpus lowers CPU limits above it."
        ),
    )
    replicas: int = Field(
        default=1,
        ge=1,
        le=100,
        description="Number of replicas (1-100). Default: 1. See autoscale for a service that scales.",
    )
    autoscale: Autoscale | None = Field(
        default=None,
        description=(
            "Target-tracking CPU autoscaling between min and max replicas. Default: none (a fixed number of replicas)."
        ),
    )
    pool: Name | None = Field(
        default=None,
        description=(
            "The pool the service runs on. Default: none, placed automatically (first-fit decreasing by "
            "memory over pools of a matching architecture; GPU work only on GPU pools, CPU work on CPU pools "
            "first)."
        ),
    )
    architectures: list[Architecture] = Field(
        default_factory=lambda: ["amd64", "arm64"],
        description=(
            "CPU architectures the image is built for: amd64, arm64. Placement uses only pools of these. "
            "Default: [amd64, arm64]."
        ),
    )
    health: HealthCheck = Field(
        default_factory=HealthCheck,
        description="How a replica's health is probed. Default: an http check of /health on the first port.",
    )
    uses: list[Name] = Field(
        default_factory=list,
        description=(
            "Databases, services, gateways and tool fleets this workload talks to: it gets their addresses "
            "(and database credentials as secrets) in its environment and is created after them. Default: "
            "none."
        ),
    )
    route: RouteSpec | None = Field(
        default=None,
        description="Public entry through the target's edge (nginx, Gateway, ALB). Default: none (not routed).",
    )
    user: Annotated[str, Field(pattern=r"^(root|\d{1,10})(:\d{1,10})?$")] = Field(
        default="10001:10001",
        description="The uid[:gid] (or root) the container runs as; root or 0 needs allow_root. Default: 10001:10001.",
    )
    allow_root: bool = Field(default=False, description="Allows user root. Default: false.")
    read_only_root: bool = Field(
        default=True,
        description=(
            "Runs the container with a read-only root filesystem (scratch space is a small tmpfs). Default: "
            "true. On AWS, gpu-platform:aws.writable_root also makes a service's root writable."
        ),
    )
    volumes: dict[Name, Volume] = Field(
        default_factory=dict, description="Named volumes mounted into the container, by name. Default: none."
    )
    public: bool = Field(
        default=False,
        description=(
            "Exposes the service's ports to clients outside the target, beside any route (Docker binds "
            "0.0.0.0, Kubernetes a LoadBalancer Service, AWS a network load balancer). Default: false."
        ),
    )

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

    cpu: Cores = Field(description="Cores the pool offers: a number or millicores ('500m'). Required.")
    memory: MemoryMiB = Field(
        description=(
            "Memory the pool offers: a number of MiB or a size such as 64Gi or 64GB (powers of 1024). Required."
        )
    )
    gpus: int = Field(default=0, ge=0, le=16, description="GPU cards in the pool (0-16). Default: 0 (a CPU pool).")
    gpu_model: str | None = Field(
        default=None,
        description=(
            "The cards' model, e.g. A10G, L4 or RTX 3080; needs gpus. Default: none. A known model's memory "
            "is used where gpu_memory is not set."
        ),
    )
    gpu_memory: MemoryMiB | None = Field(
        default=None,
        description="Memory of one card, a size like memory. Default: none (GPU memory requests are not checked).",
    )
    architecture: Architecture = Field(
        default="amd64", description="CPU architecture of the pool's nodes: amd64 or arm64. Default: amd64."
    )
    allocation_cap: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description=(
            "The share of the pool's cpu and memory that requests may fill (above 0, at most 1). Default: 0.8."
        ),
    )
    targets: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description=(
            "Per-target pool settings under docker, kubernetes, aws, gcp or azure (their own tables); only the stack's "
            "target's entry is read and validated. Default: none. The stack's gpu-platform:pools.<name> is "
            "deep-merged over it and wins."
        ),
    )

    @model_validator(mode="after")
    def _gpu_fields(self) -> Pool:
        if self.gpus == 0 and self.gpu_model is not None:
            raise ValueError("gpu_model is set but gpus is 0")
        return self


class WebSocketGatewaySpec(Strict):
    """A WebSocket service behind a route with long idle timeout and affinity."""

    service: ServiceSpec = Field(description="The WebSocket server; its first port is the one routed. Required.")
    path: str = Field(default="/ws", description="Public path of the WebSocket route. Default: /ws.")
    idle_timeout_s: int = Field(
        default=3600,
        ge=1,
        le=4000,
        description=(
            "Seconds an idle connection stays open at the edge (1-4000); must exceed ping_interval_s. "
            "Default: 3600. On AWS the ALB's idle timeout is the longest of the gateways'."
        ),
    )
    ping_interval_s: int = Field(
        default=30,
        ge=1,
        le=3600,
        description=(
            "Seconds between the application's keepalive pings (1-3600), checked against idle_timeout_s. Default: 30."
        ),
    )
    sticky: bool = Field(
        default=True,
        description=(
            "Session affinity: a client returns to the same replica (nginx ip_hash, ALB cookie; on Kubernetes"
            " only with kubernetes.session_persistence). Default: true."
        ),
    )
    drain_s: int = Field(
        default=30,
        ge=0,
        le=3600,
        description=(
            "Seconds open connections get when a replica is removed (0-3600; the ALB's deregistration delay)."
            " Default: 30."
        ),
    )

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

    engine: Literal["postgres"] = Field(
        default="postgres", description="The database engine: postgres (the only one). Default: postgres."
    )
    # YAML reads an unquoted 16 as an integer; a major version is a name, so 16 and "16" both mean "16".
    version: Annotated[Literal["14", "15", "16", "17"], BeforeValidator(_major_version)] = Field(
        default="16", description="PostgreSQL major version: 14, 15, 16 or 17, as a number or a string. Default: 16."
    )
    database: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")] = Field(
        default="app", description="Name of the database created. Default: app."
    )
    username: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")] = Field(
        default="app", description="The owner's user name (its password is generated). Default: app."
    )
    storage: MemoryMiB = Field(
        default=20 * 1024,
        description=(
            "Storage size, a number of MiB or a size such as 20Gi. Default: 20480 (MiB, 20Gi). Raised to the "
            "profile's floor (dev 5Gi, staging 20Gi, prod 50Gi)."
        ),
    )
    requests: Resources = Field(
        default_factory=lambda: Resources(cpu=0.5, memory=1024),
        description="CPU and memory the database reserves. Default: 0.5 cores, 1024 MiB.",
    )
    pool: Name | None = Field(
        default=None,
        description=(
            "The pool the database runs on. Default: none, placed automatically (first-fit decreasing by "
            "memory over pools of a matching architecture; GPU work only on GPU pools, CPU work on CPU pools "
            "first)."
        ),
    )
    read_replicas: int | None = Field(
        default=None,
        ge=0,
        le=5,
        description="Read replicas (0-5). Default: none, the profile's (dev 0, staging 0, prod 1).",
    )


class GrpcToolSpec(Strict):
    """One gRPC tool service of a fleet; its port is its gRPC port."""

    image: Image = Field(description="Container image pinned to a version tag or digest (never latest). Required.")
    port: Port = Field(
        description=(
            "The tool's gRPC port (1-65535, distinct in the fleet): its health-check port and GRPC_PORT. Required."
        )
    )
    command: list[str] | None = Field(
        default=None, description="Overrides the image's entrypoint. Default: none (the image's own)."
    )
    requests: Resources = Field(
        default_factory=Resources,
        description=(
            "What one replica reserves: placement fits requests x replicas into the pool's capacity x "
            "allocation_cap. Default: 0.25 cores, 256 MiB, no GPU."
        ),
    )
    limits: Resources | None = Field(
        default=None,
        description=(
            "Per-replica ceiling (cpu, memory, gpu), never below requests. Default: the profile's limits "
            "raised to the requests (dev 2 cores/4Gi, staging 4 cores/6Gi, prod 6 cores/8Gi; gpu = "
            "requests.gpu). On Docker, gpu-platform:docker.max_cpus lowers CPU limits above it."
        ),
    )
    replicas: int = Field(default=1, ge=1, le=100, description="Number of replicas (1-100). Default: 1.")
    pool: Name | None = Field(
        default=None,
        description=(
            "The pool the tool runs on. Default: none, placed automatically (first-fit decreasing by memory "
            "over pools of a matching architecture; GPU work only on GPU pools, CPU work on CPU pools first)."
        ),
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Environment variables. Default: none. GRPC_PORT, GPU_MEMORY_FRACTION and the wiring of uses are "
            "added over them and win on a clash."
        ),
    )
    volumes: dict[Name, Volume] = Field(
        default_factory=dict, description="Named volumes mounted into the container, by name. Default: none."
    )
    uses: list[Name] = Field(
        default_factory=list,
        description=(
            "Databases, services, gateways and tool fleets this workload talks to: it gets their addresses "
            "(and database credentials as secrets) in its environment and is created after them. Default: "
            "none."
        ),
    )

    @model_validator(mode="after")
    def _single_writer(self) -> GrpcToolSpec:
        check_single_writer(self.volumes, self.replicas, autoscaled=False)
        return self


class GrpcToolFleetSpec(Strict):
    """An HTTP API (e.g. FastAPI) in front of N gRPC tool services."""

    api: ServiceSpec = Field(description="The HTTP API in front of the tools; needs a route. Required.")
    tools: dict[Name, GrpcToolSpec] = Field(
        description="The gRPC tool services by name (at least one, distinct ports). Required."
    )
    public_grpc: bool = Field(
        default=False,
        description=(
            "Also exposes each tool over gRPC (HTTP/2) at the edge (by host name <fleet>-<tool>.<domain> on "
            "Kubernetes and AWS). Default: false."
        ),
    )

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

    image: Image = Field(
        default="coturn/coturn:4.6.3-alpine",
        description="The coturn image, pinned. Default: coturn/coturn:4.6.3-alpine.",
    )
    listening_port: Port = Field(default=3478, description="The TURN listening port (UDP and TCP). Default: 3478.")
    relay_min_port: Port = Field(
        default=49160, description="First port of the relay range (at most 1000 ports). Default: 49160."
    )
    relay_max_port: Port = Field(default=49200, description="Last port of the relay range. Default: 49200.")

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

    streamer: ServiceSpec = Field(
        description="The Unreal streamer; renders on a GPU, so requests.gpu must be set. Required."
    )
    signalling: WebSocketGatewaySpec = Field(description="The signalling server, as a WebSocket gateway. Required.")
    turn: TurnSpec = Field(
        default_factory=TurnSpec,
        description=(
            "The TURN relay (realm: gpu-platform:domain, else <stack>.gpu-platform.local). Default: coturn "
            "with the TurnSpec defaults."
        ),
    )
    matchmaker: ServiceSpec | None = Field(
        default=None, description="The matchmaker (Epic removed it in UE 5.5). Default: none."
    )

    @model_validator(mode="after")
    def _gpu(self) -> PixelStreamingSpec:
        if self.streamer.requests.gpu <= 0:
            raise ValueError("the streamer renders on a GPU: set streamer.requests.gpu (e.g. 1)")
        return self


class Blueprint(Strict):
    """A whole platform: pools and the workloads that run on them."""

    name: Name = Field(description="The blueprint's name, a lowercase DNS label. Required.")
    description: str = Field(default="", description="Free text. Default: empty.")
    pools: dict[Name, Pool] = Field(
        default_factory=dict, description="Pools (GpuNodes) by name: where workloads run. Default: none."
    )
    services: dict[Name, ServiceSpec] = Field(
        default_factory=dict, description="Long-running container services by name. Default: none."
    )
    websocket_gateways: dict[Name, WebSocketGatewaySpec] = Field(
        default_factory=dict, description="WebSocket gateways by name. Default: none."
    )
    databases: dict[Name, DatabaseSpec] = Field(
        default_factory=dict, description="PostgreSQL databases by name. Default: none."
    )
    grpc_tool_fleets: dict[Name, GrpcToolFleetSpec] = Field(
        default_factory=dict,
        description="gRPC tool fleets (an HTTP API in front of gRPC tools) by name. Default: none.",
    )
    pixel_streaming: dict[Name, PixelStreamingSpec] = Field(
        default_factory=dict, description="Unreal Pixel Streaming setups by name. Default: none."
    )

    def workload_names(self) -> dict[str, str]:
        """Every top-level name mapped to its section (names share one namespace)."""
        names: dict[str, str] = {}
        for section in ("services", "websocket_gateways", "databases", "grpc_tool_fleets", "pixel_streaming"):
            for name in getattr(self, section):
                names.setdefault(name, section)
        return names
