"""What the Kubernetes target refuses or warns about before any resource, and what placement counts for it.

- ``kubernetes.egress_cidrs`` / ``pod_cidrs`` must be CIDR networks (they land in NetworkPolicy ipBlocks).
- Names the target derives from the blueprint must fit the API's limits (Service/label 63, StatefulSet 52,
  CloudNativePG 50, port names 15 as IANA service names).
- A database's read replicas and multi-AZ HA (blueprint or profile) are not built without CloudNativePG:
  a warning ``pulumi up`` and the preview show.
- The Pools report counts TURN at the limits the component actually sets.

Expected values come from the inputs each test writes and from the Kubernetes limits, not from the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from preview import runner
from preview.mocks import RecordingMonitor
from stacks.loader import load_stack
from tests.conftest import Runner, stack_config, write_blueprint
from tests.tokens import K8S_DEPLOYMENT, K8S_NETWORK_POLICY, K8S_SERVICE, K8S_STATEFUL_SET

STACK = "staging"
POD_CIDRS = ["10.244.0.0/16"]
API: dict[str, Any] = {
    "image": "ghcr.io/example/api:1.0.0",
    "ports": [{"name": "http", "container_port": 8000}],
    "requests": {"cpu": 0.25, "memory": "256Mi"},
}
POOLS: dict[str, Any] = {
    "general": {"cpu": 16, "memory": "64Gi"},
    "gpu": {"cpu": 8, "memory": "32Gi", "gpus": 1, "targets": {"kubernetes": {"time_slicing_replicas": 4}}},
}


def config(
    tmp_path: Path, environment: str = STACK, kubernetes: dict[str, Any] | None = None, **sections: Any
) -> dict[str, Any]:
    """The staging stack (Kubernetes) with this blueprint and these target settings."""
    path = write_blueprint(tmp_path, {"name": "unit", "pools": POOLS, **sections})
    settings = {"pod_cidrs": POD_CIDRS, **(kubernetes or {})}
    if environment == "prod":
        settings.setdefault("cluster_issuer", "letsencrypt-prod")
    return stack_config(STACK, blueprint=path, environment=environment, domain="units.example.org", kubernetes=settings)


def failing(cfg: dict[str, Any], monitors: list[RecordingMonitor]) -> str:
    """Run the program expecting a clean RunError before any registration; return its message."""
    with pytest.raises(pulumi.RunError) as caught:
        runner.run_program(STACK, cfg)
    assert caught.type is pulumi.RunError
    (monitor,) = monitors
    assert monitor.recorded == [], [r.name for r in monitor.recorded]
    message = str(caught.value)
    assert message.startswith("config error in ")
    assert "Traceback" not in message
    return message


def test_harness_sees_registrations(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    """Positive control: a valid config through the same helper registers resources."""
    runner.run_program(STACK, config(tmp_path, services={"api": API}))
    assert monitors[0].recorded


# -- egress CIDRs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("10.0.0.1/8", "did you mean the network 10.0.0.0/8 or the host 10.0.0.1/32"),  # host bits set
        ("203.0.113.7", "add the prefix length (e.g. 203.0.113.7/32)"),  # no prefix
        ("10.0.0.0/33", "CIDR notation"),  # prefix out of range
        ("example.com/24", "CIDR notation"),
        ("2001:db8::1/32", "did you mean the network 2001:db8::/32 or the host 2001:db8::1/128"),
    ],
)
@pytest.mark.parametrize("key", ["egress_cidrs", "pod_cidrs"])
def test_bad_cidr_is_rejected_before_any_resource(
    tmp_path: Path, monitors: list[RecordingMonitor], key: str, value: str, hint: str
) -> None:
    cidrs = ["203.0.113.0/24", value]
    message = failing(config(tmp_path, kubernetes={key: cidrs}, services={"api": API}), monitors)
    assert f"gpu-platform:kubernetes.{key}[1]" in message
    assert repr(value) in message
    assert "IPv4 or IPv6 network in CIDR notation" in message
    assert hint in message
    assert message.count("is not allowed") == 1


def test_good_cidrs_reach_the_network_policy_canonically(run: Runner, tmp_path: Path) -> None:
    cfg = config(tmp_path, kubernetes={"egress_cidrs": ["203.0.113.0/24", "2001:DB8::/32"]}, services={"api": API})
    result = runner.run_program(STACK, cfg)
    (dns,) = [r for r in result.of_type(K8S_NETWORK_POLICY) if r.name == "allow-dns"]
    blocks = [
        peer["ipBlock"]["cidr"] for rule in dns.inputs["spec"]["egress"] for peer in rule["to"] if "ipBlock" in peer
    ]
    assert blocks == ["203.0.113.0/24", "2001:db8::/32"]


# -- derived names -------------------------------------------------------------------------------

LONG_FLEET = "f" * 32  # the longest name a blueprint allows
LONG_TOOL = "t" * 31  # "<fleet>-<tool>" = 64 characters: over a DNS label


def fleet(tool: str, public_grpc: bool = False) -> dict[str, Any]:
    return {
        LONG_FLEET: {
            "api": {**API, "route": {"path": "/"}},
            "tools": {tool: {"image": "ghcr.io/example/tool:1.0.0", "port": 50051}},
            "public_grpc": public_grpc,
        }
    }


def test_fleet_tool_name_over_a_dns_label_is_rejected(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    derived = f"{LONG_FLEET}-{LONG_TOOL}"
    assert len(derived) == 64
    message = failing(config(tmp_path, grpc_tool_fleets=fleet(LONG_TOOL)), monitors)
    assert f"grpc_tool_fleets.{LONG_FLEET}.tools.{LONG_TOOL}" in message
    assert repr(derived) in message
    assert "at most 63 characters" in message
    assert message.count("is not allowed") == 1, "one problem per key, not one per object"


def test_fleet_tool_name_of_exactly_63_is_accepted(tmp_path: Path) -> None:
    """Boundary: 63 characters is a valid DNS label (Service, container, label value, hostname label)."""
    tool = "t" * 30
    result = runner.run_program(STACK, config(tmp_path, grpc_tool_fleets=fleet(tool, public_grpc=True)))
    services = {r.inputs["metadata"]["name"] for r in result.of_type(K8S_SERVICE)}
    assert f"{LONG_FLEET}-{tool}" in services


def test_stateful_service_name_over_52_is_rejected(tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    """A StatefulSet's pods carry ``controller-revision-hash: <name>-<10-char hash>`` (a 63-character label)."""
    tool = "t" * 21  # "<fleet>-<tool>" = 54 characters: a fine Service name, too long for a StatefulSet
    fleets = fleet(tool)
    fleets[LONG_FLEET]["tools"][tool]["volumes"] = {"cache": {"path": "/cache"}}
    message = failing(config(tmp_path, grpc_tool_fleets=fleets), monitors)
    assert f"grpc_tool_fleets.{LONG_FLEET}.tools.{tool}" in message
    assert "StatefulSet" in message
    assert "at most 52 characters" in message


