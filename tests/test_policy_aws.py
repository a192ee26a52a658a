"""AWS policy rules: compliant baselines pass, each mutation away from them fails (the Checkov/AWSGuard pattern).

Every call goes through ``tests/policy_harness.py``, i.e. the pack's real
CrossGuard policy objects. Resource inputs are written the way the engine sends
pulumi-aws v7 inputs: camelCase, launch-template booleans as strings, ECS
container definitions as JSON text.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy.rules import BY_NAME
from tests.policy_harness import mutate, violations
from tests.tokens import (
    AWS_CLOUDWATCH_LOG_GROUP,
    AWS_EBS_VOLUME,
    AWS_EC2_INSTANCE,
    AWS_EC2_LAUNCH_TEMPLATE,
    AWS_EC2_SECURITY_GROUP,
    AWS_EC2_SECURITY_GROUP_RULE,
    AWS_ECS_SERVICE,
    AWS_ECS_TASK_DEFINITION,
    AWS_LB_LISTENER,
    AWS_LB_LOAD_BALANCER,
    AWS_LB_TARGET_GROUP,
    AWS_RDS_INSTANCE,
    AWS_RDS_PARAMETER_GROUP,
    AWS_S3_BUCKET,
    AWS_VPC_SECURITY_GROUP_INGRESS_RULE,
)

LAUNCH_TEMPLATE = AWS_EC2_LAUNCH_TEMPLATE
INSTANCE = AWS_EC2_INSTANCE
EBS_VOLUME = AWS_EBS_VOLUME
SECURITY_GROUP = AWS_EC2_SECURITY_GROUP
SG_INGRESS_RULE = AWS_VPC_SECURITY_GROUP_INGRESS_RULE
SG_RULE = AWS_EC2_SECURITY_GROUP_RULE
LOAD_BALANCER = AWS_LB_LOAD_BALANCER
LISTENER = AWS_LB_LISTENER
TARGET_GROUP = AWS_LB_TARGET_GROUP
RDS_INSTANCE = AWS_RDS_INSTANCE
PARAMETER_GROUP = AWS_RDS_PARAMETER_GROUP
TASK_DEFINITION = AWS_ECS_TASK_DEFINITION
ECS_SERVICE = AWS_ECS_SERVICE
LOG_GROUP = AWS_CLOUDWATCH_LOG_GROUP

ENVIRONMENTS = ("dev", "staging", "prod")
LB_TAGS = {"gpu-platform:role": "load-balancer", "gpu-platform:stack": "prod"}
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8091-a2b3c4d5e6f7"

# -- compliant baselines -------------------------------------------------------------

LAUNCH_TEMPLATE_OK: dict[str, Any] = {
    "namePrefix": "gpu-pool-",
    "imageId": "ami-0123456789abcdef0",
    "instanceType": "g5.xlarge",
    "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 2},
    "blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeType": "gp3", "kmsKeyId": KMS_KEY}},
        {"deviceName": "/dev/sdb", "virtualName": "ephemeral0"},
    ],
    "networkInterfaces": [{"associatePublicIpAddress": "false", "securityGroups": ["sg-0app"]}],
}
INSTANCE_OK: dict[str, Any] = {
    "ami": "ami-0123456789abcdef0",
    "instanceType": "t3.small",
    "subnetId": "subnet-private-a",
    "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1},
    "rootBlockDevice": {"encrypted": True, "volumeType": "gp3"},
    "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True, "volumeSize": 100}],
    "associatePublicIpAddress": False,
}
EBS_VOLUME_OK: dict[str, Any] = {"availabilityZone": "eu-west-1a", "size": 200, "encrypted": True, "kmsKeyId": KMS_KEY}
LB_SECURITY_GROUP_OK: dict[str, Any] = {
    "description": "Internet-facing load balancer",
    "vpcId": "vpc-1",
    "tags": LB_TAGS,
    "ingress": [
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]},
        {"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"]},
    ],
}
APP_SECURITY_GROUP_OK: dict[str, Any] = {
    "description": "Application tasks",
    "vpcId": "vpc-1",
    "tags": {"gpu-platform:role": "app"},
    "ingress": [
        {"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "securityGroups": ["sg-0lb"]},
        {"protocol": "udp", "fromPort": 49160, "toPort": 49200, "cidrBlocks": ["10.0.0.0/16"]},
    ],
}
INGRESS_RULE_OK: dict[str, Any] = {
    "securityGroupId": "sg-0lb",
    "ipProtocol": "tcp",
    "fromPort": 443,
    "toPort": 443,
    "cidrIpv4": "0.0.0.0/0",
    "tags": LB_TAGS,
}
SG_RULE_OK: dict[str, Any] = {
    "type": "ingress",
    "securityGroupId": "sg-0lb",
    "protocol": "tcp",
    "fromPort": 443,
    "toPort": 443,
    "cidrBlocks": ["0.0.0.0/0"],
    "description": "HTTPS from the internet to the load balancer",
    "tags": LB_TAGS,
}
ALB_OK: dict[str, Any] = {
    "loadBalancerType": "application",
    "internal": False,
    "subnets": ["subnet-public-a", "subnet-public-b"],
    "securityGroups": ["sg-0lb"],
    "accessLogs": {"bucket": "gpu-platform-prod-lb-logs", "enabled": True, "prefix": "alb"},
    "enableDeletionProtection": True,
    "dropInvalidHeaderFields": True,
    "idleTimeout": 3600,
}
HTTPS_LISTENER_OK: dict[str, Any] = {
    "loadBalancerArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/edge/1",
    "protocol": "HTTPS",
    "port": 443,
    "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
    "defaultActions": [{"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:tg/api"}],
}
HTTP_LISTENER_OK: dict[str, Any] = {
    "loadBalancerArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/edge/1",
    "protocol": "HTTP",
    "port": 80,
    "defaultActions": [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}},
    ],
}
HTTP_TARGET_GROUP_OK: dict[str, Any] = {
    "protocol": "HTTP",
    "port": 8080,
    "targetType": "ip",
    "vpcId": "vpc-1",
    "healthCheck": {"enabled": True, "path": "/healthz", "matcher": "200", "protocol": "HTTP"},
}
GRPC_TARGET_GROUP_OK: dict[str, Any] = {
    "protocol": "HTTP",
    "protocolVersion": "GRPC",
    "port": 50051,
    "targetType": "ip",
    "vpcId": "vpc-1",
    "healthCheck": {"enabled": True, "path": "/grpc.health.v1.Health/Check", "matcher": "0"},
}
RDS_OK: dict[str, Any] = {
    "engine": "postgres",
    "engineVersion": "16.4",
    "instanceClass": "db.r6g.large",
    "allocatedStorage": 100,
    "storageEncrypted": True,
    "kmsKeyId": KMS_KEY,
    "publiclyAccessible": False,
    "backupRetentionPeriod": 30,
    "multiAz": True,
    "deletionProtection": True,
    "skipFinalSnapshot": False,
    "finalSnapshotIdentifier": "gpu-platform-prod-db-final",
    "parameterGroupName": "gpu-platform-prod-postgres16",
    "manageMasterUserPassword": True,
}
RDS_REPLICA_OK: dict[str, Any] = {
    "replicateSourceDb": "arn:aws:rds:eu-west-1:123456789012:db:gpu-platform-prod-db",
    "instanceClass": "db.r6g.large",
    "storageEncrypted": True,
    "publiclyAccessible": False,
    "backupRetentionPeriod": 0,
    "multiAz": False,
    "deletionProtection": True,
    "skipFinalSnapshot": True,
    "parameterGroupName": "gpu-platform-prod-postgres16",
}
PARAMETER_GROUP_OK: dict[str, Any] = {
    "family": "postgres16",
    "parameters": [
        {"name": "rds.force_ssl", "value": "1", "applyMethod": "immediate"},
        {"name": "log_min_duration_statement", "value": "500"},
    ],
}
CONTAINERS_OK: list[dict[str, Any]] = [
    {
        "name": "api",
        "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1.4.2",
        "essential": True,
        "privileged": False,
        "readonlyRootFilesystem": True,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": "/gpu-platform/api", "awslogs-region": "eu-west-1"},
        },
        "environment": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "DB_PASSWORD_ARN", "value": "arn:x"}],
        "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"}],
    },
    {
        "name": "log-router",
        "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0",
        "essential": False,
        "readonlyRootFilesystem": True,
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/gpu-platform/firelens"}},
    },
]


def task_definition(containers: list[dict[str, Any]]) -> dict[str, Any]:
    """A Fargate task definition whose containerDefinitions is JSON text, as the engine sends it."""
    return {
        "family": "gpu-platform-api",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "1024",
        "memory": "2048",
        "containerDefinitions": json.dumps(containers),
    }


def containers(path: str, value: Any) -> dict[str, Any]:
    """The baseline task definition with one container field changed (``path`` like ``0.privileged``)."""
    return task_definition(mutate({"c": CONTAINERS_OK}, f"c.{path}", value)["c"])


def with_environment(index: int, entry: dict[str, Any]) -> dict[str, Any]:
    """The baseline task definition with one more environment entry on container ``index``."""
    return containers(f"{index}.environment", [*CONTAINERS_OK[index].get("environment", []), entry])


def with_ingress(props: Mapping[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
    """A security group with one more ingress block."""
    return mutate(props, "ingress", [*props["ingress"], rule])


TASK_DEFINITION_OK = task_definition(CONTAINERS_OK)
ECS_SERVICE_OK: dict[str, Any] = {
    "launchType": "FARGATE",
    "desiredCount": 2,
    "networkConfiguration": {"assignPublicIp": False, "subnets": ["subnet-private-a"], "securityGroups": ["sg-0app"]},
}
LOG_GROUP_OK: dict[str, Any] = {"name": "/gpu-platform/api", "retentionInDays": 90, "kmsKeyId": KMS_KEY}

BASELINES: dict[str, list[tuple[str, Mapping[str, Any]]]] = {
    LAUNCH_TEMPLATE: [("launch-template", LAUNCH_TEMPLATE_OK)],
    INSTANCE: [("instance", INSTANCE_OK)],
    EBS_VOLUME: [("ebs-volume", EBS_VOLUME_OK)],
    SECURITY_GROUP: [("lb-sg", LB_SECURITY_GROUP_OK), ("app-sg", APP_SECURITY_GROUP_OK)],
    SG_INGRESS_RULE: [("lb-ingress-rule", INGRESS_RULE_OK)],
    SG_RULE: [("lb-sg-rule", SG_RULE_OK)],
    LOAD_BALANCER: [("alb", ALB_OK)],
    LISTENER: [("https-listener", HTTPS_LISTENER_OK), ("http-listener", HTTP_LISTENER_OK)],
    TARGET_GROUP: [("http-tg", HTTP_TARGET_GROUP_OK), ("grpc-tg", GRPC_TARGET_GROUP_OK)],
    RDS_INSTANCE: [("rds", RDS_OK), ("rds-replica", RDS_REPLICA_OK)],
    PARAMETER_GROUP: [("parameter-group", PARAMETER_GROUP_OK)],
    TASK_DEFINITION: [("task-definition", TASK_DEFINITION_OK)],
    ECS_SERVICE: [("ecs-service", ECS_SERVICE_OK)],
    LOG_GROUP: [("log-group", LOG_GROUP_OK)],
}

# The rule set as specified: name -> (resource types, security, environments), in pack order.
ALL = ENVIRONMENTS
SPEC: dict[str, tuple[tuple[str, ...], bool, tuple[str, ...]]] = {
    "gpu-platform-aws-imdsv2": ((LAUNCH_TEMPLATE, INSTANCE), True, ALL),
    "gpu-platform-aws-ebs-encrypted": ((LAUNCH_TEMPLATE, INSTANCE, EBS_VOLUME), True, ALL),
    "gpu-platform-aws-no-public-ip": ((LAUNCH_TEMPLATE, INSTANCE), True, ALL),
    "gpu-platform-aws-no-world-ingress": ((SECURITY_GROUP, SG_INGRESS_RULE, SG_RULE), True, ALL),
    "gpu-platform-aws-alb-https-tls12": ((LISTENER,), True, ALL),
    "gpu-platform-aws-alb-http-redirect": ((LISTENER,), True, ALL),
    "gpu-platform-aws-alb-access-logs": ((LOAD_BALANCER,), True, ALL),
    "gpu-platform-aws-alb-deletion-protection": ((LOAD_BALANCER,), True, ("prod",)),
    "gpu-platform-aws-alb-drop-invalid-headers": ((LOAD_BALANCER,), True, ALL),
    "gpu-platform-aws-target-group-health-check": ((TARGET_GROUP,), False, ALL),
    "gpu-platform-aws-rds-encrypted": ((RDS_INSTANCE,), True, ALL),
    "gpu-platform-aws-rds-not-public": ((RDS_INSTANCE,), True, ALL),
    "gpu-platform-aws-rds-backup-retention": ((RDS_INSTANCE,), True, ("staging", "prod")),
    "gpu-platform-aws-rds-multi-az": ((RDS_INSTANCE,), False, ("prod",)),
    "gpu-platform-aws-rds-deletion-protection": ((RDS_INSTANCE,), True, ("prod",)),
    "gpu-platform-aws-rds-final-snapshot": ((RDS_INSTANCE,), True, ("prod",)),
    "gpu-platform-aws-rds-force-ssl": ((PARAMETER_GROUP, RDS_INSTANCE), True, ALL),
    "gpu-platform-aws-ecs-not-privileged": ((TASK_DEFINITION,), True, ALL),
    "gpu-platform-aws-ecs-logging": ((TASK_DEFINITION,), True, ALL),
    "gpu-platform-aws-ecs-secrets-not-in-environment": ((TASK_DEFINITION,), True, ALL),
    "gpu-platform-aws-ecs-read-only-root": ((TASK_DEFINITION,), False, ALL),
    "gpu-platform-aws-ecs-no-public-ip": ((ECS_SERVICE,), True, ALL),
    "gpu-platform-aws-log-retention": ((LOG_GROUP,), False, ALL),
}


def _baseline_cases() -> list[Any]:
    cases = []
    for rule, (types, _, environments) in SPEC.items():
        for resource_type in types:
            for label, props in BASELINES[resource_type]:
                for environment in environments:
                    cases.append(
                        pytest.param(rule, resource_type, props, environment, id=f"{rule}-{label}-{environment}")
                    )
    return cases


def _messages_contain(messages: list[str], fragments: tuple[str, ...]) -> None:
    assert messages, "expected a violation"
    for message in messages:
        assert "thing" in message, f"message does not name the resource: {message}"
    text = "\n".join(messages)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {messages}"


# -- the rule set itself ---------------------------------------------------------------


# Stack rules of the AWS area (tested in tests/test_aws_infra_credentials.py).
STACK_RULES = ["gpu-platform-aws-rds-master-password"]


def test_aws_rules_are_the_specified_set_in_order() -> None:
    from policy.rules import aws

    assert [rule.name for rule in aws.RULES if rule.stack_check is None] == list(SPEC)
    assert [rule.name for rule in aws.RULES if rule.stack_check is not None] == STACK_RULES


@pytest.mark.parametrize("name", list(SPEC))
def test_rule_metadata(name: str) -> None:
    rule = BY_NAME[name]
    types, security, environments = SPEC[name]
    assert rule.area == "aws"
    assert set(rule.types) == set(types)
    assert rule.security is security
    assert set(rule.environments) == set(environments)
    assert rule.description.endswith(".")
    assert ". " not in rule.description, "one sentence"
    assert rule.public_check.strip()


@pytest.mark.parametrize(("rule", "resource_type", "props", "environment"), _baseline_cases())
def test_baseline_passes(rule: str, resource_type: str, props: Mapping[str, Any], environment: str) -> None:
    assert violations(rule, resource_type, props, environment) == []


# -- failing mutations (prod unless stated) ---------------------------------------------

FAILURES = [
    # IMDSv2
    pytest.param(
        "gpu-platform-aws-imdsv2",
        LAUNCH_TEMPLATE,
        mutate(LAUNCH_TEMPLATE_OK, "metadataOptions.httpTokens", "optional"),
        ("httpTokens optional",),
        id="imdsv2-lt-optional",
    ),
    pytest.param(
        "gpu-platform-aws-imdsv2",
        LAUNCH_TEMPLATE,
        mutate(LAUNCH_TEMPLATE_OK, "metadataOptions.httpTokens", ...),
        ("httpTokens unset",),
        id="imdsv2-lt-tokens-unset",
    ),
    pytest.param(
        "gpu-platform-aws-imdsv2",
        LAUNCH_TEMPLATE,
        mutate(LAUNCH_TEMPLATE_OK, "metadataOptions.httpPutResponseHopLimit", 3),
        ("httpPutResponseHopLimit 3",),
        id="imdsv2-lt-hop-limit",
    ),
    pytest.param(
        "gpu-platform-aws-imdsv2",
        INSTANCE,
        mutate(INSTANCE_OK, "metadataOptions", ...),
        ("httpTokens unset",),
        id="imdsv2-instance-no-options",
    ),
    pytest.param(
        "gpu-platform-aws-imdsv2",
        INSTANCE,
        mutate(INSTANCE_OK, "metadataOptions.httpTokens", "optional"),
        ("httpTokens optional",),
        id="imdsv2-instance-optional",
    ),
    # EBS encryption
    pytest.param(
        "gpu-platform-aws-ebs-encrypted",
        LAUNCH_TEMPLATE,
        mutate(LAUNCH_TEMPLATE_OK, "blockDeviceMappings.0.ebs.encrypted", "false"),
        ("/dev/xvda", "blockDeviceMappings[0].ebs.encrypted false"),
        id="ebs-lt-false-string",
    ),
    pytest.param(
        "gpu-platform-aws-ebs-encrypted",
        LAUNCH_TEMPLATE,
        mutate(LAUNCH_TEMPLATE_OK, "blockDeviceMappings.0.ebs.encrypted", ...),
        ("ebs.encrypted unset",),
        id="ebs-lt-unset",
    ),
    pytest.param(
        "gpu-platform-aws-ebs-encrypted",
        INSTANCE,
        mutate(INSTANCE_OK, "rootBlockDevice.encrypted", False),
        ("rootBlockDevice.encrypted false",),
        id="ebs-instance-root-false",
    ),
    pytest.param(
        "gpu-platform-aws-ebs-encrypted",
        INSTANCE,
        mutate(INSTANCE_OK, "rootBlockDevice", ...),
        ("rootBlockDevice.encrypted unset",),
        id="ebs-instance-root-unset",
    ),
    pytest.param(
        "gpu-platform-aws-ebs-encrypted",
        INSTANCE,
        mutate(INSTANCE_OK, "ebsBlockDevices.0.encrypted", False),
        ("/dev/sdf", "ebsBlockDevices[0].encrypted false"),
        id="ebs-instance-data-false",
    ),
    pytest.param(
        "gpu-platform-aws-ebs-encrypted",
        EBS_VOLUME,
        mutate(EBS_VOLUME_OK, "encrypted", False),
        ("encrypted false",),
        id="ebs-volume-false",
    ),
    pytest.param(
        "gpu-platform-aws-ebs-encrypted",
        EBS_VOLUME,
        mutate(EBS_VOLUME_OK, "encrypted", ...),
        ("encrypted unset",),
        id="ebs-volume-unset",
    ),
    # public IPs
    pytest.param(
        "gpu-platform-aws-no-public-ip",
        LAUNCH_TEMPLATE,
        mutate(LAUNCH_TEMPLATE_OK, "networkInterfaces.0.associatePublicIpAddress", "true"),
        ("networkInterfaces[0].associatePublicIpAddress true",),
        id="public-ip-lt-string",
    ),
    pytest.param(
        "gpu-platform-aws-no-public-ip",
        LAUNCH_TEMPLATE,
        mutate(LAUNCH_TEMPLATE_OK, "networkInterfaces.0.associatePublicIpAddress", True),
        ("associatePublicIpAddress true",),
        id="public-ip-lt-bool",
    ),
    pytest.param(
        "gpu-platform-aws-no-public-ip",
        INSTANCE,
        mutate(INSTANCE_OK, "associatePublicIpAddress", True),
        ("associatePublicIpAddress true",),
        id="public-ip-instance",
    ),
    # world ingress: security groups
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SECURITY_GROUP,
        with_ingress(
            LB_SECURITY_GROUP_OK, {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}
        ),
        ("tcp 22", "0.0.0.0/0"),
        id="world-lb-sg-ssh",
    ),
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SECURITY_GROUP,
        with_ingress(
            LB_SECURITY_GROUP_OK, {"protocol": "udp", "fromPort": 49160, "toPort": 49200, "cidrBlocks": ["0.0.0.0/0"]}
        ),
        ("udp 49160-49200",),
        id="world-lb-sg-turn-relay",
    ),
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SECURITY_GROUP,
        with_ingress(LB_SECURITY_GROUP_OK, {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}),
        ("all traffic",),
        id="world-lb-sg-all",
    ),
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SECURITY_GROUP,
        mutate(LB_SECURITY_GROUP_OK, "ingress.0.toPort", 8443),
        ("tcp 443-8443",),
        id="world-lb-sg-range",
    ),
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SECURITY_GROUP,
        mutate(LB_SECURITY_GROUP_OK, "tags", ...),
        ("tcp 443", "tcp 80", "gpu-platform:role"),
        id="world-443-untagged-sg",
    ),
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SECURITY_GROUP,
        with_ingress(
            APP_SECURITY_GROUP_OK, {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}
        ),
        ("tcp 443",),
        id="world-443-app-sg",
    ),
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SECURITY_GROUP,
        mutate(APP_SECURITY_GROUP_OK, "ingress.1.ipv6CidrBlocks", ["::/0"]),
        ("udp 49160-49200", "::/0"),
        id="world-app-sg-turn-relay-ipv6",
    ),
    # world ingress: standalone rules
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SG_INGRESS_RULE,
        mutate(INGRESS_RULE_OK, "tags", ...),
        ("tcp 443", "0.0.0.0/0"),
        id="world-ingress-rule-untagged",
    ),
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SG_INGRESS_RULE,
        mutate(mutate(INGRESS_RULE_OK, "fromPort", 22), "toPort", 22),
        ("tcp 22",),
        id="world-ingress-rule-ssh-tagged",
    ),
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SG_INGRESS_RULE,
        mutate(mutate(INGRESS_RULE_OK, "ipProtocol", "-1"), "cidrIpv4", ...) | {"cidrIpv6": "::/0"},
        ("all traffic", "::/0"),
        id="world-ingress-rule-all-ipv6",
    ),
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SG_INGRESS_RULE,
        INGRESS_RULE_OK | {"ipProtocol": "udp", "fromPort": 49160, "toPort": 49200},
        ("udp 49160-49200",),
        id="world-ingress-rule-turn-relay-tagged",
    ),
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SG_RULE,
        mutate(SG_RULE_OK, "tags", ...),
        ("tcp 443",),
        id="world-sg-rule-untagged",
    ),
    pytest.param(
        "gpu-platform-aws-no-world-ingress",
        SG_RULE,
        SG_RULE_OK | {"protocol": "udp", "fromPort": 3478, "toPort": 3478},
        ("udp 3478",),
        id="world-sg-rule-turn-udp",
    ),
    # listeners
    pytest.param(
        "gpu-platform-aws-alb-https-tls12",
        LISTENER,
        mutate(HTTPS_LISTENER_OK, "sslPolicy", "ELBSecurityPolicy-2016-08"),
        ("ELBSecurityPolicy-2016-08",),
        id="tls-2016-policy",
    ),
    pytest.param(
        "gpu-platform-aws-alb-https-tls12",
        LISTENER,
        mutate(HTTPS_LISTENER_OK, "sslPolicy", "ELBSecurityPolicy-TLS13-1-1-2021-06"),
        ("ELBSecurityPolicy-TLS13-1-1-2021-06",),
        id="tls-1-1-policy",
    ),
    pytest.param(
        "gpu-platform-aws-alb-https-tls12",
        LISTENER,
        mutate(HTTPS_LISTENER_OK, "sslPolicy", ...),
        ("sslPolicy",),
        id="tls-policy-unset",
    ),
    pytest.param(
        "gpu-platform-aws-alb-https-tls12",
        LISTENER,
        mutate(HTTPS_LISTENER_OK, "certificateArn", ...),
        ("certificateArn",),
        id="tls-no-certificate",
    ),
    pytest.param(
        "gpu-platform-aws-alb-https-tls12",
        LISTENER,
        HTTPS_LISTENER_OK | {"protocol": "TLS", "sslPolicy": "ELBSecurityPolicy-TLS-1-1-2017-01"},
        ("TLS listener", "ELBSecurityPolicy-TLS-1-1-2017-01"),
        id="tls-nlb-old-policy",
    ),
    pytest.param(
        "gpu-platform-aws-alb-http-redirect",
        LISTENER,
        mutate(HTTP_LISTENER_OK, "defaultActions.0", {"type": "forward", "targetGroupArn": "arn:tg"}),
        ("forward",),
        id="redirect-forwards",
    ),
    pytest.param(
        "gpu-platform-aws-alb-http-redirect",
        LISTENER,
        mutate(HTTP_LISTENER_OK, "defaultActions.0.redirect.protocol", "HTTP"),
        ("defaultActions",),
        id="redirect-to-http",
    ),
    pytest.param(
        "gpu-platform-aws-alb-http-redirect",
        LISTENER,
        mutate(
            HTTP_LISTENER_OK,
            "defaultActions.0",
            {"type": "fixed-response", "fixedResponse": {"contentType": "text/plain", "statusCode": "404"}},
        ),
        ("fixed-response",),
        id="redirect-fixed-response",
    ),
    # load balancers
    pytest.param(
        "gpu-platform-aws-alb-access-logs",
        LOAD_BALANCER,
        mutate(ALB_OK, "accessLogs.enabled", False),
        ("accessLogs.enabled false",),
        id="access-logs-disabled",
    ),
    pytest.param(
        "gpu-platform-aws-alb-access-logs",
        LOAD_BALANCER,
        mutate(ALB_OK, "accessLogs", ...),
        ("accessLogs.enabled unset", "accessLogs.bucket"),
        id="access-logs-unset",
    ),
    pytest.param(
        "gpu-platform-aws-alb-access-logs",
        LOAD_BALANCER,
        mutate(ALB_OK, "accessLogs.bucket", ...),
        ("accessLogs.bucket",),
        id="access-logs-no-bucket",
    ),
    pytest.param(
        "gpu-platform-aws-alb-deletion-protection",
        LOAD_BALANCER,
        mutate(ALB_OK, "enableDeletionProtection", False),
        ("enableDeletionProtection false",),
        id="lb-deletion-protection-off",
    ),
    pytest.param(
        "gpu-platform-aws-alb-deletion-protection",
        LOAD_BALANCER,
        mutate(ALB_OK, "enableDeletionProtection", ...),
        ("enableDeletionProtection unset",),
        id="lb-deletion-protection-unset",
    ),
    pytest.param(
        "gpu-platform-aws-alb-drop-invalid-headers",
        LOAD_BALANCER,
        mutate(ALB_OK, "dropInvalidHeaderFields", False),
        ("dropInvalidHeaderFields false",),
        id="drop-headers-off",
    ),
    pytest.param(
        "gpu-platform-aws-alb-drop-invalid-headers",
        LOAD_BALANCER,
        mutate(mutate(ALB_OK, "dropInvalidHeaderFields", ...), "loadBalancerType", ...),
        ("dropInvalidHeaderFields unset",),
        id="drop-headers-unset-default-type",
    ),
    # target groups
    pytest.param(
        "gpu-platform-aws-target-group-health-check",
        TARGET_GROUP,
        mutate(HTTP_TARGET_GROUP_OK, "healthCheck.enabled", False),
        ("healthCheck.enabled false",),
        id="tg-http-disabled",
    ),
    pytest.param(
        "gpu-platform-aws-target-group-health-check",
        TARGET_GROUP,
        mutate(HTTP_TARGET_GROUP_OK, "healthCheck.path", ...),
        ("healthCheck.path",),
        id="tg-http-no-path",
    ),
    pytest.param(
        "gpu-platform-aws-target-group-health-check",
        TARGET_GROUP,
        mutate(HTTP_TARGET_GROUP_OK, "healthCheck", ...),
        ("healthCheck.path",),
        id="tg-http-no-health-check",
    ),
    pytest.param(
        "gpu-platform-aws-target-group-health-check",
        TARGET_GROUP,
        mutate(GRPC_TARGET_GROUP_OK, "healthCheck.path", "/healthz"),
        ("/healthz", "/grpc.health.v1.Health/Check"),
        id="tg-grpc-http-path",
    ),
    pytest.param(
        "gpu-platform-aws-target-group-health-check",
        TARGET_GROUP,
        mutate(GRPC_TARGET_GROUP_OK, "healthCheck.matcher", "12"),
        ("healthCheck.matcher 12",),
        id="tg-grpc-matcher-12",
    ),
    pytest.param(
        "gpu-platform-aws-target-group-health-check",
        TARGET_GROUP,
        mutate(GRPC_TARGET_GROUP_OK, "healthCheck.matcher", ...),
        ("healthCheck.matcher unset",),
        id="tg-grpc-matcher-unset",
    ),
    pytest.param(
        "gpu-platform-aws-target-group-health-check",
        TARGET_GROUP,
        mutate(GRPC_TARGET_GROUP_OK, "healthCheck.enabled", False),
        ("healthCheck.enabled false",),
        id="tg-grpc-disabled",
    ),
    # RDS
    pytest.param(
        "gpu-platform-aws-rds-encrypted",
        RDS_INSTANCE,
        mutate(RDS_OK, "storageEncrypted", False),
        ("storageEncrypted false",),
        id="rds-unencrypted",
    ),
    pytest.param(
        "gpu-platform-aws-rds-encrypted",
        RDS_INSTANCE,
        mutate(RDS_OK, "storageEncrypted", ...),
        ("storageEncrypted unset",),
        id="rds-encryption-unset",
    ),
    pytest.param(
        "gpu-platform-aws-rds-encrypted",
        RDS_INSTANCE,
        mutate(RDS_REPLICA_OK, "storageEncrypted", ...),
        ("storageEncrypted unset",),
        id="rds-replica-unencrypted-no-kms",
    ),
    pytest.param(
        "gpu-platform-aws-rds-not-public",
        RDS_INSTANCE,
        mutate(RDS_OK, "publiclyAccessible", True),
        ("publiclyAccessible true",),
        id="rds-public",
    ),
    pytest.param(
        "gpu-platform-aws-rds-not-public",
        RDS_INSTANCE,
        mutate(RDS_REPLICA_OK, "publiclyAccessible", True),
        ("publiclyAccessible true",),
        id="rds-replica-public",
    ),
    pytest.param(
        "gpu-platform-aws-rds-backup-retention",
        RDS_INSTANCE,
        mutate(RDS_OK, "backupRetentionPeriod", 7),
        ("backupRetentionPeriod 7", "at least 30 days"),
        id="rds-backup-7-prod",
    ),
    pytest.param(
        "gpu-platform-aws-rds-backup-retention",
        RDS_INSTANCE,
        mutate(RDS_OK, "backupRetentionPeriod", ...),
        ("backupRetentionPeriod unset",),
        id="rds-backup-unset",
    ),
    pytest.param(
        "gpu-platform-aws-rds-backup-retention",
        RDS_INSTANCE,
        mutate(RDS_OK, "backupRetentionPeriod", 0),
        ("backupRetentionPeriod 0",),
        id="rds-backup-off",
    ),
    pytest.param(
        "gpu-platform-aws-rds-multi-az",
        RDS_INSTANCE,
        mutate(RDS_OK, "multiAz", False),
        ("multiAz false",),
        id="rds-single-az",
    ),
    pytest.param(
        "gpu-platform-aws-rds-multi-az",
        RDS_INSTANCE,
        mutate(RDS_OK, "multiAz", ...),
        ("multiAz unset",),
        id="rds-multi-az-unset",
    ),
    pytest.param(
        "gpu-platform-aws-rds-deletion-protection",
        RDS_INSTANCE,
        mutate(RDS_OK, "deletionProtection", False),
        ("deletionProtection false",),
        id="rds-deletion-protection-off",
    ),
    pytest.param(
        "gpu-platform-aws-rds-deletion-protection",
        RDS_INSTANCE,
        mutate(RDS_OK, "deletionProtection", ...),
        ("deletionProtection unset",),
        id="rds-deletion-protection-unset",
    ),
    pytest.param(
        "gpu-platform-aws-rds-final-snapshot",
        RDS_INSTANCE,
        mutate(RDS_OK, "skipFinalSnapshot", True),
        ("skipFinalSnapshot true",),
        id="rds-skip-final-snapshot",
    ),
    pytest.param(
        "gpu-platform-aws-rds-final-snapshot",
        RDS_INSTANCE,
        mutate(RDS_OK, "finalSnapshotIdentifier", ...),
        ("finalSnapshotIdentifier",),
        id="rds-no-final-snapshot-name",
    ),
    pytest.param(
        "gpu-platform-aws-rds-final-snapshot",
        RDS_INSTANCE,
        mutate(mutate(RDS_OK, "skipFinalSnapshot", ...), "finalSnapshotIdentifier", ...),
        ("finalSnapshotIdentifier",),
        id="rds-final-snapshot-all-defaults",
    ),
    pytest.param(
        "gpu-platform-aws-rds-force-ssl",
        PARAMETER_GROUP,
        mutate(PARAMETER_GROUP_OK, "parameters.0.value", "0"),
        ("rds.force_ssl 0",),
        id="force-ssl-0",
    ),
    pytest.param(
        "gpu-platform-aws-rds-force-ssl",
        PARAMETER_GROUP,
        mutate(PARAMETER_GROUP_OK, "parameters", [{"name": "log_min_duration_statement", "value": "500"}]),
        ("rds.force_ssl unset",),
        id="force-ssl-missing",
    ),
    pytest.param(
        "gpu-platform-aws-rds-force-ssl",
        RDS_INSTANCE,
        mutate(RDS_OK, "parameterGroupName", "default.postgres16"),
        ("default.postgres16",),
        id="force-ssl-default-group",
    ),
    pytest.param(
        "gpu-platform-aws-rds-force-ssl",
        RDS_INSTANCE,
        mutate(RDS_OK, "parameterGroupName", ...),
        ("parameterGroupName unset",),
        id="force-ssl-no-group",
    ),
    # ECS
    pytest.param(
        "gpu-platform-aws-ecs-not-privileged",
        TASK_DEFINITION,
        containers("0.privileged", True),
        ("container api", "privileged true"),
        id="ecs-privileged-api",
    ),
    pytest.param(
        "gpu-platform-aws-ecs-not-privileged",
        TASK_DEFINITION,
        containers("1.privileged", True),
        ("container log-router", "privileged true"),
        id="ecs-privileged-sidecar",
    ),
    pytest.param(
        "gpu-platform-aws-ecs-logging",
        TASK_DEFINITION,
        containers("0.logConfiguration", ...),
        ("container api", "logConfiguration.logDriver"),
        id="ecs-no-log-configuration",
    ),
    pytest.param(
        "gpu-platform-aws-ecs-logging",
        TASK_DEFINITION,
        containers("1.logConfiguration.logDriver", ...),
        ("container log-router", "logConfiguration.logDriver"),
        id="ecs-no-log-driver",
    ),
    pytest.param(
        "gpu-platform-aws-ecs-secrets-not-in-environment",
        TASK_DEFINITION,
        with_environment(0, {"name": "DB_PASSWORD", "value": "hunter2"}),
        ("DB_PASSWORD", "container api"),
        id="ecs-password-in-environment",
    ),
    pytest.param(
        "gpu-platform-aws-ecs-secrets-not-in-environment",
        TASK_DEFINITION,
        containers("1.environment", [{"name": "API_TOKEN", "value": "t0k3n"}]),
        ("API_TOKEN", "container log-router"),
        id="ecs-token-in-environment",
    ),
    pytest.param(
        "gpu-platform-aws-ecs-read-only-root",
        TASK_DEFINITION,
        containers("0.readonlyRootFilesystem", False),
        ("container api", "readonlyRootFilesystem false"),
        id="ecs-writable-root",
    ),
    pytest.param(
        "gpu-platform-aws-ecs-read-only-root",
        TASK_DEFINITION,
        containers("1.readonlyRootFilesystem", ...),
        ("container log-router", "readonlyRootFilesystem unset"),
        id="ecs-root-unset",
    ),
    pytest.param(
        "gpu-platform-aws-ecs-no-public-ip",
        ECS_SERVICE,
        mutate(ECS_SERVICE_OK, "networkConfiguration.assignPublicIp", True),
        ("assignPublicIp true",),
        id="ecs-service-public-ip",
    ),
    # CloudWatch
    pytest.param(
        "gpu-platform-aws-log-retention",
        LOG_GROUP,
        mutate(LOG_GROUP_OK, "retentionInDays", ...),
        ("retentionInDays unset",),
        id="log-retention-unset",
    ),
    pytest.param(
        "gpu-platform-aws-log-retention",
        LOG_GROUP,
        mutate(LOG_GROUP_OK, "retentionInDays", 0),
        ("retentionInDays 0",),
        id="log-retention-zero",
    ),
]


@pytest.mark.parametrize(("rule", "resource_type", "props", "fragments"), FAILURES)
def test_mutation_fails(rule: str, resource_type: str, props: Mapping[str, Any], fragments: tuple[str, ...]) -> None:
    _messages_contain(violations(rule, resource_type, props, "prod"), fragments)


def test_every_rule_has_a_failing_mutation() -> None:
    covered = {case.values[0] for case in FAILURES}
    assert covered == set(SPEC)


# -- engine-shaped inputs: proxies and float numbers ------------------------------------


def _engine_shaped(value: Any) -> Any:
    """Numbers as the engine deserialises them (protobuf Struct: floats)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: _engine_shaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_engine_shaped(v) for v in value]
    return value


