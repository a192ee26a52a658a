"""Synthetic blueprints for the benchmark's size sweep: ``plain`` and ``mix`` platforms of N services.

``plain`` is N small HTTP services, each with its own route (the shape issue 16 measured).
``mix`` keeps the same N workloads but makes every tenth a WebSocket gateway, every tenth a
gRPC tool fleet (an API and two tools, so three workloads) and gives every twentieth service a
database, so the components' own resources (Postgres, sticky edges, gRPC routes) grow with N too.
Pools are sized from the requests so placement always fits: the sweep measures the preview, not
the capacity checks.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

KINDS = ("plain", "mix")
CPU = 0.1  # requested per workload
MEMORY_MIB = 128
TOOL_IMAGE = "ghcr.io/example/synthetic-tool:1.0.0"


def _service(index: int, *, route: bool = True) -> dict[str, Any]:
    service: dict[str, Any] = {
        "image": f"ghcr.io/example/synthetic-{index % 7}:1.0.{index % 3}",
        "ports": [{"name": "http", "container_port": 8080}],
        "health": {"kind": "http", "path": "/health"},
        "requests": {"cpu": CPU, "memory": f"{MEMORY_MIB}Mi"},
        "limits": {"cpu": 2 * CPU, "memory": f"{2 * MEMORY_MIB}Mi"},
    }
    if route:
        service["route"] = {"path": f"/s{index}/"}
    return service


def _pool(workloads: int) -> dict[str, Any]:
    """One amd64 pool with room for every workload under an 80 % allocation cap.

    Sized at 0.5 CPU and 1 GiB per workload, above what any synthetic workload requests (tools and
    databases take their components' defaults), so placement never refuses a size.
    """
    return {
        "cpu": math.ceil(workloads * 0.5 / 0.8) + 4,
        "memory": f"{math.ceil(workloads / 0.8) + 8}Gi",
        "architecture": "amd64",
        "allocation_cap": 0.8,
    }


def plain(size: int) -> dict[str, Any]:
    """``size`` HTTP services, each routed at ``/s<i>/``."""
    return {
        "name": f"synthetic-plain-{size}",
        "description": f"{size} plain services with routes (benchmark)",
        "pools": {"general": _pool(size)},
        "services": {f"s{i}": _service(i) for i in range(size)},
    }


def mix(size: int) -> dict[str, Any]:
    """``size`` workloads: services, WebSocket gateways, gRPC tool fleets and databases."""
    services: dict[str, Any] = {}
    gateways: dict[str, Any] = {}
    fleets: dict[str, Any] = {}
    databases: dict[str, Any] = {}
    index = 0
    while index < size:
        if index % 10 == 5:
            gateway = _service(index, route=False)
            gateway["ports"] = [{"name": "ws", "container_port": 8765, "app_protocol": "websocket"}]
            gateways[f"g{index}"] = {"service": gateway, "path": f"/ws{index}", "sticky": True}
            index += 1
        elif index % 10 == 7 and index + 3 <= size:
            tools = {f"t{index + k}": {"image": TOOL_IMAGE, "port": 50051 + k} for k in (1, 2)}
            fleets[f"f{index}"] = {"api": _service(index), "tools": tools}
            index += 3
        else:
            service = _service(index)
            if index % 20 == 0:
                databases[f"db{index}"] = {"version": "16", "database": f"d{index}", "username": f"u{index}"}
                service["uses"] = [f"db{index}"]
            services[f"s{index}"] = service
            index += 1
    blueprint: dict[str, Any] = {
        "name": f"synthetic-mix-{size}",
        "description": f"{size} workloads: services, gateways, tool fleets, databases (benchmark)",
        "pools": {"general": _pool(size + len(databases))},
        "services": services,
    }
    for key, value in (("websocket_gateways", gateways), ("grpc_tool_fleets", fleets), ("databases", databases)):
        if value:
            blueprint[key] = value
    return blueprint


def blueprint_text(kind: str, size: int) -> str:
    """The YAML of a synthetic blueprint."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: one of {', '.join(KINDS)}")
    return yaml.safe_dump(plain(size) if kind == "plain" else mix(size), sort_keys=False)
