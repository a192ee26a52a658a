"""Security groups that allow only the flows the wiring needs.

Every workload, load balancer and database gets its own group; rules name the
other group (never a CIDR) except where the world must come in: the ALB on
80/443 and the TURN listener on 3478, whose groups carry a
``gpu-platform:role`` tag that the policy pack checks for. Egress from
workloads is HTTPS (AWS APIs and registries through NAT) plus their peers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from targets.aws.foundation import Foundation

ROLE_TAG = "gpu-platform:role"


@dataclass
class Firewall:
    """Creates groups and the rules between them."""

    foundation: Foundation
    groups: dict[str, aws.ec2.SecurityGroup] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)

    def group(self, name: str, parent: pulumi.Resource, role: str | None = None) -> aws.ec2.SecurityGroup:
        tags = {"Name": f"{self.foundation.prefix}-{name}"}
        if role:
            tags[ROLE_TAG] = role
            self.roles[name] = role
        created = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=self.foundation.vpc.id,
            description=f"gpu-platform {self.foundation.stack} {name}",
            tags=tags,
            opts=self.foundation.opts(parent),
        )
        self.groups[name] = created
        return created

    def allow(
        self,
        source: str,
        target: str,
        from_port: int,
        to_port: int | None = None,
        protocol: str = "tcp",
        parent: pulumi.Resource | None = None,
    ) -> None:
        """``source`` may reach ``target`` on the ports (ingress on target, egress on source)."""
        to_port = to_port if to_port is not None else from_port
        suffix = f"{source}-to-{target}-{protocol}-{from_port}"
        opts = self.foundation.opts(parent or self.foundation)
        aws.vpc.SecurityGroupIngressRule(
            f"{suffix}-in",
            security_group_id=self.groups[target].id,
            referenced_security_group_id=self.groups[source].id,
            ip_protocol=protocol,
            from_port=from_port,
            to_port=to_port,
            description=f"{source} to {target}",
            opts=opts,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{suffix}-out",
            security_group_id=self.groups[source].id,
            referenced_security_group_id=self.groups[target].id,
            ip_protocol=protocol,
            from_port=from_port,
            to_port=to_port,
            description=f"{source} to {target}",
            opts=opts,
        )

    def from_world(self, target: str, port: int, protocol: str, parent: pulumi.Resource) -> None:
        """Public entry, only for a group created with a role (load balancer, TURN listener)."""
        aws.vpc.SecurityGroupIngressRule(
            f"world-to-{target}-{protocol}-{port}",
            security_group_id=self.groups[target].id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol=protocol,
            from_port=port,
            to_port=port,
            description=f"public {protocol.upper()} {port} to {target}",
            tags={ROLE_TAG: self.roles[target]},
            opts=self.foundation.opts(parent),
        )

    def https_out(self, source: str, parent: pulumi.Resource) -> None:
        """Workloads reach AWS APIs (ECR, Secrets Manager, logs) and registries over HTTPS through NAT."""
        aws.vpc.SecurityGroupEgressRule(
            f"{source}-https-out",
            security_group_id=self.groups[source].id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS to AWS APIs and registries",
            opts=self.foundation.opts(parent),
        )
