"""The AWS target's ``cost`` hook: monthly cost lines for what the program registered, from ``prices.yaml``.

SDK-free (it reads recorded inputs, never pulumi_aws). Each billable type has one small pricing
function; a type missing from :data:`PRICERS` costs nothing (IAM, security groups, routes, ECS
clusters and capacity providers are free) or is listed in :data:`UNPRICED` with the reason.
What decides a quantity:

- EC2 capacity: the Auto Scaling group's min/max size, the instance type of its launch template
  (or of its Spot overrides), its scheduled actions (``up_fraction`` of the month), and its root
  volume; at least one instance while an ECS service on its capacity provider wants a task.
- Fargate: the task definition's cpu/memory, the service's desired count or its Application
  Auto Scaling min/max, its scheduled actions, and its capacity provider strategy (base + weights
  split FARGATE and FARGATE_SPOT). EC2-launched services cost their group, not themselves.
- RDS: instance class, Multi-AZ (instance and storage billed twice: AWS RDS user guide, "Multi-AZ DB
  instances"), allocated storage (max: ``maxAllocatedStorage``, storage autoscaling); a read replica
  is an instance of its own with its source's storage.
- Usage-driven lines (LCUs, NAT data, egress, logs, WAF requests, EFS and S3 storage) read the usage
  file with the defaults in :data:`USAGE_DEFAULTS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preview.cost.model import HOURS_PER_MONTH, CostContext, CostLine
from preview.cost.prices import Price, PriceTable, load_table
from preview.cost.schedule import up_fraction

if TYPE_CHECKING:
    from preview.mocks import Recorded


TABLE = Path(__file__).resolve().parent / "prices.yaml"
_MIB_PER_GIB = Decimal(1024)

# Usage keys (Infracost-style names) and their defaults, per type token: shown as assumptions.
USAGE_DEFAULTS: Mapping[str, Mapping[str, Decimal]] = {
    "aws:lb/loadBalancer:LoadBalancer": {"capacity_units": Decimal(1), "monthly_data_transfer_out_gb": Decimal(100)},
    "aws:ec2/natGateway:NatGateway": {"monthly_data_processed_gb": Decimal(50)},
    "aws:cloudwatch/logGroup:LogGroup": {"monthly_data_ingested_gb": Decimal(1)},
    "aws:wafv2/webAcl:WebAcl": {"monthly_requests_millions": Decimal(1)},
    "aws:efs/fileSystem:FileSystem": {"storage_gb": Decimal(10)},
    "aws:s3/bucket:Bucket": {"storage_gb": Decimal(5)},
}
# Billable types this estimate registers but does not price yet, and why.
UNPRICED: Mapping[str, str] = {
    "aws:rds/cluster:Cluster": "Aurora clusters are not in targets/aws/prices.yaml",
    "aws:ec2/instance:Instance": "stand-alone EC2 instances are not priced (the program uses Auto Scaling groups)",
}


@dataclass(frozen=True)
class _Pricing:
    """The price table, the stack's region and the context one pricing function needs."""

    table: PriceTable
    region: str
    context: CostContext

    def rate(self, section: str, key: str) -> Price | None:
        return self.table.price(self.region, section, key)

    def line(
        self, resource: Recorded, name: str, unit: str, found: Price | None, quantity: Decimal, **extra: Any
    ) -> CostLine:
        """A priced line, or an unpriced one naming the missing row."""
        pool = extra.pop("pool", self.context.pool_of(resource))
        if found is None:
            reason = f"no price row for it in targets/aws/prices.yaml ({self.region})"
            return CostLine.missing(resource, name, reason, pool=pool)
        return CostLine.of(resource, name, unit, found.usd, quantity, source=found.source, pool=pool, **extra)

    def usage(self, resource: Recorded, key: str) -> tuple[Decimal, str]:
        default = USAGE_DEFAULTS[resource.type][key]
        return self.context.usage.value(resource.name, resource.type, key, default)

    def usage_line(self, resource: Recorded, name: str, unit: str, rate: str, key: str) -> CostLine:
        quantity, how = self.usage(resource, key)
        return self.line(resource, name, unit, self.rate("rates", rate), quantity, assumption=how, usage=True)

    def flat(self, resource: Recorded, name: str, rate: str, count: Decimal = Decimal(1)) -> CostLine:
        """A fixed monthly fee (unit "months")."""
        return self.line(resource, name, "months", self.rate("rates", rate), count)

    def named(self, token: str, name: str) -> Recorded | None:
        return next((r for r in self.context.resources if r.type == token and r.name == name), None)

    def of_type(self, token: str) -> list[Recorded]:
        return [r for r in self.context.resources if r.type == token]


