"""The file carrier on a real dockerd: the engine refuses uploads into a read-only root, a carrier delivers.

Runs under ``make e2e`` (tests/e2e), where an engine and local images always exist: an
engine-free ``make test`` never skips it, it simply is not collected there. The offline
half of the delivery tests is tests/test_docker_delivery.py.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

from components.protocol import SECRETS_DIR

# -- the engine's side, on a real dockerd -----------------------------------------------------------


def _docker(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", *args], capture_output=True, timeout=60, check=False)


def _engine_image() -> str | None:
    """An image already on the engine (no registry is needed) with /bin/sh, /bin/true, cat and stat."""
    if shutil.which("docker") is None or _docker("info").returncode != 0:
        return None
    listed = _docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.decode().split()
    for image in (i for i in listed if "<none>" not in i):
        probe = ("run", "--rm", "--entrypoint", "/bin/sh", image, "-c", "/bin/true && command -v stat cat")
        if _docker(*probe).returncode == 0:
            return image
    return None


def _put_archive(container: str, member: str, content: bytes, uid: int, mode: int) -> tuple[int, str]:
    """The provider's upload: a one-file tar extracted at ``/`` (PUT /containers/{id}/archive?path=/)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(member)
        info.size, info.mode, info.uid, info.gid, info.mtime = len(content), mode, uid, uid, int(time.time())
        archive.addfile(info, io.BytesIO(content))
    completed = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", "--unix-socket", "/var/run/docker.sock", "-X", "PUT",
         "-H", "Content-Type: application/x-tar", "--data-binary", "@-",
         f"http://localhost/containers/{container}/archive?path=/"],
        input=buffer.getvalue(), capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    body, _, status = completed.stdout.decode().rpartition("\n")
    return int(status or 0), body


def test_carrier_delivers_on_the_real_engine(tmp_path: Path) -> None:
    image = _engine_image()
    assert image is not None, "make e2e provides an engine with local images"
    assert shutil.which("curl") is not None, "curl talks to the engine's API socket"
    tag = uuid.uuid4().hex[:8]
    store, workload, carrier, carrier2 = (f"gp-probe-{tag}-{kind}" for kind in ("vol", "ro", "files", "files2"))
    uid = "10001"
    try:
        assert _docker("volume", "create", store).returncode == 0
        # The bug: the provider copies to "/" of the hardened container itself.
        _docker("create", "--name", workload, "--read-only", "--user", f"{uid}:{uid}", "--entrypoint", "/bin/true",
                "-v", f"{store}:{SECRETS_DIR}", image)  # fmt: skip
        status, body = _put_archive(workload, "run/secrets/pw", b"first", int(uid), 0o400)
        assert status == 500
        assert "read-only" in json.loads(body)["message"]
        # The fix: a never-started carrier with a writable root and the volume mounted.
        for name, content in ((carrier, b"first"), (carrier2, b"rotated")):
            created = _docker("create", "--name", name, "--user", f"{uid}:{uid}", "--network", "none",
                              "--cap-drop", "ALL", "--entrypoint", "/bin/true",
                              "-v", f"{store}:{SECRETS_DIR}", image)  # fmt: skip
            assert created.returncode == 0, created.stderr
            status, body = _put_archive(name, "run/secrets/pw", content, int(uid), 0o400)
            assert status == 200, body
            # Into the volume, not the carrier's own root (which only gains the mount point).
            assert f"{SECRETS_DIR}/pw" not in _docker("diff", name).stdout.decode()
            _docker("rm", name)
            read = _docker("run", "--rm", "--read-only", "--user", f"{uid}:{uid}", "--entrypoint", "/bin/sh",
                           "-v", f"{store}:{SECRETS_DIR}:ro", image, "-c",
                           f"stat -c '%u %a' {SECRETS_DIR}/pw && cat {SECRETS_DIR}/pw")  # fmt: skip
            assert read.returncode == 0, read.stderr
            assert read.stdout.decode().split("\n")[:2] == [f"{uid} 400", content.decode()]
        other = _docker("run", "--rm", "--read-only", "--user", "10002:10002", "--entrypoint", "cat",
                        "-v", f"{store}:{SECRETS_DIR}:ro", image, f"{SECRETS_DIR}/pw")  # fmt: skip
        assert other.returncode != 0, "another uid must not read the secret"
    finally:
        for name in (workload, carrier, carrier2):
            _docker("rm", "-f", name)
        _docker("volume", "rm", "-f", store)
