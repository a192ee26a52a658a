"""GCP policy rules: compliant baselines pass, each step away from them fails (the Checkov pattern).

Every call goes through the pack's CrossGuard policy objects (``tests/policy_harness.py``).
Inputs are written the way the engine sends pulumi-gcp 10.2.0 inputs: the camelCase of
the Python SDK's argument names (checked against the installed SDK below), numbers as
floats, lists and maps in the policy server's proxies. The type tokens come from the rule module
and are checked against the installed SDK below. Expected values come from the
profiles (stacks/profiles.py: staging keeps 7 days of backups, prod 30 with PITR), the
Google API defaults quoted in the SDK docstrings, and the CIS/Checkov controls the rules cite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pulumi_gcp
import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.rules import BY_NAME
from policy.rules import gcp as gcp_rules
from policy.rules.base import Subject
from policy.rules.gcp import (
    BACKEND_SERVICE,
    BUCKET,
    BUCKET_IAM_BINDING,
    BUCKET_IAM_MEMBER,
    CRYPTO_KEY,
    DISK,
    HTTPS_PROXY,
    INSTANCE,
    INSTANCE_TEMPLATE,
    NODE_POOL,
    REGION_INSTANCE_TEMPLATE,
    RUN_IAM_BINDING,
    RUN_IAM_MEMBER,
    RUN_SERVICE,
    SECRET,
    SECRET_IAM_MEMBER,
    SECURITY_POLICY,
    SQL_DATABASE,
    SQL_INSTANCE,
    SSL_POLICY,
    SUBNETWORK,
)
from policy.rules.registry import TARGET_MODULES
from policy.rules.targets import STATEFUL_TYPES, TARGETS
from tests.policy_harness import Res, mutate, stack_violations, violations

KMS_KEY = "projects/acme-prod/locations/us-central1/keyRings/gpu-platform/cryptoKeys/data"
APP_SA = "gpu-platform-api@acme-prod.iam.gserviceaccount.com"
DEFAULT_SA = "123456789012-compute@developer.gserviceaccount.com"
LABELS = {"gpu-platform-stack": "gcp-prod", "gpu-platform-environment": "prod"}
NETWORK = "projects/acme-prod/global/networks/gpu-platform"


# -- compliant baselines --------------------------------------------------------------------------------------

SQL_OK: dict[str, Any] = {
    "name": "gpu-platform-db",
    "databaseVersion": "POSTGRES_16",
    "region": "us-central1",
    "deletionProtection": True,
    "settings": {
        "tier": "db-custom-4-16384",
        "edition": "ENTERPRISE",
        "availabilityType": "REGIONAL",
        "deletionProtectionEnabled": True,
        "retainBackupsOnDelete": True,
        "ipConfiguration": {"ipv4Enabled": False, "privateNetwork": NETWORK, "sslMode": "ENCRYPTED_ONLY"},
        "backupConfiguration": {
            "enabled": True,
            "startTime": "03:00",
            "pointInTimeRecoveryEnabled": True,
            "transactionLogRetentionDays": 7,
            "backupRetentionSettings": {"retainedBackups": 30, "retentionUnit": "COUNT"},
        },
        "userLabels": LABELS,
    },
}
# A read replica: no backups, no HA of its own (the primary has them).
SQL_REPLICA: dict[str, Any] = mutate(
    mutate(SQL_OK, "masterInstanceName", "gpu-platform-db"), "settings.backupConfiguration", {"enabled": False}
)
BUCKET_OK: dict[str, Any] = {
    "name": "acme-prod-models",
    "location": "US-CENTRAL1",
    "uniformBucketLevelAccess": True,
    "publicAccessPrevention": "enforced",
    "labels": LABELS,
}
RUN_OK: dict[str, Any] = {
    "name": "api",
    "location": "us-central1",
    "ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
    "labels": LABELS,
    "template": {
        "serviceAccount": APP_SA,
        "containers": [
            {
                "image": "us-docker.pkg.dev/acme-prod/gpu-platform/api@sha256:" + "a" * 64,
                "envs": [
                    {"name": "LOG_LEVEL", "value": "info"},
                    {"name": "DB_PASSWORD", "valueSource": {"secretKeyRef": {"secret": "db-password", "version": "1"}}},
                ],
            }
        ],
    },
}
BACKEND_OK: dict[str, Any] = {
    "loadBalancingScheme": "EXTERNAL_MANAGED",
    "protocol": "HTTPS",
    "securityPolicy": "projects/acme-prod/global/securityPolicies/edge",
    "backends": [{"group": "projects/acme-prod/regions/us-central1/networkEndpointGroups/api"}],
}
SSL_POLICY_OK: dict[str, Any] = {"profile": "RESTRICTED", "minTlsVersion": "TLS_1_2"}
PROXY_OK: dict[str, Any] = {
    "urlMap": "projects/acme-prod/global/urlMaps/edge",
    "sslPolicy": "projects/acme-prod/global/sslPolicies/tls12",
    "certificateMap": "//certificatemanager.googleapis.com/projects/acme-prod/locations/global/certificateMaps/edge",
}
ARMOR_OK: dict[str, Any] = {
    "type": "CLOUD_ARMOR",
    "rules": [
        {
            "action": "throttle",
            "priority": 1000,
            "match": {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": ["*"]}},
            "rateLimitOptions": {
                "enforceOnKey": "IP",
                "conformAction": "allow",
                "exceedAction": "deny(429)",
                "rateLimitThreshold": {"count": 6000, "intervalSec": 60},
            },
        },
        {"action": "allow", "priority": 2147483647, "match": {"versionedExpr": "SRC_IPS_V1"}},
    ],
}
INSTANCE_OK: dict[str, Any] = {
    "machineType": "g2-standard-8",
    "zone": "us-central1-a",
    "bootDisk": {"initializeParams": {"image": "ubuntu-os-accelerator-images/ubuntu-accelerator-2404-amd64"}},
    "networkInterfaces": [{"subnetwork": "projects/acme-prod/regions/us-central1/subnetworks/private"}],
    "serviceAccount": {"email": APP_SA, "scopes": ["cloud-platform"]},
    "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True},
    "metadata": {"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE"},
    "labels": LABELS,
}
TEMPLATE_OK: dict[str, Any] = {
    "machineType": "g2-standard-8",
    "disks": [{"sourceImage": "ubuntu-os-accelerator-images/ubuntu-accelerator-2404-amd64", "boot": True}],
    "networkInterfaces": [{"subnetwork": "projects/acme-prod/regions/us-central1/subnetworks/private"}],
    "serviceAccount": {"email": APP_SA, "scopes": ["cloud-platform"]},
    "shieldedInstanceConfig": {"enableSecureBoot": True},
    "metadata": {"enable-oslogin": "true", "block-project-ssh-keys": "true"},
    "labels": LABELS,
}
NODE_POOL_OK: dict[str, Any] = {
    "cluster": "gpu",
    "nodeConfig": {"machineType": "g2-standard-8", "serviceAccount": APP_SA, "oauthScopes": ["cloud-platform"]},
}
SUBNET_OK: dict[str, Any] = {
    "network": NETWORK,
    "ipCidrRange": "10.10.0.0/20",
    "region": "us-central1",
    "privateIpGoogleAccess": True,
    "logConfig": {"aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 0.5, "metadata": "INCLUDE_ALL_METADATA"},
}
DISK_OK: dict[str, Any] = {"zone": "us-central1-a", "size": 200, "type": "pd-ssd", "labels": LABELS}
SECRET_OK: dict[str, Any] = {"secretId": "db-password", "replication": {"auto": {}}, "labels": LABELS}


def _names(messages: list[str]) -> str:
    return " | ".join(messages)


# -- the policies exist, are named for GCP and are enforced by environment ------------------------------------


def test_at_least_twelve_gcp_rules_each_citing_a_public_control() -> None:
    names = [rule.name for rule in gcp_rules.RULES]
    assert len(names) >= 12
    assert len(set(names)) == len(names)
    assert all(name.startswith("gpu-platform-gcp-") for name in names)
    control = re.compile(r"CIS GCP|CKV2?_GCP_\d+|constraints/|Cloud SQL|Cloud Armor|Google Cloud")
    for rule in gcp_rules.RULES:
        assert control.search(rule.public_check), rule.name
        assert rule.description.endswith("."), rule.name
        assert not re.search(r"[.!?]\s", rule.description), rule.name


def test_the_pack_has_every_gcp_rule() -> None:
    """The GCP target is registered, so the pack loads its rule module and the harness calls the pack's objects."""
    assert "gcp" in TARGETS
    assert {rule.name for rule in gcp_rules.RULES} <= set(BY_NAME)
    assert gcp_rules in TARGET_MODULES


