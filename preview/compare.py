"""Diff two offline-preview documents (base branch vs. pull request) without the Pulumi CLI.

Resources are matched by URN, as the engine does. The point of this module is the
question a reviewer cannot answer from a green check: *does this change destroy data?*
A stateful resource (database, volume, claim) is in danger when

- it is removed (the engine deletes it), or its URN changes (a rename or a new parent
  without an alias: the engine deletes the old one and creates a new one), or
- an input changes that the provider cannot update in place (it "forces a new
  resource": the engine replaces it, and the data goes with the old one).

The replacement-forcing inputs below come from the providers' own schemas
(``ForceNew`` in terraform-provider-aws and kreuzwerker/terraform-provider-docker, which
pulumi-aws and pulumi-docker wrap; ``forceNew`` in pulumi-kubernetes'
``provider/pkg/provider/diff.go``). Secret inputs are masked in the documents, so a
change of a secret value is invisible here; the real ``pulumi preview`` sees it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from targets import plugins
from targets.contract import EVERY_INPUT

# A stateful resource's type, and the inputs whose change replaces it, from each target's plugin
# (``TargetPlugin.stateful_types``, the providers' own schemas).
REPLACE_ON: dict[str, tuple[str, ...]] = {
    token: stateful.replace_on for plugin in plugins() for token, stateful in plugin.stateful_types.items()
}
STATEFUL_TYPES = frozenset(REPLACE_ON)

# Resource options recorded in the document; shown as "(option)" keys of a change.
_OPTIONS = ("provider", "parent", "protect", "retain_on_delete")
_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Ref:
    """A resource as the diff names it."""

    urn: str
    type: str
    name: str
    protect: bool = False
    retain_on_delete: bool = False

    @property
    def stateful(self) -> bool:
        return self.type in STATEFUL_TYPES


@dataclass(frozen=True)
class Change:
    """A resource present in both documents whose inputs or options differ."""

    ref: Ref
    keys: tuple[str, ...]  # changed input paths, and "(option)" for changed resource options
    replace_keys: tuple[str, ...]  # the subset that makes the provider replace the resource

    @property
    def replaces(self) -> bool:
        return bool(self.replace_keys)


@dataclass(frozen=True)
class Hazard:
    """A stateful resource the change would delete or replace: the reason to read the PR twice."""

    action: str  # "delete" or "replace"
    ref: Ref
    reason: str


@dataclass
class Diff:
    """What the pull request changes, resource by resource."""

    added: list[Ref] = field(default_factory=list)
    removed: list[Ref] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unchanged: int = 0
    hazards: list[Hazard] = field(default_factory=list)
    # The documents' ``cost`` sections (preview/cost), for the monthly difference per component.
    base_cost: dict[str, Any] | None = None
    head_cost: dict[str, Any] | None = None

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _ref(resource: Mapping[str, Any]) -> Ref:
    return Ref(
        urn=str(resource["urn"]),
        type=str(resource["type"]),
        name=str(resource["name"]),
        protect=bool(resource.get("protect")),
        retain_on_delete=bool(resource.get("retain_on_delete")),
    )


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted paths (``spec.accessModes[0]``) where two JSON values differ; a path for each leaf difference."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        paths: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in before or key not in after:
                paths.append(path)
            else:
                paths += changed_paths(before[key], after[key], path)
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        paths = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            paths += changed_paths(old, new, f"{prefix}[{index}]")
        return paths
    return [] if before == after else [prefix or "(inputs)"]


def forces_replacement(token: str, path: str) -> bool:
    """Whether changing input ``path`` of a ``token`` resource makes its provider replace it."""
    rules = REPLACE_ON.get(token, ())
    if EVERY_INPUT in rules:
        return True
    plain = _INDEX.sub("", path)
    return any(plain == rule or plain.startswith(rule + ".") or rule.startswith(plain + ".") for rule in rules)


def load_document(path: Path) -> dict[str, Any]:
    """A saved ``--json`` document; ValueError with a one-line message when it is not one."""
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"{path}: cannot read: {error.strerror or error}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        raise ValueError(f"{path}: not a preview document (expected the output of `python -m preview STACK --json`)")
    if document.get("version") != 1:
        raise ValueError(f"{path}: preview document version {document.get('version')!r}, this preview reads version 1")
    return document


def _resources(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(r["urn"]): r for r in document.get("resources") or []}


def compare(base: Mapping[str, Any], head: Mapping[str, Any]) -> Diff:
    """Diff ``head`` (the pull request's document) against ``base`` (the base branch's)."""
    before, after = _resources(base), _resources(head)
    diff = Diff()
    diff.added = [_ref(after[urn]) for urn in after if urn not in before]
    diff.removed = [_ref(before[urn]) for urn in before if urn not in after]
    for urn, new in after.items():
        old = before.get(urn)
        if old is None:
            continue
        keys = changed_paths(old.get("inputs") or {}, new.get("inputs") or {})
        keys += [f"({option})" for option in _OPTIONS if old.get(option) != new.get(option)]
        if not keys:
            diff.unchanged += 1
            continue
        token = str(new["type"])
        replace = [k for k in keys if not k.startswith("(") and forces_replacement(token, k)]
        if "(provider)" in keys and token in STATEFUL_TYPES:
            replace.append("(provider)")  # the engine replaces a resource whose provider instance changes
        diff.changed.append(Change(_ref(new), tuple(keys), tuple(replace)))
    diff.hazards = _hazards(diff)
    diff.base_cost, diff.head_cost = base.get("cost"), head.get("cost")
    return diff


def _hazards(diff: Diff) -> list[Hazard]:
    hazards: list[Hazard] = []
    added_stateful = [r for r in diff.added if r.stateful]
    for ref in (r for r in diff.removed if r.stateful):
        moved = next((r for r in added_stateful if r.type == ref.type and r.name == ref.name), None)
        renamed = next((r for r in added_stateful if r.type == ref.type and _parent(r) == _parent(ref)), None)
        if moved is not None:
            reason = f"its URN changes to `{moved.urn}` (new parent, no alias): the old one is deleted"
        elif renamed is not None:
            reason = f"looks renamed to `{renamed.name}`: without an alias the old one is deleted"
        else:
            reason = "removed from the program: it is deleted"
        action = "replace" if moved or renamed else "delete"
        hazards.append(Hazard(action, ref, reason + _deletion_note(ref)))
    for change in diff.changed:
        if change.ref.stateful and change.replaces:
            keys = ", ".join(f"`{k}`" for k in change.replace_keys)
            hazards.append(
                Hazard("replace", change.ref, f"{keys} cannot be updated in place" + _deletion_note(change.ref))
            )
    return hazards


def _parent(ref: Ref) -> str:
    """The type chain part of a URN (``...::parentType$type``): equal for siblings of one kind."""
    return ref.urn.rsplit("::", 1)[0]


def _deletion_note(ref: Ref) -> str:
    if ref.protect:
        return " (protected: `pulumi up` refuses until `protect` is lifted)"
    if ref.retain_on_delete:
        return " (retain_on_delete: the cloud resource is kept but leaves the stack)"
    return ""


def _names(refs: Iterable[Ref], limit: int) -> list[str]:
    items = [f"{r.name} ({r.type})" for r in refs]
    return items[:limit] + ([f"... and {len(items) - limit} more"] if len(items) > limit else [])


def render_text(diff: Diff, base_label: str = "base", limit: int = 40) -> str:
    """The diff for the terminal (``python -m preview STACK --compare BASE.json``), hazards first."""
    lines = [f"Changes against {base_label}:"]
    if diff.base_cost is not None and diff.head_cost is not None:
        from preview.cost.render import render_compare_text

        lines += render_compare_text(diff.base_cost, diff.head_cost).splitlines()
    for hazard in diff.hazards:
        lines.append(f"  !! {hazard.action.upper()} stateful {hazard.ref.name} ({hazard.ref.type}): {hazard.reason}")
    lines.append(
        f"    + {len(diff.added)} to add, ~ {len(diff.changed)} to change, - {len(diff.removed)} to delete, "
        f"{diff.unchanged} unchanged"
    )
    lines += [f"    + {item}" for item in _names(diff.added, limit)]
    lines += [f"    - {item}" for item in _names(diff.removed, limit)]
    for change in diff.changed[:limit]:
        mark = "+-" if change.replaces else "~ "
        lines.append(f"    {mark} {change.ref.name} ({change.ref.type}): {', '.join(change.keys[:8])}")
        if len(change.keys) > 8:
            lines[-1] += f", ... {len(change.keys) - 8} more"
    if len(diff.changed) > limit:
        lines.append(f"    ... and {len(diff.changed) - limit} more changed")
    return "\n".join(lines) + "\n"
