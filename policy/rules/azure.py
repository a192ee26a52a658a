"""Azure rules over pulumi-azure-native 3.29.0 inputs (Microsoft cloud security benchmark, Defender for Cloud, Checkov).

Inputs arrive as the engine sends them: camelCase, nested objects as the SDK's
``*Args`` classes spell them (``network.publicNetworkAccess`` on a Flexible
Server, ``properties.enablePurgeProtection`` on a vault), numbers as floats.
Azure enum values are case-insensitive strings (``"Disabled"``, ``"Enabled"``,
``"Prevention"``), so every comparison goes through :func:`_enum`.

Stack rules see the whole program: a management lock or a diagnostic setting
is matched to the resource it covers through the dependency its ``scope`` /
``resourceUri`` input (the resource's ``id``) creates, or through ``parent``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policy.rules.base import (
    GENERATED_PASSWORD,
    Environment,
    Rule,
    Subject,
    as_list,
    get,
    has_input,
    mapping,
    mappings,
    resource_rule,
    shown,
    stack_rule,
    whole_number,
)
from policy.rules.targets import STATEFUL_TYPES

PROVIDER = "azure-native:"

RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
POSTGRES_SERVER = "azure-native:dbforpostgresql:Server"
POSTGRES_DATABASE = "azure-native:dbforpostgresql:Database"
POSTGRES_CONFIGURATION = "azure-native:dbforpostgresql:Configuration"
POSTGRES_FIREWALL_RULE = "azure-native:dbforpostgresql:FirewallRule"
CONTAINER_APP = "azure-native:app:ContainerApp"
MANAGED_ENVIRONMENT = "azure-native:app:ManagedEnvironment"
KEY_VAULT = "azure-native:keyvault:Vault"
KEY_VAULT_SECRET = "azure-native:keyvault:Secret"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
FILE_SHARE = "azure-native:storage:FileShare"
CONTAINER_REGISTRY = "azure-native:containerregistry:Registry"
MANAGED_DISK = "azure-native:compute:Disk"
SCALE_SET = "azure-native:compute:VirtualMachineScaleSet"
FRONT_DOOR_PROFILE = "azure-native:cdn:Profile"
FRONT_DOOR_WAF = "azure-native:frontdoor:Policy"
CDN_WAF = "azure-native:cdn:Policy"
GATEWAY_WAF = "azure-native:network:WebApplicationFirewallPolicy"
APPLICATION_GATEWAY = "azure-native:network:ApplicationGateway"
AFD_CUSTOM_DOMAIN = "azure-native:cdn:AFDCustomDomain"
AFD_ROUTE = "azure-native:cdn:Route"
NSG = "azure-native:network:NetworkSecurityGroup"
SECURITY_RULE = "azure-native:network:SecurityRule"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
WORKSPACE = "azure-native:operationalinsights:Workspace"
AFD_ENDPOINT = "azure-native:cdn:AFDEndpoint"
SECURITY_POLICY = "azure-native:cdn:SecurityPolicy"
LOCK_TYPES = (
    "azure-native:authorization:ManagementLockByScope",
    "azure-native:authorization:ManagementLockAtResourceLevel",
    "azure-native:authorization:ManagementLockAtResourceGroupLevel",
)
RESOURCE_GROUP_LOCK = LOCK_TYPES[2]
WAF_TYPES = (FRONT_DOOR_WAF, CDN_WAF, GATEWAY_WAF)

# Resources whose deletion loses data, joined by the Azure plugin's stateful types (policy/rules/targets.py).
LOCKED_TYPES = (POSTGRES_SERVER, POSTGRES_DATABASE, KEY_VAULT, STORAGE_ACCOUNT, FILE_SHARE, MANAGED_DISK)
# ARM children and the parent type whose lock they inherit ("When you apply a lock at a parent scope, all
# resources within that scope inherit the same lock": learn.microsoft.com/azure/azure-resource-manager/
# management/lock-resources). A child depends on its parent through the parent's name input.
LOCK_PARENTS = {
    FILE_SHARE: STORAGE_ACCOUNT,
    "azure-native:storage:BlobContainer": STORAGE_ACCOUNT,
    POSTGRES_DATABASE: POSTGRES_SERVER,
    KEY_VAULT_SECRET: KEY_VAULT,
}

# Resources whose resource logs Azure keeps only when a diagnostic setting routes them somewhere
# (MCSB LT-3). A managed environment that writes straight to Log Analytics needs none.
LOGGED_TYPES = (MANAGED_ENVIRONMENT, POSTGRES_SERVER, KEY_VAULT, FRONT_DOOR_PROFILE, APPLICATION_GATEWAY)

# Top-level ARM resources that take ``tags`` (children such as Subnet, Configuration, Route,
# AFDCustomDomain, locks and diagnostic settings have no tags in the API).
TAGGED_TYPES = (
    RESOURCE_GROUP,
    "azure-native:network:VirtualNetwork",
    "azure-native:network:NatGateway",
    "azure-native:network:PublicIPAddress",
    "azure-native:network:LoadBalancer",
    "azure-native:network:PrivateEndpoint",
    NSG,
    WORKSPACE,
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:privatedns:PrivateZone",
    "azure-native:privatedns:VirtualNetworkLink",
    AFD_ENDPOINT,
    KEY_VAULT,
    KEY_VAULT_SECRET,
    MANAGED_ENVIRONMENT,
    CONTAINER_APP,
    POSTGRES_SERVER,
    STORAGE_ACCOUNT,
    CONTAINER_REGISTRY,
    MANAGED_DISK,
    SCALE_SET,
    FRONT_DOOR_PROFILE,
    FRONT_DOOR_WAF,
    GATEWAY_WAF,
    APPLICATION_GATEWAY,
)
# The keys every target puts on its resources (the AWS target's default tags).
REQUIRED_TAGS = ("gpu-platform:stack", "gpu-platform:environment", "gpu-platform:managed-by")
ENVIRONMENT_TAG = "gpu-platform:environment"

# Backup retention per environment, from the profiles (stacks/profiles.py): staging 7 days, prod 30.
# Flexible Server keeps 7 to 35 days.
BACKUP_RETENTION_DAYS: dict[Environment, int] = {"staging": 7, "prod": 30}

# Values of TLS minimums that allow only TLS 1.2 or newer, per resource's spelling.
STORAGE_TLS12 = ("tls1_2", "tls1_3")
AFD_TLS12 = ("tls12", "tls13")
GATEWAY_TLS12 = ("tlsv1_2", "tlsv1_3")
POSTGRES_TLS12 = ("tlsv1.2", "tlsv1.3")
# Predefined Application Gateway SSL policies whose minimum is TLS 1.2.
GATEWAY_TLS12_POLICIES = ("appgwsslpolicy20170401s", "appgwsslpolicy20220101", "appgwsslpolicy20220101s")

# Sources that mean "anyone" in a network security rule.
WORLD_SOURCES = ("*", "internet", "any", "0.0.0.0/0", "0.0.0.0", "::/0")
# Ports that must never face the internet: SSH, RDP, PostgreSQL.
ADMIN_PORTS = {22: "SSH", 3389: "RDP", 5432: "PostgreSQL"}


# -- Azure-specific readers (the shared ones are in policy/rules/base.py) ------------


def _enum(value: Any) -> str:
    """An Azure enum value for comparison: lower case, ``""`` when unset (the API compares case-insensitively)."""
    return str(value).strip().lower() if value is not None else ""


def _kind(subject: Subject) -> str:
    """``Server`` for ``azure-native:dbforpostgresql:Server``, for messages."""
    return f"{subject.type.rsplit(':', 1)[-1]} {subject.name}"


def _is_replica(props: Mapping[str, Any]) -> bool:
    """A Flexible Server read replica (``createMode: "Replica"``): backups and HA belong to its source."""
    return _enum(props.get("createMode")) == "replica"


def _covers(other: Subject, target: Subject) -> bool:
    """``other`` points at ``target``: a child of it, or depends on it (its ``scope``/``resourceUri`` is target.id)."""
    return other.parent == target.urn or target.urn in other.dependencies


# -- network exposure ----------------------------------------------------------------


def _postgres_public(subject: Subject) -> Iterator[str]:
    network = mapping(subject.props, "network")
    if _enum(network.get("publicNetworkAccess")) == "enabled":
        yield f"{_kind(subject)} sets network.publicNetworkAccess Enabled; set it Disabled"
    if not has_input(network, "delegatedSubnetResourceId"):
        yield (
            f"{_kind(subject)} has no network.delegatedSubnetResourceId; use private access "
            "(a subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers)"
        )


def _firewall_open(subject: Subject) -> Iterator[str]:
    start, end = str(subject.props.get("startIpAddress") or ""), str(subject.props.get("endIpAddress") or "")
    if start == "0.0.0.0" and end in ("0.0.0.0", "255.255.255.255"):
        what = "every Azure service" if end == "0.0.0.0" else "the whole internet"
        yield f"{_kind(subject)} allows {start}-{end} ({what}); remove the rule and connect through the VNet"


def _open_to_internet(subject: Subject, scope: Mapping[str, Any], prefix: str, acls_key: str) -> Iterator[str]:
    """A vault or storage account is private when public access is Disabled or its firewall denies by default."""
    access = scope.get("publicNetworkAccess")
    default = _enum(mapping(scope, acls_key).get("defaultAction"))
    if _enum(access) != "disabled" and default != "deny":
        yield (
            f"{_kind(subject)} is reachable from the internet ({prefix}publicNetworkAccess {shown(access)}, "
            f"{acls_key}.defaultAction {shown(default or None)}); "
            f'set {prefix}publicNetworkAccess "Disabled" or {acls_key}.defaultAction "Deny"'
        )


def _vault_public(subject: Subject) -> Iterator[str]:
    yield from _open_to_internet(subject, mapping(subject.props, "properties"), "properties.", "networkAcls")


def _storage_public(subject: Subject) -> Iterator[str]:
    props = subject.props
    yield from _open_to_internet(subject, props, "", "networkRuleSet")
    if props.get("allowBlobPublicAccess") is not False:
        yield f"{_kind(subject)} has allowBlobPublicAccess {shown(props.get('allowBlobPublicAccess'))}; set it false"


def _disabled_public_access(subject: Subject) -> Iterator[str]:
    value = subject.props.get("publicNetworkAccess")
    if _enum(value) != "disabled":
        yield f'{_kind(subject)} has publicNetworkAccess {shown(value)}; set it "Disabled" and reach it privately'


_PUBLIC_CHECKS = {
    POSTGRES_SERVER: _postgres_public,
    POSTGRES_FIREWALL_RULE: _firewall_open,
    KEY_VAULT: _vault_public,
    STORAGE_ACCOUNT: _storage_public,
    CONTAINER_REGISTRY: _disabled_public_access,
    MANAGED_ENVIRONMENT: _disabled_public_access,
}


@resource_rule(
    "gpu-platform-azure-no-public-network-access",
    "Databases, vaults, storage, registries and the Container Apps environment must not take internet traffic.",
    "critical",
    "CKV_AZURE_68 / CKV2_AZURE_6 / CKV_AZURE_189 / CKV_AZURE_109 / CKV_AZURE_35 / CKV_AZURE_190 / CKV_AZURE_139 / "
    "Azure Policy: Container Apps environment should disable public network access",
    list(_PUBLIC_CHECKS),
)
def no_public_network_access(subject: Subject) -> Iterator[str]:
    """Front Door reaches the environment over Private Link, so nothing here needs a public endpoint."""
    yield from _PUBLIC_CHECKS[subject.type](subject)


def _covers_port(value: Any, port: int) -> bool:
    """Whether a port spec (``"22"``, ``"20-25"``, ``"*"``) includes ``port``."""
    text = str(value).strip()
    if text == "*":
        return True
    low, _, high = text.partition("-")
    start, end = whole_number(low), whole_number(high or low)
    return start is not None and end is not None and start <= port <= end


def _world_rule_violations(label: str, rule: Mapping[str, Any]) -> Iterator[str]:
    if _enum(rule.get("direction")) != "inbound" or _enum(rule.get("access")) != "allow":
        return
    sources = [str(s) for s in (rule.get("sourceAddressPrefix"), *as_list(rule.get("sourceAddressPrefixes"))) if s]
    world = [s for s in sources if s.strip().lower() in WORLD_SOURCES]
    if not world:
        return
    ports = [p for p in (rule.get("destinationPortRange"), *as_list(rule.get("destinationPortRanges"))) if p]
    exposed = [f"{name} {port}" for port, name in ADMIN_PORTS.items() if any(_covers_port(p, port) for p in ports)]
    if exposed:
        yield (
            f"{label} allows {', '.join(exposed)} inbound from {', '.join(world)}; "
            "restrict sourceAddressPrefix to the VNet or use Azure Bastion"
        )


@resource_rule(
    "gpu-platform-azure-nsg-no-world-admin-ports",
    "Network security groups must not admit SSH, RDP or PostgreSQL from the internet.",
    "critical",
    "CKV_AZURE_10 / CKV_AZURE_9 / MCSB NS-1",
    [NSG, SECURITY_RULE],
)
def nsg_no_world_admin_ports(subject: Subject) -> Iterator[str]:
    """TURN relays open their listener and relay range to the world on purpose; admin and database ports never."""
    if subject.type == SECURITY_RULE:
        yield from _world_rule_violations(_kind(subject), subject.props)
        return
    for i, rule in enumerate(mappings(subject.props.get("securityRules"))):
        label = f"{_kind(subject)} securityRules[{i}] {rule.get('name') or ''}".rstrip()
        yield from _world_rule_violations(label, rule)


# -- encryption in transit -----------------------------------------------------------


def _configuration_name(props: Mapping[str, Any]) -> str:
    return _enum(props.get("configurationName"))


def _gateway_tls(subject: Subject) -> Iterator[str]:
    policy = mapping(subject.props, "sslPolicy")
    minimum, name = _enum(policy.get("minProtocolVersion")), _enum(policy.get("policyName"))
    if minimum in GATEWAY_TLS12 or (not minimum and name in GATEWAY_TLS12_POLICIES):
        return
    yield (
        f"{_kind(subject)} sslPolicy allows TLS below 1.2 (minProtocolVersion {shown(minimum or None)}, "
        f"policyName {shown(name or None)}); "
        'set sslPolicy policyType "Predefined", policyName "AppGwSslPolicy20220101S"'
    )


def _tls_minimum(subject: Subject) -> Iterator[str]:
    props = subject.props
    if subject.type == STORAGE_ACCOUNT:
        value = props.get("minimumTlsVersion")
        if _enum(value) not in STORAGE_TLS12:
            yield f'{_kind(subject)} has minimumTlsVersion {shown(value)}; set it "TLS1_2"'
    elif subject.type == AFD_CUSTOM_DOMAIN:
        value = get(props, "tlsSettings.minimumTlsVersion")
        if value is not None and _enum(value) not in AFD_TLS12:
            yield f'{_kind(subject)} has tlsSettings.minimumTlsVersion {shown(value)}; set it "TLS12"'
    elif subject.type == POSTGRES_CONFIGURATION:
        if _configuration_name(props) == "ssl_min_protocol_version" and _enum(props.get("value")) not in POSTGRES_TLS12:
            yield f'{_kind(subject)} sets ssl_min_protocol_version {shown(props.get("value"))}; set it "TLSv1.2"'
    else:
        yield from _gateway_tls(subject)


@resource_rule(
    "gpu-platform-azure-tls12",
    "Storage, Front Door domains, Application Gateways and PostgreSQL must refuse TLS older than 1.2.",
    "high",
    "CKV_AZURE_44 / CKV_AZURE_147 / CKV_AZURE_218 / Azure Policy: Azure Front Door Standard and Premium should be "
    "running minimum TLS version of 1.2",
    [STORAGE_ACCOUNT, AFD_CUSTOM_DOMAIN, POSTGRES_CONFIGURATION, APPLICATION_GATEWAY],
)
def tls12(subject: Subject) -> Iterator[str]:
    """An AFD custom domain without ``minimumTlsVersion`` gets TLS 1.2.

    "As of March 1, 2025, TLS 1.0 and 1.1 minimum version are disallowed on Azure Front Door"
    (learn.microsoft.com/azure/frontdoor/standard-premium/tls-policy).
    """
    yield from _tls_minimum(subject)


def _route_https(subject: Subject) -> Iterator[str]:
    props = subject.props
    protocols = [_enum(p) for p in as_list(props.get("supportedProtocols"))]
    if "http" in protocols and _enum(props.get("httpsRedirect")) != "enabled":
        yield f'{_kind(subject)} serves HTTP without httpsRedirect "Enabled"; set httpsRedirect "Enabled"'
    if _enum(props.get("forwardingProtocol")) != "httpsonly":
        yield (
            f"{_kind(subject)} forwards to the origin with forwardingProtocol "
            f'{shown(props.get("forwardingProtocol"))}; set it "HttpsOnly"'
        )


def _nfs_only_in_vnet(subject: Subject) -> bool:
    """A premium FileStorage account (NFS shares) reachable only from the VNet.

    NFS Azure file shares rely on network-level security and do not speak HTTPS; Microsoft recommends
    secure transfer for every account "except where NFS Azure file shares are used with network-level
    security" (learn.microsoft.com/azure/storage/common/storage-require-secure-transfer).
    """
    if _enum(subject.props.get("kind")) != "filestorage":
        return False
    return not list(_open_to_internet(subject, subject.props, "", "networkRuleSet"))


def _secure_transport(subject: Subject) -> Iterator[str]:
    props = subject.props
    if subject.type == POSTGRES_CONFIGURATION:
        if _configuration_name(props) == "require_secure_transport" and _enum(props.get("value")) != "on":
            yield f'{_kind(subject)} sets require_secure_transport {shown(props.get("value"))}; set it "on"'
    elif subject.type == CONTAINER_APP:
        # Only an external ingress faces clients outside the environment; an internal one on port 80 carries plain
        # HTTP between apps, inside an environment that encrypts peer traffic (targets/azure/apps.py: ingress).
        ingress = get(props, "configuration.ingress") or {}
        if ingress.get("allowInsecure") is True and ingress.get("external") is not False:
            yield f"{_kind(subject)} sets configuration.ingress.allowInsecure true; set it false (HTTP is redirected)"
    elif subject.type == STORAGE_ACCOUNT:
        if props.get("enableHttpsTrafficOnly") is False and not _nfs_only_in_vnet(subject):
            yield (
                f"{_kind(subject)} sets enableHttpsTrafficOnly false; set it true (only a FileStorage account "
                "for NFS shares that denies public network access may turn it off)"
            )
    else:
        yield from _route_https(subject)


@resource_rule(
    "gpu-platform-azure-secure-transport",
    "PostgreSQL, Container Apps, storage and Front Door routes must refuse or redirect unencrypted connections.",
    "high",
    "CKV_AZURE_29 / CKV_AZURE_3 / Azure Policy: Container Apps should only be accessible over HTTPS / "
    "Azure Front Door HTTPS redirect",
    [POSTGRES_CONFIGURATION, CONTAINER_APP, STORAGE_ACCOUNT, AFD_ROUTE],
)
def secure_transport(subject: Subject) -> Iterator[str]:
    """Flexible Server's require_secure_transport defaults on; a Configuration may only keep it on."""
    yield from _secure_transport(subject)


