"""TURN as browsers and the streamer need it: a public address in ``TURN_URL``, and a relay allowed to the streamer.

The review found coturn's ``denied-peer-ip`` refusing exactly the private ranges the
streamer lives in, and ``TURN_URL`` naming an internal host no browser can resolve.
Each target must hand the component its public address for TURN and the ranges its
workloads take their addresses from; these tests run the shipped stacks (Docker dev,
Kubernetes staging, AWS prod) and check what reaches the signalling server and coturn.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pytest

import components.pixel_streaming as pixel_streaming
from components.pixel_streaming import DENIED_PEERS, TurnOptions, peer_range, turn_config
from preview.mocks import RecordingMonitor
from preview.runner import PreviewResult, read_stack_config, run_program
from tests.conftest import shipped, stack_config
from tests.tokens import AWS_ECS_TASK_DEFINITION, AWS_LB_LOAD_BALANCER, DOCKER_CONTAINER, K8S_DEPLOYMENT, K8S_SERVICE

SIGNALLING_ENV_TYPES = {
    "dev": DOCKER_CONTAINER,
    "staging": K8S_DEPLOYMENT,
    "prod": AWS_ECS_TASK_DEFINITION,
}


def _turn_url(result: PreviewResult, stack: str) -> str:
    """``TURN_URL`` as the signalling workload receives it, whatever the target's shape."""
    for resource in result.of_type(SIGNALLING_ENV_TYPES[stack]):
        text = json.dumps(resource.inputs)
        if "TURN_URL" not in text:
            continue
        if stack == "dev":
            return next(e for e in resource.inputs["envs"] if e.startswith("TURN_URL=")).split("=", 1)[1]
        if stack == "staging":
            box = resource.inputs["spec"]["template"]["spec"]["containers"][0]
            return next(e["value"] for e in box["env"] if e["name"] == "TURN_URL")
        for box in json.loads(resource.inputs["containerDefinitions"]):
            for entry in box.get("environment", []):
                if entry["name"] == "TURN_URL":
                    return str(entry["value"])
    raise AssertionError(f"no workload of {stack} receives TURN_URL")


def test_docker_hands_browsers_the_published_address() -> None:
    assert _turn_url(shipped("dev"), "dev") == "turn:127.0.0.1:3478"


def test_kubernetes_hands_browsers_the_load_balancer_address() -> None:
    result = shipped("staging")
    turn_services = [
        r
        for r in result.of_type(K8S_SERVICE)
        if r.inputs["spec"].get("type") == "LoadBalancer" and r.name.endswith("turn-svc")
    ]
    assert len(turn_services) == 1
    host = _turn_url(result, "staging").removeprefix("turn:").rsplit(":", 1)[0]
    assert host.startswith(turn_services[0].name)  # the mocked status.loadBalancer.ingress hostname
    assert not host.endswith("-turn")  # not the in-cluster Service name


def test_aws_hands_browsers_the_network_load_balancer_name() -> None:
    result = shipped("prod")
    url = _turn_url(result, "prod")
    assert url.startswith("turn:gpn-"), url  # the NLB's generated name
    assert url.endswith(".elb.amazonaws.com:3478"), url
    nlbs = [r for r in result.of_type(AWS_LB_LOAD_BALANCER) if r.inputs["loadBalancerType"] == "network"]
    assert len(nlbs) == 1


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("dev", ["172.18.0.0/16"]),  # the engine network's IPAM subnet (mocked as Docker assigns one)
        ("staging", ["10.244.0.0/16"]),  # gpu-platform:kubernetes.pod_cidrs in Pulumi.staging.yaml
        ("prod", ["10.40.0.0/16"]),  # the VPC (awsvpc tasks take their addresses from its subnets)
    ],
)
def test_relay_may_reach_the_streamer_ranges(stack: str, expected: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Sequence[str]] = []
    real = pixel_streaming.turn_config

    def spy(options: TurnOptions, secret: str, peer_ranges: Sequence[str] = ()) -> str:
        seen.append(list(peer_ranges))
        return real(options, secret, peer_ranges)

    monkeypatch.setattr(pixel_streaming, "turn_config", spy)
    config, secret_keys = read_stack_config(stack)
    run_program(stack, config, secret_keys)
    assert seen == [expected]


