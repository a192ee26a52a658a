"""The AWS footing of a stack: provider, VPC over at least two AZs, NAT, KMS, ECS cluster, Service Connect.

Created once, on first use, as the ``gpu-platform:aws:Foundation`` component.
Private subnets hold every task, instance and database; public subnets hold
only the load balancers and NAT gateways. One NAT gateway in dev and staging
(cost), one per AZ in prod (an AZ outage must not cut egress for the rest).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.protocol import TargetContext
from targets.aws.settings import AwsSettings


class Foundation(pulumi.ComponentResource):
    """Provider, network, encryption key, cluster and service namespace for one stack."""

    def __init__(self, name: str, context: TargetContext, settings: AwsSettings) -> None:
        super().__init__("gpu-platform:aws:Foundation", name, None, None)
        self.stack = context.stack
        self.profile = context.profile
        self.settings = settings
        self.prefix = f"gp-{context.stack}"
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

        self.kms_key = aws.kms.Key(
            f"{name}-key",
            description=f"gpu-platform {context.stack}: logs, secrets, volumes and databases",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=self.account_id.apply(lambda account: json.dumps(_key_policy(account, settings.region))),
            opts=opts,
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

    @property
    def private_subnet_ids(self) -> list[pulumi.Output[str]]:
        return [s.id for s in self.private_subnets]

    @property
    def public_subnet_ids(self) -> list[pulumi.Output[str]]:
        return [s.id for s in self.public_subnets]

    def _subnets(
        self, name: str, settings: AwsSettings, opts: pulumi.ResourceOptions
    ) -> tuple[list[aws.ec2.Subnet], list[aws.ec2.Subnet]]:
        """A /20-ish public and private subnet per AZ, carved from the VPC CIDR."""
        network = ipaddress.ip_network(settings.vpc_cidr)
        blocks = list(network.subnets(new_prefix=min(network.prefixlen + 4, 28)))
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
                    cidr_block=str(blocks[8 + index]),
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

    def log_group(self, name: str, parent: pulumi.Resource) -> aws.cloudwatch.LogGroup:
        """An encrypted log group with the profile's retention."""
        return aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/gpu-platform/{self.stack}/{name}",
            retention_in_days=self.profile.log_retention_days,
            kms_key_id=self.kms_key.arn,
            opts=self.opts(parent),
        )


def _key_policy(account: str, region: str) -> dict[str, Any]:
    """The account administers the key; CloudWatch Logs may use it for this account's log groups;
    EC2 Auto Scaling's service-linked role may use it for the GPU instances' encrypted root volumes
    (without it, instances with a customer-managed-key volume fail to launch)."""
    autoscaling = f"arn:aws:iam::{account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
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
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account}:*"}},
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
