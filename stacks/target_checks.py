"""Checks a blueprint must pass for one target, before any resource is registered.

The blueprint is target-agnostic; some combinations are impossible on one
target only (two containers publishing one host port on a Docker engine, a
GPU service on Fargate). ``stacks/`` is the layer that knows blueprints and
targets together, so these checks live here, one function per target.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel

from stacks.errors import Caveat, Problem, fail
from stacks.placement import Placement, limits_or_default
from stacks.profiles import Profile
from stacks.references import HostPort, check_host_ports, public_routes, route_path_key
from stacks.settings import PROJECT
from stacks.spec import Blueprint, Resources, Volume
from stacks.units import format_mib
from stacks.workloads import workloads

if TYPE_CHECKING:
    from targets.docker.gpus import NoFit
    from targets.docker.gpus import Plan as GpuPlan


def _docker(
    source: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, BaseModel],
    target_settings: BaseModel,
) -> list[Problem]:
    """On Docker, published ports share their engine: the edge, TURN and services must not collide."""
    from targets.docker.nginx import HEALTHZ_PATH
    from targets.docker.settings import DockerPoolSettings, DockerSettings

    assert isinstance(target_settings, DockerSettings)

    def host_of(pool: str) -> str:
        settings = pool_settings[pool]
        assert isinstance(settings, DockerPoolSettings)
        return settings.host

    reserved: dict[HostPort, str] = {}
    problems: list[Problem] = []

    def reserve(slot: HostPort, owner: str, key: str) -> None:
        """A port the target itself publishes (edge listeners, TURN); two owners of one port collide."""
        if slot in reserved:
            problems.append(
                Problem(
                    key,
                    slot[1],
                    f"host port {slot[1]}/{slot[2]} on {slot[0]} is already published by "
                    f"{reserved[slot]}; pick a free port",
                )
            )
        else:
            reserved[slot] = owner

    edge_pool = target_settings.edge_pool or next(iter(blueprint.pools))
    if edge_pool not in blueprint.pools:
        raise fail(source, f"{PROJECT}:docker.edge_pool", edge_pool, f"known pools: {', '.join(blueprint.pools)}")
    edge_host = host_of(edge_pool)
    for setting in ("http_port", "https_port"):
        port = getattr(target_settings, setting)
        reserve((edge_host, port, "tcp"), f"the edge (nginx) on pool {edge_pool}", f"{PROJECT}:docker.{setting}")
    # Public gRPC tools are served by the edge on their own port (one nginx listener each).
    for fleet_name, fleet in blueprint.grpc_tool_fleets.items():
        for tool_name, tool in fleet.tools.items() if fleet.public_grpc else ():
            key = f"grpc_tool_fleets.{fleet_name}.tools.{tool_name}.port"
            reserve((edge_host, tool.port, "tcp"), f"the edge's gRPC listener for {key}", key)
    for name, streaming in blueprint.pixel_streaming.items():
        host = host_of(placement.pool_of[f"pixel_streaming.{name}.turn"])
        turn = streaming.turn
        for proto in ("tcp", "udp"):
            reserve((host, turn.listening_port, proto), f"pixel_streaming.{name}.turn",
                    f"pixel_streaming.{name}.turn.listening_port")  # fmt: skip
        for port in range(turn.relay_min_port, turn.relay_max_port + 1):
            reserve((host, port, "udp"), f"pixel_streaming.{name}.turn relay range",
                    f"pixel_streaming.{name}.turn.relay_min_port")  # fmt: skip
    # The edge answers its own health check on /healthz: a route there would never be reached.
    problems += [
        Problem(key, route, f"the Docker edge serves its own health check on {HEALTHZ_PATH}: pick another path")
        for key, route in public_routes(blueprint)
        if route_path_key(route) == HEALTHZ_PATH
    ]
    problems += _engine_capacity(blueprint, placement, host_of, target_settings)
    if target_settings.gpus != "none":
        _, no_fit = docker_gpu_plan(blueprint, placement, pool_settings)
        problems += [Problem(f"pools.{n.pool}.gpus", n.cards, n.message()) for n in no_fit]
    engines = {host_of(pool) for pool in blueprint.pools}
    if len(engines) > 1:
        for pool in blueprint.pools:
            settings = pool_settings[pool]
            assert isinstance(settings, DockerPoolSettings)
            if settings.advertised_address == "127.0.0.1":
                problems.append(
                    Problem(
                        f"pools.{pool}.targets.docker.address",
                        None,
                        f"the stack spans {len(engines)} Docker engines, so other hosts must reach pool {pool!r} "
                        f"({settings.host}): give the private address they reach it on",
                    )
                )
    return problems + check_host_ports(blueprint, placement.pool_of, host_of, reserved, publish_all=len(engines) > 1)


def docker_gpu_plan(
    blueprint: Blueprint, placement: Placement, pool_settings: dict[str, BaseModel]
) -> tuple[GpuPlan, list[NoFit]]:
    """The GPU cards each Docker container gets (``targets/docker/gpus.py``), and the pools they do not fit."""
    from targets.docker.gpus import GpuAsk, GpuPool, assign
    from targets.docker.settings import DockerPoolSettings

    pools = []
    for name, pool in blueprint.pools.items():
        settings = pool_settings[name]
        assert isinstance(settings, DockerPoolSettings)
        pools.append(GpuPool(name, settings.host, pool.gpus))
    asks = [
        GpuAsk(placement.pool_of[w.key], w.name, w.key, w.requests.gpu, w.replicas)
        for w in workloads(blueprint)
        if w.requests.gpu > 0
    ]
    return assign(pools, asks)


def _engine_capacity(
    blueprint: Blueprint, placement: Placement, host_of: Callable[[str], str], settings: BaseModel
) -> list[Problem]:
    """Pools on one engine share one machine: their requests together must fit its declared capacity."""
    from targets.docker.settings import DockerSettings

    assert isinstance(settings, DockerSettings)
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


def _aws(
    source: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, BaseModel],
    target_settings: BaseModel,
) -> list[Problem]:
    """Fargate has no GPUs and a largest task size; an ALB serves gRPC only over HTTPS; ECS reserves whole GPUs
    within the pool's instances and max_size; Service Connect names have a length limit.

    Also records on each GPU pool's usage what ECS will reserve there (the Pools report shows it).
    """
    from targets.aws.fargate import task_size
    from targets.aws.settings import AwsPoolSettings, AwsSettings

    assert isinstance(target_settings, AwsSettings)
    del path
    problems: list[Problem] = _ecs_gpu_reservations(blueprint, placement, pool_settings)
    problems += _service_connect_names(blueprint) + _arm64_gpu_instances(blueprint, pool_settings)
    for workload in workloads(blueprint):
        if workload.key.startswith("databases."):
            continue  # RDS, not an ECS task
        pool_name = placement.pool_of[workload.key]
        settings = pool_settings[pool_name]
        assert isinstance(settings, AwsPoolSettings)
        capacity = settings.capacity or ("ec2" if blueprint.pools[pool_name].gpus else "fargate")
        if capacity != "fargate":
            continue
        if workload.requests.gpu > 0:
            problems.append(
                Problem(
                    f"{workload.key}.pool",
                    pool_name,
                    f"pool {pool_name!r} runs on Fargate, which has no GPUs: place the workload on a GPU pool or set "
                    f"pools.{pool_name}.targets.aws.capacity: ec2",
                )
            )
        elif task_size(workload.requests.cpu, workload.requests.memory) is None:
            problems.append(
                Problem(
                    f"{workload.key}.requests",
                    f"{workload.requests.cpu:g} cpu, {workload.requests.memory} MiB",
                    "the largest Fargate task is 16 vCPU and 120 GiB: lower the requests or use an EC2 pool",
                )
            )
    grpc = [name for name, fleet in blueprint.grpc_tool_fleets.items() if fleet.public_grpc]
    if grpc and not target_settings.certificate_arn:
        problems.append(
            Problem(
                f"{PROJECT}:aws.certificate_arn",
                None,
                f"tool fleets {grpc} route gRPC publicly, which an ALB serves only over HTTPS (HTTP/2): "
                "give the ACM certificate ARN",
            )
        )
    return problems


def _arm64_gpu_instances(blueprint: Blueprint, pool_settings: dict[str, BaseModel]) -> list[Problem]:
    """A GPU pool boots the ECS GPU-optimized AMI, which is x86_64 only: Graviton GPU instances (g5g) cannot
    run it."""
    from targets.aws.settings import ARM64_GPU_FAMILIES, AwsPoolSettings

    problems = []
    for name, pool in blueprint.pools.items():
        settings = pool_settings[name]
        assert isinstance(settings, AwsPoolSettings)
        if not pool.gpus or (settings.capacity or "ec2") != "ec2":
            continue
        for field_name, types in (
            ("instance_type", [settings.instance_type]),
            ("spot_instance_types", settings.spot_instance_types),
        ):
            arm = [t for t in types if t.partition(".")[0] in ARM64_GPU_FAMILIES]
            if arm:
                problems.append(
                    Problem(
                        f"pools.{name}.targets.aws.{field_name}",
                        ", ".join(arm),
                        "arm64 (Graviton) GPU instances cannot boot the ECS GPU-optimized AMI, which is x86_64 "
                        "only: choose an x86_64 GPU family (g4dn, g5, g6, g6e, p3-p5)",
                    )
                )
    return problems


# ECS Service Connect: a service's discoveryName (and portName) is at most 64 characters. The AWS target
# derives it as "<workload name>-<first TCP port name>" (targets/aws/services.py); TURN's TCP port is "turn-tcp".
SERVICE_CONNECT_NAME_MAX = 64


def _service_connect_names(blueprint: Blueprint) -> list[Problem]:
    problems = []
    for workload in workloads(blueprint):
        if workload.key.startswith("databases."):
            continue
        tcp = [p.name for p in workload.ports if p.protocol == "tcp"]
        if workload.key.endswith(".turn"):
            tcp = ["turn-tcp"]
        if not tcp:
            continue
        derived = f"{workload.name}-{tcp[0]}"
        if len(derived) > SERVICE_CONNECT_NAME_MAX:
            problems.append(
                Problem(
                    workload.key,
                    derived,
                    f"the ECS Service Connect discovery name derived from it ({len(derived)} characters) exceeds "
                    f"{SERVICE_CONNECT_NAME_MAX}: shorten the workload or its first TCP port's name",
                )
            )
    return problems


def _ecs_gpu_reservations(
    blueprint: Blueprint, placement: Placement, pool_settings: dict[str, BaseModel]
) -> list[Problem]:
    """Whole GPUs (targets/aws/gpu_sharing.py): a fraction below 1 reserves one; an EC2 pool is an Auto Scaling
    group of identical instances, so it offers ``pool.gpus`` per instance x its ``max_size``, and a task (one
    instance) may ask for at most ``pool.gpus``."""
    from targets.aws.gpu_sharing import PoolReservation, problem
    from targets.aws.settings import AwsPoolSettings

    problems: list[Problem] = []
    reservations: dict[str, PoolReservation] = {}
    for workload in workloads(blueprint):
        gpu = workload.requests.gpu
        pool_name = placement.pool_of[workload.key]
        pool = blueprint.pools[pool_name]
        if gpu <= 0 or pool.gpus == 0:
            continue
        wrong = problem(gpu, pool.gpus)
        if wrong:
            problems.append(Problem(f"{workload.key}.requests.gpu", f"{gpu:g}", wrong))
            continue
        settings = pool_settings[pool_name]
        assert isinstance(settings, AwsPoolSettings)
        reservation = reservations.setdefault(pool_name, PoolReservation(pool.gpus, settings.max_size))
        reservation.add(workload.key, gpu, workload.replicas)
    for pool_name, reservation in reservations.items():
        summary = reservation.summary()
        placement.usage[pool_name].reservation = {"target": "aws", **summary}
        if reservation.reserved > reservation.capacity:
            problems.append(
                Problem(
                    f"pools.{pool_name}.gpus",
                    reservation.gpus_per_instance,
                    f"ECS would reserve {reservation.reserved} whole GPUs ({len(reservation.fractional)} of the "
                    "requests are fractions, each reserving a whole GPU), but the pool offers "
                    f"{reservation.gpus_per_instance} per instance x max_size {reservation.max_size} = "
                    f"{reservation.capacity}: raise pools.{pool_name}.targets.aws.max_size or the GPUs",
                )
            )
    return problems


def _kubernetes(
    source: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, BaseModel],
    target_settings: BaseModel,
) -> list[Problem]:
    """Time-sliced GPUs are whole units: a pool's pods may not ask for more units than its cards offer."""
    import math

    from targets.kubernetes.settings import KubernetesPoolSettings, KubernetesSettings

    del path
    assert isinstance(target_settings, KubernetesSettings)
    problems: list[Problem] = []
    if blueprint.pixel_streaming and not target_settings.pod_cidrs:
        problems.append(
            Problem(
                f"{PROJECT}:kubernetes.pod_cidrs",
                None,
                f"the blueprint streams Pixel Streaming ({', '.join(blueprint.pixel_streaming)}): the TURN relay "
                "refuses private peers except the cluster's pod CIDRs, so set them (e.g. [10.244.0.0/16]) "
                f"in {source}",
            )
        )
    asked: dict[str, list[tuple[str, int]]] = {}
    for workload in workloads(blueprint):
        if workload.requests.gpu <= 0:
            continue
        pool = placement.pool_of[workload.key]
        settings = pool_settings[pool]
        assert isinstance(settings, KubernetesPoolSettings)
        units = max(1, math.ceil(workload.requests.gpu * settings.time_slicing_replicas - 1e-9)) * workload.replicas
        asked.setdefault(pool, []).append((workload.key, units))
    problems += _kubernetes_names(blueprint, target_settings)
    for pool, items in asked.items():
        settings = pool_settings[pool]
        assert isinstance(settings, KubernetesPoolSettings)
        offered = blueprint.pools[pool].gpus * settings.time_slicing_replicas
        total = sum(units for _, units in items)
        if total > offered:
            largest = ", ".join(f"{key} ({units})" for key, units in sorted(items, key=lambda i: -i[1])[:3])
            problems.append(
                Problem(
                    f"pools.{pool}.targets.kubernetes.time_slicing_replicas",
                    settings.time_slicing_replicas,
                    f"the pool's pods ask for {total} time-sliced nvidia.com/gpu units but its cards offer {offered} "
                    f"(each request rounds up to whole units); largest: {largest}",
                )
            )
    return problems


