"""Every gpu-platform policy, as plain rules (``RULES``) and as CrossGuard policies (``POLICIES``).

``policy/__main__.py`` builds the ``PolicyPack`` from ``POLICIES``; the offline
preview and the tests call the same policy objects' ``validate``. Importing this
module never starts the policy server (only constructing ``PolicyPack`` does).
The environment reaches each policy through its config (``environment``), set in
``policy/config/<env>.json`` together with the enforcement level.

``RULES``, ``POLICIES`` and ``BY_NAME`` (every target's rules) are built on first use; the offline
preview asks :func:`policies_for` for the rules of the targets its resources belong to, so a Docker
preview imports no other target's rule module.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import stack
from policy.rules.base import Environment, Rule, Subject
from policy.rules.registry import modules_for
from policy.rules.targets import PROVIDERS, TARGETS

if TYPE_CHECKING:  # built on first use by __getattr__ below
    RULES: list[Rule]
    POLICIES: list[Policy]
    BY_NAME: dict[str, Rule]

ENVIRONMENT_SCHEMA = PolicyConfigSchema(
    properties={"environment": {"type": "string", "enum": ["dev", "staging", "prod"], "default": "dev"}}
)


def _environment(config: Any) -> Environment:
    value = (config or {}).get("environment", "dev")
    return value if value in ("dev", "staging", "prod") else "dev"


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    check = rule.check
    assert check is not None

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        subject = Subject(
            type=args.resource_type,
            name=args.name,
            urn=args.urn,
            props=args.props,
            protect=bool(args.opts.protect),
            parent=args.opts.parent,
            environment=_environment(args.get_config()),
        )
        if rule.applies_to(subject):
            for message in check(subject):
                report(message, None)

    return ResourceValidationPolicy(
        rule.name,
        rule.description,
        validate,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=ENVIRONMENT_SCHEMA,
        severity=Severity(rule.severity),
        tags=[rule.area, "security" if rule.security else "reliability"],
    )


def _stack_policy(rule: Rule) -> StackValidationPolicy:
    check = rule.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        environment = _environment(args.get_config())
        if environment not in rule.environments:
            return
        subjects = [
            Subject(
                type=r.resource_type,
                name=r.name,
                urn=r.urn,
                props=r.props,
                protect=bool(r.opts.protect),
                parent=r.parent.urn if r.parent is not None else None,
                environment=environment,
                dependencies=tuple(d.urn for d in r.dependencies),
            )
            for r in args.resources
        ]
        for urn, message in check(subjects):
            report(message, urn)

    return StackValidationPolicy(
        rule.name,
        rule.description,
        validate,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=ENVIRONMENT_SCHEMA,
        severity=Severity(rule.severity),
        tags=[rule.area, "security" if rule.security else "reliability"],
    )


def to_policy(rule: Rule) -> Policy:
    """The CrossGuard policy for a rule."""
    return _stack_policy(rule) if rule.stack_check is not None else _resource_policy(rule)


@cache
def _wrapped(rule: Rule) -> Policy:
    """The one CrossGuard policy object of a rule (the pack and the preview share it)."""
    return to_policy(rule)


def rules_for(types: Iterable[str]) -> list[Rule]:
    """The rules of the targets owning ``types``, then the stack-wide rules, in the pack's order."""
    return [*(rule for module in modules_for(types) for rule in module.RULES), *stack.RULES]


def policies_for(types: Iterable[str]) -> list[tuple[Rule, Policy]]:
    """(rule, policy) for :func:`rules_for`: every policy that can report on resources of ``types``.

    The others would report nothing (a target's rules read only its own providers' types), so skipping
    them changes no result and spares importing their modules.
    """
    return [(rule, _wrapped(rule)) for rule in rules_for(types)]


def _all_rules() -> list[Rule]:
    return rules_for(f"{package}:" for name in TARGETS for package in PROVIDERS[name])


def __getattr__(name: str) -> object:
    """``RULES``, ``POLICIES`` and ``BY_NAME`` over every target, built (and kept) on first use."""
    if name == "RULES":
        value: object = _all_rules()
    elif name == "POLICIES":
        value = [_wrapped(rule) for rule in _all_rules()]
    elif name == "BY_NAME":
        value = {rule.name: rule for rule in _all_rules()}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
