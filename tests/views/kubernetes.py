"""The Kubernetes target as the shared tests see it: Deployments and StatefulSets, HPAs, Gateway API routes.

A workload owning a single-writer volume is a StatefulSet (shared RWX volumes stay on a
Deployment); Postgres without CloudNativePG (off in ``Pulumi.staging.yaml``) is a StatefulSet
with data and backup claims and a backup CronJob; GPUs are ``nvidia.com/gpu`` limits in
time-sliced units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from preview.mocks import Recorded
from preview.runner import PreviewResult
from stacks.profiles import Profile
from tests import tokens
from tests.kit import Workload, gpu_pools, public_tools, workloads
from tests.views import Measure, TargetView

GPU = "nvidia.com/gpu"
PROVIDER = "pulumi:providers:kubernetes"
BACKED_HTTP_ROUTES = "HTTPRoutes with a backend"


def k8s_workload(result: PreviewResult, name: str) -> Recorded:
    """The Deployment or StatefulSet ``name`` (exactly one)."""
    kinds = (tokens.K8S_DEPLOYMENT, tokens.K8S_STATEFUL_SET)
    found = [r for r in result.resources if r.type in kinds and r.name == name]
    assert len(found) == 1, name
    return found[0]


def k8s_container(result: PreviewResult, name: str) -> dict[str, Any]:
    """The container of the Deployment or StatefulSet ``name``."""
    (box,) = k8s_workload(result, name).inputs["spec"]["template"]["spec"]["containers"]
    return box


def k8s_env(box: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in box.get("env", [])}


def hpas(result: PreviewResult) -> dict[str, dict[str, Any]]:
    """HorizontalPodAutoscaler specs by the workload they scale."""
    return {
        r.inputs["spec"]["scaleTargetRef"]["name"]: r.inputs["spec"]
        for r in result.of_type(tokens.K8S_HORIZONTAL_POD_AUTOSCALER)
    }


def _backed_routes(result: PreviewResult) -> int:
    return len(
        [
            r
            for r in result.of_type(tokens.K8S_HTTP_ROUTE)
            if any(rule.get("backendRefs") for rule in r.inputs["spec"]["rules"])
        ]
    )


def _slices(pool: dict[str, Any]) -> int:
    return ((pool.get("targets") or {}).get("kubernetes") or {}).get("time_slicing_replicas", 1)


def _with_secrets(bp: dict[str, Any]) -> set[str]:
    """Workloads the target gives a Secret: a database's users, and each Pixel Streaming signalling server."""
    databases = set(bp.get("databases", {}))
    users = {w.name for w in workloads(bp) if set(w.spec.get("uses", [])) & databases}
    return users | {f"{name}-signalling" for name in bp.get("pixel_streaming", {})}


