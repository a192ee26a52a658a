"""Hostile or generated input stops cleanly and fast: limits on size, aliases, nesting and ``uses`` chains.

Each test writes an input that used to crash the program (a traceback, a
``MemoryError`` after most of a minute, a segfault in libyaml, a
``RecursionError`` inside the Pulumi SDK) and checks the contract of
``tests/test_bad_input.py``: one config error naming where and what is allowed,
nothing registered. The limits are read from ``stacks.inputs`` and
``stacks.references`` so the inputs sit just past them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from preview.mocks import RecordingMonitor
from stacks.errors import ConfigError, Problem, _show
from stacks.inputs import MAX_BYTES, MAX_DEPTH, MAX_VALUES
from stacks.loader import load_stack
from stacks.references import MAX_USES_CHAIN
from tests.conftest import reference_blueprint, stack_config, write_blueprint
from tests.preview_probe import preview_cli
from tests.test_bad_input import run_failing

SERVICE: dict[str, Any] = {
    "image": "nginx:1.27.3",
    "ports": [{"container_port": 80}],
    "requests": {"cpu": 0.01, "memory": "16Mi"},
}


def _config_for_file(tmp_path: Path, content: bytes | str, name: str = "input.yaml") -> tuple[dict[str, Any], str]:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return stack_config("dev", blueprint=str(path)), str(path)


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    """A "billion laughs" blueprint: 9 levels of 9 aliases, width**levels strings from < 1 KB."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    tail = "name: lol\npools: {g: {cpu: 1, memory: 1Gi}}\n"
    tail += f"services:\n  x:\n    image: nginx:1.2\n    command: *l{levels}\n"
    return "\n".join(lines) + "\n" + tail


def _merge_bomb(levels: int = 12, width: int = 10) -> str:
    """The same with YAML merge keys, which PyYAML copies while constructing (not just at a walk)."""
    lines = ["m0: &m0 {k0: 1, k1: 2}"]
    lines += [f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * width)}], x{i}: 1}}" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\nname: merge\n"


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        (_alias_bomb(), f"more than {MAX_VALUES} values"),
        (_merge_bomb(), f"more than {MAX_VALUES} values"),
        ("name: loop\nservices: &s {x: *s}\n", "must not refer to a value that contains it"),
        ("name: deep\ndescription: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n", "levels"),
    ],
    ids=["alias-bomb", "merge-key-bomb", "recursive-alias", "nested-past-the-limit"],
)
def test_yaml_that_expands_is_refused_while_reading(
    document: str, fragment: str, tmp_path: Path, monitors: list[RecordingMonitor]
) -> None:
    """Refused in well under a second (it ran 48 s into a MemoryError), naming the line and the limit."""
    config, path = _config_for_file(tmp_path, document)
    started = time.monotonic()
    message, monitor = run_failing(config, monitors)

    assert time.monotonic() - started < 5
    assert monitor.recorded == []
    assert message.startswith(f"config error in {path}: line ")
    assert fragment in message
    assert len(message) < 400


