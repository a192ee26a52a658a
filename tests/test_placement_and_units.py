"""Sizes, placement on pools and the capacity check (pure: no Pulumi runtime needed)."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.errors import ConfigError
from stacks.placement import place
from stacks.spec import Blueprint, check_image
from stacks.units import parse_cpu, parse_memory_mib


@pytest.mark.parametrize(
    ("text", "mib"),
    [("512Mi", 512), ("4Gi", 4096), ("2GB", 2048), ("64GB", 65536), ("1.5Gi", 1536), (300, 300), ("1Ti", 1048576)],
)
def test_memory_sizes(text: object, mib: int) -> None:
    assert parse_memory_mib(text) == mib


@pytest.mark.parametrize("bad", ["lots", "-1", "4Xi", "", 0, True, None, "12 parsecs"])
def test_bad_memory_sizes_name_the_format(bad: object) -> None:
    with pytest.raises(ValueError, match="512Mi"):
        parse_memory_mib(bad)


@pytest.mark.parametrize(("text", "cores"), [("500m", 0.5), (0.25, 0.25), ("2", 2.0), (4, 4.0)])
def test_cpu(text: object, cores: float) -> None:
    assert parse_cpu(text) == cores


@pytest.mark.parametrize(
    "image",
    ["postgres:16.6-alpine", "ghcr.io/org/app:1.2.3", "localhost:5000/app:v1", "nginx@sha256:" + "a" * 64],
)
def test_pinned_images_pass(image: str) -> None:
    assert check_image(image) == image


@pytest.mark.parametrize("image", ["postgres", "postgres:latest", "ghcr.io/org/app", "UPPER:1.0", "a b:1"])
def test_unpinned_images_fail(image: str) -> None:
    with pytest.raises(ValueError, match="never 'latest'"):
        check_image(image)


def _blueprint(services: dict[str, Any], pools: dict[str, Any] | None = None) -> Blueprint:
    return Blueprint.model_validate(
        {
            "name": "p",
            "pools": pools
            or {
                "small": {"cpu": 2, "memory": "4Gi", "allocation_cap": 0.5},
                "big": {"cpu": 16, "memory": "64Gi"},
                "gpu": {"cpu": 8, "memory": "32Gi", "gpus": 1},
                "arm": {"cpu": 4, "memory": "8Gi", "architecture": "arm64"},
            },
            "services": services,
        }
    )


def _svc(memory: str, cpu: float = 0.5, gpu: float = 0, **extra: Any) -> dict[str, Any]:
    return {
        "image": "ghcr.io/x/y:1.0",
        "health": {"kind": "command", "command": ["true"]},
        "requests": {"cpu": cpu, "memory": memory, "gpu": gpu},
        **extra,
    }


def test_first_fit_decreasing_keeps_gpu_pools_for_gpu_work() -> None:
    placement = place(
        _blueprint({"a": _svc("1Gi"), "b": _svc("20Gi"), "c": _svc("1Gi", gpu=1), "d": _svc("3Gi")}), "bp"
    )
    assert placement.pool_of == {
        "services.b": "big",  # 20Gi does not fit small (2Gi allowed), big is next
        "services.c": "gpu",
        "services.d": "big",  # 3Gi exceeds small's cap (50 % of 4Gi)
        "services.a": "small",
    }


def test_architecture_decides_placement() -> None:
    placement = place(_blueprint({"a": _svc("1Gi", architectures=["arm64"])}), "bp")
    assert placement.pool_of["services.a"] == "arm"


def test_explicit_pool_on_wrong_architecture_is_rejected() -> None:
    with pytest.raises(ConfigError) as caught:
        place(_blueprint({"a": _svc("1Gi", pool="arm", architectures=["amd64"])}), "bp")
    assert "services.a.pool: 'arm'" in caught.value.message
    assert "arm64" in caught.value.message


def test_overflow_names_pool_numbers_and_largest_services() -> None:
    services = {f"s{i}": _svc(f"{i + 1}Gi", pool="small") for i in range(3)}
    with pytest.raises(ConfigError) as caught:
        place(_blueprint(services), "bp.yaml")
    message = caught.value.message
    assert "pools.small" in message
    assert "memory 6Gi requested > 2Gi allowed" in message
    assert "services.s2 (3Gi" in message
    assert message.index("services.s2") < message.index("services.s0")


def test_no_room_anywhere_lists_free_capacity() -> None:
    with pytest.raises(ConfigError) as caught:
        place(_blueprint({"huge": _svc("500Gi")}), "bp.yaml")
    assert "services.huge" in caught.value.message
    assert "no pool has room" in caught.value.message
    assert "big (amd64" in caught.value.message


def test_replicas_and_autoscale_max_reserve_capacity() -> None:
    placement = place(
        _blueprint({"a": _svc("1Gi", replicas=3), "b": _svc("1Gi", autoscale={"min": 1, "max": 4})}), "bp"
    )
    usage = placement.usage
    total = sum(u.memory_mib for u in usage.values())
    assert total == 7 * 1024


def test_limits_are_summed_separately_from_requests() -> None:
    placement = place(
        _blueprint({"a": _svc("1Gi", pool="big", limits={"cpu": 2, "memory": "8Gi"})}),
        "bp",
    )
    big = placement.usage["big"]
    assert (big.memory_mib, big.limit_memory_mib) == (1024, 8192)


def test_gpu_memory_is_checked_against_the_cards() -> None:
    """The bev seed counts GPU in GB of a 10 GB card: 6.5 + 4 GB do not fit one card."""
    pools = {"thanos": {"cpu": 24, "memory": "64Gi", "gpus": 1, "gpu_memory": "10Gi"}}
    services = {
        "a": _svc("1Gi", gpu=0.65, pool="thanos")
        | {"requests": {"cpu": 1, "memory": "1Gi", "gpu": 0.3, "gpu_memory": "6.5Gi"}},
        "b": _svc("1Gi", gpu=0.3, pool="thanos")
        | {"requests": {"cpu": 1, "memory": "1Gi", "gpu": 0.3, "gpu_memory": "4Gi"}},
    }
    with pytest.raises(ConfigError) as caught:
        place(_blueprint(services, pools), "bp.yaml")
    assert "gpu memory 10.5Gi requested > 10Gi on the cards" in caught.value.message


def test_gpu_memory_needs_a_gpu_share() -> None:
    with pytest.raises(ValueError, match="gpu_memory needs gpu"):
        Blueprint.model_validate(
            {"name": "p", "pools": {"g": {"cpu": 1, "memory": "1Gi"}},
             "services": {"a": _svc("1Gi") | {"requests": {"gpu_memory": "2Gi"}}}}
        )  # fmt: skip


def test_pool_summary_reports_overcommit_of_stated_limits() -> None:
    placement = place(_blueprint({"a": _svc("1Gi", pool="small", limits={"cpu": 4, "memory": "8Gi"})}), "bp")
    summary = placement.usage["small"].summary()
    assert summary["requests"] == {"cpu": 0.5, "memory_mib": 1024, "gpu": 0.0, "gpu_memory_mib": 0}
    assert summary["overcommit"] == {"cpu": 2.0, "memory": 2.0}
