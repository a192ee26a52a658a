"""Gateway API routing: one Gateway per stack, an HTTPRoute or GRPCRoute per route.

ingress-nginx is retired (March 2026), so public entry is Gateway API. The
GatewayClass is stack config (default ``eg``, Envoy Gateway). WebSocket routes
disable the route's request timeout (``0s``, which the spec defines as "no
timeout") because a WebSocket is one long request; idle timeouts are
implementation policy. Session persistence (GEP-1619) is experimental: it is
emitted only when the stack says its implementation supports it (Envoy
Gateway does for HTTPRoute; NGINX Gateway Fabric only with NGINX Plus).
gRPC routes match by hostname (``<route>.<domain>``): tool services share no
common proto package, and hostnames keep each GRPCRoute unambiguous.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.protocol import ResolvedRoute, TargetContext
from targets.kubernetes.cluster import Cluster
from targets.kubernetes.pods import labels, manifest
from targets.kubernetes.settings import KubernetesSettings

GATEWAY = "gateway"
TLS_SECRET = "gateway-tls"
API = "gateway.networking.k8s.io/v1"


def domain(context: TargetContext[KubernetesSettings]) -> str:
    return context.domain or f"{context.stack}.gpu-platform.local"


def hostname(route: ResolvedRoute, context: TargetContext[KubernetesSettings]) -> str:
    return f"{route.name}.{domain(context)}" if route.kind == "grpc" else domain(context)


def tls(context: TargetContext[KubernetesSettings]) -> bool:
    return context.profile.tls != "off"


def acme_http01(context: TargetContext[KubernetesSettings], settings: KubernetesSettings) -> bool:
    """Whether cert-manager may solve ACME HTTP-01 challenges behind this Gateway.

    A ClusterIssuer (CA TLS) is typically ACME; its HTTP-01 solver pods then run in the stack's
    namespace. The self-signed Issuer of staging needs none.
    """
    return tls(context) and settings.cluster_issuer is not None


def url(route: ResolvedRoute, context: TargetContext[KubernetesSettings]) -> str:
    secure = tls(context)
    if route.kind == "grpc":
        return f"{'grpcs' if secure else 'grpc'}://{hostname(route, context)}:{443 if secure else 80}"
    scheme = {"websocket": "wss" if secure else "ws"}.get(route.kind, "https" if secure else "http")
    return f"{scheme}://{hostname(route, context)}{route.path}"


def _parent(context: TargetContext[KubernetesSettings]) -> list[dict[str, Any]]:
    return [{"name": GATEWAY, "sectionName": "https" if tls(context) else "http"}]


def route_resource(
    route: ResolvedRoute,
    context: TargetContext[KubernetesSettings],
    settings: KubernetesSettings,
    cluster: Cluster,
    parent: pulumi.Resource,
) -> k8s.apiextensions.CustomResource:
    """The HTTPRoute or GRPCRoute for one route."""
    name = f"{route.name}-route"
    metadata = {"name": name, "namespace": cluster.namespace_name, "labels": labels(context.stack, route.name)}
    backend = [{"name": route.service, "port": route.port}]
    if route.kind == "grpc":
        spec: dict[str, Any] = {
            "parentRefs": _parent(context),
            "hostnames": [hostname(route, context)],
            "rules": [{"backendRefs": backend}],
        }
        kind = "GRPCRoute"
    else:
        rule: dict[str, Any] = {
            "matches": [{"path": {"type": "PathPrefix", "value": route.path}}],
            "backendRefs": backend,
        }
        if route.kind == "websocket":
            rule["timeouts"] = {"request": "0s"}
            if route.sticky and settings.session_persistence:
                rule["sessionPersistence"] = {"sessionName": f"{route.name}-affinity", "type": "Cookie"}
        spec = {"parentRefs": _parent(context), "hostnames": [hostname(route, context)], "rules": [rule]}
        kind = "HTTPRoute"
    return k8s.apiextensions.CustomResource(
        name, api_version=API, kind=kind, metadata=metadata, spec=spec, opts=cluster.opts(parent)
    )


def gateway(
    routes: Sequence[ResolvedRoute],
    context: TargetContext[KubernetesSettings],
    settings: KubernetesSettings,
    cluster: Cluster,
) -> None:
    """The Gateway with HTTP (and HTTPS with a cert-manager certificate when the profile wants TLS)."""
    ns = cluster.namespace_name
    opts = cluster.opts(cluster)
    meta = {"name": GATEWAY, "namespace": ns, "labels": labels(context.stack, GATEWAY)}
    same_namespace = {"namespaces": {"from": "Same"}}
    listeners: list[dict[str, Any]] = [
        {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": same_namespace}
    ]
    if tls(context):
        hosts = sorted({hostname(r, context) for r in routes})
        issuer = _issuer(context, settings, cluster)
        k8s.apiextensions.CustomResource(
            "gateway-certificate",
            api_version="cert-manager.io/v1",
            kind="Certificate",
            metadata=manifest({**meta, "name": TLS_SECRET}),
            spec=manifest(
                {
                    "secretName": TLS_SECRET,
                    "dnsNames": hosts,
                    "issuerRef": issuer,
                    "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                    "duration": "2160h",
                    "renewBefore": "720h",
                }
            ),
            opts=opts,
        )
        listeners.append(
            {
                "name": "https",
                "port": 443,
                "protocol": "HTTPS",
                "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": TLS_SECRET}]},
                "allowedRoutes": same_namespace,
            }
        )
        k8s.apiextensions.CustomResource(
            "https-redirect-route",
            api_version=API,
            kind="HTTPRoute",
            metadata=manifest({**meta, "name": "https-redirect"}),
            spec=manifest(
                {
                    "parentRefs": [{"name": GATEWAY, "sectionName": "http"}],
                    "rules": [
                        {
                            "filters": [
                                {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
                            ]
                        }
                    ],
                }
            ),
            opts=opts,
        )
    k8s.apiextensions.CustomResource(
        "gateway",
        api_version=API,
        kind="Gateway",
        metadata=manifest(meta),
        spec=manifest({"gatewayClassName": settings.gateway_class, "listeners": listeners}),
        opts=opts,
    )


def _issuer(
    context: TargetContext[KubernetesSettings], settings: KubernetesSettings, cluster: Cluster
) -> dict[str, str]:
    """Prod: the cluster's CA issuer from settings; staging: a self-signed Issuer made here."""
    if settings.cluster_issuer:
        return {"name": settings.cluster_issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"}
    k8s.apiextensions.CustomResource(
        "self-signed-issuer",
        api_version="cert-manager.io/v1",
        kind="Issuer",
        metadata={
            "name": "self-signed",
            "namespace": cluster.namespace_name,
            "labels": labels(context.stack, "self-signed"),
        },
        spec=manifest({"selfSigned": {}}),
        opts=cluster.opts(cluster),
    )
    return {"name": "self-signed", "kind": "Issuer", "group": "cert-manager.io"}
