"""One place that decides how every container on the Docker target is hardened.

Services, Postgres, its backup job, TURN and the nginx edge all go through
:func:`container`, so the security defaults (non-root user, no-new-privileges,
all capabilities dropped, read-only root with a small tmpfs, memory and CPU
limits, healthcheck, restart policy, bounded json-file logs, loopback-bound
ports) cannot drift between them.

Files reach a container through :func:`_deliver`, the one delivery path. The engine
refuses any copy into a container whose root filesystem is read-only ("container
rootfs is marked read-only"), and the provider's ``uploads`` always copy to ``/``; so
every container with files gets stack-named volumes (``<container>-secrets`` at
``SECRETS_DIR``, ``<container>-config`` at ``CONFIG_DIR``) filled through a *carrier*:
a container created on the same image and never started, with a writable root only
so the engine accepts the copy, whose uploads land in the mounted volumes (checked on
Docker 20.10: nothing reaches the carrier's own root). Files are owned by the
workload's uid:gid, secrets 0400 and config 0440; the workload mounts the volumes
read-only and carries the carrier's id in a label, so a changed file replaces the
carrier (which overwrites the files) and then the workload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from components.protocol import SECRETS_DIR, HealthRequest, PortRequest, VolumeRequest
from targets.docker.delivery import CARRIER_LABEL, CONFIG_DIR, CONFIG_MODE, FILES_LABEL, SECRET_MODE
from targets.health import health_test

__all__ = ["CONFIG_DIR", "ContainerSpec", "Engine", "container", "pull", "volume"]


@dataclass(frozen=True)
class Engine:
    """A Docker engine as the target uses it: its provider, its stack network, its host URL."""

    provider: docker.Provider
    network: docker.Network
    host: str
    platform: str
    # Limits above this many CPUs are lowered to it (``gpu-platform:docker.max_cpus``).
    max_cpus: float | None = None


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
    # Where ports a public workload keeps to its peers (PortRequest.public=False: TURN's relay
    # range) are published: loopback on one engine, the host's private address across engines.
    private_bind_address: str = "127.0.0.1"
    entrypoint: Sequence[str] | None = None
    command: Sequence[str] | None = None
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # File name -> content: config files under CONFIG_DIR, secret files under SECRETS_DIR.
    files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secret_files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    cpu: float = 0.25
    memory_mib: int = 256
    limit_cpu: float = 1.0
    limit_memory_mib: int = 512
    # GPU device ids on the engine (empty: no device request).
    gpu_devices: Sequence[str] = ()
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


def _device_requests(devices: Sequence[str], driver: str) -> list[docker.ContainerDeviceRequestArgsDict]:
    """The cards a container sees, by device id (the target decides which: see ``DockerTarget._devices``)."""
    if not devices:
        return []
    return [{"driver": driver, "device_ids": list(devices), "capabilities": ["gpu", "compute", "utility"]}]


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
    delivered, carrier = _deliver(spec, image, parent)
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
    volumes: list[docker.ContainerVolumeArgsDict] = [
        {"volume_name": volume.name, "container_path": request.path} for volume, request in spec.volumes
    ]
    ports: list[docker.ContainerPortArgsDict] = [
        {
            "internal": p.container_port,
            "external": p.host_port,
            "ip": spec.bind_address if p.public else spec.private_bind_address,
            "protocol": p.protocol,
        }
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
        user=spec.user,
        read_only=spec.read_only_root,
        tmpfs=dict.fromkeys(spec.tmpfs_paths, "rw,noexec,nosuid,size=64m") if spec.read_only_root else None,
        security_opts=["no-new-privileges:true"],
        capabilities={"drops": ["ALL"]},
        privileged=False,
        init=True,
        memory=spec.limit_memory_mib,
        memory_reservation=spec.memory_mib,
        cpus=f"{cpu_limit(spec.limit_cpu, spec.engine.max_cpus):g}",
        cpu_shares=max(2, int(spec.cpu * 1024)),
        device_requests=_device_requests(spec.gpu_devices, spec.gpu_driver),
        healthcheck=health,
        restart="unless-stopped",
        must_run=True,
        wait=False,
        ports=ports,
        networks_advanced=[{"name": spec.engine.network.name, "aliases": [spec.alias]}],
        hosts=[{"host": host, "ip": ip} for host, ip in sorted(spec.hosts)],
        volumes=volumes + delivered,
        log_driver="json-file",
        log_opts={"max-size": spec.log_max_size, "max-file": str(spec.log_max_files)},
        labels=_label_args(_labels(spec), carrier),
        opts=pulumi.ResourceOptions(
            parent=parent,
            provider=spec.engine.provider,
            depends_on=list(spec.depends_on),
            # Container names are fixed: the old one must go before its replacement exists.
            delete_before_replace=True,
        ),
    )
    return image, created


def _label_args(labels: Mapping[str, str], carrier: docker.Container | None) -> list[docker.ContainerLabelArgsDict]:
    """Labels as the provider takes them; with files, the carrier's id (a new carrier replaces the workload)."""
    args: list[docker.ContainerLabelArgsDict] = [{"label": k, "value": v} for k, v in sorted(labels.items())]
    if carrier is not None:
        args.append({"label": FILES_LABEL, "value": carrier.id})
    return args


