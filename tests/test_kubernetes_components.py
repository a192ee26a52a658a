"""Each component on the Kubernetes target, one small blueprint at a time.

The Kubernetes twin of ``test_docker_components.py``: the blueprints here hold
one component each (plus the pools and databases it needs), run on the
``staging`` stack (whose ``Pulumi.staging.yaml`` targets Kubernetes) with the
profile, domain and target settings overridden per test. Assertions read the
objects the provider would receive (camelCase, secrets masked as ``[secret]``)
and derive every expected value from the blueprint written here, so a failure
names the component and the field that drifted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pulumi
import pytest
import yaml
from pulumi.runtime.mocks import MockResourceArgs

from preview.mocks import SECRET, PlatformMocks, Recorded
from preview.policies import evaluate
from preview.runner import PreviewResult
from tests.conftest import Runner, reference_blueprint, shipped, write_blueprint
from tests.kit import fixture, names, one
from tests.tokens import (
    K8S_CERTIFICATE,
    K8S_CNPG_CLUSTER,
    K8S_CONFIG_MAP,
    K8S_CRON_JOB,
    K8S_DEPLOYMENT,
    K8S_GATEWAY,
    K8S_GRPC_ROUTE,
    K8S_HORIZONTAL_POD_AUTOSCALER,
    K8S_HTTP_ROUTE,
    K8S_ISSUER,
    K8S_NAMESPACE,
    K8S_NETWORK_POLICY,
    K8S_PERSISTENT_VOLUME_CLAIM,
    K8S_POD_DISRUPTION_BUDGET,
    K8S_SECRET,
    K8S_SERVICE,
    K8S_SERVICE_ACCOUNT,
    K8S_STATEFUL_SET,
)

DEPLOYMENT = K8S_DEPLOYMENT
STATEFUL_SET = K8S_STATEFUL_SET
SERVICE = K8S_SERVICE
SECRET_TYPE = K8S_SECRET
SERVICE_ACCOUNT = K8S_SERVICE_ACCOUNT
PVC = K8S_PERSISTENT_VOLUME_CLAIM
NAMESPACE_TYPE = K8S_NAMESPACE
CONFIG_MAP = K8S_CONFIG_MAP
PDB = K8S_POD_DISRUPTION_BUDGET
HPA = K8S_HORIZONTAL_POD_AUTOSCALER
CRON_JOB = K8S_CRON_JOB
NETWORK_POLICY = K8S_NETWORK_POLICY
HTTP_ROUTE = K8S_HTTP_ROUTE
GRPC_ROUTE = K8S_GRPC_ROUTE
GATEWAY = K8S_GATEWAY
CERTIFICATE = K8S_CERTIFICATE
ISSUER = K8S_ISSUER
CNPG_CLUSTER = K8S_CNPG_CLUSTER
PROVIDER = "pulumi:providers:kubernetes"
COMPONENT = "gpu-platform:components:"

STACK = "staging"
NAMESPACE = f"gpu-platform-{STACK}"
DOMAIN = "units.example.org"
NAME_LABEL = "app.kubernetes.io/name"
GPU = "nvidia.com/gpu"
SECRETS_DIR = "/run/secrets"

POOLS: dict[str, Any] = fixture("pools-kubernetes")
GPU_NODE_SELECTOR: dict[str, str] = POOLS["gpu"]["targets"]["kubernetes"]["node_selector"]
(POOL_TOLERATION,) = POOLS["gpu"]["targets"]["kubernetes"]["tolerations"]
API: dict[str, Any] = fixture("api")


# -- running a blueprint -------------------------------------------------------------------------


def blueprint(**sections: Any) -> dict[str, Any]:
    return {"name": "unit", "pools": POOLS, **sections}


def run_blueprint(
    run: Runner,
    tmp_path: Path,
    environment: str = STACK,
    kubernetes: dict[str, Any] | None = None,
    **sections: Any,
) -> PreviewResult:
    """The staging stack with this blueprint, profile and target settings (prod gets its ClusterIssuer)."""
    overrides: dict[str, Any] = {"blueprint": write_blueprint(tmp_path, blueprint(**sections)), "domain": DOMAIN}
    if environment != STACK:
        overrides["environment"] = environment
    settings = dict(kubernetes or {})
    if environment == "prod":
        settings.setdefault("cluster_issuer", "letsencrypt-prod")
    if settings:
        overrides["kubernetes"] = settings
    return run(STACK, **overrides)


# -- lookups -------------------------------------------------------------------------------------


def workload(result: PreviewResult, name: str) -> Recorded:
    """The Deployment or StatefulSet that runs ``name`` (exactly one of them)."""
    found = [r for r in result.of_type(DEPLOYMENT) + result.of_type(STATEFUL_SET) if r.name == name]
    assert len(found) == 1, f"expected one workload named {name}, got {[r.type for r in found]}"
    return found[0]


def pod(result: PreviewResult, name: str) -> dict[str, Any]:
    """The pod spec of a workload's template."""
    return workload(result, name).inputs["spec"]["template"]["spec"]


def container(result: PreviewResult, name: str) -> dict[str, Any]:
    """A workload's only container."""
    containers = pod(result, name)["containers"]
    assert len(containers) == 1, name
    return containers[0]


def cron_pod(result: PreviewResult, name: str) -> dict[str, Any]:
    return one(result, CRON_JOB, name).inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def env_of(box: dict[str, Any]) -> dict[str, str]:
    """A container's env as a dict; every entry must be a literal value (no valueFrom)."""
    return {e["name"]: e["value"] for e in box.get("env", [])}


def mounts_of(box: dict[str, Any]) -> dict[str, str]:
    """mount path -> volume name."""
    return {m["mountPath"]: m["name"] for m in box.get("volumeMounts", [])}


def volumes_of(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in spec.get("volumes", [])}


def traffic(result: PreviewResult, name: str) -> dict[str, Any]:
    """The spec of the per-workload NetworkPolicy ``<name>-traffic``."""
    return one(result, NETWORK_POLICY, f"{name}-traffic").inputs["spec"]


