"""Where a workload runs on GCP, and at what size (SDK-free: the checks and the target share it).

Cloud Run v2 takes a workload that speaks HTTP (HTTP/1.1, WebSocket, HTTP/2, gRPC) on exactly one
port, is probed over HTTP, gRPC or TCP, keeps no single-writer state, wants at most one GPU and takes no
UDP media from a relay (services have Direct VPC *egress* only, run/docs/configuring/vpc-direct-vpc):
Cloud Run serves one container port per service, only HTTP-family requests, probes without exec,
and offers one NVIDIA L4 per instance. Everything else runs as a container on a Compute Engine VM
of its own (Container-Optimized OS, a persistent disk per volume, L4s on a G2 machine type).

Limits (docs.cloud.google.com, run/docs/configuring/services/memory-limits, .../services/cpu,
.../services/gpu, run/docs/configuring/request-timeout, compute/docs/gpus#l4-gpus):
- memory at most 32 GiB; more than 4/8/16/24 GiB needs at least 2/4/6/8 vCPU; CPU 1, 2, 4, 6 or 8;
  4 vCPU needs 2 GiB, 6 and 8 vCPU need 4 GiB;
- a GPU instance: one L4, at least 4 vCPU and 16 GiB, CPU always allocated, in the GPU regions;
- a request (so a WebSocket) lasts at most 3600 s;
- G2 machine types carry 1, 2, 4 or 8 L4s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

CLOUD_RUN_CPUS = (1, 2, 4, 6, 8)
CLOUD_RUN_MAX_MEMORY_MIB = 32 * 1024
CLOUD_RUN_MIN_MEMORY_MIB = 512
# (memory above this many MiB, the fewest vCPU that may hold it)
CLOUD_RUN_MEMORY_CPU = ((24 * 1024, 8), (16 * 1024, 6), (8 * 1024, 4), (4 * 1024, 2))
# (vCPU, the least memory in MiB it needs)
CLOUD_RUN_CPU_MEMORY = ((6, 4 * 1024), (4, 2 * 1024))
GPU_MIN_CPU = 4
GPU_MIN_MEMORY_MIB = 16 * 1024
GPU_ACCELERATOR = "nvidia-l4"
# Cloud Run GPU regions (run/docs/configuring/services/gpu-zonal-redundancy, "Supported regions";
# asia-south1 is by invitation).
L4_REGIONS = ("us-central1", "europe-west1", "europe-west4", "asia-southeast1", "asia-south1")
MAX_TIMEOUT_S = 3600
HTTP_PROTOCOLS = frozenset({"http", "http2", "grpc", "websocket"})

# Smallest first: (machine type, vCPU, memory MiB, L4 GPUs). compute/docs/general-purpose-machines#e2_machine_types,
# compute/docs/accelerator-optimized-machines#g2-vms.
CPU_MACHINES = (
    ("e2-standard-2", 2, 8 * 1024, 0),
    ("e2-standard-4", 4, 16 * 1024, 0),
    ("e2-standard-8", 8, 32 * 1024, 0),
    ("e2-standard-16", 16, 64 * 1024, 0),
    ("e2-standard-32", 32, 128 * 1024, 0),
)
GPU_MACHINES = (
    ("g2-standard-4", 4, 16 * 1024, 1),
    ("g2-standard-8", 8, 32 * 1024, 1),
    ("g2-standard-12", 12, 48 * 1024, 1),
    ("g2-standard-16", 16, 64 * 1024, 1),
    ("g2-standard-32", 32, 128 * 1024, 1),
    ("g2-standard-24", 24, 96 * 1024, 2),
    ("g2-standard-48", 48, 192 * 1024, 4),
    ("g2-standard-96", 96, 384 * 1024, 8),
)
# What the VM keeps for Container-Optimized OS and the container runtime.
VM_OVERHEAD_MIB = 1024


@dataclass(frozen=True)
class Shape:
    """What decides where a workload runs: its ports, probe, volumes and GPUs."""

    ports: tuple[tuple[str, str], ...]  # (protocol, app_protocol) per port
    health: str | None  # http, grpc, tcp, command, or None
    single_writer_volumes: tuple[str, ...]
    gpu: float
    udp_peer: bool = False  # it exchanges UDP media with a relay (a Pixel Streaming streamer)
    listed: bool = False  # named in gpu-platform:gcp.vm_workloads


def vm_reasons(shape: Shape) -> list[str]:
    """Why Cloud Run cannot take the workload ([] when it can)."""
    reasons = []
    if len(shape.ports) > 1:
        reasons.append(f"{len(shape.ports)} ports (Cloud Run serves one)")
    if any(protocol != "tcp" or app not in HTTP_PROTOCOLS for protocol, app in shape.ports):
        reasons.append("a port that is not HTTP, WebSocket or gRPC (Cloud Run serves only HTTP-family requests)")
    if shape.health == "command":
        reasons.append("a command health check (Cloud Run probes HTTP, gRPC or TCP)")
    if shape.single_writer_volumes:
        reasons.append(
            f"single-writer volume(s) {', '.join(shape.single_writer_volumes)} (Cloud Run has no block storage)"
        )
    if shape.gpu > 1:
        reasons.append(f"{shape.gpu:g} GPUs (Cloud Run gives one L4 per instance)")
    if shape.udp_peer:
        reasons.append("UDP media from a relay (Cloud Run services take no inbound VPC traffic)")
    if shape.listed:
        reasons.append("listed in gpu-platform:gcp.vm_workloads")
    return reasons


def _round_up(value: float, allowed: Iterable[int]) -> int | None:
    return next((a for a in allowed if a >= value - 1e-9), None)


def cloud_run_size(cpu: float, memory_mib: int, gpu: float) -> tuple[int, int] | None:
    """(vCPU, memory MiB) of a Cloud Run instance holding these limits; None when none can."""
    memory = max(memory_mib, CLOUD_RUN_MIN_MEMORY_MIB, GPU_MIN_MEMORY_MIB if gpu > 0 else 0)
    wanted = max(cpu, GPU_MIN_CPU if gpu > 0 else 0)
    wanted = max([wanted, *[least for above, least in CLOUD_RUN_MEMORY_CPU if memory > above]])
    vcpu = _round_up(wanted, CLOUD_RUN_CPUS)
    if vcpu is None or memory > CLOUD_RUN_MAX_MEMORY_MIB:
        return None
    memory = max([memory, *[least for at_least, least in CLOUD_RUN_CPU_MEMORY if vcpu >= at_least]])
    return vcpu, memory


def machine_for(cpu: float, memory_mib: int, gpu: float) -> str | None:
    """The smallest E2 (no GPU) or G2 (L4) machine type holding these limits, or None."""
    gpus = math.ceil(gpu) if gpu > 0 else 0
    table = GPU_MACHINES if gpus else CPU_MACHINES
    for name, vcpu, memory, cards in table:
        if vcpu >= cpu and memory >= memory_mib + VM_OVERHEAD_MIB and cards >= gpus:
            return name
    return None


# Cloud Run's CPU scaling target (RevisionScaling.cpuUtilization, REST v2 reference: 0.1-0.90, 0.0 disables;
# the scaling-controls page has printed both 90 % and 95 % as the maximum, so the lower is the limit here).
CPU_TARGET_PERCENT = (10, 90)
