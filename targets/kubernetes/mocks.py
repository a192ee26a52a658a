"""Computed outputs pulumi-kubernetes would report, for the offline preview's mock runtime (SDK-free)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def resource_outputs(token: str, name: str, rid: str, inputs: Mapping[str, Any], out: dict[str, Any]) -> None:
    if token == "kubernetes:core/v1:Service" and (inputs.get("spec") or {}).get("type") == "LoadBalancer":
        # pulumi-kubernetes waits for the balancer's address before the Service counts as created.
        out["status"] = {"loadBalancer": {"ingress": [{"hostname": f"{name}-{rid[:8]}.lb.example"}]}}
