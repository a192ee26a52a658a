"""Kubernetes rules: Pod Security Standards "restricted", Checkov CKV_K8S_*, GPU scheduling, PDBs, NetworkPolicies.

Workload rules read the pod spec inside a Deployment, StatefulSet, DaemonSet,
Job, CronJob or bare Pod and check every container and init container. Where
Kubernetes inherits a field from the pod ``securityContext`` (``runAsNonRoot``,
``runAsUser``, ``seccompProfile``) a pod-level value satisfies the containers;
``allowPrivilegeEscalation``, ``capabilities`` and ``privileged`` exist only on
containers. Unknown values (``pulumi preview``) raise ``UnknownValueError`` from
the props proxy, which CrossGuard turns into "can't run during preview".
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from policy.rules.base import (
    Rule,
    Subject,
    as_list,
    get,
    kubernetes_kind,
    mapping,
    pod_containers,
    pod_spec,
    resource_rule,
    shown,
    stack_rule,
)

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
POD = "kubernetes:core/v1:Pod"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"

WORKLOAD_TYPES = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, JOB, CRON_JOB, POD)
# Workloads expected to keep running (Jobs finish, so they have no liveness/readiness to report).
LONG_RUNNING_TYPES = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, POD)
# Workloads that sit behind a Service (a DaemonSet's pods are per-node agents).
SERVING_TYPES = (DEPLOYMENT, STATEFUL_SET, POD)
REPLICATED_KINDS = ("Deployment", "StatefulSet")
NETWORK_POLICY_KINDS = ("NetworkPolicy", "CiliumNetworkPolicy")

GPU_RESOURCE = "nvidia.com/gpu"
PSS_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
SECCOMP_ALLOWED = ("RuntimeDefault", "Localhost")
CAPABILITIES_ALLOWED_TO_ADD = ("NET_BIND_SERVICE",)
DEFAULT_NAMESPACE = "default"


# -- Kubernetes-specific readers (the shared ones are in policy/rules/base.py) -------


def _containers(spec: Mapping[str, Any] | None, *, init: bool = True) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, container) for the containers, then the init containers, of a pod spec."""
    if not spec:
        return
    for container in as_list(spec.get("containers")):
        yield f"container {container.get('name') or '(unnamed)'}", container
    if init:
        for container in as_list(spec.get("initContainers")):
            yield f"init container {container.get('name') or '(unnamed)'}", container


def _who(subject: Subject) -> str:
    return f"{kubernetes_kind(subject.type) or subject.type} {subject.name}"


def _pod_path(subject: Subject) -> str:
    """Where the pod spec sits in this kind's inputs, for messages."""
    kind = kubernetes_kind(subject.type)
    if kind == "Pod":
        return "spec"
    if kind == "CronJob":
        return "spec.jobTemplate.spec.template.spec"
    return "spec.template.spec"


def _namespace(subject: Subject) -> str:
    return str(get(subject.props, "metadata.namespace") or DEFAULT_NAMESPACE)


def _object_name(subject: Subject) -> str:
    return str(get(subject.props, "metadata.name") or subject.name)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _count(value: Any) -> float | None:
    """A replica count as a number (the engine sends numbers as floats), None when not a number."""
    return float(value) if _is_number(value) else None


def _is_root(uid: Any) -> bool:
    return _is_number(uid) and uid == 0


def _unset(value: Any) -> bool:
    return value is None or value == "" or (_is_number(value) and value == 0) or value == "0"


# -- Pod Security Standards "restricted" ----------------------------------------------


@resource_rule(
    "gpu-platform-k8s-run-as-non-root",
    "Every container must run with runAsNonRoot true (set on the pod or the container) and never as UID 0.",
    "high",
    'Checkov CKV_K8S_23 / PSS restricted "Running as Non-root" and "Running as Non-root user"',
    WORKLOAD_TYPES,
)
def run_as_non_root(subject: Subject) -> Iterator[str]:
    spec = pod_spec(subject)
    if not spec:
        return
    who, path = _who(subject), _pod_path(subject)
    pod_non_root = get(spec, "securityContext.runAsNonRoot")
    if pod_non_root is False:
        yield f"{who} sets {path}.securityContext.runAsNonRoot: false; set it to true"
    if _is_root(get(spec, "securityContext.runAsUser")):
        yield f"{who} sets {path}.securityContext.runAsUser: 0 (root); use a non-zero UID"
    for label, container in _containers(spec):
        non_root = get(container, "securityContext.runAsNonRoot")
        if non_root is False:
            yield f"{who}: {label} sets securityContext.runAsNonRoot: false; set it to true or remove it"
        elif non_root is None and pod_non_root is not True:
            yield (
                f"{who}: {label} may run as root; set securityContext.runAsNonRoot: true "
                f"on the container or on {path}.securityContext"
            )
        if _is_root(get(container, "securityContext.runAsUser")):
            yield f"{who}: {label} sets securityContext.runAsUser: 0 (root); use a non-zero UID"


