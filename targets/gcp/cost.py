"""The GCP target's ``cost`` hook: monthly cost lines for what the program registered, from ``prices.yaml``.

SDK-free (it reads recorded inputs, never pulumi_gcp). Each billable type has one small pricing function in
:data:`PRICERS`; a type missing from it is free (service accounts, IAM members, firewall rules, routes, URL
maps, proxies, certificates, serverless NEGs, health checks, the Private Service Access peering, and external
addresses in use by a forwarding rule or the NAT gateway, whose hours the NAT line carries). What decides a
quantity (docs/cost.md has the table):

- Cloud Run v2 (run/pricing, run/docs/configuring/billing-settings): the container's cpu/memory limits and the
  template's min/max instances. ``cpuIdle: false`` (instance-based billing, which a GPU requires) bills every
  instance for its whole life: min instances 24/7 in the min column, max instances in the max column.
  ``cpuIdle: true`` (request-based billing) bills only while requests run: the min column is the minimum
  instances idle all month (the idle-instance rate), the max column every maximum instance busy all month,
  plus requests from the usage file. An L4 is billed per second of the instance's life, at the zonal
  redundancy rate unless the template disables it.
- Compute Engine: the machine type's hourly price (a G2 type's price includes its L4s), the boot disk and
  each attached disk by type and size.
- Cloud SQL: the ``db-custom-<vCPU>-<MiB>`` tier's vCPU and memory hours, storage by disk type and size;
  ``availabilityType: REGIONAL`` (HA) bills all three twice; a read replica is an instance of its own;
  backups from the usage file (default: one disk's worth).
- Forwarding rules: per scope (global, or a region) the first five rules share one hourly fee and each
  further rule has its own; the first rule of a scope also carries its load balancer's data processed and
  internet egress (usage file).
- Cloud NAT: the per-VM hourly rate for the stack's VMs (capped at 32), one auto-allocated address, data
  processed (usage). Cloud Armor: the policy, its rules, requests (usage). Secret Manager: one active version
  per secret (the program writes one) per location, access operations (usage). Cloud Logging: ingestion
  (usage) for each workload and each logged backend service; the subnet's VPC Flow Logs at the vended-log rate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preview.cost.model import HOURS_PER_MONTH, CostContext, CostLine
from preview.cost.prices import load_table
from preview.cost.rates import Rates

if TYPE_CHECKING:
    from preview.mocks import Recorded

TABLE = Path(__file__).resolve().parent / "prices.yaml"
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
FIRST_RULES = 5  # forwarding rules one scope's flat fee covers
NAT_VM_CAP = 32  # VMs beyond this cost the gateway's maximum hourly rate
CUSTOM_TIER = re.compile(r"^db-custom-(\d+)-(\d+)$")
_MIB_PER_GIB = Decimal(1024)

RUN = "gcp:cloudrunv2/service:Service"
INSTANCE = "gcp:compute/instance:Instance"
GLOBAL_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
REGIONAL_RULE = "gcp:compute/forwardingRule:ForwardingRule"

# Usage keys (Infracost-style names) and their defaults, per type token: shown as assumptions.
LOGS = {"monthly_logs_ingested_gb": Decimal(1)}
LB = {"monthly_data_processed_gb": Decimal(100), "monthly_data_transfer_out_gb": Decimal(100)}
USAGE_DEFAULTS: Mapping[str, Mapping[str, Decimal]] = {
    RUN: {**LOGS, "monthly_requests_millions": Decimal(1)},
    INSTANCE: LOGS,
    "gcp:compute/backendService:BackendService": LOGS,
    "gcp:compute/regionBackendService:RegionBackendService": LOGS,
    "gcp:compute/subnetwork:Subnetwork": LOGS,
    GLOBAL_RULE: LB,
    REGIONAL_RULE: LB,
    "gcp:compute/routerNat:RouterNat": {"monthly_data_processed_gb": Decimal(50)},
    "gcp:compute/securityPolicy:SecurityPolicy": {"monthly_requests_millions": Decimal(1)},
    "gcp:secretmanager/secret:Secret": {"monthly_access_operations": Decimal(10_000)},
    "gcp:storage/bucket:Bucket": {"storage_gb": Decimal(5)},
    "gcp:sql/databaseInstance:DatabaseInstance": {},  # backup_storage_gb: the disk size, see _sql_backups
}


def cost(resources: Sequence[Recorded], context: CostContext) -> list[CostLine]:
    """The hook (``TargetPlugin.cost``): every billable recorded resource's lines, in registration order."""
    if not resources:
        return []
    table = load_table(TABLE)
    region = str(getattr(context.target_settings, "region", "")) or table.default_region
    rates = Rates(table, region, context, USAGE_DEFAULTS)
    scopes = _rule_positions(resources)
    lines: list[CostLine] = []
    for resource in resources:
        if resource.type in (GLOBAL_RULE, REGIONAL_RULE):
            lines += _forwarding_rule(resource, scopes[resource.urn], rates)
        elif resource.type in PRICERS:
            lines += PRICERS[resource.type](resource, rates)
    return lines


