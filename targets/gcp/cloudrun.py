"""Cloud Run v2 services: one per workload that fits (``targets/gcp/fit.py``), made in ``finish`` once the
routes are known, since a route decides the service's request timeout, session affinity and invoker.

- ingress ``INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER`` when routed (the ALB and the VPC), else
  ``INGRESS_TRAFFIC_INTERNAL_ONLY``; the run.app URL is never reachable from the internet;
- its own service account; ``roles/run.invoker`` for ``allUsers`` only on routed services (a serverless NEG
  behind an ALB without IAP forwards unauthenticated requests, and ingress keeps everything else out), and
  for each workload that uses it by its service account (run/docs/securing/ingress,
  run/docs/authenticating/service-to-service);
- Direct VPC egress of all traffic through the private subnet (Cloud SQL's private IP, the VMs, other
  services' internal ingress) and Cloud NAT for the internet;
- the request timeout is the route's idle timeout (at most 3600 s, checked), sticky routes get session
  affinity, gRPC and HTTP/2 ports are named ``h2c`` (end-to-end HTTP/2), WebSockets stay HTTP/1;
- a GPU takes ``nvidia-l4`` with CPU always allocated (run/docs/configuring/services/gpu).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi_gcp as gcp

from components.protocol import HealthRequest, ResolvedRoute, ServiceRequest
from targets.gcp import fit
from targets.gcp.network import Network
from targets.gcp.settings import GcpPoolSettings

DEFAULT_TIMEOUT_S = 300


@dataclass
class Prepared:
    """A Cloud Run workload between ``service`` (known) and ``finish`` (created)."""

    request: ServiceRequest[GcpPoolSettings]
    account: gcp.serviceaccount.Account
    secrets: dict[str, pulumi.Output[str]]
    parent: pulumi.Resource
    buckets: dict[str, gcp.storage.Bucket] = field(default_factory=dict)
    routes: list[ResolvedRoute] = field(default_factory=list)
    service: gcp.cloudrunv2.Service | None = None


def deterministic_host(name: str, project_number: pulumi.Input[str], region: str) -> pulumi.Output[str]:
    """``<service>-<project number>.<region>.run.app``: the URL Cloud Run gives every service, known before it
    exists (run/docs/triggering/https-request, deterministic URL), so peers are wired before ``finish``."""
    return pulumi.Output.from_input(project_number).apply(lambda n: f"{name}-{n}.{region}.run.app")


def shared_volumes(
    request: ServiceRequest[GcpPoolSettings], network: Network, parent: pulumi.Resource
) -> dict[str, gcp.storage.Bucket]:
    """A private bucket per shared volume, mounted with Cloud Storage FUSE (fit.py sends single-writer ones to VMs)."""
    buckets = {}
    for volume in request.volumes:
        buckets[volume.name] = gcp.storage.Bucket(
            f"{request.name}-{volume.name}",
            location=network.settings.region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            force_destroy=False,
            labels=network.labels(),
            encryption={"default_kms_key_name": network.settings.kms_key} if network.settings.kms_key else None,
            opts=network.opts(parent, protect=volume.protect, retain_on_delete=volume.protect),
        )
    return buckets


def _probe(health: HealthRequest | None, port: int) -> dict[str, Any] | None:
    if health is None or health.kind == "command":
        return None
    timing = {
        "period_seconds": health.interval_s,
        "timeout_seconds": min(health.timeout_s, health.interval_s),
        "failure_threshold": health.retries,
    }
    if health.kind == "http":
        return {**timing, "http_get": {"path": health.path, "port": health.port or port}}
    if health.kind == "grpc":
        return {**timing, "grpc": {"port": health.port or port}}
    return {**timing, "tcp_socket": {"port": health.port or port}}


def _startup(health: HealthRequest | None, port: int) -> dict[str, Any] | None:
    """The startup probe waits out the start period; Cloud Run's liveness probes take HTTP and gRPC only."""
    probe = _probe(health, port)
    if probe is None or health is None:
        return None
    return {**probe, "initial_delay_seconds": min(health.start_period_s, 240)}


def _envs(prepared: Prepared) -> list[gcp.cloudrunv2.ServiceTemplateContainerEnvArgsDict]:
    request = prepared.request
    plain: list[gcp.cloudrunv2.ServiceTemplateContainerEnvArgsDict] = [
        {"name": k, "value": v} for k, v in request.env.items()
    ]
    secret: list[gcp.cloudrunv2.ServiceTemplateContainerEnvArgsDict] = [
        {"name": k, "value_source": {"secret_key_ref": {"secret": ref, "version": "latest"}}}
        for k, ref in prepared.secrets.items()
    ]
    return plain + secret


