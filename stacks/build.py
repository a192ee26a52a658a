"""Composition: turn a validated StackSpec into components on a target.

This is the only place that knows blueprints, profiles and targets at once. It
translates blueprint sections into protocol requests (sizes, limits from the
profile, protection of state in prod), wires ``uses`` into environment values
and secrets, and creates the components in dependency order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components import GpuNode, GrpcToolFleet, ManagedPostgres, PixelStreaming, Service, WebSocketGateway
from components.grpc_tool_fleet import GrpcToolFleetArgs
from components.pixel_streaming import PixelStreamingArgs, TurnOptions
from components.protocol import (
    AutoscaleRequest,
    DatabaseEndpoint,
    HealthRequest,
    Peer,
    Pool,
    PoolRequest,
    PortRequest,
    PostgresRequest,
    RouteOptions,
    SecretRef,
    ServiceEndpoint,
    ServiceRequest,
    Target,
    TargetContext,
    VolumeRequest,
)
from components.service import ServiceArgs
from components.websocket_gateway import WebSocketGatewayArgs
from stacks.loader import StackSpec
from stacks.spec import GrpcToolSpec, HealthCheck, PortSpec, Resources, ServiceSpec, Volume
from targets import load_target, plugin

# The port a peer is reached on over TLS; every other port is spoken in the clear inside the platform.
HTTPS_PORT = 443


def env_prefix(name: str) -> str:
    """``main-db`` -> ``MAIN_DB``: how a dependency's name appears in environment keys."""
    return name.upper().replace("-", "_")


@dataclass(frozen=True)
class Wiring:
    """What ``uses`` gives a workload: environment, secrets, peers to reach, resources to wait for."""

    env: dict[str, pulumi.Input[str]]
    secrets: dict[str, pulumi.Input[str] | SecretRef]
    peers: tuple[Peer, ...]
    depends_on: tuple[pulumi.Resource, ...]


@dataclass
class Built:
    """What the build produced, for exports and tests."""

    pools: dict[str, GpuNode] = field(default_factory=dict)
    databases: dict[str, ManagedPostgres] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    gateways: dict[str, WebSocketGateway] = field(default_factory=dict)
    fleets: dict[str, GrpcToolFleet] = field(default_factory=dict)
    streaming: dict[str, PixelStreaming] = field(default_factory=dict)
    endpoints: dict[str, ServiceEndpoint] = field(default_factory=dict)

    def urls(self) -> dict[str, pulumi.Output[str]]:
        found: dict[str, pulumi.Output[str]] = {}
        for name, service in self.services.items():
            if service.public is not None:
                found[name] = service.public.url
        for name, gateway in self.gateways.items():
            found[name] = gateway.public.url
        for name, fleet in self.fleets.items():
            found[name] = fleet.public.url
            for tool, route in fleet.tool_routes.items():
                found[f"{name}-{tool}"] = route.url
        for name, streaming in self.streaming.items():
            found[name] = streaming.signalling.public.url
        return found


def make_target(spec: StackSpec) -> Target:
    """Load the stack's target (importing only its SDK) with the values the stack decided."""
    settings = spec.settings
    context = TargetContext(
        stack=spec.stack,
        profile=spec.profile,
        settings=spec.target_settings,
        domain=settings.domain,
        cors_origins=tuple(settings.cors_origins or ()),
        tls_certificate=settings.tls.certificate if settings.tls else None,
        tls_private_key=pulumi.Output.secret(settings.tls.private_key) if settings.tls else None,
        gpu_devices=_gpu_devices(spec),
    )
    return load_target(spec.target)(context)  # type: ignore[call-arg]


def _gpu_devices(spec: StackSpec) -> dict[str, list[tuple[str, ...]]]:
    """The cards each container gets, where the target assigns devices itself (the check refused a plan that
    does not fit)."""
    return plugin(spec.target).gpu_devices(spec.blueprint, spec.placement, spec.pool_settings)


