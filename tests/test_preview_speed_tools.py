"""The benchmark's parts: synthetic blueprints, the SDK floor, and policy evaluation's shortcut.

The benchmark itself is not a test (it times things); these tests pin what its figures mean:
a synthetic blueprint has the workloads it says, the floor registers exactly the resources the
preview recorded with the providers' typed classes, and evaluating each rule over only the
resources of its types finds the same violations as calling every rule on every resource.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_docker
import pulumi_kubernetes
import pytest
import yaml
from pulumi.runtime.mocks import MockResourceArgs
from pulumi_policy import (
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.pack_config import load
from policy.rules import POLICIES
from preview import benchmark, floor
from preview.mocks import Recorded
from preview.policies import _options, _policy_resources, engine_props, evaluate
from preview.report import Report, Violation
from preview.runner import PreviewResult, run_program
from preview.synthetic import blueprint_text, mix, plain
from stacks.loader import load_stack
from tests.conftest import shipped, stack_config


def _workloads(blueprint: dict[str, Any]) -> int:
    fleets = blueprint.get("grpc_tool_fleets", {}).values()
    return (
        len(blueprint.get("services", {}))
        + len(blueprint.get("websocket_gateways", {}))
        + sum(1 + len(fleet["tools"]) for fleet in fleets)
    )


@pytest.mark.parametrize("size", [1, 10, 37])
def test_synthetic_blueprints_have_the_workloads_they_say(size: int) -> None:
    assert _workloads(plain(size)) == size
    assert len({s["route"]["path"] for s in plain(size)["services"].values()}) == size
    assert _workloads(mix(size)) == size


def test_a_synthetic_mix_validates_as_a_blueprint(tmp_path: Path) -> None:
    path = tmp_path / "mix.yaml"
    path.write_text(blueprint_text("mix", 40))
    spec = load_stack("dev", stack_config("dev", blueprint=str(path), target="kubernetes"))
    document = yaml.safe_load(path.read_text())
    assert len(spec.blueprint.databases) == len(document["databases"]) == 2  # indices 0 and 20
    assert len(spec.blueprint.websocket_gateways) == 4  # 5, 15, 25, 35


@pytest.fixture(scope="module")
def small_mix(tmp_path_factory: pytest.TempPathFactory) -> PreviewResult:
    path = tmp_path_factory.mktemp("floor") / "mix.yaml"
    path.write_text(blueprint_text("mix", 12))
    return run_program("dev", stack_config("dev", blueprint=str(path), target="kubernetes"))


def test_the_floor_registers_every_recorded_resource_with_its_typed_class(
    small_mix: PreviewResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = json.loads(Report(result=small_mix, environment="dev", blueprint="mix", targets=["kubernetes"]).dumps())
    made: list[tuple[str, str]] = []
    original = pulumi.Resource.__init__

    def spy(self: pulumi.Resource, t: str, name: str, *args: Any, **kwargs: Any) -> None:
        made.append((t, name))
        original(self, t, name, *args, **kwargs)

    monkeypatch.setattr(pulumi.Resource, "__init__", spy)
    assert floor.register(document) == []  # nothing fell back to a bare CustomResource
    assert sorted(m for m in made if m[0] != "pulumi:pulumi:Stack") == sorted(
        (r["type"], r["name"]) for r in document["resources"]
    )
    position = {made_as: index for index, made_as in enumerate(made)}
    by_urn = {r["urn"]: (r["type"], r["name"]) for r in document["resources"]}
    for r in document["resources"]:
        if r["parent"] in by_urn:
            assert position[by_urn[r["parent"]]] < position[(r["type"], r["name"])], f"{r['urn']} before its parent"


@pytest.mark.parametrize(
    ("token", "cls"),
    [
        ("docker:index/container:Container", pulumi_docker.Container),
        ("kubernetes:apps/v1:Deployment", pulumi_kubernetes.apps.v1.Deployment),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", pulumi_kubernetes.networking.v1.NetworkPolicy),
        ("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", pulumi_kubernetes.apiextensions.CustomResource),
        ("pulumi:providers:docker", pulumi_docker.Provider),
    ],
)
def test_type_tokens_resolve_to_the_sdk_classes(token: str, cls: type) -> None:
    assert floor.typed_class(token) is cls


@pytest.mark.parametrize(
    ("token", "module", "name"),
    [
        ("azure-native:app:ContainerApp", "pulumi_azure_native.app", "ContainerApp"),
        ("azure-native:cdn:AFDOrigin", "pulumi_azure_native.cdn", "AFDOrigin"),
        ("azure-native:dbforpostgresql:Server", "pulumi_azure_native.dbforpostgresql", "Server"),
        ("pulumi:providers:azure-native", "pulumi_azure_native", "Provider"),
    ],
)
def test_azure_type_tokens_resolve_to_the_sdk_classes(token: str, module: str, name: str) -> None:
    assert floor.typed_class(token) is getattr(importlib.import_module(module), name)


def _as_sent(value: Any) -> Any:
    """A value as the engine receives it: the wire drops null properties and carries every number as a float."""
    if isinstance(value, dict):
        return {key: _as_sent(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_as_sent(item) for item in value]
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def test_the_azure_floor_registers_the_recorded_inputs_with_azure_natives_typed_classes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """azure-prod as shipped (apps with user-assigned identities, Postgres, Front Door, a TURN scale set).

    No resource falls back to a bare CustomResource, and each typed class sends the engine exactly
    the inputs the preview recorded: the camelCase nested dicts pass through the SDK unchanged.
    """
    result = shipped("azure-prod")
    document = json.loads(Report(result=result, environment="prod", blueprint="reference", targets=["azure"]).dumps())
    received: dict[tuple[str, str], dict[str, Any]] = {}
    answer = floor._Trivial.new_resource

    def spy(self: floor._Trivial, args: Any) -> Any:
        received[(args.typ, args.name)] = _as_sent(json.loads(json.dumps(args.inputs)))
        return answer(self, args)

    monkeypatch.setattr(floor._Trivial, "new_resource", spy)
    assert floor.register(document) == []
    custom = [r for r in document["resources"] if r["custom"]]
    assert {r["type"] for r in custom} >= {"azure-native:app:ContainerApp", "azure-native:network:PublicIPAddress"}
    for r in custom:
        assert received[(r["type"], r["name"])] == _as_sent(r["inputs"]), r["urn"]


def test_the_azure_floor_answers_user_assigned_identities_as_a_map() -> None:
    """ARM answers the list of identity ids it was sent as a map id -> details (ManagedServiceIdentity)."""
    ids = ["/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/apps"]
    inputs = {"identity": {"type": "UserAssigned", "userAssignedIdentities": ids}, "location": "swedencentral"}
    args = MockResourceArgs("azure-native:app:ContainerApp", "api", inputs, None, None, None)
    _, outputs = floor._Trivial().new_resource(args)
    assert outputs == {
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {ids[0]: {}}},
        "location": "swedencentral",
    }
    other = MockResourceArgs("aws:ecs/service:Service", "api", inputs, None, None, None)
    assert floor._Trivial().new_resource(other)[1] == inputs  # other providers: the plain echo


def test_an_input_with_an_acronym_becomes_the_constructors_parameter() -> None:
    network = importlib.import_module("pulumi_azure_native.network")
    inputs = {"publicIPAllocationMethod": "Static", "resourceGroupName": "rg", "sku": {"name": "Standard"}}
    # pulumi_azure_native/network/public_ip_address.py: public_ip_allocation_method, resource_group_name, sku
    assert floor._keyword_arguments(network.PublicIPAddress, inputs) == {
        "public_ip_allocation_method": "Static",
        "resource_group_name": "rg",
        "sku": {"name": "Standard"},
    }


def _every_rule_on_every_resource(resources: list[Recorded], environment: str) -> list[Violation]:
    """Policy evaluation without shortcuts: each resource rule is called for every resource."""
    config: dict[str, dict[str, Any]] = load(environment)  # type: ignore[arg-type]
    found: list[Violation] = []
    for policy in POLICIES:
        settings = config.get(policy.name, {"enforcementLevel": "advisory", "environment": environment})
        level = str(settings.get("enforcementLevel", "advisory"))
        if level == "disabled":
            continue

        def report(
            message: str, urn: str | None = None, *, name: str = policy.name, level: str = level, at: str = ""
        ) -> None:
            found.append(Violation(policy=name, enforcement=level, urn=urn or at, message=message))

        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(
                    r.type, engine_props(r.inputs), r.urn, r.name, _options(r), None, settings
                )
                policy.validate(args, lambda m, u=None, at=r.urn: report(m, u, at=at))
        elif isinstance(policy, StackValidationPolicy):
            stack = _policy_resources(resources, [engine_props(r.inputs) for r in resources])
            policy.validate(StackValidationArgs(stack, settings), report)
    return found


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_evaluating_rules_by_type_finds_what_every_rule_on_every_resource_finds(
    small_mix: PreviewResult, environment: str
) -> None:
    resources = small_mix.resources
    # A privileged container breaks a rule whatever the stack, so the comparison is not of two empty lists.
    target = next(r for r in resources if r.type == "kubernetes:apps/v1:Deployment")
    spec = json.loads(json.dumps(target.inputs))
    spec["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    variant = [*resources, Recorded(**{**target.__dict__, "urn": target.urn + "-x", "name": "x", "inputs": spec})]
    expected = _every_rule_on_every_resource(variant, environment)
    assert expected, "the privileged container must break at least one rule"
    assert evaluate(variant, environment) == expected


@pytest.mark.parametrize("text", ["0", "ten", "", "10,-1"])
def test_benchmark_sizes_must_be_positive_numbers(text: str) -> None:
    with pytest.raises(SystemExit):
        benchmark.main(["--sizes", text])


def test_benchmark_refuses_targets_that_are_not_built() -> None:
    with pytest.raises(SystemExit):
        benchmark.main(["--targets", "docker,nowhere"])
