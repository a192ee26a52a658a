"""The seed blueprints on Azure, beyond what the shared tests ask of every target.

The shared tests (``tests/test_blueprint_components.py``, ``tests/test_blueprints_seeds.py``) run every seed
and the reference blueprint on ``azure-prod`` through the Azure view (``tests/views/azure.py``): counts,
images, users, ingress ports and probes, replicas and scale rules, workload profiles, GPUs and the seeds'
policy verdicts. Here: the reference blueprint's verdict (it is no seed), CPU work taking no GPU, gRPC tools
over HTTP/2, bem's Pixel Streaming and the internal TCP ingress of an unrouted app. Each pair is the view's
run, shared with those tests.
"""

from __future__ import annotations

import pytest

from preview.policies import evaluate
from preview.runner import PreviewResult
from tests.kit import blueprint, public_tools, workloads
from tests.tokens import AZURE_COMPUTE_SCALE_SET
from tests.views.azure import VIEW, app, container

NAMES = ("reference", "paissive-income", "monte-carlo", "brahminykite", "bem")


def preview(name: str) -> PreviewResult:
    """``blueprints/<name>.yaml`` on ``azure-prod``, once per session (the view's run)."""
    return VIEW.preview(name)


@pytest.mark.parametrize("name", NAMES)
def test_cpu_work_takes_no_gpu(name: str) -> None:
    """The shared tests check the GPU work's whole GPUs; the rest must ask for none."""
    result = preview(name)
    for workload in workloads(blueprint(name)):
        if workload.gpu == 0:
            assert "gpu" not in container(result, workload.name)["resources"], workload.name


def test_reference_has_no_mandatory_violation() -> None:
    """The seeds' verdicts are the shared tests'; the reference blueprint is no seed."""
    mandatory = [v for v in evaluate(preview("reference").resources, "prod") if v.enforcement == "mandatory"]
    assert mandatory == [], "\n".join(f"{v.policy}: {v.message}" for v in mandatory)


def test_brahminykite_tools_speak_grpc_over_http2() -> None:
    bp = blueprint("brahminykite")
    result = preview("brahminykite")
    for tool, port in public_tools(bp).items():
        ingress = app(result, tool)["configuration"]["ingress"]
        assert (ingress["transport"], ingress["targetPort"]) == ("http2", port)


def test_bem_pixel_streaming_fits() -> None:
    bp = blueprint("bem")
    result = preview("bem")
    (unreal,) = bp["pixel_streaming"]
    streamer = app(result, f"{unreal}-streamer")
    assert streamer["workloadProfileName"] != "Consumption"
    signalling = app(result, f"{unreal}-signalling")["configuration"]["ingress"]
    assert signalling["transport"] == "http"
    assert signalling["external"] is True
    (scale_set,) = result.of_type(AZURE_COMPUTE_SCALE_SET)
    assert scale_set.inputs["sku"]["capacity"] == 1
    turn_url = result.outputs["urls"]
    assert any(str(v).startswith("wss://") for v in turn_url.values())


def test_unrouted_workloads_get_internal_tcp_ingress_on_their_port() -> None:
    """paissive-income's redis cache is reached by its peers at cache:6379 inside the environment only."""
    (port,) = blueprint("paissive-income")["services"]["cache"]["ports"]
    ingress = app(preview("paissive-income"), "cache")["configuration"]["ingress"]
    assert (ingress["transport"], ingress["external"]) == ("tcp", False)
    assert ingress["targetPort"] == ingress["exposedPort"] == port["container_port"]