@pytest.mark.parametrize(("port", "rule"), [("metrics-exporter", "at most 15 characters"), ("a--b", "single '-'")])
def test_port_name_must_be_an_iana_service_name(
    tmp_path: Path, monitors: list[RecordingMonitor], port: str, rule: str
) -> None:
    """Kubernetes port names are IANA_SVC_NAMEs; they used to be cut to 15 characters silently."""
    service = {**API, "ports": [{"name": "http", "container_port": 8000}, {"name": port, "container_port": 9100}]}
    message = failing(config(tmp_path, services={"api": service}), monitors)
    assert "services.api.ports[1].name" in message
    assert repr(port) in message
    assert rule in message


# -- read replicas without CloudNativePG ------------------------------------------------------------

DATABASE: dict[str, Any] = {"version": "16", "storage": "8Gi"}


def test_blueprint_read_replicas_without_cnpg_is_a_warning(tmp_path: Path) -> None:
    result = runner.run_program(STACK, config(tmp_path, databases={"db": {**DATABASE, "read_replicas": 2}}))
    (warning,) = result.warnings
    assert warning.startswith("databases.db.read_replicas: ")
    assert "2 read replica" in warning
    assert "cnpg" in warning
    (statefulset,) = result.of_type(K8S_STATEFUL_SET)
    assert statefulset.inputs["spec"]["replicas"] == 1  # what the warning is about


def test_prod_profile_replica_and_ha_without_cnpg_is_a_warning(tmp_path: Path) -> None:
    """The replica comes from the prod profile (the blueprint states none): it is dropped as silently otherwise."""
    result = runner.run_program(STACK, config(tmp_path, environment="prod", databases={"db": DATABASE}))
    (warning,) = result.warnings
    assert warning.startswith("databases.db: ")
    assert "1 read replica(s) (from the prod profile)" in warning
    assert "multi-AZ HA" in warning


@pytest.mark.parametrize(
    ("environment", "kubernetes", "database"),
    [
        ("prod", {"cnpg": True}, DATABASE),  # CloudNativePG builds replicas and HA
        (STACK, {}, DATABASE),  # staging asks for neither
        ("prod", {}, None),  # no database, nothing to warn about
    ],
)
def test_no_warning_when_nothing_is_dropped(
    tmp_path: Path, environment: str, kubernetes: dict[str, Any], database: dict[str, Any] | None
) -> None:
    sections: dict[str, Any] = {"services": {"api": API}}
    if database is not None:
        sections["databases"] = {"db": database}
    result = runner.run_program(STACK, config(tmp_path, environment=environment, kubernetes=kubernetes, **sections))
    assert result.warnings == []


# -- TURN in the Pools report ----------------------------------------------------------------------


STREAMING: dict[str, Any] = {
    "streamer": {**API, "requests": {"cpu": 1, "memory": "2Gi", "gpu": 1}, "pool": "gpu"},
    "signalling": {"service": {**API, "pool": "general"}},
}


def test_pools_report_counts_turn_at_the_limits_the_target_sets(tmp_path: Path) -> None:
    """The Pools report's limit totals for the GPU pool equal the limits on the pool's rendered containers.

    TURN states no limits in the blueprint; the component sets its own. The report used to count it at
    the profile's default limits (staging: 4 cpu, 6 GiB) instead of the 1 cpu / 512 MiB it gets.
    """
    cfg = config(tmp_path, pixel_streaming={"ps": STREAMING})
    result = runner.run_program(STACK, cfg)
    on_gpu = {key.split(".")[-1] for key, pool in result.outputs["placement"].items() if pool == "gpu"}
    assert on_gpu == {"streamer", "turn"}
    cpu, memory = 0.0, 0
    for deployment in result.of_type(K8S_DEPLOYMENT):
        if deployment.name in {"ps-streamer", "ps-turn"}:
            (box,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
            cpu += int(box["resources"]["limits"]["cpu"].removesuffix("m")) / 1000
            memory += int(box["resources"]["limits"]["memory"].removesuffix("Mi"))
    summary = load_stack(STACK, cfg).placement.usage["gpu"].summary()
    assert summary["limits"] == {"cpu": cpu, "memory_mib": memory}