@pytest.mark.parametrize(("rule", "resource_type", "props", "fragments"), FAILURES)
def test_mutation_fails_on_engine_shaped_inputs(
    rule: str, resource_type: str, props: Mapping[str, Any], fragments: tuple[str, ...]
) -> None:
    """The policy server wraps lists/maps in read-only proxies and sends numbers as floats."""
    proxied = unknown_checking_proxy(_engine_shaped(copy.deepcopy(dict(props))))
    _messages_contain(violations(rule, resource_type, proxied, "prod"), fragments)


@pytest.mark.parametrize(("rule", "resource_type", "props", "environment"), _baseline_cases())
def test_baseline_passes_on_engine_shaped_inputs(
    rule: str, resource_type: str, props: Mapping[str, Any], environment: str
) -> None:
    proxied = unknown_checking_proxy(_engine_shaped(copy.deepcopy(dict(props))))
    assert violations(rule, resource_type, proxied, environment) == []


# -- environment-specific behaviour -----------------------------------------------------


@pytest.mark.parametrize(("environment", "fails"), [("dev", False), ("staging", False), ("prod", True)])
def test_single_az_rds_fails_only_in_prod(environment: str, fails: bool) -> None:
    found = violations("gpu-platform-aws-rds-multi-az", RDS_INSTANCE, mutate(RDS_OK, "multiAz", False), environment)
    assert bool(found) is fails


