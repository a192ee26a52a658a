"""Checks a blueprint must pass for one target, before any resource is registered.

The blueprint is target-agnostic; some combinations are impossible on one
target only (two containers publishing one host port on a Docker engine, a
GPU service on Fargate). ``stacks/`` is the layer that knows blueprints and
targets together, so these checks live here, one function per target.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from stacks.errors import Problem, fail
from stacks.placement import Placement
from stacks.references import HostPort, check_host_ports
from stacks.settings import PROJECT
from stacks.spec import Blueprint
from stacks.workloads import workloads


def _docker(
    source: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, BaseModel],
    target_settings: BaseModel,
) -> list[Problem]:
    """On Docker, published ports share their engine: the edge, TURN and services must not collide."""
    from targets.docker.settings import DockerPoolSettings, DockerSettings

    assert isinstance(target_settings, DockerSettings)

    def host_of(pool: str) -> str:
        settings = pool_settings[pool]
        assert isinstance(settings, DockerPoolSettings)
        return settings.host

    reserved: dict[HostPort, str] = {}
    edge_pool = target_settings.edge_pool or next(iter(blueprint.pools))
    if edge_pool not in blueprint.pools:
        raise fail(source, f"{PROJECT}:docker.edge_pool", edge_pool, f"known pools: {', '.join(blueprint.pools)}")
    for port in (target_settings.http_port, target_settings.https_port):
        reserved[(host_of(edge_pool), port, "tcp")] = f"the edge (nginx) on pool {edge_pool}"
    for name, streaming in blueprint.pixel_streaming.items():
        host = host_of(placement.pool_of[f"pixel_streaming.{name}.turn"])
        turn = streaming.turn
        for proto in ("tcp", "udp"):
            reserved[(host, turn.listening_port, proto)] = f"pixel_streaming.{name}.turn"
        for port in range(turn.relay_min_port, turn.relay_max_port + 1):
            reserved[(host, port, "udp")] = f"pixel_streaming.{name}.turn relay range"
    engines = {host_of(pool) for pool in blueprint.pools}
    problems: list[Problem] = []
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


def _aws(
    source: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, BaseModel],
    target_settings: BaseModel,
) -> list[Problem]:
    """Fargate has no GPUs and a largest task size; an ALB serves gRPC only over HTTPS."""
    from targets.aws.fargate import task_size
    from targets.aws.settings import AwsPoolSettings, AwsSettings

    assert isinstance(target_settings, AwsSettings)
    del path
    problems: list[Problem] = []
    for workload in workloads(blueprint):
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

    from targets.kubernetes.settings import KubernetesPoolSettings

    del source, path, target_settings
    asked: dict[str, list[tuple[str, int]]] = {}
    for workload in workloads(blueprint):
        if workload.requests.gpu <= 0:
            continue
        pool = placement.pool_of[workload.key]
        settings = pool_settings[pool]
        assert isinstance(settings, KubernetesPoolSettings)
        units = max(1, math.ceil(workload.requests.gpu * settings.time_slicing_replicas - 1e-9)) * workload.replicas
        asked.setdefault(pool, []).append((workload.key, units))
    problems = []
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


Check = Callable[[str, str, Blueprint, Placement, dict[str, BaseModel], BaseModel], list[Problem]]
CHECKS: dict[str, Check] = {"docker": _docker, "kubernetes": _kubernetes, "aws": _aws}


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
