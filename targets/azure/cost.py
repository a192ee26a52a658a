"""The Azure target's ``cost`` hook: monthly cost lines for what the program registered, from ``prices.yaml``.

SDK-free (it reads recorded inputs, never pulumi_azure_native). Each billable type has one small pricing function
in :data:`PRICERS`; a type missing from it costs nothing by itself (resource groups, VNets, subnets, NSGs,
identities, role assignments, locks, diagnostic settings, Key Vault secrets, Front Door endpoints, origins, routes
and custom domains, environment storages, server configurations and databases). What decides a quantity
(docs/cost.md has the table):

- Container Apps (learn container-apps/billing): each replica bills the vCPU and GiB its containers are allocated,
  per second, from the app's workload profile (the environment's ``workloadProfiles`` name -> type).
  Consumption: the min column is ``minReplicas`` kept all month with no traffic (vCPU at the idle rate), the max
  column ``maxReplicas`` busy all month (the active rate); memory has one rate; requests from the usage file.
  Serverless GPU profiles bill vCPU and GiB at the active rate (a replica with a GPU is never idle) plus
  GPU-seconds. Apps on a dedicated profile cost nothing by themselves: the environment bills that profile's
  nodes (``minimumCount`` .. ``maximumCount``) per vCPU-hour and GiB-hour, plus one management fee.
- PostgreSQL flexible server: the SKU's hours and the provisioned storage; zone-redundant HA bills both twice
  (the standby); a read replica (``createMode: Replica``) is a server of its own; backup storage beyond the
  free 100 % of provisioned storage from the usage file.
- Front Door: the tier's base fee, requests and edge-to-client data (usage); the WAF policy is included in Premium.
- NAT gateway (hours + data), Standard public IPs (hours), Standard Load Balancer (the first five rules' fee,
  each further rule, data processed), the TURN scale set (VM size x capacity, each instance's Premium SSD OS
  disk at its size tier), private endpoints and DNS zones (hours, months), Key Vault operations and Log
  Analytics ingestion and retention (usage), metric alerts (one time series each), Premium file shares
  (provisioned GiB, LRS or ZRS from the account).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preview.cost.model import HOURS_PER_MONTH, CostContext, CostLine
from preview.cost.prices import load_table
from preview.cost.rates import Rates
from targets.azure.settings import CONSUMPTION, WORKLOAD_PROFILES

if TYPE_CHECKING:
    from preview.mocks import Recorded

TABLE = Path(__file__).resolve().parent / "prices.yaml"
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
FIRST_RULES = 5  # load-balancing rules the Standard Load Balancer's hourly fee covers
UBUNTU_OS_DISK_GIB = 30  # the Canonical Ubuntu image's OS disk when the profile sets no diskSizeGB
# Log Analytics keeps 31 days at no charge (memory; monitor pricing page); a month is 730 / 24 days.
FREE_RETENTION_DAYS = Decimal(31)
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
# Container Apps' API defaults when a template sets no scale (ContainerApp Scale: minReplicas 0, maxReplicas 10).
DEFAULT_REPLICAS = (0, 10)

APP = "azure-native:app:ContainerApp"
ENVIRONMENT = "azure-native:app:ManagedEnvironment"
SERVER = "azure-native:dbforpostgresql:Server"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"

# Usage keys (Infracost-style names) and their defaults, per type token: shown as assumptions.
USAGE_DEFAULTS: Mapping[str, Mapping[str, Decimal]] = {
    APP: {"monthly_requests_millions": Decimal(1)},
    "azure-native:cdn:Profile": {"monthly_requests_millions": Decimal(1), "monthly_data_transfer_out_gb": Decimal(100)},
    "azure-native:network:NatGateway": {"monthly_data_processed_gb": Decimal(50)},
    "azure-native:network:LoadBalancer": {"monthly_data_processed_gb": Decimal(100)},
    "azure-native:keyvault:Vault": {"monthly_operations": Decimal(10_000)},
    "azure-native:operationalinsights:Workspace": {"monthly_data_ingested_gb": Decimal(5)},
    SERVER: {},  # backup_storage_gb: the provisioned storage (all of it free), see _backups
}


def cost(resources: Sequence[Recorded], context: CostContext) -> list[CostLine]:
    """The hook (``TargetPlugin.cost``): every billable recorded resource's lines, in registration order."""
    if not resources:
        return []
    table = load_table(TABLE)
    region = str(getattr(context.target_settings, "location", "")) or table.default_region
    rates = Rates(table, region, context, USAGE_DEFAULTS)
    lines: list[CostLine] = []
    for resource in resources:
        if resource.type in PRICERS:
            lines += PRICERS[resource.type](resource, rates)
    return lines


