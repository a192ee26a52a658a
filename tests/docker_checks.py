"""Assertions shared by the Docker tests: what every container must look like, and lookups."""

from __future__ import annotations

from preview.mocks import Recorded
from preview.runner import PreviewResult

CONTAINER = "docker:index/container:Container"


def containers(result: PreviewResult) -> dict[str, Recorded]:
    """Recorded containers by their Docker container name."""
    return {str(r.inputs["name"]): r for r in result.of_type(CONTAINER)}


def env_of(box: Recorded) -> dict[str, str]:
    """A container's environment as a dict (values of computed inputs read as recorded)."""
    return dict(str(e).split("=", 1) for e in box.inputs.get("envs", []))


def edge_conf(result: PreviewResult, stack: str = "dev") -> str:
    """The nginx.conf the edge container receives."""
    edge = containers(result)[f"{stack}-edge"]
    return next(str(u["content"]) for u in edge.inputs["uploads"] if u["file"] == "/etc/nginx/nginx.conf")


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