def cost(resources: Sequence[Recorded], context: CostContext) -> list[CostLine]:
    """The hook (``TargetPlugin.cost``): every billable recorded resource's lines, in registration order."""
    if not resources:
        return []
    region = str(getattr(context.target_settings, "region", "")) or load_table(TABLE).default_region
    pricing = _Pricing(load_table(TABLE), region, context)
    lines: list[CostLine] = []
    for resource in resources:
        if resource.type in UNPRICED:
            lines.append(CostLine.missing(resource, resource.type, UNPRICED[resource.type]))
        elif resource.type in PRICERS:
            lines += PRICERS[resource.type](resource, pricing)
    return lines


# --- EC2 capacity ---------------------------------------------------------------------------------------


def _schedule_fraction(
    actions: Sequence[Recorded], cron_key: str, is_down: Callable[[Recorded], bool]
) -> tuple[Decimal, str]:
    """(fraction of the month up, what says so) from a pair of scale-down/scale-up scheduled actions."""
    down = next((a for a in actions if is_down(a)), None)
    up = next((a for a in actions if not is_down(a)), None)
    if down is None or up is None:
        return Decimal(1), "always on (no off-hours schedule)"
    up_cron, down_cron = _unix(up.inputs[cron_key]), _unix(down.inputs[cron_key])
    fraction = up_fraction(up_cron, down_cron)
    return fraction, f"scheduled: up at '{up_cron}', down at '{down_cron}' = {fraction:.1%} of the month"


def _unix(text: Any) -> str:
    """A 5-field Unix cron from an ASG recurrence or an Application Auto Scaling ``cron(m h dom mon dow year)``."""
    value = str(text)
    if not value.startswith("cron("):
        return value
    minute, hour, dom, month, dow, _year = value[len("cron(") : -1].split()
    dom = "*" if dom == "?" else dom
    dow = "*" if dow == "?" else dow
    return f"{minute} {hour} {dom} {month} {dow}"


def _group_instance_type(group: Recorded, template: Recorded | None) -> tuple[str, bool]:
    """(instance type priced, whether Spot) from the group's mixed-instances policy or its launch template."""
    mixed = group.inputs.get("mixedInstancesPolicy")
    if mixed:
        overrides = (mixed.get("launchTemplate") or {}).get("overrides") or []
        distribution = mixed.get("instancesDistribution") or {}
        spot = int(distribution.get("onDemandPercentageAboveBaseCapacity", 100)) < 100
        if overrides:
            return str(overrides[0].get("instanceType")), spot
    return str((template.inputs if template else {}).get("instanceType", "")), False


def _tasks_wanted(group: Recorded, pricing: _Pricing) -> bool:
    """Whether an ECS service on this group's capacity provider wants at least one task at its minimum."""
    providers = {
        str(p.inputs.get("name")) for p in pricing.context.siblings(group, "aws:ecs/capacityProvider:CapacityProvider")
    }
    for service in pricing.of_type("aws:ecs/service:Service"):
        names = {str(s.get("capacityProvider")) for s in service.inputs.get("capacityProviderStrategies") or []}
        if names & providers and _service_counts(service, pricing)[0] > 0:
            return True
    return False


def _spot(on_demand: Price) -> tuple[Price, str]:
    """The row at its typical Spot discount (``spot_discount``, a fraction), and the note that says so."""
    discount = Decimal(str(on_demand.attribute("spot_discount", 0)))
    source = on_demand.source + f"; Spot at the table's typical {discount:.0%} discount"
    note = f"; Spot priced at a typical {discount:.0%} off on-demand (Spot prices move)"
    return Price(on_demand.usd * (1 - discount), source, on_demand.row), note


