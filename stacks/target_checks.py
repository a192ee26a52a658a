"""Checks a blueprint must pass for its target, before any resource is registered, and the target's caveats.

The blueprint is target-agnostic; some combinations are impossible on one target only (two
containers publishing one host port on a Docker engine, a GPU service on Fargate). Each target
package has its own checks (``targets/<name>/checks.py``, reached through its plugin); this module
dispatches to them and holds the helpers several targets share.
"""

from __future__ import annotations

from pydantic import BaseModel

from stacks.errors import Caveat, Problem
from stacks.placement import Placement
from stacks.profiles import Profile
from stacks.spec import Blueprint


def database_features_not_built(blueprint: Blueprint, profile: Profile) -> dict[str, tuple[str, list[str]]]:
    """Per database with read replicas or multi-AZ HA asked: (its key path, what was asked, and by whom).

    Replicas come from the blueprint's ``read_replicas`` or, unset, from the profile (prod adds one).
    """
    found: dict[str, tuple[str, list[str]]] = {}
    for name, database in blueprint.databases.items():
        stated = database.read_replicas is not None
        replicas = database.read_replicas if database.read_replicas is not None else profile.read_replicas
        asked = []
        if replicas:
            source = "the blueprint" if stated else f"the {profile.name} profile"
            asked.append(f"{replicas} read replica(s) (from {source})")
        if profile.ha == "multi-az":
            asked.append(f"multi-AZ HA (from the {profile.name} profile)")
        if asked:
            found[name] = (f"databases.{name}" + (".read_replicas" if stated and replicas else ""), asked)
    return found


def check(
    target: str,
    source: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, BaseModel],
    target_settings: BaseModel,
) -> list[Problem]:
    """Every problem the target has with this blueprint (empty when it can deploy it)."""
    from targets import plugin

    return plugin(target).check(source, path, blueprint, placement, pool_settings, target_settings)


def caveats(
    target: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, BaseModel],
    target_settings: BaseModel,
    profile: Profile,
) -> list[Caveat]:
    """What the target will deploy differently from the blueprint or profile (shown as warnings)."""
    from targets import plugin

    return plugin(target).caveats(path, blueprint, placement, pool_settings, target_settings, profile)
