"""Assertions shared by the Docker tests: what every container must look like, and lookups."""

from __future__ import annotations

from typing import Any

from preview.mocks import Recorded
from preview.runner import PreviewResult
from targets.docker.delivery import CARRIER_LABEL
from targets.docker.render import carriers
from tests.tokens import DOCKER_CONTAINER

CONTAINER = DOCKER_CONTAINER


def is_carrier(box: Recorded) -> bool:
    """A never-started container that only holds another container's files."""
    return any(lbl.get("label") == CARRIER_LABEL for lbl in box.inputs.get("labels", []))


def containers(result: PreviewResult) -> dict[str, Recorded]:
    """Recorded workload containers (carriers excluded) by their Docker container name."""
    return {str(r.inputs["name"]): r for r in result.of_type(CONTAINER) if not is_carrier(r)}


def delivered(result: PreviewResult, name: str) -> dict[str, dict[str, Any]]:
    """The files container ``name`` receives (its carrier's uploads), by path in the container."""
    carrier = carriers(result.resources).get(name)
    return {str(u["file"]): u for u in carrier.inputs.get("uploads", [])} if carrier else {}


def env_of(box: Recorded) -> dict[str, str]:
    """A container's environment as a dict (values of computed inputs read as recorded)."""
    return dict(str(e).split("=", 1) for e in box.inputs.get("envs", []))


def edge_conf(result: PreviewResult, stack: str = "dev") -> str:
    """The nginx.conf the edge container receives."""
    return str(delivered(result, f"{stack}-edge")["/run/config/nginx.conf"]["content"])


def assert_hardened(box: Recorded) -> None:
    """The container security baseline every Docker workload must meet."""
    inputs = box.inputs
    assert inputs["securityOpts"] == ["no-new-privileges:true"], box.name
    assert inputs["capabilities"]["drops"] == ["ALL"], box.name
    assert inputs.get("privileged") is False, box.name
    assert inputs["user"].split(":")[0] not in ("", "0", "root"), box.name
    assert inputs["memory"] >= inputs["memoryReservation"] > 0, box.name
    assert float(inputs["cpus"]) > 0, box.name
    assert inputs["restart"] == "unless-stopped", box.name
    assert inputs["healthcheck"]["tests"], box.name
    assert inputs["logOpts"]["max-size"], box.name
    assert "networkMode" not in inputs, box.name
    for port in inputs.get("ports", []):
        assert port["ip"] in ("127.0.0.1", "0.0.0.0"), box.name
    image = inputs["image"]
    assert image.startswith("sha256:"), f"{box.name} must run the pulled, pinned image, got {image}"
