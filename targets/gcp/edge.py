"""The global external Application Load Balancer (``EXTERNAL_MANAGED``) in front of every route.

- A backend service per route: a serverless NEG for a Cloud Run workload, an instance group with a health check
  for a VM workload; every backend service carries the stack's Cloud Armor policy, whose throttle rule limits each
  client IP (the profile's rate limit, else ``rate_limit_per_minute``; load-balancing/docs/https,
  armor/docs/rate-limiting-overview);
- path routes under the stack's domain, gRPC tool routes by host name (``<tool>.<domain>``), as on AWS;
- with TLS: a Google-managed certificate for those names, an SSL policy (``MODERN``, TLS 1.2 at least) on the
  HTTPS proxy, and port 80 only redirecting to HTTPS; without TLS (dev) plain HTTP.
Session affinity and the request timeout of a Cloud Run backend are the service's own (``cloudrun.py``); a VM
backend gets the route's idle timeout and a generated cookie when sticky.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.protocol import HealthRequest, ResolvedRoute
from targets.gcp import vm as vms
from targets.gcp.network import Network

# Google Front Ends and health checkers (load-balancing/docs/health-check-concepts#ip-ranges).
GOOGLE_FRONT_ENDS = ["35.191.0.0/16", "130.211.0.0/22"]
ARMOR_DEFAULT_PRIORITY = 2147483647


@dataclass(frozen=True)
class Backend:
    """A route's target: a Cloud Run service or a VM."""

    route: ResolvedRoute
    cloud_run: gcp.cloudrunv2.Service | None = None
    machine: vms.Machine | None = None
    health: HealthRequest | None = None


def hostname(route: ResolvedRoute, domain: str | None) -> str:
    """gRPC tools are routed by name under the domain; everything else by path on the domain."""
    base = domain or "*"
    return f"{route.name}.{base}" if route.kind == "grpc" and domain else base


def url(route: ResolvedRoute, domain: str | None, tls: bool, address: pulumi.Output[str]) -> pulumi.Output[str]:
    host: pulumi.Input[str] = hostname(route, domain) if domain else address
    if route.kind == "grpc":
        return pulumi.Output.format("grpc{0}://{1}:{2}", "s" if tls else "", host, 443 if tls else 80)
    scheme = ("wss" if tls else "ws") if route.kind == "websocket" else ("https" if tls else "http")
    return pulumi.Output.format("{0}://{1}{2}", scheme, host, route.path)


def armor(network: Network, per_minute: int) -> gcp.compute.SecurityPolicy:
    """Cloud Armor: throttle each client IP to ``per_minute`` requests, answer 429 beyond it."""
    everyone: gcp.compute.SecurityPolicyRuleMatchArgsDict = {
        "versioned_expr": "SRC_IPS_V1",
        "config": {"src_ip_ranges": ["*"]},
    }
    return gcp.compute.SecurityPolicy(
        "edge-armor",
        name=f"{network.prefix}-edge",
        type="CLOUD_ARMOR",
        description="per-client-IP rate limit for the stack's load balancer",
        rules=[
            {
                "priority": 1000,
                "action": "throttle",
                "match": everyone,
                "description": "rate limit per client IP",
                "rate_limit_options": {
                    "conform_action": "allow",
                    "exceed_action": "deny(429)",
                    "enforce_on_key": "IP",
                    "rate_limit_threshold": {"count": per_minute, "interval_sec": 60},
                },
            },
            {"priority": ARMOR_DEFAULT_PRIORITY, "action": "allow", "match": everyone, "description": "default"},
        ],
        labels=network.labels(),
        opts=network.opts(network),
    )


def _health_check(backend: Backend, network: Network) -> gcp.compute.HealthCheck:
    route, health = backend.route, backend.health
    kind = health.kind if health is not None else "tcp"
    port = (health.port if health is not None and health.port else None) or route.port
    check: dict[str, Any]
    if kind == "http":
        check = {"http_health_check": {"port": port, "request_path": health.path if health else "/"}}
    elif kind == "grpc":
        check = {"grpc_health_check": {"port": port}}
    else:
        check = {"tcp_health_check": {"port": port}}
    return gcp.compute.HealthCheck(
        f"{route.name}-hc",
        name=f"{network.prefix}-{route.name}-hc"[:63],
        check_interval_sec=10,
        timeout_sec=5,
        **check,
        opts=network.opts(network),
    )


