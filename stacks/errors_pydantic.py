"""Turn pydantic's ValidationError into :class:`Problem` lines a user can act on.

pydantic knows the path and the value; this module adds what is allowed in words
(the keys a model accepts, the literal choices, the numeric range) so every
message names key path, bad value and the rule.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from stacks.errors import Problem
from stacks.spec import NAME_PATTERN, NAME_RULE

_MISSING = "<missing>"


def problems_from(error: ValidationError, model: type[BaseModel], prefix: str = "") -> list[Problem]:
    """One :class:`Problem` per pydantic error, paths joined with dots and [i]."""
    problems = []
    for detail in error.errors(include_url=False):
        path = _path(prefix, detail["loc"])
        value = detail.get("input", _MISSING) if detail["type"] != "missing" else _MISSING
        problems.append(Problem(path, value, _allowed(detail, model)))
    return problems


def _path(prefix: str, loc: tuple[int | str, ...]) -> str:
    if prefix.endswith(":") and loc and isinstance(loc[0], str):
        # "gpu-platform:" + "target" reads as the config key "gpu-platform:target".
        prefix, loc = prefix + loc[0], loc[1:]
    parts = [prefix] if prefix else []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif item == "[key]":
            parts[-1:] = [f"{parts[-1]} (key)"] if parts else ["(key)"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def _allowed(detail: ErrorDetails, model: type[BaseModel]) -> str:
    kind = detail["type"]
    ctx: dict[str, Any] = dict(detail.get("ctx") or {})
    if kind == "extra_forbidden":
        owner = _model_at(model, detail["loc"][:-1])
        keys = ", ".join(owner.model_fields) if owner else "none"
        return f"unknown key; allowed keys here: {keys}"
    if kind == "missing":
        return "this key is required"
    if kind == "literal_error":
        return f"allowed values: {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == NAME_PATTERN:
            return f"must be {NAME_RULE}"
        return f"must match the pattern {ctx.get('pattern')}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        owner = _model_at(model, detail["loc"][:-1])
        bounds = _bounds(owner, str(detail["loc"][-1])) if owner else None
        if bounds:
            return f"must be a number from {bounds[0]} to {bounds[1]}"
    message = detail["msg"]
    for noise in ("Value error, ", "Assertion failed, "):
        message = message.replace(noise, "")
    return _lower_first_word(message) if message else "invalid value"


def _lower_first_word(message: str) -> str:
    """Lowercase the first word to follow a ';' ("input should be ..."), but keep acronyms ("GPU units ...")."""
    first = message.split(" ", 1)[0]
    if first[1:2].isupper() or any(c.isdigit() for c in first):
        return message  # an acronym or a name (GPU, TLS, ECS, gRPC's peers): lowercasing would mangle it
    return message[0].lower() + message[1:]


def _bounds(model: type[BaseModel], field: str) -> tuple[object, object] | None:
    info = model.model_fields.get(field)
    if info is None:
        return None
    low = high = None
    for meta in _metadata(info.annotation) + list(info.metadata):
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        low = getattr(meta, "gt", None) if getattr(meta, "gt", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
    if low is None and high is None:
        return None
    return (low if low is not None else "-inf", high if high is not None else "inf")


def _metadata(annotation: object) -> list[object]:
    found: list[object] = []
    if typing.get_origin(annotation) is typing.Annotated:
        found.extend(typing.get_args(annotation)[1:])
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Annotated:
            found.extend(typing.get_args(arg)[1:])
    return found


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that owns the key at ``loc`` (walks dicts, lists, Optionals)."""
    current: object = model
    for item in loc:
        current = _unwrap_to_container(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(item, str) or item not in current.model_fields:
                return None
            current = current.model_fields[item].annotation
            continue
        origin = typing.get_origin(current)
        if origin in (dict, list):
            current = typing.get_args(current)[-1]
            continue
        return None
    current = _unwrap_to_container(current)
    if typing.get_origin(current) in (dict, list):
        current = _unwrap_to_container(typing.get_args(current)[-1])
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap_to_container(annotation: object) -> object:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = options[0]
        else:
            return annotation