def _group(group: Recorded, pricing: _Pricing) -> list[CostLine]:
    template = next(iter(pricing.context.siblings(group, "aws:ec2/launchTemplate:LaunchTemplate")), None)
    instance_type, spot = _group_instance_type(group, template)
    low, high = int(group.inputs.get("minSize", 0)), int(group.inputs.get("maxSize", 0))
    wanted = _tasks_wanted(group, pricing)
    if wanted and low == 0:
        low = 1
    schedule = pricing.context.siblings(group, "aws:autoscaling/schedule:Schedule")
    fraction, when = _schedule_fraction(schedule, "recurrence", lambda a: int(a.inputs.get("maxSize", 1)) == 0)
    hours = HOURS_PER_MONTH * fraction
    found = pricing.rate("instances", instance_type)
    sizes = f"{low}-{high} instances" + (
        " (min raised to 1: an ECS service on it wants a task)"
        if wanted and int(group.inputs.get("minSize", 0)) == 0
        else ""
    )
    assumption = f"{sizes}; {when}"
    if found is not None and spot:
        found, note = _spot(found)
        assumption += note
    market = "spot" if spot else "on-demand"
    lines = [
        pricing.line(
            group,
            f"Instance usage (Linux, {market}, {instance_type})",
            "hours",
            found,
            low * hours,
            quantity_max=high * hours,
            assumption=assumption,
        )
    ]
    volume = _root_volume_gib(template)
    if volume:
        gb_months = Decimal(volume) * fraction
        lines.append(
            pricing.line(
                group,
                "Root volume (gp3)",
                "GB-months",
                pricing.rate("rates", "ebs_gp3_gb_month"),
                low * gb_months,
                quantity_max=high * gb_months,
                assumption=f"{volume} GiB per instance; {when}",
            )
        )
    return lines


def _root_volume_gib(template: Recorded | None) -> int:
    mappings = (template.inputs if template else {}).get("blockDeviceMappings") or []
    return sum(int((m.get("ebs") or {}).get("volumeSize", 0)) for m in mappings)


# --- Fargate ---------------------------------------------------------------------------------------------


def _scaling_target(service: Recorded, pricing: _Pricing) -> Recorded | None:
    name = str(service.inputs.get("name", ""))
    targets = pricing.of_type("aws:appautoscaling/target:Target")
    return next((t for t in targets if str(t.inputs.get("resourceId", "")).endswith(f"/{name}")), None)


def _service_counts(service: Recorded, pricing: _Pricing) -> tuple[int, int]:
    """(min, max) tasks: the Application Auto Scaling target's capacity, else the desired count."""
    target = _scaling_target(service, pricing)
    if target is not None:
        return int(target.inputs.get("minCapacity", 0)), int(target.inputs.get("maxCapacity", 0))
    desired = int(service.inputs.get("desiredCount", 1))
    return desired, desired


def _split(tasks: int, strategy: Sequence[Mapping[str, Any]]) -> tuple[Decimal, Decimal]:
    """(on-demand, spot) tasks of ``tasks`` under a FARGATE/FARGATE_SPOT strategy: base first, then weights."""
    regular = next((s for s in strategy if s.get("capacityProvider") == "FARGATE"), {})
    spot = next((s for s in strategy if s.get("capacityProvider") == "FARGATE_SPOT"), {})
    base = min(tasks, int(regular.get("base", 0)) + int(spot.get("base", 0)))
    rest = Decimal(tasks - base)
    weights = Decimal(int(regular.get("weight", 0)) + int(spot.get("weight", 0))) or Decimal(1)
    spot_tasks = rest * Decimal(int(spot.get("weight", 0))) / weights
    return Decimal(tasks) - spot_tasks, spot_tasks


