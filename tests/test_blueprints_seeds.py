"""The seed systems as blueprints: bem, paissive-income, monte-carlo and brahminykite.

Each blueprint in ``blueprints/`` models one document of ``../shared/seeds/``. Every pair the issue
names runs once (the real program under the mock runtime, as ``python -m preview STACK --blueprint
NAME --target TARGET`` does) and is shared by the tests of that pair: dev on Docker, staging on
Kubernetes, prod on AWS. The ``run`` fixture of ``tests/conftest.py`` is function-scoped, so the
pairs are run with its two building blocks (``stack_config`` + ``run_program``), cached for the
session: one run per pair (plus one for the prod overrides docs/blueprints/monte-carlo.md gives).

Counts are derived from the blueprint YAML loaded here (never copied from program output); the
seed properties (ports, replicas and autoscaling ranges, GPUs, instance types, architectures and
health paths) are read from the YAML too, so a test names the seed figure that drifted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from preview.mocks import Recorded
from preview.policies import evaluate
from preview.report import Violation
from preview.runner import PreviewResult, run_program
from stacks.units import parse_memory_mib
from tests.conftest import stack_config
from tests.docker_checks import edge_conf, env_of, is_carrier
from tests.tokens import (
    AWS_APPAUTOSCALING_TARGET,
    AWS_AUTOSCALING_GROUP,
    AWS_ECS_CAPACITY_PROVIDER,
    AWS_ECS_SERVICE,
    AWS_ECS_TASK_DEFINITION,
    AWS_EFS_FILE_SYSTEM,
    AWS_LB_TARGET_GROUP,
    AWS_RDS_INSTANCE,
    DOCKER_CONTAINER,
    DOCKER_REMOTE_IMAGE,
    DOCKER_VOLUME,
    K8S_CONFIG_MAP,
    K8S_CRON_JOB,
    K8S_DEPLOYMENT,
    K8S_GRPC_ROUTE,
    K8S_HORIZONTAL_POD_AUTOSCALER,
    K8S_HTTP_ROUTE,
    K8S_PERSISTENT_VOLUME_CLAIM,
    K8S_POD_DISRUPTION_BUDGET,
    K8S_STATEFUL_SET,
)

ROOT = Path(__file__).resolve().parent.parent
TARGET_OF = {"dev": "docker", "staging": "kubernetes", "prod": "aws"}
# The targets the tests below have a branch for (the last branch of each is AWS's): a stack moved to
# another target fails test_every_stack_target_has_expectations instead of running AWS's branch.
COVERED = ("docker", "kubernetes", "aws")
PAIRS = [
    ("bem", "dev"),
    ("bem", "prod"),
    *[(name, stack) for name in ("paissive-income", "monte-carlo", "brahminykite") for stack in TARGET_OF],
]
COMPONENT = "gpu-platform:components:"
DEPLOYMENT = K8S_DEPLOYMENT
STATEFUL_SET = K8S_STATEFUL_SET
HPA = K8S_HORIZONTAL_POD_AUTOSCALER
ECS_SERVICE = AWS_ECS_SERVICE
GPU = "nvidia.com/gpu"
PROFILE_GPU_SHARE = {"dev": "0.4", "staging": "0.6", "prod": "0.8"}


# -- the blueprint as written ----------------------------------------------------------------------


@cache
def blueprint(name: str) -> dict[str, Any]:
    """``blueprints/<name>.yaml`` as loaded (read-only: the cache shares it)."""
    return yaml.safe_load((ROOT / "blueprints" / f"{name}.yaml").read_text())


@dataclass(frozen=True)
class Workload:
    """One container workload of a blueprint, by the resource name every target gives it."""

    name: str
    key: str  # key path in the blueprint, as the program's placement output names it
    spec: dict[str, Any]
    tool_port: int | None = None  # gRPC tools have one port and a fixed gRPC health check
    route: str | None = None  # the public path, for services, gateways, fleet APIs and signalling

    @property
    def image(self) -> str:
        return self.spec["image"]

    @property
    def autoscale(self) -> dict[str, Any] | None:
        return self.spec.get("autoscale")

    @property
    def running(self) -> int:
        """Replicas a target without an autoscaler runs (Docker): the autoscaling minimum."""
        return self.autoscale["min"] if self.autoscale else self.spec.get("replicas", 1)

    @property
    def most(self) -> int:
        return self.autoscale["max"] if self.autoscale else self.spec.get("replicas", 1)

    @property
    def volumes(self) -> dict[str, Any]:
        return self.spec.get("volumes", {})

    @property
    def ports(self) -> list[int]:
        if self.tool_port is not None:
            return [self.tool_port]
        return [p["container_port"] for p in self.spec.get("ports", [])]

    @property
    def health(self) -> dict[str, Any]:
        if self.tool_port is not None:
            return {"kind": "grpc"}
        return {"kind": "http", "path": "/health", **self.spec.get("health", {})}

    @property
    def gpu(self) -> float:
        return float(self.spec.get("requests", {}).get("gpu", 0))

    @property
    def user(self) -> str:
        return self.spec.get("user", "10001:10001")


def workloads(bp: dict[str, Any]) -> list[Workload]:
    """Every workload the blueprint declares (TURN relays and databases are counted separately)."""
    found: list[Workload] = []
    for name, spec in bp.get("services", {}).items():
        found.append(Workload(name, f"services.{name}", spec, route=(spec.get("route") or {}).get("path")))
    for name, gateway in bp.get("websocket_gateways", {}).items():
        key = f"websocket_gateways.{name}.service"
        found.append(Workload(name, key, gateway["service"], route=gateway.get("path", "/ws")))
    for name, fleet in bp.get("grpc_tool_fleets", {}).items():
        key = f"grpc_tool_fleets.{name}"
        found.append(Workload(f"{name}-api", f"{key}.api", fleet["api"], route=fleet["api"]["route"]["path"]))
        for tool, spec in fleet["tools"].items():
            found.append(Workload(f"{name}-{tool}", f"{key}.tools.{tool}", spec, tool_port=spec["port"]))
    for name, streaming in bp.get("pixel_streaming", {}).items():
        key = f"pixel_streaming.{name}"
        found.append(Workload(f"{name}-streamer", f"{key}.streamer", streaming["streamer"]))
        signalling = streaming["signalling"]
        path = signalling.get("path", "/ws")
        found.append(Workload(f"{name}-signalling", f"{key}.signalling.service", signalling["service"], route=path))
        if streaming.get("matchmaker"):
            found.append(Workload(f"{name}-matchmaker", f"{key}.matchmaker", streaming["matchmaker"]))
    return found


def by_name(bp: dict[str, Any]) -> dict[str, Workload]:
    return {w.name: w for w in workloads(bp)}


def public_tools(bp: dict[str, Any]) -> dict[str, int]:
    """``<fleet>-<tool>`` -> gRPC port of every tool its fleet exposes at the edge."""
    return {
        f"{name}-{tool}": spec["port"]
        for name, fleet in bp.get("grpc_tool_fleets", {}).items()
        if fleet.get("public_grpc")
        for tool, spec in fleet["tools"].items()
    }


# -- one preview run per pair ----------------------------------------------------------------------


@cache
def preview(name: str, stack: str) -> PreviewResult:
    """``python -m preview STACK --blueprint NAME --target TARGET`` under the mock runtime, once."""
    return run_program(stack, stack_config(stack, blueprint=name, target=TARGET_OF[stack]))


@cache
def verdicts(name: str, stack: str) -> tuple[Violation, ...]:
    result = preview(name, stack)
    return tuple(evaluate(result.resources, result.outputs["environment"]))


def count(result: PreviewResult, token: str) -> int:
    """Resources of a type, leaving out the Docker target's file carriers and their volumes (not workloads)."""
    return len([r for r in result.of_type(token) if not is_carrier(r)])