@pytest.mark.parametrize(
    ("days", "environment", "fails"),
    [
        (7, "staging", False),
        (7, "prod", True),
        (29, "prod", True),
        (30, "prod", False),
        (3, "staging", True),
        (0, "dev", False),
    ],
)
def test_backup_retention_follows_the_environment_profile(days: int, environment: str, fails: bool) -> None:
    props = mutate(RDS_OK, "backupRetentionPeriod", days)
    found = violations("gpu-platform-aws-rds-backup-retention", RDS_INSTANCE, props, environment)
    assert bool(found) is fails
    if fails:
        _messages_contain(found, (f"backupRetentionPeriod {days}",))


@pytest.mark.parametrize(
    ("rule", "resource_type", "props"),
    [
        ("gpu-platform-aws-rds-deletion-protection", RDS_INSTANCE, mutate(RDS_OK, "deletionProtection", False)),
        ("gpu-platform-aws-alb-deletion-protection", LOAD_BALANCER, mutate(ALB_OK, "enableDeletionProtection", False)),
        ("gpu-platform-aws-rds-final-snapshot", RDS_INSTANCE, mutate(RDS_OK, "skipFinalSnapshot", True)),
    ],
)
def test_prod_only_protections_pass_in_staging_and_dev(rule: str, resource_type: str, props: Mapping[str, Any]) -> None:
    assert violations(rule, resource_type, props, "staging") == []
    assert violations(rule, resource_type, props, "dev") == []
    assert violations(rule, resource_type, props, "prod") != []


