"""PostgreSQL on Cloud SQL, private only.

- Private IP through Private Service Access, no public IPv4, ``sslMode: ENCRYPTED_ONLY``
  (sql/docs/postgres/configure-private-ip, sql/docs/postgres/configure-ssl-instance);
- automated daily backups with point-in-time recovery and the profile's retention (Cloud SQL backs up once a
  day; PITR keeps the transaction logs, at most 7 days on Enterprise: sql/docs/postgres/backup-recovery/backups);
- ``REGIONAL`` availability (a standby in another zone) when the profile asks multi-AZ HA, and the profile's
  read replicas as replica instances;
- deletion protection (the API's ``settings.deletionProtectionEnabled`` and the provider's
  ``deletionProtection``) and protect/retain-on-delete in prod; CMEK when ``gpu-platform:gcp.kms_key`` is set;
- the generated password lives in Secret Manager; consumers get it by reference.
"""

from __future__ import annotations

import math

import pulumi
import pulumi_gcp as gcp

from components.protocol import DatabaseEndpoint, PostgresRequest, SecretRef
from targets.common import random_secret
from targets.gcp import secrets
from targets.gcp.network import Network
from targets.gcp.settings import GcpPoolSettings

PORT = 5432
# Enterprise edition: transaction logs for point-in-time recovery are kept 1-7 days.
MAX_LOG_DAYS = 7


def _backups(request: PostgresRequest[GcpPoolSettings]) -> gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgsDict:
    enabled = request.backup_schedule != "none"
    return {
        "enabled": enabled,
        "point_in_time_recovery_enabled": enabled and request.point_in_time,
        "start_time": "03:00",
        "transaction_log_retention_days": max(1, min(MAX_LOG_DAYS, request.backup_retention_days)),
        "backup_retention_settings": {
            "retained_backups": max(1, request.backup_retention_days),
            "retention_unit": "COUNT",
        },
    }


def _settings(
    request: PostgresRequest[GcpPoolSettings], network: Network, replica: bool
) -> gcp.sql.DatabaseInstanceSettingsArgsDict:
    settings: gcp.sql.DatabaseInstanceSettingsArgsDict = {
        "tier": network.settings.db_tier,
        "edition": "ENTERPRISE",
        "availability_type": "REGIONAL" if request.multi_az and not replica else "ZONAL",
        "disk_type": "PD_SSD",
        "disk_size": max(10, math.ceil(request.storage_mib / 1024)),
        "disk_autoresize": True,
        "ip_configuration": {
            "ipv4_enabled": False,
            "private_network": network.network.id,
            "ssl_mode": "ENCRYPTED_ONLY",
        },
        "deletion_protection_enabled": request.protect,
        # Keep the automated backups when the instance is deleted (prod): the last copy of the data.
        "retain_backups_on_delete": request.protect,
        "user_labels": network.labels(database=request.name),
        "database_flags": [{"name": "log_connections", "value": "on"}, {"name": "log_disconnections", "value": "on"}],
        "maintenance_window": {"day": 7, "hour": 3, "update_track": "stable"},
    }
    if not replica:
        settings["backup_configuration"] = _backups(request)
    return settings


def _instance(
    name: str,
    request: PostgresRequest[GcpPoolSettings],
    network: Network,
    parent: pulumi.Resource,
    master: gcp.sql.DatabaseInstance | None = None,
) -> gcp.sql.DatabaseInstance:
    return gcp.sql.DatabaseInstance(
        name,
        name=f"{network.prefix}-{name}"[:98],
        database_version=f"POSTGRES_{request.version.split('.')[0]}",
        region=network.settings.region,
        deletion_protection=request.protect,
        master_instance_name=master.name if master is not None else None,
        encryption_key_name=network.settings.kms_key,
        settings=_settings(request, network, replica=master is not None),
        opts=network.opts(
            parent, protect=request.protect, retain_on_delete=request.protect, depends_on=[network.private_services]
        ),
    )


def build(request: PostgresRequest[GcpPoolSettings], network: Network, parent: pulumi.Resource) -> DatabaseEndpoint:
    """The primary, its replicas, the database, the user and the password secret."""
    primary = _instance(request.name, request, network, parent)
    replicas = [
        _instance(f"{request.name}-replica-{i + 1}", request, network, parent, master=primary)
        for i in range(request.read_replicas)
    ]
    gcp.sql.Database(
        f"{request.name}-db",
        name=request.database,
        instance=primary.name,
        opts=network.opts(parent, protect=request.protect, retain_on_delete=request.protect),
    )
    password = random_secret(f"{request.name}-password", 32, parent)
    gcp.sql.User(
        f"{request.name}-user",
        name=request.username,
        instance=primary.name,
        password=password,
        opts=network.opts(parent),
    )
    secret_id = secrets.store(f"{request.name}-password", password, network, parent)
    return DatabaseEndpoint(
        name=request.name,
        host=primary.private_ip_address,
        port=PORT,
        database=request.database,
        username=request.username,
        password=SecretRef(secret_id),
        resources=(primary, *replicas),
    )
