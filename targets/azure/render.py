"""What the Azure target hands to Azure's own tools: each Container App as the YAML ``az containerapp create
--yaml`` (and ``update --yaml``) takes.

From the offline preview's recorded resources (no SDK import): each ``azure-native:app:ContainerApp`` becomes
``containerapps/<name>.yaml`` with ``properties`` (environment, workload profile, configuration, template),
``identity``, ``location`` and ``tags``. Values the preview cannot know (the environment and identity ids,
Key Vault URLs) appear as the mocks computed them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml

CONTAINER_APP = "azure-native:app:ContainerApp"


class RecordedLike(Protocol):
    type: str
    name: str
    inputs: dict[str, Any]


def _pruned(value: Any) -> Any:
    """``value`` without null members: the CLI sends what the file says, and ``null`` clears a property."""
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_pruned(v) for v in value if v is not None]
    return value


def document(inputs: dict[str, Any]) -> dict[str, Any]:
    """The ``--yaml`` document for one recorded Container App."""
    identity = inputs.get("identity") or {}
    assigned = identity.get("userAssignedIdentities") or []
    found: dict[str, Any] = {
        "name": inputs.get("containerAppName"),
        "type": "Microsoft.App/containerApps",
        "location": inputs.get("location"),
        "identity": {"type": identity.get("type"), "userAssignedIdentities": {i: {} for i in assigned}},
        "properties": {
            "managedEnvironmentId": inputs.get("managedEnvironmentId"),
            "workloadProfileName": inputs.get("workloadProfileName"),
            "configuration": inputs.get("configuration"),
            "template": inputs.get("template"),
        },
        "tags": inputs.get("tags"),
    }
    return _pruned(found)


def render(resources: Sequence[RecordedLike], directory: Path) -> list[Path]:
    """Write one YAML per Container App under ``directory/containerapps``."""
    folder = directory / "containerapps"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for resource in resources:
        if resource.type != CONTAINER_APP:
            continue
        found = document(resource.inputs)
        path = folder / f"{found.get('name') or resource.name}.yaml"
        path.write_text(yaml.safe_dump(found, sort_keys=False))
        written.append(path)
    return written