def k8s_container(result: PreviewResult, name: str) -> dict[str, Any]:
    """The container of the Deployment or StatefulSet ``name``."""
    (found,) = [r for r in result.of_type(DEPLOYMENT) + result.of_type(STATEFUL_SET) if r.name == name]
    (box,) = found.inputs["spec"]["template"]["spec"]["containers"]
    return box


def k8s_workload(result: PreviewResult, name: str) -> Recorded:
    (found,) = [r for r in result.of_type(DEPLOYMENT) + result.of_type(STATEFUL_SET) if r.name == name]
    return found


def k8s_env(box: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in box.get("env", [])}


def task(result: PreviewResult, name: str) -> tuple[Recorded, dict[str, Any]]:
    """The ECS task definition of ``name`` and its main container definition."""
    definition = result.named(f"{name}-task")
    main = next(c for c in json.loads(definition.inputs["containerDefinitions"]) if c["name"] == name)
    return definition, main


def task_env(main: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in main["environment"]}


def target_groups(result: PreviewResult) -> dict[str, dict[str, Any]]:
    """ALB target groups (HTTP/gRPC, not the NLB's) by route name."""
    return {
        r.name.removesuffix("-tg"): r.inputs
        for r in result.of_type(AWS_LB_TARGET_GROUP)
        if r.inputs.get("protocol") == "HTTP"
    }


def docker_health(box: Recorded) -> str:
    return " ".join(box.inputs["healthcheck"]["tests"])


def replicas_of(result: PreviewResult, name: str) -> list[Recorded]:
    """The Docker containers of workload ``name`` (one per replica)."""
    return [r for r in result.of_type(DOCKER_CONTAINER) if _alias(r) == name]


def _alias(box: Recorded) -> str | None:
    networks = box.inputs.get("networksAdvanced") or [{}]
    aliases = networks[0].get("aliases") or [None]
    return aliases[0]


def gpu_pools(bp: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: pool for name, pool in bp["pools"].items() if pool.get("gpus", 0) > 0}


# -- every pair: counts, images, users, policies -----------------------------------------------------


@pytest.mark.parametrize(("name", "stack"), PAIRS)
def test_component_counts_follow_the_blueprint(name: str, stack: str) -> None:
    bp, result = blueprint(name), preview(name, stack)
    expected = {
        "GpuNode": len(bp["pools"]),
        "ManagedPostgres": len(bp.get("databases", {})),
        "Service": len(bp.get("services", {})),
        # a Pixel Streaming signalling server is a WebSocketGateway of its own
        "WebSocketGateway": len(bp.get("websocket_gateways", {})) + len(bp.get("pixel_streaming", {})),
        "GrpcToolFleet": len(bp.get("grpc_tool_fleets", {})),
        "PixelStreaming": len(bp.get("pixel_streaming", {})),
    }
    assert {kind: count(result, COMPONENT + kind) for kind in expected} == expected


