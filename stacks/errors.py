"""User-facing configuration errors.

A wrong config value must stop the program before any resource is registered,
with one message naming the key path, the bad value and what is allowed, and
without a traceback (``pulumi up`` turns :class:`pulumi.RunError` into a clean
exit; the offline preview prints the message and exits 1).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One bad value: where it is, what it was, and what would be accepted."""

    path: str
    value: object
    allowed: str

    def render(self) -> str:
        if self.value is None:
            return f"{self.path} is not set; {self.allowed}"
        return f"{self.path}: {_show(self.value)} is not allowed; {self.allowed}"


class ConfigError(Exception):
    """One or more problems in the stack config or the blueprint it names."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if len(self.problems) == 1:
            return f"config error in {self.source}: {self.problems[0].render()}"
        # A generated blueprint can break one rule thousands of times: the first few say enough.
        shown = self.problems[:MAX_LISTED]
        lines = "\n".join(f"  - {p.render()}" for p in shown)
        more = len(self.problems) - len(shown)
        tail = f"\n  - ... and {more} more" if more else ""
        return f"config error in {self.source} ({len(self.problems)} problems):\n{lines}{tail}"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Caveat:
    """Something the stack can deploy but not as the blueprint or profile asks (a warning, not an error).

    ``pulumi up`` shows it as an engine warning; the offline preview lists it under
    "Warnings" and in the JSON document's ``warnings``.
    """

    path: str
    message: str

    def render(self) -> str:
        return f"{self.path}: {self.message}"


def fail(source: str, path: str, value: object, allowed: str) -> ConfigError:
    """Build a single-problem :class:`ConfigError` (raise the result)."""
    return ConfigError(source, [Problem(path, value, allowed)])


MAX_LISTED = 20
_WIDTH = 120  # characters of a shown value
_ITEMS = 8  # items of a list or mapping shown before "..."
_LEVELS = 3  # nesting shown before "..."


def _show(value: object) -> str:
    """A repr of ``value`` cut to :data:`_WIDTH` characters, costing no more than it shows.

    ``repr`` of a user value is unbounded: an expanded YAML alias bomb, a huge
    integer (``repr`` refuses more than 4300 digits) or a megabyte string. So
    containers show their first few items a few levels deep, and strings and
    numbers are cut before ``repr`` sees them.
    """
    text = "".join(_pieces(value, _LEVELS))
    return text if len(text) <= _WIDTH else text[: _WIDTH - 3] + "..."


def _pieces(value: object, levels: int) -> list[str]:
    if isinstance(value, (dict, list, tuple)):
        if levels == 0 and value:
            return ["{...}" if isinstance(value, dict) else "[...]"]
        return _container(value, levels)
    if isinstance(value, str):
        return [repr(value[:_WIDTH]) if len(value) <= _WIDTH else repr(value[:_WIDTH])[:-1] + "..."]
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return [f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"]
    text = repr(value)
    return [text[: _WIDTH + 1]]


def _container(value: dict[object, object] | list[object] | tuple[object, ...], levels: int) -> list[str]:
    items = list(value.items())[:_ITEMS] if isinstance(value, dict) else list(value[:_ITEMS])
    open_, close = ("{", "}") if isinstance(value, dict) else ("(", ")") if isinstance(value, tuple) else ("[", "]")
    pieces = [open_]
    for index, item in enumerate(items):
        if index:
            pieces.append(", ")
        if isinstance(value, dict):
            key, inner = item  # pyright: ignore[reportGeneralTypeIssues]
            pieces += [*_pieces(key, levels - 1), ": ", *_pieces(inner, levels - 1)]
        else:
            pieces += _pieces(item, levels - 1)
    if len(value) > _ITEMS:
        pieces.append(", ...")
    if isinstance(value, tuple) and len(value) == 1:
        pieces.append(",")
    pieces.append(close)
    return pieces
