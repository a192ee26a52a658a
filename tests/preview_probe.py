"""The preview as a command: in a fresh interpreter (what it imports, the entry point) or in this process.

What a fresh ``python -m preview STACK`` imports must be asked of a new process: this one has imported
everything already.
A probe is a fresh interpreter (~1-6 s: the SDK's import is the point), so each argument list runs once per
test process and the tests asking about the same stack share it.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache

from tests.conftest import ROOT

# Only real modules count: azure-native (and others) put lazy placeholders for their service modules into
# sys.modules at import, which load nothing until first touched.
PROBE = (
    "import contextlib, io, json, sys, types\n"
    "from preview.__main__ import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    code = main(sys.argv[1:])\n"
    "loaded = sorted(name for name, module in list(sys.modules.items()) if type(module) is types.ModuleType)\n"
    "print(code, json.dumps(loaded))\n"
)


@cache
def modules_after_preview(*argv: str) -> tuple[int, frozenset[str]]:
    """(exit code, every module imported) of the preview's ``main(argv)`` run in a fresh interpreter (the tree)."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    code, _, modules = completed.stdout.strip().partition(" ")
    assert code.isdigit(), completed.stderr
    return int(code), frozenset(json.loads(modules))


@dataclass(frozen=True)
class Ran:
    """What a preview command printed and returned (``subprocess.CompletedProcess``'s fields the tests read)."""

    returncode: int
    stdout: str
    stderr: str


def preview_cli(*argv: str) -> Ran:
    """``python -m preview ARGV`` in a fresh interpreter: the entry point itself (start-up, exit code, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "preview", *argv], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def preview_main(*argv: str) -> Ran:
    """``preview.__main__.main(ARGV)`` in this process: the whole CLI but the interpreter's start (~2 s less).

    ``python -m preview`` is ``sys.exit(main())``, so a test about a flag's output or exit code asks this; an
    exception escaping ``main`` fails the test (the CLI would have printed a traceback).
    """
    from preview.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return Ran(code, out.getvalue(), err.getvalue())
