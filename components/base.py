"""Shared base for the components: one type-token scheme, one way to register outputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

TOKEN_PREFIX = "gpu-platform:components:"


class Component(pulumi.ComponentResource):
    """A ComponentResource whose type token is ``gpu-platform:components:<ClassName>``."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TOKEN_PREFIX + type(self).__name__, name, None, opts)
        self.component_name = name

    def child(self, suffix: str) -> str:
        """A child's name: the component's name as prefix, so URNs read as a tree."""
        return f"{self.component_name}-{suffix}"

    def publish(self, outputs: Mapping[str, Any]) -> None:
        """Set the outputs as attributes (for Python callers) and register them (for the engine)."""
        for key, value in outputs.items():
            setattr(self, key, value)
        self.register_outputs(dict(outputs))
