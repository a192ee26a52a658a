"""Azure policy rules: compliant baselines pass, each mutation away from them fails.

Every call goes through ``tests/policy_harness.py``, i.e. CrossGuard policy objects
built by ``policy.rules.to_policy`` from ``policy/rules/azure.py``. Inputs are written
the way the engine sends pulumi-azure-native 3.29.0 inputs (camelCase, nested as the
SDK's ``*Args`` classes spell them), and the baselines follow what the Azure target
emits (targets/azure/): a private Flexible Server with
require_secure_transport and TLS 1.2, a vault with purge protection and RBAC, Container
Apps with a user-assigned identity and Key Vault secret references, a Front Door WAF in
Prevention with a per-IP rate limit, CanNotDelete locks and diagnostic settings in prod.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.rules import POLICIES, azure, to_policy
from policy.rules.base import Subject
from tests import policy_harness
from tests.policy_harness import Res, mutate, stack_violations, violations

# Provider tokens (pulumi-azure-native 3.29.0, `_internal_init` type strings). They join
# tests/tokens.py when the Azure target is registered (its contract test needs a built owner).
SERVER = "azure-native:dbforpostgresql:Server"
CONFIGURATION = "azure-native:dbforpostgresql:Configuration"
FIREWALL_RULE = "azure-native:dbforpostgresql:FirewallRule"
CONTAINER_APP = "azure-native:app:ContainerApp"
ENVIRONMENT = "azure-native:app:ManagedEnvironment"
VAULT = "azure-native:keyvault:Vault"
STORAGE = "azure-native:storage:StorageAccount"
REGISTRY = "azure-native:containerregistry:Registry"
SCALE_SET = "azure-native:compute:VirtualMachineScaleSet"
NSG = "azure-native:network:NetworkSecurityGroup"
SECURITY_RULE = "azure-native:network:SecurityRule"
FRONT_DOOR_WAF = "azure-native:frontdoor:Policy"
CDN_WAF = "azure-native:cdn:Policy"
GATEWAY_WAF = "azure-native:network:WebApplicationFirewallPolicy"
GATEWAY = "azure-native:network:ApplicationGateway"
CUSTOM_DOMAIN = "azure-native:cdn:AFDCustomDomain"
ROUTE = "azure-native:cdn:Route"
PROFILE = "azure-native:cdn:Profile"
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
LOCK = "azure-native:authorization:ManagementLockByScope"
GROUP_LOCK = "azure-native:authorization:ManagementLockAtResourceGroupLevel"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
DISK = "azure-native:compute:Disk"
WORKSPACE_TYPE = "azure-native:operationalinsights:Workspace"
ENDPOINT = "azure-native:cdn:AFDEndpoint"
SECURITY_POLICY = "azure-native:cdn:SecurityPolicy"

ALL = ("dev", "staging", "prod")
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/gpu-platform-prod"
IDENTITY = f"{SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/apps"
WORKSPACE = f"{SUB}/providers/Microsoft.OperationalInsights/workspaces/logs"
PRIVATE_ZONE = "db.private.postgres.database.azure.com"


def tags(environment: str = "prod") -> dict[str, str]:
    return {
        "gpu-platform:stack": f"azure-{environment}",
        "gpu-platform:environment": environment,
        "gpu-platform:managed-by": "pulumi",
    }


@pytest.fixture(autouse=True)
def azure_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Until the Azure target is registered the pack's POLICIES lack these rules: build them the same way."""
    fallback = {rule.name: rule for rule in azure.RULES}

    def find(name: str) -> Any:
        found = next((p for p in POLICIES if p.name == name), None)
        return found if found is not None else to_policy(fallback[name])

    monkeypatch.setattr(policy_harness, "policy", find)


# -- compliant baselines ---------------------------------------------------------------

