"""The AWS foundation and stateful safety: VPC sizing, the stack key, flow logs, retention, RDS hardening.

What the mock runtime cannot see on its own: KMS rejects a key policy naming a
principal that does not exist, an ALB needs /27 subnets, and a bad CIDR must
stop the program before anything is registered.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pulumi
import pytest

from preview import runner
from preview.mocks import RecordingMonitor
from preview.runner import PreviewResult
from targets.aws.mocks import MOCK_ACCOUNT
from tests.conftest import Runner, shipped, stack_config
from tests.test_aws_components import CERT, PROD_AWS
from tests.tokens import (
    AWS_AUTOSCALING_GROUP,
    AWS_CLOUDWATCH_LOG_GROUP,
    AWS_EC2_FLOW_LOG,
    AWS_EC2_SUBNET,
    AWS_IAM_ROLE,
    AWS_IAM_SERVICE_LINKED_ROLE,
    AWS_KMS_KEY,
    AWS_RDS_INSTANCE,
    AWS_S3_BUCKET,
    AWS_SECRETSMANAGER_SECRET,
)

KMS_KEY = AWS_KMS_KEY
SLR = AWS_IAM_SERVICE_LINKED_ROLE
ASG = AWS_AUTOSCALING_GROUP
SUBNET = AWS_EC2_SUBNET
FLOW_LOG = AWS_EC2_FLOW_LOG
LOG_GROUP = AWS_CLOUDWATCH_LOG_GROUP
ROLE = AWS_IAM_ROLE
RDS = AWS_RDS_INSTANCE
BUCKET = AWS_S3_BUCKET
SECRET = AWS_SECRETSMANAGER_SECRET
DEFAULT_AUTOSCALING_ROLE = 'role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"'


def on_aws(run: Runner, environment: str, **aws: Any) -> PreviewResult:
    """The reference blueprint on AWS with ``environment``'s profile."""
    # The reference blueprint routes gRPC publicly, which needs the HTTPS listener in every environment.
    settings = {"prod": PROD_AWS}.get(environment, {"certificate_arn": CERT})
    return run("prod", environment=environment, aws={**settings, **aws})


def by_name(result: PreviewResult, token: str, name: str) -> Any:
    (found,) = [r for r in result.of_type(token) if r.name == name]
    return found


# -- VPC CIDR ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cidr",
    ["10.40.0.0/24", "10.40.0.0/28", "10.40.0.1/16", "300.1.0.0/16", "10.0.0.0/8", "8.8.0.0/16", "ten/16"],
)
def test_a_bad_vpc_cidr_stops_the_program_before_any_resource(cidr: str, monitors: list[RecordingMonitor]) -> None:
    with pytest.raises(pulumi.RunError) as caught:
        runner.run_program("prod", stack_config("prod", aws={**PROD_AWS, "vpc_cidr": cidr}))
    message = str(caught.value)
    assert len(monitors) == 1
    assert monitors[0].recorded == []
    assert "gpu-platform:aws.vpc_cidr" in message
    assert cidr in message
    assert "/16 to /23" in message
    assert "/27" in message
    assert "Traceback" not in message


def test_the_smallest_vpc_still_gives_every_subnet_room_for_an_alb(run: Runner) -> None:
    result = on_aws(run, "prod", vpc_cidr="10.40.0.0/23", availability_zones=3)
    blocks = [ipaddress.IPv4Network(s.inputs["cidrBlock"]) for s in result.of_type(SUBNET)]
    assert len(blocks) == 6
    assert all(b.prefixlen <= 27 and b.subnet_of(ipaddress.IPv4Network("10.40.0.0/23")) for b in blocks)
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])


# -- the stack key and the Auto Scaling role -----------------------------------------------------


@pytest.mark.parametrize(("environment", "kept"), [("prod", True), ("staging", False)])
def test_the_key_is_protected_and_retained_where_state_is(run: Runner, environment: str, kept: bool) -> None:
    result = shipped("prod") if environment == "prod" else on_aws(run, environment)
    (key,) = result.of_type(KMS_KEY)
    assert (key.protect, key.retain_on_delete) == (kept, kept)


