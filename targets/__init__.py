"""The target registry: which targets exist, which are built, and how to load them lazily.

Each built target is one package whose ``__init__`` exposes ``PLUGIN``, a
:class:`targets.contract.TargetPlugin` with every hook the rest of the program needs;
nothing outside ``targets/`` names a target, it iterates :func:`plugins`. A target's
provider SDK is imported only by its ``load`` hook, so previewing a Docker stack never
pays for (or needs) pulumi_aws and friends.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from components.protocol import Target
    from stacks.profiles import Profile
    from targets.contract import TargetPlugin


@dataclass(frozen=True)
class TargetInfo:
    """Where a target's code lives and whether it is built yet."""

    name: str
    description: str
    built: bool
    issue: int | None = None
    # The plugin's ``providers`` (checked when it loads), so a token's owner is found without loading the others.
    providers: tuple[str, ...] = ()


TARGETS: dict[str, TargetInfo] = {
    "docker": TargetInfo("docker", "Docker engines, local or over ssh://", built=True, providers=("docker",)),
    "kubernetes": TargetInfo(
        "kubernetes", "any Kubernetes cluster (Gateway API)", built=True, providers=("kubernetes",)
    ),
    "aws": TargetInfo("aws", "ECS/Fargate + G5 capacity + ALB + RDS", built=True, providers=("aws",)),
    "gcp": TargetInfo(
        "gcp", "Cloud Run + Compute Engine (L4) + global ALB + Cloud SQL", built=True, providers=("gcp",)
    ),
    "azure": TargetInfo(
        "azure",
        "Container Apps + serverless GPUs + Front Door + Flexible Server",
        built=True,
        providers=("azure-native",),
    ),
}


def plugin(name: str) -> TargetPlugin[Any, Any]:
    """A built target's plugin (``targets/<name>/__init__.py``'s ``PLUGIN``): every hook the program needs.

    The target is chosen at run time, so its settings types are erased here (its hooks take the models
    the loader validated with ``settings_models(name)``)."""
    if not TARGETS[name].built:
        raise KeyError(f"target {name!r} is not built yet")
    found = importlib.import_module(f"targets.{name}").PLUGIN
    assert found.name == name, f"targets/{name} exposes the plugin of {found.name!r}"
    assert found.providers == TARGETS[name].providers, f"targets/__init__.py lists other providers for {name}"
    return found


def owner(token: str) -> TargetPlugin[Any, Any] | None:
    """The built target whose providers own a resource or invoke token (``"aws:rds/..."``), loading only it."""
    package = token.split(":", 1)[0]
    found = next((name for name, info in TARGETS.items() if info.built and package in info.providers), None)
    return plugin(found) if found is not None else None


def plugins() -> list[TargetPlugin[Any, Any]]:
    """Every built target's plugin, in registry order."""
    return [plugin(name) for name, info in TARGETS.items() if info.built]


def settings_models(name: str) -> tuple[type[BaseModel], type[BaseModel]]:
    """(target-wide settings model, per-pool settings model) for a built target."""
    found = plugin(name)
    return found.target_settings, found.pool_settings


def stack_requirements(name: str, profile: Profile, has_tls_settings: bool, target_settings: BaseModel) -> list[str]:
    """What a target needs from the stack for a profile (e.g. a certificate source for CA-issued TLS).

    Each entry is ``"<config key>|<what to set>"``; the loader turns them into config errors.
    """
    return list(plugin(name).requirements(profile, has_tls_settings, target_settings))


def load_target(name: str) -> type[Target]:
    """Import a built target's implementation (and with it, its provider SDK)."""
    return plugin(name).load()


def render(name: str, resources: object, directory: object) -> list[object]:
    """Write what a target hands to its own tools (compose files, manifests) from recorded resources."""
    return plugin(name).render(resources, directory)
