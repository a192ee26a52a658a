"""What a fresh ``python -m preview STACK`` imports: the test process itself has imported everything already."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

PROBE = (
    "import contextlib, io, json, sys\n"
    "from preview.__main__ import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    code = main(sys.argv[1:])\n"
    "print(code, json.dumps(sorted(sys.modules)))\n"
)


def modules_after_preview(*argv: str) -> tuple[int, set[str]]:
    """(exit code, every module imported) of the preview's ``main(argv)`` run in a fresh interpreter (the tree)."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    code, _, modules = completed.stdout.strip().partition(" ")
    assert code.isdigit(), completed.stderr
    return int(code), set(json.loads(modules))
