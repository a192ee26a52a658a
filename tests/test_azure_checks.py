"""What the Azure target refuses or warns about before any resource.

- Replica sizes per workload profile: Consumption gives a replica at most 4 vCPU / 8 GiB, in 0.25 vCPU steps with
  twice the GiB; dedicated and GPU profiles up to their node size (workload-profiles-overview).
- GPUs: a GPU workload needs a GPU profile; serverless GPU profiles give one GPU per replica and exist in
  westus3, australiaeast and swedencentral; dedicated A100 profiles in westus3 and northeurope.
- Flexible Server: Burstable has neither read replicas nor zone-redundant HA (the prod profile asks both).
- WebSockets: the Container Apps ingress cuts connections idle for 240 s, so the application must ping faster.
- Container App names: 2-32 characters.

Expected values come from those documented limits and the inputs each test writes, not from the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from preview import runner
from preview.mocks import RecordingMonitor
from stacks.errors import ConfigError
from stacks.loader import StackSpec, load_stack
from targets.azure.settings import consumption_size
from tests.conftest import ROOT, stack_config, write_blueprint
from tests.preview_probe import preview_main

STACK = "azure-prod"
# The shipped stack's subscription and action group (prod alerts need one), under each test's own settings.
SHIPPED = {
    k: v
    for k, v in yaml.safe_load((ROOT / f"Pulumi.{STACK}.yaml").read_text())["config"]["gpu-platform:azure"].items()
    if k in ("subscription_id", "action_group_id")
}
API: dict[str, Any] = {
    "image": "ghcr.io/example/api:1.0.0",
    "ports": [{"name": "http", "container_port": 8000}],
    "requests": {"cpu": 0.25, "memory": "256Mi"},
}
POOLS: dict[str, Any] = {"general": {"cpu": 16, "memory": "64Gi"}, "gpu": {"cpu": 8, "memory": "56Gi", "gpus": 1}}


def config(
    tmp_path: Path, environment: str = "prod", azure: dict[str, Any] | None = None, **sections: Any
) -> dict[str, Any]:
    """The azure-prod stack with this blueprint, environment and target settings."""
    pools = sections.pop("pools", POOLS)
    path = write_blueprint(tmp_path, {"name": "unit", "pools": pools, **sections})
    settings = {**SHIPPED, **(azure or {})}
    return stack_config(STACK, blueprint=path, environment=environment, azure=settings)


def problems(cfg: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_stack(STACK, cfg)
    return [p.render() for p in caught.value.problems]


def loads(cfg: dict[str, Any]) -> StackSpec:
    return load_stack(STACK, cfg)


def gpu_service(**extra: Any) -> dict[str, Any]:
    return {**API, "requests": {"cpu": 2, "memory": "8Gi", "gpu": 1}, "pool": "gpu", **extra}


# -- the Consumption ladder -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpu", "memory_mib", "expected"),
    [
        (0.1, 64, (0.25, 0.5)),  # the smallest pair
        (0.5, 512, (0.5, 1.0)),  # memory follows cpu
        (0.5, 4096, (2.0, 4.0)),  # cpu follows memory: 4 GiB needs 2 vCPU
        (1.0, 1024, (1.0, 2.0)),
        (4.0, 8192, (4.0, 8.0)),  # the largest pair
    ],
)
def test_consumption_size_is_the_smallest_valid_pair(
    cpu: float, memory_mib: int, expected: tuple[float, float]
) -> None:
    assert consumption_size(cpu, memory_mib) == expected


def test_a_replica_larger_than_consumption_is_refused(tmp_path: Path) -> None:
    api = {**API, "requests": {"cpu": 4.5, "memory": "4Gi"}}
    (found,) = problems(config(tmp_path, services={"api": api}))
    assert found.startswith("services.api.requests: '4.5 cpu, 4096 MiB' is not allowed")
    assert "at most 4 vCPU and 8 GiB" in found
    assert "D4-D32" in found


def test_the_same_replica_fits_a_dedicated_profile(tmp_path: Path) -> None:
    api = {**API, "requests": {"cpu": 4.5, "memory": "4Gi"}}
    pools = {"general": {"cpu": 16, "memory": "64Gi", "targets": {"azure": {"workload_profile": "D8"}}}}
    assert loads(config(tmp_path, pools=pools, services={"api": api})).blueprint.services["api"]


def test_gpu_work_on_a_cpu_profile_is_refused(tmp_path: Path) -> None:
    pools = {**POOLS, "gpu": {**POOLS["gpu"], "targets": {"azure": {"workload_profile": "Consumption"}}}}
    (found,) = problems(config(tmp_path, pools=pools, services={"trainer": gpu_service()}))
    assert found.startswith("services.trainer.pool: 'gpu' is not allowed")
    assert "Consumption-GPU-NC8as-T4" in found


def test_two_gpus_per_replica_need_a_larger_a100_profile(tmp_path: Path) -> None:
    trainer = gpu_service(requests={"cpu": 2, "memory": "8Gi", "gpu": 2})
    pools = {**POOLS, "gpu": {**POOLS["gpu"], "gpus": 2}}
    (found,) = problems(config(tmp_path, pools=pools, services={"trainer": trainer}))
    assert found.startswith("services.trainer.requests.gpu: '2' is not allowed")
    assert "at most 1 GPU" in found
    assert "NC48-A100" in found


def test_serverless_gpus_outside_their_regions_are_refused(tmp_path: Path) -> None:
    (found,) = problems(config(tmp_path, azure={"location": "eastus"}, services={"trainer": gpu_service()}))
    assert found.startswith("gpu-platform:azure.location: 'eastus' is not allowed")
    assert "australiaeast, swedencentral, westus3" in found


def test_dedicated_a100_profiles_have_their_own_regions(tmp_path: Path) -> None:
    pools = {**POOLS, "gpu": {**POOLS["gpu"], "targets": {"azure": {"workload_profile": "NC24-A100"}}}}
    (found,) = problems(config(tmp_path, pools=pools, services={"trainer": gpu_service()}))
    assert "'swedencentral' is not allowed" in found
    assert "northeurope, westus3" in found
    assert loads(config(tmp_path, azure={"location": "northeurope"}, pools=pools, services={"trainer": gpu_service()}))


def test_dedicated_gpu_nodes_must_hold_every_replica(tmp_path: Path) -> None:
    # The blueprint's pool holds the three replicas (placement passes); the profile's nodes do not.
    gpu = {
        "cpu": 32,
        "memory": "128Gi",
        "gpus": 4,
        "targets": {"azure": {"workload_profile": "NC24-A100", "max_nodes": 2}},
    }
    pools = {**POOLS, "gpu": gpu}
    trainer = gpu_service(replicas=3)
    (found,) = problems(config(tmp_path, azure={"location": "westus3"}, pools=pools, services={"trainer": trainer}))
    # 3 replicas x 1 GPU against NC24-A100 (1 GPU per node) x 2 nodes
    assert found.startswith("pools.gpu.targets.azure.max_nodes: 2 is not allowed")
    assert "wants 3 whole GPUs" in found
    assert "offers 2" in found


def test_burstable_databases_cannot_follow_the_prod_profile(tmp_path: Path) -> None:
    database = {"db": {"version": "16", "database": "app", "username": "app", "storage": "20Gi"}}
    found = problems(config(tmp_path, azure={"postgres_sku": "Standard_B2s"}, databases=database))
    assert len(found) == 1
    assert found[0].startswith("gpu-platform:azure.postgres_sku")
    assert "zone-redundant HA and 1 read replica" in found[0]


def test_burstable_is_fine_for_dev_but_not_with_blueprint_replicas(tmp_path: Path) -> None:
    database = {"version": "16", "database": "app", "username": "app", "storage": "20Gi"}
    cfg = config(tmp_path, environment="dev", azure={"postgres_sku": "Standard_B2s"}, databases={"db": database})
    assert loads(cfg).blueprint.databases["db"]
    replicated = {"db": {**database, "read_replicas": 1}}
    (found,) = problems(config(tmp_path, "dev", {"postgres_sku": "Standard_B2s"}, databases=replicated))
    assert found.startswith("gpu-platform:azure.postgres_sku: 'Standard_B2s' is not allowed")
    assert "databases.db.read_replicas" in found


def test_websocket_pings_must_beat_the_ingress_idle_timeout(tmp_path: Path) -> None:
    gateway = {
        "service": {**API, "ports": [{"name": "ws", "container_port": 8765}]},
        "idle_timeout_s": 3600,
        "ping_interval_s": 300,
    }
    (found,) = problems(config(tmp_path, websocket_gateways={"chat": gateway}))
    assert found.startswith("websocket_gateways.chat.ping_interval_s: 300 is not allowed")
    assert "240 s" in found


def test_a_long_idle_timeout_with_fast_pings_is_a_warning(tmp_path: Path) -> None:
    gateway = {
        "service": {**API, "ports": [{"name": "ws", "container_port": 8765}]},
        "idle_timeout_s": 3600,
        "ping_interval_s": 30,
    }
    caveats = [c.render() for c in loads(config(tmp_path, websocket_gateways={"chat": gateway})).caveats]
    assert any(c.startswith("websocket_gateways.chat.idle_timeout_s:") and "30 s" in c for c in caveats)


def test_a_fractional_gpu_gets_a_whole_one_with_a_warning(tmp_path: Path) -> None:
    trainer = gpu_service(requests={"cpu": 2, "memory": "8Gi", "gpu": 0.5})
    caveats = [c.render() for c in loads(config(tmp_path, services={"trainer": trainer})).caveats]
    assert any(c.startswith("services.trainer.requests.gpu:") and "whole GPU" in c for c in caveats)


def test_derived_container_app_names_have_32_characters_at_most(tmp_path: Path) -> None:
    """The blueprint caps its own names at 32; a tool's app is named <fleet>-<tool>, which can be longer."""
    fleet = {
        "api": {**API, "route": {"path": "/"}},
        "tools": {"summariser-long": {"image": API["image"], "port": 50051}},
    }
    (found,) = problems(config(tmp_path, grpc_tool_fleets={"inference-fleet-alpha": fleet}))
    name = "inference-fleet-alpha-summariser-long"  # 37 characters
    assert found.startswith(f"grpc_tool_fleets.inference-fleet-alpha.tools.summariser-long: '{name}' is not allowed")
    assert "2-32" in found


