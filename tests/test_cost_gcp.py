"""The GCP cost hook on small hand-built resources, and on the shipped gcp-prod stack.

Every expected figure is computed here by hand from Google's list prices for us-central1 as the table
records them (Cloud Run Tier 1: $0.000018/vCPU-s and $0.000002/GiB-s instance-based, $0.000024/vCPU-s
and $0.0000025/GiB-s busy and $0.0000025 idle request-based, L4 $0.0002333/s with zonal redundancy;
Cloud SQL Enterprise $0.0413/vCPU-h, $0.007/GB-h, SSD $0.17/GB-month, backups $0.08/GB-month;
g2-standard-4 $0.7068/h; pd-balanced $0.10/GiB-month) and a 730-hour month (2,628,000 seconds), not read
back from the code. A refresh that changes one of those prices fails these tests on purpose.
"""

from __future__ import annotations

import contextlib
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from preview.__main__ import main
from preview.cost.estimate import context_for, estimate
from preview.cost.model import CostContext, CostLine
from preview.cost.usage import Usage, load_usage
from preview.mocks import Recorded
from stacks.loader import load_stack
from targets.gcp import cost as gcp_cost
from targets.gcp.settings import GcpSettings
from tests import tokens
from tests.conftest import shipped
from tests.kit import recorded
from tests.test_cost_aws import only

SECONDS = Decimal(730 * 3600)
HOURS = Decimal(730)

# What gcp-prod registers that Google does not bill, and why (the test fails when a new type appears).
FREE = {
    tokens.GCP_SERVICEACCOUNT_ACCOUNT: "IAM",
    tokens.GCP_CLOUDRUNV2_SERVICE_IAM_MEMBER: "IAM",
    tokens.GCP_SECRETMANAGER_SECRET_IAM_MEMBER: "IAM",
    "gcp:storage/bucketIAMMember:BucketIAMMember": "IAM",
    tokens.GCP_SECRETMANAGER_SECRET_VERSION: "billed on its secret (one active version each)",
    "gcp:sql/database:Database": "billed with its instance",
    tokens.GCP_SQL_USER: "billed with its instance",
    tokens.GCP_COMPUTE_FIREWALL: "no charge",
    tokens.GCP_COMPUTE_GLOBAL_ADDRESS: "in use by a forwarding rule, or the PSA range: no charge",
    tokens.GCP_COMPUTE_URL_MAP: "part of the load balancer (forwarding rules)",
    tokens.GCP_COMPUTE_TARGET_HTTP_PROXY: "part of the load balancer",
    tokens.GCP_COMPUTE_TARGET_HTTPS_PROXY: "part of the load balancer",
    tokens.GCP_COMPUTE_MANAGED_SSL_CERTIFICATE: "Google-managed certificates: no charge",
    tokens.GCP_COMPUTE_SSL_POLICY: "no charge",
    tokens.GCP_COMPUTE_REGION_NETWORK_ENDPOINT_GROUP: "no charge",
    "gcp:compute/network:Network": "no charge",
    "gcp:compute/router:Router": "Cloud Router without BGP sessions: no charge",
    tokens.GCP_SERVICENETWORKING_CONNECTION: "no charge",
}


def price(resources: list[Recorded], region: str = "us-central1", usage: Usage | None = None) -> list[CostLine]:
    context = CostContext(
        target_settings=GcpSettings(project="example-project", region=region),
        pool_settings={},
        pools={},
        usage=usage or Usage(),
        resources=resources,
    )
    return gcp_cost.cost(resources, context)


def cloud_run(cpu: str, memory: str, low: int, high: int, idle: bool, **template: Any) -> Recorded:
    limits = {"cpu": cpu, "memory": memory}
    if template.pop("gpu", False):
        limits["nvidia.com/gpu"] = "1"
    resources = {"limits": limits, "cpuIdle": idle, "startupCpuBoost": True}
    return recorded(
        tokens.GCP_CLOUDRUNV2_SERVICE,
        "api",
        {
            "template": {
                "containers": [{"resources": resources}],
                "scaling": {"minInstanceCount": low, "maxInstanceCount": high},
                **template,
            }
        },
    )


def test_a_gpu_service_is_billed_per_instance_at_min_and_max() -> None:
    """4 vCPU / 16 GiB / one L4, CPU always allocated (a GPU requires it), 1 to 3 instances all month."""
    lines = price([cloud_run("4", "16Gi", 1, 3, idle=False, gpu=True)])
    cpu, memory, gpu = only(lines, "CPU"), only(lines, "Memory"), only(lines, "L4")
    assert (cpu.monthly, cpu.monthly_max) == (Decimal("189.216"), Decimal("567.648"))  # 4 x 2,628,000 x 0.000018
    assert (memory.monthly, memory.monthly_max) == (Decimal("84.096"), Decimal("252.288"))  # 16 x ... x 0.000002
    assert (gpu.monthly, gpu.monthly_max) == (Decimal("613.1124"), Decimal("1839.3372"))  # 2,628,000 x 0.0002333
    assert "zonal redundancy" in gpu.name
    assert "instance-based" in cpu.name