SERVER_OK: dict[str, Any] = {
    "serverName": "gpu-platform-prod-db",
    "version": "16",
    "sku": {"name": "Standard_D4ds_v5", "tier": "GeneralPurpose"},
    "storage": {"storageSizeGB": 128, "autoGrow": "Enabled"},
    "network": {
        "delegatedSubnetResourceId": f"{SUB}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/postgres",
        "privateDnsZoneArmResourceId": f"{SUB}/providers/Microsoft.Network/privateDnsZones/{PRIVATE_ZONE}",
        "publicNetworkAccess": "Disabled",
    },
    "backup": {"backupRetentionDays": 30, "geoRedundantBackup": "Enabled"},
    "highAvailability": {"mode": "ZoneRedundant"},
    "tags": tags(),
}
REPLICA_OK: dict[str, Any] = {
    "serverName": "gpu-platform-prod-db-replica-1",
    "createMode": "Replica",
    "sourceServerResourceId": f"{SUB}/providers/Microsoft.DBforPostgreSQL/flexibleServers/gpu-platform-prod-db",
    "network": SERVER_OK["network"],
    "tags": tags(),
}
SECURE_TRANSPORT_OK: dict[str, Any] = {
    "serverName": "gpu-platform-prod-db",
    "configurationName": "require_secure_transport",
    "value": "on",
    "source": "user-override",
}
TLS_CONFIG_OK: dict[str, Any] = {
    "serverName": "gpu-platform-prod-db",
    "configurationName": "ssl_min_protocol_version",
    "value": "TLSv1.2",
    "source": "user-override",
}
FIREWALL_RULE_OK: dict[str, Any] = {
    "serverName": "gpu-platform-prod-db",
    "startIpAddress": "10.0.8.0",
    "endIpAddress": "10.0.8.255",
}
CONTAINER_APP_OK: dict[str, Any] = {
    "identity": {"type": "UserAssigned", "userAssignedIdentities": [IDENTITY]},
    "managedEnvironmentId": f"{SUB}/providers/Microsoft.App/managedEnvironments/env",
    "workloadProfileName": "Consumption",
    "configuration": {
        "secrets": [
            {
                "name": "db-password",
                "keyVaultUrl": "https://kv.vault.azure.net/secrets/db-password",
                "identity": IDENTITY,
            }
        ],
        "registries": [{"server": "gpuplatform.azurecr.io", "identity": IDENTITY}],
        "ingress": {"external": True, "targetPort": 8080, "transport": "http", "allowInsecure": False},
    },
    "template": {
        "containers": [
            {
                "name": "api",
                "image": "gpuplatform.azurecr.io/api:1.4.2",
                "resources": {"cpu": 1.0, "memory": "2Gi"},
                "env": [
                    {"name": "LOG_LEVEL", "value": "info"},
                    {"name": "DB_PASSWORD", "secretRef": "db-password"},
                ],
            }
        ],
        "scale": {"minReplicas": 2, "maxReplicas": 10},
    },
    "tags": tags(),
}
ENVIRONMENT_OK: dict[str, Any] = {
    "publicNetworkAccess": "Disabled",
    "vnetConfiguration": {"infrastructureSubnetId": f"{SUB}/subnets/apps", "internal": True},
    "appLogsConfiguration": {"destination": "azure-monitor"},
    "workloadProfiles": [{"name": "Consumption", "workloadProfileType": "Consumption"}],
    "zoneRedundant": True,
    "tags": tags(),
}
VAULT_OK: dict[str, Any] = {
    "properties": {
        "tenantId": "11111111-1111-1111-1111-111111111111",
        "sku": {"family": "A", "name": "standard"},
        "enableRbacAuthorization": True,
        "enablePurgeProtection": True,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "publicNetworkAccess": "Disabled",
        "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"},
    },
    "tags": tags(),
}
STORAGE_OK: dict[str, Any] = {
    "kind": "StorageV2",
    "sku": {"name": "Standard_ZRS"},
    "minimumTlsVersion": "TLS1_2",
    "enableHttpsTrafficOnly": True,
    "allowBlobPublicAccess": False,
    "publicNetworkAccess": "Disabled",
    "tags": tags(),
}
REGISTRY_OK: dict[str, Any] = {
    "sku": {"name": "Premium"},
    "adminUserEnabled": False,
    "anonymousPullEnabled": False,
    "publicNetworkAccess": "Disabled",
    "tags": tags(),
}
SCALE_SET_OK: dict[str, Any] = {
    "identity": {"type": "UserAssigned"},
    "sku": {"name": "Standard_D2s_v5", "capacity": 2},
    "upgradePolicy": {"mode": "Rolling"},
    "virtualMachineProfile": {
        "osProfile": {
            "computerNamePrefix": "turn",
            "adminUsername": "azureuser",
            "linuxConfiguration": {"disablePasswordAuthentication": True},
        },
        "securityProfile": {"encryptionAtHost": True},
        "storageProfile": {
            "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}}
        },
    },
    "tags": tags(),
}
TURN_RULES: list[dict[str, Any]] = [
    {
        "name": "turn-udp",
        "priority": 100,
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "Udp",
        "sourceAddressPrefix": "Internet",
        "sourcePortRange": "*",
        "destinationAddressPrefix": "*",
        "destinationPortRange": "3478",
    },
    {
        "name": "turn-relay",
        "priority": 110,
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "Udp",
        "sourceAddressPrefix": "*",
        "sourcePortRange": "*",
        "destinationAddressPrefix": "*",
        "destinationPortRange": "49152-65535",
    },
    {
        "name": "ssh-from-vnet",
        "priority": 120,
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "Tcp",
        "sourceAddressPrefix": "VirtualNetwork",
        "sourcePortRange": "*",
        "destinationAddressPrefix": "*",
        "destinationPortRange": "22",
    },
]
NSG_OK: dict[str, Any] = {"securityRules": TURN_RULES, "tags": tags()}
SECURITY_RULE_OK: dict[str, Any] = {**TURN_RULES[0], "networkSecurityGroupName": "turn"}
RATE_LIMIT_RULE: dict[str, Any] = {
    "name": "perip",
    "priority": 1,
    "ruleType": "RateLimitRule",
    "rateLimitThreshold": 6000,
    "rateLimitDurationInMinutes": 1,
    "groupBy": [{"variableName": "SocketAddr"}],
    "action": "Block",
    "enabledState": "Enabled",
    "matchConditions": [{"matchVariable": "RequestUri", "operator": "Any", "matchValue": []}],
}
FRONT_DOOR_WAF_OK: dict[str, Any] = {
    "sku": {"name": "Premium_AzureFrontDoor"},
    "location": "Global",
    "policySettings": {"enabledState": "Enabled", "mode": "Prevention"},
    "customRules": {"rules": [RATE_LIMIT_RULE]},
    "managedRules": {
        "managedRuleSets": [
            {"ruleSetType": "Microsoft_DefaultRuleSet", "ruleSetVersion": "2.1", "ruleSetAction": "Block"},
            {"ruleSetType": "Microsoft_BotManagerRuleSet", "ruleSetVersion": "1.1"},
        ]
    },
    "tags": tags(),
}
GATEWAY_WAF_OK: dict[str, Any] = {
    "policySettings": {"state": "Enabled", "mode": "Prevention", "requestBodyCheck": True},
    "customRules": [
        {
            "name": "perip",
            "priority": 1,
            "ruleType": "RateLimitRule",
            "rateLimitThreshold": 100,
            "rateLimitDuration": "OneMin",
            "groupByUserSession": [{"groupByVariables": [{"variableName": "ClientAddr"}]}],
            "action": "Block",
            "state": "Enabled",
            "matchConditions": [],
        }
    ],
    "managedRules": {"managedRuleSets": [{"ruleSetType": "OWASP", "ruleSetVersion": "3.2"}]},
    "tags": tags(),
}
CDN_WAF_OK: dict[str, Any] = {
    "sku": {"name": "Standard_Microsoft"},
    "location": "Global",
    "policySettings": {"enabledState": "Enabled", "mode": "Prevention"},
    "rateLimitRules": {
        "rules": [
            {
                "name": "perip",
                "priority": 1,
                "action": "Block",
                "rateLimitThreshold": 100,
                "rateLimitDurationInMinutes": 1,
                "enabledState": "Enabled",
                "matchConditions": [],
            }
        ]
    },
    "managedRules": {"managedRuleSets": [{"ruleSetType": "DefaultRuleSet", "ruleSetVersion": "1.0"}]},
}
GATEWAY_OK: dict[str, Any] = {
    "sku": {"name": "WAF_v2", "tier": "WAF_v2"},
    "sslPolicy": {"policyType": "Predefined", "policyName": "AppGwSslPolicy20220101S"},
    "tags": tags(),
}
GATEWAY_CUSTOM_TLS_OK: dict[str, Any] = {
    "sku": {"name": "WAF_v2", "tier": "WAF_v2"},
    "sslPolicy": {"policyType": "CustomV2", "minProtocolVersion": "TLSv1_3"},
    "tags": tags(),
}
CUSTOM_DOMAIN_OK: dict[str, Any] = {
    "hostName": "app.example.com",
    "tlsSettings": {"certificateType": "ManagedCertificate", "minimumTlsVersion": "TLS12"},
}
ROUTE_OK: dict[str, Any] = {
    "supportedProtocols": ["Http", "Https"],
    "httpsRedirect": "Enabled",
    "forwardingProtocol": "HttpsOnly",
    "patternsToMatch": ["/*"],
    "linkToDefaultDomain": "Disabled",
}

WORKSPACE_OK: dict[str, Any] = {"sku": {"name": "PerGB2018"}, "retentionInDays": 365, "tags": tags()}

BASELINES: dict[str, list[tuple[str, Mapping[str, Any]]]] = {
    WORKSPACE_TYPE: [("workspace", WORKSPACE_OK)],
    SERVER: [("server", SERVER_OK), ("replica", REPLICA_OK)],
    CONFIGURATION: [("secure-transport", SECURE_TRANSPORT_OK), ("tls-config", TLS_CONFIG_OK)],
    FIREWALL_RULE: [("firewall-rule", FIREWALL_RULE_OK)],
    CONTAINER_APP: [("container-app", CONTAINER_APP_OK)],
    ENVIRONMENT: [("environment", ENVIRONMENT_OK)],
    VAULT: [("vault", VAULT_OK)],
    STORAGE: [("storage", STORAGE_OK)],
    REGISTRY: [("registry", REGISTRY_OK)],
    SCALE_SET: [("scale-set", SCALE_SET_OK)],
    NSG: [("nsg", NSG_OK)],
    SECURITY_RULE: [("security-rule", SECURITY_RULE_OK)],
    FRONT_DOOR_WAF: [("front-door-waf", FRONT_DOOR_WAF_OK)],
    CDN_WAF: [("cdn-waf", CDN_WAF_OK)],
    GATEWAY_WAF: [("gateway-waf", GATEWAY_WAF_OK)],
    GATEWAY: [("gateway", GATEWAY_OK), ("gateway-custom-tls", GATEWAY_CUSTOM_TLS_OK)],
    CUSTOM_DOMAIN: [("custom-domain", CUSTOM_DOMAIN_OK)],
    ROUTE: [("route", ROUTE_OK)],
}

