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
    problems += _routes(blueprint)
    problems += _ignored_routes(blueprint)
    return problems


def _duplicate_keys(blueprint: Blueprint) -> list[Problem]:
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


def _duplicate_names(blueprint: Blueprint) -> list[Problem]:
    """Top-level names are shared across sections, and so are the names of the resources they become.

    A fleet ``kite`` runs ``kite-api`` and ``kite-<tool>``, Pixel Streaming ``px`` runs
    ``px-streamer``, ``px-signalling``, ``px-turn``: a service called ``kite-api`` would be
    a second resource of the same name (and, for a public tool, a second gRPC host name).
    """
    problems = _duplicate_keys(blueprint)
    owner: dict[str, str] = {}
    for workload in workloads(blueprint):
        if workload.name in owner:
            problems.append(
                Problem(
                    workload.key,
                    workload.name,
                    f"{owner[workload.name]} already runs a workload of this name; rename one of them",
                )
            )
        else:
            owner[workload.name] = workload.key
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


def route_path_key(path: str) -> str:
    """What makes two HTTP or WebSocket routes the same: the path, ignoring a trailing ``/``.

    Every target serves HTTP and WebSocket routes on one listener of one host (nginx
    server, Gateway listener, ALB listener) and matches by prefix: the ALB rule for
    ``/api/`` is ``/api`` + ``/api/*`` and Gateway API's PathPrefix ignores a trailing
    slash, so ``/api`` and ``/api/`` are one route there; nginx keeps them apart but
    a blueprint must mean the same on every target. gRPC routes get a host name of
    their own (``<fleet>-<tool>``) and are covered by the workload-name check.
    """
    return path.rstrip("/") or "/"


def public_routes(blueprint: Blueprint) -> list[tuple[str, str]]:
    """(key path of the route's path, path) for every HTTP and WebSocket route the blueprint defines."""
    found = [(f"services.{n}.route.path", s.route.path) for n, s in blueprint.services.items() if s.route]
    found += [(f"websocket_gateways.{n}.path", g.path) for n, g in blueprint.websocket_gateways.items()]
    found += [
        (f"grpc_tool_fleets.{n}.api.route.path", f.api.route.path)
        for n, f in blueprint.grpc_tool_fleets.items()
        if f.api.route
    ]
    found += [(f"pixel_streaming.{n}.signalling.path", p.signalling.path) for n, p in blueprint.pixel_streaming.items()]
    return found


def _routes(blueprint: Blueprint) -> list[Problem]:
    """Two routes on one path: one would hide the other (or the edge refuses to start)."""
    taken: dict[str, str] = {}
    problems = []
    for key, path in public_routes(blueprint):
        same = route_path_key(path)
        if same in taken:
            problems.append(
                Problem(key, path, f"{taken[same]} already routes this path; each route needs a path of its own")
            )
        else:
            taken[same] = key
    return problems


def _ignored_routes(blueprint: Blueprint) -> list[Problem]:
    """``route`` where nothing reads it: a gateway, streamer or matchmaker is reached otherwise."""
    found = [
        (f"websocket_gateways.{n}.service.route", g.service.route, f"set websocket_gateways.{n}.path instead")
        for n, g in blueprint.websocket_gateways.items()
    ]
    for name, streaming in blueprint.pixel_streaming.items():
        found += [
            (f"pixel_streaming.{name}.streamer.route", streaming.streamer.route, "the streamer is not public"),
            (
                f"pixel_streaming.{name}.signalling.service.route",
                streaming.signalling.service.route,
                f"set pixel_streaming.{name}.signalling.path instead",
            ),
        ]
        if streaming.matchmaker is not None:
            found.append((f"pixel_streaming.{name}.matchmaker.route", streaming.matchmaker.route, "it is not routed"))
    return [
        Problem(key, route.path, f"route is read only on services and a fleet's api; {instead}")
        for key, route, instead in found
        if route is not None
    ]


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

    for name in nodes:
        problems += _visit(name, needs, state, order, blueprint)
    if not problems:
        problems += _chain_depth(order, needs, blueprint)
    return order, problems[:1]


def _visit(
    start: str, needs: dict[str, set[str]], state: dict[str, int], order: list[str], blueprint: Blueprint
) -> list[Problem]:
    """Depth-first from ``start``: append finished names to ``order``; a cycle is a problem.

    Iterative (a stack of pending dependencies per name on the trail), because a
    generated blueprint may chain thousands of workloads and Python's recursion
    limit is about a thousand frames.
    """
    if state.get(start) == 2:
        return []
    problems: list[Problem] = []
    trail: list[str] = [start]
    pending: list[list[str]] = [sorted(needs[start], reverse=True)]
    state[start] = 1
    while trail:
        if not pending[-1]:
            state[trail[-1]] = 2
            order.append(trail.pop())
            pending.pop()
            continue
        dependency = pending[-1].pop()
        if state.get(dependency) == 2:
            continue
        if state.get(dependency) == 1:
            cycle = [*trail[trail.index(dependency) :], dependency]
            key = f"{_section(blueprint, dependency)}.{dependency}.uses"
            problems.append(Problem(key, " -> ".join(cycle), "uses must not form a cycle"))
            continue
        state[dependency] = 1
        trail.append(dependency)
        pending.append(sorted(needs[dependency], reverse=True))
    return problems


# Longest chain of ``uses`` (a uses b uses c ...). Real platforms chain a handful; the Pulumi SDK
# checks each explicit dependency for cycles with a walk that recurses once per link, and fails
# near a thousand links (measured: 600 chained services deploy, 1000 die with RecursionError).
MAX_USES_CHAIN = 100


def _chain_depth(order: list[str], needs: dict[str, set[str]], blueprint: Blueprint) -> list[Problem]:
    """One problem naming the longest chain if it is longer than :data:`MAX_USES_CHAIN` workloads."""
    length: dict[str, int] = {}
    nearest: dict[str, str | None] = {}
    for name in order:  # dependencies come first in ``order``
        below = max(sorted(needs[name]), key=lambda n: length[n], default=None)
        length[name] = 1 + (length[below] if below is not None else 0)
        nearest[name] = below
    top = max(order, key=lambda n: length[n], default=None)
    if top is None or length[top] <= MAX_USES_CHAIN:
        return []
    chain: list[str] = []
    current: str | None = top
    while current is not None:
        chain.append(current)
        current = nearest[current]
    shown = " -> ".join([*chain[:3], "...", *chain[-2:]])
    return [
        Problem(
            f"{_section(blueprint, top)}.{top}.uses",
            f"{shown} ({len(chain)} workloads)",
            f"a chain of uses may be at most {MAX_USES_CHAIN} workloads long",
        )
    ]


def _section(blueprint: Blueprint, name: str) -> str:
    return blueprint.workload_names().get(name, "services")