def _months(resource: Recorded, rates: Rates, name: str, rate: str, note: str = "") -> CostLine:
    return rates.rate_line(resource, name, "months", rate, Decimal(1), assumption=note)


def _hours(resource: Recorded, rates: Rates, name: str, rate: str, count: int = 1, note: str = "") -> CostLine:
    return rates.rate_line(resource, name, "hours", rate, HOURS_PER_MONTH * count, assumption=note)


# --- Container Apps ------------------------------------------------------------------------------------------


def quantity_of_memory(text: Any) -> Decimal:
    """A Container Apps memory size ("0.5Gi", "8Gi", "512Mi") in GiB."""
    value = str(text)
    if value.endswith("Gi"):
        return Decimal(value[:-2])
    if value.endswith("Mi"):
        return Decimal(value[:-2]) / 1024
    return Decimal(value) / 1024**3


@dataclass(frozen=True)
class Replicas:
    """What one Container App bills by: its replica size, replica range and workload profile type."""

    vcpu: Decimal
    gib: Decimal
    gpus: int
    low: int
    high: int
    profile: str

    @classmethod
    def of(cls, app: Recorded, profiles: Mapping[str, str]) -> Replicas:
        template = app.inputs.get("template") or {}
        sizes = [c.get("resources") or {} for c in template.get("containers") or []]
        scale = template.get("scale") or {}
        name = str(app.inputs.get("workloadProfileName") or CONSUMPTION)
        return cls(
            vcpu=sum((Decimal(str(s.get("cpu", 0))) for s in sizes), Decimal(0)),
            gib=sum((quantity_of_memory(s.get("memory", "0Gi")) for s in sizes), Decimal(0)),
            gpus=sum(int(s.get("gpu", 0) or 0) for s in sizes),
            low=int(scale.get("minReplicas", DEFAULT_REPLICAS[0]) or 0),
            high=int(scale.get("maxReplicas", DEFAULT_REPLICAS[1]) or DEFAULT_REPLICAS[1]),
            profile=profiles.get(name, name),
        )

    def describe(self) -> str:
        gpus = f", {self.gpus} GPU" if self.gpus else ""
        return (
            f"{self.vcpu:g} vCPU / {self.gib:g} GiB{gpus} per replica; {self.low}-{self.high} replicas ({self.profile})"
        )

    def seconds(self, per: Decimal) -> tuple[Decimal, Decimal]:
        """(min, max) monthly units of ``per`` per replica: every replica all month."""
        return self.low * per * SECONDS_PER_MONTH, self.high * per * SECONDS_PER_MONTH


def _profiles(rates: Rates) -> dict[str, str]:
    """Workload profile name -> type, from the stack's environment(s)."""
    return {
        str(p.get("name")): str(p.get("workloadProfileType"))
        for environment in rates.of_type(ENVIRONMENT)
        for p in environment.inputs.get("workloadProfiles") or []
    }


