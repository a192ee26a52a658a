"""Every IAM policy document the AWS target composes, through parliament (the IAM linter).

Collected from the recorded registrations of the prod stack and every shipped
blueprint on AWS: role trust policies, inline role policies, managed policies,
bucket policies and the KMS key policy. parliament checks actions, resource ARN
shapes against the action's resource types, condition keys and operators, and
Allow statements that grant nothing; it does not judge principals, so trust and
resource policies are checked for everything but their ``Principal``. It cannot
read AWS managed policies named by ARN (``RolePolicyAttachment``): those are
listed in ``MANAGED_POLICIES`` and checked to be exactly the ones we expect.

parliament lives in the scanners virtualenv (``.venv-scanners``) and runs as a
subprocess, like checkov in tests/test_kubernetes_manifests.py.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from preview.runner import PreviewResult
from targets.aws.mocks import MOCK_ACCOUNT
from tests.conftest import shipped
from tests.tokens import (
    AWS_CLOUDWATCH_LOG_RESOURCE_POLICY,
    AWS_IAM_POLICY,
    AWS_IAM_ROLE,
    AWS_IAM_ROLE_POLICY,
    AWS_IAM_ROLE_POLICY_ATTACHMENT,
    AWS_KMS_KEY,
    AWS_KMS_KEY_POLICY,
    AWS_S3_BUCKET_POLICY,
    AWS_SECRETSMANAGER_SECRET_POLICY,
)
from tests.views.aws import VIEW as AWS

ROOT = Path(__file__).resolve().parent.parent
PARLIAMENT_PYTHON = ROOT / ".venv-scanners" / "bin" / "python"

# (resource type token, input holding a policy document)
POLICY_INPUTS = (
    (AWS_IAM_ROLE, "assumeRolePolicy"),
    (AWS_IAM_ROLE_POLICY, "policy"),
    (AWS_IAM_POLICY, "policy"),
    (AWS_S3_BUCKET_POLICY, "policy"),
    (AWS_KMS_KEY, "policy"),
    (AWS_KMS_KEY_POLICY, "policy"),
    (AWS_SECRETSMANAGER_SECRET_POLICY, "policy"),
    (AWS_CLOUDWATCH_LOG_RESOURCE_POLICY, "policyDocument"),
)
# Managed policies parliament cannot fetch: the only ones we attach, and why.
MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole": "RDS enhanced monitoring (AWS's own)",
    "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role": "GPU instances join the ECS cluster",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore": "GPU instances: SSM Session Manager instead of SSH",
}
# parliament findings we accept, one reason each: (issue, "<resource>.<input>" pattern) -> reason.
ACCEPTED: dict[tuple[str, str], str] = {
    ("RESOURCE_STAR", "aws-key.policy"): (
        'a key policy\'s Resource is always "*": it means this key and nothing else (KMS key policies)'
    ),
    ("PERMISSIONS_MANAGEMENT_ACTIONS", "aws-key.policy"): (
        "the account administers its key (kms:* to the account root, AWS's default key policy statement); "
        "without it the key could become unmanageable"
    ),
    ("CREDENTIALS_EXPOSURE", "*.assumeRolePolicy"): (
        "sts:AssumeRole is what a trust policy grants; each names one service principal (and a source account "
        "where the service supports it)"
    ),
    ("MISMATCHED_TYPE_BUT_USABLE", "*-efs-policy.policy"): (
        "elasticfilesystem:AccessPointArn compared with StringEquals as in the EFS User Guide's examples; "
        "an exact string match of an ARN is what ArnEquals does too"
    ),
}
# Blueprints the shipped seeds test runs on AWS (tests/test_blueprints_seeds.py), plus the prod stack as shipped.
BLUEPRINTS = ("bem", "paissive-income", "monte-carlo", "brahminykite")

RUNNER = """
import json, sys
from parliament import analyze_policy_string
out = []
for item in json.load(sys.stdin):
    policy = analyze_policy_string(item["document"], include_community_auditors=True)
    for f in policy.findings:
        out.append({"name": item["name"], "issue": f.issue, "detail": str(f.detail), "severity": f.severity})