@resource_rule(
    "gpu-platform-k8s-no-privilege-escalation",
    "Every container must set allowPrivilegeEscalation false so setuid binaries cannot gain privileges.",
    "high",
    'Checkov CKV_K8S_20 / PSS restricted "Privilege Escalation"',
    WORKLOAD_TYPES,
)
def no_privilege_escalation(subject: Subject) -> Iterator[str]:
    for label, container in _containers(pod_spec(subject)):
        if get(container, "securityContext.allowPrivilegeEscalation") is not False:
            yield f"{_who(subject)}: {label} does not set securityContext.allowPrivilegeEscalation: false"


@resource_rule(
    "gpu-platform-k8s-drop-all-capabilities",
    "Every container must drop ALL Linux capabilities and may add back only NET_BIND_SERVICE.",
    "high",
    'Checkov CKV_K8S_28, CKV_K8S_37 / PSS restricted "Capabilities"',
    WORKLOAD_TYPES,
)
def drop_all_capabilities(subject: Subject) -> Iterator[str]:
    for label, container in _containers(pod_spec(subject)):
        drop = [str(c) for c in as_list(get(container, "securityContext.capabilities.drop"))]
        if "ALL" not in drop:
            hint = (
                " (Pod Security Admission matches the exact spelling ALL)" if "all" in (c.lower() for c in drop) else ""
            )
            yield f'{_who(subject)}: {label} does not set securityContext.capabilities.drop: ["ALL"]{hint}'
        added = [str(c) for c in as_list(get(container, "securityContext.capabilities.add"))]
        for capability in added:
            if capability not in CAPABILITIES_ALLOWED_TO_ADD:
                yield (
                    f"{_who(subject)}: {label} adds capability {capability} in securityContext.capabilities.add; "
                    "only NET_BIND_SERVICE is allowed"
                )


@resource_rule(
    "gpu-platform-k8s-seccomp-runtime-default",
    "Every container must run under the RuntimeDefault or a Localhost seccomp profile, from the pod or its own.",
    "medium",
    'Checkov CKV_K8S_31 / PSS restricted "Seccomp"',
    WORKLOAD_TYPES,
)
def seccomp_runtime_default(subject: Subject) -> Iterator[str]:
    spec = pod_spec(subject)
    if not spec:
        return
    who, path = _who(subject), _pod_path(subject)
    allowed = " or ".join(SECCOMP_ALLOWED)
    pod_type = get(spec, "securityContext.seccompProfile.type")
    if pod_type is not None and pod_type not in SECCOMP_ALLOWED:
        yield f"{who} sets {path}.securityContext.seccompProfile.type: {pod_type}; use {allowed}"
    for label, container in _containers(spec):
        own = get(container, "securityContext.seccompProfile.type")
        if own is not None and own not in SECCOMP_ALLOWED:
            yield f"{who}: {label} sets securityContext.seccompProfile.type: {own}; use {allowed}"
        elif own is None and pod_type is None:
            yield (
                f"{who}: {label} has no seccompProfile; set seccompProfile.type: RuntimeDefault "
                f"on {path}.securityContext or the container"
            )


# -- Pod Security Standards "baseline" (contained in restricted) ------------------------


@resource_rule(
    "gpu-platform-k8s-no-privileged",
    "No container may run privileged, which gives it every capability and all host devices.",
    "critical",
    'Checkov CKV_K8S_16 / PSS baseline "Privileged Containers"',
    WORKLOAD_TYPES,
)
def no_privileged(subject: Subject) -> Iterator[str]:
    for label, container in _containers(pod_spec(subject)):
        if get(container, "securityContext.privileged") is True:
            yield (
                f"{_who(subject)}: {label} sets securityContext.privileged: true; "
                "request the GPU through resources.limits and drop privileged"
            )


