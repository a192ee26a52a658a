"""GPU capacity on AWS: G5 instances in an Auto Scaling group behind an ECS capacity provider.

Fargate has no GPUs. The launch template boots the ECS-optimized Amazon Linux
2023 GPU AMI (from its public SSM parameter; the Amazon Linux 2 one reaches end
of life 2026-06-30), requires IMDSv2 with a hop limit of 2 (tasks in awsvpc mode
must not reach the instance role), encrypts a gp3 root volume with the stack
key, gets no public IP and no SSH key (SSM Session Manager instead). The group
is on-demand or spot (a mixed-instances policy), managed by the capacity
provider, and may scale to zero off-hours (the bem seed's auto-shutdown).
"""

from __future__ import annotations

import base64
import json

import pulumi
import pulumi_aws as aws

from components.protocol import PoolRequest
from targets.aws.firewall import Firewall
from targets.aws.foundation import Foundation
from targets.aws.settings import AwsPoolSettings

GPU_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"
ASSUME_EC2 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
INSTANCE_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
)


def user_data(cluster_name: str) -> str:
    """ECS agent config: join the cluster, enable GPUs, keep awsvpc tasks away from instance metadata."""
    lines = [
        "#!/bin/bash",
        "cat >> /etc/ecs/ecs.config <<'CONFIG'",
        f"ECS_CLUSTER={cluster_name}",
        "ECS_ENABLE_GPU_SUPPORT=true",
        "ECS_ENABLE_TASK_IAM_ROLE=true",
        "ECS_AWSVPC_BLOCK_IMDS=true",
        "ECS_ENABLE_CONTAINER_METADATA=true",
        "CONFIG",
    ]
    return base64.b64encode(("\n".join(lines) + "\n").encode()).decode()


def capacity(
    request: PoolRequest, settings: AwsPoolSettings, foundation: Foundation, firewall: Firewall, parent: pulumi.Resource
) -> aws.ecs.CapacityProvider:
    """Launch template, Auto Scaling group, capacity provider (and schedule) for one GPU pool."""
    f = foundation
    opts = f.opts(parent)
    name = request.name
    ami = aws.ssm.get_parameter_output(name=GPU_AMI_PARAMETER, opts=pulumi.InvokeOutputOptions(provider=f.provider))
    role = aws.iam.Role(f"{name}-instance-role", assume_role_policy=ASSUME_EC2, opts=opts)
    for index, policy in enumerate(INSTANCE_POLICIES):
        aws.iam.RolePolicyAttachment(f"{name}-instance-policy-{index}", role=role.name, policy_arn=policy, opts=opts)
    profile = aws.iam.InstanceProfile(f"{name}-instance-profile", role=role.name, opts=opts)
    group = firewall.group(f"{name}-instances", parent)
    firewall.https_out(f"{name}-instances", parent)
    template = aws.ec2.LaunchTemplate(
        f"{name}-launch-template",
        name_prefix=f"{f.prefix}-{name}-",
        image_id=ami.value,
        instance_type=settings.instance_type,
        iam_instance_profile={"arn": profile.arn},
        metadata_options={
            "http_endpoint": "enabled",
            "http_tokens": "required",
            "http_put_response_hop_limit": 2,
            "instance_metadata_tags": "disabled",
        },
        block_device_mappings=[
            {
                "device_name": "/dev/xvda",
                "ebs": {
                    "volume_size": settings.root_volume_gib,
                    "volume_type": "gp3",
                    "encrypted": "true",
                    "kms_key_id": f.kms_key.arn,
                    "delete_on_termination": "true",
                },
            }
        ],
        network_interfaces=[{"associate_public_ip_address": "false", "security_groups": [group.id]}],
        monitoring={"enabled": True},
        user_data=f.cluster.name.apply(user_data),
        tag_specifications=[{"resource_type": "instance", "tags": {"Name": f"{f.prefix}-{name}"}}],
        update_default_version=True,
        opts=opts,
    )
    launch = {"id": template.id, "version": "$Latest"}
    group_args: dict[str, object] = {}
    if settings.spot:
        types = settings.spot_instance_types or [settings.instance_type]
        group_args["mixed_instances_policy"] = {
            "instances_distribution": {
                "on_demand_base_capacity": 0,
                "on_demand_percentage_above_base_capacity": 0,
                "spot_allocation_strategy": "price-capacity-optimized",
            },
            "launch_template": {
                "launch_template_specification": {"launch_template_id": template.id, "version": "$Latest"},
                "overrides": [{"instance_type": t} for t in types],
            },
        }
    else:
        group_args["launch_template"] = launch
    scaling_group = aws.autoscaling.Group(
        f"{name}-asg",
        name_prefix=f"{f.prefix}-{name}-",
        vpc_zone_identifiers=f.private_subnet_ids,
        min_size=settings.min_size,
        max_size=settings.max_size,
        protect_from_scale_in=True,
        health_check_type="EC2",
        capacity_rebalance=settings.spot,
        service_linked_role_arn=f.autoscaling_role.arn,  # the role the stack key's policy names
        tags=[
            {"key": "AmazonECSManaged", "value": "true", "propagate_at_launch": True},
            {"key": "Name", "value": f"{f.prefix}-{name}", "propagate_at_launch": True},
        ],
        # Managed scaling owns the desired capacity; an off-hours schedule also rewrites min/max size, which a
        # refresh would otherwise record as drift and the next update would undo.
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                ignore_changes=["desiredCapacity", *(["minSize", "maxSize"] if settings.schedule else [])]
            ),
        ),
        **group_args,  # type: ignore[arg-type]
    )
    if settings.schedule is not None:
        # Off-hours: nothing may run (max 0). On-hours: the pool's own bounds, managed scaling decides.
        for action, cron, low, high in (
            ("scale-down", settings.schedule.scale_down, 0, 0),
            ("scale-up", settings.schedule.scale_up, settings.min_size, settings.max_size),
        ):
            aws.autoscaling.Schedule(
                f"{name}-{action}",
                scheduled_action_name=f"{name}-{action}",
                autoscaling_group_name=scaling_group.name,
                recurrence=cron,
                time_zone=settings.schedule.timezone,
                min_size=low,
                max_size=high,
                desired_capacity=low,
                opts=opts,
            )
    return aws.ecs.CapacityProvider(
        f"{name}-capacity",
        name=f"{f.prefix}-{name}",
        auto_scaling_group_provider={
            "auto_scaling_group_arn": scaling_group.arn,
            "managed_termination_protection": "ENABLED",
            "managed_scaling": {
                "status": "ENABLED",
                "target_capacity": 100,
                "minimum_scaling_step_size": 1,
                "maximum_scaling_step_size": 2,
            },
        },
        opts=opts,
    )
