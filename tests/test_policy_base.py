"""The shared input readers in policy/rules/base.py, and the rule modules' use of them.

Expected values come from the shapes the engine sends (numbers as floats, some booleans
as text, lists and maps as pulumi_policy's read-only proxies, unknowns during preview),
written out by hand here, not taken from the readers' output.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policy.rules import base
from policy.rules.base import has_input, is_false, is_true, mapping, mappings, shown, whole_number, world_cidrs
from policy.rules.targets import TARGETS

RULES_DIR = Path(base.__file__).resolve().parent


@pytest.mark.parametrize(
    ("value", "true", "false"),
    [
        (True, True, False),
        (False, False, True),
        ("true", True, False),
        (" TRUE ", True, False),  # GCP VM metadata: enable-oslogin "TRUE"
        ("False", False, True),
        (None, False, False),  # unset is neither
        ("", False, False),
        (1, False, False),  # a number is not a boolean input
        (0.0, False, False),
        ("yes", False, False),
    ],
)
def test_is_true_and_is_false(value: object, true: bool, false: bool) -> None:
    assert is_true(value) is true
    assert is_false(value) is false


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(30, 30), (30.0, 30), ("30", 30), (" 7 ", 7), ("30.0", 30)],
        *[(None, None), (True, None), (False, None), ("abc", None), ([30], None), ({}, None)],
    ],
)
def test_whole_number(value: object, expected: int | None) -> None:
    assert whole_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(None, "unset"), ("", "unset"), (True, "true"), (False, "false")],
        *[(30.0, "30"), (2.5, "2.5"), (0, "0"), ("Disabled", "Disabled"), (["a"], "['a']")],
    ],
)
def test_shown(value: object, expected: str) -> None:
    assert shown(value) == expected


def test_mappings_keeps_the_objects_of_a_proxied_list() -> None:
    props = unknown_checking_proxy({"ingress": [{"fromPort": 22.0}, "stray", 5, {"fromPort": 443.0}]})
    found = mappings(props["ingress"])
    assert [item["fromPort"] for item in found] == [22.0, 443.0]
    assert mappings(None) == []
    assert mappings({"fromPort": 80.0}) == [{"fromPort": 80.0}]  # a single object is a list of one


def test_mapping_reads_a_dotted_path_and_is_empty_otherwise() -> None:
    props = unknown_checking_proxy({"settings": {"ipConfiguration": {"sslMode": "ENCRYPTED_ONLY"}, "tier": "x"}})
    assert mapping(props, "settings.ipConfiguration")["sslMode"] == "ENCRYPTED_ONLY"
    assert mapping(props, "settings.tier") == {}  # text, not an object
    assert mapping(props, "settings.backupConfiguration") == {}
    assert mapping(props, "nothing.here").get("anything") is None


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (("0.0.0.0/0",), ["0.0.0.0/0"]),
        ((["10.0.0.0/8", "::/0"], None), ["::/0"]),
        ((" 0.0.0.0/0 ",), [" 0.0.0.0/0 "]),  # reported as written
        (("10.1.2.3/0",), ["10.1.2.3/0"]),  # not canonical, still every address
        (("0.0.0.0/1", "0.0.0.0", "sg-0123", "Internet", None), []),  # half the internet is not "world" here
    ],
)
def test_world_cidrs(groups: tuple[object, ...], expected: list[str]) -> None:
    assert world_cidrs(*groups) == expected


def test_has_input_sees_an_unknown_value_without_reading_it() -> None:
    """Why the helper exists: reading an unknown through the policy server's proxy raises."""
    props = unknown_checking_proxy({"replicateSourceDb": UNKNOWN_STRING_VALUE, "engine": "postgres"})
    with pytest.raises(UnknownValueError):
        props.get("replicateSourceDb")
    assert has_input(props, "replicateSourceDb")
    assert has_input(props, "engine")
    assert not has_input(props, "kmsKeyId")


# -- the rule modules --------------------------------------------------------------------------


def _tree(name: str) -> ast.Module:
    return ast.parse((RULES_DIR / f"{name}.py").read_text())


@pytest.mark.parametrize("name", TARGETS)
def test_a_target_rule_module_imports_no_other_target_module(name: str) -> None:
    imported = {node.module for node in ast.walk(_tree(name)) if isinstance(node, ast.ImportFrom)}
    others = {f"policy.rules.{other}" for other in TARGETS if other != name}
    assert not imported & others


@pytest.mark.parametrize("name", TARGETS)
def test_a_target_rule_module_defines_no_shared_reader_again(name: str) -> None:
    """No module keeps its own copy of a base.py function, public or under a private name."""
    shared = {node.name for node in _tree("base").body if isinstance(node, ast.FunctionDef)}
    defined = {node.name.lstrip("_") for node in _tree(name).body if isinstance(node, ast.FunctionDef)}
    assert not defined & shared