def _volumes(blueprint: Blueprint) -> dict[str, dict[str, Volume]]:
    """Each workload's volumes by its key path (the sections that have volumes)."""
    found: dict[str, dict[str, Volume]] = {}
    for name, service in blueprint.services.items():
        found[f"services.{name}"] = service.volumes
    for name, gateway in blueprint.websocket_gateways.items():
        found[f"websocket_gateways.{name}.service"] = gateway.service.volumes
    for name, fleet in blueprint.grpc_tool_fleets.items():
        found[f"grpc_tool_fleets.{name}.api"] = fleet.api.volumes
        for tool_name, tool in fleet.tools.items():
            found[f"grpc_tool_fleets.{name}.tools.{tool_name}"] = tool.volumes
    for name, streaming in blueprint.pixel_streaming.items():
        key = f"pixel_streaming.{name}"
        found[f"{key}.streamer"] = streaming.streamer.volumes
        found[f"{key}.signalling.service"] = streaming.signalling.service.volumes
        if streaming.matchmaker is not None:
            found[f"{key}.matchmaker"] = streaming.matchmaker.volumes
    return found


def _kubernetes_names(blueprint: Blueprint, target_settings: BaseModel) -> list[Problem]:
    """Names the Kubernetes target derives from the blueprint, each within the API's limit for its use.

    One problem per blueprint key and derived name (the strictest limit it breaks), so a long
    ``<fleet>-<tool>`` is named once, not once per object it would have named.
    """
    from targets.kubernetes import names
    from targets.kubernetes.settings import KubernetesSettings

    assert isinstance(target_settings, KubernetesSettings)
    volumes = _volumes(blueprint)
    # Workloads with a volume one replica owns become StatefulSets (targets/kubernetes/target.py).
    stateful = {key for key, found in volumes.items() if any(not v.shared for v in found.values())}
    derived: list[names.DerivedName] = []
    for workload in workloads(blueprint):
        key, name = workload.key, workload.name
        if key.startswith("databases."):
            what = "a CloudNativePG Cluster name" if target_settings.cnpg else "the Postgres StatefulSet's name"
            limit = names.CNPG_CLUSTER if target_settings.cnpg else names.STATEFUL_SET
            derived.append(names.DerivedName(key, name, limit, what))
            derived.append(
                names.DerivedName(key, f"{name}{names.BACKUP_SUFFIX}", names.CRON_JOB, "the backup CronJob's name")
            )
        elif key in stateful:
            derived.append(names.DerivedName(key, name, names.STATEFUL_SET, "a StatefulSet name"))
        derived.append(names.DerivedName(key, name, names.DNS_LABEL, names.WORKLOAD_USES))
        for index, port in enumerate(workload.ports):
            derived.append(names.PortName(f"{key}.ports[{index}].name", port.name, names.PORT_NAME, names.PORT_USES))
    for fleet_name, fleet in blueprint.grpc_tool_fleets.items():
        for tool in fleet.tools if fleet.public_grpc else ():
            derived.append(
                names.DerivedName(
                    f"grpc_tool_fleets.{fleet_name}.tools.{tool}", f"{fleet_name}-{tool}", names.DNS_LABEL,
                    "the first label of its gRPC route's hostname (<fleet>-<tool>.<domain>)",
                )
            )  # fmt: skip
    problems: list[Problem] = []
    reported: set[tuple[str, str]] = set()
    for item in sorted(derived, key=lambda d: d.limit):
        problem = item.problem()
        if problem and (item.key, item.name) not in reported:
            reported.add((item.key, item.name))
            problems.append(Problem(item.key, item.name, problem))
    return problems


