"""Container healthcheck commands, shared by the targets whose runtime runs them (Docker, ECS)."""

from __future__ import annotations

import shlex

from components.protocol import HealthRequest


def health_test(health: HealthRequest) -> list[str]:
    """The healthcheck command for a request (probes run inside the container)."""
    if health.kind == "command":
        return ["CMD", *health.command]
    if health.kind == "grpc":
        return ["CMD", "grpc_health_probe", f"-addr=127.0.0.1:{health.port}"]
    if health.kind == "tcp":
        return ["CMD-SHELL", f"nc -z 127.0.0.1 {health.port} || exit 1"]
    url = shlex.quote(f"http://127.0.0.1:{health.port}{health.path}")  # paths may carry ? and &
    return ["CMD-SHELL", f"wget -q -O /dev/null {url} || curl -fsS -o /dev/null {url} || exit 1"]