def _logs(resource: Recorded, rates: Rates) -> CostLine:
    return rates.from_usage(
        resource, "Log ingestion (Cloud Logging)", "GiB", "logging_ingested_gb", "monthly_logs_ingested_gb"
    )


# --- Cloud Run ---------------------------------------------------------------------------------------------


def quantity_of_cpu(text: Any) -> Decimal:
    """A Kubernetes-style CPU quantity ("1", "2", "1000m") in vCPU."""
    value = str(text)
    return Decimal(value[:-1]) / 1000 if value.endswith("m") else Decimal(value)


def quantity_of_memory(text: Any) -> Decimal:
    """A memory limit ("512Mi", "4Gi", "1G") in GiB."""
    value = str(text)
    for suffix, per_gib in (
        ("Gi", Decimal(1)),
        ("Mi", _MIB_PER_GIB),
        ("G", Decimal("1.073741824")),
        ("M", Decimal("1073.741824")),
    ):
        if value.endswith(suffix):
            return Decimal(value[: -len(suffix)]) / per_gib
    return Decimal(value) / (_MIB_PER_GIB**3)


@dataclass(frozen=True)
class RunSize:
    """What one Cloud Run service bills by: its instance size, instance range and billing setting."""

    vcpu: Decimal
    gib: Decimal
    low: int
    high: int
    instance_billing: bool  # cpuIdle false: CPU always allocated, billed for the instance's whole life
    gpus: int
    zonal_redundancy: bool

    @classmethod
    def of(cls, service: Recorded) -> RunSize:
        template = service.inputs.get("template") or {}
        container = (template.get("containers") or [{}])[0]
        resources = container.get("resources") or {}
        limits = resources.get("limits") or {}
        scaling = template.get("scaling") or {}
        # The API's default: CPU only during requests when ``resources`` is unset, else what cpuIdle says
        # (terraform-provider-google google_cloud_run_v2_service, cpu_idle).
        idle = bool(resources.get("cpuIdle", not resources))
        return cls(
            vcpu=quantity_of_cpu(limits.get("cpu", "1")),
            gib=quantity_of_memory(limits.get("memory", "512Mi")),
            low=int(scaling.get("minInstanceCount", 0) or 0),
            high=int(scaling.get("maxInstanceCount", 100) or 100),
            instance_billing=not idle,
            gpus=int(limits.get("nvidia.com/gpu", 0) or 0),
            zonal_redundancy=not template.get("gpuZonalRedundancyDisabled", False),
        )

    def describe(self) -> str:
        billing = "instance-based billing (CPU always allocated)" if self.instance_billing else "request-based billing"
        return f"{self.vcpu:g} vCPU / {self.gib:g} GiB per instance; {self.low}-{self.high} instances; {billing}"


def _cloud_run(service: Recorded, rates: Rates) -> list[CostLine]:
    size = RunSize.of(service)
    lines = (
        _run_instance_based(service, size, rates) if size.instance_billing else _run_request_based(service, size, rates)
    )
    if size.gpus:
        redundancy = "zonal_redundancy" if size.zonal_redundancy else "no_zonal_redundancy"
        seconds = SECONDS_PER_MONTH * size.gpus
        lines.append(
            rates.rate_line(
                service,
                f"NVIDIA L4 GPU ({redundancy.replace('_', ' ')})",
                "GPU-seconds",
                f"run_l4_second_{redundancy}",
                size.low * seconds,
                quantity_max=size.high * seconds,
                assumption=f"{size.gpus} L4 per instance, billed for the instance's whole life; {size.describe()}",
            )
        )
    lines.append(_logs(service, rates))
    return lines


