"""Checks that need the whole blueprint: names, ``uses`` wiring and published host ports.

Field-level rules live on the pydantic models; what crosses sections (a service
using a database that does not exist, two services publishing one host port on
the same Docker engine) is checked here, with the key path of the offending value.
"""

from __future__ import annotations

from collections.abc import Callable

from stacks.errors import Problem
from stacks.spec import Blueprint
from stacks.workloads import workloads

# Sections a service may wire to with ``uses``: what it gets is described in stacks/wiring.py.
USABLE_SECTIONS = ("databases", "grpc_tool_fleets", "services", "websocket_gateways")


def check_references(blueprint: Blueprint) -> list[Problem]:
    """Every cross-section problem in the blueprint (empty when consistent)."""
    problems: list[Problem] = []
    if not blueprint.pools:
        problems.append(Problem("pools", {}, "a blueprint needs at least one pool (where workloads run)"))
    problems += _duplicate_names(blueprint)
    problems += _uses(blueprint)
    return problems


def _duplicate_names(blueprint: Blueprint) -> list[Problem]:
    seen: dict[str, str] = {}
    problems = []
    for section in ("services", "websocket_gateways", "databases", "grpc_tool_fleets", "pixel_streaming"):
        for name in getattr(blueprint, section):
            if name in seen:
                problems.append(
                    Problem(f"{section}.{name}", name, f"the name is already used in {seen[name]}; names are shared")
                )
            else:
                seen[name] = section
    return problems


def _uses(blueprint: Blueprint) -> list[Problem]:
    usable = {n for s in USABLE_SECTIONS for n in getattr(blueprint, s)}
    problems = []
    for key, own_name, uses in _users(blueprint):
        for index, used in enumerate(uses):
            if used == own_name:
                problems.append(Problem(f"{key}.uses[{index}]", used, "a workload cannot use itself"))
            elif used not in usable:
                problems.append(
                    Problem(
                        f"{key}.uses[{index}]",
                        used,
                        f"known databases, tool fleets, services and gateways: {', '.join(sorted(usable)) or 'none'}",
                    )
                )
    return problems


def _users(blueprint: Blueprint) -> list[tuple[str, str, list[str]]]:
    found = [(f"services.{n}", n, s.uses) for n, s in blueprint.services.items()]
    found += [(f"websocket_gateways.{n}.service", n, g.service.uses) for n, g in blueprint.websocket_gateways.items()]
    for name, fleet in blueprint.grpc_tool_fleets.items():
        found.append((f"grpc_tool_fleets.{name}.api", name, fleet.api.uses))
        found += [(f"grpc_tool_fleets.{name}.tools.{t}", name, tool.uses) for t, tool in fleet.tools.items()]
    return found


HostPort = tuple[str, int, str]


def check_host_ports(
    blueprint: Blueprint,
    pool_of: dict[str, str],
    host_of: Callable[[str], str],
    reserved: dict[HostPort, str] | None = None,
    publish_all: bool = False,
) -> list[Problem]:
    """Two workloads may not publish one host port on the same engine.

    ``host_of`` maps a pool name to its engine (pools on one engine share ports);
    ``reserved`` holds ports the target itself publishes (edge listeners, TURN);
    ``publish_all`` counts every container port as published (Docker stacks that
    span engines publish all ports on each host's private address).
    """
    taken: dict[HostPort, str] = dict(reserved or {})
    problems = []
    for workload in workloads(blueprint):
        pool = pool_of.get(workload.key)
        if pool is None:
            continue
        for index, port in enumerate(workload.ports):
            published = port.host_port or (port.container_port if publish_all else None)
            if published is None:
                continue
            slot = (host_of(pool), published, port.protocol)
            where = f"{workload.key}.ports[{index}]" + (".host_port" if port.host_port else ".container_port")
            if slot in taken:
                problems.append(
                    Problem(
                        where,
                        published,
                        f"host port {published}/{port.protocol} on {slot[0]} is already published by "
                        f"{taken[slot]}; pick a free port"
                        + (" (a stack spanning Docker engines publishes every container port)" if publish_all else ""),
                    )
                )
            else:
                taken[slot] = where
    return problems


def creation_order(blueprint: Blueprint) -> tuple[list[str], list[Problem]]:
    """Services, gateways and fleets ordered so that whatever is used exists first.

    Databases are created before all of them; a cycle of ``uses`` is a problem
    (each side would need the other's address first).
    """
    nodes = [*blueprint.services, *blueprint.websocket_gateways, *blueprint.grpc_tool_fleets]
    needs: dict[str, set[str]] = {name: set() for name in nodes}
    # A fleet's tools report under the fleet's name, so their needs merge into it.
    for _, name, uses in _users(blueprint):
        needs[name] |= (set(uses) & set(nodes)) - {name}
    order: list[str] = []
    state: dict[str, int] = {}
    problems: list[Problem] = []

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*trail[trail.index(name) :], name]
            problems.append(
                Problem(f"{_section(blueprint, name)}.{name}.uses", " -> ".join(cycle), "uses must not form a cycle")
            )
            return
        state[name] = 1
        for dependency in sorted(needs[name]):
            visit(dependency, [*trail, name])
        state[name] = 2
        order.append(name)

    for name in nodes:
        visit(name, [])
    return order, problems[:1]


def _section(blueprint: Blueprint, name: str) -> str:
    return blueprint.workload_names().get(name, "services")