class KubernetesView(TargetView):
    target = "kubernetes"
    stack = "staging"
    counters: ClassVar[Mapping[str, Measure]] = {BACKED_HTTP_ROUTES: _backed_routes}

    def target_counts(self, bp: dict[str, Any], profile: Profile) -> dict[str, int]:
        items = workloads(bp)
        databases = len(bp.get("databases", {}))
        backups = profile.backups.schedule != "none"
        turns = len(bp.get("pixel_streaming", {}))
        stateful = [w for w in items if w.owns_a_volume]
        routes = [w for w in items if w.route is not None]
        return {
            tokens.K8S_DEPLOYMENT: len(items) - len(stateful) + turns,
            tokens.K8S_STATEFUL_SET: len(stateful) + databases,
            tokens.K8S_HORIZONTAL_POD_AUTOSCALER: len([w for w in items if w.autoscale]),
            tokens.K8S_POD_DISRUPTION_BUDGET: len([w for w in items if w.most > 1]),
            # a database's data claim, plus its backup claim when the profile backs up
            tokens.K8S_PERSISTENT_VOLUME_CLAIM: sum(len(w.volumes) for w in items) + databases * (1 + backups),
            tokens.K8S_CRON_JOB: databases * backups,
            BACKED_HTTP_ROUTES: len(routes),
            # with TLS on, one more route: the HTTP listener's redirect to HTTPS (no backend)
            tokens.K8S_HTTP_ROUTE: len(routes) + (profile.tls != "off"),
            tokens.K8S_GRPC_ROUTE: len(public_tools(bp)),
            PROVIDER: 1,
            # a Service per workload with ports, and the database's
            tokens.K8S_SERVICE: len([w for w in items if w.ports]) + turns + databases,
            # every pod its own account; the database's, and its backup job's
            tokens.K8S_SERVICE_ACCOUNT: len(items) + turns + databases * (1 + backups),
            # the database's credentials (and its backup job's); a Secret per workload with secret files or
            # env: a database's users, each signalling server and TURN relay (components/pixel_streaming.py)
            tokens.K8S_SECRET: databases * (1 + backups) + len(_with_secrets(bp)) + turns,
            # default-deny and DNS egress, then one per pod
            tokens.K8S_NETWORK_POLICY: 2 + len(items) + turns + databases * (1 + backups),
            # one time-slicing config (a key per time-sliced GPU pool), when any pool is time-sliced
            tokens.K8S_CONFIG_MAP: int(any(_slices(pool) > 1 for pool in gpu_pools(bp).values())),
        }

    def image(self, result: PreviewResult, w: Workload) -> str:
        return k8s_container(result, w.name)["image"]

    def users(self, result: PreviewResult, w: Workload) -> set[str]:
        context = k8s_container(result, w.name)["securityContext"]
        assert context["runAsNonRoot"] is True, w.name
        uid, gid = context["runAsUser"], context["runAsGroup"]
        assert isinstance(uid, int), w.name
        assert isinstance(gid, int), w.name
        return {f"{uid}:{gid}"}

    def running(self, result: PreviewResult, w: Workload) -> int:
        return k8s_workload(result, w.name).inputs["spec"]["replicas"]

    def check_ports_and_health(self, result: PreviewResult, w: Workload) -> None:
        health = w.health
        box = k8s_container(result, w.name)
        assert [p["containerPort"] for p in box.get("ports", [])] == w.ports, w.name
        probe = box["livenessProbe"]
        if health["kind"] == "http":
            assert probe["httpGet"] == {"path": health["path"], "port": w.ports[0]}, w.name
        elif health["kind"] == "grpc":
            assert probe["grpc"] == {"port": w.ports[0]}, w.name
        else:
            assert probe["exec"]["command"] == health["command"], w.name
        assert box["readinessProbe"].keys() == probe.keys(), w.name

    def check_autoscaling(self, result: PreviewResult, w: Workload) -> None:
        scalers = hpas(result)
        if not w.autoscale:
            assert w.name not in scalers, w.name
            return
        spec = scalers[w.name]
        assert (spec["minReplicas"], spec["maxReplicas"]) == (w.autoscale["min"], w.autoscale["max"]), w.name
        target_cpu = spec["metrics"][0]["resource"]["target"]["averageUtilization"]
        assert target_cpu == w.autoscale.get("cpu_percent", 70), w.name

    def check_placement(self, result: PreviewResult, w: Workload, pool: dict[str, Any]) -> None:
        selector = k8s_workload(result, w.name).inputs["spec"]["template"]["spec"].get("nodeSelector", {})
        assert selector == pool["targets"]["kubernetes"]["node_selector"], w.name
        assert selector["kubernetes.io/arch"] == pool.get("architecture", "amd64"), w.name

    def check_gpu(self, result: PreviewResult, w: Workload, pool: dict[str, Any], share: str) -> None:
        box = k8s_container(result, w.name)
        slices = pool["targets"]["kubernetes"]["time_slicing_replicas"]
        assert box["resources"]["limits"][GPU] == str(math.ceil(w.gpu * slices - 1e-9)), w.name
        assert GPU not in box["resources"]["requests"], w.name
        assert k8s_env(box)["GPU_MEMORY_FRACTION"] == share

    # -- a blueprint spread over named nodes (bev) -------------------------------------------------

    def check_service_ports(self, result: PreviewResult, name: str, spec: dict[str, Any], pool: dict[str, Any]) -> None:
        """A Service with the declared container ports; none for a service without ports."""
        services = {r.name: r for r in result.of_type(tokens.K8S_SERVICE)}
        if not spec.get("ports"):
            assert f"{name}-svc" not in services, name
            return
        ports = services[f"{name}-svc"].inputs["spec"]["ports"]
        assert {int(p["port"]) for p in ports} == {int(p["container_port"]) for p in spec["ports"]}, name

    def check_database_ports(self, result: PreviewResult, name: str, ports: set[int]) -> None:
        services = {r.name: r for r in result.of_type(tokens.K8S_SERVICE)}
        assert {int(p["port"]) for p in services[f"{name}-svc"].inputs["spec"]["ports"]} == ports, name

    def check_single_member(self, result: PreviewResult, name: str) -> None:
        workload = k8s_workload(result, name)
        assert workload.type == tokens.K8S_STATEFUL_SET, name
        assert workload.inputs["spec"]["replicas"] == 1, name

    def check_shared_card(
        self, result: PreviewResult, pools: dict[str, dict[str, Any]], gpu_work: dict[str, dict[str, Any]]
    ) -> None:
        """Time-sliced units of the card, together no more than the pool's cards times its slices."""
        (pool_name,) = [n for n, p in pools.items() if p.get("gpus")]
        pool = pools[pool_name]
        slicing = int(pool["targets"]["kubernetes"]["time_slicing_replicas"])
        units = 0
        for name, spec in gpu_work.items():
            box = k8s_container(result, name)
            want = max(1, math.ceil(float(spec["requests"]["gpu"]) * slicing - 1e-9))
            assert box["resources"]["limits"][GPU] == str(want), name
            assert GPU not in box["resources"]["requests"], name
            units += want
        assert units <= slicing * pool["gpus"]
        (config,) = result.of_type(tokens.K8S_CONFIG_MAP)
        assert f"replicas: {slicing}" in config.inputs["data"][pool_name]

    def check_pools_on_nodes(
        self, result: PreviewResult, pools: dict[str, dict[str, Any]], pool_of: dict[str, str]
    ) -> None:
        """The pool's node selector; an architecture label, when the target pins one, is the pool's."""
        for name, pool_name in pool_of.items():
            pool = pools[pool_name]
            selector: dict[str, str] = k8s_workload(result, name).inputs["spec"]["template"]["spec"]["nodeSelector"]
            assert pool["targets"]["kubernetes"]["node_selector"].items() <= selector.items(), name
            assert selector.get("kubernetes.io/arch", pool["architecture"]) == pool["architecture"], name


VIEW = KubernetesView()
