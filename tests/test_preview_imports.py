"""A preview imports only what its stack's target needs (start-up time, issue 16); skipping the rest changes nothing.

The import checks run ``python -m preview``'s ``main`` in a fresh interpreter (tests/preview_probe.py). Which
target a stack deploys to is read from its ``Pulumi.<stack>.yaml`` (``gpu-platform:target``), so the expected
module sets come from the shipped stack files.
"""

from __future__ import annotations

from dataclasses import astuple

import pytest
import yaml

from policy.rules import BY_NAME, POLICIES
from preview import policies as offline
from preview.runner import PreviewResult
from tests.conftest import ROOT, cached_run, shipped
from tests.preview_probe import modules_after_preview

BUILT = ("docker", "kubernetes", "aws", "gcp", "azure")


def _target_of(stack: str) -> str:
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    return str(document["config"]["gpu-platform:target"])


SHIPPED = ("dev", "staging", "prod", "gcp-prod", "azure-prod")
SDKS = {
    "docker": "pulumi_docker",
    "kubernetes": "pulumi_kubernetes",
    "aws": "pulumi_aws",
    "gcp": "pulumi_gcp",
    "azure": "pulumi_azure_native",
}


# What a preview imports does not depend on the blueprint's size: azure-prod is probed with its smallest seed,
# the probe tests/test_azure_components.py asks too (a fresh Azure interpreter: ~4 s of CPU, measured).
ARGV = {stack: (stack,) for stack in SHIPPED} | {"azure-prod": ("azure-prod", "--blueprint", "paissive-income")}


@pytest.mark.slow  # a fresh interpreter per stack (shared by the two tests below)
@pytest.mark.parametrize("stack", SHIPPED)
def test_a_preview_imports_only_its_targets_sdk(stack: str) -> None:
    """Speed and isolation: a stack loads its own target's provider SDK and none of the others."""
    code, loaded = modules_after_preview(*ARGV[stack])
    assert (code, sorted(loaded & set(SDKS.values()))) == (0, [SDKS[_target_of(stack)]])


@pytest.mark.slow
@pytest.mark.parametrize("stack", SHIPPED)
def test_a_preview_imports_no_other_targets_plugin_or_policy_rules(stack: str) -> None:
    """A Docker preview does not import policy.rules.aws nor targets.aws (and so on for every other target)."""
    own = _target_of(stack)
    assert own in BUILT
    code, loaded = modules_after_preview(*ARGV[stack])
    assert code in (0, 2)  # 2: mandatory violations, still a whole preview
    others = [name for name in BUILT if name != own]
    assert not {f"policy.rules.{name}" for name in others} & loaded, sorted(loaded)
    assert not {f"targets.{name}" for name in others} & loaded, sorted(loaded)
    # Not vacuous: the stack's own rules did run, from its own module, and its own plugin answered the mocks.
    assert f"policy.rules.{own}" in loaded
    assert f"targets.{own}.mocks" in loaded


def _violations(result: PreviewResult, environment: str) -> list[tuple[str, ...]]:
    return sorted(astuple(v) for v in offline.evaluate(result.resources, environment))


@pytest.mark.parametrize(("stack", "blueprint"), [("dev", "bev"), ("staging", None)])
def test_the_rules_the_preview_skips_would_report_nothing(
    stack: str, blueprint: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preview runs only the rules of the targets owning its resources; the whole pack finds the same."""
    recorded = cached_run(stack, blueprint=blueprint) if blueprint else shipped(stack)
    environment = str(recorded.config["gpu-platform:environment"])
    selected = _violations(recorded, environment)
    everything = [(BY_NAME[policy.name], policy) for policy in POLICIES]
    monkeypatch.setattr(offline, "policies_for", lambda types: everything)
    assert selected == _violations(recorded, environment)
    if blueprint == "bev":
        assert selected, "bev on Docker in dev breaks some rules: else the comparison would be vacuous"


def test_a_tokens_owner_is_the_target_whose_provider_prefixes_it() -> None:
    """``targets.owner`` reads the registry's providers (checked against each plugin when it loads)."""
    from targets import TARGETS, owner, plugin

    for name in BUILT:
        assert TARGETS[name].providers == plugin(name).providers
    assert getattr(owner("aws:rds/instance:Instance"), "name", None) == "aws"
    assert getattr(owner("azure-native:app:ContainerApp"), "name", None) == "azure"
    assert owner("random:index/randomPassword:RandomPassword") is None  # the program's own helpers: no target
    assert owner("pulumi:providers:docker") is None  # provider resources are typed pulumi:providers:<package>


def test_the_pack_picks_rule_modules_by_the_types_present() -> None:
    """Registry order, each module once; stack-wide rules always; no module for a type no target owns."""
    from policy.rules import rules_for
    from policy.rules.registry import targets_for

    types = ["kubernetes:apps/v1:Deployment", "docker:index/container:Container", "docker:index/volume:Volume"]
    assert targets_for(types) == ["docker", "kubernetes"]
    assert targets_for(["random:index/randomPassword:RandomPassword"]) == []
    stack_wide = {"gpu-platform-stack-protect-stateful", "gpu-platform-stack-no-plaintext-secrets"}
    assert {rule.name for rule in rules_for([])} == stack_wide
    docker_rules = rules_for(["docker:index/container:Container"])
    assert stack_wide < {rule.name for rule in docker_rules}
    assert all(t.startswith("docker:") for rule in docker_rules for t in rule.types)
