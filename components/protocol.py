"""The Target protocol: the few primitives every target implements (ports and adapters).

Components are written once against these request/endpoint types; each target
(``targets/<name>/target.py``) turns them into provider resources. Requests are
plain frozen dataclasses so a target can be tested with hand-made requests and
so the stack layer, not the target, decides every value (targets never read
stack config).

What only a target understands is generic, so each target's code sees its own
types without downcasts: a pool request carries the target's pool settings
(``PoolSettingsT``), a built pool the target's handle (``HandleT``, and with it
every request placed on that pool), and the context the target's settings
(``SettingsT``). The stack layer, which picks the target at run time, holds
them unparameterized.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

import pulumi

if TYPE_CHECKING:
    from stacks.profiles import Profile  # components never import stacks at run time

# Where Docker and Kubernetes targets deliver secret files inside a container.
SECRETS_DIR = "/run/secrets"

RouteKind = Literal["http", "websocket", "grpc"]

# A target's validated settings model (e.g. DockerSettings).
SettingsT = TypeVar("SettingsT")
# A target's validated pool settings model (e.g. DockerPoolSettings).
PoolSettingsT = TypeVar("PoolSettingsT")
# What a target keeps for a pool it built (a provider, a node selector), handed back with every request on it.
HandleT = TypeVar("HandleT")


@dataclass(frozen=True)
class PortRequest:
    """A container port and how it is spoken; ``host_port`` publishes it on its host."""

    name: str
    container_port: int
    protocol: Literal["tcp", "udp"] = "tcp"
    app_protocol: str = "http"
    host_port: int | None = None
    # For a public workload: False keeps this port to its peers (a TURN relay range).
    public: bool = True


@dataclass(frozen=True)
class HealthRequest:
    """How a target checks a replica (HTTP path, gRPC health, TCP connect or a command)."""

    kind: Literal["http", "grpc", "tcp", "command"]
    port: int | None
    path: str = "/health"
    command: tuple[str, ...] = ()
    interval_s: int = 15
    timeout_s: int = 5
    retries: int = 3
    start_period_s: int = 20


@dataclass(frozen=True)
class SecretRef:
    """A secret the target already stores (e.g. RDS's managed master secret): passed by reference.

    ``reference`` is target-native (an ECS ``valueFrom``: a Secrets Manager ARN,
    optionally with ``:json-key::``); targets deliver it like any other secret.
    """

    reference: pulumi.Output[str]


def secret_value(name: str, value: pulumi.Input[str] | SecretRef) -> pulumi.Input[str]:
    """The value of a secret for targets that deliver values (Docker, Kubernetes), not references."""
    if isinstance(value, SecretRef):
        raise TypeError(f"secret {name} is a stored-secret reference, which this target cannot deliver")
    return value


@dataclass(frozen=True)
class Peer:
    """A workload this one connects to (wiring): targets that isolate traffic allow exactly these."""

    name: str
    ports: tuple[int, ...]
    protocol: Literal["tcp", "udp"] = "tcp"
    # Inclusive port ranges besides ``ports`` (a TURN relay range the streamer sends media to).
    ranges: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class VolumeRequest:
    """Persistent storage for a service; ``protect`` keeps it through deletes (prod)."""

    name: str
    path: str
    size_mib: int
    protect: bool = False
    shared: bool = False


@dataclass(frozen=True)
class AutoscaleRequest:
    """Target-tracking on CPU; targets without an autoscaler run ``min`` replicas."""

    min: int
    max: int
    cpu_percent: int


@dataclass(frozen=True)
class PoolRequest(Generic[PoolSettingsT]):
    """Capacity for workloads: a GpuNode (GPU count may be zero)."""

    name: str
    cpu: float
    memory_mib: int
    gpus: int
    gpu_model: str | None
    architecture: str
    allocation_cap: float
    settings: PoolSettingsT  # the target's validated pool settings model (e.g. DockerPoolSettings)
    gpu_memory_mib: int | None = None


@dataclass(frozen=True)
class Pool(Generic[HandleT]):
    """A pool as a target built it; ``handle`` is the target's own (a provider, a node selector)."""

    name: str
    gpus: int
    architecture: str
    handle: HandleT


@dataclass(frozen=True)
class ServiceRequest(Generic[HandleT]):
    """A long-running container workload.

    ``command`` replaces the image's ENTRYPOINT and ``args`` its CMD, as in
    Kubernetes; every target maps them the same way (Docker ``entrypoint`` /
    ``command``, ECS ``entryPoint`` / ``command``). ``secrets`` maps an
    environment name to a secret value; targets deliver it without a plaintext
    environment value (Docker/Kubernetes: a file under
    ``SECRETS_DIR`` plus ``<NAME>_FILE``; ECS: a Secrets Manager reference).
    ``secret_files`` are whole files under ``SECRETS_DIR`` (e.g. a config with a key).
    """

    name: str
    image: str
    pool: Pool[HandleT]
    ports: tuple[PortRequest, ...] = ()
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secrets: Mapping[str, pulumi.Input[str] | SecretRef] = field(default_factory=dict)
    secret_files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    cpu: float = 0.25
    memory_mib: int = 256
    limit_cpu: float = 1.0
    limit_memory_mib: int = 512
    gpu: float = 0
    replicas: int = 1
    autoscale: AutoscaleRequest | None = None
    health: HealthRequest | None = None
    user: str = "10001:10001"
    read_only_root: bool = True
    volumes: tuple[VolumeRequest, ...] = ()
    public: bool = False
    peers: tuple[Peer, ...] = ()
    depends_on: tuple[pulumi.Resource, ...] = ()


@dataclass(frozen=True)
class ServiceEndpoint:
    """How other workloads reach a service: a host name on the internal network and its ports."""

    name: str
    host: pulumi.Output[str]
    ports: Mapping[str, int]
    resources: tuple[pulumi.Resource, ...] = ()
    # Where clients outside the platform reach the workload's published ports (a load balancer's
    # DNS name or address, the Docker host's address); None where nothing is published.
    public_host: pulumi.Output[str] | None = None

    def address(self, port: str) -> pulumi.Output[str]:
        """``host:port`` for the named port."""
        number = self.ports[port]
        return self.host.apply(lambda h: f"{h}:{number}")

    def peer(self) -> Peer:
        """This service as a peer of the workloads that use it."""
        return Peer(self.name, tuple(sorted(set(self.ports.values()))))


@dataclass(frozen=True, kw_only=True)
class RouteShape:
    """What a route is, whatever stage it is at: the one place its fields live.

    ``RouteOptions`` (before the workload exists), ``RouteRequest`` (bound to its service) and
    ``ResolvedRoute`` (the port by number, as an edge needs it) add only what their stage knows.
    """

    kind: RouteKind
    path: str = "/"
    idle_timeout_s: int = 60
    sticky: bool = False
    drain_s: int = 30

    def shape(self) -> dict[str, Any]:
        """The shape's fields, to carry them to the next stage."""
        return {f.name: getattr(self, f.name) for f in fields(RouteShape)}


@dataclass(frozen=True, kw_only=True)
class RouteOptions(RouteShape):
    """How a workload wants to be reached publicly (decided before the workload exists)."""

    port: str

    def bind(self, name: str, service: ServiceEndpoint) -> RouteRequest:
        """The route request for ``service`` once it exists."""
        return RouteRequest(name=name, service=service, port=self.port, **self.shape())


@dataclass(frozen=True, kw_only=True)
class RouteRequest(RouteShape):
    """Public entry to a service: HTTP, WebSocket (long idle timeout, affinity) or gRPC."""

    name: str
    service: ServiceEndpoint
    port: str

    def resolve(self) -> ResolvedRoute:
        """The route with its service's name and port number filled in."""
        return ResolvedRoute(
            name=self.name, service=self.service.name, port=self.service.ports[self.port], **self.shape()
        )


@dataclass(frozen=True, kw_only=True)
class ResolvedRoute(RouteShape):
    """A route as an edge (nginx, Gateway, ALB) needs it: the service by name and the port by number."""

    name: str
    service: str
    port: int


@dataclass(frozen=True)
class PublicEndpoint:
    """Where the public reaches a route."""

    name: str
    url: pulumi.Output[str]


# What every target caps Postgres at: its requests, and at least 1 cpu and 1 GiB (the placement's
# overcommit report counts the same, stacks/workloads.py).
POSTGRES_MIN_LIMIT_CPU = 1.0
POSTGRES_MIN_LIMIT_MEMORY_MIB = 1024


def postgres_limits(cpu: float, memory_mib: int) -> tuple[float, int]:
    """(cpu, memory MiB) a Postgres server with these requests is limited to."""
    return max(cpu, POSTGRES_MIN_LIMIT_CPU), max(memory_mib, POSTGRES_MIN_LIMIT_MEMORY_MIB)


@dataclass(frozen=True)
class PostgresRequest(Generic[HandleT]):
    """A PostgreSQL database with backups, HA and protection decided by the profile."""

    name: str
    version: str
    database: str
    username: str
    storage_mib: int
    cpu: float
    memory_mib: int
    pool: Pool[HandleT]
    backup_schedule: Literal["none", "daily", "6h"]
    backup_retention_days: int
    point_in_time: bool
    read_replicas: int
    multi_az: bool
    protect: bool

    @property
    def limit_cpu(self) -> float:
        return postgres_limits(self.cpu, self.memory_mib)[0]

    @property
    def limit_memory_mib(self) -> int:
        return postgres_limits(self.cpu, self.memory_mib)[1]


@dataclass(frozen=True)
class DatabaseEndpoint:
    """How consumers reach a database; ``password`` is a secret Output or a reference to a stored secret."""

    name: str
    host: pulumi.Output[str]
    port: int
    database: str
    username: str
    password: pulumi.Output[str] | SecretRef
    resources: tuple[pulumi.Resource, ...] = ()

    def peer(self) -> Peer:
        """This database as a peer of the workloads that use it."""
        return Peer(self.name, (self.port,))


class Target(Protocol[PoolSettingsT, HandleT]):
    """What a target implements. One instance per stack; ``finish`` runs after all components.

    Parameterized by the target's pool settings and pool handle; the stack layer and the
    components, which work with any target, use it unparameterized.

    ``secret`` generates a random secret the target's way (a RandomPassword, a
    Secrets Manager secret) and returns it as a secret Output.
    """

    name: str

    def pool(self, request: PoolRequest[PoolSettingsT], parent: pulumi.Resource) -> Pool[HandleT]: ...

    def service(self, request: ServiceRequest[HandleT], parent: pulumi.Resource) -> ServiceEndpoint: ...

    def route(self, request: RouteRequest, parent: pulumi.Resource) -> PublicEndpoint: ...

    def postgres(self, request: PostgresRequest[HandleT], parent: pulumi.Resource) -> DatabaseEndpoint: ...

    def secret(self, name: str, length: int, parent: pulumi.Resource) -> pulumi.Output[str]: ...

    def workload_ranges(self, pool: Pool[HandleT]) -> pulumi.Output[Sequence[str]]:
        """The CIDRs workloads on ``pool`` take their addresses from.

        A relay that refuses private peers (TURN) must still reach these: the streamer lives there.
        """
        ...

    def finish(self) -> None: ...


@dataclass(frozen=True)
class TargetContext(Generic[SettingsT]):
    """What the stack layer hands a target when it builds it: decided values, no config reading."""

    stack: str
    profile: Profile
    settings: SettingsT  # the target's validated settings model
    domain: str | None = None
    cors_origins: tuple[str, ...] = ()
    tls_certificate: str | None = None
    tls_private_key: pulumi.Input[str] | None = None
    # Workload name -> the GPU device ids of each of its containers, in replica order: decided by
    # the stack layer for targets that pin cards themselves (Docker, see targets/docker/gpus.py).
    gpu_devices: Mapping[str, Sequence[tuple[str, ...]]] = field(default_factory=dict)