STAGING_PROD = ("staging", "prod")
# The resource rules as specified: name -> (types, security, environments), in pack order.
SPEC: dict[str, tuple[tuple[str, ...], bool, tuple[str, ...]]] = {
    "gpu-platform-azure-no-public-network-access": (
        (SERVER, FIREWALL_RULE, VAULT, STORAGE, REGISTRY, ENVIRONMENT),
        True,
        ALL,
    ),
    "gpu-platform-azure-nsg-no-world-admin-ports": ((NSG, SECURITY_RULE), True, ALL),
    "gpu-platform-azure-tls12": ((STORAGE, CUSTOM_DOMAIN, CONFIGURATION, GATEWAY), True, ALL),
    "gpu-platform-azure-secure-transport": ((CONFIGURATION, CONTAINER_APP, STORAGE, ROUTE), True, ALL),
    "gpu-platform-azure-postgres-backup-retention": ((SERVER,), True, STAGING_PROD),
    "gpu-platform-azure-postgres-geo-redundant-backup": ((SERVER,), True, ("prod",)),
    "gpu-platform-azure-zone-redundant": ((SERVER, ENVIRONMENT), False, ("prod",)),
    "gpu-platform-azure-log-retention": ((WORKSPACE_TYPE,), False, ALL),
    "gpu-platform-azure-registry-managed-identity": ((CONTAINER_APP, REGISTRY), True, ALL),
    "gpu-platform-azure-container-app-identity": ((CONTAINER_APP,), True, ALL),
    "gpu-platform-azure-secrets-from-key-vault": ((CONTAINER_APP,), True, ALL),
    "gpu-platform-azure-keyvault-recoverable": ((VAULT,), True, ALL),
    "gpu-platform-azure-vmss-no-password-login": ((SCALE_SET,), True, ALL),
    "gpu-platform-azure-vmss-encryption-at-host": ((SCALE_SET,), True, ALL),
    "gpu-platform-azure-waf-enabled": ((FRONT_DOOR_WAF, CDN_WAF, GATEWAY_WAF), True, ALL),
    "gpu-platform-azure-waf-prevention": ((FRONT_DOOR_WAF, CDN_WAF, GATEWAY_WAF), True, STAGING_PROD),
    "gpu-platform-azure-waf-rate-limit": ((FRONT_DOOR_WAF, CDN_WAF, GATEWAY_WAF), True, STAGING_PROD),
}
STACK_SPEC: dict[str, tuple[bool, tuple[str, ...]]] = {
    "gpu-platform-azure-postgres-admin-password": (True, ALL),
    "gpu-platform-azure-delete-lock": (True, ("prod",)),
    "gpu-platform-azure-diagnostic-settings": (True, STAGING_PROD),
    "gpu-platform-azure-front-door-waf-attached": (True, ALL),
}
TAGS_RULE = "gpu-platform-azure-tags"


def _baseline_cases() -> Iterator[Any]:
    for rule, (types, _, environments) in SPEC.items():
        for resource_type in types:
            for label, props in BASELINES[resource_type]:
                for environment in environments:
                    yield pytest.param(rule, resource_type, props, environment, id=f"{rule}-{label}-{environment}")


def _assert_messages(messages: list[str], fragments: tuple[str, ...]) -> None:
    assert messages, "expected a violation"
    for message in messages:
        assert "thing" in message, f"message does not name the resource: {message}"
    text = "\n".join(messages)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {messages}"


# -- the rule set ------------------------------------------------------------------------


def test_azure_rules_are_the_specified_set() -> None:
    resource_rules = [r.name for r in azure.RULES if r.stack_check is None]
    assert resource_rules == [*SPEC, TAGS_RULE]
    assert [r.name for r in azure.RULES if r.stack_check is not None] == list(STACK_SPEC)
    assert len(azure.RULES) >= 12


@pytest.mark.parametrize("name", [*SPEC, TAGS_RULE, *STACK_SPEC])
def test_rule_metadata_and_enforcement(name: str) -> None:
    rule = next(r for r in azure.RULES if r.name == name)
    assert rule.area == "azure"
    if name in SPEC:
        types, security, environments = SPEC[name]
        assert set(rule.types) == set(types)
    elif name in STACK_SPEC:
        security, environments = STACK_SPEC[name]
    else:
        security, environments = False, ALL
    assert rule.security is security
    assert set(rule.environments) == set(environments)
    # Security rules: advisory in dev, mandatory in staging and prod; off where they do not apply.
    for environment in ALL:
        expected = (
            "disabled"
            if environment not in environments
            else ("mandatory" if security and environment != "dev" else "advisory")
        )
        assert rule.enforcement(environment) == expected, (name, environment)
    assert "CKV" in rule.public_check or "MCSB" in rule.public_check or "Azure" in rule.public_check


@pytest.mark.parametrize(("rule", "resource_type", "props", "environment"), list(_baseline_cases()))
def test_baseline_passes(rule: str, resource_type: str, props: Mapping[str, Any], environment: str) -> None:
    assert violations(rule, resource_type, props, environment) == []


def _fail(rule: str, resource_type: str, props: Mapping[str, Any], fragments: tuple[str, ...], case: str) -> Any:
    return pytest.param(f"gpu-platform-azure-{rule}", resource_type, props, fragments, id=case)


def _world_rule(port: str, source: str = "Internet") -> dict[str, Any]:
    return {**TURN_RULES[2], "name": "open", "sourceAddressPrefix": source, "destinationPortRange": port}