def _service(service: Recorded, pricing: _Pricing) -> list[CostLine]:
    strategy = service.inputs.get("capacityProviderStrategies") or []
    if not any(str(s.get("capacityProvider", "")).startswith("FARGATE") for s in strategy):
        return []  # EC2 capacity: priced with its Auto Scaling group
    family = str(service.inputs.get("taskDefinition", "")).rsplit("/", 1)[-1]
    task = pricing.named("aws:ecs/taskDefinition:TaskDefinition", family)
    if task is None or not task.inputs.get("cpu"):
        return [
            CostLine.missing(
                service,
                "Fargate tasks",
                f"task definition {family!r} with cpu/memory not recorded",
                pool=pricing.context.pool_of(service),
            )
        ]
    vcpu = Decimal(str(task.inputs["cpu"])) / 1024
    gib = Decimal(str(task.inputs["memory"])) / _MIB_PER_GIB
    arch = (
        "arm64"
        if str((task.inputs.get("runtimePlatform") or {}).get("cpuArchitecture", "")).upper() == "ARM64"
        else "x86_64"
    )
    low, high = _service_counts(service, pricing)
    target = _scaling_target(service, pricing)
    actions = [
        a
        for a in pricing.of_type("aws:appautoscaling/scheduledAction:ScheduledAction")
        if target and a.inputs.get("resourceId") == target.inputs.get("resourceId")
    ]
    fraction, when = _schedule_fraction(
        actions, "schedule", lambda a: int((a.inputs.get("scalableTargetAction") or {}).get("maxCapacity", 1)) == 0
    )
    hours = HOURS_PER_MONTH * fraction
    (od_low, spot_low), (od_high, spot_high) = _split(low, strategy), _split(high, strategy)
    size = f"{vcpu:g} vCPU / {gib:g} GB per task ({arch}); {low}-{high} tasks; {when}"
    discount = pricing.rate("rates", "fargate_spot_discount")
    lines = []
    for market, tasks_low, tasks_high in (("on-demand", od_low, od_high), ("Spot", spot_low, spot_high)):
        if tasks_high == 0:
            continue
        for what, unit, per_task in (("vCPU", "vCPU-hours", vcpu), ("memory", "GB-hours", gib)):
            found = pricing.rate("rates", f"fargate_{'vcpu' if what == 'vCPU' else 'gb'}_hour_{arch}")
            note = size
            if market == "Spot" and found is not None and discount is not None:
                found = Price(found.usd * (1 - discount.usd), f"{found.source}; {discount.source}", found.row)
                note += f"; Fargate Spot at {discount.usd:.0%} off (a typical figure; Spot prices move)"
            lines.append(
                pricing.line(
                    service,
                    f"Fargate {what} ({market}, {arch})",
                    unit,
                    found,
                    tasks_low * per_task * hours,
                    quantity_max=tasks_high * per_task * hours,
                    assumption=note,
                )
            )
    return lines


# --- RDS -------------------------------------------------------------------------------------------------


def _database(instance: Recorded, pricing: _Pricing) -> list[CostLine]:
    inputs = instance.inputs
    replicates = inputs.get("replicateSourceDb")
    source = next(
        (r for r in pricing.of_type(instance.type) if replicates and r.inputs.get("identifier") == replicates), None
    )
    storage_from = source.inputs if source is not None else inputs
    copies = 2 if inputs.get("multiAz") else 1
    deployment = "Multi-AZ" if copies == 2 else "Single-AZ"
    if str(storage_from.get("engine", "postgres")) != "postgres":
        return [
            CostLine.missing(
                instance, "Database instance", f"engine {storage_from.get('engine')!r}: only PostgreSQL is in the table"
            )
        ]
    klass = str(inputs.get("instanceClass", ""))
    role = f"read replica of {replicates}" if replicates else "primary"
    lines = [
        pricing.line(
            instance,
            f"Database instance (PostgreSQL, {klass}, {deployment})",
            "hours",
            pricing.rate("rds_instances", klass),
            HOURS_PER_MONTH * copies,
            assumption=f"{role}; always on",
        )
    ]
    gb = Decimal(int(storage_from.get("allocatedStorage", 0)))
    most = Decimal(int(storage_from.get("maxAllocatedStorage", 0) or 0))
    kind = str(storage_from.get("storageType", "gp2"))
    if gb:
        grows = f"; storage autoscaling up to {most} GB (the max column)" if most > gb else ""
        lines.append(
            pricing.line(
                instance,
                f"Storage ({kind}, {deployment})",
                "GB-months",
                pricing.rate("rds_storage", kind),
                gb * copies,
                quantity_max=(max(most, gb) * copies) if most > gb else None,
                assumption=f"{gb} GB allocated{grows}",
            )
        )
    return lines


# --- network, storage, logs, edge ------------------------------------------------------------------------


def _load_balancer(balancer: Recorded, pricing: _Pricing) -> list[CostLine]:
    kind = "alb" if balancer.inputs.get("loadBalancerType", "application") == "application" else "nlb"
    label, units = ("Application", "LCU") if kind == "alb" else ("Network", "NLCU")
    lines = [
        pricing.line(
            balancer, f"{label} load balancer", "hours", pricing.rate("rates", f"{kind}_hour"), HOURS_PER_MONTH
        ),
    ]
    per_hour, how = pricing.usage(balancer, "capacity_units")
    lines.append(
        pricing.line(
            balancer,
            f"Capacity units ({units})",
            f"{units}-hours",
            pricing.rate("rates", f"{kind}_{units.lower()}_hour"),
            per_hour * HOURS_PER_MONTH,
            assumption=f"{how} per hour",
            usage=True,
        )
    )
    if not balancer.inputs.get("internal"):
        addresses = len(balancer.inputs.get("subnets") or [])
        lines.append(
            pricing.line(
                balancer,
                "Public IPv4 addresses",
                "hours",
                pricing.rate("rates", "public_ipv4_hour"),
                HOURS_PER_MONTH * addresses,
                assumption=f"one per subnet ({addresses}): internet-facing",
            )
        )
        lines.append(
            pricing.usage_line(
                balancer,
                "Data transfer out to the internet",
                "GB",
                "internet_egress_gb",
                "monthly_data_transfer_out_gb",
            )
        )
    return lines


