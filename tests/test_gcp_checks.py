"""The GCP target's checks: Cloud Run's size rules, where a workload runs, and each bad value named before any
resource is registered.

Expected sizes come from Cloud Run's documented rules (docs.cloud.google.com/run/docs/configuring/services/
memory-limits and .../cpu: memory above 4/8/16/24 GiB needs 2/4/6/8 vCPU, 4 vCPU needs 2 GiB, 6 and 8 need
4 GiB, at most 8 vCPU / 32 GiB; a GPU instance at least 4 vCPU / 16 GiB) worked by hand, and machine types
from Compute Engine's published E2 and G2 shapes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from preview import runner
from preview.mocks import RecordingMonitor
from stacks.loader import load_stack
from targets.gcp import fit
from tests.conftest import stack_config, write_blueprint

STACK = "gcp-prod"
GIB = 1024
API: dict[str, Any] = {
    "image": "ghcr.io/example/api:1.0.0",
    "ports": [{"name": "http", "container_port": 8000}],
    "requests": {"cpu": 0.25, "memory": "256Mi"},
    "route": {"path": "/"},
}
POOLS: dict[str, Any] = {
    "general": {"cpu": 16, "memory": "64Gi"},
    "gpu": {"cpu": 8, "memory": "32Gi", "gpus": 1},
}


def config(tmp_path: Path, gcp: dict[str, Any] | None = None, **sections: Any) -> dict[str, Any]:
    path = write_blueprint(tmp_path, {"name": "unit", "pools": POOLS, **sections})
    settings = {"project": "unit-project-1", **(gcp or {})}
    return stack_config(STACK, blueprint=path, gcp=settings)


def failing(cfg: dict[str, Any], monitors: list[RecordingMonitor]) -> str:
    """Run expecting a config error before any registration; return its message."""
    with pytest.raises(pulumi.RunError) as caught:
        runner.run_program(STACK, cfg)
    (monitor,) = monitors
    assert monitor.recorded == [], [r.name for r in monitor.recorded]
    message = str(caught.value)
    assert "Traceback" not in message
    return message


# -- Cloud Run sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpu", "memory", "gpu", "expected"),
    [
        (0.5, 256, 0, (1, 512)),  # whole vCPU, the 512 MiB gen2 minimum
        (1, 5 * GIB, 0, (2, 5 * GIB)),  # more than 4 GiB needs 2 vCPU
        (1, 9 * GIB, 0, (4, 9 * GIB)),  # more than 8 GiB needs 4
        (1, 17 * GIB, 0, (6, 17 * GIB)),  # more than 16 GiB needs 6
        (1, 25 * GIB, 0, (8, 25 * GIB)),  # more than 24 GiB needs 8
        (3, 1 * GIB, 0, (4, 2 * GIB)),  # 3 rounds to 4 vCPU, which needs 2 GiB
        (5, 1 * GIB, 0, (6, 4 * GIB)),  # 6 vCPU needs 4 GiB
        (8, 32 * GIB, 0, (8, 32 * GIB)),  # the largest instance
        (2, 4 * GIB, 1, (4, 16 * GIB)),  # a GPU instance: 4 vCPU, 16 GiB at least
        (2, 4 * GIB, 0.5, (4, 16 * GIB)),  # a fraction still takes the whole L4's instance
        (9, 1 * GIB, 0, None),  # above 8 vCPU
        (1, 33 * GIB, 0, None),  # above 32 GiB
    ],
)
def test_cloud_run_size(cpu: float, memory: int, gpu: float, expected: tuple[int, int] | None) -> None:
    assert fit.cloud_run_size(cpu, memory, gpu) == expected


@pytest.mark.parametrize(
    ("cpu", "memory", "gpu", "expected"),
    [
        (0.5, 256, 0, "e2-standard-2"),
        (2, 7 * GIB, 0, "e2-standard-2"),  # 7 GiB + 1 GiB for the OS fits 8 GiB
        (2, 7 * GIB + 512, 0, "e2-standard-4"),
        (1, 4 * GIB, 0.5, "g2-standard-4"),  # one L4, 4 vCPU, 16 GiB
        (6, 20 * GIB, 1, "g2-standard-8"),
        (2, 6 * GIB, 2, "g2-standard-24"),  # the smallest G2 with two L4s
        (40, 1 * GIB, 0, None),  # beyond the largest E2 kept here
    ],
)
def test_machine_for(cpu: float, memory: int, gpu: float, expected: str | None) -> None:
    assert fit.machine_for(cpu, memory, gpu) == expected


@pytest.mark.parametrize(
    ("shape", "reasons"),
    [
        (fit.Shape((("tcp", "http"),), "http", (), 0), []),
        (fit.Shape((("tcp", "grpc"),), "grpc", (), 1), []),
        (fit.Shape((("tcp", "websocket"),), "tcp", (), 0), []),
        (fit.Shape((("tcp", "tcp"),), "command", (), 0), ["not HTTP", "command health"]),
        (fit.Shape((("tcp", "http"), ("tcp", "http")), "http", (), 0), ["2 ports"]),
        (fit.Shape((("udp", "udp"),), None, (), 0), ["not HTTP"]),
        (fit.Shape((("tcp", "http"),), "http", ("data",), 0), ["single-writer volume(s) data"]),
        (fit.Shape((("tcp", "http"),), "http", (), 2), ["2 GPUs"]),
    ],
)
def test_vm_reasons(shape: fit.Shape, reasons: list[str]) -> None:
    found = fit.vm_reasons(shape)
    assert len(found) == len(reasons)
    for reason, expected in zip(found, reasons, strict=True):
        assert expected in reason


# -- bad input, before any resource ---------------------------------------------------------------


def test_harness_sees_registrations(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    """Positive control: a valid config through the same helper registers resources."""
    runner.run_program(STACK, config(tmp_path, services={"api": API}))
    assert monitors[0].recorded


def test_idle_timeout_over_an_hour_is_rejected(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    gateway = {
        "service": {
            **API,
            "route": None,
            "ports": [{"name": "ws", "container_port": 8765, "app_protocol": "websocket"}],
        },
        "idle_timeout_s": 4000,
    }
    gateway["service"].pop("route")
    message = failing(config(tmp_path, websocket_gateways={"ws": gateway}), monitors)
    assert "websocket_gateways.ws.idle_timeout_s" in message
    assert "4000" in message
    assert "1-3600" in message


def test_oversize_cloud_run_workload_is_rejected(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    big = {**API, "requests": {"cpu": 10, "memory": "8Gi"}}
    message = failing(config(tmp_path, services={"api": big}), monitors)
    assert "services.api.limits" in message
    assert "8 vCPU and 32 GiB" in message


def test_gpu_outside_the_l4_regions_is_rejected(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    gpu = {**API, "requests": {"cpu": 2, "memory": "4Gi", "gpu": 1}, "pool": "gpu"}
    message = failing(config(tmp_path, gcp={"region": "us-west2"}, services={"api": gpu}), monitors)
    assert "gpu-platform:gcp.region" in message
    assert "'us-west2'" in message
    assert "us-central1" in message


def test_replicated_vm_workload_is_rejected(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    redis = {
        "image": "redis:7.4.5-alpine",
        "ports": [{"name": "redis", "container_port": 6379, "app_protocol": "tcp"}],
        "health": {"kind": "tcp"},
        "replicas": 2,
    }
    message = failing(config(tmp_path, services={"api": API, "cache": redis}), monitors)
    assert "services.cache.replicas" in message
    assert "Compute Engine VM" in message
    assert "not HTTP" in message


def test_pixel_streaming_needs_its_signalling_on_a_vm(monitors: list[RecordingMonitor]) -> None:
    """The streamer speaks ws://host:port without an ID token: the signalling server must be a VM, by name."""
    cfg = stack_config(STACK, blueprint="bem", gcp={"project": "unit-project-1"})
    message = failing(cfg, monitors)
    assert "gpu-platform:gcp.vm_workloads" in message
    assert "list unreal-signalling" in message
    assert "Google ID token" in message


