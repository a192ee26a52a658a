"""Which GPU cards each container gets on a Docker engine, decided once for the whole stack.

Docker has no scheduler: a container sees exactly the device ids it is given. So the
cards are assigned here, deterministically, before any resource exists:

- pools on one engine get disjoint, consecutive card ranges (in blueprint pool order):
  each pool's ``gpus`` are its own cards on that machine;
- within a pool, whole-GPU containers get dedicated cards first (lowest ids);
- fractional shares (A10G/L4/T4 have no MIG: the workload limits itself with
  ``GPU_MEMORY_FRACTION``) are packed first-fit-decreasing onto the remaining cards,
  each card holding shares that sum to at most 1.

When the asks do not fit the pool's cards, :func:`assign` reports it (the stack check
turns that into a config error) instead of wrapping onto cards already taken.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Shares summing to 1 within this are accepted (0.1 * 10 is not exactly 1.0 in floats).
_EPSILON = 1e-9


@dataclass(frozen=True)
class GpuPool:
    """One pool as the planner sees it: its engine and how many cards it declares."""

    name: str
    host: str
    gpus: int


@dataclass(frozen=True)
class GpuAsk:
    """One workload's GPU request: ``gpu`` per container, ``replicas`` containers."""

    pool: str
    workload: str  # the request name the target sees (ServiceRequest.name)
    key: str  # its key path in the blueprint, for messages
    gpu: float
    replicas: int


@dataclass(frozen=True)
class NoFit:
    """A pool whose GPU asks do not fit its cards."""

    pool: str
    host: str
    cards: int
    whole: int  # cards dedicated to whole-GPU containers
    shares: tuple[float, ...]  # the fractional shares, largest first
    keys: tuple[str, ...]

    def message(self) -> str:
        asked = [f"{self.whole} whole card(s)"] if self.whole else []
        if self.shares:
            asked.append(f"{len(self.shares)} fractional share(s) ({', '.join(f'{s:g}' for s in self.shares)})")
        return (
            f"pool {self.pool!r} on engine {self.host} has {self.cards} GPU card(s), but its containers "
            f"({', '.join(self.keys)}) ask for {' and '.join(asked)}, which do not fit: each whole GPU needs "
            f"its own card and each card holds shares summing to at most 1; give the pool more gpus or ask for less"
        )


# workload name -> the device ids of each of its containers, in replica order.
Plan = dict[str, list[tuple[str, ...]]]


def assign(pools: Sequence[GpuPool], asks: Sequence[GpuAsk]) -> tuple[Plan, list[NoFit]]:
    """Device ids for every GPU container, and the pools whose asks do not fit their cards."""
    offsets: dict[str, int] = {}
    next_card: dict[str, int] = {}
    for pool in pools:
        offsets[pool.name] = next_card.get(pool.host, 0)
        next_card[pool.host] = offsets[pool.name] + pool.gpus
    plan: Plan = {}
    problems: list[NoFit] = []
    for pool in pools:
        mine = [a for a in asks if a.pool == pool.name and a.gpu > 0 and a.replicas > 0]
        if not mine:
            continue
        first = offsets[pool.name]
        # Whole GPUs (a 1.5 asks for 2 cards): dedicated cards from the pool's first upwards.
        whole = 0
        slots: list[tuple[GpuAsk, int, float]] = []  # (ask, replica, share) for the fractions
        for ask in mine:
            plan[ask.workload] = [()] * ask.replicas
            for replica in range(ask.replicas):
                if ask.gpu >= 1:
                    count = math.ceil(ask.gpu - _EPSILON)
                    plan[ask.workload][replica] = tuple(str(first + whole + i) for i in range(count))
                    whole += count
                else:
                    slots.append((ask, replica, ask.gpu))
        # First-fit decreasing; ties keep blueprint order (sorted is stable).
        loads: list[float] = []
        for ask, replica, share in sorted(slots, key=lambda s: -s[2]):
            card = next((i for i, load in enumerate(loads) if load + share <= 1 + _EPSILON), None)
            if card is None:
                loads.append(0.0)
                card = len(loads) - 1
            loads[card] += share
            plan[ask.workload][replica] = (str(first + whole + card),)
        if whole + len(loads) > pool.gpus:
            problems.append(
                NoFit(
                    pool=pool.name,
                    host=pool.host,
                    cards=pool.gpus,
                    whole=whole,
                    shares=tuple(sorted((s for _, _, s in slots), reverse=True)),
                    keys=tuple(dict.fromkeys(a.key for a in mine)),
                )
            )
    return plan, problems
