"""Every ECS task definition the AWS target renders is a request the real ECS API accepts.

The mock runtime accepts any input, so the rendered registration JSON (``targets/aws/render.py``, what
``--render`` writes) is checked against botocore's model of ``ecs`` ``RegisterTaskDefinition`` — the
shape the AWS API validates — for the prod stack and for every shipped blueprint on AWS. botocore
checks types, required members and ranges; the cross-references inside one request that the API also
rejects (a mount point naming an undeclared volume, ``dependsOn`` naming an unknown container) are checked
here too, and so is what pulumi-aws can carry: every GPU requirement is a whole-number ``value`` with no
``sharingStrategy`` (an ECS union terraform-provider-aws cannot decode; see targets/aws/gpu_sharing.py).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from preview.runner import PreviewResult
from targets.aws.render import TASK_DEFINITION, registration
from tests.conftest import shipped
from tests.views.aws import VIEW as AWS

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = sorted(p.stem for p in (ROOT / "blueprints").glob("*.yaml"))


@cache
def _input_shape() -> Any:
    model = botocore.session.get_session().get_service_model("ecs")
    return model.operation_model("RegisterTaskDefinition").input_shape


def _on_aws(name: str) -> PreviewResult:
    """``name`` on the prod stack on AWS, run once per session (shared with the seed and component tests)."""
    return AWS.preview(name)


def problems_of(document: dict[str, Any]) -> list[str]:
    """What ECS would reject in one RegisterTaskDefinition request (empty when it accepts it)."""
    report = ParamValidator().validate(document, _input_shape())
    found = [report.generate_report()] if report.has_errors() else []
    volumes = {v["name"] for v in document.get("volumes", [])}
    names = {c["name"] for c in document["containerDefinitions"]}
    for box in document["containerDefinitions"]:
        for mount in box.get("mountPoints", []):
            if mount["sourceVolume"] not in volumes:
                found.append(f"{box['name']}: mount point names undeclared volume {mount['sourceVolume']!r}")
        for dependency in box.get("dependsOn", []):
            if dependency["containerName"] not in names:
                found.append(f"{box['name']}: dependsOn names unknown container {dependency['containerName']!r}")
        for requirement in box.get("resourceRequirements", []):
            if requirement["type"] != "GPU":
                continue
            if "sharingStrategy" in requirement:
                found.append(f"{box['name']}: sharingStrategy cannot pass through pulumi-aws's container definitions")
            if not str(requirement.get("value", "")).isdigit() or int(requirement["value"]) < 1:
                found.append(f"{box['name']}: a GPU requirement needs a whole-number value")
    return found


def registrations(result: PreviewResult) -> dict[str, dict[str, Any]]:
    documents = {r.name: registration(r.inputs) for r in result.of_type(TASK_DEFINITION)}
    assert documents, "no task definition rendered"
    return documents


def test_prod_task_definitions_validate_against_the_ecs_api_model() -> None:
    for name, document in registrations(shipped("prod")).items():
        assert problems_of(document) == [], name


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_every_blueprint_on_aws_renders_valid_task_definitions(blueprint: str) -> None:
    for name, document in registrations(_on_aws(blueprint)).items():
        assert problems_of(document) == [], f"{blueprint}: {name}"


def test_an_absent_field_is_omitted_not_null() -> None:
    """EC2 tasks have no task-level cpu/memory: the API rejects ``null`` for a string member."""
    document = registration(
        {
            "family": "f",
            "cpu": None,
            "memory": None,
            "networkMode": "awsvpc",
            "containerDefinitions": '[{"name": "a", "image": "i", "memory": 64}]',
        }
    )
    assert "cpu" not in document
    assert "memory" not in document
    assert problems_of(document) == []


def test_the_validator_rejects_what_ecs_rejects() -> None:
    """Negative controls: the checks above would catch a broken request."""
    good = {"family": "f", "containerDefinitions": [{"name": "a", "image": "i", "memory": 64}]}
    assert problems_of(good) == []
    assert problems_of({**good, "cpu": None})
    assert problems_of({**good, "containerDefinitions": [{"name": "a", "resourceRequirements": [{"type": "GPU"}]}]})
    for gpu in (
        {"type": "GPU", "value": "1", "sharingStrategy": {"nvidiaMps": {"memory": 1}}},
        {"type": "GPU", "sharingStrategy": {"nvidiaMps": {"memory": 1}}},
        {"type": "GPU", "value": "0.5"},
    ):
        box = {"name": "a", "image": "i", "resourceRequirements": [gpu]}
        assert problems_of({**good, "containerDefinitions": [box]}), gpu
    whole = {"name": "a", "image": "i", "memory": 64, "resourceRequirements": [{"type": "GPU", "value": "2"}]}
    assert problems_of({**good, "containerDefinitions": [whole]}) == []
    mount = {"sourceVolume": "nowhere", "containerPath": "/x"}
    assert problems_of({**good, "containerDefinitions": [{"name": "a", "image": "i", "mountPoints": [mount]}]})