def _kubernetes_caveats(
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, BaseModel],
    target_settings: BaseModel,
    profile: Profile,
) -> list[Caveat]:
    """Without CloudNativePG a database is one Postgres pod: read replicas and multi-AZ HA are not built.

    Not an error: a staging cluster without the operator still deploys a working database, and the
    prod profile asks for a replica by default. But ``pulumi up`` and the preview say so.
    """
    from targets.kubernetes.settings import KubernetesSettings

    del path, placement, pool_settings
    assert isinstance(target_settings, KubernetesSettings)
    if target_settings.cnpg:
        return []
    return [
        Caveat(
            key,
            f"runs as a single Postgres StatefulSet on Kubernetes without CloudNativePG: "
            f"{' and '.join(asked)} not deployed; set {PROJECT}:kubernetes.cnpg: true on a cluster "
            "with the CloudNativePG operator to get them",
        )
        for key, asked in _database_features_not_built(blueprint, profile).values()
    ]


def _unchecked_engines(blueprint: Blueprint, pool_settings: dict[str, BaseModel], settings: BaseModel) -> list[Caveat]:
    """Pools sharing an engine whose capacity is not declared: each pool is checked alone, the machine never."""
    from targets.docker.settings import DockerPoolSettings, DockerSettings

    assert isinstance(settings, DockerSettings)
    shared: dict[str, list[str]] = {}
    for name in blueprint.pools:
        pool = pool_settings[name]
        assert isinstance(pool, DockerPoolSettings)
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


