"""The bev blueprint (``blueprints/bev.yaml``): the bev three-node seed on Docker (dev) and Kubernetes (staging).

Expected values come from two places, never from the program's own output:

- ``SEED``: what ``shared/seeds/bev-three-node-distribution.md`` states per service (its node, ports and
  RAM/CPU/GPU figures, ``None`` where the seed states none), transcribed once here, so a blueprint edit
  that drifts from the seed fails;
- the blueprint YAML, loaded below, for resource counts and for how each service must be rendered.

The pairs are the targets every bev pool has settings for (Docker and Kubernetes); each runs the real
program under the mock runtime once per session on its view's stack (``tests/views/<target>.py``), and
what a target made of a service is asked of that view (the results are read-only, so the tests share them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pulumi
import pytest
import yaml

from preview import runner
from preview.mocks import RecordingMonitor
from preview.policies import evaluate
from preview.runner import PreviewResult
from stacks.loader import load_stack
from stacks.profiles import PROFILES
from stacks.units import format_mib, parse_cpu, parse_memory_mib
from tests.conftest import ROOT, stack_config, write_blueprint
from tests.kit import targets_of_every_pool
from tests.views import TargetView, built, view

BLUEPRINT_PATH = ROOT / "blueprints" / "bev.yaml"


def load_bev() -> dict[str, Any]:
    """The blueprint as a fresh mutable dict."""
    return yaml.safe_load(BLUEPRINT_PATH.read_text())


BEV = load_bev()
POOLS: dict[str, dict[str, Any]] = BEV["pools"]
SERVICES: dict[str, dict[str, Any]] = BEV["services"]
DATABASES: dict[str, dict[str, Any]] = BEV["databases"]


@dataclass(frozen=True)
class Seed:
    """One service as the seed states it; ``None`` where the seed gives no figure."""

    node: str
    ports: tuple[int, ...] = ()
    memory: str | None = None
    cpu: float | None = None
    gpu: float | None = None  # "GPU units", read as GB of the 10 GB RTX 3080


SEED: dict[str, Seed] = {
    # THANOS: Tier 1 AI/ML (GPU), with the ports of its "Deployed Services" list
    "autonomous-coordinator": Seed("thanos", (8009,), "6GB", 2.5, 1),
    "adaptive-learning": Seed("thanos", (8010,), "8GB", 4, 2),
    "resource-manager": Seed("thanos", (8011,)),
    "knowledge-evolution": Seed("thanos", (8012,), "12GB", 4, 2),
    "extended-reasoning": Seed("thanos", (8081,), "4GB", 2, 1),
    "context-compressor": Seed("thanos", (8080,)),
    "t2v-transformers": Seed("thanos", (8083,), "8GB", 3, 1),
    "model-synchronizer": Seed("thanos", (), "2GB", 1, 0.5),
    # Tier 2 databases
    "postgres": Seed("thanos", (5432,), "4GB", 2),
    "neo4j": Seed("thanos", (7474, 7687), "8GB", 2),
    "elasticsearch": Seed("thanos", (9200,), "8GB", 3),
    "influxdb": Seed("thanos", (8086,), "4GB", 1),
    "qdrant-primary": Seed("thanos", (6333,), "6GB", 2),
    "weaviate": Seed("thanos", (8080,), "4GB", 1.5),
    # Tier 3 message queues: "kafka-1, kafka-2, kafka-3 (ports 9092-9094)", likewise RabbitMQ on 5672-5674
    "kafka-1": Seed("thanos", (9092,), "6GB", 3),
    "kafka-2": Seed("thanos", (9093,), "6GB", 3),
    "kafka-3": Seed("thanos", (9094,), "6GB", 3),
    "rabbitmq-1": Seed("thanos", (5672,), "4GB", 2),
    "rabbitmq-2": Seed("thanos", (5673,), "4GB", 2),
    "rabbitmq-3": Seed("thanos", (5674,), "4GB", 2),
    "zookeeper": Seed("thanos", (2181,), "2GB", 1),
    # core processing
    "intelowl-django": Seed("thanos", (80,), "2GB", 1.5),
    "intelowl-celery-worker": Seed("thanos", (), "4GB", 2),
    "intelowl-celery-beat": Seed("thanos"),
    "request-multiplexer": Seed("thanos", (8001,)),
    "predictive-cache": Seed("thanos", (8002,)),
    # Tier 4 says "THANOS + ORACLE1" but no node lists it: the blueprint keeps it with Tier 4 on thanos
    "cytoscape-server": Seed("thanos", (), "1GB", 1),
    # ORACLE1
    "redis": Seed("oracle1", (6379,), "2GB", 1),
    "prometheus": Seed("oracle1", (9090,), "3GB", 1.5),
    "grafana": Seed("oracle1", (3000,), "1GB", 0.5),
    "vault": Seed("oracle1", (8200,), "1GB", 0.5),
    "consul": Seed("oracle1", (8500,)),
    "tor": Seed("oracle1", (9050, 9051, 9052), "512MB", 0.5),
    "proxy-manager": Seed("oracle1", (8003,), "1GB", 0.5),
    "opsec-enforcer": Seed("oracle1", (8004,)),
    "defense-automation": Seed("oracle1", (8005,)),
    "breach-analyzer": Seed("oracle1", (8006,), "1GB", 0.5),
    "darknet-analyzer": Seed("oracle1", (8007,), "2GB", 1),
    "crypto-analyzer": Seed("oracle1", (8008,), "1.5GB", 1),
    "social-analyzer": Seed("oracle1", (8013,), "2GB", 1),
    "reputation-analyzer": Seed("oracle1", (8014,)),
    "economics-processor": Seed("oracle1", (8015,)),
    "health-monitor": Seed("oracle1", (8016,), "512MB", 0.25),
    "metrics-collector": Seed("oracle1", (8017,), "1GB", 0.5),
    "alert-system": Seed("oracle1", (8018,), "512MB", 0.25),
    "chaos-engineer": Seed("oracle1", (8019,), "1GB", 0.5),
    "auto-recovery": Seed("oracle1", (8070,), "512MB", 0.25),
    "edge-node-management": Seed("oracle1", (8020,)),
    "geo-router": Seed("oracle1", (8021,)),
    # STARLORD
    "bev-frontend": Seed("starlord", (5173,), "2GB", 1),
    "tauri-dev": Seed("starlord", (1420,), "1GB", 0.5),
    "mcp-servers": Seed("starlord", tuple(range(3001, 3007)), "1GB", 0.5),
    "testing-framework": Seed("starlord", tuple(range(8050, 8054)), "2GB", 1),
    "staging-postgres": Seed("starlord", (5432,)),  # compose maps 5433:5432; the container port is 5432
    "staging-redis": Seed("starlord", (6380,)),
    "staging-vault": Seed("starlord", (8201,)),
    "code-server": Seed("starlord", (8443,)),
    "git-server": Seed("starlord", (9418,)),
    "documentation-server": Seed("starlord", (8080,)),
}

# The seed's nodes: architecture, threads, memory and "Resource Allocation" cap (starlord states no size).
NODES: dict[str, tuple[str, int | None, str | None, float]] = {
    "thanos": ("amd64", 24, "64GB", 0.8),
    "oracle1": ("arm64", 4, "24GB", 0.7),
    "starlord": ("amd64", None, None, 0.6),
}
CARD_GB = 10  # RTX 3080

# The targets every bev pool has settings for (docker, kubernetes): the pairs, each on its view's stack.
PAIRS = [target for target in targets_of_every_pool(BEV) if target in built()]


# -- helpers -------------------------------------------------------------------------------------


def key_of(name: str) -> str:
    """The placement key of a blueprint name (``services.x`` or ``databases.x``)."""
    return f"databases.{name}" if name in DATABASES else f"services.{name}"


def pool_of(name: str) -> str:
    return (DATABASES.get(name) or SERVICES[name])["pool"]


def container_ports(spec: dict[str, Any]) -> set[int]:
    return {int(p["container_port"]) for p in spec.get("ports", [])}


def limits(name: str) -> dict[str, Any]:
    return SERVICES[name].get("limits") or {}


def requests(name: str) -> dict[str, Any]:
    return (DATABASES.get(name) or SERVICES[name]).get("requests") or {}


def gpu_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in SERVICES.items() if float(s.get("requests", {}).get("gpu", 0)) > 0}


def with_volumes() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in SERVICES.items() if s.get("volumes")}


def replicas(spec: dict[str, Any]) -> int:
    """Running replicas: an autoscaled service starts at its minimum."""
    autoscale = spec.get("autoscale")
    return int(autoscale["min"]) if autoscale else int(spec.get("replicas", 1))


def seed_with_figures() -> Iterator[tuple[str, Seed]]:
    for name, seed in SEED.items():
        if seed.memory is not None and name in SERVICES:
            yield name, seed


# -- the seed in the YAML (no program run) -------------------------------------------------------


def test_every_seed_service_is_in_the_blueprint() -> None:
    """Nothing the seed lists is missing, and nothing is added that it does not list."""
    assert set(SERVICES) | set(DATABASES) == set(SEED)
    assert not set(SERVICES) & set(DATABASES)


def test_pools_are_the_seed_nodes() -> None:
    assert list(POOLS) == ["oracle1", "thanos", "starlord"]  # oracle1 first: it hosts the Docker edge
    for name, (architecture, cpu, memory, cap) in NODES.items():
        pool = POOLS[name]
        assert pool["architecture"] == architecture, name
        assert pool["allocation_cap"] == cap, name
        if cpu is not None:
            assert parse_cpu(pool["cpu"]) == cpu, name
        if memory is not None:
            assert parse_memory_mib(pool["memory"]) == parse_memory_mib(memory), name
    thanos = POOLS["thanos"]
    assert thanos["gpus"] == 1
    assert "3080" in thanos["gpu_model"]
    assert parse_memory_mib(thanos["gpu_memory"]) == parse_memory_mib(f"{CARD_GB}GB")
    assert not any(POOLS[n].get("gpus") for n in ("oracle1", "starlord"))


def test_limits_are_the_seed_figures() -> None:
    """The seed's per-service RAM/CPU are the limits; GPU units are GB of the card (share + GPU memory)."""
    checked = 0
    for name, seed in seed_with_figures():
        assert seed.memory is not None
        assert parse_memory_mib(limits(name)["memory"]) == parse_memory_mib(seed.memory), name
        assert parse_cpu(limits(name)["cpu"]) == seed.cpu, name
        if seed.gpu is not None:
            assert requests(name)["gpu"] == pytest.approx(seed.gpu / CARD_GB), name
            assert limits(name)["gpu"] == requests(name)["gpu"], name
            assert parse_memory_mib(requests(name)["gpu_memory"]) == parse_memory_mib(f"{seed.gpu}GB"), name
        checked += 1
    assert checked >= 35
    # The database states no limits: its requests are the seed's figures.
    postgres = SEED["postgres"]
    assert postgres.memory is not None
    assert parse_memory_mib(requests("postgres")["memory"]) == parse_memory_mib(postgres.memory)
    assert parse_cpu(requests("postgres")["cpu"]) == postgres.cpu