def _run_instance_based(service: Recorded, size: RunSize, rates: Rates) -> list[CostLine]:
    """Every instance billed all month: min instances in the min column, max instances in the max column."""
    note = f"{size.describe()}; each instance billed 24/7"
    return [
        rates.rate_line(
            service,
            f"{what} (instance-based billing)",
            unit,
            rate,
            size.low * per * SECONDS_PER_MONTH,
            quantity_max=size.high * per * SECONDS_PER_MONTH,
            assumption=note,
        )
        for what, unit, rate, per in (
            ("CPU", "vCPU-seconds", "run_instance_vcpu_second", size.vcpu),
            ("Memory", "GiB-seconds", "run_instance_gib_second", size.gib),
        )
    ]


def _run_request_based(service: Recorded, size: RunSize, rates: Rates) -> list[CostLine]:
    """Min column: the minimum instances idle all month; max column: every maximum instance busy all month."""
    lines = []
    for what, unit, per, kind in (
        ("CPU", "vCPU-seconds", size.vcpu, "vcpu"),
        ("Memory", "GiB-seconds", size.gib, "gib"),
    ):
        lines.append(
            rates.rate_line(
                service,
                f"{what}, idle minimum instances (request-based billing)",
                unit,
                f"run_idle_{kind}_second",
                size.low * per * SECONDS_PER_MONTH,
                quantity_max=Decimal(0),
                assumption=f"{size.describe()}; min column: {size.low} instance(s) kept warm with no traffic",
            )
        )
        lines.append(
            rates.rate_line(
                service,
                f"{what}, busy instances (request-based billing)",
                unit,
                f"run_request_{kind}_second",
                Decimal(0),
                quantity_max=size.high * per * SECONDS_PER_MONTH,
                assumption=f"{size.describe()}; max column: {size.high} instance(s) serving requests all month",
            )
        )
    lines.append(
        rates.from_usage(service, "Requests", "1M requests", "run_million_requests", "monthly_requests_millions")
    )
    return lines


# --- Compute Engine ------------------------------------------------------------------------------------------


def _instance(instance: Recorded, rates: Rates) -> list[CostLine]:
    machine = str(instance.inputs.get("machineType", "")).rsplit("/", 1)[-1]
    found = rates.get("instances", machine)
    accelerators = sum(int(a.get("count", 0) or 0) for a in instance.inputs.get("guestAccelerators") or [])
    included = int(found.attribute("gpus", 0)) if found else 0
    note = "one VM, always on"
    if accelerators:
        note += f"; its {accelerators} L4 GPU(s) are in the G2 machine type's price"
    lines = [
        rates.line(instance, f"Instance usage ({machine}, on-demand)", "hours", found, HOURS_PER_MONTH, assumption=note)
    ]
    if found is not None and accelerators > included:
        reason = f"{accelerators - included} GPU(s) attached beyond what {machine} includes: not in the table"
        lines.append(CostLine.missing(instance, "Attached GPUs", reason, pool=rates.context.pool_of(instance)))
    boot = (instance.inputs.get("bootDisk") or {}).get("initializeParams") or {}
    if boot.get("size"):
        kind = str(boot.get("type", "pd-standard")).rsplit("/", 1)[-1]
        lines.append(
            rates.line(
                instance, f"Boot disk ({kind})", "GiB-months", rates.get("disks", kind), Decimal(int(boot["size"]))
            )
        )
    lines.append(_logs(instance, rates))
    return lines


def _disk(disk: Recorded, rates: Rates) -> list[CostLine]:
    kind = str(disk.inputs.get("type", "pd-standard")).rsplit("/", 1)[-1]
    size = Decimal(int(disk.inputs.get("size", 0) or 0))
    return [rates.line(disk, f"Persistent disk ({kind})", "GiB-months", rates.get("disks", kind), size)]


# --- Cloud SQL -------------------------------------------------------------------------------------------


