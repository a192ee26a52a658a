"""Computed outputs and invoke results pulumi-azure-native would report, for the offline preview (SDK-free)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MOCK_SUBSCRIPTION = "00000000-0000-4000-8000-000000000000"
MOCK_TENANT = "11111111-1111-4111-8111-111111111111"
MOCK_LOCATION = "swedencentral"


# Name inputs that do not follow the "<kind>Name" / "<end of kind>Name" rule below.
_NAME_KEYS = {"VirtualMachineScaleSet": "vmScaleSetName", "UserAssignedIdentity": "resourceName"}


def _name(token: str, name: str, inputs: Mapping[str, Any]) -> str:
    """The resource's Azure name: its own ``<kind>Name`` input (``vaultName``, ``originGroupName`` for an
    AFDOriginGroup, ``accountName`` for a StorageAccount: the kind ends with it), never a parent's, else ours."""
    kind = token.rsplit(":", 1)[-1]
    wanted = _NAME_KEYS.get(kind)
    plain = kind.removeprefix("AFD").lower()
    candidates = [k for k in inputs if k.endswith("Name") and (k == wanted or plain.endswith(k[:-4].lower()))]
    own = max(candidates, key=len, default=None)  # originGroupName over a shorter match
    value = inputs.get(own) if own else None
    return value if isinstance(value, str) else name


def resource_outputs(token: str, name: str, rid: str, inputs: Mapping[str, Any], outputs: dict[str, Any]) -> None:
    """Names, FQDNs, identities and addresses the way Azure computes them."""
    resource_name = _name(token, name, inputs)
    outputs.setdefault("name", resource_name)
    kind = token.rsplit(":", 1)[-1]
    identity = outputs.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # The API takes a list of identity ids and answers with a map id -> {principalId, clientId}.
        assigned = identity["userAssignedIdentities"]
        outputs["identity"] = {
            **identity,
            "userAssignedIdentities": {i: {"principalId": rid[:8], "clientId": rid[8:16]} for i in assigned},
        }
    if kind == "UserAssignedIdentity":
        outputs["principalId"] = f"{rid[:8]}-0000-4000-8000-{rid[:12]}"
        outputs["clientId"] = f"{rid[8:16]}-0000-4000-8000-{rid[12:24]}"
        outputs["tenantId"] = MOCK_TENANT
    elif kind == "ManagedEnvironment":
        outputs["defaultDomain"] = f"{rid[:10]}.{MOCK_LOCATION}.azurecontainerapps.io"
        outputs["staticIp"] = "10.60.0.62"
    elif kind == "Server" and token.startswith("azure-native:dbforpostgresql"):
        outputs["fullyQualifiedDomainName"] = f"{resource_name}.postgres.database.azure.com"
    elif kind == "AFDEndpoint":
        outputs["hostName"] = f"{resource_name}-{rid[:16]}.z01.azurefd.net"
    elif kind == "PublicIPAddress":
        outputs["ipAddress"] = f"20.91.{int(rid[:2], 16)}.{int(rid[2:4], 16)}"
    elif kind == "Workspace":
        outputs["customerId"] = f"{rid[:8]}-0000-4000-8000-{rid[:12]}"


def call(token: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
    """The client configuration the Key Vault's tenant comes from."""
    del args
    if token == "azure-native:authorization:getClientConfig":
        return {
            "clientId": "preview",
            "objectId": MOCK_TENANT,
            "subscriptionId": MOCK_SUBSCRIPTION,
            "tenantId": MOCK_TENANT,
        }
    return None