def test_requests_are_one_share_of_the_limits_per_pool() -> None:
    """Requests are each pool's budget shared in proportion to the seed's figures (floored to 16Mi / 10m)."""
    for pool in POOLS:
        members = [n for n, s in SERVICES.items() if s["pool"] == pool]
        memory = [parse_memory_mib(requests(n)["memory"]) / parse_memory_mib(limits(n)["memory"]) for n in members]
        cpu = [parse_cpu(requests(n)["cpu"]) / parse_cpu(limits(n)["cpu"]) for n in members]
        assert max(memory) <= 1, pool
        assert max(cpu) <= 1, pool
        assert max(memory) - min(memory) < 0.05, (pool, min(memory), max(memory))
        assert max(cpu) - min(cpu) < 0.06, (pool, min(cpu), max(cpu))


def test_ports_are_the_seed_ports() -> None:
    for name, seed in SEED.items():
        if name in DATABASES or not seed.ports:
            continue
        assert container_ports(SERVICES[name]) == set(seed.ports), name


def test_gpu_work_is_amd64_and_on_thanos() -> None:
    for name, spec in gpu_services().items():
        assert spec["architectures"] == ["amd64"], name
        assert spec["pool"] == "thanos", name
    total = sum(float(s["requests"]["gpu"]) for s in gpu_services().values())
    assert total <= POOLS["thanos"]["gpus"]


