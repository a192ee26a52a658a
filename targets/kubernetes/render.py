"""What the Kubernetes target hands to kubectl and scanners: one YAML manifest per object.

Works on the offline preview's recorded resources (no SDK import): the inputs
of a pulumi-kubernetes resource are the object itself (apiVersion, kind,
metadata, spec, ...), so each is written as a manifest. Secret values appear as
``[secret]``: their real values never leave the Pulumi state.

Files are numbered in apply order (``kubectl apply -f DIR`` takes them by name): by kind as Helm
installs them, then by namespace and name. The order the program registered them in is not
used: under the mock runtime it changes from run to run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml

# Helm's install order (helm/helm pkg/releaseutil/kind_sorter.go, InstallOrder, less its *List kinds): what
# others need comes first. Kinds it does not list (Gateway API routes, CloudNativePG clusters, cert-manager
# objects) come after, by kind.
INSTALL_ORDER = (
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "Secret",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ServiceAccount",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
)
CORE_GROUPS = ("", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io")


class RecordedLike(Protocol):
    type: str
    name: str
    inputs: dict[str, Any]


def manifests(resources: Sequence[RecordedLike]) -> list[dict[str, Any]]:
    """Kubernetes objects in apply order (the namespace first; see the module docstring)."""
    found = []
    for resource in resources:
        if not resource.type.startswith("kubernetes:") or "kind" not in resource.inputs:
            continue
        inputs = dict(resource.inputs)
        head = {"apiVersion": inputs.pop("apiVersion"), "kind": inputs.pop("kind"), "metadata": inputs.pop("metadata")}
        found.append({**head, **dict(sorted(inputs.items()))})
    return sorted(found, key=_apply_order)


def _apply_order(manifest: dict[str, Any]) -> tuple[int, str, str, str]:
    kind = str(manifest["kind"])
    rank = INSTALL_ORDER.index(kind) if kind in INSTALL_ORDER else len(INSTALL_ORDER)
    metadata = manifest["metadata"]
    return rank, kind, str(metadata.get("namespace", "")), str(metadata.get("name", ""))


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
