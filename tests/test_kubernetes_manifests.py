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
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from preview.runner import PreviewResult
from targets.kubernetes.render import is_built_in, manifests, render
from tests.conftest import ROOT, Runner, cached_run

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
    """checkov's report on every manifest under ``directory`` (passed checks included: no ``--quiet``)."""
    command = [
        str(scanner("checkov")), "-d", str(directory), "--config-file", str(ROOT / ".checkov.yaml"),
        "--framework", "kubernetes", "-o", "json", "--compact", "--skip-download",
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


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_manifests_pass_kubernetes_validate_strict(run: Runner, tmp_path: Path, variant: str) -> None:
    built_in, custom = rendered(run("staging", **VARIANTS[variant]), tmp_path)
    assert len(built_in) > 40
    assert custom, "Gateway API routes (custom resources) are rendered too"
    checked = kubernetes_validate(built_in)
    assert checked.returncode == 0, checked.stdout + checked.stderr


NEGATIVE = "negative-control"

# A privileged pod with a field the Pod schema does not have: both scanners must fail it.
BAD_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "bad", "namespace": "x"},
    "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "securityContext": {"privileged": True}}],
             "notAField": True},
}  # fmt: skip


@dataclass(frozen=True)
class Scan:
    """One checkov run over every variant (a directory each) and the negative control.

    checkov spends ~4 s starting up and little per manifest, so the variants share one run; each
    check is attributed to its variant by the directory in its file path.
    """

    failed: dict[str, list[tuple[str, str]]]  # variant -> (check id, resource)
    passed: Counter[str]  # variant -> passed checks
    parsing_errors: int


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    root = tmp_path_factory.mktemp("checkov")
    for variant, overrides in VARIANTS.items():
        rendered(cached_run("staging", **overrides), root / variant)
    (root / NEGATIVE).mkdir()
    (root / NEGATIVE / "bad.yaml").write_text(yaml.safe_dump(BAD_POD))
    report = checkov(root)
    known = {*VARIANTS, NEGATIVE}

    def variant_of(check: dict[str, Any]) -> str:
        return next(part for part in Path(check["file_path"]).parts if part in known)

    failed: dict[str, list[tuple[str, str]]] = {}
    for check in report["results"]["failed_checks"]:
        failed.setdefault(variant_of(check), []).append((check["check_id"], check["resource"]))
    passed = Counter(variant_of(check) for check in report["results"]["passed_checks"])
    return Scan(failed, passed, report["summary"]["parsing_errors"])


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_manifests_pass_checkov(scan: Scan, variant: str) -> None:
    assert scan.failed.get(variant, []) == []
    assert scan.parsing_errors == 0
    assert scan.passed[variant] > 500


@pytest.mark.slow
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


@pytest.mark.slow
def test_scanners_can_fail(scan: Scan, tmp_path: Path) -> None:
    """Negative controls: an unknown field fails the strict schema check; a privileged pod fails checkov."""
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(BAD_POD))
    assert kubernetes_validate([path]).returncode != 0
    assert "CKV_K8S_16" in {check for check, _ in scan.failed[NEGATIVE]}