def backend_service(
    backend: Backend, network: Network, policy: gcp.compute.SecurityPolicy
) -> gcp.compute.BackendService:
    """The route's backend service, Cloud Armor attached."""
    route = backend.route
    common: dict[str, Any] = {
        "name": f"{network.prefix}-{route.name}"[:63],
        "load_balancing_scheme": "EXTERNAL_MANAGED",
        "security_policy": policy.self_link,
        "log_config": {"enable": True, "sample_rate": 1.0},
        "protocol": "HTTP2" if route.kind == "grpc" else "HTTP",
    }
    if backend.cloud_run is not None:
        neg = gcp.compute.RegionNetworkEndpointGroup(
            f"{route.name}-neg",
            name=f"{network.prefix}-{route.name}"[:63],
            region=network.settings.region,
            network_endpoint_type="SERVERLESS",
            cloud_run={"service": backend.cloud_run.name},
            opts=network.opts(network),
        )
        return gcp.compute.BackendService(
            f"{route.name}-backend", backends=[{"group": neg.id}], **common, opts=network.opts(network)
        )
    machine = backend.machine
    assert machine is not None
    group = gcp.compute.InstanceGroup(
        f"{route.name}-group",
        name=f"{network.prefix}-{route.name}"[:63],
        zone=machine.zone,
        network=network.network.id,
        instances=[machine.instance.self_link],
        named_ports=[{"name": f"p{route.port}", "port": route.port}],
        opts=network.opts(network),
    )
    vms.allow(f"{route.name}-from-lb", GOOGLE_FRONT_ENDS, {"tcp": [route.port]}, machine.account, network, network)
    return gcp.compute.BackendService(
        f"{route.name}-backend",
        backends=[{"group": group.self_link, "balancing_mode": "UTILIZATION", "capacity_scaler": 1.0}],
        port_name=f"p{route.port}",
        health_checks=_health_check(backend, network).id,
        timeout_sec=route.idle_timeout_s,
        session_affinity="GENERATED_COOKIE" if route.sticky else "NONE",
        connection_draining_timeout_sec=route.drain_s,
        **common,
        opts=network.opts(network),
    )


def _path_rules(
    services: dict[str, gcp.compute.BackendService], routes: list[ResolvedRoute]
) -> list[gcp.compute.URLMapPathMatcherPathRuleArgsDict]:
    rules: list[gcp.compute.URLMapPathMatcherPathRuleArgsDict] = []
    for route in sorted(routes, key=lambda r: -len(r.path)):
        if route.path == "/":
            continue
        stem = route.path.rstrip("/")
        rules.append({"paths": [stem, f"{stem}/*"], "service": services[route.name].id})
    return rules


def url_map(
    backends: list[Backend], services: dict[str, gcp.compute.BackendService], network: Network, domain: str | None
) -> gcp.compute.URLMap:
    """Path rules on the domain (the "/" route, else the first, is the default); gRPC tools by host."""
    paths = [b.route for b in backends if b.route.kind != "grpc" or not domain]
    tools = [b.route for b in backends if b.route.kind == "grpc" and domain]
    default = next((r for r in paths if r.path == "/"), (paths or tools)[0])
    host_rules: list[gcp.compute.URLMapHostRuleArgsDict] = (
        [{"hosts": [domain or "*"], "path_matcher": "paths"}] if paths else []
    )
    matchers: list[gcp.compute.URLMapPathMatcherArgsDict] = (
        [{"name": "paths", "default_service": services[default.name].id, "path_rules": _path_rules(services, paths)}]
        if paths
        else []
    )
    for route in tools:
        host_rules.append({"hosts": [hostname(route, domain)], "path_matcher": route.name})
        matchers.append({"name": route.name, "default_service": services[route.name].id})
    return gcp.compute.URLMap(
        "edge-urls",
        name=f"{network.prefix}-edge",
        default_service=services[default.name].id,
        host_rules=host_rules,
        path_matchers=matchers,
        opts=network.opts(network),
    )


def address(network: Network) -> gcp.compute.GlobalAddress:
    """The load balancer's public address (made with the first route: URLs without a domain need it)."""
    return gcp.compute.GlobalAddress(
        "edge-address",
        name=f"{network.prefix}-edge",
        address_type="EXTERNAL",
        ip_version="IPV4",
        labels=network.labels(),
        opts=network.opts(network),
    )


def front(
    urls: gcp.compute.URLMap, hosts: list[str], tls: bool, address: gcp.compute.GlobalAddress, network: Network
) -> None:
    """HTTPS (certificate, SSL policy) with an HTTP redirect, or plain HTTP without TLS."""
    rule = {"ip_address": address.address, "load_balancing_scheme": "EXTERNAL_MANAGED", "labels": network.labels()}
    if not tls:
        proxy = gcp.compute.TargetHttpProxy(
            "edge-http", name=f"{network.prefix}-http", url_map=urls.id, opts=network.opts(network)
        )
        gcp.compute.GlobalForwardingRule(
            "edge-80", port_range="80", target=proxy.id, **rule, opts=network.opts(network)
        )
        return
    certificate = gcp.compute.ManagedSslCertificate(
        "edge-certificate", name=f"{network.prefix}-edge", managed={"domains": hosts}, opts=network.opts(network)
    )
    policy = gcp.compute.SSLPolicy(
        "edge-tls",
        name=f"{network.prefix}-tls",
        min_tls_version="TLS_1_2",
        profile="MODERN",
        opts=network.opts(network),
    )
    https = gcp.compute.TargetHttpsProxy(
        "edge-https",
        name=f"{network.prefix}-https",
        url_map=urls.id,
        ssl_certificates=[certificate.id],
        ssl_policy=policy.id,
        opts=network.opts(network),
    )
    gcp.compute.GlobalForwardingRule("edge-443", port_range="443", target=https.id, **rule, opts=network.opts(network))
    redirect = gcp.compute.URLMap(
        "edge-redirect",
        name=f"{network.prefix}-redirect",
        default_url_redirect={
            "https_redirect": True,
            "strip_query": False,
            "redirect_response_code": "MOVED_PERMANENTLY_DEFAULT",
        },
        opts=network.opts(network),
    )
    http = gcp.compute.TargetHttpProxy(
        "edge-http", name=f"{network.prefix}-http", url_map=redirect.id, opts=network.opts(network)
    )
    gcp.compute.GlobalForwardingRule("edge-80", port_range="80", target=http.id, **rule, opts=network.opts(network))
