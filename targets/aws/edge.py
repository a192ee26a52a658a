"""Public entry on AWS: one ALB for HTTP, WebSocket and gRPC routes; an NLB for TURN over UDP.

- HTTPS listener with the ACM certificate from stack config and a TLS 1.2+
  policy; the HTTP listener only redirects to HTTPS (or, in a profile without
  TLS, forwards). gRPC needs HTTP/2, so gRPC routes require the HTTPS listener.
- WebSocket target groups: ``lb_cookie`` stickiness, deregistration delay from
  the gateway's drain time; the load balancer's idle timeout is the largest a
  gateway asks for (default 3600 s; ALB allows 1-4000).
- gRPC target groups: ``protocolVersion`` GRPC, health check
  ``/grpc.health.v1.Health/Check`` with matcher ``0``; routed by host name.
- Access logs to an S3 bucket (SSE-S3: ALB log delivery does not take KMS),
  public access blocked, TLS-only, versioned, protected and retained where the
  profile protects state; the load balancer waits for the bucket policy (ELB
  checks it when access logs are switched on: "Access Denied for bucket").
  Deletion protection in prod; invalid headers dropped.
- A WAF web ACL with a rate-based rule from the profile and AWS's common and
  known-bad-inputs rule groups, logging to ``aws-waf-logs-<prefix>`` (WAF
  accepts only destinations with that prefix) with credentials redacted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.protocol import ResolvedRoute, TargetContext
from targets.aws.firewall import Firewall
from targets.aws.foundation import Foundation
from targets.aws.settings import AwsSettings

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
GRPC_HEALTH = "/grpc.health.v1.Health/Check"
# WAF rule name -> AWS managed rule group (700 + 200 WCUs, well inside a web ACL's 1,500).
MANAGED_RULE_GROUPS = {
    "aws-common-rules": "AWSManagedRulesCommonRuleSet",
    "aws-known-bad-inputs": "AWSManagedRulesKnownBadInputsRuleSet",
}
# Credentials never reach the WAF logs.
REDACTED_HEADERS = ("authorization", "cookie")


@dataclass
class Edge:
    """Collects routes; :meth:`build` creates the load balancer once all are known."""

    foundation: Foundation
    firewall: Firewall
    settings: AwsSettings
    context: TargetContext[AwsSettings]
    routes: list[ResolvedRoute] = field(default_factory=list)
    health_paths: dict[str, str] = field(default_factory=dict)
    # NLBs for public non-HTTP workloads, with their target groups (for alarms).
    network_groups: dict[str, tuple[aws.lb.LoadBalancer, dict[int, aws.lb.TargetGroup]]] = field(default_factory=dict)
    target_groups: dict[str, aws.lb.TargetGroup] = field(default_factory=dict)
    load_balancer: aws.lb.LoadBalancer | None = None
    _logs: aws.s3.Bucket | None = None
    # What must exist before a load balancer may switch access logs on (the bucket policy).
    _logs_ready: list[pulumi.Resource] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return self.context.domain or f"{self.context.stack}.example.com"

    @property
    def tls(self) -> bool:
        return self.settings.certificate_arn is not None

    def hostname(self, route: ResolvedRoute) -> str:
        return f"{route.name}.{self.domain}" if route.kind == "grpc" else self.domain

    def url(self, route: ResolvedRoute) -> str:
        host = self.hostname(route)
        if route.kind == "grpc":
            return f"grpcs://{host}:443"
        scheme = {"websocket": "wss" if self.tls else "ws"}.get(route.kind, "https" if self.tls else "http")
        return f"{scheme}://{host}{route.path}"

    def add(self, route: ResolvedRoute, health_path: str) -> None:
        """A route, and the HTTP path its target group checks (gRPC routes use grpc.health.v1)."""
        # targets/aws/checks.py rejected public gRPC without a certificate before any resource.
        assert route.kind != "grpc" or self.tls, f"gRPC route {route.name} needs the HTTPS listener"
        self.routes.append(route)
        self.health_paths[route.name] = health_path

    def build(self) -> dict[str, aws.lb.TargetGroup]:
        """Load balancer, listeners, target groups and rules; returns target groups by route name."""
        if not self.routes:
            return {}
        f = self.foundation
        opts = f.opts(f)
        self.firewall.group("alb", f, role="load-balancer")
        for port in (80, 443):
            self.firewall.from_world("alb", port, "tcp", f)
        for route in self.routes:
            self.firewall.allow("alb", route.service, route.port, parent=f)
        logs = self.log_bucket()
        idle = max([60, *[r.idle_timeout_s for r in self.routes if r.kind == "websocket"]])
        prod = self.context.profile.name == "prod"
        alb = aws.lb.LoadBalancer(
            "alb",
            name_prefix="gp-",
            load_balancer_type="application",
            internal=False,
            security_groups=[self.firewall.groups["alb"].id],
            subnets=f.public_subnet_ids,
            idle_timeout=min(idle, 4000),
            drop_invalid_header_fields=True,
            enable_deletion_protection=prod,
            desync_mitigation_mode="strictest" if prod else "defensive",
            access_logs={"bucket": logs.id, "prefix": "alb", "enabled": True},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=self._logs_ready)),
        )
        self.load_balancer = alb
        for route in self.routes:
            self.target_groups[route.name] = self._target_group(route, opts)
        http_default: list[aws.lb.ListenerDefaultActionArgsDict]
        if self.tls:
            http_default = [
                {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}}
            ]
        else:
            http_default = [_not_found()]
        http = aws.lb.Listener(
            "alb-http", load_balancer_arn=alb.arn, port=80, protocol="HTTP", default_actions=http_default, opts=opts
        )
        listener = http
        if self.tls:
            listener = aws.lb.Listener(
                "alb-https",
                load_balancer_arn=alb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=self.settings.certificate_arn,
                default_actions=[_not_found()],
                opts=opts,
            )
        self._rules(listener, opts)
        if self.context.profile.rate_limit_rps:
            self._waf(alb, opts)
        return self.target_groups

    def _target_group(self, route: ResolvedRoute, opts: pulumi.ResourceOptions) -> aws.lb.TargetGroup:
        grpc = route.kind == "grpc"
        health: aws.lb.TargetGroupHealthCheckArgsDict = {
            "enabled": True,
            "path": GRPC_HEALTH if grpc else self.health_paths[route.name],
            "matcher": "0" if grpc else "200-399",
            "protocol": "HTTP",
            "interval": 15,
            "healthy_threshold": 2,
            "unhealthy_threshold": 3,
        }
        args: dict[str, Any] = {}
        if route.kind == "websocket":
            args["stickiness"] = {"type": "lb_cookie", "enabled": route.sticky, "cookie_duration": 86400}
        return aws.lb.TargetGroup(
            f"{route.name}-tg",
            name_prefix="gp-",
            port=route.port,
            protocol="HTTP",
            protocol_version="GRPC" if grpc else "HTTP1",
            target_type="ip",
            vpc_id=self.foundation.vpc.id,
            health_check=health,
            deregistration_delay=route.drain_s,
            opts=opts,
            **args,
        )

    def _rules(self, listener: aws.lb.Listener, opts: pulumi.ResourceOptions) -> None:
        """Host rules for gRPC first, then paths, longest first (ALB evaluates lowest priority first)."""
        ordered = sorted(self.routes, key=lambda r: (r.kind != "grpc", -len(r.path)))
        for index, route in enumerate(ordered, start=1):
            if route.kind == "grpc":
                conditions: list[Any] = [{"host_header": {"values": [self.hostname(route)]}}]
            else:
                base = route.path.rstrip("/")
                values = ["/*"] if not base else [base, f"{base}/*"]
                conditions = [{"path_pattern": {"values": values}}]
            aws.lb.ListenerRule(
                f"{route.name}-rule",
                listener_arn=listener.arn,
                priority=index * 10,
                actions=[{"type": "forward", "target_group_arn": self.target_groups[route.name].arn}],
                conditions=conditions,
                opts=opts,
            )

    def log_bucket(self) -> aws.s3.Bucket:
        """The access-log bucket every load balancer of the stack writes to (made once)."""
        if self._logs is None:
            self._logs = self._log_bucket(self.foundation.opts(self.foundation))
        return self._logs

    def _log_bucket(self, opts: pulumi.ResourceOptions) -> aws.s3.Bucket:
        f = self.foundation
        bucket = aws.s3.Bucket(
            "alb-logs",
            bucket_prefix=f"{f.prefix}-alb-logs-",
            force_destroy=False,
            opts=pulumi.ResourceOptions.merge(opts, f.stateful_options()),
        )
        aws.s3.BucketPublicAccessBlock(
            "alb-logs-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts,
        )
        aws.s3.BucketOwnershipControls(
            "alb-logs-ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=opts
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            "alb-logs-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=opts,
        )
        aws.s3.BucketVersioning("alb-logs-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"},
                                opts=opts)  # fmt: skip
        aws.s3.BucketLifecycleConfiguration(
            "alb-logs-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": self.context.profile.log_retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 7},
                }
            ],
            opts=opts,
        )
        elb_account = aws.elb.get_service_account_output(opts=pulumi.InvokeOutputOptions(provider=f.provider))
        policy = aws.s3.BucketPolicy(
            "alb-logs-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, f.account_id, elb_account.arn).apply(
                lambda values: json.dumps(_log_bucket_policy(values[0], values[1], values[2]))
            ),
            opts=opts,
        )
        self._logs_ready.append(policy)
        return bucket

    def _waf(self, alb: aws.lb.LoadBalancer, opts: pulumi.ResourceOptions) -> None:
        """Per-IP rate limit from the profile (60 s window), AWS managed rule groups, and logging."""
        rps = self.context.profile.rate_limit_rps or 0

        def visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
            return {"cloudwatch_metrics_enabled": True, "sampled_requests_enabled": True, "metric_name": metric}

        rules: list[aws.wafv2.WebAclRuleArgsDict] = [
            {
                "name": "rate-limit-per-ip",
                "priority": 1,
                "action": {"block": {}},
                "statement": {
                    "rate_based_statement": {
                        "limit": max(rps * 60, 100),
                        "aggregate_key_type": "IP",
                        "evaluation_window_sec": 60,
                    }
                },
                "visibility_config": visibility("rate-limit-per-ip"),
            },
            *[
                {
                    "name": rule,
                    "priority": priority,
                    "override_action": {"none": {}},
                    "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
                    "visibility_config": visibility(rule),
                }
                for priority, (rule, group) in enumerate(MANAGED_RULE_GROUPS.items(), start=2)
            ],
        ]
        acl = aws.wafv2.WebAcl(
            "alb-waf",
            scope="REGIONAL",
            default_action={"allow": {}},
            rules=rules,
            visibility_config=visibility(f"{self.foundation.prefix}-waf"),
            opts=opts,
        )
        aws.wafv2.WebAclAssociation("alb-waf-association", resource_arn=alb.arn, web_acl_arn=acl.arn, opts=opts)
        logs = self.foundation.log_group(
            "alb-waf", self.foundation, group_name=f"aws-waf-logs-{self.foundation.prefix}"
        )
        aws.wafv2.WebAclLoggingConfiguration(
            "alb-waf-logging",
            resource_arn=acl.arn,
            log_destination_configs=[logs.arn],
            redacted_fields=[{"single_header": {"name": header}} for header in REDACTED_HEADERS],
            opts=opts,
        )


def _not_found() -> aws.lb.ListenerDefaultActionArgsDict:
    return {
        "type": "fixed-response",
        "fixed_response": {"content_type": "text/plain", "status_code": "404", "message_body": "not found"},
    }


def _log_bucket_policy(bucket_arn: str, account: str, elb_account_arn: str) -> dict[str, Any]:
    """Log delivery may write this account's ALB logs; nothing may read or write without TLS."""
    target = f"{bucket_arn}/*/AWSLogs/{account}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RegionalElbAccount",
                "Effect": "Allow",
                "Principal": {"AWS": elb_account_arn},
                "Action": "s3:PutObject",
                "Resource": target,
            },
            {
                "Sid": "LogDeliveryService",
                "Effect": "Allow",
                "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": target,
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def network_load_balancer(
    name: str,
    service: str,
    ports: list[tuple[int, str]],
    edge: Edge,
    parent: pulumi.Resource,
) -> list[aws.ecs.ServiceLoadBalancerArgsDict]:
    """An internet-facing NLB for a public non-HTTP workload (TURN); returns the ECS load_balancers entries.

    Its security group admits the world on exactly the public ports and is
    tagged ``gpu-platform:role: turn`` for the policy pack. No access logs: an
    NLB writes them only for TLS listeners, and TURN's are UDP/TCP.
    """
    f, firewall = edge.foundation, edge.firewall
    opts = f.opts(parent)
    firewall.group(f"{name}-nlb", parent, role="turn")
    for port, protocol in ports:
        for proto in ("udp", "tcp") if protocol == "TCP_UDP" else (protocol.lower(),):
            firewall.from_world(f"{name}-nlb", port, proto, parent)
            firewall.allow(f"{name}-nlb", service, port, protocol=proto, parent=parent)
    nlb = aws.lb.LoadBalancer(
        f"{name}-nlb",
        name_prefix="gpn-",
        load_balancer_type="network",
        internal=False,
        security_groups=[firewall.groups[f"{name}-nlb"].id],
        subnets=f.public_subnet_ids,
        enable_deletion_protection=edge.context.profile.name == "prod",
        enable_cross_zone_load_balancing=True,
        opts=opts,
    )
    edge.network_groups[name] = (nlb, {})
    entries: list[aws.ecs.ServiceLoadBalancerArgsDict] = []
    for port, protocol in ports:
        group = aws.lb.TargetGroup(
            f"{name}-{port}-tg",
            name_prefix="gpn-",
            port=port,
            protocol=protocol,
            target_type="ip",
            vpc_id=f.vpc.id,
            health_check={"enabled": True, "protocol": "TCP", "port": str(port), "interval": 30},
            deregistration_delay=30,
            opts=opts,
        )
        aws.lb.Listener(
            f"{name}-{port}-listener",
            load_balancer_arn=nlb.arn,
            port=port,
            protocol=protocol,
            default_actions=[{"type": "forward", "target_group_arn": group.arn}],
            opts=opts,
        )
        entries.append({"target_group_arn": group.arn, "container_name": service, "container_port": port})
        edge.network_groups[name][1][port] = group
    return entries