def test_every_stack_target_has_expectations() -> None:
    assert set(TARGET_OF.values()) <= set(COVERED)


@pytest.mark.parametrize(("name", "stack"), PAIRS)
def test_target_resource_counts_follow_the_blueprint(name: str, stack: str) -> None:
    bp, result = blueprint(name), preview(name, stack)
    items = workloads(bp)
    databases = len(bp.get("databases", {}))
    turns = len(bp.get("pixel_streaming", {}))
    volumes = sum(len(w.volumes) for w in items)
    routes = [w for w in items if w.route is not None]
    target = TARGET_OF[stack]
    if target == "docker":  # dev: no autoscaler (the minimum runs), no backups, one edge
        assert count(result, DOCKER_CONTAINER) == sum(w.running for w in items) + databases + turns + 1
        assert count(result, DOCKER_REMOTE_IMAGE) == len(items) + databases + turns + 1
        assert count(result, DOCKER_VOLUME) == volumes + databases
    elif target == "kubernetes":  # staging: Postgres as a StatefulSet with data and backup claims, daily CronJob
        # A workload owning a single-writer volume is a StatefulSet; shared (RWX) volumes stay on a Deployment.
        stateful = [w for w in items if any(not v.get("shared") for v in w.volumes.values())]
        assert count(result, DEPLOYMENT) == len(items) - len(stateful) + turns
        assert count(result, STATEFUL_SET) == len(stateful) + databases
        assert count(result, HPA) == len([w for w in items if w.autoscale])
        assert count(result, K8S_POD_DISRUPTION_BUDGET) == len([w for w in items if w.most > 1])
        assert count(result, K8S_PERSISTENT_VOLUME_CLAIM) == volumes + 2 * databases
        assert count(result, K8S_CRON_JOB) == databases
        backed = [
            r
            for r in result.of_type(K8S_HTTP_ROUTE)
            if any(rule.get("backendRefs") for rule in r.inputs["spec"]["rules"])
        ]
        assert len(backed) == len(routes)
        assert count(result, K8S_GRPC_ROUTE) == len(public_tools(bp))
    else:  # prod on AWS: every workload an ECS service, RDS primary + read replica, EFS per volume
        assert count(result, ECS_SERVICE) == len(items) + turns
        assert count(result, AWS_ECS_TASK_DEFINITION) == len(items) + turns
        assert count(result, AWS_APPAUTOSCALING_TARGET) == len([w for w in items if w.autoscale])
        assert count(result, AWS_EFS_FILE_SYSTEM) == volumes
        assert count(result, AWS_RDS_INSTANCE) == 2 * databases
        assert len(target_groups(result)) == len(routes) + len(public_tools(bp))
        assert count(result, AWS_ECS_CAPACITY_PROVIDER) == len(gpu_pools(bp))
        assert count(result, AWS_AUTOSCALING_GROUP) == len(gpu_pools(bp))


@pytest.mark.parametrize(("name", "stack"), PAIRS)
def test_every_workload_runs_its_pinned_image_as_its_user(name: str, stack: str) -> None:
    result = preview(name, stack)
    target = TARGET_OF[stack]
    for w in workloads(blueprint(name)):
        assert not w.image.endswith(":latest"), w.name
        if target == "docker":
            assert result.named(f"{w.name}-image").inputs["name"] == w.image
            assert {box.inputs["user"] for box in replicas_of(result, w.name)} == {w.user}, w.name
        elif target == "kubernetes":
            box = k8s_container(result, w.name)
            uid, gid = (int(part) for part in w.user.split(":"))
            assert box["image"] == w.image, w.name
            assert (box["securityContext"]["runAsUser"], box["securityContext"]["runAsGroup"]) == (uid, gid), w.name
            assert box["securityContext"]["runAsNonRoot"] is True, w.name
        else:
            _, main = task(result, w.name)
            assert (main["image"], main["user"]) == (w.image, w.user), w.name


@pytest.mark.parametrize(("name", "stack"), PAIRS)
def test_every_workload_has_the_ports_and_health_check_the_blueprint_gives(name: str, stack: str) -> None:
    result = preview(name, stack)
    target = TARGET_OF[stack]
    for w in workloads(blueprint(name)):
        health = w.health
        if target == "docker":
            boxes = replicas_of(result, w.name)
            assert boxes, w.name
            for box in boxes:
                test = docker_health(box)
                if health["kind"] == "http":
                    assert f"http://127.0.0.1:{w.ports[0]}{health['path']}" in test, w.name
                elif health["kind"] == "grpc":
                    assert f"grpc_health_probe -addr=127.0.0.1:{w.ports[0]}" in test, w.name
                else:
                    assert test == " ".join(["CMD", *health["command"]]), w.name
        elif target == "kubernetes":
            box = k8s_container(result, w.name)
            assert [p["containerPort"] for p in box.get("ports", [])] == w.ports, w.name
            probe = box["livenessProbe"]
            if health["kind"] == "http":
                assert probe["httpGet"] == {"path": health["path"], "port": w.ports[0]}, w.name
            elif health["kind"] == "grpc":
                assert probe["grpc"] == {"port": w.ports[0]}, w.name
            else:
                assert probe["exec"]["command"] == health["command"], w.name
            assert box["readinessProbe"].keys() == probe.keys(), w.name
        else:
            _, main = task(result, w.name)
            assert [p["containerPort"] for p in main["portMappings"]] == w.ports, w.name
            check = " ".join(main["healthCheck"]["command"])
            if health["kind"] == "http":
                assert f"http://127.0.0.1:{w.ports[0]}{health['path']}" in check, w.name
            elif health["kind"] == "grpc":
                assert f"-addr=127.0.0.1:{w.ports[0]}" in check, w.name


