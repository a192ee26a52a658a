"""The contract a target package fulfils: one :class:`TargetPlugin` object, ``targets/<name>/__init__.py``'s ``PLUGIN``.

Everything outside ``targets/`` reaches a target through its plugin (``targets.plugins()``,
``targets.plugin(name)``) and never names one. This module imports no provider SDK, and a
plugin's package ``__init__`` may not either: a hook that needs the SDK (``load``) imports it
when called, so a Docker stack never loads pulumi_aws. ``tests/test_target_contract.py``
fails when a built plugin leaves a hook empty.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from components.protocol import Target
    from stacks.errors import Caveat, Problem
    from stacks.placement import Placement
    from stacks.profiles import Profile
    from stacks.spec import Blueprint

# A plugin's target-wide and per-pool settings models: its hooks take them typed, without downcasts.
SettingsT = TypeVar("SettingsT", bound=BaseModel)
PoolSettingsT = TypeVar("PoolSettingsT", bound=BaseModel)

# (source, path, blueprint, placement, pool settings, target settings) -> problems
Check = Callable[[str, str, "Blueprint", "Placement", dict[str, PoolSettingsT], SettingsT], "list[Problem]"]
# What a target deploys differently from what was asked (warnings, not errors): the check's arguments
# without the source, plus the environment's profile (read replicas and HA come from it too).
Caveats = Callable[[str, "Blueprint", "Placement", dict[str, PoolSettingsT], SettingsT, "Profile"], "list[Caveat]"]
# (profile, has TLS settings, target settings) -> ["<config key>|<what to set>", ...]
Requirements = Callable[["Profile", bool, SettingsT], list[str]]
# (blueprint, placement, pool settings) -> the device ids of each container of each workload
GpuDevices = Callable[["Blueprint", "Placement", dict[str, PoolSettingsT]], dict[str, list[tuple[str, ...]]]]
# (type token, resource name, stable id, inputs, outputs to fill in) for the offline preview's mock runtime
MockOutputs = Callable[[str, str, str, Mapping[str, Any], dict[str, Any]], None]
# (invoke token, its arguments) -> its result, or None when the token is not the provider's
MockCall = Callable[[str, Mapping[str, Any]], "dict[str, Any] | None"]
# (the recorded resources the plugin's providers own, a preview.cost.model.CostContext) -> CostLines:
# what those resources cost a month, from the target's own dated price table (docs/cost.md).
Cost = Callable[[Sequence[Any], Any], list[Any]]


@dataclass(frozen=True)
class StatefulType:
    """A resource type whose loss loses data, and the inputs whose change replaces it (the provider's ForceNew).

    ``protect`` says whether prod must protect it (the protect-stateful policy); a StatefulSet is
    watched for replacement but its claims, not the set, hold the data.
    """

    replace_on: tuple[str, ...]
    protect: bool = True


EVERY_INPUT = "*"


def lazy_load(package: str) -> Callable[[], Any]:
    """The ``load`` hook: import ``<package>.target`` (and so its provider SDK) only when a stack runs it."""

    def load() -> Any:
        return importlib.import_module(f"{package}.target").TARGET

    return load


def lazy_render(package: str) -> Callable[[Any, Any], list[Any]]:
    """The ``render`` hook: ``<package>.render.render``, imported when the preview renders."""

    def render(resources: Any, directory: Any) -> list[Any]:
        return list(importlib.import_module(f"{package}.render").render(resources, directory))

    return render


def lazy_cost(package: str) -> Cost:
    """The ``cost`` hook: ``<package>.cost.cost``, imported when the preview prices a stack (``--cost``)."""

    def cost(resources: Sequence[Any], context: Any) -> list[Any]:
        return list(importlib.import_module(f"{package}.cost").cost(resources, context))

    return cost


def no_gpu_devices(
    blueprint: Blueprint, placement: Placement, pool_settings: Mapping[str, BaseModel]
) -> dict[str, list[tuple[str, ...]]]:
    """For targets whose scheduler hands out the GPUs (the device plugin, ECS)."""
    del blueprint, placement, pool_settings
    return {}


def no_reservation(reserved: Mapping[str, Any]) -> str:
    """For targets whose checks record no reservation on a pool's usage."""
    del reserved
    return ""


def no_mock_call(token: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
    """For providers whose resources the program registers without invokes."""
    del token, args
    return None


@dataclass(frozen=True)
class TargetPlugin(Generic[SettingsT, PoolSettingsT]):
    """Every hook the program needs from a target.

    Generic in the target's settings models (inferred from ``target_settings`` and ``pool_settings``),
    so the hooks take them as they are; the registry, which picks a plugin at run time, holds
    ``TargetPlugin[Any, Any]``, and the stack loader validated the settings with these very models.
    """

    name: str
    # Provider package names of the resource types the target registers ("aws" for "aws:rds/instance:Instance").
    providers: tuple[str, ...]
    target_settings: type[SettingsT]
    pool_settings: type[PoolSettingsT]
    requirements: Requirements[SettingsT]
    check: Check[PoolSettingsT, SettingsT]
    caveats: Caveats[PoolSettingsT, SettingsT]
    # Imports the provider SDK: call only for the stack's own target.
    load: Callable[[], type[Target]]
    # Writes what the target hands to its own tools (compose files, manifests) from recorded resources.
    render: Callable[[Any, Any], list[Any]]
    # The cards each container gets, where the target assigns GPU devices itself (Docker); else {}.
    gpu_devices: GpuDevices[PoolSettingsT]
    # What the pool report adds for a reservation the target's checks recorded on a pool's usage
    # (``usage.reservation``, whose "target" names the plugin); "" where the target records none.
    reservation_text: Callable[[Mapping[str, Any]], str]
    mock_outputs: MockOutputs
    mock_call: MockCall
    # Monthly cost lines for the resources the plugin's providers own (``targets/<t>/cost.py``, SDK-free).
    cost: Cost
    stateful_types: Mapping[str, StatefulType] = field(default_factory=dict)
    # Types that make a foundation the public entry, and the word the architecture graph shows for each.
    entry_hints: Mapping[str, str] = field(default_factory=dict)

    def owns(self, token: str) -> bool:
        """Whether a resource or invoke token belongs to one of this target's providers."""
        return token.split(":", 1)[0] in self.providers
