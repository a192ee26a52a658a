"""Host-side clients the checks use, stdlib only (grpcio comes with pulumi): HTTP, WebSocket, gRPC health, TURN.

They talk to the stack from outside, through the ports it publishes, as a user's tools would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def http_get(url: str, timeout: float = 10) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of a GET (error statuses are returned, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, {"body": body.decode(errors="replace")[:200]}


class WebSocket:
    """A minimal RFC 6455 client: upgrade, masked text frames, read frames (pings answered)."""

    def __init__(self, url: str, timeout: float = 10) -> None:
        parts = urllib.parse.urlsplit(url)
        assert parts.scheme == "ws", "TLS WebSockets are not needed in dev"
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError(f"{url}: closed during the upgrade: {head!r}")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise ConnectionError(f"{url}: no upgrade: {status.decode(errors='replace')}")
        expected = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest())
        if expected not in head:
            raise ConnectionError(f"{url}: wrong Sec-WebSocket-Accept")

    def send(self, text: str) -> None:
        data = text.encode()
        mask = os.urandom(4)
        size = len(data)
        header = struct.pack("!BB", 0x81, 0x80 | size) if size < 126 else struct.pack("!BBH", 0x81, 0xFE, size)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("WebSocket closed by the server")
            data += chunk
        return data

    def receive(self, timeout: float = 10) -> str:
        self.sock.settimeout(timeout)
        while True:
            first, second = self._exact(2)
            size = second & 0x7F
            if size == 126:
                (size,) = struct.unpack("!H", self._exact(2))
            elif size == 127:
                (size,) = struct.unpack("!Q", self._exact(8))
            data = self._exact(size)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError(f"WebSocket closed by the server: {data!r}")
            if opcode in (0x1, 0x2):
                return data.decode()

    def close(self) -> None:
        self.sock.close()


def grpc_health(address: str, timeout: float = 5) -> str:
    """grpc.health.v1.Health/Check through ``address``: 'SERVING' or what went wrong."""
    import grpc

    with grpc.insecure_channel(address) as channel:
        answer = channel.unary_unary("/grpc.health.v1.Health/Check")(b"", timeout=timeout)
    return "SERVING" if answer == b"\x08\x01" else f"status bytes {answer!r}"


# -- STUN/TURN (RFC 5389 / 5766), enough for a binding and an Allocate -----------------------------
_COOKIE = 0x2112A442


def _attribute(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def _message(kind: int, attributes: bytes, transaction: bytes) -> bytes:
    return struct.pack("!HHI", kind, len(attributes), _COOKIE) + transaction + attributes


def _parse(data: bytes) -> tuple[int, dict[int, bytes]]:
    kind, length, _ = struct.unpack("!HHI", data[:8])
    attributes: dict[int, bytes] = {}
    index = 20
    while index < 20 + length:
        attr, size = struct.unpack("!HH", data[index : index + 4])
        attributes[attr] = data[index + 4 : index + 4 + size]
        index += 4 + size + (-size % 4)
    return kind, attributes


def _xor_address(value: bytes) -> str:
    port = struct.unpack("!H", value[2:4])[0] ^ (_COOKIE >> 16)
    address = struct.unpack("!I", value[4:8])[0] ^ _COOKIE
    return f"{socket.inet_ntoa(struct.pack('!I', address))}:{port}"


def stun_binding(host: str, port: int, timeout: float = 5) -> str:
    """A STUN Binding request over UDP; returns the XOR-MAPPED-ADDRESS the server saw."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(_message(0x0001, b"", os.urandom(12)), (host, port))
        kind, attrs = _parse(sock.recv(2048))
    if kind != 0x0101 or 0x0020 not in attrs:
        raise ConnectionError(f"not a Binding success response: type {kind:#06x}")
    return _xor_address(attrs[0x0020])


def turn_allocate(host: str, port: int, username: str, password: str, timeout: float = 5) -> dict[str, Any]:
    """A UDP Allocate with long-term credentials: 401 with realm and nonce, then the signed request.

    Returns ``{"ok": True, "relayed": "ip:port", "mapped": ...}`` or ``{"ok": False, "error": ...}``.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        transport = _attribute(0x0019, bytes([17, 0, 0, 0]))  # REQUESTED-TRANSPORT: UDP
        sock.sendto(_message(0x0003, transport, os.urandom(12)), (host, port))
        kind, attrs = _parse(sock.recv(2048))
        if kind != 0x0113 or 0x0014 not in attrs or 0x0015 not in attrs:
            return {"ok": False, "error": f"expected a 401 challenge, got type {kind:#06x}"}
        realm, nonce = attrs[0x0014], attrs[0x0015]
        key = hashlib.md5(username.encode() + b":" + realm + b":" + password.encode()).digest()
        body = transport + _attribute(0x0006, username.encode()) + _attribute(0x0014, realm) + _attribute(0x0015, nonce)
        transaction = os.urandom(12)
        # MESSAGE-INTEGRITY covers the header with the length including itself (24 bytes).
        head = _message(0x0003, body, transaction)
        signed = struct.pack("!HHI", 0x0003, len(body) + 24, _COOKIE) + transaction + head[20:]
        digest = hmac.new(key, signed, hashlib.sha1).digest()
        sock.sendto(_message(0x0003, body + _attribute(0x0008, digest), transaction), (host, port))
        kind, attrs = _parse(sock.recv(2048))
        if kind != 0x0103:
            code = attrs.get(0x0009, b"\0\0\0\0")
            return {"ok": False, "error": f"type {kind:#06x}, error {code[2] * 100 + code[3]} {code[4:].decode()}"}
        return {"ok": True, "relayed": _xor_address(attrs[0x0016]), "mapped": _xor_address(attrs.get(0x0020, b""))}


def turn_credentials(secret: str, name: str = "e2e", lifetime_s: int = 3600) -> tuple[str, str]:
    """coturn ``use-auth-secret`` (TURN REST) credentials: ``<expiry>:<name>`` and its HMAC-SHA1."""
    import time

    username = f"{int(time.time()) + lifetime_s}:{name}"
    return username, base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