@pytest.mark.parametrize(("name", "stack"), PAIRS)
def test_every_workload_runs_its_replicas_and_autoscaling_range(name: str, stack: str) -> None:
    result = preview(name, stack)
    target = TARGET_OF[stack]
    hpas = {r.inputs["spec"]["scaleTargetRef"]["name"]: r.inputs["spec"] for r in result.of_type(HPA)}
    for w in workloads(blueprint(name)):
        if target == "docker":  # no autoscaler: the minimum runs
            assert len(replicas_of(result, w.name)) == w.running, w.name
        elif target == "kubernetes":
            assert k8s_workload(result, w.name).inputs["spec"]["replicas"] == w.running, w.name
            if w.autoscale:
                spec = hpas[w.name]
                assert (spec["minReplicas"], spec["maxReplicas"]) == (w.autoscale["min"], w.autoscale["max"]), w.name
                target_cpu = spec["metrics"][0]["resource"]["target"]["averageUtilization"]
                assert target_cpu == w.autoscale.get("cpu_percent", 70), w.name
            else:
                assert w.name not in hpas, w.name
        else:
            assert result.named(f"{w.name}-service").inputs["desiredCount"] == w.running, w.name
            if w.autoscale:
                scaling = result.named(f"{w.name}-scaling").inputs
                assert (scaling["minCapacity"], scaling["maxCapacity"]) == (w.autoscale["min"], w.autoscale["max"])
                policy = result.named(f"{w.name}-cpu-tracking").inputs["targetTrackingScalingPolicyConfiguration"]
                assert policy["targetValue"] == w.autoscale.get("cpu_percent", 70), w.name


@pytest.mark.parametrize(("name", "stack"), PAIRS)
def test_every_workload_lands_on_its_pool_and_architecture(name: str, stack: str) -> None:
    bp, result = blueprint(name), preview(name, stack)
    placement = result.outputs["placement"]
    target = TARGET_OF[stack]
    for w in workloads(bp):
        pool_name = placement[w.key]
        pool = bp["pools"][pool_name]
        assert pool_name == w.spec.get("pool", pool_name), w.name
        assert (pool.get("gpus", 0) > 0) == (w.gpu > 0), f"{w.name}: GPU work on GPU pools, CPU work elsewhere"
        arch = pool.get("architecture", "amd64")
        assert arch in w.spec.get("architectures", ["amd64", "arm64"]), w.name
        if target == "docker":
            assert result.named(f"{w.name}-image").inputs["platform"] == f"linux/{arch}", w.name
        elif target == "kubernetes":
            selector = k8s_workload(result, w.name).inputs["spec"]["template"]["spec"].get("nodeSelector", {})
            assert selector == pool["targets"]["kubernetes"]["node_selector"], w.name
            assert selector["kubernetes.io/arch"] == arch, w.name
        else:
            definition, _ = task(result, w.name)
            platform = definition.inputs["runtimePlatform"]["cpuArchitecture"]
            assert platform == {"amd64": "X86_64", "arm64": "ARM64"}[arch], w.name
            compatibility = definition.inputs["requiresCompatibilities"]
            assert compatibility == (["EC2"] if w.gpu > 0 else ["FARGATE"]), w.name


@pytest.mark.parametrize(("name", "stack"), [(n, s) for n, s in PAIRS if gpu_pools(blueprint(n))])
def test_gpu_requests_reach_the_runtime(name: str, stack: str) -> None:
    bp, result = blueprint(name), preview(name, stack)
    target = TARGET_OF[stack]
    environment_share = float(PROFILE_GPU_SHARE[result.outputs["environment"]])
    gpu_work = [w for w in workloads(bp) if w.gpu > 0]
    assert gpu_work, name
    for w in gpu_work:
        # The card memory a workload may take: its share of the card times the environment's GPU share.
        share = f"{round(min(w.gpu, 1.0) * environment_share, 3):g}"
        pool = bp["pools"][result.outputs["placement"][w.key]]
        if target == "docker":
            (box, *_) = replicas_of(result, w.name)
            (request,) = box.inputs["deviceRequests"]
            assert len(request["deviceIds"]) == max(1, int(w.gpu)), w.name
            assert env_of(box)["GPU_MEMORY_FRACTION"] == share
        elif target == "kubernetes":
            box = k8s_container(result, w.name)
            slices = pool["targets"]["kubernetes"]["time_slicing_replicas"]
            assert box["resources"]["limits"][GPU] == str(math.ceil(w.gpu * slices - 1e-9)), w.name
            assert GPU not in box["resources"]["requests"], w.name
            assert k8s_env(box)["GPU_MEMORY_FRACTION"] == share
        else:
            _, main = task(result, w.name)
            # ECS reserves whole GPUs: a fraction below 1 reserves one (no MPS through pulumi-aws).
            assert main["resourceRequirements"] == [{"type": "GPU", "value": str(max(1, int(w.gpu)))}], w.name
            assert task_env(main)["GPU_MEMORY_FRACTION"] == share


