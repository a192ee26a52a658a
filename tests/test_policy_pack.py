"""The pack as a whole: metadata, construction, per-environment config, and the offline preview's verdicts."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest

from policy import pack_config
from policy.rules import POLICIES, RULES
from preview.policies import evaluate
from tests.conftest import ROOT, Runner, reference_blueprint, write_blueprint
from tests.preview_probe import preview_main

NAME = re.compile(r"^gpu-platform-(docker|k8s|aws|gcp|azure|stack)-[a-z0-9]+(-[a-z0-9]+)*$")


def test_at_least_forty_rules_with_unique_names() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) >= 40
    assert len(set(names)) == len(names)
    assert [p.name for p in POLICIES] == names


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_metadata(rule: Any) -> None:
    assert NAME.match(rule.name), rule.name
    description = rule.description
    assert description[0].isupper()
    assert description.endswith(".")
    assert not re.search(r"[.!?]\s", description), f"one sentence only: {description}"
    assert rule.severity in ("low", "medium", "high", "critical")
    assert rule.public_check.strip()
    assert (rule.check is None) != (rule.stack_check is None)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_policy_objects_carry_the_metadata(policy: Any) -> None:
    rule = next(r for r in RULES if r.name == policy.name)
    assert policy.description == rule.description
    assert policy.severity == pulumi_policy.Severity(rule.severity)
    assert policy.config_schema is not None
    assert "environment" in policy.config_schema.properties


def test_readme_maps_every_rule_to_a_public_check() -> None:
    readme = pack_config.README.read_text()
    assert readme == pack_config.readme_with_table(readme), "regenerate with python -m policy.pack_config"
    for rule in RULES:
        row = next((line for line in readme.splitlines() if f"`{rule.name}`" in line), None)
        assert row is not None, f"{rule.name} missing from policy/README.md"
        assert rule.public_check in row, f"{rule.name}: README row does not cite {rule.public_check}"


def test_main_builds_the_pack_from_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run policy/__main__.py with PolicyPack replaced: constructing the real one starts a server."""
    built: list[dict[str, Any]] = []

    class Recorder:
        def __init__(self, **kwargs: Any) -> None:
            built.append(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", Recorder)
    runpy.run_path(str(ROOT / "policy" / "__main__.py"), run_name="__main__")
    assert len(built) == 1
    assert built[0]["name"] == "gpu-platform"
    assert built[0]["policies"] is POLICIES


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_shipped_pack_config_matches_the_rules(environment: Any) -> None:
    """policy/config/*.json is what the CLI gets: regenerate with `python -m policy.pack_config`."""
    assert pack_config.load(environment) == pack_config.pack_config(environment)


def test_shipped_target_tables_match_the_plugins() -> None:
    """policy/rules/targets.py is generated from the target plugins (the pack cannot import them): no drift."""
    assert pack_config.TARGETS_MODULE.read_text() == pack_config.targets_module(), "run python -m policy.pack_config"


def test_every_built_target_has_a_rule_module_with_its_hooks() -> None:
    """The pack's registry finds policy/rules/<target>.py for each built target, so no provider is skipped."""
    from policy.rules.registry import HOOKS, TARGET_MODULES
    from policy.rules.targets import STATEFUL_TYPES, TARGETS
    from targets import plugins

    assert list(TARGETS) == [p.name for p in plugins()]
    assert [m.__name__ for m in TARGET_MODULES] == [f"policy.rules.{name}" for name in TARGETS]  # type: ignore[attr-defined]
    for module in TARGET_MODULES:
        assert all(hasattr(module, hook) for hook in HOOKS)
        assert module.RULES
    for found in plugins():
        assert any(found.owns(token) for token in STATEFUL_TYPES), found.name


def test_enforcement_by_environment() -> None:
    dev, staging, prod = (pack_config.pack_config(e) for e in ("dev", "staging", "prod"))
    security = [r for r in RULES if r.security and "prod" in r.environments]
    assert security
    for rule in security:
        assert prod[rule.name]["enforcementLevel"] == "mandatory"
        if "dev" in rule.environments:
            assert dev[rule.name]["enforcementLevel"] == "advisory"
        if "staging" in rule.environments:
            assert staging[rule.name]["enforcementLevel"] == "mandatory"
    reliability = [r for r in RULES if not r.security]
    assert all(prod[r.name]["enforcementLevel"] in ("advisory", "disabled") for r in reliability)
    prod_only = next(r for r in RULES if r.environments == ("prod",))
    assert dev[prod_only.name]["enforcementLevel"] == "disabled"
    assert all(entry["environment"] == "prod" for entry in prod.values())


def _root_service(tmp_path: Path) -> str:
    blueprint = reference_blueprint()
    blueprint["services"]["ui"]["user"] = "root"
    blueprint["services"]["ui"]["allow_root"] = True
    return write_blueprint(tmp_path, blueprint)


def test_dev_reports_the_violation_as_advisory(tmp_path: Path) -> None:
    completed = preview_main("dev", "--json", "--blueprint", _root_service(tmp_path))
    assert completed.returncode == 0, "in dev the violation is advisory: exit 0"
    document = json.loads(completed.stdout)
    advisory = [v for v in document["violations"] if v["policy"] == "gpu-platform-docker-non-root"]
    assert advisory
    assert advisory[0]["enforcement"] == "advisory"
    assert advisory[0]["urn"].endswith("::ui")


def test_mandatory_violation_in_staging_profile(run: Runner, tmp_path: Path) -> None:
    result = run("dev", environment="staging", target="docker", blueprint=_root_service(tmp_path))
    found = evaluate(result.resources, "staging")
    mandatory = [v for v in found if v.enforcement == "mandatory"]
    assert [v.policy for v in mandatory] == ["gpu-platform-docker-non-root"]
    assert "root" in mandatory[0].message


def test_cli_exit_code_2_on_mandatory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from preview import __main__ as cli

    path = _root_service(tmp_path)
    monkeypatch.setattr(
        cli,
        "read_stack_config",
        lambda stack: (
            {"gpu-platform:environment": "staging", "gpu-platform:blueprint": path, "gpu-platform:target": "docker"},
            set(),
        ),
    )
    assert cli.main(["dev"]) == 2


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_reference_on_docker_has_no_mandatory_violation(run: Runner, environment: str) -> None:
    overrides: dict[str, Any] = {"environment": environment, "target": "docker"}
    if environment == "prod":
        overrides["tls"] = {
            "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
        }
    result = run("dev", **overrides)
    found = evaluate(result.resources, environment)
    assert [v for v in found if v.enforcement == "mandatory"] == []