def _database_features_not_built(blueprint: Blueprint, profile: Profile) -> dict[str, tuple[str, list[str]]]:
    """Per database with read replicas or multi-AZ HA asked: (its key path, what was asked, and by whom).

    Replicas come from the blueprint's ``read_replicas`` or, unset, from the profile (prod adds one).
    """
    found: dict[str, tuple[str, list[str]]] = {}
    for name, database in blueprint.databases.items():
        stated = database.read_replicas is not None
        replicas = database.read_replicas if database.read_replicas is not None else profile.read_replicas
        asked = []
        if replicas:
            source = "the blueprint" if stated else f"the {profile.name} profile"
            asked.append(f"{replicas} read replica(s) (from {source})")
        if profile.ha == "multi-az":
            asked.append(f"multi-AZ HA (from the {profile.name} profile)")
        if asked:
            found[name] = (f"databases.{name}" + (".read_replicas" if stated and replicas else ""), asked)
    return found


def _docker_caveats(
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, BaseModel],
    target_settings: BaseModel,
    profile: Profile,
) -> list[Caveat]:
    """What Docker deploys short of the ask: one Postgres container per database; no GPU with ``gpus: none``."""
    from targets.docker.settings import DockerSettings

    del path
    assert isinstance(target_settings, DockerSettings)
    found = _unchecked_engines(blueprint, pool_settings, target_settings)
    found += [
        Caveat(key, f"runs as one Postgres container on Docker: {' and '.join(asked)} not deployed")
        for key, asked in _database_features_not_built(blueprint, profile).values()
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


def _aws_caveats(
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, BaseModel],
    target_settings: BaseModel,
    profile: Profile,
) -> list[Caveat]:
    """A fractional GPU reserves a whole GPU on ECS; Fargate Spot runs X86_64 tasks only: an arm64 Fargate pool
    stays on-demand where the profile asks for Spot."""
    from targets.aws.settings import AwsPoolSettings

    del path, target_settings
    found = []
    for workload in workloads(blueprint):
        gpu = workload.requests.gpu
        if 0 < gpu < 1 and blueprint.pools[placement.pool_of[workload.key]].gpus:
            found.append(
                Caveat(
                    f"{workload.key}.requests.gpu",
                    f"reserves a whole GPU on ECS ({gpu:g} asked): MPS sharing cannot pass through pulumi-aws's "
                    "container definitions",
                )
            )
    if not profile.spot_capacity:
        return found
    for name, pool in blueprint.pools.items():
        settings = pool_settings[name]
        assert isinstance(settings, AwsPoolSettings)
        on_fargate = (settings.capacity or ("ec2" if pool.gpus else "fargate")) == "fargate"
        if on_fargate and pool.architecture == "arm64":
            found.append(
                Caveat(
                    f"pools.{name}",
                    f"runs on FARGATE on-demand although the {profile.name} profile asks for Spot: "
                    "FARGATE_SPOT runs X86_64 tasks only",
                )
            )
    return found


