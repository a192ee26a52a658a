"""``python -m preview.benchmark``: the offline preview's cost against the SDK's own (the floor).

Speed is a feature, measured here rather than asserted in a timed test (a busy CI machine would
make such a test flaky). Each case times ``python -m preview STACK`` in a fresh interpreter
(imports count, as they do for a user) and then ``python -m preview.floor`` on what it recorded:
the same resources registered with the providers' typed SDK classes under a trivial mock. A line
shows both (median wall seconds, peak RSS) and their ratio, and milliseconds per resource, so a
cost that grows faster than the resource count shows up between the 100 and 1000 sizes.

Cases: synthetic blueprints (:mod:`preview.synthetic`, ``plain`` and ``mix``) at each size on each
built target, and every shipped blueprint on each built target (``--shipped``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from preview.runner import ROOT, read_stack_config, stack_names
from preview.synthetic import KINDS, blueprint_text
from targets import TARGETS

BLUEPRINTS = ROOT / "blueprints"


class CaseError(Exception):
    """A preview or floor run that did not finish (a config the target refuses, a program error)."""


@dataclass(frozen=True)
class Run:
    """One process: wall seconds, peak resident memory (MiB), exit status."""

    seconds: float
    peak_mib: float
    status: int


@dataclass(frozen=True)
class Case:
    """One blueprint on one target, measured ``runs`` times against its floor."""

    label: str
    target: str
    stack: str
    resources: int
    preview: list[Run]
    floor: list[Run]

    def line(self) -> dict[str, object]:
        seconds = statistics.median(r.seconds for r in self.preview)
        floor_seconds = statistics.median(r.seconds for r in self.floor)
        peak = max(r.peak_mib for r in self.preview)
        floor_peak = max(r.peak_mib for r in self.floor)
        return {
            "case": self.label,
            "target": self.target,
            "stack": self.stack,
            "resources": self.resources,
            "preview_s": round(seconds, 2),
            "floor_s": round(floor_seconds, 2),
            "ratio": round(seconds / floor_seconds, 2),
            "preview_mib": round(peak),
            "floor_mib": round(floor_peak),
            "memory_ratio": round(peak / floor_peak, 2),
            "ms_per_resource": round(1000 * seconds / max(self.resources, 1), 2),
        }


# A user's second run loads the program's cached bytecode. Under PYTHONDONTWRITEBYTECODE (set in some CI
# images and sandboxes) every timed preview would compile its ~50 modules again while the floor compiles one,
# so the children may write bytecode (the untimed --json run of each case writes it).
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def measure(command: list[str], output: Path) -> Run:
    """Run ``command`` with stdout to ``output``; its wall time and its own peak RSS (wait4)."""
    with output.open("w") as sink:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=CHILD_ENV, stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode not in (0, 2):  # 2: mandatory policy violations, still a full preview
        raise CaseError(f"exit {process.returncode}: {stderr.strip()[-500:]}")
    return Run(seconds, usage.ru_maxrss / 1024, process.returncode)


def run_case(label: str, stack: str, blueprint: str, target: str, runs: int, work: Path) -> Case:
    """Time the preview of ``blueprint`` on ``target`` ``runs`` times, then the floor on what it recorded.

    The timed command is the one a user types (``python -m preview STACK --blueprint B --target T``:
    the tree); one untimed ``--json`` run records the resources the floor registers.
    """
    command = [sys.executable, "-m", "preview", stack, "--blueprint", blueprint, "--target", target]
    recorded = work / f"{label}-{target}.json"
    measure([*command, "--json"], recorded)
    preview = [measure(command, work / "tree.txt") for _ in range(runs)]
    resources = len(json.loads(recorded.read_text())["resources"])
    floor_out = work / "floor.json"
    floor_command = [sys.executable, "-m", "preview.floor", str(recorded)]
    try:
        floor = [measure(floor_command, floor_out) for _ in range(runs)]
    except CaseError:  # a typed class refused what the mock echoed back: the bare floor (cheaper), said below
        floor = [measure([*floor_command, "--bare"], floor_out) for _ in range(runs)]
    bare = json.loads(floor_out.read_text())["bare"]
    if bare:
        print(f"note: {label} on {target}: {bare} resource(s) registered bare in the floor", file=sys.stderr)
    return Case(label, target, stack, resources, preview, floor)


def cases(args: argparse.Namespace, work: Path) -> list[tuple[str, str]]:
    """(label, blueprint path or name) for every requested blueprint."""
    found: list[tuple[str, str]] = []
    for kind in [] if args.shipped_only else args.kinds:
        for size in args.sizes:
            path = work / f"synthetic-{kind}-{size}.yaml"
            path.write_text(blueprint_text(kind, size))
            found.append((f"{kind}-{size}", str(path)))
    if args.shipped or args.shipped_only:
        found += [(path.stem, path.stem) for path in sorted(BLUEPRINTS.glob("*.yaml"))]
    return found


def stack_for(target: str, default: str = "dev") -> str:
    """The shipped stack that deploys to ``target`` (its settings are the target's), else ``default``."""
    for stack in stack_names():
        config, _ = read_stack_config(stack)
        if config.get("gpu-platform:target") == target:
            return stack
    return default


def _names(allowed: tuple[str, ...]) -> Callable[[str], list[str]]:
    """An argparse type: a comma-separated subset of ``allowed``."""

    def parse(text: str) -> list[str]:
        values = [part for part in text.split(",") if part]
        if not values or not set(values) <= set(allowed):
            raise argparse.ArgumentTypeError(f"{text!r}: comma-separated, each one of {', '.join(allowed)}")
        return values

    return parse


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated positive whole numbers, e.g. 10,100,1000")
    return sizes


def main(argv: list[str] | None = None) -> int:
    built = tuple(name for name, info in TARGETS.items() if info.built)
    parser = argparse.ArgumentParser(prog="python -m preview.benchmark", description=__doc__)
    parser.add_argument(
        "--stack", default=None, help="the stack whose environment and config are used (default: the target's own)"
    )
    parser.add_argument("--targets", type=_names(built), default=list(built))
    parser.add_argument("--sizes", type=_sizes, default=[10, 100, 1000])
    parser.add_argument("--kinds", type=_names(KINDS), default=list(KINDS))
    parser.add_argument("--shipped", action="store_true", help="also every blueprint in blueprints/")
    parser.add_argument("--shipped-only", action="store_true", help="only the blueprints in blueprints/")
    parser.add_argument("--runs", type=int, default=3, help="runs per case (the median is shown)")
    parser.add_argument("--json", action="store_true", help="one JSON line per case")
    args = parser.parse_args(argv)
    if not args.json:
        print(_row({key: title for key, title, _ in COLUMNS}))
    with tempfile.TemporaryDirectory(prefix="gpu-platform-bench-") as directory:
        work = Path(directory)
        for label, blueprint in cases(args, work):
            for target in args.targets:
                try:
                    stack = args.stack or stack_for(target)
                    line = run_case(label, stack, blueprint, target, args.runs, work).line()
                except CaseError as failed:  # a pair the target refuses: say so, measure the rest
                    print(f"{label} on {target}: not measured ({failed})", file=sys.stderr, flush=True)
                    continue
                print(json.dumps(line) if args.json else _row(line), flush=True)
    return 0


COLUMNS = (  # (key of Case.line, heading, width): the table the README shows
    ("case", "case", -18),
    ("target", "target", -10),
    ("stack", "stack", -10),
    ("resources", "res", 6),
    ("preview_s", "preview s", 9),
    ("floor_s", "floor s", 8),
    ("ratio", "x", 5),
    ("preview_mib", "MiB", 6),
    ("floor_mib", "floor", 6),
    ("memory_ratio", "x", 5),
    ("ms_per_resource", "ms/res", 7),
)


def _row(line: dict[str, object]) -> str:
    """One table row; a negative width left-aligns."""
    return " ".join(f"{line[key]!s:<{-width}}" if width < 0 else f"{line[key]!s:>{width}}" for key, _, width in COLUMNS)


if __name__ == "__main__":
    sys.exit(main())