# -- PostgreSQL backups and availability ---------------------------------------------


@resource_rule(
    "gpu-platform-azure-postgres-backup-retention",
    "Flexible Servers must keep backups for the environment's retention (7 days in staging, 30 in prod).",
    "high",
    "MCSB BR-1 / BR-2 / Azure Database for PostgreSQL flexible server backup retention (7-35 days)",
    [POSTGRES_SERVER],
    environments=("staging", "prod"),
)
def postgres_backup_retention(subject: Subject) -> Iterator[str]:
    if _is_replica(subject.props):
        return
    required = BACKUP_RETENTION_DAYS.get(subject.environment, max(BACKUP_RETENTION_DAYS.values()))
    days = whole_number(get(subject.props, "backup.backupRetentionDays"))
    if days is None or days < required:
        yield (
            f"{_kind(subject)} has backup.backupRetentionDays {shown(days)}; "
            f"set it to at least {required} days in {subject.environment}"
        )


@resource_rule(
    "gpu-platform-azure-postgres-geo-redundant-backup",
    "In prod Flexible Servers must store backups geo-redundantly so a regional outage can be restored elsewhere.",
    "high",
    "CKV_AZURE_136 / Azure Policy: Geo-redundant backup should be enabled for Azure Database for PostgreSQL",
    [POSTGRES_SERVER],
    environments=("prod",),
)
def postgres_geo_redundant_backup(subject: Subject) -> Iterator[str]:
    """Only settable when the server is created (the target's replace-on inputs say so)."""
    if _is_replica(subject.props):
        return
    value = get(subject.props, "backup.geoRedundantBackup")
    if _enum(value) != "enabled":
        yield f'{_kind(subject)} has backup.geoRedundantBackup {shown(value)}; set it "Enabled" in prod'