@pytest.mark.parametrize(("name", "stack"), PAIRS)
def test_no_mandatory_policy_violation(name: str, stack: str) -> None:
    mandatory = [v for v in verdicts(name, stack) if v.enforcement == "mandatory"]
    assert mandatory == [], "\n".join(f"{v.policy}: {v.message}" for v in mandatory)


# -- bem -------------------------------------------------------------------------------------------

BEM_HEALTH = {  # the seed's "Health Endpoints" table
    "automated-admin": "/behavior_analytics",
    "ecm-gateway": "/health",
    "cytoscape-ui": "/health",
    "dgl-training": "/health",
    "dgl-training-gpu": "/health",
    "unreal-streamer": "/health",
}


class TestBemOnDocker:
    NAME, STACK = "bem", "dev"

    @property
    def result(self) -> PreviewResult:
        return preview(self.NAME, self.STACK)  # one run per pair, cached

    @property
    def bp(self) -> dict[str, Any]:
        return blueprint(self.NAME)

    def test_seed_health_endpoints(self) -> None:
        items = by_name(self.bp)
        for name, path in BEM_HEALTH.items():
            health = items[name].health
            assert (health["kind"], health["path"]) == ("http", path), name
            for box in replicas_of(self.result, name):
                assert f"127.0.0.1:{items[name].ports[0]}{path} " in docker_health(box), name

    def test_seed_scaling(self) -> None:
        # AA: auto-scale 1-3 instances; ECM: fixed 1-2 instances, always on (never scaled to zero).
        items = by_name(self.bp)
        assert items["automated-admin"].autoscale == {"min": 1, "max": 3, "cpu_percent": 70}
        assert items["ecm-gateway"].autoscale == {"min": 1, "max": 2, "cpu_percent": 70}
        for name in ("automated-admin", "ecm-gateway"):
            assert len(replicas_of(self.result, name)) == 1, name

    def test_render_plans(self) -> None:
        # starter: 0.5 CPU / 512 MB (the seed's "limited to 512MB"); standard: 1 CPU / 2 GB (always-on ECM).
        for name, memory, cpus in (("automated-admin", 512, 0.5), ("ecm-gateway", 2048, 1), ("dgl-training", 2048, 1)):
            (box,) = replicas_of(self.result, name)
            assert (box.inputs["memory"], float(box.inputs["cpus"])) == (memory, cpus), name

    def test_gpu_work_shares_device_zero_of_the_gpu_pool(self) -> None:
        # The seed's GPU host runs Unreal and the GPU trainer side by side on GPU 0 (CUDA_VISIBLE_DEVICES=0).
        (gpu_pool,) = gpu_pools(self.bp)
        placement = self.result.outputs["placement"]
        assert placement["services.dgl-training-gpu"] == placement["pixel_streaming.unreal.streamer"] == gpu_pool
        assert placement["services.dgl-training"] != gpu_pool  # the CPU version stays on the Render layer
        for name in ("dgl-training-gpu", "unreal-streamer"):
            (box,) = replicas_of(self.result, name)
            (request,) = box.inputs["deviceRequests"]
            assert request["deviceIds"] == ["0"], name
        assert sum(by_name(self.bp)[n].gpu for n in ("dgl-training-gpu", "unreal-streamer")) == 1
        (trainer,) = replicas_of(self.result, "dgl-training-gpu")
        assert env_of(trainer)["CUDA_VISIBLE_DEVICES"] == "0"

    def test_edge_routes_websockets_with_affinity(self) -> None:
        conf = edge_conf(self.result)
        for w in workloads(self.bp):
            if w.route is not None:
                assert f"location {w.route} " in conf, w.name
        gateway = self.bp["websocket_gateways"]["ecm-gateway"]
        assert f"proxy_read_timeout {gateway['idle_timeout_s']}s;" in conf
        assert "proxy_pass http://$edge_backend_" in conf  # resolved per request through Docker's DNS
        assert self.result.outputs["urls"]["ecm-gateway"] == f"ws://localhost:8080{gateway['path']}"

    def test_turn_relay_for_pixel_streaming(self) -> None:
        turn = self.bp["pixel_streaming"]["unreal"]["turn"]
        (relay,) = replicas_of(self.result, "unreal-turn")
        published = {(p["external"], p["protocol"]) for p in relay.inputs["ports"]}
        assert {(turn["listening_port"], "udp"), (turn["listening_port"], "tcp")} <= published
        assert (turn["relay_max_port"], "udp") in published


