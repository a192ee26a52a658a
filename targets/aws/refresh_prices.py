"""Refresh ``targets/aws/prices.yaml`` from the AWS Price List Query API (needs network and AWS credentials).

``python -m targets.aws.refresh_prices --region us-east-1`` re-reads the on-demand price of every
EC2 instance type and RDS for PostgreSQL class already in the table (GetProducts of the ``pricing``
service, free to call from any account; botocore, no boto3), rewrites those rows, marks their
sources fetched today and moves ``as_of`` to today. Rows it does not fetch (Fargate, ELB, NAT,
logs, WAF, ...) are listed at the end with their pricing page: check them by hand before
committing, since ``as_of`` vouches for the whole table. The offline preview never calls this.

The bulk Price List files (pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<service>/current/...)
need no credentials but the EC2 one for a single region is hundreds of MB; the query API filters
server-side. Filters: AWS Price List API user guide, "Using the AWS Price List Query API".
"""

from __future__ import annotations

import argparse
import datetime
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

TABLE = Path(__file__).resolve().parent / "prices.yaml"
# The query API names regions by their location (AWS Price List "location" attribute).
LOCATIONS = {"us-east-1": "US East (N. Virginia)", "us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)"}


def ec2_filters(location: str, instance_type: str) -> list[dict[str, str]]:
    """Linux, shared tenancy, no pre-installed software, an on-demand (Used) capacity price."""
    pairs = {
        "location": location,
        "instanceType": instance_type,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in pairs.items()]


def rds_filters(location: str, instance_class: str) -> list[dict[str, str]]:
    pairs = {
        "location": location,
        "instanceType": instance_class,
        "databaseEngine": "PostgreSQL",
        "deploymentOption": "Single-AZ",
    }
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in pairs.items()]


def on_demand_usd(price_list: Iterable[str]) -> str | None:
    """The one hourly on-demand USD price in GetProducts' ``PriceList`` (JSON strings), or None."""
    prices = set()
    for item in price_list:
        product = json.loads(item)
        for term in (product.get("terms", {}).get("OnDemand") or {}).values():
            for dimension in (term.get("priceDimensions") or {}).values():
                usd = (dimension.get("pricePerUnit") or {}).get("USD")
                if usd and dimension.get("unit", "").lower() in ("hrs", "hours") and float(usd) > 0:
                    prices.add(usd.rstrip("0").rstrip("."))
    return prices.pop() if len(prices) == 1 else None


def _query(client: Any, service: str, filters: list[dict[str, str]]) -> list[str]:
    found: list[str] = []
    for page in client.get_paginator("get_products").paginate(ServiceCode=service, Filters=filters):
        found += page["PriceList"]
    return found


def refresh(region: str, client: Any, today: datetime.date) -> tuple[dict[str, Any], list[str]]:
    """The table with EC2 and RDS rows re-read, and what still needs a hand check."""
    table = yaml.safe_load(TABLE.read_text())
    rows: Mapping[str, Any] = table["regions"][region]
    location = LOCATIONS[region]
    unchanged = []
    for section, service, filters in (
        ("instances", "AmazonEC2", ec2_filters),
        ("rds_instances", "AmazonRDS", rds_filters),
    ):
        for key, row in rows[section].items():
            usd = on_demand_usd(_query(client, service, filters(location, key)))
            if usd is None:
                unchanged.append(f"{section}.{key}: no single on-demand price found")
            else:
                row["usd"] = float(usd)
    for name in ("ec2", "rds"):
        table["sources"][name].update(taken=today.isoformat(), basis="fetched from the AWS Price List Query API")
    table["as_of"] = today.isoformat()
    fetched = {"ec2", "rds"}
    unchanged += [
        f"rates.{k} ({table['sources'][r['source']]['url']})"
        for k, r in rows["rates"].items()
        if r["source"] not in fetched
    ]
    return table, unchanged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m targets.aws.refresh_prices",
        description="Refresh targets/aws/prices.yaml from the AWS Price List Query API.",
    )
    parser.add_argument("--region", default="us-east-1", choices=sorted(LOCATIONS))
    args = parser.parse_args(argv)
    import botocore.session

    client = botocore.session.get_session().create_client("pricing", region_name="us-east-1")
    table, unchanged = refresh(args.region, client, datetime.datetime.now(datetime.UTC).date())
    header = "".join(line + "\n" for line in TABLE.read_text().splitlines() if line.startswith("#"))
    TABLE.write_text(header + yaml.safe_dump(table, sort_keys=False, width=200))
    print("check by hand (not in the query's scope):", *unchanged, sep="\n  ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