def test_everything_on_oracle1_is_arm64_capable() -> None:
    on_oracle1 = [n for n in SEED if pool_of(n) == "oracle1"]
    assert len(on_oracle1) >= 20
    for name in on_oracle1:
        assert "arm64" in SERVICES[name].get("architectures", ["amd64", "arm64"]), name


def test_postgres_asks_for_its_read_replica() -> None:
    """The seed's "Master on Thanos, Read replica on Oracle1": one pool per database, one replica asked for."""
    assert DATABASES["postgres"]["pool"] == "thanos"
    assert DATABASES["postgres"]["read_replicas"] == 1


# -- both target pairs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    target: str
    view: TargetView
    result: PreviewResult

    @property
    def environment(self) -> str:
        return str(self.result.outputs["environment"])


@pytest.fixture(params=PAIRS)
def pair(request: pytest.FixtureRequest) -> Pair:
    """The bev blueprint on one target, run once per session through the target's view."""
    target: str = request.param
    found = view(target)
    result = found.preview("bev")
    assert result.outputs["target"] == target
    assert result.outputs["blueprint"] == BEV["name"]
    return Pair(target, found, result)


def test_resource_counts_by_type(pair: Pair) -> None:
    """Resource counts by type, from the YAML and the pair's profile (the target's file carriers left out)."""
    expected = pair.view.expected_counts(BEV, PROFILES[pair.environment])  # type: ignore[index]
    for key, count in expected.items():
        assert pair.view.counted(pair.result, key) == count, key


