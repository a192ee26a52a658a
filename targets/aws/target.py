"""The AWS target: the Target protocol on ECS (Fargate and G5 capacity), ALB/NLB and RDS with pulumi-aws.

Resources are pulumi-aws resources directly (no awsx: its components are opaque
under the mock runtime). The foundation (``foundation.py``) is made on first
use; services are prepared as they come (``services.py``) and started in
:meth:`AwsTarget.finish`, after the load balancers (``edge.py``) know their
target groups; prod alarms (``alarms.py``) come last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.protocol import (
    DatabaseEndpoint,
    Pool,
    PoolRequest,
    PostgresRequest,
    PublicEndpoint,
    RouteRequest,
    ServiceEndpoint,
    ServiceRequest,
    TargetContext,
)
from targets.aws import alarms, gpu, rds
from targets.aws.edge import Edge, network_load_balancer
from targets.aws.firewall import Firewall
from targets.aws.foundation import Foundation
from targets.aws.services import PoolHandle, Services
from targets.aws.settings import AwsPoolSettings, AwsSettings
from targets.common import random_secret


@dataclass
class AwsTarget:
    """Implements :class:`components.protocol.Target` for AWS."""

    context: TargetContext[AwsSettings]
    name: str = "aws"
    _foundation: Foundation | None = None
    _firewall: Firewall | None = None
    _services: Services | None = None
    _edge: Edge | None = None
    capacity_providers: list[aws.ecs.CapacityProvider] = field(default_factory=list)
    databases: dict[str, aws.rds.Instance] = field(default_factory=dict)
    public_balancers: dict[str, list[aws.ecs.ServiceLoadBalancerArgsDict]] = field(default_factory=dict)

    @property
    def settings(self) -> AwsSettings:
        return self.context.settings

    @property
    def foundation(self) -> Foundation:
        if self._foundation is None:
            self._foundation = Foundation("aws", self.context, self.settings)
            self._firewall = Firewall(self._foundation)
            self._services = Services(self._foundation, self._firewall, self.settings)
            self._edge = Edge(self._foundation, self._firewall, self.settings, self.context)
        return self._foundation

    @property
    def firewall(self) -> Firewall:
        self.foundation  # noqa: B018 - creates the foundation on first use
        assert self._firewall is not None
        return self._firewall

    @property
    def services(self) -> Services:
        self.foundation  # noqa: B018
        assert self._services is not None
        return self._services

    @property
    def edge(self) -> Edge:
        self.foundation  # noqa: B018
        assert self._edge is not None
        return self._edge

    # -- pools -------------------------------------------------------------
    def pool(self, request: PoolRequest[AwsPoolSettings], parent: pulumi.Resource) -> Pool[PoolHandle]:
        settings = request.settings
        provider = None
        if (settings.capacity or ("ec2" if request.gpus else "fargate")) == "ec2":
            provider = gpu.capacity(request, settings, self.foundation, self.firewall, parent)
            self.capacity_providers.append(provider)
        handle = PoolHandle(settings, provider)
        return Pool(request.name, request.gpus, request.architecture, handle)

    # -- services ----------------------------------------------------------
    def service(self, request: ServiceRequest[PoolHandle], parent: pulumi.Resource) -> ServiceEndpoint:
        handle = request.pool.handle
        # targets/aws/checks.py rejected GPU work on Fargate pools before any resource.
        assert request.gpu <= 0 or handle.capacity_provider is not None, f"{request.name}: GPU work on Fargate"
        provider_name = handle.capacity_provider.name if handle.capacity_provider else None
        prepared = self.services.prepare(request, parent, provider_name)
        # Port ranges a peer names (TURN's relay range): one rule per range, to this workload only.
        for peer in request.peers:
            for low, high in peer.ranges:
                self.firewall.allow(request.name, peer.name, low, high, protocol=peer.protocol, parent=parent)
        if request.public:
            public = sorted({p.container_port for p in request.ports if p.public})
            protocols = {p.container_port: {q.protocol for q in request.ports if q.container_port == p.container_port}
                         for p in request.ports if p.public}  # fmt: skip
            ports = [
                (port, "TCP_UDP" if len(protocols[port]) > 1 else protocols[port].pop().upper()) for port in public
            ]
            self.public_balancers[request.name] = network_load_balancer(
                request.name, request.name, ports, self.edge, parent
            )
        balancer = self.edge.network_groups.get(request.name) if request.public else None
        return ServiceEndpoint(
            name=request.name,
            host=pulumi.Output.from_input(request.name),
            ports={p.name: p.container_port for p in request.ports},
            resources=(prepared.task_definition,),
            public_host=balancer[0].dns_name if balancer else None,
        )

    # -- routes ------------------------------------------------------------
    def route(self, request: RouteRequest, parent: pulumi.Resource) -> PublicEndpoint:
        prepared = self.services.prepared[request.service.name]
        health = prepared.request.health
        route = request.resolve()
        self.edge.add(route, health.path if health is not None and health.kind == "http" else "/")
        del parent
        return PublicEndpoint(request.name, pulumi.Output.from_input(self.edge.url(route)))

    # -- postgres ----------------------------------------------------------
    def postgres(self, request: PostgresRequest[PoolHandle], parent: pulumi.Resource) -> DatabaseEndpoint:
        endpoint = rds.build(request, self.foundation, self.firewall, self.settings, parent)
        primary = endpoint.resources[0]
        assert isinstance(primary, aws.rds.Instance)
        self.databases[request.name] = primary
        return endpoint

    def secret(self, name: str, length: int, parent: pulumi.Resource) -> pulumi.Output[str]:
        return random_secret(name, length, parent)

    def workload_ranges(self, pool: Pool[PoolHandle]) -> pulumi.Output[Sequence[str]]:
        """Tasks on every pool take their addresses (awsvpc ENIs) from the VPC's subnets."""
        del pool
        return pulumi.Output.from_input([self.settings.vpc_cidr])

    # -- finish ------------------------------------------------------------
    def finish(self) -> None:
        """Capacity providers on the cluster, load balancers, then every ECS service, then alarms."""
        if self._foundation is None:
            return
        f = self.foundation
        capacity = aws.ecs.ClusterCapacityProviders(
            "cluster-capacity",
            cluster_name=f.cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT", *[p.name for p in self.capacity_providers]],
            default_capacity_provider_strategies=[{"capacity_provider": "FARGATE", "weight": 1, "base": 0}],
            opts=f.opts(f),
        )
        groups = self.edge.build()
        for route in self.edge.routes:
            prepared = self.services.prepared[route.service]
            prepared.load_balancers.append(
                {
                    "target_group_arn": groups[route.name].arn,
                    "container_name": route.service,
                    "container_port": route.port,
                }
            )
        for name, entries in self.public_balancers.items():
            self.services.prepared[name].load_balancers.extend(entries)
        for prepared in self.services.prepared.values():
            self.services.start(prepared, after=[capacity])
        if self.context.profile.monitoring == "alerting" and self.settings.alarm_topic_arn:
            self._alarms(self.settings.alarm_topic_arn)

    def _alarms(self, topic: str) -> None:
        f = self.foundation
        edge = self.edge
        if edge.load_balancer is not None:
            suffix = edge.load_balancer.arn_suffix
            alarms.alarm("alb-5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", {"LoadBalancer": suffix},
                         10, topic, f, statistic="Sum")  # fmt: skip
            alarms.alarm("targets-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", {"LoadBalancer": suffix},
                         25, topic, f, statistic="Sum")  # fmt: skip
            for name, group in edge.target_groups.items():
                alarms.alarm(f"{name}-unhealthy", "AWS/ApplicationELB", "UnHealthyHostCount",
                             {"LoadBalancer": suffix, "TargetGroup": group.arn_suffix}, 0, topic, f,
                             statistic="Maximum")  # fmt: skip
        for name, (nlb, groups) in edge.network_groups.items():
            for port, group in groups.items():
                alarms.alarm(f"{name}-{port}-unhealthy", "AWS/NetworkELB", "UnHealthyHostCount",
                             {"LoadBalancer": nlb.arn_suffix, "TargetGroup": group.arn_suffix}, 0, topic, f,
                             statistic="Maximum")  # fmt: skip
        for name, prepared in self.services.prepared.items():
            assert prepared.service is not None
            dimensions = {"ClusterName": f.cluster.name, "ServiceName": prepared.service.name}
            alarms.alarm(f"{name}-cpu", "AWS/ECS", "CPUUtilization", dimensions, 85, topic, f)
            alarms.alarm(f"{name}-memory", "AWS/ECS", "MemoryUtilization", dimensions, 85, topic, f)
        for label, database in self.databases.items():
            dimensions = {"DBInstanceIdentifier": database.identifier}
            alarms.alarm(f"{label}-cpu", "AWS/RDS", "CPUUtilization", dimensions, 80, topic, f)
            alarms.alarm(f"{label}-storage", "AWS/RDS", "FreeStorageSpace", dimensions, 5 * 1024**3, topic, f,
                         comparison="LessThanThreshold")  # fmt: skip


TARGET = AwsTarget