@resource_rule(
    "gpu-platform-azure-zone-redundant",
    "In prod Flexible Servers must run zone-redundant HA and the Container Apps environment must span zones.",
    "medium",
    "Azure Proactive Resiliency Library / Advisor: Enable HA with zone redundancy (PostgreSQL flexible server), "
    "Enable zone redundancy (Container Apps environment)",
    [POSTGRES_SERVER, MANAGED_ENVIRONMENT],
    security=False,
    environments=("prod",),
)
def zone_redundant(subject: Subject) -> Iterator[str]:
    """The prod profile is multi-AZ; on Azure that is a standby server in another zone and a zonal environment."""
    if subject.type == MANAGED_ENVIRONMENT:
        value = subject.props.get("zoneRedundant")
        if value is not True:
            yield f"{_kind(subject)} has zoneRedundant {shown(value)}; set it true in prod"
        return
    if _is_replica(subject.props):
        return  # read replicas cannot have HA of their own
    value = get(subject.props, "highAvailability.mode")
    if _enum(value) != "zoneredundant":
        yield f'{_kind(subject)} has highAvailability.mode {shown(value)}; set it "ZoneRedundant" in prod'


# Log retention per environment, from the profiles (stacks/profiles.py). A workspace keeps 30 days
# when retentionInDays is unset (and no fewer on the PerGB2018 plan).
LOG_RETENTION_DAYS: dict[Environment, int] = {"dev": 7, "staging": 30, "prod": 365}
WORKSPACE_DEFAULT_RETENTION = 30


