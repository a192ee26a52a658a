"""The estimate in Infracost's JSON format (``infracost breakdown --format json``), for its tools.

Follows ``schema/infracost.schema.json`` of github.com/infracost/infracost (output version 0.2):
a root with ``version``, ``currency``, ``projects``, totals and ``summary``; each project has a
``breakdown`` (``resources[].costComponents[]``) and, as ``infracost breakdown`` writes it, an
empty ``pastBreakdown`` and a ``diff`` equal to the breakdown. Every amount is a decimal string.
``infracost output --path FILE`` and ``infracost comment`` read this file;
tests/test_cost_infracost.py validates it against that schema's constraints.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from preview.cost.estimate import Estimate
from preview.cost.model import HOURS_PER_MONTH, CostLine
from stacks.settings import PROJECT

VERSION = "0.2"


def _amount(value: Decimal) -> str:
    """A decimal string, trailing zeros dropped (``"734.38"``, ``"0.1"``), never an exponent."""
    return f"{value.normalize():f}"


def _component(line: CostLine) -> dict[str, Any]:
    return {
        "name": line.name,
        "unit": line.unit,
        "hourlyQuantity": _amount(line.quantity / HOURS_PER_MONTH),
        "monthlyQuantity": _amount(line.quantity),
        "price": _amount(line.price),
        "hourlyCost": _amount(line.monthly / HOURS_PER_MONTH),
        "monthlyCost": _amount(line.monthly),
    }


def _resources(lines: Sequence[CostLine]) -> list[dict[str, Any]]:
    grouped: dict[str, list[CostLine]] = {}
    for line in lines:
        grouped.setdefault(line.urn or f"{line.type}::{line.resource}", []).append(line)
    resources = []
    for group in grouped.values():
        first = group[0]
        monthly = sum((line.monthly for line in group), Decimal(0))
        resources.append(
            {
                "name": first.resource,
                "metadata": {"type": first.type, "component": first.component, "pool": first.pool, "urn": first.urn},
                "hourlyCost": _amount(monthly / HOURS_PER_MONTH),
                "monthlyCost": _amount(monthly),
                "costComponents": [_component(line) for line in group],
                "subresources": [],
            }
        )
    return resources


def _breakdown(lines: Sequence[CostLine]) -> dict[str, Any]:
    monthly = sum((line.monthly for line in lines), Decimal(0))
    return {
        "resources": _resources(lines),
        "totalHourlyCost": _amount(monthly / HOURS_PER_MONTH),
        "totalMonthlyCost": _amount(monthly),
    }


def to_infracost(estimate: Estimate, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The Infracost document of one stack: one project, priced at the minimum (autoscaled: min size).

    Unpriced lines are left out of the breakdown and counted in ``summary.totalNoPriceResources``.
    """
    priced = estimate.priced
    breakdown = _breakdown(priced)
    types = {line.urn or line.resource: line.type for line in priced}
    unpriced = {line.urn or line.resource for line in estimate.unpriced} - set(types)
    summary = {
        "totalDetectedResources": len(types) + len(unpriced),
        "totalSupportedResources": len(types),
        "totalUnsupportedResources": len(unpriced),
        "totalNoPriceResources": len(unpriced),
        "totalUsageBasedResources": len({line.urn or line.resource for line in priced if line.usage}),
        "supportedResourceCounts": dict(sorted(Counter(types.values()).items())),
    }
    project = {
        "name": f"{PROJECT}-{estimate.stack}",
        "metadata": {"path": f"Pulumi.{estimate.stack}.yaml", "type": "pulumi_offline_preview"},
        "pastBreakdown": _breakdown([]),
        "breakdown": breakdown,
        "diff": breakdown,
        "summary": summary,
    }
    generated = (now or datetime.datetime.now(datetime.UTC)).replace(microsecond=0)
    return {
        "version": VERSION,
        "currency": estimate.currency,
        "projects": [project],
        "totalHourlyCost": breakdown["totalHourlyCost"],
        "totalMonthlyCost": breakdown["totalMonthlyCost"],
        "pastTotalHourlyCost": "0",
        "pastTotalMonthlyCost": "0",
        "diffTotalHourlyCost": breakdown["totalHourlyCost"],
        "diffTotalMonthlyCost": breakdown["totalMonthlyCost"],
        "timeGenerated": generated.isoformat().replace("+00:00", "Z"),
        "summary": summary,
    }
