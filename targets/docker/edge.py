"""The Docker target's public entry: one nginx container serving every route.

nginx is the only container that binds a public address in staging and prod;
everything else stays on the stack network. Its config is generated from the
collected routes (``nginx.py``) and delivered as a file (``containers.py``), so the config
is part of the program: reviewed, diffed and checked with ``nginx -t`` in CI.
TLS follows the profile: off (dev), a self-signed certificate made with
pulumi-tls (staging), or the CA-issued certificate from stack config (prod).

Upstream names are looked up per request in Docker's embedded DNS (``resolve=True``),
so a container replaced by ``pulumi up`` is reached at its new address within
``valid=10s``. Services given ``hosts`` entries (peers on other engines, when the
stack spans engines) keep static upstream blocks: Docker's DNS does not serve a
container's /etc/hosts, and those entries point at stable host addresses anyway.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pulumi

from components.protocol import HealthRequest, PortRequest, ResolvedRoute, TargetContext
from targets.docker import images
from targets.docker.containers import CONFIG_DIR, ContainerSpec, Engine, container
from targets.docker.nginx import EdgeConfig, GrpcListener, Location, Upstream, render_nginx_conf
from targets.docker.settings import DockerSettings

# Delivered under CONFIG_DIR (a read-only volume), so nginx is told where its config is.
CONFIG_FILE = "nginx.conf"
CONFIG_PATH = f"{CONFIG_DIR}/{CONFIG_FILE}"
CERT_FILE = "tls.crt"
CERT_PATH = f"{CONFIG_DIR}/{CERT_FILE}"
KEY_FILE = "edge_tls_key"  # under SECRETS_DIR
HTTP_PORT = 8080
HTTPS_PORT = 8443
# Docker's embedded DNS server, present in every container on a user-defined network.
DOCKER_DNS = "127.0.0.11"


def _upstream_name(route: ResolvedRoute) -> str:
    return re.sub(r"[^a-z0-9_]", "_", route.name.lower())


def edge_config(
    routes: Sequence[ResolvedRoute],
    context: TargetContext[DockerSettings],
    key_path: str,
    static_hosts: frozenset[str] = frozenset(),
) -> EdgeConfig:
    """The nginx model for a set of routes under a profile (pure: used by tests and render).

    ``static_hosts`` are the services the edge reaches through ``/etc/hosts`` entries
    (peers on other engines): their upstreams are resolved once at start; every other
    one is re-resolved in Docker's DNS.
    """
    profile = context.profile
    upstreams: list[Upstream] = []
    locations: list[Location] = []
    listeners: list[GrpcListener] = []
    for route in routes:
        name = _upstream_name(route)
        upstreams.append(
            Upstream(
                name=name,
                servers=(f"{route.service}:{route.port}",),
                sticky=route.sticky,
                grpc=route.kind == "grpc",
                resolve=route.service not in static_hosts,
            )
        )
        if route.kind == "grpc":
            listeners.append(GrpcListener(port=route.port, upstream=name))
        else:
            locations.append(
                Location(path=route.path, kind=route.kind, upstream=name, idle_timeout_s=route.idle_timeout_s)
            )
    cors = context.cors_origins or tuple(profile.cors_origins)
    return EdgeConfig(
        upstreams=tuple(upstreams),
        locations=tuple(locations),
        grpc_listeners=tuple(listeners),
        http_port=HTTP_PORT,
        https_port=HTTPS_PORT,
        redirect_https_port=context.settings.https_port,
        tls=profile.tls != "off",
        cert_path=CERT_PATH,
        key_path=key_path,
        rate_limit_rps=profile.rate_limit_rps,
        rate_limit_burst=profile.rate_limit_burst,
        cors_origins=tuple(cors),
        security_headers=profile.security_headers,
        resolver=DOCKER_DNS if any(upstream.resolve for upstream in upstreams) else None,
    )


class Edge(pulumi.ComponentResource):
    """nginx in front of the stack's routes (type ``gpu-platform:docker:Edge``)."""

    def __init__(
        self,
        name: str,
        routes: Sequence[ResolvedRoute],
        engine: Engine,
        context: TargetContext[DockerSettings],
        labels: dict[str, str],
        depends_on: Sequence[pulumi.Resource],
        hosts: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__("gpu-platform:docker:Edge", name, None, pulumi.ResourceOptions())
        settings = context.settings
        config = edge_config(
            routes,
            context,
            key_path=f"/run/secrets/{KEY_FILE}",
            static_hosts=frozenset(name for name, _ in hosts),
        )
        files: dict[str, pulumi.Input[str]] = {CONFIG_FILE: render_nginx_conf(config)}
        secret_files: dict[str, pulumi.Input[str]] = {}
        if config.tls:
            certificate, key = self._certificate(name, context)
            files[CERT_FILE] = certificate
            secret_files[KEY_FILE] = key
        ports = [PortRequest("http", HTTP_PORT, host_port=settings.http_port)]
        if config.tls:
            ports.append(PortRequest("https", HTTPS_PORT, host_port=settings.https_port))
        ports += [
            PortRequest(f"grpc-{g.port}", g.port, app_protocol="grpc", host_port=g.port) for g in config.grpc_listeners
        ]
        _, self.container = container(
            ContainerSpec(
                resource_name=f"{name}-nginx",
                container_name=f"{context.stack}-{name}",
                alias=name,
                image=images.NGINX,
                engine=engine,
                labels=labels,
                ports=ports,
                bind_address=context.profile.publish_address,
                # The image's entrypoint still runs (first argument nginx); only the config path differs.
                command=("nginx", "-c", CONFIG_PATH, "-g", "daemon off;"),
                files=files,
                secret_files=secret_files,
                cpu=0.25,
                memory_mib=128,
                limit_cpu=1.0,
                limit_memory_mib=256,
                health=HealthRequest(kind="http", port=HTTP_PORT, path="/healthz", start_period_s=5),
                user=images.NGINX_USER,
                tmpfs_paths=("/tmp",),
                hosts=hosts,
                depends_on=depends_on,
                log_max_size=settings.log_max_size,
                log_max_files=settings.log_max_files,
            ),
            self,
        )
        self.register_outputs({"config": files[CONFIG_FILE]})

    def _certificate(
        self, name: str, context: TargetContext[DockerSettings]
    ) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
        if context.profile.tls == "ca":
            assert context.tls_certificate is not None
            assert context.tls_private_key is not None
            return context.tls_certificate, pulumi.Output.secret(context.tls_private_key)
        import pulumi_tls as tls

        host = context.domain or "localhost"
        key = tls.PrivateKey(
            f"{name}-tls-key", algorithm="ECDSA", ecdsa_curve="P256", opts=pulumi.ResourceOptions(parent=self)
        )
        cert = tls.SelfSignedCert(
            f"{name}-tls-cert",
            private_key_pem=key.private_key_pem,
            subject={"common_name": host, "organization": f"gpu-platform {context.stack}"},
            dns_names=[host],
            validity_period_hours=24 * 90,
            early_renewal_hours=24 * 30,
            allowed_uses=["key_encipherment", "digital_signature", "server_auth"],
            opts=pulumi.ResourceOptions(parent=self),
        )
        return cert.cert_pem, pulumi.Output.secret(key.private_key_pem)
