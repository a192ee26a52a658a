"""The cloud-init document that runs a workload's container on Container-Optimized OS (SDK-free, unit-tested).

COS is the image Google maintains for containers (cos-cloud/cos-stable): read-only root, Docker, a
systemd that cloud-init drives (cos/docs/run-container-cloud-init). The unit:
- formats (first boot only) and mounts each persistent disk under ``/mnt/disks/<volume>``;
- installs the NVIDIA driver with ``cos-extensions install gpu`` on a GPU VM (cos/docs/run-gpus) and hands the
  container the driver libraries and devices;
- fetches each secret from Secret Manager with the VM's own service account (the metadata server's token)
  into ``/run/gp-secrets`` (tmpfs), mounted read-only on ``/run/secrets``; the container gets ``<NAME>_FILE``
  as on Docker and Kubernetes, never the value in its environment;
- runs the container with host networking as the workload's user, read-only root when asked.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from components.protocol import SECRETS_DIR

SECRETS_HOST_DIR = "/run/gp-secrets"
TOKEN_URL = "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"
SECRET_URL = "https://secretmanager.googleapis.com/v1/{secret}/versions/latest:access"


@dataclass(frozen=True)
class Boot:
    """Everything the boot script needs, as plain strings (Outputs resolved by the caller)."""

    name: str
    image: str
    user: str
    read_only_root: bool
    env: Mapping[str, str]
    secrets: Mapping[str, str]  # env name -> secret id
    volumes: Sequence[tuple[str, str]]  # (volume name = disk device name, container path)
    command: Sequence[str] | None = None
    args: Sequence[str] | None = None
    gpu: bool = False
    health_command: Sequence[str] | None = None
    files: Mapping[str, str] = field(default_factory=dict)  # secret file name -> secret id (coturn's config)


def _json_field(name: str) -> str:
    """A ``sed`` printing only one string field of a JSON answer (COS has no jq or Python); Google APIs answer
    over several lines, so only the matching line is printed."""
    return f'sed -nE \'s/.*"{name}": *"([^"]+)".*/\\1/p\''


def _fetch_secret(name: str, secret: str) -> str:
    """The latest version of ``secret`` (base64 in the API's answer) into the secret file ``name``."""
    file = f"{SECRETS_HOST_DIR}/{name}"
    url = SECRET_URL.format(secret=secret)
    fetch = f'curl -sf -H "Authorization: Bearer $TOKEN" {shlex.quote(url)}'
    return f"{fetch} | {_json_field('data')} | base64 -d > {shlex.quote(file)}"


def _mount(volume: str) -> list[str]:
    device = f"/dev/disk/by-id/google-{volume}"
    where = f"/mnt/disks/{volume}"
    return [
        f"blkid {device} || mkfs.ext4 -m 0 -E lazy_itable_init=0,discard {device}",
        f"mkdir -p {where} && mount -o discard,defaults {device} {where}",
    ]


def docker_run(boot: Boot) -> list[str]:
    """The ``docker run`` argument list."""
    run = ["docker", "run", "--rm", "--name", boot.name, "--network", "host", "--user", boot.user]
    if boot.read_only_root:
        run += ["--read-only", "--tmpfs", "/tmp"]
    for key, value in boot.env.items():
        run += ["--env", f"{key}={value}"]
    if boot.secrets or boot.files:
        run += ["--volume", f"{SECRETS_HOST_DIR}:{SECRETS_DIR}:ro"]
        run += [arg for env in boot.secrets for arg in ("--env", f"{env}_FILE={SECRETS_DIR}/{env.lower()}")]
    for volume, path in boot.volumes:
        run += ["--volume", f"/mnt/disks/{volume}:{path}"]
    if boot.gpu:
        run += [
            "--volume",
            "/var/lib/nvidia/lib64:/usr/local/nvidia/lib64",
            "--volume",
            "/var/lib/nvidia/bin:/usr/local/nvidia/bin",
            "--device",
            "/dev/nvidia0",
            "--device",
            "/dev/nvidia-uvm",
            "--device",
            "/dev/nvidiactl",
        ]
    if boot.health_command:
        run += ["--health-cmd", shlex.join(boot.health_command)]
    if boot.command:
        run += ["--entrypoint", boot.command[0]]
    run.append(boot.image)
    run += [*(boot.command or [])[1:], *(boot.args or [])]
    return run


def run_script(boot: Boot) -> str:
    """The container in the foreground, for systemd to restart."""
    return f"#!/bin/bash\nexec {shlex.join(docker_run(boot))}\n"


def start_script(boot: Boot) -> str:
    """The shell the unit runs before the container (mounts, driver, secrets)."""
    lines = ["#!/bin/bash", "set -euo pipefail"]
    for volume, _ in boot.volumes:
        lines += _mount(volume)
    if boot.gpu:
        lines += [
            "cos-extensions install gpu",
            "mount --bind /var/lib/nvidia /var/lib/nvidia",
            "mount -o remount,exec /var/lib/nvidia",
        ]
    if boot.secrets or boot.files:
        lines += [
            f"mkdir -p {SECRETS_HOST_DIR} && chmod 0700 {SECRETS_HOST_DIR}",
            f"TOKEN=$(curl -sf -H 'Metadata-Flavor: Google' {TOKEN_URL} | {_json_field('access_token')})",
        ]
        lines += [_fetch_secret(env.lower(), secret) for env, secret in boot.secrets.items()]
        lines += [_fetch_secret(name, secret) for name, secret in boot.files.items()]
        uid = boot.user.split(":")[0]
        lines.append(f"chown -R {uid} {SECRETS_HOST_DIR} && chmod 0400 {SECRETS_HOST_DIR}/*")
    return "\n".join(lines) + "\n"


def cloud_init(boot: Boot) -> str:
    """``#cloud-config``: the start script and a systemd unit that restarts the container."""
    unit = "\n".join(
        [
            "[Unit]",
            f"Description=gpu-platform workload {boot.name}",
            "Wants=network-online.target",
            "After=network-online.target",
            "[Service]",
            "ExecStartPre=/bin/bash /etc/gpu-platform/start.sh",
            # The command lives in a script: systemd's own quoting and %-specifiers would mangle values.
            "ExecStart=/bin/bash /etc/gpu-platform/run.sh",
            f"ExecStop=/usr/bin/docker stop {boot.name}",
            "Restart=always",
            "RestartSec=5",
        ]
    )
    document = {
        "write_files": [
            {"path": "/etc/gpu-platform/start.sh", "permissions": "0700", "content": start_script(boot)},
            {"path": "/etc/gpu-platform/run.sh", "permissions": "0700", "content": run_script(boot)},
            {"path": f"/etc/systemd/system/{boot.name}.service", "permissions": "0644", "content": unit + "\n"},
        ],
        "runcmd": [["systemctl", "daemon-reload"], ["systemctl", "start", f"{boot.name}.service"]],
    }
    return "#cloud-config\n" + json.dumps(document, indent=2) + "\n"