@pytest.mark.parametrize(
    "rule",
    ["gpu-platform-aws-rds-backup-retention", "gpu-platform-aws-rds-final-snapshot", "gpu-platform-aws-rds-multi-az"],
)
def test_read_replica_is_exempt(rule: str) -> None:
    # the replica baseline keeps no backups, skips the final snapshot and is single-AZ
    assert violations(rule, RDS_INSTANCE, RDS_REPLICA_OK, "prod") == []
    primary = mutate(RDS_REPLICA_OK, "replicateSourceDb", ...)
    assert violations(rule, RDS_INSTANCE, primary, "prod") != []


@pytest.mark.parametrize(
    "rule",
    ["gpu-platform-aws-rds-backup-retention", "gpu-platform-aws-rds-final-snapshot", "gpu-platform-aws-rds-multi-az"],
)
def test_replica_of_a_source_created_in_the_same_preview_is_exempt(rule: str) -> None:
    """During preview the source's identifier is unknown; the replica is still recognised as one."""
    props = unknown_checking_proxy(RDS_REPLICA_OK | {"replicateSourceDb": UNKNOWN_STRING_VALUE})
    assert violations(rule, RDS_INSTANCE, props, "prod") == []


def test_final_snapshot_default_skip_is_compliant_with_a_snapshot_name() -> None:
    props = mutate(RDS_OK, "skipFinalSnapshot", ...)
    assert violations("gpu-platform-aws-rds-final-snapshot", RDS_INSTANCE, props, "prod") == []


