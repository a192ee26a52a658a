"""Pod specs that meet Pod Security Standards "restricted", built once for every workload.

Deployments, StatefulSets, the Postgres StatefulSet, the backup CronJob and
coturn all take their pod spec from :func:`pod_spec`, so the security context,
probes, resources, secret files and scheduling cannot drift between them.
Values are plain dicts in the Kubernetes API's own field names: the rendered
manifests are validated with kubernetes-validate --strict in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi

from components.protocol import SECRETS_DIR, HealthRequest, PortRequest

if TYPE_CHECKING:
    from targets.kubernetes.settings import KubernetesPoolSettings

PART_OF = "gpu-platform"
GPU_RESOURCE = "nvidia.com/gpu"
# The taint GPU nodes carry (GPU Operator, EKS/GKE/AKS GPU node groups) so CPU-only pods stay off them.
GPU_TOLERATION: Mapping[str, str] = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}


@dataclass(frozen=True)
class PoolHandle:
    """A pool as the Kubernetes target built it: its settings and where its pods go."""

    settings: KubernetesPoolSettings
    scheduling: Scheduling


def manifest(fields: dict[str, Any]) -> Any:
    """An API object part as a plain dict.

    The SDK's TypedDicts cannot describe dicts assembled in pieces; these parts
    are checked where it matters instead: rendered and validated against the
    Kubernetes OpenAPI schema with kubernetes-validate --strict in the tests.
    """
    return fields


def labels(stack: str, workload: str) -> dict[str, str]:
    """The recommended labels; ``app.kubernetes.io/name`` is the selector."""
    return {
        "app.kubernetes.io/name": workload,
        "app.kubernetes.io/instance": stack,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def selector(workload: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": workload}


def quantity_cpu(cores: float) -> str:
    return f"{math.ceil(cores * 1000)}m"


def quantity_memory(mib: int) -> str:
    return f"{mib}Mi"


def pool_tolerations(stated: Sequence[Mapping[str, Any]], gpus: int) -> list[dict[str, Any]]:
    """The pool's tolerations: those its settings state, plus the GPU taint's on a GPU pool."""
    found = [dict(t) for t in stated]
    if gpus and dict(GPU_TOLERATION) not in found:
        found.append(dict(GPU_TOLERATION))
    return found


def gpu_units(gpu: float, time_slicing_replicas: int) -> int:
    """Whole device-plugin units for a GPU request: a fraction of a time-sliced card rounds up."""
    if gpu <= 0:
        return 0
    return max(1, math.ceil(gpu * time_slicing_replicas - 1e-9))


@dataclass(frozen=True)
class Scheduling:
    """Where pods go: the pool's node selector, tolerations and GPU sharing.

    Tolerations belong to the pool, not to what a pod asks for: every pod placed on a
    pool (a GPU service, but also TURN, a database or its backup job) lands on the same
    tainted nodes, so all of them get the same tolerations (:func:`pool_tolerations`).
    """

    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Mapping[str, Any]] = ()
    time_slicing_replicas: int = 1


@dataclass(frozen=True)
class Container:
    """One container of a pod, in target-neutral terms."""

    name: str
    image: str
    ports: Sequence[PortRequest] = ()
    command: Sequence[str] | None = None
    args: Sequence[str] | None = None
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secret_env: Mapping[str, str] = field(default_factory=dict)  # env name -> file name under SECRETS_DIR
    cpu: float = 0.25
    memory_mib: int = 256
    limit_cpu: float = 1.0
    limit_memory_mib: int = 512
    gpu: float = 0
    health: HealthRequest | None = None
    uid: int = 10001
    gid: int = 10001
    read_only_root: bool = True
    mounts: Sequence[tuple[str, str]] = ()  # (volume name, mount path)
    writable_paths: Sequence[str] = ("/tmp",)


def _probe(health: HealthRequest, liveness: bool) -> dict[str, Any]:
    timing = {
        "periodSeconds": health.interval_s,
        "timeoutSeconds": health.timeout_s,
        "failureThreshold": health.retries,
        "initialDelaySeconds": health.start_period_s if liveness else min(health.start_period_s, 5),
    }
    if health.kind == "http":
        return {"httpGet": {"path": health.path, "port": health.port}, **timing}
    if health.kind == "grpc":
        # Native gRPC probes (GA since 1.27) call grpc.health.v1.Health/Check.
        return {"grpc": {"port": health.port}, **timing}
    if health.kind == "tcp":
        return {"tcpSocket": {"port": health.port}, **timing}
    return {"exec": {"command": list(health.command)}, **timing}


def _env(container: Container) -> list[Any]:
    entries: list[Any] = [{"name": k, "value": v} for k, v in sorted(container.env.items())]
    entries += [{"name": f"{k}_FILE", "value": f"{SECRETS_DIR}/{f}"} for k, f in sorted(container.secret_env.items())]
    return entries


def container_spec(container: Container, scheduling: Scheduling) -> dict[str, Any]:
    """A container that PSS "restricted" admits: non-root, no escalation, no capabilities, seccomp."""
    limits: dict[str, Any] = {
        "cpu": quantity_cpu(container.limit_cpu),
        "memory": quantity_memory(container.limit_memory_mib),
    }
    units = gpu_units(container.gpu, scheduling.time_slicing_replicas)
    if units:
        limits[GPU_RESOURCE] = str(units)  # extended resources: limits only, requests default to them
    spec: dict[str, Any] = {
        "name": container.name,
        "image": container.image,
        "imagePullPolicy": "Always",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": container.uid,
            "runAsGroup": container.gid,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": container.read_only_root,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": {
            "requests": {"cpu": quantity_cpu(container.cpu), "memory": quantity_memory(container.memory_mib)},
            "limits": limits,
        },
        "env": _env(container),
        "volumeMounts": [{"name": n, "mountPath": p} for n, p in container.mounts],
    }
    if container.command is not None:
        spec["command"] = list(container.command)
    if container.args is not None:
        spec["args"] = list(container.args)
    if container.ports:
        spec["ports"] = [
            {"name": p.name, "containerPort": p.container_port, "protocol": p.protocol.upper()} for p in container.ports
        ]
    if container.health is not None:
        spec["livenessProbe"] = _probe(container.health, liveness=True)
        spec["readinessProbe"] = _probe(container.health, liveness=False)
    return spec


def pod_spec(
    containers: Sequence[Container],
    scheduling: Scheduling,
    service_account: str,
    volumes: Sequence[Mapping[str, Any]] = (),
    spread_over: str | None = None,
) -> dict[str, Any]:
    """A restricted pod: pod-level security context, no token, the pool's scheduling, spread replicas."""
    first = containers[0]
    spec: dict[str, Any] = {
        "serviceAccountName": service_account,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": first.uid,
            "runAsGroup": first.gid,
            "fsGroup": first.gid,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container_spec(c, scheduling) for c in containers],
        "volumes": list(volumes),
    }
    if scheduling.node_selector:
        spec["nodeSelector"] = dict(scheduling.node_selector)
    if scheduling.tolerations:
        spec["tolerations"] = [dict(t) for t in scheduling.tolerations]
    if spread_over:
        spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": key,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": selector(spread_over)},
            }
            for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
        ]
    return spec


def tmp_volumes(container: Container) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """emptyDir volumes for the paths a read-only container still writes to."""
    volumes, mounts = [], []
    for index, path in enumerate(container.writable_paths):
        name = f"scratch-{index}"
        volumes.append({"name": name, "emptyDir": {"sizeLimit": "256Mi"}})
        mounts.append((name, path))
    return volumes, mounts


def secret_volume(secret_name: str, files: Sequence[str]) -> tuple[dict[str, Any], tuple[str, str]]:
    """The workload's Secret as read-only files under SECRETS_DIR (0400)."""
    volume = {
        "name": "secrets",
        "secret": {
            "secretName": secret_name,
            "defaultMode": 0o400,
            "items": [{"key": f, "path": f} for f in sorted(files)],
        },
    }
    return volume, ("secrets", SECRETS_DIR)
