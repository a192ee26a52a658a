"""What the AWS target hands to AWS's own tools: ECS task definitions as registration JSON.

From the offline preview's recorded resources (no SDK import): each
``aws:ecs/taskDefinition`` becomes ``task-definitions/<family>.json`` in the
shape ``aws ecs register-task-definition --cli-input-json`` takes. Values the
preview cannot know (role ARNs, secret ARNs) appear as the mocks computed them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"


class RecordedLike(Protocol):
    type: str
    name: str
    inputs: dict[str, Any]


def registration(inputs: dict[str, Any]) -> dict[str, Any]:
    """The RegisterTaskDefinition request for one recorded task definition."""
    containers = inputs.get("containerDefinitions")
    document: dict[str, Any] = {
        "family": inputs.get("family"),
        "networkMode": inputs.get("networkMode"),
        "requiresCompatibilities": inputs.get("requiresCompatibilities", []),
        "cpu": inputs.get("cpu"),
        "memory": inputs.get("memory"),
        "executionRoleArn": inputs.get("executionRoleArn"),
        "taskRoleArn": inputs.get("taskRoleArn"),
        "containerDefinitions": json.loads(containers) if isinstance(containers, str) else containers,
    }
    if inputs.get("runtimePlatform"):
        platform = inputs["runtimePlatform"]
        document["runtimePlatform"] = {
            "operatingSystemFamily": platform.get("operatingSystemFamily"),
            "cpuArchitecture": platform.get("cpuArchitecture"),
        }
    return document


def render(resources: Sequence[RecordedLike], directory: Path) -> list[Path]:
    """Write one registration JSON per task definition under ``directory/task-definitions``."""
    folder = directory / "task-definitions"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for resource in resources:
        if resource.type != TASK_DEFINITION:
            continue
        document = registration(resource.inputs)
        path = folder / f"{document['family'] or resource.name}.json"
        path.write_text(json.dumps(document, indent=2) + "\n")
        written.append(path)
    return written