def test_placement_is_the_seeds(pair: Pair) -> None:
    """Every service and database lands on the node the seed puts it on."""
    placement: dict[str, str] = pair.result.outputs["placement"]
    assert {key_of(n): s.node for n, s in SEED.items()} == placement


def test_no_mandatory_policy_violations(pair: Pair) -> None:
    violations = evaluate(pair.result.resources, pair.environment)
    assert [v for v in violations if v.enforcement == "mandatory"] == []


def test_ports_reach_the_target(pair: Pair) -> None:
    """Each service's ports as the target renders them (Docker publishes every port: three engines)."""
    for name, spec in SERVICES.items():
        pair.view.check_service_ports(pair.result, name, spec, POOLS[spec["pool"]])
    for name in DATABASES:
        pair.view.check_database_ports(pair.result, name, set(SEED[name].ports))


def test_kafka_and_rabbitmq_are_three_single_replica_members(pair: Pair) -> None:
    """ "Kafka x3" and "RabbitMQ x3": three services each, one replica with its own volume, distinct ports."""
    for family in ("kafka", "rabbitmq"):
        members = [f"{family}-{i}" for i in (1, 2, 3)]
        ports = {port for m in members for port in container_ports(SERVICES[m])}
        assert len(ports) == 3, family
        for member in members:
            assert SERVICES[member]["volumes"], member
            pair.view.check_single_member(pair.result, member)


def test_gpu_requests_on_thanos(pair: Pair) -> None:
    """Each GPU service gets its share of the RTX 3080: device 0 on Docker, time-sliced units on Kubernetes."""
    gpu = gpu_services()
    assert len(gpu) >= 6
    assert {spec["pool"] for spec in gpu.values()} == {"thanos"}
    pair.view.check_shared_card(pair.result, POOLS, gpu)