# Hand-written from the rule model: security rules are advisory in dev and mandatory in staging and
# prod; prod-only rules are off elsewhere; reliability rules stay advisory.
ENFORCEMENT = {
    "gpu-platform-gcp-sql-private-ip": ("advisory", "mandatory", "mandatory"),
    "gpu-platform-gcp-sql-backups": ("disabled", "mandatory", "mandatory"),
    "gpu-platform-gcp-sql-deletion-protection": ("disabled", "disabled", "mandatory"),
    "gpu-platform-gcp-sql-high-availability": ("disabled", "disabled", "advisory"),
    "gpu-platform-gcp-run-not-public": ("advisory", "mandatory", "mandatory"),
    "gpu-platform-gcp-armor-rate-limit": ("disabled", "mandatory", "mandatory"),
    "gpu-platform-gcp-labels": ("advisory", "advisory", "advisory"),
}


@pytest.mark.parametrize(("name", "levels"), ENFORCEMENT.items())
def test_enforcement_by_environment(name: str, levels: tuple[str, str, str]) -> None:
    rule = next(r for r in gcp_rules.RULES if r.name == name)
    assert tuple(rule.enforcement(e) for e in ("dev", "staging", "prod")) == levels


def _sdk_files(token: str) -> Iterator[Path]:
    module = token.split(":")[1].split("/")[0]
    yield from (Path(pulumi_gcp.__file__).parent / module).glob("*.py")