def _nat(gateway: Recorded, pricing: _Pricing) -> list[CostLine]:
    return [
        pricing.line(gateway, "NAT gateway", "hours", pricing.rate("rates", "nat_gateway_hour"), HOURS_PER_MONTH),
        pricing.usage_line(gateway, "Data processed", "GB", "nat_gateway_gb", "monthly_data_processed_gb"),
    ]


def _public_ip(address: Recorded, pricing: _Pricing) -> list[CostLine]:
    return [
        pricing.line(
            address, "Public IPv4 address", "hours", pricing.rate("rates", "public_ipv4_hour"), HOURS_PER_MONTH
        )
    ]


def _efs(filesystem: Recorded, pricing: _Pricing) -> list[CostLine]:
    return [pricing.usage_line(filesystem, "Storage (Standard)", "GB-months", "efs_standard_gb_month", "storage_gb")]


def _volume(volume: Recorded, pricing: _Pricing) -> list[CostLine]:
    size = Decimal(int(volume.inputs.get("size", 0)))
    return [pricing.line(volume, "Volume (gp3)", "GB-months", pricing.rate("rates", "ebs_gp3_gb_month"), size)]


def _log_group(group: Recorded, pricing: _Pricing) -> list[CostLine]:
    ingested, how = pricing.usage(group, "monthly_data_ingested_gb")
    days = int(group.inputs.get("retentionInDays", 0) or 0)
    months = Decimal(min(days, 365) if days else 365) / 30
    kept = "never expires: a year's worth assumed" if not days else f"{days} days' retention"
    return [
        pricing.line(
            group,
            "Log ingestion",
            "GB",
            pricing.rate("rates", "logs_ingested_gb"),
            ingested,
            assumption=how,
            usage=True,
        ),
        pricing.line(
            group,
            "Log storage (steady state)",
            "GB-months",
            pricing.rate("rates", "logs_stored_gb_month"),
            (ingested * months).quantize(Decimal("0.01")),
            assumption=f"{how}; {kept}; uncompressed (AWS bills compressed: an over-estimate)",
            usage=True,
        ),
    ]


def _web_acl(acl: Recorded, pricing: _Pricing) -> list[CostLine]:
    rules = Decimal(len(acl.inputs.get("rules") or []))
    return [
        pricing.flat(acl, "Web ACL", "waf_web_acl_month"),
        pricing.line(
            acl,
            "Rules",
            "rule-months",
            pricing.rate("rates", "waf_rule_month"),
            rules,
            assumption=f"{rules} rules (AWS managed rule groups count as one rule each)",
        ),
        pricing.usage_line(acl, "Requests", "1M requests", "waf_million_requests", "monthly_requests_millions"),
    ]


def _bucket(bucket: Recorded, pricing: _Pricing) -> list[CostLine]:
    return [pricing.usage_line(bucket, "Storage (Standard)", "GB-months", "s3_standard_gb_month", "storage_gb")]


PRICERS: Mapping[str, Callable[[Recorded, _Pricing], list[CostLine]]] = {
    "aws:autoscaling/group:Group": _group,
    "aws:ecs/service:Service": _service,
    "aws:rds/instance:Instance": _database,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:ec2/natGateway:NatGateway": _nat,
    "aws:ec2/eip:Eip": _public_ip,
    "aws:efs/fileSystem:FileSystem": _efs,
    "aws:ebs/volume:Volume": _volume,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda r, p: [
        p.flat(r, "Alarm (standard resolution)", "alarm_standard_month")
    ],
    "aws:kms/key:Key": lambda r, p: [p.flat(r, "Customer managed key", "kms_key_month")],
    "aws:secretsmanager/secret:Secret": lambda r, p: [p.flat(r, "Secret", "secret_month")],
}
