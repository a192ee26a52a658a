"""Container Apps: the environment with one workload profile per non-Consumption pool, NFS volumes, and one
Container App per workload.

- The environment is VNet-integrated (the apps subnet), with public network access disabled: Front Door
  Premium reaches routed apps through a private link to the environment (``edge.py``), nothing else can.
  App logs go to Azure Monitor and a diagnostic setting sends them to the stack's Log Analytics workspace
  (no workspace shared key in the environment's config). Peer traffic inside the environment is encrypted.
- Sizes: Consumption replicas take vCPU in 0.25 steps with twice the GiB (``settings.replica_size``);
  GPU profiles give each replica whole GPUs (``resources.gpu``). Replicas and the CPU scale rule come from
  the blueprint (``autoscale`` -> ``minReplicas``/``maxReplicas`` + a ``cpu`` Utilization rule).
- Ingress: a routed app's main ingress is HTTP (``http2`` for gRPC) and ``external`` (reachable only through the
  environment's private link), with ``stickySessions.affinity: sticky`` where the route asks; peers reach every
  port at ``<app>:<port>`` through ``additionalPortMappings`` or a TCP ingress (``exposedPort`` = the port).
- Secrets are Key Vault references (``keyVaultUrl`` + the user-assigned identity), never values; secret files
  are a ``Secret`` volume at /run/secrets. Persistent volumes are NFS Azure Files shares (keyless, reached over
  the apps subnet's service endpoint), protected and locked in prod.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native.app as app
import pulumi_azure_native.storage as storage

from components.protocol import SECRETS_DIR, HealthRequest, ResolvedRoute, SecretRef, ServiceRequest
from targets.azure.foundation import Foundation, suffix
from targets.azure.settings import CONSUMPTION, WORKLOAD_PROFILES, AzurePoolSettings, replica_size

# Ports a TCP ingress may not expose; an unrouted app listening on one gets an internal HTTP ingress.
HTTP_PORTS = (80, 443)
# Premium file shares are provisioned from 100 GiB (learn.microsoft.com/azure/storage/files/understanding-billing).
PREMIUM_SHARE_MIN_GIB = 100


@dataclass(frozen=True)
class PoolProfile:
    """The workload profile a pool's apps run on (``name`` is the environment's profile name)."""

    name: str
    type: str
    settings: AzurePoolSettings


@dataclass
class Apps:
    """The environment (made on first use, after every pool has named its profile) and its apps."""

    foundation: Foundation
    profiles: dict[str, PoolProfile] = field(default_factory=dict)
    apps: dict[str, app.ContainerApp] = field(default_factory=dict)
    _environment: app.ManagedEnvironment | None = None
    _files: storage.StorageAccount | None = None

    def add_pool(self, pool: str, gpus: int, settings: AzurePoolSettings) -> PoolProfile:
        kind = settings.profile_type(gpus)
        name = CONSUMPTION if kind == CONSUMPTION else re.sub(r"[^a-z0-9-]", "", pool.lower())[:15]
        self.profiles[pool] = PoolProfile(name, kind, settings)
        return self.profiles[pool]

    @property
    def environment(self) -> app.ManagedEnvironment:
        if self._environment is None:
            self._environment = self._build_environment()
        return self._environment

    def _build_environment(self) -> app.ManagedEnvironment:
        f = self.foundation
        profiles: list[app.WorkloadProfileArgsDict] = [{"name": CONSUMPTION, "workload_profile_type": CONSUMPTION}]
        for profile in {p.name: p for p in self.profiles.values() if p.name != CONSUMPTION}.values():
            entry: app.WorkloadProfileArgsDict = {"name": profile.name, "workload_profile_type": profile.type}
            if not WORKLOAD_PROFILES[profile.type].per_replica:
                entry["minimum_count"] = profile.settings.min_nodes
                entry["maximum_count"] = profile.settings.max_nodes
            profiles.append(entry)
        environment = app.ManagedEnvironment(
            "apps-environment",
            resource_group_name=f.group.name,
            environment_name=f"{f.prefix}-apps",
            workload_profiles=profiles,
            vnet_configuration={"infrastructure_subnet_id": f.subnets["apps"].id, "internal": False},
            public_network_access="Disabled",
            app_logs_configuration={"destination": "azure-monitor"},
            zone_redundant=f.profile.ha == "multi-az",
            peer_traffic_configuration={"encryption": {"enabled": True}},
            tags=f.tags,
            opts=f.opts(f),
        )
        f.diagnostics("apps-environment", environment.id, f)
        return environment

    # -- volumes -----------------------------------------------------------
    @property
    def files(self) -> storage.StorageAccount:
        """The stack's Premium FileStorage account for NFS shares: no shared keys, VNet-only, TLS 1.2."""
        if self._files is None:
            f = self.foundation
            self._files = storage.StorageAccount(
                "volumes",
                resource_group_name=f.group.name,
                account_name=f"gpvol{suffix(f.unique, 'volumes', length=12)}",
                kind="FileStorage",
                sku={"name": "Premium_ZRS" if f.profile.ha == "multi-az" else "Premium_LRS"},
                # NFS shares take no HTTPS (they are reached inside the VNet only); SMB is not used.
                enable_https_traffic_only=False,
                minimum_tls_version="TLS1_2",
                allow_shared_key_access=False,
                allow_blob_public_access=False,
                network_rule_set={
                    "default_action": storage.DefaultAction.DENY,
                    "bypass": "AzureServices",
                    "virtual_network_rules": [{"virtual_network_resource_id": f.subnets["apps"].id}],
                },
                tags=f.tags,
                opts=pulumi.ResourceOptions.merge(f.opts(f), f.stateful_options()),
            )
            f.lock("volumes", self._files.id, f)
        return self._files

    def _volume(self, request: ServiceRequest, index: int, parent: pulumi.Resource) -> str:
        """An NFS share for one of the request's volumes, registered as environment storage; returns its name."""
        f = self.foundation
        volume = request.volumes[index]
        share_name = f"{request.name}-{volume.name}"[:63]
        keep = pulumi.ResourceOptions(protect=volume.protect, retain_on_delete=volume.protect)
        share = storage.FileShare(
            f"{share_name}-share",
            resource_group_name=f.group.name,
            account_name=self.files.name,
            share_name=share_name,
            enabled_protocols="NFS",
            root_squash="NoRootSquash",
            share_quota=max(PREMIUM_SHARE_MIN_GIB, -(-volume.size_mib // 1024)),
            opts=pulumi.ResourceOptions.merge(f.opts(parent), keep),
        )
        storage_name = share_name[:32]
        app.ManagedEnvironmentsStorage(
            f"{share_name}-storage",
            resource_group_name=f.group.name,
            environment_name=self.environment.name,
            storage_name=storage_name,
            properties={
                "nfs_azure_file": {
                    "server": pulumi.Output.concat(self.files.name, ".file.core.windows.net"),
                    "share_name": pulumi.Output.concat("/", self.files.name, "/", share.name),
                    "access_mode": "ReadWrite",
                }
            },
            opts=f.opts(parent),
        )
        return storage_name

    # -- apps --------------------------------------------------------------
    def app(
        self, request: ServiceRequest[PoolProfile], route: ResolvedRoute | None, parent: pulumi.Resource
    ) -> app.ContainerApp:
        """The Container App of one workload (on its pool's workload profile, the pool's handle)."""
        f = self.foundation
        profile = request.pool.handle
        references, env = self._secrets(request, parent)
        volumes, mounts = self._mounts(request, parent)
        cpu, memory = replica_size(profile.type, request.cpu, request.memory_mib)
        resources: app.ContainerResourcesArgsDict = {"cpu": cpu, "memory": f"{memory:g}Gi"}
        if request.gpu > 0:
            resources["gpu"] = float(math.ceil(request.gpu))  # whole GPUs per replica (checks.caveats says so)
        container: app.ContainerArgsDict = {
            "name": request.name,
            "image": request.image,
            "command": list(request.command) if request.command is not None else None,
            "args": list(request.args) if request.args is not None else None,
            "env": env,
            "resources": resources,
            "probes": _probes(request.health, request),
            "volume_mounts": mounts or None,
        }
        built = app.ContainerApp(
            request.name,
            resource_group_name=f.group.name,
            container_app_name=request.name,
            managed_environment_id=self.environment.id,
            workload_profile_name=profile.name,
            identity={"type": "UserAssigned", "user_assigned_identities": [f.identity.id]},
            configuration={
                "active_revisions_mode": "Single",
                "ingress": ingress(request, route),
                "secrets": references or None,
            },
            template={"containers": [container], "scale": scale(request), "volumes": volumes or None},
            tags=f.tags,
            opts=f.opts(parent, depends_on=list(request.depends_on)),
        )
        self.apps[request.name] = built
        return built

    def _secrets(
        self, request: ServiceRequest, parent: pulumi.Resource
    ) -> tuple[list[app.SecretArgsDict], list[app.EnvironmentVarArgsDict]]:
        """Key Vault references for the app's secrets and secret files (a value is stored in the vault first; a
        ``SecretRef`` is already a vault secret's URI), and its environment with the secrets by ``secretRef``."""
        f = self.foundation
        urls: dict[str, pulumi.Input[str]] = {}
        env: list[app.EnvironmentVarArgsDict] = [{"name": k, "value": v} for k, v in request.env.items()]
        for key, value in request.secrets.items():
            name = _secret_name(request.name, key)
            urls[name] = value.reference if isinstance(value, SecretRef) else f.secret(name, value, parent)
            env.append({"name": key, "secret_ref": name})
        for key, value in request.secret_files.items():
            name = _secret_name(request.name, f"file-{key}")
            urls[name] = f.secret(name, value, parent)
        references: list[app.SecretArgsDict] = [
            {"name": name, "key_vault_url": url, "identity": f.identity.id} for name, url in urls.items()
        ]
        return references, env

    def _mounts(
        self, request: ServiceRequest, parent: pulumi.Resource
    ) -> tuple[list[app.VolumeArgsDict], list[app.VolumeMountArgsDict]]:
        """Secret files as a ``Secret`` volume at /run/secrets; each persistent volume as an NFS share."""
        volumes: list[app.VolumeArgsDict] = []
        mounts: list[app.VolumeMountArgsDict] = []
        if request.secret_files:
            files: list[app.SecretVolumeItemArgsDict] = [
                {"secret_ref": _secret_name(request.name, f"file-{k}"), "path": k} for k in request.secret_files
            ]
            volumes.append({"name": "secrets", "storage_type": "Secret", "secrets": files})
            mounts.append({"volume_name": "secrets", "mount_path": SECRETS_DIR})
        for index, volume in enumerate(request.volumes):
            storage_name = self._volume(request, index, parent)
            volumes.append({"name": volume.name, "storage_type": "NfsAzureFile", "storage_name": storage_name})
            mounts.append({"volume_name": volume.name, "mount_path": volume.path})
        return volumes, mounts


def _secret_name(app_name: str, key: str) -> str:
    """A name valid for Key Vault (alphanumerics and '-') and Container Apps secrets (lowercase, '-')."""
    return re.sub(r"[^a-z0-9-]", "-", f"{app_name}-{key}".lower()).strip("-")[:120]


def ingress(request: ServiceRequest, route: ResolvedRoute | None) -> app.IngressArgsDict | None:
    """HTTP(/2) ingress for a routed app (its other ports as internal mappings), else TCP on the first port.

    TCP ingress needs a VNet environment (ours is); ``exposedPort`` keeps the port peers were given.
    """
    tcp = [p for p in request.ports if p.protocol == "tcp"]
    if not tcp:
        return None
    if route is None and tcp[0].container_port in HTTP_PORTS:
        # A TCP ingress cannot expose 80 or 443 (ingress-how-to: exposedPort): an internal HTTP ingress listens on
        # 80 inside the environment instead, plain HTTP between apps (the environment encrypts peer traffic).
        first, rest = tcp[0], tcp[1:]
        main: app.IngressArgsDict = {
            "external": False,
            "transport": "http",
            "target_port": first.container_port,
            "allow_insecure": True,
        }
    elif route is None:
        first, rest = tcp[0], tcp[1:]
        main = {
            "external": False,
            "transport": "tcp",
            "target_port": first.container_port,
            "exposed_port": first.container_port,
        }
    else:
        first = next(p for p in tcp if p.container_port == route.port)
        rest = [p for p in tcp if p is not first]
        main = {
            "external": True,
            "transport": "http2" if route.kind == "grpc" else "http",
            "target_port": first.container_port,
            "allow_insecure": False,
        }
        if route.sticky:
            main["sticky_sessions"] = {"affinity": "sticky"}
        rest = [first, *rest]  # peers keep <app>:<port> inside the environment
    mappings: list[app.IngressPortMappingArgsDict] = [
        {"external": False, "target_port": p.container_port, "exposed_port": p.container_port} for p in rest
    ]
    if mappings:
        main["additional_port_mappings"] = mappings
    return main


def scale(request: ServiceRequest) -> app.ScaleArgsDict:
    """Replicas from the blueprint: fixed, or an autoscale range with a CPU utilization rule (KEDA's cpu scaler)."""
    if request.autoscale is None:
        return {"min_replicas": request.replicas, "max_replicas": max(1, request.replicas)}
    rule: app.CustomScaleRuleArgsDict = {
        "type": "cpu",
        "metadata": {"type": "Utilization", "value": str(request.autoscale.cpu_percent)},
    }
    return {
        "min_replicas": request.autoscale.min,
        "max_replicas": request.autoscale.max,
        "rules": [{"name": "cpu", "custom": rule}],
    }


def _probes(health: HealthRequest | None, request: ServiceRequest) -> list[app.ContainerAppProbeArgsDict] | None:
    """Startup, liveness and readiness from the blueprint's check: HTTP paths, else TCP (Container Apps has no
    exec or gRPC probe kind; a command check falls back to the first TCP port, checks.caveats says so)."""
    if health is None:
        return None
    port = health.port or next((p.container_port for p in request.ports if p.protocol == "tcp"), None)
    if port is None:
        return None
    return [_probe(kind, health, port) for kind in ("Startup", "Liveness", "Readiness")]


def _probe(kind: str, health: HealthRequest, port: int) -> app.ContainerAppProbeArgsDict:
    """One probe; Container Apps caps the period and timeout at 240 s and the failure threshold at 10, and the
    startup probe's initial delay at 60 s (ContainerAppProbe in the API spec)."""
    probe: app.ContainerAppProbeArgsDict = {
        "type": kind,
        "period_seconds": min(health.interval_s, 240),
        "timeout_seconds": min(health.timeout_s, 240),
        "failure_threshold": 10 if kind == "Startup" else min(health.retries, 10),
    }
    if kind == "Startup":
        probe["initial_delay_seconds"] = min(health.start_period_s, 60)
    if health.kind == "http":
        probe["http_get"] = {"path": health.path, "port": port}
    else:
        probe["tcp_socket"] = {"port": port}
    return probe