# Every token the module names (rule types, the CMEK key, the SQL database), not only the rules' own types.
TOKENS = sorted({v for v in vars(gcp_rules).values() if isinstance(v, str) and v.startswith("gcp:")})


def test_the_module_names_every_rule_type() -> None:
    assert {t for rule in gcp_rules.RULES for t in rule.types} <= set(TOKENS)


@pytest.mark.parametrize("token", TOKENS)
def test_every_type_token_is_a_pulumi_gcp_resource(token: str) -> None:
    assert any(f"'{token}'" in path.read_text() for path in _sdk_files(token)), token


# (module, camelCase input) the rules read: the SDK must have the snake_case argument.
INPUTS_READ = [
    ("sql", "ipv4Enabled"),
    ("sql", "authorizedNetworks"),
    ("sql", "sslMode"),
    ("sql", "pointInTimeRecoveryEnabled"),
    ("sql", "retainedBackups"),
    ("sql", "retentionUnit"),
    ("sql", "deletionProtectionEnabled"),
    ("sql", "retainBackupsOnDelete"),
    ("sql", "finalBackupConfig"),
    ("sql", "availabilityType"),
    ("sql", "masterInstanceName"),
    ("sql", "encryptionKeyName"),
    ("sql", "userLabels"),
    ("storage", "uniformBucketLevelAccess"),
    ("storage", "publicAccessPrevention"),
    ("storage", "defaultKmsKeyName"),
    ("cloudrunv2", "ingress"),
    ("cloudrunv2", "invokerIamDisabled"),
    ("cloudrunv2", "serviceAccount"),
    ("cloudrunv2", "envs"),
    ("cloudrunv2", "valueSource"),
    ("compute", "loadBalancingScheme"),
    ("compute", "securityPolicy"),
    ("compute", "minTlsVersion"),
    ("compute", "customFeatures"),
    ("compute", "sslPolicy"),
    ("compute", "rateLimitOptions"),
    ("compute", "enforceOnKey"),
    ("compute", "enforceOnKeyConfigs"),
    ("compute", "enforceOnKeyType"),
    ("compute", "enableSecureBoot"),
    ("compute", "enableVtpm"),
    ("compute", "enableIntegrityMonitoring"),
    ("compute", "accessConfigs"),
    ("compute", "ipv6AccessConfigs"),
    ("compute", "privateIpGoogleAccess"),
    ("compute", "logConfig"),
    ("compute", "kmsKeySelfLink"),
    ("container", "oauthScopes"),
    ("secretmanager", "customerManagedEncryption"),
    ("secretmanager", "userManaged"),
    ("secretmanager", "kmsKeyName"),
]


@pytest.mark.parametrize(("module", "name"), INPUTS_READ)
def test_inputs_read_are_pulumi_gcp_arguments(module: str, name: str) -> None:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    texts = (p.read_text() for p in (Path(pulumi_gcp.__file__).parent / module).glob("*.py"))
    assert any(re.search(rf"\b{snake}: (NotRequired\[)?pulumi\.Input", text) for text in texts), (module, snake)


# -- Cloud SQL ------------------------------------------------------------------------------------------------


def test_sql_baseline_passes_every_rule() -> None:
    for rule in gcp_rules.RULES:
        if SQL_INSTANCE in rule.types:
            assert violations(rule.name, SQL_INSTANCE, SQL_OK, "prod") == [], rule.name


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("settings.ipConfiguration.ipv4Enabled", True, "ipv4Enabled true"),
        ("settings.ipConfiguration.ipv4Enabled", ..., "ipv4Enabled unset"),  # the API default is a public IP
        ("settings.ipConfiguration.authorizedNetworks", [{"name": "all", "value": "0.0.0.0/0"}], "0.0.0.0/0"),
        ("settings.ipConfiguration.authorizedNetworks", [{"name": "v6", "value": "::/0"}], "::/0"),
        # A /0 is every address whatever the address before it (policy/rules/base.py world_cidrs).
        ("settings.ipConfiguration.authorizedNetworks", [{"name": "odd", "value": "34.1.2.3/0"}], "34.1.2.3/0"),
    ],
)
def test_sql_private_ip_fails(path: str, value: Any, expected: str) -> None:
    found = violations("gpu-platform-gcp-sql-private-ip", SQL_INSTANCE, mutate(SQL_OK, path, value))
    assert expected in _names(found)


def test_sql_private_ip_accepts_a_narrow_authorized_network() -> None:
    office = [{"name": "office", "value": "203.0.113.0/24"}]
    props = mutate(SQL_OK, "settings.ipConfiguration.authorizedNetworks", office)
    assert violations("gpu-platform-gcp-sql-private-ip", SQL_INSTANCE, props) == []


@pytest.mark.parametrize("mode", ["ALLOW_UNENCRYPTED_AND_ENCRYPTED", ...])
def test_sql_ssl_mode_fails_unless_encrypted(mode: Any) -> None:
    found = violations(
        "gpu-platform-gcp-sql-ssl-mode", SQL_INSTANCE, mutate(SQL_OK, "settings.ipConfiguration.sslMode", mode)
    )
    assert len(found) == 1
    assert "ENCRYPTED_ONLY" in found[0]


