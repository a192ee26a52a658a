"""Reports of an offline run: a ``pulumi preview``-like tree, and the JSON document (format 1)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from preview.mocks import Recorded
from preview.runner import PreviewResult
from stacks.settings import PROJECT
from stacks.units import format_mib
from targets import plugin

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Violation:
    """One policy verdict against one resource (``preview/policies.py``)."""

    policy: str
    enforcement: str
    urn: str
    message: str


@dataclass
class Report:
    """A preview result with the context a reader needs."""

    result: PreviewResult
    environment: str
    blueprint: str
    targets: list[str]
    violations: list[Violation] = field(default_factory=list)
    pools: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Resources register concurrently, so policies meet them in no stable order: sort, so
        # two runs of one program give the same report (PR comparisons diff them).
        self.violations = sorted(self.violations, key=lambda v: (v.urn, v.policy, v.message))

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == "mandatory"]

    def to_json(self) -> dict[str, Any]:
        resources = self.result.resources
        return {
            "version": FORMAT_VERSION,
            "stack": self.result.stack,
            "project": PROJECT,
            "environment": self.environment,
            "blueprint": self.blueprint,
            "targets": self.targets,
            "resources": [r.to_json() for r in sorted(resources, key=lambda r: r.urn)],
            "outputs": self.result.outputs,
            "violations": [v.__dict__ for v in self.violations],
            "warnings": list(self.result.warnings),
            "summary": {"resources": len(resources), "by_type": self.result.by_type(), "pools": self.pools},
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=False)

    def tree(self) -> str:
        return render_tree(self)


def _children(resources: Sequence[Recorded]) -> dict[str | None, list[Recorded]]:
    known = {r.urn for r in resources}
    children: dict[str | None, list[Recorded]] = {}
    for resource in resources:
        parent = resource.parent if resource.parent in known else None
        children.setdefault(parent, []).append(resource)
    for items in children.values():
        items.sort(key=lambda r: (r.custom, r.name))
    return children


def _flags(resource: Recorded) -> str:
    flags = []
    if resource.protect:
        flags.append("protect")
    if resource.retain_on_delete:
        flags.append("retain")
    if resource.secret_paths:
        flags.append("secrets: " + ", ".join(sorted(set(resource.secret_paths))[:3]))
    return f"  [{'; '.join(flags)}]" if flags else ""


def _pool_line(pool: dict[str, Any]) -> str:
    requests, allowed, limits = pool["requests"], pool["allowed"], pool["limits"]
    over = pool["overcommit"]
    text = (
        f"{pool['workloads']} workloads, {pool['architecture']}; "
        f"cpu {requests['cpu']:g}/{allowed['cpu']:g}, memory {format_mib(requests['memory_mib'])}/"
        f"{format_mib(allowed['memory_mib'])}"
    )
    if allowed["gpu"]:
        text += f", gpu {requests['gpu']:g}/{allowed['gpu']}"
        if pool["capacity"].get("gpu_memory_mib"):
            text += f" ({format_mib(requests['gpu_memory_mib'])}/{format_mib(pool['capacity']['gpu_memory_mib'])})"
    text += (
        f"; limits {limits['cpu']:g} cpu ({over['cpu']:.0%}), {format_mib(limits['memory_mib'])} ({over['memory']:.0%})"
    )
    reserved = pool.get("reservation")
    if reserved:
        # What the target's scheduler reserves beyond the requests (ECS: whole GPUs), in its own words.
        text += plugin(str(reserved["target"])).reservation_text(reserved)
    return text


def render_tree(report: Report) -> str:
    """A tree of components and their children, counts, verdicts and outputs."""
    result = report.result
    lines = [
        f"Previewing stack {result.stack} ({PROJECT}) offline: environment {report.environment}, "
        f"target {', '.join(report.targets)}, blueprint {report.blueprint}",
        "",
        f"     {'Type':<52} Name",
        f" +   {'pulumi:pulumi:Stack':<52} {PROJECT}-{result.stack}",
    ]
    children = _children(result.resources)

    def walk(parent: str | None, prefix: str) -> None:
        items = children.get(parent, [])
        for index, resource in enumerate(items):
            last = index == len(items) - 1
            branch = "└─ " if last else "├─ "
            label = f"{prefix}{branch}{resource.type}"
            lines.append(f" +   {label:<52} {resource.name}{_flags(resource)}")
            walk(resource.urn, prefix + ("   " if last else "│  "))

    walk(None, "")
    lines += ["", "Resources:", f"    + {len(result.resources)} to create"]
    components = [r for r in result.resources if not r.custom]
    lines.append(f"      {len(components)} components, {len(result.resources) - len(components)} provider resources")
    lines += ["", "By type:"]
    lines += [f"    {count:>4}  {token}" for token, count in result.by_type().items()]
    if report.pools:
        lines += ["", "Pools (requests against the allocation cap; stated limits against the whole pool):"]
        for name, pool in report.pools.items():
            lines.append(f"    {name}: {_pool_line(pool)}")
    if result.warnings:
        lines += ["", "Warnings:"]
        lines += [f"    {warning}" for warning in result.warnings]
    lines += ["", f"Policies (pack gpu-platform, {report.environment} config):"]
    if not report.violations:
        lines.append("    no violations")
    for level in ("mandatory", "advisory"):
        for v in (v for v in report.violations if v.enforcement == level):
            lines.append(f"    [{level}] {v.policy}: {v.message} ({v.urn.split('::')[-1] or 'stack'})")
    lines += ["", "Outputs:"]
    for name, value in result.outputs.items():
        rendered = json.dumps(value, indent=2, sort_keys=True).replace("\n", "\n    ")
        lines.append(f"    {name}: {rendered}")
    return "\n".join(lines) + "\n"
