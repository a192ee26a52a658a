"""The AWS footing of a stack: provider, VPC over at least two AZs, NAT, KMS, ECS cluster, Service Connect.

Created once, on first use, as the ``gpu-platform:aws:Foundation`` component.
Private subnets hold every task, instance and database; public subnets hold
only the load balancers and NAT gateways. One NAT gateway in dev and staging
(cost), one per AZ in prod (an AZ outage must not cut egress for the rest).
Monitored environments (staging, prod) record VPC flow logs.

The KMS key encrypts protected, retained data (databases, volumes, secrets,
logs), so it is protected and retained wherever the profile protects state.
Its policy names this stack's own EC2 Auto Scaling service-linked role
(``AWSServiceRoleForAutoScaling_<prefix>``, created here): KMS rejects a policy
naming a principal that does not exist, and the account's default role exists
only after its first Auto Scaling group, while a custom-suffix role is this
stack's to create and cannot collide with one the account already has.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.protocol import TargetContext
from targets.aws.settings import SUBNET_SPLIT_BITS, AwsSettings

AUTOSCALING_ROLE = "AWSServiceRoleForAutoScaling"


class Foundation(pulumi.ComponentResource):
    """Provider, network, encryption key, cluster and service namespace for one stack."""

    def __init__(self, name: str, context: TargetContext[AwsSettings], settings: AwsSettings) -> None:
        super().__init__("gpu-platform:aws:Foundation", name, None, None)
        self.stack = context.stack
        self.profile = context.profile
        self.settings = settings
        self.prefix = f"gp-{context.stack}"
        # Resources several parts of the target share, made on first use (e.g. the RDS monitoring role).
        self.shared: dict[str, pulumi.Resource] = {}
        self.provider = aws.Provider(
            f"{name}-provider",
            region=settings.region,
            default_tags={
                "tags": {"gpu-platform:stack": context.stack, "gpu-platform:environment": context.profile.name}
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        opts = self.opts(self)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=self.provider))
        self.account_id = identity.account_id
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(provider=self.provider)
        )
        self.zones = zones.names.apply(lambda names: list(names)[: settings.availability_zones])
        # A custom suffix makes the role this stack's own (the GPU pools' Auto Scaling groups name it).
        self.autoscaling_role_name = f"{AUTOSCALING_ROLE}_{self.prefix}"[:64]
        self.autoscaling_role = aws.iam.ServiceLinkedRole(
            f"{name}-autoscaling-role",
            aws_service_name="autoscaling.amazonaws.com",
            custom_suffix=self.autoscaling_role_name.removeprefix(f"{AUTOSCALING_ROLE}_"),
            description=f"gpu-platform {context.stack}: Auto Scaling groups of the GPU pools",
            opts=opts,
        )
        self.kms_key = aws.kms.Key(
            f"{name}-key",
            description=f"gpu-platform {context.stack}: logs, secrets, volumes and databases",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=self.account_id.apply(
                lambda account: json.dumps(_key_policy(account, settings.region, self.autoscaling_role_name))
            ),
            # KMS validates the principals of a key policy: the role must exist first.
            opts=pulumi.ResourceOptions.merge(
                self.opts(self, depends_on=[self.autoscaling_role]), self.stateful_options()
            ),
        )
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=settings.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": self.prefix},
            opts=opts,
        )
        # The default security group of a VPC must allow nothing (CIS AWS 5.4).
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=self.vpc.id, opts=opts)
        self.public_subnets, self.private_subnets = self._subnets(name, settings, opts)
        self._routing(name, opts)
        if context.profile.monitoring != "console":
            self._flow_logs(name, settings)
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=self.prefix,
            settings=[{"name": "containerInsights", "value": "enhanced"}],
            configuration={"execute_command_configuration": {"kms_key_id": self.kms_key.arn, "logging": "DEFAULT"}},
            opts=opts,
        )
        self.namespace = aws.servicediscovery.HttpNamespace(
            f"{name}-namespace", name=f"{context.stack}.gpu-platform.internal", opts=opts
        )
        self.register_outputs({"vpc_id": self.vpc.id, "cluster": self.cluster.name})

    def opts(self, parent: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
        """Options for a resource of this stack: its provider, its parent."""
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, **extra)

    def stateful_options(self, protect: bool | None = None) -> pulumi.ResourceOptions:
        """``protect`` + ``retain_on_delete`` for state (by default: where the profile protects state)."""
        keep = self.profile.protect_stateful if protect is None else protect
        return pulumi.ResourceOptions(protect=keep, retain_on_delete=keep)

    @property
    def private_subnet_ids(self) -> list[pulumi.Output[str]]:
        return [s.id for s in self.private_subnets]

    @property
    def public_subnet_ids(self) -> list[pulumi.Output[str]]:
        return [s.id for s in self.public_subnets]

    def _subnets(
        self, name: str, settings: AwsSettings, opts: pulumi.ResourceOptions
    ) -> tuple[list[aws.ec2.Subnet], list[aws.ec2.Subnet]]:
        """A public and a private subnet per AZ, each 1/16 of the VPC (settings.py keeps them /27 or larger)."""
        network = ipaddress.ip_network(settings.vpc_cidr)
        blocks = list(network.subnets(prefixlen_diff=SUBNET_SPLIT_BITS))
        half = len(blocks) // 2
        public, private = [], []
        for index in range(settings.availability_zones):
            zone = self.zones.apply(lambda zones, i=index: zones[i])
            public.append(
                aws.ec2.Subnet(
                    f"{name}-public-{index}",
                    vpc_id=self.vpc.id,
                    cidr_block=str(blocks[index]),
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{self.prefix}-public-{index}", "gpu-platform:tier": "public"},
                    opts=opts,
                )
            )
            private.append(
                aws.ec2.Subnet(
                    f"{name}-private-{index}",
                    vpc_id=self.vpc.id,
                    cidr_block=str(blocks[half + index]),
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{self.prefix}-private-{index}", "gpu-platform:tier": "private"},
                    opts=opts,
                )
            )
        return public, private

    def _routing(self, name: str, opts: pulumi.ResourceOptions) -> None:
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, opts=opts)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-routes",
            vpc_id=self.vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
            opts=opts,
        )
        for index, subnet in enumerate(self.public_subnets):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}-routes", subnet_id=subnet.id, route_table_id=public_routes.id, opts=opts
            )
        per_zone = self.profile.ha == "multi-az"
        nats: list[aws.ec2.NatGateway] = []
        for index in range(len(self.public_subnets) if per_zone else 1):
            address = aws.ec2.Eip(f"{name}-nat-{index}-ip", domain="vpc", opts=opts)
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{index}",
                    allocation_id=address.id,
                    subnet_id=self.public_subnets[index].id,
                    opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[gateway])),
                )
            )
        for index, subnet in enumerate(self.private_subnets):
            nat = nats[index if per_zone else 0]
            routes = aws.ec2.RouteTable(
                f"{name}-private-{index}-routes",
                vpc_id=self.vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}],
                opts=opts,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{index}-assoc", subnet_id=subnet.id, route_table_id=routes.id, opts=opts
            )

    def _flow_logs(self, name: str, settings: AwsSettings) -> None:
        """Every accepted and rejected flow of the VPC into an encrypted log group (CIS AWS 3.9)."""
        group = self.log_group(f"{name}-flow", self)
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            assume_role_policy=self.account_id.apply(
                lambda account: json.dumps(_flow_logs_trust(account, settings.region))
            ),
            opts=self.opts(self),
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=role.id,
            policy=group.arn.apply(lambda arn: json.dumps(_flow_logs_policy(arn))),
            opts=self.opts(self),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            opts=self.opts(self),
        )

    def log_group(self, name: str, parent: pulumi.Resource, group_name: str | None = None) -> aws.cloudwatch.LogGroup:
        """An encrypted log group with the profile's retention (``group_name`` where a service dictates it)."""
        return aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=group_name or f"/gpu-platform/{self.stack}/{name}",
            retention_in_days=self.profile.log_retention_days,
            kms_key_id=self.kms_key.arn,
            opts=self.opts(parent),
        )


