"""PostgreSQL on Azure Database for PostgreSQL flexible server, private in the VNet.

- Private access: the server sits in the delegated postgres subnet with a private DNS zone
  ``<server>.private.postgres.database.azure.com`` linked to the VNet; ``publicNetworkAccess`` is Disabled
  (flexible-server concepts-networking-private: a VNet-integrated server has no public endpoint).
- ``require_secure_transport`` on and ``ssl_min_protocol_version`` TLSv1.2, each a server Configuration.
- Backups: retention from the profile (7-35 days, the service's range), geo-redundant where the profile asks
  for point-in-time recovery (prod); zone-redundant HA where the profile is multi-AZ; read replicas
  (``createMode: Replica``) from the profile or blueprint. Burstable has neither HA nor replicas: the target's
  requirements and checks reject that before any resource.
- Prod: protect + retain_on_delete and a CanNotDelete lock on every server.
- The admin password is generated, kept in Key Vault, and handed to consumers as a Key Vault reference.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_azure_native.dbforpostgresql as dbforpostgresql
import pulumi_random as random

from components.protocol import DatabaseEndpoint, PostgresRequest, SecretRef
from targets.azure.foundation import Foundation, suffix
from targets.azure.settings import AzureSettings, postgres_tier

# Flexible server keeps backups 7-35 days (concepts-backup-restore); storage sizes start at 32 GiB.
BACKUP_RETENTION_RANGE = (7, 35)
MIN_STORAGE_GIB = 32
PASSWORD_LENGTH = 40
SERVER_SETTINGS = {"require_secure_transport": "on", "ssl_min_protocol_version": "TLSv1.2"}


def build(
    request: PostgresRequest[Any], foundation: Foundation, settings: AzureSettings, parent: pulumi.Resource
) -> tuple[DatabaseEndpoint, dbforpostgresql.Server]:
    """The server (and replicas, locks, settings, the database); the endpoint and the primary, which alerts watch."""
    f = foundation
    name = request.name
    keep = pulumi.ResourceOptions.merge(f.opts(parent), f.stateful_options(request.protect))
    server_name = f"{f.prefix}-{name}-{suffix(f.unique, name)}"[:63]
    zone = f.private_zone(f"{name}-dns", f"{server_name}.private.postgres.database.azure.com", parent)
    password = random.RandomPassword(
        f"{name}-admin-password",
        length=PASSWORD_LENGTH,
        special=False,
        keepers={"version": str(settings.postgres_password_version)},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    retention = min(max(request.backup_retention_days, BACKUP_RETENTION_RANGE[0]), BACKUP_RETENTION_RANGE[1])
    sku: dbforpostgresql.SkuArgsDict = {"name": settings.postgres_sku, "tier": postgres_tier(settings.postgres_sku)}
    storage: dbforpostgresql.StorageArgsDict = {
        "storage_size_gb": max(MIN_STORAGE_GIB, -(-request.storage_mib // 1024)),
        "auto_grow": "Enabled",
    }
    network: dbforpostgresql.NetworkArgsDict = {
        "delegated_subnet_resource_id": f.subnets["postgres"].id,
        "private_dns_zone_arm_resource_id": zone.id,
        "public_network_access": "Disabled",
    }
    primary = dbforpostgresql.Server(
        f"{name}-server",
        resource_group_name=f.group.name,
        server_name=server_name,
        version=request.version,
        administrator_login=request.username,
        administrator_login_password=password.result,
        sku=sku,
        storage=storage,
        network=network,
        backup={
            "backup_retention_days": retention,
            "geo_redundant_backup": "Enabled" if request.point_in_time else "Disabled",
        },
        high_availability={"mode": "ZoneRedundant" if request.multi_az else "Disabled"},
        auth_config={"password_auth": "Enabled", "active_directory_auth": "Disabled"},
        tags=f.tags,
        opts=keep,
    )
    servers = [primary]
    for index in range(request.read_replicas):
        servers.append(
            dbforpostgresql.Server(
                f"{name}-replica-{index}",
                resource_group_name=f.group.name,
                server_name=f"{server_name[:56]}-r{index}",
                create_mode="Replica",
                source_server_resource_id=primary.id,
                sku=sku,
                storage=storage,
                network=network,
                tags=f.tags,
                opts=keep,
            )
        )
    for index, server in enumerate(servers):
        label = name if index == 0 else f"{name}-replica-{index - 1}"
        _secure(label, server, f, parent)
    dbforpostgresql.Database(
        f"{name}-database",
        resource_group_name=f.group.name,
        server_name=primary.name,
        database_name=request.database,
        charset="UTF8",
        collation="en_US.utf8",
        opts=keep,
    )
    reference = f.secret(f"{name}-admin-password", password.result, parent)
    endpoint = DatabaseEndpoint(
        name=name,
        host=primary.fully_qualified_domain_name.apply(lambda h: h or ""),
        port=5432,
        database=request.database,
        username=request.username,
        password=SecretRef(reference),
        resources=(primary,),
    )
    return endpoint, primary


def _secure(label: str, server: dbforpostgresql.Server, f: Foundation, parent: pulumi.Resource) -> None:
    """TLS settings, diagnostics and the prod lock of one server."""
    for setting, value in SERVER_SETTINGS.items():
        dbforpostgresql.Configuration(
            f"{label}-{setting.replace('_', '-')}",
            resource_group_name=f.group.name,
            server_name=server.name,
            configuration_name=setting,
            value=value,
            source="user-override",
            opts=f.opts(parent),
        )
    f.diagnostics(label, server.id, parent)
    f.lock(label, server.id, parent)
