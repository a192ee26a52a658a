"""Placement of workloads on pools, and the capacity check that keeps it honest.

A workload lands on its explicit ``pool``; otherwise on the first pool that fits,
taking the largest workloads first (first-fit decreasing by memory), GPU work
only on GPU pools and CPU work preferring pools without GPUs. Requests are
summed per pool (replicas included; autoscaled services at their maximum) and
checked against the pool's capacity times its allocation cap. An impossible
request or an overflow is a :class:`ConfigError` naming the pool and numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stacks.errors import ConfigError, Problem
from stacks.spec import Blueprint, Pool, Resources
from stacks.units import format_mib
from stacks.workloads import Workload, workloads


@dataclass
class PoolUsage:
    """What is asked of one pool: request totals, limit totals and who asks."""

    name: str
    pool: Pool
    cpu: float = 0.0
    memory_mib: int = 0
    gpu: float = 0.0
    gpu_memory_mib: int = 0
    limit_cpu: float = 0.0
    limit_memory_mib: int = 0
    members: list[Workload] = field(default_factory=list)
    # What the target will actually reserve (e.g. the whole GPUs ECS reserves), set by its checks.
    reservation: dict[str, object] | None = None

    @property
    def allowed_cpu(self) -> float:
        return self.pool.cpu * self.pool.allocation_cap

    @property
    def allowed_memory_mib(self) -> int:
        return int(self.pool.memory * self.pool.allocation_cap)

    @property
    def gpu_memory_capacity_mib(self) -> int | None:
        """All the pool's cards' memory, when the blueprint states it."""
        return self.pool.gpus * self.pool.gpu_memory if self.pool.gpu_memory else None

    def fits(self, workload: Workload) -> bool:
        r, n = workload.requests, workload.replicas
        capacity = self.gpu_memory_capacity_mib
        return (
            self.cpu + r.cpu * n <= self.allowed_cpu + 1e-9
            and self.memory_mib + r.memory * n <= self.allowed_memory_mib
            and self.gpu + r.gpu * n <= self.pool.gpus + 1e-9
            and (capacity is None or self.gpu_memory_mib + (r.gpu_memory or 0) * n <= capacity)
        )

    def add(self, workload: Workload, default_limits: Resources | None = None) -> None:
        r, n = workload.requests, workload.replicas
        limits = workload.limits or limits_or_default(r, default_limits)
        self.cpu += r.cpu * n
        self.memory_mib += r.memory * n
        self.gpu += r.gpu * n
        self.gpu_memory_mib += (r.gpu_memory or 0) * n
        self.limit_cpu += limits.cpu * n
        self.limit_memory_mib += limits.memory * n
        self.members.append(workload)

    def overflow(self) -> list[str]:
        """The dimensions over the cap, each as 'memory 70Gi requested > 51.2Gi allowed'."""
        over = []
        if self.cpu > self.allowed_cpu + 1e-9:
            over.append(f"cpu {self.cpu:g} cores requested > {self.allowed_cpu:g} allowed")
        if self.memory_mib > self.allowed_memory_mib:
            over.append(
                f"memory {format_mib(self.memory_mib)} requested > {format_mib(self.allowed_memory_mib)} allowed"
            )
        if self.gpu > self.pool.gpus + 1e-9:
            over.append(f"gpu {self.gpu:g} units requested > {self.pool.gpus} on the pool")
        capacity = self.gpu_memory_capacity_mib
        if capacity is not None and self.gpu_memory_mib > capacity:
            over.append(f"gpu memory {format_mib(self.gpu_memory_mib)} requested > {format_mib(capacity)} on the cards")
        return over

    def summary(self) -> dict[str, object]:
        """Requests against the cap and limits against the whole pool (overcommit), for reports."""
        pool = self.pool
        return {
            "architecture": pool.architecture,
            "allocation_cap": pool.allocation_cap,
            "workloads": len(self.members),
            "requests": {
                "cpu": round(self.cpu, 3),
                "memory_mib": self.memory_mib,
                "gpu": round(self.gpu, 3),
                "gpu_memory_mib": self.gpu_memory_mib,
            },
            "allowed": {"cpu": round(self.allowed_cpu, 3), "memory_mib": self.allowed_memory_mib, "gpu": pool.gpus},
            "capacity": {"cpu": pool.cpu, "memory_mib": pool.memory, "gpu_memory_mib": self.gpu_memory_capacity_mib},
            "limits": {"cpu": round(self.limit_cpu, 3), "memory_mib": self.limit_memory_mib},
            "overcommit": {
                "cpu": round(self.limit_cpu / pool.cpu, 2),
                "memory": round(self.limit_memory_mib / pool.memory, 2),
            },
            **({"reservation": self.reservation} if self.reservation else {}),
        }

    def largest(self, count: int = 3) -> list[Workload]:
        return sorted(self.members, key=lambda w: w.requests.memory * w.replicas, reverse=True)[:count]


@dataclass(frozen=True)
class Placement:
    """Which pool each workload (by key path) runs on, and each pool's totals."""

    pool_of: dict[str, str]
    usage: dict[str, PoolUsage]


