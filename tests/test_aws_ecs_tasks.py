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
from targets.aws.gpu_sharing import PoolReservation, gpu_requirement, problem
from targets.aws.services import _execution_policy  # pyright: ignore[reportPrivateUsage]
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
from tests.tokens import AWS_APPAUTOSCALING_SCHEDULED_ACTION, AWS_APPAUTOSCALING_TARGET

SCHEDULED_ACTION = AWS_APPAUTOSCALING_SCHEDULED_ACTION
SCALING_TARGET = AWS_APPAUTOSCALING_TARGET
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


def test_a_fractional_gpu_reserves_one_whole_gpu_without_mps(run: Runner, tmp_path: Path) -> None:
    """pulumi-aws (terraform-provider-aws) cannot pass ECS's sharingStrategy union through container
    definitions: a fraction below 1 reserves ONE whole GPU (value "1"), never an MPS share."""
    pools = {**ONE_GPU_POOLS, "gpu": {**ONE_GPU_POOLS["gpu"], "targets": {"aws": {"max_size": 2}}}}
    result = run_blueprint(run, tmp_path, pools=pools, services={"a": HALF, "b": HALF})
    for name in "ab":
        assert container(result, name)["resourceRequirements"] == [{"type": "GPU", "value": "1"}], name
    warned = [w for w in result.warnings if "reserves a whole GPU on ECS (0.5 asked)" in w]
    assert sorted(w.split(":", 1)[0] for w in warned) == ["services.a.requests.gpu", "services.b.requests.gpu"]
    assert all("MPS sharing cannot pass through pulumi-aws" in w for w in warned)


@pytest.mark.parametrize(("gpu", "value"), [(0.004, "1"), (0.5, "1"), (0.99, "1"), (1, "1"), (2.0, "2")])
def test_every_gpu_requirement_is_a_whole_number_of_gpus(gpu: float, value: str) -> None:
    assert gpu_requirement(gpu) == {"type": "GPU", "value": value}
    assert gpu_requirement(0) is None


QUARTER: dict[str, Any] = {**HALF, "requests": {"cpu": 1, "memory": "2Gi", "gpu": 0.25}}


def test_whole_gpus_beyond_the_pools_instances_times_max_size_are_rejected(
    run: Runner, tmp_path: Path, monitors: list[RecordingMonitor]
) -> None:
    """Three 0.25 requests fit one GPU on paper but reserve three whole GPUs on ECS; 1 GPU per instance x
    max_size 2 offers two."""
    pools = {**ONE_GPU_POOLS, "gpu": {**ONE_GPU_POOLS["gpu"], "targets": {"aws": {"max_size": 2}}}}
    message = failing(run, tmp_path, monitors, pools=pools, services=dict.fromkeys("abc", QUARTER))
    assert "pools.gpu.gpus" in message
    assert "ECS would reserve 3 whole GPUs" in message
    assert "max_size 2 = 2" in message


def test_max_size_gives_room_for_more_whole_gpus(run: Runner, tmp_path: Path) -> None:
    pools = {**ONE_GPU_POOLS, "gpu": {**ONE_GPU_POOLS["gpu"], "targets": {"aws": {"max_size": 3}}}}
    result = run_blueprint(run, tmp_path, pools=pools, services=dict.fromkeys("abc", QUARTER))
    assert all(container(result, n)["resourceRequirements"] == [{"type": "GPU", "value": "1"}] for n in "abc")


def test_what_ecs_cannot_reserve_is_named() -> None:
    """A task runs on one instance (max_size adds instances, not GPUs per task); 1.5 GPUs has no ECS form.
    Placement rejects both first on today's blueprints; the ECS check does not rely on it."""
    assert "a task runs on one instance" in (problem(2, 1) or "")
    assert "ask for 1 or 2" in (problem(1.5, 4) or "")
    assert problem(0.5, 1) is None
    assert problem(4, 4) is None


def test_pool_reservation_counts_whole_gpus_against_instances_times_max_size() -> None:
    reservation = PoolReservation(gpus_per_instance=1, max_size=2)
    reservation.add("services.a", 1, 2)
    reservation.add("services.b", 0.5, 3)
    summary = reservation.summary()
    assert (summary["whole_gpus"], summary["fractional_workloads"], summary["capacity_gpus"]) == (5, 1, 2)


