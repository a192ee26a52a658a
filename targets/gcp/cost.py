"""The GCP target's ``cost`` hook: monthly cost lines for what the program registered (SDK-free).

Not priced yet: every billable type the target registers is listed with the reason, never silently zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from preview.cost.model import CostContext, CostLine

if TYPE_CHECKING:
    from preview.mocks import Recorded

_REASON = "the gcp target has no price table yet (targets/gcp/prices.yaml)"
BILLABLE: Mapping[str, str] = {
    "gcp:cloudrunv2/service:Service": "Cloud Run service",
    "gcp:compute/instance:Instance": "Compute Engine VM",
    "gcp:compute/disk:Disk": "Persistent disk",
    "gcp:sql/databaseInstance:DatabaseInstance": "Cloud SQL instance",
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": "Load balancer forwarding rule",
    "gcp:compute/forwardingRule:ForwardingRule": "Network load balancer forwarding rule",
    "gcp:compute/routerNat:RouterNat": "Cloud NAT gateway",
    "gcp:compute/securityPolicy:SecurityPolicy": "Cloud Armor policy",
    "gcp:secretmanager/secretVersion:SecretVersion": "Secret version",
    "gcp:storage/bucket:Bucket": "Cloud Storage bucket",
}


def cost(resources: Sequence[Recorded], context: CostContext) -> list[CostLine]:
    """The hook (``TargetPlugin.cost``): each billable recorded resource, unpriced with the reason."""
    return [
        CostLine.missing(r, BILLABLE[r.type], _REASON, pool=context.pool_of(r)) for r in resources if r.type in BILLABLE
    ]
