"""Dated price tables: ``targets/<t>/prices.yaml``, one per target that prices cloud resources.

A table is plain YAML, read offline (no network at preview time)::

    currency: USD
    as_of: 2026-11-23          # the newest date any row was checked; tests/test_cost_prices.py fails past max_age_days
    max_age_days: 180
    refresh: python -m targets.<t>.refresh_prices   # the command that rewrites it (needs network)
    sources:                   # every row names one
      ec2: {url: https://aws.amazon.com/ec2/pricing/on-demand/, taken: 2026-11-23, basis: ...}
    regions:
      us-east-1:
        instances:             # section -> key -> row; a row is {usd: <price per unit>, source: <id>, ...}
          g5.xlarge: {usd: 1.006, vcpu: 4, memory_gib: 16, gpus: 1, source: ec2}

The generic code here never names a target: :func:`price_tables` finds every table, so a
Kubernetes node pool that declares ``g5.xlarge`` is priced from whichever cloud lists it.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
TARGETS = ROOT / "targets"


@dataclass(frozen=True)
class Price:
    """One row: a price per unit, where it is from, and the row's other columns (vcpu, gpus, ...)."""

    usd: Decimal
    source: str
    row: Mapping[str, Any]

    def attribute(self, key: str, default: Any = None) -> Any:
        return self.row.get(key, default)


@dataclass(frozen=True)
class PriceTable:
    """A parsed ``prices.yaml``."""

    path: Path
    currency: str
    as_of: datetime.date
    max_age_days: int
    refresh: str
    sources: Mapping[str, Mapping[str, Any]]
    regions: Mapping[str, Mapping[str, Mapping[str, Mapping[str, Any]]]]

    @property
    def default_region(self) -> str:
        return next(iter(self.regions))

    def price(self, region: str, section: str, key: str) -> Price | None:
        """The row ``regions.<region>.<section>.<key>``, or None when the table has no such row."""
        row = ((self.regions.get(region) or {}).get(section) or {}).get(key)
        if row is None:
            return None
        return Price(Decimal(str(row["usd"])), self.cite(str(row["source"])), row)

    def cite(self, source: str) -> str:
        """``<url> (taken <date>; <basis>)`` for a source id."""
        entry = self.sources[source]
        basis = f"; {entry['basis']}" if entry.get("basis") else ""
        return f"{entry['url']} (taken {entry['taken']}{basis})"

    def age_days(self, today: datetime.date) -> int:
        return (today - self.as_of).days


@functools.cache
def load_table(path: Path) -> PriceTable:
    """Read and check a table: every row has a price and a known source."""
    document = yaml.safe_load(path.read_text())
    table = PriceTable(
        path=path,
        currency=str(document["currency"]),
        as_of=_date(document["as_of"]),
        max_age_days=int(document["max_age_days"]),
        refresh=str(document["refresh"]),
        sources=document["sources"],
        regions=document["regions"],
    )
    for region, sections in table.regions.items():
        for section, rows in sections.items():
            for key, row in rows.items():
                if "usd" not in row or row.get("source") not in table.sources:
                    raise ValueError(f"{path}: regions.{region}.{section}.{key} needs usd and a source from sources")
    return table


def _date(value: Any) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def price_tables() -> list[PriceTable]:
    """Every target's table (``targets/*/prices.yaml``), in name order."""
    return [load_table(path) for path in sorted(TARGETS.glob("*/prices.yaml"))]


def find_instance(instance_type: str) -> tuple[PriceTable, str, Price] | None:
    """The first table listing ``instance_type`` (its default region first): for clusters that name a VM type."""
    for table in price_tables():
        for region in table.regions:
            found = table.price(region, "instances", instance_type)
            if found is not None:
                return table, region, found
    return None