@resource_rule(
    "gpu-platform-k8s-no-host-namespaces",
    "Pods must not share the host's network, process or IPC namespace.",
    "high",
    'Checkov CKV_K8S_17, CKV_K8S_18, CKV_K8S_19 / PSS baseline "Host Namespaces"',
    WORKLOAD_TYPES,
)
def no_host_namespaces(subject: Subject) -> Iterator[str]:
    spec = pod_spec(subject)
    if not spec:
        return
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            yield f"{_who(subject)} sets {_pod_path(subject)}.{field}: true; remove it"


# -- resources and probes -------------------------------------------------------------


def _missing_resources(subject: Subject, section: str) -> Iterator[str]:
    for label, container in _containers(pod_spec(subject)):
        values = mapping(container, f"resources.{section}")
        for resource in ("cpu", "memory"):
            if _unset(values.get(resource)):
                yield f"{_who(subject)}: {label} has no resources.{section}.{resource}; set one"


@resource_rule(
    "gpu-platform-k8s-resource-requests",
    "Every container must request CPU and memory so the scheduler can place it.",
    "medium",
    "Checkov CKV_K8S_10, CKV_K8S_12",
    WORKLOAD_TYPES,
    security=False,
)
def resource_requests(subject: Subject) -> Iterator[str]:
    yield from _missing_resources(subject, "requests")


@resource_rule(
    "gpu-platform-k8s-resource-limits",
    "Every container must have CPU and memory limits so one workload cannot exhaust its node.",
    "medium",
    "Checkov CKV_K8S_11, CKV_K8S_13",
    WORKLOAD_TYPES,
    security=False,
)
def resource_limits(subject: Subject) -> Iterator[str]:
    yield from _missing_resources(subject, "limits")


@resource_rule(
    "gpu-platform-k8s-liveness-probe",
    "Every long-running container must have a liveness probe so a hung process is restarted.",
    "medium",
    "Checkov CKV_K8S_8",
    LONG_RUNNING_TYPES,
    security=False,
)
def liveness_probe(subject: Subject) -> Iterator[str]:
    for label, container in _containers(pod_spec(subject), init=False):
        if not container.get("livenessProbe"):
            yield f"{_who(subject)}: {label} has no livenessProbe"


@resource_rule(
    "gpu-platform-k8s-readiness-probe",
    "Every serving container must have a readiness probe so traffic only reaches it once it is ready.",
    "medium",
    "Checkov CKV_K8S_9",
    SERVING_TYPES,
    security=False,
)
def readiness_probe(subject: Subject) -> Iterator[str]:
    for label, container in _containers(pod_spec(subject), init=False):
        if not container.get("readinessProbe"):
            yield f"{_who(subject)}: {label} has no readinessProbe"


# -- images and GPUs ------------------------------------------------------------------

_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}")


def _image_pinned(image: str) -> bool:
    """A version tag other than latest, or a digest (``repo@sha256:...``, with or without a tag)."""
    name, at, digest = image.partition("@")
    if at:
        return bool(name) and _DIGEST.fullmatch(digest) is not None
    last = name.rsplit("/", 1)[-1]  # a registry port (host:5000/app) is not a tag
    _, colon, tag = last.partition(":")
    return bool(colon) and _TAG.fullmatch(tag) is not None and tag.lower() != "latest"


@resource_rule(
    "gpu-platform-k8s-pinned-image",
    "Container images must be pinned to a version tag or digest, never latest or untagged.",
    "medium",
    "Checkov CKV_K8S_14, CKV_K8S_43",
    WORKLOAD_TYPES,
)
def pinned_image(subject: Subject) -> Iterator[str]:
    for label, container in _containers(pod_spec(subject)):
        image = container.get("image")
        if not isinstance(image, str) or not _image_pinned(image):
            quoted = repr(image) if image else "(unset)"
            yield f"{_who(subject)}: {label} image {quoted} is not pinned; use a version tag (not latest) or a digest"


_QUANTITY = re.compile(r"(\d+(?:\.\d+)?)(m?)")


