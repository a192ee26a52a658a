"""The Azure cost hook: Container Apps at min and max, a GPU app, an HA Flexible Server, the real azure-prod stack.

Expected figures are computed here by hand from the list prices in targets/azure/prices.yaml (swedencentral):
Consumption vCPU $0.000024/s active and $0.000003/s idle, memory $0.000003/GiB-s, Standard_D2ds_v5 $0.178/h,
Flexible Server storage $0.115/GB-month. A 730-hour month has 2,628,000 seconds.
"""

from __future__ import annotations

import contextlib
import io
from decimal import Decimal
from typing import Any

from preview.__main__ import main
from preview.cost.estimate import context_for, estimate
from preview.cost.model import CostContext, CostLine
from preview.cost.usage import Usage
from stacks.loader import load_stack
from targets.azure import cost as azure_cost
from targets.azure.settings import AzureSettings
from tests.conftest import shipped, stack_config
from tests.kit import recorded
from tests.test_cost_aws import only

SECONDS = Decimal(730 * 3600)
ACTIVE_VCPU, IDLE_VCPU, GIB = Decimal("0.000024"), Decimal("0.000003"), Decimal("0.000003")
ENVIRONMENT = "azure-native:app:ManagedEnvironment"
APP = "azure-native:app:ContainerApp"
SERVER = "azure-native:dbforpostgresql:Server"
PROFILES = [
    {"name": "Consumption", "workloadProfileType": "Consumption"},
    {"name": "gpu", "workloadProfileType": "Consumption-GPU-NC8as-T4"},
    {"name": "big", "workloadProfileType": "D4", "minimumCount": 1, "maximumCount": 3},
]


def price(resources: list[Any], location: str = "swedencentral", usage: Usage | None = None) -> list[CostLine]:
    everything = [recorded(ENVIRONMENT, "apps-environment", {"workloadProfiles": PROFILES}), *resources]
    context = CostContext(
        target_settings=AzureSettings(location=location),
        pool_settings={},
        pools={},
        usage=usage or Usage(),
        resources=everything,
    )
    return azure_cost.cost(resources, context)


def container_app(name: str, profile: str, cpu: float, memory: str, low: int, high: int, gpu: int = 0) -> Any:
    resources: dict[str, Any] = {"cpu": cpu, "memory": memory}
    if gpu:
        resources["gpu"] = gpu
    template = {
        "containers": [{"name": name, "resources": resources}],
        "scale": {"minReplicas": low, "maxReplicas": high},
    }
    return recorded(APP, name, {"workloadProfileName": profile, "template": template})


def test_a_consumption_app_at_min_and_max() -> None:
    """0.5 vCPU / 1 GiB, 1-3 replicas: one replica idle all month at min, three busy at max."""
    lines = price([container_app("api", "Consumption", 0.5, "1Gi", 1, 3)])
    idle, active = only(lines, "minimum replicas idle"), only(lines, "active replicas")
    memory = only(lines, "Memory")
    assert (idle.monthly, idle.monthly_max) == (Decimal("0.5") * SECONDS * IDLE_VCPU, 0)  # 3.942
    assert (active.monthly, active.monthly_max) == (0, 3 * Decimal("0.5") * SECONDS * ACTIVE_VCPU)  # 94.608
    assert (memory.monthly, memory.monthly_max) == (SECONDS * GIB, 3 * SECONDS * GIB)  # 7.884, 23.652
    total = sum((line.monthly for line in lines), Decimal(0))
    total_max = sum((line.monthly_max for line in lines), Decimal(0))
    assert (total, total_max) == (Decimal("3.942") + Decimal("7.884") + Decimal("0.40"), Decimal("118.66"))
    assert only(lines, "Requests").usage


def test_a_serverless_gpu_app_bills_active_rates_and_shows_its_gpu_seconds_unpriced() -> None:
    """2 vCPU / 8 GiB + one T4, 1-2 replicas: no idle rate with a GPU; the T4's price is not in the table."""
    lines = price([container_app("streamer", "gpu", 2, "8Gi", 1, 2, gpu=1)])
    vcpu = only(lines, "vCPU (GPU replicas)")
    assert (vcpu.monthly, vcpu.monthly_max) == (
        2 * SECONDS * ACTIVE_VCPU,
        4 * SECONDS * ACTIVE_VCPU,
    )  # 126.144, 252.288
    memory = only(lines, "Memory (GPU replicas)")
    assert memory.monthly == 8 * SECONDS * GIB  # 63.072
    gpu = only(lines, "Serverless GPU (T4)")
    assert gpu.unpriced
    assert "T4" in gpu.unpriced
    assert gpu.monthly == 0
    assert not any("idle" in line.name for line in lines)