class TestBemOnAws:
    NAME, STACK = "bem", "prod"

    @property
    def result(self) -> PreviewResult:
        return preview(self.NAME, self.STACK)  # one run per pair, cached

    @property
    def bp(self) -> dict[str, Any]:
        return blueprint(self.NAME)

    def test_gpu_pool_is_a_g5_xlarge_on_ec2(self) -> None:
        ((name, pool),) = gpu_pools(self.bp).items()
        settings = pool["targets"]["aws"]
        # the seed: g5.xlarge, 4 vCPUs, 16 GB RAM, 1x NVIDIA A10G
        assert (pool["cpu"], pool["memory"], pool["gpus"], pool["gpu_model"]) == (4, "16Gi", 1, "A10G")
        assert (settings["capacity"], settings["instance_type"]) == ("ec2", "g5.xlarge")
        assert self.result.named(f"{name}-launch-template").inputs["instanceType"] == settings["instance_type"]
        group = self.result.named(f"{name}-asg").inputs
        assert (group["minSize"], group["maxSize"]) == (settings["min_size"], settings["max_size"])

    def test_gpu_tasks_fit_one_instance(self) -> None:
        # On EC2 containers reserve their requests (cpu, memoryReservation): together they must fit one instance.
        ((name, pool),) = gpu_pools(self.bp).items()
        on_pool = [
            self.result.named(r.name.removesuffix("-service") + "-task").inputs
            for r in self.result.of_type(ECS_SERVICE)
            if any(s["capacityProvider"].endswith(f"-{name}") for s in r.inputs.get("capacityProviderStrategies", []))
        ]
        assert len(on_pool) == 3  # streamer, GPU trainer, TURN relay
        assert all("cpu" not in t and "memory" not in t for t in on_pool), "EC2 tasks reserve per container"
        containers = [c for t in on_pool for c in json.loads(t["containerDefinitions"])]
        assert sum(c.get("cpu", 0) for c in containers) <= pool["cpu"] * 1024
        assert sum(c["memoryReservation"] for c in containers) <= parse_memory_mib(pool["memory"])

    def test_alb_health_checks_use_the_seed_paths(self) -> None:
        groups = target_groups(self.result)
        for name in ("automated-admin", "ecm-gateway", "cytoscape-ui"):
            assert groups[name]["healthCheck"]["path"] == BEM_HEALTH[name]
        gateway = self.bp["websocket_gateways"]["ecm-gateway"]
        assert groups["ecm-gateway"]["stickiness"]["type"] == "lb_cookie"
        assert groups["ecm-gateway"]["deregistrationDelay"] == gateway["drain_s"]

    def test_postgres_is_rds_with_replica_and_backups(self) -> None:
        primary = self.result.named("bem-postgresql-primary").inputs
        assert (primary["multiAz"], primary["backupRetentionPeriod"]) == (True, 30)
        assert primary["dbName"] == self.bp["databases"]["bem-postgresql"]["database"]


# -- paissive-income -------------------------------------------------------------------------------


class TestPaissiveIncome:
    NAME = "paissive-income"

    @property
    def bp(self) -> dict[str, Any]:
        return blueprint(self.NAME)

    def test_seed_figures_in_the_blueprint(self) -> None:
        server = self.bp["services"]["model-server"]
        assert server["ports"][0]["container_port"] == 8000
        assert server["autoscale"] == {"min": 1, "max": 5, "cpu_percent": 80}
        assert (server["requests"]["cpu"], server["requests"]["memory"]) == ("500m", "1Gi")
        assert (server["limits"]["cpu"], server["limits"]["memory"]) == (1, "4Gi")
        assert server["volumes"]["models"]["path"] == "/app/models"
        assert self.bp["services"]["web"]["ports"][0]["container_port"] == 5000

    def test_docker(self) -> None:
        result = preview(self.NAME, "dev")
        items = by_name(self.bp)
        for name in ("web", "agent-team", "model-server", "cache"):
            assert len(replicas_of(result, name)) == items[name].running, name
        (server,) = replicas_of(result, "model-server")
        env = env_of(server)
        assert (env["LOG_LEVEL"], env["MAX_BATCH_SIZE"]) == ("INFO", "4")
        assert server.inputs["memory"] == 4096
        assert server.inputs["memoryReservation"] == 1024
        assert server.inputs["volumes"][0] == {"volumeName": "dev-model-server-models", "containerPath": "/app/models"}
        (cache_box,) = replicas_of(result, "cache")
        assert cache_box.inputs["command"][:2] == ["--save", ""]
        assert result.outputs["urls"]["web"] == "http://localhost:8080/"

    def test_kubernetes(self) -> None:
        result = preview(self.NAME, "staging")
        (hpa,) = result.of_type(HPA)
        spec = hpa.inputs["spec"]
        scale = self.bp["services"]["model-server"]["autoscale"]
        assert (spec["scaleTargetRef"]["name"], spec["minReplicas"], spec["maxReplicas"]) == (
            "model-server",
            scale["min"],
            scale["max"],
        )
        assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == scale["cpu_percent"]
        box = k8s_container(result, "model-server")
        assert box["resources"] == {
            "requests": {"cpu": "500m", "memory": "1024Mi"},
            "limits": {"cpu": "1000m", "memory": "4096Mi"},
        }
        assert {"mountPath": "/app/models", "name": "models"} in box["volumeMounts"]
        for name in ("web", "agent-team"):
            assert k8s_workload(result, name).inputs["spec"]["replicas"] == self.bp["services"][name]["replicas"]

    def test_aws(self) -> None:
        result = preview(self.NAME, "prod")
        scale = self.bp["services"]["model-server"]["autoscale"]
        scaling = result.named("model-server-scaling").inputs
        assert (scaling["minCapacity"], scaling["maxCapacity"]) == (scale["min"], scale["max"])
        policy = result.named("model-server-cpu-tracking").inputs
        assert policy["targetTrackingScalingPolicyConfiguration"]["targetValue"] == scale["cpu_percent"]
        definition, main = task(result, "model-server")
        assert (definition.inputs["cpu"], definition.inputs["memory"]) == ("512", "1024")  # the requests on Fargate
        assert {m["containerPath"] for m in main["mountPoints"]} >= {"/app/models"}
        for name in ("web", "agent-team"):
            assert result.named(f"{name}-service").inputs["desiredCount"] == self.bp["services"][name]["replicas"]
        assert target_groups(result)["web"]["port"] == 5000


