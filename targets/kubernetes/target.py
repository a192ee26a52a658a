"""The Kubernetes target: the Target protocol on any cluster with pulumi-kubernetes.

- An explicit Provider from the stack's settings (kubeconfig/context) and one
  Namespace per stack, labelled for Pod Security Admission ``restricted``.
- Services are Deployments (StatefulSets where volumes hold state) with a
  ServiceAccount (no token), a ClusterIP Service, a PodDisruptionBudget when
  replicated, an HPA when autoscaled; pods come from ``pods.py``.
- Routes are Gateway API HTTPRoutes / GRPCRoutes on one Gateway (``gateway.py``).
- Postgres is a CloudNativePG Cluster when the cluster has the operator, else
  a StatefulSet on a PVC (``postgres.py``); PVCs are protected in prod.
- Traffic is default-deny with exactly the allows the wiring needs (``network.py``).
- GPU pools emit the NVIDIA device plugin's time-slicing config (``gpu.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.protocol import (
    AutoscaleRequest,
    DatabaseEndpoint,
    Peer,
    Pool,
    PoolRequest,
    PortRequest,
    PostgresRequest,
    PublicEndpoint,
    ResolvedRoute,
    RouteRequest,
    ServiceEndpoint,
    ServiceRequest,
    TargetContext,
    secret_value,
)
from targets.common import random_secret
from targets.kubernetes import gateway, gpu, network, postgres
from targets.kubernetes.cluster import Cluster
from targets.kubernetes.pods import (
    Container,
    PoolHandle,
    Scheduling,
    labels,
    manifest,
    pod_spec,
    pool_tolerations,
    secret_volume,
    selector,
    tmp_volumes,
)
from targets.kubernetes.settings import KubernetesPoolSettings, KubernetesSettings


def _uid_gid(user: str) -> tuple[int, int]:
    """Numeric ids (Kubernetes needs numbers; the blueprint allows only numbers or ``root``)."""
    uid, _, gid = user.partition(":")
    number = 0 if uid == "root" else int(uid)
    return number, int(gid) if gid else number


@dataclass
class KubernetesTarget:
    """Implements :class:`components.protocol.Target` for Kubernetes."""

    context: TargetContext[KubernetesSettings]
    name: str = "kubernetes"
    _cluster: Cluster | None = None
    traffic: network.Traffic = field(default_factory=network.Traffic)
    routes: list[ResolvedRoute] = field(default_factory=list)
    time_sliced: dict[str, int] = field(default_factory=dict)  # pool -> time-slicing replicas

    @property
    def settings(self) -> KubernetesSettings:
        return self.context.settings

    @property
    def cluster(self) -> Cluster:
        """Provider and namespace, created on first use (so they are the first resources)."""
        if self._cluster is None:
            self._cluster = Cluster("cluster", self.context, self.settings)
        return self._cluster

    def _opts(self, parent: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
        return self.cluster.opts(parent, **extra)

    # -- pools -------------------------------------------------------------
    def pool(self, request: PoolRequest[KubernetesPoolSettings], parent: pulumi.Resource) -> Pool[PoolHandle]:
        settings = request.settings
        del parent  # a pool is scheduling facts; its time-slicing key is written in finish()
        replicas = settings.time_slicing_replicas if request.gpus else 1
        scheduling = Scheduling(
            # The pool's architecture is a scheduling fact, not a hint: pin it (kubelet's well-known label).
            node_selector={"kubernetes.io/arch": request.architecture, **settings.node_selector},
            tolerations=pool_tolerations([t.model_dump(exclude_none=True) for t in settings.tolerations], request.gpus),
            time_slicing_replicas=replicas,
        )
        if request.gpus and replicas > 1:
            self.time_sliced[request.name] = replicas  # written in finish(): one ConfigMap, a key per pool
        return Pool(request.name, request.gpus, request.architecture, PoolHandle(settings, scheduling))

    # -- services ----------------------------------------------------------
    def service(self, request: ServiceRequest[PoolHandle], parent: pulumi.Resource) -> ServiceEndpoint:
        handle = request.pool.handle
        name = request.name
        meta = {"name": name, "namespace": self.cluster.namespace_name, "labels": labels(self.context.stack, name)}
        opts = self._opts(parent)
        _service_account(meta, opts)
        container = _container(request)
        volumes, mounts = tmp_volumes(container)
        _secret(request, meta, volumes, mounts, opts)
        claims = self._claims(request, meta, volumes, mounts, parent)
        container = replace(container, mounts=tuple(mounts))
        max_replicas = request.autoscale.max if request.autoscale else request.replicas
        template = {
            "metadata": {"labels": meta["labels"]},
            "spec": pod_spec(
                [container], handle.scheduling, name, volumes, spread_over=name if max_replicas > 1 else None
            ),
        }
        workload_opts = self._opts(parent, depends_on=[*request.depends_on, *claims])
        created = _workload(request, meta, template, workload_opts)
        public_host = self._service(request, meta, opts) if request.ports else None
        if max_replicas > 1:
            _disruption_budget(meta, opts)
        if request.autoscale is not None:
            _autoscaler(request.autoscale, meta, _workload_kind(request), opts)
        self.traffic.add_workload(name, selector(name), request.peers, public_ports=_public_ports(request))
        return ServiceEndpoint(
            name=name,
            host=pulumi.Output.from_input(name),
            ports={p.name: p.container_port for p in request.ports},
            resources=(created,),
            public_host=public_host,
        )

    def _claims(
        self,
        request: ServiceRequest,
        meta: dict[str, Any],
        volumes: list[dict[str, Any]],
        mounts: list[tuple[str, str]],
        parent: pulumi.Resource,
    ) -> list[k8s.core.v1.PersistentVolumeClaim]:
        """One explicit PVC per volume, added to the pod's volumes and the container's mounts."""
        name, ns = request.name, self.cluster.namespace_name
        claims = []
        for vol in request.volumes:
            claim = postgres.claim(f"{name}-{vol.name}", ns, meta["labels"], vol.size_mib, vol.shared, self.settings,
                                   self._opts(parent, protect=vol.protect, retain_on_delete=vol.protect))  # fmt: skip
            claims.append(claim)
            volumes.append({"name": vol.name, "persistentVolumeClaim": {"claimName": f"{name}-{vol.name}"}})
            mounts.append((vol.name, vol.path))
        return claims

    def _service(
        self, request: ServiceRequest, meta: dict[str, Any], opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str] | None:
        """The ClusterIP Service (a LoadBalancer when public); the balancer's address when public."""
        balancer = self.settings.load_balancer_annotations if request.public else {}
        service = k8s.core.v1.Service(
            f"{request.name}-svc",
            metadata=manifest({**meta, "annotations": dict(balancer)} if balancer else meta),
            spec=manifest(
                {
                    "type": "LoadBalancer" if request.public else "ClusterIP",
                    "selector": selector(request.name),
                    # A relay range (public=False) is addressed by pod IP from the streamer:
                    # on no Service, so never behind the internet-facing balancer.
                    "ports": [_service_port(p) for p in request.ports if p.public],
                    **({"externalTrafficPolicy": "Local"} if request.public else {}),
                    **(
                        {"loadBalancerClass": self.settings.load_balancer_class}
                        if request.public and self.settings.load_balancer_class
                        else {}
                    ),
                }
            ),
            opts=opts,
        )
        return service.status.apply(load_balancer_address) if request.public else None

    # -- routes ------------------------------------------------------------
    def route(self, request: RouteRequest, parent: pulumi.Resource) -> PublicEndpoint:
        route = request.resolve()
        self.routes.append(route)
        gateway.route_resource(route, self.context, self.settings, self.cluster, parent)
        self.traffic.allow_from_gateway(request.service.name, route.port)
        return PublicEndpoint(request.name, pulumi.Output.from_input(gateway.url(route, self.context)))

    # -- postgres ----------------------------------------------------------
    def postgres(self, request: PostgresRequest[PoolHandle], parent: pulumi.Resource) -> DatabaseEndpoint:
        password = self.secret(f"{request.name}-password", 32, parent)
        return postgres.build(request, password, self.context, self.settings, self.cluster, self.traffic, parent)

    # -- secrets, traffic --------------------------------------------------
    def secret(self, name: str, length: int, parent: pulumi.Resource) -> pulumi.Output[str]:
        return random_secret(name, length, parent)

    def workload_ranges(self, pool: Pool[PoolHandle]) -> pulumi.Output[Sequence[str]]:
        """Pods take their addresses from the cluster's pod CIDRs (a setting: clusters differ)."""
        del pool
        return pulumi.Output.from_input(list(self.settings.pod_cidrs))

    def finish(self) -> None:
        """The Gateway (every route's hostnames known now) and the NetworkPolicies (every edge known)."""
        cluster = self.cluster
        if self.time_sliced:
            gpu.time_slicing_config(self.time_sliced, self.context.stack, self.settings, cluster)
        if self.routes:
            gateway.gateway(self.routes, self.context, self.settings, cluster)
            self.traffic.acme_solvers = gateway.acme_http01(self.context, self.settings)
        network.policies(self.traffic, self.settings, cluster)


