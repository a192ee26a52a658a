"""The Kubernetes and Docker cost hooks, and the hook in the target contract.

Kubernetes prices a node pool from the instance type its node_selector declares (the well-known
``node.kubernetes.io/instance-type`` label), as many nodes as the blueprint's pool needs; Docker
prices an engine host at the hourly figure the stack (gpu-platform:docker.engines.<host>.hourly_cost)
or a usage file gives it, else zero with the reason.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from preview.cost.model import CostContext, CostLine
from preview.cost.usage import Usage, load_usage
from stacks.spec import Pool
from targets import plugins
from targets.docker import cost as docker_cost
from targets.docker.settings import DockerPoolSettings, DockerSettings, EngineCapacity
from targets.kubernetes import cost as kubernetes_cost
from targets.kubernetes.settings import KubernetesPoolSettings, KubernetesSettings
from tests import tokens
from tests.kit import recorded

HOURS = Decimal(730)


def kubernetes_context(selector: dict[str, str], pool: Pool) -> CostContext:
    return CostContext(
        target_settings=KubernetesSettings(),
        pool_settings={"gpu": KubernetesPoolSettings(node_selector=selector)},
        pools={"gpu": pool},
        usage=Usage(),
    )


GPU_POOL = Pool.model_validate({"cpu": 6, "memory": "20Gi", "gpus": 2, "architecture": "amd64"})
DEPLOYMENT = recorded(tokens.K8S_DEPLOYMENT, "api", {})


def test_a_node_pool_is_priced_from_the_instance_type_it_declares() -> None:
    """6 cpu / 20 GiB / 2 GPUs on g5.xlarge (4 vCPU, 16 GiB, 1 GPU): two nodes by every measure."""
    context = kubernetes_context({"node.kubernetes.io/instance-type": "g5.xlarge"}, GPU_POOL)
    (line,) = kubernetes_cost.cost([DEPLOYMENT], context)
    assert line.name == "Nodes (g5.xlarge, on-demand)"
    assert line.monthly == 2 * HOURS * Decimal("1.006")
    assert "2 node(s)" in line.assumption
    assert line.pool == "gpu"


def test_nodes_cover_the_largest_need() -> None:
    """A 1-cpu, 40 GiB pool needs three 16 GiB nodes, although one node has the cpu."""
    pool = Pool.model_validate({"cpu": 1, "memory": "40Gi", "architecture": "amd64"})
    assert kubernetes_cost.nodes_needed(pool, 4, Decimal(16), 1) == 3


def test_a_pool_without_an_instance_type_is_unpriced_with_the_reason() -> None:
    (line,) = kubernetes_cost.cost([DEPLOYMENT], kubernetes_context({"nvidia.com/gpu.present": "true"}, GPU_POOL))
    assert line.unpriced
    assert "node.kubernetes.io/instance-type" in line.unpriced
    assert line.monthly == 0
    (unknown,) = kubernetes_cost.cost(
        [DEPLOYMENT], kubernetes_context({"node.kubernetes.io/instance-type": "n1-standard-4"}, GPU_POOL)
    )
    assert "n1-standard-4 is in no price table" in unknown.unpriced


def test_claims_are_listed_unpriced() -> None:
    claim = recorded(tokens.K8S_PERSISTENT_VOLUME_CLAIM, "data", {})
    lines = kubernetes_cost.cost([DEPLOYMENT, claim], kubernetes_context({}, GPU_POOL))
    assert [line.resource for line in lines if "storage class" in line.unpriced] == ["data"]


GPU_HOST = "ssh://ops@gpu-1"


def docker_context(usage: Usage, engines: dict[str, EngineCapacity] | None = None) -> CostContext:
    host = GPU_HOST
    return CostContext(
        target_settings=DockerSettings(engines=engines or {}),
        pool_settings={"general": DockerPoolSettings(), "gpu": DockerPoolSettings(host=host)},
        pools={
            "general": Pool.model_validate({"cpu": 2, "memory": "4Gi"}),
            "gpu": Pool.model_validate({"cpu": 4, "memory": "16Gi"}),
        },
        usage=usage,
    )


def test_docker_hosts_cost_what_the_usage_file_says(tmp_path: Path) -> None:
    path = tmp_path / "usage.yml"
    path.write_text('version: 0.1\nresource_usage:\n  "ssh://ops@gpu-1":\n    hourly_cost: 0.5\n')
    lines = docker_cost.cost([recorded(tokens.DOCKER_CONTAINER, "api", {})], docker_context(load_usage(path)))
    by_host = {line.resource: line for line in lines}
    assert by_host["ssh://ops@gpu-1"].monthly == Decimal("365.0")  # 0.5 x 730
    local = next(line for host, line in by_host.items() if host != "ssh://ops@gpu-1")
    assert local.monthly == 0
    assert "no hourly figure" in local.assumption


def _docker_lines(usage: Usage, hourly_cost: float) -> dict[str, CostLine]:
    engine = EngineCapacity.model_validate({"cpu": 16, "memory": "64Gi", "hourly_cost": hourly_cost})
    lines = docker_cost.cost([recorded(tokens.DOCKER_CONTAINER, "api", {})], docker_context(usage, {GPU_HOST: engine}))
    return {line.resource: line for line in lines}


def _usage(tmp_path: Path, text: str) -> Usage:
    path = tmp_path / "usage.yml"
    path.write_text(text)
    return load_usage(path)


def test_docker_hosts_cost_what_the_stack_config_says() -> None:
    """gpu-platform:docker.engines.<host>.hourly_cost: 0.35 USD/h x 730 h = 255.50 a month; other hosts stay at zero."""
    by_host = _docker_lines(Usage(), 0.35)
    gpu = by_host[GPU_HOST]
    assert gpu.monthly == Decimal("255.50")
    assert f"gpu-platform:docker.engines.{GPU_HOST}.hourly_cost" in gpu.assumption
    assert gpu.source == "the stack's config"
    local = next(line for host, line in by_host.items() if host != GPU_HOST)
    assert local.monthly == 0
    assert "gpu-platform:docker.engines" in local.assumption


def test_a_usage_file_figure_for_the_host_overrides_the_stack(tmp_path: Path) -> None:
    """resource_usage.<host>.hourly_cost 0.5 beats the stack's 0.35: 0.5 x 730 = 365.00."""
    usage = _usage(tmp_path, f'version: 0.1\nresource_usage:\n  "{GPU_HOST}":\n    hourly_cost: 0.5\n')
    gpu = _docker_lines(usage, 0.35)[GPU_HOST]
    assert gpu.monthly == Decimal("365.0")
    assert "overrides" in gpu.source


