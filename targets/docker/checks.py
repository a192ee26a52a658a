"""What a blueprint must pass on Docker before any resource is registered, and what Docker deploys short of the ask.

SDK-free: the stack loader runs these for every Docker stack (``TargetPlugin.check`` and ``.caveats``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stacks.errors import Caveat, Problem, fail
from stacks.placement import Placement, limits_or_default
from stacks.profiles import Profile
from stacks.references import HostPort, check_host_ports, public_routes, route_path_key
from stacks.settings import PROJECT
from stacks.spec import Blueprint, Resources
from stacks.target_checks import database_features_not_built
from stacks.units import format_mib
from stacks.workloads import workloads

if TYPE_CHECKING:
    from targets.docker.gpus import NoFit
    from targets.docker.gpus import Plan as GpuPlan
    from targets.docker.settings import DockerPoolSettings, DockerSettings


def check(
    source: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, DockerPoolSettings],
    target_settings: DockerSettings,
) -> list[Problem]:
    """On Docker, published ports share their engine: the edge, TURN and services must not collide."""
    del path

    def host_of(pool: str) -> str:
        return pool_settings[pool].host

    edge_pool = target_settings.edge_pool or next(iter(blueprint.pools))
    if edge_pool not in blueprint.pools:
        raise fail(source, f"{PROJECT}:docker.edge_pool", edge_pool, f"known pools: {', '.join(blueprint.pools)}")
    published = _Published()
    _publish_edge(published, blueprint, edge_pool, host_of(edge_pool), target_settings)
    _publish_turn(published, blueprint, placement, host_of)
    problems = [*published.problems, *_healthz_routes(blueprint)]
    problems += _engine_capacity(blueprint, placement, host_of, target_settings)
    if target_settings.gpus != "none":
        _, no_fit = gpu_plan(blueprint, placement, pool_settings)
        problems += [Problem(f"pools.{n.pool}.gpus", n.cards, n.message()) for n in no_fit]
    engines = {host_of(pool) for pool in blueprint.pools}
    problems += _unreachable_pools(blueprint, pool_settings, len(engines))
    return problems + check_host_ports(
        blueprint, placement.pool_of, host_of, published.reserved, publish_all=len(engines) > 1
    )


@dataclass
class _Published:
    """The host ports the target itself publishes (edge listeners, TURN), and the collisions among them."""

    reserved: dict[HostPort, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def reserve(self, slot: HostPort, owner: str, key: str) -> None:
        """Publish ``slot`` for ``owner``; a second owner of one port on one engine collides."""
        if slot in self.reserved:
            self.problems.append(
                Problem(
                    key,
                    slot[1],
                    f"host port {slot[1]}/{slot[2]} on {slot[0]} is already published by "
                    f"{self.reserved[slot]}; pick a free port",
                )
            )
        else:
            self.reserved[slot] = owner


def _publish_edge(
    published: _Published, blueprint: Blueprint, edge_pool: str, edge_host: str, settings: DockerSettings
) -> None:
    """The edge's HTTP and HTTPS listeners, and one listener per public gRPC tool (nginx serves each on its
    own port)."""
    for setting, port in (("http_port", settings.http_port), ("https_port", settings.https_port)):
        published.reserve(
            (edge_host, port, "tcp"), f"the edge (nginx) on pool {edge_pool}", f"{PROJECT}:docker.{setting}"
        )
    for fleet_name, fleet in blueprint.grpc_tool_fleets.items():
        for tool_name, tool in fleet.tools.items() if fleet.public_grpc else ():
            key = f"grpc_tool_fleets.{fleet_name}.tools.{tool_name}.port"
            published.reserve((edge_host, tool.port, "tcp"), f"the edge's gRPC listener for {key}", key)


def _publish_turn(
    published: _Published, blueprint: Blueprint, placement: Placement, host_of: Callable[[str], str]
) -> None:
    """Each TURN relay's listening port (TCP and UDP) and its UDP relay range, on its pool's engine."""
    for name, streaming in blueprint.pixel_streaming.items():
        host = host_of(placement.pool_of[f"pixel_streaming.{name}.turn"])
        turn = streaming.turn
        for proto in ("tcp", "udp"):
            published.reserve((host, turn.listening_port, proto), f"pixel_streaming.{name}.turn",
                              f"pixel_streaming.{name}.turn.listening_port")  # fmt: skip
        for port in range(turn.relay_min_port, turn.relay_max_port + 1):
            published.reserve((host, port, "udp"), f"pixel_streaming.{name}.turn relay range",
                              f"pixel_streaming.{name}.turn.relay_min_port")  # fmt: skip


def _healthz_routes(blueprint: Blueprint) -> list[Problem]:
    """The edge answers its own health check on /healthz: a route there would never be reached."""
    from targets.docker.nginx import HEALTHZ_PATH

    return [
        Problem(key, route, f"the Docker edge serves its own health check on {HEALTHZ_PATH}: pick another path")
        for key, route in public_routes(blueprint)
        if route_path_key(route) == HEALTHZ_PATH
    ]


def _unreachable_pools(
    blueprint: Blueprint, pool_settings: dict[str, DockerPoolSettings], engines: int
) -> list[Problem]:
    """Across engines, each pool needs the private address other hosts reach it on (not the loopback default)."""
    if engines <= 1:
        return []
    return [
        Problem(
            f"pools.{pool}.targets.docker.address",
            None,
            f"the stack spans {engines} Docker engines, so other hosts must reach pool {pool!r} "
            f"({pool_settings[pool].host}): give the private address they reach it on",
        )
        for pool in blueprint.pools
        if pool_settings[pool].advertised_address == "127.0.0.1"
    ]


def gpu_plan(
    blueprint: Blueprint, placement: Placement, pool_settings: dict[str, DockerPoolSettings]
) -> tuple[GpuPlan, list[NoFit]]:
    """The GPU cards each Docker container gets (``targets/docker/gpus.py``), and the pools they do not fit."""
    from targets.docker.gpus import GpuAsk, GpuPool, assign

    pools = []
    for name, pool in blueprint.pools.items():
        settings = pool_settings[name]
        pools.append(GpuPool(name, settings.host, pool.gpus))
    asks = [
        GpuAsk(placement.pool_of[w.key], w.name, w.key, w.requests.gpu, w.replicas)
        for w in workloads(blueprint)
        if w.requests.gpu > 0
    ]
    return assign(pools, asks)


def gpu_devices(
    blueprint: Blueprint, placement: Placement, pool_settings: dict[str, DockerPoolSettings]
) -> dict[str, list[tuple[str, ...]]]:
    """The cards each container gets (the check already refused a plan that does not fit)."""
    plan, _ = gpu_plan(blueprint, placement, pool_settings)
    return plan


def _engine_capacity(
    blueprint: Blueprint, placement: Placement, host_of: Callable[[str], str], settings: DockerSettings
) -> list[Problem]:
    """Pools on one engine share one machine: their requests together must fit its declared capacity."""

    problems = []
    for host, capacity in settings.engines.items():
        pools = [name for name in blueprint.pools if host_of(name) == host]
        if not pools:
            problems.append(
                Problem(
                    f"{PROJECT}:docker.engines",
                    host,
                    f"no pool runs on this engine; pools' hosts: "
                    f"{', '.join(sorted({host_of(p) for p in blueprint.pools}))}",
                )
            )
            continue
        cpu = sum(placement.usage[p].cpu for p in pools)
        memory = sum(placement.usage[p].memory_mib for p in pools)
        if cpu > capacity.cpu + 1e-9 or memory > capacity.memory:
            problems.append(
                Problem(
                    f"{PROJECT}:docker.engines.{host}",
                    f"cpu {capacity.cpu:g}, memory {format_mib(capacity.memory)}",
                    f"pools {', '.join(pools)} share this engine and request cpu {cpu:g} and memory "
                    f"{format_mib(memory)} together: give the engine more, or move a pool to another host",
                )
            )
    return problems


def _unchecked_engines(
    blueprint: Blueprint, pool_settings: dict[str, DockerPoolSettings], settings: DockerSettings
) -> list[Caveat]:
    """Pools sharing an engine whose capacity is not declared: each pool is checked alone, the machine never."""

    shared: dict[str, list[str]] = {}
    for name in blueprint.pools:
        pool = pool_settings[name]
        shared.setdefault(pool.host, []).append(name)
    return [
        Caveat(
            f"{PROJECT}:docker.engines",
            f"pools {', '.join(pools)} share the engine {host}: each is checked against its own capacity, "
            f"not their sum against the machine; declare it ({PROJECT}:docker.engines.<host>: {{cpu, memory}}) "
            "to check them together",
        )
        for host, pools in shared.items()
        if len(pools) > 1 and host not in settings.engines
    ]


def caveats(
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, DockerPoolSettings],
    target_settings: DockerSettings,
    profile: Profile,
) -> list[Caveat]:
    """What Docker deploys short of the ask: one Postgres container per database; no GPU with ``gpus: none``."""

    del path
    found = _unchecked_engines(blueprint, pool_settings, target_settings)
    found += [
        Caveat(key, f"runs as one Postgres container on Docker: {' and '.join(asked)} not deployed")
        for key, asked in database_features_not_built(blueprint, profile).values()
    ]
    if target_settings.gpus == "none":
        found += [
            Caveat(
                workload.key,
                f"runs on pool {placement.pool_of[workload.key]!r} without a GPU ({workload.requests.gpu:g} asked): "
                f"{PROJECT}:docker.gpus is none, so its containers get no device request",
            )
            for workload in workloads(blueprint)
            if workload.requests.gpu > 0
        ]
    if target_settings.max_cpus is not None:
        ceiling = Resources(cpu=profile.limits.cpu, memory=profile.limits.memory_mib)
        for workload in workloads(blueprint):
            asked = (workload.limits or limits_or_default(workload.requests, ceiling)).cpu
            if asked > target_settings.max_cpus:
                found.append(
                    Caveat(
                        workload.key,
                        f"CPU limit lowered from {asked:g} to {target_settings.max_cpus:g}: "
                        f"{PROJECT}:docker.max_cpus (the engine refuses a limit above its CPU count)",
                    )
                )
    return found