def test_sql_ssl_mode_accepts_client_certificates() -> None:
    props = mutate(SQL_OK, "settings.ipConfiguration.sslMode", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")
    assert violations("gpu-platform-gcp-sql-ssl-mode", SQL_INSTANCE, props, "dev") == []


@pytest.mark.parametrize(
    ("path", "value", "environment", "expected"),
    [
        ("settings.backupConfiguration.enabled", False, "staging", "enabled false"),
        ("settings.backupConfiguration.backupRetentionSettings.retainedBackups", 29, "prod", "at least 30"),
        ("settings.backupConfiguration.backupRetentionSettings", ..., "prod", "at least 30"),  # API default: 7
        ("settings.backupConfiguration.backupRetentionSettings.retainedBackups", 6, "staging", "at least 7"),
        ("settings.backupConfiguration.pointInTimeRecoveryEnabled", False, "prod", "pointInTimeRecoveryEnabled"),
        ("settings.backupConfiguration.backupRetentionSettings.retentionUnit", "DAYS", "prod", "(DAYS)"),
    ],
)
def test_sql_backups_fail(path: str, value: Any, environment: str, expected: str) -> None:
    found = violations("gpu-platform-gcp-sql-backups", SQL_INSTANCE, mutate(SQL_OK, path, value), environment)
    assert expected in _names(found)


def test_sql_backups_staging_takes_the_api_default_and_no_pitr() -> None:
    props = mutate(SQL_OK, "settings.backupConfiguration", {"enabled": True, "pointInTimeRecoveryEnabled": False})
    assert violations("gpu-platform-gcp-sql-backups", SQL_INSTANCE, props, "staging") == []
    assert len(violations("gpu-platform-gcp-sql-backups", SQL_INSTANCE, props, "prod")) == 2


def test_sql_backups_exempt_replicas_and_dev() -> None:
    assert violations("gpu-platform-gcp-sql-backups", SQL_INSTANCE, SQL_REPLICA, "prod") == []
    no_backups = mutate(SQL_OK, "settings.backupConfiguration", ...)
    assert violations("gpu-platform-gcp-sql-backups", SQL_INSTANCE, no_backups, "dev") == []
    assert violations("gpu-platform-gcp-sql-backups", SQL_INSTANCE, no_backups, "staging")


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("deletionProtection", False, "deletionProtection false"),
        ("settings.deletionProtectionEnabled", ..., "deletionProtectionEnabled unset"),
        ("settings.deletionProtectionEnabled", False, "deletionProtectionEnabled false"),
    ],
)
def test_sql_deletion_protection_fails_in_prod(path: str, value: Any, expected: str) -> None:
    props = mutate(SQL_OK, path, value)
    assert expected in _names(violations("gpu-platform-gcp-sql-deletion-protection", SQL_INSTANCE, props, "prod"))
    assert violations("gpu-platform-gcp-sql-deletion-protection", SQL_INSTANCE, props, "staging") == []


def test_sql_deletion_protection_provider_flag_defaults_true() -> None:
    """The provider's ``deletionProtection`` defaults to true (SDK docstring), so leaving it out passes."""
    props = mutate(SQL_OK, "deletionProtection", ...)
    assert violations("gpu-platform-gcp-sql-deletion-protection", SQL_INSTANCE, props, "prod") == []


def test_sql_final_backup() -> None:
    none = mutate(SQL_OK, "settings.retainBackupsOnDelete", ...)
    assert "finalBackupConfig" in _names(violations("gpu-platform-gcp-sql-final-backup", SQL_INSTANCE, none, "prod"))
    final = mutate(none, "settings.finalBackupConfig", {"enabled": True, "retentionDays": 30})
    assert violations("gpu-platform-gcp-sql-final-backup", SQL_INSTANCE, final, "prod") == []
    assert violations("gpu-platform-gcp-sql-final-backup", SQL_INSTANCE, mutate(none, "masterInstanceName", "db")) == []


def test_sql_high_availability() -> None:
    zonal = mutate(SQL_OK, "settings.availabilityType", "ZONAL")
    assert "ZONAL" in _names(violations("gpu-platform-gcp-sql-high-availability", SQL_INSTANCE, zonal, "prod"))
    replica = mutate(SQL_REPLICA, "settings.availabilityType", "ZONAL")
    assert violations("gpu-platform-gcp-sql-high-availability", SQL_INSTANCE, replica, "prod") == []


# -- Cloud Storage and IAM ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [
        ("gpu-platform-gcp-bucket-uniform-access", "uniformBucketLevelAccess", False),
        ("gpu-platform-gcp-bucket-uniform-access", "uniformBucketLevelAccess", ...),
        ("gpu-platform-gcp-bucket-public-access-prevention", "publicAccessPrevention", "inherited"),
        ("gpu-platform-gcp-bucket-public-access-prevention", "publicAccessPrevention", ...),
    ],
)
def test_bucket_rules(name: str, path: str, value: Any) -> None:
    assert violations(name, BUCKET, BUCKET_OK) == []
    assert len(violations(name, BUCKET, mutate(BUCKET_OK, path, value))) == 1