def test_a_usage_file_default_prices_only_the_hosts_the_stack_does_not(tmp_path: Path) -> None:
    """docker:host default 0.2: the local engine 0.2 x 730 = 146.00; the GPU host keeps the stack's 0.35 (255.50)."""
    usage = _usage(tmp_path, 'version: 0.1\nresource_type_default_usage:\n  "docker:host":\n    hourly_cost: 0.2\n')
    by_host = _docker_lines(usage, 0.35)
    assert by_host[GPU_HOST].monthly == Decimal("255.50")
    local = next(line for host, line in by_host.items() if host != GPU_HOST)
    assert local.monthly == Decimal("146.0")


@pytest.mark.parametrize(
    ("value", "allowed"),
    [(-1, "greater than or equal to 0"), ("abc", "valid number"), (5000, "less than or equal to 1000")],
)
def test_a_bad_hourly_cost_is_a_config_error_naming_the_key(value: object, allowed: str) -> None:
    from stacks.errors import ConfigError
    from stacks.loader import load_stack
    from tests.conftest import stack_config

    engine = {"cpu": 64, "memory": "256Gi", "hourly_cost": value}
    with pytest.raises(ConfigError) as caught:
        load_stack("dev", stack_config("dev", docker={"engines": {GPU_HOST: engine}}))
    message = str(caught.value)
    assert f"gpu-platform:docker.engines.{GPU_HOST}.hourly_cost: {value!r}" in message
    assert allowed in message
    assert "\n" not in message


def test_every_plugin_prices_nothing_it_does_not_own() -> None:
    """The estimate hands each plugin only its providers' resources; with none, a plugin adds no line."""
    for plugin in plugins():
        assert plugin.cost([], docker_context(Usage())) == []


def test_the_shipped_staging_stack_says_why_its_pools_are_unpriced() -> None:
    """Pulumi.staging.yaml (Kubernetes, reference blueprint): no pool names an instance type, so none is priced."""
    from preview.cost.estimate import context_for, estimate
    from preview.runner import read_stack_config
    from stacks.loader import load_stack
    from tests.conftest import shipped

    config, _ = read_stack_config("staging")
    spec = load_stack("staging", config)
    result = shipped("staging")
    found = estimate("staging", result.resources, context_for(spec, result.resources, Usage()))
    pools = [line for line in found.lines if line.type == kubernetes_cost.POOL_TYPE]
    assert sorted(str(line.pool) for line in pools) == sorted(spec.blueprint.pools)
    assert all("node.kubernetes.io/instance-type" in line.unpriced for line in pools)
    assert found.total == 0


def test_the_dev_stack_prices_its_shared_engine_from_stack_config() -> None:
    """The real program (Pulumi.dev.yaml: pools general and gpu on the local engine) with the engine's hourly_cost
    0.35: one host line, 0.35 x 730 = 255.50, the stack's total."""
    from preview.cost.estimate import context_for, estimate
    from preview.runner import run_program
    from stacks.loader import load_stack
    from tests.conftest import stack_config

    engine = "unix:///var/run/docker.sock"
    config = stack_config("dev", docker={"engines": {engine: {"cpu": 64, "memory": "256Gi", "hourly_cost": 0.35}}})
    result = run_program("dev", config)
    found = estimate("dev", result.resources, context_for(load_stack("dev", config), result.resources, Usage()))
    (line,) = [line for line in found.lines if line.type == docker_cost.HOST_TYPE]
    assert (line.resource, line.monthly, found.total) == (engine, Decimal("255.50"), Decimal("255.50"))
    assert line.name == "Engine host of pool(s) general, gpu"
