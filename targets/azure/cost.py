"""The Azure target's ``cost`` hook: monthly cost lines for what the program registered (SDK-free).

Not priced yet: every billable type the target registers is listed with the reason, never silently zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from preview.cost.model import CostContext, CostLine

if TYPE_CHECKING:
    from preview.mocks import Recorded

_REASON = "the azure target has no price table yet (targets/azure/prices.yaml)"
BILLABLE: Mapping[str, str] = {
    "azure-native:app:ContainerApp": "Container App",
    "azure-native:app:ManagedEnvironment": "Container Apps environment",
    "azure-native:dbforpostgresql:Server": "PostgreSQL flexible server",
    "azure-native:cdn:Profile": "Front Door profile",
    "azure-native:frontdoor:Policy": "Front Door WAF policy",
    "azure-native:network:NatGateway": "NAT gateway",
    "azure-native:network:PublicIPAddress": "Public IP address",
    "azure-native:network:LoadBalancer": "Standard Load Balancer",
    "azure-native:compute:VirtualMachineScaleSet": "VM scale set",
    "azure-native:keyvault:Secret": "Key Vault secret",
    "azure-native:operationalinsights:Workspace": "Log Analytics workspace",
    "azure-native:storage:FileShare": "Azure Files share",
    "azure-native:network:PrivateEndpoint": "Private endpoint",
    "azure-native:monitor:MetricAlert": "Metric alert",
}


def cost(resources: Sequence[Recorded], context: CostContext) -> list[CostLine]:
    """The hook (``TargetPlugin.cost``): each billable recorded resource, unpriced with the reason."""
    return [
        CostLine.missing(r, BILLABLE[r.type], _REASON, pool=context.pool_of(r)) for r in resources if r.type in BILLABLE
    ]