@resource_rule(
    "gpu-platform-azure-log-retention",
    "Log Analytics workspaces must keep logs for the environment's retention (365 days in prod).",
    "low",
    "MCSB LT-6 / CKV_AZURE_37 (365-day log retention, by analogy)",
    [WORKSPACE],
    security=False,
)
def log_retention(subject: Subject) -> Iterator[str]:
    value = whole_number(subject.props.get("retentionInDays"))
    days = WORKSPACE_DEFAULT_RETENTION if value is None else value
    required = LOG_RETENTION_DAYS[subject.environment]
    if days < required:
        retention = f"unset ({WORKSPACE_DEFAULT_RETENTION}-day default)" if value is None else str(days)
        yield (
            f"{_kind(subject)} has retentionInDays {retention}; "
            f"set it to at least {required} days in {subject.environment}"
        )


# -- identities and secrets ----------------------------------------------------------


@stack_rule(
    "gpu-platform-azure-postgres-admin-password",
    "A Flexible Server admin password must be generated by the program (a RandomPassword), never a literal.",
    "critical",
    "Checkov CKV_SECRET_6 / MCSB IM-8 (no hard-coded credentials)",
)
def postgres_admin_password(subjects: Sequence[Subject]) -> Iterator[tuple[str, str]]:
    """The password reaches the server from a RandomPassword it depends on; a literal has no such dependency.

    Only whether ``administratorLoginPassword`` is set is read: it is a secret, unknown until generated.
    """
    generators = {s.urn for s in subjects if s.type == GENERATED_PASSWORD}
    for subject in subjects:
        if subject.type != POSTGRES_SERVER or not has_input(subject.props, "administratorLoginPassword"):
            continue
        if not generators.intersection(subject.dependencies):
            yield (
                subject.urn,
                f"{_kind(subject)} sets administratorLoginPassword from no generated secret; "
                "generate it (random.RandomPassword) and keep it in Key Vault, or use Microsoft Entra authentication",
            )


