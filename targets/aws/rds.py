"""ManagedPostgres on RDS: private, encrypted, TLS-only, backed up and protected by profile.

The master password is managed by RDS in Secrets Manager (encrypted with the
stack key); consumers get a reference to it (``SecretRef``), never the value.
A parameter group forces SSL. Prod: Multi-AZ, a read replica, 30-day backups
with point-in-time recovery, deletion protection, a final snapshot, automated
backups kept after deletion, and ``protect`` + ``retain_on_delete``.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.protocol import DatabaseEndpoint, PostgresRequest, SecretRef
from targets.aws.firewall import Firewall
from targets.aws.foundation import Foundation
from targets.aws.settings import AwsSettings


def build(
    request: PostgresRequest,
    foundation: Foundation,
    firewall: Firewall,
    settings: AwsSettings,
    parent: pulumi.Resource,
) -> DatabaseEndpoint:
    f = foundation
    name = request.name
    opts = f.opts(parent)
    protect = pulumi.ResourceOptions(protect=request.protect, retain_on_delete=request.protect)
    firewall.group(name, parent)
    subnets = aws.rds.SubnetGroup(f"{name}-subnets", subnet_ids=f.private_subnet_ids, opts=opts)
    parameters = aws.rds.ParameterGroup(
        f"{name}-parameters",
        family=f"postgres{request.version}",
        parameters=[
            {"name": "rds.force_ssl", "value": "1"},
            {"name": "log_min_duration_statement", "value": "1000"},
            {"name": "password_encryption", "value": "scram-sha-256"},
        ],
        opts=opts,
    )
    identifier = f"{f.prefix}-{name}"
    backups = max(request.backup_retention_days, 1)
    primary = aws.rds.Instance(
        f"{name}-primary",
        identifier=identifier,
        engine="postgres",
        engine_version=request.version,
        instance_class=settings.db_instance_class,
        allocated_storage=max(20, request.storage_mib // 1024),
        max_allocated_storage=max(100, 4 * (request.storage_mib // 1024)),
        storage_type="gp3",
        storage_encrypted=True,
        kms_key_id=f.kms_key.arn,
        db_name=request.database,
        username=request.username,
        manage_master_user_password=True,
        master_user_secret_kms_key_id=f.kms_key.arn,
        db_subnet_group_name=subnets.name,
        vpc_security_group_ids=[firewall.groups[name].id],
        parameter_group_name=parameters.name,
        publicly_accessible=False,
        multi_az=request.multi_az,
        backup_retention_period=backups,
        backup_window="02:00-03:00",
        maintenance_window="sun:03:30-sun:04:30",
        copy_tags_to_snapshot=True,
        delete_automated_backups=False,
        deletion_protection=request.protect,
        skip_final_snapshot=False,
        final_snapshot_identifier=f"{identifier}-final",
        auto_minor_version_upgrade=True,
        performance_insights_enabled=True,
        performance_insights_kms_key_id=f.kms_key.arn,
        enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
        iam_database_authentication_enabled=True,
        opts=pulumi.ResourceOptions.merge(opts, protect),
    )
    for index in range(request.read_replicas):
        aws.rds.Instance(
            f"{name}-replica-{index}",
            identifier=f"{identifier}-replica-{index}",
            replicate_source_db=primary.identifier,
            instance_class=settings.db_instance_class,
            storage_encrypted=True,
            kms_key_id=f.kms_key.arn,
            vpc_security_group_ids=[firewall.groups[name].id],
            parameter_group_name=parameters.name,
            publicly_accessible=False,
            multi_az=False,
            deletion_protection=request.protect,
            skip_final_snapshot=True,  # a replica's data lives in the primary's snapshots
            performance_insights_enabled=True,
            performance_insights_kms_key_id=f.kms_key.arn,
            auto_minor_version_upgrade=True,
            opts=pulumi.ResourceOptions.merge(opts, protect),
        )
    secret = primary.master_user_secrets.apply(lambda secrets: (secrets[0].secret_arn or "") if secrets else "")
    return DatabaseEndpoint(
        name=name,
        host=primary.address,
        port=5432,
        database=request.database,
        username=request.username,
        password=SecretRef(pulumi.Output.concat(secret, ":password::")),
        resources=(primary,),
    )