def _container(prepared: Prepared) -> gcp.cloudrunv2.ServiceTemplateContainerArgsDict:
    request = prepared.request
    port = request.ports[0] if request.ports else None
    size = fit.cloud_run_size(request.limit_cpu, request.limit_memory_mib, request.gpu)
    assert size is not None, f"{request.name}: targets/gcp/checks.py lets no oversize workload through"
    limits = {"cpu": str(size[0]), "memory": f"{size[1]}Mi", **({"nvidia.com/gpu": "1"} if request.gpu > 0 else {})}
    number = port.container_port if port else 8080
    container: gcp.cloudrunv2.ServiceTemplateContainerArgsDict = {
        "name": request.name,
        "image": request.image,
        "envs": _envs(prepared),
        # CPU is always allocated for a GPU (required) and for WebSockets (a connection outlives a request burst).
        "resources": {
            "limits": limits,
            "cpu_idle": request.gpu <= 0 and not _streams(request),
            "startup_cpu_boost": True,
        },
        "volume_mounts": [{"name": v.name, "mount_path": v.path} for v in request.volumes],
    }
    if port is not None:
        container["ports"] = {
            "name": "h2c" if port.app_protocol in ("grpc", "http2") else "http1",
            "container_port": number,
        }
    if request.command:
        container["commands"] = list(request.command)
    if request.args:
        container["args"] = list(request.args)
    startup = _startup(request.health, number)
    if startup is not None:
        container["startup_probe"] = cast("gcp.cloudrunv2.ServiceTemplateContainerStartupProbeArgsDict", startup)
    probe = _probe(request.health, number)
    if probe is not None and "tcp_socket" not in probe:
        container["liveness_probe"] = cast("gcp.cloudrunv2.ServiceTemplateContainerLivenessProbeArgsDict", probe)
    return container


def request_timeout(routes: list[ResolvedRoute], streams: bool) -> int:
    """Seconds a request may last. A WebSocket lives one request, so a WebSocket route's idle timeout is it (the
    checks cap it at 3600 s); other routes keep Cloud Run's 300 s default unless their idle timeout is longer;
    an unrouted WebSocket server gets the maximum."""
    if not routes:
        return fit.MAX_TIMEOUT_S if streams else DEFAULT_TIMEOUT_S
    found = [r.idle_timeout_s if r.kind == "websocket" else max(r.idle_timeout_s, DEFAULT_TIMEOUT_S) for r in routes]
    return min(max(found), fit.MAX_TIMEOUT_S)


def _streams(request: ServiceRequest[GcpPoolSettings]) -> bool:
    return any(p.app_protocol == "websocket" for p in request.ports)


def _scaling(
    request: ServiceRequest[GcpPoolSettings], minimum: int, maximum: int
) -> gcp.cloudrunv2.ServiceTemplateScalingArgsDict:
    """Instance bounds, and the blueprint's CPU target as Cloud Run's (a fraction; the checks keep it in range)."""
    scaling: gcp.cloudrunv2.ServiceTemplateScalingArgsDict = {
        "min_instance_count": minimum,
        "max_instance_count": maximum,
    }
    if request.autoscale is not None:
        scaling["cpu_utilization"] = request.autoscale.cpu_percent / 100
    return scaling


def _template(prepared: Prepared, network: Network) -> gcp.cloudrunv2.ServiceTemplateArgsDict:
    request = prepared.request
    settings = network.settings
    timeout = request_timeout(prepared.routes, _streams(request))
    minimum, maximum = (request.autoscale.min, request.autoscale.max) if request.autoscale else (request.replicas,) * 2
    template: gcp.cloudrunv2.ServiceTemplateArgsDict = {
        "service_account": prepared.account.email,
        "labels": network.labels(workload=request.name),
        "timeout": f"{timeout}s",
        "session_affinity": any(r.sticky for r in prepared.routes),
        "execution_environment": "EXECUTION_ENVIRONMENT_GEN2",
        "scaling": _scaling(request, minimum, maximum),
        "vpc_access": {
            "network_interfaces": [{"network": network.network.id, "subnetwork": network.subnet.id}],
            "egress": "ALL_TRAFFIC",
        },
        "containers": [_container(prepared)],
        "volumes": [{"name": n, "gcs": {"bucket": b.name, "read_only": False}} for n, b in prepared.buckets.items()],
    }
    if settings.kms_key:
        template["encryption_key"] = settings.kms_key
    if request.gpu > 0:
        template["node_selector"] = {"accelerator": fit.GPU_ACCELERATOR}
        template["gpu_zonal_redundancy_disabled"] = not settings.gpu_zonal_redundancy
        template["max_instance_request_concurrency"] = 4
    return template


def create(prepared: Prepared, network: Network, protect: bool) -> gcp.cloudrunv2.Service:
    """The Cloud Run service, with what its routes decided."""
    request = prepared.request
    prepared.service = gcp.cloudrunv2.Service(
        request.name,
        name=request.name,
        location=network.settings.region,
        ingress="INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" if prepared.routes else "INGRESS_TRAFFIC_INTERNAL_ONLY",
        deletion_protection=protect,
        invoker_iam_disabled=False,
        launch_stage="GA",
        labels=network.labels(workload=request.name),
        template=_template(prepared, network),
        opts=network.opts(prepared.parent, depends_on=list(request.depends_on)),
    )
    return prepared.service


def invoker(prepared: Prepared, member: pulumi.Input[str], label: str, network: Network) -> None:
    """``roles/run.invoker`` on the service for ``member``."""
    assert prepared.service is not None
    gcp.cloudrunv2.ServiceIamMember(
        f"{prepared.request.name}-invoker-{label}",
        name=prepared.service.name,
        location=network.settings.region,
        role="roles/run.invoker",
        member=member,
        opts=network.opts(prepared.parent),
    )
