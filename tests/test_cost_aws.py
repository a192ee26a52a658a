"""The AWS cost hook on small hand-built stacks: one instance, one database, one schedule, Spot, min/max.

Every expected figure is computed here by hand from AWS's published list prices (us-east-1,
Linux on-demand: g5.xlarge $1.006/h, Fargate $0.04048/vCPU-h and $0.004445/GB-h, RDS PostgreSQL
db.r6g.large $0.225/h, gp3 RDS storage $0.115/GB-month, NAT gateway $0.045/h and $0.045/GB) and a
730-hour month, not read back from the code. Two tests run the real program (the BEM blueprint on
the prod stack) to prove the estimate follows what the program registers.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from preview.cost.estimate import context_for, estimate
from preview.cost.model import CostContext, CostLine
from preview.cost.usage import Usage, load_usage
from preview.mocks import Recorded
from preview.runner import run_program
from stacks.loader import load_stack
from targets.aws import cost as aws_cost
from targets.aws.settings import AwsSettings
from tests import tokens
from tests.conftest import stack_config
from tests.kit import recorded

HOURS = Decimal(730)
G5_XLARGE = Decimal("1.006")
CENT = Decimal("0.01")


def price(resources: list[Recorded], region: str = "us-east-1", usage: Usage | None = None) -> list[CostLine]:
    context = CostContext(
        target_settings=AwsSettings(region=region),
        pool_settings={},
        pools={},
        usage=usage or Usage(),
        resources=resources,
    )
    return aws_cost.cost(resources, context)


def only(lines: list[CostLine], name_part: str) -> CostLine:
    found = [line for line in lines if name_part in line.name]
    assert len(found) == 1, [line.name for line in lines]
    return found[0]


def gpu_group(min_size: int = 1, max_size: int = 2, **extra: Any) -> list[Recorded]:
    template = recorded(
        tokens.AWS_EC2_LAUNCH_TEMPLATE,
        "gpu-launch-template",
        {"instanceType": "g5.xlarge", "blockDeviceMappings": [{"ebs": {"volumeSize": 100, "volumeType": "gp3"}}]},
    )
    group = recorded(tokens.AWS_AUTOSCALING_GROUP, "gpu-asg", {"minSize": min_size, "maxSize": max_size, **extra})
    return [template, group]


def test_one_instance_is_priced_at_min_and_max_size() -> None:
    lines = price(gpu_group(1, 2))
    instance = only(lines, "Instance usage")
    assert instance.name == "Instance usage (Linux, on-demand, g5.xlarge)"
    assert instance.monthly == Decimal("734.380")  # 1.006 x 730
    assert instance.monthly_max == Decimal("1468.760")  # two instances
    root = only(lines, "Root volume")
    assert (root.monthly, root.monthly_max) == (Decimal("8.00"), Decimal("16.00"))  # 100 GB x $0.08, x2


def test_spot_uses_the_tables_discount_and_says_so() -> None:
    spot = {
        "mixedInstancesPolicy": {
            "instancesDistribution": {"onDemandBaseCapacity": 0, "onDemandPercentageAboveBaseCapacity": 0},
            "launchTemplate": {"overrides": [{"instanceType": "g5.xlarge"}]},
        }
    }
    instance = only(price(gpu_group(1, 1, **spot)), "Instance usage")
    assert "spot" in instance.name
    assert instance.price == G5_XLARGE * Decimal("0.4")  # the table's typical 60 % discount
    assert instance.monthly.quantize(CENT) == Decimal("293.75")  # 0.4024 x 730
    assert "60%" in instance.assumption
    assert "Spot prices move" in instance.assumption


def test_an_off_hours_schedule_prices_the_on_hours_only() -> None:
    """Up 07:00-20:00 Monday to Friday: 2025 has 261 weekdays (52 weeks + Wednesday 1 January) of 13 hours."""
    resources = gpu_group(1, 1)
    resources += [
        recorded(
            tokens.AWS_AUTOSCALING_SCHEDULE,
            "gpu-scale-down",
            {"recurrence": "0 20 * * 1-5", "minSize": 0, "maxSize": 0},
        ),
        recorded(
            tokens.AWS_AUTOSCALING_SCHEDULE, "gpu-scale-up", {"recurrence": "0 7 * * 1-5", "minSize": 1, "maxSize": 1}
        ),
    ]
    instance = only(price(resources), "Instance usage")
    up_share = Decimal(261 * 13) / Decimal(365 * 24)
    assert abs(instance.monthly - G5_XLARGE * HOURS * up_share) < CENT
    assert "scheduled" in instance.assumption


def test_a_group_at_min_zero_runs_one_instance_while_a_service_on_it_wants_a_task() -> None:
    resources = [
        *gpu_group(0, 2),
        recorded(tokens.AWS_ECS_CAPACITY_PROVIDER, "gpu-capacity", {"name": "gp-prod-gpu"}),
        recorded(
            tokens.AWS_ECS_SERVICE,
            "streamer-service",
            {
                "name": "streamer",
                "desiredCount": 1,
                "capacityProviderStrategies": [{"capacityProvider": "gp-prod-gpu"}],
            },
            parent="urn:streamer",
        ),
    ]
    lines = price(resources)
    instance = only(lines, "Instance usage")
    assert instance.monthly == G5_XLARGE * HOURS
    assert not [line for line in lines if line.resource == "streamer-service"]  # its cost is the group's


def fargate(strategy: list[dict[str, Any]], low: int, high: int) -> list[Recorded]:
    task = recorded(tokens.AWS_ECS_TASK_DEFINITION, "api-task", {"cpu": "512", "memory": "1024"}, parent="urn:api")
    service = recorded(
        tokens.AWS_ECS_SERVICE,
        "api-service",
        {
            "name": "api",
            "taskDefinition": "arn:aws:ecs:us-east-1:1:taskdefinition/api-task",
            "desiredCount": low,
            "capacityProviderStrategies": strategy,
        },
        parent="urn:api",
    )
    target = recorded(
        tokens.AWS_APPAUTOSCALING_TARGET,
        "api-scaling",
        {"resourceId": "service/gp/api", "minCapacity": low, "maxCapacity": high},
    )
    return [task, service, target]


def test_an_autoscaled_fargate_service_is_priced_at_min_and_max() -> None:
    lines = price(fargate([{"capacityProvider": "FARGATE", "weight": 1}], 1, 3))
    vcpu, memory = only(lines, "vCPU"), only(lines, "memory")
    # 0.5 vCPU and 1 GB per task, 1 to 3 tasks, 730 h
    assert (vcpu.monthly, vcpu.monthly_max) == (
        Decimal("0.5") * HOURS * Decimal("0.04048"),
        3 * Decimal("0.5") * HOURS * Decimal("0.04048"),
    )
    assert (memory.monthly, memory.monthly_max) == (HOURS * Decimal("0.004445"), 3 * HOURS * Decimal("0.004445"))


def test_fargate_spot_gets_what_the_base_leaves_and_its_discount() -> None:
    """Base 1 on FARGATE, the rest on FARGATE_SPOT: at 1 task nothing is Spot, at 3 tasks two are."""
    strategy = [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 0},
        {"capacityProvider": "FARGATE_SPOT", "weight": 1},
    ]
    lines = price(fargate(strategy, 1, 3))
    spot = only(lines, "vCPU (Spot")
    assert spot.monthly == 0
    assert spot.monthly_max == 2 * Decimal("0.5") * HOURS * Decimal("0.04048") * Decimal("0.3")
    assert only(lines, "vCPU (on-demand").monthly_max == Decimal("0.5") * HOURS * Decimal("0.04048")


def test_a_multi_az_database_and_its_replica() -> None:
    primary = recorded(
        tokens.AWS_RDS_INSTANCE,
        "db-primary",
        {
            "identifier": "gp-db",
            "engine": "postgres",
            "instanceClass": "db.r6g.large",
            "multiAz": True,
            "allocatedStorage": 50,
            "maxAllocatedStorage": 200,
            "storageType": "gp3",
        },
    )
    replica = recorded(
        tokens.AWS_RDS_INSTANCE, "db-replica-0", {"instanceClass": "db.r6g.large", "replicateSourceDb": "gp-db"}
    )
    lines = price([primary, replica])
    primary_lines = [line for line in lines if line.resource == "db-primary"]
    assert only(primary_lines, "Database instance").monthly == Decimal("0.225") * HOURS * 2  # Multi-AZ: two instances
    storage = only(primary_lines, "Storage")
    assert (storage.monthly, storage.monthly_max) == (Decimal("0.115") * 50 * 2, Decimal("0.115") * 200 * 2)
    replica_lines = [line for line in lines if line.resource == "db-replica-0"]
    assert only(replica_lines, "Database instance").monthly == Decimal("0.225") * HOURS
    assert only(replica_lines, "Storage").monthly == Decimal("0.115") * 50  # its source's storage, single-AZ


def test_usage_driven_lines_read_the_usage_file_and_say_where_from(tmp_path: Path) -> None:
    nat = recorded(tokens.AWS_EC2_NAT_GATEWAY, "nat-0", {})
    default = only(price([nat]), "Data processed")
    assert default.monthly == Decimal("0.045") * 50
    assert "default" in default.assumption
    path = tmp_path / "usage.yml"
    path.write_text("version: 0.1\nresource_usage:\n  nat-0:\n    monthly_data_processed_gb: 200\n")
    given = only(price([nat], usage=load_usage(path)), "Data processed")
    assert given.monthly == Decimal("9.000")
    assert str(path) in given.assumption
    assert only(price([nat]), "NAT gateway").monthly == Decimal("0.045") * HOURS


def test_a_region_without_rows_is_unpriced_with_the_reason() -> None:
    lines = price(gpu_group(), region="eu-west-1")
    assert lines
    assert all(line.unpriced for line in lines)
    assert "eu-west-1" in lines[0].unpriced
    assert lines[0].monthly == 0


def bem_prod(pools: dict[str, Any] | None = None) -> tuple[list[CostLine], Any]:
    config = stack_config("prod", blueprint="bem", **({"pools": pools} if pools else {}))
    spec = load_stack("prod", config)
    result = run_program("prod", config)
    return estimate("prod", result.resources, context_for(spec, result.resources, Usage())).lines, result


def test_the_real_program_prices_what_it_registered() -> None:
    """BEM's gpu pool (blueprints/bem.yaml): g5.xlarge, min 1, max 2, on the prod stack's db.r6g.large."""
    lines, result = bem_prod()
    group = only([line for line in lines if line.resource == "gpu-asg"], "Instance usage")
    assert (group.monthly, group.monthly_max) == (G5_XLARGE * HOURS, 2 * G5_XLARGE * HOURS)
    assert group.component == "gpu"
    assert group.pool == "gpu"
    databases = result.of_type(tokens.AWS_RDS_INSTANCE)
    priced = {line.resource for line in lines if line.name.startswith("Database instance")}
    assert priced == {d.name for d in databases}
    admin = only([line for line in lines if line.resource == "automated-admin-service"], "vCPU")
    assert admin.pool == "general"
    assert admin.monthly_max == 3 * admin.monthly


def test_spot_and_a_schedule_set_on_the_stack_reach_the_estimate() -> None:
    lines, _ = bem_prod({"gpu": {"spot": True, "schedule": {"scale_down": "0 20 * * 1-5", "scale_up": "0 7 * * 1-5"}}})
    group = only([line for line in lines if line.resource == "gpu-asg"], "Instance usage")
    up_share = Decimal(261 * 13) / Decimal(365 * 24)
    assert abs(group.monthly - G5_XLARGE * Decimal("0.4") * HOURS * up_share) < CENT
    assert "spot" in group.name


@pytest.mark.parametrize("bad", ["-1", "lots", "true"])
def test_a_bad_usage_value_is_one_line_naming_the_key(tmp_path: Path, bad: str) -> None:
    from stacks.errors import ConfigError

    path = tmp_path / "usage.yml"
    path.write_text(
        json.dumps(
            {"resource_usage": {"nat-0": {"monthly_data_processed_gb": json.loads(bad) if bad != "lots" else bad}}}
        )
    )
    with pytest.raises(ConfigError) as raised:
        load_usage(path)
    assert "resource_usage.nat-0.monthly_data_processed_gb" in raised.value.message
    assert "a number >= 0" in raised.value.message
