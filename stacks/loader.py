"""From raw stack config to a validated :class:`StackSpec`, or one clear :class:`ConfigError`.

Order matters: everything here runs before any resource is registered, so a
bad value anywhere (stack config, blueprint, pool settings, placement) stops
the program having changed nothing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from stacks import target_checks
from stacks.errors import Caveat, ConfigError, Problem, fail
from stacks.errors_pydantic import problems_from
from stacks.inputs import PATH, InputError, check_value, decode_json, load_yaml, read_text
from stacks.placement import Placement, place
from stacks.profiles import PROFILES, Profile
from stacks.references import check_references, creation_order
from stacks.settings import PROJECT, StackSettings
from stacks.spec import Blueprint, Resources
from targets import TARGETS, settings_models, stack_requirements

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ROOT / "blueprints"


@dataclass(frozen=True)
class StackSpec:
    """Everything ``stacks.build`` needs: which blueprint, on which target, with which profile."""

    stack: str
    settings: StackSettings
    profile: Profile
    blueprint: Blueprint
    blueprint_source: str
    target_settings: BaseModel
    pool_settings: dict[str, BaseModel]
    placement: Placement
    order: tuple[str, ...]
    caveats: tuple[Caveat, ...] = ()

    @property
    def target(self) -> str:
        return self.settings.target


def available_blueprints() -> list[str]:
    """Names of the blueprints shipped in ``blueprints/``."""
    return sorted(p.stem for p in BLUEPRINTS.glob("*.yaml"))


def load_stack(stack: str, config: Mapping[str, Any]) -> StackSpec:
    """Validate a stack's ``gpu-platform:`` config and the blueprint it names."""
    source = f"Pulumi.{stack}.yaml"
    settings = _settings(source, config)
    info = TARGETS[settings.target]
    if not info.built:
        hint = f" (issue #{info.issue})" if info.issue else ""
        built = ", ".join(n for n, t in TARGETS.items() if t.built)
        raise fail(
            source,
            f"{PROJECT}:target",
            settings.target,
            f"the {settings.target} target is not built yet{hint}; built targets: {built}",
        )

    path, raw = _read_blueprint(source, settings.blueprint)
    target_model, pool_model = settings_models(settings.target)
    if settings.overrides:
        raw = _deep_merge(raw, settings.overrides)
        path = f"{path} (with {PROJECT}:overrides from {source})"
    raw = _merge_pool_settings(source, path, raw, settings, pool_model)
    try:
        blueprint = Blueprint.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(path, problems_from(error, Blueprint)) from None
    problems = check_references(blueprint)
    order, cycle = creation_order(blueprint) if not problems else ([], [])
    if problems or cycle:
        raise ConfigError(path, problems + cycle)

    target_settings = _validated(
        source, f"{PROJECT}:{settings.target}", target_model, getattr(settings, settings.target)
    )
    pool_settings = {
        name: _validated(
            path, f"pools.{name}.targets.{settings.target}", pool_model, pool.targets.get(settings.target, {})
        )
        for name, pool in blueprint.pools.items()
    }
    defaults = PROFILES[settings.environment].limits
    placement = place(blueprint, path, Resources(cpu=defaults.cpu, memory=defaults.memory_mib))
    needs = stack_requirements(
        settings.target, PROFILES[settings.environment], settings.tls is not None, target_settings
    )
    if needs:
        raise ConfigError(source, [Problem(key, None, what) for key, what in (n.split("|", 1) for n in needs)])
    problems = target_checks.check(settings.target, source, path, blueprint, placement, pool_settings, target_settings)
    if problems:
        raise ConfigError(f"{path} on the {settings.target} target ({source})", problems)

    return StackSpec(
        stack=stack,
        settings=settings,
        profile=PROFILES[settings.environment],
        blueprint=blueprint,
        blueprint_source=path,
        target_settings=target_settings,
        pool_settings=pool_settings,
        placement=placement,
        order=tuple(order),
        caveats=tuple(
            target_checks.caveats(
                settings.target,
                path,
                blueprint,
                placement,
                pool_settings,
                target_settings,
                PROFILES[settings.environment],
            )
        ),
    )


