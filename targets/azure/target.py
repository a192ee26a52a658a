"""The Azure target: the Target protocol on Container Apps, Flexible Server, Front Door Premium and a TURN scale set.

The foundation (``foundation.py``) is made on first use. Pools name their workload profiles
(``apps.py``); services are recorded as they come and become Container Apps in :meth:`AzureTarget.finish`,
once every pool has named its profile (GPU profiles exist only from the environment's creation) and
every route is known (a routed app's ingress differs); the edge (``edge.py``) then points Front Door at
them. Workloads publishing UDP (the TURN relay) run on a scale set at once (``turn.py``): its public
address goes into the signalling server's config.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

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
from targets.azure import postgres
from targets.azure.apps import Apps, PoolProfile
from targets.azure.edge import Edge
from targets.azure.foundation import Foundation
from targets.azure.settings import SUBNET_SPLIT_BITS, AzurePoolSettings, AzureSettings
from targets.common import random_secret


@dataclass
class AzureTarget:
    """Implements :class:`components.protocol.Target` for Azure."""

    context: TargetContext[AzureSettings]
    name: str = "azure"
    _foundation: Foundation | None = None
    _apps: Apps | None = None
    _edge: Edge | None = None
    pending: dict[str, ServiceRequest[PoolProfile]] = field(default_factory=dict)
    routes: dict[str, ResolvedRoute] = field(default_factory=dict)
    parents: dict[str, pulumi.Resource] = field(default_factory=dict)
    database_ids: dict[str, pulumi.Output[str]] = field(default_factory=dict)  # primary servers, for alerts

    @property
    def settings(self) -> AzureSettings:
        return self.context.settings

    @property
    def foundation(self) -> Foundation:
        if self._foundation is None:
            self._foundation = Foundation("azure", self.context, self.settings)
            self._apps = Apps(self._foundation)
            self._edge = Edge(self._foundation, self.context)
        return self._foundation

    @property
    def apps(self) -> Apps:
        self.foundation  # noqa: B018 - creates the foundation on first use
        assert self._apps is not None
        return self._apps

    @property
    def edge(self) -> Edge:
        self.foundation  # noqa: B018
        assert self._edge is not None
        return self._edge

    # -- pools -------------------------------------------------------------
    def pool(self, request: PoolRequest[AzurePoolSettings], parent: pulumi.Resource) -> Pool[PoolProfile]:
        """A pool is a workload profile of the one environment (Consumption is shared)."""
        del parent
        profile = self.apps.add_pool(request.name, request.gpus, request.settings)
        return Pool(request.name, request.gpus, request.architecture, profile)

    # -- services ----------------------------------------------------------
    def service(self, request: ServiceRequest[PoolProfile], parent: pulumi.Resource) -> ServiceEndpoint:
        if any(p.protocol == "udp" for p in request.ports):
            # Imported here: pulumi_azure_native.compute takes ~1.9 s to load, and only Pixel Streaming needs it.
            from targets.azure import turn

            return turn.relay(request, self.foundation, parent)
        self.foundation  # noqa: B018
        self.pending[request.name] = request
        self.parents[request.name] = parent
        return ServiceEndpoint(
            name=request.name,
            host=pulumi.Output.from_input(request.name),
            ports={p.name: p.container_port for p in request.ports},
        )

    # -- routes ------------------------------------------------------------
    def route(self, request: RouteRequest, parent: pulumi.Resource) -> PublicEndpoint:
        del parent
        route = request.resolve()
        self.routes[route.service] = route
        url = self.edge.add(route)
        return PublicEndpoint(request.name, url)

    # -- postgres ----------------------------------------------------------
    def postgres(self, request: PostgresRequest[PoolProfile], parent: pulumi.Resource) -> DatabaseEndpoint:
        endpoint, primary = postgres.build(request, self.foundation, self.settings, parent)
        self.database_ids[request.name] = primary.id
        return endpoint

    def secret(self, name: str, length: int, parent: pulumi.Resource) -> pulumi.Output[str]:
        return random_secret(name, length, parent)

    def workload_ranges(self, pool: Pool[PoolProfile]) -> pulumi.Output[Sequence[str]]:
        """Apps on every pool take their addresses from the apps subnet (the first eighth of the VNet)."""
        del pool
        vnet = ipaddress.IPv4Network(self.settings.vnet_cidr)
        return pulumi.Output.from_input([str(next(vnet.subnets(prefixlen_diff=SUBNET_SPLIT_BITS)))])

    # -- finish ------------------------------------------------------------
    def finish(self) -> None:
        """Every Container App (now that profiles and routes are known), then Front Door's origins and routes."""
        if self._foundation is None or not self.pending:
            return
        for name, request in self.pending.items():
            self.apps.app(request, self.routes.get(name), self.parents[name])
        # An app's stable host is <app>.<the environment's default domain> (Container Apps ingress docs).
        domain = self.apps.environment.default_domain
        fqdns = {name: pulumi.Output.concat(name, ".", domain) for name in self.routes}
        self.edge.build(fqdns, self.apps.environment.id)
        if self.context.profile.monitoring == "alerting" and self.settings.action_group_id:
            self._alerts(self.settings.action_group_id)

    def _alerts(self, group: str) -> None:
        """Metric alerts on every app, every primary database and the edge (``alerts.py``)."""
        from targets.azure import alerts

        f = self.foundation
        for name, built in self.apps.apps.items():
            alerts.watch(name, built.id, alerts.APP_ALERTS, f, group)
        for name, server_id in self.database_ids.items():
            alerts.watch(name, server_id, alerts.DATABASE_ALERTS, f, group)
        if self.edge.routes:
            alerts.watch("edge", self.edge.profile.id, alerts.EDGE_ALERTS, f, group)


TARGET = AzureTarget
