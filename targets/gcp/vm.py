"""Compute Engine VMs for the workloads Cloud Run cannot take (``targets/gcp/fit.py`` says which and why).

One VM per workload (the checks allow one replica): Container-Optimized OS booted by ``vm_boot.py``,
shielded (secure boot, vTPM, integrity monitoring), no external IP (Cloud NAT for egress), OS Login with
project SSH keys blocked, its own service account; ``cloud-platform`` is the only scope that covers the
Secret Manager API, so the account's IAM (one accessor grant per secret it reads) is what limits it
(compute/docs/access/service-accounts#scopes_best_practice). Each single-writer volume is a pd-balanced disk
kept (protect + retain on delete, VM deletion protection) in prod. A firewall rule lets the subnet (Cloud Run's
Direct VPC egress, the other VMs) reach its ports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.protocol import PortRequest, ServiceRequest
from targets.gcp import fit, vm_boot
from targets.gcp.network import Network
from targets.gcp.settings import GcpPoolSettings

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
COS_IMAGE = "cos-cloud/cos-stable"


@dataclass
class Machine:
    """A VM workload as built."""

    request: ServiceRequest[GcpPoolSettings]
    instance: gcp.compute.Instance
    account: gcp.serviceaccount.Account
    zone: str


def _disks(
    request: ServiceRequest[GcpPoolSettings], network: Network, zone: str, parent: pulumi.Resource
) -> list[gcp.compute.Disk]:
    kms = network.settings.kms_key
    return [
        gcp.compute.Disk(
            f"{request.name}-{volume.name}",
            name=f"{network.prefix}-{request.name}-{volume.name}"[:63],
            zone=zone,
            type="pd-balanced",
            size=max(10, math.ceil(volume.size_mib / 1024)),
            labels=network.labels(workload=request.name),
            disk_encryption_key={"kms_key_self_link": kms} if kms else None,
            opts=network.opts(parent, protect=volume.protect, retain_on_delete=volume.protect),
        )
        for volume in request.volumes
    ]


def _boot_disk(size_gib: int, kms: str | None) -> gcp.compute.InstanceBootDiskArgsDict:
    disk: gcp.compute.InstanceBootDiskArgsDict = {
        "initialize_params": {"image": COS_IMAGE, "size": size_gib, "type": "pd-balanced"}
    }
    if kms:
        disk["kms_key_self_link"] = kms
    return disk


def _user_data(
    request: ServiceRequest[GcpPoolSettings],
    secrets: dict[str, pulumi.Output[str]],
    files: dict[str, pulumi.Output[str]],
) -> pulumi.Output[str]:
    health = request.health
    names, values = list(request.env), list(request.env.values())
    secret_names, secret_ids = list(secrets), list(secrets.values())
    file_names, file_ids = list(files), list(files.values())

    def render(resolved: list[str]) -> str:
        env = dict(zip(names, resolved[: len(names)], strict=True))
        rest = resolved[len(names) :]
        refs = dict(zip(secret_names, rest[: len(secret_names)], strict=True))
        stored = dict(zip(file_names, rest[len(secret_names) :], strict=True))
        boot = vm_boot.Boot(
            name=request.name,
            image=request.image,
            user=request.user if request.user != "root" else "0:0",
            read_only_root=request.read_only_root,
            env=env,
            secrets=refs,
            volumes=[(v.name, v.path) for v in request.volumes],
            command=request.command,
            args=request.args,
            gpu=request.gpu > 0,
            health_command=health.command if health is not None and health.kind == "command" else None,
            files=stored,
        )
        return vm_boot.cloud_init(boot)

    return pulumi.Output.all(*values, *secret_ids, *file_ids).apply(lambda resolved: render([str(v) for v in resolved]))


def build(
    request: ServiceRequest[GcpPoolSettings],
    account: gcp.serviceaccount.Account,
    secrets: dict[str, pulumi.Output[str]],
    files: dict[str, pulumi.Output[str]],
    network: Network,
    parent: pulumi.Resource,
) -> Machine:
    """The VM, its disks and its firewall rule, sized by the pool's settings (the pool's handle)."""
    pool_settings = request.pool.handle
    zone = f"{network.settings.region}-a"
    machine = pool_settings.machine_type or fit.machine_for(request.limit_cpu, request.limit_memory_mib, request.gpu)
    assert machine is not None, f"{request.name}: targets/gcp/checks.py lets no oversize VM workload through"
    disks = _disks(request, network, zone, parent)
    protect = any(v.protect for v in request.volumes)
    kms = network.settings.kms_key
    gpu = math.ceil(request.gpu) if request.gpu > 0 else 0
    instance = gcp.compute.Instance(
        request.name,
        name=f"{network.prefix}-{request.name}"[:63],
        zone=zone,
        machine_type=machine,
        boot_disk=_boot_disk(pool_settings.boot_disk_gib, kms),
        attached_disks=[
            {"source": d.self_link, "device_name": v.name} for d, v in zip(disks, request.volumes, strict=True)
        ],
        network_interfaces=[{"network": network.network.id, "subnetwork": network.subnet.id}],
        service_account={"email": account.email, "scopes": SCOPES},
        shielded_instance_config={"enable_secure_boot": True, "enable_vtpm": True, "enable_integrity_monitoring": True},
        metadata={
            "enable-oslogin": "TRUE",
            "block-project-ssh-keys": "TRUE",
            "google-logging-enabled": "true",
            "user-data": _user_data(request, secrets, files),
        },
        guest_accelerators=[{"type": fit.GPU_ACCELERATOR, "count": gpu}] if gpu else None,
        scheduling={"on_host_maintenance": "TERMINATE" if gpu else "MIGRATE", "automatic_restart": True},
        deletion_protection=protect,
        allow_stopping_for_update=True,
        tags=[f"gp-{request.name}"[:63]],
        labels=network.labels(workload=request.name),
        opts=network.opts(parent, depends_on=[*request.depends_on, *disks]),
    )
    if request.ports:
        allow(f"{request.name}-from-subnet", [network.settings.subnet_cidr], by_protocol(request.ports), account,
              network, parent)  # fmt: skip
    return Machine(request, instance, account, zone)


def by_protocol(ports: Sequence[PortRequest]) -> dict[str, list[int]]:
    """Port numbers per protocol (tcp, udp)."""
    found: dict[str, set[int]] = {}
    for port in ports:
        found.setdefault(port.protocol, set()).add(port.container_port)
    return {protocol: sorted(numbers) for protocol, numbers in sorted(found.items())}


def port_ranges(ports: Sequence[int]) -> list[str]:
    """``[3478, 49160, 49161, ...]`` -> ``["3478", "49160-49200"]``: a firewall rule takes ranges."""
    ranges: list[list[int]] = []
    for port in sorted(set(ports)):
        if ranges and port == ranges[-1][1] + 1:
            ranges[-1][1] = port
        else:
            ranges.append([port, port])
    return [str(low) if low == high else f"{low}-{high}" for low, high in ranges]


def allow(
    name: str,
    sources: list[str],
    ports: dict[str, list[int]],
    account: gcp.serviceaccount.Account,
    network: Network,
    parent: pulumi.Resource,
) -> gcp.compute.Firewall:
    """Ingress to the VMs running as ``account`` on ``ports`` (per protocol) from ``sources`` only, logged."""
    return gcp.compute.Firewall(
        name,
        name=f"{network.prefix}-{name}"[:63],
        network=network.network.id,
        direction="INGRESS",
        source_ranges=sources,
        target_service_accounts=[account.email],
        allows=[{"protocol": protocol, "ports": port_ranges(numbers)} for protocol, numbers in ports.items()],
        log_config={"metadata": "INCLUDE_ALL_METADATA"},
        opts=network.opts(parent),
    )