FAILURES = [
    # public network access
    _fail(
        "no-public-network-access",
        SERVER,
        mutate(SERVER_OK, "network.publicNetworkAccess", "Enabled"),
        ("network.publicNetworkAccess Enabled",),
        "public-server-enabled",
    ),
    _fail(
        "no-public-network-access",
        SERVER,
        mutate(SERVER_OK, "network.delegatedSubnetResourceId", ...),
        ("delegatedSubnetResourceId", "private access"),
        "public-server-no-subnet",
    ),
    _fail(
        "no-public-network-access",
        FIREWALL_RULE,
        {**FIREWALL_RULE_OK, "startIpAddress": "0.0.0.0", "endIpAddress": "0.0.0.0"},
        ("every Azure service",),
        "public-firewall-azure-services",
    ),
    _fail(
        "no-public-network-access",
        FIREWALL_RULE,
        {**FIREWALL_RULE_OK, "startIpAddress": "0.0.0.0", "endIpAddress": "255.255.255.255"},
        ("the whole internet",),
        "public-firewall-world",
    ),
    _fail(
        "no-public-network-access",
        VAULT,
        mutate(
            mutate(VAULT_OK, "properties.publicNetworkAccess", "Enabled"),
            "properties.networkAcls.defaultAction",
            "Allow",
        ),
        ("publicNetworkAccess Enabled", "defaultAction allow"),
        "public-vault",
    ),
    _fail(
        "no-public-network-access",
        STORAGE,
        mutate(STORAGE_OK, "publicNetworkAccess", ...),
        ("publicNetworkAccess unset",),
        "public-storage-unset",
    ),
    _fail(
        "no-public-network-access",
        STORAGE,
        mutate(STORAGE_OK, "allowBlobPublicAccess", True),
        ("allowBlobPublicAccess true",),
        "public-storage-blob",
    ),
    _fail(
        "no-public-network-access",
        REGISTRY,
        mutate(REGISTRY_OK, "publicNetworkAccess", "Enabled"),
        ("publicNetworkAccess Enabled",),
        "public-registry",
    ),
    _fail(
        "no-public-network-access",
        ENVIRONMENT,
        mutate(ENVIRONMENT_OK, "publicNetworkAccess", ...),
        ("publicNetworkAccess unset",),
        "public-environment",
    ),
    # NSG
    _fail(
        "nsg-no-world-admin-ports",
        NSG,
        mutate(NSG_OK, "securityRules", [*TURN_RULES, _world_rule("22")]),
        ("securityRules[3] open", "SSH 22", "Internet"),
        "nsg-ssh",
    ),
    _fail(
        "nsg-no-world-admin-ports",
        NSG,
        mutate(NSG_OK, "securityRules", [*TURN_RULES, _world_rule("*", "0.0.0.0/0")]),
        ("SSH 22", "RDP 3389", "PostgreSQL 5432"),
        "nsg-all-ports",
    ),
    _fail(
        "nsg-no-world-admin-ports",
        SECURITY_RULE,
        {**SECURITY_RULE_OK, "destinationPortRange": "3000-4000", "sourceAddressPrefix": "*"},
        ("RDP 3389",),
        "security-rule-rdp-range",
    ),
    # TLS 1.2
    _fail("tls12", STORAGE, mutate(STORAGE_OK, "minimumTlsVersion", "TLS1_0"), ("TLS1_0",), "tls-storage-10"),
    _fail("tls12", STORAGE, mutate(STORAGE_OK, "minimumTlsVersion", ...), ("minimumTlsVersion unset",), "tls-storage"),
    _fail(
        "tls12",
        CUSTOM_DOMAIN,
        mutate(CUSTOM_DOMAIN_OK, "tlsSettings.minimumTlsVersion", "TLS10"),
        ("minimumTlsVersion TLS10",),
        "tls-afd-domain",
    ),
    _fail(
        "tls12", CONFIGURATION, {**TLS_CONFIG_OK, "value": "TLSv1.1"}, ("ssl_min_protocol_version TLSv1.1",), "tls-pg"
    ),
    _fail(
        "tls12",
        GATEWAY,
        mutate(GATEWAY_OK, "sslPolicy.policyName", "AppGwSslPolicy20150501"),
        ("appgwsslpolicy20150501",),
        "tls-gateway-old-policy",
    ),
    _fail("tls12", GATEWAY, mutate(GATEWAY_OK, "sslPolicy", ...), ("sslPolicy",), "tls-gateway-default"),
    # secure transport
    _fail(
        "secure-transport",
        CONFIGURATION,
        {**SECURE_TRANSPORT_OK, "value": "off"},
        ("require_secure_transport off",),
        "transport-pg-off",
    ),
    _fail(
        "secure-transport",
        CONTAINER_APP,
        mutate(CONTAINER_APP_OK, "configuration.ingress.allowInsecure", True),
        ("allowInsecure true",),
        "transport-container-app",
    ),
    _fail(
        "secure-transport",
        STORAGE,
        mutate(STORAGE_OK, "enableHttpsTrafficOnly", False),
        ("enableHttpsTrafficOnly false",),
        "transport-storage",
    ),
    _fail(
        "secure-transport",
        ROUTE,
        mutate(ROUTE_OK, "httpsRedirect", "Disabled"),
        ("httpsRedirect",),
        "transport-route-redirect",
    ),
    _fail(
        "secure-transport",
        ROUTE,
        mutate(ROUTE_OK, "forwardingProtocol", "MatchRequest"),
        ("forwardingProtocol MatchRequest", "HttpsOnly"),
        "transport-route-origin",
    ),
    # Postgres backups and HA
    _fail(
        "postgres-backup-retention",
        SERVER,
        mutate(SERVER_OK, "backup.backupRetentionDays", 7),
        ("backupRetentionDays 7", "at least 30 days in prod"),
        "backup-retention-7-in-prod",
    ),
    _fail(
        "postgres-backup-retention",
        SERVER,
        mutate(SERVER_OK, "backup", ...),
        ("backupRetentionDays unset",),
        "backup-retention-unset",
    ),
    _fail(
        "postgres-geo-redundant-backup",
        SERVER,
        mutate(SERVER_OK, "backup.geoRedundantBackup", "Disabled"),
        ("geoRedundantBackup Disabled",),
        "geo-backup-disabled",
    ),
    _fail(
        "zone-redundant",
        SERVER,
        mutate(SERVER_OK, "highAvailability.mode", "SameZone"),
        ("highAvailability.mode SameZone",),
        "ha-same-zone",
    ),
    _fail(
        "zone-redundant",
        SERVER,
        mutate(SERVER_OK, "highAvailability", ...),
        ("highAvailability.mode unset",),
        "ha-unset",
    ),
    _fail(
        "zone-redundant",
        ENVIRONMENT,
        mutate(ENVIRONMENT_OK, "zoneRedundant", False),
        ("zoneRedundant false",),
        "zone-redundant-environment",
    ),
    _fail(
        "log-retention",
        WORKSPACE_TYPE,
        mutate(WORKSPACE_OK, "retentionInDays", 90),
        ("retentionInDays 90", "at least 365 days in prod"),
        "log-retention-90-in-prod",
    ),
    _fail(
        "log-retention",
        WORKSPACE_TYPE,
        mutate(WORKSPACE_OK, "retentionInDays", ...),
        ("unset (30-day default)",),
        "log-retention-default",
    ),
    # identities and secrets
    _fail(
        "registry-managed-identity",
        CONTAINER_APP,
        mutate(
            CONTAINER_APP_OK,
            "configuration.registries",
            [{"server": "gpuplatform.azurecr.io", "username": "gpuplatform", "passwordSecretRef": "acr-password"}],
        ),
        ("configuration.registries[0]", "passwordSecretRef"),
        "registry-password",
    ),
    _fail(
        "registry-managed-identity",
        CONTAINER_APP,
        mutate(CONTAINER_APP_OK, "configuration.registries", [{"server": "gpuplatform.azurecr.io"}]),
        ("has no identity",),
        "registry-no-identity",
    ),
    _fail(
        "registry-managed-identity",
        REGISTRY,
        mutate(REGISTRY_OK, "adminUserEnabled", True),
        ("adminUserEnabled true",),
        "registry-admin",
    ),
    _fail(
        "registry-managed-identity",
        REGISTRY,
        mutate(REGISTRY_OK, "anonymousPullEnabled", True),
        ("anonymousPullEnabled true",),
        "registry-anonymous",
    ),
    _fail(
        "container-app-identity",
        CONTAINER_APP,
        mutate(CONTAINER_APP_OK, "identity", ...),
        ("identity.type unset",),
        "identity-missing",
    ),
    _fail(
        "container-app-identity",
        CONTAINER_APP,
        mutate(CONTAINER_APP_OK, "identity.type", "None"),
        ("identity.type none",),
        "identity-none",
    ),
    _fail(
        "secrets-from-key-vault",
        CONTAINER_APP,
        mutate(CONTAINER_APP_OK, "configuration.secrets", [{"name": "db-password", "value": "hunter2"}]),
        ("secret db-password is a literal value",),
        "secret-literal",
    ),
    _fail(
        "secrets-from-key-vault",
        CONTAINER_APP,
        mutate(CONTAINER_APP_OK, "configuration.secrets.0.identity", ...),
        ("no identity",),
        "secret-no-identity",
    ),
    _fail(
        "keyvault-recoverable",
        VAULT,
        mutate(VAULT_OK, "properties.enablePurgeProtection", ...),
        ("enablePurgeProtection unset",),
        "vault-purge",
    ),
    _fail(
        "keyvault-recoverable",
        VAULT,
        mutate(VAULT_OK, "properties.enableSoftDelete", False),
        ("enableSoftDelete false",),
        "vault-soft-delete",
    ),
    _fail(
        "keyvault-recoverable",
        VAULT,
        mutate(VAULT_OK, "properties.enableRbacAuthorization", False),
        ("enableRbacAuthorization false",),
        "vault-access-policies",
    ),
    # scale sets
    _fail(
        "vmss-no-password-login",
        SCALE_SET,
        mutate(SCALE_SET_OK, "virtualMachineProfile.osProfile.linuxConfiguration.disablePasswordAuthentication", False),
        ("disablePasswordAuthentication false",),
        "vmss-password-auth",
    ),
    _fail(
        "vmss-no-password-login",
        SCALE_SET,
        mutate(SCALE_SET_OK, "virtualMachineProfile.osProfile.adminPassword", "P@ssw0rd-literal"),
        ("adminPassword",),
        "vmss-admin-password",
    ),
    _fail(
        "vmss-encryption-at-host",
        SCALE_SET,
        mutate(SCALE_SET_OK, "virtualMachineProfile.securityProfile", ...),
        ("encryptionAtHost unset",),
        "vmss-encryption-unset",
    ),
    # WAF
    _fail(
        "waf-enabled",
        FRONT_DOOR_WAF,
        mutate(FRONT_DOOR_WAF_OK, "policySettings.enabledState", "Disabled"),
        ("policySettings.enabledState Disabled",),
        "waf-fd-disabled",
    ),
    _fail(
        "waf-enabled",
        GATEWAY_WAF,
        mutate(GATEWAY_WAF_OK, "policySettings.state", "Disabled"),
        ("policySettings.state Disabled",),
        "waf-gateway-disabled",
    ),
    _fail(
        "waf-enabled",
        FRONT_DOOR_WAF,
        mutate(FRONT_DOOR_WAF_OK, "managedRules", ...),
        ("no managedRules.managedRuleSets",),
        "waf-no-managed-rules",
    ),
    _fail(
        "waf-prevention",
        FRONT_DOOR_WAF,
        mutate(FRONT_DOOR_WAF_OK, "policySettings.mode", "Detection"),
        ("policySettings.mode Detection", "Prevention"),
        "waf-fd-detection",
    ),
    _fail(
        "waf-prevention",
        GATEWAY_WAF,
        mutate(GATEWAY_WAF_OK, "policySettings.mode", ...),
        ("policySettings.mode unset",),
        "waf-gateway-mode-unset",
    ),
    _fail(
        "waf-prevention",
        CDN_WAF,
        mutate(CDN_WAF_OK, "policySettings.mode", "Detection"),
        ("Detection",),
        "waf-cdn-detection",
    ),
    _fail(
        "waf-rate-limit",
        FRONT_DOOR_WAF,
        mutate(FRONT_DOOR_WAF_OK, "customRules", ...),
        ("no enabled RateLimitRule",),
        "rate-limit-missing",
    ),
    _fail(
        "waf-rate-limit",
        FRONT_DOOR_WAF,
        mutate(FRONT_DOOR_WAF_OK, "customRules.rules.0.action", "Log"),
        ("no enabled RateLimitRule",),
        "rate-limit-log-only",
    ),
    _fail(
        "waf-rate-limit",
        FRONT_DOOR_WAF,
        mutate(FRONT_DOOR_WAF_OK, "customRules.rules.0.groupBy", [{"variableName": "GeoLocation"}]),
        ("per client address",),
        "rate-limit-per-country",
    ),
    _fail(
        "waf-rate-limit",
        FRONT_DOOR_WAF,
        mutate(FRONT_DOOR_WAF_OK, "customRules.rules.0.enabledState", "Disabled"),
        ("no enabled RateLimitRule",),
        "rate-limit-disabled",
    ),
    _fail(
        "waf-rate-limit",
        FRONT_DOOR_WAF,
        mutate(FRONT_DOOR_WAF_OK, "customRules.rules.0.rateLimitThreshold", 0),
        ("no enabled RateLimitRule",),
        "rate-limit-zero-threshold",
    ),
    _fail(
        "waf-rate-limit",
        GATEWAY_WAF,
        mutate(GATEWAY_WAF_OK, "customRules.0.groupByUserSession", []),
        ("per client address",),
        "rate-limit-gateway-global",
    ),
    _fail(
        "waf-rate-limit",
        CDN_WAF,
        mutate(CDN_WAF_OK, "rateLimitRules.rules", []),
        ("no enabled RateLimitRule",),
        "rate-limit-cdn-missing",
    ),
]


