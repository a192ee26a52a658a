"""The reference blueprint and the seed systems (paissive-income, monte-carlo, brahminykite, bem) on Azure.

Each runs once on ``Pulumi.azure-prod.yaml`` with ``--blueprint NAME`` (the real program under the mock runtime).
Counts and seed properties (images, ports, replicas and autoscaling ranges, GPUs, health paths, volumes,
databases, routes) are read from the blueprint YAML through the seed tests' own helpers
(``tests/test_blueprints_seeds.py``), never from the program's output. bem's Pixel Streaming fits Azure: the
streamer on a serverless GPU profile, signalling as a WebSocket Container App, TURN on a scale set.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import pytest

from preview.policies import evaluate
from preview.runner import PreviewResult, run_program
from targets.azure.settings import WORKLOAD_PROFILES
from tests.conftest import stack_config
from tests.test_blueprints_seeds import Workload, blueprint, public_tools, workloads
from tests.tokens import (
    AZURE_APP_CONTAINER_APP,
    AZURE_CDN_ROUTE,
    AZURE_COMPUTE_SCALE_SET,
    AZURE_POSTGRES_SERVER,
    AZURE_STORAGE_FILE_SHARE,
)

STACK = "azure-prod"
NAMES = ("reference", "paissive-income", "monte-carlo", "brahminykite", "bem")
PROD_READ_REPLICAS = 1  # the prod profile's read replicas (stacks/profiles.py), unless a database states its own


@cache
def preview(name: str) -> PreviewResult:
    return run_program(STACK, stack_config(STACK, blueprint=name))


def apps(result: PreviewResult) -> dict[str, dict[str, Any]]:
    return {r.inputs["containerAppName"]: r.inputs for r in result.of_type(AZURE_APP_CONTAINER_APP)}


def container(inputs: dict[str, Any]) -> dict[str, Any]:
    (found,) = inputs["template"]["containers"]
    return found


def ingress_ports(inputs: dict[str, Any]) -> set[int]:
    ingress = inputs["configuration"].get("ingress") or {}
    mapped = {m["targetPort"] for m in ingress.get("additionalPortMappings") or []}
    return ({ingress["targetPort"]} if ingress else set()) | mapped


@pytest.mark.parametrize("name", NAMES)
def test_counts_follow_the_blueprint(name: str) -> None:
    bp, result = blueprint(name), preview(name)
    items = workloads(bp)
    databases = bp.get("databases", {})
    servers = sum(1 + (d.get("read_replicas", PROD_READ_REPLICAS)) for d in databases.values())
    assert sorted(apps(result)) == sorted(w.name for w in items)
    assert len(result.of_type(AZURE_POSTGRES_SERVER)) == servers
    assert len(result.of_type(AZURE_STORAGE_FILE_SHARE)) == sum(len(w.volumes) for w in items)
    assert len(result.of_type(AZURE_COMPUTE_SCALE_SET)) == len(bp.get("pixel_streaming", {}))
    routed = [w for w in items if w.route is not None]
    assert len(result.of_type(AZURE_CDN_ROUTE)) == len(routed) + len(public_tools(bp))


@pytest.mark.parametrize("name", NAMES)
def test_images_ports_and_replicas_are_the_seeds(name: str) -> None:
    found = apps(preview(name))
    for workload in workloads(blueprint(name)):
        inputs = found[workload.name]
        assert container(inputs)["image"] == workload.image, workload.name
        assert ingress_ports(inputs) == set(workload.ports), workload.name
        scale = inputs["template"]["scale"]
        assert (scale["minReplicas"], scale["maxReplicas"]) == (workload.running, workload.most), workload.name
        if workload.autoscale:
            (rule,) = scale["rules"]
            assert rule["custom"]["metadata"]["value"] == str(workload.autoscale["cpu_percent"]), workload.name


@pytest.mark.parametrize("name", NAMES)
def test_gpu_workloads_get_whole_gpus_on_gpu_profiles(name: str) -> None:
    result = preview(name)
    found = apps(result)
    environment = next(r for r in result.resources if r.type == "azure-native:app:ManagedEnvironment")
    types = {p["name"]: p["workloadProfileType"] for p in environment.inputs["workloadProfiles"]}
    for workload in workloads(blueprint(name)):
        inputs = found[workload.name]
        profile = WORKLOAD_PROFILES[types[inputs["workloadProfileName"]]]
        resources = container(inputs)["resources"]
        if workload.gpu > 0:
            assert profile.gpus >= 1, workload.name
            assert resources["gpu"] == math.ceil(workload.gpu), workload.name
        else:
            assert "gpu" not in resources, workload.name


def _probe_path(workload: Workload, inputs: dict[str, Any]) -> str | None:
    probes = container(inputs).get("probes") or []
    liveness = next((p for p in probes if p["type"] == "Liveness"), None)
    return liveness["httpGet"]["path"] if liveness and "httpGet" in liveness else None


@pytest.mark.parametrize("name", NAMES)
def test_http_health_paths_are_the_seeds(name: str) -> None:
    found = apps(preview(name))
    for workload in workloads(blueprint(name)):
        health = workload.health
        expected = health["path"] if health["kind"] == "http" else None
        assert _probe_path(workload, found[workload.name]) == expected, workload.name


@pytest.mark.parametrize("name", NAMES)
def test_no_mandatory_policy_violation(name: str) -> None:
    mandatory = [v for v in evaluate(preview(name).resources, "prod") if v.enforcement == "mandatory"]
    assert mandatory == [], "\n".join(f"{v.policy}: {v.message}" for v in mandatory)


def test_paissive_income_model_server_scales_1_to_5_at_80_percent() -> None:
    """The seed's HPA (1-5 at 80 % CPU) as Container Apps scale settings."""
    spec = blueprint("paissive-income")["services"]["model-server"]["autoscale"]
    assert (spec["min"], spec["max"], spec["cpu_percent"]) == (1, 5, 80)
    scale = apps(preview("paissive-income"))["model-server"]["template"]["scale"]
    assert (scale["minReplicas"], scale["maxReplicas"]) == (1, 5)
    assert scale["rules"][0]["custom"]["metadata"] == {"type": "Utilization", "value": "80"}


