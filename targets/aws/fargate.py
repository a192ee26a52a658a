"""Fargate task sizes: only fixed cpu/memory pairs are valid, so requests are rounded up to one.

From the ECS developer guide (task CPU and memory): 256 CPU units take 512 MiB,
1 GiB or 2 GiB; 512 take 1-4 GiB; 1024 take 2-8 GiB; 2048 take 4-16 GiB; 4096
take 8-30 GiB (1 GiB steps); 8192 take 16-60 GiB in 4 GiB steps; 16384 take
32-120 GiB in 8 GiB steps. Fargate has no GPUs: GPU work runs on EC2 capacity.
"""

from __future__ import annotations

import math

GIB = 1024


def _memory_options(cpu: int) -> list[int]:
    if cpu == 256:
        return [512, 1024, 2048]
    if cpu == 512:
        return [g * GIB for g in range(1, 5)]
    if cpu == 1024:
        return [g * GIB for g in range(2, 9)]
    if cpu == 2048:
        return [g * GIB for g in range(4, 17)]
    if cpu == 4096:
        return [g * GIB for g in range(8, 31)]
    if cpu == 8192:
        return [g * GIB for g in range(16, 61, 4)]
    if cpu == 16384:
        return [g * GIB for g in range(32, 121, 8)]
    raise ValueError(f"{cpu} is not a Fargate CPU size")


CPU_SIZES = (256, 512, 1024, 2048, 4096, 8192, 16384)
VALID_PAIRS: tuple[tuple[int, int], ...] = tuple((c, m) for c in CPU_SIZES for m in _memory_options(c))
LARGEST = VALID_PAIRS[-1]


def task_size(cpu_cores: float, memory_mib: int) -> tuple[int, int] | None:
    """The smallest valid (cpu units, memory MiB) pair that holds the request, or None if none does."""
    units = math.ceil(cpu_cores * 1024 - 1e-9)
    for cpu, memory in VALID_PAIRS:
        if cpu >= units and memory >= memory_mib:
            return cpu, memory
    return None