@pytest.mark.parametrize(("rule", "resource_type", "props", "fragments"), FAILURES)
def test_mutation_fails(rule: str, resource_type: str, props: Mapping[str, Any], fragments: tuple[str, ...]) -> None:
    _assert_messages(violations(rule, resource_type, props, "prod"), fragments)


def test_every_resource_rule_has_a_failing_case() -> None:
    failed = {case.values[0] for case in FAILURES}
    assert failed == set(SPEC)


NFS_STORAGE_OK: dict[str, Any] = {
    **STORAGE_OK,
    "kind": "FileStorage",
    "sku": {"name": "Premium_ZRS"},
    "enableHttpsTrafficOnly": False,
    "publicNetworkAccess": "Enabled",
    "networkRuleSet": {"defaultAction": "Deny", "virtualNetworkRules": [{"virtualNetworkResourceId": "apps-subnet"}]},
}


def test_nfs_account_reachable_only_from_the_vnet_may_skip_https() -> None:
    """NFS Azure file shares speak no HTTPS; Microsoft exempts them when network-level security applies."""
    assert violations("gpu-platform-azure-secure-transport", STORAGE, NFS_STORAGE_OK, "prod") == []


@pytest.mark.parametrize(
    ("path", "value"),
    [("networkRuleSet.defaultAction", "Allow"), ("kind", "StorageV2")],
    ids=["nfs-account-open-to-internet", "general-purpose-account"],
)
def test_https_exemption_needs_filestorage_behind_the_vnet(path: str, value: Any) -> None:
    found = violations("gpu-platform-azure-secure-transport", STORAGE, mutate(NFS_STORAGE_OK, path, value), "prod")
    _assert_messages(found, ("enableHttpsTrafficOnly false",))


