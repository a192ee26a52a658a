"""ECS container definitions, as the JSON the ECS API takes (no cloud SDK: render and tests call it directly).

- Task bind volumes (``/tmp`` scratch, ``/run/secrets``) are created root-owned
  0755 by ECS on Fargate and EC2 alike, so a short-lived ``init`` container runs
  as root with only ``CHOWN`` left of Docker's default capabilities: it hands
  the scratch volume to the workload's user and writes the secret files (0400,
  owned by that user) from ECS ``secrets``. The workload itself stays non-root.
- GPUs are ``resourceRequirements``: whole GPUs, a fraction below 1 reserving one
  (see ``gpu_sharing.py``).
"""

from __future__ import annotations

from typing import Any

from components.protocol import SECRETS_DIR, HealthRequest, PortRequest, ServiceRequest
from targets.aws.gpu_sharing import gpu_requirement
from targets.health import health_test

INIT_IMAGE = "public.ecr.aws/docker/library/busybox:1.36.1"
INIT = "init"
SCRATCH_IN_INIT = "/scratch"
# Docker's default capability set less CHOWN: what the init container drops. Fargate lets a task *add*
# only SYS_PTRACE, so "drop ALL, add CHOWN" is not an option there; dropping the rest is.
DEFAULT_CAPABILITIES_BUT_CHOWN = (
    "AUDIT_WRITE",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
)


def _gpu_requirement(request: ServiceRequest) -> list[dict[str, Any]]:
    """Whole GPUs as ``value``, a fraction below 1 reserving one (targets/aws/checks.py rejected what ECS cannot
    take)."""
    requirement = gpu_requirement(request.gpu)
    return [requirement] if requirement else []


def container_definitions(
    request: ServiceRequest,
    *,
    region: str,
    log_group: str,
    env: dict[str, str],
    secrets: dict[str, str],
    files: dict[str, str],
    efs_mounts: list[tuple[str, str]],
    ec2: bool,
    writable: bool,
) -> list[dict[str, Any]]:
    """The container definitions (JSON the ECS API takes): the init container, then the workload."""
    logging = {
        "logDriver": "awslogs",
        "options": {"awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": request.name},
    }
    main: dict[str, Any] = {
        "name": request.name,
        "image": request.image,
        "essential": True,
        "user": request.user,
        "readonlyRootFilesystem": not writable,
        "privileged": False,
        "linuxParameters": {"capabilities": {"drop": ["ALL"]}, "initProcessEnabled": True},
        "portMappings": [_port_mapping(p) for p in request.ports],
        "environment": [{"name": k, "value": str(v)} for k, v in sorted(env.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secrets.items())],
        "logConfiguration": logging,
        "mountPoints": [
            {"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False},
            *[{"sourceVolume": n, "containerPath": p, "readOnly": False} for n, p in efs_mounts],
        ],
        "resourceRequirements": _gpu_requirement(request),
    }
    if ec2:
        main["cpu"] = max(int(request.cpu * 1024), 1)
        main["memoryReservation"] = request.memory_mib
        main["memory"] = max(request.limit_memory_mib, request.memory_mib)
    if request.command is not None:
        main["entryPoint"] = list(request.command)
    if request.args is not None:
        main["command"] = list(request.args)
    if request.health is not None:
        main["healthCheck"] = _health_check(request.health)
    if not main["resourceRequirements"]:
        del main["resourceRequirements"]
    if files:
        main["mountPoints"].append({"sourceVolume": "secrets", "containerPath": SECRETS_DIR, "readOnly": True})
    main["dependsOn"] = [{"containerName": INIT, "condition": "SUCCESS"}]
    return [_init_container(request.user, files, logging), main]


def _port_mapping(port: PortRequest) -> dict[str, Any]:
    return {
        "name": port.name,
        "containerPort": port.container_port,
        "protocol": port.protocol,
        **({"appProtocol": app} if (app := _app_protocol(port.app_protocol)) else {}),
    }


def _health_check(health: HealthRequest) -> dict[str, Any]:
    """ECS's bounds: interval at least 5 s, timeout 2-60 s, start period at most 300 s."""
    return {
        "command": health_test(health),
        "interval": max(5, health.interval_s),
        "timeout": max(2, min(health.timeout_s, 60)),
        "retries": health.retries,
        "startPeriod": min(health.start_period_s, 300),
    }


def _app_protocol(app_protocol: str) -> str | None:
    """ECS Service Connect's appProtocol (HTTP-family ports only; raw TCP/UDP ports carry none)."""
    return {"http": "http", "websocket": "http", "http2": "http2", "grpc": "grpc"}.get(app_protocol)


def init_script(user: str, files: list[str]) -> str:
    """Hand the scratch volume to ``user`` and write each secret file 0400 owned by it (chmod before chown:
    once root no longer owns a file, changing its mode would need FOWNER, which the container dropped)."""
    owner = user if ":" in user else f"{user}:{user}"
    steps = ["set -e", "umask 077", f"chmod 0700 {SCRATCH_IN_INIT}", f"chown {owner} {SCRATCH_IN_INIT}"]
    for index, name in enumerate(files):
        path = f"{SECRETS_DIR}/{name}"
        steps += [f'printf "%s" "$SECRET_FILE_{index}" > {path}', f"chmod 0400 {path}", f"chown {owner} {path}"]
    return "; ".join(steps)


def _init_container(user: str, files: dict[str, str], logging: dict[str, Any]) -> dict[str, Any]:
    """The root, CHOWN-only container that prepares the task's bind volumes for the non-root workload.

    ECS creates task bind volumes root-owned 0755 (Fargate and EC2), and ECS offers no uid/mode option for
    them (``tmpfs`` mounts, which take a mode, are not supported on Fargate). A root process that is the
    directory's owner may write there without DAC_OVERRIDE, and CHOWN lets it give the result away.
    """
    names = sorted(files)
    mounts = [{"sourceVolume": "scratch", "containerPath": SCRATCH_IN_INIT, "readOnly": False}]
    if names:
        mounts.append({"sourceVolume": "secrets", "containerPath": SECRETS_DIR, "readOnly": False})
    return {
        "name": INIT,
        "image": INIT_IMAGE,
        "essential": False,
        "user": "0",
        "readonlyRootFilesystem": True,
        "privileged": False,
        "linuxParameters": {"capabilities": {"drop": list(DEFAULT_CAPABILITIES_BUT_CHOWN)}},
        "command": ["sh", "-c", init_script(user, names)],
        "memoryReservation": 16,
        "memory": 64,
        "secrets": [{"name": f"SECRET_FILE_{i}", "valueFrom": files[name]} for i, name in enumerate(names)],
        "mountPoints": mounts,
        "logConfiguration": {**logging, "options": {**logging["options"], "awslogs-stream-prefix": "init"}},
    }