def test_a_gpu_service_without_zonal_redundancy_is_cheaper() -> None:
    lines = price([cloud_run("4", "16Gi", 1, 1, idle=False, gpu=True, gpuZonalRedundancyDisabled=True)])
    assert only(lines, "L4").monthly == Decimal("490.6476")  # 2,628,000 x 0.0001867


def test_a_request_billed_service_costs_its_idle_minimum_and_at_most_every_instance_busy() -> None:
    """1 vCPU / 512 MiB, 1 to 4 instances: min = one warm idle instance, max = four busy all month."""
    lines = price([cloud_run("1", "512Mi", 1, 4, idle=True)])
    idle_cpu, busy_cpu = only(lines, "CPU, idle"), only(lines, "CPU, busy")
    idle_memory, busy_memory = only(lines, "Memory, idle"), only(lines, "Memory, busy")
    assert (idle_cpu.monthly, idle_cpu.monthly_max) == (Decimal("6.57"), 0)  # 2,628,000 x 0.0000025
    assert (busy_cpu.monthly, busy_cpu.monthly_max) == (0, Decimal("252.288"))  # 4 x 2,628,000 x 0.000024
    assert (idle_memory.monthly, idle_memory.monthly_max) == (Decimal("3.285"), 0)  # 0.5 GiB
    assert (busy_memory.monthly, busy_memory.monthly_max) == (0, Decimal("13.14"))  # 4 x 0.5 x ... x 0.0000025
    requests = only(lines, "Requests")
    assert requests.monthly == Decimal("0.40")
    assert requests.usage
    assert "default" in requests.assumption


def test_a_high_availability_database_bills_twice_and_its_backups_once() -> None:
    """db-custom-2-7680 (2 vCPU, 7.5 GB) REGIONAL, 50 GB SSD, backups on."""
    database = recorded(
        tokens.GCP_SQL_DATABASE_INSTANCE,
        "db",
        {
            "settings": {
                "tier": "db-custom-2-7680",
                "availabilityType": "REGIONAL",
                "diskType": "PD_SSD",
                "diskSize": 50,
                "backupConfiguration": {"enabled": True},
            }
        },
    )
    lines = price([database])
    assert only(lines, "vCPU").monthly == Decimal("120.5960")  # 2 x 730 x 2 x 0.0413
    assert only(lines, "Memory").monthly == Decimal("76.650")  # 7.5 x 730 x 2 x 0.007
    assert only(lines, "Storage").monthly == Decimal("17.00")  # 50 x 2 x 0.17
    assert only(lines, "Backup").monthly == Decimal("4.00")  # 50 x 0.08, not doubled
    assert sum(line.monthly for line in lines) == Decimal("218.2460")


def test_a_read_replica_is_a_single_zone_instance_of_its_own() -> None:
    replica = recorded(
        tokens.GCP_SQL_DATABASE_INSTANCE,
        "db-replica-1",
        {
            "masterInstanceName": "db",
            "settings": {"tier": "db-custom-2-7680", "availabilityType": "ZONAL", "diskSize": 50},
        },
    )
    lines = price([replica])
    assert only(lines, "vCPU").monthly == Decimal("60.2980")  # 2 x 730 x 0.0413
    assert not [line for line in lines if "Backup" in line.name]


def test_a_shared_core_tier_is_unpriced_with_the_reason() -> None:
    database = recorded(tokens.GCP_SQL_DATABASE_INSTANCE, "db", {"settings": {"tier": "db-f1-micro"}})
    (instance,) = [line for line in price([database]) if line.unpriced]
    assert "db-f1-micro" in instance.unpriced


def test_an_l4_vm_is_its_g2_machine_type_and_its_disk() -> None:
    """g2-standard-4 with its one L4: the GPU is in the machine type's price, not a line of its own."""
    vm = recorded(
        tokens.GCP_COMPUTE_INSTANCE,
        "streamer",
        {
            "machineType": "g2-standard-4",
            "guestAccelerators": [{"type": "nvidia-l4", "count": 1}],
            "bootDisk": {"initializeParams": {"size": 50, "type": "pd-balanced"}},
        },
    )
    lines = price([vm])
    assert only(lines, "Instance usage").monthly == Decimal("515.9640")  # 0.7068 x 730
    assert only(lines, "Boot disk").monthly == Decimal("5.00")  # 50 x 0.10
    assert not [line for line in lines if line.unpriced]