Check = Callable[[str, str, Blueprint, Placement, dict[str, BaseModel], BaseModel], list[Problem]]
CHECKS: dict[str, Check] = {"docker": _docker, "kubernetes": _kubernetes, "aws": _aws}

# What a target deploys differently from what was asked (warnings, not errors): the check's arguments
# without the source, plus the environment's profile (read replicas and HA come from it too).
Caveats = Callable[[str, Blueprint, Placement, dict[str, BaseModel], BaseModel, Profile], list[Caveat]]
CAVEATS: dict[str, Caveats] = {"kubernetes": _kubernetes_caveats, "docker": _docker_caveats, "aws": _aws_caveats}


def check(
    target: str,
    source: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, BaseModel],
    target_settings: BaseModel,
) -> list[Problem]:
    """Every problem the target has with this blueprint (empty when it can deploy it)."""
    found = CHECKS.get(target)
    return found(source, path, blueprint, placement, pool_settings, target_settings) if found else []


def caveats(
    target: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, BaseModel],
    target_settings: BaseModel,
    profile: Profile,
) -> list[Caveat]:
    """What the target will deploy differently from the blueprint or profile (shown as warnings)."""
    found = CAVEATS.get(target)
    return found(path, blueprint, placement, pool_settings, target_settings, profile) if found else []
