"""The shared test kit: lookups on a preview result and the blueprint as the tests read it.

Every test asks a preview result the same few questions (the one resource of a type and name,
how many of a type, whether one has these inputs), and reads a blueprint the same way (its
workloads, their images, users, replicas, ports, health checks and GPU requests). They live
here once; what each *target* makes of a workload is its view (``tests/views/<target>.py``).
Expected values come from the blueprint, never from the program's output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from preview.mocks import Recorded
from preview.runner import PreviewResult

ROOT = Path(__file__).resolve().parent.parent
COMPONENT = "gpu-platform:components:"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


# -- the preview result ----------------------------------------------------------------------------


def recorded(token: str, name: str, inputs: dict[str, Any], parent: str | None = "urn:pool") -> Recorded:
    """A registered resource as the mock monitor records it, built by hand for tests of what reads one."""
    return Recorded(
        urn=f"urn:{token}::{name}",
        type=token,
        name=name,
        parent=parent,
        custom=True,
        provider=None,
        dependencies=[],
        protect=False,
        retain_on_delete=False,
        delete_before_replace=False,
        inputs=inputs,
    )


def one(result: PreviewResult, token: str, name: str) -> Recorded:
    """The single resource of ``token`` whose Pulumi name is ``name`` (fails naming both otherwise)."""
    found = [r for r in result.of_type(token) if r.name == name]
    assert len(found) == 1, f"expected one {token} named {name}, got {len(found)}"
    return found[0]


def names(result: PreviewResult, token: str) -> set[str]:
    """The Pulumi names of every resource of ``token``."""
    return {r.name for r in result.of_type(token)}


def count(result: PreviewResult, token: str, where: Callable[[Recorded], bool] | None = None) -> int:
    """How many resources of ``token`` (that ``where`` accepts, when given) the run registered."""
    return len([r for r in result.of_type(token) if where is None or where(r)])


def contains(whole: Any, part: Any) -> bool:
    """``part`` is ``whole`` or a subset of it: dicts by key, lists element by element (in order)."""
    if isinstance(part, dict) and isinstance(whole, dict):
        return all(key in whole and contains(whole[key], value) for key, value in part.items())
    if isinstance(part, list) and isinstance(whole, list):
        return len(part) == len(whole) and all(contains(w, p) for w, p in zip(whole, part, strict=True))
    return whole == part


def has(result: PreviewResult, token: str, **subset: Any) -> bool:
    """Some resource of ``token`` has inputs that include ``subset`` (nested dicts compared by key)."""
    return any(contains(r.inputs, subset) for r in result.of_type(token))


def component_counts(result: PreviewResult) -> Counter[str]:
    """The platform's components by kind (``GpuNode``, ``Service``, ...), as registered."""
    return Counter(r.type.removeprefix(COMPONENT) for r in result.resources if r.type.startswith(COMPONENT))


# -- the blueprint as written ----------------------------------------------------------------------


@cache
def blueprint(name: str) -> dict[str, Any]:
    """``blueprints/<name>.yaml`` as loaded (read-only: the cache shares it)."""
    return yaml.safe_load((ROOT / "blueprints" / f"{name}.yaml").read_text())


def fixture(name: str) -> dict[str, Any]:
    """``tests/fixtures/<name>.yaml``: a minimal blueprint part the component tests share (a fresh copy)."""
    return yaml.safe_load((FIXTURES / f"{name}.yaml").read_text())


def expected_components(bp: dict[str, Any]) -> dict[str, int]:
    """The components a blueprint makes, by kind, counted from its YAML (kinds it has none of left out)."""
    streaming = len(bp.get("pixel_streaming", {}))
    expected = {
        "GpuNode": len(bp["pools"]),
        "Service": len(bp.get("services", {})),
        # a Pixel Streaming signalling server is a WebSocketGateway of its own
        "WebSocketGateway": len(bp.get("websocket_gateways", {})) + streaming,
        "ManagedPostgres": len(bp.get("databases", {})),
        "GrpcToolFleet": len(bp.get("grpc_tool_fleets", {})),
        "PixelStreaming": streaming,
    }
    return {kind: n for kind, n in expected.items() if n}


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
    def owns_a_volume(self) -> bool:
        """A single-writer (not ``shared``) volume: Kubernetes makes such a workload a StatefulSet."""
        return any(not v.get("shared") for v in self.volumes.values())

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


def gpu_pools(bp: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: pool for name, pool in bp["pools"].items() if pool.get("gpus", 0) > 0}


def targets_of_every_pool(bp: dict[str, Any]) -> list[str]:
    """The targets a blueprint gives every pool settings for (one written for named nodes, like bev)."""
    named = [set((pool.get("targets") or {}).keys()) for pool in bp["pools"].values()]
    return sorted(set.intersection(*named)) if named else []