@resource_rule(
    "gpu-platform-azure-registry-managed-identity",
    "Container Apps must pull images with a managed identity; registries keep admin user and anonymous pull off.",
    "high",
    "CKV_AZURE_137 / CKV_AZURE_138 / Azure Policy: Container registries should have local admin account disabled",
    [CONTAINER_APP, CONTAINER_REGISTRY],
)
def registry_managed_identity(subject: Subject) -> Iterator[str]:
    props = subject.props
    if subject.type == CONTAINER_REGISTRY:
        if props.get("adminUserEnabled") is True:
            yield f"{_kind(subject)} sets adminUserEnabled true; set it false and grant AcrPull to identities"
        if props.get("anonymousPullEnabled") is True:
            yield f"{_kind(subject)} sets anonymousPullEnabled true; set it false"
        return
    for i, registry in enumerate(mappings(get(props, "configuration.registries"))):
        server = f"configuration.registries[{i}]"
        if registry.get("passwordSecretRef") or registry.get("username"):
            yield (
                f"{_kind(subject)} pulls from {server} with a username/passwordSecretRef; "
                "set configuration.registries[].identity to a managed identity with AcrPull instead"
            )
        elif not has_input(registry, "identity"):
            yield f"{_kind(subject)} registry {server} has no identity; set configuration.registries[].identity"


@resource_rule(
    "gpu-platform-azure-container-app-identity",
    "Every Container App must run with a managed identity, the only way it reads Key Vault secrets without a password.",
    "high",
    "Azure Policy: Managed Identity should be enabled for Container Apps / MCSB IM-3",
    [CONTAINER_APP],
)
def container_app_identity(subject: Subject) -> Iterator[str]:
    kind = _enum(get(subject.props, "identity.type"))
    if kind in ("", "none"):
        yield (
            f"{_kind(subject)} has identity.type {shown(kind or None)}; "
            'set identity.type "UserAssigned" with the app identity'
        )


