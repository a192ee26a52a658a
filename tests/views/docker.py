"""The Docker target as the shared tests see it: one container per replica, no autoscaler, one edge.

Docker has no autoscaler, so a workload runs its autoscaling minimum; each replica is a
container under the workload's network alias; images are pulled ``RemoteImage``s; GPUs are
device requests. The target's file carriers (never-started containers holding another's
files, and their volumes) are no workloads and are left out of every count.
"""

from __future__ import annotations

from typing import Any

from preview.mocks import Recorded
from preview.runner import PreviewResult
from stacks.profiles import Profile
from tests.docker_checks import containers, env_of, is_carrier
from tests.kit import Workload, count, gpu_pools, workloads
from tests.tokens import DOCKER_CONTAINER, DOCKER_NETWORK, DOCKER_REMOTE_IMAGE, DOCKER_VOLUME
from tests.views import TargetView

DOCKER_PROVIDER = "pulumi:providers:docker"
EDGE = "gpu-platform:docker:Edge"


def replicas_of(result: PreviewResult, name: str) -> list[Recorded]:
    """The Docker containers of workload ``name`` (one per replica)."""
    return [r for r in result.of_type(DOCKER_CONTAINER) if _alias(r) == name]


def _alias(box: Recorded) -> str | None:
    networks = box.inputs.get("networksAdvanced") or [{}]
    aliases = networks[0].get("aliases") or [None]
    return aliases[0]


def docker_health(box: Recorded) -> str:
    return " ".join(box.inputs["healthcheck"]["tests"])


def provider_pool(result: PreviewResult, pools: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Docker provider URN -> the pool whose host it talks to (matched by the YAML's host)."""
    hosts = {pool["targets"]["docker"]["host"]: name for name, pool in pools.items()}
    return {p.urn: hosts[p.inputs["host"]] for p in result.of_type(DOCKER_PROVIDER)}


class DockerView(TargetView):
    target = "docker"
    stack = "dev"

    def count(self, result: PreviewResult, token: str) -> int:
        return count(result, token, lambda r: not is_carrier(r))

    def target_counts(self, bp: dict[str, Any], profile: Profile) -> dict[str, int]:
        # No autoscaler (the minimum runs); a database is a container with its volume, plus a backup
        # container and volume when the profile backs up; one edge (image and container) when anything is routed.
        items = workloads(bp)
        databases = len(bp.get("databases", {})) * (1 + (profile.backups.schedule != "none"))
        turns = len(bp.get("pixel_streaming", {}))
        edge = int(any(w.route is not None for w in items))
        hosts = {((pool.get("targets") or {}).get("docker") or {}).get("host") for pool in bp["pools"].values()}
        return {
            DOCKER_CONTAINER: sum(w.running for w in items) + databases + turns + edge,
            DOCKER_REMOTE_IMAGE: len(items) + databases + turns + edge,
            DOCKER_VOLUME: sum(len(w.volumes) for w in items) + databases,
            DOCKER_PROVIDER: len(bp["pools"]),  # one engine connection per pool
            DOCKER_NETWORK: len(hosts),  # one network per engine
            EDGE: edge,
        }

    def image(self, result: PreviewResult, w: Workload) -> str:
        return result.named(f"{w.name}-image").inputs["name"]

    def users(self, result: PreviewResult, w: Workload) -> set[str]:
        return {box.inputs["user"] for box in replicas_of(result, w.name)}

    def running(self, result: PreviewResult, w: Workload) -> int:
        return len(replicas_of(result, w.name))

    def check_ports_and_health(self, result: PreviewResult, w: Workload) -> None:
        health = w.health
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

    def check_autoscaling(self, result: PreviewResult, w: Workload) -> None:
        """No autoscaler on Docker: the minimum runs (and nothing else scales it)."""
        assert self.running(result, w) == w.running, w.name

    def check_placement(self, result: PreviewResult, w: Workload, pool: dict[str, Any]) -> None:
        arch = pool.get("architecture", "amd64")
        assert result.named(f"{w.name}-image").inputs["platform"] == f"linux/{arch}", w.name

    def check_gpu(self, result: PreviewResult, w: Workload, pool: dict[str, Any], share: str) -> None:
        (box, *_) = replicas_of(result, w.name)
        (request,) = box.inputs["deviceRequests"]
        assert len(request["deviceIds"]) == max(1, int(w.gpu)), w.name
        assert env_of(box)["GPU_MEMORY_FRACTION"] == share

    # -- several engines (bev) ---------------------------------------------------------------------

    def check_service_ports(self, result: PreviewResult, name: str, spec: dict[str, Any], pool: dict[str, Any]) -> None:
        """Pools on several engines publish every port, on the pool's address."""
        published = containers(result)[f"{self.stack}-{name}"].inputs.get("ports", [])
        address = pool["targets"]["docker"]["address"]
        want = {
            (int(p["container_port"]), int(p.get("host_port") or p["container_port"])) for p in spec.get("ports", [])
        }
        assert {(p["internal"], p["external"]) for p in published} == want, name
        assert {p["ip"] for p in published} <= {address}, name

    def check_database_ports(self, result: PreviewResult, name: str, ports: set[int]) -> None:
        published = containers(result)[f"{self.stack}-{name}"].inputs.get("ports", [])
        assert {int(p["internal"]) for p in published} == ports, name

    def check_single_member(self, result: PreviewResult, name: str) -> None:
        boxes = containers(result)
        assert f"{self.stack}-{name}" in boxes
        assert f"{self.stack}-{name}-2" not in boxes

    def check_shared_card(
        self, result: PreviewResult, pools: dict[str, dict[str, Any]], gpu_work: dict[str, dict[str, Any]]
    ) -> None:
        """Docker: device 0 of the GPU pool's engine, for every fraction of the card."""
        boxes, engines = containers(result), provider_pool(result, pools)
        (gpu_pool,) = gpu_pools({"pools": pools})
        for name, spec in gpu_work.items():
            box = boxes[f"{self.stack}-{name}"]
            assert engines[str(box.provider)] == gpu_pool, name
            (device,) = box.inputs["deviceRequests"]
            assert device["driver"] == "nvidia", name
            assert device["deviceIds"] == ["0"], name  # a fraction shares the one card
            assert float(spec["requests"]["gpu"]) < 1, name
        others = [b for n, b in boxes.items() if n[len(self.stack) + 1 :] not in gpu_work]
        assert all(not b.inputs.get("deviceRequests") for b in others)

    def check_pools_on_nodes(
        self, result: PreviewResult, pools: dict[str, dict[str, Any]], pool_of: dict[str, str]
    ) -> None:
        """One engine per node over ssh://, each image pulled for its pool's architecture; the edge on the first."""
        engines = provider_pool(result, pools)
        assert sorted(engines.values()) == sorted(pools)
        assert all(p.inputs["host"].startswith("ssh://") for p in result.of_type(DOCKER_PROVIDER))
        boxes = containers(result)
        for name, pool in pool_of.items():
            assert engines[str(boxes[f"{self.stack}-{name}"].provider)] == pool, name
        for image in result.of_type(DOCKER_REMOTE_IMAGE):
            assert image.inputs["platform"] == f"linux/{pools[engines[str(image.provider)]]['architecture']}"
        assert engines[str(boxes[f"{self.stack}-edge"].provider)] == next(iter(pools))


VIEW = DockerView()