def limits_or_default(requests: Resources, default: Resources | None) -> Resources:
    """What a workload without stated limits is capped at: the profile's default, never below its requests."""
    if default is None:
        return requests
    return Resources(cpu=max(requests.cpu, default.cpu), memory=max(requests.memory, default.memory), gpu=requests.gpu)


def place(blueprint: Blueprint, source: str, default_limits: Resources | None = None) -> Placement:
    """Assign every workload a pool, or raise one ConfigError listing every problem.

    ``default_limits`` (the profile's) stand in for limits a workload does not state, so the
    reported overcommit is what the targets will actually set.
    """
    usage = {name: PoolUsage(name, pool) for name, pool in blueprint.pools.items()}
    problems: list[Problem] = []
    pool_of: dict[str, str] = {}
    items = workloads(blueprint)
    explicit = [w for w in items if w.pool is not None]
    automatic = sorted((w for w in items if w.pool is None), key=lambda w: w.requests.memory * w.replicas, reverse=True)

    for workload in explicit:
        assert workload.pool is not None
        problem = _impossible(workload, workload.pool, blueprint)
        if problem:
            problems.append(problem)
            continue
        usage[workload.pool].add(workload, default_limits)
        pool_of[workload.key] = workload.pool

    # Explicit placements are the blueprint's own decision: if they overflow a
    # pool, say so first (automatic placement would only add noise after that).
    problems += _overflows(usage)
    if not problems:
        for workload in automatic:
            chosen = _first_fit(workload, usage)
            if chosen is None:
                problems.append(_no_room(workload, usage))
                continue
            usage[chosen].add(workload, default_limits)
            pool_of[workload.key] = chosen
    if problems:
        raise ConfigError(source, problems)
    return Placement(pool_of=pool_of, usage=usage)


def _overflows(usage: dict[str, PoolUsage]) -> list[Problem]:
    problems = []
    for name, pool_usage in usage.items():
        over = pool_usage.overflow()
        if over:
            biggest = ", ".join(
                f"{w.key} ({format_mib(w.requests.memory * w.replicas)}, {w.requests.cpu * w.replicas:g} cpu)"
                for w in pool_usage.largest()
            )
            problems.append(
                Problem(
                    f"pools.{name}",
                    f"{len(pool_usage.members)} workloads",
                    f"the pool overflows its allocation cap of {pool_usage.pool.allocation_cap:.0%}: "
                    f"{'; '.join(over)}; largest: {biggest}",
                )
            )
    return problems


def _impossible(workload: Workload, pool_name: str, blueprint: Blueprint) -> Problem | None:
    pool = blueprint.pools.get(pool_name)
    if pool is None:
        return Problem(f"{workload.key}.pool", pool_name, f"known pools: {', '.join(blueprint.pools) or 'none'}")
    if workload.requests.gpu > 0 and pool.gpus == 0:
        gpu_pools = [n for n, p in blueprint.pools.items() if p.gpus > 0]
        return Problem(
            f"{workload.key}.pool",
            pool_name,
            f"the workload requests {workload.requests.gpu:g} GPU but pool {pool_name!r} has no GPUs; "
            f"GPU pools: {', '.join(gpu_pools) or 'none'}",
        )
    if pool.architecture not in workload.architectures:
        return Problem(
            f"{workload.key}.pool",
            pool_name,
            f"pool {pool_name!r} is {pool.architecture} but the image is built for {', '.join(workload.architectures)}",
        )
    return None


def _first_fit(workload: Workload, usage: dict[str, PoolUsage]) -> str | None:
    candidates = [u for u in usage.values() if u.pool.architecture in workload.architectures]
    if workload.requests.gpu > 0:
        candidates = [u for u in candidates if u.pool.gpus > 0]
    else:
        # Keep GPU pools for GPU work: CPU-only pools first, in blueprint order.
        candidates.sort(key=lambda u: u.pool.gpus > 0)
    return next((u.name for u in candidates if u.fits(workload)), None)


def _no_room(workload: Workload, usage: dict[str, PoolUsage]) -> Problem:
    r = workload.requests
    need = f"{r.cpu * workload.replicas:g} cpu, {format_mib(r.memory * workload.replicas)}"
    if r.gpu:
        need += f", {r.gpu * workload.replicas:g} GPU"
    free = "; ".join(
        f"{u.name} ({u.pool.architecture}, {u.allowed_cpu - u.cpu:g} cpu, "
        f"{format_mib(max(u.allowed_memory_mib - u.memory_mib, 0))}, {u.pool.gpus - u.gpu:g} GPU free)"
        for u in usage.values()
    )
    return Problem(
        f"{workload.key}",
        need,
        f"no pool has room for it ({', '.join(workload.architectures)}); free capacity: {free}",
    )
