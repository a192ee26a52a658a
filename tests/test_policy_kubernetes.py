"""Kubernetes rules: a compliant baseline, then one mutation per way to break each rule.

Every check goes through the real CrossGuard policy objects (``tests.policy_harness``).
Failing cases assert on fragments that come from the mutation itself (the field
that was broken, the container it was broken in), not on whole messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policy.rules import BY_NAME, kubernetes
from policy.rules.base import get
from tests.policy_harness import Res, mutate, stack_violations, violations
from tests.tokens import (
    K8S_CRON_JOB,
    K8S_DAEMON_SET,
    K8S_DEPLOYMENT,
    K8S_HORIZONTAL_POD_AUTOSCALER,
    K8S_JOB,
    K8S_NAMESPACE,
    K8S_NETWORK_POLICY,
    K8S_POD,
    K8S_POD_DISRUPTION_BUDGET,
    K8S_SERVICE_ACCOUNT,
    K8S_STATEFUL_SET,
)

DEPLOYMENT = K8S_DEPLOYMENT
STATEFUL_SET = K8S_STATEFUL_SET
DAEMON_SET = K8S_DAEMON_SET
JOB = K8S_JOB
CRON_JOB = K8S_CRON_JOB
POD = K8S_POD
NAMESPACE = K8S_NAMESPACE
SERVICE_ACCOUNT = K8S_SERVICE_ACCOUNT
PDB = K8S_POD_DISRUPTION_BUDGET
NETWORK_POLICY = K8S_NETWORK_POLICY
HPA = K8S_HORIZONTAL_POD_AUTOSCALER

DIGEST = "sha256:" + "0123456789abcdef" * 4
MAIN = "server"
INIT = "fetch-weights"

POD_SPEC: dict[str, Any] = {
    "serviceAccountName": "inference",
    "automountServiceAccountToken": False,
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "initContainers": [
        {
            "name": INIT,
            "image": f"ghcr.io/acme/weights-fetcher@{DIGEST}",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
            "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        }
    ],
    "containers": [
        {
            "name": MAIN,
            "image": "ghcr.io/acme/inference:1.4.2",
            "ports": [{"name": "http", "containerPort": 8000}],
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
            "resources": {
                "requests": {"cpu": "2", "memory": "8Gi"},
                "limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": 1},
            },
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
        }
    ],
}

LABELS = {"app": "inference", "tier": "gpu"}

BASELINE: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "inference", "namespace": "gpu", "labels": {"app": "inference"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "inference"}},
        "template": {"metadata": {"labels": LABELS}, "spec": POD_SPEC},
    },
}

NAMESPACE_PROPS: dict[str, Any] = {
    "metadata": {
        "name": "gpu",
        "labels": {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
        },
    }
}
SERVICE_ACCOUNT_PROPS: dict[str, Any] = {
    "metadata": {"name": "inference", "namespace": "gpu"},
    "automountServiceAccountToken": False,
}
PDB_PROPS: dict[str, Any] = {
    "metadata": {"name": "inference", "namespace": "gpu"},
    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "inference"}}},
}
NETWORK_POLICY_PROPS: dict[str, Any] = {
    "metadata": {"name": "default-deny", "namespace": "gpu"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
}

# Dotted paths into the baseline Deployment: the pod spec, its main container, its init container.
P = "spec.template.spec"
C = f"{P}.containers.0"
IC = f"{P}.initContainers.0"
# The name the harness gives every resource it validates on its own.
SUBJECT = "thing"

RULE_NAMES = [
    "gpu-platform-k8s-run-as-non-root",
    "gpu-platform-k8s-no-privilege-escalation",
    "gpu-platform-k8s-drop-all-capabilities",
    "gpu-platform-k8s-seccomp-runtime-default",
    "gpu-platform-k8s-no-privileged",
    "gpu-platform-k8s-no-host-namespaces",
    "gpu-platform-k8s-resource-requests",
    "gpu-platform-k8s-resource-limits",
    "gpu-platform-k8s-liveness-probe",
    "gpu-platform-k8s-readiness-probe",
    "gpu-platform-k8s-pinned-image",
    "gpu-platform-k8s-gpu-limits-only",
    "gpu-platform-k8s-service-account-token",
    "gpu-platform-k8s-namespace-pss-restricted",
    "gpu-platform-k8s-pdb-for-replicated",
    "gpu-platform-k8s-networkpolicy-per-namespace",
]
STACK_RULES = RULE_NAMES[-2:]
RESOURCE_RULES = RULE_NAMES[:-2]
NOT_SECURITY = {
    "gpu-platform-k8s-resource-requests",
    "gpu-platform-k8s-resource-limits",
    "gpu-platform-k8s-liveness-probe",
    "gpu-platform-k8s-readiness-probe",
    "gpu-platform-k8s-pdb-for-replicated",
}

Change = tuple[str, Any]


def apply(props: Mapping[str, Any], *changes: Change) -> dict[str, Any]:
    """``props`` with each (dotted path, value) applied in turn (``...`` deletes)."""
    result = dict(props)
    for path, value in changes:
        result = mutate(result, path, value)
    return result


def found(messages: Sequence[str], *fragments: str) -> bool:
    """Whether one message holds every fragment."""
    return any(all(fragment in message for fragment in fragments) for message in messages)


# -- the rule set itself ------------------------------------------------------------------


def test_rules_are_exported_in_order() -> None:
    assert [rule.name for rule in kubernetes.RULES] == RULE_NAMES


@pytest.mark.parametrize("name", RULE_NAMES)
def test_rule_metadata(name: str) -> None:
    rule = BY_NAME[name]
    assert rule.area == "k8s"
    assert rule.description.endswith(".")
    assert rule.description.count(". ") == 0, "one sentence"
    assert rule.public_check
    assert rule.security is (name not in NOT_SECURITY)
    assert rule.environments == ("dev", "staging", "prod")
    assert (rule.stack_check is not None) is (name in STACK_RULES)
    assert rule.enforcement("prod") == ("mandatory" if rule.security else "advisory")
    assert rule.enforcement("dev") == "advisory"


# -- the compliant baseline passes everything -----------------------------------------------

COMPLIANT = [
    (DEPLOYMENT, BASELINE),
    (NAMESPACE, NAMESPACE_PROPS),
    (SERVICE_ACCOUNT, SERVICE_ACCOUNT_PROPS),
    (PDB, PDB_PROPS),
    (NETWORK_POLICY, NETWORK_POLICY_PROPS),
]


@pytest.mark.parametrize("rule", RESOURCE_RULES)
@pytest.mark.parametrize(("resource_type", "props"), COMPLIANT, ids=[t.rsplit(":", 1)[-1] for t, _ in COMPLIANT])
def test_compliant_resources_pass(rule: str, resource_type: str, props: dict[str, Any]) -> None:
    assert violations(rule, resource_type, props) == []


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_rules_run_in_every_environment(environment: str) -> None:
    broken = mutate(BASELINE, f"{C}.securityContext.privileged", True)
    assert violations("gpu-platform-k8s-no-privileged", DEPLOYMENT, broken, environment)


def test_baseline_stack_passes() -> None:
    for rule in STACK_RULES:
        assert stack_violations(rule, baseline_stack()) == []


# -- one mutation per way to break each resource rule ----------------------------------------

# (rule, changes to the baseline Deployment, fragments one message must hold)
FAILING: list[tuple[str, list[Change], tuple[str, ...]]] = [
    # run-as-non-root: the pod-level value is inherited, a container-level root UID is not excused by it
    ("gpu-platform-k8s-run-as-non-root", [(f"{P}.securityContext.runAsNonRoot", ...)], (MAIN, "runAsNonRoot")),
    ("gpu-platform-k8s-run-as-non-root", [(f"{P}.securityContext.runAsNonRoot", ...)], (INIT, "runAsNonRoot")),
    ("gpu-platform-k8s-run-as-non-root", [(f"{P}.securityContext.runAsNonRoot", False)], ("runAsNonRoot", "false")),
    ("gpu-platform-k8s-run-as-non-root", [(f"{C}.securityContext.runAsUser", 0)], (MAIN, "runAsUser")),
    ("gpu-platform-k8s-run-as-non-root", [(f"{IC}.securityContext.runAsUser", 0)], (INIT, "runAsUser")),
    ("gpu-platform-k8s-run-as-non-root", [(f"{P}.securityContext.runAsUser", 0)], ("securityContext.runAsUser",)),
    ("gpu-platform-k8s-run-as-non-root", [(f"{C}.securityContext.runAsNonRoot", False)], (MAIN, "runAsNonRoot")),
    (
        "gpu-platform-k8s-run-as-non-root",
        [(f"{P}.securityContext.runAsNonRoot", ...), (f"{C}.securityContext.runAsNonRoot", True)],
        (INIT, "runAsNonRoot"),
    ),
    # no-privilege-escalation: container-only, a pod-level value does not count
    (
        "gpu-platform-k8s-no-privilege-escalation",
        [(f"{C}.securityContext.allowPrivilegeEscalation", ...)],
        (MAIN, "allowPrivilegeEscalation"),
    ),
    (
        "gpu-platform-k8s-no-privilege-escalation",
        [(f"{C}.securityContext.allowPrivilegeEscalation", True)],
        (MAIN, "allowPrivilegeEscalation"),
    ),
    ("gpu-platform-k8s-no-privilege-escalation", [(f"{IC}.securityContext", ...)], (INIT, "allowPrivilegeEscalation")),
    (
        "gpu-platform-k8s-no-privilege-escalation",
        [
            (f"{C}.securityContext.allowPrivilegeEscalation", ...),
            (f"{P}.securityContext.allowPrivilegeEscalation", False),
        ],
        (MAIN, "allowPrivilegeEscalation"),
    ),
    # drop-all-capabilities
    ("gpu-platform-k8s-drop-all-capabilities", [(f"{C}.securityContext.capabilities", ...)], (MAIN, "drop", "ALL")),
    (
        "gpu-platform-k8s-drop-all-capabilities",
        [(f"{C}.securityContext.capabilities.drop", ["NET_RAW"])],
        (MAIN, "ALL"),
    ),
    ("gpu-platform-k8s-drop-all-capabilities", [(f"{C}.securityContext.capabilities.drop", ["all"])], (MAIN, "ALL")),
    ("gpu-platform-k8s-drop-all-capabilities", [(f"{IC}.securityContext.capabilities.drop", [])], (INIT, "ALL")),
    (
        "gpu-platform-k8s-drop-all-capabilities",
        [(f"{C}.securityContext.capabilities.add", ["SYS_ADMIN"])],
        (MAIN, "SYS_ADMIN"),
    ),
    (
        "gpu-platform-k8s-drop-all-capabilities",
        [(f"{C}.securityContext.capabilities.add", ["NET_BIND_SERVICE", "NET_RAW"])],
        (MAIN, "NET_RAW"),
    ),
    (
        "gpu-platform-k8s-drop-all-capabilities",
        [(f"{C}.securityContext.capabilities", ...), (f"{P}.securityContext.capabilities", {"drop": ["ALL"]})],
        (MAIN, "ALL"),
    ),
    # seccomp-runtime-default: inherited from the pod, overridable per container
    (
        "gpu-platform-k8s-seccomp-runtime-default",
        [(f"{P}.securityContext.seccompProfile", ...)],
        (MAIN, "seccompProfile"),
    ),
    (
        "gpu-platform-k8s-seccomp-runtime-default",
        [(f"{P}.securityContext.seccompProfile", ...)],
        (INIT, "seccompProfile"),
    ),
    (
        "gpu-platform-k8s-seccomp-runtime-default",
        [(f"{P}.securityContext.seccompProfile.type", "Unconfined")],
        ("seccompProfile", "Unconfined"),
    ),
    (
        "gpu-platform-k8s-seccomp-runtime-default",
        [(f"{C}.securityContext.seccompProfile", {"type": "Unconfined"})],
        (MAIN, "Unconfined"),
    ),
    (
        "gpu-platform-k8s-seccomp-runtime-default",
        [
            (f"{P}.securityContext.seccompProfile", ...),
            (f"{C}.securityContext.seccompProfile", {"type": "RuntimeDefault"}),
        ],
        (INIT, "seccompProfile"),
    ),
    # no-privileged
    ("gpu-platform-k8s-no-privileged", [(f"{C}.securityContext.privileged", True)], (MAIN, "privileged")),
    ("gpu-platform-k8s-no-privileged", [(f"{IC}.securityContext.privileged", True)], (INIT, "privileged")),
    # no-host-namespaces
    ("gpu-platform-k8s-no-host-namespaces", [(f"{P}.hostNetwork", True)], ("hostNetwork",)),
    ("gpu-platform-k8s-no-host-namespaces", [(f"{P}.hostPID", True)], ("hostPID",)),
    ("gpu-platform-k8s-no-host-namespaces", [(f"{P}.hostIPC", True)], ("hostIPC",)),
    # resource-requests
    ("gpu-platform-k8s-resource-requests", [(f"{C}.resources.requests.cpu", ...)], (MAIN, "requests.cpu")),
    ("gpu-platform-k8s-resource-requests", [(f"{C}.resources.requests.memory", ...)], (MAIN, "requests.memory")),
    ("gpu-platform-k8s-resource-requests", [(f"{C}.resources.requests", ...)], (MAIN, "requests.memory")),
    ("gpu-platform-k8s-resource-requests", [(f"{C}.resources.requests.cpu", "0")], (MAIN, "requests.cpu")),
    ("gpu-platform-k8s-resource-requests", [(f"{IC}.resources", ...)], (INIT, "requests.cpu")),
    # resource-limits
    ("gpu-platform-k8s-resource-limits", [(f"{C}.resources.limits.cpu", ...)], (MAIN, "limits.cpu")),
    ("gpu-platform-k8s-resource-limits", [(f"{C}.resources.limits.memory", ...)], (MAIN, "limits.memory")),
    ("gpu-platform-k8s-resource-limits", [(f"{C}.resources.limits", ...)], (MAIN, "limits.cpu")),
    ("gpu-platform-k8s-resource-limits", [(f"{IC}.resources.limits.memory", ...)], (INIT, "limits.memory")),
    # probes
    ("gpu-platform-k8s-liveness-probe", [(f"{C}.livenessProbe", ...)], (MAIN, "livenessProbe")),
    ("gpu-platform-k8s-liveness-probe", [(f"{C}.livenessProbe", {})], (MAIN, "livenessProbe")),
    ("gpu-platform-k8s-readiness-probe", [(f"{C}.readinessProbe", ...)], (MAIN, "readinessProbe")),
    ("gpu-platform-k8s-readiness-probe", [(f"{C}.readinessProbe", None)], (MAIN, "readinessProbe")),
    # pinned-image
    ("gpu-platform-k8s-pinned-image", [(f"{C}.image", "ghcr.io/acme/inference")], (MAIN, "ghcr.io/acme/inference")),
    ("gpu-platform-k8s-pinned-image", [(f"{C}.image", "ghcr.io/acme/inference:latest")], (MAIN, "inference:latest")),
    (
        "gpu-platform-k8s-pinned-image",
        [(f"{C}.image", "registry.local:5000/acme/inference")],
        (MAIN, "registry.local:5000"),
    ),
    ("gpu-platform-k8s-pinned-image", [(f"{C}.image", "ghcr.io/acme/inference:")], (MAIN, "inference:")),
    ("gpu-platform-k8s-pinned-image", [(f"{C}.image", "ghcr.io/acme/inference@sha256:abc")], (MAIN, "sha256:abc")),
    ("gpu-platform-k8s-pinned-image", [(f"{C}.image", ...)], (MAIN, "image")),
    ("gpu-platform-k8s-pinned-image", [(f"{IC}.image", "busybox")], (INIT, "busybox")),
    # gpu-limits-only (the resource name has dots, so whole maps are replaced)
    (
        "gpu-platform-k8s-gpu-limits-only",
        [(f"{C}.resources.requests", {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": 1})],
        (MAIN, "nvidia.com/gpu", "requests"),
    ),
    (
        "gpu-platform-k8s-gpu-limits-only",
        [(f"{C}.resources.limits", {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": 0})],
        (MAIN, "nvidia.com/gpu", "0"),
    ),
    (
        "gpu-platform-k8s-gpu-limits-only",
        [(f"{C}.resources.limits", {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "0.5"})],
        (MAIN, "nvidia.com/gpu", "0.5"),
    ),
    (
        "gpu-platform-k8s-gpu-limits-only",
        [(f"{C}.resources.limits", {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": 1.5})],
        (MAIN, "nvidia.com/gpu", "1.5"),
    ),
    (
        "gpu-platform-k8s-gpu-limits-only",
        [(f"{IC}.resources.requests", {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"})],
        (INIT, "nvidia.com/gpu", "requests"),
    ),
    # service-account-token
    (
        "gpu-platform-k8s-service-account-token",
        [(f"{P}.automountServiceAccountToken", ...)],
        ("automountServiceAccountToken",),
    ),
    (
        "gpu-platform-k8s-service-account-token",
        [(f"{P}.automountServiceAccountToken", True)],
        ("automountServiceAccountToken", "true"),
    ),
]


@pytest.mark.parametrize(
    ("rule", "changes", "fragments"), FAILING, ids=[f"{r[13:]}-{i}" for i, (r, _, _) in enumerate(FAILING)]
)
def test_mutation_fails(rule: str, changes: list[Change], fragments: tuple[str, ...]) -> None:
    messages = violations(rule, DEPLOYMENT, apply(BASELINE, *changes))
    assert found(messages, SUBJECT, *fragments), messages


# Variants that stay compliant: the inheritance and exemption cases the rules must not flag.
PASSING: list[tuple[str, list[Change]]] = [
    (
        "gpu-platform-k8s-run-as-non-root",
        [
            (f"{P}.securityContext.runAsNonRoot", ...),
            (f"{C}.securityContext.runAsNonRoot", True),
            (f"{IC}.securityContext.runAsNonRoot", True),
        ],
    ),
    ("gpu-platform-k8s-run-as-non-root", [(f"{P}.securityContext.runAsUser", ...)]),
    (
        "gpu-platform-k8s-seccomp-runtime-default",
        [
            (f"{P}.securityContext.seccompProfile", ...),
            (f"{C}.securityContext.seccompProfile", {"type": "RuntimeDefault"}),
            (f"{IC}.securityContext.seccompProfile", {"type": "Localhost", "localhostProfile": "profiles/fetch.json"}),
        ],
    ),
    ("gpu-platform-k8s-drop-all-capabilities", [(f"{C}.securityContext.capabilities.add", ["NET_BIND_SERVICE"])]),
    ("gpu-platform-k8s-no-privileged", [(f"{C}.securityContext.privileged", False)]),
    ("gpu-platform-k8s-no-host-namespaces", [(f"{P}.hostNetwork", False), (f"{P}.hostPID", False)]),
    ("gpu-platform-k8s-pinned-image", [(f"{C}.image", "registry.local:5000/acme/inference:2024.06.1")]),
    ("gpu-platform-k8s-pinned-image", [(f"{C}.image", f"ghcr.io/acme/inference:latest@{DIGEST}")]),
    ("gpu-platform-k8s-pinned-image", [(f"{C}.image", f"ghcr.io/acme/inference@{DIGEST}")]),
    (
        "gpu-platform-k8s-gpu-limits-only",
        [(f"{C}.resources.limits", {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "2"})],
    ),
    (
        "gpu-platform-k8s-gpu-limits-only",
        [(f"{C}.resources.limits", {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": 4.0})],
    ),
    ("gpu-platform-k8s-gpu-limits-only", [(f"{C}.resources.limits", {"cpu": "4", "memory": "16Gi"})]),
    ("gpu-platform-k8s-liveness-probe", [(f"{C}.livenessProbe", {"tcpSocket": {"port": "http"}})]),
    ("gpu-platform-k8s-resource-requests", [(f"{C}.resources.requests.cpu", 0.5)]),
]


@pytest.mark.parametrize(("rule", "changes"), PASSING, ids=[f"{r[13:]}-{i}" for i, (r, _) in enumerate(PASSING)])
def test_compliant_variant_passes(rule: str, changes: list[Change]) -> None:
    assert violations(rule, DEPLOYMENT, apply(BASELINE, *changes)) == []


def test_every_broken_container_is_reported() -> None:
    broken = mutate(BASELINE, f"{P}.securityContext.runAsNonRoot", ...)
    messages = violations("gpu-platform-k8s-run-as-non-root", DEPLOYMENT, broken)
    assert len(messages) == 2
    assert found(messages, MAIN)
    assert found(messages, INIT)


# -- ServiceAccount and Namespace ---------------------------------------------------------------


@pytest.mark.parametrize(("value", "fragment"), [(..., "unset"), (True, "true")])
def test_service_account_must_not_automount(value: Any, fragment: str) -> None:
    messages = violations(
        "gpu-platform-k8s-service-account-token",
        SERVICE_ACCOUNT,
        mutate(SERVICE_ACCOUNT_PROPS, "automountServiceAccountToken", value),
    )
    assert found(messages, "automountServiceAccountToken", fragment), messages


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        ({"pod-security.kubernetes.io/enforce": "baseline"}, "baseline"),
        ({"pod-security.kubernetes.io/warn": "restricted"}, "pod-security.kubernetes.io/enforce"),
        ({}, "pod-security.kubernetes.io/enforce"),
        (..., "pod-security.kubernetes.io/enforce"),
    ],
)
def test_namespace_must_enforce_restricted(labels: Any, fragment: str) -> None:
    props = mutate(NAMESPACE_PROPS, "metadata.labels", labels)
    messages = violations("gpu-platform-k8s-namespace-pss-restricted", NAMESPACE, props)
    assert found(messages, "restricted", fragment), messages


# -- the same rules over every workload shape -----------------------------------------------------


def shape(kind: str, pod: Mapping[str, Any] = POD_SPEC) -> tuple[str, dict[str, Any], str]:
    """(type token, compliant props, dotted path of the pod spec) for each workload kind."""
    metadata = {"name": "worker", "namespace": "gpu", "labels": LABELS}
    template = {"metadata": {"labels": LABELS}, "spec": dict(pod)}
    job_pod = {**pod, "restartPolicy": "Never"}
    job_pod["containers"] = [
        {k: v for k, v in c.items() if k not in ("livenessProbe", "readinessProbe")} for c in pod["containers"]
    ]
    job_template = {"metadata": {"labels": LABELS}, "spec": job_pod}
    selector = {"matchLabels": {"app": "inference"}}
    shapes: dict[str, tuple[str, dict[str, Any], str]] = {
        "Deployment": (DEPLOYMENT, BASELINE, P),
        "StatefulSet": (
            STATEFUL_SET,
            {
                "metadata": metadata,
                "spec": {"serviceName": "worker", "replicas": 2, "selector": selector, "template": template},
            },
            P,
        ),
        "DaemonSet": (DAEMON_SET, {"metadata": metadata, "spec": {"selector": selector, "template": template}}, P),
        "Job": (JOB, {"metadata": metadata, "spec": {"backoffLimit": 2, "template": job_template}}, P),
        "CronJob": (
            CRON_JOB,
            {
                "metadata": metadata,
                "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": job_template}}},
            },
            "spec.jobTemplate.spec.template.spec",
        ),
        "Pod": (POD, {"metadata": metadata, "spec": dict(pod)}, "spec"),
    }
    return shapes[kind]


SHAPES = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"]


@pytest.mark.parametrize("rule", RESOURCE_RULES)
@pytest.mark.parametrize("kind", SHAPES)
def test_compliant_shape_passes(kind: str, rule: str) -> None:
    resource_type, props, _ = shape(kind)
    assert violations(rule, resource_type, props) == []


SHAPE_FAILING: list[tuple[str, str, Any, tuple[str, ...]]] = [
    ("gpu-platform-k8s-run-as-non-root", "securityContext.runAsNonRoot", ..., (MAIN, "runAsNonRoot")),
    ("gpu-platform-k8s-run-as-non-root", "containers.0.securityContext.runAsUser", 0, (MAIN, "runAsUser")),
    ("gpu-platform-k8s-no-privileged", "containers.0.securityContext.privileged", True, (MAIN, "privileged")),
    ("gpu-platform-k8s-no-privileged", "initContainers.0.securityContext.privileged", True, (INIT, "privileged")),
    ("gpu-platform-k8s-no-host-namespaces", "hostPID", True, ("hostPID",)),
    ("gpu-platform-k8s-pinned-image", "containers.0.image", "ghcr.io/acme/inference:latest", (MAIN, "latest")),
    ("gpu-platform-k8s-seccomp-runtime-default", "securityContext.seccompProfile", ..., (INIT, "seccompProfile")),
    ("gpu-platform-k8s-service-account-token", "automountServiceAccountToken", ..., ("automountServiceAccountToken",)),
]


@pytest.mark.parametrize(
    ("rule", "path", "value", "fragments"),
    SHAPE_FAILING,
    ids=[f"{r[13:]}-{i}" for i, (r, *_) in enumerate(SHAPE_FAILING)],
)
@pytest.mark.parametrize("kind", SHAPES)
def test_shape_mutation_fails(kind: str, rule: str, path: str, value: Any, fragments: tuple[str, ...]) -> None:
    resource_type, props, pod_path = shape(kind)
    messages = violations(rule, resource_type, mutate(props, f"{pod_path}.{path}", value))
    assert found(messages, kind, *fragments), messages


@pytest.mark.parametrize("kind", ["Job", "CronJob"])
@pytest.mark.parametrize(
    ("rule", "probe"),
    [("gpu-platform-k8s-liveness-probe", "livenessProbe"), ("gpu-platform-k8s-readiness-probe", "readinessProbe")],
)
def test_jobs_need_no_probes(kind: str, rule: str, probe: str) -> None:
    resource_type, props, pod_path = shape(kind)
    assert probe not in get(props, pod_path)["containers"][0]
    assert violations(rule, resource_type, props) == []
    # the same probe missing on a Deployment is reported
    assert found(violations(rule, DEPLOYMENT, mutate(BASELINE, f"{C}.{probe}", ...)), MAIN, probe)


def test_daemonset_needs_liveness_but_not_readiness() -> None:
    resource_type, props, pod_path = shape("DaemonSet")
    without = mutate(
        mutate(props, f"{pod_path}.containers.0.readinessProbe", ...), f"{pod_path}.containers.0.livenessProbe", ...
    )
    assert violations("gpu-platform-k8s-readiness-probe", resource_type, without) == []
    assert found(violations("gpu-platform-k8s-liveness-probe", resource_type, without), MAIN, "livenessProbe")


@pytest.mark.parametrize("kind", ["StatefulSet", "Pod"])
def test_serving_shapes_need_readiness(kind: str) -> None:
    resource_type, props, pod_path = shape(kind)
    messages = violations(
        "gpu-platform-k8s-readiness-probe", resource_type, mutate(props, f"{pod_path}.containers.0.readinessProbe", ...)
    )
    assert found(messages, kind, MAIN, "readinessProbe")


def test_cronjob_message_points_at_the_job_template() -> None:
    resource_type, props, pod_path = shape("CronJob")
    messages = violations(
        "gpu-platform-k8s-no-host-namespaces", resource_type, mutate(props, f"{pod_path}.hostNetwork", True)
    )
    assert found(messages, f"{pod_path}.hostNetwork")


# -- as the engine sends inputs: list/dict proxies, numbers as floats, unknowns in preview -----------


def as_engine(value: Any) -> Any:
    """Inputs the way the policy server hands them over: ints as floats (protobuf Struct), wrapped in its proxy."""

    def floats(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: floats(x) for k, x in v.items()}
        if isinstance(v, list):
            return [floats(x) for x in v]
        return float(v) if isinstance(v, int) and not isinstance(v, bool) else v

    return unknown_checking_proxy(floats(value))


@pytest.mark.parametrize("rule", RESOURCE_RULES)
def test_engine_shaped_baseline_passes(rule: str) -> None:
    assert violations(rule, DEPLOYMENT, as_engine(BASELINE)) == []


@pytest.mark.parametrize(
    ("rule", "changes", "fragments"),
    [
        case
        for case in FAILING
        if case[0] in {"gpu-platform-k8s-drop-all-capabilities", "gpu-platform-k8s-run-as-non-root"}
    ],
)
def test_engine_shaped_mutation_fails(rule: str, changes: list[Change], fragments: tuple[str, ...]) -> None:
    messages = violations(rule, DEPLOYMENT, as_engine(apply(BASELINE, *changes)))
    assert found(messages, *fragments), messages


def test_engine_shaped_stack_passes_and_fails() -> None:
    resources = [Res(r.type, r.name, as_engine(r.props)) for r in baseline_stack()]
    for rule in STACK_RULES:
        assert stack_violations(rule, resources) == []
    without_pdb = [r for r in resources if r.type != PDB]
    assert stack_violations("gpu-platform-k8s-pdb-for-replicated", without_pdb)


def test_unknown_image_defers_to_the_engine() -> None:
    """An image computed by another resource is unknown in preview: CrossGuard skips the policy, no false report."""
    props = as_engine(mutate(BASELINE, f"{C}.image", UNKNOWN_STRING_VALUE))
    with pytest.raises(UnknownValueError):
        violations("gpu-platform-k8s-pinned-image", DEPLOYMENT, props)


# -- stack rules ---------------------------------------------------------------------------------


def baseline_stack() -> list[Res]:
    return [
        Res(NAMESPACE, "gpu", NAMESPACE_PROPS),
        Res(SERVICE_ACCOUNT, "inference-sa", SERVICE_ACCOUNT_PROPS),
        Res(DEPLOYMENT, "inference", BASELINE),
        Res(PDB, "inference-pdb", PDB_PROPS),
        Res(NETWORK_POLICY, "gpu-default-deny", NETWORK_POLICY_PROPS),
    ]


def replace(resources: list[Res], name: str, props: Mapping[str, Any] | None) -> list[Res]:
    """The stack with resource ``name`` given new props (None removes it)."""
    result: list[Res] = []
    for resource in resources:
        if resource.name != name:
            result.append(resource)
        elif props is not None:
            result.append(Res(resource.type, resource.name, props))
    return result


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:prod::gpu-platform::{resource_type}::{name}"


PDB_RULE = "gpu-platform-k8s-pdb-for-replicated"
NETPOL_RULE = "gpu-platform-k8s-networkpolicy-per-namespace"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (None, "PodDisruptionBudget"),
        (mutate(PDB_PROPS, "spec.selector.matchLabels", {"app": "other"}), "spec.selector.matchLabels"),
        (mutate(PDB_PROPS, "spec.selector.matchLabels", {"app": "inference", "canary": "yes"}), "PodDisruptionBudget"),
        (mutate(PDB_PROPS, "metadata.namespace", "other"), "namespace gpu"),
        (mutate(PDB_PROPS, "spec.selector", ...), "PodDisruptionBudget"),
        (
            mutate(
                PDB_PROPS,
                "spec.selector",
                {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gpu"]}]},
            ),
            "PodDisruptionBudget",
        ),
    ],
    ids=["absent", "selector-mismatch", "selector-superset", "other-namespace", "no-selector", "expression-mismatch"],
)
def test_replicated_deployment_without_matching_pdb(change: dict[str, Any] | None, fragment: str) -> None:
    reported = stack_violations(PDB_RULE, replace(baseline_stack(), "inference-pdb", change))
    assert [u for u, _ in reported] == [urn(DEPLOYMENT, "inference")]
    assert found([m for _, m in reported], "inference", "2 replicas", fragment)


@pytest.mark.parametrize(
    "selector",
    [
        {"matchLabels": {"app": "inference", "tier": "gpu"}},
        {"matchLabels": {"tier": "gpu"}},
        {"matchExpressions": [{"key": "app", "operator": "In", "values": ["inference", "batch"]}]},
        {"matchLabels": {"app": "inference"}, "matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]},
        {},
    ],
    ids=["exact", "subset", "expression-in", "labels-and-expression", "empty-selects-all"],
)
def test_matching_pdb_satisfies(selector: dict[str, Any]) -> None:
    stack = replace(baseline_stack(), "inference-pdb", mutate(PDB_PROPS, "spec.selector", selector))
    assert stack_violations(PDB_RULE, stack) == []


@pytest.mark.parametrize("replicas", [1, ...])
def test_single_replica_needs_no_pdb(replicas: Any) -> None:
    stack = replace(baseline_stack(), "inference", mutate(BASELINE, "spec.replicas", replicas))
    assert stack_violations(PDB_RULE, replace(stack, "inference-pdb", None)) == []


def hpa(target: str, max_replicas: int, namespace: str = "gpu", kind: str = "Deployment") -> Res:
    return Res(
        HPA,
        "inference-hpa",
        {
            "metadata": {"name": "inference", "namespace": namespace},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target},
                "minReplicas": 1,
                "maxReplicas": max_replicas,
            },
        },
    )


def test_hpa_scaled_deployment_needs_pdb() -> None:
    single = replace(baseline_stack(), "inference", mutate(BASELINE, "spec.replicas", 1))
    stack = [*replace(single, "inference-pdb", None), hpa("inference", 4)]
    reported = stack_violations(PDB_RULE, stack)
    assert [u for u, _ in reported] == [urn(DEPLOYMENT, "inference")]
    assert found([m for _, m in reported], "inference-hpa", "4 replicas", "PodDisruptionBudget")
    assert stack_violations(PDB_RULE, [*single, hpa("inference", 4)]) == []


@pytest.mark.parametrize(
    "scaler",
    [
        hpa("inference", 1),
        hpa("other", 4),
        hpa("inference", 4, namespace="other"),
        hpa("inference", 4, kind="StatefulSet"),
    ],
    ids=["max-one", "other-target", "other-namespace", "other-kind"],
)
def test_hpa_that_does_not_scale_it_needs_no_pdb(scaler: Res) -> None:
    single = replace(baseline_stack(), "inference", mutate(BASELINE, "spec.replicas", 1))
    assert stack_violations(PDB_RULE, [*replace(single, "inference-pdb", None), scaler]) == []


def test_replicated_statefulset_needs_pdb() -> None:
    resource_type, props, _ = shape("StatefulSet")
    stack = [*replace(baseline_stack(), "inference-pdb", None), Res(resource_type, "worker", props)]
    reported = stack_violations(PDB_RULE, stack)
    assert {u for u, _ in reported} == {urn(DEPLOYMENT, "inference"), urn(STATEFUL_SET, "worker")}
    assert found([m for _, m in reported], "StatefulSet", "worker")


def test_networkpolicy_present_passes() -> None:
    assert stack_violations(NETPOL_RULE, baseline_stack()) == []


def test_namespace_without_networkpolicy() -> None:
    reported = stack_violations(NETPOL_RULE, replace(baseline_stack(), "gpu-default-deny", None))
    assert [u for u, _ in reported] == [urn(NAMESPACE, "gpu")]
    assert found([m for _, m in reported], "namespace gpu", "inference", "NetworkPolicy")


def test_networkpolicy_in_another_namespace_does_not_count() -> None:
    stack = replace(baseline_stack(), "gpu-default-deny", mutate(NETWORK_POLICY_PROPS, "metadata.namespace", "other"))
    reported = stack_violations(NETPOL_RULE, stack)
    assert found([m for _, m in reported], "namespace gpu")


def test_workload_namespace_without_namespace_resource() -> None:
    """A namespace only used by a workload (here the default one) still needs a NetworkPolicy."""
    resource_type, props, _ = shape("Job")
    job = Res(resource_type, "migrate", mutate(props, "metadata.namespace", ...))
    reported = stack_violations(NETPOL_RULE, [*baseline_stack(), job])
    assert [u for u, _ in reported] == [urn(JOB, "migrate")]
    assert found([m for _, m in reported], "namespace default", "migrate")


def test_empty_namespace_resource_without_networkpolicy() -> None:
    empty = Res(NAMESPACE, "batch", mutate(NAMESPACE_PROPS, "metadata.name", "batch"))
    reported = stack_violations(NETPOL_RULE, [*baseline_stack(), empty])
    assert [u for u, _ in reported] == [urn(NAMESPACE, "batch")]
    assert found([m for _, m in reported], "namespace batch")