# -- monte-carlo -----------------------------------------------------------------------------------

# The seed's resource-limit table, which the backend gets from the environment profile.
MONTE_CARLO_LIMITS = {"dev": (4096, 2), "staging": (6144, 4), "prod": (8192, 6)}


class TestMonteCarlo:
    NAME = "monte-carlo"

    @property
    def bp(self) -> dict[str, Any]:
        return blueprint(self.NAME)

    def test_services_of_the_seed(self) -> None:
        assert set(self.bp["services"]) == {"frontend", "backend", "redis", "prometheus", "grafana"}
        assert self.bp["services"]["frontend"]["ports"][0]["container_port"] == 3000
        backend = self.bp["services"]["backend"]
        assert (backend["ports"][0]["container_port"], backend["route"]["path"]) == (9090, "/api/")
        assert backend["health"]["path"] == "/api/health"
        assert "limits" not in backend  # the profile's 4/6/8 GB, 2/4/6 cores apply

    def test_docker(self) -> None:
        result = preview(self.NAME, "dev")
        (backend,) = replicas_of(result, "backend")
        memory, cpus = MONTE_CARLO_LIMITS["dev"]
        assert (backend.inputs["memory"], float(backend.inputs["cpus"])) == (memory, cpus)
        (request,) = backend.inputs["deviceRequests"]
        assert len(request["deviceIds"]) == self.bp["services"]["backend"]["requests"]["gpu"]
        assert env_of(backend)["GPU_MEMORY_FRACTION"] == PROFILE_GPU_SHARE["dev"]
        # the seed's dev URLs: localhost:3000 and localhost:9090/api, on the loopback only
        (frontend,) = replicas_of(result, "frontend")
        assert frontend.inputs["ports"] == [{"internal": 3000, "external": 3000, "ip": "127.0.0.1", "protocol": "tcp"}]
        assert backend.inputs["ports"] == [{"internal": 9090, "external": 9090, "ip": "127.0.0.1", "protocol": "tcp"}]
        urls = result.outputs["urls"]
        assert (urls["frontend"], urls["backend"]) == ("http://localhost:8080/", "http://localhost:8080/api/")

    def test_kubernetes(self) -> None:
        result = preview(self.NAME, "staging")
        box = k8s_container(result, "backend")
        memory, cpus = MONTE_CARLO_LIMITS["staging"]
        assert box["resources"]["limits"] == {"cpu": f"{cpus * 1000}m", "memory": f"{memory}Mi", GPU: "1"}
        assert k8s_env(box)["GPU_MEMORY_FRACTION"] == PROFILE_GPU_SHARE["staging"]
        pod = k8s_workload(result, "backend").inputs["spec"]["template"]["spec"]
        assert pod["nodeSelector"].items() >= self.bp["pools"]["gpu"]["targets"]["kubernetes"]["node_selector"].items()
        # one dedicated GPU: no time-slicing config for a pool that is not shared
        assert not [r for r in result.of_type(K8S_CONFIG_MAP) if r.name.endswith("-time-slicing")]
        (backup,) = result.of_type(K8S_CRON_JOB)
        assert backup.inputs["spec"]["schedule"] == "0 3 * * *"  # staging: daily, 7 days

    def test_aws(self) -> None:
        result = preview(self.NAME, "prod")
        definition, main = task(result, "backend")
        memory, cpus = MONTE_CARLO_LIMITS["prod"]
        assert definition.inputs["requiresCompatibilities"] == ["EC2"]
        assert main["memory"] == memory  # the profile's limit caps the container; requests are reserved
        assert main["memoryReservation"] <= memory
        assert main["resourceRequirements"] == [{"type": "GPU", "value": "1"}]
        assert task_env(main)["GPU_MEMORY_FRACTION"] == PROFILE_GPU_SHARE["prod"]
        pool = self.bp["pools"]["gpu"]
        instance = result.named("gpu-launch-template").inputs["instanceType"]
        assert instance == pool["targets"]["aws"]["instance_type"] == "g5.2xlarge"
        assert main["cpu"] <= pool["cpu"] * 1024  # the reservation fits one instance
        assert cpus <= pool["cpu"]  # and so does the prod limit
        primary = result.named("monte-carlo-db-primary").inputs
        assert (primary["multiAz"], primary["backupRetentionPeriod"]) == (True, 30)
        assert count(result, AWS_RDS_INSTANCE) == 2  # "PostgreSQL with clustering": + read replica
        assert target_groups(result)["backend"]["healthCheck"]["path"] == "/api/health"

    def test_prod_overrides_from_the_docs(self) -> None:
        # docs/blueprints/monte-carlo.md: primary + replica backend, a GPU each, 50 GB of storage.
        overrides = {
            "pools": {"gpu": {"cpu": 16, "memory": "64Gi", "gpus": 2}},
            "services": {"backend": {"replicas": 2}},
            "databases": {"monte-carlo-db": {"storage": "50Gi"}},
        }
        config = stack_config("prod", blueprint=self.NAME, overrides=overrides, pools={"gpu": {"min_size": 2}})
        result = run_program("prod", config)
        assert result.named("backend-service").inputs["desiredCount"] == 2
        assert result.named("gpu-asg").inputs["minSize"] == 2
        assert result.named("monte-carlo-db-primary").inputs["allocatedStorage"] == 50
        assert [v for v in evaluate(result.resources, "prod") if v.enforcement == "mandatory"] == []


