"""ECS services: task definitions, roles, secrets, volumes, services and autoscaling.

A service is prepared in :meth:`Services.prepare` (everything but the ECS
service itself) and started in :meth:`Services.start`, once the load balancer
knows its target groups: an ECS service's load balancers are part of it.

- Fargate for CPU pools, the task size being the requests rounded up to a valid
  cpu/memory pair (on Fargate the size is the reservation; limits matter on EC2);
  the pool's EC2 capacity provider for GPU pools (awsvpc networking, so every
  task keeps its own security group), with ``resourceRequirements`` GPU: whole
  GPUs, a fraction below 1 reserving one (MPS shares cannot pass through
  pulumi-aws); see ``gpu_sharing.py``.
- Container definitions (the root, CHOWN-only ``init`` container that prepares the
  bind volumes, then the non-root workload) are plain JSON from ``containers.py``.
- Secrets live in Secrets Manager (encrypted with the stack key) and reach the
  container as ECS ``secrets``.
- An execution role that may read exactly the task's secrets, pull from exactly
  the task's ECR repositories and write its log group; a separate task role with
  only ECS Exec (dev, staging, writable root filesystems only: the SSM agent ECS
  Exec injects must write to the root filesystem) and the EFS access its volumes need.
- Off-hours: services on a pool with a schedule scale to zero through Application
  Auto Scaling scheduled actions (the Auto Scaling group's own schedule alone would
  not stop anything: managed termination protection keeps instances that run tasks).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.protocol import SecretRef, ServiceRequest
from targets.aws.containers import container_definitions
from targets.aws.fargate import task_size
from targets.aws.firewall import Firewall
from targets.aws.foundation import Foundation
from targets.aws.settings import AwsPoolSettings, AwsSettings, ScaleSchedule, app_autoscaling_cron

ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[^:@]+)"
)
ASSUME_TASKS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@dataclass(frozen=True)
class PoolHandle:
    """A pool as the AWS target built it: its settings, and its EC2 capacity provider (None: Fargate)."""

    settings: AwsPoolSettings
    capacity_provider: aws.ecs.CapacityProvider | None


@dataclass
class Prepared:
    """A service ready to start: its task definition and what the ECS service needs."""

    request: ServiceRequest[PoolHandle]
    task_definition: aws.ecs.TaskDefinition
    security_group: str
    capacity_provider: pulumi.Input[str] | None
    port_names: dict[int, str]
    load_balancers: list[aws.ecs.ServiceLoadBalancerArgsDict] = field(default_factory=list)
    parent: pulumi.Resource | None = None
    service: aws.ecs.Service | None = None


def _pool_schedule(request: ServiceRequest[PoolHandle]) -> ScaleSchedule | None:
    """The off-hours schedule of the service's pool (EC2 pools only: Fargate pools have no group to stop)."""
    return request.pool.handle.settings.schedule


def _fargate_size(request: ServiceRequest[PoolHandle]) -> tuple[int, int]:
    """On Fargate the task size is what is reserved and billed: the requests, rounded up to a valid pair
    (targets/aws/checks.py has rejected requests no Fargate task can hold). On EC2 the container reserves its
    requests and is capped at its limits (set per container)."""
    size = task_size(request.cpu, request.memory_mib)
    assert size is not None, f"{request.name}: requests exceed the largest Fargate task"
    return size


def _exec_enabled(profile_name: str, writable_root: bool) -> bool:
    """ECS Exec in dev and staging, and only where the SSM agent it injects can write the root filesystem."""
    return profile_name != "prod" and writable_root


