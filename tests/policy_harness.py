"""Call the pack's real policy objects the way the engine does, with hand-written inputs.

Tests go through ``policy.rules.POLICIES`` (the CrossGuard objects), not the
plain rule functions, so the adapter is exercised too; props are handed over in
the engine's shape (numbers as floats, the policy SDK's proxies) as they would be
by ``pulumi preview --policy-pack``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import POLICIES
from preview.policies import engine_props


def _options(protect: bool, parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=parent,
    )


def policy(name: str) -> Any:
    return next(p for p in POLICIES if p.name == name)


def violations(
    name: str, resource_type: str, props: Mapping[str, Any], environment: str = "prod", protect: bool = False
) -> list[str]:
    """Messages the named resource policy reports for one resource."""
    found = policy(name)
    assert isinstance(found, ResourceValidationPolicy), f"{name} is not a resource policy"
    messages: list[str] = []
    args = ResourceValidationArgs(
        resource_type,
        engine_props(props),
        f"urn:pulumi:{environment}::gpu-platform::{resource_type}::thing",
        "thing",
        _options(protect),
        None,
        {"environment": environment},
    )
    found.validate(args, lambda message, urn=None: messages.append(message))
    return messages


@dataclass(frozen=True)
class Res:
    """A resource for a stack policy test."""

    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    depends_on: tuple[str, ...] = ()  # names of other resources in the same call


def stack_violations(name: str, resources: Sequence[Res], environment: str = "prod") -> list[tuple[str | None, str]]:
    """(urn, message) pairs the named stack policy reports."""
    found = policy(name)
    assert isinstance(found, StackValidationPolicy), f"{name} is not a stack policy"
    reported: list[tuple[str | None, str]] = []
    built = {
        r.name: PolicyResource(
            r.type,
            engine_props(r.props),
            f"urn:pulumi:{environment}::gpu-platform::{r.type}::{r.name}",
            r.name,
            _options(r.protect),
            None,
            None,
            [],
            {},
        )
        for r in resources
    }
    for r in resources:
        built[r.name].dependencies = [built[name] for name in r.depends_on]
    args = StackValidationArgs(list(built.values()), {"environment": environment})
    found.validate(args, lambda message, urn=None: reported.append((urn, message)))
    return reported


def mutate(props: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``props`` with the dotted ``path`` set to ``value`` (``...`` deletes it)."""
    import copy

    result = copy.deepcopy(dict(props))
    current: Any = result
    parts = path.split(".")
    for part in parts[:-1]:
        key: Any = int(part) if isinstance(current, list) else part
        current = current.setdefault(key, {}) if isinstance(current, dict) else current[key]
    last: Any = int(parts[-1]) if isinstance(current, list) else parts[-1]
    if value is ...:
        del current[last]
    else:
        current[last] = value
    return result