@pytest.mark.parametrize(
    ("resource_type", "props"),
    [
        (BUCKET_IAM_MEMBER, {"bucket": "acme-prod-models", "role": "roles/storage.objectViewer", "member": "allUsers"}),
        (
            BUCKET_IAM_BINDING,
            {
                "bucket": "b",
                "role": "roles/storage.objectViewer",
                "members": [f"serviceAccount:{APP_SA}", "allAuthenticatedUsers"],
            },
        ),
        (
            SECRET_IAM_MEMBER,
            {"secretId": "db-password", "role": "roles/secretmanager.secretAccessor", "member": "allUsers"},
        ),
    ],
)
def test_no_public_iam_fails(resource_type: str, props: Mapping[str, Any]) -> None:
    found = violations("gpu-platform-gcp-no-public-iam", resource_type, props, "dev")
    assert len(found) == 1
    assert "all" in found[0]
    assert "roles/" in found[0]


def test_no_public_iam_passes_a_service_account() -> None:
    props = {"bucket": "b", "role": "roles/storage.objectViewer", "member": f"serviceAccount:{APP_SA}"}
    assert violations("gpu-platform-gcp-no-public-iam", BUCKET_IAM_MEMBER, props) == []


# -- Cloud Run ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ingress", ["INGRESS_TRAFFIC_ALL", ...])
def test_run_ingress_fails_when_open(ingress: Any) -> None:
    found = violations("gpu-platform-gcp-run-ingress", RUN_SERVICE, mutate(RUN_OK, "ingress", ingress))
    assert "INGRESS_TRAFFIC_ALL" in _names(found)


@pytest.mark.parametrize("ingress", ["INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"])
def test_run_ingress_passes_private(ingress: str) -> None:
    assert violations("gpu-platform-gcp-run-ingress", RUN_SERVICE, mutate(RUN_OK, "ingress", ingress)) == []


def _invoker(member: str = "allUsers", name: Any = "api") -> dict[str, Any]:
    return {"name": name, "location": "us-central1", "role": "roles/run.invoker", "member": member}


def test_run_public_invoker_behind_the_load_balancer_passes() -> None:
    resources = [Res(RUN_SERVICE, "api", RUN_OK), Res(RUN_IAM_MEMBER, "api-invoker", _invoker(), depends_on=("api",))]
    assert stack_violations("gpu-platform-gcp-run-not-public", resources) == []


def test_run_public_invoker_on_an_open_service_fails() -> None:
    open_service = mutate(RUN_OK, "ingress", "INGRESS_TRAFFIC_ALL")
    resources = [
        Res(RUN_SERVICE, "api", open_service),
        Res(RUN_IAM_MEMBER, "api-invoker", _invoker(), depends_on=("api",)),
    ]
    found = stack_violations("gpu-platform-gcp-run-not-public", resources)
    assert len(found) == 1
    urn, message = found[0]
    assert str(urn).endswith("::api-invoker")
    assert "allUsers" in message
    assert "INGRESS_TRAFFIC_ALL" in message


def test_run_public_binding_found_by_name() -> None:
    binding = {
        "name": "projects/acme-prod/locations/us-central1/services/api",
        "role": "roles/run.invoker",
        "members": ["allAuthenticatedUsers"],
    }
    resources = [Res(RUN_SERVICE, "api", mutate(RUN_OK, "ingress", ...)), Res(RUN_IAM_BINDING, "b", binding)]
    found = stack_violations("gpu-platform-gcp-run-not-public", resources)
    assert ["allAuthenticatedUsers" in m for _, m in found] == [True]


def test_run_public_invoker_on_an_unknown_service_fails() -> None:
    found = stack_violations("gpu-platform-gcp-run-not-public", [Res(RUN_IAM_MEMBER, "x", _invoker(name="elsewhere"))])
    assert "not in the stack" in _names([m for _, m in found])


def test_run_invoker_check_disabled_needs_private_ingress() -> None:
    disabled = mutate(RUN_OK, "invokerIamDisabled", True)
    assert stack_violations("gpu-platform-gcp-run-not-public", [Res(RUN_SERVICE, "api", disabled)]) == []
    open_service = mutate(disabled, "ingress", "INGRESS_TRAFFIC_ALL")
    found = stack_violations("gpu-platform-gcp-run-not-public", [Res(RUN_SERVICE, "api", open_service)])
    assert "invoker IAM check" in _names([m for _, m in found])


def test_run_private_invoker_on_an_open_service_is_not_this_rules_business() -> None:
    open_service = mutate(RUN_OK, "ingress", "INGRESS_TRAFFIC_ALL")
    grant = _invoker(member=f"serviceAccount:{APP_SA}")
    resources = [Res(RUN_SERVICE, "api", open_service), Res(RUN_IAM_MEMBER, "g", grant, depends_on=("api",))]
    assert stack_violations("gpu-platform-gcp-run-not-public", resources) == []