def test_https_only_route_needs_no_redirect() -> None:
    """httpsRedirect matters only when the route accepts HTTP at all."""
    https_only = mutate(mutate(ROUTE_OK, "supportedProtocols", ["Https"]), "httpsRedirect", "Disabled")
    assert violations("gpu-platform-azure-secure-transport", ROUTE, https_only, "prod") == []
    http_only = mutate(mutate(ROUTE_OK, "supportedProtocols", ["Http"]), "httpsRedirect", "Disabled")
    _assert_messages(violations("gpu-platform-azure-secure-transport", ROUTE, http_only, "prod"), ("httpsRedirect",))


# -- environment-dependent rules -------------------------------------------------------


def test_backup_retention_follows_the_environment() -> None:
    """Seven days satisfy staging's profile (daily, 7 days) but not prod's (30 days); dev is not checked."""
    week = mutate(SERVER_OK, "backup.backupRetentionDays", 7)
    assert violations("gpu-platform-azure-postgres-backup-retention", SERVER, week, "staging") == []
    assert violations("gpu-platform-azure-postgres-backup-retention", SERVER, week, "prod")
    assert (
        violations("gpu-platform-azure-postgres-backup-retention", SERVER, mutate(SERVER_OK, "backup", ...), "dev")
        == []
    )


@pytest.mark.parametrize("environment", ["dev"])
def test_detection_mode_and_no_rate_limit_are_allowed_in_dev(environment: str) -> None:
    """The dev profile has no rate limit and its WAF may only log (the target sets Detection there)."""
    detecting = mutate(mutate(FRONT_DOOR_WAF_OK, "policySettings.mode", "Detection"), "customRules", ...)
    assert violations("gpu-platform-azure-waf-prevention", FRONT_DOOR_WAF, detecting, environment) == []
    assert violations("gpu-platform-azure-waf-rate-limit", FRONT_DOOR_WAF, detecting, environment) == []
    assert violations("gpu-platform-azure-waf-enabled", FRONT_DOOR_WAF, detecting, environment) == []


def test_log_retention_follows_the_environment() -> None:
    """The workspace default (30 days) covers dev's 7 and staging's 30 days, not prod's 365."""
    default = mutate(WORKSPACE_OK, "retentionInDays", ...)
    assert violations("gpu-platform-azure-log-retention", WORKSPACE_TYPE, default, "dev") == []
    assert violations("gpu-platform-azure-log-retention", WORKSPACE_TYPE, default, "staging") == []
    assert violations("gpu-platform-azure-log-retention", WORKSPACE_TYPE, default, "prod")


def test_prod_only_postgres_rules_are_silent_in_staging() -> None:
    single = mutate(mutate(SERVER_OK, "highAvailability.mode", "Disabled"), "backup.geoRedundantBackup", "Disabled")
    assert violations("gpu-platform-azure-zone-redundant", SERVER, single, "staging") == []
    assert violations("gpu-platform-azure-postgres-geo-redundant-backup", SERVER, single, "staging") == []
    assert violations("gpu-platform-azure-zone-redundant", SERVER, single, "prod")


# -- tags ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "props"),
    [(SERVER, SERVER_OK), (VAULT, VAULT_OK), (CONTAINER_APP, CONTAINER_APP_OK), (FRONT_DOOR_WAF, FRONT_DOOR_WAF_OK)],
)
def test_tags_pass_with_the_common_tags(resource_type: str, props: Mapping[str, Any]) -> None:
    assert violations(TAGS_RULE, resource_type, props, "prod") == []


def test_tags_missing_or_wrong_environment_fail() -> None:
    _assert_messages(
        violations(TAGS_RULE, SERVER, mutate(SERVER_OK, "tags", {"gpu-platform:stack": "azure-prod"}), "prod"),
        ("gpu-platform:environment", "gpu-platform:managed-by"),
    )
    _assert_messages(violations(TAGS_RULE, VAULT, mutate(VAULT_OK, "tags", tags("dev")), "prod"), ("tagged",))


def test_tags_skip_untaggable_children() -> None:
    """Configurations, routes and custom domains take no tags in the API: no violation without them."""
    for resource_type, props in (
        (CONFIGURATION, SECURE_TRANSPORT_OK),
        (ROUTE, ROUTE_OK),
        (CUSTOM_DOMAIN, CUSTOM_DOMAIN_OK),
    ):
        assert violations(TAGS_RULE, resource_type, props, "prod") == []


# -- stack rules: locks --------------------------------------------------------------------

GROUP = Res(RESOURCE_GROUP, "rg", {"location": "westeurope", "tags": tags()})
DB = Res(SERVER, "db", SERVER_OK, protect=True, depends_on=("rg",))
KV = Res(VAULT, "kv", VAULT_OK, protect=True, depends_on=("rg",))
LOCKED = [
    GROUP,
    DB,
    KV,
    Res(LOCK, "db-lock", {"level": "CanNotDelete", "scope": f"{SUB}/db", "notes": "prod data"}, depends_on=("db",)),
    Res(LOCK, "kv-lock", {"level": "CanNotDelete", "scope": f"{SUB}/kv"}, depends_on=("kv",)),
]


def test_every_stateful_resource_locked_passes() -> None:
    assert stack_violations("gpu-platform-azure-delete-lock", LOCKED, "prod") == []


def test_missing_lock_fails_on_that_resource() -> None:
    found = stack_violations("gpu-platform-azure-delete-lock", LOCKED[:4], "prod")
    assert [urn for urn, _ in found] == ["urn:pulumi:prod::gpu-platform::azure-native:keyvault:Vault::kv"]
    assert "CanNotDelete" in found[0][1]


def test_lock_with_no_level_does_not_count() -> None:
    weak = [*LOCKED[:3], Res(LOCK, "db-lock", {"level": "NotSpecified"}, depends_on=("db",)), LOCKED[4]]
    found = stack_violations("gpu-platform-azure-delete-lock", weak, "prod")
    assert [urn.rsplit("::", 1)[-1] for urn, _ in found if urn] == ["db"]


def test_resource_group_lock_covers_its_resources() -> None:
    group_locked = [GROUP, DB, KV, Res(GROUP_LOCK, "rg-lock", {"level": "CanNotDelete"}, depends_on=("rg",))]
    assert stack_violations("gpu-platform-azure-delete-lock", group_locked, "prod") == []


def test_disks_and_storage_need_locks_too() -> None:
    found = stack_violations(
        "gpu-platform-azure-delete-lock",
        [Res(DISK, "data", {"diskSizeGB": 256}), Res(STORAGE, "blobs", STORAGE_OK)],
        "prod",
    )
    assert sorted(urn.rsplit("::", 1)[-1] for urn, _ in found if urn) == ["blobs", "data"]


FILE_SHARE = "azure-native:storage:FileShare"
DATABASE = "azure-native:dbforpostgresql:Database"
NFS_ACCOUNT = Res(STORAGE, "volumes", {**STORAGE_OK, "kind": "FileStorage"}, depends_on=("rg",))
CHILDREN = [
    Res(FILE_SHARE, "share", {"shareName": "data", "enabledProtocols": "NFS"}, depends_on=("rg", "volumes")),
    Res(DATABASE, "app-db", {"databaseName": "app", "charset": "UTF8"}, depends_on=("rg", "db")),
]


