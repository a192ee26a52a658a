"""GPU devices on Docker: whole GPUs get distinct cards, fractions share one (not every container on card 0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import Runner, write_blueprint
from tests.docker_checks import containers


def _gpu_service(gpu: float, replicas: int = 1) -> dict[str, Any]:
    return {
        "image": "ghcr.io/example/train:1.0.0",
        "ports": [{"name": "http", "container_port": 8000}],
        "pool": "gpu",
        "replicas": replicas,
        "requests": {"cpu": 0.5, "memory": "1Gi", "gpu": gpu},
    }


def _devices(run: Runner, tmp_path: Path, gpus: int, services: dict[str, Any]) -> dict[str, list[str]]:
    blueprint = {
        "name": "unit",
        "pools": {"gpu": {"cpu": 16, "memory": "64Gi", "gpus": gpus, "gpu_model": "A10G"}},
        "services": services,
    }
    result = run("dev", blueprint=write_blueprint(tmp_path, blueprint))
    return {
        name: [i for request in box.inputs.get("deviceRequests", []) for i in request["deviceIds"]]
        for name, box in containers(result).items()
    }


def test_whole_gpus_get_distinct_cards(run: Runner, tmp_path: Path) -> None:
    found = _devices(run, tmp_path, 4, {"a": _gpu_service(1, replicas=2), "b": _gpu_service(2)})
    cards = found["dev-a-1"] + found["dev-a-2"] + found["dev-b"]
    assert sorted(cards) == ["0", "1", "2", "3"], found


def test_fractions_share_a_card_the_whole_ones_do_not_take(run: Runner, tmp_path: Path) -> None:
    found = _devices(run, tmp_path, 2, {"half": _gpu_service(0.5, replicas=2), "whole": _gpu_service(1)})
    assert found["dev-half-1"] == found["dev-half-2"] == ["1"]
    assert found["dev-whole"] == ["0"]
