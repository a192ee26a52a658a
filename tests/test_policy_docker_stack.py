"""Docker and stack-wide rules: a compliant baseline, then one mutation per way to break each rule."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest

from tests.policy_harness import Res, mutate, stack_violations, violations
from tests.tokens import (
    AWS_EBS_VOLUME,
    AWS_ECS_TASK_DEFINITION,
    AWS_RDS_INSTANCE,
    DOCKER_CONTAINER,
    DOCKER_REMOTE_IMAGE,
    DOCKER_VOLUME,
    K8S_CNPG_CLUSTER,
    K8S_DEPLOYMENT,
    K8S_PERSISTENT_VOLUME_CLAIM,
)

CONTAINER = DOCKER_CONTAINER
IMAGE = DOCKER_REMOTE_IMAGE

BASELINE: dict[str, Any] = {
    "name": "dev-api",
    "image": "sha256:abc",
    "user": "10001:10001",
    "privileged": False,
    "readOnly": True,
    "securityOpts": ["no-new-privileges:true"],
    "capabilities": {"drops": ["ALL"]},
    "memory": 512,
    "memoryReservation": 256,
    "cpus": "1",
    "cpuShares": 512,
    "restart": "unless-stopped",
    "healthcheck": {"tests": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8000/health"]},
    "ports": [{"internal": 8000, "external": 9000, "ip": "127.0.0.1", "protocol": "tcp"}],
    "volumes": [{"volumeName": "dev-data", "containerPath": "/data"}],
    "envs": ["DB_PASSWORD_FILE=/run/secrets/db_password", "LOG_LEVEL=info"],
    "labels": [{"label": "gpu-platform.stack", "value": "dev"}],
}

DOCKER_RULES = [
    "gpu-platform-docker-no-privileged",
    "gpu-platform-docker-no-host-network",
    "gpu-platform-docker-no-host-pid",
    "gpu-platform-docker-no-host-ipc",
    "gpu-platform-docker-memory-limit",
    "gpu-platform-docker-cpu-limit",
    "gpu-platform-docker-healthcheck",
    "gpu-platform-docker-restart-policy",
    "gpu-platform-docker-no-docker-socket",
    "gpu-platform-docker-no-new-privileges",
    "gpu-platform-docker-drop-capabilities",
    "gpu-platform-docker-non-root",
    "gpu-platform-docker-read-only-root",
    "gpu-platform-docker-loopback-ports",
    "gpu-platform-stack-no-plaintext-secrets",
]


@pytest.mark.parametrize("rule", DOCKER_RULES)
@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_baseline_container_passes(rule: str, environment: str) -> None:
    assert violations(rule, CONTAINER, BASELINE, environment) == []


FAILING: list[tuple[str, str, Any, str]] = [
    ("gpu-platform-docker-no-privileged", "privileged", True, "privileged"),
    ("gpu-platform-docker-no-host-network", "networkMode", "host", "networkMode host"),
    ("gpu-platform-docker-no-host-pid", "pidMode", "host", "pidMode host"),
    ("gpu-platform-docker-no-host-ipc", "ipcMode", "host", "ipcMode host"),
    ("gpu-platform-docker-memory-limit", "memory", ..., "no memory limit"),
    ("gpu-platform-docker-memory-limit", "memory", 0, "no memory limit"),
    ("gpu-platform-docker-healthcheck", "healthcheck", ..., "no healthcheck"),
    ("gpu-platform-docker-healthcheck", "healthcheck.tests", ["NONE"], "no healthcheck"),
    ("gpu-platform-docker-restart-policy", "restart", "no", "no restart policy"),
    ("gpu-platform-docker-restart-policy", "restart", ..., "no restart policy"),
    (
        "gpu-platform-docker-no-docker-socket",
        "volumes",
        [{"hostPath": "/var/run/docker.sock", "containerPath": "/var/run/docker.sock"}],
        "/var/run/docker.sock",
    ),
    ("gpu-platform-docker-no-docker-socket", "mounts", [{"type": "bind", "source": "/run/docker.sock"}], "docker.sock"),
    ("gpu-platform-docker-no-new-privileges", "securityOpts", [], "no-new-privileges"),
    ("gpu-platform-docker-no-new-privileges", "securityOpts", ["no-new-privileges:false"], "no-new-privileges"),
    ("gpu-platform-docker-drop-capabilities", "capabilities", ..., "ALL"),
    ("gpu-platform-docker-drop-capabilities", "capabilities.drops", ["NET_RAW"], "ALL"),
    ("gpu-platform-docker-non-root", "user", "root", "root"),
    ("gpu-platform-docker-non-root", "user", "0:0", "root"),
    ("gpu-platform-docker-non-root", "user", ..., "unset"),
    ("gpu-platform-docker-read-only-root", "readOnly", False, "writable root"),
    ("gpu-platform-stack-no-plaintext-secrets", "envs", ["DB_PASSWORD=hunter2"], "DB_PASSWORD"),
    ("gpu-platform-stack-no-plaintext-secrets", "envs", ["STRIPE_API_KEY=sk_live"], "STRIPE_API_KEY"),
]


@pytest.mark.parametrize(("rule", "path", "value", "fragment"), FAILING)
def test_mutation_violates(rule: str, path: str, value: Any, fragment: str) -> None:
    found = violations(rule, CONTAINER, mutate(BASELINE, path, value), "prod")
    assert found, f"{rule} missed {path}={value!r}"
    assert any(fragment in message for message in found), found


class TestNeverStartedCarrier:
    """A file carrier (created, never started) needs a writable root and runs nothing: runtime rules skip it."""

    carrier: ClassVar[dict[str, Any]] = {
        **{k: v for k, v in BASELINE.items() if k not in ("healthcheck", "ports", "envs")},
        "name": "dev-api-files",
        "readOnly": False,
        "restart": "no",
        "start": False,
        "mustRun": False,
        "networkMode": "none",
    }

    @pytest.mark.parametrize("rule", DOCKER_RULES)
    def test_carrier_passes(self, rule: str) -> None:
        assert violations(rule, CONTAINER, self.carrier, "prod") == []

    @pytest.mark.parametrize(
        "rule",
        ["gpu-platform-docker-read-only-root", "gpu-platform-docker-restart-policy", "gpu-platform-docker-healthcheck"],
    )
    def test_a_started_container_gets_no_exemption(self, rule: str) -> None:
        assert violations(rule, CONTAINER, mutate(self.carrier, "start", True), "prod")

    def test_other_rules_still_hold(self) -> None:
        found = violations("gpu-platform-docker-non-root", CONTAINER, mutate(self.carrier, "user", "0:0"), "prod")
        assert found


def test_cpu_limit_needs_one_of_the_cpu_controls() -> None:
    props = mutate(mutate(BASELINE, "cpus", ...), "cpuShares", ...)
    assert any("no CPU limit" in m for m in violations("gpu-platform-docker-cpu-limit", CONTAINER, props))
    only_shares = mutate(BASELINE, "cpus", ...)
    assert violations("gpu-platform-docker-cpu-limit", CONTAINER, only_shares) == []


class TestLoopbackPorts:
    rule = "gpu-platform-docker-loopback-ports"
    open_port: ClassVar[list[dict[str, Any]]] = [
        {"internal": 8000, "external": 9000, "ip": "0.0.0.0", "protocol": "tcp"}
    ]

    def test_all_interfaces_violates_in_dev(self) -> None:
        found = violations(self.rule, CONTAINER, mutate(BASELINE, "ports", self.open_port), "dev")
        assert any("9000" in m and "0.0.0.0" in m for m in found)

    def test_missing_ip_means_all_interfaces(self) -> None:
        port = [{"internal": 8000, "external": 9000}]
        assert violations(self.rule, CONTAINER, mutate(BASELINE, "ports", port), "dev")

    def test_public_label_allows_it(self) -> None:
        props = mutate(BASELINE, "ports", self.open_port)
        props["labels"] = [*props["labels"], {"label": "gpu-platform.public", "value": "true"}]
        assert violations(self.rule, CONTAINER, props, "dev") == []

    @pytest.mark.parametrize("environment", ["staging", "prod"])
    def test_only_applies_to_dev(self, environment: str) -> None:
        assert violations(self.rule, CONTAINER, mutate(BASELINE, "ports", self.open_port), environment) == []


class TestPinnedImage:
    rule = "gpu-platform-docker-pinned-image"

    @pytest.mark.parametrize(
        "name", ["postgres:16.6-alpine", "ghcr.io/o/a:1.2.3", "localhost:5000/a:v1", "a@sha256:" + "b" * 64]
    )
    def test_pinned(self, name: str) -> None:
        assert violations(self.rule, IMAGE, {"name": name}) == []

    @pytest.mark.parametrize("name", ["postgres", "postgres:latest", "localhost:5000/app", "ghcr.io/o/a"])
    def test_unpinned(self, name: str) -> None:
        found = violations(self.rule, IMAGE, {"name": name})
        assert any(name in m for m in found), found


class TestPlaintextSecretsElsewhere:
    rule = "gpu-platform-stack-no-plaintext-secrets"

    def test_kubernetes_env_value_violates_and_value_from_passes(self) -> None:
        deployment = {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "api",
                                "env": [
                                    {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "t"}}}
                                ],
                            }
                        ]
                    }
                }
            }
        }
        kind = K8S_DEPLOYMENT
        assert violations(self.rule, kind, deployment) == []
        leaked = mutate(deployment, "spec.template.spec.containers.0.env", [{"name": "API_TOKEN", "value": "abc"}])
        assert any("API_TOKEN" in m for m in violations(self.rule, kind, leaked))

    def test_ecs_environment_violates_and_secrets_pass(self) -> None:
        kind = AWS_ECS_TASK_DEFINITION
        good = [{"name": "api", "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:..."}]}]
        assert violations(self.rule, kind, {"containerDefinitions": json.dumps(good)}) == []
        bad = [{"name": "api", "environment": [{"name": "DB_PASSWORD", "value": "x"}]}]
        assert any("DB_PASSWORD" in m for m in violations(self.rule, kind, {"containerDefinitions": json.dumps(bad)}))

    @pytest.mark.parametrize("name", ["DB_PASSWORD_FILE", "TOKEN_PATH", "SECRET_ARN", "PASSWORD_MIN_LENGTH"])
    def test_references_and_harmless_names_pass(self, name: str) -> None:
        found = violations(self.rule, CONTAINER, mutate(BASELINE, "envs", [f"{name}=/run/secrets/x"]))
        if name == "PASSWORD_MIN_LENGTH":
            assert found, "a literal under a secret-looking name is still flagged: rename or deliver as a secret"
        else:
            assert found == []


class TestProtectStateful:
    rule = "gpu-platform-stack-protect-stateful"

    def test_unprotected_volume_violates_in_prod_only(self) -> None:
        resources = [Res(DOCKER_VOLUME, "db-data", {"name": "prod-db-data"})]
        found = stack_violations(self.rule, resources, "prod")
        assert [urn for urn, _ in found] == ["urn:pulumi:prod::gpu-platform::docker:index/volume:Volume::db-data"]
        assert stack_violations(self.rule, resources, "staging") == []

    @pytest.mark.parametrize(
        "kind",
        [
            AWS_RDS_INSTANCE,
            K8S_PERSISTENT_VOLUME_CLAIM,
            K8S_CNPG_CLUSTER,
            AWS_EBS_VOLUME,
        ],
    )
    def test_every_stateful_kind(self, kind: str) -> None:
        assert stack_violations(self.rule, [Res(kind, "state", {})]) != []
        assert stack_violations(self.rule, [Res(kind, "state", {}, protect=True)]) == []

    def test_stateless_resources_are_ignored(self) -> None:
        assert stack_violations(self.rule, [Res(CONTAINER, "api", BASELINE)]) == []

    def _delivery(self, workload_mount: dict[str, Any]) -> list[Res]:
        volume = Res(DOCKER_VOLUME, "api-secrets", {"name": "prod-api-secrets"})
        carrier = {
            **TestNeverStartedCarrier.carrier,
            "volumes": [{"volumeName": "prod-api-secrets", "containerPath": "/run/secrets"}],
        }
        workload = {
            **BASELINE,
            "volumes": [{"volumeName": "prod-api-secrets", "containerPath": "/run/secrets", **workload_mount}],
        }
        return [volume, Res(CONTAINER, "api-files", carrier), Res(CONTAINER, "api", workload)]

    def test_a_volume_only_mounted_read_only_holds_no_state(self) -> None:
        """Delivered files: written only by a never-started carrier, read-only to every running container."""
        assert stack_violations(self.rule, self._delivery({"readOnly": True})) == []

    def test_a_volume_a_running_container_writes_is_state(self) -> None:
        assert stack_violations(self.rule, self._delivery({})) != []
        assert stack_violations(self.rule, self._delivery({"readOnly": False})) != []
