"""``python -m preview STACK``: the offline preview (no Pulumi CLI, no cloud, no Docker engine).

Exit codes: 0 clean; 1 bad config or program error (a message, no traceback);
2 mandatory policy violations.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any

import pulumi

from preview.report import Report
from preview.runner import PreviewResult, read_stack_config, run_program, stack_names
from stacks.errors import ConfigError
from stacks.loader import StackSpec, load_stack
from stacks.settings import PROJECT


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m preview",
        description="Run the gpu-platform program under Pulumi's mock runtime and show what it would create.",
    )
    parser.add_argument("stack", help=f"stack name ({', '.join(stack_names())})")
    parser.add_argument("--json", action="store_true", help="print one JSON document (format version 1)")
    parser.add_argument("--blueprint", help="blueprint name in blueprints/ or a path (overrides the stack's)")
    parser.add_argument("--target", help="target name (overrides the stack's)")
    parser.add_argument("--render", metavar="DIR", type=Path, help="write what the target hands to its tools")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of program errors")
    parser.add_argument("--markdown", action="store_true", help="print a pull-request comment body (GitHub Markdown)")
    parser.add_argument(
        "--compare", metavar="BASE.json", type=Path, help="diff against the base branch's --json document"
    )
    parser.add_argument("--graph", metavar="FILE", type=Path, help="draw the architecture (.svg, .png or .dot)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.json and (args.markdown or args.compare):
        print(
            "--json prints the document alone; --markdown and --compare go with the tree or each other", file=sys.stderr
        )
        return 1
    base = None
    if args.compare:
        from preview.compare import load_document

        try:
            base = load_document(args.compare)
        except ValueError as error:
            print(f"--compare {error}", file=sys.stderr)
            return 1
    loaded = _run(args)
    if loaded is None:
        return 1
    spec, result = loaded

    from preview.policies import evaluate

    report = Report(
        result=result,
        environment=spec.profile.name,
        blueprint=spec.blueprint.name,
        targets=[spec.target],
        violations=evaluate(result.resources, spec.profile.name),
        pools={name: usage.summary() for name, usage in spec.placement.usage.items()},
    )
    if args.render:
        from targets import render

        written = render(spec.target, result.resources, args.render)
        print(f"rendered {len(written)} files under {args.render}", file=sys.stderr)
    if args.graph or args.markdown or base is not None:
        return _extras(args, report, base)
    print(report.dumps() if args.json else report.tree(), end="" if not args.json else "\n")
    return 2 if report.mandatory else 0


def _run(args: argparse.Namespace) -> tuple[StackSpec, PreviewResult] | None:
    """The stack's spec and the program's run under the mocks; None once a bad config or program error is told."""
    try:
        config, secret_keys = read_stack_config(args.stack)
        if args.blueprint:
            config[f"{PROJECT}:blueprint"] = args.blueprint
        if args.target:
            config[f"{PROJECT}:target"] = args.target
        spec = load_stack(args.stack, config)  # fail fast, and learn what the report names
        return spec, run_program(args.stack, config, secret_keys)
    except ConfigError as error:
        print(error.message, file=sys.stderr)
    except pulumi.RunError as error:
        print(str(error), file=sys.stderr)
    except Exception as error:  # noqa: BLE001 - a program error is reported, not dumped
        if args.debug:
            traceback.print_exc()
        print(f"program error: {type(error).__name__}: {error} (run with --debug for the traceback)", file=sys.stderr)
    return None


def _extras(args: argparse.Namespace, report: Report, base: dict[str, Any] | None) -> int:
    """--graph, --markdown and --compare: all work on the JSON document, as they would on a saved one."""
    from preview.compare import compare, render_text

    document = report.to_json()
    if args.graph:
        from preview.graph import GraphError, write_graph

        try:
            write_graph(document, args.graph)
        except GraphError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"wrote {args.graph}", file=sys.stderr)
    diff = compare(base, document) if base is not None else None
    if args.markdown:
        from preview.markdown import render

        print(render(document, diff), end="")
    elif args.json:
        print(report.dumps())
    else:
        print((render_text(diff) + "\n" if diff is not None else "") + report.tree(), end="")
    return 2 if report.mandatory else 0


if __name__ == "__main__":
    sys.exit(main())
