"""What ECS reserves for a GPU request, shared by the task definitions and the pre-flight check (SDK-free).

On ECS every GPU request reserves whole GPUs: a container's ``resourceRequirements``
entry is ``{"type": "GPU", "value": "<n>"}``, and the agent pins ``n`` physical GPUs
to it (the GPU serves no other container). A fraction below one GPU (0.5) reserves
ONE whole GPU; a fraction above one (1.5) has no form and is a config error.

Why not NVIDIA MPS shares: ECS's ``ResourceRequirement.sharingStrategy`` is a
*union* in the ECS API model (botocore marks it ``"union": true``). pulumi-aws
bridges terraform-provider-aws, which decodes ``container_definitions`` with Go's
``encoding/json`` into the AWS SDK for Go v2's ``[]types.ContainerDefinition``; the
SDK generates a union as a Go interface, which ``encoding/json`` cannot decode into
(and an SDK without the member drops it, leaving ``{type: GPU}`` without a
``value``, which ECS rejects). Either way ``pulumi up`` would fail for every
fractional workload. A provider that passes ``sharingStrategy`` through (e.g.
aws-native's CloudFormation-backed ``TaskDefinition``) would bring MPS back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

EPSILON = 1e-9


def is_whole(gpu: float) -> bool:
    return abs(gpu - round(gpu)) < EPSILON


def whole_gpus(gpu: float) -> int:
    """The GPUs ECS reserves for one container asking for ``gpu``: 0, one for a fraction below 1, else ``gpu``."""
    if gpu <= 0:
        return 0
    return 1 if gpu < 1 else round(gpu)


def gpu_requirement(gpu: float) -> dict[str, Any] | None:
    """The container's ``resourceRequirements`` entry for ``gpu`` GPUs, or None when it asks for none.

    Callers have rejected what ECS cannot express (see :func:`problem`), so this only asserts.
    """
    if gpu <= 0:
        return None
    assert gpu < 1 or is_whole(gpu), f"{gpu:g} GPUs has no ECS form"
    return {"type": "GPU", "value": str(whole_gpus(gpu))}


def problem(gpu: float, gpus_per_instance: int) -> str | None:
    """Why ECS cannot take this request on a pool of ``gpus_per_instance``-GPU instances, or None."""
    if gpu > 1 and not is_whole(gpu):
        return (
            f"ECS reserves whole GPUs (resourceRequirements value): {gpu:g} is not one; "
            f"ask for {math.floor(gpu)} or {math.ceil(gpu)}"
        )
    if whole_gpus(gpu) > gpus_per_instance:
        return (
            f"a task runs on one instance, and the pool's instances have {gpus_per_instance} GPU(s): "
            f"ECS cannot place {whole_gpus(gpu)}"
        )
    return None


@dataclass
class PoolReservation:
    """The whole GPUs ECS will reserve on one pool (an Auto Scaling group of identical instances)."""

    gpus_per_instance: int
    max_size: int
    reserved: int = 0
    fractional: list[str] = field(default_factory=list)  # workloads whose fraction reserves a whole GPU

    @property
    def capacity(self) -> int:
        """The GPUs the pool offers at its largest: per instance x the group's max_size."""
        return self.gpus_per_instance * self.max_size

    def add(self, key: str, gpu: float, replicas: int) -> None:
        self.reserved += whole_gpus(gpu) * replicas
        if 0 < gpu < 1:
            self.fractional.append(key)

    def summary(self) -> dict[str, Any]:
        return {
            "whole_gpus": self.reserved,
            "fractional_workloads": len(self.fractional),
            "gpus_per_instance": self.gpus_per_instance,
            "max_size": self.max_size,
            "capacity_gpus": self.capacity,
        }
