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
        lines = "\n".join(f"  - {p.render()}" for p in self.problems)
        return f"config error in {self.source} ({len(self.problems)} problems):\n{lines}"

    def __str__(self) -> str:
        return self.message


def fail(source: str, path: str, value: object, allowed: str) -> ConfigError:
    """Build a single-problem :class:`ConfigError` (raise the result)."""
    return ConfigError(source, [Problem(path, value, allowed)])


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
