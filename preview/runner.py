"""Run the real program (``stacks.program.run``) under the mock runtime and collect what it did.

The same function serves ``python -m preview`` and the tests, so what the
tests assert is what the preview shows. Each run gets a fresh event loop, a
fresh root stack and fresh mocks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime.settings as runtime_settings
import yaml
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from preview.mocks import SECRET, PlatformMocks, Recorded, RecordingMonitor
from stacks.errors import fail
from stacks.settings import PROJECT

ROOT = Path(__file__).resolve().parent.parent
SECURE_PLACEHOLDER = "-----BEGIN MOCK SECRET-----\n(offline preview: secure config values are not decrypted)\n"


@dataclass
class PreviewResult:
    """What one offline run produced."""

    stack: str
    config: dict[str, Any]
    resources: list[Recorded] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    # What the program logged as warnings (``pulumi.log.warn``), as ``pulumi up`` would show them.
    warnings: list[str] = field(default_factory=list)

    def by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for resource in self.resources:
            counts[resource.type] = counts.get(resource.type, 0) + 1
        return dict(sorted(counts.items()))

    def of_type(self, token: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == token]

    def named(self, name: str) -> Recorded:
        return next(r for r in self.resources if r.name == name)


def stack_names() -> list[str]:
    """Stacks that have a ``Pulumi.<stack>.yaml`` next to the program."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def read_stack_config(stack: str) -> tuple[dict[str, Any], set[str]]:
    """Config of ``Pulumi.<stack>.yaml`` as the CLI hands it to programs, and its secret keys.

    Structured values become JSON text, as the engine sends them; ``secure:``
    values cannot be decrypted offline and become a placeholder marked secret.
    """
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise fail(
            f"Pulumi.{stack}.yaml",
            "stack",
            stack,
            f"no such stack file; stacks: {', '.join(stack_names()) or 'none'}",
        )
    document = yaml.safe_load(path.read_text()) or {}
    config: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in (document.get("config") or {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = SECURE_PLACEHOLDER
            secret_keys.add(full)
        elif isinstance(value, (dict, list)):
            config[full] = json.dumps(value)
        else:
            config[full] = str(value).lower() if isinstance(value, bool) else str(value)
    return config, secret_keys


def run_program(
    stack: str,
    config: Mapping[str, Any],
    secret_keys: set[str] | None = None,
    program: Callable[[], None] | None = None,
) -> PreviewResult:
    """Run ``program`` (default: the real one) under mocks; raise what it raises."""
    if program is None:
        from stacks.program import run as program

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = PlatformMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(dict(config), list(secret_keys or ()))
    runtime_settings.ROOT.set(None)
    result = PreviewResult(stack=stack, config=dict(config))
    logger = _WarningLog(result.warnings)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=True, logger=logger, monitor=monitor)
    try:
        _sync_await(run_pulumi_func(program))
        result.outputs = _sync_await(_resolve_outputs())
    finally:
        result.resources = monitor.recorded
        loop.close()
        asyncio.set_event_loop(None)
    return result


class _WarningLog(logging.Logger):
    """The mock engine's logger: keeps the program's warnings for the report, drops the rest.

    ``pulumi.runtime.set_mocks`` hands every ``pulumi.log`` call to this logger, which is
    how warnings the program gives ``pulumi up`` reach the offline preview too.
    """

    def __init__(self, sink: list[str]) -> None:
        super().__init__("gpu-platform.preview", logging.WARNING)
        self.sink = sink

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.sink.append(str(msg))


async def _resolve_outputs() -> dict[str, Any]:
    root = runtime_settings.get_root_resource()
    exported: dict[str, Any] = dict(getattr(root, "outputs", {}) or {})
    resolved: dict[str, Any] = {}
    for name, value in exported.items():
        output = pulumi.Output.from_input(value)
        secret = await output.is_secret()
        resolved[name] = SECRET if secret else await output.future()
    return resolved