def _app_protocol(app_protocol: str) -> str | None:
    """Service appProtocol values Gateway implementations use to pick HTTP/2 or WebSocket upstreams."""
    return {"grpc": "kubernetes.io/h2c", "http2": "kubernetes.io/h2c", "websocket": "kubernetes.io/ws"}.get(
        app_protocol
    )


def _service_account(meta: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
    """The workload's identity, with no API token mounted."""
    k8s.core.v1.ServiceAccount(
        f"{meta['name']}-sa", metadata=manifest(meta), automount_service_account_token=False, opts=opts
    )


def _container(request: ServiceRequest) -> Container:
    """The service's one container (secrets are files; secret env vars name them)."""
    uid, gid = _uid_gid(request.user)
    return Container(
        name=request.name,
        image=request.image,
        ports=request.ports,
        command=request.command,
        args=request.args,
        env=request.env,
        secret_env={env: env.lower() for env in request.secrets},
        cpu=request.cpu,
        memory_mib=request.memory_mib,
        limit_cpu=request.limit_cpu,
        limit_memory_mib=request.limit_memory_mib,
        gpu=request.gpu,
        health=request.health,
        uid=uid,
        gid=gid,
        read_only_root=request.read_only_root,
    )


def _secret(
    request: ServiceRequest,
    meta: dict[str, Any],
    volumes: list[dict[str, Any]],
    mounts: list[tuple[str, str]],
    opts: pulumi.ResourceOptions,
) -> None:
    """The Secret of the service's secret files and env secrets, mounted as files (none when it has none)."""
    secret_files: dict[str, pulumi.Input[str]] = dict(request.secret_files)
    secret_files.update({env.lower(): secret_value(env, value) for env, value in request.secrets.items()})
    if not secret_files:
        return
    name = f"{request.name}-secrets"
    k8s.core.v1.Secret(
        name,
        metadata=manifest({**meta, "name": name}),
        type="Opaque",
        string_data={key: pulumi.Output.secret(value) for key, value in secret_files.items()},
        opts=opts,
    )
    volume, mount = secret_volume(name, list(secret_files))
    volumes.append(volume)
    mounts.append(mount)


def _workload_kind(request: ServiceRequest) -> str:
    """State that one replica owns needs a StatefulSet; shared (ReadWriteMany) volumes let a Deployment scale."""
    return "StatefulSet" if any(not v.shared for v in request.volumes) else "Deployment"


def _workload(
    request: ServiceRequest, meta: dict[str, Any], template: dict[str, Any], opts: pulumi.ResourceOptions
) -> pulumi.Resource:
    """The Deployment, or the StatefulSet when a volume holds state."""
    name = request.name
    replicas = request.autoscale.min if request.autoscale else request.replicas
    if _workload_kind(request) == "StatefulSet":
        # State lives here: a StatefulSet keeps identity; its claims are explicit (protectable) PVCs.
        return k8s.apps.v1.StatefulSet(
            name,
            metadata=manifest(meta),
            spec=manifest(
                {
                    "replicas": min(replicas, 1),
                    "serviceName": name,
                    "selector": {"matchLabels": selector(name)},
                    "template": template,
                    "podManagementPolicy": "OrderedReady",
                }
            ),
            opts=opts,
        )
    return k8s.apps.v1.Deployment(
        name,
        metadata=manifest(meta),
        spec=manifest(
            {
                "replicas": replicas,
                "selector": {"matchLabels": selector(name)},
                "template": template,
                "strategy": {
                    "type": "RollingUpdate",
                    # GPU capacity rarely has room for a surge pod: replace in place.
                    "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}
                    if request.gpu
                    else {"maxSurge": 1, "maxUnavailable": 0},
                },
                "revisionHistoryLimit": 5,
            }
        ),
        opts=opts,
    )


def _service_port(port: PortRequest) -> dict[str, Any]:
    app_protocol = _app_protocol(port.app_protocol)
    return {
        "name": port.name,
        "port": port.container_port,
        "targetPort": port.container_port,
        "protocol": port.protocol.upper(),
        **({"appProtocol": app_protocol} if app_protocol else {}),
    }


def _disruption_budget(meta: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
    """At most one replica down at a time (replicated services only)."""
    k8s.policy.v1.PodDisruptionBudget(
        f"{meta['name']}-pdb",
        metadata=manifest(meta),
        spec=manifest({"maxUnavailable": 1, "selector": {"matchLabels": selector(meta["name"])}}),
        opts=opts,
    )


def _autoscaler(autoscale: AutoscaleRequest, meta: dict[str, Any], kind: str, opts: pulumi.ResourceOptions) -> None:
    """A CPU-utilisation HorizontalPodAutoscaler on the workload."""
    name = meta["name"]
    k8s.autoscaling.v2.HorizontalPodAutoscaler(
        f"{name}-hpa",
        metadata=manifest(meta),
        spec=manifest(
            {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name},
                "minReplicas": max(autoscale.min, 1),
                "maxReplicas": autoscale.max,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": autoscale.cpu_percent},
                        },
                    }
                ],
            }
        ),
        opts=opts,
    )


def _public_ports(request: ServiceRequest) -> tuple[Peer, ...]:
    if not request.public:
        return ()
    by_protocol: dict[str, list[int]] = {}
    for port in (p for p in request.ports if p.public):
        by_protocol.setdefault(port.protocol, []).append(port.container_port)
    return tuple(Peer(request.name, tuple(sorted(set(p))), proto) for proto, p in by_protocol.items())  # type: ignore[arg-type]


TARGET = KubernetesTarget


def load_balancer_address(status: Any) -> str:
    """The address a LoadBalancer Service got (hostname on AWS-style balancers, else its IP).

    pulumi-kubernetes waits for ``status.loadBalancer.ingress`` before a LoadBalancer
    Service counts as created, so it is there at apply time.
    """
    ingress = (getattr(getattr(status, "load_balancer", None), "ingress", None) or [None])[0]
    address = getattr(ingress, "hostname", None) or getattr(ingress, "ip", None)
    if not address:
        raise ValueError("the LoadBalancer Service has no ingress address yet (status.loadBalancer.ingress is empty)")
    return f"[{address}]" if ":" in str(address) else str(address)  # an IPv6 literal in a turn: URI