def test_final_snapshot_explicit_false_still_needs_a_name() -> None:
    props = mutate(RDS_OK, "finalSnapshotIdentifier", ...)
    _messages_contain(
        violations("gpu-platform-aws-rds-final-snapshot", RDS_INSTANCE, props, "prod"), ("finalSnapshotIdentifier",)
    )


def test_cross_region_replica_encrypted_through_kms_key() -> None:
    props = mutate(RDS_REPLICA_OK, "storageEncrypted", ...) | {"kmsKeyId": KMS_KEY}
    assert violations("gpu-platform-aws-rds-encrypted", RDS_INSTANCE, props) == []


# -- world ingress: where the load-balancer exception applies -----------------------------

WORLD_443 = {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}
WORLD_SSH = {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}
WORLD_TURN = {"protocol": "udp", "fromPort": 49160, "toPort": 49200, "cidrBlocks": ["0.0.0.0/0"]}


@pytest.mark.parametrize(
    ("tags", "rule", "allowed"),
    [
        (LB_TAGS, WORLD_443, True),
        ({"gpu-platform:role": "app"}, WORLD_443, False),
        ({}, WORLD_443, False),
        (LB_TAGS, WORLD_SSH, False),
        ({}, WORLD_SSH, False),
        (LB_TAGS, WORLD_TURN, False),
        ({"gpu-platform:role": "turn"}, WORLD_TURN, False),
    ],
)
def test_world_ingress_exception_only_for_lb_https(tags: dict[str, str], rule: dict[str, Any], allowed: bool) -> None:
    props = {"vpcId": "vpc-1", "tags": tags, "ingress": [rule]}
    found = violations("gpu-platform-aws-no-world-ingress", SECURITY_GROUP, props)
    assert (found == []) is allowed


