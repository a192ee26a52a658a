"""``python -m preview STACK``: the offline preview (no Pulumi CLI, no cloud, no Docker engine).

Exit codes: 0 clean; 1 bad config or program error (a message, no traceback);
2 mandatory policy violations.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preview import collector

if __name__ == "__main__":  # a preview process (not a caller of main): no collections while the program loads
    collector.pause()  # collector.collect_less resumes them

import pulumi

from preview.report import Report
from preview.runner import PreviewResult, read_stack_config, run_program, stack_names
from stacks.errors import ConfigError
from stacks.loader import StackSpec, load_stack
from stacks.program import run
from stacks.settings import PROJECT

if TYPE_CHECKING:  # the estimate is imported only when an output needs it (the tree does not)
    from preview.cost.estimate import Estimate
    from preview.cost.usage import Usage


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
    parser.add_argument("--cost", action="store_true", help="print the monthly cost estimate (docs/cost.md)")
    parser.add_argument(
        "--format",
        choices=("table", "infracost-json"),
        default="table",
        help="with --cost: a table, or Infracost's JSON (for infracost output / comment)",
    )
    parser.add_argument(
        "--usage", metavar="FILE", type=Path, help="usage file for the cost estimate (Infracost's shape)"
    )
    return parser.parse_args(argv)


def _flag_problem(args: argparse.Namespace) -> str:
    """Flags that do not go together, as the one line to print; "" when they do."""
    if args.json and (args.markdown or args.compare):
        return "--json prints the document alone; --markdown and --compare go with the tree or each other"
    if args.format != "table" and not args.cost:
        return "--format goes with --cost (--cost --format infracost-json)"
    return ""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = _flag_problem(args)
    if problem:
        print(problem, file=sys.stderr)
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
    spec, result, usage_file = loaded

    from preview.policies import evaluate

    report = Report(
        result=result,
        environment=spec.profile.name,
        blueprint=spec.blueprint.name,
        targets=[spec.target],
        violations=evaluate(result.resources, spec.profile.name),
        pools={name: usage.summary() for name, usage in spec.placement.usage.items()},
    )
    return _output(args, spec, report, usage_file, base)


def _output(
    args: argparse.Namespace, spec: StackSpec, report: Report, usage_file: Usage | None, base: dict[str, Any] | None
) -> int:
    """--render, then what the flags ask for: the estimate, the extras, the JSON document or the tree."""
    resources = report.result.resources
    if args.render:
        from targets import render

        written = render(spec.target, resources, args.render)
        print(f"rendered {len(written)} files under {args.render}", file=sys.stderr)
    if not (args.cost or args.json or args.markdown or args.graph or base is not None):
        print(report.tree(), end="")  # the tree shows no cost: skip the estimate and its price tables
        return 2 if report.mandatory else 0
    from preview.cost.estimate import context_for, estimate
    from preview.cost.usage import Usage

    cost = estimate(args.stack, resources, context_for(spec, resources, usage_file or Usage()))
    document = {**report.to_json(), "cost": cost.to_json()}
    if args.cost and not (args.json or args.markdown):
        return _cost(args, report, cost, base)
    if args.graph or args.markdown or base is not None:
        return _extras(args, report, document, base)
    print(json.dumps(document, indent=2) if args.json else report.tree(), end="" if not args.json else "\n")
    return 2 if report.mandatory else 0


def _cost(args: argparse.Namespace, report: Report, cost: Estimate, base: dict[str, Any] | None) -> int:
    """--cost: the estimate as a table (with the change against --compare's base), or Infracost's JSON."""
    from preview.cost.infracost import to_infracost
    from preview.cost.render import render_compare_text, render_text

    if args.format == "infracost-json":
        print(json.dumps(to_infracost(cost), indent=2))
    else:
        before = (base or {}).get("cost")
        if base is not None and before is None:
            print("--compare: the base document has no cost section (made before --cost existed)", file=sys.stderr)
        compared = render_compare_text(before, cost.to_json()) + "\n" if before is not None else ""
        print(compared + render_text(cost), end="")
    return 2 if report.mandatory else 0


def _run(args: argparse.Namespace) -> tuple[StackSpec, PreviewResult, Usage | None] | None:
    """The stack's spec, the program's run under the mocks and the usage file; None once a bad config,
    usage file or program error is told."""
    try:
        config, secret_keys = read_stack_config(args.stack)
        if args.blueprint:
            config[f"{PROJECT}:blueprint"] = args.blueprint
        if args.target:
            config[f"{PROJECT}:target"] = args.target
        spec = load_stack(args.stack, config)  # fail fast, and learn what the report names
        usage_file = _usage(args.usage)
        return spec, run_program(args.stack, config, secret_keys, program=partial(run, spec)), usage_file
    except ConfigError as error:
        print(error.message, file=sys.stderr)
    except pulumi.RunError as error:
        print(str(error), file=sys.stderr)
    except Exception as error:  # noqa: BLE001 - a program error is reported, not dumped
        if args.debug:
            traceback.print_exc()
        print(f"program error: {type(error).__name__}: {error} (run with --debug for the traceback)", file=sys.stderr)
    return None


def _usage(path: Path | None) -> Usage | None:
    """The usage file, read (and so checked) before the program runs; None without --usage."""
    if path is None:
        return None
    from preview.cost.usage import load_usage

    return load_usage(path)


def _extras(args: argparse.Namespace, report: Report, document: dict[str, Any], base: dict[str, Any] | None) -> int:
    """--graph, --markdown and --compare: all work on the JSON document, as they would on a saved one."""
    from preview.compare import compare, render_text

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
        print(json.dumps(document, indent=2))
    else:
        print((render_text(diff) + "\n" if diff is not None else "") + report.tree(), end="")
    return 2 if report.mandatory else 0


if __name__ == "__main__":
    collector.collect_less()
    sys.exit(main())