def _peer(peer: dict[str, Any]) -> str:
    """A NetworkPolicy peer as text: ``pod:<labels>``, ``ns:<namespace>`` or the CIDR."""
    if "ipBlock" in peer:
        return str(peer["ipBlock"]["cidr"])
    parts = []
    if "namespaceSelector" in peer:
        parts.append("ns:" + peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"])
    if "podSelector" in peer:
        labels = peer["podSelector"].get("matchLabels", {})
        parts.append("pod:" + ",".join(f"{v}" if k == NAME_LABEL else f"{k}={v}" for k, v in sorted(labels.items())))
    return "+".join(parts)


def flows(rules: list[dict[str, Any]], direction: str) -> set[tuple[str, int, str]]:
    """Every (peer, port, protocol) a list of ingress (``from``) or egress (``to``) rules allows (ranges expanded)."""
    return {
        (_peer(peer), number, port["protocol"])
        for rule in rules
        for peer in rule[direction]
        for port in rule["ports"]
        for number in range(int(port["port"]), int(port.get("endPort", port["port"])) + 1)
    }


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a NetworkPolicy label selector (matchLabels only, as the target writes them) selects ``labels``."""
    return labels.items() >= selector.get("matchLabels", {}).items()


def admits(policies: list[dict[str, Any]], pod_labels: dict[str, str], from_namespace: str, port: int) -> bool:
    """Whether NetworkPolicy semantics may let some pod of ``from_namespace`` reach a pod labelled ``pod_labels``.

    An over-approximation, so that ``not admits(...)`` is a strong claim: ingress to a pod is allowed
    when some policy selecting it (Ingress in its types) has a rule whose ports hold ``port``/TCP and
    whose peers may include such a pod — a rule without ``from`` (everyone), an ``ipBlock`` (any
    address), a ``podSelector`` alone (pods of the policy's own namespace, the stack's), or a
    ``namespaceSelector`` selecting ``from_namespace`` (whatever pod labels it adds).
    """

    def peer_admits(peer: dict[str, Any]) -> bool:
        if "ipBlock" in peer:
            return True
        namespaces = peer.get("namespaceSelector")
        if namespaces is None:
            return from_namespace == NAMESPACE
        return selects(namespaces, {"kubernetes.io/metadata.name": from_namespace})

    def port_admits(rule: dict[str, Any]) -> bool:
        ports = rule.get("ports") or [{"protocol": "TCP"}]
        return any(
            p.get("protocol", "TCP") == "TCP"
            and ("port" not in p or int(p["port"]) <= port <= int(p.get("endPort", p["port"])))
            for p in ports
        )

    return any(
        port_admits(rule) and ("from" not in rule or any(peer_admits(peer) for peer in rule["from"]))
        for policy in policies
        if "Ingress" in policy["policyTypes"] and selects(policy["podSelector"], pod_labels)
        for rule in policy.get("ingress", [])
    )


def route(result: PreviewResult, name: str) -> dict[str, Any]:
    """The spec of the HTTPRoute or GRPCRoute for route ``name``."""
    found = [r for r in result.of_type(HTTP_ROUTE) + result.of_type(GRPC_ROUTE) if r.name == f"{name}-route"]
    assert len(found) == 1, name
    return found[0].inputs["spec"]


def gateway_spec(result: PreviewResult) -> dict[str, Any]:
    (gateway,) = result.of_type(GATEWAY)
    return gateway.inputs["spec"]


def pod_specs(result: PreviewResult) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every pod template the stack creates: Deployments, StatefulSets and CronJobs."""
    for resource in result.of_type(DEPLOYMENT) + result.of_type(STATEFUL_SET):
        yield resource.name, resource.inputs["spec"]["template"]["spec"]
    for resource in result.of_type(CRON_JOB):
        yield resource.name, resource.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def assert_restricted(name: str, spec: dict[str, Any]) -> None:
    """Pod Security Standards "restricted", as the namespace's admission enforces it."""
    pod_context = spec["securityContext"]
    assert pod_context["runAsNonRoot"] is True, name
    assert pod_context["seccompProfile"] == {"type": "RuntimeDefault"}, name
    assert spec["automountServiceAccountToken"] is False, name
    for box in spec["containers"]:
        context = box["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, name
        assert context["capabilities"]["drop"] == ["ALL"], name
        assert context.get("privileged", False) is False, name
        assert context["readOnlyRootFilesystem"] is True, name
        assert context["runAsUser"] not in (0, None), name
        assert "hostPort" not in str(box.get("ports", [])), name
        assert box["resources"]["requests"], name
        assert box["resources"]["limits"], name


# -- 1. Service ----------------------------------------------------------------------------------


class TestService:
    """Services become restricted Deployments (StatefulSets with volumes) with exactly the extras they need."""

    WEB: ClassVar[dict[str, Any]] = {
        **API,
        "ports": [{"name": "http", "container_port": 8000}, {"name": "metrics", "container_port": 9100}],
        "health": {"kind": "http", "path": "/ready"},
        "limits": {"cpu": 1.5, "memory": "1Gi"},
        "replicas": 2,
        "uses": ["db"],
        "route": {"path": "/api/"},
    }
    BATCH: ClassVar[dict[str, Any]] = {
        "image": "ghcr.io/example/batch:3.1.0",
        "health": {"kind": "command", "command": ["/bin/healthcheck", "--quick"]},
        "requests": {"cpu": 0.25, "memory": "256Mi"},
    }
    SCALED: ClassVar[dict[str, Any]] = {**API, "autoscale": {"min": 2, "max": 6, "cpu_percent": 60}}
    STORE: ClassVar[dict[str, Any]] = {
        **API,
        "ports": [{"name": "tcp", "container_port": 7000, "app_protocol": "tcp"}],
        "health": {"kind": "tcp"},
        "volumes": {"data": {"path": "/var/lib/store", "size": "2Gi"}},
    }

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(
            run,
            tmp_path,
            databases={"db": {"database": "app"}},
            services={"web": self.WEB, "batch": self.BATCH, "scaled": self.SCALED, "store": self.STORE},
        )

    def test_every_pod_meets_pss_restricted(self, result: PreviewResult) -> None:
        """The namespace enforces "restricted": a pod that misses one field would be refused at apply time."""
        specs = dict(pod_specs(result))
        assert {"web", "batch", "scaled", "store", "db", "db-backup"} <= set(specs)
        for name, spec in specs.items():
            assert_restricted(name, spec)

    def test_runs_as_the_blueprint_user_without_a_token(self, result: PreviewResult) -> None:
        spec = pod(result, "web")
        box = container(result, "web")
        assert (box["securityContext"]["runAsUser"], box["securityContext"]["runAsGroup"]) == (10001, 10001)
        assert spec["securityContext"]["runAsUser"] == 10001
        account = one(result, SERVICE_ACCOUNT, "web-sa")
        assert account.inputs["automountServiceAccountToken"] is False
        assert spec["serviceAccountName"] == account.inputs["metadata"]["name"]

    def test_requests_and_limits_come_from_the_blueprint(self, result: PreviewResult) -> None:
        """cpu 0.5 / 512Mi requested, 1.5 / 1Gi limited: millicores and MiB on the container."""
        resources = container(result, "web")["resources"]
        assert resources == {
            "requests": {"cpu": "500m", "memory": "512Mi"},
            "limits": {"cpu": "1500m", "memory": "1024Mi"},
        }

    def test_limits_default_to_the_profiles_ceiling(self, result: PreviewResult) -> None:
        """Without limits a service is capped at the staging default (4 cores, 6 GiB), not left unbounded."""
        resources = container(result, "batch")["resources"]
        assert resources["requests"] == {"cpu": "250m", "memory": "256Mi"}
        assert resources["limits"] == {"cpu": "4000m", "memory": "6144Mi"}

    def test_probes_follow_the_health_kind(self, result: PreviewResult) -> None:
        web, batch, store = (container(result, n) for n in ("web", "batch", "store"))
        for probe in ("livenessProbe", "readinessProbe"):
            assert web[probe]["httpGet"] == {"path": "/ready", "port": 8000}
            assert batch[probe]["exec"] == {"command": ["/bin/healthcheck", "--quick"]}
            assert store[probe]["tcpSocket"] == {"port": 7000}

    def test_image_is_the_pinned_one_and_always_pulled(self, result: PreviewResult) -> None:
        box = container(result, "web")
        assert box["image"] == API["image"]
        assert box["imagePullPolicy"] == "Always"

    def test_cluster_ip_service_with_named_ports(self, result: PreviewResult) -> None:
        service = one(result, SERVICE, "web-svc").inputs
        assert service["metadata"]["name"] == "web"
        spec = service["spec"]
        assert spec["type"] == "ClusterIP"
        assert spec["ports"] == [
            {"name": "http", "port": 8000, "targetPort": 8000, "protocol": "TCP"},
            {"name": "metrics", "port": 9100, "targetPort": 9100, "protocol": "TCP"},
        ]
        template_labels = workload(result, "web").inputs["spec"]["template"]["metadata"]["labels"]
        assert spec["selector"].items() <= template_labels.items()
        assert "externalTrafficPolicy" not in spec

    def test_a_service_without_ports_gets_no_service_object(self, result: PreviewResult) -> None:
        assert "batch-svc" not in names(result, SERVICE)

    def test_secrets_are_files_never_env_values(self, result: PreviewResult) -> None:
        """``uses: [db]`` hands over the password and URL as files under /run/secrets plus ``*_FILE`` env."""
        secret = one(result, SECRET_TYPE, "web-secrets").inputs
        assert secret["stringData"] == {"db_db_password": SECRET, "db_db_url": SECRET}
        spec = pod(result, "web")
        volume = volumes_of(spec)[mounts_of(container(result, "web"))[SECRETS_DIR]]
        assert volume["secret"]["secretName"] == secret["metadata"]["name"]
        assert {i["key"] for i in volume["secret"]["items"]} == {"db_db_password", "db_db_url"}
        assert volume["secret"]["defaultMode"] == 0o400
        env = env_of(container(result, "web"))
        assert env["DB_DB_PASSWORD_FILE"] == f"{SECRETS_DIR}/db_db_password"
        assert env["DB_DB_URL_FILE"] == f"{SECRETS_DIR}/db_db_url"
        assert "DB_DB_PASSWORD" not in env
        assert "DB_DB_URL" not in env
        assert SECRET not in env.values()
        assert (env["DB_DB_HOST"], env["DB_DB_PORT"], env["DB_DB_USER"]) == ("db", "5432", "app")

    def test_writable_tmp_on_a_read_only_root(self, result: PreviewResult) -> None:
        box = container(result, "web")
        assert box["securityContext"]["readOnlyRootFilesystem"] is True
        tmp = volumes_of(pod(result, "web"))[mounts_of(box)["/tmp"]]
        assert "emptyDir" in tmp

    def test_replicas_get_a_disruption_budget_and_spread(self, result: PreviewResult) -> None:
        deployment = workload(result, "web").inputs["spec"]
        assert deployment["replicas"] == 2
        budget = one(result, PDB, "web-pdb").inputs["spec"]
        assert budget["maxUnavailable"] == 1
        assert budget["selector"] == deployment["selector"]
        spread = pod(result, "web")["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in spread} == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
        assert all(c["labelSelector"] == deployment["selector"] for c in spread)

    def test_a_single_replica_gets_neither(self, result: PreviewResult) -> None:
        assert "batch-pdb" not in names(result, PDB)
        assert "topologySpreadConstraints" not in pod(result, "batch")

    def test_autoscaled_service_gets_an_hpa_and_a_budget(self, result: PreviewResult) -> None:
        assert workload(result, "scaled").inputs["spec"]["replicas"] == 2
        spec = one(result, HPA, "scaled-hpa").inputs["spec"]
        assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "scaled"}
        assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 6)
        (metric,) = spec["metrics"]
        assert metric["resource"]["name"] == "cpu"
        assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 60}
        assert "scaled-pdb" in names(result, PDB)
        assert "web-hpa" not in names(result, HPA)

    def test_a_service_with_volumes_is_a_stateful_set_on_an_explicit_claim(self, result: PreviewResult) -> None:
        store = workload(result, "store")
        assert store.type == STATEFUL_SET
        claim = one(result, PVC, "store-data")
        assert claim.inputs["metadata"]["name"] == "store-data"
        assert claim.inputs["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert claim.inputs["spec"]["resources"]["requests"]["storage"] == "2048Mi"
        assert "storageClassName" not in claim.inputs["spec"]
        volume = volumes_of(pod(result, "store"))[mounts_of(container(result, "store"))["/var/lib/store"]]
        assert volume["persistentVolumeClaim"] == {"claimName": "store-data"}
        assert claim.urn in store.dependencies
        assert not claim.protect
        assert not claim.retain_on_delete

    def test_prod_protects_and_retains_service_claims(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, environment="prod", services={"store": self.STORE})
        claim = one(result, PVC, "store-data")
        assert claim.protect
        assert claim.retain_on_delete

    def test_storage_class_setting_reaches_the_claim(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, kubernetes={"storage_class": "fast-ssd"}, services={"store": self.STORE})
        assert one(result, PVC, "store-data").inputs["spec"]["storageClassName"] == "fast-ssd"


# -- 2. Wiring and NetworkPolicies ---------------------------------------------------------------


class TestNetworkPolicies:
    """Default-deny, DNS, and per workload exactly the flows ``uses`` and routes declare."""

    SERVICES: ClassVar[dict[str, Any]] = {
        "front": {**API, "uses": ["db", "worker"], "route": {"path": "/"}},
        "worker": {
            **API,
            "ports": [{"name": "rpc", "container_port": 9000}, {"name": "admin", "container_port": 9001}],
        },
    }

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, databases={"db": {}}, services=self.SERVICES)

    def test_default_deny_selects_every_pod_both_ways(self, result: PreviewResult) -> None:
        spec = one(result, NETWORK_POLICY, "default-deny").inputs["spec"]
        assert spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}

    def test_dns_egress_for_every_pod(self, result: PreviewResult) -> None:
        spec = one(result, NETWORK_POLICY, "allow-dns").inputs["spec"]
        assert spec["podSelector"] == {}
        assert spec["policyTypes"] == ["Egress"]
        assert flows(spec["egress"], "to") == {("ns:kube-system+pod:k8s-app=kube-dns", 53, p) for p in ("UDP", "TCP")}

    def test_consumer_egress_is_exactly_what_it_uses(self, result: PreviewResult) -> None:
        spec = traffic(result, "front")
        assert spec["podSelector"] == {"matchLabels": {NAME_LABEL: "front"}}
        assert spec["policyTypes"] == ["Ingress", "Egress"]
        assert flows(spec["egress"], "to") == {
            ("pod:db", 5432, "TCP"),
            ("pod:worker", 9000, "TCP"),
            ("pod:worker", 9001, "TCP"),
        }

    def test_database_admits_its_consumers_on_5432_only(self, result: PreviewResult) -> None:
        """front uses db; staging's pg_dump CronJob is the other client."""
        spec = traffic(result, "db")
        assert flows(spec["ingress"], "from") == {("pod:front", 5432, "TCP"), ("pod:db-backup", 5432, "TCP")}
        assert spec["egress"] == []
        assert flows(traffic(result, "db-backup")["egress"], "to") == {("pod:db", 5432, "TCP")}

    def test_routed_service_admits_only_the_gateway_namespace(self, result: PreviewResult) -> None:
        spec = traffic(result, "front")
        assert flows(spec["ingress"], "from") == {("ns:envoy-gateway-system", 8000, "TCP")}

    def test_used_service_admits_only_its_consumer(self, result: PreviewResult) -> None:
        """worker is used by front alone: not by db, not by the gateway (it has no route)."""
        spec = traffic(result, "worker")
        assert flows(spec["ingress"], "from") == {("pod:front", 9000, "TCP"), ("pod:front", 9001, "TCP")}
        assert spec["egress"] == []

    def test_one_policy_per_workload(self, result: PreviewResult) -> None:
        expected = {"default-deny", "allow-dns"} | {f"{n}-traffic" for n in ("front", "worker", "db", "db-backup")}
        assert names(result, NETWORK_POLICY) == expected

    def test_gateway_namespace_and_egress_cidrs_come_from_settings(self, run: Runner, tmp_path: Path) -> None:
        settings = {"gateway_namespace": "nginx-gateway", "egress_cidrs": ["203.0.113.0/24"]}
        result = run_blueprint(run, tmp_path, kubernetes=settings, services={"front": {**API, "route": {}}})
        assert flows(traffic(result, "front")["ingress"], "from") == {("ns:nginx-gateway", 8000, "TCP")}
        egress = one(result, NETWORK_POLICY, "allow-dns").inputs["spec"]["egress"]
        assert {"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}]} in egress


# -- 3. Routes -----------------------------------------------------------------------------------


class TestRoutes:
    """Gateway API: HTTPRoutes, WebSocket and gRPC routes on one Gateway, TLS by profile."""

    LIVE: ClassVar[dict[str, Any]] = {
        "service": {**API, "ports": [{"name": "ws", "container_port": 8765, "app_protocol": "websocket"}]},
        "path": "/live",
        "sticky": True,
    }
    TOOLS: ClassVar[dict[str, int]] = {"alpha": 50061, "beta": 50062}
    FLEET: ClassVar[dict[str, Any]] = {
        "api": {**API, "route": {"path": "/kite/"}},
        "tools": {t: {"image": "ghcr.io/example/tools:1.2.0", "port": p} for t, p in TOOLS.items()},
        "public_grpc": True,
    }

    def sections(self) -> dict[str, Any]:
        return {
            "services": {"ui": {**API, "route": {"path": "/"}}},
            "websocket_gateways": {"live": self.LIVE},
            "grpc_tool_fleets": {"kite": self.FLEET},
        }

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, **self.sections())

    def test_http_route_per_routed_service(self, result: PreviewResult) -> None:
        for name, path in (("ui", "/"), ("kite-api", "/kite/")):
            spec = route(result, name)
            (rule,) = spec["rules"]
            assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": path}}]
            assert rule["backendRefs"] == [{"name": name, "port": 8000}]
            assert spec["hostnames"] == [DOMAIN]
            assert spec["parentRefs"] == [{"name": "gateway", "sectionName": "https"}]
            assert "timeouts" not in rule
        assert result.outputs["urls"]["ui"] == f"https://{DOMAIN}/"

    def test_websocket_route_never_times_out(self, result: PreviewResult) -> None:
        (rule,) = route(result, "live")["rules"]
        assert rule["timeouts"] == {"request": "0s"}
        assert rule["backendRefs"] == [{"name": "live", "port": 8765}]
        assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/live"}}]
        assert "sessionPersistence" not in rule, "GEP-1619 is experimental: off unless the stack enables it"
        assert result.outputs["urls"]["live"] == f"wss://{DOMAIN}/live"

    def test_websocket_service_tells_the_gateway_it_speaks_websocket(self, result: PreviewResult) -> None:
        (port,) = one(result, SERVICE, "live-svc").inputs["spec"]["ports"]
        assert port["appProtocol"] == "kubernetes.io/ws"

    def test_session_persistence_only_when_enabled(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, kubernetes={"session_persistence": True}, **self.sections())
        (rule,) = route(result, "live")["rules"]
        assert rule["sessionPersistence"] == {"sessionName": "live-affinity", "type": "Cookie"}
        assert rule["timeouts"] == {"request": "0s"}
        (ui_rule,) = route(result, "ui")["rules"]
        assert "sessionPersistence" not in ui_rule

    def test_one_grpc_route_per_tool_on_its_own_hostname(self, result: PreviewResult) -> None:
        assert names(result, GRPC_ROUTE) == {f"kite-{t}-route" for t in self.TOOLS}
        for tool, port in self.TOOLS.items():
            spec = route(result, f"kite-{tool}")
            assert spec["hostnames"] == [f"kite-{tool}.{DOMAIN}"]
            assert spec["rules"] == [{"backendRefs": [{"name": f"kite-{tool}", "port": port}]}]
            assert spec["parentRefs"] == [{"name": "gateway", "sectionName": "https"}]
            assert result.outputs["urls"][f"kite-{tool}"] == f"grpcs://kite-{tool}.{DOMAIN}:443"

    def test_tools_speak_h2c_and_answer_grpc_probes(self, result: PreviewResult) -> None:
        for tool, port in self.TOOLS.items():
            (service_port,) = one(result, SERVICE, f"kite-{tool}-svc").inputs["spec"]["ports"]
            assert service_port["appProtocol"] == "kubernetes.io/h2c"
            box = container(result, f"kite-{tool}")
            assert box["livenessProbe"]["grpc"] == {"port": port}
            assert box["readinessProbe"]["grpc"] == {"port": port}
            assert env_of(container(result, "kite-api"))[f"TOOL_{tool.upper()}_ADDR"] == f"kite-{tool}:{port}"

    def test_tools_are_not_routed_without_public_grpc(self, run: Runner, tmp_path: Path) -> None:
        sections = self.sections()
        sections["grpc_tool_fleets"] = {"kite": {**self.FLEET, "public_grpc": False}}
        result = run_blueprint(run, tmp_path, **sections)
        assert result.of_type(GRPC_ROUTE) == []
        assert flows(traffic(result, "kite-alpha")["ingress"], "from") == {("pod:kite-api", 50061, "TCP")}

    def test_gateway_uses_the_configured_class(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, kubernetes={"gateway_class": "nginx"}, **self.sections())
        assert gateway_spec(result)["gatewayClassName"] == "nginx"

    def test_staging_serves_https_with_a_self_signed_certificate(self, result: PreviewResult) -> None:
        listeners = {item["name"]: item for item in gateway_spec(result)["listeners"]}
        assert (listeners["http"]["protocol"], listeners["http"]["port"]) == ("HTTP", 80)
        https = listeners["https"]
        assert (https["protocol"], https["port"], https["tls"]["mode"]) == ("HTTPS", 443, "Terminate")
        (certificate,) = result.of_type(CERTIFICATE)
        cert = certificate.inputs["spec"]
        assert https["tls"]["certificateRefs"] == [{"kind": "Secret", "name": cert["secretName"]}]
        assert set(cert["dnsNames"]) == {DOMAIN} | {f"kite-{t}.{DOMAIN}" for t in self.TOOLS}
        (issuer,) = result.of_type(ISSUER)
        assert issuer.inputs["spec"] == {"selfSigned": {}}
        assert cert["issuerRef"] == {
            "name": issuer.inputs["metadata"]["name"],
            "kind": "Issuer",
            "group": "cert-manager.io",
        }

    def test_staging_redirects_http_to_https(self, result: PreviewResult) -> None:
        redirect = one(result, HTTP_ROUTE, "https-redirect-route").inputs["spec"]
        assert redirect["parentRefs"] == [{"name": "gateway", "sectionName": "http"}]
        (rule,) = redirect["rules"]
        assert rule["filters"] == [
            {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
        ]
        assert "backendRefs" not in rule

    def test_prod_uses_the_cluster_issuer(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, environment="prod", **self.sections())
        (certificate,) = result.of_type(CERTIFICATE)
        assert certificate.inputs["spec"]["issuerRef"] == {
            "name": "letsencrypt-prod",
            "kind": "ClusterIssuer",
            "group": "cert-manager.io",
        }
        assert result.of_type(ISSUER) == []
        assert "https" in {item["name"] for item in gateway_spec(result)["listeners"]}

    # How cert-manager labels an HTTP-01 solver pod (pkg/issuer/acme/http/pod.go, podLabels): hashes + this.
    SOLVER_POD: ClassVar[dict[str, str]] = {
        "acme.cert-manager.io/http-domain": "1234567",
        "acme.cert-manager.io/http-token": "7654321",
        "acme.cert-manager.io/http01-solver": "true",
    }

    def test_prod_lets_the_gateway_reach_cert_managers_http01_solver(self, run: Runner, tmp_path: Path) -> None:
        """Under default-deny the ACME HTTP-01 solver pod (port 8089) must be reachable from the Gateway.

        Otherwise Let's Encrypt's validation request never reaches it and the certificate never issues.
        Exactly the Gateway's namespace, exactly 8089: not the internet, not the stack's own pods.
        """
        result = run_blueprint(run, tmp_path, environment="prod", **self.sections())
        policies = [r.inputs["spec"] for r in result.of_type(NETWORK_POLICY)]
        assert admits(policies, self.SOLVER_POD, "envoy-gateway-system", 8089)
        assert not admits(policies, self.SOLVER_POD, "envoy-gateway-system", 8080)
        assert not admits(policies, self.SOLVER_POD, NAMESPACE, 8089)
        selecting = [p for p in policies if selects(p["podSelector"], self.SOLVER_POD)]
        assert all(p.get("egress", []) == [] or p["podSelector"] == {} for p in selecting), "the solver only answers"

    def test_staging_self_signed_needs_no_solver_policy(self, result: PreviewResult) -> None:
        policies = [r.inputs["spec"] for r in result.of_type(NETWORK_POLICY)]
        assert not admits(policies, self.SOLVER_POD, "envoy-gateway-system", 8089)

    def test_prod_without_a_cluster_issuer_is_a_config_error(self, run: Runner, tmp_path: Path) -> None:
        path = write_blueprint(tmp_path, blueprint(**self.sections()))
        with pytest.raises(pulumi.RunError, match=r"gpu-platform:kubernetes\.cluster_issuer"):
            run(STACK, blueprint=path, environment="prod")

    def test_dev_serves_plain_http(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, environment="dev", **self.sections())
        assert [(item["name"], item["protocol"]) for item in gateway_spec(result)["listeners"]] == [("http", "HTTP")]
        assert result.of_type(CERTIFICATE) == []
        assert result.of_type(ISSUER) == []
        assert "https-redirect-route" not in names(result, HTTP_ROUTE)
        assert route(result, "ui")["parentRefs"] == [{"name": "gateway", "sectionName": "http"}]
        assert result.outputs["urls"]["live"] == f"ws://{DOMAIN}/live"


# -- 4. GPU --------------------------------------------------------------------------------------


class TestGpu:
    """Fractional GPUs are whole time-sliced units of ``nvidia.com/gpu``, on the pool's nodes."""

    TRAINER: ClassVar[dict[str, Any]] = {
        "image": "ghcr.io/example/train:2.0.0",
        "health": {"kind": "command", "command": ["true"]},
        "requests": {"cpu": 1, "memory": "2Gi", "gpu": 0.5},
        "pool": "gpu",
    }

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, services={"train": self.TRAINER, "api": API})

    def test_half_a_gpu_on_four_slices_is_two_units_in_limits_only(self, result: PreviewResult) -> None:
        resources = container(result, "train")["resources"]
        assert resources["limits"][GPU] == "2"  # 0.5 GPU x 4 time slices
        assert GPU not in resources["requests"]

    def test_gpu_pod_lands_on_the_pool_and_tolerates_the_gpu_taint(self, result: PreviewResult) -> None:
        spec = pod(result, "train")
        assert spec["nodeSelector"] == {"kubernetes.io/arch": "amd64", **GPU_NODE_SELECTOR}
        assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
        assert POOL_TOLERATION in spec["tolerations"]
        assert result.outputs["placement"]["services.train"] == "gpu"

    def test_gpu_deployment_replaces_in_place(self, result: PreviewResult) -> None:
        """A GPU node rarely has room for a surge pod."""
        strategy = workload(result, "train").inputs["spec"]["strategy"]
        assert strategy["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}

    def test_cpu_service_stays_off_gpus(self, result: PreviewResult) -> None:
        spec = pod(result, "api")
        assert GPU not in container(result, "api")["resources"]["limits"]
        assert spec["nodeSelector"] == {"kubernetes.io/arch": "amd64"}  # the pool's architecture, nothing GPU
        assert "tolerations" not in spec

    def test_time_slicing_config_map_in_the_device_plugin_namespace(self, result: PreviewResult) -> None:
        config = one(result, CONFIG_MAP, "time-slicing").inputs
        assert config["metadata"]["namespace"] == "gpu-operator"
        assert config["metadata"]["name"] == f"{STACK}-time-slicing"
        sharing = yaml.safe_load(config["data"]["gpu"])
        assert sharing["version"] == "v1"
        assert sharing["sharing"]["timeSlicing"]["resources"] == [{"name": GPU, "replicas": 4}]

    def test_one_time_slicing_config_map_with_a_key_per_pool(self, run: Runner, tmp_path: Path) -> None:
        """The device plugin (GPU Operator ``devicePlugin.config.name``) reads ONE ConfigMap; nodes pick a key.

        Two shared pools with different slicing must be two keys of that one ConfigMap, each
        named after its pool (the value of the nodes' ``nvidia.com/device-plugin.config`` label).
        """
        pools = {
            **POOLS,
            "render": {**POOLS["gpu"], "targets": {"kubernetes": {**POOLS["gpu"]["targets"]["kubernetes"],
                                                                  "time_slicing_replicas": 2}}},
        }  # fmt: skip
        renderer = {**self.TRAINER, "pool": "render"}
        services = {"train": self.TRAINER, "render": renderer}
        path = write_blueprint(tmp_path, {"name": "unit", "pools": pools, "services": services})
        result = run(STACK, blueprint=path, domain=DOMAIN)
        (config,) = result.of_type(CONFIG_MAP)
        assert set(config.inputs["data"]) == {"gpu", "render"}
        replicas = {
            key: yaml.safe_load(value)["sharing"]["timeSlicing"]["resources"][0]["replicas"]
            for key, value in config.inputs["data"].items()
        }
        assert replicas == {"gpu": 4, "render": 2}

    def test_device_plugin_namespace_comes_from_settings(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(
            run, tmp_path, kubernetes={"device_plugin_namespace": "nvidia-system"}, services={"train": self.TRAINER}
        )
        assert one(result, CONFIG_MAP, "time-slicing").inputs["metadata"]["namespace"] == "nvidia-system"

    def test_everything_on_a_gpu_pool_tolerates_its_taints(self, run: Runner, tmp_path: Path) -> None:
        """TURN (no GPU of its own) runs on the streamer's GPU pool: it must tolerate the same taints.

        GPU nodes carry ``nvidia.com/gpu:NoSchedule`` (GPU Operator, managed GPU node groups) and the
        pool's own taints; a pod without those tolerations stays Pending. The database and its backup
        job, placed on the same pool, need them as much.
        """
        streaming = {
            "streamer": {**self.TRAINER, "ports": [{"name": "http", "container_port": 8080}],
                         "requests": {"cpu": 1, "memory": "2Gi", "gpu": 0.25}},
            "signalling": {"service": {**API, "pool": "general"}},
        }  # fmt: skip
        database = {"version": "16", "storage": "8Gi", "pool": "gpu", "requests": {"cpu": 0.25, "memory": "512Mi"}}
        result = run_blueprint(
            run, tmp_path, kubernetes={"pod_cidrs": ["10.244.0.0/16"]},
            pixel_streaming={"ps": streaming}, databases={"db": database},
        )  # fmt: skip
        assert result.outputs["placement"]["pixel_streaming.ps.turn"] == "gpu"
        gpu_taint = {"key": GPU, "operator": "Exists", "effect": "NoSchedule"}
        for name in ("ps-turn", "db"):
            tolerations = pod(result, name)["tolerations"]
            assert gpu_taint in tolerations, name
            assert POOL_TOLERATION in tolerations, name
        (backup,) = result.of_type(CRON_JOB)
        backup_pod = backup.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert gpu_taint in backup_pod["tolerations"]

    def test_whole_gpu_on_an_unshared_pool_is_one_unit(self, run: Runner, tmp_path: Path) -> None:
        pools = {
            **POOLS,
            "gpu": {**POOLS["gpu"], "targets": {"kubernetes": {"time_slicing_replicas": 1}}},
        }
        trainer = {**self.TRAINER, "requests": {"cpu": 1, "memory": "2Gi", "gpu": 1}}
        path = write_blueprint(tmp_path, {"name": "unit", "pools": pools, "services": {"train": trainer}})
        result = run(STACK, blueprint=path, domain=DOMAIN)
        assert container(result, "train")["resources"]["limits"][GPU] == "1"
        assert result.of_type(CONFIG_MAP) == [], "nothing to time-slice"


# -- 5. ManagedPostgres --------------------------------------------------------------------------


class TestManagedPostgres:
    """A StatefulSet on a PVC (or a CNPG Cluster), credentials as files, pg_dump backups by profile."""

    DATABASE: ClassVar[dict[str, Any]] = {"version": "16", "database": "shop", "username": "shopper", "storage": "8Gi"}
    CONSUMER: ClassVar[dict[str, Any]] = {**API, "uses": ["orders"]}

    def sections(self) -> dict[str, Any]:
        return {"databases": {"orders": self.DATABASE}, "services": {"api": self.CONSUMER}}

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, **self.sections())

    def test_default_is_a_stateful_set_on_a_claim(self, result: PreviewResult) -> None:
        database = workload(result, "orders")
        assert database.type == STATEFUL_SET
        assert database.inputs["spec"]["replicas"] == 1
        claim = one(result, PVC, "orders-data")
        # 8Gi asked, but staging's profile gives a database at least 20 GiB (the seed's storage row)
        assert claim.inputs["spec"]["resources"]["requests"]["storage"] == "20480Mi"
        data = volumes_of(pod(result, "orders"))[mounts_of(container(result, "orders"))["/var/lib/postgresql/data"]]
        assert data["persistentVolumeClaim"] == {"claimName": "orders-data"}
        assert result.of_type(CNPG_CLUSTER) == []

    def test_postgres_runs_non_root_and_reads_its_password_from_a_file(self, result: PreviewResult) -> None:
        box = container(result, "orders")
        assert box["image"].startswith("postgres:16.")
        assert box["securityContext"]["runAsUser"] == 10001
        assert pod(result, "orders")["securityContext"]["runAsUser"] == 10001
        env = env_of(box)
        assert "POSTGRES_PASSWORD" not in env
        password_file = env["POSTGRES_PASSWORD_FILE"]
        directory, _, key = password_file.rpartition("/")
        volume = volumes_of(pod(result, "orders"))[mounts_of(box)[directory]]
        assert volume["secret"]["secretName"] == "orders-credentials"
        assert key in {item["path"] for item in volume["secret"]["items"]}
        assert (env["POSTGRES_DB"], env["POSTGRES_USER"]) == ("shop", "shopper")

    def test_pg_isready_probes(self, result: PreviewResult) -> None:
        box = container(result, "orders")
        for probe in ("livenessProbe", "readinessProbe"):
            command = box[probe]["exec"]["command"]
            assert command[0] == "pg_isready"
            assert command[command.index("-U") + 1] == "shopper"
            assert command[command.index("-d") + 1] == "shop"

    def test_service_and_basic_auth_secret(self, result: PreviewResult) -> None:
        service = one(result, SERVICE, "orders-svc").inputs
        assert service["metadata"]["name"] == "orders"
        assert service["spec"]["ports"] == [{"name": "postgres", "port": 5432, "targetPort": 5432, "protocol": "TCP"}]
        assert service["spec"]["selector"] == {NAME_LABEL: "orders"}
        credentials = one(result, SECRET_TYPE, "orders-credentials").inputs
        assert credentials["type"] == "kubernetes.io/basic-auth"
        # pulumi-kubernetes marks a Secret's whole stringData secret, so the username is masked too.
        assert credentials["stringData"] == {"username": SECRET, "password": SECRET}

    def test_consumer_reaches_the_service_by_name(self, result: PreviewResult) -> None:
        env = env_of(container(result, "api"))
        assert (env["DB_ORDERS_HOST"], env["DB_ORDERS_NAME"]) == ("orders", "shop")
        assert workload(result, "orders").urn in workload(result, "api").dependencies

    def test_staging_dumps_daily_and_keeps_a_week(self, result: PreviewResult) -> None:
        cron = one(result, CRON_JOB, "orders-backup").inputs["spec"]
        assert cron["schedule"] == "0 3 * * *"
        assert cron["concurrencyPolicy"] == "Forbid"
        (box,) = cron_pod(result, "orders-backup")["containers"]
        script = box["command"][-1]
        assert "pg_dump -h orders -U shopper -d shop" in script
        assert "-mtime +7 " in script
        assert SECRET not in script
        backups = volumes_of(cron_pod(result, "orders-backup"))[mounts_of(box)["/backups"]]
        assert backups["persistentVolumeClaim"] == {"claimName": "orders-backups"}
        for claim in ("orders-data", "orders-backups"):
            assert not one(result, PVC, claim).protect, claim

    def test_prod_dumps_every_six_hours_keeps_a_month_and_protects_claims(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, environment="prod", **self.sections())
        cron = one(result, CRON_JOB, "orders-backup").inputs["spec"]
        assert cron["schedule"] == "0 */6 * * *"
        (box,) = cron_pod(result, "orders-backup")["containers"]
        assert "-mtime +30 " in box["command"][-1]
        for claim in ("orders-data", "orders-backups"):
            assert one(result, PVC, claim).protect, claim
            assert one(result, PVC, claim).retain_on_delete, claim

    def test_dev_has_no_backups(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, environment="dev", **self.sections())
        assert result.of_type(CRON_JOB) == []
        assert "orders-backups" not in names(result, PVC)

    def test_cnpg_cluster_replaces_the_stateful_set(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, kubernetes={"cnpg": True}, **self.sections())
        (cluster,) = result.of_type(CNPG_CLUSTER)
        spec = cluster.inputs["spec"]
        assert spec["instances"] == 1  # staging: no read replicas
        initdb = spec["bootstrap"]["initdb"]
        assert (initdb["database"], initdb["owner"]) == ("shop", "shopper")
        assert initdb["secret"] == {"name": one(result, SECRET_TYPE, "orders-credentials").inputs["metadata"]["name"]}
        assert spec["storage"]["size"] == "20480Mi"  # the staging floor
        assert not cluster.protect
        assert "orders" not in names(result, STATEFUL_SET)
        assert "orders-data" not in names(result, PVC)
        assert "orders-svc" not in names(result, SERVICE), "the operator makes orders-rw/-ro/-r"

    def test_cnpg_consumers_and_backups_use_the_rw_service(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, kubernetes={"cnpg": True}, **self.sections())
        assert env_of(container(result, "api"))["DB_ORDERS_HOST"] == "orders-rw"
        (box,) = cron_pod(result, "orders-backup")["containers"]
        assert "pg_dump -h orders-rw " in box["command"][-1]
        assert traffic(result, "orders")["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "orders"}}
        # CNPG labels its instance pods cnpg.io/cluster=<name>: that is whom the consumer may reach.
        assert flows(traffic(result, "api")["egress"], "to") == {("pod:cnpg.io/cluster=orders", 5432, "TCP")}

    def test_cnpg_read_replicas_add_instances(self, run: Runner, tmp_path: Path) -> None:
        sections = self.sections()
        sections["databases"] = {"orders": {**self.DATABASE, "read_replicas": 2}}
        result = run_blueprint(run, tmp_path, kubernetes={"cnpg": True}, **sections)
        (cluster,) = result.of_type(CNPG_CLUSTER)
        assert cluster.inputs["spec"]["instances"] == 3

    def test_cnpg_in_prod_is_highly_available_and_protected(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, environment="prod", kubernetes={"cnpg": True}, **self.sections())
        (cluster,) = result.of_type(CNPG_CLUSTER)
        assert cluster.inputs["spec"]["instances"] >= 2  # a primary and the prod profile's read replica
        assert cluster.inputs["spec"]["affinity"]["topologyKey"] == "topology.kubernetes.io/zone"
        assert cluster.protect
        assert cluster.retain_on_delete
        assert one(result, PVC, "orders-backups").protect


# -- 6. PixelStreaming ---------------------------------------------------------------------------


class TestPixelStreaming:
    """Streamer on the GPU pool, signalling behind a WebSocket route, TURN on a public load balancer."""

    RELAY = range(49160, 49171)
    STREAMING: ClassVar[dict[str, Any]] = {
        "streamer": {
            "image": "ghcr.io/example/unreal:5.4.4",
            "ports": [{"name": "http", "container_port": 8080}],
            "requests": {"cpu": 2, "memory": "8Gi", "gpu": 1},
            "pool": "gpu",
        },
        "signalling": {
            "service": {
                "image": "ghcr.io/example/signalling:5.4.4",
                "ports": [{"name": "http", "container_port": 8888, "app_protocol": "websocket"}],
            },
            "path": "/signalling",
        },
        "turn": {"listening_port": 3478, "relay_min_port": RELAY.start, "relay_max_port": RELAY.stop - 1},
    }

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, pixel_streaming={"unreal": self.STREAMING})

    def expected_public_ports(self) -> set[tuple[int, str]]:
        # Browsers speak to TURN's listening port only; the streamer sends to the relay range by
        # pod IP, so the relay range is neither on the balancer nor open to the internet.
        return {(3478, "UDP"), (3478, "TCP")}

    def test_streamer_renders_on_the_gpu_pool(self, result: PreviewResult) -> None:
        spec = pod(result, "unreal-streamer")
        assert workload(result, "unreal-streamer").type == DEPLOYMENT
        assert spec["nodeSelector"] == {"kubernetes.io/arch": "amd64", **GPU_NODE_SELECTOR}
        assert container(result, "unreal-streamer")["resources"]["limits"][GPU] == "4"  # a whole card of 4 slices
        assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
        assert env_of(container(result, "unreal-streamer"))["SIGNALLING_URL"] == "ws://unreal-signalling:8888"

    def test_turn_is_a_load_balancer_on_its_relay_range(self, result: PreviewResult) -> None:
        spec = one(result, SERVICE, "unreal-turn-svc").inputs["spec"]
        assert spec["type"] == "LoadBalancer"
        assert spec["externalTrafficPolicy"] == "Local"
        assert {(p["port"], p["protocol"]) for p in spec["ports"]} == self.expected_public_ports()
        assert all(p["port"] == p["targetPort"] for p in spec["ports"])

    def test_turn_admits_the_internet_on_exactly_its_public_ports(self, result: PreviewResult) -> None:
        allowed = flows(traffic(result, "unreal-turn")["ingress"], "from")
        public = {(port, protocol) for peer, port, protocol in allowed if peer == "0.0.0.0/0"}
        assert public == self.expected_public_ports()
        assert ("pod:unreal-streamer", 3478, "UDP") in allowed
        assert {peer for peer, _, _ in allowed} == {"0.0.0.0/0", "pod:unreal-streamer"}

    def test_turn_config_is_a_secret_file(self, result: PreviewResult) -> None:
        secret = one(result, SECRET_TYPE, "unreal-turn-secrets").inputs
        assert secret["stringData"] == {"turnserver.conf": SECRET}
        box = container(result, "unreal-turn")
        assert box["args"] == ["-c", f"{SECRETS_DIR}/turnserver.conf"]
        assert box["livenessProbe"]["tcpSocket"] == {"port": 3478}
        signalling = env_of(container(result, "unreal-signalling"))
        assert signalling["TURN_SHARED_SECRET_FILE"] == f"{SECRETS_DIR}/turn_shared_secret"
        assert signalling["TURN_URL"].endswith(".lb.example:3478")  # the balancer, not the in-cluster name

    def test_signalling_is_behind_a_websocket_route(self, result: PreviewResult) -> None:
        (rule,) = route(result, "unreal-signalling")["rules"]
        assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/signalling"}}]
        assert rule["backendRefs"] == [{"name": "unreal-signalling", "port": 8888}]
        assert rule["timeouts"] == {"request": "0s"}
        assert result.outputs["urls"]["unreal"] == f"wss://{DOMAIN}/signalling"

    def test_streamer_reaches_signalling_and_turn_only(self, result: PreviewResult) -> None:
        # TURN's listening port, and its relay range: the streamer sends media to relayed addresses.
        assert flows(traffic(result, "unreal-streamer")["egress"], "to") == {
            ("pod:unreal-signalling", 8888, "TCP"),
            ("pod:unreal-turn", 3478, "UDP"),
            *{("pod:unreal-turn", port, "UDP") for port in self.RELAY},
        }

    def test_dev_keeps_turn_private(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, environment="dev", pixel_streaming={"unreal": self.STREAMING})
        spec = one(result, SERVICE, "unreal-turn-svc").inputs["spec"]
        assert spec["type"] == "ClusterIP"
        assert "externalTrafficPolicy" not in spec
        allowed = flows(traffic(result, "unreal-turn")["ingress"], "from")
        assert all(peer != "0.0.0.0/0" for peer, _, _ in allowed)


# -- 7. Namespace and provider -------------------------------------------------------------------


class TestNamespace:
    """One Namespace under Pod Security Admission "restricted"; everything in it, through one provider."""

    SECTIONS: ClassVar[dict[str, Any]] = {
        "databases": {"db": {}},
        "services": {
            "api": {**API, "uses": ["db"], "route": {"path": "/"}, "replicas": 2},
            "train": TestGpu.TRAINER,
        },
    }

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, **self.SECTIONS)

    def test_namespace_enforces_restricted(self, result: PreviewResult) -> None:
        (namespace,) = result.of_type(NAMESPACE_TYPE)
        labels = namespace.inputs["metadata"]["labels"]
        assert namespace.inputs["metadata"]["name"] == NAMESPACE
        for mode in ("enforce", "audit", "warn"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted", mode

    @pytest.mark.parametrize("namespace", [None, "team-gpu"])
    def test_every_namespaced_object_is_in_the_stack_namespace(
        self, run: Runner, tmp_path: Path, namespace: str | None
    ) -> None:
        settings: dict[str, Any] = {"pod_cidrs": ["10.244.0.0/16"]}  # SECTIONS streams: TURN needs them
        if namespace:
            settings["namespace"] = namespace
        result = run_blueprint(run, tmp_path, kubernetes=settings, **self.SECTIONS)
        expected = namespace or NAMESPACE
        objects = [r for r in result.resources if r.type.startswith("kubernetes:") and r.type != NAMESPACE_TYPE]
        assert len(objects) > 20
        placed = {r.name: r.inputs["metadata"].get("namespace") for r in objects}
        # The time-slicing config belongs to the device plugin, in its own namespace.
        assert placed.pop("time-slicing") == "gpu-operator"
        assert {n: ns for n, ns in placed.items() if ns != expected} == {}
        (ns_object,) = result.of_type(NAMESPACE_TYPE)
        assert ns_object.inputs["metadata"]["name"] == expected
        (provider,) = result.of_type(PROVIDER)
        assert provider.inputs["namespace"] == expected

    def test_every_object_uses_the_stack_provider_and_waits_for_the_namespace(self, result: PreviewResult) -> None:
        (provider,) = result.of_type(PROVIDER)
        (namespace,) = result.of_type(NAMESPACE_TYPE)
        for resource in result.resources:
            if not resource.type.startswith("kubernetes:"):
                continue
            assert resource.provider == provider.urn, resource.name
            if resource.type != NAMESPACE_TYPE and resource.inputs["metadata"].get("namespace") == NAMESPACE:
                assert namespace.urn in resource.dependencies, resource.name

    def test_provider_context_comes_from_settings(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, kubernetes={"context": "gpu-staging"}, services={"api": API})
        (provider,) = result.of_type(PROVIDER)
        assert provider.inputs["context"] == "gpu-staging"


# -- 8. The staging stack as shipped -------------------------------------------------------------


@pytest.fixture(scope="module")
def staging_result() -> PreviewResult:
    """``Pulumi.staging.yaml`` as shipped (reference blueprint on Kubernetes)."""
    return shipped(STACK)


class TestStagingStack:
    """The reference blueprint on Kubernetes: every component, no mandatory policy violation."""

    def test_workload_kinds_follow_the_blueprint(self, staging_result: PreviewResult) -> None:
        """Volumes (and databases) make StatefulSets; everything else is a Deployment."""
        reference = reference_blueprint()
        services: dict[str, dict[str, Any]] = dict(reference["services"])
        services |= {n: g["service"] for n, g in reference["websocket_gateways"].items()}
        for fleet, spec in reference["grpc_tool_fleets"].items():
            services[f"{fleet}-api"] = spec["api"]
            services |= {f"{fleet}-{t}": tool for t, tool in spec["tools"].items()}
        for name, spec in reference["pixel_streaming"].items():
            services[f"{name}-streamer"] = spec["streamer"]
            services[f"{name}-signalling"] = spec["signalling"]["service"]
            services[f"{name}-turn"] = {}
        stateful = {n for n, s in services.items() if s.get("volumes")} | set(reference["databases"])
        assert names(staging_result, STATEFUL_SET) == stateful
        assert names(staging_result, DEPLOYMENT) == set(services) - stateful
        assert names(staging_result, CRON_JOB) == {f"{db}-backup" for db in reference["databases"]}

    def test_routes_follow_the_blueprint(self, staging_result: PreviewResult) -> None:
        reference = reference_blueprint()
        routed = {n for n, s in reference["services"].items() if s.get("route")}
        routed |= set(reference["websocket_gateways"]) | {f"{f}-api" for f in reference["grpc_tool_fleets"]}
        routed |= {f"{n}-signalling" for n in reference["pixel_streaming"]}
        assert names(staging_result, HTTP_ROUTE) == {f"{n}-route" for n in routed} | {"https-redirect-route"}
        tools = {
            f"{fleet}-{tool}-route"
            for fleet, spec in reference["grpc_tool_fleets"].items()
            if spec.get("public_grpc")
            for tool in spec["tools"]
        }
        assert names(staging_result, GRPC_ROUTE) == tools

    def test_every_pod_meets_pss_restricted(self, staging_result: PreviewResult) -> None:
        specs = dict(pod_specs(staging_result))
        assert len(specs) >= 15
        for name, spec in specs.items():
            assert_restricted(name, spec)

    def test_no_mandatory_policy_violation(self, staging_result: PreviewResult) -> None:
        found = evaluate(staging_result.resources, STACK)
        assert [v for v in found if v.enforcement == "mandatory"] == []

    def test_no_generated_secret_appears_in_plaintext(self, staging_result: PreviewResult) -> None:
        """Ask the mocks what each RandomPassword returned and look for it in every input."""
        mocks = PlatformMocks()
        passwords = staging_result.of_type("random:index/randomPassword:RandomPassword")
        assert {p.name for p in passwords} == {"bem-db-password", "unreal-turn-secret"}
        text = str([r.inputs for r in staging_result.resources])
        for password in passwords:
            _, state = mocks.new_resource(MockResourceArgs(password.type, password.name, password.inputs))
            assert state["result"] not in text, password.name

    def test_a_root_service_is_a_mandatory_violation(self, run: Runner, tmp_path: Path) -> None:
        """allow_root lets the blueprint through; the policy pack still stops uid 0 in staging."""
        reference = reference_blueprint()
        reference["services"]["ui"]["user"] = "0:0"
        reference["services"]["ui"]["allow_root"] = True
        result = run(STACK, blueprint=write_blueprint(tmp_path, reference))
        mandatory = [v for v in evaluate(result.resources, STACK) if v.enforcement == "mandatory"]
        assert {v.policy for v in mandatory} == {"gpu-platform-k8s-run-as-non-root"}
        ui = workload(result, "ui")
        assert {v.urn for v in mandatory} == {ui.urn}
        assert all("runAsUser: 0" in v.message for v in mandatory)


class TestRegressions:
    """Bugs found by review of the Kubernetes target, each pinned by the test that exposed it."""

    def test_user_root_is_a_policy_finding_not_a_crash(self, run: Runner, tmp_path: Path) -> None:
        service = {**API, "user": "root", "allow_root": True}
        result = run_blueprint(run, tmp_path, services={"api": service})
        assert container(result, "api")["securityContext"]["runAsUser"] == 0
        mandatory = {v.policy for v in evaluate(result.resources, "staging") if v.enforcement == "mandatory"}
        assert mandatory == {"gpu-platform-k8s-run-as-non-root"}

    def test_autoscaler_targets_the_kind_that_exists(self, run: Runner, tmp_path: Path) -> None:
        shared = {**API, "autoscale": {"min": 1, "max": 3}, "volumes": {"data": {"path": "/data", "shared": True}}}
        result = run_blueprint(run, tmp_path, services={"store": shared})
        target = one(result, HPA, "store-hpa").inputs["spec"]["scaleTargetRef"]
        assert target["kind"] == workload(result, "store").inputs["kind"] == "Deployment"  # shared: RWX, scalable
        claim = one(result, K8S_PERSISTENT_VOLUME_CLAIM, "store-data").inputs
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]

    def test_backup_reads_a_private_copy_of_the_password_file(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, databases={"db": {}})
        spec = cron_pod(result, "db-backup")
        dump = spec["containers"][0]
        assert spec["securityContext"]["fsGroup"]  # why a copy is needed: fsGroup adds group-read
        assert "PGPASSFILE" not in env_of(dump)
        script = dump["command"][-1]
        assert "chmod 600 /tmp/pgpass" in script
        assert script.index("export PGPASSFILE=/tmp/pgpass") < script.index("pg_dump")

    def test_cnpg_operator_and_instances_may_talk(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(
            run, tmp_path, kubernetes={"cnpg": True}, databases={"db": {}}, services={"api": {**API, "uses": ["db"]}}
        )
        spec = traffic(result, "db")
        operator = {"kubernetes.io/metadata.name": "cnpg-system"}
        admits_operator = [
            rule for rule in spec["ingress"]
            if any(p.get("namespaceSelector", {}).get("matchLabels") == operator for p in rule["from"])
        ]  # fmt: skip
        assert admits_operator
        assert {p["port"] for p in admits_operator[0]["ports"]} == {8000, 5432}
        instances = {"podSelector": {"matchLabels": {"cnpg.io/cluster": "db"}}}
        assert any(instances in rule.get("to", []) for rule in spec["egress"])
        assert any({q["port"] for q in rule["ports"]} == {443, 6443} for rule in spec["egress"] if "to" not in rule)

    def test_turn_may_answer_its_udp_clients(self, run: Runner, tmp_path: Path) -> None:
        streaming = {
            "streamer": {**API, "requests": {"cpu": 1, "memory": "1Gi", "gpu": 1}, "pool": "gpu"},
            "signalling": {"service": {**API, "ports": [{"name": "ws", "container_port": 8888}]}},
        }
        result = run_blueprint(run, tmp_path, pixel_streaming={"live": streaming})
        turn_egress = traffic(result, "live-turn")["egress"]
        back = {"podSelector": {"matchLabels": {NAME_LABEL: "live-streamer"}}}
        assert any(back in rule["to"] and rule["ports"] == [{"protocol": "UDP"}] for rule in turn_egress)


def test_time_sliced_units_may_not_exceed_the_cards(run: Runner, tmp_path: Path) -> None:
    """0.3 GPU on a card sliced 4 ways is 2 units: three such pods need 6 of the 4 offered."""
    import pulumi

    pools = {"gpu": {"cpu": 16, "memory": "64Gi", "gpus": 1, "targets": {"kubernetes": {"time_slicing_replicas": 4}}}}
    trainer = {
        "image": "ghcr.io/example/train:2.0.0",
        "health": {"kind": "command", "command": ["true"]},
        "requests": {"cpu": 1, "memory": "1Gi", "gpu": 0.3},
    }
    services = {f"t{i}": trainer for i in range(3)}
    path = write_blueprint(tmp_path, {"name": "sliced", "pools": pools, "services": services})
    with pytest.raises(pulumi.RunError, match=r"ask for 6 time-sliced nvidia.com/gpu units but its cards offer 4"):
        run(STACK, blueprint=path)