def test_run_invoker_with_unknown_name_is_matched_by_dependency() -> None:
    """In ``pulumi preview`` a new service's name is unknown: the dependency still ties the grant to it."""
    grant = _invoker(name=UNKNOWN_STRING_VALUE)
    resources = [Res(RUN_SERVICE, "api", RUN_OK), Res(RUN_IAM_MEMBER, "g", grant, depends_on=("api",))]
    assert stack_violations("gpu-platform-gcp-run-not-public", resources) == []


def test_cloud_run_plaintext_secret_is_reported_by_the_stack_rule() -> None:
    assert violations("gpu-platform-stack-no-plaintext-secrets", RUN_SERVICE, RUN_OK) == []
    leaked = mutate(RUN_OK, "template.containers.0.envs.1", {"name": "DB_PASSWORD", "value": "hunter2"})
    found = violations("gpu-platform-stack-no-plaintext-secrets", RUN_SERVICE, leaked)
    assert len(found) == 1
    assert "DB_PASSWORD" in found[0]


def test_env_pairs_reads_literal_values_only() -> None:
    subject = Subject(type=RUN_SERVICE, name="api", urn="urn:api", props=RUN_OK)
    assert list(gcp_rules.env_pairs(subject)) == [("LOG_LEVEL", "info")]


# -- Load balancing and Cloud Armor ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "failures"),
    [
        (BACKEND_OK, 0),
        (mutate(BACKEND_OK, "securityPolicy", ...), 1),
        (mutate(mutate(BACKEND_OK, "securityPolicy", ...), "loadBalancingScheme", ...), 1),  # default EXTERNAL
        (mutate(mutate(BACKEND_OK, "securityPolicy", ...), "loadBalancingScheme", "INTERNAL_MANAGED"), 0),
    ],
)
def test_lb_cloud_armor(props: Mapping[str, Any], failures: int) -> None:
    assert len(violations("gpu-platform-gcp-lb-cloud-armor", BACKEND_SERVICE, props)) == failures


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"profile": "COMPATIBLE", "minTlsVersion": "TLS_1_2"}, "profile COMPATIBLE"),
        ({"profile": "MODERN", "minTlsVersion": "TLS_1_0"}, "minTlsVersion TLS_1_0"),
        ({"profile": "MODERN"}, "minTlsVersion TLS_1_0"),  # the API default
        (
            {"profile": "CUSTOM", "minTlsVersion": "TLS_1_2", "customFeatures": ["TLS_RSA_WITH_AES_128_GCM_SHA256"]},
            "TLS_RSA",
        ),
    ],
)
def test_lb_tls12_fails_weak_ssl_policies(props: Mapping[str, Any], expected: str) -> None:
    assert expected in _names(violations("gpu-platform-gcp-lb-tls12", SSL_POLICY, props))


@pytest.mark.parametrize(
    "props",
    [
        SSL_POLICY_OK,
        {"profile": "MODERN", "minTlsVersion": "TLS_1_2"},
        {
            "profile": "CUSTOM",
            "minTlsVersion": "TLS_1_3",
            "customFeatures": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
        },
    ],
)
def test_lb_tls12_passes_strong_ssl_policies(props: Mapping[str, Any]) -> None:
    assert violations("gpu-platform-gcp-lb-tls12", SSL_POLICY, props) == []


def test_lb_tls12_https_proxy_needs_an_ssl_policy() -> None:
    assert violations("gpu-platform-gcp-lb-tls12", HTTPS_PROXY, PROXY_OK) == []
    found = violations("gpu-platform-gcp-lb-tls12", HTTPS_PROXY, mutate(PROXY_OK, "sslPolicy", ...))
    assert "TLS 1.0" in _names(found)


@pytest.mark.parametrize(
    ("path", "value", "failures"),
    [
        ("rules.0.rateLimitOptions.enforceOnKey", ..., 1),  # ALL: one bucket shared by every client
        ("rules.0.rateLimitOptions.enforceOnKey", "XFF_IP", 0),
        ("rules.0.rateLimitOptions.enforceOnKey", "HTTP_PATH", 1),
        ("rules.0.action", "allow", 1),
        ("rules.0.rateLimitOptions", ..., 1),
    ],
)
def test_armor_rate_limit(path: str, value: Any, failures: int) -> None:
    assert violations("gpu-platform-gcp-armor-rate-limit", SECURITY_POLICY, ARMOR_OK, "staging") == []
    found = violations("gpu-platform-gcp-armor-rate-limit", SECURITY_POLICY, mutate(ARMOR_OK, path, value), "prod")
    assert len(found) == failures


def test_armor_rate_limit_key_configs_and_dev() -> None:
    keyed = mutate(ARMOR_OK, "rules.0.rateLimitOptions.enforceOnKey", ...)
    keyed = mutate(keyed, "rules.0.rateLimitOptions.enforceOnKeyConfigs", [{"enforceOnKeyType": "IP"}])
    assert violations("gpu-platform-gcp-armor-rate-limit", SECURITY_POLICY, keyed, "prod") == []
    assert violations("gpu-platform-gcp-armor-rate-limit", SECURITY_POLICY, {"rules": []}, "dev") == []


