"""Run the policy pack offline: the same CrossGuard policy objects, over the recorded resources.

The engine would call each policy's ``validate`` with ``ResourceValidationArgs``
(or ``StackValidationArgs``) built from the registration requests; this module
builds exactly those from :class:`preview.mocks.Recorded` and honours the same
per-environment pack config (``policy/config/<env>.json``) the CLI is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from pulumi_policy.proxy import unknown_checking_proxy

from policy.pack_config import load
from policy.rules import policies_for
from preview.mocks import Recorded
from preview.report import Violation


def engine_props(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """Inputs as the policy server hands them to a policy: numbers as floats, wrapped in its proxy.

    The engine sends properties as a protobuf Struct (every number a double) and
    pulumi_policy wraps them so reading an unknown value raises; rules must
    cope with both, so offline runs and tests feed them the same shape.
    """
    if not isinstance(props, dict):
        return props  # already engine-shaped

    def floats(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: floats(v) for k, v in value.items()}
        if isinstance(value, list):
            return [floats(v) for v in value]
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    return unknown_checking_proxy(floats(props))


def _options(resource: Recorded) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=[],
        delete_before_replace=resource.delete_before_replace,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.parent,
    )


def _policy_resources(resources: Sequence[Recorded], props: Sequence[Mapping[str, Any]]) -> list[PolicyResource]:
    built: dict[str, PolicyResource] = {}
    for resource, inputs in zip(resources, props, strict=True):  # registration order: parents first
        parent = built.get(resource.parent or "")
        built[resource.urn] = PolicyResource(
            resource.type,
            inputs,
            resource.urn,
            resource.name,
            _options(resource),
            None,
            parent,
            [],
            {},
        )
    for resource in resources:
        built[resource.urn].dependencies = [built[d] for d in resource.dependencies if d in built]
    return list(built.values())


def _reporter(found: list[Violation], policy: str, level: str, default_urn: str = "") -> Any:
    """A ``report_violation`` callback that files violations under ``policy`` at ``level``."""

    def report(message: str, urn: str | None = None) -> None:
        found.append(Violation(policy=policy, enforcement=level, urn=urn or default_urn, message=message))

    return report


def _by_type(resources: Sequence[Recorded]) -> dict[str, list[int]]:
    """Positions of the resources of each type, in registration order."""
    positions: dict[str, list[int]] = {}
    for index, resource in enumerate(resources):
        positions.setdefault(resource.type, []).append(index)
    return positions


def _candidates(rule_types: Sequence[str], by_type: Mapping[str, list[int]], count: int) -> list[int]:
    """The resources a resource rule can apply to: those of its types (all, for a rule without types).

    The wrapped policy skips every other type itself (``Rule.applies_to``); not calling it for them
    gives the same violations without preparing ``ResourceValidationArgs`` for each resource x rule.
    """
    if not rule_types:
        return list(range(count))
    return sorted(i for token in set(rule_types) for i in by_type.get(token, ()))


def evaluate(resources: Sequence[Recorded], environment: str) -> list[Violation]:
    """Every violation of every enabled policy, with its enforcement for ``environment``.

    Each resource's inputs are converted to the engine's shape once and shared by every rule
    (they are read-only proxies); the policies themselves are the pack's own objects, those of the
    targets whose providers own the recorded types (the pack's other rules report nothing here).
    """
    config: dict[str, dict[str, Any]] = load(environment)  # type: ignore[arg-type]
    found: list[Violation] = []
    props = [engine_props(resource.inputs) for resource in resources]
    options = [_options(resource) for resource in resources]
    by_type = _by_type(resources)
    stack_resources: list[PolicyResource] | None = None
    for rule, policy in policies_for(by_type):
        settings = config.get(policy.name, {"enforcementLevel": "advisory", "environment": environment})
        level = str(settings.get("enforcementLevel", "advisory"))
        if level == "disabled":
            continue
        if isinstance(policy, ResourceValidationPolicy):
            for index in _candidates(rule.types, by_type, len(resources)):
                resource = resources[index]
                args = ResourceValidationArgs(
                    resource.type, props[index], resource.urn, resource.name, options[index], None, settings
                )
                policy.validate(args, _reporter(found, policy.name, level, resource.urn))
        elif isinstance(policy, StackValidationPolicy):
            if stack_resources is None:
                stack_resources = _policy_resources(resources, props)
            policy.validate(StackValidationArgs(stack_resources, settings), _reporter(found, policy.name, level))
    return found
