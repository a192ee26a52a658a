"""The component-level architecture of a preview document, and a Graphviz picture of it.

A reader of a pull request wants to see *what talks to what*, not 300 provider
resources. Everything here is derived from the JSON document (format 1) of
``python -m preview STACK --json``, so a saved document can be drawn later:

- the components (``gpu-platform:components:*``) and the target's foundation
  (``gpu-platform:<target>:*``, e.g. the Docker edge, the Kubernetes cluster);
- wiring: a resource depends on a resource owned by another component (a Service's
  container depends on the ManagedPostgres's container -> Service -> ManagedPostgres).
  Dependencies on pools and on the foundation are left out: every workload has them,
  so they say nothing; placement on pools comes from ``outputs.placement`` instead;
- public routes from ``outputs.urls``: the internet reaches the foundation's entry,
  which forwards to the component the URL belongs to.

``render_dot`` builds DOT text (a pure function); ``write_graph`` calls Graphviz's
``dot`` for ``.svg``/``.png``.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from targets import plugins

COMPONENT_PREFIX = "gpu-platform:components:"
FOUNDATION_PREFIX = "gpu-platform:"
POOL_KIND = "GpuNode"
FORMATS = (".dot", ".svg", ".png")


@dataclass(frozen=True)
class Workload:
    """One placed workload of a component (a key of ``outputs.placement``)."""

    path: str  # e.g. "grpc_tool_fleets.kite.tools.empirical"
    role: str  # the part below the component: "tools.empirical", "api", "" for a plain service
    pool: str


@dataclass(frozen=True)
class Node:
    """A component (or the target's foundation) with what it owns and where it runs."""

    urn: str
    name: str
    token: str
    parent: str | None  # URN of the enclosing component, if any
    owned: Mapping[str, int]  # provider resources it owns directly, by type
    workloads: tuple[Workload, ...] = ()

    @property
    def kind(self) -> str:
        return self.token.rsplit(":", 1)[-1]

    @property
    def foundation(self) -> bool:
        return not self.token.startswith(COMPONENT_PREFIX)

    @property
    def is_pool(self) -> bool:
        return self.token == COMPONENT_PREFIX + POOL_KIND

    @property
    def pools(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w.pool for w in self.workloads))

    @property
    def pool(self) -> str | None:
        """The pool all of its workloads landed on; None when unplaced or split across pools."""
        pools = self.pools
        return pools[0] if len(pools) == 1 else None


@dataclass(frozen=True)
class Route:
    """A public URL (``outputs.urls``) and the component (and workload) it reaches."""

    key: str
    url: str
    target: str | None  # component URN
    role: str | None  # workload role inside the target, when the URL names one (a gRPC tool)


@dataclass
class Architecture:
    """Components, pools, wiring and public routes of one preview document."""

    stack: str
    environment: str
    targets: list[str]
    blueprint: str
    total: int
    nodes: dict[str, Node] = field(default_factory=dict)
    pools: list[str] = field(default_factory=list)
    wires: list[tuple[str, str]] = field(default_factory=list)  # (user, used), deduplicated
    routes: list[Route] = field(default_factory=list)
    unowned: dict[str, int] = field(default_factory=dict)  # provider resources outside any component
    pool_info: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def components(self) -> list[Node]:
        """Blueprint components (no pools, no foundation)."""
        return [n for n in self.nodes.values() if not n.foundation and not n.is_pool]

    @property
    def foundations(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.foundation]

    @property
    def entry(self) -> Node | None:
        """The foundation that public routes enter through (edge, cluster gateway, load balancer)."""
        foundations = self.foundations
        return foundations[0] if foundations else None

    def children(self, urn: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.parent == urn]