def test_the_key_policy_names_only_a_role_the_stack_creates_first() -> None:
    """KMS rejects unknown principals: the account's default ASG role may not exist yet; this stack's does."""
    result = shipped("prod")
    (key,) = result.of_type(KMS_KEY)
    (role,) = result.of_type(SLR)
    assert role.inputs["awsServiceName"] == "autoscaling.amazonaws.com"
    suffix = role.inputs["customSuffix"]
    assert suffix == "gp-prod"
    name = f"AWSServiceRoleForAutoScaling_{suffix}"
    assert len(name) <= 64
    assert role.urn in key.dependencies
    arn = f"arn:aws:iam::{MOCK_ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/{name}"
    principals = set()
    for statement in json.loads(key.inputs["policy"])["Statement"]:
        aws_principal = statement.get("Principal", {}).get("AWS", [])
        principals |= {aws_principal} if isinstance(aws_principal, str) else set(aws_principal)
    assert principals == {f"arn:aws:iam::{MOCK_ACCOUNT}:root", arn}
    assert DEFAULT_AUTOSCALING_ROLE not in key.inputs["policy"]


def test_gpu_auto_scaling_groups_use_the_stacks_role() -> None:
    result = shipped("prod")
    (role,) = result.of_type(SLR)
    groups = result.of_type(ASG)
    assert groups, "the reference blueprint has a GPU pool"
    for group in groups:
        assert role.urn in group.dependencies
        assert group.inputs["serviceLinkedRoleArn"].startswith(f"arn:aws:iam::{MOCK_ACCOUNT}:role/aws-service-role/")


# -- flow logs and retention ---------------------------------------------------------------------


@pytest.mark.parametrize(("environment", "flows"), [("prod", 1), ("staging", 1), ("dev", 0)])
def test_monitored_environments_record_vpc_flow_logs(run: Runner, environment: str, flows: int) -> None:
    result = shipped("prod") if environment == "prod" else on_aws(run, environment)
    found = result.of_type(FLOW_LOG)
    assert len(found) == flows
    for flow in found:
        assert flow.inputs["trafficType"] == "ALL"
        assert flow.inputs["logDestinationType"] == "cloud-watch-logs"
        role = json.loads(by_name(result, ROLE, "aws-flow-logs-role").inputs["assumeRolePolicy"])
        (statement,) = role["Statement"]
        assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == MOCK_ACCOUNT


def test_prod_keeps_every_log_for_a_year() -> None:
    groups = shipped("prod").of_type(LOG_GROUP)
    assert groups
    assert {g.inputs["retentionInDays"] for g in groups} == {365}


# -- RDS hardening -------------------------------------------------------------------------------


def test_prod_databases_have_enhanced_monitoring_log_exports_and_tagged_snapshots() -> None:
    result = shipped("prod")
    instances = result.of_type(RDS)
    assert any(i.inputs.get("replicateSourceDb") for i in instances)
    role = by_name(result, ROLE, "rds-monitoring-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    for instance in instances:  # the primary and every replica
        assert instance.inputs["monitoringInterval"] == 60, instance.name
        assert role.urn in instance.dependencies
        assert set(instance.inputs["enabledCloudwatchLogsExports"]) == {"postgresql", "upgrade"}
        assert instance.inputs["copyTagsToSnapshot"] is True


def test_no_enhanced_monitoring_below_prod(run: Runner) -> None:
    result = on_aws(run, "staging")
    assert all(not i.inputs.get("monitoringInterval") for i in result.of_type(RDS))
    assert not [r for r in result.of_type(ROLE) if r.name == "rds-monitoring-role"]


# -- prod stateful safety ------------------------------------------------------------------------


def stateful(result: PreviewResult) -> dict[str, Any]:
    """Name -> recorded resource for everything whose loss loses data or the means to read it."""
    tokens = (RDS, KMS_KEY, BUCKET, SECRET)
    return {r.name: r for r in result.resources if r.type in tokens and not r.name.endswith("-secret")}


def test_prod_state_is_protected_retained_and_keeps_its_names(run: Runner) -> None:
    before = shipped("prod")
    kept = stateful(before)
    assert {"bem-db-primary", "bem-db-replica-0", "aws-key", "alb-logs", "bem-db-credentials"} <= kept.keys()
    for name, resource in kept.items():
        assert (resource.protect, resource.retain_on_delete) == (True, True), name
    assert kept["bem-db-primary"].inputs["identifier"] == "gp-prod-bem-db"
    assert kept["bem-db-replica-0"].inputs["identifier"] == "gp-prod-bem-db-replica-0"
    # A routine change (a password rotation, another alarm topic) renames and replaces nothing stateful.
    topic = "arn:aws:sns:us-east-1:123456789012:other-alarms"
    after = stateful(run("prod", aws={**PROD_AWS, "db_password_version": 2, "alarm_topic_arn": topic}))
    assert after.keys() == kept.keys()
    for name, resource in after.items():
        identity = ("identifier", "bucketPrefix", "namePrefix", "engine", "kmsKeyId", "storageEncrypted")
        assert {k: resource.inputs.get(k) for k in identity} == {k: kept[name].inputs.get(k) for k in identity}
        assert resource.urn == kept[name].urn
