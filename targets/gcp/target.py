"""The GCP target: the Target protocol on Cloud Run v2, Compute Engine, Cloud SQL and a global external ALB.

The network (``network.py``) is made on first use. A workload that fits Cloud Run (``fit.py``) is prepared in
``service`` and created in ``finish`` (its routes decide its timeout, affinity, ingress and invoker), reachable
before then at its deterministic run.app host; any other runs on a VM of its own (``vm.py``), created at once.
Databases are Cloud SQL (``sql.py``); routes meet at one load balancer (``edge.py``) built in ``finish``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.protocol import (
    DatabaseEndpoint,
    Pool,
    PoolRequest,
    PostgresRequest,
    PublicEndpoint,
    ResolvedRoute,
    RouteRequest,
    ServiceEndpoint,
    ServiceRequest,
    TargetContext,
)
from stacks.errors import ConfigError, Problem
from targets.common import random_secret
from targets.gcp import cloudrun, edge, fit, nlb, secrets, sql
from targets.gcp import vm as vms
from targets.gcp.network import Network
from targets.gcp.settings import GcpPoolSettings, GcpSettings

HTTPS_PORT = 443


@dataclass
class GcpTarget:
    """Implements :class:`components.protocol.Target` for GCP."""

    context: TargetContext[GcpSettings]
    name: str = "gcp"
    _network: Network | None = None
    _project_number: pulumi.Output[str] | None = None
    _address: gcp.compute.GlobalAddress | None = None
    prepared: dict[str, cloudrun.Prepared] = field(default_factory=dict)
    machines: dict[str, vms.Machine] = field(default_factory=dict)
    routes: list[ResolvedRoute] = field(default_factory=list)

    def __post_init__(self) -> None:
        """A Google-managed certificate is issued for a domain: TLS without one stops here, before any resource
        (the loader's requirements hook never sees the domain)."""
        if self.context.profile.tls != "off" and not self.context.domain:
            problem = Problem(
                "gpu-platform:domain",
                None,
                "the profile serves TLS, which the gcp target gets from a Google-managed certificate for the "
                "stack's domain: set it (e.g. app.example.com)",
            )
            raise pulumi.RunError(ConfigError(f"Pulumi.{self.context.stack}.yaml", [problem]).message)

    @property
    def settings(self) -> GcpSettings:
        return self.context.settings

    @property
    def network(self) -> Network:
        if self._network is None:
            self._network = Network(self.context, self.settings)
        return self._network

    @property
    def project_number(self) -> pulumi.Output[str]:
        if self._project_number is None:
            found = gcp.organizations.get_project_output(
                project_id=self.settings.project, opts=pulumi.InvokeOutputOptions(provider=self.network.provider)
            )
            self._project_number = found.number
        return self._project_number

    # -- pools -------------------------------------------------------------
    def pool(self, request: PoolRequest[GcpPoolSettings], parent: pulumi.Resource) -> Pool[GcpPoolSettings]:
        """A pool is sizing facts here: Cloud Run and the VMs take their capacity per workload.

        So the pool's handle is its settings (a VM's machine type and boot disk), handed back with every
        request placed on it.
        """
        del parent
        return Pool(request.name, request.gpus, request.architecture, request.settings)

    # -- services ----------------------------------------------------------
    def service(self, request: ServiceRequest[GcpPoolSettings], parent: pulumi.Resource) -> ServiceEndpoint:
        network = self.network
        account = network.service_account(request.name, parent)
        secret_ids = secrets.grant(request.name, request.secrets, account, network, parent)
        shape = fit.Shape(
            ports=tuple((p.protocol, p.app_protocol) for p in request.ports),
            health=request.health.kind if request.health is not None else None,
            single_writer_volumes=tuple(v.name for v in request.volumes if not v.shared),
            gpu=request.gpu,
            udp_peer=any(p.protocol == "udp" for p in request.peers),
            listed=request.name in self.settings.vm_workloads,
        )
        if fit.vm_reasons(shape):
            return self._machine(request, account, secret_ids, parent)
        if request.secret_files:  # only the TURN relay has them, and it runs on a VM
            raise ValueError(f"{request.name}: secret files are not built for Cloud Run on the gcp target")
        prepared = cloudrun.Prepared(request, account, secret_ids, parent)
        prepared.buckets = cloudrun.shared_volumes(request, network, parent)
        for bucket in prepared.buckets.values():
            gcp.storage.BucketIAMMember(
                f"{bucket._name}-user",
                bucket=bucket.name,
                role="roles/storage.objectUser",
                member=account.member,
                opts=network.opts(parent),
            )
        self.prepared[request.name] = prepared
        return ServiceEndpoint(
            name=request.name,
            host=cloudrun.deterministic_host(request.name, self.project_number, self.settings.region),
            ports={p.name: HTTPS_PORT for p in request.ports},
            resources=(account,),
        )

    def _machine(
        self,
        request: ServiceRequest[GcpPoolSettings],
        account: gcp.serviceaccount.Account,
        secret_ids: dict[str, pulumi.Output[str]],
        parent: pulumi.Resource,
    ) -> ServiceEndpoint:
        """A VM workload; a public one (TURN) behind a passthrough Network Load Balancer."""
        files = secrets.grant(request.name, request.secret_files, account, self.network, parent)
        machine = vms.build(request, account, secret_ids, files, self.network, parent)
        self.machines[request.name] = machine
        address = nlb.passthrough(machine, self.network, parent) if request.public else None
        return ServiceEndpoint(
            name=request.name,
            host=machine.instance.network_interfaces[0].network_ip,
            ports={p.name: p.container_port for p in request.ports},
            resources=(machine.instance,),
            public_host=address.address if address is not None else None,
        )

    # -- routes ------------------------------------------------------------
    def route(self, request: RouteRequest, parent: pulumi.Resource) -> PublicEndpoint:
        del parent
        route = request.resolve()
        if route.service in self.prepared:  # Cloud Run: the container's port, not the endpoint's 443
            ports = self.prepared[route.service].request.ports
            number = next(p.container_port for p in ports if p.name == request.port)
            route = ResolvedRoute(name=route.name, service=route.service, port=number, **route.shape())
            self.prepared[route.service].routes.append(route)
        self.routes.append(route)
        if self._address is None:
            self._address = edge.address(self.network)
        tls = self.context.profile.tls != "off"
        return PublicEndpoint(request.name, edge.url(route, self.context.domain, tls, self._address.address))

    # -- postgres ----------------------------------------------------------
    def postgres(self, request: PostgresRequest[GcpPoolSettings], parent: pulumi.Resource) -> DatabaseEndpoint:
        return sql.build(request, self.network, parent)

    def secret(self, name: str, length: int, parent: pulumi.Resource) -> pulumi.Output[str]:
        return random_secret(name, length, parent)

    def workload_ranges(self, pool: Pool[GcpPoolSettings]) -> pulumi.Output[Sequence[str]]:
        """Cloud Run (Direct VPC egress) and the VMs take their addresses from the private subnet."""
        del pool
        return pulumi.Output.from_input([self.settings.subnet_cidr])

    # -- finish ------------------------------------------------------------
    def finish(self) -> None:
        """Cloud Run services (their routes known), their invokers, then the load balancer."""
        if self._network is None:
            return
        network = self.network
        protect = bool(self.context.profile.protect_stateful)
        for prepared in self.prepared.values():
            cloudrun.create(prepared, network, protect)
            if prepared.routes:
                cloudrun.invoker(prepared, "allUsers", "load-balancer", network)
        self._peer_invokers()
        if self.routes:
            self._edge()

    def _peer_invokers(self) -> None:
        """Each workload that uses a Cloud Run service may invoke it, by its own service account."""
        accounts = {
            **{n: p.account for n, p in self.prepared.items()},
            **{n: m.account for n, m in self.machines.items()},
        }
        requests = [*[p.request for p in self.prepared.values()], *[m.request for m in self.machines.values()]]
        for request in requests:
            for peer in request.peers:
                if peer.name in self.prepared:
                    cloudrun.invoker(
                        self.prepared[peer.name], accounts[request.name].member, request.name, self.network
                    )

    def _edge(self) -> None:
        network = self.network
        per_minute = (
            self.context.profile.rate_limit_rps * 60
            if self.context.profile.rate_limit_rps
            else self.settings.rate_limit_per_minute
        )
        policy = edge.armor(network, per_minute)
        backends = []
        for route in self.routes:
            if route.service in self.prepared:
                backends.append(edge.Backend(route, cloud_run=self.prepared[route.service].service))
            else:
                machine = self.machines[route.service]
                backends.append(edge.Backend(route, machine=machine, health=machine.request.health))
        services = {b.route.name: edge.backend_service(b, network, policy) for b in backends}
        urls = edge.url_map(backends, services, network, self.context.domain)
        domain = self.context.domain
        hosts = sorted({edge.hostname(r, domain) for r in self.routes}) if domain else []
        assert self._address is not None
        edge.front(urls, hosts, self.context.profile.tls != "off", self._address, network)


TARGET = GcpTarget
