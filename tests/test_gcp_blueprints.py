"""The seed blueprints on GCP, beyond what the shared tests ask of every target.

The shared tests (``tests/test_blueprint_components.py``, ``tests/test_blueprints_seeds.py``) run every seed
and the reference blueprint on ``gcp-prod`` through the GCP view (``tests/views/gcp.py``): counts, where each
workload runs (Cloud Run or a VM, decided there from the YAML), images, users, ports and probes, scaling, GPUs
and the seeds' policy verdicts. Here: the public URLs, the reference blueprint's policy verdict (it is no seed),
the shared volume a Cloud Run service mounts, and Pixel Streaming's TURN relay behind a passthrough balancer.
Each pair is the view's run, shared with those tests.
"""

from __future__ import annotations

from typing import Any

import pytest

from preview.mocks import Recorded
from preview.policies import evaluate
from preview.runner import PreviewResult
from tests.kit import blueprint, workloads
from tests.tokens import (
    GCP_CLOUDRUNV2_SERVICE,
    GCP_COMPUTE_ADDRESS,
    GCP_COMPUTE_FIREWALL,
    GCP_COMPUTE_FORWARDING_RULE,
    GCP_COMPUTE_INSTANCE,
)
from tests.views.gcp import VIEW, boot_files

PAIRS = ["paissive-income", "monte-carlo", "brahminykite", "reference", "bem"]


def preview(name: str) -> PreviewResult:
    """``blueprints/<name>.yaml`` on ``gcp-prod`` (signalling servers in ``vm_workloads``), once per session."""
    return VIEW.preview(name)


def by_name(result: PreviewResult, token: str) -> dict[str, Any]:
    return {r.name: r for r in result.of_type(token)}


@pytest.mark.parametrize("name", PAIRS)
def test_urls_are_the_load_balancers(name: str) -> None:
    bp, result = blueprint(name), preview(name)
    routed = {w.name for w in workloads(bp) if w.route is not None}
    fleets = {f"{n}" for n in bp.get("grpc_tool_fleets", {})}
    streams = set(bp.get("pixel_streaming", {}))  # a stream's URL is its signalling route
    expected = {n for n in routed if not n.endswith("-api") and not n.endswith("-signalling")} | fleets | streams
    assert expected <= set(result.outputs["urls"])
    for url in result.outputs["urls"].values():
        assert url.startswith(("https://app.example.com/", "wss://app.example.com/", "grpcs://"))


def test_reference_has_no_mandatory_violation() -> None:
    """The seeds' verdicts are the shared tests'; the reference blueprint is no seed."""
    result = preview("reference")
    verdicts = evaluate(result.resources, result.outputs["environment"])
    mandatory = [v for v in verdicts if v.enforcement == "mandatory"]
    assert mandatory == [], "\n".join(f"{v.policy}: {v.message}" for v in mandatory)


def test_paissive_income_models_are_a_bucket_the_server_mounts() -> None:
    """The seed's shared models volume is a bucket mounted at the seed's path (Cloud Storage FUSE)."""
    server = by_name(preview("paissive-income"), GCP_CLOUDRUNV2_SERVICE)["model-server"].inputs["template"]
    seed = blueprint("paissive-income")["services"]["model-server"]
    (mount,) = server["containers"][0]["volumeMounts"]
    assert mount["mountPath"] == seed["volumes"]["models"]["path"]
    (volume,) = server["volumes"]
    assert volume["name"] == mount["name"]
    assert "gcs" in volume


@pytest.mark.parametrize("name", ["bem", "reference"])
def test_turn_is_a_vm_behind_a_udp_passthrough_balancer(name: str) -> None:
    """Only the listening port is public (UDP and TCP); the relay range is open to the subnet (the streamer)."""
    result = preview(name)
    for streaming, spec in blueprint(name)["pixel_streaming"].items():
        turn = spec["turn"]
        listening = str(turn["listening_port"])
        relay = f"{turn['relay_min_port']}-{turn['relay_max_port']}"
        rules = {r.name: r.inputs for r in result.of_type(GCP_COMPUTE_FORWARDING_RULE)}
        for protocol in ("udp", "tcp"):
            rule = rules[f"{streaming}-turn-{protocol}"]
            assert rule["ipProtocol"] == protocol.upper()
            assert rule["ports"] == [listening]
            assert rule["loadBalancingScheme"] == "EXTERNAL"
        walls = {r.name: r.inputs for r in result.of_type(GCP_COMPUTE_FIREWALL)}
        world = walls[f"{streaming}-turn-from-world"]
        assert world["sourceRanges"] == ["0.0.0.0/0"]
        assert sorted((a["protocol"], a["ports"]) for a in world["allows"]) == [
            ("tcp", [listening]),
            ("udp", [listening]),
        ]
        subnet = walls[f"{streaming}-turn-from-subnet"]
        assert ("udp", [listening, relay]) in [(a["protocol"], a["ports"]) for a in subnet["allows"]]
        assert subnet["sourceRanges"] != ["0.0.0.0/0"]
        # The relay's public address reaches the signalling server (browsers get it) and the streamer is a VM.
        (address,) = [a for a in result.of_type(GCP_COMPUTE_ADDRESS) if a.name == f"{streaming}-turn-address"]
        assert address.inputs["addressType"] == "EXTERNAL"
        machines = by_name(result, GCP_COMPUTE_INSTANCE)
        signalling_run = _run_script(machines[f"{streaming}-signalling"])
        assert "--env TURN_URL=turn:35.202." in signalling_run
        streamer_run = _run_script(machines[f"{streaming}-streamer"])
        assert (
            f":{spec['signalling']['service']['ports'][0]['container_port']}"
            in streamer_run.split("SIGNALLING_URL=")[1]
        )
        turn_start = _start_script(machines[f"{streaming}-turn"])
        assert "> /run/gp-secrets/turnserver.conf" in turn_start


def _run_script(vm: Recorded) -> str:
    return boot_files(vm)["/etc/gpu-platform/run.sh"]


def _start_script(vm: Recorded) -> str:
    return boot_files(vm)["/etc/gpu-platform/start.sh"]
