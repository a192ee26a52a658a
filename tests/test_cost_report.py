"""The estimate's outputs: the table, ``--json``'s cost section, Infracost's JSON, the PR comment, --compare.

The Infracost document is validated against the constraints of Infracost's own output schema
(github.com/infracost/infracost, ``schema/infracost.schema.json`` at 03047c98: required keys,
``additionalProperties: false``, amounts as strings), transcribed below as a JSON Schema.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from preview.__main__ import main
from preview.compare import compare
from preview.cost.estimate import Estimate
from preview.cost.infracost import to_infracost
from preview.cost.model import CostLine
from preview.cost.prices import price_tables
from preview.cost.render import increases, render_compare_text, render_text
from preview.markdown import render
from tests import tokens
from tests.kit import recorded

AMOUNT = {"type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$"}


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


COMPONENT = _object(
    ["name", "unit", "hourlyQuantity", "monthlyQuantity", "price", "hourlyCost", "monthlyCost"],
    {"name": {"type": "string"}, "unit": {"type": "string"}}
    | dict.fromkeys(("hourlyQuantity", "monthlyQuantity", "price", "hourlyCost", "monthlyCost"), AMOUNT),
)
RESOURCE = _object(
    ["name", "metadata", "hourlyCost", "monthlyCost"],
    {
        "name": {"type": "string"},
        "tags": {"type": "object"},
        "metadata": {"type": "object"},
        "hourlyCost": AMOUNT,
        "monthlyCost": AMOUNT,
        "costComponents": {"type": "array", "items": COMPONENT},
        "subresources": {"type": "array"},
    },
)
BREAKDOWN = _object(
    ["resources", "totalHourlyCost", "totalMonthlyCost"],
    {"resources": {"type": "array", "items": RESOURCE}, "totalHourlyCost": AMOUNT, "totalMonthlyCost": AMOUNT},
)
SUMMARY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        k: {"type": "integer"}
        for k in (
            "totalResources",
            "totalDetectedResources",
            "totalSupportedResources",
            "totalUnsupportedResources",
            "totalUsageBasedResources",
            "totalNoPriceResources",
        )
    }
    | {
        k: {"type": "object"} for k in ("supportedResourceCounts", "unsupportedResourceCounts", "noPriceResourceCounts")
    },
}
PROJECT = _object(
    ["name", "metadata", "pastBreakdown", "breakdown", "diff", "summary"],
    {
        "name": {"type": "string"},
        "metadata": {"type": "object", "required": ["path", "type"]},
        "pastBreakdown": BREAKDOWN,
        "breakdown": BREAKDOWN,
        "diff": BREAKDOWN,
        "summary": SUMMARY,
    },
)
ROOT_KEYS = ["version", "currency", "projects", "totalHourlyCost", "totalMonthlyCost", "pastTotalHourlyCost"]
ROOT_KEYS += ["pastTotalMonthlyCost", "diffTotalHourlyCost", "diffTotalMonthlyCost", "timeGenerated", "summary"]
INFRACOST = _object(
    ROOT_KEYS,
    {"version": {"type": "string"}, "runId": {"type": "string"}, "shareUrl": {"type": "string"}}
    | {"currency": {"type": "string"}, "projects": {"type": "array", "items": PROJECT}, "summary": SUMMARY}
    | {"timeGenerated": {"type": "string", "format": "date-time"}}
    | {k: AMOUNT for k in ROOT_KEYS if "Cost" in k},
)


def line(resource: str, name: str, price: str, quantity: int, **extra: Any) -> CostLine:
    return CostLine(
        resource=resource,
        type=tokens.AWS_AUTOSCALING_GROUP,
        name=name,
        unit="hours",
        price=Decimal(price),
        quantity=Decimal(quantity),
        urn=f"urn::{resource}",
        component=extra.pop("component", "gpu"),
        **extra,
    )


SMALL = Estimate(
    stack="t",
    lines=[
        line("gpu-asg", "Instance usage", "1.006", 730, quantity_max=Decimal(1460)),
        line("gpu-asg", "Root volume", "0.08", 100, component="gpu"),
        line("nat", "NAT gateway", "0.045", 730, component="network"),
        CostLine.missing(
            recorded(tokens.AWS_EC2_INSTANCE, "vm", {}),
            "vm",
            "not priced",
        ),
    ],
)


def test_infracost_json_matches_the_schema_and_adds_up() -> None:
    document = to_infracost(SMALL)
    jsonschema.validate(document, INFRACOST)
    (project,) = document["projects"]
    resources = {r["name"]: r for r in project["breakdown"]["resources"]}
    assert set(resources) == {"gpu-asg", "nat"}
    # 1.006 x 730 + 0.08 x 100 = 734.38 + 8 ; 0.045 x 730 = 32.85
    assert resources["gpu-asg"]["monthlyCost"] == "742.38"
    assert resources["nat"]["costComponents"][0] == {
        "name": "NAT gateway",
        "unit": "hours",
        "hourlyQuantity": "1",
        "monthlyQuantity": "730",
        "price": "0.045",
        "hourlyCost": "0.045",
        "monthlyCost": "32.85",
    }
    assert document["totalMonthlyCost"] == "775.23"
    assert project["summary"]["totalNoPriceResources"] == 1


def test_the_table_shows_rates_quantities_min_and_max() -> None:
    text = render_text(SMALL)
    assert "1,468.76" in text  # the group at its maximum: 1.006 x 1460
    assert "730 (max 1,460)" in text
    assert "vm: not priced" in text


def test_increases_above_ten_percent_are_called_out() -> None:
    base = SMALL.to_json()
    bigger = copy.deepcopy(base)
    bigger["components"]["network"]["monthly"] = "36.20"  # 32.85 -> 36.20: +10.2 %
    bigger["monthly"] = str(Decimal(base["monthly"]) + Decimal("3.35"))
    found = increases(base, bigger)
    assert [f.split(" ")[0] for f in found] == ["network"]  # the total grew by 0.4 %: not called out
    assert "!! cost up more than 10%: network 32.85 -> 36.20 (+10%)" in render_compare_text(base, bigger)
    bigger["components"]["network"]["monthly"] = "36.10"  # +9.9 %
    assert increases(base, bigger) == []
    assert "!!" not in render_compare_text(base, bigger)


@pytest.fixture(scope="module")
def prod_document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("docs") / "prod.json"
    with open(path, "w") as out:
        import contextlib

        with contextlib.redirect_stdout(out):
            main(["prod", "--blueprint", "bem", "--json"])
    return json.loads(path.read_text())


def test_json_has_the_cost_section(prod_document: dict[str, Any]) -> None:
    cost = prod_document["cost"]
    totals = sum(Decimal(c["monthly"]) for c in cost["components"].values())
    assert abs(Decimal(cost["monthly"]) - totals) <= Decimal("0.005") * len(cost["components"])  # cents rounding
    assert Decimal(cost["monthly_max"]) > Decimal(cost["monthly"])  # autoscaled services and the GPU group
    aws = next(t for t in price_tables() if t.path.parent.name == "aws")
    assert cost["price_tables"] == [f"targets/aws/prices.yaml (as of {aws.as_of})"]  # the one table its lines used


def test_markdown_has_a_cost_section_and_compare_calls_out_increases(prod_document: dict[str, Any]) -> None:
    base = copy.deepcopy(prod_document)
    base["cost"]["components"]["gpu"]["monthly"] = "100.00"
    base["cost"]["monthly"] = str(Decimal(prod_document["cost"]["monthly"]) - Decimal("500"))
    body = render(prod_document, compare(base, prod_document))
    assert "### Monthly cost (estimate)" in body
    warning = body.index("Monthly cost up by more than 10%")
    assert warning < body.index("### Changes against")  # at the top, before the resource changes
    assert "gpu 100.00 -> 742.38" in body
    plain = render(prod_document)
    assert "Monthly cost up" not in plain


def test_the_cli_flags(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["dev", "--format", "infracost-json"]) == 1
    assert "--format goes with --cost" in capsys.readouterr().err
    usage = tmp_path / "usage.yml"
    usage.write_text("resource_usage: {x: {hourly_cost: many}}\n")
    assert main(["dev", "--cost", "--usage", str(usage)]) == 1
    assert "resource_usage.x.hourly_cost" in capsys.readouterr().err
    usage.write_text("version: 0.1\nresource_type_default_usage: {docker:host: {hourly_cost: 0.25}}\n")
    assert main(["dev", "--cost", "--usage", str(usage)]) == 0
    out = capsys.readouterr().out
    assert "182.50" in out  # one local engine host at 0.25 x 730
    assert main(["dev", "--cost", "--format", "infracost-json", "--usage", str(usage)]) == 0
    jsonschema.validate(json.loads(capsys.readouterr().out), INFRACOST)