def _container_app(app: Recorded, rates: Rates) -> list[CostLine]:
    replicas = Replicas.of(app, _profiles(rates))
    shape = WORKLOAD_PROFILES.get(replicas.profile)
    if shape is not None and not shape.per_replica:
        return []  # a dedicated profile's nodes are billed on the environment (_environment)
    if shape is not None and shape.gpu_model:
        return [*_active_replicas(app, replicas, rates), _gpu_seconds(app, replicas, shape.gpu_model, rates)]
    return _consumption_replicas(app, replicas, rates)


def _consumption_replicas(app: Recorded, replicas: Replicas, rates: Rates) -> list[CostLine]:
    """Min column: the minimum replicas idle all month; max column: the maximum replicas busy all month."""
    idle, busy = replicas.seconds(replicas.vcpu)
    memory_low, memory_high = replicas.seconds(replicas.gib)
    return [
        rates.rate_line(
            app,
            "vCPU, minimum replicas idle",
            "vCPU-seconds",
            "ca_idle_vcpu_second",
            idle,
            quantity_max=Decimal(0),
            assumption=f"{replicas.describe()}; min column: {replicas.low} replica(s) kept all month with no traffic",
        ),
        rates.rate_line(
            app,
            "vCPU, active replicas",
            "vCPU-seconds",
            "ca_active_vcpu_second",
            Decimal(0),
            quantity_max=busy,
            assumption=f"{replicas.describe()}; max column: {replicas.high} replica(s) busy all month",
        ),
        rates.rate_line(
            app,
            "Memory (active and idle)",
            "GiB-seconds",
            "ca_gib_second",
            memory_low,
            quantity_max=memory_high,
            assumption=replicas.describe(),
        ),
        rates.from_usage(app, "Requests", "1M requests", "ca_million_requests", "monthly_requests_millions"),
    ]


def _active_replicas(app: Recorded, replicas: Replicas, rates: Rates) -> list[CostLine]:
    """A GPU replica is never idle-billed: every replica, min and max, at the active rates."""
    note = f"{replicas.describe()}; GPU replicas bill at the active rate (no idle rate with GPUs)"
    lines = []
    for what, unit, rate, per in (
        ("vCPU", "vCPU-seconds", "ca_active_vcpu_second", replicas.vcpu),
        ("Memory", "GiB-seconds", "ca_gib_second", replicas.gib),
    ):
        low, high = replicas.seconds(per)
        lines.append(
            rates.rate_line(app, f"{what} (GPU replicas)", unit, rate, low, quantity_max=high, assumption=note)
        )
    return lines


def _gpu_seconds(app: Recorded, replicas: Replicas, model: str, rates: Rates) -> CostLine:
    """GPU-seconds of a serverless GPU profile: priced once the table has the row (see its header for why not)."""
    low, high = replicas.seconds(Decimal(replicas.gpus or 1))
    rate, name = f"ca_gpu_second_{model.lower()}", f"Serverless GPU ({model})"
    if rates.get("rates", rate) is None:
        reason = f"no confirmed list price for {model} GPU-seconds ({rates.shown} has no {rate} row: see its header)"
        return CostLine.missing(app, name, reason, pool=rates.context.pool_of(app))
    return rates.rate_line(app, name, "GPU-seconds", rate, low, quantity_max=high, assumption=replicas.describe())


def _environment(environment: Recorded, rates: Rates) -> list[CostLine]:
    """Each dedicated workload profile's nodes (minimumCount in the min column, maximumCount in the max), plus
    the Dedicated plan's management fee once an environment has a dedicated profile."""
    dedicated = [
        p for p in environment.inputs.get("workloadProfiles") or [] if p.get("workloadProfileType") in _DEDICATED
    ]
    if not dedicated:
        return []
    lines = [_hours(environment, rates, "Dedicated plan management", "ca_dedicated_management_hour")]
    for profile in dedicated:
        lines += _nodes(environment, profile, rates)
    return lines


_DEDICATED = frozenset(name for name, shape in WORKLOAD_PROFILES.items() if not shape.per_replica)


