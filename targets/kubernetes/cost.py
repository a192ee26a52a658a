"""The Kubernetes target's ``cost`` hook: node pools priced from the instance type a pool declares.

The program creates no nodes: a pool's nodes are the cluster's. A pool declares its VM type with
the well-known node label ``node.kubernetes.io/instance-type`` in its ``node_selector`` (the
label the kubelet sets from the cloud provider; kubernetes.io/docs/reference/labels-annotations-
taints/#nodekubernetesioinstance-type), and the estimate prices as many nodes of that type as the
blueprint's pool (cpu, memory, GPUs) needs, at the first cloud price table that lists the type.
A pool without the label, or with a type no table lists, is shown unpriced with the reason.
Volumes and load balancers depend on the cluster's storage and load-balancer classes: unpriced.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from preview.cost.model import HOURS_PER_MONTH, CostContext, CostLine
from preview.cost.prices import find_instance

if TYPE_CHECKING:
    from preview.mocks import Recorded
    from stacks.spec import Pool

INSTANCE_LABEL = "node.kubernetes.io/instance-type"
POOL_TYPE = "kubernetes:node-pool"  # not a resource type: a pool of nodes the cluster provides
_UNPRICED = {
    "kubernetes:core/v1:PersistentVolumeClaim": "volume price depends on the cluster's storage class",
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": (
        "the gateway's load balancer is the cluster's (its class decides the price)"
    ),
}


def cost(resources: Sequence[Recorded], context: CostContext) -> list[CostLine]:
    """The hook (``TargetPlugin.cost``): a line per node pool, and the billable objects it cannot price."""
    if not resources:
        return []
    lines = [_pool(name, pool, context) for name, pool in context.pools.items()]
    lines += [
        CostLine.missing(r, r.type.rsplit(":", 1)[-1], _UNPRICED[r.type], pool=context.pool_of(r))
        for r in resources
        if r.type in _UNPRICED
    ]
    return lines


def nodes_needed(pool: Pool, vcpu: int, memory_gib: Decimal, gpus: int) -> int:
    """Nodes of one size that hold the pool's cpu, memory and GPUs (at least one)."""
    wanted = [math.ceil(Decimal(str(pool.cpu)) / vcpu), math.ceil(Decimal(pool.memory) / (memory_gib * 1024))]
    if pool.gpus:
        wanted.append(math.ceil(pool.gpus / gpus) if gpus else 0)
    return max(1, *wanted)


def _pool(name: str, pool: Pool, context: CostContext) -> CostLine:
    settings = context.pool_settings.get(name)
    selector = dict(getattr(settings, "node_selector", {}) or {})
    instance_type = selector.get(INSTANCE_LABEL)
    line = CostLine(
        resource=f"pool/{name}",
        type=POOL_TYPE,
        name=f"Nodes of pool {name}",
        unit="",
        price=Decimal(0),
        quantity=Decimal(0),
        pool=name,
        component=f"pool {name}",
    )
    if not instance_type:
        return _unpriced(line, f"the pool declares no {INSTANCE_LABEL} in its node_selector")
    found = find_instance(instance_type)
    if found is None:
        return _unpriced(line, f"{instance_type} is in no price table (targets/*/prices.yaml)")
    table, region, price = found
    gpus = int(price.attribute("gpus", 0))
    if pool.gpus and not gpus:
        return _unpriced(line, f"{instance_type} has no GPU but the pool has {pool.gpus}")
    count = nodes_needed(pool, int(price.attribute("vcpu")), Decimal(str(price.attribute("memory_gib"))), gpus)
    return CostLine(
        resource=line.resource,
        type=POOL_TYPE,
        name=f"Nodes ({instance_type}, on-demand)",
        unit="hours",
        price=price.usd,
        quantity=HOURS_PER_MONTH * count,
        assumption=(
            f"{count} node(s) hold the pool's {pool.cpu:g} cpu / {pool.memory} MiB / {pool.gpus} GPU; "
            f"{table.path.parent.name} {region} list price; always on"
        ),
        source=price.source,
        pool=name,
        component=line.component,
    )


def _unpriced(line: CostLine, reason: str) -> CostLine:
    return CostLine(
        resource=line.resource,
        type=line.type,
        name=line.name,
        unit="",
        price=Decimal(0),
        quantity=Decimal(0),
        pool=line.pool,
        component=line.component,
        unpriced=reason,
    )