def architecture(document: Mapping[str, Any]) -> Architecture:
    """Derive the component picture from a preview JSON document (format 1)."""
    resources: list[Mapping[str, Any]] = list(document.get("resources") or [])
    outputs = document.get("outputs") or {}
    summary = document.get("summary") or {}
    arch = Architecture(
        stack=str(document.get("stack", "?")),
        environment=str(document.get("environment", "?")),
        targets=[str(t) for t in document.get("targets") or []],
        blueprint=str(document.get("blueprint", "?")),
        total=len(resources),
    )
    by_urn = {str(r["urn"]): r for r in resources}
    components = [r for r in resources if not r.get("custom", True) and str(r["type"]).startswith(FOUNDATION_PREFIX)]
    component_urns = {str(r["urn"]) for r in components}
    owner = _owner_function(by_urn, component_urns)

    owned: dict[str, dict[str, int]] = {urn: {} for urn in component_urns}
    for resource in resources:
        if not resource.get("custom", True):
            continue
        home = owner(str(resource["urn"]))
        counts = owned[home] if home else arch.unowned
        counts[str(resource["type"])] = counts.get(str(resource["type"]), 0) + 1

    placement = outputs.get("placement") if isinstance(outputs.get("placement"), Mapping) else {}
    names = {str(r["name"]): str(r["urn"]) for r in components if str(r["type"]) != COMPONENT_PREFIX + POOL_KIND}
    workloads = _workloads(placement or {}, names)
    for resource in components:
        urn = str(resource["urn"])
        parent = resource.get("parent")
        arch.nodes[urn] = Node(
            urn=urn,
            name=str(resource["name"]),
            token=str(resource["type"]),
            parent=str(parent) if parent in component_urns else None,
            owned=dict(sorted(owned[urn].items())),
            workloads=tuple(workloads.get(urn, ())),
        )

    pool_names = [n.name for n in arch.nodes.values() if n.is_pool]
    for node in arch.nodes.values():
        pool_names += [p for p in node.pools if p not in pool_names]
    arch.pools = pool_names
    pools_summary = summary.get("pools")
    if isinstance(pools_summary, Mapping):
        arch.pool_info = {name: pools_summary[name] for name in pool_names if name in pools_summary}
    arch.wires = _wires(resources, owner, arch.nodes)
    arch.routes = _routes(outputs.get("urls"), arch)
    return arch


Owner = Callable[[str], str | None]


def _owner_function(by_urn: Mapping[str, Mapping[str, Any]], components: set[str]) -> Owner:
    """``owner(urn)``: the nearest component at or above a resource (memoised walk up the parents)."""
    cache: dict[str, str | None] = {}

    def owner(urn: str) -> str | None:
        if urn in cache:
            return cache[urn]
        seen: list[str] = []
        current: str | None = urn
        found: str | None = None
        while current and current in by_urn and current not in seen:
            if current in cache:
                found = cache[current]
                break
            seen.append(current)
            if current in components:
                found = current
                break
            parent = by_urn[current].get("parent")
            current = str(parent) if parent else None
        for item in seen:
            cache[item] = found
        return found

    return owner


def _workloads(placement: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, list[Workload]]:
    """Placement keys (``kind.name[.sub...]``) -> the component they belong to.

    The longest dash-joined prefix that names a component wins, so
    ``pixel_streaming.unreal.signalling.service`` belongs to ``unreal-signalling``
    and ``grpc_tool_fleets.kite.tools.power`` to ``kite``.
    """
    found: dict[str, list[Workload]] = {}
    for path, pool in placement.items():
        parts = str(path).split(".")
        for end in range(len(parts), 1, -1):
            urn = names.get("-".join(parts[1:end]))
            if urn:
                found.setdefault(urn, []).append(Workload(str(path), ".".join(parts[end:]), str(pool)))
                break
    for items in found.values():
        items.sort(key=lambda w: (w.role != "api", w.role))
    return found


