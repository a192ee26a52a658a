"""The Azure footing of a stack: provider, resource group, VNet with NAT egress, Log Analytics, the apps'
managed identity and a private Key Vault.

Created once, on first use, as the ``gpu-platform:azure:Foundation`` component; the Container Apps
environment (``environment.py``) comes after the pools, which decide its workload profiles.

- Subnets are cut from ``vnet_cidr`` in eighths: apps (delegated to Microsoft.App/environments),
  postgres (delegated to Microsoft.DBforPostgreSQL/flexibleServers), private endpoints, TURN. The apps
  and TURN subnets leave through one NAT gateway (``defaultOutboundAccess: false``: no implicit egress).
- Key Vault uses Azure RBAC (no access policies), purge protection and soft delete, no public network
  access: Container Apps read secrets through its private endpoint and the apps' user-assigned identity,
  which holds Key Vault Secrets User on this vault only. Pulumi writes secrets through ARM
  (Microsoft.KeyVault/vaults/secrets), the management plane, which the vault's firewall does not gate.
- Every taggable resource is tagged with the stack and environment (the AWS target's default tags).
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.keyvault as keyvault
import pulumi_azure_native.managedidentity as managedidentity
import pulumi_azure_native.monitor as monitor
import pulumi_azure_native.network as network
import pulumi_azure_native.operationalinsights as operationalinsights
import pulumi_azure_native.privatedns as privatedns
import pulumi_azure_native.resources as resources
from pulumi_azure_native.provider import Provider

from components.protocol import TargetContext
from targets.azure.settings import SUBNET_SPLIT_BITS, AzureSettings

# Built-in role: read secret contents (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
SUBNETS = ("apps", "postgres", "endpoints", "turn")
DELEGATIONS = {"apps": "Microsoft.App/environments", "postgres": "Microsoft.DBforPostgreSQL/flexibleServers"}
# Log Analytics keeps 30-730 days on PerGB2018; the profile's shorter dev retention is raised to the floor.
LOG_RETENTION_RANGE = (30, 730)


def suffix(*parts: str, length: int = 6) -> str:
    """A short stable hash for globally unique names (Key Vault, Postgres servers): same stack, same name."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