def _nodes(environment: Recorded, profile: Mapping[str, Any], rates: Rates) -> list[CostLine]:
    kind = str(profile.get("workloadProfileType"))
    shape = WORKLOAD_PROFILES[kind]
    low, high = int(profile.get("minimumCount", 0) or 0), int(profile.get("maximumCount", 1) or 1)
    size = f"{shape.cpu:g} vCPU / {shape.memory_gib:g} GiB a node"
    note = f"profile {profile.get('name')!r} ({kind}: {size}); {low}-{high} nodes"
    if shape.gpu_model:
        reason = f"dedicated GPU profile {kind}: no price row in {rates.shown} (see its header)"
        return [CostLine.missing(environment, f"Dedicated nodes ({kind})", reason)]
    return [
        rates.rate_line(
            environment,
            f"Dedicated nodes ({kind}), {what}",
            unit,
            rate,
            HOURS_PER_MONTH * low * Decimal(str(per)),
            quantity_max=HOURS_PER_MONTH * high * Decimal(str(per)),
            assumption=note,
        )
        for what, unit, rate, per in (
            ("vCPU", "vCPU-hours", "ca_dedicated_vcpu_hour", shape.cpu),
            ("memory", "GiB-hours", "ca_dedicated_gib_hour", shape.memory_gib),
        )
    ]


# --- PostgreSQL flexible server ------------------------------------------------------------------------------


def _server(server: Recorded, rates: Rates) -> list[CostLine]:
    sku = str((server.inputs.get("sku") or {}).get("name", ""))
    high_availability = (server.inputs.get("highAvailability") or {}).get("mode") in ("ZoneRedundant", "SameZone")
    copies = 2 if high_availability else 1
    role = "read replica" if server.inputs.get("createMode") == "Replica" else "primary"
    deployment = "zone-redundant HA: primary and standby, billed twice" if high_availability else "no standby"
    size = Decimal(int((server.inputs.get("storage") or {}).get("storageSizeGB", 32) or 32))
    lines = [
        rates.hours(server, f"Compute ({sku})", "postgres", sku, copies, assumption=f"{role}; {deployment}"),
        rates.rate_line(
            server,
            "Storage (provisioned)",
            "GB-months",
            "pg_storage_gb_month",
            size * copies,
            assumption=f"{size} GB{' x 2 (HA)' if high_availability else ''}; auto-grow priced at the starting size",
        ),
    ]
    if role == "primary":
        lines.append(_backups(server, size, rates))
    return lines


def _backups(server: Recorded, size: Decimal, rates: Rates) -> CostLine:
    """Backup storage up to the provisioned size is free; beyond it, from the usage file (default: none beyond)."""
    stored, how = rates.usage(server, "backup_storage_gb", default=size)
    geo = (server.inputs.get("backup") or {}).get("geoRedundantBackup") == "Enabled"
    rate = "pg_backup_grs_gb_month" if geo else "pg_backup_gb_month"
    name = f"Backup storage beyond the free {size} GB ({'geo-redundant' if geo else 'locally redundant'})"
    beyond = max(Decimal(0), stored - size)
    pool = rates.context.pool_of(server)
    if not beyond:
        free = f"{how}: within the free allowance"
        cite = rates.table.cite("postgres")
        return CostLine.of(server, name, "GB-months", Decimal(0), beyond, assumption=free, source=cite, pool=pool)
    if rates.get("rates", rate) is None:
        reason = f"{how}: the {'geo-redundant' if geo else 'locally redundant'} backup rate is not in {rates.shown}"
        return CostLine.missing(server, name, reason, pool=pool)
    return rates.rate_line(server, name, "GB-months", rate, beyond, assumption=how, usage=True)


# --- edge, network, TURN -------------------------------------------------------------------------------------


