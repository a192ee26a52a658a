"""What a blueprint must pass on AWS (ECS, Fargate, ALB) before any resource is registered, and what ECS deploys
short of the ask.

SDK-free: the stack loader runs these for every AWS stack (``TargetPlugin.check`` and ``.caveats``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stacks.errors import Caveat, Problem
from stacks.placement import Placement
from stacks.profiles import Profile
from stacks.settings import PROJECT
from stacks.spec import Blueprint
from stacks.workloads import workloads

if TYPE_CHECKING:
    from targets.aws.settings import AwsPoolSettings, AwsSettings


def check(
    source: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, AwsPoolSettings],
    target_settings: AwsSettings,
) -> list[Problem]:
    """Fargate has no GPUs and a largest task size; an ALB serves gRPC only over HTTPS; ECS reserves whole GPUs
    within the pool's instances and max_size; Service Connect names have a length limit.

    Also records on each GPU pool's usage what ECS will reserve there (the Pools report shows it).
    """
    from targets.aws.fargate import task_size

    del path
    problems: list[Problem] = _ecs_gpu_reservations(blueprint, placement, pool_settings)
    problems += _service_connect_names(blueprint) + _arm64_gpu_instances(blueprint, pool_settings)
    for workload in workloads(blueprint):
        if workload.key.startswith("databases."):
            continue  # RDS, not an ECS task
        pool_name = placement.pool_of[workload.key]
        settings = pool_settings[pool_name]
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


def _arm64_gpu_instances(blueprint: Blueprint, pool_settings: dict[str, AwsPoolSettings]) -> list[Problem]:
    """A GPU pool boots the ECS GPU-optimized AMI, which is x86_64 only: Graviton GPU instances (g5g) cannot
    run it."""
    from targets.aws.settings import ARM64_GPU_FAMILIES

    problems = []
    for name, pool in blueprint.pools.items():
        settings = pool_settings[name]
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
    blueprint: Blueprint, placement: Placement, pool_settings: dict[str, AwsPoolSettings]
) -> list[Problem]:
    """Whole GPUs (targets/aws/gpu_sharing.py): a fraction below 1 reserves one; an EC2 pool is an Auto Scaling
    group of identical instances, so it offers ``pool.gpus`` per instance x its ``max_size``, and a task (one
    instance) may ask for at most ``pool.gpus``."""
    from targets.aws.gpu_sharing import PoolReservation, problem

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


def caveats(
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, AwsPoolSettings],
    target_settings: AwsSettings,
    profile: Profile,
) -> list[Caveat]:
    """A fractional GPU reserves a whole GPU on ECS; Fargate Spot runs X86_64 tasks only: an arm64 Fargate pool
    stays on-demand where the profile asks for Spot."""

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


def reservation_text(reserved: Mapping[str, Any]) -> str:
    """What ECS reserves on a GPU pool (recorded by ``_ecs_gpu_reservations``): whole GPUs (a fraction reserves
    one), against per instance x the group's max_size."""
    text = (
        f"; ECS reserves {reserved['whole_gpus']} whole GPU(s) of {reserved['capacity_gpus']} "
        f"({reserved['gpus_per_instance']}/instance x max_size {reserved['max_size']})"
    )
    if reserved["fractional_workloads"]:
        text += f", {reserved['fractional_workloads']} fractional request(s) rounded up to a whole GPU"
    return text