def test_unknown_vm_workload_is_rejected(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    message = failing(config(tmp_path, gcp={"vm_workloads": ["apl"]}, services={"api": API}), monitors)
    assert "gpu-platform:gcp.vm_workloads[0]" in message
    assert "'apl'" in message
    assert "api" in message


def test_listed_workload_runs_on_a_vm(tmp_path: Path) -> None:
    spec = load_stack(STACK, config(tmp_path, gcp={"vm_workloads": ["api"]}, services={"api": API}))
    messages = {c.path: c.message for c in spec.caveats}
    assert "listed in gpu-platform:gcp.vm_workloads" in messages["services.api"]


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({}, "gpu-platform:gcp.project"),  # required
        ({"project": "Bad_Project"}, "gpu-platform:gcp.project"),
        ({"project": "unit-project-1", "subnet_cidr": "10.60.0.0/27"}, "gpu-platform:gcp.subnet_cidr"),  # < /26
        ({"project": "unit-project-1", "subnet_cidr": "8.8.8.0/24"}, "gpu-platform:gcp.subnet_cidr"),  # public
        ({"project": "unit-project-1", "kms_key": "my-key"}, "gpu-platform:gcp.kms_key"),
    ],
)
def test_bad_settings_are_rejected(
    tmp_path: Path, monitors: list[RecordingMonitor], settings: dict[str, Any], key: str
) -> None:
    path = write_blueprint(tmp_path, {"name": "unit", "pools": POOLS, "services": {"api": API}})
    message = failing(stack_config(STACK, blueprint=path, gcp=settings), monitors)
    assert key in message