def _wires(resources: Sequence[Mapping[str, Any]], owner: Owner, nodes: Mapping[str, Node]) -> list[tuple[str, str]]:
    """Component -> component edges from resource dependencies, without pools and foundation."""

    def relevant(urn: str | None) -> str | None:
        node = nodes.get(urn) if urn else None
        return urn if node is not None and not node.foundation and not node.is_pool else None

    wires: set[tuple[str, str]] = set()
    for resource in resources:
        user = relevant(owner(str(resource["urn"])))
        if user is None:
            continue
        for dependency in resource.get("dependencies") or []:
            used = relevant(owner(str(dependency)))
            if used is not None and used != user:
                wires.add((user, used))
    order = {urn: index for index, urn in enumerate(nodes)}
    return sorted(wires, key=lambda w: (order[w[0]], order[w[1]]))


def _routes(urls: Any, arch: Architecture) -> list[Route]:
    """``outputs.urls`` -> routes; a key names a component, or ``<component>-<tool>`` for a fleet's tool."""
    if not isinstance(urls, Mapping):
        return []
    candidates = sorted(arch.components, key=lambda n: -len(n.name))
    routes = []
    for key, url in urls.items():
        key = str(key)
        target = next((n for n in candidates if key == n.name or key.startswith(n.name + "-")), None)
        role = None
        if target and key != target.name:
            rest = key[len(target.name) + 1 :]
            role = next((w.role for w in target.workloads if w.role.split(".")[-1] == rest), None)
        if target:
            target = _served_by_child(target, str(url), arch)
        routes.append(Route(key, str(url), target.urn if target else None, role))
    return routes


def _served_by_child(target: Node, url: str, arch: Architecture) -> Node:
    """A URL whose path names a child component (``/signalling`` of ``unreal-signalling``) reaches that child."""
    segments = {segment for segment in urlsplit(url).path.split("/") if segment}
    for child in arch.children(target.urn):
        if child.name.startswith(target.name + "-") and child.name[len(target.name) + 1 :] in segments:
            return child
    return target


def route_label(url: str) -> str:
    """A short label for a URL: scheme and path, or scheme and host:port when the path says nothing."""
    parts = urlsplit(url)
    where = parts.path if parts.path not in ("", "/") else parts.netloc
    if parts.path == "/" and parts.scheme in ("http", "https"):
        where = "/"
    return f"{parts.scheme} {where}".strip()


# --- Graphviz -----------------------------------------------------------------------------------------

# kind -> (shape, fill colour, border colour); the Graphviz picture and the Mermaid diagram share the palette.
STYLES: dict[str, tuple[str, str, str]] = {
    "Service": ("box", "#e3f2fd", "#1e88e5"),
    "WebSocketGateway": ("hexagon", "#fff3e0", "#fb8c00"),
    "ManagedPostgres": ("cylinder", "#e8f5e9", "#43a047"),
    "PixelStreaming": ("box3d", "#f3e5f5", "#8e24aa"),
    "GrpcToolFleet": ("box", "#e0f7fa", "#00838f"),
    "tool": ("component", "#ffffff", "#00838f"),
    "foundation": ("box", "#fafafa", "#757575"),
}
DEFAULT_STYLE = ("box", "#ffffff", "#616161")


def style(kind: str) -> tuple[str, str, str]:
    return STYLES.get(kind, DEFAULT_STYLE)


def _html(text: str) -> str:
    return html.escape(text, quote=True)


def _label(title: str, *lines: str) -> str:
    small = "".join(f'<BR/><FONT POINT-SIZE="8" COLOR="#555555">{_html(line)}</FONT>' for line in lines if line)
    return f"<<B>{_html(title)}</B>{small}>"


def _pool_caption(name: str, info: Mapping[str, Any] | None) -> str:
    if not info:
        return f"pool {name}"
    capacity = info.get("capacity") or {}
    allowed = info.get("allowed") or {}
    bits = [str(info.get("architecture", ""))]
    if capacity.get("cpu") is not None:
        bits.append(f"{capacity['cpu']:g} cpu")
    if capacity.get("memory_mib"):
        bits.append(f"{capacity['memory_mib'] / 1024:g} GiB")
    if allowed.get("gpu"):
        bits.append(f"{allowed['gpu']} GPU")
    return f"pool {name}: " + ", ".join(b for b in bits if b)