def _whole_count(value: Any) -> bool:
    """True for a whole number >= 1 as a quantity (1, 2.0 from the engine, "1", "1000m")."""
    if _is_number(value):
        number = Decimal(str(value))
    elif isinstance(value, str) and (match := _QUANTITY.fullmatch(value.strip())):
        try:
            number = Decimal(match.group(1)) / (1000 if match.group(2) else 1)
        except InvalidOperation:  # pragma: no cover - the pattern only admits decimals
            return False
    else:
        return False
    return number.is_finite() and number >= 1 and number == number.to_integral_value()


@resource_rule(
    "gpu-platform-k8s-gpu-limits-only",
    "GPUs must be requested as a whole number in resources.limits only, never in resources.requests.",
    "medium",
    'Kubernetes docs "Schedule GPUs" (GPU in limits) / device plugin extended resources',
    WORKLOAD_TYPES,
)
def gpu_limits_only(subject: Subject) -> Iterator[str]:
    for label, container in _containers(pod_spec(subject)):
        requests = get(container, "resources.requests")
        if isinstance(requests, Mapping) and GPU_RESOURCE in requests:
            yield (
                f"{_who(subject)}: {label} sets {GPU_RESOURCE} in resources.requests; "
                "set it in resources.limits only (Kubernetes uses the limit as the request)"
            )
        limits = get(container, "resources.limits")
        if isinstance(limits, Mapping) and GPU_RESOURCE in limits and not _whole_count(limits[GPU_RESOURCE]):
            yield (
                f"{_who(subject)}: {label} sets resources.limits {GPU_RESOURCE}: {limits[GPU_RESOURCE]!r}; "
                "GPUs are whole devices, use an integer of at least 1"
            )


# -- service accounts and namespaces --------------------------------------------------


@resource_rule(
    "gpu-platform-k8s-service-account-token",
    "Pods and service accounts must set automountServiceAccountToken false unless they call the Kubernetes API.",
    "medium",
    "Checkov CKV_K8S_38",
    (*WORKLOAD_TYPES, SERVICE_ACCOUNT),
)
def service_account_token(subject: Subject) -> Iterator[str]:
    if subject.type == SERVICE_ACCOUNT:
        value = subject.props.get("automountServiceAccountToken")
        if value is not False:
            yield (
                f"ServiceAccount {subject.name} has automountServiceAccountToken {shown(value)}; "
                "set automountServiceAccountToken: false"
            )
        return
    spec = pod_spec(subject)
    if not spec:
        return
    value = spec.get("automountServiceAccountToken")
    if value is not False:
        yield (
            f"{_who(subject)} has {_pod_path(subject)}.automountServiceAccountToken {shown(value)}; "
            "set it to false (mount a projected token only where the API is needed)"
        )


@resource_rule(
    "gpu-platform-k8s-namespace-pss-restricted",
    "Namespaces must enforce the restricted Pod Security Standard through Pod Security Admission.",
    "high",
    "PSS restricted / Pod Security Admission (pod-security.kubernetes.io/enforce)",
    (NAMESPACE,),
)
def namespace_pss_restricted(subject: Subject) -> Iterator[str]:
    value = mapping(subject.props, "metadata.labels").get(PSS_ENFORCE_LABEL)
    if value != "restricted":
        yield (
            f"Namespace {subject.name} has label {PSS_ENFORCE_LABEL}: {value or '(unset)'}; "
            f"set metadata.labels {PSS_ENFORCE_LABEL}: restricted"
        )


# -- stack rules ------------------------------------------------------------------------


