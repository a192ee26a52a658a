"""The rule model: plain Python checks over a resource's inputs, adapted to CrossGuard elsewhere.

A rule is a function from a :class:`Subject` (one resource: type, name, camelCase
inputs, protect flag) or a list of subjects (stack rules) to violation messages.
Keeping rules free of the pulumi_policy types makes them easy to test with
hand-written inputs; ``policy/rules/__init__.py`` wraps each in a
``ResourceValidationPolicy`` or ``StackValidationPolicy`` for the pack, and the
offline preview calls those same policy objects.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["low", "medium", "high", "critical"]
Environment = Literal["dev", "staging", "prod"]
ALL_ENVIRONMENTS: tuple[Environment, ...] = ("dev", "staging", "prod")


@dataclass(frozen=True)
class Subject:
    """One resource as a rule sees it: inputs exactly as the engine sends them (camelCase)."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    parent: str | None = None
    environment: Environment = "dev"
    # URNs this resource depends on (stack rules only: CrossGuard gives resource rules none).
    dependencies: tuple[str, ...] = ()


ResourceCheck = Callable[[Subject], Iterable[str]]
StackCheck = Callable[[Sequence[Subject]], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class Rule:
    """One policy: name ``gpu-platform-<area>-<rule>``, a one-sentence description, a severity.

    ``security`` rules are mandatory in staging and prod (advisory in dev);
    the others stay advisory. ``environments`` limits where a rule applies at
    all (e.g. Multi-AZ is a prod requirement). ``public_check`` names the
    established check it corresponds to (Checkov, Security Hub, PSS, CIS).
    """

    name: str
    description: str
    severity: Severity
    security: bool
    public_check: str
    types: tuple[str, ...] = ()
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    environments: tuple[Environment, ...] = ALL_ENVIRONMENTS

    @property
    def area(self) -> str:
        return self.name.removeprefix("gpu-platform-").split("-", 1)[0]

    def applies_to(self, subject: Subject) -> bool:
        return (not self.types or subject.type in self.types) and subject.environment in self.environments

    def enforcement(self, environment: Environment) -> Literal["advisory", "mandatory", "disabled"]:
        """Advisory in dev; security rules mandatory in staging and prod; off where not applicable."""
        if environment not in self.environments:
            return "disabled"
        if self.security and environment in ("staging", "prod"):
            return "mandatory"
        return "advisory"


def resource_rule(
    name: str,
    description: str,
    severity: Severity,
    public_check: str,
    types: Sequence[str],
    *,
    security: bool = True,
    environments: tuple[Environment, ...] = ALL_ENVIRONMENTS,
) -> Callable[[ResourceCheck], Rule]:
    """Decorator: turn a ``check(subject) -> messages`` function into a :class:`Rule`."""

    def wrap(check: ResourceCheck) -> Rule:
        return Rule(
            name=name,
            description=description,
            severity=severity,
            security=security,
            public_check=public_check,
            types=tuple(types),
            check=check,
            environments=environments,
        )

    return wrap


def stack_rule(
    name: str,
    description: str,
    severity: Severity,
    public_check: str,
    *,
    security: bool = True,
    environments: tuple[Environment, ...] = ALL_ENVIRONMENTS,
) -> Callable[[StackCheck], Rule]:
    """Decorator: turn a ``check(subjects) -> (urn, message)`` function into a stack :class:`Rule`."""

    def wrap(check: StackCheck) -> Rule:
        return Rule(
            name=name,
            description=description,
            severity=severity,
            security=security,
            public_check=public_check,
            stack_check=check,
            environments=environments,
        )

    return wrap


# -- helpers for reading inputs ---------------------------------------------------


def get(props: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """``get(props, "metadataOptions.httpTokens")``: a dotted path, ``default`` when absent."""
    current: Any = props
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return default
    return current


def as_list(value: Any) -> list[Any]:
    """A list for any sequence (the engine hands lists over as a ``Sequence`` proxy), ``[value]`` else.

    Strings, bytes and mappings are single values; None is the empty list.
    """
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def mappings(value: Any) -> list[Mapping[str, Any]]:
    """The objects in a list input (``ingress``, ``networkInterfaces``, ``template.containers``).

    Non-object items are dropped rather than failing the rule: a malformed entry is the
    provider's error to report, and a rule that raised would hide every other finding.
    """
    return [item for item in as_list(value) if isinstance(item, Mapping)]


def mapping(props: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    """A nested object input by dotted path (``metadataOptions``, ``settings.ipConfiguration``); empty when absent.

    Lets a rule read ``mapping(props, "x").get("y")`` without checking every level for None
    or for a non-object value first.
    """
    value = get(props, path)
    return value if isinstance(value, Mapping) else {}


def has_input(props: Mapping[str, Any], key: str) -> bool:
    """Whether an input is set, without reading its value.

    The engine omits unset inputs, so the key alone answers. Reading the value could
    fail: an id of a resource created in the same preview is unknown, and the policy
    server's proxy raises when a rule reads an unknown value (``pulumi_policy.proxy``).
    """
    return key in list(props)


def is_true(value: Any) -> bool:
    """``True`` or the text ``"true"`` in any case.

    Some inputs are booleans spelled as text: AWS launch templates take ``"true"``,
    GCP VM metadata values are text (``enable-oslogin: "TRUE"``).
    """
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_false(value: Any) -> bool:
    """Explicitly false: ``False`` or the text ``"false"`` in any case (unset is neither true nor false)."""
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def whole_number(value: Any) -> int | None:
    """An integer from ``30``, ``30.0`` or ``"30"`` (the engine sends numbers as floats); None when not a number.

    Booleans are not numbers here, though Python counts them as ints: ``true`` is never a port or a day count.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def shown(value: Any) -> str:
    """A value as a violation message quotes it: ``unset`` for None or empty text, booleans in lower case,
    whole floats without ``.0`` (the engine's ``30.0`` is the program's ``30``), so messages read like the config.
    """
    if value is None or value == "":
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def world_cidrs(*groups: Any) -> list[str]:
    """The CIDRs among ``groups`` (single values or lists) that cover every address, as written.

    Decided by the prefix length, not by the text: ``0.0.0.0/0`` and ``::/0``, but also a
    non-canonical ``10.0.0.0/0`` (``strict=False``), which opens as much. Text that is not a
    CIDR (a security group id, a service tag) is not one.
    """
    found: list[str] = []
    for group in groups:
        for cidr in as_list(group):
            try:
                if ipaddress.ip_network(str(cidr).strip(), strict=False).prefixlen == 0:
                    found.append(str(cidr))
            except ValueError:
                continue
    return found


def json_value(value: Any) -> Any:
    """Inputs some providers take as JSON text (ECS container definitions); parsed when possible."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


# The resource a target generates a database password with (pulumi-random): a stack rule accepts a
# password input only when the database depends on one, so a literal in the code is caught.
GENERATED_PASSWORD = "random:index/randomPassword:RandomPassword"

SECRET_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "ACCESS_KEY", "CREDENTIAL")
# Values that point at a secret rather than being one.
SECRET_REFERENCE_SUFFIXES = ("_FILE", "_PATH", "_ARN", "_NAME", "_REF")


def secret_looking(name: str) -> bool:
    """True for an environment name that by its name holds a secret value (DB_PASSWORD, API_TOKEN)."""
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS) and not upper.endswith(SECRET_REFERENCE_SUFFIXES)


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")


def kubernetes_kind(resource_type: str) -> str | None:
    """``kubernetes:apps/v1:Deployment`` -> ``Deployment`` (None for other providers)."""
    if not resource_type.startswith("kubernetes:"):
        return None
    return resource_type.rsplit(":", 1)[-1]


def pod_spec(subject: Subject) -> Mapping[str, Any] | None:
    """The pod spec inside a Kubernetes workload (Deployment, StatefulSet, CronJob, Pod, ...)."""
    kind = kubernetes_kind(subject.type)
    if kind not in WORKLOAD_KINDS:
        return None
    spec = subject.props.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = get(spec, "jobTemplate.spec") or {}
    return get(spec, "template.spec")


def pod_containers(spec: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """Containers and init containers of a pod spec."""
    if not spec:
        return []
    return [*as_list(spec.get("containers")), *as_list(spec.get("initContainers"))]