class _Dot:
    """Accumulates DOT lines with stable node ids."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ids: dict[str, str] = {}

    def id(self, key: str) -> str:
        return self.ids.setdefault(key, f"n{len(self.ids)}")

    def add(self, text: str, indent: int = 1) -> None:
        self.lines.append("  " * indent + text)


def render_dot(document: Mapping[str, Any]) -> str:
    """DOT text of the component architecture: pools as clusters, fleets as clusters of tools, routes, wiring.

    Node ids are handed out in drawing order, so the steps below keep their order.
    """
    arch = architecture(document)
    dot = _Dot()
    _draw_header(dot, arch)
    anchors: dict[str, str] = {}  # component URN (or URN#role) -> node id that edges attach to
    dot.add('internet [label=<<B>internet</B>>, shape=ellipse, fillcolor="#eceff1", color="#455a64"];')
    _draw_entry(dot, arch, arch.entry)
    _draw_pools(dot, arch, anchors)
    _draw_route_edges(dot, arch, anchors)
    _draw_wires(dot, arch, anchors)
    dot.lines.append("}")
    return "\n".join(dot.lines) + "\n"


def _draw_header(dot: _Dot, arch: Architecture) -> None:
    """The graph's title (stack, targets, environment, blueprint, resource count) and default styles."""
    title = (
        f"gpu-platform · {arch.stack} · {', '.join(arch.targets) or '?'} · {arch.environment} · "
        f"blueprint {arch.blueprint} · {arch.total} resources"
    )
    dot.lines += [
        "digraph architecture {",
        f'  graph [rankdir=LR, fontname="Helvetica", fontsize=13, labelloc=t, label="{_quote(title)}", '
        'pad=0.3, nodesep=0.3, ranksep=0.8, newrank=true, bgcolor="white"];',
        '  node [fontname="Helvetica", fontsize=10, style="filled", penwidth=1.3, margin="0.12,0.06"];',
        '  edge [fontname="Helvetica", fontsize=8, color="#78909c", arrowsize=0.7, penwidth=1.1];',
    ]


def _draw_pools(dot: _Dot, arch: Architecture, anchors: dict[str, str]) -> None:
    """Each pool as a cluster of the components placed on it (GPU pools in yellow); then the components that
    span pools, outside any cluster."""
    placed: dict[str | None, list[Node]] = {}
    for node in arch.components:
        placed.setdefault(node.pool if node.pool in arch.pools else None, []).append(node)
    for index, pool in enumerate(arch.pools):
        members = placed.get(pool, [])
        caption = _pool_caption(pool, arch.pool_info.get(pool))
        gpu = bool((arch.pool_info.get(pool) or {}).get("allowed", {}).get("gpu"))
        fill, border = ("#fffde7", "#f9a825") if gpu else ("#f5f7fa", "#90a4ae")
        dot.add(f"subgraph cluster_pool_{index} {{")
        dot.add(
            f'label=<<B>{_html(caption)}</B>>; style="rounded,filled"; fillcolor="{fill}"; color="{border}"; '
            "fontsize=11; margin=14;",
            2,
        )
        if not members:
            dot.add(f'{dot.id("empty:" + pool)} [label="(no workloads)", shape=plaintext, style=""];', 2)
        for node in members:
            _draw_component(dot, node, anchors, 2)
        dot.add("}")
    for node in placed.get(None, []):
        _draw_component(dot, node, anchors, 1)