# -- Compute Engine, GKE nodes and service accounts -----------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "props"),
    [
        (INSTANCE, INSTANCE_OK),
        (INSTANCE_TEMPLATE, TEMPLATE_OK),
        (REGION_INSTANCE_TEMPLATE, TEMPLATE_OK),
        (NODE_POOL, NODE_POOL_OK),
        (RUN_SERVICE, RUN_OK),
    ],
)
def test_dedicated_service_account_passes(resource_type: str, props: Mapping[str, Any]) -> None:
    assert violations("gpu-platform-gcp-no-default-service-account", resource_type, props) == []


@pytest.mark.parametrize(
    ("resource_type", "props", "expected"),
    [
        (INSTANCE, mutate(INSTANCE_OK, "serviceAccount.email", DEFAULT_SA), "full access"),
        (INSTANCE_TEMPLATE, mutate(TEMPLATE_OK, "serviceAccount.email", ...), "Compute Engine default"),
        (INSTANCE, mutate(INSTANCE_OK, "serviceAccount.email", "acme-prod@appspot.gserviceaccount.com"), "appspot"),
        (INSTANCE, mutate(INSTANCE_OK, "serviceAccount", ...), "serviceAccount.email unset"),
        (NODE_POOL, mutate(NODE_POOL_OK, "nodeConfig.serviceAccount", "default"), "Compute Engine default"),
        (NODE_POOL, mutate(NODE_POOL_OK, "nodeConfig.serviceAccount", ...), "full access"),
        (RUN_SERVICE, mutate(RUN_OK, "template.serviceAccount", ...), "template.serviceAccount unset"),
    ],
)
def test_default_service_account_fails(resource_type: str, props: Mapping[str, Any], expected: str) -> None:
    found = violations("gpu-platform-gcp-no-default-service-account", resource_type, props)
    assert len(found) == 1
    assert expected in found[0]


def test_default_service_account_without_broad_scope_is_named_plainly() -> None:
    props = mutate(mutate(INSTANCE_OK, "serviceAccount.email", DEFAULT_SA), "serviceAccount.scopes", ["logging-write"])
    (message,) = violations("gpu-platform-gcp-no-default-service-account", INSTANCE, props)
    assert DEFAULT_SA in message
    assert "full access" not in message


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("shieldedInstanceConfig.enableSecureBoot", ..., "enableSecureBoot unset"),
        ("shieldedInstanceConfig.enableSecureBoot", False, "enableSecureBoot false"),
        ("shieldedInstanceConfig.enableVtpm", False, "enableVtpm false"),
        ("shieldedInstanceConfig.enableIntegrityMonitoring", False, "enableIntegrityMonitoring false"),
    ],
)
def test_vm_shielded_fails(path: str, value: Any, expected: str) -> None:
    assert violations("gpu-platform-gcp-vm-shielded", INSTANCE, INSTANCE_OK) == []
    assert (
        violations("gpu-platform-gcp-vm-shielded", INSTANCE_TEMPLATE, TEMPLATE_OK) == []
    )  # vTPM, monitoring default on
    assert expected in _names(violations("gpu-platform-gcp-vm-shielded", INSTANCE, mutate(INSTANCE_OK, path, value)))


@pytest.mark.parametrize(
    ("metadata", "failures"),
    [
        ({"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE"}, 0),
        ({"enable-oslogin": "true", "block-project-ssh-keys": "True"}, 0),
        ({"enable-oslogin": "FALSE", "block-project-ssh-keys": "TRUE"}, 1),
        ({"block-project-ssh-keys": "TRUE"}, 1),
        ({}, 2),
    ],
)
def test_vm_os_login(metadata: Mapping[str, str], failures: int) -> None:
    props = mutate(INSTANCE_OK, "metadata", dict(metadata))
    assert len(violations("gpu-platform-gcp-vm-os-login", INSTANCE, props)) == failures


def test_vm_no_public_ip() -> None:
    assert violations("gpu-platform-gcp-vm-no-public-ip", INSTANCE, INSTANCE_OK) == []
    exposed = mutate(INSTANCE_OK, "networkInterfaces.0.accessConfigs", [{}])  # ephemeral external IP
    assert "networkInterfaces[0]" in _names(violations("gpu-platform-gcp-vm-no-public-ip", INSTANCE, exposed))
    ipv6 = mutate(TEMPLATE_OK, "networkInterfaces.0.ipv6AccessConfigs", [{"networkTier": "PREMIUM"}])
    assert violations("gpu-platform-gcp-vm-no-public-ip", INSTANCE_TEMPLATE, ipv6)
    turn = mutate(exposed, "labels", LABELS | {"gpu-platform-role": "turn"})
    assert violations("gpu-platform-gcp-vm-no-public-ip", INSTANCE, turn) == []


@pytest.mark.parametrize(
    ("path", "value", "failures"),
    [
        ("logConfig", ..., 1),
        ("privateIpGoogleAccess", False, 1),
        ("privateIpGoogleAccess", ..., 1),
        ("purpose", "PRIVATE", 0),
    ],
)
def test_subnet_flow_logs(path: str, value: Any, failures: int) -> None:
    assert violations("gpu-platform-gcp-subnet-flow-logs", SUBNETWORK, SUBNET_OK) == []
    assert len(violations("gpu-platform-gcp-subnet-flow-logs", SUBNETWORK, mutate(SUBNET_OK, path, value))) == failures


