"""The e2e session: apply the dev stack to the real engine once, check it, tear it down.

The slow check (a WebSocket idle past nginx's 60 s default) starts as soon as the stack is
healthy, in a thread, so the other checks run while it waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e import apply as harness
from tests.e2e.clients import WebSocket
from tests.e2e.engine_api import Engine, EngineError
from tests.e2e.stack import DesiredStack, desired

HEALTHY_WITHIN_S = 150
IDLE_S = 75  # longer than nginx's default proxy_read_timeout (60 s)


def phase(name: str, started: float) -> None:
    print(f"\n[e2e] {name}: {time.monotonic() - started:.1f}s", flush=True)


@dataclass
class Deployed:
    engine: Engine
    stack: DesiredStack
    applied: harness.Applied
    health: dict[str, str]
    idle: dict[str, Any] = field(default_factory=dict)
    idle_thread: threading.Thread | None = None

    def container(self, workload: str) -> dict[str, Any]:
        return self.engine.inspect("containers", f"{self.stack.result.stack}-{workload}")


def _wait_healthy(engine: Engine, stack: DesiredStack) -> dict[str, str]:
    """Health status per container name once none is 'starting' (or the time is up)."""
    deadline = time.monotonic() + HEALTHY_WITHIN_S
    while True:
        states: dict[str, str] = {}
        for container in stack.containers:
            name = container.inputs["name"]
            try:
                state = engine.inspect("containers", name)["State"]
            except EngineError as error:  # a missing container is a state too
                states[name] = f"missing ({error})"
                continue
            health = (state.get("Health") or {}).get("Status", "no healthcheck")
            states[name] = health if state["Running"] else f"{state['Status']} (exit {state['ExitCode']})"
        if all(s != "starting" for s in states.values()) or time.monotonic() > deadline:
            return states
        time.sleep(2)


def _idle_websocket(url: str, result: dict[str, Any]) -> None:
    """Echo, stay silent for IDLE_S, echo again on the same connection."""
    try:
        ws = WebSocket(url)
        ws.send("before-idle")
        result["before"] = ws.receive()
        time.sleep(IDLE_S)
        ws.send("after-idle")
        result["after"] = ws.receive(timeout=10)
        ws.close()
    except (OSError, ValueError) as error:  # ConnectionError and timeouts included: the test reports it
        result["error"] = f"{type(error).__name__}: {error}"


@pytest.fixture(scope="session")
def deployed() -> Iterator[Deployed]:
    engine = Engine()
    started = time.monotonic()
    stack = desired()
    phase("program run (offline preview of dev)", started)
    harness.destroy(engine, stack)  # leftovers of an interrupted run
    started = time.monotonic()
    applied = harness.apply(engine, stack)
    phase(f"apply ({len(applied.created)} created, {len(applied.errors)} failed)", started)
    started = time.monotonic()
    health = _wait_healthy(engine, stack)
    phase("wait for health checks", started)
    result = Deployed(engine, stack, applied, health)
    ws_url = next((url for url in stack.outputs["urls"].values() if url.startswith("ws") and "/ws" in url), None)
    if ws_url is not None:
        result.idle_thread = threading.Thread(target=_idle_websocket, args=(ws_url, result.idle), daemon=True)
        result.idle_thread.start()
    started = time.monotonic()
    yield result
    phase("checks", started)
    started = time.monotonic()
    harness.destroy(engine, stack)
    phase("teardown", started)
