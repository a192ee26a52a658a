"""ECS-side behaviour the mock runtime cannot see: GPU reservations, volume ownership, off-hours, exec.

Each test names the ECS/EC2 rule it encodes (see docs/architecture.md, AWS target).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from preview.mocks import RecordingMonitor
from stacks.loader import load_stack
from targets.aws.gpu_sharing import DRIVER_MEMORY_MIB, PoolReservation, gpu_requirement
from targets.aws.settings import AwsPoolSettings, app_autoscaling_cron
from tests.conftest import Runner, shipped, stack_config
from tests.test_aws_components import (
    API,
    CERT,
    POOLS,
    ROLE_POLICY,
    container,
    containers,
    ecs_service,
    one,
    policy_document,
    run_blueprint,
    statement,
)

SCHEDULED_ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
SCALING_TARGET = "aws:appautoscaling/target:Target"
A10G = DRIVER_MEMORY_MIB["A10G"]
HALF: dict[str, Any] = {
    "image": "ghcr.io/example/infer:1.0.0",
    "health": {"kind": "command", "command": ["true"]},
    "requests": {"cpu": 1, "memory": "2Gi", "gpu": 0.5},
    "pool": "gpu",
}
ONE_GPU_POOLS: dict[str, Any] = {
    **POOLS,
    "gpu": {**POOLS["gpu"], "cpu": 4, "memory": "16Gi", "gpus": 1, "targets": {"aws": {"instance_type": "g5.xlarge"}}},
}
STAGING_AWS = {"certificate_arn": CERT}


def failing(run: Runner, tmp_path: Path, monitors: list[RecordingMonitor], **arguments: Any) -> str:
    with pytest.raises(pulumi.RunError) as caught:
        run_blueprint(run, tmp_path, **arguments)
    (monitor,) = monitors
    assert monitor.recorded == []
    message = str(caught.value)
    assert message.startswith("config error in ")
    assert "Traceback" not in message
    return message


# -- 1. fractional GPUs ----------------------------------------------------------------------------


def test_two_half_gpu_shares_fit_one_a10g_as_ecs_counts_its_memory(run: Runner, tmp_path: Path) -> None:
    """ECS places MPS shares by the memory the driver reports (23028 MiB on an A10G), not the 24 GiB data-sheet
    figure: two 0.5 shares sized from 24 GiB (2 x 12288) would not fit one card and one task would never run."""
    result = run_blueprint(run, tmp_path, pools=ONE_GPU_POOLS, services={"a": HALF, "b": HALF})
    shares = [container(result, n)["resourceRequirements"][0]["sharingStrategy"]["nvidiaMps"] for n in "ab"]
    assert sum(s["memory"] for s in shares) <= A10G
    assert all("value" not in container(result, n)["resourceRequirements"][0] for n in "ab")
    assert all(1 <= s["maxComputePercent"] <= 100 for s in shares)


def test_tiny_share_keeps_max_compute_percent_in_the_apis_range() -> None:
    requirement = gpu_requirement(0.004, A10G)
    assert requirement is not None
    assert requirement["sharingStrategy"]["nvidiaMps"]["maxComputePercent"] == 1


def test_mps_shares_that_cannot_be_packed_onto_the_cards_are_rejected(
    run: Runner, tmp_path: Path, monitors: list[RecordingMonitor]
) -> None:
    """0.7 + 0.7 + 0.6 is 2 GPU units (placement accepts it on two cards), but no card holds two of them."""
    pools = {**POOLS, "gpu": {**POOLS["gpu"], "gpus": 2}}
    shares = {n: {**HALF, "requests": {"cpu": 1, "memory": "2Gi", "gpu": g}} for n, g in (("a", 0.7), ("b", 0.7))}
    shares["c"] = {**HALF, "requests": {"cpu": 1, "memory": "2Gi", "gpu": 0.6}}
    message = failing(run, tmp_path, monitors, pools=pools, services=shares)
    assert "pools.gpu.gpus" in message
    assert "ECS would need 3 GPUs" in message


def test_pool_reservation_counts_dedicated_and_shared_cards() -> None:
    reservation = PoolReservation(A10G)
    reservation.add(1, 2)
    reservation.add(0.5, 3)
    summary = reservation.summary()
    assert (summary["dedicated_gpus"], summary["mps_containers"], summary["mps_gpus"]) == (2, 3, 2)
    assert summary["gpus_needed"] == 4


def test_pools_report_shows_what_ecs_reserves() -> None:
    spec = load_stack("prod", stack_config("prod"))
    reservation = spec.placement.usage["gpu"].reservation
    assert reservation is not None
    assert spec.placement.usage["gpu"].summary()["reservation"] == reservation
    assert reservation["mps_containers"] == 2
    assert reservation["dedicated_gpus"] == 0
    assert int(str(reservation["mps_memory_mib"])) <= A10G


# -- 3. volumes a non-root workload can use ------------------------------------------------------------


def test_init_hands_bind_volumes_to_the_workloads_user(run: Runner, tmp_path: Path) -> None:
    """ECS creates task bind volumes root-owned 0755: only a root process can prepare them for the workload."""
    result = run_blueprint(run, tmp_path, services={"api": API})
    boxes = containers(result, "api")
    init, main = boxes["init"], boxes["api"]
    assert init["user"] == "0"
    assert init["essential"] is False
    assert init["privileged"] is False
    dropped = set(init["linuxParameters"]["capabilities"]["drop"])
    assert "CHOWN" not in dropped
    assert {"DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "NET_RAW"} <= dropped
    assert "add" not in init["linuxParameters"]["capabilities"]  # Fargate may add only SYS_PTRACE
    script = init["command"][-1]
    assert f"chown {main['user']} /scratch" in script
    assert {"sourceVolume": "scratch", "containerPath": "/scratch", "readOnly": False} in init["mountPoints"]
    assert main["dependsOn"] == [{"containerName": "init", "condition": "SUCCESS"}]
    assert main["user"] not in {"0", "root", "0:0"}


def test_secret_files_are_written_by_root_and_given_to_the_user() -> None:
    boxes = containers(shipped("prod"), "unreal-turn")
    script, user = boxes["init"]["command"][-1], boxes["unreal-turn"]["user"]
    path = "/run/secrets/turnserver.conf"
    assert script.index(f"chmod 0400 {path}") < script.index(f"chown {user} {path}")  # chmod needs ownership
    assert {"sourceVolume": "secrets", "containerPath": "/run/secrets", "readOnly": True} in boxes["unreal-turn"][
        "mountPoints"
    ]


# -- 4. + 5. off-hours and desired counts ----------------------------------------------------------------


def test_scheduled_pool_scales_its_services_to_zero_off_hours(run: Runner, tmp_path: Path) -> None:
    pools = {**ONE_GPU_POOLS, "gpu": {**ONE_GPU_POOLS["gpu"], "targets": {"aws": {"schedule": {}}}}}
    result = run_blueprint(run, tmp_path, pools=pools, services={"a": HALF, "api": API})
    down, up = one(result, SCHEDULED_ACTION, "a-scale-down").inputs, one(result, SCHEDULED_ACTION, "a-scale-up").inputs
    assert down["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 0}
    assert up["scalableTargetAction"] == {"minCapacity": 1, "maxCapacity": 1}
    assert down["schedule"] == "cron(0 20 ? * MON-FRI *)"  # Unix 1-5 is Monday-Friday; AWS numbers from Sunday
    assert down["serviceNamespace"] == "ecs"
    assert down["scalableDimension"] == "ecs:service:DesiredCount"
    assert not [r for r in result.of_type(SCHEDULED_ACTION) if r.name.startswith("api-")]  # Fargate pool


def test_unix_cron_becomes_application_auto_scaling_cron() -> None:
    assert app_autoscaling_cron("0 7 * * 1-5") == "cron(0 7 ? * MON-FRI *)"
    assert app_autoscaling_cron("0 7 * * 0,6") == "cron(0 7 ? * SUN,SAT *)"
    assert app_autoscaling_cron("30 6 1 * *") == "cron(30 6 1 * ? *)"


def test_both_day_fields_in_a_schedule_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="not both"):
        AwsPoolSettings(schedule={"scale_down": "0 20 1 * 1-5"})  # pyright: ignore[reportArgumentType]


def test_scaled_services_leave_desired_count_to_application_auto_scaling(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ignored: dict[str, list[str]] = {}
    original = RecordingMonitor.RegisterResource

    def spy(self: RecordingMonitor, request: Any) -> Any:
        ignored[request.name] = list(request.ignoreChanges)
        return original(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", spy)
    scaled = {**API, "autoscale": {"min": 2, "max": 4}}
    run_blueprint(run, tmp_path, services={"scaled": scaled, "fixed": API})
    assert "desiredCount" in ignored["scaled-service"]
    assert "desiredCount" not in ignored["fixed-service"]


# -- 6. exec and Fargate Spot ---------------------------------------------------------------------------


def test_exec_is_off_for_read_only_tasks_and_on_for_writable_ones(run: Runner, tmp_path: Path) -> None:
    """The SSM agent ECS Exec injects writes to the root filesystem: readonlyRootFilesystem breaks it."""
    aws = {**STAGING_AWS, "writable_root": ["legacy"]}
    result = run_blueprint(run, tmp_path, environment="staging", aws=aws, services={"api": API, "legacy": API})
    assert ecs_service(result, "api").inputs["enableExecuteCommand"] is False
    assert ecs_service(result, "legacy").inputs["enableExecuteCommand"] is True
    assert not [r for r in result.of_type(ROLE_POLICY) if r.name == "api-exec-policy"]
    one(result, ROLE_POLICY, "legacy-exec-policy")


def test_arm64_tasks_never_ask_for_fargate_spot(run: Runner, tmp_path: Path) -> None:
    """FARGATE_SPOT runs X86_64 tasks only."""
    pools = {"general": {"cpu": 16, "memory": "64Gi", "architecture": "arm64"}}
    work = {**API, "architectures": ["arm64"]}
    result = run_blueprint(run, tmp_path, environment="staging", aws=STAGING_AWS, pools=pools, services={"a": work})
    providers = [s["capacityProvider"] for s in ecs_service(result, "a").inputs["capacityProviderStrategies"]]
    assert providers == ["FARGATE"]


# -- 7. instance types ---------------------------------------------------------------------------------


def test_instance_type_typo_names_the_nearest_types(
    run: Runner, tmp_path: Path, monitors: list[RecordingMonitor]
) -> None:
    pools = {**POOLS, "gpu": {**POOLS["gpu"], "targets": {"aws": {"instance_type": "g5.2xlarg"}}}}
    message = failing(run, tmp_path, monitors, pools=pools, services={"a": HALF})
    assert "pools.gpu.targets.aws" in message
    assert "instance_type" in message
    assert "g5.2xlarg" in message
    assert "g5.2xlarge" in message


@pytest.mark.parametrize(
    "name",
    [
        "g4dn.xlarge",
        "g5.48xlarge",
        "g6.xlarge",
        "g6e.12xlarge",
        "p4d.24xlarge",
        "p5.48xlarge",
        "m5.large",
        "m7g.medium",
        "c7i.4xlarge",
        "r7g.2xlarge",
        "t3.small",
    ],
)
def test_known_instance_types_pass(name: str) -> None:
    assert AwsPoolSettings(instance_type=name).instance_type == name


# -- 8. derived names ------------------------------------------------------------------------------------


def test_service_connect_name_over_64_characters_is_rejected(
    run: Runner, tmp_path: Path, monitors: list[RecordingMonitor]
) -> None:
    fleet = {
        "api": {**API, "route": {"path": "/k/"}},
        "tools": {"t" * 32: {"image": "ghcr.io/example/tools:1.2.0", "port": 50061}},
    }
    message = failing(run, tmp_path, monitors, grpc_tool_fleets={"f" * 32: fleet})
    assert f"grpc_tool_fleets.{'f' * 32}.tools.{'t' * 32}" in message
    assert "64" in message


# -- IAM -------------------------------------------------------------------------------------------------


def test_ecr_pulls_are_scoped_to_the_images_repository(run: Runner, tmp_path: Path) -> None:
    image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/team/api@sha256:" + "a" * 64
    result = run_blueprint(run, tmp_path, services={"api": {**API, "image": image}, "other": API})
    document = policy_document(result, "api-execution-policy")
    assert statement(document, "PullImages")["Resource"] == ["arn:aws:ecr:us-east-1:111122223333:repository/team/api"]
    assert statement(document, "EcrToken")["Action"] == "ecr:GetAuthorizationToken"
    other = policy_document(result, "other-execution-policy")
    assert not [s for s in other["Statement"] if str(s["Action"]).startswith("ecr:") or "ecr:" in json.dumps(s)]