def _draw_route_edges(dot: _Dot, arch: Architecture, anchors: dict[str, str]) -> None:
    """Each route to the component (or fleet tool) serving it."""
    if arch.routes:  # keep every component right of the routes column, so the entry cluster stays left
        first = dot.id("route:" + arch.routes[0].key)
        for node_id in dict.fromkeys(anchors.values()):
            dot.add(f"{first} -> {node_id} [style=invis, weight=0];")
    for route in arch.routes:
        route_id = dot.id("route:" + route.key)
        if not route.target:
            continue
        target = anchors.get(f"{route.target}#{route.role}") or anchors.get(route.target)
        if target:
            dot.add(f'{route_id} -> {target} [color="#1565c0", penwidth=1.4];')


def _draw_wires(dot: _Dot, arch: Architecture, anchors: dict[str, str]) -> None:
    """Wiring between components (one two-headed edge where both use each other), then "part of" edges."""
    drawn: set[tuple[str, str]] = set()
    wires = set(arch.wires)
    for user, used in arch.wires:
        if (user, used) in drawn:
            continue
        both = (used, user) in wires
        drawn |= {(user, used), (used, user)}
        kind = arch.nodes[used].kind
        colour = {"ManagedPostgres": "#43a047", "WebSocketGateway": "#fb8c00"}.get(kind, "#78909c")
        extra = ", dir=both" if both else ""
        dot.add(f'{anchors[user]} -> {anchors[used]} [color="{colour}"{extra}];')
    for node in arch.components:
        if node.parent and node.parent in anchors and (node.parent, node.urn) not in wires:
            dot.add(f'{anchors[node.parent]} -> {anchors[node.urn]} [style=dashed, arrowhead=none, label="part of"];')


# What makes a foundation the public entry, by the types it owns (shown next to its name).
ENTRY_HINTS: dict[str, str] = {token: hint for plugin in plugins() for token, hint in plugin.entry_hints.items()}


def entry_caption(node: Node) -> str:
    """``gpu-platform:docker:Edge`` named ``edge`` -> ``docker Edge (reverse proxy)``: the foundation in words."""
    parts = node.token.split(":")
    kind = " ".join(parts[1:]) if len(parts) == 3 else node.kind
    head = kind if len(parts) == 3 and node.name == parts[1] else f"{node.name} · {kind}"
    hints = [hint for token, hint in ENTRY_HINTS.items() if token in node.owned]
    return head + (f" ({', '.join(hints)})" if hints else "")


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _draw_entry(dot: _Dot, arch: Architecture, entry: Node | None) -> None:
    """The foundation as a cluster of public routes; the internet reaches each route."""
    if not arch.routes:
        return
    if entry is not None:
        dot.add("subgraph cluster_entry {")
        caption = f"{entry_caption(entry)} · {len(arch.routes)} public routes"
        dot.add(
            f'label=<<B>{_html(caption)}</B>>; style="rounded,filled"; fillcolor="#e3f2fd"; color="#1565c0"; '
            "fontsize=11; margin=12;",
            2,
        )
    indent = 2 if entry is not None else 1
    for route in arch.routes:
        scheme, _, where = route_label(route.url).partition(" ")
        label = _label(route.key, f"{scheme} {where}")
        dot.add(
            f'{dot.id("route:" + route.key)} [label={label}, shape=note, fillcolor="#ffffff", color="#1565c0", '
            "fontsize=9];",
            indent,
        )
    same = "; ".join(dot.id("route:" + route.key) for route in arch.routes)
    dot.add(f"{{rank=same; {same}}}", indent)
    if entry is not None:
        dot.add("}")
    for route in arch.routes:
        dot.add(f'internet -> {dot.id("route:" + route.key)} [color="#1565c0"];')


