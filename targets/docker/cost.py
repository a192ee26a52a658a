"""The Docker target's ``cost`` hook: each engine host at the hourly figure the stack gives it.

The program creates containers on hosts someone already runs (a laptop, a rented server), so
nothing it registers has a list price. A host's hourly figure comes from, first match wins:

1. the usage file's ``resource_usage: {"ssh://ops@gpu-1": {hourly_cost: 0.50}}`` (keyed by the
   host as the pool settings name it): an override for one estimate, e.g. a what-if;
2. the stack's ``gpu-platform:docker.engines.<host>.hourly_cost`` (targets/docker/settings.py),
   the figure that lives with the deployment;
3. the usage file's ``resource_type_default_usage: {docker:host: {hourly_cost: ...}}``, one figure
   for every host the stack does not price.

Without one a host is shown at zero with that reason, never silently left out. Pools on one host
are one line.
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
    rate, assumption, source = _rate(host, context)
    return CostLine(
        resource=host,
        type=HOST_TYPE,
        name=f"Engine host of pool(s) {', '.join(pools)}",
        unit="hours",
        price=rate,
        quantity=HOURS_PER_MONTH,
        assumption=assumption,
        source=source,
        pool=pools[0] if len(pools) == 1 else None,
        component="hosts",
        usage=True,
    )


def _rate(host: str, context: CostContext) -> tuple[Decimal, str, str]:
    """(USD per hour, the assumption shown, the source shown) by the precedence in the module docstring."""
    if "hourly_cost" in (context.usage.by_resource.get(host) or {}):
        rate, how = context.usage.value(host, HOST_TYPE, "hourly_cost", Decimal(0))
        return rate, how, "the usage file (overrides the stack's figure)"
    engines = getattr(context.target_settings, "engines", {}) or {}
    configured = getattr(engines.get(host), "hourly_cost", None)
    if configured is not None:
        key = f"gpu-platform:docker.engines.{host}.hourly_cost"
        return Decimal(str(configured)), f"hourly_cost={configured} ({key})", "the stack's config"
    rate, how = context.usage.value(host, HOST_TYPE, "hourly_cost", Decimal(0))
    if "default" not in how:
        return rate, how, "the usage file"
    reason = (
        f'no hourly figure for this host: zero (set gpu-platform:docker.engines["{host}"].hourly_cost in the '
        f"stack, or resource_usage.{host!r}.hourly_cost in a usage file)"
    )
    return rate, reason, ""
