"""The Kubernetes target's manifests, rendered and checked by the tools cluster operators use.

``kubernetes-validate --strict`` checks every built-in object against the
Kubernetes OpenAPI schema (unknown fields are errors); ``checkov`` runs its
Kubernetes checks with only the skips in ``.checkov.yaml``. Both run from their
own virtualenv (``make scanners``): checkov's pins break pulumi's.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from preview.runner import PreviewResult
from targets.kubernetes.render import is_built_in, manifests, render
from tests.conftest import ROOT, Runner

SCANNERS = ROOT / ".venv-scanners" / "bin"


def scanner(name: str) -> Path:
    """A scanner from .venv-scanners: skipped on a developer machine without it, required in CI."""
    path = SCANNERS / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing (make scanners); CI must run it")
        pytest.skip(f"{path} is missing: run `make scanners`")
    return path


def kubernetes_validate(files: list[Path]) -> subprocess.CompletedProcess[str]:
    command = [str(scanner("kubernetes-validate")), "--strict", "--quiet", *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def checkov(directory: Path) -> dict[str, Any]:
    command = [
        str(scanner("checkov")), "-d", str(directory), "--config-file", str(ROOT / ".checkov.yaml"),
        "--framework", "kubernetes", "-o", "json", "--quiet", "--compact", "--skip-download",
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    report = json.loads(completed.stdout)
    return report[0] if isinstance(report, list) else report


def rendered(result: PreviewResult, directory: Path) -> tuple[list[Path], list[Path]]:
    """(built-in kinds, custom resources) written under ``directory``."""
    built_in, custom = [], []
    for path in render(result.resources, directory):
        (built_in if is_built_in(yaml.safe_load(path.read_text())) else custom).append(path)
    return built_in, custom


VARIANTS: dict[str, dict[str, Any]] = {
    "staging": {},
    # Pixel Streaming's TURN needs the pod CIDRs (Pulumi.staging.yaml sets them; these replace its settings).
    "staging-cnpg": {"kubernetes": {"cnpg": True, "pod_cidrs": ["10.244.0.0/16"]}},
    "prod": {
        "environment": "prod",
        "kubernetes": {"cluster_issuer": "letsencrypt-prod", "pod_cidrs": ["10.244.0.0/16"]},
    },
    "dev": {"environment": "dev"},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_manifests_pass_kubernetes_validate_strict(run: Runner, tmp_path: Path, variant: str) -> None:
    built_in, custom = rendered(run("staging", **VARIANTS[variant]), tmp_path)
    assert len(built_in) > 40
    assert custom, "Gateway API routes (custom resources) are rendered too"
    checked = kubernetes_validate(built_in)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_manifests_pass_checkov(run: Runner, tmp_path: Path, variant: str) -> None:
    rendered(run("staging", **VARIANTS[variant]), tmp_path)
    report = checkov(tmp_path)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert summary["failed"] == 0, failed
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 500


def test_prod_variant_renders_the_solver_policy_and_the_sharing_config(run: Runner, tmp_path: Path) -> None:
    """The objects issue 10 added are in a scanned variant (prod), and pass the strict schema on their own."""
    built_in, _ = rendered(run("staging", **VARIANTS["prod"]), tmp_path)
    kinds = {(m["kind"], m["metadata"]["name"]): path for path in built_in for m in [yaml.safe_load(path.read_text())]}
    solver = kinds[("NetworkPolicy", "acme-http01-solver")]
    sharing = kinds[("ConfigMap", "staging-time-slicing")]
    assert [m for m in kinds if m[0] == "ConfigMap"] == [("ConfigMap", "staging-time-slicing")]
    checked = kubernetes_validate([solver, sharing])
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_rendered_object_is_namespaced_or_cluster_scoped_on_purpose(run: Runner) -> None:
    objects = manifests(run("staging").resources)
    unnamespaced = {(o["kind"], o["metadata"]["name"]) for o in objects if "namespace" not in o["metadata"]}
    assert unnamespaced == {("Namespace", "gpu-platform-staging")}


def test_scanners_can_fail(tmp_path: Path) -> None:
    """Negative controls: an unknown field fails the strict schema check; a privileged pod fails checkov."""
    bad = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "bad", "namespace": "x"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "securityContext": {"privileged": True}}],
                 "notAField": True},
    }  # fmt: skip
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    assert kubernetes_validate([path]).returncode != 0
    report = checkov(tmp_path)
    assert "CKV_K8S_16" in {c["check_id"] for c in report["results"]["failed_checks"]}