def _selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Whether a label selector matches ``labels`` (policy/v1: null selects nothing, {} selects all)."""
    if not isinstance(selector, Mapping):
        return False
    match_labels = selector.get("matchLabels")
    if isinstance(match_labels, Mapping) and any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expression in as_list(selector.get("matchExpressions")):
        key, operator = expression.get("key"), expression.get("operator")
        values = [str(v) for v in as_list(expression.get("values"))]
        present = key in labels
        matched = {
            "In": present and str(labels.get(key)) in values,
            "NotIn": not present or str(labels.get(key)) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(str(operator), False)
        if not matched:
            return False
    return True


@stack_rule(
    "gpu-platform-k8s-pdb-for-replicated",
    "A Deployment or StatefulSet with more than one replica, or autoscaled past one, must have a PodDisruptionBudget.",
    "medium",
    'Kubernetes docs "Specifying a Disruption Budget for your Application"',
    security=False,
)
def pdb_for_replicated(subjects: Sequence[Subject]) -> Iterator[tuple[str, str]]:
    autoscaled: dict[tuple[str, str, str], tuple[str, float]] = {}
    budgets: list[tuple[str, Any]] = []
    for subject in subjects:
        kind = kubernetes_kind(subject.type)
        if kind == "HorizontalPodAutoscaler":
            target = get(subject.props, "spec.scaleTargetRef") or {}
            key = (_namespace(subject), str(target.get("kind")), str(target.get("name")))
            autoscaled[key] = (subject.name, _count(get(subject.props, "spec.maxReplicas")) or 0)
        elif kind == "PodDisruptionBudget":
            budgets.append((_namespace(subject), get(subject.props, "spec.selector")))
    for subject in subjects:
        kind = kubernetes_kind(subject.type)
        if kind not in REPLICATED_KINDS:
            continue
        namespace = _namespace(subject)
        replicas = _count(get(subject.props, "spec.replicas")) or 1
        hpa, max_replicas = autoscaled.get((namespace, kind, _object_name(subject)), ("", 0))
        if replicas > 1:
            reason = f"runs {int(replicas)} replicas"
        elif hpa and max_replicas > 1:
            reason = f"is scaled up to {int(max_replicas)} replicas by HorizontalPodAutoscaler {hpa}"
        else:
            continue
        labels = mapping(subject.props, "spec.template.metadata.labels")
        if not any(ns == namespace and _selects(selector, labels) for ns, selector in budgets):
            yield (
                subject.urn,
                f"{kind} {subject.name} {reason} but no PodDisruptionBudget in namespace {namespace} selects its "
                "pods; add one whose spec.selector.matchLabels are a subset of spec.template.metadata.labels",
            )


@stack_rule(
    "gpu-platform-k8s-networkpolicy-per-namespace",
    "Every namespace that holds workloads or is created by the stack must contain at least one NetworkPolicy.",
    "high",
    "NSA/CISA Kubernetes Hardening Guide: network policies",
)
def networkpolicy_per_namespace(subjects: Sequence[Subject]) -> Iterator[tuple[str, str]]:
    users: dict[str, list[Subject]] = {}
    created: dict[str, Subject] = {}
    covered: set[str] = set()
    for subject in subjects:
        if subject.type in WORKLOAD_TYPES:
            users.setdefault(_namespace(subject), []).append(subject)
        elif subject.type == NAMESPACE:
            created[_object_name(subject)] = subject
        elif kubernetes_kind(subject.type) in NETWORK_POLICY_KINDS:
            covered.add(_namespace(subject))
    for namespace in sorted(set(users) | set(created)):
        if namespace in covered:
            continue
        workloads = users.get(namespace, [])
        anchor = created.get(namespace) or workloads[0]
        used_by = f" (used by {', '.join(_who(w) for w in workloads)})" if workloads else ""
        yield (
            anchor.urn,
            f"namespace {namespace}{used_by} has no NetworkPolicy; add a default-deny NetworkPolicy "
            "and allow only the traffic its workloads need",
        )


def env_pairs(subject: Subject) -> Iterator[tuple[str, object]]:
    """(name, literal value) of every environment variable a pod template sets (the no-plaintext-secrets rule)."""
    if subject.type.startswith("kubernetes:"):
        for container in pod_containers(pod_spec(subject)):
            for env in as_list(container.get("env")):
                if "value" in env:
                    yield str(env.get("name")), env.get("value")


def regenerated(subjects: Sequence[Subject]) -> set[str]:
    """Every stateful-typed Kubernetes object holds state."""
    del subjects
    return set()


RULES: list[Rule] = [
    run_as_non_root,
    no_privilege_escalation,
    drop_all_capabilities,
    seccomp_runtime_default,
    no_privileged,
    no_host_namespaces,
    resource_requests,
    resource_limits,
    liveness_probe,
    readiness_probe,
    pinned_image,
    gpu_limits_only,
    service_account_token,
    namespace_pss_restricted,
    pdb_for_replicated,
    networkpolicy_per_namespace,
]
