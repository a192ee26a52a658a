"""Shared fixtures: run the real program under the mock runtime with a given config.

Every run gets fresh mocks, a fresh event loop and a fresh root stack (see
``preview.runner.run_program``), so tests never leak resources into each other.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from preview import runner
from preview.mocks import RecordingMonitor
from preview.runner import PreviewResult, read_stack_config, run_program

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "blueprints" / "reference.yaml"

Runner = Callable[..., PreviewResult]


def stack_config(stack: str = "dev", **overrides: Any) -> dict[str, Any]:
    """``Pulumi.<stack>.yaml`` as the engine hands it over, with ``gpu-platform:`` keys overridden."""
    config, _ = read_stack_config(stack)
    for key, value in overrides.items():
        config[f"gpu-platform:{key}"] = json.dumps(value) if isinstance(value, (dict, list)) else value
    return config


def reference_blueprint() -> dict[str, Any]:
    """The reference blueprint as a mutable dict (tests derive variants from it)."""
    return yaml.safe_load(REFERENCE.read_text())


def write_blueprint(tmp_path: Path, blueprint: dict[str, Any], name: str = "variant.yaml") -> str:
    """Write a blueprint variant and return its absolute path (a valid ``blueprint`` config value)."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(blueprint, sort_keys=False))
    return str(path)


@pytest.fixture
def run(request: pytest.FixtureRequest) -> Runner:
    """``run(stack="dev", **overrides)``: the real program under mocks, with config overrides.

    Many tests run the same small blueprint with the same config (written to their own
    ``tmp_path``): the program runs once per session for each blueprint *content* and config, and
    each test gets its own deep copy of the result, free to change it. A test that patches anything
    (``monkeypatch``, ``monitors``) runs the program itself, so its patches see a real run.
    """
    patched = "monkeypatch" in request.fixturenames

    def _run(stack: str = "dev", **overrides: Any) -> PreviewResult:
        if patched:
            return run_program(stack, stack_config(stack, **overrides))
        return copy.deepcopy(cached_run(stack, **overrides))

    return _run


_RUNS: dict[str, PreviewResult] = {}


def cached_run(stack: str, **overrides: Any) -> PreviewResult:
    """``run(stack, **overrides)`` once per session: tests asking for the same stack and config share it.

    A blueprint file counts by its name and content, so the same small blueprint written to two
    tests' ``tmp_path`` runs once. The result is read-only for tests (like :func:`shipped`); the
    ``run`` fixture hands each test its own copy.
    """
    key = json.dumps([stack, _by_content(overrides)], sort_keys=True)
    if key not in _RUNS:
        _RUNS[key] = run_program(stack, stack_config(stack, **overrides))
    return _RUNS[key]


def _by_content(overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides with a blueprint file named by its name and content (tmp paths differ per test)."""
    found = dict(overrides)
    blueprint = Path(str(found.get("blueprint", "")))
    if blueprint.is_absolute() and blueprint.is_file():
        digest = hashlib.sha256(blueprint.read_bytes()).hexdigest()
        found["blueprint"] = f"{blueprint.name}#{digest}"
    return found


_SHIPPED: dict[str, PreviewResult] = {}


def shipped(stack: str) -> PreviewResult:
    """``Pulumi.<stack>.yaml`` as shipped, run once per session (read-only for tests)."""
    if stack not in _SHIPPED:
        config, secret_keys = read_stack_config(stack)
        _SHIPPED[stack] = run_program(stack, config, secret_keys)
    return _SHIPPED[stack]


@pytest.fixture(scope="session")
def dev_result() -> PreviewResult:
    """The dev stack as shipped (Docker)."""
    return shipped("dev")


@pytest.fixture
def monitors(monkeypatch: pytest.MonkeyPatch) -> list[RecordingMonitor]:
    """Every monitor ``run_program`` creates, kept so a test can inspect it after the run raised.

    A config error must stop the program before the first registration: these are how
    the tests prove nothing was recorded.
    """
    created: list[RecordingMonitor] = []

    class KeptMonitor(RecordingMonitor):
        def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
            super().__init__(mocks)
            created.append(self)

    monkeypatch.setattr(runner, "RecordingMonitor", KeptMonitor)
    return created


def pytest_collection_finish(session: pytest.Session) -> None:
    """Collect garbage as the preview process does (``preview.__main__._collect_less``), for the same reason.

    Collection imported the test modules and the SDKs they use: objects that live until the process exits, which
    each full collection would scan again. Frozen, they are left alone; the program runs allocate many
    small objects that reference counting frees, so the young generation is allowed to grow first.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
