"""A small real server standing in for the blueprint's images in the e2e run (stdlib + grpcio + psycopg2).

    standin.py http --port 8000 [--health /health] [--websocket] [--signalling]
    standin.py grpc                      # port from GRPC_PORT, serves grpc.health.v1

HTTP answers every path with JSON ``{"service", "path"}`` (the health path included), plus:
- ``.../db``    connects to every database the container was given (``DB_<NAME>_URL_FILE``)
                and reports user, database and whether the connection uses TLS;
- ``.../tools`` asks each ``TOOL_<NAME>_ADDR`` for its gRPC health (container to container);
- a WebSocket upgrade (``--websocket``) echoes every message; with ``--signalling`` the first
  message is a config with TURN credentials made from ``TURN_SHARED_SECRET_FILE`` the way
  coturn's ``use-auth-secret`` expects (username ``<expiry>:<id>``, password
  ``base64(hmac-sha1(secret, username))``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time
from pathlib import Path

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SERVICE = os.environ.get("STANDIN_SERVICE", socket.gethostname())


# -- HTTP and WebSocket ------------------------------------------------------------------------
async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, options: argparse.Namespace) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = [*lines[0].split(" "), "", ""][:3]
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if options.websocket and headers.get("upgrade", "").lower() == "websocket":
        await websocket(reader, writer, headers, options)
        return
    status, body = 200, {"service": SERVICE, "path": path, "method": method}
    if path.rstrip("/").endswith("/db"):
        status, body = await asyncio.to_thread(databases)
    elif path.rstrip("/").endswith("/tools"):
        status, body = await asyncio.to_thread(tools)
    payload = json.dumps(body).encode()
    writer.write(
        f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
        + payload
    )
    await writer.drain()
    writer.close()


async def websocket(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str], options: argparse.Namespace
) -> None:
    accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + WS_GUID).encode()).digest()).decode()
    writer.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
    )
    if options.signalling:
        send_frame(writer, 0x1, json.dumps(signalling_config()).encode())
    await writer.drain()
    try:
        while True:
            opcode, data = await read_frame(reader)
            if opcode == 0x8:  # close: answer and stop
                send_frame(writer, 0x8, data[:2])
                await writer.drain()
                break
            if opcode == 0x9:  # ping
                send_frame(writer, 0xA, data)
            elif opcode in (0x1, 0x2):
                send_frame(writer, opcode, data)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4) if second & 0x80 else b"\0\0\0\0"
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(await reader.readexactly(length)))
    return first & 0x0F, data


def send_frame(writer: asyncio.StreamWriter, opcode: int, data: bytes) -> None:
    """A server frame: final, unmasked."""
    size = len(data)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    writer.write(header + data)


def signalling_config() -> dict[str, object]:
    """What a Pixel Streaming signalling server tells a player: ICE servers with time-limited TURN credentials."""
    secret = Path(os.environ["TURN_SHARED_SECRET_FILE"]).read_text().strip()
    username = f"{int(time.time()) + 3600}:player"
    credential = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return {
        "type": "config",
        "peerConnectionOptions": {
            "iceServers": [{"urls": [os.environ["TURN_URL"]], "username": username, "credential": credential}]
        },
    }


def databases() -> tuple[int, dict[str, object]]:
    """Connect to each database handed over as ``DB_<NAME>_URL_FILE``; report who we are and whether TLS is on."""
    import psycopg2

    report: dict[str, object] = {}
    status = 200
    for key, value in sorted(os.environ.items()):
        if not (key.startswith("DB_") and key.endswith("_URL_FILE")):
            continue
        name = key[len("DB_") : -len("_URL_FILE")]
        try:
            with psycopg2.connect(Path(value).read_text().strip(), connect_timeout=5) as conn, conn.cursor() as cur:
                cur.execute(
                    "select current_user, current_database(), "
                    "coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false)"
                )
                row = cur.fetchone()
            assert row is not None
            user, database, ssl = row
            report[name] = {"user": user, "database": database, "ssl": ssl}
        except psycopg2.Error as error:  # reported as data: the check outside decides
            report[name] = {"error": str(error)}
            status = 502
    return status, report


def tools() -> tuple[int, dict[str, object]]:
    """gRPC health of each tool this API was given (``TOOL_<NAME>_ADDR``), over the stack network."""
    import grpc

    report: dict[str, object] = {}
    status = 200
    for key, address in sorted(os.environ.items()):
        if not (key.startswith("TOOL_") and key.endswith("_ADDR")):
            continue
        try:
            with grpc.insecure_channel(address) as channel:
                check = channel.unary_unary("/grpc.health.v1.Health/Check")
                answer = check(b"", timeout=5)
            report[key] = "SERVING" if answer == b"\x08\x01" else f"status bytes {answer!r}"
        except grpc.RpcError as error:
            report[key] = f"error: {error.code()}"
            status = 502
    return status, report


# -- gRPC ------------------------------------------------------------------------------------------
def serve_grpc() -> None:
    """grpc.health.v1.Health/Check answering SERVING (HealthCheckResponse{status: 1} is b'\\x08\\x01')."""
    from concurrent import futures

    import grpc

    port = int(os.environ.get("GRPC_PORT", "50051"))
    handler = grpc.method_handlers_generic_handler(
        "grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(lambda request, context: b"\x08\x01")}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"0.0.0.0:{port}")
    server.start()
    print(f"{SERVICE}: gRPC health on :{port}", flush=True)
    server.wait_for_termination()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["http", "grpc"])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--websocket", action="store_true")
    parser.add_argument("--signalling", action="store_true")
    options = parser.parse_args(argv)
    if options.mode == "grpc":
        serve_grpc()
        return

    async def run() -> None:
        server = await asyncio.start_server(lambda r, w: handle(r, w, options), "0.0.0.0", options.port)
        print(f"{SERVICE}: HTTP on :{options.port}", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1:])