def test_bracket_nesting_that_crashed_libyaml_exits_cleanly(tmp_path: Path) -> None:
    """100 000 nested brackets (200 KB) made libyaml's recursive composer segfault the interpreter."""
    path = tmp_path / "brackets.yaml"
    path.write_text("name: x\ndescription: " + "[" * 100_000 + "]" * 100_000 + "\n")

    done = preview_cli("dev", "--blueprint", str(path))

    assert done.returncode == 1, done.stderr[-500:]
    assert f"config error in {path}: line 2" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_blueprint_over_the_size_limit(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    """A file one byte past the limit is refused before it is parsed (comments alone are enough)."""
    config, path = _config_for_file(tmp_path, "name: big\n" + "#" * MAX_BYTES)
    message, monitor = run_failing(config, monitors)

    assert monitor.recorded == []
    assert f"config error in {path}: (whole file): '{MAX_BYTES + 10} bytes'" in message
    assert f"at most {MAX_BYTES // 1024} KiB" in message


def test_blueprint_at_the_value_limit_still_loads(tmp_path: Path) -> None:
    """The limit is not a guess about shipped blueprints only: a large legitimate document passes."""
    blueprint = reference_blueprint()
    blueprint["description"] = "x" * (MAX_BYTES // 2)
    spec = load_stack("dev", stack_config("dev", blueprint=write_blueprint(tmp_path, blueprint)))
    assert len(spec.blueprint.description) == MAX_BYTES // 2


@pytest.mark.parametrize(
    ("content", "where", "byte"),
    [
        (b"name: x\n\xff\xfe\x00\x01binary", "line 2, column 1", "0xff"),
        ("name: caf\u00e9\n".encode("latin-1"), "line 1, column 10", "0xe9"),
    ],
    ids=["binary", "latin-1"],
)
def test_blueprint_that_is_not_utf8(
    content: bytes, where: str, byte: str, tmp_path: Path, monitors: list[RecordingMonitor]
) -> None:
    """It was ``program error: UnicodeDecodeError`` without the file's name."""
    config, path = _config_for_file(tmp_path, content)
    message, monitor = run_failing(config, monitors)

    assert monitor.recorded == []
    assert message.startswith(f"config error in {path}: {where}: 'byte {byte}'")
    assert "UTF-8" in message


def test_cli_binary_blueprint_exits_1_without_exception_names(tmp_path: Path) -> None:
    """What the issue saw, through the CLI: exit 1, the file named, no ``program error: XxxError``."""
    path = tmp_path / "random.yaml"
    path.write_bytes(bytes(range(128, 256)) * 8)

    done = preview_cli("dev", "--blueprint", str(path))

    assert done.returncode == 1
    assert str(path) in done.stderr
    assert "program error" not in done.stderr
    assert "Error" not in done.stderr


def test_blueprint_path_that_is_a_pipe(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    """A FIFO is refused by its kind, blaming the config key (opening it would block forever)."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    message, monitor = run_failing(stack_config("dev", blueprint=str(fifo)), monitors)

    assert monitor.recorded == []
    assert f"gpu-platform:blueprint: {str(fifo)!r} is not allowed; it is a pipe" in message


def test_blueprint_that_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, monitors: list[RecordingMonitor]
) -> None:
    """Permission denied (simulated: the tests may run as root, who may read anything)."""
    config, path = _config_for_file(tmp_path, "name: x\n")
    real_open = Path.open

    def denied(self: Path, *args: Any, **kwargs: Any) -> Any:
        if str(self) == path:
            raise PermissionError(13, "Permission denied", path)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    message, monitor = run_failing(config, monitors)

    assert monitor.recorded == []
    assert f"gpu-platform:blueprint: {path!r} is not allowed; cannot read it (permission denied)" in message


def test_integer_postgres_version_means_the_same_version(tmp_path: Path) -> None:
    """``version: 16`` (a YAML integer) was "16 is not allowed; allowed: '16'"."""
    blueprint = reference_blueprint()
    blueprint["databases"]["bem-db"]["version"] = 16
    spec = load_stack("dev", stack_config("dev", blueprint=write_blueprint(tmp_path, blueprint)))
    assert spec.blueprint.databases["bem-db"].version == "16"


def _chain(length: int, reverse: bool = False) -> dict[str, Any]:
    """``s{i}`` uses ``s{i-1}``: one chain of ``length`` services (listed last-first when ``reverse``)."""
    services = {f"s{i}": {**SERVICE, "uses": [f"s{i - 1}"]} if i else dict(SERVICE) for i in range(length)}
    if reverse:
        services = dict(reversed(list(services.items())))
    return {
        "name": "chain",
        "pools": {"general": {"cpu": 1000, "memory": "10000Gi", "allocation_cap": 1}},
        "services": services,
    }


@pytest.mark.parametrize("reverse", [False, True], ids=["defined-in-order", "defined-last-first"])
def test_long_uses_chain_is_refused_before_the_sdk(
    reverse: bool, tmp_path: Path, monitors: list[RecordingMonitor]
) -> None:
    """1000 chained services died in the SDK's recursive cycle check (RecursionError) after 30 s.

    Listed last-first, the creation order's own depth-first walk recursed 1000 deep too.
    """
    path = write_blueprint(tmp_path, _chain(1000, reverse))
    message, monitor = run_failing(stack_config("dev", blueprint=path), monitors)

    assert monitor.recorded == []
    assert "services.s999.uses: 's999 -> s998 -> s997 -> ... -> s1 -> s0 (1000 workloads)'" in message
    assert f"a chain of uses may be at most {MAX_USES_CHAIN} workloads long" in message


def test_uses_chain_at_the_limit_loads(tmp_path: Path) -> None:
    """The longest chain allowed validates and is ordered dependencies-first."""
    spec = load_stack("dev", stack_config("dev", blueprint=write_blueprint(tmp_path, _chain(MAX_USES_CHAIN, True))))
    assert spec.order == tuple(f"s{i}" for i in range(MAX_USES_CHAIN))


def test_shown_values_are_bounded() -> None:
    """A value in a message costs what it shows: an expanded alias bomb, a huge integer, a long string."""
    shared: list[Any] = ["lol"] * 9
    for _ in range(30):  # 9**31 strings if anything walked it all
        shared = [shared] * 9
    started = time.monotonic()
    shown = [_show(shared), _show(10**5000), _show("x" * 10**6), _show({"k": shared})]
    assert time.monotonic() - started < 1
    assert all(len(text) <= 120 for text in shown)
    assert shown[1] == "<an integer of about 5000 digits>"
    assert _show({"min": 5, "max": 2}) == "{'min': 5, 'max': 2}"


def test_many_problems_are_summarised() -> None:
    """A generated blueprint breaking one rule 5000 times gives a readable message, not 5000 lines."""
    error = ConfigError("x.yaml", [Problem(f"services.s{i}.replicas", 0, "at least 1") for i in range(5000)])
    lines = error.message.splitlines()
    assert lines[0] == "config error in x.yaml (5000 problems):"
    assert lines[1] == "  - services.s0.replicas: 0 is not allowed; at least 1"
    assert lines[-1] == "  - ... and 4980 more"
    assert len(lines) == 22


def test_generated_blueprint_with_thousands_of_errors(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    """End to end: 2000 broken services are one short message, quickly."""
    services = {f"s{i}": {"image": "nginx"} for i in range(2000)}
    path = write_blueprint(
        tmp_path, {"name": "many", "pools": {"g": {"cpu": 1, "memory": "1Gi"}}, "services": services}
    )
    message, monitor = run_failing(stack_config("dev", blueprint=path), monitors)

    assert monitor.recorded == []
    assert "(2000 problems)" in message
    assert "... and 1980 more" in message
    assert len(message.splitlines()) == 22


def test_yaml_safe_load_agrees_on_shipped_blueprints() -> None:
    """The bounded loader reads every shipped blueprint exactly as ``yaml.safe_load`` does."""
    from stacks.inputs import load_yaml
    from stacks.loader import BLUEPRINTS

    for path in sorted(BLUEPRINTS.glob("*.yaml")):
        text = path.read_text()
        assert load_yaml(text) == yaml.safe_load(text), path.name