def _sql(instance: Recorded, rates: Rates) -> list[CostLine]:
    settings = instance.inputs.get("settings") or {}
    tier = str(settings.get("tier", ""))
    high_availability = settings.get("availabilityType") == "REGIONAL"
    copies = Decimal(2) if high_availability else Decimal(1)
    role = "read replica" if instance.inputs.get("masterInstanceName") else "primary"
    deployment = "HA (REGIONAL): primary and standby, billed twice" if high_availability else "single zone"
    lines = _sql_compute(instance, tier, copies, f"{role}; {deployment}", rates)
    kind = str(settings.get("diskType", "PD_SSD"))
    size = Decimal(int(settings.get("diskSize", 10) or 10))
    grows = (
        "; storage grows automatically (disk_autoresize): priced at its starting size"
        if settings.get("diskAutoresize")
        else ""
    )
    lines.append(
        rates.line(
            instance,
            f"Storage ({kind}, {'HA' if high_availability else 'single zone'})",
            "GB-months",
            rates.get("disks", kind),
            size * copies,
            assumption=f"{size} GB{' x 2 (HA)' if high_availability else ''}{grows}",
        )
    )
    backups = settings.get("backupConfiguration") or {}
    if backups.get("enabled"):
        stored, how = rates.usage(instance, "backup_storage_gb", default=size)
        lines.append(
            rates.rate_line(
                instance, "Backup storage", "GB-months", "sql_backup_gb_month", stored, assumption=how, usage=True
            )
        )
    return lines


def _sql_compute(instance: Recorded, tier: str, copies: Decimal, note: str, rates: Rates) -> list[CostLine]:
    match = CUSTOM_TIER.match(tier)
    if match is None:
        reason = f"tier {tier!r}: only db-custom-<vCPU>-<MiB> tiers are priced (targets/gcp/prices.yaml)"
        return [CostLine.missing(instance, "Instance (vCPU and memory)", reason, pool=rates.context.pool_of(instance))]
    vcpu, memory_gb = Decimal(match[1]), Decimal(match[2]) / _MIB_PER_GIB
    hours = HOURS_PER_MONTH * copies
    return [
        rates.rate_line(
            instance, f"vCPU ({tier})", "vCPU-hours", "sql_vcpu_hour", vcpu * hours, assumption=f"{vcpu} vCPU; {note}"
        ),
        rates.rate_line(
            instance,
            f"Memory ({tier})",
            "GB-hours",
            "sql_memory_gb_hour",
            memory_gb * hours,
            assumption=f"{memory_gb:g} GB; {note}",
        ),
    ]


# --- load balancing, NAT, Armor ----------------------------------------------------------------------------


def _rule_positions(resources: Sequence[Recorded]) -> dict[str, tuple[str, int]]:
    """Each forwarding rule's (scope, position in its scope): the first five of a scope share one fee."""
    seen: dict[str, int] = {}
    positions = {}
    # The HTTPS rule first: it carries the balancer's data lines (port 80 only redirects).
    for resource in sorted(resources, key=lambda r: str(r.inputs.get("portRange", "")) != "443"):
        if resource.type == GLOBAL_RULE:
            scope = "global"
        elif resource.type == REGIONAL_RULE:
            scope = str(resource.inputs.get("region", "")) or "regional"
        else:
            continue
        seen[scope] = seen.get(scope, 0) + 1
        positions[resource.urn] = (scope, seen[scope])
    return positions


def _forwarding_rule(rule: Recorded, position: tuple[str, int], rates: Rates) -> list[CostLine]:
    scope, number = position
    if number == 1:
        fee = rates.rate_line(
            rule,
            "Forwarding rules (first five)",
            "hours",
            "lb_first_five_rules_hour",
            HOURS_PER_MONTH,
            assumption=f"one fee for the first {FIRST_RULES} forwarding rules of scope {scope}",
        )
    elif number <= FIRST_RULES:
        fee = rates.rate_line(
            rule,
            "Forwarding rule",
            "hours",
            "lb_first_five_rules_hour",
            Decimal(0),
            assumption=f"rule {number} of scope {scope}: covered by the first rule's fee",
        )
    else:
        fee = rates.rate_line(
            rule,
            "Forwarding rule (beyond five)",
            "hours",
            "lb_extra_rule_hour",
            HOURS_PER_MONTH,
            assumption=f"rule {number} of scope {scope}",
        )
    if number != 1:
        return [fee]
    return [
        fee,
        rates.from_usage(
            rule, "Data processed by the load balancer", "GiB", "lb_data_processed_gb", "monthly_data_processed_gb"
        ),
        rates.from_usage(
            rule, "Internet egress (Premium Tier)", "GiB", "internet_egress_gb", "monthly_data_transfer_out_gb"
        ),
    ]


