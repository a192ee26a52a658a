"""GPU devices on Docker: whole GPUs get dedicated cards, fractions are packed onto the rest, never wrapped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from preview.mocks import RecordingMonitor
from preview.runner import run_program
from tests.conftest import Runner, stack_config, write_blueprint
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


def test_four_half_shares_on_two_cards_take_two_per_card(run: Runner, tmp_path: Path) -> None:
    found = _devices(run, tmp_path, 2, {"a": _gpu_service(0.5, replicas=2), "b": _gpu_service(0.5, replicas=2)})
    cards = [found[name] for name in ("dev-a-1", "dev-a-2", "dev-b-1", "dev-b-2")]
    assert all(len(c) == 1 for c in cards), found
    assert sorted(c[0] for c in cards) == ["0", "0", "1", "1"], found


def test_fractions_are_packed_largest_first(run: Runner, tmp_path: Path) -> None:
    # 0.3 comes first in the blueprint but 0.7 is placed first: 0.7+0.3 share card 0, 0.6 gets card 1.
    services = {"small": _gpu_service(0.3), "big": _gpu_service(0.7), "mid": _gpu_service(0.6)}
    found = _devices(run, tmp_path, 2, services)
    assert found["dev-big"] == found["dev-small"] == ["0"], found
    assert found["dev-mid"] == ["1"], found


def test_shares_that_do_not_fit_the_cards_are_a_config_error(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    # 1.8 GPUs in all (placement accepts the sum on 2 cards), but no two 0.6 shares fit on one card.
    blueprint = {
        "name": "unit",
        "pools": {"gpu": {"cpu": 16, "memory": "64Gi", "gpus": 2, "gpu_model": "A10G"}},
        "services": {"train": _gpu_service(0.6, replicas=3)},
    }
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", stack_config("dev", blueprint=write_blueprint(tmp_path, blueprint)))
    assert [m.recorded for m in monitors] == [[]]
    message = str(caught.value)
    assert "pools.gpu.gpus: 2" in message, message
    assert "pool 'gpu' on engine" in message, message
    assert "has 2 GPU card(s)" in message, message
    assert "3 fractional share(s) (0.6, 0.6, 0.6)" in message, message
    assert "services.train" in message, message


def test_two_gpu_pools_on_one_engine_get_disjoint_cards(run: Runner, tmp_path: Path) -> None:
    pool = {"cpu": 16, "memory": "64Gi", "gpus": 1, "gpu_model": "A10G"}
    blueprint = {
        "name": "unit",
        "pools": {"gpu": pool, "gpu2": pool},
        "services": {"a": _gpu_service(1), "b": {**_gpu_service(1), "pool": "gpu2"}},
    }
    result = run("dev", blueprint=write_blueprint(tmp_path, blueprint))
    found = {
        name: [i for request in box.inputs.get("deviceRequests", []) for i in request["deviceIds"]]
        for name, box in containers(result).items()
    }
    assert found["dev-a"] == ["0"], found
    assert found["dev-b"] == ["1"], found
