"""The AWS target as the shared tests see it: an ECS service and task definition per workload.

Every workload (and TURN relay) is an ECS service with its task definition; autoscaling is
Application Auto Scaling with CPU target tracking; each volume is an EFS file system; Postgres is
RDS with a read replica in prod; work on a GPU pool runs on EC2 capacity (a capacity provider and
Auto Scaling group per GPU pool), the rest on Fargate; routes are ALB target groups.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from preview.mocks import Recorded
from preview.runner import PreviewResult
from stacks.profiles import Profile
from tests.kit import Workload, gpu_pools, public_tools, workloads
from tests.tokens import (
    AWS_APPAUTOSCALING_TARGET,
    AWS_AUTOSCALING_GROUP,
    AWS_ECS_CAPACITY_PROVIDER,
    AWS_ECS_SERVICE,
    AWS_ECS_TASK_DEFINITION,
    AWS_EFS_FILE_SYSTEM,
    AWS_LB_TARGET_GROUP,
    AWS_RDS_INSTANCE,
)
from tests.views import Measure, TargetView

ALB_TARGET_GROUPS = "ALB target groups"
ARCHITECTURES = {"amd64": "X86_64", "arm64": "ARM64"}


def task(result: PreviewResult, name: str) -> tuple[Recorded, dict[str, Any]]:
    """The ECS task definition of ``name`` and its main container definition."""
    definition = result.named(f"{name}-task")
    main = next(c for c in json.loads(definition.inputs["containerDefinitions"]) if c["name"] == name)
    return definition, main


def task_env(main: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in main["environment"]}


def target_groups(result: PreviewResult) -> dict[str, dict[str, Any]]:
    """ALB target groups (HTTP/gRPC, not the NLB's) by route name."""
    return {
        r.name.removesuffix("-tg"): r.inputs
        for r in result.of_type(AWS_LB_TARGET_GROUP)
        if r.inputs.get("protocol") == "HTTP"
    }


class AwsView(TargetView):
    target = "aws"
    stack = "prod"
    counters: ClassVar[Mapping[str, Measure]] = {ALB_TARGET_GROUPS: lambda result: len(target_groups(result))}

    def target_counts(self, bp: dict[str, Any], profile: Profile) -> dict[str, int]:
        items = workloads(bp)
        turns = len(bp.get("pixel_streaming", {}))
        routes = [w for w in items if w.route is not None]
        return {
            AWS_ECS_SERVICE: len(items) + turns,
            AWS_ECS_TASK_DEFINITION: len(items) + turns,
            AWS_APPAUTOSCALING_TARGET: len([w for w in items if w.autoscale]),
            AWS_EFS_FILE_SYSTEM: sum(len(w.volumes) for w in items),
            # each primary and its read replicas (the blueprint's, else the profile's: prod adds one)
            AWS_RDS_INSTANCE: sum(
                1 + (db["read_replicas"] if db.get("read_replicas") is not None else profile.read_replicas)
                for db in bp.get("databases", {}).values()
            ),
            ALB_TARGET_GROUPS: len(routes) + len(public_tools(bp)),
            AWS_ECS_CAPACITY_PROVIDER: len(gpu_pools(bp)),
            AWS_AUTOSCALING_GROUP: len(gpu_pools(bp)),
        }

    def image(self, result: PreviewResult, w: Workload) -> str:
        return task(result, w.name)[1]["image"]

    def users(self, result: PreviewResult, w: Workload) -> set[str]:
        return {task(result, w.name)[1]["user"]}

    def running(self, result: PreviewResult, w: Workload) -> int:
        return result.named(f"{w.name}-service").inputs["desiredCount"]

    def check_ports_and_health(self, result: PreviewResult, w: Workload) -> None:
        health = w.health
        _, main = task(result, w.name)
        assert [p["containerPort"] for p in main["portMappings"]] == w.ports, w.name
        check = " ".join(main["healthCheck"]["command"])
        if health["kind"] == "http":
            assert f"http://127.0.0.1:{w.ports[0]}{health['path']}" in check, w.name
        elif health["kind"] == "grpc":
            assert f"-addr=127.0.0.1:{w.ports[0]}" in check, w.name

    def check_autoscaling(self, result: PreviewResult, w: Workload) -> None:
        if not w.autoscale:
            return
        scaling = result.named(f"{w.name}-scaling").inputs
        assert (scaling["minCapacity"], scaling["maxCapacity"]) == (w.autoscale["min"], w.autoscale["max"])
        policy = result.named(f"{w.name}-cpu-tracking").inputs["targetTrackingScalingPolicyConfiguration"]
        assert policy["targetValue"] == w.autoscale.get("cpu_percent", 70), w.name

    def check_placement(self, result: PreviewResult, w: Workload, pool: dict[str, Any]) -> None:
        definition, _ = task(result, w.name)
        platform = definition.inputs["runtimePlatform"]["cpuArchitecture"]
        assert platform == ARCHITECTURES[pool.get("architecture", "amd64")], w.name
        compatibility = definition.inputs["requiresCompatibilities"]
        assert compatibility == (["EC2"] if w.gpu > 0 else ["FARGATE"]), w.name

    def check_gpu(self, result: PreviewResult, w: Workload, pool: dict[str, Any], share: str) -> None:
        _, main = task(result, w.name)
        # ECS reserves whole GPUs: a fraction below 1 reserves one (no MPS through pulumi-aws).
        assert main["resourceRequirements"] == [{"type": "GPU", "value": str(max(1, int(w.gpu)))}], w.name
        assert task_env(main)["GPU_MEMORY_FRACTION"] == share


VIEW = AwsView()