def _draw_component(dot: _Dot, node: Node, anchors: dict[str, str], indent: int) -> None:
    """One component: a shaped node, or for a gRPC tool fleet a cluster of its API and tools."""
    shape, fill, border = style(node.kind)
    count = sum(node.owned.values())
    if node.kind == "GrpcToolFleet" and node.workloads:
        dot.add(f"subgraph cluster_fleet_{dot.id(node.urn)} {{", indent)
        dot.add(
            f'label=<<B>{_html(node.name)}</B> <FONT POINT-SIZE="9">gRPC tool fleet · {count} resources</FONT>>; '
            f'style="rounded,filled,dashed"; fillcolor="#f1fbfc"; color="{border}"; fontsize=10;',
            indent + 1,
        )
        api = next((w for w in node.workloads if w.role == "api"), None)
        tools = [w for w in node.workloads if w is not api]
        head = dot.id(node.urn)
        label = _label(node.name + " api", f"HTTP API · calls {len(tools)} tools")
        dot.add(
            f'{head} [label={label}, shape={shape}, fillcolor="{fill}", color="{border}", style="filled,rounded"];',
            indent + 1,
        )
        anchors[node.urn] = head
        for tool in tools:
            tool_shape, tool_fill, tool_border = style("tool")
            pool_note = f"on {tool.pool}" if node.pool is None else ""
            tool_id = dot.id(f"{node.urn}#{tool.role}")
            dot.add(
                f"{tool_id} [label={_label(tool.role.split('.')[-1], 'gRPC tool', pool_note)}, shape={tool_shape}, "
                f'fillcolor="{tool_fill}", color="{tool_border}", fontsize=9];',
                indent + 1,
            )
            anchors[f"{node.urn}#{tool.role}"] = tool_id
        # One column: the cluster already says the API fronts its tools, and a fan of edges would cross
        # the routes that reach the tools directly.
        column = "; ".join([head, *(anchors[f"{node.urn}#{tool.role}"] for tool in tools)])
        dot.add(f"{{rank=same; {column}}}", indent + 1)
        dot.add("}", indent)
        return
    roles = [w.role for w in node.workloads if w.role and w.role != "service"]
    details = [node.kind + (f" · {' + '.join(roles)}" if roles else "")]
    if node.pool is None and node.pools:
        details.append("on " + ", ".join(node.pools))
    details.append(f"{count} resources")
    rounded = ",rounded" if shape == "box" else ""
    node_id = dot.id(node.urn)
    dot.add(
        f'{node_id} [label={_label(node.name, *details)}, shape={shape}, fillcolor="{fill}", color="{border}", '
        f'style="filled{rounded}"];',
        indent,
    )
    anchors[node.urn] = node_id


class GraphError(Exception):
    """The picture could not be written (unknown format, Graphviz missing or failing)."""


def write_graph(document: Mapping[str, Any], path: Path) -> Path:
    """Write the architecture picture: DOT text for ``.dot``, Graphviz output for ``.svg``/``.png``."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise GraphError(f"--graph {path}: unknown format {suffix or '(none)'}; use one of {', '.join(FORMATS)}")
    text = render_dot(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".dot":
        path.write_text(text)
        return path
    dot = shutil.which("dot")
    if dot is None:
        raise GraphError(
            f"--graph {path}: Graphviz's `dot` is not installed (Debian/Ubuntu: apt-get install graphviz); "
            "a .dot file needs no Graphviz"
        )
    done = subprocess.run(  # a fixed argv, no shell
        [dot, f"-T{suffix[1:]}", "-o", str(path)], input=text.encode(), capture_output=True, check=False
    )
    if done.returncode != 0:
        raise GraphError(f"--graph {path}: dot failed: {done.stderr.decode(errors='replace').strip()}")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m preview.graph DOC.json OUT.{svg,png,dot}``: draw a saved ``--json`` document."""
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(prog="python -m preview.graph", description=main.__doc__)
    parser.add_argument("document", type=Path, help="a saved `python -m preview STACK --json` document")
    parser.add_argument("output", type=Path, help="picture to write (.svg, .png or .dot)")
    args = parser.parse_args(argv)
    try:
        write_graph(json.loads(args.document.read_text()), args.output)
    except (OSError, ValueError, GraphError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
