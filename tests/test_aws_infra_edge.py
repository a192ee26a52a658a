"""The ALB's access logs and WAF: ordering the mock runtime does not enforce, and prod hardening."""

from __future__ import annotations

import json
from typing import Any

import pytest

from preview.runner import PreviewResult
from tests.conftest import shipped
from tests.tokens import (
    AWS_CLOUDWATCH_LOG_GROUP,
    AWS_LB_LOAD_BALANCER,
    AWS_S3_BUCKET,
    AWS_S3_BUCKET_POLICY,
    AWS_S3_BUCKET_VERSIONING,
    AWS_WAFV2_WEB_ACL,
    AWS_WAFV2_WEB_ACL_LOGGING_CONFIGURATION,
)

ALB = AWS_LB_LOAD_BALANCER
BUCKET = AWS_S3_BUCKET
BUCKET_POLICY = AWS_S3_BUCKET_POLICY
VERSIONING = AWS_S3_BUCKET_VERSIONING
WEB_ACL = AWS_WAFV2_WEB_ACL
WAF_LOGGING = AWS_WAFV2_WEB_ACL_LOGGING_CONFIGURATION
LOG_GROUP = AWS_CLOUDWATCH_LOG_GROUP


@pytest.fixture(scope="module")
def prod() -> PreviewResult:
    return shipped("prod")


def only(result: PreviewResult, token: str, name: str | None = None) -> Any:
    found = [r for r in result.of_type(token) if name is None or r.name == name]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def test_the_alb_switches_access_logs_on_only_after_the_bucket_policy(prod: PreviewResult) -> None:
    """ELB checks it may write to the bucket when access logs are enabled: "Access Denied for bucket"."""
    alb = only(prod, ALB, "alb")
    policy = only(prod, BUCKET_POLICY, "alb-logs-policy")
    assert alb.inputs["accessLogs"]["enabled"] is True
    assert policy.urn in alb.dependencies


def test_the_log_bucket_is_versioned(prod: PreviewResult) -> None:
    bucket = only(prod, BUCKET, "alb-logs")
    versioning = only(prod, VERSIONING, "alb-logs-versioning")
    assert bucket.urn in versioning.dependencies
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"


def test_waf_blocks_known_bad_inputs_with_the_common_rules(prod: PreviewResult) -> None:
    rules = only(prod, WEB_ACL).inputs["rules"]
    groups = {
        r["statement"]["managedRuleGroupStatement"]["name"]
        for r in rules
        if "managedRuleGroupStatement" in r["statement"]
    }
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= groups
    priorities = [r["priority"] for r in rules]
    assert len(set(priorities)) == len(priorities)
    names = [r["name"] for r in rules]
    assert len(set(names)) == len(names)


def test_waf_logs_to_a_group_waf_accepts_without_credentials(prod: PreviewResult) -> None:
    logging = only(prod, WAF_LOGGING)
    acl = only(prod, WEB_ACL)
    (group,) = [g for g in prod.of_type(LOG_GROUP) if g.urn in logging.dependencies]
    assert acl.urn in logging.dependencies
    assert group.inputs["name"].startswith("aws-waf-logs-")  # WAF rejects any other destination name
    assert group.inputs["retentionInDays"] == 365
    assert group.inputs["kmsKeyId"]
    assert len(logging.inputs["logDestinationConfigs"]) == 1
    redacted = {f["singleHeader"]["name"] for f in logging.inputs["redactedFields"]}
    assert redacted == {"authorization", "cookie"}
    assert json.dumps(logging.inputs).count("aws-waf-logs-") == 1
