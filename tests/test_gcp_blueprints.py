"""The seed blueprints on GCP: paissive-income (whose seed deploys to GCP), monte-carlo, brahminykite, and
reference without its Pixel Streaming; bem and the full reference stop with a clear error.

Each pair runs once on ``gcp-prod`` (``python -m preview gcp-prod --blueprint NAME``). Counts and seed
properties are derived from the blueprint YAML (``tests/test_blueprints_seeds.py``'s readers) and the prod
profile; where a workload runs is decided here from the YAML by Cloud Run's documented limits (one HTTP-family
port, an HTTP/gRPC/TCP probe, no single-writer volume, at most one GPU), independently of targets/gcp/fit.py.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pulumi
import pytest
import yaml

from preview.policies import evaluate
from preview.runner import PreviewResult, run_program
from stacks.profiles import PROFILES
from tests.conftest import stack_config
from tests.test_blueprints_seeds import Workload, blueprint, workloads
from tests.tokens import (
    GCP_CLOUDRUNV2_SERVICE,
    GCP_COMPUTE_BACKEND_SERVICE,
    GCP_COMPUTE_DISK,
    GCP_COMPUTE_INSTANCE,
    GCP_SERVICEACCOUNT_ACCOUNT,
    GCP_SQL_DATABASE_INSTANCE,
    GCP_STORAGE_BUCKET,
)

STACK = "gcp-prod"
PROD = PROFILES["prod"]
HTTP_FAMILY = {"http", "http2", "grpc", "websocket"}
NO_PIXEL_STREAMING = {"pixel_streaming": None}
PAIRS = ["paissive-income", "monte-carlo", "brahminykite", "reference"]


def as_run(name: str) -> dict[str, Any]:
    """The blueprint as the GCP pair runs it (reference without Pixel Streaming)."""
    found = dict(blueprint(name))
    if name == "reference":
        found.pop("pixel_streaming")
    return found


@cache
def preview(name: str) -> PreviewResult:
    overrides = {"overrides": NO_PIXEL_STREAMING} if name == "reference" else {}
    return run_program(STACK, stack_config(STACK, blueprint=name, **overrides))


def on_cloud_run(workload: Workload) -> bool:
    ports = workload.spec.get("ports", []) if workload.tool_port is None else [{"app_protocol": "grpc"}]
    http_only = len(ports) <= 1 and all(
        p.get("protocol", "tcp") == "tcp" and p.get("app_protocol", "http") in HTTP_FAMILY for p in ports
    )
    probe = workload.health["kind"] != "command"
    stateless = all(v.get("shared") for v in workload.volumes.values())
    return http_only and probe and stateless and workload.gpu <= 1


def by_name(result: PreviewResult, token: str) -> dict[str, Any]:
    return {r.name: r for r in result.of_type(token)}


@pytest.mark.parametrize("name", PAIRS)
def test_resource_counts_follow_the_blueprint(name: str) -> None:
    bp, result = as_run(name), preview(name)
    items = workloads(bp)
    cloud_run = [w for w in items if on_cloud_run(w)]
    vms = [w for w in items if not on_cloud_run(w)]
    assert sorted(by_name(result, GCP_CLOUDRUNV2_SERVICE)) == sorted(w.name for w in cloud_run)
    assert sorted(by_name(result, GCP_COMPUTE_INSTANCE)) == sorted(w.name for w in vms)
    assert len(result.of_type(GCP_SERVICEACCOUNT_ACCOUNT)) == len(items)
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
    expected = {n for n in routed if not n.endswith("-api")} | fleets
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
def test_pixel_streaming_stops_with_a_clear_error(name: str) -> None:
    with pytest.raises(pulumi.RunError) as caught:
        run_program(STACK, stack_config(STACK, blueprint=name))
    message = str(caught.value)
    for streaming in blueprint(name)["pixel_streaming"]:
        assert f"pixel_streaming.{streaming}" in message
    assert "Pixel Streaming is not built on the gcp target" in message
