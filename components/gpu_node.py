"""GpuNode: capacity for workloads (a Docker host, a node pool, an ECS capacity provider)."""

from __future__ import annotations

import pulumi

from components.base import Component
from components.protocol import Pool, PoolRequest, Target


class GpuNode(Component):
    """One pool of capacity. ``gpus`` may be zero: CPU pools are GpuNodes without cards."""

    def __init__(
        self, name: str, args: PoolRequest, target: Target, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        request = args
        self.pool: Pool = target.pool(request, parent=self)
        self.publish(
            {
                "pool_name": pulumi.Output.from_input(request.name),
                "gpus": pulumi.Output.from_input(request.gpus),
                "architecture": pulumi.Output.from_input(request.architecture),
            }
        )
