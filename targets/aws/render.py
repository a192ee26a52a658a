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


# Task-definition inputs whose camelCase names (as the engine sends them) are the API's own parameter names.
PASSED_THROUGH = (
    "family",
    "networkMode",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "executionRoleArn",
    "taskRoleArn",
    "pidMode",
    "ipcMode",
    "placementConstraints",
    "ephemeralStorage",
    "proxyConfiguration",
)


def _pruned(value: Any) -> Any:
    """``value`` without null or empty-object members: the API takes an absent field, never ``null``."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in kept.items() if v != {}}
    if isinstance(value, list):
        return [_pruned(v) for v in value if v is not None]
    return value


def registration(inputs: dict[str, Any]) -> dict[str, Any]:
    """The RegisterTaskDefinition request for one recorded task definition (volumes included: a mount
    point must name a volume of the same request)."""
    containers = inputs.get("containerDefinitions")
    document: dict[str, Any] = {key: inputs[key] for key in PASSED_THROUGH if inputs.get(key) is not None}
    document["containerDefinitions"] = json.loads(containers) if isinstance(containers, str) else containers
    if inputs.get("volumes"):
        document["volumes"] = inputs["volumes"]
    if inputs.get("runtimePlatform"):
        platform = inputs["runtimePlatform"]
        document["runtimePlatform"] = {
            "operatingSystemFamily": platform.get("operatingSystemFamily"),
            "cpuArchitecture": platform.get("cpuArchitecture"),
        }
    return _pruned(document)


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