def test_children_inherit_their_parents_lock() -> None:
    """A share under a locked storage account and a database under a locked server are locked too."""
    resources = [
        *LOCKED,
        NFS_ACCOUNT,
        Res(LOCK, "volumes-lock", {"level": "CanNotDelete"}, depends_on=("volumes",)),
        *CHILDREN,
    ]
    assert stack_violations("gpu-platform-azure-delete-lock", resources, "prod") == []


def test_children_of_unlocked_parents_are_reported() -> None:
    resources = [GROUP, DB, KV, NFS_ACCOUNT, *CHILDREN, LOCKED[4]]
    found = stack_violations("gpu-platform-azure-delete-lock", resources, "prod")
    assert sorted(urn.rsplit("::", 1)[-1] for urn, _ in found if urn) == ["app-db", "db", "share", "volumes"]


def test_locks_are_not_required_before_prod() -> None:
    assert stack_violations("gpu-platform-azure-delete-lock", [GROUP, DB, KV], "staging") == []


# -- stack rules: diagnostic settings ------------------------------------------------------

SETTING_OK: dict[str, Any] = {
    "resourceUri": f"{SUB}/kv",
    "workspaceId": WORKSPACE,
    "logs": [{"categoryGroup": "allLogs", "enabled": True}],
    "metrics": [{"category": "AllMetrics", "enabled": True}],
}
LOGGED = [
    GROUP,
    KV,
    Res(ENVIRONMENT, "env", ENVIRONMENT_OK),
    Res(DIAGNOSTIC_SETTING, "kv-logs", SETTING_OK, depends_on=("kv",)),
    Res(DIAGNOSTIC_SETTING, "env-logs", SETTING_OK, depends_on=("env",)),
]


@pytest.mark.parametrize("environment", STAGING_PROD)
def test_logged_resources_with_settings_pass(environment: str) -> None:
    assert stack_violations("gpu-platform-azure-diagnostic-settings", LOGGED, environment) == []


def test_resource_without_a_setting_fails() -> None:
    found = stack_violations("gpu-platform-azure-diagnostic-settings", [*LOGGED[:4], Res(PROFILE, "edge", {})], "prod")
    urns = [urn.rsplit("::", 1)[-1] for urn, _ in found if urn]
    assert urns == ["env", "edge"]
    assert all("no diagnostic setting" in message for _, message in found)


def test_setting_without_destination_or_logs_fails() -> None:
    empty = mutate(mutate(SETTING_OK, "workspaceId", ...), "logs", [{"categoryGroup": "allLogs", "enabled": False}])
    resources = [GROUP, KV, Res(DIAGNOSTIC_SETTING, "kv-logs", empty, depends_on=("kv",))]
    found = stack_violations("gpu-platform-azure-diagnostic-settings", resources, "prod")
    assert sorted(urn.rsplit("::", 1)[-1] for urn, _ in found if urn) == ["kv", "kv-logs"]


@pytest.mark.parametrize(
    ("change", "value"),
    [("workspaceId", ...), ("logs", [{"categoryGroup": "allLogs", "enabled": False}]), ("logs", [])],
    ids=["no-destination", "logs-disabled", "metrics-only"],
)
def test_setting_missing_either_half_does_not_count(change: str, value: Any) -> None:
    """A setting needs both a destination and an enabled log category; one without the other keeps nothing."""
    setting = mutate(SETTING_OK, change, value)  # `...` deletes: the engine omits unset inputs
    resources = [GROUP, KV, Res(DIAGNOSTIC_SETTING, "kv-logs", setting, depends_on=("kv",))]
    found = stack_violations("gpu-platform-azure-diagnostic-settings", resources, "prod")
    assert sorted(urn.rsplit("::", 1)[-1] for urn, _ in found if urn) == ["kv", "kv-logs"]


def test_environment_logging_straight_to_log_analytics_needs_no_setting() -> None:
    direct = mutate(
        ENVIRONMENT_OK,
        "appLogsConfiguration",
        {"destination": "log-analytics", "logAnalyticsConfiguration": {"customerId": "workspace-guid"}},
    )
    assert stack_violations("gpu-platform-azure-diagnostic-settings", [Res(ENVIRONMENT, "env", direct)], "prod") == []


def test_diagnostic_settings_are_not_required_in_dev() -> None:
    assert stack_violations("gpu-platform-azure-diagnostic-settings", [GROUP, KV], "dev") == []


# -- hooks for the stack-wide rules -------------------------------------------------------


def _subject(resource_type: str, props: Mapping[str, Any]) -> Subject:
    return Subject(
        type=resource_type, name="thing", urn=f"urn:pulumi:prod::gpu-platform::{resource_type}::thing", props=props
    )


def test_env_pairs_give_literal_values_only() -> None:
    """A secretRef entry carries no value, so the no-plaintext-secrets rule sees DB_PASSWORD as None."""
    pairs = list(azure.env_pairs(_subject(CONTAINER_APP, CONTAINER_APP_OK)))
    assert pairs == [("LOG_LEVEL", "info"), ("DB_PASSWORD", None)]
    assert list(azure.env_pairs(_subject(VAULT, VAULT_OK))) == []


def test_literal_secret_in_container_env_is_seen() -> None:
    leaking = mutate(CONTAINER_APP_OK, "template.containers.0.env.1", {"name": "DB_PASSWORD", "value": "hunter2"})
    assert ("DB_PASSWORD", "hunter2") in list(azure.env_pairs(_subject(CONTAINER_APP, leaking)))
    (message,) = violations("gpu-platform-stack-no-plaintext-secrets", CONTAINER_APP, leaking, "prod")
    assert "DB_PASSWORD" in message
    assert "Container Apps secretRef" in message


def test_module_satisfies_the_registry_hooks() -> None:
    from policy.rules.registry import HOOKS, _load

    module = _load("azure")
    assert all(hasattr(module, hook) for hook in HOOKS)
    assert module.regenerated([_subject(SERVER, SERVER_OK)]) == set()


# -- stack rules: the WAF attached to Front Door --------------------------------------------

WAF_ATTACHED = "gpu-platform-azure-front-door-waf-attached"
SECURITY_POLICY_OK: dict[str, Any] = {
    "parameters": {
        "type": "WebApplicationFirewall",
        "wafPolicy": {"id": f"{SUB}/providers/Microsoft.Network/frontDoorWebApplicationFirewallPolicies/waf"},
        "associations": [{"domains": [{"id": f"{SUB}/customDomains/app"}], "patternsToMatch": ["/*"]}],
    }
}
EDGE = [
    Res(PROFILE, "edge", {"sku": {"name": "Premium_AzureFrontDoor"}, "tags": tags()}),
    Res(ENDPOINT, "endpoint", {"enabledState": "Enabled", "tags": tags()}, depends_on=("edge",)),
    Res(CUSTOM_DOMAIN, "app", CUSTOM_DOMAIN_OK, depends_on=("edge",)),
    Res(ROUTE, "route", ROUTE_OK, depends_on=("endpoint", "app")),
    Res(FRONT_DOOR_WAF, "waf", FRONT_DOOR_WAF_OK),
]


