"""The shared test kit's own behaviour: a helper that passed on anything would hide every regression."""

from __future__ import annotations

from typing import Any

import pytest

from preview.mocks import Recorded
from preview.runner import PreviewResult
from tests.kit import component_counts, contains, count, has, names, one, recorded, targets_of_every_pool

TOKEN = "test:index/thing:Thing"


def thing(name: str, token: str = TOKEN, **inputs: Any) -> Recorded:
    return recorded(token, name, inputs, parent=None)


RESULT = PreviewResult(
    stack="unit",
    config={},
    resources=[
        thing("a", size=1, spec={"ports": [{"port": 80}], "kind": "web"}),
        thing("b", size=2),
        thing("b", token="test:index/other:Other"),
        thing("gpu", token="gpu-platform:components:GpuNode"),
        thing("api", token="gpu-platform:components:Service"),
        thing("ui", token="gpu-platform:components:Service"),
    ],
)


def test_one_finds_exactly_one_and_names_what_it_missed() -> None:
    assert one(RESULT, TOKEN, "a").inputs["size"] == 1
    with pytest.raises(AssertionError, match=f"expected one {TOKEN} named c, got 0"):
        one(RESULT, TOKEN, "c")
    with pytest.raises(AssertionError, match="got 2"):
        one(PreviewResult("unit", {}, [thing("x"), thing("x")]), TOKEN, "x")


def test_count_and_names_are_per_type() -> None:
    assert count(RESULT, TOKEN) == 2
    assert count(RESULT, TOKEN, lambda r: r.inputs["size"] > 1) == 1
    assert count(RESULT, "test:index/none:None") == 0
    assert names(RESULT, TOKEN) == {"a", "b"}


def test_has_matches_nested_subsets_only() -> None:
    assert has(RESULT, TOKEN, size=2)
    assert has(RESULT, TOKEN, spec={"kind": "web"})
    assert has(RESULT, TOKEN, spec={"ports": [{"port": 80}]})
    assert not has(RESULT, TOKEN, size=3)
    assert not has(RESULT, TOKEN, spec={"kind": "web", "extra": 1})
    assert not has(RESULT, TOKEN, spec={"ports": [{"port": 80}, {"port": 443}]})
    assert not has(RESULT, "test:index/other:Other", size=2)


def test_contains_compares_values_exactly() -> None:
    assert contains({"a": [1, {"b": 2, "c": 3}]}, {"a": [1, {"b": 2}]})
    assert not contains({"a": "1"}, {"a": 1})
    assert not contains([1, 2], [1])


def test_component_counts_by_kind() -> None:
    assert dict(component_counts(RESULT)) == {"GpuNode": 1, "Service": 2}


def test_targets_of_every_pool() -> None:
    pools = {"a": {"targets": {"docker": {}, "aws": {}}}, "b": {"targets": {"aws": {}}}, "c": {"targets": {"aws": {}}}}
    assert targets_of_every_pool({"pools": pools}) == ["aws"]
    assert targets_of_every_pool({"pools": {**pools, "d": {}}}) == []
