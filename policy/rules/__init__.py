"""Every gpu-platform policy, as plain rules (``RULES``) and as CrossGuard policies (``POLICIES``).

``policy/__main__.py`` builds the ``PolicyPack`` from ``POLICIES``; the offline
preview and the tests call the same policy objects' ``validate``. Importing this
module never starts the policy server (only constructing ``PolicyPack`` does).
The environment reaches each policy through its config (``environment``), set in
``policy/config/<env>.json`` together with the enforcement level.
"""

from __future__ import annotations

from typing import Any

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
from policy.rules.registry import TARGET_MODULES

RULES: list[Rule] = [*(rule for module in TARGET_MODULES for rule in module.RULES), *stack.RULES]

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


POLICIES: list[Policy] = [to_policy(rule) for rule in RULES]
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
