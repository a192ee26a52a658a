"""A pull-request comment body (GitHub Markdown) for one stack's offline preview.

Works on the JSON document (format 1) of ``python -m preview STACK --json``, so the
CI job can render it from a saved file as well as ``python -m preview STACK --markdown``
can from a fresh run. The reviewer reads, top to bottom: what is previewed (stack,
target, environment), what is dangerous (stateful resources a change would replace or
delete, with ``--compare``), what changes, a Mermaid picture of the components and
their wiring, the resources per component and type, the policy verdicts, the outputs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from preview.compare import Change, Diff, compare, load_document
from preview.graph import Architecture, Node, architecture, entry_caption, route_label

MARKER = "<!-- gpu-platform offline preview -->"
ENFORCEMENT_ORDER = ("mandatory", "advisory")

# kind -> (Mermaid shape opening, closing, class name); classes carry the palette of preview/graph.py.
_SHAPES: dict[str, tuple[str, str, str]] = {
    "Service": ('("', '")', "service"),
    "WebSocketGateway": ('{{"', '"}}', "gateway"),
    "ManagedPostgres": ('[("', '")]', "database"),
    "PixelStreaming": ('[["', '"]]', "streaming"),
    "GrpcToolFleet": ('[/"', '"/]', "fleet"),
}
_CLASSES = {
    "service": "fill:#e3f2fd,stroke:#1e88e5,color:#0d47a1",
    "gateway": "fill:#fff3e0,stroke:#fb8c00,color:#e65100",
    "database": "fill:#e8f5e9,stroke:#43a047,color:#1b5e20",
    "streaming": "fill:#f3e5f5,stroke:#8e24aa,color:#4a148c",
    "fleet": "fill:#e0f7fa,stroke:#00838f,color:#006064",
    "entry": "fill:#e3f2fd,stroke:#1565c0,color:#0d47a1",
    "other": "fill:#ffffff,stroke:#616161,color:#212121",
}


def cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def code(value: Any) -> str:
    text = str(value).replace("`", "'")
    return f"`{text}`"


def short_type(token: str) -> str:
    """``aws:ecs/service:Service`` -> ``aws:ecs.Service``, ``docker:index/container:Container`` -> ``docker:Container``.

    Short enough for a table cell, long enough to tell an ECS service from a Kubernetes one;
    the folded by-type table has the full tokens.
    """
    parts = token.split(":")
    if len(parts) != 3:
        return token
    module = parts[1].split("/")[0]
    return f"{parts[0]}:{parts[2]}" if module == "index" else f"{parts[0]}:{module}.{parts[2]}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def render(
    document: Mapping[str, Any],
    diff: Diff | None = None,
    base_label: str = "the base branch",
    limit: int = 50,
) -> str:
    """The comment section for one stack; ``diff`` (from :func:`preview.compare.compare`) adds the changes."""
    arch = architecture(document)
    resources = list(document.get("resources") or [])
    components = sum(1 for r in resources if not r.get("custom", True))
    violations = list(document.get("violations") or [])
    counts = {level: sum(1 for v in violations if v.get("enforcement") == level) for level in ENFORCEMENT_ORDER}
    lines = [
        MARKER.replace("-->", f"stack={arch.stack} -->"),
        f"## Offline preview: `{arch.stack}`",
        "",
        f"**Stack** `{arch.stack}` · **target** {', '.join(arch.targets) or '?'} · **environment** {arch.environment}"
        f" · **blueprint** {arch.blueprint} · **{_plural(len(resources), 'resource')}** ({components} components, "
        f"{len(resources) - components} provider resources) · **policies** {counts['mandatory']} mandatory, "
        f"{counts['advisory']} advisory",
        "",
    ]
    if diff is not None:
        lines += render_hazards(diff) + render_cost_callout(diff) + render_diff(diff, base_label, limit)
    lines += render_warnings(document) + render_cost(document, diff)
    lines += ["### Architecture", "", *mermaid(arch), ""]
    lines += render_components(arch, document) + render_violations(violations, limit) + render_outputs(document)
    return "\n".join(lines).rstrip("\n") + "\n"


def render_cost_callout(diff: Diff) -> list[str]:
    """The warning at the top when the change raises the monthly cost by more than 10 % (preview/cost)."""
    if diff.base_cost is None or diff.head_cost is None:
        return []
    from preview.cost.render import increase_callout

    return increase_callout(diff.base_cost, diff.head_cost)


def render_cost(document: Mapping[str, Any], diff: Diff | None = None) -> list[str]:
    """The monthly cost section (the document's ``cost``), with the base's figures when compared."""
    cost = document.get("cost")
    if not cost:
        return []
    from preview.cost.render import render_markdown

    return render_markdown(cost, diff.base_cost if diff is not None else None)


def render_warnings(document: Mapping[str, Any]) -> list[str]:
    """What the stack deploys differently from what was asked (the program's warnings)."""
    warnings = [str(w) for w in document.get("warnings") or []]
    if not warnings:
        return []
    return ["> [!WARNING]", *[f"> - {w}" for w in warnings], ""]


def render_hazards(diff: Diff) -> list[str]:
    """The bold warning at the top: stateful resources that this change deletes or replaces."""
    if not diff.hazards:
        return []
    lines = [
        "> [!CAUTION]",
        f"> **Data at risk: {_plural(len(diff.hazards), 'stateful resource')} would be replaced or deleted.**",
    ]
    for hazard in diff.hazards:
        lines.append(
            f"> - **{hazard.action.upper()} {code(hazard.ref.name)}** ({code(hazard.ref.type)}): **{hazard.reason}**"
        )
    return [*lines, ""]


def render_diff(diff: Diff, base_label: str, limit: int) -> list[str]:
    """Added, removed and changed resources (by name and changed input keys)."""
    lines = [
        f"### Changes against {base_label}",
        "",
        f"**+{len(diff.added)}** to add · **~{len(diff.changed)}** to change · **-{len(diff.removed)}** to delete"
        f" · {diff.unchanged} unchanged",
        "",
    ]
    if diff.empty:
        return [*lines, "No resource changes.", ""]
    rows = [("+ add", r.name, r.type, "") for r in diff.added]
    rows += [("- delete", r.name, r.type, "") for r in diff.removed]
    rows += [(_change_action(c), c.ref.name, c.ref.type, _keys(c)) for c in diff.changed]
    open_attr = " open" if len(rows) <= 20 else ""
    lines += [
        f"<details{open_attr}><summary>{_plural(len(rows), 'changed resource')}</summary>",
        "",
        "| | Resource | Type | Changed inputs |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {code(n)} | {code(t)} | {cell(k)} |" for a, n, t, k in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"| | ... and {len(rows) - limit} more | | |")
    return [*lines, "", "</details>", ""]


def _change_action(change: Change) -> str:
    return "**± replace**" if change.replaces else "~ update"


def _keys(change: Change, shown: int = 8) -> str:
    keys = [f"**{code(k)}**" if k in change.replace_keys else code(k) for k in change.keys[:shown]]
    more = len(change.keys) - shown
    return ", ".join(keys) + (f", ... {more} more" if more > 0 else "")


# --- Mermaid ------------------------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def mermaid(arch: Architecture) -> list[str]:
    """A Mermaid flowchart: components only, pools as subgraphs, routes from the internet, wiring deduplicated."""
    chart = _Flowchart()
    entry = arch.entry
    if arch.routes:
        chart.lines.append('  internet(("internet"))')
    if entry is not None:
        chart.lines.append(f'  {chart.node_id(entry.urn)}(["{_mermaid_text(entry_caption(entry))}"])')
        chart.classes.setdefault("entry", []).append(chart.node_id(entry.urn))
    _mermaid_pools(chart, arch)
    _mermaid_routes(chart, arch)
    _mermaid_wires(chart, arch)
    for css, members in chart.classes.items():
        chart.lines.append(f"  classDef {css} {_CLASSES[css]}")
        chart.lines.append(f"  class {','.join(members)} {css}")
    return [*chart.lines, "```"]


class _Flowchart:
    """Mermaid lines being written, node ids in first-use order, and the nodes of each style class."""

    def __init__(self) -> None:
        self.lines = ["```mermaid", "flowchart LR"]
        self.ids: dict[str, str] = {}
        self.classes: dict[str, list[str]] = {}

    def node_id(self, urn: str) -> str:
        return self.ids.setdefault(urn, f"c{len(self.ids)}")

    def declare(self, node: Node, indent: str) -> None:
        """A component's node: its shape and class by kind, its name and what it is."""
        opening, closing, css = _SHAPES.get(node.kind, ('["', '"]', "other"))
        detail = node.kind
        if node.kind == "GrpcToolFleet":
            tools = [w for w in node.workloads if w.role != "api"]
            detail += f": API + {_plural(len(tools), 'tool')}"
        if node.pool is None and node.pools:
            detail += f" (on {', '.join(node.pools)})"
        label = _mermaid_text(f"<b>{node.name}</b><br/><small>{detail}</small>")
        self.lines.append(f"{indent}{self.node_id(node.urn)}{opening}{label}{closing}")
        self.classes.setdefault(css, []).append(self.node_id(node.urn))


def _mermaid_pools(chart: _Flowchart, arch: Architecture) -> None:
    """A subgraph per pool that has components; components on no single pool after them."""
    placed: dict[str | None, list[Node]] = {}
    for node in arch.components:
        placed.setdefault(node.pool, []).append(node)
    for index, pool in enumerate(arch.pools):
        members = placed.get(pool, [])
        if not members:
            continue
        gpu = (arch.pool_info.get(pool) or {}).get("allowed", {}).get("gpu")
        title = f"pool {pool}" + (f" · {gpu} GPU" if gpu else "")
        chart.lines.append(f'  subgraph pool{index}["{_mermaid_text(title)}"]')
        for node in members:
            chart.declare(node, "    ")
        chart.lines.append("  end")
    for node in placed.get(None, []):
        chart.declare(node, "  ")


def _mermaid_routes(chart: _Flowchart, arch: Architecture) -> None:
    """The internet reaches the entry; one edge per serving component, labelled with its routes."""
    entry = arch.entry
    if entry is not None and arch.routes:
        chart.lines.append(f"  internet --> {chart.node_id(entry.urn)}")
    source = chart.node_id(entry.urn) if entry is not None else "internet"
    by_target: dict[str, list[str]] = {}
    for route in arch.routes:
        if route.target:
            by_target.setdefault(route.target, []).append(route.url)
    for target, urls in by_target.items():
        chart.lines.append(f'  {source} -->|"{_mermaid_text(_routes_label(urls))}"| {chart.node_id(target)}')


def _mermaid_wires(chart: _Flowchart, arch: Architecture) -> None:
    """Wiring, one two-headed edge where both use each other; then dotted "part of" links."""
    wires = set(arch.wires)
    drawn: set[tuple[str, str]] = set()
    for user, used in arch.wires:
        if (user, used) in drawn:
            continue
        drawn |= {(user, used), (used, user)}
        arrow = "<-->" if (used, user) in wires else "-->"
        chart.lines.append(f"  {chart.node_id(user)} {arrow} {chart.node_id(used)}")
    for node in arch.components:
        if node.parent and node.parent in chart.ids and (node.parent, node.urn) not in drawn:
            chart.lines.append(f"  {chart.node_id(node.parent)} -.-|part of| {chart.node_id(node.urn)}")


def _routes_label(urls: Sequence[str]) -> str:
    """``http /kite/`` for one route; grouped by scheme (``grpc ×6``) for many."""
    if len(urls) == 1:
        return route_label(urls[0])
    by_scheme: dict[str, list[str]] = {}
    for url in urls:
        by_scheme.setdefault(route_label(url).split(" ")[0], []).append(url)
    parts = [route_label(u[0]) if len(u) == 1 else f"{scheme} ×{len(u)}" for scheme, u in by_scheme.items()]
    return ", ".join(parts)


# --- Resources, policies, outputs ---------------------------------------------------------------------


def render_components(arch: Architecture, document: Mapping[str, Any]) -> list[str]:
    """One row per component with the provider resources it owns directly; the full by-type table folded."""
    rows: list[Node] = (
        [n for n in arch.nodes.values() if n.is_pool]
        + arch.components
        + [n for n in arch.nodes.values() if n.foundation]
    )
    lines = [
        "### Resources by component",
        "",
        "| Component | Kind | Pool | Resources | By type |",
        "|---|---|---|--:|---|",
    ]
    for node in rows:
        if node.is_pool:
            pool = "(is a pool)"
        elif node.foundation:
            pool = "(target foundation)"
        else:
            pool = ", ".join(node.pools) or "—"
        name = code(node.name)
        parent = arch.nodes.get(node.parent) if node.parent else None
        if parent is not None:
            name += f" (in {code(parent.name)})"
        lines.append(
            f"| {name} | {cell(node.kind)} | {cell(pool)} | {sum(node.owned.values())} | {_type_counts(node.owned)} |"
        )
    if arch.unowned:
        lines.append(f"| (stack) | | | {sum(arch.unowned.values())} | {_type_counts(arch.unowned)} |")
    provider = sum(sum(n.owned.values()) for n in rows) + sum(arch.unowned.values())
    lines += [
        "",
        f"**Total:** {_plural(arch.total, 'resource')}: {len(rows)} components and {provider} provider resources.",
        "",
    ]
    by_type = (document.get("summary") or {}).get("by_type") or _count_types(document)
    lines += [
        f"<details><summary>Resources by type ({_plural(len(by_type), 'type')})</summary>",
        "",
        "| Type | Count |",
        "|---|--:|",
        *(f"| {code(token)} | {count} |" for token, count in sorted(by_type.items())),
        "",
        "</details>",
        "",
    ]
    return lines


def _type_counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n}× {short_type(t)}" for t, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _count_types(document: Mapping[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for resource in document.get("resources") or []:
        counts[str(resource["type"])] = counts.get(str(resource["type"]), 0) + 1
    return counts


def render_violations(violations: Sequence[Mapping[str, Any]], limit: int) -> list[str]:
    """Policy verdicts grouped by enforcement, mandatory first."""
    lines = ["### Policy violations", ""]
    if not violations:
        return [*lines, "No violations.", ""]
    levels = list(ENFORCEMENT_ORDER) + sorted({str(v.get("enforcement")) for v in violations} - set(ENFORCEMENT_ORDER))
    for level in levels:
        group = [v for v in violations if str(v.get("enforcement")) == level]
        if not group:
            continue
        icon = ":x:" if level == "mandatory" else ":warning:"
        lines += [f"#### {icon} {level.capitalize()} ({len(group)})", ""]
        for violation in group[:limit]:
            where = str(violation.get("urn", "")).split("::")[-1] or "stack"
            lines.append(f"- **{cell(violation.get('policy'))}** on {code(where)}: {cell(violation.get('message'))}")
        if len(group) > limit:
            lines.append(f"- ... and {len(group) - limit} more")
        lines.append("")
    return lines


def render_outputs(document: Mapping[str, Any]) -> list[str]:
    """Scalars in a table; maps of strings as folded tables; anything else as folded JSON."""
    outputs = document.get("outputs") or {}
    lines = ["### Outputs", ""]
    if not outputs:
        return [*lines, "No outputs.", ""]
    scalars = {k: v for k, v in outputs.items() if not isinstance(v, (dict, list))}
    if scalars:
        lines += ["| Output | Value |", "|---|---|", *(f"| {code(k)} | {cell(v)} |" for k, v in scalars.items()), ""]
    for key, value in outputs.items():
        if key in scalars:
            continue
        size = len(value)
        lines += [f"<details><summary><code>{key}</code> ({size} {'entry' if size == 1 else 'entries'})</summary>", ""]
        if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
            lines += ["| Key | Value |", "|---|---|", *(f"| {code(k)} | {cell(v)} |" for k, v in value.items())]
        else:
            lines += ["```json", json.dumps(value, indent=2, sort_keys=True), "```"]
        lines += ["", "</details>", ""]
    return lines


def main(argv: Iterable[str] | None = None) -> int:
    """``python -m preview.markdown HEAD.json [--compare BASE.json]``: render saved ``--json`` documents."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m preview.markdown", description=main.__doc__)
    parser.add_argument("document", type=Path, help="a saved `python -m preview STACK --json` document")
    parser.add_argument("--compare", metavar="BASE.json", type=Path, help="the base branch's document")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        head = load_document(args.document)
        diff = compare(load_document(args.compare), head) if args.compare else None
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    print(render(head, diff), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
