"""GCP rules (CIS Google Cloud Platform Foundation Benchmark, Checkov CKV_GCP_*, organization policy constraints).

Rules read pulumi-gcp 10.x inputs as the engine sends them: the camelCase of the
Python SDK's snake_case names (``settings.ipConfiguration.sslMode``,
``shieldedInstanceConfig.enableSecureBoot``), numbers as floats, lists and maps
as the policy server's read-only proxies. Where the Google API has a default the
engine omits, the rule applies that default: a Cloud SQL instance without
``ipv4Enabled`` gets a public IP, a Cloud Run service without ``ingress`` takes
``INGRESS_TRAFFIC_ALL``, a backend service without ``loadBalancingScheme`` is
``EXTERNAL``, an HTTPS proxy without ``sslPolicy`` gets Google's default policy
(COMPATIBLE, TLS 1.0).

Labels the rules read (GCP label keys allow only lowercase letters, digits, ``-``
and ``_``): ``gpu-platform-stack`` and ``gpu-platform-environment`` on every
labelled resource, and ``gpu-platform-role: turn`` on the TURN relay VMs, the
only VMs allowed an external address (as the AWS rules allow the ``turn`` role).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policy.rules.base import (
    Environment,
    Rule,
    Subject,
    as_list,
    get,
    has_input,
    is_false,
    is_true,
    mapping,
    mappings,
    resource_rule,
    shown,
    stack_rule,
    whole_number,
    world_cidrs,
)

SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
SQL_DATABASE = "gcp:sql/database:Database"
BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
BUCKET_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
SECRET = "gcp:secretmanager/secret:Secret"
SECRET_IAM_MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember"
SECRET_IAM_BINDING = "gcp:secretmanager/secretIamBinding:SecretIamBinding"
RUN_SERVICE = "gcp:cloudrunv2/service:Service"
RUN_IAM_MEMBER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
RUN_IAM_BINDING = "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding"
BACKEND_SERVICE = "gcp:compute/backendService:BackendService"
SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
HTTPS_PROXY = "gcp:compute/targetHttpsProxy:TargetHttpsProxy"
SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"
INSTANCE = "gcp:compute/instance:Instance"
INSTANCE_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
REGION_INSTANCE_TEMPLATE = "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate"
NODE_POOL = "gcp:container/nodePool:NodePool"
DISK = "gcp:compute/disk:Disk"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"

VM_TYPES = (INSTANCE, INSTANCE_TEMPLATE, REGION_INSTANCE_TEMPLATE)
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")

# The identities Google creates per project and grants Editor: Compute Engine's and App Engine's.
DEFAULT_SERVICE_ACCOUNT = re.compile(r"^(\d+-compute@developer|[a-z][a-z0-9-]*@appspot)\.gserviceaccount\.com$")
FULL_API_SCOPES = ("cloud-platform", "https://www.googleapis.com/auth/cloud-platform")

SSL_MODES_ENCRYPTED = ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")
INGRESS_PRIVATE = ("INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER")
EXTERNAL_SCHEMES = ("EXTERNAL", "EXTERNAL_MANAGED")
PER_IP_KEYS = ("IP", "XFF_IP")
TLS_MIN_VERSIONS = ("TLS_1_2", "TLS_1_3")
# RSA key-exchange and 3DES suites: what CIS 3.9 calls weak (no forward secrecy).
WEAK_CIPHER_FEATURES = (
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
)

STACK_LABEL = "gpu-platform-stack"
ENVIRONMENT_LABEL = "gpu-platform-environment"
ROLE_LABEL = "gpu-platform-role"
TURN_ROLE = "turn"

# Automated backups kept, from the profiles (stacks/profiles.py): staging 7 days, prod 30 days with PITR.
# Cloud SQL takes one automated backup a day, so days are backups (retentionUnit COUNT, the API default).
BACKUPS_KEPT: dict[Environment, int] = {"staging": 7, "prod": 30}
API_DEFAULT_BACKUPS_KEPT = 7
POINT_IN_TIME_ENVIRONMENTS: tuple[Environment, ...] = ("prod",)


# -- GCP-specific readers (the shared ones are in policy/rules/base.py) ----------------


def _is_replica(props: Mapping[str, Any]) -> bool:
    """A Cloud SQL read replica names its primary (keys only: the name may be unknown in preview)."""
    return has_input(props, "masterInstanceName")


def _members(props: Mapping[str, Any]) -> list[str]:
    """The principals of an IAM member (``member``) or binding (``members``) resource."""
    return [str(m) for m in [props.get("member"), *as_list(props.get("members"))] if m]


def _public_members(props: Mapping[str, Any]) -> list[str]:
    return [m for m in _members(props) if m in PUBLIC_MEMBERS]


# -- Cloud SQL -------------------------------------------------------------------------


@resource_rule(
    "gpu-platform-gcp-sql-private-ip",
    "Cloud SQL instances must have no public IP address and no authorized network open to the world.",
    "critical",
    "CIS GCP 6.5 / 6.6 / CKV_GCP_11 / CKV_GCP_60",
    [SQL_INSTANCE],
)
def sql_private_ip(subject: Subject) -> Iterator[str]:
    ip = mapping(subject.props, "settings.ipConfiguration")
    if not is_false(ip.get("ipv4Enabled")):
        yield (
            f"Cloud SQL instance {subject.name} has settings.ipConfiguration.ipv4Enabled "
            f"{shown(ip.get('ipv4Enabled'))} (a public IP; the API default); "
            "set it false and connect through privateNetwork"
        )
    for network in mappings(ip.get("authorizedNetworks")):
        if world_cidrs(network.get("value")):
            yield f"Cloud SQL instance {subject.name} authorizes {network.get('value')}; remove it"


@resource_rule(
    "gpu-platform-gcp-sql-ssl-mode",
    "Cloud SQL instances must refuse unencrypted connections (sslMode ENCRYPTED_ONLY or client certificates required).",
    "high",
    "CIS GCP 6.4 / CKV_GCP_6",
    [SQL_INSTANCE],
)
def sql_ssl_mode(subject: Subject) -> Iterator[str]:
    mode = get(subject.props, "settings.ipConfiguration.sslMode")
    if mode not in SSL_MODES_ENCRYPTED:
        yield (
            f"Cloud SQL instance {subject.name} has settings.ipConfiguration.sslMode {shown(mode)}; "
            'set "ENCRYPTED_ONLY" (or "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")'
        )


def _backup_gaps(subject: Subject) -> Iterator[str]:
    backup = mapping(subject.props, "settings.backupConfiguration")
    where = f"Cloud SQL instance {subject.name}"
    if not is_true(backup.get("enabled")):
        yield f"{where} has settings.backupConfiguration.enabled {shown(backup.get('enabled'))}; set it true"
    required = BACKUPS_KEPT.get(subject.environment, max(BACKUPS_KEPT.values()))
    retention = mapping(backup, "backupRetentionSettings")
    unit = str(retention.get("retentionUnit") or "COUNT")
    kept = whole_number(retention.get("retainedBackups"))
    if unit != "COUNT" or (kept if kept is not None else API_DEFAULT_BACKUPS_KEPT) < required:
        yield (
            f"{where} keeps settings.backupConfiguration.backupRetentionSettings.retainedBackups {shown(kept)} "
            f"({unit}); keep at least {required} daily backups in {subject.environment}"
        )
    pitr = backup.get("pointInTimeRecoveryEnabled")
    if subject.environment in POINT_IN_TIME_ENVIRONMENTS and not is_true(pitr):
        yield (
            f"{where} has settings.backupConfiguration.pointInTimeRecoveryEnabled {shown(pitr)}; "
            f"set it true in {subject.environment}"
        )


@resource_rule(
    "gpu-platform-gcp-sql-backups",
    "Cloud SQL instances must keep daily backups for the environment (staging 7, prod 30 with point-in-time recovery).",
    "high",
    "CIS GCP 6.7 / CKV_GCP_14",
    [SQL_INSTANCE],
    environments=("staging", "prod"),
)
def sql_backups(subject: Subject) -> Iterator[str]:
    if _is_replica(subject.props):
        return  # replicas cannot take backups: the primary keeps them
    yield from _backup_gaps(subject)


@resource_rule(
    "gpu-platform-gcp-sql-deletion-protection",
    "In prod Cloud SQL instances must be protected from deletion both by the provider and by the Cloud SQL API.",
    "high",
    "Cloud SQL instance deletion protection (settings.deletionProtectionEnabled) / AWS Security Hub RDS.8 by analogy",
    [SQL_INSTANCE],
    environments=("prod",),
)
def sql_deletion_protection(subject: Subject) -> Iterator[str]:
    """``deletionProtection`` (provider side, default true) stops ``pulumi destroy``; the API flag stops all clients."""
    props = subject.props
    if is_false(props.get("deletionProtection")):
        yield f"Cloud SQL instance {subject.name} sets deletionProtection false; leave it true in prod"
    api_flag = get(props, "settings.deletionProtectionEnabled")
    if not is_true(api_flag):
        yield (
            f"Cloud SQL instance {subject.name} has settings.deletionProtectionEnabled {shown(api_flag)}; "
            "set it true in prod (the console, gcloud and the API then refuse to delete it)"
        )


@resource_rule(
    "gpu-platform-gcp-sql-final-backup",
    "In prod deleting a Cloud SQL instance must keep its backups or take a final backup.",
    "medium",
    "Cloud SQL settings.finalBackupConfig / retainBackupsOnDelete (AWS RDS final snapshot by analogy)",
    [SQL_INSTANCE],
    environments=("prod",),
)
def sql_final_backup(subject: Subject) -> Iterator[str]:
    if _is_replica(subject.props):
        return
    settings = mapping(subject.props, "settings")
    if is_true(settings.get("retainBackupsOnDelete")) or is_true(get(settings, "finalBackupConfig.enabled")):
        return
    yield (
        f"Cloud SQL instance {subject.name} neither retains its backups on delete nor takes a final backup; "
        "set settings.retainBackupsOnDelete true or settings.finalBackupConfig.enabled true in prod"
    )


@resource_rule(
    "gpu-platform-gcp-sql-high-availability",
    "In prod Cloud SQL primaries must be regional (a standby in a second zone) to survive a zone failure.",
    "medium",
    "Cloud SQL high availability (availabilityType REGIONAL) / AWS Security Hub RDS.5 by analogy",
    [SQL_INSTANCE],
    security=False,
    environments=("prod",),
)
def sql_high_availability(subject: Subject) -> Iterator[str]:
    if _is_replica(subject.props):
        return
    kind = get(subject.props, "settings.availabilityType")
    if kind != "REGIONAL":
        yield f'Cloud SQL instance {subject.name} has settings.availabilityType {shown(kind)}; set "REGIONAL" in prod'


# -- Cloud Storage and IAM ----------------------------------------------------------------


@resource_rule(
    "gpu-platform-gcp-bucket-uniform-access",
    "Cloud Storage buckets must use uniform bucket-level access so IAM alone decides who reads objects.",
    "high",
    "CIS GCP 5.2 / CKV_GCP_29",
    [BUCKET],
)
def bucket_uniform_access(subject: Subject) -> Iterator[str]:
    value = subject.props.get("uniformBucketLevelAccess")
    if not is_true(value):
        yield f"bucket {subject.name} has uniformBucketLevelAccess {shown(value)}; set it true (no per-object ACLs)"


@resource_rule(
    "gpu-platform-gcp-bucket-public-access-prevention",
    "Cloud Storage buckets must enforce public access prevention.",
    "high",
    "CKV_GCP_114 / org policy constraints/storage.publicAccessPrevention",
    [BUCKET],
)
def bucket_public_access_prevention(subject: Subject) -> Iterator[str]:
    value = subject.props.get("publicAccessPrevention")
    if value != "enforced":
        yield (
            f'bucket {subject.name} has publicAccessPrevention {shown(value)} ("inherited" by default); set "enforced"'
        )


@resource_rule(
    "gpu-platform-gcp-no-public-iam",
    "Buckets and Secret Manager secrets must not grant any role to allUsers or allAuthenticatedUsers.",
    "critical",
    "CIS GCP 5.1 / CKV_GCP_28",
    [BUCKET_IAM_MEMBER, BUCKET_IAM_BINDING, SECRET_IAM_MEMBER, SECRET_IAM_BINDING],
)
def no_public_iam(subject: Subject) -> Iterator[str]:
    for member in _public_members(subject.props):
        yield f"{subject.name} grants {subject.props.get('role')} to {member}; grant it to a service account"


# -- Cloud Run ------------------------------------------------------------------------------


def _ingress(props: Mapping[str, Any]) -> str:
    return str(props.get("ingress") or "INGRESS_TRAFFIC_ALL")


@resource_rule(
    "gpu-platform-gcp-run-ingress",
    "Cloud Run services must take traffic only from the VPC or through the load balancer, not from the internet.",
    "high",
    "Org policy constraints/run.allowedIngress (Cloud Run ingress settings)",
    [RUN_SERVICE],
)
def run_ingress(subject: Subject) -> Iterator[str]:
    ingress = _ingress(subject.props)
    if ingress not in INGRESS_PRIVATE:
        yield (
            f"Cloud Run service {subject.name} has ingress {ingress}; set INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER "
            "(behind the load balancer and Cloud Armor) or INGRESS_TRAFFIC_INTERNAL_ONLY"
        )


def _service_name(value: Any) -> str:
    """``projects/p/locations/l/services/api`` or ``api`` -> ``api``."""
    return str(value or "").rsplit("/", 1)[-1]


def _granted_service(grant: Subject, services: Sequence[Subject]) -> Subject | None:
    """The service an IAM member/binding names: by dependency, else by name (the offline twin has both)."""
    for service in services:
        if service.urn in grant.dependencies:
            return service
    name = _service_name(grant.props.get("name"))
    return next((s for s in services if name and _service_name(s.props.get("name")) == name), None)


@stack_rule(
    "gpu-platform-gcp-run-not-public",
    "A Cloud Run service open to all callers (allUsers invoker, invokerIamDisabled) must not take internet ingress.",
    "critical",
    "CKV_GCP_102",
)
def run_not_public(subjects: Sequence[Subject]) -> Iterator[tuple[str, str]]:
    """Public invokers are how a serverless NEG behind the external load balancer reaches a service.

    That is safe only when the service's ingress admits the load balancer and the VPC
    and nothing else, so Cloud Armor sees every request.
    """
    services = [s for s in subjects if s.type == RUN_SERVICE]
    for service in services:
        if is_true(service.props.get("invokerIamDisabled")) and _ingress(service.props) not in INGRESS_PRIVATE:
            yield (
                service.urn,
                (
                    f"Cloud Run service {service.name} disables the invoker IAM check with ingress "
                    f"{_ingress(service.props)}; restrict ingress to INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
                ),
            )
    for grant in subjects:
        if grant.type not in (RUN_IAM_MEMBER, RUN_IAM_BINDING) or not _public_members(grant.props):
            continue
        service = _granted_service(grant, services)
        if service is None or _ingress(service.props) not in INGRESS_PRIVATE:
            target = (
                f"{service.name} with ingress {_ingress(service.props)}" if service else "a service not in the stack"
            )
            yield (
                grant.urn,
                (
                    f"{grant.name} lets {', '.join(_public_members(grant.props))} invoke {target}; "
                    "set the service's ingress to INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER or grant a service account"
                ),
            )


# -- Load balancing ---------------------------------------------------------------------------


@resource_rule(
    "gpu-platform-gcp-lb-cloud-armor",
    "Backend services of an external load balancer must attach a Cloud Armor security policy.",
    "high",
    "Cloud Armor docs: a backend service without a security policy is unprotected (no CIS or Checkov check)",
    [BACKEND_SERVICE],
)
def lb_cloud_armor(subject: Subject) -> Iterator[str]:
    scheme = str(subject.props.get("loadBalancingScheme") or "EXTERNAL")
    if scheme in EXTERNAL_SCHEMES and not subject.props.get("securityPolicy"):
        yield (
            f"backend service {subject.name} ({scheme}) has no securityPolicy; attach the Cloud Armor policy "
            "(rate limit per client IP) so internet traffic is filtered before it reaches the backends"
        )


def _weak_ssl_policy(props: Mapping[str, Any]) -> str | None:
    """Why an SSL policy permits weak TLS, or None (CIS 3.9: MODERN or RESTRICTED with TLS 1.2, no RSA suites)."""
    version = str(props.get("minTlsVersion") or "TLS_1_0")
    profile = str(props.get("profile") or "COMPATIBLE")
    if version not in TLS_MIN_VERSIONS:
        return f"minTlsVersion {version}"
    if profile == "COMPATIBLE":
        return "profile COMPATIBLE"
    weak = [f for f in as_list(props.get("customFeatures")) if f in WEAK_CIPHER_FEATURES]
    if profile == "CUSTOM" and weak:
        return f"customFeatures {', '.join(map(str, weak))}"
    return None


@resource_rule(
    "gpu-platform-gcp-lb-tls12",
    "HTTPS proxies must use an SSL policy with TLS 1.2 or newer and no weak cipher suites.",
    "high",
    "CIS GCP 3.9 / CKV_GCP_4",
    [SSL_POLICY, HTTPS_PROXY],
)
def lb_tls12(subject: Subject) -> Iterator[str]:
    if subject.type == HTTPS_PROXY:
        if not subject.props.get("sslPolicy"):
            yield (
                f"HTTPS proxy {subject.name} has no sslPolicy (Google's default allows TLS 1.0); "
                'attach an SSL policy with profile "MODERN" or "RESTRICTED" and minTlsVersion "TLS_1_2"'
            )
        return
    weak = _weak_ssl_policy(subject.props)
    if weak:
        yield (
            f"SSL policy {subject.name} allows weak TLS ({weak}); "
            'set profile "RESTRICTED" or "MODERN" and minTlsVersion "TLS_1_2"'
        )


def _limits_per_ip(rule: Mapping[str, Any]) -> bool:
    """A throttle/ban rule keyed on the client IP (``enforceOnKey`` defaults to ``ALL``: one shared bucket)."""
    options = mapping(rule, "rateLimitOptions")
    if rule.get("action") not in ("throttle", "rate_based_ban") or not options:
        return False
    keys = [options.get("enforceOnKey") or "ALL"]
    keys += [c.get("enforceOnKeyType") for c in mappings(options.get("enforceOnKeyConfigs"))]
    return any(key in PER_IP_KEYS for key in keys)


@resource_rule(
    "gpu-platform-gcp-armor-rate-limit",
    "In staging and prod the Cloud Armor policy must rate-limit each client IP, as the profile asks.",
    "medium",
    "Google Cloud Armor rate limiting (throttle / rate_based_ban) / AWS Security Hub WAF by analogy",
    [SECURITY_POLICY],
    environments=("staging", "prod"),
)
def armor_rate_limit(subject: Subject) -> Iterator[str]:
    if any(_limits_per_ip(rule) for rule in mappings(subject.props.get("rules"))):
        return
    yield (
        f'Cloud Armor policy {subject.name} has no per-IP rate-limit rule; add a rule with action "throttle" '
        'and rateLimitOptions.enforceOnKey "IP" at the profile\'s rate'
    )


# -- Compute Engine and GKE nodes -----------------------------------------------------------------


def _identity(subject: Subject) -> tuple[str, str | None, list[str]]:
    """(input path, service account e-mail or None, scopes) of a VM, template, node pool or Cloud Run service.

    ``None`` means the resource falls back to the Compute Engine default account: a
    Cloud Run revision or a node pool without one, a VM ``serviceAccount`` block without
    ``email``. A VM without the block counts as unnamed too, as KICS and Datadog's IaC rule
    "Using default service account" read it (gcloud attaches the default account when none is named).
    """
    props = subject.props
    if subject.type == RUN_SERVICE:
        return "template.serviceAccount", get(props, "template.serviceAccount"), []
    if subject.type == NODE_POOL:
        scopes = [str(s) for s in as_list(get(props, "nodeConfig.oauthScopes"))]
        return "nodeConfig.serviceAccount", get(props, "nodeConfig.serviceAccount"), scopes
    account = mapping(props, "serviceAccount")
    return "serviceAccount.email", account.get("email"), [str(s) for s in as_list(account.get("scopes"))]


@resource_rule(
    "gpu-platform-gcp-no-default-service-account",
    "VMs, node pools and Cloud Run services must run as a dedicated service account, not the default (Editor) one.",
    "high",
    "CIS GCP 4.1 / 4.2 / CKV_GCP_30 / CKV_GCP_31 / CKV2_GCP_1",
    [*VM_TYPES, NODE_POOL, RUN_SERVICE],
)
def no_default_service_account(subject: Subject) -> Iterator[str]:
    path, email, scopes = _identity(subject)
    default = email is None or str(email) == "default" or bool(DEFAULT_SERVICE_ACCOUNT.match(str(email)))
    if not default:
        return
    account = "the Compute Engine default service account" if email in (None, "default") else str(email)
    broad = " with the cloud-platform scope (full access to every API)" if set(scopes) & set(FULL_API_SCOPES) else ""
    yield (
        f"{subject.name} runs as {account}{broad} ({path} {shown(email)}); "
        "create a service account for it with only the roles it needs"
    )


def _vm_labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(props, "labels")


@resource_rule(
    "gpu-platform-gcp-vm-shielded",
    "VMs must boot as Shielded VMs with Secure Boot, vTPM and integrity monitoring on.",
    "medium",
    "CIS GCP 4.8 / CKV_GCP_39 / org policy constraints/compute.requireShieldedVm",
    list(VM_TYPES),
)
def vm_shielded(subject: Subject) -> Iterator[str]:
    shielded = mapping(subject.props, "shieldedInstanceConfig")
    # Secure Boot defaults off; vTPM and integrity monitoring default on for Shielded VM images.
    if not is_true(shielded.get("enableSecureBoot")):
        yield (
            f"{subject.name} has shieldedInstanceConfig.enableSecureBoot {shown(shielded.get('enableSecureBoot'))}; "
            "set it true (GPU images need signed NVIDIA drivers, as Google's and Canonical's are)"
        )
    for key in ("enableVtpm", "enableIntegrityMonitoring"):
        if is_false(shielded.get(key)):
            yield f"{subject.name} sets shieldedInstanceConfig.{key} false; leave it true"


@resource_rule(
    "gpu-platform-gcp-vm-os-login",
    "VMs must use OS Login and block project-wide SSH keys, so SSH access follows IAM.",
    "medium",
    "CIS GCP 4.3 / 4.4 / CKV_GCP_32 / CKV_GCP_34",
    list(VM_TYPES),
)
def vm_os_login(subject: Subject) -> Iterator[str]:
    metadata = mapping(subject.props, "metadata")
    for key in ("enable-oslogin", "block-project-ssh-keys"):
        if not is_true(metadata.get(key)):
            yield f'{subject.name} has metadata {key} {shown(metadata.get(key))}; set it "TRUE"'


@resource_rule(
    "gpu-platform-gcp-vm-no-public-ip",
    "VMs must have no external IP address unless they are TURN relays (label gpu-platform-role turn).",
    "high",
    "CIS GCP 4.9 / CKV_GCP_40 / org policy constraints/compute.vmExternalIpAccess",
    list(VM_TYPES),
)
def vm_no_public_ip(subject: Subject) -> Iterator[str]:
    if _vm_labels(subject.props).get(ROLE_LABEL) == TURN_ROLE:
        return
    for index, interface in enumerate(mappings(subject.props.get("networkInterfaces"))):
        if mappings(interface.get("accessConfigs")) or mappings(interface.get("ipv6AccessConfigs")):
            yield (
                f"{subject.name} networkInterfaces[{index}] has an access config (an external IP); "
                "remove it and reach the internet through Cloud NAT"
            )


@resource_rule(
    "gpu-platform-gcp-subnet-flow-logs",
    "Subnets must record VPC flow logs and reach Google APIs through Private Google Access.",
    "medium",
    "CIS GCP 3.8 / CKV_GCP_26 / CKV_GCP_74",
    [SUBNETWORK],
)
def subnet_flow_logs(subject: Subject) -> Iterator[str]:
    purpose = str(subject.props.get("purpose") or "PRIVATE")
    if purpose != "PRIVATE":
        return  # proxy-only and Private Service Connect subnets take no flow logs and run no VMs
    if not isinstance(subject.props.get("logConfig"), Mapping):
        yield f"subnet {subject.name} has no logConfig; enable VPC flow logs"
    if not is_true(subject.props.get("privateIpGoogleAccess")):
        access = shown(subject.props.get("privateIpGoogleAccess"))
        yield f"subnet {subject.name} has privateIpGoogleAccess {access}; set it true"


# -- Customer-managed encryption keys ----------------------------------------------------------------


def _secret_keys(props: Mapping[str, Any]) -> list[Any]:
    """The KMS keys of a secret's replicas: the automatic one, or each user-managed replica's."""
    automatic = get(props, "replication.auto")
    if isinstance(automatic, Mapping):
        return [get(automatic, "customerManagedEncryption.kmsKeyName")]
    replicas = mappings(get(props, "replication.userManaged.replicas"))
    return [get(r, "customerManagedEncryption.kmsKeyName") for r in replicas] or [None]


# Where each data store names its customer-managed key.
CMEK_INPUTS = {
    SQL_INSTANCE: "encryptionKeyName",
    BUCKET: "encryption.defaultKmsKeyName",
    DISK: "diskEncryptionKey.kmsKeySelfLink",
    SECRET: "replication.*.customerManagedEncryption.kmsKeyName",
}


def _cmek_keys(subject: Subject) -> list[Any]:
    if subject.type == SECRET:
        return _secret_keys(subject.props)
    return [get(subject.props, CMEK_INPUTS[subject.type])]


@stack_rule(
    "gpu-platform-gcp-cmek",
    "Where the stack asks for customer-managed keys, every Cloud SQL instance, bucket, disk and secret must use one.",
    "high",
    "Org policy constraints/gcp.restrictNonCmekServices (CMEK)",
)
def cmek(subjects: Sequence[Subject]) -> Iterator[tuple[str, str]]:
    """The stack asks for CMEK by creating a KMS key or by encrypting any data store with one.

    Google encrypts every store at rest by default; what CMEK adds (revocation, key
    location, audit) holds only if no store is left on Google-managed keys.
    """
    stores = [s for s in subjects if s.type in CMEK_INPUTS]
    asked = any(s.type == CRYPTO_KEY for s in subjects) or any(any(_cmek_keys(s)) for s in stores)
    if not asked:
        return
    for store in stores:
        if not all(_cmek_keys(store)):
            yield (
                store.urn,
                (
                    f"{store.name} is encrypted with a Google-managed key while the stack uses customer-managed keys; "
                    f"set {CMEK_INPUTS[store.type]}"
                ),
            )


# -- Labels -----------------------------------------------------------------------------------------

# Where each labelled type keeps its labels (Cloud SQL's sit in settings.userLabels).
LABEL_INPUTS = {
    SQL_INSTANCE: "settings.userLabels",
    BUCKET: "labels",
    SECRET: "labels",
    RUN_SERVICE: "labels",
    INSTANCE: "labels",
    INSTANCE_TEMPLATE: "labels",
    REGION_INSTANCE_TEMPLATE: "labels",
    DISK: "labels",
}


@resource_rule(
    "gpu-platform-gcp-labels",
    "Labelled GCP resources must carry the gpu-platform-stack and gpu-platform-environment labels (cost, ownership).",
    "low",
    "Google Cloud resource labels / CKV_GCP_21 (labels, for GKE)",
    list(LABEL_INPUTS),
    security=False,
)
def labels(subject: Subject) -> Iterator[str]:
    path = LABEL_INPUTS[subject.type]
    found = mapping(subject.props, path)
    if not found.get(STACK_LABEL):
        yield f"{subject.name} has no {path}.{STACK_LABEL} label; set it to the stack name"
    if found.get(ENVIRONMENT_LABEL) != subject.environment:
        yield (
            f"{subject.name} has {path}.{ENVIRONMENT_LABEL} {shown(found.get(ENVIRONMENT_LABEL))}; "
            f"set it to {subject.environment}"
        )


# -- hooks for the stack rules ----------------------------------------------------------------------


def env_pairs(subject: Subject) -> Iterator[tuple[str, object]]:
    """(name, literal value) of every environment variable a Cloud Run service sets (no-plaintext-secrets).

    A variable fed from Secret Manager has ``valueSource.secretKeyRef`` and no ``value``.
    """
    if subject.type == RUN_SERVICE:
        for container in mappings(get(subject.props, "template.containers")):
            for env in mappings(container.get("envs")):
                if has_input(env, "value"):
                    yield str(env.get("name")), env.get("value")


def regenerated(subjects: Sequence[Subject]) -> set[str]:
    """Every stateful-typed GCP resource holds state."""
    del subjects
    return set()


RULES: list[Rule] = [
    sql_private_ip,
    sql_ssl_mode,
    sql_backups,
    sql_deletion_protection,
    sql_final_backup,
    sql_high_availability,
    bucket_uniform_access,
    bucket_public_access_prevention,
    no_public_iam,
    run_ingress,
    run_not_public,
    lb_cloud_armor,
    lb_tls12,
    armor_rate_limit,
    no_default_service_account,
    vm_shielded,
    vm_os_login,
    vm_no_public_ip,
    subnet_flow_logs,
    cmek,
    labels,
]