def _flow_logs_trust(account: str, region: str) -> dict[str, Any]:
    """Only VPC Flow Logs, acting for this account's flow logs, may assume the role (confused deputy)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{region}:{account}:vpc-flow-log/*"},
                },
            }
        ],
    }


def _flow_logs_policy(log_group_arn: str) -> dict[str, Any]:
    """Write streams of the one flow-log group (and list groups, which takes no resource: VPC User Guide policy)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteFlowLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": f"{log_group_arn}:*",
            },
            {"Sid": "FindFlowLogGroup", "Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
        ],
    }


def _key_policy(account: str, region: str, autoscaling_role: str) -> dict[str, Any]:
    """The account administers the key; CloudWatch Logs may use it for this account's log groups;
    the stack's EC2 Auto Scaling service-linked role may use it for the GPU instances' encrypted root
    volumes (without it, instances with a customer-managed-key volume fail to launch)."""
    autoscaling = f"arn:aws:iam::{account}:role/aws-service-role/autoscaling.amazonaws.com/{autoscaling_role}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsEncrypt",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                # Only calls that carry the log group's encryption context (DescribeKey carries none, so
                # granting it here under this condition would grant nothing); the key is a string (parliament).
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {
                    "StringLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account}:*"}
                },
            },
            {
                "Sid": "AutoScalingVolumes",
                "Effect": "Allow",
                "Principal": {"AWS": autoscaling},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
            },
            {
                "Sid": "AutoScalingGrants",
                "Effect": "Allow",
                "Principal": {"AWS": autoscaling},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ],
    }
