"""The estimate of one stack: every target's cost lines, attributed to components and pools, totalled.

The program's resources are dispatched to the plugin whose provider owns their type (as the
policies and the renderers are), so this module never names a target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from preview.cost.model import HOURS_PER_MONTH, CostContext, CostLine, money
from preview.cost.prices import price_tables
from preview.cost.usage import Usage
from targets import plugins

if TYPE_CHECKING:
    from preview.mocks import Recorded
    from stacks.loader import StackSpec

SHARED = "(shared)"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Estimate:
    """All lines of a stack, with what they were priced against."""

    stack: str
    lines: list[CostLine]
    currency: str = "USD"
    tables: list[str] = field(default_factory=list)  # "targets/<t>/prices.yaml (as of <date>)"
    usage_source: str = ""

    @property
    def priced(self) -> list[CostLine]:
        return [line for line in self.lines if not line.unpriced]

    @property
    def unpriced(self) -> list[CostLine]:
        return [line for line in self.lines if line.unpriced]

    @property
    def total(self) -> Decimal:
        return sum((line.monthly for line in self.lines), Decimal(0))

    @property
    def total_max(self) -> Decimal:
        return sum((line.monthly_max for line in self.lines), Decimal(0))

    def by(self, key: str) -> dict[str, tuple[Decimal, Decimal]]:
        """(min, max) monthly per ``component``, ``pool`` or ``resource``, in first-seen order."""
        sums: dict[str, tuple[Decimal, Decimal]] = {}
        for line in self.lines:
            name = getattr(line, key) or SHARED
            low, high = sums.get(name, (Decimal(0), Decimal(0)))
            sums[name] = (low + line.monthly, high + line.monthly_max)
        return sums

    def to_json(self) -> dict[str, Any]:
        """The ``cost`` section of the preview's JSON document (and what ``--compare`` reads back)."""
        return {
            "version": FORMAT_VERSION,
            "currency": self.currency,
            "hours_per_month": int(HOURS_PER_MONTH),
            "price_tables": self.tables,
            "usage_file": self.usage_source or None,
            "monthly": money(self.total),
            "monthly_max": money(self.total_max),
            "components": {
                k: {"monthly": money(v[0]), "monthly_max": money(v[1])} for k, v in self.by("component").items()
            },
            "pools": {k: {"monthly": money(v[0]), "monthly_max": money(v[1])} for k, v in self.by("pool").items()},
            "lines": [line.to_json() for line in self.lines],
        }


def component_of(resource: Recorded, by_urn: Mapping[str, Recorded]) -> str:
    """The nearest enclosing component's name (a custom resource's parent chain), or :data:`SHARED`."""
    current = by_urn.get(resource.parent or "")
    while current is not None:
        if not current.custom:
            return current.name
        current = by_urn.get(current.parent or "")
    return SHARED


def workload_pools(spec: StackSpec) -> dict[str, str]:
    """Workload resource name -> pool, from the stack's placement."""
    from stacks.workloads import workloads

    return {w.name: spec.placement.pool_of[w.key] for w in workloads(spec.blueprint) if w.key in spec.placement.pool_of}


def context_for(spec: StackSpec, resources: Sequence[Recorded], usage: Usage) -> CostContext:
    return CostContext(
        target_settings=spec.target_settings,
        pool_settings=spec.pool_settings,
        pools=spec.blueprint.pools,
        usage=usage,
        workload_pools=workload_pools(spec),
        resources=list(resources),
    )


def estimate(stack: str, resources: Sequence[Recorded], context: CostContext) -> Estimate:
    """Ask each plugin to price the resources its providers own; attribute each line to its component."""
    by_urn = {r.urn: r for r in resources}
    lines: list[CostLine] = []
    for plugin in plugins():
        lines += plugin.cost([r for r in resources if plugin.owns(r.type)], context)
    # Resources register concurrently: sort, so two runs of one program give the same estimate.
    lines = sorted((_attributed(line, by_urn) for line in lines), key=_order)
    used = {line.source.split(" (taken", 1)[0] for line in lines if line.source}
    tables = [
        f"{t.path.relative_to(t.path.parent.parent.parent)} (as of {t.as_of})"
        for t in price_tables()
        if used & {str(source["url"]) for source in t.sources.values()}
    ]
    return Estimate(stack=stack, lines=lines, tables=tables, usage_source=context.usage.source)


def _order(line: CostLine) -> tuple[str, str, str]:
    return line.component, line.resource, line.name


def _attributed(line: CostLine, by_urn: Mapping[str, Recorded]) -> CostLine:
    if line.component:
        return line
    resource = by_urn.get(line.urn)
    return replace(line, component=component_of(resource, by_urn) if resource is not None else SHARED)