@resource_rule(
    "gpu-platform-azure-secrets-from-key-vault",
    "Container App secrets must be Key Vault references read through a managed identity, never literal values.",
    "critical",
    "MCSB IM-8 / DP-6 / Azure Container Apps: reference secrets from Key Vault",
    [CONTAINER_APP],
)
def secrets_from_key_vault(subject: Subject) -> Iterator[str]:
    for secret in mappings(get(subject.props, "configuration.secrets")):
        name = secret.get("name") or "(unnamed)"
        if not has_input(secret, "keyVaultUrl"):
            yield (
                f"{_kind(subject)} secret {name} is a literal value, not a Key Vault reference; "
                "set keyVaultUrl and identity on configuration.secrets[]"
            )
        elif not has_input(secret, "identity"):
            yield f"{_kind(subject)} secret {name} has a keyVaultUrl but no identity to read it; set identity"


@resource_rule(
    "gpu-platform-azure-keyvault-recoverable",
    "Key Vaults must keep soft delete and purge protection on and authorize through Azure RBAC.",
    "high",
    "CKV_AZURE_42 / CKV_AZURE_110 / Azure Policy: Azure Key Vault should use RBAC permission model",
    [KEY_VAULT],
)
def keyvault_recoverable(subject: Subject) -> Iterator[str]:
    properties = mapping(subject.props, "properties")
    if properties.get("enableSoftDelete") is False:
        yield f"{_kind(subject)} sets properties.enableSoftDelete false; leave it true"
    if properties.get("enablePurgeProtection") is not True:
        yield (
            f"{_kind(subject)} has properties.enablePurgeProtection "
            f"{shown(properties.get('enablePurgeProtection'))}; set it true"
        )
    if properties.get("enableRbacAuthorization") is not True:
        yield (
            f"{_kind(subject)} has properties.enableRbacAuthorization "
            f"{shown(properties.get('enableRbacAuthorization'))}; set it true and grant roles, not access policies"
        )


# -- virtual machines ------------------------------------------------------------------


@resource_rule(
    "gpu-platform-azure-vmss-no-password-login",
    "Linux scale sets must disable password authentication and carry no admin password.",
    "high",
    "CKV_AZURE_49 / MCSB IM-6",
    [SCALE_SET],
)
def vmss_no_password_login(subject: Subject) -> Iterator[str]:
    profile = mapping(mapping(subject.props, "virtualMachineProfile"), "osProfile")
    if profile.get("adminPassword"):
        yield f"{_kind(subject)} sets virtualMachineProfile.osProfile.adminPassword; remove it"
    value = mapping(profile, "linuxConfiguration").get("disablePasswordAuthentication")
    if value is not True:
        yield (
            f"{_kind(subject)} has osProfile.linuxConfiguration.disablePasswordAuthentication {shown(value)}; "
            "set it true"
        )


@resource_rule(
    "gpu-platform-azure-vmss-encryption-at-host",
    "Scale sets must encrypt temporary disks and caches at the host.",
    "medium",
    "CKV_AZURE_97 / MCSB DP-4",
    [SCALE_SET],
)
def vmss_encryption_at_host(subject: Subject) -> Iterator[str]:
    value = get(subject.props, "virtualMachineProfile.securityProfile.encryptionAtHost")
    if value is not True:
        yield (
            f"{_kind(subject)} has virtualMachineProfile.securityProfile.encryptionAtHost {shown(value)}; "
            "set it true (register the EncryptionAtHost feature first)"
        )


# -- web application firewall ---------------------------------------------------------


def _waf_settings(subject: Subject) -> tuple[Any, Any]:
    """(enabled state, mode) of a WAF policy: Front Door and CDN say ``enabledState``, App Gateway ``state``."""
    settings = mapping(subject.props, "policySettings")
    state = settings.get("state") if subject.type == GATEWAY_WAF else settings.get("enabledState")
    return state, settings.get("mode")


@resource_rule(
    "gpu-platform-azure-waf-enabled",
    "Web application firewall policies must be enabled and run a managed rule set.",
    "high",
    "CKV_AZURE_121 / CKV_AZURE_123 / MCSB NS-6",
    WAF_TYPES,
)
def waf_enabled(subject: Subject) -> Iterator[str]:
    state, _ = _waf_settings(subject)
    key = "state" if subject.type == GATEWAY_WAF else "enabledState"
    if _enum(state) == "disabled":
        yield f'{_kind(subject)} sets policySettings.{key} Disabled; set it "Enabled"'
    if not mappings(get(subject.props, "managedRules.managedRuleSets")):
        yield (
            f"{_kind(subject)} has no managedRules.managedRuleSets; "
            "add Microsoft_DefaultRuleSet (OWASP on Application Gateway)"
        )


@resource_rule(
    "gpu-platform-azure-waf-prevention",
    "In staging and prod web application firewall policies must block (Prevention mode), not only log.",
    "high",
    "CKV_AZURE_122 / CKV_AZURE_123 / Azure Policy: Web Application Firewall (WAF) should use the specified mode",
    WAF_TYPES,
    environments=("staging", "prod"),
)
def waf_prevention(subject: Subject) -> Iterator[str]:
    _, mode = _waf_settings(subject)
    if _enum(mode) != "prevention":
        yield f'{_kind(subject)} has policySettings.mode {shown(mode)}; set it "Prevention" in {subject.environment}'