def test_pools_report_shows_the_whole_gpus_ecs_reserves() -> None:
    spec = load_stack("prod", stack_config("prod"))
    reservation = spec.placement.usage["gpu"].reservation
    assert reservation is not None
    assert spec.placement.usage["gpu"].summary()["reservation"] == reservation
    # The reference blueprint: two 0.5-GPU workloads on a 1-GPU pool with max_size 2.
    assert reservation["whole_gpus"] == 2
    assert reservation["fractional_workloads"] == 2
    assert reservation["capacity_gpus"] == 2


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


def test_off_hours_schedules_survive_a_refresh(run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduled actions rewrite the scalable target's and the group's min/max: Pulumi must not undo them."""
    ignored: dict[str, list[str]] = {}
    original = RecordingMonitor.RegisterResource

    def spy(self: RecordingMonitor, request: Any) -> Any:
        ignored[request.name] = list(request.ignoreChanges)
        return original(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", spy)
    scheduled = {**ONE_GPU_POOLS, "gpu": {**ONE_GPU_POOLS["gpu"], "targets": {"aws": {"schedule": {}}}}}
    run_blueprint(run, tmp_path, pools=scheduled, services={"a": HALF})
    assert {"minCapacity", "maxCapacity"} <= set(ignored["a-scaling"])
    assert {"desiredCapacity", "minSize", "maxSize"} <= set(ignored["gpu-asg"])

    ignored.clear()
    (tmp_path / "plain").mkdir()
    run_blueprint(run, tmp_path / "plain", services={"a": {**HALF, "autoscale": {"min": 1, "max": 2}}})
    assert not {"minCapacity", "maxCapacity"} & set(ignored["a-scaling"])  # no schedule: Pulumi owns the bounds
    assert ignored["gpu-asg"] == ["desiredCapacity"]


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


# -- review minors: schedules, arm64 GPU instances, secret ARNs ------------------------------------------


def test_a_schedule_names_a_known_time_zone() -> None:
    assert AwsPoolSettings(schedule={"timezone": "Europe/Berlin"}).schedule is not None  # pyright: ignore[reportArgumentType]
    with pytest.raises(ValueError, match="not a known IANA time zone"):
        AwsPoolSettings(schedule={"timezone": "Not/AZone"})  # pyright: ignore[reportArgumentType]


@pytest.mark.parametrize(("dow", "match"), [("*/2", "step"), ("5-7", "wraps"), ("1-7", "wraps"), ("5-1", "wraps")])
def test_day_of_week_forms_without_a_faithful_translation_are_rejected(dow: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AwsPoolSettings(schedule={"scale_down": f"0 20 * * {dow}"})  # pyright: ignore[reportArgumentType]
    assert AwsPoolSettings(schedule={"scale_down": "0 20 * * 5,6,0"}).schedule is not None  # pyright: ignore[reportArgumentType]


def test_arm64_gpu_instances_are_rejected_for_gpu_pools(
    run: Runner, tmp_path: Path, monitors: list[RecordingMonitor]
) -> None:
    """The ECS GPU-optimized AMI is x86_64 only: a g5g cannot boot it."""
    pools = {**ONE_GPU_POOLS, "gpu": {**ONE_GPU_POOLS["gpu"], "targets": {"aws": {"instance_type": "g5g.xlarge"}}}}
    message = failing(run, tmp_path, monitors, pools=pools, services={"a": HALF})
    assert "pools.gpu.targets.aws.instance_type" in message
    assert "x86_64" in message


def test_execution_policy_names_the_secret_not_its_key_stage_or_version() -> None:
    arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:gpu-platform/prod/x-AbCdEf"
    refs = [f"{arn}:password::v1", f"{arn}:username::", f"{arn}:host:AWSCURRENT:", f"{arn}::AWSPREVIOUS:"]
    document = _execution_policy("arn:aws:logs:eu-central-1:123456789012:log-group:g", "key", refs, [])
    (read,) = [s for s in document["Statement"] if s["Sid"] == "ReadOwnSecrets"]
    assert read["Resource"] == [arn]
