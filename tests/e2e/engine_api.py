"""A tiny Docker Engine API client over the unix socket (stdlib only).

The harness talks to the engine the way the docker provider does (the Engine API), not
through the ``docker`` CLI, so what it sends maps one to one onto the provider's calls.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from dataclasses import dataclass
from typing import Any

SOCKET = "/var/run/docker.sock"


class EngineError(RuntimeError):
    """The engine answered with an error status."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{method} {path}: {status} {message}")
        self.status = status
        self.message = message


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


@dataclass
class Engine:
    """``request`` returns the decoded JSON body (or raw bytes when the answer is not JSON)."""

    socket_path: str = SOCKET
    timeout: float = 120.0

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        url = path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        connection = _UnixConnection(self.socket_path, self.timeout)
        try:
            headers = {"Content-Type": content_type} if data is not None else {}
            connection.request(method, url, body=data, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        if response.status >= 400:
            try:
                message = json.loads(payload).get("message", "")
            except ValueError:
                message = payload.decode(errors="replace")
            raise EngineError(method, path, response.status, message)
        if response.getheader("Content-Type", "").startswith("application/json") and payload:
            return json.loads(payload)
        return payload

    def exists(self, path: str) -> bool:
        try:
            self.request("GET", path)
        except EngineError as error:
            if error.status == 404:
                return False
            raise
        return True

    def inspect(self, kind: str, name: str) -> dict[str, Any]:
        """``kind`` is containers, networks, volumes or images."""
        path = f"/{kind}/{urllib.parse.quote(name, safe='')}" + ("" if kind in ("networks", "volumes") else "/json")
        return self.request("GET", path)

    def exec(self, container: str, command: list[str], user: str = "") -> tuple[int, str]:
        """Run ``command`` in a running container; returns exit code and combined output."""
        created = self.request(
            "POST",
            f"/containers/{container}/exec",
            {"Cmd": command, "User": user, "AttachStdout": True, "AttachStderr": True},
        )
        stream = self.request("POST", f"/exec/{created['Id']}/start", {"Detach": False, "Tty": False})
        code = self.request("GET", f"/exec/{created['Id']}/json")["ExitCode"]
        return code, _demux(stream)


def _demux(stream: bytes) -> str:
    """The engine's multiplexed stdout/stderr stream (8-byte frame headers) as text."""
    out, index = bytearray(), 0
    while index + 8 <= len(stream):
        size = int.from_bytes(stream[index + 4 : index + 8], "big")
        out += stream[index + 8 : index + 8 + size]
        index += 8 + size
    return out.decode(errors="replace")