@pytest.mark.parametrize(
    ("resource_type", "props"),
    [
        (SG_RULE, SG_RULE_OK | {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0}),
        (SG_RULE, SG_RULE_OK | {"fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8"]}),
        (SG_INGRESS_RULE, INGRESS_RULE_OK | {"fromPort": 22, "toPort": 22, "cidrIpv4": "10.20.0.0/16"}),
        (
            SG_INGRESS_RULE,
            INGRESS_RULE_OK
            | {"tags": {"gpu-platform:role": "turn"}, "ipProtocol": "udp", "fromPort": 3478, "toPort": 3478},
        ),
        (SG_INGRESS_RULE, {"securityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432}),
    ],
    ids=["egress", "private-ssh", "private-ssh-v2", "turn-listener", "sg-referenced"],
)
def test_world_ingress_allowed_cases(resource_type: str, props: Mapping[str, Any]) -> None:
    assert violations("gpu-platform-aws-no-world-ingress", resource_type, props) == []


# -- other accepted variants ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "resource_type", "props"),
    [
        (
            "gpu-platform-aws-imdsv2",
            LAUNCH_TEMPLATE,
            mutate(LAUNCH_TEMPLATE_OK, "metadataOptions", {"httpEndpoint": "disabled"}),
        ),
        ("gpu-platform-aws-imdsv2", INSTANCE, mutate(INSTANCE_OK, "metadataOptions.httpPutResponseHopLimit", ...)),
        (
            "gpu-platform-aws-ebs-encrypted",
            LAUNCH_TEMPLATE,
            mutate(LAUNCH_TEMPLATE_OK, "blockDeviceMappings.0.ebs.encrypted", True),
        ),
        ("gpu-platform-aws-no-public-ip", LAUNCH_TEMPLATE, mutate(LAUNCH_TEMPLATE_OK, "networkInterfaces", ...)),
        (
            "gpu-platform-aws-alb-https-tls12",
            LISTENER,
            HTTPS_LISTENER_OK | {"protocol": "TLS", "port": 5349, "sslPolicy": "ELBSecurityPolicy-FS-1-2-Res-2020-10"},
        ),
        (
            "gpu-platform-aws-alb-https-tls12",
            LISTENER,
            HTTPS_LISTENER_OK | {"sslPolicy": "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04"},
        ),
        ("gpu-platform-aws-alb-https-tls12", LISTENER, {"protocol": "UDP", "port": 3478, "defaultActions": []}),
        ("gpu-platform-aws-alb-http-redirect", LISTENER, {"protocol": "TCP", "port": 5432, "defaultActions": []}),
        ("gpu-platform-aws-alb-access-logs", LOAD_BALANCER, {"loadBalancerType": "gateway"}),
        (
            "gpu-platform-aws-alb-drop-invalid-headers",
            LOAD_BALANCER,
            mutate(ALB_OK, "loadBalancerType", "network") | {"dropInvalidHeaderFields": False},
        ),
        (
            "gpu-platform-aws-target-group-health-check",
            TARGET_GROUP,
            mutate(GRPC_TARGET_GROUP_OK, "healthCheck.matcher", "0-99"),
        ),
        (
            "gpu-platform-aws-target-group-health-check",
            TARGET_GROUP,
            {"protocol": "TCP", "port": 3478, "vpcId": "vpc-1"},
        ),
        (
            "gpu-platform-aws-target-group-health-check",
            TARGET_GROUP,
            {"protocol": "UDP", "port": 3478, "healthCheck": {"protocol": "TCP", "port": "3478"}},
        ),
        ("gpu-platform-aws-rds-force-ssl", PARAMETER_GROUP, {"family": "mysql8.0", "parameters": []}),
        ("gpu-platform-aws-rds-force-ssl", PARAMETER_GROUP, mutate(PARAMETER_GROUP_OK, "parameters.0.value", 1)),
        (
            "gpu-platform-aws-rds-force-ssl",
            RDS_INSTANCE,
            RDS_OK | {"engine": "mysql", "parameterGroupName": "default.mysql8.0"},
        ),
        (
            "gpu-platform-aws-ecs-secrets-not-in-environment",
            TASK_DEFINITION,
            with_environment(0, {"name": "API_TOKEN_FILE", "value": "/run/secrets/token"}),
        ),
        ("gpu-platform-aws-ecs-no-public-ip", ECS_SERVICE, {"launchType": "EC2"}),
    ],
)
def test_accepted_variants(rule: str, resource_type: str, props: Mapping[str, Any]) -> None:
    assert violations(rule, resource_type, props) == []


def test_rules_ignore_other_resource_types() -> None:
    insecure = {"privileged": True, "publiclyAccessible": True, "encrypted": False, "retentionInDays": 0}
    for rule in SPEC:
        assert violations(rule, AWS_S3_BUCKET, insecure) == []


def test_unparseable_container_definitions_report_nothing() -> None:
    props = TASK_DEFINITION_OK | {"containerDefinitions": "{not json"}
    for rule in SPEC:
        if TASK_DEFINITION in SPEC[rule][0]:
            assert violations(rule, TASK_DEFINITION, props) == []