@dataclass
class Services:
    """Builds the ECS services of a stack."""

    foundation: Foundation
    firewall: Firewall
    settings: AwsSettings
    prepared: dict[str, Prepared] = field(default_factory=dict)

    def prepare(
        self,
        request: ServiceRequest[PoolHandle],
        parent: pulumi.Resource,
        capacity_provider: pulumi.Input[str] | None,
    ) -> Prepared:
        """Everything a service needs before the ECS service itself."""
        f = self.foundation
        name = request.name
        opts = f.opts(parent)
        self._firewall(request, parent)
        logs = f.log_group(name, parent)
        secret_refs = self._secrets(name, request, parent)
        file_refs = {
            file_name: self._secret(f"{name}-file-{file_name.replace('.', '-')}", value, parent)
            for file_name, value in request.secret_files.items()
        }
        execution_role = self._execution_role(request, logs, [*secret_refs.values(), *file_refs.values()], opts)
        task_role = aws.iam.Role(f"{name}-task-role", assume_role_policy=ASSUME_TASKS, opts=opts)
        volumes, efs_mounts = self._volumes(request, task_role, parent)
        if _exec_enabled(f.profile.name, self._writable(request)):
            aws.iam.RolePolicy(
                f"{name}-exec-policy",
                role=task_role.id,
                policy=f.kms_key.arn.apply(lambda key: json.dumps(_exec_policy(key))),
                opts=opts,
            )
        uses_fargate = capacity_provider is None
        cpu, memory = _fargate_size(request) if uses_fargate else (None, None)
        definition = self._definitions(request, logs, secret_refs, file_refs, efs_mounts, ec2=not uses_fargate)
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=f"{f.prefix}-{name}",
            cpu=str(cpu) if cpu else None,
            memory=str(memory) if memory else None,
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"] if uses_fargate else ["EC2"],
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            container_definitions=definition,
            runtime_platform={
                "operating_system_family": "LINUX",
                "cpu_architecture": "ARM64" if request.pool.architecture == "arm64" else "X86_64",
            },
            volumes=volumes,
            opts=opts,
        )
        port_names = {p.container_port: p.name for p in request.ports}
        prepared = Prepared(request, task_definition, name, capacity_provider, port_names, parent=parent)
        self.prepared[name] = prepared
        return prepared

    def _firewall(self, request: ServiceRequest[PoolHandle], parent: pulumi.Resource) -> None:
        """The service's security group: HTTPS out, and in from each peer that already has a group."""
        name = request.name
        self.firewall.group(name, parent)
        self.firewall.https_out(name, parent)
        for peer in request.peers:
            if peer.name in self.firewall.groups:
                for port in peer.ports:
                    self.firewall.allow(name, peer.name, port, protocol=peer.protocol, parent=parent)

    def _execution_role(
        self,
        request: ServiceRequest[PoolHandle],
        logs: aws.cloudwatch.LogGroup,
        secret_arns: list[pulumi.Output[str]],
        opts: pulumi.ResourceOptions,
    ) -> aws.iam.Role:
        """The role ECS starts the task with: its log group, exactly its secrets, its ECR repositories."""
        role = aws.iam.Role(f"{request.name}-execution-role", assume_role_policy=ASSUME_TASKS, opts=opts)
        aws.iam.RolePolicy(
            f"{request.name}-execution-policy",
            role=role.id,
            policy=pulumi.Output.all(logs.arn, self.foundation.kms_key.arn, *secret_arns).apply(
                lambda values: json.dumps(_execution_policy(values[0], values[1], values[2:], [request.image]))
            ),
            opts=opts,
        )
        return role

    def _definitions(
        self,
        request: ServiceRequest[PoolHandle],
        logs: aws.cloudwatch.LogGroup,
        secret_refs: dict[str, pulumi.Output[str]],
        file_refs: dict[str, pulumi.Output[str]],
        efs_mounts: list[tuple[str, str]],
        ec2: bool,
    ) -> pulumi.Output[str]:
        """The container definitions as JSON, once the log group, env values and secret ARNs are known."""
        env_names = sorted(request.env)
        head = 1 + len(env_names)
        return pulumi.Output.all(
            logs.name, *[request.env[k] for k in env_names], *secret_refs.values(), *file_refs.values()
        ).apply(
            lambda values: json.dumps(
                container_definitions(
                    request,
                    region=self.settings.region,
                    log_group=values[0],
                    env=dict(zip(env_names, values[1:head], strict=True)),
                    secrets=dict(zip(secret_refs, values[head : head + len(secret_refs)], strict=True)),
                    files=dict(zip(file_refs, values[head + len(secret_refs) :], strict=True)),
                    efs_mounts=efs_mounts,
                    ec2=ec2,
                    writable=self._writable(request),
                )
            )
        )

    # -- secrets -----------------------------------------------------------
    def _secret(self, name: str, value: pulumi.Input[str], parent: pulumi.Resource) -> pulumi.Output[str]:
        secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            name_prefix=f"gpu-platform/{self.foundation.stack}/{name}-",
            kms_key_id=self.foundation.kms_key.arn,
            recovery_window_in_days=7 if self.foundation.profile.name == "dev" else 30,
            opts=self.foundation.opts(parent),
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-secret-value",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(value),
            opts=self.foundation.opts(parent),
        )
        return secret.arn

    def _secrets(
        self, name: str, request: ServiceRequest[PoolHandle], parent: pulumi.Resource
    ) -> dict[str, pulumi.Output[str]]:
        refs: dict[str, pulumi.Output[str]] = {}
        for env_name, value in request.secrets.items():
            if isinstance(value, SecretRef):
                refs[env_name] = value.reference
            else:
                refs[env_name] = self._secret(f"{name}-{env_name.lower().replace('_', '-')}", value, parent)
        return refs

    # -- volumes -----------------------------------------------------------
    def _volumes(
        self, request: ServiceRequest[PoolHandle], task_role: aws.iam.Role, parent: pulumi.Resource
    ) -> tuple[list[Any], list[tuple[str, str]]]:
        """Scratch and secrets volumes (task storage) and EFS for state (protected in prod)."""
        f = self.foundation
        volumes: list[Any] = [{"name": "scratch"}]
        if request.secret_files:
            volumes.append({"name": "secrets"})
        mounts: list[tuple[str, str]] = []
        uid, _, gid = request.user.partition(":")
        for volume in request.volumes:
            name = f"{request.name}-{volume.name}"
            protect = pulumi.ResourceOptions(protect=volume.protect, retain_on_delete=volume.protect)
            filesystem = aws.efs.FileSystem(
                f"{name}-efs",
                encrypted=True,
                kms_key_id=f.kms_key.arn,
                performance_mode="generalPurpose",
                throughput_mode="elastic",
                tags={"Name": f"{f.prefix}-{name}"},
                opts=pulumi.ResourceOptions.merge(f.opts(parent), protect),
            )
            nfs = self.firewall.group(f"{name}-nfs", parent)
            self.firewall.allow(request.name, f"{name}-nfs", 2049, parent=parent)
            for index, subnet in enumerate(f.private_subnets):
                aws.efs.MountTarget(
                    f"{name}-mount-{index}",
                    file_system_id=filesystem.id,
                    subnet_id=subnet.id,
                    security_groups=[nfs.id],
                    opts=f.opts(parent),
                )
            point = aws.efs.AccessPoint(
                f"{name}-access-point",
                file_system_id=filesystem.id,
                posix_user={"uid": int(uid), "gid": int(gid or uid)},
                root_directory={
                    "path": f"/{volume.name}",
                    "creation_info": {"owner_uid": int(uid), "owner_gid": int(gid or uid), "permissions": "0750"},
                },
                opts=f.opts(parent),
            )
            aws.iam.RolePolicy(
                f"{name}-efs-policy",
                role=task_role.id,
                policy=pulumi.Output.all(filesystem.arn, point.arn).apply(
                    lambda arns: json.dumps(_efs_policy(arns[0], arns[1]))
                ),
                opts=f.opts(parent),
            )
            volumes.append(
                {
                    "name": volume.name,
                    "efs_volume_configuration": {
                        "file_system_id": filesystem.id,
                        "transit_encryption": "ENABLED",
                        "authorization_config": {"access_point_id": point.id, "iam": "ENABLED"},
                    },
                }
            )
            mounts.append((volume.name, volume.path))
        return volumes, mounts

    def _writable(self, request: ServiceRequest[PoolHandle]) -> bool:
        return request.name in self.settings.writable_root or not request.read_only_root

    # -- start -------------------------------------------------------------
    def start(self, prepared: Prepared, after: list[pulumi.Resource]) -> aws.ecs.Service:
        """The ECS service (after the load balancer attached its target groups), created after ``after``;
        then, when something else owns its desired count, the Application Auto Scaling that does."""
        f = self.foundation
        request = prepared.request
        name = request.name
        replicas = request.autoscale.min if request.autoscale else request.replicas
        parent = prepared.parent or f
        schedule = _pool_schedule(request)
        # Application Auto Scaling owns the desired count of a scaled service: Pulumi must not reset it.
        scaled = request.autoscale is not None or schedule is not None
        on_ec2 = prepared.capacity_provider is not None
        service = aws.ecs.Service(
            f"{name}-service",
            name=name,
            cluster=f.cluster.arn,
            task_definition=prepared.task_definition.arn,
            desired_count=replicas,
            capacity_provider_strategies=self._capacity_strategy(prepared),
            network_configuration={
                "subnets": f.private_subnet_ids,
                "security_groups": [self.firewall.groups[name].id],
                "assign_public_ip": False,
            },
            load_balancers=prepared.load_balancers,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            deployment_maximum_percent=100 if on_ec2 else 200,
            deployment_minimum_healthy_percent=0 if on_ec2 else 100,
            enable_execute_command=_exec_enabled(f.profile.name, self._writable(request)),
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            service_connect_configuration=self._service_connect(request),
            health_check_grace_period_seconds=60 if prepared.load_balancers else None,
            wait_for_steady_state=False,
            # The capacity providers must be on the cluster before a strategy may name them.
            opts=pulumi.ResourceOptions.merge(
                f.opts(parent, depends_on=[*request.depends_on, *after]),
                pulumi.ResourceOptions(ignore_changes=["desiredCount"] if scaled else None),
            ),
        )
        prepared.service = service
        if scaled:
            self._autoscaling(request, service, replicas, schedule, parent)
        return service

    def _capacity_strategy(self, prepared: Prepared) -> list[aws.ecs.ServiceCapacityProviderStrategyArgsDict]:
        """The pool's EC2 capacity provider; else Fargate, with Spot beside one on-demand task where allowed."""
        request = prepared.request
        if prepared.capacity_provider is not None:
            return [{"capacity_provider": prepared.capacity_provider, "weight": 1}]
        if self.foundation.profile.spot_capacity and not request.volumes and request.pool.architecture != "arm64":
            # FARGATE_SPOT runs X86_64 tasks only: arm64 tasks stay on FARGATE (docs/architecture.md, AWS).
            return [
                {"capacity_provider": "FARGATE", "base": 1, "weight": 0},
                {"capacity_provider": "FARGATE_SPOT", "weight": 1},
            ]
        return [{"capacity_provider": "FARGATE", "weight": 1}]

    def _service_connect(
        self, request: ServiceRequest[PoolHandle]
    ) -> aws.ecs.ServiceServiceConnectConfigurationArgsDict:
        """Service Connect in the stack's namespace; the first TCP port, if any, served as ``<name>:<port>``."""
        name = request.name
        connect: aws.ecs.ServiceServiceConnectConfigurationArgsDict = {
            "enabled": True,
            "namespace": self.foundation.namespace.arn,
        }
        tcp_ports = [p for p in request.ports if p.protocol == "tcp"]
        if tcp_ports:
            connect["services"] = [
                {
                    "port_name": p.name,
                    "discovery_name": f"{name}-{p.name}",
                    "client_alias": [{"port": p.container_port, "dns_name": name}],
                }
                for p in tcp_ports[:1]
            ]
        return connect

    def _autoscaling(
        self,
        request: ServiceRequest[PoolHandle],
        service: aws.ecs.Service,
        replicas: int,
        schedule: ScaleSchedule | None,
        parent: pulumi.Resource,
    ) -> None:
        """The scalable target (the autoscale bounds, or the fixed replicas a schedule takes to zero and back),
        the off-hours scheduled actions, and CPU target tracking."""
        f = self.foundation
        name = request.name
        low, high = (
            (max(request.autoscale.min, 1), request.autoscale.max) if request.autoscale else (replicas, replicas)
        )
        target = aws.appautoscaling.Target(
            f"{name}-scaling",
            min_capacity=low,
            max_capacity=high,
            resource_id=pulumi.Output.concat("service/", f.cluster.name, "/", service.name),
            scalable_dimension="ecs:service:DesiredCount",
            service_namespace="ecs",
            # The off-hours scheduled actions rewrite min/max capacity: a refresh must not make Pulumi undo them.
            opts=pulumi.ResourceOptions.merge(
                f.opts(parent),
                pulumi.ResourceOptions(ignore_changes=["minCapacity", "maxCapacity"] if schedule is not None else None),
            ),
        )
        if schedule is not None:
            self._schedule(name, target, schedule, low, high, parent)
        if request.autoscale is not None:
            self._cpu_tracking(name, target, request.autoscale.cpu_percent, parent)

    def _cpu_tracking(
        self, name: str, target: aws.appautoscaling.Target, cpu_percent: int, parent: pulumi.Resource
    ) -> None:
        """Target tracking on the service's average CPU: out after a minute, in after five."""
        aws.appautoscaling.Policy(
            f"{name}-cpu-tracking",
            policy_type="TargetTrackingScaling",
            resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension,
            service_namespace=target.service_namespace,
            target_tracking_scaling_policy_configuration={
                "predefined_metric_specification": {"predefined_metric_type": "ECSServiceAverageCPUUtilization"},
                "target_value": cpu_percent,
                "scale_in_cooldown": 300,
                "scale_out_cooldown": 60,
            },
            opts=self.foundation.opts(parent),
        )

    def _schedule(
        self,
        name: str,
        target: aws.appautoscaling.Target,
        schedule: ScaleSchedule,
        low: int,
        high: int,
        parent: pulumi.Resource,
    ) -> None:
        """Off-hours 0/0, on-hours back to the service's own bounds: the same crons as the pool's group."""
        for action, cron, bounds in (
            ("scale-down", schedule.scale_down, (0, 0)),
            ("scale-up", schedule.scale_up, (low, high)),
        ):
            aws.appautoscaling.ScheduledAction(
                f"{name}-{action}",
                name=f"{name}-{action}",
                service_namespace=target.service_namespace,
                resource_id=target.resource_id,
                scalable_dimension=target.scalable_dimension,
                schedule=app_autoscaling_cron(cron),
                timezone=schedule.timezone,
                scalable_target_action={"min_capacity": bounds[0], "max_capacity": bounds[1]},
                opts=self.foundation.opts(parent),
            )


