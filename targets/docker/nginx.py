"""nginx.conf for the Docker target's edge container, generated from a small typed model.

Why generate instead of templating: the edge config is the only public entry of a
Docker stack, so it must be reviewable (``pulumi preview`` diffs the text), testable
without Docker (pure stdlib, no provider SDK) and checkable with ``nginx -t`` in CI.
A model with validation catches the mistakes nginx would only report at container
start (unknown upstream, duplicate location, port clash) as a clear ``ValueError``
during ``pulumi preview`` instead.

Constraints the output honours:

* It runs in ``nginxinc/nginx-unprivileged:1.27-alpine`` (uid 101, read-only files,
  ``/tmp`` the only writable place) **and** passes ``nginx -t`` on Debian's nginx
  1.22, so only directives valid in both are used (``listen ... http2`` rather than
  the 1.25+ ``http2 on``).
* It includes no other file (``mime.types`` and friends may not exist).
* ``add_header`` and ``proxy_set_header`` are not inherited by a block that defines
  its own, so response headers live at server level only and every proxying
  location sets its complete list of request headers.
* The text is deterministic: upstreams, locations, listeners and CORS origins are
  emitted in sorted order, so reordering the inputs does not produce a diff.

Name resolution. nginx resolves the servers of an ``upstream`` block once, at start;
after ``pulumi up`` replaces a container (new IP under the same Docker DNS alias) such
an edge keeps sending to a dead address. An ``Upstream`` with ``resolve=True`` therefore
gets no ``upstream`` block: its location stores ``host:port`` in a variable
(``set $edge_backend_<name> ...;``) and passes to ``http://$edge_backend_<name>`` /
``grpc://$edge_backend_<name>``, which nginx resolves per request through
``EdgeConfig.resolver`` (Docker's embedded DNS, 127.0.0.11), caching answers for
``resolver_valid_s``. All addresses of a name are used round-robin, so replicas sharing
a network alias are still balanced. The ``resolve`` parameter of ``server`` in upstream
blocks would keep the blocks, but open-source nginx has it only from 1.27.3 and the
config must pass ``nginx -t`` on 1.22. The request URI is unchanged by the variable:
with no URI part, ``proxy_pass`` passes the client's request URI either way (proved by
running nginx in ``tests/test_nginx_config.py``). What a resolved upstream loses:

* ``sticky`` (``ip_hash`` exists only in upstream blocks, as does ``hash``). A
  WebSocket stays on the connection that opened it, so stickiness only ever placed
  *reconnects*; with ``resolve`` a reconnect may land on another replica.
* ``keepalive`` connection reuse to the backend (also upstream-only): each request
  (each gRPC call) opens a connection on the stack network.
* Default ``proxy_redirect`` rewriting, which only rewrote ``Location`` headers naming
  the upstream block, and backends see ``Host: $host``, not the block name.

Names that Docker's DNS does not serve (``/etc/hosts`` entries for peers on other
engines) must stay static: ``resolve=False`` keeps the classic upstream block.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BACKEND_VARIABLE_PREFIX",
    "GRPC_STREAM_TIMEOUT_S",
    "EdgeConfig",
    "GrpcListener",
    "Location",
    "Upstream",
    "render_nginx_conf",
    "validate_edge",
]

# gRPC streams (server push, bidirectional inference sessions) sit idle between
# messages far longer than nginx's 60 s default; an hour matches the WebSocket
# gateways' default idle timeout.
GRPC_STREAM_TIMEOUT_S = 3600

HEALTHZ_PATH = "/healthz"
RATE_LIMIT_ZONE = "edge_rps"
CORS_ORIGIN_VARIABLE = "$edge_cors_origin"
# Prefix of the per-upstream address variables; not "$upstream_", which is nginx's own
# ($upstream_addr, $upstream_status, ...).
BACKEND_VARIABLE_PREFIX = "$edge_backend_"
RESOLVER_TIMEOUT_S = 5

_INDENT = "    "
_UPSTREAM_NAME = re.compile(r"^[a-z0-9_]+$")
# host:port, where host is a DNS name / IPv4 address or a bracketed IPv6 address.
_SERVER = re.compile(r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{1,5})$")
# Anything that would end or split an nginx token is refused rather than escaped.
_LOCATION_PATH = re.compile(r"^/[^\s;{}\"'#\\]*$")
_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[A-Za-z0-9.-]+(?::\d{1,5})?$")
_SIZE = re.compile(r"^\d+[kKmMgG]?$")
_FILE_PATH = re.compile(r"^/[^\s;{}\"'#\\]+$")
_KINDS = frozenset({"http", "websocket"})
_HEADER_LEVELS = frozenset({"basic", "full", "enterprise"})

# Mozilla "intermediate" TLS 1.2 suites (TLS 1.3 suites are not configurable here);
# without DHE because no dhparam file is shipped.
_TLS12_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
)

# Same-origin camera/microphone stay usable (speech and video front ends); the rest is off.
_PERMISSIONS_POLICY = "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()"

# One JSON object per request on stdout, so `docker logs` output is machine-readable.
_LOG_FORMAT = (
    "'{"
    '"time":"$time_iso8601",'
    '"remote_addr":"$remote_addr",'
    '"host":"$host",'
    '"request":"$request",'
    '"status":$status,'
    '"body_bytes_sent":$body_bytes_sent,'
    '"request_time":$request_time,'
    '"upstream_addr":"$upstream_addr",'
    '"upstream_status":"$upstream_status",'
    '"upstream_response_time":"$upstream_response_time",'
    '"http_user_agent":"$http_user_agent"'
    "}'"
)


@dataclass(frozen=True)
class Upstream:
    """A named group of backend containers, addressed by their Docker DNS names.

    ``sticky`` uses ``ip_hash`` because open-source nginx has no cookie stickiness,
    so a WebSocket *reconnect* lands on the replica that held the session (an open
    WebSocket never moves). ``grpc`` marks an HTTP/2 backend that gRPC listeners may
    target. ``resolve`` re-resolves the one server's name per request through
    ``EdgeConfig.resolver`` instead of once at start (see the module docstring); it
    needs exactly one server (a DNS name whose answers are the replicas) and drops
    ``sticky`` and ``keepalive``, which exist only in upstream blocks.
    """

    name: str
    servers: tuple[str, ...]
    sticky: bool = False
    grpc: bool = False
    resolve: bool = False


@dataclass(frozen=True)
class Location:
    """A path prefix on the HTTP(S) server and the upstream it is proxied to.

    ``idle_timeout_s`` becomes ``proxy_read_timeout``/``proxy_send_timeout``: a
    WebSocket is cut after that long without traffic, so gateways pass more than
    their ping interval (e.g. 3600).
    """

    path: str
    kind: Literal["http", "websocket"]
    upstream: str
    idle_timeout_s: int = 60


@dataclass(frozen=True)
class GrpcListener:
    """A dedicated HTTP/2 port for one gRPC upstream.

    gRPC gets its own port because the HTTP(S) server speaks HTTP/1.1 (WebSocket
    upgrades need it), and plaintext HTTP/2 cannot share a port with HTTP/1.1.
    """

    port: int
    upstream: str


@dataclass(frozen=True)
class EdgeConfig:
    """Everything the edge nginx needs to know; rendered by ``render_nginx_conf``.

    Ports are container ports: the image runs as uid 101 and so listens above
    1024. ``redirect_https_port`` is an addition to the original interface: the
    HTTP->HTTPS redirect must name the port clients reach, which differs from
    ``https_port`` when Docker publishes it under another host port (443 -> 8443).
    ``None`` means they are equal. ``resolver`` is the DNS server (an IP address)
    that upstreams with ``resolve=True`` are looked up in, answers cached for
    ``resolver_valid_s`` seconds (Docker's DNS says 600).
    """

    upstreams: tuple[Upstream, ...]
    locations: tuple[Location, ...]
    grpc_listeners: tuple[GrpcListener, ...] = ()
    http_port: int = 8080
    https_port: int = 8443
    tls: bool = False
    cert_path: str = "/etc/nginx/tls/tls.crt"
    key_path: str = "/etc/nginx/tls/tls.key"
    rate_limit_rps: int | None = None
    rate_limit_burst: int = 0
    cors_origins: tuple[str, ...] = ()
    security_headers: Literal["basic", "full", "enterprise"] = "basic"
    client_max_body_size: str = "10m"
    redirect_https_port: int | None = None
    resolver: str | None = None
    resolver_valid_s: int = 10


def _valid_port(port: int) -> bool:
    return 1 <= port <= 65535


def _upstream_problems(upstreams: Sequence[Upstream]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for upstream in upstreams:
        if not _UPSTREAM_NAME.match(upstream.name):
            problems.append(f"upstream name {upstream.name!r} must match [a-z0-9_]+")
        if upstream.name in seen:
            problems.append(f"upstream name {upstream.name!r} is defined more than once")
        seen.add(upstream.name)
        if not upstream.servers:
            problems.append(f"upstream {upstream.name!r} has empty servers: list at least one host:port")
        for server in upstream.servers:
            match = _SERVER.match(server)
            if match is None or not _valid_port(int(match.group("port"))):
                problems.append(f"upstream {upstream.name!r} server {server!r} is not host:port (port 1-65535)")
        if upstream.resolve and len(upstream.servers) > 1:
            problems.append(
                f"upstream {upstream.name!r} resolves at request time and so takes one server"
                f" (a DNS name whose addresses are the replicas), got {len(upstream.servers)}"
            )
    return problems


def _location_problems(locations: Sequence[Location], known: dict[str, Upstream]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for location in locations:
        if not _LOCATION_PATH.match(location.path):
            problems.append(
                f"location path {location.path!r} must start with '/' and contain no whitespace or ;{{}}\"'#\\"
            )
        if location.path == HEALTHZ_PATH:
            problems.append(f"location path {HEALTHZ_PATH!r} is reserved for the edge's own health check")
        if location.path in seen:
            problems.append(f"duplicate location path {location.path!r}")
        seen.add(location.path)
        if location.kind not in _KINDS:
            problems.append(f"location {location.path!r} kind {location.kind!r} must be 'http' or 'websocket'")
        if location.upstream not in known:
            problems.append(
                f"location {location.path!r} refers to unknown upstream {location.upstream!r}"
                f" (known: {', '.join(sorted(known)) or 'none'})"
            )
        if location.idle_timeout_s < 1:
            problems.append(f"location {location.path!r} idle_timeout_s must be >= 1, got {location.idle_timeout_s}")
    return problems


def _listener_problems(edge: EdgeConfig, known: dict[str, Upstream]) -> list[str]:
    problems: list[str] = []
    seen: set[int] = set()
    for listener in edge.grpc_listeners:
        port = listener.port
        if not _valid_port(port):
            problems.append(f"grpc listener port {port} must be 1-65535")
        if port == edge.http_port:
            problems.append(f"grpc listener port {port} clashes with http_port")
        if port == edge.https_port:
            problems.append(f"grpc listener port {port} clashes with https_port")
        if port in seen:
            problems.append(f"grpc listener port {port} is duplicated")
        seen.add(port)
        upstream = known.get(listener.upstream)
        if upstream is None:
            problems.append(f"grpc listener {port} refers to unknown upstream {listener.upstream!r}")
        elif not upstream.grpc:
            problems.append(
                f"grpc listener {port} refers to non-grpc upstream {listener.upstream!r} (set grpc=True on it)"
            )
    return problems


def _edge_problems(edge: EdgeConfig) -> list[str]:
    """The server-wide settings: ports, rate limit, CORS, response headers and body size, resolver, TLS files."""
    return [
        *_port_problems(edge),
        *_rate_limit_problems(edge),
        *_cors_problems(edge.cors_origins),
        *_response_problems(edge),
        *_resolver_problems(edge),
        *_tls_file_problems(edge),
    ]


def _port_problems(edge: EdgeConfig) -> list[str]:
    problems = [
        f"{label} {port} must be 1-65535"
        for label, port in (("http_port", edge.http_port), ("https_port", edge.https_port))
        if not _valid_port(port)
    ]
    if edge.http_port == edge.https_port:
        problems.append(f"http_port and https_port are both {edge.http_port}")
    if edge.redirect_https_port is not None and not _valid_port(edge.redirect_https_port):
        problems.append(f"redirect_https_port {edge.redirect_https_port} must be 1-65535")
    return problems


def _rate_limit_problems(edge: EdgeConfig) -> list[str]:
    problems: list[str] = []
    if edge.rate_limit_rps is not None and edge.rate_limit_rps < 1:
        problems.append(f"rate_limit_rps must be >= 1 or None, got {edge.rate_limit_rps}")
    if edge.rate_limit_burst < 0:
        problems.append(f"rate_limit_burst must be >= 0, got {edge.rate_limit_burst}")
    return problems


def _cors_problems(origins: Sequence[str]) -> list[str]:
    problems = ["cors_origins: '*' must be the only entry"] if "*" in origins and len(origins) > 1 else []
    problems += [
        f"cors origin {origin!r} must be scheme://host[:port] with no path or trailing slash"
        for origin in origins
        if origin != "*" and not _ORIGIN.match(origin)
    ]
    return problems


def _response_problems(edge: EdgeConfig) -> list[str]:
    """The security header level and the request body limit."""
    problems: list[str] = []
    if edge.security_headers not in _HEADER_LEVELS:
        problems.append(f"security_headers {edge.security_headers!r} must be basic, full or enterprise")
    if not _SIZE.match(edge.client_max_body_size):
        problems.append(f"client_max_body_size {edge.client_max_body_size!r} must look like 10m, 512k or 1g")
    return problems


def _resolver_problems(edge: EdgeConfig) -> list[str]:
    """An IP resolver, required as soon as one upstream resolves at request time."""
    problems: list[str] = []
    if edge.resolver is not None:
        try:
            ipaddress.ip_address(edge.resolver)
        except ValueError:
            problems.append(f"resolver {edge.resolver!r} must be an IP address")
    elif any(upstream.resolve for upstream in edge.upstreams):
        names = ", ".join(sorted(upstream.name for upstream in edge.upstreams if upstream.resolve))
        problems.append(f"upstreams {names} resolve at request time but no resolver is set")
    if edge.resolver_valid_s < 1:
        problems.append(f"resolver_valid_s must be >= 1, got {edge.resolver_valid_s}")
    return problems


def _tls_file_problems(edge: EdgeConfig) -> list[str]:
    return [
        f"{label} {path!r} must be an absolute path without whitespace or ;{{}}\"'#\\"
        for label, path in (("cert_path", edge.cert_path), ("key_path", edge.key_path))
        if not _FILE_PATH.match(path)
    ]


def validate_edge(edge: EdgeConfig) -> None:
    """Raise ``ValueError`` listing every problem nginx would reject or silently misroute."""
    known = {upstream.name: upstream for upstream in edge.upstreams}
    problems = [
        *_upstream_problems(edge.upstreams),
        *_location_problems(edge.locations, known),
        *_listener_problems(edge, known),
        *_edge_problems(edge),
    ]
    if problems:
        raise ValueError("invalid edge config: " + "; ".join(problems))


def _block(head: str, body: Iterable[str]) -> list[str]:
    """``head { body }`` with the body indented; empty strings stay empty lines."""
    return [f"{head} {{", *(f"{_INDENT}{line}" if line else "" for line in body), "}"]


def _upstream(upstream: Upstream) -> list[str]:
    body: list[str] = []
    if upstream.sticky:
        # Must precede keepalive: nginx requires the balancing method first.
        body.append("ip_hash;")
    body += [f"server {server};" for server in upstream.servers]
    # Reused connections: HTTP/2 for gRPC, HTTP/1.1 (Connection "") for the rest.
    body.append("keepalive 32;")
    return _block(f"upstream {upstream.name}", body)


_FORWARDED_HEADERS = (
    "proxy_set_header Host $host;",
    "proxy_set_header X-Real-IP $remote_addr;",
    "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "proxy_set_header X-Forwarded-Proto $scheme;",
    "proxy_set_header X-Forwarded-Host $host;",
)


def _target(upstream: Upstream) -> tuple[list[str], str]:
    """The ``set`` lines and the address for ``proxy_pass http://`` / ``grpc_pass grpc://``.

    A resolved upstream's address is a variable, which makes nginx look the name up per
    request (cached by the resolver) instead of once at start; a static one names its block.
    """
    if not upstream.resolve:
        return [], upstream.name
    variable = f"{BACKEND_VARIABLE_PREFIX}{upstream.name}"
    return [f"set {variable} {upstream.servers[0]};"], variable


def _location(location: Location, upstream: Upstream) -> list[str]:
    timeout = f"{location.idle_timeout_s}s"
    lines, address = _target(upstream)
    body = [
        *lines,
        # No URI part (with or without a variable): the client's request URI is passed unchanged.
        f"proxy_pass http://{address};",
        "proxy_http_version 1.1;",
        *_FORWARDED_HEADERS,
    ]
    if location.kind == "websocket":
        body += [
            "proxy_set_header Upgrade $http_upgrade;",
            "proxy_set_header Connection $connection_upgrade;",
        ]
    else:
        # Empty Connection lets a static upstream's keepalive pool reuse the connection.
        body.append('proxy_set_header Connection "";')
    body += [
        "proxy_connect_timeout 10s;",
        f"proxy_read_timeout {timeout};",
        f"proxy_send_timeout {timeout};",
    ]
    if location.kind == "websocket":
        body.append("proxy_buffering off;")
    return _block(f"location {location.path}", body)


def _healthz() -> list[str]:
    return _block(
        f"location = {HEALTHZ_PATH}",
        ["access_log off;", "default_type text/plain;", 'return 200 "ok\\n";'],
    )


def _rate_limit(edge: EdgeConfig) -> list[str]:
    if edge.rate_limit_rps is None:
        return []
    # nginx rejects burst=0; no burst is the same thing.
    burst = f" burst={edge.rate_limit_burst}" if edge.rate_limit_burst > 0 else ""
    return [f"limit_req zone={RATE_LIMIT_ZONE}{burst} nodelay;", "limit_req_status 429;"]


def _security_headers(edge: EdgeConfig, *, https: bool) -> list[str]:
    headers = [
        "add_header X-Content-Type-Options nosniff always;",
        "add_header X-Frame-Options DENY always;",
    ]
    if edge.security_headers in ("full", "enterprise"):
        headers += [
            "add_header Referrer-Policy strict-origin-when-cross-origin always;",
            "add_header Content-Security-Policy \"default-src 'self'\" always;",
            f'add_header Permissions-Policy "{_PERMISSIONS_POLICY}" always;',
        ]
    if edge.security_headers == "enterprise" and https:
        # Browsers ignore HSTS over plain HTTP, and sending it without TLS is a lie.
        headers.append('add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;')
    return headers


def _cors_headers(edge: EdgeConfig) -> list[str]:
    if not edge.cors_origins:
        return []
    # The edge owns CORS: a second Allow-Origin from the backend would make browsers reject the response.
    hide = "proxy_hide_header Access-Control-Allow-Origin;"
    if edge.cors_origins == ("*",):
        return [hide, 'add_header Access-Control-Allow-Origin "*" always;']
    # An empty value (origin not in the list) makes nginx omit the header.
    return [
        hide,
        f"add_header Access-Control-Allow-Origin {CORS_ORIGIN_VARIABLE} always;",
        "add_header Vary Origin always;",
    ]


def _tls(edge: EdgeConfig) -> list[str]:
    return [
        f"ssl_certificate {edge.cert_path};",
        f"ssl_certificate_key {edge.key_path};",
        "ssl_protocols TLSv1.2 TLSv1.3;",
        f"ssl_ciphers {_TLS12_CIPHERS};",
        "ssl_prefer_server_ciphers off;",
        "ssl_session_cache shared:edge_tls:10m;",
        "ssl_session_timeout 1d;",
        "ssl_session_tickets off;",
    ]


def _app_locations(edge: EdgeConfig) -> list[str]:
    lines = [*_healthz()]
    known = {upstream.name: upstream for upstream in edge.upstreams}
    locations = sorted(edge.locations, key=lambda location: location.path)
    for location in locations:
        lines += ["", *_location(location, known[location.upstream])]
    if not any(location.path == "/" for location in locations):
        # Without this nginx would serve files from its prefix's html/ for unrouted paths.
        lines += ["", *_block("location /", ["return 404;"])]
    return lines


def _http_server(edge: EdgeConfig) -> list[str]:
    body = [f"listen {edge.http_port} default_server;", "", *_rate_limit(edge)]
    if edge.tls:
        port = edge.https_port if edge.redirect_https_port is None else edge.redirect_https_port
        authority = "$host" if port == 443 else f"$host:{port}"
        # Only the health check answers over plain HTTP: the container healthcheck probes it.
        body += [
            *_security_headers(edge, https=False),
            "",
            *_healthz(),
            "",
            *_block("location /", [f"return 301 https://{authority}$request_uri;"]),
        ]
    else:
        body += [*_security_headers(edge, https=False), *_cors_headers(edge), "", *_app_locations(edge)]
    return _block("server", body)


def _https_server(edge: EdgeConfig) -> list[str]:
    body = [
        f"listen {edge.https_port} ssl default_server;",
        "",
        *_tls(edge),
        "",
        *_rate_limit(edge),
        *_security_headers(edge, https=True),
        *_cors_headers(edge),
        "",
        *_app_locations(edge),
    ]
    return _block("server", body)


def _grpc_server(edge: EdgeConfig, listener: GrpcListener) -> list[str]:
    timeout = f"{GRPC_STREAM_TIMEOUT_S}s"
    upstream = next(upstream for upstream in edge.upstreams if upstream.name == listener.upstream)
    lines, address = _target(upstream)
    listen = f"listen {listener.port} ssl http2;" if edge.tls else f"listen {listener.port} http2;"
    body = [listen, ""]
    if edge.tls:
        body += [*_tls(edge), ""]
    body += [
        *_rate_limit(edge),
        # A stream's messages count as one request body: a size cap would cut long client streams.
        "client_max_body_size 0;",
        f"client_body_timeout {timeout};",
        "",
        *_block(
            "location /",
            [
                *lines,
                f"grpc_pass grpc://{address};",
                "grpc_set_header X-Real-IP $remote_addr;",
                "grpc_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                "grpc_connect_timeout 10s;",
                f"grpc_read_timeout {timeout};",
                f"grpc_send_timeout {timeout};",
            ],
        ),
    ]
    return _block("server", body)


def _resolver_address(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _http_body(edge: EdgeConfig) -> list[str]:
    body = [
        "default_type application/octet-stream;",
        "server_tokens off;",
        f"log_format edge_json escape=json {_LOG_FORMAT};",
        "access_log /dev/stdout edge_json;",
        "",
        # The image's root filesystem is read-only for uid 101: every temp file goes to /tmp.
        "client_body_temp_path /tmp/client_temp;",
        "proxy_temp_path /tmp/proxy_temp_path;",
        "fastcgi_temp_path /tmp/fastcgi_temp;",
        "uwsgi_temp_path /tmp/uwsgi_temp;",
        "scgi_temp_path /tmp/scgi_temp;",
        "",
        "keepalive_timeout 65s;",
        f"client_max_body_size {edge.client_max_body_size};",
        "",
        *_block("map $http_upgrade $connection_upgrade", ["default upgrade;", "'' close;"]),
    ]
    if edge.cors_origins and edge.cors_origins != ("*",):
        allowed = [f'"{origin}" $http_origin;' for origin in sorted(set(edge.cors_origins))]
        body += ["", *_block(f"map $http_origin {CORS_ORIGIN_VARIABLE}", ['default "";', *allowed])]
    if edge.rate_limit_rps is not None:
        body += ["", f"limit_req_zone $binary_remote_addr zone={RATE_LIMIT_ZONE}:10m rate={edge.rate_limit_rps}r/s;"]
    if edge.resolver is not None:
        # Docker's DNS answers with a 600 s TTL; valid= re-asks sooner so a replaced
        # container is reached within seconds. Docker networks here are IPv4 only.
        body += [
            "",
            f"resolver {_resolver_address(edge.resolver)} valid={edge.resolver_valid_s}s ipv6=off;",
            f"resolver_timeout {RESOLVER_TIMEOUT_S}s;",
        ]
    for upstream in sorted(edge.upstreams, key=lambda upstream: upstream.name):
        if not upstream.resolve:
            body += ["", *_upstream(upstream)]
    body += ["", *_http_server(edge)]
    if edge.tls:
        body += ["", *_https_server(edge)]
    for listener in sorted(edge.grpc_listeners, key=lambda listener: listener.port):
        body += ["", *_grpc_server(edge, listener)]
    return body


def render_nginx_conf(edge: EdgeConfig) -> str:
    """The complete nginx.conf for ``edge`` (validated first; deterministic; ends with a newline)."""
    validate_edge(edge)
    lines = [
        "# Generated by targets/docker/nginx.py; do not edit by hand.",
        "worker_processes auto;",
        "pid /tmp/nginx.pid;",
        "error_log /dev/stderr warn;",
        "",
        *_block("events", ["worker_connections 1024;"]),
        "",
        *_block("http", _http_body(edge)),
    ]
    return "\n".join(lines) + "\n"
