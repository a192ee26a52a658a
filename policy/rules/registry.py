"""The pack's own target registry: one rule module per target, ``policy/rules/<target>.py``.

The pack runs in its own virtualenv (``policy/requirements.txt``) and cannot import the program,
so the target names, their providers and stateful types come from ``policy/rules/targets.py``,
generated from the target plugins by ``python -m policy.pack_config`` (a test fails when it drifts).
Each module exposes ``RULES``, ``env_pairs(subject)`` (the literal environment values a resource of
its provider sets, for the no-plaintext-secrets rule) and ``regenerated(subjects)`` (URNs of
stateful-typed resources that are not state, for the protect-stateful rule).

A module's rules and hooks look only at resources of its target's providers, so a stack with none
of them needs none of its code: :func:`modules_for` imports just the modules whose providers own one
of the given types (a Docker preview never imports ``policy/rules/aws.py``). ``TARGET_MODULES``,
every module, is imported on first use (the pack and its tests).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, cast

from policy.rules.base import Rule, Subject
from policy.rules.targets import PROVIDERS, TARGETS


class TargetRules(Protocol):
    RULES: list[Rule]

    def env_pairs(self, subject: Subject) -> Iterator[tuple[str, object]]: ...

    def regenerated(self, subjects: Sequence[Subject]) -> set[str]: ...


HOOKS = ("RULES", "env_pairs", "regenerated")


@cache
def _load(name: str) -> TargetRules:
    module: ModuleType = importlib.import_module(f"policy.rules.{name}")
    missing = [hook for hook in HOOKS if not hasattr(module, hook)]
    if missing:
        raise ImportError(f"policy/rules/{name}.py lacks {', '.join(missing)}")
    return cast(TargetRules, module)


def targets_for(types: Iterable[str]) -> list[str]:
    """The targets (registry order) one of whose providers owns one of ``types`` (``"aws:rds/..."`` -> aws)."""
    packages = {token.split(":", 1)[0] for token in types}
    return [name for name in TARGETS if packages.intersection(PROVIDERS[name])]


def modules_for(types: Iterable[str]) -> list[TargetRules]:
    """The rule modules (registry order) of the targets owning ``types``, imported on first use."""
    return [_load(name) for name in targets_for(types)]


if TYPE_CHECKING:
    TARGET_MODULES: list[TargetRules]


def __getattr__(name: str) -> object:
    """``TARGET_MODULES``: every target's rule module, imported when first asked for."""
    if name == "TARGET_MODULES":
        return [_load(target) for target in TARGETS]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