def _settings(source: str, config: Mapping[str, Any]) -> StackSettings:
    ours: dict[str, Any] = {}
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if namespace != PROJECT:
            continue  # provider config such as aws:region belongs to the providers
        ours[name] = _decode(source, key, value)
    try:
        return StackSettings.model_validate(ours)
    except ValidationError as error:
        raise ConfigError(source, problems_from(error, StackSettings, prefix=PROJECT + ":")) from None


def _decode(source: str, key: str, value: Any) -> Any:
    """The CLI hands structured config values to programs as JSON text (read within the input limits)."""
    try:
        if isinstance(value, str) and value[:1] in "{[":
            try:
                return decode_json(value)
            except json.JSONDecodeError:
                return value
        check_value(value)
    except InputError as error:
        raise fail(source, key, error.value, error.allowed) from None
    return value


def _read_blueprint(source: str, name: str) -> tuple[str, dict[str, Any]]:
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") or "/" in name:
        path = candidate if candidate.is_absolute() else ROOT / candidate
    else:
        path = BLUEPRINTS / f"{name}.yaml"
    if not _exists(path):
        raise fail(
            source,
            f"{PROJECT}:blueprint",
            name,
            f"no such blueprint; shipped blueprints: {', '.join(available_blueprints())}, or a path to a .yaml file",
        )
    shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    try:
        raw = load_yaml(read_text(path))
    except InputError as error:
        if error.where == PATH:
            raise fail(source, f"{PROJECT}:blueprint", name, f"{error.value}; {error.allowed}") from None
        raise fail(shown, error.where, error.value, error.allowed) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(top level)"
        raise fail(shown, where, getattr(error, "problem", None) or str(error), "the file must be valid YAML") from None
    if not isinstance(raw, dict):
        found = "an empty document" if raw is None else f"a {type(raw).__name__}"
        raise fail(shown, "(top level)", found, "a blueprint is a YAML mapping with name, pools, services, ...")
    return shown, raw


def _exists(path: Path) -> bool:
    """``path.exists()``, where a name the OS cannot even look up (NUL byte, too long) does not exist."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base``, recursively; a ``null`` in ``extra`` removes the key (e.g. a service in dev)."""
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _merge_pool_settings(
    source: str, path: str, raw: dict[str, Any], settings: StackSettings, pool_model: type[BaseModel]
) -> dict[str, Any]:
    """Stack pool settings land in ``pools.<name>.targets.<target>`` of the blueprint.

    Each stack entry is validated on its own first, so a bad value is reported
    against the stack file and key that hold it, not against the blueprint.
    """
    pools = raw.get("pools") if isinstance(raw.get("pools"), dict) else {}
    assert isinstance(pools, dict)
    for name, values in settings.pools.items():
        pool = pools.get(name)
        if not isinstance(pool, dict):
            raise fail(source, f"{PROJECT}:pools.{name}", name, f"known pools: {', '.join(pools) or 'none'}")
        _validated(source, f"{PROJECT}:pools.{name}", pool_model, values)
        targets = pool.get("targets") if pool.get("targets") is not None else {}
        if not isinstance(targets, dict):
            raise fail(path, f"pools.{name}.targets", targets, "a mapping of target name to settings")
        own = targets.get(settings.target) or {}
        if not isinstance(own, dict):
            raise fail(path, f"pools.{name}.targets.{settings.target}", own, "a mapping of settings")
        pool["targets"] = {**targets, settings.target: _deep_merge(own, values)}
    return raw


def _validated(source: str, prefix: str, model: type[BaseModel], values: Any) -> BaseModel:
    try:
        return model.model_validate(values or {})
    except ValidationError as error:
        raise ConfigError(source, problems_from(error, model, prefix=prefix)) from None
