"""The seed systems as blueprints: bem, paissive-income, monte-carlo and brahminykite.

Each blueprint in ``blueprints/`` models one document of ``../shared/seeds/``. Every seed runs on
every built target (the real program under the mock runtime, as ``python -m preview STACK --blueprint
NAME --target TARGET`` does), on the stack its view names (``tests/views/<target>.py``: dev for
Docker, staging for Kubernetes, prod for AWS), once per session (``tests/conftest.py:cached_run``),
and is shared by the tests of that pair. What a target makes of a workload is asked of its view, so
a new target adds its view, not a branch here; a built target without one fails by name.

Counts are derived from the blueprint YAML loaded here (never copied from program output); the
seed properties (ports, replicas and autoscaling ranges, GPUs, instance types, architectures and
health paths) are read from the YAML too, so a test names the seed figure that drifted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from preview.policies import evaluate
from preview.report import Violation
from preview.runner import PreviewResult, run_program
from stacks.units import parse_memory_mib
from tests.conftest import stack_config
from tests.docker_checks import edge_conf, env_of
from tests.kit import blueprint, by_name, count, gpu_pools, workloads
from tests.tokens import (
    AWS_ECS_SERVICE,
    AWS_RDS_INSTANCE,
    DOCKER_CONTAINER,
    K8S_CONFIG_MAP,
    K8S_CRON_JOB,
    K8S_DEPLOYMENT,
    K8S_GRPC_ROUTE,
    K8S_HORIZONTAL_POD_AUTOSCALER,
    K8S_STATEFUL_SET,
)
from tests.views import built, view
from tests.views.aws import target_groups, task, task_env
from tests.views.docker import docker_health, replicas_of
from tests.views.kubernetes import GPU, k8s_container, k8s_env, k8s_workload

SEEDS = ("bem", "paissive-income", "monte-carlo", "brahminykite")
PAIRS = [(name, target) for name in SEEDS for target in built()]
DEPLOYMENT = K8S_DEPLOYMENT
STATEFUL_SET = K8S_STATEFUL_SET
HPA = K8S_HORIZONTAL_POD_AUTOSCALER
ECS_SERVICE = AWS_ECS_SERVICE
# The profiles' GPU memory share (stacks/profiles.py), as the seed documents give it per environment.
PROFILE_GPU_SHARE = {"dev": "0.4", "staging": "0.6", "prod": "0.8"}


def preview(name: str, target: str) -> PreviewResult:
    """``blueprints/<name>.yaml`` on ``target`` (its view's stack), run once per session."""
    return view(target).preview(name)


@cache
def verdicts(name: str, target: str) -> tuple[Violation, ...]:
    result = preview(name, target)
    return tuple(evaluate(result.resources, result.outputs["environment"]))


# -- every pair: counts, images, users, policies -----------------------------------------------------


@pytest.mark.parametrize(("name", "target"), PAIRS)
def test_target_resource_counts_follow_the_blueprint(name: str, target: str) -> None:
    found, result = view(target), preview(name, target)
    expected = found.expected_counts(blueprint(name), found.profile(result))
    assert {key: found.counted(result, key) for key in expected} == expected


@pytest.mark.parametrize(("name", "target"), PAIRS)
def test_every_workload_runs_its_pinned_image_as_its_user(name: str, target: str) -> None:
    found, result = view(target), preview(name, target)
    for w in workloads(blueprint(name)):
        assert not w.image.endswith(":latest"), w.name
        assert found.image(result, w) == w.image, w.name
        assert found.users(result, w) == {w.user}, w.name


@pytest.mark.parametrize(("name", "target"), PAIRS)
def test_every_workload_has_the_ports_and_health_check_the_blueprint_gives(name: str, target: str) -> None:
    found, result = view(target), preview(name, target)
    for w in workloads(blueprint(name)):
        found.check_ports_and_health(result, w)


@pytest.mark.parametrize(("name", "target"), PAIRS)
def test_every_workload_runs_its_replicas_and_autoscaling_range(name: str, target: str) -> None:
    found, result = view(target), preview(name, target)
    for w in workloads(blueprint(name)):
        assert found.running(result, w) == w.running, w.name  # the minimum runs where there is no autoscaler
        found.check_autoscaling(result, w)


@pytest.mark.parametrize(("name", "target"), PAIRS)
def test_every_workload_lands_on_its_pool_and_architecture(name: str, target: str) -> None:
    bp, found, result = blueprint(name), view(target), preview(name, target)
    placement = result.outputs["placement"]
    for w in workloads(bp):
        pool_name = placement[w.key]
        pool = bp["pools"][pool_name]
        assert pool_name == w.spec.get("pool", pool_name), w.name
        assert (pool.get("gpus", 0) > 0) == (w.gpu > 0), f"{w.name}: GPU work on GPU pools, CPU work elsewhere"
        assert pool.get("architecture", "amd64") in w.spec.get("architectures", ["amd64", "arm64"]), w.name
        found.check_placement(result, w, pool)


@pytest.mark.parametrize(("name", "target"), [(n, t) for n, t in PAIRS if gpu_pools(blueprint(n))])
def test_gpu_requests_reach_the_runtime(name: str, target: str) -> None:
    bp, found, result = blueprint(name), view(target), preview(name, target)
    environment_share = float(PROFILE_GPU_SHARE[result.outputs["environment"]])
    gpu_work = [w for w in workloads(bp) if w.gpu > 0]
    assert gpu_work, name
    for w in gpu_work:
        # The card memory a workload may take: its share of the card times the environment's GPU share.
        share = f"{round(min(w.gpu, 1.0) * environment_share, 3):g}"
        found.check_gpu(result, w, bp["pools"][result.outputs["placement"][w.key]], share)


@pytest.mark.parametrize(("name", "target"), PAIRS)
def test_no_mandatory_policy_violation(name: str, target: str) -> None:
    mandatory = [v for v in verdicts(name, target) if v.enforcement == "mandatory"]
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
    NAME, TARGET = "bem", "docker"

    @property
    def result(self) -> PreviewResult:
        return preview(self.NAME, self.TARGET)  # one run per pair, cached

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
    NAME, TARGET = "bem", "aws"

    @property
    def result(self) -> PreviewResult:
        return preview(self.NAME, self.TARGET)  # one run per pair, cached

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
        result = preview(self.NAME, "docker")
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
        result = preview(self.NAME, "kubernetes")
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
        result = preview(self.NAME, "aws")
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
        result = preview(self.NAME, "docker")
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
        result = preview(self.NAME, "kubernetes")
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
        result = preview(self.NAME, "aws")
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
        result = preview(self.NAME, "docker")
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
        result = preview(self.NAME, "kubernetes")
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
        result = preview(self.NAME, "aws")
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