def test_proxy_only_subnets_are_exempt() -> None:
    proxy_only = {
        "network": NETWORK,
        "ipCidrRange": "10.129.0.0/23",
        "purpose": "REGIONAL_MANAGED_PROXY",
        "role": "ACTIVE",
    }
    assert violations("gpu-platform-gcp-subnet-flow-logs", SUBNETWORK, proxy_only) == []


# -- customer-managed keys ------------------------------------------------------------------------------------


ON_KEY_REPLICA = {"location": "us-central1", "customerManagedEncryption": {"kmsKeyName": KMS_KEY}}


def _stores(sql_key: str | None = KMS_KEY, bucket_key: str | None = KMS_KEY, secret: Any = None) -> list[Res]:
    """A Cloud SQL instance, bucket, disk and secret, each on ``KMS_KEY`` unless told otherwise (None: no key)."""
    sql = mutate(SQL_OK, "encryptionKeyName", sql_key) if sql_key else SQL_OK
    bucket = mutate(BUCKET_OK, "encryption", {"defaultKmsKeyName": bucket_key}) if bucket_key else BUCKET_OK
    disk = mutate(DISK_OK, "diskEncryptionKey", {"kmsKeySelfLink": KMS_KEY})
    replication = secret or {"auto": {"customerManagedEncryption": {"kmsKeyName": KMS_KEY}}}
    return [
        Res(SQL_INSTANCE, "db", sql),
        Res(BUCKET, "models", bucket),
        Res(DISK, "cache", disk),
        Res(SECRET, "pw", mutate(SECRET_OK, "replication", replication)),
    ]


def test_cmek_everywhere_passes() -> None:
    assert stack_violations("gpu-platform-gcp-cmek", [Res(CRYPTO_KEY, "data", {"keyRing": "r"}), *_stores()]) == []


def test_cmek_not_asked_passes() -> None:
    """Google-managed encryption everywhere: the stack did not ask for CMEK."""
    resources = [Res(SQL_INSTANCE, "db", SQL_OK), Res(BUCKET, "models", BUCKET_OK), Res(SECRET, "pw", SECRET_OK)]
    assert stack_violations("gpu-platform-gcp-cmek", resources) == []


@pytest.mark.parametrize(
    ("resources", "offender"),
    [
        (_stores(bucket_key=None), "models"),
        (_stores(sql_key=None), "db"),
        (
            # one user-managed replica on the key, the other on Google's: the secret is not all CMEK
            _stores(secret={"userManaged": {"replicas": [ON_KEY_REPLICA, {"location": "us-east1"}]}}),
            "pw",
        ),
        ([Res(CRYPTO_KEY, "data", {"keyRing": "r"}), Res(DISK, "cache", DISK_OK)], "cache"),
    ],
)
def test_cmek_partial_fails(resources: list[Res], offender: str) -> None:
    found = stack_violations("gpu-platform-gcp-cmek", resources)
    assert [urn.rsplit("::", 1)[-1] for urn, _ in found if urn] == [offender]


# -- labels ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "props"),
    [
        (SQL_INSTANCE, SQL_OK),
        (BUCKET, BUCKET_OK),
        (RUN_SERVICE, RUN_OK),
        (INSTANCE, INSTANCE_OK),
        (DISK, DISK_OK),
        (SECRET, SECRET_OK),
    ],
)
def test_labels_pass(resource_type: str, props: Mapping[str, Any]) -> None:
    assert violations("gpu-platform-gcp-labels", resource_type, props, "prod") == []


def test_labels_fail() -> None:
    assert len(violations("gpu-platform-gcp-labels", BUCKET, mutate(BUCKET_OK, "labels", ...), "prod")) == 2
    staging = violations("gpu-platform-gcp-labels", BUCKET, BUCKET_OK, "staging")
    assert _names(staging).endswith("set it to staging")
    sql = violations("gpu-platform-gcp-labels", SQL_INSTANCE, mutate(SQL_OK, "settings.userLabels", {}), "dev")
    assert "settings.userLabels.gpu-platform-stack" in _names(sql)


# -- what the GCP target must declare for the stack rules -----------------------------------------------------

# Resources whose loss loses data; the GCP plugin must list them as StatefulType(protect=True)
# so prod's protect-stateful rule covers them (policy/rules/targets.py is generated from the plugins).
GCP_STATEFUL = (SQL_INSTANCE, SQL_DATABASE, BUCKET, DISK, SECRET)


def test_gcp_stateful_types_reach_the_protect_rule_once_registered() -> None:
    declared = set(STATEFUL_TYPES) & set(GCP_STATEFUL)
    if "gcp" in TARGETS:
        assert declared == set(GCP_STATEFUL)
    else:
        assert not declared, "GCP stateful types without the GCP target"
    assert gcp_rules.regenerated([Subject(type=SQL_INSTANCE, name="db", urn="urn:db", props=SQL_OK)]) == set()