# -- brahminykite ----------------------------------------------------------------------------------

SEED_TOOLS = {  # the seed's architecture diagram and docker-compose.yml
    "empirical": 50051,
    "contextual": 50052,
    "consistency": 50053,
    "power": 50054,
    "utility": 50055,
    "evolution": 50056,
}
FLEET = "brahminy-kite"


class TestBrahminyKite:
    NAME = "brahminykite"

    @property
    def bp(self) -> dict[str, Any]:
        return blueprint(self.NAME)

    def tools(self) -> Iterator[tuple[str, dict[str, Any]]]:
        yield from self.bp["grpc_tool_fleets"][FLEET]["tools"].items()

    def test_seed_fleet(self) -> None:
        fleet = self.bp["grpc_tool_fleets"][FLEET]
        assert {tool: spec["port"] for tool, spec in self.tools()} == SEED_TOOLS
        assert fleet["public_grpc"] is True
        api = fleet["api"]
        assert api["ports"][0]["container_port"] == 8000
        assert api["replicas"] == 3
        assert (api["requests"], api["limits"]) == (
            {"cpu": "250m", "memory": "512Mi"},
            {"cpu": "500m", "memory": "1Gi"},
        )
        for tool, spec in self.tools():
            assert spec["command"][-1].startswith("chil.tools.services."), tool
            assert spec["volumes"]["data"]["path"] == "/app/data", tool

    def test_docker(self) -> None:
        result = preview(self.NAME, "dev")
        api = replicas_of(result, f"{FLEET}-api")
        assert len(api) == self.bp["grpc_tool_fleets"][FLEET]["api"]["replicas"]
        env = env_of(api[0])
        assert env["WEB_CONCURRENCY"] == "4"
        for tool, port in SEED_TOOLS.items():
            assert env[f"TOOL_{tool.upper()}_ADDR"] == f"{FLEET}-{tool}:{port}"
            (box,) = replicas_of(result, f"{FLEET}-{tool}")
            assert env_of(box)["GRPC_PORT"] == str(port)
            assert box.inputs["volumes"] == [{"volumeName": f"dev-{FLEET}-{tool}-data", "containerPath": "/app/data"}]
        conf = edge_conf(result)
        for port in SEED_TOOLS.values():
            assert f"listen {port} http2;" in conf
        assert result.outputs["urls"][f"{FLEET}-empirical"] == "grpc://localhost:50051"
        # the seed's published API and monitoring ports, on the loopback in dev
        ports = [p for box in result.of_type(DOCKER_CONTAINER) for p in box.inputs.get("ports", [])]
        assert {8000, 9090, 3000} <= {p["external"] for p in ports}
        assert {p["ip"] for p in ports} == {"127.0.0.1"}

    def test_kubernetes(self) -> None:
        result = preview(self.NAME, "staging")
        api = k8s_workload(result, f"{FLEET}-api")
        assert (api.type, api.inputs["spec"]["replicas"]) == (DEPLOYMENT, 3)
        assert k8s_container(result, f"{FLEET}-api")["resources"] == {
            "requests": {"cpu": "250m", "memory": "512Mi"},
            "limits": {"cpu": "500m", "memory": "1024Mi"},
        }
        routes = {
            r.inputs["spec"]["hostnames"][0]: r.inputs["spec"]["rules"][0]["backendRefs"][0]["port"]
            for r in result.of_type(K8S_GRPC_ROUTE)
        }
        assert routes == {f"{FLEET}-{tool}.staging.example.com": port for tool, port in SEED_TOOLS.items()}
        for tool in SEED_TOOLS:
            assert k8s_workload(result, f"{FLEET}-{tool}").type == STATEFUL_SET  # it owns its /app/data

    def test_aws(self) -> None:
        result = preview(self.NAME, "prod")
        assert result.named(f"{FLEET}-api-service").inputs["desiredCount"] == 3
        groups = target_groups(result)
        for tool, port in SEED_TOOLS.items():
            group = groups[f"{FLEET}-{tool}"]
            assert (group["port"], group["protocolVersion"]) == (port, "GRPC")
            assert group["healthCheck"]["matcher"] == "0"
        https = result.named("alb-https").inputs
        assert https["protocol"] == "HTTPS"
        assert https["certificateArn"].startswith("arn:aws:acm:")
        assert groups["grafana"]["healthCheck"]["path"] == self.bp["services"]["grafana"]["health"]["path"]