def _options(**changes: Any) -> TurnOptions:
    values: dict[str, Any] = {
        "image": "coturn/coturn:4.6",
        "listening_port": 3478,
        "relay_min_port": 49160,
        "relay_max_port": 49170,
        "pool": None,
        "realm": "example.com",
        "public": True,
    }
    return TurnOptions(**{**values, **changes})


def _ranges(conf: str, key: str) -> list[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]]:
    pairs = [line.split("=", 1)[1].split("-") for line in conf.splitlines() if line.startswith(key + "=")]
    return [(ipaddress.IPv4Address(a), ipaddress.IPv4Address(b)) for a, b in pairs]


def _covered(address: str, ranges: list[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]]) -> bool:
    ip = ipaddress.IPv4Address(address)
    return any(low <= ip <= high for low, high in ranges)


def test_streamer_addresses_are_allowed_but_gateway_and_other_private_peers_are_not() -> None:
    conf = turn_config(_options(), "s3cret", ["172.18.0.0/16"])
    allowed, denied = _ranges(conf, "allowed-peer-ip"), _ranges(conf, "denied-peer-ip")
    # coturn: an address both allowed and denied is allowed; the rest of the private space stays denied.
    assert _covered("172.18.0.10", allowed)
    assert _covered("172.18.0.10", denied)
    assert not _covered("172.18.0.1", allowed)  # the bridge gateway, i.e. the Docker host
    assert not _covered("172.18.255.255", allowed)
    for other in ("10.0.0.5", "192.168.1.1", "172.19.0.2", "169.254.169.254", "127.0.0.1"):
        assert _covered(other, denied), other
        assert not _covered(other, allowed), other


def test_without_ranges_every_private_peer_stays_denied() -> None:
    conf = turn_config(_options(), "s3cret")
    assert "allowed-peer-ip" not in conf
    assert len(_ranges(conf, "denied-peer-ip")) == len(DENIED_PEERS)


def test_peer_range_refuses_a_range_with_no_room_for_a_workload() -> None:
    assert peer_range("10.0.0.0/30") == "10.0.0.2-10.0.0.2"
    with pytest.raises(ValueError, match="too small"):
        peer_range("10.0.0.0/31")


def test_kubernetes_streaming_without_pod_cidrs_stops_before_any_resource(monitors: list[RecordingMonitor]) -> None:
    config = stack_config("staging", kubernetes={"gateway_class": "eg"})  # replaces the shipped settings
    with pytest.raises(pulumi.RunError) as caught:
        run_program("staging", config)
    assert "gpu-platform:kubernetes.pod_cidrs is not set" in str(caught.value)
    assert "pixel" in str(caught.value).lower()
    assert [m.recorded for m in monitors] == [[]]


def test_kubernetes_balancer_class_and_annotations_reach_only_the_public_service() -> None:
    """EKS: the in-tree provider cannot serve UDP/mixed protocols; the AWS LB Controller needs its class."""
    annotations = {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"}
    settings = {"pod_cidrs": ["10.0.0.0/16"], "load_balancer_class": "service.k8s.aws/nlb"}
    config = stack_config("staging", kubernetes={**settings, "load_balancer_annotations": annotations})
    result = run_program("staging", config)
    services = result.of_type(K8S_SERVICE)
    public = [s for s in services if s.inputs["spec"].get("type") == "LoadBalancer"]
    assert [s.name for s in public] == ["unreal-turn-svc"]
    assert public[0].inputs["spec"]["loadBalancerClass"] == "service.k8s.aws/nlb"
    assert public[0].inputs["metadata"]["annotations"] == annotations
    for private in (s for s in services if s not in public):
        assert "loadBalancerClass" not in private.inputs["spec"], private.name
        assert "annotations" not in private.inputs["metadata"], private.name