json.dump(out, sys.stdout)
"""


def aws_result(blueprint: str | None) -> PreviewResult:
    """The prod stack on AWS with ``blueprint`` (None: as shipped), run once per session for every test file."""
    return shipped("prod") if blueprint is None else AWS.preview(blueprint)


def documents(result: PreviewResult) -> Iterator[tuple[str, str]]:
    """(resource name, policy JSON) for every policy document the stack composes.

    A trust policy has no ``Resource``: its resource is the role it is attached to,
    which is added so parliament checks its actions and conditions like any other.
    """
    for resource in result.resources:
        for token, key in POLICY_INPUTS:
            if resource.type == token and resource.inputs.get(key):
                document = str(resource.inputs[key])
                if key == "assumeRolePolicy":
                    document = _as_role_resource(document, f"arn:aws:iam::{MOCK_ACCOUNT}:role/{resource.name}")
                yield f"{resource.name}.{key}", document


def _as_role_resource(document: str, role_arn: str) -> str:
    policy = json.loads(document)
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    for statement in statements:
        assert "Resource" not in statement, "a trust policy names no resource"
        statement["Resource"] = role_arn
    return json.dumps(policy)


def parliament(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    """parliament's findings for each (name, document), from the scanners virtualenv."""
    payload = json.dumps([{"name": name, "document": document} for name, document in items])
    done = subprocess.run(
        [str(PARLIAMENT_PYTHON), "-c", RUNNER], input=payload, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def accepted(finding: dict[str, str]) -> bool:
    """Whether ``ACCEPTED`` justifies the finding (names may use ``*`` for a workload's name)."""
    return any(
        issue == finding["issue"] and fnmatch.fnmatchcase(finding["name"], pattern) for issue, pattern in ACCEPTED
    )


needs_parliament = pytest.mark.skipif(
    not PARLIAMENT_PYTHON.exists(), reason="run `make scanners` (parliament lives in .venv-scanners)"
)


@needs_parliament
def test_parliament_sees_a_bad_policy() -> None:
    """Negative control: a misspelt action, a resource of the wrong shape and a bad condition are found."""
    bad = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"},
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "arn:aws:s3:::bucket"},
            {
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": "x", "kms:NoSuchKey": "y"}},
            },
        ],
    }
    issues = {f["issue"] for f in parliament([("bad", json.dumps(bad))])}
    assert {"UNKNOWN_ACTION", "RESOURCE_MISMATCH", "UNKNOWN_CONDITION_FOR_ACTION"} <= issues, issues


@needs_parliament
@pytest.mark.parametrize("blueprint", [None, *BLUEPRINTS], ids=["prod-as-shipped", *BLUEPRINTS])
def test_every_policy_document_passes_parliament(blueprint: str | None) -> None:
    result = aws_result(blueprint)
    items = list(documents(result))
    kinds = {name.rsplit(".", 1)[1] for name, _ in items}
    assert {"assumeRolePolicy", "policy"} <= kinds, "no policy documents collected: the collector is broken"
    findings = [f for f in parliament(items) if not accepted(f)]
    assert findings == [], json.dumps(findings, indent=1)


@pytest.mark.parametrize("blueprint", [None, *BLUEPRINTS], ids=["prod-as-shipped", *BLUEPRINTS])
def test_only_known_managed_policies_are_attached(blueprint: str | None) -> None:
    """parliament cannot read a managed policy by ARN: each one attached must be on the reviewed list."""
    attached = {
        str(r.inputs.get("policyArn"))
        for r in aws_result(blueprint).resources
        if r.type == AWS_IAM_ROLE_POLICY_ATTACHMENT
    }
    assert attached <= set(MANAGED_POLICIES), attached - set(MANAGED_POLICIES)


def test_ecr_pulls_are_scoped_to_repositories() -> None:
    """Only ecr:GetAuthorizationToken may name every resource; layer and image reads name repositories."""
    for name, document in documents(aws_result(None)):
        for statement in json.loads(document)["Statement"]:
            actions = statement.get("Action")
            actions = [actions] if isinstance(actions, str) else actions or []
            wide = statement.get("Resource") in ("*", ["*"])
            pulls = [a for a in actions if a.startswith("ecr:") and a != "ecr:GetAuthorizationToken"]
            assert not (wide and pulls), f"{name}: {pulls} on every resource"