def test_an_internal_http_ingress_may_allow_plain_http() -> None:
    """Peers reach an unrouted app on port 80 over plain HTTP inside the environment: not an external endpoint."""
    internal = mutate(
        CONTAINER_APP_OK, "configuration.ingress", {"external": False, "targetPort": 80, "allowInsecure": True}
    )
    assert violations("gpu-platform-azure-secure-transport", CONTAINER_APP, internal, "prod") == []


def test_custom_domain_behind_the_waf_passes() -> None:
    resources = [*EDGE, Res(SECURITY_POLICY, "waf-policy", SECURITY_POLICY_OK, depends_on=("edge", "waf", "app"))]
    assert stack_violations(WAF_ATTACHED, resources, "prod") == []


def test_custom_domain_without_a_security_policy_fails() -> None:
    found = stack_violations(WAF_ATTACHED, EDGE, "prod")
    assert [urn.rsplit("::", 1)[-1] for urn, _ in found if urn] == ["app"]
    assert "WebApplicationFirewall" in found[0][1]


def test_security_policy_without_a_waf_does_not_count() -> None:
    no_waf = mutate(SECURITY_POLICY_OK, "parameters.wafPolicy", ...)
    resources = [*EDGE, Res(SECURITY_POLICY, "waf-policy", no_waf, depends_on=("edge", "app"))]
    assert [urn.rsplit("::", 1)[-1] for urn, _ in stack_violations(WAF_ATTACHED, resources, "dev") if urn] == ["app"]


def test_endpoint_serving_its_default_domain_needs_the_waf_too() -> None:
    """With linkToDefaultDomain Enabled the *.azurefd.net host bypasses a WAF bound only to the custom domain."""
    linked = Res(ROUTE, "route", {**ROUTE_OK, "linkToDefaultDomain": "Enabled"}, depends_on=("endpoint", "app"))
    resources = [
        *EDGE[:3],
        linked,
        EDGE[4],
        Res(SECURITY_POLICY, "waf-policy", SECURITY_POLICY_OK, depends_on=("edge", "waf", "app")),
    ]
    assert [urn.rsplit("::", 1)[-1] for urn, _ in stack_violations(WAF_ATTACHED, resources, "prod") if urn] == [
        "endpoint"
    ]


def test_route_that_never_mentions_the_default_domain_leaves_it_unlinked() -> None:
    """pulumi-azure-native sends linkToDefaultDomain "Disabled" when omitted: an absent key links nothing."""
    unlinked = Res(ROUTE, "route", mutate(ROUTE_OK, "linkToDefaultDomain", ...), depends_on=("endpoint", "app"))
    resources = [
        *EDGE[:3],
        unlinked,
        EDGE[4],
        Res(SECURITY_POLICY, "waf-policy", SECURITY_POLICY_OK, depends_on=("edge", "waf", "app")),
    ]
    assert stack_violations(WAF_ATTACHED, resources, "prod") == []


# -- unknown ids during a real preview ------------------------------------------------------
# Ids of resources created in the same run are unknown in `pulumi preview`; the policy server's
# proxy raises when a rule reads one, so rules only look at whether such inputs are set.

UNKNOWN = UNKNOWN_STRING_VALUE


@pytest.mark.parametrize(
    ("rule", "resource_type", "props"),
    [
        (
            "gpu-platform-azure-no-public-network-access",
            SERVER,
            mutate(SERVER_OK, "network.delegatedSubnetResourceId", UNKNOWN),
        ),
        (
            "gpu-platform-azure-secrets-from-key-vault",
            CONTAINER_APP,
            mutate(
                mutate(CONTAINER_APP_OK, "configuration.secrets.0.keyVaultUrl", UNKNOWN),
                "configuration.secrets.0.identity",
                UNKNOWN,
            ),
        ),
        (
            "gpu-platform-azure-registry-managed-identity",
            CONTAINER_APP,
            mutate(
                mutate(CONTAINER_APP_OK, "configuration.registries.0.identity", UNKNOWN),
                "configuration.registries.0.server",
                UNKNOWN,
            ),
        ),
    ],
    ids=["server-subnet", "secret-reference", "registry-identity"],
)
def test_unknown_ids_count_as_set(rule: str, resource_type: str, props: Mapping[str, Any]) -> None:
    assert violations(rule, resource_type, props, "prod") == []


def test_stack_rules_read_no_unknown_ids() -> None:
    setting = mutate(mutate(SETTING_OK, "workspaceId", UNKNOWN), "resourceUri", UNKNOWN)
    direct = mutate(
        ENVIRONMENT_OK,
        "appLogsConfiguration",
        {"destination": "log-analytics", "logAnalyticsConfiguration": {"customerId": UNKNOWN, "sharedKey": UNKNOWN}},
    )
    logged = [
        GROUP,
        KV,
        Res(DIAGNOSTIC_SETTING, "kv-logs", setting, depends_on=("kv",)),
        Res(ENVIRONMENT, "env", direct),
    ]
    assert stack_violations("gpu-platform-azure-diagnostic-settings", logged, "prod") == []
    policy = mutate(mutate(SECURITY_POLICY_OK, "parameters.wafPolicy.id", UNKNOWN), "parameters.associations", UNKNOWN)
    edge = [*EDGE, Res(SECURITY_POLICY, "waf-policy", policy, depends_on=("edge", "waf", "app"))]
    assert stack_violations(WAF_ATTACHED, edge, "prod") == []
    locks = [GROUP, DB, Res(LOCK, "db-lock", {"level": "CanNotDelete", "scope": UNKNOWN}, depends_on=("db",))]
    assert stack_violations("gpu-platform-azure-delete-lock", locks, "prod") == []


# -- stack rules: the Postgres admin password ----------------------------------------------

ADMIN_PASSWORD = "gpu-platform-azure-postgres-admin-password"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
PASSWORD_SERVER = {**SERVER_OK, "administratorLogin": "gpadmin", "administratorLoginPassword": "generated-secret"}


def test_generated_admin_password_passes() -> None:
    resources = [
        GROUP,
        Res(RANDOM_PASSWORD, "db-admin-password", {"length": 32, "special": False}),
        Res(SERVER, "db", PASSWORD_SERVER, depends_on=("rg", "db-admin-password")),
        Res(SERVER, "db-replica-0", REPLICA_OK, depends_on=("rg", "db")),
    ]
    assert stack_violations(ADMIN_PASSWORD, resources, "dev") == []


def test_literal_admin_password_fails() -> None:
    found = stack_violations(ADMIN_PASSWORD, [GROUP, Res(SERVER, "db", PASSWORD_SERVER, depends_on=("rg",))], "dev")
    assert [urn.rsplit("::", 1)[-1] for urn, _ in found if urn] == ["db"]
    assert "administratorLoginPassword" in found[0][1]


def test_unknown_generated_password_is_only_checked_for_presence() -> None:
    unknown = {**PASSWORD_SERVER, "administratorLoginPassword": UNKNOWN}
    resources = [Res(RANDOM_PASSWORD, "pw", {"length": 32}), Res(SERVER, "db", unknown, depends_on=("pw",))]
    assert stack_violations(ADMIN_PASSWORD, resources, "prod") == []