def _front_door(profile: Recorded, rates: Rates) -> list[CostLine]:
    tier = "premium" if "Premium" in str((profile.inputs.get("sku") or {}).get("name", "")) else "standard"
    return [
        _months(profile, rates, f"Front Door {tier.capitalize()} base fee", f"frontdoor_{tier}_month"),
        rates.from_usage(
            profile,
            "Requests (client to edge)",
            "10K requests",
            f"frontdoor_{tier}_10k_requests",
            "monthly_requests_millions",
            per=Decimal("0.01"),
        ),
        rates.from_usage(
            profile, "Data transfer, edge to client", "GB", "frontdoor_egress_gb", "monthly_data_transfer_out_gb"
        ),
    ]


def _waf(policy: Recorded, rates: Rates) -> list[CostLine]:
    """Included in the Premium base fee (no row: the table holds prices, and this one is nothing extra)."""
    rules = len((policy.inputs.get("customRules") or {}).get("rules") or [])
    sets = len((policy.inputs.get("managedRules") or {}).get("managedRuleSets") or [])
    note = f"{sets} managed rule set(s), {rules} custom rule(s): included in the Front Door Premium base fee"
    return [
        CostLine.of(
            policy,
            "WAF policy (Front Door Premium)",
            "months",
            Decimal(0),
            Decimal(1),
            assumption=note,
            source=rates.table.cite("front-door"),
            pool=rates.context.pool_of(policy),
        )
    ]


def _nat(gateway: Recorded, rates: Rates) -> list[CostLine]:
    return [
        _hours(gateway, rates, "NAT gateway", "nat_gateway_hour"),
        rates.from_usage(gateway, "Data processed", "GB", "nat_data_processed_gb", "monthly_data_processed_gb"),
    ]


def _public_ip(address: Recorded, rates: Rates) -> list[CostLine]:
    sku = str((address.inputs.get("sku") or {}).get("name", "Basic"))
    if sku != "Standard":
        return [CostLine.missing(address, f"Public IP address ({sku})", "only Standard public IPs are in the table")]
    return [_hours(address, rates, "Public IP address (Standard, static)", "public_ip_standard_hour")]


def _load_balancer(balancer: Recorded, rates: Rates) -> list[CostLine]:
    rules = sum(
        len(balancer.inputs.get(key) or []) for key in ("loadBalancingRules", "outboundRules", "inboundNatRules")
    )
    extra = max(0, rules - FIRST_RULES)
    return [
        _hours(
            balancer, rates, "Load balancer (first five rules)", "lb_first_five_rules_hour", note=f"{rules} rule(s)"
        ),
        _hours(balancer, rates, "Rules beyond five", "lb_extra_rule_hour", count=extra, note=f"{extra} rule(s)"),
        rates.from_usage(balancer, "Data processed", "GB", "lb_data_processed_gb", "monthly_data_processed_gb"),
    ]


def _scale_set(scale_set: Recorded, rates: Rates) -> list[CostLine]:
    sku = scale_set.inputs.get("sku") or {}
    size, capacity = str(sku.get("name", "")), int(sku.get("capacity", 1) or 0)
    note = f"{capacity} instance(s), always on"
    machine = rates.hours(scale_set, f"Instance usage (Linux, {size})", "instances", size, capacity, assumption=note)
    profile = scale_set.inputs.get("virtualMachineProfile") or {}
    os_disk = (profile.get("storageProfile") or {}).get("osDisk") or {}
    gib = int(os_disk.get("diskSizeGB", UBUNTU_OS_DISK_GIB) or UBUNTU_OS_DISK_GIB)
    tier = _disk_tier(gib, rates)
    disk = rates.line(
        scale_set,
        f"OS disk (Premium SSD {tier or '?'})",
        "disk-months",
        rates.get("disks", tier) if tier else None,
        Decimal(capacity),
        assumption=f"{gib} GiB per instance (the image's size unless the profile sets one), billed as its tier",
    )
    return [machine, disk]


def _disk_tier(gib: int, rates: Rates) -> str | None:
    """The smallest Premium SSD tier in the table that holds ``gib`` (a disk bills as its tier)."""
    tiers = (rates.table.regions.get(rates.region) or {}).get("disks") or {}
    fits = sorted((int(row["size_gib"]), tier) for tier, row in tiers.items() if int(row["size_gib"]) >= gib)
    return fits[0][1] if fits else None


