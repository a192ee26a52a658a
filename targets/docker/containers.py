"""One place that decides how every container on the Docker target is hardened.

Services, Postgres, its backup job, TURN and the nginx edge all go through
:func:`container`, so the security defaults (non-root user, no-new-privileges,
all capabilities dropped, read-only root with a small tmpfs, memory and CPU
limits, healthcheck, restart policy, bounded json-file logs, loopback-bound
ports) cannot drift between them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from components.protocol import SECRETS_DIR, HealthRequest, PortRequest, VolumeRequest
from targets.health import health_test


@dataclass(frozen=True)
class Engine:
    """A Docker engine as the target uses it: its provider, its stack network, its host URL."""

    provider: docker.Provider
    network: docker.Network
    host: str
    platform: str


@dataclass(frozen=True)
class ContainerSpec:
    """Everything that varies between containers; the rest is policy in :func:`container`."""

    resource_name: str
    container_name: str
    alias: str
    image: str
    engine: Engine
    labels: Mapping[str, str]
    ports: Sequence[PortRequest] = ()
    bind_address: str = "127.0.0.1"
    entrypoint: Sequence[str] | None = None
    command: Sequence[str] | None = None
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secret_files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    cpu: float = 0.25
    memory_mib: int = 256
    limit_cpu: float = 1.0
    limit_memory_mib: int = 512
    gpu: float = 0
    gpu_driver: str = "nvidia"
    health: HealthRequest | None = None
    user: str = "10001:10001"
    read_only_root: bool = True
    tmpfs_paths: Sequence[str] = ("/tmp",)
    volumes: Sequence[tuple[docker.Volume, VolumeRequest]] = ()
    # (name, address) entries for /etc/hosts: peers on other engines, reached on their published ports.
    hosts: Sequence[tuple[str, str]] = ()
    depends_on: Sequence[pulumi.Resource] = ()
    log_max_size: str = "10m"
    log_max_files: int = 3


def _device_requests(gpu: float, driver: str) -> list[docker.ContainerDeviceRequestArgsDict]:
    if gpu <= 0:
        return []
    if gpu < 1:
        # A share of one card: A10G/L4/T4 and consumer cards have no MIG, so the
        # container sees GPU 0 and the workload limits itself (GPU_MEMORY_FRACTION).
        return [{"driver": driver, "device_ids": ["0"], "capabilities": ["gpu", "compute", "utility"]}]
    return [{"driver": driver, "count": int(gpu), "capabilities": ["gpu", "compute", "utility"]}]


def pull(resource_name: str, image: str, engine: Engine, parent: pulumi.Resource) -> docker.RemoteImage:
    """The pinned image on the engine (kept locally: other containers may share it)."""
    return docker.RemoteImage(
        resource_name,
        name=image,
        keep_locally=True,
        platform=engine.platform,
        opts=pulumi.ResourceOptions(parent=parent, provider=engine.provider),
    )


def container(
    spec: ContainerSpec, parent: pulumi.Resource, image: docker.RemoteImage | None = None
) -> tuple[docker.RemoteImage, docker.Container]:
    """Run one hardened container from the pinned image (pulled here unless given)."""
    if image is None:
        image = pull(f"{spec.resource_name}-image", spec.image, spec.engine, parent)
    uploads: list[docker.ContainerUploadArgsDict] = [
        {"file": path, "content": content} for path, content in spec.files.items()
    ]
    uid, _, gid = spec.user.partition(":")
    for name, content in spec.secret_files.items():
        secret_upload: docker.ContainerUploadArgsDict = {
            "file": f"{SECRETS_DIR}/{name}",
            "content": pulumi.Output.secret(content),
            "owner": uid,
            "group": gid or uid,
            "permissions": "0400",  # readable by the container's user only
        }
        uploads.append(secret_upload)
    env = pulumi.Output.all(*[pulumi.Output.concat(k, "=", v) for k, v in sorted(spec.env.items())])
    health: docker.ContainerHealthcheckArgsDict | None = None
    if spec.health is not None:
        health = {
            "tests": health_test(spec.health),
            "interval": f"{spec.health.interval_s}s",
            "timeout": f"{spec.health.timeout_s}s",
            "retries": spec.health.retries,
            "start_period": f"{spec.health.start_period_s}s",
        }
    ports: list[docker.ContainerPortArgsDict] = [
        {"internal": p.container_port, "external": p.host_port, "ip": spec.bind_address, "protocol": p.protocol}
        for p in spec.ports
        if p.host_port is not None
    ]
    created = docker.Container(
        spec.resource_name,
        name=spec.container_name,
        image=image.image_id,
        entrypoints=list(spec.entrypoint) if spec.entrypoint is not None else None,
        command=list(spec.command) if spec.command is not None else None,
        envs=env,
        uploads=uploads,
        user=spec.user,
        read_only=spec.read_only_root,
        tmpfs=dict.fromkeys(spec.tmpfs_paths, "rw,noexec,nosuid,size=64m") if spec.read_only_root else None,
        security_opts=["no-new-privileges:true"],
        capabilities={"drops": ["ALL"]},
        privileged=False,
        init=True,
        memory=spec.limit_memory_mib,
        memory_reservation=spec.memory_mib,
        cpus=f"{spec.limit_cpu:g}",
        cpu_shares=max(2, int(spec.cpu * 1024)),
        device_requests=_device_requests(spec.gpu, spec.gpu_driver),
        healthcheck=health,
        restart="unless-stopped",
        must_run=True,
        wait=False,
        ports=ports,
        networks_advanced=[{"name": spec.engine.network.name, "aliases": [spec.alias]}],
        hosts=[{"host": host, "ip": ip} for host, ip in sorted(spec.hosts)],
        volumes=[{"volume_name": volume.name, "container_path": request.path} for volume, request in spec.volumes],
        log_driver="json-file",
        log_opts={"max-size": spec.log_max_size, "max-file": str(spec.log_max_files)},
        labels=[{"label": k, "value": v} for k, v in sorted(_labels(spec).items())],
        opts=pulumi.ResourceOptions(
            parent=parent,
            provider=spec.engine.provider,
            depends_on=list(spec.depends_on),
            # A changed upload (a rotated secret) needs a new container.
            delete_before_replace=True,
        ),
    )
    return image, created


def _labels(spec: ContainerSpec) -> dict[str, str]:
    """The spec's labels, plus ``gpu-platform.public`` when ports are published beyond loopback.

    Policies read the label to tell a deliberately public port from an accident.
    """
    labels = dict(spec.labels)
    if spec.bind_address not in ("127.0.0.1", "::1") and any(p.host_port for p in spec.ports):
        labels["gpu-platform.public"] = "true"
    return labels


def volume(
    resource_name: str, volume_name: str, engine: Engine, request: VolumeRequest, parent: pulumi.Resource
) -> docker.Volume:
    """A named volume; in prod it is protected and kept when removed from the program."""
    return docker.Volume(
        resource_name,
        name=volume_name,
        labels=[{"label": "gpu-platform.size-mib", "value": str(request.size_mib)}],
        opts=pulumi.ResourceOptions(
            parent=parent,
            provider=engine.provider,
            protect=request.protect,
            retain_on_delete=request.protect,
        ),
    )