class Foundation(pulumi.ComponentResource):
    """Provider, resource group, network, logs, identity and Key Vault for one stack."""

    def __init__(self, name: str, context: TargetContext[AzureSettings], settings: AzureSettings) -> None:
        super().__init__("gpu-platform:azure:Foundation", name, None, None)
        assert settings.subscription_id, "targets/azure/settings.py:requirements asks for it before any resource"
        self.stack = context.stack
        self.profile = context.profile
        self.settings = settings
        self.prefix = f"gp-{context.stack}"
        self.unique = suffix(settings.subscription_id, context.stack)
        self.tags = {
            "gpu-platform:stack": context.stack,
            "gpu-platform:environment": context.profile.name,
            "gpu-platform:managed-by": "pulumi",
        }
        self.provider = Provider(
            f"{name}-provider",
            subscription_id=settings.subscription_id,
            location=settings.location,
            opts=pulumi.ResourceOptions(parent=self),
        )
        opts = self.opts(self)
        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(provider=self.provider))
        self.tenant_id = client.tenant_id
        self.group = resources.ResourceGroup(
            f"{name}-group", resource_group_name=self.prefix, location=settings.location, tags=self.tags, opts=opts
        )
        self.subnets = self._network(name, opts)
        self.workspace = operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=self.group.name,
            workspace_name=f"{self.prefix}-logs",
            sku={"name": "PerGB2018"},
            retention_in_days=min(max(context.profile.log_retention_days, LOG_RETENTION_RANGE[0]), 730),
            tags=self.tags,
            opts=opts,
        )
        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-apps-identity",
            resource_group_name=self.group.name,
            resource_name_=f"{self.prefix}-apps",
            tags=self.tags,
            opts=opts,
        )
        self.vault = self._vault(name, opts)
        self.register_outputs({"resource_group": self.group.name, "vault": self.vault.name})

    def opts(self, parent: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
        """Options for a resource of this stack: its provider, its parent."""
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, **extra)

    def stateful_options(self, protect: bool | None = None) -> pulumi.ResourceOptions:
        """``protect`` + ``retain_on_delete`` for state (by default: where the profile protects state)."""
        keep = self.profile.protect_stateful if protect is None else protect
        return pulumi.ResourceOptions(protect=keep, retain_on_delete=keep)

    # -- network -----------------------------------------------------------
    def _network(self, name: str, opts: pulumi.ResourceOptions) -> dict[str, network.Subnet]:
        """VNet, NAT gateway and the four subnets (created one after another: ARM serialises subnet writes)."""
        vnet_cidr = ipaddress.IPv4Network(self.settings.vnet_cidr)
        blocks = list(vnet_cidr.subnets(prefixlen_diff=SUBNET_SPLIT_BITS))
        self.cidrs = {role: str(blocks[index]) for index, role in enumerate(SUBNETS)}
        self.vnet = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=self.group.name,
            virtual_network_name=f"{self.prefix}-vnet",
            address_space={"address_prefixes": [str(vnet_cidr)]},
            tags=self.tags,
            opts=opts,
        )
        egress_ip = network.PublicIPAddress(
            f"{name}-nat-ip",
            resource_group_name=self.group.name,
            sku={"name": "Standard"},
            public_ip_allocation_method="Static",
            tags=self.tags,
            opts=opts,
        )
        self.nat = network.NatGateway(
            f"{name}-nat",
            resource_group_name=self.group.name,
            sku={"name": "Standard"},
            public_ip_addresses=[{"id": egress_ip.id}],
            tags=self.tags,
            opts=opts,
        )
        subnets: dict[str, network.Subnet] = {}
        previous: list[pulumi.Resource] = []
        for role in SUBNETS:
            delegation = DELEGATIONS.get(role)
            subnet = network.Subnet(
                f"{name}-{role}-subnet",
                resource_group_name=self.group.name,
                virtual_network_name=self.vnet.name,
                subnet_name=role,
                address_prefix=self.cidrs[role],
                delegations=[{"name": role, "service_name": delegation}] if delegation else None,
                nat_gateway={"id": self.nat.id} if role in ("apps", "turn") else None,
                default_outbound_access=False,
                private_endpoint_network_policies="Disabled" if role == "endpoints" else None,
                service_endpoints=[{"service": "Microsoft.Storage"}] if role == "apps" else None,
                opts=self.opts(self, depends_on=previous),
            )
            subnets[role] = subnet
            previous = [subnet]
        return subnets

    def private_zone(self, name: str, zone: str, parent: pulumi.Resource) -> privatedns.PrivateZone:
        """A private DNS zone linked to the VNet (no auto-registration)."""
        found = privatedns.PrivateZone(
            f"{name}-zone",
            resource_group_name=self.group.name,
            private_zone_name=zone,
            location="global",
            tags=self.tags,
            opts=self.opts(parent),
        )
        privatedns.VirtualNetworkLink(
            f"{name}-zone-link",
            resource_group_name=self.group.name,
            private_zone_name=found.name,
            virtual_network_link_name=f"{self.prefix}-vnet",
            virtual_network={"id": self.vnet.id},
            registration_enabled=False,
            location="global",
            tags=self.tags,
            opts=self.opts(parent),
        )
        return found

    def private_endpoint(
        self, name: str, target: pulumi.Output[str], group: str, zone: str, parent: pulumi.Resource
    ) -> None:
        """A private endpoint for ``target`` in the endpoints subnet, registered in its privatelink zone."""
        endpoint = network.PrivateEndpoint(
            f"{name}-endpoint",
            resource_group_name=self.group.name,
            subnet={"id": self.subnets["endpoints"].id},
            private_link_service_connections=[{"name": name, "private_link_service_id": target, "group_ids": [group]}],
            tags=self.tags,
            opts=self.opts(parent),
        )
        dns = self.private_zone(f"{name}-privatelink", zone, parent)
        network.PrivateDnsZoneGroup(
            f"{name}-endpoint-dns",
            resource_group_name=self.group.name,
            private_endpoint_name=endpoint.name,
            private_dns_zone_group_name="default",
            private_dns_zone_configs=[{"name": "default", "private_dns_zone_id": dns.id}],
            opts=self.opts(parent),
        )

    # -- secrets -----------------------------------------------------------
    def _vault(self, name: str, opts: pulumi.ResourceOptions) -> keyvault.Vault:
        vault = keyvault.Vault(
            f"{name}-vault",
            resource_group_name=self.group.name,
            vault_name=f"gp{self.stack[:12]}{self.unique}".replace("-", "")[:24],
            properties={
                "tenant_id": self.tenant_id,
                "sku": {"family": "A", "name": keyvault.SkuName.STANDARD},
                "enable_rbac_authorization": True,
                "enable_soft_delete": True,
                "soft_delete_retention_in_days": 90,
                "enable_purge_protection": True,
                "public_network_access": "Disabled",
                "network_acls": {"default_action": "Deny", "bypass": "AzureServices"},
            },
            tags=self.tags,
            opts=pulumi.ResourceOptions.merge(opts, self.stateful_options()),
        )
        self.private_endpoint(f"{name}-vault", vault.id, "vault", "privatelink.vaultcore.azure.net", self)
        authorization.RoleAssignment(
            f"{name}-apps-read-secrets",
            principal_id=self.identity.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=pulumi.Output.concat(
                "/subscriptions/",
                self.settings.subscription_id or "",
                "/providers/Microsoft.Authorization/roleDefinitions/",
                KEY_VAULT_SECRETS_USER,
            ),
            scope=vault.id,
            opts=opts,
        )
        self.diagnostics(f"{name}-vault", vault.id, self)
        self.lock(f"{name}-vault", vault.id, self)
        return vault

    def secret(self, name: str, value: pulumi.Input[str], parent: pulumi.Resource) -> pulumi.Output[str]:
        """Store ``value`` in the vault; returns the versionless secret URI Container Apps reference."""
        stored = keyvault.Secret(
            f"{name}-secret",
            resource_group_name=self.group.name,
            vault_name=self.vault.name,
            secret_name=name,
            properties={"value": pulumi.Output.secret(value), "attributes": {"enabled": True}},
            tags=self.tags,
            opts=self.opts(parent),
        )
        # The vault's URI plus secrets/<name>: the versionless form, so Container Apps picks up a new version.
        return pulumi.Output.concat("https://", self.vault.name, ".vault.azure.net/secrets/", stored.name)

    # -- operations --------------------------------------------------------
    def diagnostics(self, name: str, resource_id: pulumi.Input[str], parent: pulumi.Resource) -> None:
        """Every log category and metric of a resource into the stack's Log Analytics workspace."""
        monitor.DiagnosticSetting(
            f"{name}-diagnostics",
            name="to-log-analytics",
            resource_uri=resource_id,
            workspace_id=self.workspace.id,
            logs=[{"category_group": "allLogs", "enabled": True}],
            metrics=[{"category": "AllMetrics", "enabled": True}],
            opts=self.opts(parent),
        )

    def lock(self, name: str, resource_id: pulumi.Input[str], parent: pulumi.Resource) -> None:
        """A CanNotDelete lock on stateful resources where the profile protects state (prod)."""
        if not self.profile.protect_stateful:
            return
        authorization.ManagementLockByScope(
            f"{name}-lock",
            lock_name="gpu-platform-protect",
            level="CanNotDelete",
            scope=resource_id,
            notes=f"gpu-platform {self.stack}: stateful resource (the {self.profile.name} profile protects state)",
            opts=self.opts(parent),
        )
