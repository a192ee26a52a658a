"""ManagedPostgres on RDS: private, encrypted, TLS-only, backed up and protected by profile.

Credentials: the program generates the master password (``RandomPassword``,
a secret in the Pulumi state) and gives it to the primary; read replicas
inherit it through replication. RDS-managed passwords
(``manage_master_user_password``) are not used: RDS cannot create a read
replica of a source whose password it manages (RDS User Guide, "Limitations
for Secrets Manager integration"), and it would rotate the secret every 7 days
while ECS resolves ``secrets`` only when a task starts. The password, with
host, port, database and user, is stored as JSON in a Secrets Manager secret
(encrypted with the stack key); consumers get a ``SecretRef`` to its
``password`` key *pinned to the secret's version id*. Rotation is a deliberate
``pulumi up`` after raising ``gpu-platform:aws.db_password_version``: a new
password, the primary modified, a new secret version, hence a new version id in
every consumer's task definition, hence a rolling ECS deployment that starts
tasks with the new value.

A parameter group forces SSL. Prod: Multi-AZ, a read replica, 30-day backups
with point-in-time recovery, enhanced monitoring, deletion protection, a final
snapshot, automated backups kept after deletion, and ``protect`` +
``retain_on_delete`` on the instances and the credentials secret.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.protocol import DatabaseEndpoint, PostgresRequest, SecretRef
from targets.aws.firewall import Firewall
from targets.aws.foundation import Foundation
from targets.aws.settings import AwsSettings

LOG_EXPORTS = ["postgresql", "upgrade"]
MONITORING_INTERVAL_S = 60
MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
# RDS for PostgreSQL takes 8-128 printable characters except / " @; letters and digits need no escaping.
PASSWORD_LENGTH = 40


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
    keep = pulumi.ResourceOptions.merge(opts, f.stateful_options(request.protect))
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
    password = random.RandomPassword(
        f"{name}-master-password",
        length=PASSWORD_LENGTH,
        special=False,
        keepers={"version": str(settings.db_password_version)},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    identifier = f"{f.prefix}-{name}"
    common = _instance_common(request, foundation, firewall, settings, parameters)
    primary = aws.rds.Instance(
        f"{name}-primary",
        identifier=identifier,
        engine="postgres",
        engine_version=request.version,
        allocated_storage=max(20, request.storage_mib // 1024),
        max_allocated_storage=max(100, 4 * (request.storage_mib // 1024)),
        storage_type="gp3",
        db_name=request.database,
        username=request.username,
        password=password.result,
        db_subnet_group_name=subnets.name,
        multi_az=request.multi_az,
        backup_retention_period=max(request.backup_retention_days, 1),
        backup_window="02:00-03:00",
        maintenance_window="sun:03:30-sun:04:30",
        delete_automated_backups=False,
        skip_final_snapshot=False,
        final_snapshot_identifier=f"{identifier}-final",
        iam_database_authentication_enabled=True,
        opts=keep,
        **common,
    )
    for index in range(request.read_replicas):
        aws.rds.Instance(
            f"{name}-replica-{index}",
            identifier=f"{identifier}-replica-{index}",
            replicate_source_db=primary.identifier,  # the master password comes with the data
            multi_az=False,
            skip_final_snapshot=True,  # a replica's data lives in the primary's snapshots
            opts=keep,
            **common,
        )
    reference = _credentials(request, foundation, primary, password, keep)
    return DatabaseEndpoint(
        name=name,
        host=primary.address,
        port=5432,
        database=request.database,
        username=request.username,
        password=SecretRef(reference),
        resources=(primary,),
    )


def _instance_common(
    request: PostgresRequest,
    foundation: Foundation,
    firewall: Firewall,
    settings: AwsSettings,
    parameters: aws.rds.ParameterGroup,
) -> dict[str, Any]:
    """What the primary and its replicas share: size, encryption, network, logs, monitoring, protection."""
    f = foundation
    monitoring: dict[str, Any] = {}
    if f.profile.monitoring == "alerting":
        monitoring = {"monitoring_interval": MONITORING_INTERVAL_S, "monitoring_role_arn": monitoring_role(f).arn}
    return {
        "instance_class": settings.db_instance_class,
        "storage_encrypted": True,
        "kms_key_id": f.kms_key.arn,
        "vpc_security_group_ids": [firewall.groups[request.name].id],
        "parameter_group_name": parameters.name,
        "publicly_accessible": False,
        "copy_tags_to_snapshot": True,
        "deletion_protection": request.protect,
        "auto_minor_version_upgrade": True,
        "performance_insights_enabled": True,
        "performance_insights_kms_key_id": f.kms_key.arn,
        "enabled_cloudwatch_logs_exports": LOG_EXPORTS,
        **monitoring,
    }


def _credentials(
    request: PostgresRequest,
    foundation: Foundation,
    primary: aws.rds.Instance,
    password: random.RandomPassword,
    keep: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    """The credentials secret; returns the ECS ``valueFrom`` of its password, pinned to this version."""
    f = foundation
    secret = aws.secretsmanager.Secret(
        f"{request.name}-credentials",
        name_prefix=f"gpu-platform/{f.stack}/{request.name}-credentials-",
        description=f"gpu-platform {f.stack}: master credentials of database {request.name}",
        kms_key_id=f.kms_key.arn,
        recovery_window_in_days=30 if request.protect else 7,
        opts=keep,
    )
    # The value names the primary's address, so it is written after the primary took the password.
    value = pulumi.Output.all(primary.address, password.result).apply(
        lambda values: json.dumps(
            {
                "engine": "postgres",
                "host": values[0],
                "port": 5432,
                "dbname": request.database,
                "username": request.username,
                "password": values[1],
            }
        )
    )
    version = aws.secretsmanager.SecretVersion(
        f"{request.name}-credentials-value",
        secret_id=secret.id,
        secret_string=pulumi.Output.secret(value),
        # A child copies protect from its parent, but a new password replaces the version (secret_string forces
        # replacement): it is regenerated from the secret's inputs, so it stays unprotected (the secret is not).
        opts=f.opts(secret, protect=False),
    )
    # arn:...:secret:<name>:<json-key>:<version-stage>:<version-id> (ECS "Pass Secrets Manager secrets").
    return pulumi.Output.concat(secret.arn, ":password::", version.version_id)


def monitoring_role(foundation: Foundation) -> aws.iam.Role:
    """The stack's one role RDS enhanced monitoring publishes OS metrics with (made on first use)."""
    f = foundation
    existing = f.shared.get("rds-monitoring-role")
    if isinstance(existing, aws.iam.Role):
        return existing
    role = aws.iam.Role(
        "rds-monitoring-role",
        description=f"gpu-platform {f.stack}: RDS enhanced monitoring",
        assume_role_policy=f.account_id.apply(lambda account: json.dumps(_monitoring_trust(account))),
        opts=f.opts(f),
    )
    aws.iam.RolePolicyAttachment("rds-monitoring-policy", role=role.name, policy_arn=MONITORING_POLICY, opts=f.opts(f))
    f.shared["rds-monitoring-role"] = role
    return role


def _monitoring_trust(account: str) -> dict[str, Any]:
    """Only RDS monitoring, acting for this account, may assume the role (confused deputy)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }
