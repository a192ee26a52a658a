"""What ECS reserves for a GPU request, shared by the task definitions and the pre-flight check (SDK-free).

ECS (RegisterTaskDefinition ``ResourceRequirement``, botocore's ``ecs`` model) takes
a GPU request in one of two forms, never both:

- ``value``: a whole number of physical GPUs the agent pins to the container
  (dedicated; the GPU serves no other container);
- ``sharingStrategy.nvidiaMps``: a share of *one* GPU through NVIDIA MPS —
  ``memory`` (MiB, which ECS both places by and enforces through
  ``CUDA_MPS_PINNED_DEVICE_MEM_LIMIT``) and an optional ``maxComputePercent``
  (a limit, not a reservation). A GPU serving MPS containers takes no dedicated
  container and vice versa. ECS places MPS tasks by GPU memory only.

So a fraction below one GPU becomes an MPS share sized from the memory ECS sees
on the card: the driver-reported total (``nvidia-smi``), which for an A10G is
23028 MiB, not the 24 GiB of the data sheet. Sizing from the data-sheet figure
would make two 0.5-GPU shares (2 x 12288 MiB) overflow one A10G, and the second
task would never be placed. Fractions above one GPU (1.5) have no ECS form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# Total memory the NVIDIA driver reports per card (nvidia-smi), which is what ECS can hand out.
DRIVER_MEMORY_MIB = {"A10G": 23028, "L4": 23034, "T4": 15360, "L40S": 46068, "A100": 40960, "H100": 81559}


def usable_gpu_memory(stated_mib: int | None, model: str | None) -> int | None:
    """The memory per card ECS can reserve: the driver's figure, never more than the blueprint states."""
    known = DRIVER_MEMORY_MIB.get((model or "").upper())
    figures = [m for m in (stated_mib, known) if m]
    return min(figures) if figures else None


def is_whole(gpu: float) -> bool:
    return abs(gpu - round(gpu)) < 1e-9


def gpu_requirement(gpu: float, card_mib: int | None) -> dict[str, Any] | None:
    """The container's ``resourceRequirements`` entry for ``gpu`` GPUs, or None when it asks for none.

    Callers have rejected what ECS cannot express (see :func:`problem`), so this only asserts.
    """
    if gpu <= 0:
        return None
    if gpu >= 1:
        assert is_whole(gpu), f"{gpu:g} GPUs has no ECS form"
        return {"type": "GPU", "value": str(round(gpu))}
    assert card_mib, "an MPS share needs the card's memory"
    share = {"memory": max(1, math.floor(card_mib * gpu)), "maxComputePercent": min(100, max(1, math.ceil(gpu * 100)))}
    return {"type": "GPU", "sharingStrategy": {"nvidiaMps": share}}


def problem(gpu: float, card_mib: int | None) -> str | None:
    """Why ECS cannot take this request, or None."""
    if gpu > 1 and not is_whole(gpu):
        return (
            f"ECS reserves whole GPUs (resourceRequirements value) or an MPS share of one GPU (below 1): "
            f"{gpu:g} is neither; ask for {math.floor(gpu)} or {math.ceil(gpu)}"
        )
    if 0 < gpu < 1 and not card_mib:
        return "an MPS share is sized in GPU memory: set the pool's gpu_memory or a known gpu_model"
    return None


@dataclass
class PoolReservation:
    """What ECS will reserve on a pool's GPUs: dedicated GPUs, and MPS shares packed onto shared GPUs."""

    card_mib: int | None
    dedicated: int = 0
    shares: list[int] = field(default_factory=list)  # MPS memory per container (replicas expanded)

    def add(self, gpu: float, replicas: int) -> None:
        requirement = gpu_requirement(gpu, self.card_mib)
        if requirement is None:
            return
        if "value" in requirement:
            self.dedicated += int(requirement["value"]) * replicas
        else:
            self.shares += [requirement["sharingStrategy"]["nvidiaMps"]["memory"]] * replicas

    def shared_gpus(self) -> list[int]:
        """MPS memory per shared GPU, first-fit decreasing (ECS needs each share whole on one GPU)."""
        cards: list[int] = []
        for memory in sorted(self.shares, reverse=True):
            slot = next((i for i, used in enumerate(cards) if used + memory <= (self.card_mib or 0)), None)
            if slot is None:
                cards.append(memory)
            else:
                cards[slot] += memory
        return cards

    def summary(self) -> dict[str, Any]:
        cards = self.shared_gpus()
        return {
            "dedicated_gpus": self.dedicated,
            "mps_containers": len(self.shares),
            "mps_gpus": len(cards),
            "mps_memory_mib": sum(self.shares),
            "card_memory_mib": self.card_mib,
            "gpus_needed": self.dedicated + len(cards),
        }