def test_apps_on_a_dedicated_profile_cost_their_nodes_on_the_environment() -> None:
    """D4 (4 vCPU / 16 GiB a node), 1-3 nodes, plus the Dedicated plan's management fee of $0.10/h."""
    app = container_app("batch", "big", 1, "2Gi", 1, 5)
    assert price([app]) == []
    environment = recorded(ENVIRONMENT, "apps-environment", {"workloadProfiles": PROFILES})
    lines = price([environment])
    assert only(lines, "management").monthly == Decimal(730) * Decimal("0.10")
    vcpu = only(lines, "D4), vCPU")
    assert (vcpu.monthly, vcpu.monthly_max) == (730 * 4 * Decimal("0.057077"), 730 * 12 * Decimal("0.057077"))
    memory = only(lines, "D4), memory")
    assert memory.monthly_max == 730 * 48 * Decimal("0.004978")


def server(name: str, ha: bool, **extra: Any) -> Any:
    inputs = {
        "sku": {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"},
        "storage": {"storageSizeGB": 64},
        "highAvailability": {"mode": "ZoneRedundant" if ha else "Disabled"},
        "backup": {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"},
        **extra,
    }
    return recorded(SERVER, name, inputs)


def test_a_zone_redundant_server_bills_its_standby_and_a_replica_is_a_server_of_its_own() -> None:
    primary = server("db", ha=True)
    replica = server("db-replica", ha=False, createMode="Replica", highAvailability=None, backup=None)
    lines = price([primary, replica])
    compute = only([line for line in lines if line.resource == "db"], "Compute")
    assert compute.monthly == 2 * 730 * Decimal("0.178")  # 259.88
    storage = only([line for line in lines if line.resource == "db"], "Storage")
    assert storage.monthly == 2 * 64 * Decimal("0.115")  # 14.72
    backups = only(lines, "Backup storage")
    assert backups.monthly == 0
    assert "default" in backups.assumption
    replica_lines = [line for line in lines if line.resource == "db-replica"]
    assert only(replica_lines, "Compute").monthly == 730 * Decimal("0.178")
    assert not any("Backup" in line.name for line in replica_lines)


def test_backups_beyond_the_free_allowance_come_from_the_usage_file() -> None:
    usage = Usage(by_resource={"db": {"backup_storage_gb": 100}}, source="usage.yml")
    (backups,) = [line for line in price([server("db", ha=False)], usage=usage) if "Backup" in line.name]
    assert backups.quantity == 36
    assert backups.monthly == 36 * Decimal("0.095")


def test_geo_redundant_backups_beyond_the_allowance_are_unpriced_and_within_it_free() -> None:
    geo = server("db", ha=False, backup={"backupRetentionDays": 35, "geoRedundantBackup": "Enabled"})
    (within,) = [line for line in price([geo]) if "Backup" in line.name]
    assert within.monthly == 0
    assert not within.unpriced
    usage = Usage(by_resource={"db": {"backup_storage_gb": 200}}, source="usage.yml")
    (beyond,) = [line for line in price([geo], usage=usage) if "Backup" in line.name]
    assert "geo-redundant backup rate is not in targets/azure/prices.yaml" in beyond.unpriced


def test_a_region_without_rows_is_unpriced_with_the_reason() -> None:
    (line, *_) = price([container_app("api", "Consumption", 0.5, "1Gi", 1, 1)], location="westeurope")
    assert line.unpriced == "no price row for it in targets/azure/prices.yaml (westeurope)"


def test_the_real_program_prices_every_billable_azure_type() -> None:
    """azure-prod: every app, server, edge, NAT, TURN piece priced or listed unpriced with a reason."""
    config = stack_config("azure-prod")
    spec = load_stack("azure-prod", config)
    result = shipped("azure-prod")
    lines = estimate("azure-prod", result.resources, context_for(spec, result.resources, Usage())).lines
    covered = {line.resource for line in lines}
    for token in set(azure_cost.PRICERS) - {ENVIRONMENT}:
        for resource in result.of_type(token):
            assert resource.name in covered, (token, resource.name)
    # Consumption and serverless GPU profiles only: the environment itself bills nothing.
    assert not [line for line in lines if line.type == ENVIRONMENT]
    assert all(line.source or line.unpriced for line in lines if line.type.startswith("azure-native:"))
    streamer = [line for line in lines if line.resource == "unreal-streamer"]
    assert only(streamer, "Serverless GPU").unpriced
    assert only(streamer, "vCPU").pool == "gpu"


def test_cost_on_azure_prod_exits_zero() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["azure-prod", "--cost"]) == 0
    assert "Front Door Premium base fee" in out.getvalue()
    assert "Not priced" in out.getvalue()
