"""The seed blueprints on GCP: paissive-income (whose seed deploys to GCP), monte-carlo, brahminykite, reference
and bem (their Pixel Streaming signalling listed in ``gpu-platform:gcp.vm_workloads``, which the check asks for).

Each pair runs once on ``gcp-prod`` (``python -m preview gcp-prod --blueprint NAME``). Counts and seed
properties are derived from the blueprint YAML (``tests/test_blueprints_seeds.py``'s readers) and the prod
profile; where a workload runs is decided here from the YAML by Cloud Run's documented limits (one HTTP-family
port, an HTTP/gRPC/TCP probe, no single-writer volume, at most one GPU, no UDP media: the streamer), independently
of targets/gcp/fit.py.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
import yaml

from preview.policies import evaluate
from preview.runner import PreviewResult, run_program
from stacks.profiles import PROFILES
from tests.conftest import stack_config
from tests.test_blueprints_seeds import Workload, blueprint, workloads
from tests.tokens import (
    GCP_CLOUDRUNV2_SERVICE,
    GCP_COMPUTE_ADDRESS,
    GCP_COMPUTE_BACKEND_SERVICE,
    GCP_COMPUTE_DISK,
    GCP_COMPUTE_FIREWALL,
    GCP_COMPUTE_FORWARDING_RULE,
    GCP_COMPUTE_INSTANCE,
    GCP_SERVICEACCOUNT_ACCOUNT,
    GCP_SQL_DATABASE_INSTANCE,
    GCP_STORAGE_BUCKET,
)

STACK = "gcp-prod"
PROD = PROFILES["prod"]
HTTP_FAMILY = {"http", "http2", "grpc", "websocket"}
PAIRS = ["paissive-income", "monte-carlo", "brahminykite", "reference", "bem"]


def signalling(name: str) -> list[str]:
    """The Pixel Streaming signalling servers of a blueprint, which run on VMs on GCP."""
    return [f"{streaming}-signalling" for streaming in blueprint(name).get("pixel_streaming", {})]


def as_run(name: str) -> dict[str, Any]:
    return blueprint(name)


@cache
def preview(name: str) -> PreviewResult:
    settings = {"project": "example-gpu-platform", "vm_workloads": signalling(name)}
    return run_program(STACK, stack_config(STACK, blueprint=name, gcp=settings))


def on_cloud_run(workload: Workload) -> bool:
    ports = workload.spec.get("ports", []) if workload.tool_port is None else [{"app_protocol": "grpc"}]
    http_only = len(ports) <= 1 and all(
        p.get("protocol", "tcp") == "tcp" and p.get("app_protocol", "http") in HTTP_FAMILY for p in ports
    )
    probe = workload.health["kind"] != "command"
    stateless = all(v.get("shared") for v in workload.volumes.values())
    media = workload.key.startswith("pixel_streaming.") and workload.key.endswith(".streamer")
    listed = workload.key.startswith("pixel_streaming.") and workload.name.endswith("-signalling")
    return http_only and probe and stateless and workload.gpu <= 1 and not media and not listed


def by_name(result: PreviewResult, token: str) -> dict[str, Any]:
    return {r.name: r for r in result.of_type(token)}


@pytest.mark.parametrize("name", PAIRS)
def test_resource_counts_follow_the_blueprint(name: str) -> None:
    bp, result = as_run(name), preview(name)
    items = workloads(bp)
    cloud_run = [w for w in items if on_cloud_run(w)]
    vms = [w for w in items if not on_cloud_run(w)]
    assert sorted(by_name(result, GCP_CLOUDRUNV2_SERVICE)) == sorted(w.name for w in cloud_run)
    turns = [f"{streaming}-turn" for streaming in bp.get("pixel_streaming", {})]
    assert sorted(by_name(result, GCP_COMPUTE_INSTANCE)) == sorted([w.name for w in vms] + turns)
    assert len(result.of_type(GCP_SERVICEACCOUNT_ACCOUNT)) == len(items) + len(turns)
    disks = sum(len([v for v in w.volumes.values() if not v.get("shared")]) for w in vms)
    assert len(result.of_type(GCP_COMPUTE_DISK)) == disks
    buckets = sum(len([v for v in w.volumes.values() if v.get("shared")]) for w in cloud_run)
    assert len(result.of_type(GCP_STORAGE_BUCKET)) == buckets
    databases = bp.get("databases", {})
    replicas = sum(
        1 + (d.get("read_replicas") if d.get("read_replicas") is not None else PROD.read_replicas)
        for d in databases.values()
    )
    assert len(result.of_type(GCP_SQL_DATABASE_INSTANCE)) == replicas
    public_tools = sum(len(f["tools"]) for f in bp.get("grpc_tool_fleets", {}).values() if f.get("public_grpc"))
    routes = [w for w in items if w.route is not None]
    assert len(result.of_type(GCP_COMPUTE_BACKEND_SERVICE)) == len(routes) + public_tools


@pytest.mark.parametrize("name", PAIRS)
def test_seed_properties_reach_cloud_run_and_the_vms(name: str) -> None:
    bp, result = as_run(name), preview(name)
    services = by_name(result, GCP_CLOUDRUNV2_SERVICE)
    machines = by_name(result, GCP_COMPUTE_INSTANCE)
    for workload in workloads(bp):
        if workload.name in services:
            template = services[workload.name].inputs["template"]
            (box,) = template["containers"]
            assert box["image"] == workload.image, workload.name
            assert box["ports"]["containerPort"] == workload.ports[0], workload.name
            scaling = template["scaling"]
            assert (scaling["minInstanceCount"], scaling["maxInstanceCount"]) == (workload.running, workload.most)
            probe = box["startupProbe"]
            if workload.health["kind"] == "http":
                assert probe["httpGet"]["path"] == workload.health["path"], workload.name
            if workload.gpu > 0:
                assert template["nodeSelector"] == {"accelerator": "nvidia-l4"}, workload.name
        else:
            vm = machines[workload.name].inputs
            user_data = yaml.safe_load(vm["metadata"]["user-data"])
            unit = next(f["content"] for f in user_data["write_files"] if f["path"].endswith("/run.sh"))
            assert workload.image in unit, workload.name
            assert f"--user {workload.user}" in unit, workload.name
            if workload.gpu > 0:
                assert vm["guestAccelerators"][0]["type"] == "nvidia-l4", workload.name
            else:
                assert vm["machineType"].startswith("e2-standard-"), workload.name


@pytest.mark.parametrize("name", PAIRS)
def test_urls_and_no_mandatory_violation(name: str) -> None:
    bp, result = as_run(name), preview(name)
    routed = {w.name for w in workloads(bp) if w.route is not None}
    fleets = {f"{n}" for n in bp.get("grpc_tool_fleets", {})}
    streams = set(bp.get("pixel_streaming", {}))  # a stream's URL is its signalling route
    expected = {n for n in routed if not n.endswith("-api") and not n.endswith("-signalling")} | fleets | streams
    assert expected <= set(result.outputs["urls"])
    for url in result.outputs["urls"].values():
        assert url.startswith(("https://app.example.com/", "wss://app.example.com/", "grpcs://"))
    verdicts = evaluate(result.resources, result.outputs["environment"])
    mandatory = [v for v in verdicts if v.enforcement == "mandatory"]
    assert mandatory == [], "\n".join(f"{v.policy}: {v.message}" for v in mandatory)


def test_paissive_income_cache_is_a_vm_and_the_models_a_bucket() -> None:
    """The seed's Redis speaks its own protocol (a VM); the shared models volume is a bucket the server mounts."""
    result = preview("paissive-income")
    assert "cache" in by_name(result, GCP_COMPUTE_INSTANCE)
    server = by_name(result, GCP_CLOUDRUNV2_SERVICE)["model-server"].inputs["template"]
    seed = blueprint("paissive-income")["services"]["model-server"]
    assert server["scaling"] == {
        "minInstanceCount": seed["autoscale"]["min"],
        "maxInstanceCount": seed["autoscale"]["max"],
    }
    (mount,) = server["containers"][0]["volumeMounts"]
    assert mount["mountPath"] == seed["volumes"]["models"]["path"]


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
        signalling_run = _run_script(machines[f"{streaming}-signalling"].inputs)
        assert "--env TURN_URL=turn:35.202." in signalling_run
        streamer_run = _run_script(machines[f"{streaming}-streamer"].inputs)
        assert (
            f":{spec['signalling']['service']['ports'][0]['container_port']}"
            in streamer_run.split("SIGNALLING_URL=")[1]
        )
        turn_start = _start_script(machines[f"{streaming}-turn"].inputs)
        assert "> /run/gp-secrets/turnserver.conf" in turn_start


def _files(vm: dict[str, Any]) -> dict[str, str]:
    return {f["path"]: f["content"] for f in yaml.safe_load(vm["metadata"]["user-data"])["write_files"]}


def _run_script(vm: dict[str, Any]) -> str:
    return _files(vm)["/etc/gpu-platform/run.sh"]


def _start_script(vm: dict[str, Any]) -> str:
    return _files(vm)["/etc/gpu-platform/start.sh"]
