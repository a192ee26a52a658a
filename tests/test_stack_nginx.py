"""``nginx -t`` on the nginx.conf the Docker edge receives, for the reference blueprint in every environment.

The config is taken from the recorded edge container (what ``pulumi up`` would
upload). Only the certificate paths are pointed at throwaway files, because the
real ones exist inside the container alone.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from components.protocol import ResolvedRoute
from targets.docker.edge import CERT_PATH, DOCKER_DNS, KEY_FILE, edge_config
from targets.docker.nginx import render_nginx_conf
from tests.conftest import Runner
from tests.docker_checks import edge_conf
from tests.test_nginx_config import nginx_check

TLS = {
    "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
}


def _throwaway_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.mark.nginx
@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_generated_edge_config_passes_nginx_t(run: Runner, tmp_path: Path, environment: str) -> None:
    overrides: dict[str, object] = {"environment": environment, "target": "docker"}
    if environment == "prod":
        overrides["tls"] = TLS
    conf = edge_conf(run("dev", **overrides))
    if environment != "dev":
        cert, key = _throwaway_certificate(tmp_path)
        conf = conf.replace(CERT_PATH, str(cert)).replace(f"/run/secrets/{KEY_FILE}", str(key))
    hosts = set(re.findall(r"^\s*set\s+\$edge_backend_\w+\s+([a-z0-9.-]+):\d+;", conf, flags=re.MULTILINE))
    assert len(hosts) >= 10, "every routed service is an upstream"
    # Issue 10: on one engine no name is resolved once at start (a replaced container would be lost).
    assert "resolver 127.0.0.11 valid=10s ipv6=off;" in conf
    assert not re.search(r"^\s*upstream\s", conf, flags=re.MULTILINE)
    assert not re.search(r"(proxy|grpc)_pass (http|grpc)://[^$]", conf)
    checked = nginx_check(conf, hosts, tmp_path)
    assert checked.returncode == 0, checked.stderr
    if environment != "dev":
        assert "return 301 https://" in conf
    assert ("limit_req_zone" in conf) == (environment != "dev")


def _route(name: str, service: str, kind: str = "http") -> ResolvedRoute:
    return ResolvedRoute(
        name=name,
        kind=kind,  # pyright: ignore[reportArgumentType]
        service=service,
        port=8000,
        path=f"/{name}/",
        sticky=kind == "websocket",
        drain_s=0,
    )


def test_peers_on_other_engines_keep_static_upstreams() -> None:
    """Names from /etc/hosts (stacks spanning engines) are not in Docker's DNS: resolved once, at start."""
    profile = SimpleNamespace(
        cors_origins=(), tls="off", rate_limit_rps=None, rate_limit_burst=0, security_headers="basic"
    )
    context = cast(Any, SimpleNamespace(profile=profile, cors_origins=(), settings=SimpleNamespace(https_port=None)))
    routes = [_route("api", "dev-api"), _route("ws", "dev-gw", "websocket"), _route("far", "dev-far")]
    config = edge_config(routes, context, "/run/secrets/k", static_hosts=frozenset({"dev-far"}))
    assert {u.name: u.resolve for u in config.upstreams} == {"api": True, "ws": True, "far": False}
    assert config.resolver == DOCKER_DNS
    everything_far = edge_config(
        routes, context, "/run/secrets/k", static_hosts=frozenset({"dev-api", "dev-gw", "dev-far"})
    )
    assert everything_far.resolver is None
    conf = render_nginx_conf(everything_far)
    assert "resolver" not in conf
    assert "ip_hash;" in conf
    assert "proxy_pass http://far;" in conf
