"""The target contract: every built target is one package whose ``PLUGIN`` fills every hook.

Adding a target is its package plus its tests (docs/adding-a-target.md); this test fails when
a built plugin leaves a hook empty, so the checklist does not have to be remembered.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from pydantic import BaseModel

import targets
from targets import TARGETS, plugin, plugins
from targets.contract import StatefulType, TargetPlugin

BUILT = [name for name, info in TARGETS.items() if info.built]
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", BUILT)
def test_every_hook_is_set(name: str) -> None:
    found = plugin(name)
    assert isinstance(found, TargetPlugin)
    assert found.name == name
    for hook in dataclasses.fields(TargetPlugin):
        value = getattr(found, hook.name)
        assert value not in (None, "", (), {}), f"targets/{name}: the {hook.name} hook is empty"
    assert issubclass(found.target_settings, BaseModel)
    assert issubclass(found.pool_settings, BaseModel)
    hooks = ("requirements", "check", "caveats", "load", "render", "gpu_devices", "mock_outputs", "mock_call", "cost")
    for hook in hooks:
        assert callable(getattr(found, hook)), hook
    assert len(inspect.signature(found.check).parameters) == 6
    assert len(inspect.signature(found.caveats).parameters) == 6
    assert len(inspect.signature(found.cost).parameters) == 2


@pytest.mark.parametrize("name", BUILT)
def test_types_belong_to_the_plugins_providers(name: str) -> None:
    """Stateful types and entry hints are the target's own: the preview dispatches on the provider."""
    found = plugin(name)
    for token, stateful in found.stateful_types.items():
        assert found.owns(token), token
        assert isinstance(stateful, StatefulType), token
        assert stateful.replace_on, token
    assert any(s.protect for s in found.stateful_types.values())
    for token in found.entry_hints:
        assert found.owns(token), token


@pytest.mark.parametrize("name", BUILT)
def test_the_cost_hook_is_the_targets_own_and_sdk_free(name: str) -> None:
    """``targets/<t>/cost.py`` exists, imports no provider SDK, and answers no resources with no lines."""
    path = ROOT / "targets" / name / "cost.py"
    assert path.is_file(), f"targets/{name}/cost.py: the cost hook (docs/adding-a-target.md)"
    assert "import pulumi_" not in path.read_text(), f"targets/{name}/cost.py must not import a provider SDK"
    importlib.import_module(f"targets.{name}.cost")
    assert plugin(name).cost([], None) == []


def test_providers_are_not_shared() -> None:
    owners: dict[str, str] = {}
    for found in plugins():
        for provider in found.providers:
            assert provider not in owners, f"{provider} is claimed by {owners.get(provider)} and {found.name}"
            owners[provider] = found.name


def test_every_target_package_is_registered() -> None:
    """A package under targets/ with a PLUGIN is in the registry (and built), and vice versa."""
    packages = {m.name for m in pkgutil.iter_modules(targets.__path__) if m.ispkg}
    assert packages == set(BUILT)
    for name in packages:
        assert hasattr(importlib.import_module(f"targets.{name}"), "PLUGIN")


def test_nothing_outside_targets_names_a_target() -> None:
    """The program iterates the registry; only targets/ (and the self-contained policy pack) know the names."""
    offenders = []
    for folder in ("stacks", "preview", "components"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in BUILT if f'"{n}"' in text or f"targets.{n}" in text]
    assert offenders == []


def test_test_tokens_belong_to_built_targets() -> None:
    """tests/tokens.py is where the tests spell provider type tokens: each belongs to a built plugin."""
    from tests import tokens

    spelled = [v for k, v in vars(tokens).items() if k.isupper()]
    assert spelled
    assert [t for t in spelled if not any(p.owns(t) for p in plugins())] == []


@pytest.mark.parametrize("name", BUILT)
def test_every_built_target_has_a_test_view(name: str) -> None:
    """The shared tests ask ``tests/views/<target>.py`` what a target made: a built target must answer."""
    from tests.views import TargetView, view

    found = view(name)
    assert isinstance(found, TargetView)
    assert found.stack in {p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml")}, name


def test_a_built_target_without_a_view_fails_by_name() -> None:
    from tests.views import view

    with pytest.raises(AssertionError, match=r"'no-such-target' is built but has no tests/views/no-such-target\.py"):
        view("no-such-target")