def ecr_repository_arns(images: list[str]) -> list[str]:
    """The ECR repositories images are pulled from (other registries need no ECR permission)."""
    arns = set()
    for image in images:
        match = ECR_IMAGE.match(image)
        if match:
            partition = "aws-cn" if ".amazonaws.com.cn/" in image else "aws"
            arns.add(f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}")
    return sorted(arns)


def _execution_policy(log_group_arn: str, key_arn: str, secret_arns: Any, images: list[str]) -> dict[str, Any]:
    """Logs, the task's own secrets, and pulls from exactly its ECR repositories (the token call has no resource)."""
    statements: list[dict[str, Any]] = []
    repositories = ecr_repository_arns(images)
    if repositories:
        statements += [
            {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Sid": "PullImages",
                "Effect": "Allow",
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                "Resource": repositories,
            },
        ]
    statements += [
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:*",
        },
    ]
    # An ECS valueFrom may add :<json-key>:<version-stage>:<version-id> to the secret's ARN; IAM names the secret.
    arns = sorted({_secret_arn(str(a)) for a in secret_arns})
    if arns:
        statements.append(
            {"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arns}
        )
        statements.append({"Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn})
    return {"Version": "2012-10-17", "Statement": statements}


# arn:<partition>:secretsmanager:<region>:<account>:secret:<name> (the name carries no colon).
_SECRET_ARN = re.compile(r"^(arn:[^:]+:secretsmanager:[^:]*:\d{12}:secret:[^:]+)")


def _secret_arn(value_from: str) -> str:
    """The secret's ARN without the JSON key, version stage and version id ECS's ``valueFrom`` may add."""
    matched = _SECRET_ARN.match(value_from)
    return matched.group(1) if matched else value_from


def _exec_policy(key_arn: str) -> dict[str, Any]:
    """ECS Exec (dev and staging only): the SSM session channels, and the cluster's key that encrypts them."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcsExec",
                "Effect": "Allow",
                "Action": [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                "Resource": "*",
            },
            {"Sid": "EcsExecSessionKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn},
        ],
    }


def _efs_policy(filesystem_arn: str, access_point_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "MountThroughAccessPoint",
                "Effect": "Allow",
                "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                "Resource": filesystem_arn,
                "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": access_point_arn}},
            }
        ],
    }
