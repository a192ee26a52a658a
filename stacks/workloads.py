"""A flat list of every container workload a blueprint asks for.

Placement, capacity checks, host-port checks and reports all need "every thing
that runs, with its key path, requests and replicas"; the blueprint nests them
in five sections, so this module flattens once and everyone iterates the list.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.protocol import postgres_limits
from components.turn import TURN_CPU, TURN_LIMIT_CPU, TURN_LIMIT_MEMORY_MIB, TURN_MEMORY_MIB
from stacks.spec import Blueprint, PortSpec, Resources, ServiceSpec

# What the TURN relay asks for and is capped at: the numbers the component sets (components/turn.py).
TURN_REQUESTS = Resources(cpu=TURN_CPU, memory=TURN_MEMORY_MIB)
TURN_LIMITS = Resources(cpu=TURN_LIMIT_CPU, memory=TURN_LIMIT_MEMORY_MIB)


@dataclass(frozen=True)
class Workload:
    """One deployable container workload of the blueprint."""

    key: str  # key path in the blueprint, e.g. "grpc_tool_fleets.kite.tools.empirical"
    name: str  # resource name, e.g. "kite-empirical"
    requests: Resources
    limits: Resources | None
    replicas: int  # replicas to reserve capacity for (autoscale max when autoscaled)
    pool: str | None  # explicit pool, or None for automatic placement
    architectures: tuple[str, ...]
    ports: tuple[PortSpec, ...]


def _from_service(key: str, name: str, spec: ServiceSpec) -> Workload:
    replicas = spec.autoscale.max if spec.autoscale else spec.replicas
    return Workload(
        key=key,
        name=name,
        requests=spec.requests,
        limits=spec.limits,
        replicas=replicas,
        pool=spec.pool,
        architectures=tuple(spec.architectures),
        ports=tuple(spec.ports),
    )


def workloads(blueprint: Blueprint) -> list[Workload]:
    """Every workload in blueprint order (services, gateways, databases, fleets, streaming)."""
    found: list[Workload] = []
    for name, service in blueprint.services.items():
        found.append(_from_service(f"services.{name}", name, service))
    for name, gateway in blueprint.websocket_gateways.items():
        found.append(_from_service(f"websocket_gateways.{name}.service", name, gateway.service))
    for name, database in blueprint.databases.items():
        limit_cpu, limit_memory = postgres_limits(database.requests.cpu, database.requests.memory)
        found.append(
            Workload(
                key=f"databases.{name}",
                name=name,
                requests=database.requests,
                limits=Resources(cpu=limit_cpu, memory=limit_memory),
                replicas=1,
                pool=database.pool,
                architectures=("amd64", "arm64"),
                ports=(PortSpec(name="postgres", container_port=5432, app_protocol="tcp"),),
            )
        )
    for name, fleet in blueprint.grpc_tool_fleets.items():
        found.append(_from_service(f"grpc_tool_fleets.{name}.api", f"{name}-api", fleet.api))
        for tool_name, tool in fleet.tools.items():
            found.append(
                Workload(
                    key=f"grpc_tool_fleets.{name}.tools.{tool_name}",
                    name=f"{name}-{tool_name}",
                    requests=tool.requests,
                    limits=tool.limits,
                    replicas=tool.replicas,
                    pool=tool.pool,
                    architectures=("amd64", "arm64"),
                    ports=(PortSpec(name="grpc", container_port=tool.port, app_protocol="grpc"),),
                )
            )
    for name, streaming in blueprint.pixel_streaming.items():
        found.append(_from_service(f"pixel_streaming.{name}.streamer", f"{name}-streamer", streaming.streamer))
        found.append(
            _from_service(
                f"pixel_streaming.{name}.signalling.service", f"{name}-signalling", streaming.signalling.service
            )
        )
        if streaming.matchmaker is not None:
            found.append(
                _from_service(f"pixel_streaming.{name}.matchmaker", f"{name}-matchmaker", streaming.matchmaker)
            )
        found.append(
            Workload(
                key=f"pixel_streaming.{name}.turn",
                name=f"{name}-turn",
                requests=TURN_REQUESTS,
                limits=TURN_LIMITS,
                replicas=1,
                pool=streaming.streamer.pool,
                architectures=("amd64", "arm64"),
                ports=(),
            )
        )
    return found
