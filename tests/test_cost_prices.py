"""Price tables and schedules: dated, sourced, fresh; schedule hours counted by hand.

The staleness test is the point of the dated table: list prices change, and an estimate from a
stale table must fail the suite, naming the command that refreshes it.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest

from preview.cost.prices import PriceTable, price_tables
from preview.cost.schedule import field_values, up_fraction
from targets import TARGETS
from targets.aws.cost import _unix  # the Application Auto Scaling form back to Unix cron
from targets.aws.settings import app_autoscaling_cron

TABLES = price_tables()


def test_tables_belong_to_built_targets() -> None:
    names = [t.path.parent.name for t in TABLES]
    assert "aws" in names
    assert set(names) <= {name for name, info in TARGETS.items() if info.built}


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.path.parent.name)
def test_the_table_is_not_stale(table: PriceTable) -> None:
    age = table.age_days(datetime.datetime.now(datetime.UTC).date())
    assert age <= table.max_age_days, (
        f"{table.path} is {age} days old (as_of {table.as_of}, limit {table.max_age_days}): "
        f"refresh it with `{table.refresh}` and review the diff"
    )
    assert 0 < table.max_age_days <= 366


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.path.parent.name)
def test_every_row_has_a_dated_source(table: PriceTable) -> None:
    for name, source in table.sources.items():
        assert str(source["url"]).startswith("https://"), name
        taken = datetime.date.fromisoformat(str(source["taken"]))
        assert taken <= table.as_of, name
        assert source.get("basis"), f"{name}: say whether the figures are fetched, remembered or assumed"
    for region, sections in table.regions.items():
        for section, rows in sections.items():
            for key, row in rows.items():
                assert Decimal(str(row["usd"])) > 0, f"{region}.{section}.{key}"
                assert row["source"] in table.sources, f"{region}.{section}.{key}"


def test_the_gpu_families_the_issue_names_are_in_the_aws_table() -> None:
    aws = next(t for t in TABLES if t.path.parent.name == "aws")
    for instance_type in ("g4dn.xlarge", "g5.xlarge", "g6.xlarge"):
        row = aws.price("us-east-1", "instances", instance_type)
        assert row is not None
        assert row.attribute("gpus") == 1
        assert 0 < row.attribute("spot_discount") < 1
    # The bem seed's own figure for its g5.xlarge.
    assert aws.price("us-east-1", "instances", "g5.xlarge").usd == Decimal("1.006")  # type: ignore[union-attr]


def test_cron_fields() -> None:
    assert field_values("1-5", 4) == {1, 2, 3, 4, 5}
    assert field_values("MON-FRI", 4) == {1, 2, 3, 4, 5}
    assert field_values("5,6,0", 4) == field_values("FRI,SAT,SUN", 4) == {0, 5, 6}
    assert field_values("7", 4) == {0}
    assert field_values("*/15", 0) == {0, 15, 30, 45}
    assert field_values("8-18/5", 1) == {8, 13, 18}


def test_up_fraction_of_common_schedules() -> None:
    # Daily 08:00-20:00: half of every day.
    assert up_fraction("0 8 * * *", "0 20 * * *") == Decimal("0.5")
    # Weekdays 07:00-20:00 in 2025: 261 weekdays x 13 h of 8760 h.
    assert up_fraction("0 7 * * 1-5", "0 20 * * 1-5") == (Decimal(261 * 13) / 8760).quantize(Decimal("0.000001"))
    # Down Friday 20:00, up Monday 07:00: off 59 h a week; 2025 starts on a Wednesday (52 full weekends).
    weekend_off = Decimal(52 * 59) / 8760
    assert abs(up_fraction("0 7 * * 1", "0 20 * * 5") - (1 - weekend_off)) < Decimal("0.002")


def test_application_auto_scaling_crons_read_back_as_the_same_schedule() -> None:
    """Services get the pool's schedule in Application Auto Scaling's cron(...) form: same hours."""
    for cron in ("0 7 * * 1-5", "30 19 * * 5,6,0", "0 6 1 * *"):
        assert up_fraction(_unix(app_autoscaling_cron(cron)), "0 22 * * *") == up_fraction(cron, "0 22 * * *")


def _product(usd: str) -> str:
    """One GetProducts PriceList entry, in the shape the Price List Query API documents."""
    dimension = {"unit": "Hrs", "pricePerUnit": {"USD": usd}, "description": "$ per On Demand Linux hour"}
    term = {"priceDimensions": {"SKU.TERM.DIM": dimension}}
    return json.dumps({"product": {}, "terms": {"OnDemand": {"SKU.TERM": term}}})


def test_the_refresh_script_asks_the_price_list_api_well_formed_questions() -> None:
    """botocore's Stubber checks every request against the pricing service model; the answers update rows."""
    import botocore.session
    from botocore.stub import Stubber

    from targets.aws import refresh_prices

    client = botocore.session.get_session().create_client(
        "pricing", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    table = next(t for t in TABLES if t.path.parent.name == "aws")
    rows = table.regions["us-east-1"]
    with Stubber(client) as stub:
        for key in rows["instances"]:
            filters = refresh_prices.ec2_filters("US East (N. Virginia)", key)
            stub.add_response(
                "get_products",
                {"PriceList": [_product("2.5000000000")], "FormatVersion": "aws_v1"},
                {"ServiceCode": "AmazonEC2", "Filters": filters},
            )
        for key in rows["rds_instances"]:
            filters = refresh_prices.rds_filters("US East (N. Virginia)", key)
            stub.add_response(
                "get_products",
                {"PriceList": [_product("0.1"), _product("0.2")], "FormatVersion": "aws_v1"},
                {"ServiceCode": "AmazonRDS", "Filters": filters},
            )
        refreshed, unchanged = refresh_prices.refresh("us-east-1", client, datetime.date(2030, 1, 2))
    assert {row["usd"] for row in refreshed["regions"]["us-east-1"]["instances"].values()} == {2.5}
    # Two different prices for one class is ambiguous: the row stays and is listed for a hand check.
    assert all("no single on-demand price" in u for u in unchanged if u.startswith("rds_instances."))
    assert refreshed["regions"]["us-east-1"]["rds_instances"]["db.t4g.medium"]["usd"] == 0.065
    assert refreshed["as_of"] == "2030-01-02"
    assert any(u.startswith("rates.fargate_vcpu_hour_x86_64") for u in unchanged)