def _per_ip(subject: Subject, rule: Mapping[str, Any]) -> bool:
    """A rate limit counted per client address (Front Door ``SocketAddr``, App Gateway ``ClientAddr``)."""
    if subject.type == GATEWAY_WAF:
        variables = [
            v.get("variableName")
            for session in mappings(rule.get("groupByUserSession"))
            for v in mappings(session.get("groupByVariables"))
        ]
        return "clientaddr" in [_enum(v) for v in variables]
    groups = [_enum(g.get("variableName")) for g in mappings(rule.get("groupBy"))]
    return not groups or "socketaddr" in groups  # Front Door's default grouping is the client address


def _rate_rules(subject: Subject) -> list[Mapping[str, Any]]:
    if subject.type == CDN_WAF:
        return mappings(get(subject.props, "rateLimitRules.rules"))
    # Front Door nests its custom rules in a list object; Application Gateway takes the list itself.
    rules = get(subject.props, "customRules.rules" if subject.type == FRONT_DOOR_WAF else "customRules")
    return [r for r in mappings(rules) if _enum(r.get("ruleType")) == "ratelimitrule"]


@resource_rule(
    "gpu-platform-azure-waf-rate-limit",
    "In staging and prod the edge WAF must rate-limit each client address with an enabled blocking rule.",
    "medium",
    "MCSB NS-6 / Azure WAF rate limiting (Front Door RateLimitRule grouped by SocketAddr)",
    WAF_TYPES,
    environments=("staging", "prod"),
)
def waf_rate_limit(subject: Subject) -> Iterator[str]:
    for rule in _rate_rules(subject):
        enabled = _enum(rule.get("enabledState") or rule.get("state") or "enabled") == "enabled"
        blocks = _enum(rule.get("action")) == "block"
        if enabled and blocks and _per_ip(subject, rule) and (whole_number(rule.get("rateLimitThreshold")) or 0) > 0:
            return
    yield (
        f"{_kind(subject)} has no enabled RateLimitRule that blocks per client address; add a custom rule "
        'ruleType "RateLimitRule", action "Block", rateLimitThreshold from the profile, grouped by the client address'
    )


# -- tags ------------------------------------------------------------------------------


@resource_rule(
    "gpu-platform-azure-tags",
    "Taggable Azure resources must carry the stack, environment and managed-by tags, with the right environment.",
    "low",
    "Azure Policy: Require a tag on resources / Cloud Adoption Framework tagging strategy",
    TAGGED_TYPES,
    security=False,
)
def tags(subject: Subject) -> Iterator[str]:
    present = mapping(subject.props, "tags")
    missing = [key for key in REQUIRED_TAGS if not present.get(key)]
    if missing:
        yield f"{_kind(subject)} lacks the tags {', '.join(missing)}; set them (the target's common tags)"
    environment = present.get(ENVIRONMENT_TAG)
    if environment and environment != subject.environment:
        yield f"{_kind(subject)} is tagged {ENVIRONMENT_TAG} {environment} in a {subject.environment} stack"


# -- stack rules: locks and diagnostic settings ----------------------------------------


def _lock_level_ok(lock: Subject) -> bool:
    return _enum(lock.props.get("level")) in ("cannotdelete", "readonly")


def _resource_group(subject: Subject, groups: Sequence[Subject]) -> str | None:
    """The URN of the ResourceGroup a resource depends on (its resourceGroupName), if any."""
    return next((g.urn for g in groups if g.urn in subject.dependencies), None)


def _locked(subject: Subject, subjects: Sequence[Subject], locks: Sequence[Subject], groups: Sequence[Subject]) -> bool:
    """Covered by a lock on itself, on its resource group, or on the ARM parent it inherits locks from."""
    parent_type = LOCK_PARENTS.get(subject.type)
    parents = [s for s in subjects if s.type == parent_type and s.urn in subject.dependencies]
    if any(_locked(parent, subjects, locks, groups) for parent in parents):
        return True
    group = _resource_group(subject, groups)
    for lock in locks:
        if not _lock_level_ok(lock):
            continue
        if _covers(lock, subject):
            return True
        if lock.type == RESOURCE_GROUP_LOCK and group is not None and group in lock.dependencies:
            return True
    return False


def _locked_types() -> set[str]:
    return {*LOCKED_TYPES, *(t for t in STATEFUL_TYPES if t.startswith(PROVIDER))}


@stack_rule(
    "gpu-platform-azure-delete-lock",
    "In prod every stateful Azure resource must sit under a CanNotDelete (or ReadOnly) management lock.",
    "high",
    "Azure Resource Manager locks (CanNotDelete) / MCSB BR-2 / Azure Well-Architected: lock critical resources",
    environments=("prod",),
)
def delete_lock(subjects: Sequence[Subject]) -> Iterator[tuple[str, str]]:
    """A lock covers a resource when its ``scope`` is the resource's id (a dependency), it is the
    resource's child, or it locks the resource group the resource depends on.

    Pulumi's ``protect`` guards only ``pulumi destroy``; a lock also stops the portal, the CLI and a
    deleted resource group from taking the data with them.
    """
    locks = [s for s in subjects if s.type in LOCK_TYPES]
    groups = [s for s in subjects if s.type == RESOURCE_GROUP]
    wanted = _locked_types()
    for subject in subjects:
        if subject.type in wanted and not _locked(subject, subjects, locks, groups):
            yield (
                subject.urn,
                f"{_kind(subject)} holds state but no CanNotDelete lock covers it; add a ManagementLockByScope "
                'with level "CanNotDelete" and scope its id',
            )


