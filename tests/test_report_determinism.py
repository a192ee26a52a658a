"""Two runs of one program give the same preview document (PR comparisons and reviews diff them)."""

from __future__ import annotations

from preview.report import Report, Violation
from tests.conftest import shipped


def test_violations_are_reported_in_a_stable_order() -> None:
    result = shipped("dev")
    found = [
        Violation("p-b", "advisory", "urn:b", "second"),
        Violation("p-a", "mandatory", "urn:a", "first"),
        Violation("p-a", "advisory", "urn:b", "also second"),
    ]
    forward = Report(result=result, environment="dev", blueprint="reference", targets=["docker"], violations=found)
    backward = Report(
        result=result, environment="dev", blueprint="reference", targets=["docker"], violations=found[::-1]
    )
    assert forward.dumps() == backward.dumps()
    assert forward.tree() == backward.tree()
    assert [v["urn"] for v in forward.to_json()["violations"]] == ["urn:a", "urn:b", "urn:b"]