def _private_endpoint(endpoint: Recorded, rates: Rates) -> list[CostLine]:
    return [_hours(endpoint, rates, "Private endpoint", "private_endpoint_hour", note="data processed not priced")]


def _private_zone(zone: Recorded, rates: Rates) -> list[CostLine]:
    return [_months(zone, rates, "Private DNS zone", "private_dns_zone_month")]


# --- secrets, logs, alerts, files ------------------------------------------------------------------------------


def _vault(vault: Recorded, rates: Rates) -> list[CostLine]:
    return [
        rates.from_usage(
            vault,
            "Operations (secrets read by the apps, writes)",
            "10K operations",
            "key_vault_10k_operations",
            "monthly_operations",
            per=Decimal(10_000),
        )
    ]


def _workspace(workspace: Recorded, rates: Rates) -> list[CostLine]:
    """Ingestion (usage) and the steady-state data kept beyond the free 31 days of retention."""
    ingested, how = rates.usage(workspace, "monthly_data_ingested_gb")
    days = Decimal(int(workspace.inputs.get("retentionInDays", 30) or 30))
    paid_months = (max(Decimal(0), days - FREE_RETENTION_DAYS) / DAYS_PER_MONTH).quantize(Decimal("0.0001"))
    return [
        rates.rate_line(
            workspace, "Log ingestion (Analytics logs)", "GB", "logs_ingested_gb", ingested, assumption=how, usage=True
        ),
        rates.rate_line(
            workspace,
            "Log retention beyond 31 days",
            "GB-months",
            "logs_retained_gb_month",
            ingested * paid_months,
            assumption=f"{how}; kept {days} days: each month's data {paid_months:.2f} months past the free 31",
            usage=True,
        ),
    ]


def _alert(alert: Recorded, rates: Rates) -> list[CostLine]:
    return [_months(alert, rates, "Metric alert rule", "metric_alert_series_month", "one time series monitored")]


def _file_share(share: Recorded, rates: Rates) -> list[CostLine]:
    """Premium shares bill the provisioned quota; ZRS where the stack's FileStorage account is zone-redundant."""
    accounts = [a for a in rates.of_type(STORAGE_ACCOUNT) if a.inputs.get("kind") == "FileStorage"]
    sku = str(((accounts[0].inputs.get("sku") or {}) if accounts else {}).get("name", "Premium_LRS"))
    redundancy = "zrs" if sku.endswith("ZRS") else "lrs"
    quota = Decimal(int(share.inputs.get("shareQuota", 100) or 100))
    return [
        rates.rate_line(
            share,
            f"Premium file share ({redundancy.upper()}, provisioned)",
            "GiB-months",
            f"files_premium_{redundancy}_gib_month",
            quota,
            assumption=f"{quota} GiB provisioned ({sku} account)",
        )
    ]


PRICERS: Mapping[str, Callable[[Recorded, Rates], list[CostLine]]] = {
    APP: _container_app,
    ENVIRONMENT: _environment,
    SERVER: _server,
    "azure-native:cdn:Profile": _front_door,
    "azure-native:frontdoor:Policy": _waf,
    "azure-native:network:NatGateway": _nat,
    "azure-native:network:PublicIPAddress": _public_ip,
    "azure-native:network:LoadBalancer": _load_balancer,
    "azure-native:compute:VirtualMachineScaleSet": _scale_set,
    "azure-native:network:PrivateEndpoint": _private_endpoint,
    "azure-native:privatedns:PrivateZone": _private_zone,
    "azure-native:keyvault:Vault": _vault,
    "azure-native:operationalinsights:Workspace": _workspace,
    "azure-native:monitor:MetricAlert": _alert,
    "azure-native:storage:FileShare": _file_share,
}
