"""The target registry: which targets exist, which are built, and how to load them lazily.

A target's provider SDK is imported only when a stack uses that target, so
previewing a Docker stack never pays for (or needs) pulumi_aws and friends.
Settings models live in ``targets/<name>/settings.py`` and import no SDK.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from components.protocol import Target


@dataclass(frozen=True)
class TargetInfo:
    """Where a target's code lives and whether it is built yet."""

    name: str
    description: str
    built: bool
    issue: int | None = None


TARGETS: dict[str, TargetInfo] = {
    "docker": TargetInfo("docker", "Docker engines, local or over ssh://", built=True),
    "kubernetes": TargetInfo("kubernetes", "any Kubernetes cluster (Gateway API)", built=True),
    "aws": TargetInfo("aws", "ECS/Fargate + G5 capacity + ALB + RDS", built=True),
    "gcp": TargetInfo("gcp", "Google Cloud", built=False),
    "azure": TargetInfo("azure", "Microsoft Azure", built=False),
}


def settings_models(name: str) -> tuple[type[BaseModel], type[BaseModel]]:
    """(target-wide settings model, per-pool settings model) for a built target."""
    module = importlib.import_module(f"targets.{name}.settings")
    return module.TARGET_SETTINGS, module.POOL_SETTINGS


def stack_requirements(name: str, profile: object, has_tls_settings: bool, target_settings: BaseModel) -> list[str]:
    """What a target needs from the stack for a profile (e.g. a certificate source for CA-issued TLS).

    Each entry is ``"<config key>|<what to set>"``; the loader turns them into config errors.
    """
    module = importlib.import_module(f"targets.{name}.settings")
    check = getattr(module, "requirements", None)
    return list(check(profile, has_tls_settings, target_settings)) if check else []


def load_target(name: str) -> type[Target]:
    """Import a built target's implementation (and with it, its provider SDK)."""
    module = importlib.import_module(f"targets.{name}.target")
    return module.TARGET


def render(name: str, resources: object, directory: object) -> list[object]:
    """Write what a target hands to its own tools (compose files, manifests) from recorded resources."""
    module = importlib.import_module(f"targets.{name}.render")
    return module.render(resources, directory)
