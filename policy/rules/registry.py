"""The pack's own target registry: one rule module per target, ``policy/rules/<target>.py``.

The pack runs in its own virtualenv (``policy/requirements.txt``) and cannot import the program,
so the target names and stateful types come from ``policy/rules/targets.py``, generated from the
target plugins by ``python -m policy.pack_config`` (a test fails when it drifts). Each module
exposes ``RULES``, ``env_pairs(subject)`` (the literal environment values a resource of its
provider sets, for the no-plaintext-secrets rule) and ``regenerated(subjects)`` (URNs of
stateful-typed resources that are not state, for the protect-stateful rule).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Protocol, cast

from policy.rules.base import Rule, Subject
from policy.rules.targets import TARGETS


class TargetRules(Protocol):
    RULES: list[Rule]

    def env_pairs(self, subject: Subject) -> Iterator[tuple[str, object]]: ...

    def regenerated(self, subjects: Sequence[Subject]) -> set[str]: ...


HOOKS = ("RULES", "env_pairs", "regenerated")


def _load(name: str) -> TargetRules:
    module: ModuleType = importlib.import_module(f"policy.rules.{name}")
    missing = [hook for hook in HOOKS if not hasattr(module, hook)]
    if missing:
        raise ImportError(f"policy/rules/{name}.py lacks {', '.join(missing)}")
    return cast(TargetRules, module)


TARGET_MODULES: list[TargetRules] = [_load(name) for name in TARGETS]
