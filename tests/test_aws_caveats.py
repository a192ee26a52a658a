"""What the AWS target deploys differently from the profile's ask, said as warnings."""

from __future__ import annotations

import json

import pytest

from preview.runner import PreviewResult
from tests.conftest import Runner
from tests.tokens import AWS_ECS_SERVICE

SERVICE = AWS_ECS_SERVICE


def _strategies(result: PreviewResult) -> dict[str, set[str]]:
    return {
        r.name.removesuffix("-service"): {entry["capacityProvider"] for entry in r.inputs["capacityProviderStrategies"]}
        for r in result.of_type(SERVICE)
    }


@pytest.mark.slow  # bev on AWS: ~1,000 resources
def test_arm64_fargate_pool_under_a_spot_profile_is_named_and_stays_on_demand(run: Runner) -> None:
    result = run("dev", blueprint="bev", target="aws")  # dev asks for Spot; bev's oracle1 pool is arm64
    spot_warnings = [w for w in result.warnings if "FARGATE_SPOT runs X86_64 tasks only" in w]
    assert [w.split(":", 1)[0] for w in spot_warnings] == ["pools.oracle1"]
    placement = result.outputs["placement"]
    on_oracle1 = {key.rsplit(".", 1)[-1] for key, pool in placement.items() if pool == "oracle1"}
    strategies = _strategies(result)
    arm = [name for name in strategies if name in on_oracle1]
    assert arm, json.dumps(placement)[:400]
    for name in arm:
        assert strategies[name] == {"FARGATE"}, name
    assert any("FARGATE_SPOT" in used for used in strategies.values())  # the amd64 ones do use Spot


@pytest.mark.slow  # bev on AWS: ~1,000 resources
def test_no_spot_profile_no_warning(run: Runner) -> None:
    result = run("prod", blueprint="bev", target="aws")
    assert not [w for w in result.warnings if "FARGATE_SPOT" in w]
