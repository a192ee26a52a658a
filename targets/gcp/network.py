"""The stack's footing on GCP: a provider for the project and region, a VPC with one private subnet,
Cloud NAT for egress, and the Private Service Access range Cloud SQL takes its private IPs from.

Created on first use by :class:`targets.gcp.target.GcpTarget`; every resource goes through
:meth:`Network.opts` (the explicit provider) and carries :meth:`Network.labels` where GCP allows labels.
Subnet: Private Google Access on (Cloud Run's Direct VPC egress sends Google API and run.app traffic
through it), flow logs on. Private Service Access: run/docs and sql/docs/postgres/configure-private-services-access
(a ``VPC_PEERING`` global address and a ``servicenetworking.googleapis.com`` connection).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.protocol import TargetContext
from targets.gcp.settings import GcpSettings


class Network(pulumi.ComponentResource):
    """Provider, VPC, subnet, router + NAT, PSA range + connection (type ``gpu-platform:gcp:Network``)."""

    def __init__(self, context: TargetContext[GcpSettings], settings: GcpSettings) -> None:
        super().__init__("gpu-platform:gcp:Network", "gcp", None, None)
        self.context = context
        self.settings = settings
        self.prefix = f"gpu-platform-{context.stack}"
        self.provider = gcp.Provider(
            "gcp-provider", project=settings.project, region=settings.region, opts=pulumi.ResourceOptions(parent=self)
        )
        mine = self.opts(self)
        self.network = gcp.compute.Network(
            "vpc", name=self.prefix, auto_create_subnetworks=False, routing_mode="REGIONAL", opts=mine
        )
        self.subnet = gcp.compute.Subnetwork(
            "private",
            name=f"{self.prefix}-private",
            network=self.network.id,
            region=settings.region,
            ip_cidr_range=settings.subnet_cidr,
            private_ip_google_access=True,
            log_config={
                "aggregation_interval": "INTERVAL_5_SEC",
                "flow_sampling": 0.5,
                "metadata": "INCLUDE_ALL_METADATA",
            },
            opts=mine,
        )
        router = gcp.compute.Router(
            "router", name=f"{self.prefix}-router", network=self.network.id, region=settings.region, opts=mine
        )
        gcp.compute.RouterNat(
            "nat",
            name=f"{self.prefix}-nat",
            router=router.name,
            region=settings.region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=mine,
        )
        self._services: gcp.servicenetworking.Connection | None = None
        self.register_outputs({"network": self.network.id})

    def stateful_opts(self, parent: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
        """Options for a resource whose loss loses data: protected and retained on delete where the profile
        protects state (prod), so a routine change can never delete it (the protect-stateful policy checks)."""
        keep = bool(self.context.profile.protect_stateful)
        return self.opts(parent, protect=keep, retain_on_delete=keep, **extra)

    def labels(self, **extra: str) -> dict[str, str]:
        """The labels every labelable resource carries (keys: lowercase, digits, ``-`` and ``_`` only)."""
        return {
            "gpu-platform-stack": self.context.stack,
            "gpu-platform-environment": self.context.profile.name,
            **extra,
        }

    def opts(self, parent: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
        """Options for a resource of this stack: the explicit provider."""
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, **extra)

    @property
    def private_services(self) -> gcp.servicenetworking.Connection:
        """The Private Service Access peering (made when the first database needs it)."""
        if self._services is None:
            reserved = gcp.compute.GlobalAddress(
                "private-services",
                name=f"{self.prefix}-psa",
                purpose="VPC_PEERING",
                address_type="INTERNAL",
                prefix_length=self.settings.services_prefix_length,
                network=self.network.id,
                labels=self.labels(),
                opts=self.opts(self),
            )
            self._services = gcp.servicenetworking.Connection(
                "private-services-connection",
                network=self.network.id,
                service="servicenetworking.googleapis.com",
                reserved_peering_ranges=[reserved.name],
                opts=self.opts(self),
            )
        return self._services

    def service_account(self, workload: str, parent: pulumi.Resource) -> gcp.serviceaccount.Account:
        """A workload's own identity (never the default compute service account); ids are 6-30 characters."""
        account_id = account_id_of(workload, self.context.stack)
        return gcp.serviceaccount.Account(
            f"{workload}-sa",
            account_id=account_id,
            display_name=f"gpu-platform {self.context.stack} {workload}",
            opts=self.opts(parent),
        )


def account_id_of(workload: str, stack: str) -> str:
    """``<workload>-<6 hex of the stack>``: unique per stack in a shared project, 6-30 characters, a letter first."""
    suffix = hashlib.sha256(stack.encode()).hexdigest()[:6]
    base = workload[:23].rstrip("-")
    return f"{base if base[:1].isalpha() else 'w' + base[:22]}-{suffix}"
