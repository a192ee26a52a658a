"""``python -m preview.benchmark``: how long the offline preview of the largest blueprint takes.

Speed is a feature, measured here rather than asserted in a timed test (a busy
CI machine would make such a test flaky). Each run is a fresh interpreter so
import time counts, as it does for a user typing ``python -m preview``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from preview.runner import ROOT

BLUEPRINTS = ROOT / "blueprints"


def largest_blueprint() -> str:
    """The shipped blueprint with the most lines: a fair proxy for the most resources."""
    return max(BLUEPRINTS.glob("*.yaml"), key=lambda p: len(p.read_text().splitlines())).stem


def measure(stack: str, blueprint: str, target: str | None, runs: int) -> dict[str, object]:
    command = [sys.executable, "-m", "preview", stack, "--json", "--blueprint", blueprint]
    if target:
        command += ["--target", target]
    seconds: list[float] = []
    resources = 0
    for _ in range(runs):
        start = time.perf_counter()
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        seconds.append(time.perf_counter() - start)
        if completed.returncode not in (0, 2):
            raise SystemExit(f"preview failed: {completed.stderr.strip()}")
        resources = json.loads(completed.stdout)["summary"]["resources"]
    return {
        "stack": stack,
        "blueprint": blueprint,
        "target": target or "(stack default)",
        "runs": runs,
        "resources": resources,
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preview.benchmark", description=__doc__)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--blueprint", default=None, help="default: the largest shipped blueprint")
    parser.add_argument("--target", default=None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    result = measure(args.stack, args.blueprint or largest_blueprint(), args.target, args.runs)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
