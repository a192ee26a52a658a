"""The Docker target's ``cost`` hook: each engine host at the hourly figure the stack gives it.

The program creates containers on hosts someone already runs (a laptop, a rented server), so
nothing it registers has a list price. A stack that wants a figure gives a host an hourly cost
in its usage file, keyed by the host as the pool settings name it (``resource_usage:
{"ssh://ops@gpu-1": {hourly_cost: 0.50}}``), or every host one figure
(``resource_type_default_usage: {docker:host: {hourly_cost: ...}}``). Without one a host is shown
at zero with that reason, never silently left out. Pools on one host are one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from preview.cost.model import HOURS_PER_MONTH, CostContext, CostLine

if TYPE_CHECKING:
    from preview.mocks import Recorded

HOST_TYPE = "docker:host"  # not a resource type: an engine host the stack's pools name
LOCAL = "local engine"


def cost(resources: Sequence[Recorded], context: CostContext) -> list[CostLine]:
    """The hook (``TargetPlugin.cost``): one line per distinct engine host."""
    if not resources:
        return []
    hosts: dict[str, list[str]] = {}
    for pool in context.pools:
        host = str(getattr(context.pool_settings.get(pool), "host", "") or LOCAL)
        hosts.setdefault(host, []).append(pool)
    return [_host(host, pools, context) for host, pools in hosts.items()]


def _host(host: str, pools: list[str], context: CostContext) -> CostLine:
    rate, how = context.usage.value(host, HOST_TYPE, "hourly_cost", Decimal(0))
    given = "default" not in how
    reason = f"no hourly figure for this host: zero (set resource_usage.{host!r}.hourly_cost in a usage file)"
    return CostLine(
        resource=host,
        type=HOST_TYPE,
        name=f"Engine host of pool(s) {', '.join(pools)}",
        unit="hours",
        price=rate,
        quantity=HOURS_PER_MONTH,
        assumption=how if given else reason,
        source="the stack's usage file" if given else "",
        pool=pools[0] if len(pools) == 1 else None,
        component="hosts",
        usage=True,
    )