def test_brahminykite_tools_speak_grpc_over_http2() -> None:
    bp = blueprint("brahminykite")
    found = apps(preview("brahminykite"))
    for tool, port in public_tools(bp).items():
        ingress = found[tool]["configuration"]["ingress"]
        assert (ingress["transport"], ingress["targetPort"]) == ("http2", port)


def test_bem_pixel_streaming_fits() -> None:
    bp = blueprint("bem")
    result = preview("bem")
    (unreal,) = bp["pixel_streaming"]
    streamer = apps(result)[f"{unreal}-streamer"]
    assert streamer["workloadProfileName"] != "Consumption"
    signalling = apps(result)[f"{unreal}-signalling"]["configuration"]["ingress"]
    assert signalling["transport"] == "http"
    assert signalling["external"] is True
    (scale_set,) = result.of_type(AZURE_COMPUTE_SCALE_SET)
    assert scale_set.inputs["sku"]["capacity"] == 1
    turn_url = result.outputs["urls"]
    assert any(str(v).startswith("wss://") for v in turn_url.values())


def test_unrouted_workloads_get_internal_tcp_ingress_on_their_port() -> None:
    """paissive-income's redis cache is reached by its peers at cache:6379 inside the environment only."""
    (port,) = blueprint("paissive-income")["services"]["cache"]["ports"]
    ingress = apps(preview("paissive-income"))["cache"]["configuration"]["ingress"]
    assert (ingress["transport"], ingress["external"]) == ("tcp", False)
    assert ingress["targetPort"] == ingress["exposedPort"] == port["container_port"]
