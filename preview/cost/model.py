"""What a target's ``cost`` hook returns (:class:`CostLine`) and what it is given (:class:`CostContext`).

A line prices one billable dimension of one *recorded* resource (what the program registered,
not what the blueprint asked for), so the estimate follows the deployment: an instance type,
an Auto Scaling group's min/max, a task's cpu/memory. Quantities are monthly, at the
resource's minimum and maximum (autoscaled services and groups differ; everything else has
one quantity). Money is :class:`~decimal.Decimal` throughout: the Infracost JSON carries
decimal strings, and 0.1 + 0.2 must stay 0.3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from preview.cost.usage import Usage
    from preview.mocks import Recorded
    from stacks.spec import Pool

# AWS, Azure, GCP and Infracost all bill a month as 730 hours (8760 / 12).
HOURS_PER_MONTH = Decimal(730)


@dataclass(frozen=True)
class CostLine:
    """One priced dimension of one resource: ``price`` per ``unit``, ``quantity`` units a month.

    ``quantity_max`` is the monthly quantity at the resource's maximum (autoscaling); None when it
    has one size. ``unpriced`` says why a billable resource has no price here (quantity and price
    are then 0). ``usage`` marks quantities taken from the usage file (or its stated default).
    """

    resource: str  # the recorded resource's name (the infracost "name")
    type: str  # its type token
    name: str  # what is billed, e.g. "Instance usage (Linux, on-demand, g5.xlarge)"
    unit: str  # "hours", "vCPU-hours", "GB-months", "GB", "months", ...
    price: Decimal  # per unit
    quantity: Decimal  # units per month, at the minimum
    quantity_max: Decimal | None = None
    assumption: str = ""
    source: str = ""  # the price row's source (URL and date)
    pool: str | None = None
    component: str = ""  # filled in by :func:`preview.cost.estimate` from the resource's parents
    usage: bool = False
    unpriced: str = ""
    urn: str = ""

    @classmethod
    def of(cls, resource: Recorded, name: str, unit: str, price: Decimal, quantity: Decimal, **extra: Any) -> CostLine:
        """A line for a recorded resource (its name, type and URN filled in)."""
        return cls(
            resource=resource.name,
            type=resource.type,
            urn=resource.urn,
            name=name,
            unit=unit,
            price=price,
            quantity=quantity,
            **extra,
        )

    @classmethod
    def missing(cls, resource: Recorded, name: str, reason: str, **extra: Any) -> CostLine:
        """A billable dimension this estimate cannot price, and why (shown, never silently zero)."""
        return cls.of(resource, name, "", Decimal(0), Decimal(0), unpriced=reason, **extra)

    @property
    def monthly(self) -> Decimal:
        return self.price * self.quantity

    @property
    def monthly_max(self) -> Decimal:
        return self.price * (self.quantity if self.quantity_max is None else self.quantity_max)

    @property
    def hourly_quantity(self) -> Decimal:
        return self.quantity / HOURS_PER_MONTH

    def to_json(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "pool": self.pool,
            "resource": self.resource,
            "type": self.type,
            "name": self.name,
            "unit": self.unit,
            "price": money(self.price, 6),
            "monthly_quantity": money(self.quantity, 4),
            "monthly_quantity_max": None if self.quantity_max is None else money(self.quantity_max, 4),
            "monthly_cost": money(self.monthly),
            "monthly_cost_max": money(self.monthly_max),
            "assumption": self.assumption,
            "source": self.source,
            "usage": self.usage,
            "unpriced": self.unpriced,
        }


def money(value: Decimal, places: int = 2) -> str:
    """A decimal string with ``places`` digits after the point (no exponent, no float on the way)."""
    return str(value.quantize(Decimal(1).scaleb(-places)))


@dataclass(frozen=True)
class CostContext:
    """What a ``cost`` hook may read besides the recorded resources: validated settings, pools, usage."""

    target_settings: BaseModel
    pool_settings: Mapping[str, BaseModel]
    pools: Mapping[str, Pool]  # the blueprint's pools (capacity a node pool must hold)
    usage: Usage
    workload_pools: Mapping[str, str] = field(default_factory=dict)  # workload resource name -> pool
    resources: Sequence[Recorded] = ()

    def parent_of(self, resource: Recorded) -> Recorded | None:
        return next((r for r in self.resources if r.urn == resource.parent), None)

    def siblings(self, resource: Recorded, token: str) -> list[Recorded]:
        """Resources of type ``token`` with the same parent (a launch template next to its group)."""
        return [r for r in self.resources if r.type == token and r.parent == resource.parent]

    def pool_of(self, resource: Recorded) -> str | None:
        """The pool of the nearest ancestor named like a workload (or a pool component)."""
        current: Recorded | None = resource
        while current is not None:
            if current.name in self.workload_pools:
                return self.workload_pools[current.name]
            if not current.custom and current.name in self.pools:
                return current.name
            current = self.parent_of(current)
        return None