def test_five_forwarding_rules_share_one_fee_and_the_sixth_pays_its_own() -> None:
    rules = [recorded(tokens.GCP_COMPUTE_GLOBAL_FORWARDING_RULE, f"rule-{i}", {}) for i in range(6)]
    fees = [line for line in price(rules) if "Forwarding rule" in line.name]
    assert sum(line.monthly for line in fees) == Decimal("18.250") + Decimal("7.30")  # 0.025 x 730 + 0.01 x 730


def test_the_https_rule_carries_the_balancers_data_from_the_usage_file(tmp_path: Path) -> None:
    """Port 80 only redirects: the 443 rule carries data processed and egress, whatever the order."""
    http = recorded(tokens.GCP_COMPUTE_GLOBAL_FORWARDING_RULE, "edge-80", {"portRange": "80"})
    https = recorded(tokens.GCP_COMPUTE_GLOBAL_FORWARDING_RULE, "edge-443", {"portRange": "443"})
    path = tmp_path / "usage.yml"
    path.write_text("version: 0.1\nresource_usage:\n  edge-443:\n    monthly_data_transfer_out_gb: 1000\n")
    lines = price([http, https], usage=load_usage(path))
    egress = only(lines, "Internet egress")
    assert egress.resource == "edge-443"
    assert egress.monthly == Decimal("120.00")  # 1000 GiB x 0.12
    assert str(path) in egress.assumption
    assert only(lines, "Data processed").monthly == Decimal("0.800")  # the 100 GiB default x 0.008


def test_flow_logs_are_vended_network_logs_and_unlogged_backends_cost_nothing() -> None:
    subnet = recorded(tokens.GCP_COMPUTE_SUBNETWORK, "private", {"logConfig": {"flowSampling": 0.5}})
    quiet = recorded(tokens.GCP_COMPUTE_BACKEND_SERVICE, "api-backend", {"logConfig": {"enable": False}})
    logged = recorded(tokens.GCP_COMPUTE_BACKEND_SERVICE, "web-backend", {"logConfig": {"enable": True}})
    lines = price([subnet, quiet, logged])
    assert only(lines, "VPC Flow Logs").monthly == Decimal("0.25")  # 1 GiB default x $0.25 (vended)
    assert only(lines, "Log ingestion").resource == "web-backend"  # 1 GiB x $0.50; api-backend has no line
    assert only(lines, "Log ingestion").monthly == Decimal("0.50")


def test_nat_counts_the_stacks_vms() -> None:
    vms = [recorded(tokens.GCP_COMPUTE_INSTANCE, f"vm-{i}", {"machineType": "e2-standard-2"}) for i in range(3)]
    nat = recorded(tokens.GCP_COMPUTE_ROUTER_NAT, "nat", {})
    lines = [line for line in price([*vms, nat]) if line.resource == "nat"]
    assert only(lines, "NAT gateway").monthly == Decimal("3.0660")  # 0.0014 x 3 x 730
    assert only(lines, "Data processed").monthly == Decimal("2.250")  # 50 GiB default x 0.045


def test_a_region_without_rows_is_unpriced_with_the_reason() -> None:
    lines = price([cloud_run("1", "512Mi", 0, 1, idle=True)], region="europe-west4")
    assert lines
    assert all(line.unpriced for line in lines)
    assert "europe-west4" in lines[0].unpriced


def test_gcp_prod_prices_every_billable_type_it_registers() -> None:
    """Pulumi.gcp-prod.yaml (paissive-income): each GCP resource is priced, or free for a stated reason."""
    from preview.runner import read_stack_config

    config, _ = read_stack_config("gcp-prod")
    spec = load_stack("gcp-prod", config)
    result = shipped("gcp-prod")
    found = estimate("gcp-prod", result.resources, context_for(spec, result.resources, Usage()))
    gcp = [r for r in result.resources if r.custom and r.type.startswith("gcp:")]
    unknown = {r.type for r in gcp} - set(FREE) - gcp_cost.BILLABLE
    assert not unknown, f"decide whether these are billable: {sorted(unknown)}"
    priced = {line.resource for line in found.lines if line.type.startswith("gcp:")}
    billable = {r.name for r in gcp if r.type in gcp_cost.BILLABLE}
    # Every billable resource has a line, but only the first forwarding rule of a scope carries the fee and
    # a backend service only when it logs.
    assert billable - priced <= {r.name for r in gcp if r.type.endswith("ForwardingRule") or "ackend" in r.type}
    assert not found.unpriced, [(line.resource, line.unpriced) for line in found.unpriced]
    database = only([line for line in found.lines if line.resource == "paissive-db"], "vCPU")
    assert "HA (REGIONAL)" in database.assumption  # the prod profile's high availability reaches the estimate
    assert found.total > 0


def test_cost_on_gcp_prod_exits_zero() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["gcp-prod", "--cost"]) == 0
    assert "targets/gcp/prices.yaml" in out.getvalue()
    assert "Not priced" not in out.getvalue()
