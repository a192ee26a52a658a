"""What a target's pricing functions share: its price table at the stack's region, the context, its usage defaults.

A target's ``cost.py`` builds one :class:`Rates` per estimate and hands it to each small pricing function, so
each function says only what it bills (a row, a quantity, an assumption); the missing-row and usage-file
plumbing lives here, once. SDK-free, like every ``cost`` hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from preview.cost.model import HOURS_PER_MONTH, CostContext, CostLine
from preview.cost.prices import Price, PriceTable

if TYPE_CHECKING:
    from preview.mocks import Recorded


@dataclass(frozen=True)
class Rates:
    """One table at one region; ``usage_defaults`` maps a type token to its usage keys and their defaults."""

    table: PriceTable
    region: str
    context: CostContext
    usage_defaults: Mapping[str, Mapping[str, Decimal]]

    @property
    def shown(self) -> str:
        """The table as a line's reason names it: ``targets/<t>/prices.yaml``."""
        return f"targets/{self.table.path.parent.name}/{self.table.path.name}"

    def get(self, section: str, key: str) -> Price | None:
        return self.table.price(self.region, section, key)

    def line(
        self, resource: Recorded, name: str, unit: str, found: Price | None, quantity: Decimal, **extra: Any
    ) -> CostLine:
        """A priced line, or an unpriced one naming the row the table lacks (never a silent zero)."""
        pool = self.context.pool_of(resource)
        if found is None:
            return CostLine.missing(resource, name, f"no price row for it in {self.shown} ({self.region})", pool=pool)
        return CostLine.of(resource, name, unit, found.usd, quantity, source=found.source, pool=pool, **extra)

    def rate_line(
        self, resource: Recorded, name: str, unit: str, rate: str, quantity: Decimal, **extra: Any
    ) -> CostLine:
        """A line priced from ``regions.<region>.rates.<rate>``."""
        return self.line(resource, name, unit, self.get("rates", rate), quantity, **extra)

    def hours(self, resource: Recorded, name: str, section: str, key: str, count: int, **extra: Any) -> CostLine:
        """``count`` of the row ``<section>.<key>`` (priced per hour) running all month: servers, instances."""
        return self.line(resource, name, "hours", self.get(section, key), HOURS_PER_MONTH * count, **extra)

    def usage(self, resource: Recorded, key: str, default: Decimal | None = None) -> tuple[Decimal, str]:
        """(quantity, how it was chosen): the usage file's value, else ``default`` or the type's stated default."""
        fallback = self.usage_defaults[resource.type][key] if default is None else default
        return self.context.usage.value(resource.name, resource.type, key, fallback)

    def from_usage(
        self, resource: Recorded, name: str, unit: str, rate: str, key: str, per: Decimal = Decimal(1)
    ) -> CostLine:
        """A usage-driven line: the usage value (or its default) divided by ``per`` to reach the priced unit."""
        quantity, how = self.usage(resource, key)
        return self.rate_line(resource, name, unit, rate, quantity / per, assumption=how, usage=True)

    def of_type(self, token: str) -> list[Recorded]:
        return [r for r in self.context.resources if r.type == token]