def _routes_logs(setting: Subject) -> bool:
    """A diagnostic setting that sends at least one enabled log category (or group) to a destination."""
    props = setting.props
    destination = any(has_input(props, k) for k in ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId"))
    logs = [entry for entry in mappings(props.get("logs")) if entry.get("enabled") is True]
    return destination and bool(logs)


def _logs_directly(subject: Subject) -> bool:
    """A managed environment writing to Log Analytics itself needs no diagnostic setting."""
    config = mapping(subject.props, "appLogsConfiguration")
    workspace = has_input(mapping(config, "logAnalyticsConfiguration"), "customerId")
    return _enum(config.get("destination")) == "log-analytics" and workspace


@stack_rule(
    "gpu-platform-azure-diagnostic-settings",
    "In staging and prod every logged Azure resource must send its resource logs to Log Analytics.",
    "medium",
    "MCSB LT-3 / Azure Policy: Resource logs in Key Vault should be enabled / Resource logs in Azure Front Door "
    "Standard or Premium should be enabled",
    environments=("staging", "prod"),
)
def diagnostic_settings(subjects: Sequence[Subject]) -> Iterator[tuple[str, str]]:
    settings = [s for s in subjects if s.type == DIAGNOSTIC_SETTING]
    for setting in settings:
        if not _routes_logs(setting):
            yield (
                setting.urn,
                f"{_kind(setting)} sends no enabled logs to a destination; set workspaceId and "
                'logs [{categoryGroup: "allLogs", enabled: true}]',
            )
    for subject in subjects:
        if subject.type not in LOGGED_TYPES or _logs_directly(subject):
            continue
        if not any(_covers(s, subject) and _routes_logs(s) for s in settings):
            yield (
                subject.urn,
                f"{_kind(subject)} has no diagnostic setting sending its logs to Log Analytics; add a "
                "monitor.DiagnosticSetting with resourceUri its id and workspaceId the workspace",
            )


def _waf_security_policy(subject: Subject) -> bool:
    parameters = mapping(subject.props, "parameters")
    waf_policy = mapping(parameters, "wafPolicy")
    return _enum(parameters.get("type")) == "webapplicationfirewall" and has_input(waf_policy, "id")


def _default_domain_served(endpoint: Subject, routes: Sequence[Subject]) -> bool:
    """Whether a route answers on the endpoint's own ``*.azurefd.net`` host.

    ``linkToDefaultDomain`` is off unless set: the SDK sends ``"Disabled"`` when it is omitted.
    """
    return any(_covers(r, endpoint) and _enum(r.props.get("linkToDefaultDomain")) == "enabled" for r in routes)


@stack_rule(
    "gpu-platform-azure-front-door-waf-attached",
    "Every Front Door custom domain, and every endpoint that serves its default domain, must sit behind a WAF policy.",
    "high",
    "CKV_AZURE_121 / Azure Policy: Azure Web Application Firewall should be enabled for Azure Front Door entry-points",
)
def front_door_waf_attached(subjects: Sequence[Subject]) -> Iterator[tuple[str, str]]:
    """A WAF policy does nothing until a security policy associates it with the domains traffic arrives on."""
    policies = [s for s in subjects if s.type == SECURITY_POLICY and _waf_security_policy(s)]
    routes = [s for s in subjects if s.type == AFD_ROUTE]
    for subject in subjects:
        exposed = subject.type == AFD_CUSTOM_DOMAIN or (
            subject.type == AFD_ENDPOINT and _default_domain_served(subject, routes)
        )
        if exposed and not any(subject.urn in p.dependencies for p in policies):
            yield (
                subject.urn,
                f"{_kind(subject)} takes traffic that no WAF security policy inspects; add a cdn.SecurityPolicy "
                'of type "WebApplicationFirewall" with wafPolicy the WAF and this id in associations[].domains',
            )


# -- hooks for the stack-wide rules ----------------------------------------------------


def env_pairs(subject: Subject) -> Iterator[tuple[str, object]]:
    """(name, literal value) of every container environment variable a Container App sets.

    A ``secretRef`` entry has no ``value``, so only literals reach the no-plaintext-secrets rule.
    """
    if subject.type != CONTAINER_APP:
        return
    template = mapping(subject.props, "template")
    for container in [*mappings(template.get("containers")), *mappings(template.get("initContainers"))]:
        for env in mappings(container.get("env")):
            yield str(env.get("name")), env.get("value")


def regenerated(subjects: Sequence[Subject]) -> set[str]:
    """Every stateful-typed Azure resource holds state."""
    del subjects
    return set()


RULES: list[Rule] = [
    no_public_network_access,
    nsg_no_world_admin_ports,
    tls12,
    secure_transport,
    postgres_backup_retention,
    postgres_geo_redundant_backup,
    zone_redundant,
    log_retention,
    postgres_admin_password,
    registry_managed_identity,
    container_app_identity,
    secrets_from_key_vault,
    keyvault_recoverable,
    vmss_no_password_login,
    vmss_encryption_at_host,
    waf_enabled,
    waf_prevention,
    waf_rate_limit,
    tags,
    delete_lock,
    diagnostic_settings,
    front_door_waf_attached,
]