def _nat(gateway: Recorded, rates: Rates) -> list[CostLine]:
    vms = len(rates.of_type(INSTANCE))
    if vms > NAT_VM_CAP:
        gateway_line = rates.rate_line(
            gateway, "NAT gateway", "hours", "nat_gateway_max_hour", HOURS_PER_MONTH, assumption=f"{vms} VMs (> 32)"
        )
    else:
        gateway_line = rates.rate_line(
            gateway,
            "NAT gateway (per VM using it)",
            "VM-hours",
            "nat_vm_hour",
            HOURS_PER_MONTH * vms,
            assumption=f"the stack's {vms} VM(s); Cloud Run instances on Direct VPC egress are not counted",
        )
    addresses = len(gateway.inputs.get("natIps") or []) or 1
    return [
        gateway_line,
        rates.rate_line(
            gateway,
            "NAT external IP addresses",
            "hours",
            "nat_ip_hour",
            HOURS_PER_MONTH * addresses,
            assumption=f"{addresses} address(es) (AUTO_ONLY allocates one, more under load)",
        ),
        rates.from_usage(gateway, "Data processed", "GiB", "nat_data_processed_gb", "monthly_data_processed_gb"),
    ]


def _armor(policy: Recorded, rates: Rates) -> list[CostLine]:
    rules = Decimal(len(policy.inputs.get("rules") or []))
    return [
        rates.rate_line(policy, "Security policy (Cloud Armor Standard)", "months", "armor_policy_month", Decimal(1)),
        rates.rate_line(
            policy,
            "Rules",
            "rule-months",
            "armor_rule_month",
            rules,
            assumption=f"{rules} rules (the default rule counts)",
        ),
        rates.from_usage(policy, "Requests", "1M requests", "armor_million_requests", "monthly_requests_millions"),
    ]


# --- secrets, storage ----------------------------------------------------------------------------------------


def _secret(secret: Recorded, rates: Rates) -> list[CostLine]:
    replication = secret.inputs.get("replication") or {}
    replicas = ((replication.get("userManaged") or {}).get("replicas")) or []
    locations = max(1, len(replicas))
    where = "automatic replication: billed as one location" if not replicas else f"{locations} user-managed location(s)"
    return [
        rates.rate_line(
            secret,
            "Active secret versions",
            "version-months",
            "secret_version_month",
            Decimal(locations),
            assumption=f"one version (the program writes one); {where}",
        ),
        rates.from_usage(
            secret,
            "Access operations",
            "10K operations",
            "secret_10k_accesses",
            "monthly_access_operations",
            Decimal(10_000),
        ),
    ]


def _bucket(bucket: Recorded, rates: Rates) -> list[CostLine]:
    location = str(bucket.inputs.get("location", "")).lower()
    if location != rates.region:
        reason = f"location {location!r}: only regional buckets in the stack's region are priced"
        return [CostLine.missing(bucket, "Storage (Standard)", reason, pool=rates.context.pool_of(bucket))]
    return [
        rates.from_usage(bucket, "Storage (Standard, regional)", "GB-months", "storage_standard_gb_month", "storage_gb")
    ]


def _logged(resource: Recorded, rates: Rates) -> list[CostLine]:
    """Request logs of a backend service: only where logging is on."""
    config = resource.inputs.get("logConfig") or {}
    return [_logs(resource, rates)] if config.get("enable") else []


def _flow_logs(subnet: Recorded, rates: Rates) -> list[CostLine]:
    """VPC Flow Logs are vended network logs: their own rate, no free allotment (stackdriver/pricing)."""
    if not subnet.inputs.get("logConfig"):
        return []
    return [
        rates.from_usage(
            subnet, "VPC Flow Logs (vended network logs)", "GiB", "logging_vended_gb", "monthly_logs_ingested_gb"
        )
    ]


PRICERS: Mapping[str, Callable[[Recorded, Rates], list[CostLine]]] = {
    RUN: _cloud_run,
    INSTANCE: _instance,
    "gcp:compute/disk:Disk": _disk,
    "gcp:sql/databaseInstance:DatabaseInstance": _sql,
    "gcp:compute/routerNat:RouterNat": _nat,
    "gcp:compute/securityPolicy:SecurityPolicy": _armor,
    "gcp:secretmanager/secret:Secret": _secret,
    "gcp:storage/bucket:Bucket": _bucket,
    "gcp:compute/backendService:BackendService": _logged,
    "gcp:compute/regionBackendService:RegionBackendService": _logged,
    "gcp:compute/subnetwork:Subnetwork": _flow_logs,
}
# Every GCP type the target registers that is billable: priced above (rules through _forwarding_rule).
BILLABLE = frozenset({*PRICERS, GLOBAL_RULE, REGIONAL_RULE})
