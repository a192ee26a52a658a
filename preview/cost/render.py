"""The estimate for the terminal (``--cost``) and for a pull-request comment (Markdown)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from preview.cost.estimate import Estimate
from preview.cost.model import HOURS_PER_MONTH, CostLine


def amount(value: Decimal) -> str:
    """``1,234.57``: cents, thousands separated."""
    return f"{value.quantize(Decimal('0.01')):,}"


def _range(low: Decimal, high: Decimal) -> str:
    return amount(low) if low == high else f"{amount(low)} - {amount(high)}"


def _quantity(line: CostLine) -> str:
    text = f"{line.quantity.normalize():,f}"
    if line.quantity_max is not None and line.quantity_max != line.quantity:
        text += f" (max {line.quantity_max.normalize():,f})"
    return text


def header(estimate: Estimate) -> str:
    tables = ", ".join(estimate.tables) or "no price table"
    usage = estimate.usage_source or "none (the defaults shown)"
    return (
        f"Monthly cost estimate of stack {estimate.stack}: {estimate.currency}, {int(HOURS_PER_MONTH)} hours a month, "
        f"list prices from {tables}; usage file: {usage}"
    )


def render_text(estimate: Estimate) -> str:
    """Components, pools, then every line with its rate, quantity, unit and assumption; unpriced last."""
    lines = [header(estimate), "", f"    {'By component':<34} {'monthly (min)':>14} {'monthly (max)':>14}"]
    lines += _sums(estimate.by("component"))
    lines.append(f"    {'Total':<34} {amount(estimate.total):>14} {amount(estimate.total_max):>14}")
    lines += ["", f"    {'By pool':<34} {'monthly (min)':>14} {'monthly (max)':>14}", *_sums(estimate.by("pool"))]
    lines += ["", "By resource:", *_resource_table(estimate.priced)]
    if estimate.unpriced:
        lines += ["", "Not priced (billable, but not in the estimate):"]
        lines += [f"    {line.component}/{line.resource}: {line.name}: {line.unpriced}" for line in estimate.unpriced]
    lines += ["", "Sources:", *[f"    {s}" for s in sources(estimate)]]
    return "\n".join(lines) + "\n"


_COLUMNS = ("resource", "line", "price", "quantity/month", "unit", "hourly", "monthly (min)", "monthly (max)")


def _resource_table(lines: list[CostLine]) -> list[str]:
    """One row per line under its component; the assumption, when there is one, on the row below."""
    rows: list[tuple[str, ...]] = [_COLUMNS]
    notes: dict[int, str] = {}
    component = None
    for line in lines:
        if line.component != component:
            component = line.component
            rows.append((f"[{component}]",))
        rows.append(
            (
                "  " + line.resource,
                line.name,
                f"{line.price.normalize():f}",
                _quantity(line),
                line.unit,
                f"{line.monthly / HOURS_PER_MONTH:.4f}",
                amount(line.monthly),
                amount(line.monthly_max),
            )
        )
        if line.assumption:
            notes[len(rows) - 1] = line.assumption
    widths = [max(len(row[i]) for row in rows if len(row) > i) for i in range(len(_COLUMNS))]
    out = []
    for index, row in enumerate(rows):
        if len(row) == 1:
            out.append(f"  {row[0]}")
            continue
        cells = [
            cell.ljust(w) if i < 2 or i == 4 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  " + "  ".join(cells).rstrip())
        if index in notes:
            out.append(f"  {'':<{widths[0]}}    assumption: {notes[index]}")
    return out


def _sums(sums: Mapping[str, tuple[Decimal, Decimal]]) -> list[str]:
    ordered = sorted(sums.items(), key=lambda item: (-item[1][1], item[0]))
    return [f"      {name:<32} {amount(low):>14} {amount(high):>14}" for name, (low, high) in ordered]


def sources(estimate: Estimate) -> list[str]:
    """Each distinct price source once."""
    seen: dict[str, None] = {}
    for line in estimate.priced:
        for part in line.source.split("; Spot")[:1]:
            if part:
                seen.setdefault(part, None)
    return list(seen)


def render_markdown(cost: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> list[str]:
    """The comment's cost section, from the JSON document's ``cost`` (and the base branch's, for the delta).

    The >10 % increase callout goes at the top of the comment (:func:`increase_callout`), not here.
    """
    total, total_max = Decimal(cost["monthly"]), Decimal(cost["monthly_max"])
    lines = [
        "### Monthly cost (estimate)",
        "",
        f"**{_range(total, total_max)} {cost['currency']}/month** at list prices ({', '.join(cost['price_tables'])}); "
        f"usage file: {cost.get('usage_file') or 'defaults'}. Min: autoscaled services and pools at their minimum; "
        "max: at their maximum.",
        "",
        "| Component | Monthly (min) | Monthly (max) |" + (" Base (min) | Change |" if base is not None else ""),
        "|---|---:|---:|" + ("---:|---:|" if base is not None else ""),
    ]
    before = (base or {}).get("components") or {}
    for name, sums in sorted(cost["components"].items(), key=lambda kv: -Decimal(kv[1]["monthly_max"])):
        row = f"| {name} | {amount(Decimal(sums['monthly']))} | {amount(Decimal(sums['monthly_max']))} |"
        if base is not None:
            old = Decimal((before.get(name) or {}).get("monthly", "0"))
            row += f" {amount(old)} | {_signed(Decimal(sums['monthly']) - old)} |"
        lines.append(row)
    for name in sorted(set(before) - set(cost["components"])):
        old = Decimal(before[name]["monthly"])
        lines.append(f"| {name} (removed) | 0.00 | 0.00 | {amount(old)} | {_signed(-old)} |")
    unpriced = [line for line in cost["lines"] if line["unpriced"]]
    if unpriced:
        lines += ["", "Not priced: " + "; ".join(f"`{u['resource']}` ({u['unpriced']})" for u in unpriced)]
    return [*lines, ""]


def _signed(value: Decimal) -> str:
    return ("+" if value > 0 else "") + amount(value)


def deltas(base: Mapping[str, Any], head: Mapping[str, Any]) -> dict[str, tuple[Decimal, Decimal]]:
    """(base, head) monthly minimum per component, every component of either."""
    before, after = base.get("components") or {}, head.get("components") or {}
    return {
        name: (
            Decimal((before.get(name) or {}).get("monthly", "0")),
            Decimal((after.get(name) or {}).get("monthly", "0")),
        )
        for name in sorted(set(before) | set(after))
    }


def increases(base: Mapping[str, Any], head: Mapping[str, Any], threshold: float = 0.10) -> list[str]:
    """What grew by more than ``threshold``: the stack total and each component (a new component counts)."""
    found = []
    old_total, new_total = Decimal(base["monthly"]), Decimal(head["monthly"])
    if _grew(old_total, new_total, threshold):
        found.append(f"stack total {amount(old_total)} -> {amount(new_total)} ({_percent(old_total, new_total)})")
    for name, (old, new) in deltas(base, head).items():
        if _grew(old, new, threshold):
            found.append(f"{name} {amount(old)} -> {amount(new)} ({_percent(old, new)})")
    return found


def _grew(old: Decimal, new: Decimal, threshold: float) -> bool:
    if new <= old:
        return False
    return old == 0 or (new - old) / old > Decimal(str(threshold))


def _percent(old: Decimal, new: Decimal) -> str:
    return "new" if old == 0 else f"+{(new - old) / old:.0%}"


def increase_callout(base: Mapping[str, Any], head: Mapping[str, Any], threshold: float = 0.10) -> list[str]:
    """The warning at the top of a comment when monthly cost grows by more than ``threshold``."""
    found = increases(base, head, threshold)
    if not found:
        return []
    return ["> [!WARNING]", f"> **Monthly cost up by more than {threshold:.0%}:** " + "; ".join(found), ""]


def render_compare_text(base: Mapping[str, Any], head: Mapping[str, Any], threshold: float = 0.10) -> str:
    """The per-component monthly difference for the terminal, increases above ``threshold`` first."""
    old, new = Decimal(base["monthly"]), Decimal(head["monthly"])
    lines = [f"Monthly cost against base: {amount(old)} -> {amount(new)} {head['currency']} ({_signed(new - old)})"]
    lines += [f"  !! cost up more than {threshold:.0%}: {item}" for item in increases(base, head, threshold)]
    for name, (old, new) in deltas(base, head).items():
        if old != new:
            lines.append(f"    {name}: {amount(old)} -> {amount(new)} ({_signed(new - old)})")
    return "\n".join(lines) + "\n"