def test_each_pool_runs_on_its_node(pair: Pair) -> None:
    """Docker: one engine per node over ssh://, oracle1's images pulled for arm64. Kubernetes: node selectors."""
    # The edge (the seed's nginx / "HAProxy on Oracle1") runs on the first pool: oracle1.
    assert next(iter(POOLS)) == "oracle1"
    pair.view.check_pools_on_nodes(pair.result, POOLS, {name: pool_of(name) for name in SEED})


# -- capacity ------------------------------------------------------------------------------------


def test_overcommit_is_visible_and_requests_fit() -> None:
    """The seed's figures (limits) overcommit thanos and oracle1; the requests fit each allocation cap."""
    spec = load_stack("dev", stack_config("dev", blueprint="bev"))
    # summary() is typed dict[str, object]: its documented shape is nested dicts of numbers.
    summary = {name: cast(dict[str, Any], usage.summary()) for name, usage in spec.placement.usage.items()}
    for name, pool in summary.items():
        members = [n for n in SEED if pool_of(n) == name]
        assert pool["workloads"] == len(members), name
        stated = sum(parse_memory_mib(limits(n)["memory"]) for n in members if n in SERVICES)
        databases = [parse_memory_mib(requests(n)["memory"]) for n in members if n in DATABASES]
        # A database states no limits: it counts at least at its request, at most at the profile's default.
        ceiling = sum(max(mib, PROFILES["dev"].limits.memory_mib) for mib in databases)
        assert stated + sum(databases) <= pool["limits"]["memory_mib"] <= stated + ceiling, name
        assert pool["requests"]["memory_mib"] <= pool["allowed"]["memory_mib"], name
        assert pool["requests"]["cpu"] <= pool["allowed"]["cpu"], name
    thanos, oracle1 = summary["thanos"], summary["oracle1"]
    assert thanos["limits"]["memory_mib"] > thanos["capacity"]["memory_mib"]  # about 120 GiB on a 64 GiB node
    assert thanos["limits"]["cpu"] > thanos["capacity"]["cpu"]
    assert thanos["overcommit"]["memory"] > 1.5
    assert oracle1["limits"]["cpu"] > oracle1["capacity"]["cpu"]  # 12 cores of figures on 4
    assert thanos["requests"]["gpu"] <= thanos["allowed"]["gpu"]
    assert thanos["requests"]["gpu_memory_mib"] <= thanos["capacity"]["gpu_memory_mib"]
    assert thanos["requests"]["gpu_memory_mib"] == sum(
        parse_memory_mib(s["requests"]["gpu_memory"]) for s in gpu_services().values()
    )


def test_thanos_databases_on_oracle1_overflow_and_register_nothing(
    tmp_path: Path, monitors: list[RecordingMonitor]
) -> None:
    """Moving Tier 2 (postgres and the database services) onto oracle1 is a config error naming the pool."""
    moved = load_bev()
    tier2 = ["postgres", "neo4j", "elasticsearch", "influxdb", "qdrant-primary", "weaviate"]
    for name in tier2:
        (moved["databases"] if name in DATABASES else moved["services"])[name]["pool"] = "oracle1"
    on_oracle1 = [n for n in SEED if n in tier2 or pool_of(n) == "oracle1"]
    requested = sum(parse_memory_mib(requests(n)["memory"]) for n in on_oracle1)
    pool = POOLS["oracle1"]
    allowed = int(parse_memory_mib(pool["memory"]) * pool["allocation_cap"])
    assert requested > allowed

    with pytest.raises(pulumi.RunError) as caught:
        runner.run_program("dev", stack_config("dev", blueprint=write_blueprint(tmp_path, moved, "bev-moved.yaml")))

    assert caught.type is pulumi.RunError
    message = str(caught.value)
    assert message.startswith("config error in ")
    assert "pools.oracle1" in message
    assert f"memory {format_mib(requested)} requested > {format_mib(allowed)} allowed" in message
    assert "databases.postgres" in message
    assert "Traceback" not in message
    assert len(monitors) == 1
    assert monitors[0].recorded == []