def _deliver(
    spec: ContainerSpec, image: docker.RemoteImage, parent: pulumi.Resource
) -> tuple[list[docker.ContainerVolumeArgsDict], docker.Container | None]:
    """Volumes holding the spec's files (mounted read-only by the workload) and the carrier that fills them.

    The one way files reach a container on this target; see the module docstring for why
    a carrier and not ``uploads`` on the workload. The volumes are regenerated from the
    program, so they are never protected.
    """
    uid, _, gid = spec.user.partition(":")
    kinds = (
        ("secrets", SECRETS_DIR, SECRET_MODE, spec.secret_files, True),
        ("config", CONFIG_DIR, CONFIG_MODE, spec.files, False),
    )
    carrier_labels: list[docker.VolumeLabelArgsDict] = [
        {"label": k, "value": v} for k, v in sorted({**spec.labels, CARRIER_LABEL: spec.container_name}.items())
    ]
    mounts: list[docker.ContainerVolumeArgsDict] = []
    carrier_mounts: list[docker.ContainerVolumeArgsDict] = []
    uploads: list[docker.ContainerUploadArgsDict] = []
    for kind, directory, mode, files, secret in kinds:
        if not files:
            continue
        store = docker.Volume(
            f"{spec.resource_name}-{kind}",
            name=f"{spec.container_name}-{kind}",
            labels=carrier_labels,
            # A fixed name: a replacement must delete the old volume first (its content is regenerated).
            opts=pulumi.ResourceOptions(parent=parent, provider=spec.engine.provider, delete_before_replace=True),
        )
        mounts.append({"volume_name": store.name, "container_path": directory, "read_only": True})
        carrier_mounts.append({"volume_name": store.name, "container_path": directory})
        for name, content in sorted(files.items()):
            upload: docker.ContainerUploadArgsDict = {
                "file": f"{directory}/{name}",
                "content": pulumi.Output.secret(content) if secret else content,
                "owner": uid,
                "group": gid or uid,
                "permissions": mode,  # the container's user (and group, for config) only
            }
            uploads.append(upload)
    if not uploads:
        return [], None
    carrier = docker.Container(
        f"{spec.resource_name}-files",
        name=f"{spec.container_name}-files",
        image=image.image_id,
        # Never started: the command only has to exist for the engine to create it.
        entrypoints=["/bin/true"],
        start=False,
        must_run=False,
        restart="no",
        # Writable root: the engine refuses any copy into a read-only one, even into a volume.
        read_only=False,
        uploads=uploads,
        user=spec.user,
        network_mode="none",
        security_opts=["no-new-privileges:true"],
        capabilities={"drops": ["ALL"]},
        privileged=False,
        memory=16,
        cpus="0.1",
        volumes=carrier_mounts,
        log_driver="none",
        labels=[{"label": label["label"], "value": label["value"]} for label in carrier_labels],
        opts=pulumi.ResourceOptions(parent=parent, provider=spec.engine.provider, delete_before_replace=True),
    )
    return mounts, carrier


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


def cpu_limit(asked: float, max_cpus: float | None) -> float:
    """The CPU limit a container gets: the engine refuses one above the host's CPU count."""
    return asked if max_cpus is None else min(asked, max_cpus)
