"""Database credentials on AWS: one scheme for the primary, its read replicas and every consumer.

RDS cannot create a read replica of a source whose master password it manages
(RDS User Guide, "Limitations for Secrets Manager integration"), so the program
generates the password, gives it to the primary (replicas inherit it), stores
it in a Secrets Manager secret, and hands consumers a reference pinned to the
secret's version: rotating (``gpu-platform:aws.db_password_version``) changes
the version, hence every consumer's task definition, hence a rolling deployment.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pulumi.runtime.mocks import MockResourceArgs

from preview.mocks import PlatformMocks, Recorded
from preview.runner import PreviewResult
from tests.conftest import Runner, shipped
from tests.policy_harness import Res, stack_violations
from tests.test_aws_components import PROD_AWS
from tests.tokens import (
    AWS_ECS_TASK_DEFINITION,
    AWS_RDS_INSTANCE,
    AWS_SECRETSMANAGER_SECRET,
    AWS_SECRETSMANAGER_SECRET_VERSION,
)

RDS = AWS_RDS_INSTANCE
PASSWORD = "random:index/randomPassword:RandomPassword"
SECRET = AWS_SECRETSMANAGER_SECRET
SECRET_VERSION = AWS_SECRETSMANAGER_SECRET_VERSION
TASK_DEFINITION = AWS_ECS_TASK_DEFINITION
RULE = "gpu-platform-aws-rds-master-password"
_MOCKS = PlatformMocks()


def outputs(resource: Recorded) -> dict[str, Any]:
    """What the mocks computed for ``resource`` during the run (from its unmasked inputs)."""
    inputs = resource.unmasked_inputs or resource.inputs  # the mocks saw the values, not "[secret]"
    _, computed = _MOCKS.new_resource(MockResourceArgs(resource.type, resource.name, inputs))
    return computed


def only(result: PreviewResult, token: str, name: str) -> Recorded:
    (found,) = [r for r in result.of_type(token) if r.name == name]
    return found


def db_secret_refs(result: PreviewResult) -> dict[str, str]:
    """``<task>/<env name>`` -> valueFrom for every DB password a task definition receives."""
    refs = {}
    for definition in result.of_type(TASK_DEFINITION):
        for box in json.loads(definition.inputs["containerDefinitions"]):
            for secret in box.get("secrets", []):
                if secret["name"].startswith("DB_") and secret["name"].endswith("_PASSWORD"):
                    refs[f"{definition.name}/{secret['name']}"] = secret["valueFrom"]
    return refs


@pytest.fixture(scope="module")
def prod() -> PreviewResult:
    return shipped("prod")


def test_no_instance_asks_rds_to_manage_its_password(prod: PreviewResult) -> None:
    """The blocker: a replica of an RDS-managed-password source cannot be created."""
    instances = prod.of_type(RDS)
    replicas = [r for r in instances if r.inputs.get("replicateSourceDb")]
    assert replicas, "prod has a read replica (the case that failed)"
    for instance in instances:
        assert not instance.inputs.get("manageMasterUserPassword"), instance.name
    for replica in replicas:  # the password comes with the replicated data
        assert "password" not in replica.inputs
        assert "username" not in replica.inputs


def test_the_primary_password_is_generated_and_secret(prod: PreviewResult) -> None:
    primary = only(prod, RDS, "bem-db-primary")
    generator = only(prod, PASSWORD, "bem-db-master-password")
    assert "password" in primary.secret_paths
    assert generator.urn in primary.dependencies
    assert primary.unmasked_inputs["password"] == outputs(generator)["result"]
    assert generator.inputs["special"] is False  # no / " @ (RDS) and nothing to escape in URLs
    assert 8 <= generator.inputs["length"] <= 128


def test_the_secret_holds_what_the_primary_was_given(prod: PreviewResult) -> None:
    primary = only(prod, RDS, "bem-db-primary")
    secret = only(prod, SECRET, "bem-db-credentials")
    version = only(prod, SECRET_VERSION, "bem-db-credentials-value")
    value = json.loads(version.unmasked_inputs["secretString"])
    assert "secretString" in version.secret_paths
    assert value["password"] == primary.unmasked_inputs["password"]
    assert value["username"] == primary.inputs["username"]
    assert value["host"] == outputs(primary)["address"]
    assert secret.inputs["kmsKeyId"] == primary.inputs["kmsKeyId"]  # the stack key
    assert secret.protect
    assert secret.retain_on_delete


def test_the_secret_version_is_unprotected_so_rotation_can_replace_it(prod: PreviewResult) -> None:
    """A child copies protect from its parent (the secret, protected in prod), but a new password replaces the
    version (secretString forces replacement): a protected version would make rotation fail."""
    secret = only(prod, SECRET, "bem-db-credentials")
    version = only(prod, SECRET_VERSION, "bem-db-credentials-value")
    assert version.parent == secret.urn
    assert secret.protect is True
    assert version.protect is False


def test_consumers_read_the_password_pinned_to_the_secret_version(prod: PreviewResult) -> None:
    secret_arn = outputs(only(prod, SECRET, "bem-db-credentials"))["arn"]
    version_id = outputs(only(prod, SECRET_VERSION, "bem-db-credentials-value"))["versionId"]
    refs = db_secret_refs(prod)
    assert refs, "the reference blueprint's services use bem-db"
    # ECS: arn:...:secret:<name>:<json-key>:<version-stage>:<version-id>
    assert set(refs.values()) == {f"{secret_arn}:password::{version_id}"}
    assert re.fullmatch(r"arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+", secret_arn)


def test_rotation_renews_the_password_and_rolls_every_consumer(run: Runner) -> None:
    """Raising db_password_version: new password for the primary, a new secret version, new task definitions."""
    before = shipped("prod")
    after = run("prod", aws={**PROD_AWS, "db_password_version": 2})
    assert only(after, PASSWORD, "bem-db-master-password").inputs["keepers"] == {"version": "2"}
    old, new = (only(r, RDS, "bem-db-primary").unmasked_inputs["password"] for r in (before, after))
    assert old != new
    old_refs, new_refs = db_secret_refs(before), db_secret_refs(after)
    assert old_refs.keys() == new_refs.keys()
    assert all(old_refs[k] != new_refs[k] for k in old_refs), "every consumer's task definition changes"


def test_the_pack_accepts_a_generated_password_and_rejects_a_literal() -> None:
    generated = [
        Res(PASSWORD, "db-master-password", {"length": 40}),
        Res(RDS, "db-primary", {"password": "x" * 40}, depends_on=("db-master-password",)),
    ]
    assert stack_violations(RULE, generated) == []
    literal = [Res(RDS, "db-primary", {"password": "hunter2hunter2"})]
    ((urn, message),) = stack_violations(RULE, literal)
    assert urn is not None
    assert urn.endswith("::db-primary")
    assert "generate it" in message
    managed = [Res(RDS, "db-primary", {"manageMasterUserPassword": True})]
    assert stack_violations(RULE, managed) == []