def test_prod_without_a_domain_is_rejected(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    cfg = config(tmp_path, services={"api": API})
    del cfg["gpu-platform:domain"]
    message = failing(cfg, monitors)
    assert "gpu-platform:domain" in message
    assert "Google-managed certificate" in message


def test_caveats_name_the_vm_reason_and_the_raised_size(tmp_path: Path) -> None:
    redis = {
        "image": "redis:7.4.5-alpine",
        "ports": [{"name": "redis", "container_port": 6379, "app_protocol": "tcp"}],
        "health": {"kind": "command", "command": ["redis-cli", "ping"]},
    }
    gpu = {**API, "requests": {"cpu": 1, "memory": "2Gi", "gpu": 0.5}, "pool": "gpu", "route": {"path": "/gpu/"}}
    worker = {**API, "route": None}
    worker.pop("route")
    api = {**API, "uses": ["worker"]}
    spec = load_stack(STACK, config(tmp_path, services={"worker": worker, "api": api, "cache": redis, "infer": gpu}))
    messages = {c.path: c.message for c in spec.caveats}
    assert "run.app host on port 443 over HTTPS" in messages["services.worker"]
    assert "services.api" not in messages  # nothing uses it: no peer to warn
    assert "Compute Engine VM" in messages["services.cache"]
    assert "command health check" in messages["services.cache"]
    assert "whole NVIDIA L4" in messages["services.infer.requests.gpu"]
    assert "4 vCPU and 16384 MiB" in messages["services.infer.limits"]
    # Cloud Run takes no user: every Cloud Run workload says the blueprint's user is the image's to declare,
    # a VM workload (docker run --user) does not.
    assert "image's own USER" in messages["services.api.user"]
    assert "services.cache.user" not in messages


@pytest.mark.parametrize("percent", [95, 91])
def test_cpu_target_outside_cloud_runs_range_is_rejected(
    tmp_path: Path, monitors: list[RecordingMonitor], percent: int
) -> None:
    api = {**API, "autoscale": {"min": 1, "max": 3, "cpu_percent": percent}}
    message = failing(config(tmp_path, services={"api": api}), monitors)
    assert "services.api.autoscale.cpu_percent" in message
    assert str(percent) in message
    assert "10-90" in message


def test_cloud_run_scales_at_the_blueprints_cpu_target(tmp_path: Path) -> None:
    api = {**API, "autoscale": {"min": 2, "max": 5, "cpu_percent": 65}}
    fixed = {**API, "replicas": 2, "route": {"path": "/fixed/"}}
    result = runner.run_program(STACK, config(tmp_path, services={"api": api, "fixed": fixed}))
    services = {r.name: r for r in result.of_type("gcp:cloudrunv2/service:Service")}
    assert services["api"].inputs["template"]["scaling"] == {
        "minInstanceCount": 2,
        "maxInstanceCount": 5,
        "cpuUtilization": 0.65,
    }
    assert "cpuUtilization" not in services["fixed"].inputs["template"]["scaling"]  # no autoscaler asked


def test_an_unrouted_vm_workloads_http_check_is_reported_unprobed(tmp_path: Path) -> None:
    """Only a load-balancer backend's health check probes a VM: an unrouted VM workload with an HTTP check warns,
    a routed one and a command check (Docker's own, on the VM) do not."""
    volume = {"data": {"path": "/data", "size": "10Gi"}}  # single-writer: a VM workload
    hidden = {**API, "volumes": volume, "health": {"kind": "http", "path": "/ready"}}
    hidden.pop("route")
    shown = {**API, "volumes": volume, "health": {"kind": "http", "path": "/ready"}, "route": {"path": "/shown/"}}
    command = {**hidden, "health": {"kind": "command", "command": ["true"]}}
    spec = load_stack(STACK, config(tmp_path, services={"hidden": hidden, "shown": shown, "command": command}))
    messages = {c.path: c.message for c in spec.caveats}
    assert "nothing probes its http health check" in messages["services.hidden.health"]
    assert "services.shown.health" not in messages
    assert "services.command.health" not in messages
