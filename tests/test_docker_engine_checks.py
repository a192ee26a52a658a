"""Docker checks before any resource: ports the edge itself publishes, its own /healthz, engines shared by pools."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from preview.mocks import RecordingMonitor
from preview.runner import PreviewResult, run_program
from tests.conftest import reference_blueprint, stack_config, write_blueprint

ENGINE = "unix:///var/run/docker.sock"


def _fails(config: dict[str, Any], monitors: list[RecordingMonitor]) -> str:
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", config)
    assert [m.recorded for m in monitors] == [[]]
    return str(caught.value)


def test_two_public_fleets_on_one_edge_port_collide(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    blueprint = reference_blueprint()
    kite = blueprint["grpc_tool_fleets"]["kite"]
    tiny = {"cpu": 0.05, "memory": "64Mi"}
    api = {**copy.deepcopy(kite["api"]), "requests": tiny, "limits": tiny, "route": {"path": "/other/"}, "volumes": {}}
    tool = {**kite["tools"]["empirical"], "requests": tiny}
    # A second public fleet whose one tool has kite's first tool's port: one edge listener, two owners.
    blueprint["grpc_tool_fleets"]["other"] = {"api": api, "tools": {"empirical": tool}, "public_grpc": True}
    message = _fails(stack_config("dev", blueprint=write_blueprint(tmp_path, blueprint)), monitors)
    assert "grpc_tool_fleets.other.tools.empirical.port: 50051" in message
    assert "already published by the edge's gRPC listener for grpc_tool_fleets.kite.tools.empirical.port" in message


def test_a_route_on_the_edges_own_health_path_is_refused(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    blueprint = reference_blueprint()
    name = next(n for n, s in blueprint["services"].items() if s.get("route"))
    blueprint["services"][name]["route"]["path"] = "/healthz/"
    message = _fails(stack_config("dev", blueprint=write_blueprint(tmp_path, blueprint)), monitors)
    assert f"services.{name}.route.path: '/healthz/'" in message
    assert "health check on /healthz" in message


def test_pools_sharing_an_engine_must_fit_its_declared_capacity(monitors: list[RecordingMonitor]) -> None:
    config = stack_config("dev", docker={"engines": {ENGINE: {"cpu": 4, "memory": "8Gi"}}})
    message = _fails(config, monitors)
    assert f"gpu-platform:docker.engines.{ENGINE}" in message
    assert "pools general, gpu share this engine" in message


def test_an_engine_no_pool_runs_on_is_refused(monitors: list[RecordingMonitor]) -> None:
    config = stack_config("dev", docker={"engines": {"ssh://ops@gpu-1": {"cpu": 64, "memory": "256Gi"}}})
    assert "no pool runs on this engine" in _fails(config, monitors)


def test_a_shared_engine_without_capacity_is_a_warning(dev_result: PreviewResult) -> None:
    shared = [w for w in dev_result.warnings if w.startswith("gpu-platform:docker.engines:")]
    assert len(shared) == 1
    assert f"pools general, gpu share the engine {ENGINE}" in shared[0]


def test_a_declared_engine_that_fits_checks_quietly() -> None:
    config = stack_config("dev", docker={"engines": {ENGINE: {"cpu": 64, "memory": "256Gi"}}})
    result = run_program("dev", config)
    assert not [w for w in result.warnings if "docker.engines" in w]
