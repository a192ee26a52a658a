"""``nginx -t`` on the nginx.conf the Docker edge receives, for the reference blueprint in every environment.

The config is taken from the recorded edge container (what ``pulumi up`` would
upload). Only the certificate paths are pointed at throwaway files, because the
real ones exist inside the container alone.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from targets.docker.edge import CERT_PATH, KEY_FILE
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
    hosts = set(re.findall(r"^\s*server\s+([a-z0-9.-]+):\d+", conf, flags=re.MULTILINE))
    assert len(hosts) >= 10, "every routed service is an upstream"
    checked = nginx_check(conf, hosts, tmp_path)
    assert checked.returncode == 0, checked.stderr
    if environment != "dev":
        assert "return 301 https://" in conf
    assert ("limit_req_zone" in conf) == (environment != "dev")