class Builder:
    """Creates the components of one stack; see the module docstring."""

    def __init__(self, spec: StackSpec, target: Target) -> None:
        self.spec = spec
        self.target = target
        self.built = Built()

    # -- entry -------------------------------------------------------------
    def build(self) -> Built:
        blueprint = self.spec.blueprint
        for name, pool in blueprint.pools.items():
            self.built.pools[name] = GpuNode(
                name,
                PoolRequest(
                    name=name,
                    cpu=pool.cpu,
                    memory_mib=pool.memory,
                    gpus=pool.gpus,
                    gpu_model=pool.gpu_model,
                    gpu_memory_mib=pool.gpu_memory,
                    architecture=pool.architecture,
                    allocation_cap=pool.allocation_cap,
                    settings=self.spec.pool_settings[name],
                ),
                self.target,
            )
        databases: dict[str, DatabaseEndpoint] = {}
        for name in blueprint.databases:
            component = self._database(name)
            self.built.databases[name] = component
            databases[name] = component.database
        for name in self.spec.order:
            if name in blueprint.services:
                self._service(name)
            elif name in blueprint.websocket_gateways:
                self._gateway(name)
            elif name in blueprint.grpc_tool_fleets:
                self._fleet(name)
        for name in blueprint.pixel_streaming:
            self._streaming(name)
        self.target.finish()
        return self.built

    # -- requests ----------------------------------------------------------
    def _pool(self, key: str) -> Pool:
        return self.built.pools[self.spec.placement.pool_of[key]].pool

    def _limits(self, requests: Resources, limits: Resources | None) -> Resources:
        """The service's own limits, else the profile's default ceiling (never below requests)."""
        if limits is not None:
            return limits
        default = self.spec.profile.limits
        return Resources(
            cpu=max(requests.cpu, default.cpu), memory=max(requests.memory, default.memory_mib), gpu=requests.gpu
        )

    def _volumes(self, volumes: Mapping[str, Volume]) -> tuple[VolumeRequest, ...]:
        protect = self.spec.profile.protect_stateful
        return tuple(VolumeRequest(n, v.path, v.size, protect=protect, shared=v.shared) for n, v in volumes.items())

    def _gpu_env(self, gpu: float) -> dict[str, str]:
        """The card memory a GPU workload may take: its share of the card times the environment's GPU share."""
        if gpu <= 0:
            return {}
        return {"GPU_MEMORY_FRACTION": f"{round(min(gpu, 1.0) * self.spec.profile.gpu_share, 3):g}"}

    def service_request(self, name: str, key: str, spec: ServiceSpec) -> ServiceRequest:
        """A blueprint service as a protocol request, with its ``uses`` wired in."""
        limits = self._limits(spec.requests, spec.limits)
        wiring = self._wiring(spec.uses)
        return ServiceRequest(
            name=name,
            image=spec.image,
            pool=self._pool(key),
            ports=tuple(_port(p) for p in spec.ports),
            command=tuple(spec.command) if spec.command else None,
            args=tuple(spec.args) if spec.args else None,
            env={**spec.env, **self._gpu_env(spec.requests.gpu), **wiring.env},
            secrets=wiring.secrets,
            cpu=spec.requests.cpu,
            memory_mib=spec.requests.memory,
            limit_cpu=limits.cpu,
            limit_memory_mib=limits.memory,
            gpu=spec.requests.gpu,
            replicas=spec.replicas,
            autoscale=AutoscaleRequest(spec.autoscale.min, spec.autoscale.max, spec.autoscale.cpu_percent)
            if spec.autoscale
            else None,
            health=_health(spec.health, spec.ports),
            user=spec.user,
            read_only_root=spec.read_only_root,
            volumes=self._volumes(spec.volumes),
            public=spec.public,
            peers=wiring.peers,
            depends_on=wiring.depends_on,
        )

    def _tool_request(self, fleet: str, tool_name: str, tool: GrpcToolSpec) -> ServiceRequest:
        key = f"grpc_tool_fleets.{fleet}.tools.{tool_name}"
        limits = self._limits(tool.requests, tool.limits)
        wiring = self._wiring(tool.uses)
        return ServiceRequest(
            name=f"{fleet}-{tool_name}",
            image=tool.image,
            pool=self._pool(key),
            ports=(PortRequest("grpc", tool.port, app_protocol="grpc"),),
            command=tuple(tool.command) if tool.command else None,
            env={**tool.env, "GRPC_PORT": str(tool.port), **self._gpu_env(tool.requests.gpu), **wiring.env},
            secrets=wiring.secrets,
            cpu=tool.requests.cpu,
            memory_mib=tool.requests.memory,
            limit_cpu=limits.cpu,
            limit_memory_mib=limits.memory,
            gpu=tool.requests.gpu,
            replicas=tool.replicas,
            health=HealthRequest(kind="grpc", port=tool.port),
            volumes=self._volumes(tool.volumes),
            peers=wiring.peers,
            depends_on=wiring.depends_on,
        )

    def _wiring(self, uses: list[str]) -> Wiring:
        """Environment, secrets, peers and dependencies for everything a workload ``uses``."""
        env: dict[str, pulumi.Input[str]] = {}
        secrets: dict[str, pulumi.Input[str] | SecretRef] = {}
        depends: list[pulumi.Resource] = []
        peers: list[Peer] = []
        for used in uses:
            prefix = env_prefix(used)
            if used in self.built.databases:
                db = self.built.databases[used].database
                env[f"DB_{prefix}_HOST"] = db.host
                env[f"DB_{prefix}_PORT"] = str(db.port)
                env[f"DB_{prefix}_NAME"] = db.database
                env[f"DB_{prefix}_USER"] = db.username
                secrets[f"DB_{prefix}_PASSWORD"] = db.password
                if not isinstance(db.password, SecretRef):  # a stored secret is passed on, never read
                    secrets[f"DB_{prefix}_URL"] = pulumi.Output.secret(
                        pulumi.Output.format(
                            "postgresql://{0}:{1}@{2}:{3}/{4}", db.username, db.password, db.host, db.port, db.database
                        )
                    )
                depends += db.resources
                peers.append(db.peer())
            elif used in self.built.endpoints:
                endpoint = self.built.endpoints[used]
                port_name, port = next(iter(endpoint.ports.items()))
                scheme = "ws" if used in self.spec.blueprint.websocket_gateways else "http"
                if port == HTTPS_PORT:  # a target that serves peers over TLS only (Cloud Run's run.app URLs)
                    scheme += "s"
                env[f"{prefix}_URL"] = endpoint.host.apply(lambda h, s=scheme, p=port: f"{s}://{h}:{p}")
                env[f"{prefix}_ADDR"] = endpoint.address(port_name)
                depends += endpoint.resources
                peers.append(endpoint.peer())
        return Wiring(env, secrets, tuple(peers), tuple(depends))

    # -- components --------------------------------------------------------
    def _database(self, name: str) -> ManagedPostgres:
        spec = self.spec.blueprint.databases[name]
        profile = self.spec.profile
        replicas = spec.read_replicas if spec.read_replicas is not None else profile.read_replicas
        return ManagedPostgres(
            name,
            PostgresRequest(
                name=name,
                version=spec.version,
                database=spec.database,
                username=spec.username,
                storage_mib=max(spec.storage, profile.limits.storage_mib),
                cpu=spec.requests.cpu,
                memory_mib=spec.requests.memory,
                pool=self._pool(f"databases.{name}"),
                backup_schedule=profile.backups.schedule,
                backup_retention_days=profile.backups.retention_days,
                point_in_time=profile.backups.point_in_time,
                read_replicas=replicas,
                multi_az=profile.ha == "multi-az",
                protect=profile.protect_stateful,
            ),
            self.target,
        )

    def _service(self, name: str) -> None:
        spec = self.spec.blueprint.services[name]
        route = None
        if spec.route is not None:
            route = RouteOptions(kind="http", port=spec.route.port, path=spec.route.path)
        service = Service(name, ServiceArgs(self.service_request(name, f"services.{name}", spec), route), self.target)
        self.built.services[name] = service
        self.built.endpoints[name] = service.endpoint

    def _gateway(self, name: str) -> None:
        spec = self.spec.blueprint.websocket_gateways[name]
        request = self.service_request(name, f"websocket_gateways.{name}.service", spec.service)
        route = RouteOptions(
            kind="websocket",
            port=spec.service.ports[0].name,
            path=spec.path,
            idle_timeout_s=spec.idle_timeout_s,
            sticky=spec.sticky,
            drain_s=spec.drain_s,
        )
        gateway = WebSocketGateway(name, WebSocketGatewayArgs(request, route), self.target)
        self.built.gateways[name] = gateway
        self.built.endpoints[name] = gateway.endpoint

    def _fleet(self, name: str) -> None:
        spec = self.spec.blueprint.grpc_tool_fleets[name]
        assert spec.api.route is not None
        api = self.service_request(f"{name}-api", f"grpc_tool_fleets.{name}.api", spec.api)
        fleet = GrpcToolFleet(
            name,
            GrpcToolFleetArgs(
                api=api,
                api_route=RouteOptions(kind="http", port=spec.api.route.port, path=spec.api.route.path),
                tools={t: self._tool_request(name, t, tool) for t, tool in spec.tools.items()},
                public_grpc=spec.public_grpc,
            ),
            self.target,
        )
        self.built.fleets[name] = fleet
        self.built.endpoints[name] = fleet.api

    def _streaming(self, name: str) -> None:
        spec = self.spec.blueprint.pixel_streaming[name]
        key = f"pixel_streaming.{name}"
        signalling = self.service_request(f"{name}-signalling", f"{key}.signalling.service", spec.signalling.service)
        matchmaker = None
        if spec.matchmaker is not None:
            matchmaker = self.service_request(f"{name}-matchmaker", f"{key}.matchmaker", spec.matchmaker)
        streaming = PixelStreaming(
            name,
            PixelStreamingArgs(
                streamer=self.service_request(f"{name}-streamer", f"{key}.streamer", spec.streamer),
                signalling=signalling,
                signalling_route=RouteOptions(
                    kind="websocket",
                    port=spec.signalling.service.ports[0].name,
                    path=spec.signalling.path,
                    idle_timeout_s=spec.signalling.idle_timeout_s,
                    sticky=spec.signalling.sticky,
                    drain_s=spec.signalling.drain_s,
                ),
                turn=TurnOptions(
                    image=spec.turn.image,
                    listening_port=spec.turn.listening_port,
                    relay_min_port=spec.turn.relay_min_port,
                    relay_max_port=spec.turn.relay_max_port,
                    pool=self._pool(f"{key}.turn"),
                    realm=self.spec.settings.domain or f"{self.spec.stack}.gpu-platform.local",
                    public=self.spec.profile.name != "dev",
                ),
                matchmaker=matchmaker,
            ),
            self.target,
        )
        self.built.streaming[name] = streaming


def _port(port: PortSpec) -> PortRequest:
    return PortRequest(
        name=port.name,
        container_port=port.container_port,
        protocol=port.protocol,
        app_protocol=port.app_protocol,
        host_port=port.host_port,
    )


def _health(health: HealthCheck, ports: list[PortSpec]) -> HealthRequest:
    port = health.port or (ports[0].container_port if ports else None)
    return HealthRequest(
        kind=health.kind,
        port=port,
        path=health.path,
        command=tuple(health.command or ()),
        interval_s=health.interval_s,
        timeout_s=health.timeout_s,
        retries=health.retries,
        start_period_s=health.start_period_s,
    )


def build(spec: StackSpec, target: Target | None = None) -> Built:
    """Build every component of the stack on its target."""
    return Builder(spec, target or make_target(spec)).build()