@pytest.mark.parametrize(
    ("azure", "key"),
    [
        ({"subscription_id": None}, "gpu-platform:azure.subscription_id"),
        ({"action_group_id": None}, "gpu-platform:azure.action_group_id"),
        ({"action_group_id": "arn:aws:sns:us-east-1:123456789012:alarms"}, "gpu-platform:azure.action_group_id"),
        ({"vnet_cidr": "20.0.0.0/16"}, "gpu-platform:azure.vnet_cidr"),
        ({"vnet_cidr": "10.0.0.0/26"}, "gpu-platform:azure.vnet_cidr"),
        ({"postgres_sku": "db.t4g.medium"}, "gpu-platform:azure.postgres_sku"),
    ],
)
def test_bad_settings_name_their_key(tmp_path: Path, azure: dict[str, Any], key: str) -> None:
    found = problems(config(tmp_path, azure=azure, services={"api": API}))
    assert any(f.startswith(key) for f in found), found


def test_nothing_is_registered_before_the_error(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    api = {**API, "requests": {"cpu": 8, "memory": "4Gi"}}
    with pytest.raises(pulumi.RunError) as caught:
        runner.run_program(STACK, config(tmp_path, services={"api": api}))
    (monitor,) = monitors
    assert monitor.recorded == []
    assert "services.api.requests" in str(caught.value)


def test_cli_without_a_subscription_exits_1_naming_the_key() -> None:
    """``python -m preview dev --target azure``: Pulumi.dev.yaml has no gpu-platform:azure table."""
    done = preview_main("dev", "--target", "azure")
    assert done.returncode == 1
    assert "gpu-platform:azure.subscription_id is not set" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
