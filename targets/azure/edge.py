"""The public edge: Azure Front Door Premium with a WAF policy, reaching the apps over Private Link.

Why Front Door Premium and not Application Gateway WAF_v2: Front Door carries WebSockets on Standard and
Premium (frontdoor/standard-premium/websocket: 5 min idle timeout, 4 h per connection) and native gRPC over
HTTP/2 to the origin (frontdoor/grpc, in public preview), has managed certificates for the stack's domain, and
Premium reaches a Container Apps environment with public network access disabled through a shared private
link (``groupId: managedEnvironments``), so no app has a public address. Application Gateway would need a
Key Vault certificate and an internal environment, and forwards gRPC only in preview as well.

- WAF policy: Microsoft_DefaultRuleSet 2.1 and the bot manager rule set, Prevention in staging/prod
  (Detection in dev), and a per-client-IP (``SocketAddr``) rate-limit custom rule of the profile's
  requests per second x 60 per one-minute window.
- TLS: the default ``*.azurefd.net`` host and, with ``gpu-platform:domain``, a custom domain with a
  Front Door managed certificate and TLS 1.2 minimum; HTTP redirects to HTTPS; HTTPS to the origin.
- HTTP and WebSocket routes share one endpoint and route by path; each public gRPC tool gets its own
  endpoint (and ``<route>.<domain>``): gRPC clients address a host, not a path prefix.
- Each origin group has one origin (the app's ingress, which balances over the replicas and drops unready
  ones by their readiness probes), so Front Door's health probes are off: Microsoft's guidance for a single
  origin (frontdoor/health-probes), and a gRPC origin could not answer an HTTP probe anyway. Origin groups
  carry session affinity where a route is sticky.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native.cdn as cdn
import pulumi_azure_native.frontdoor as frontdoor

from components.protocol import ResolvedRoute, TargetContext
from targets.azure.foundation import Foundation
from targets.azure.settings import AzureSettings

# Front Door's origin response timeout: 16-240 s; the Container Apps ingress cuts at 240 s as well.
ORIGIN_RESPONSE_TIMEOUT_S = 240
SKU = "Premium_AzureFrontDoor"


@dataclass
class Edge:
    """Profile, WAF and endpoints (made with the first route); origins and routes once the apps exist."""

    foundation: Foundation
    context: TargetContext[AzureSettings]
    routes: list[ResolvedRoute] = field(default_factory=list)
    endpoints: dict[str, cdn.AFDEndpoint] = field(default_factory=dict)
    domains: dict[str, cdn.AFDCustomDomain] = field(default_factory=dict)
    _profile: cdn.Profile | None = None

    @property
    def profile(self) -> cdn.Profile:
        if self._profile is None:
            f = self.foundation
            self._profile = cdn.Profile(
                "edge",
                resource_group_name=f.group.name,
                profile_name=f"{f.prefix}-edge",
                sku={"name": SKU},
                location="global",
                origin_response_timeout_seconds=ORIGIN_RESPONSE_TIMEOUT_S,
                tags=f.tags,
                opts=f.opts(f),
            )
            f.diagnostics("edge", self._profile.id, f)
        return self._profile

    def _endpoint_key(self, route: ResolvedRoute) -> str:
        return route.name if route.kind == "grpc" else "main"

    def _endpoint(self, key: str) -> cdn.AFDEndpoint:
        """One endpoint per host: ``main`` for paths, one per gRPC tool; with a domain, its custom domain."""
        if key not in self.endpoints:
            f = self.foundation
            self.endpoints[key] = cdn.AFDEndpoint(
                f"edge-{key}",
                resource_group_name=f.group.name,
                profile_name=self.profile.name,
                endpoint_name=f"{f.prefix}-{key}"[:46],
                enabled_state="Enabled",
                location="global",
                tags=f.tags,
                opts=f.opts(self.profile),
            )
            if self.context.domain:
                host = self.context.domain if key == "main" else f"{key}.{self.context.domain}"
                self.domains[key] = cdn.AFDCustomDomain(
                    f"edge-{key}-domain",
                    resource_group_name=f.group.name,
                    profile_name=self.profile.name,
                    custom_domain_name=re.sub(r"[^a-zA-Z0-9-]", "-", host),
                    host_name=host,
                    tls_settings={
                        "certificate_type": "ManagedCertificate",
                        "minimum_tls_version": cdn.AfdMinimumTlsVersion.TLS12,
                    },
                    opts=f.opts(self.profile),
                )
        return self.endpoints[key]

    def add(self, route: ResolvedRoute) -> pulumi.Output[str]:
        """Record a route (built in :meth:`build`); returns its public URL."""
        self.routes.append(route)
        key = self._endpoint_key(route)
        endpoint = self._endpoint(key)
        if self.context.domain:
            host = pulumi.Output.from_input(self.context.domain if key == "main" else f"{key}.{self.context.domain}")
        else:
            host = endpoint.host_name
        if route.kind == "grpc":
            return host.apply(lambda h: f"grpcs://{h}:443")
        scheme = "wss" if route.kind == "websocket" else "https"
        return host.apply(lambda h: f"{scheme}://{h}{route.path}")

    def build(self, fqdns: dict[str, pulumi.Output[str]], environment_id: pulumi.Output[str]) -> None:
        """Origin group, private-link origin and route per public route, then the WAF on every host."""
        if not self.routes:
            return
        f = self.foundation
        for route in self.routes:
            key = self._endpoint_key(route)
            group = cdn.AFDOriginGroup(
                f"edge-{route.name}-origins",
                resource_group_name=f.group.name,
                profile_name=self.profile.name,
                origin_group_name=route.name,
                load_balancing_settings={
                    "sample_size": 4,
                    "successful_samples_required": 3,
                    "additional_latency_in_milliseconds": 50,
                },
                session_affinity_state="Enabled" if route.sticky else "Disabled",
                opts=f.opts(self.profile),
            )
            origin = cdn.AFDOrigin(
                f"edge-{route.name}-origin",
                resource_group_name=f.group.name,
                profile_name=self.profile.name,
                origin_group_name=group.name,
                origin_name=route.service,
                host_name=fqdns[route.service],
                origin_host_header=fqdns[route.service],
                https_port=443,
                enforce_certificate_name_check=True,
                shared_private_link_resource={
                    "private_link": {"id": environment_id},
                    "group_id": "managedEnvironments",
                    "private_link_location": f.settings.location,
                    "request_message": f"gpu-platform {f.stack}: Front Door to {route.service}",
                },
                opts=f.opts(self.profile),
            )
            domain = self.domains.get(key)
            cdn.Route(
                f"edge-{route.name}-route",
                resource_group_name=f.group.name,
                profile_name=self.profile.name,
                endpoint_name=self.endpoints[key].name,
                route_name=route.name,
                origin_group={"id": group.id},
                patterns_to_match=["/*"] if route.kind == "grpc" else patterns(route.path),
                supported_protocols=["Http", "Https"] if route.kind != "grpc" else ["Https"],
                https_redirect="Enabled",
                forwarding_protocol="HttpsOnly",
                link_to_default_domain="Enabled",
                custom_domains=[{"id": domain.id}] if domain is not None else None,
                enabled_state="Enabled",
                opts=f.opts(self.profile, depends_on=[origin]),
            )
        self._waf()

    def _waf(self) -> None:
        f = self.foundation
        profile = f.profile
        rules = []
        if profile.rate_limit_rps:
            rules.append(
                {
                    "name": "PerIpRateLimit",
                    "priority": 10,
                    "rule_type": "RateLimitRule",
                    "enabled_state": "Enabled",
                    "rate_limit_duration_in_minutes": 1,
                    "rate_limit_threshold": profile.rate_limit_rps * 60,
                    "group_by": [{"variable_name": "SocketAddr"}],
                    "match_conditions": [{"match_variable": "RequestUri", "operator": "Any", "match_value": []}],
                    "action": "Block",
                }
            )
        policy = frontdoor.Policy(
            "edge-waf",
            resource_group_name=f.group.name,
            policy_name=re.sub(r"[^a-zA-Z0-9]", "", f"gp{f.stack}waf")[:128],
            location="Global",
            sku={"name": SKU},
            policy_settings={
                "enabled_state": "Enabled",
                "mode": "Detection" if profile.name == "dev" else "Prevention",
                "request_body_check": "Enabled",
            },
            custom_rules={"rules": rules},
            managed_rules={
                "managed_rule_sets": [
                    {
                        "rule_set_type": "Microsoft_DefaultRuleSet",
                        "rule_set_version": "2.1",
                        "rule_set_action": "Block",
                    },
                    {"rule_set_type": "Microsoft_BotManagerRuleSet", "rule_set_version": "1.1"},
                ]
            },
            tags=f.tags,
            opts=f.opts(self.profile),
        )
        hosts = [e.id for e in self.endpoints.values()] + [d.id for d in self.domains.values()]
        cdn.SecurityPolicy(
            "edge-security",
            resource_group_name=f.group.name,
            profile_name=self.profile.name,
            security_policy_name="waf",
            parameters={
                "type": "WebApplicationFirewall",
                "waf_policy": {"id": policy.id},
                "associations": [{"domains": [{"id": h} for h in hosts], "patterns_to_match": ["/*"]}],
            },
            opts=f.opts(self.profile),
        )


def patterns(path: str) -> list[str]:
    """A blueprint route path as Front Door patterns, whose only wildcard is a trailing ``/*``:
    ``/api/`` -> ``/api/*``; ``/ws`` -> ``/ws`` and ``/ws/*``."""
    return [path + "*"] if path.endswith("/") else [path, f"{path}/*"]
