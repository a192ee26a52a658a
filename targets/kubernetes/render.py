"""What the Kubernetes target hands to kubectl and scanners: one YAML manifest per object.

Works on the offline preview's recorded resources (no SDK import): the inputs
of a pulumi-kubernetes resource are the object itself (apiVersion, kind,
metadata, spec, ...), so each is written as a manifest. Secret values appear as
``[secret]``: their real values never leave the Pulumi state.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml

CORE_GROUPS = ("", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io")


class RecordedLike(Protocol):
    type: str
    name: str
    inputs: dict[str, Any]


def manifests(resources: Sequence[RecordedLike]) -> list[dict[str, Any]]:
    """Kubernetes objects in registration order (the namespace comes first)."""
    found = []
    for resource in resources:
        if not resource.type.startswith("kubernetes:") or "kind" not in resource.inputs:
            continue
        inputs = dict(resource.inputs)
        head = {"apiVersion": inputs.pop("apiVersion"), "kind": inputs.pop("kind"), "metadata": inputs.pop("metadata")}
        found.append({**head, **dict(sorted(inputs.items()))})
    return found


def is_built_in(manifest: dict[str, Any]) -> bool:
    """True for kinds the Kubernetes API itself defines (CRDs such as Gateway API are not)."""
    group = str(manifest["apiVersion"]).rpartition("/")[0]
    return group in CORE_GROUPS


def render(resources: Sequence[RecordedLike], directory: Path) -> list[Path]:
    """Write ``NNN-<kind>-<name>.yaml`` per object under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for index, manifest in enumerate(manifests(resources), start=1):
        kind = str(manifest["kind"]).lower()
        name = str(manifest["metadata"].get("name", "unnamed"))
        path = directory / f"{index:03d}-{kind}-{name}.yaml"
        path.write_text(yaml.safe_dump(manifest, sort_keys=False))
        written.append(path)
    return written
