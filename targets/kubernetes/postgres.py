"""ManagedPostgres on Kubernetes: a CloudNativePG Cluster, or a StatefulSet on a PVC.

With the CloudNativePG operator (``kubernetes.cnpg: true``) the database is a
``Cluster`` (instances: 1 + read replicas; 3 when the profile wants multi-AZ HA),
credentials from a basic-auth Secret we generate. Without it, a StatefulSet of
one Postgres pod on an explicit PVC. Either way backups are a CronJob running
``pg_dump`` into a backup PVC on the profile's schedule, deleting dumps older
than its retention; in prod the data and backup claims (and the CNPG Cluster)
are protected and retained.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.protocol import SECRETS_DIR, DatabaseEndpoint, HealthRequest, Peer, PostgresRequest, TargetContext
from targets.kubernetes.cluster import Cluster
from targets.kubernetes.names import BACKUP_SUFFIX
from targets.kubernetes.network import Traffic
from targets.kubernetes.pods import (
    Container,
    PoolHandle,
    Scheduling,
    labels,
    manifest,
    pod_spec,
    quantity_memory,
    secret_volume,
    selector,
)
from targets.kubernetes.settings import KubernetesSettings

# Debian variants: the entrypoint supports an arbitrary non-root uid (nss_wrapper), which PSS needs.
POSTGRES_IMAGES = {
    "14": "postgres:14.15-bookworm",
    "15": "postgres:15.10-bookworm",
    "16": "postgres:16.6-bookworm",
    "17": "postgres:17.2-bookworm",
}
CNPG_IMAGES = {
    "14": "ghcr.io/cloudnative-pg/postgresql:14.15",
    "15": "ghcr.io/cloudnative-pg/postgresql:15.10",
    "16": "ghcr.io/cloudnative-pg/postgresql:16.6",
    "17": "ghcr.io/cloudnative-pg/postgresql:17.2",
}
UID = 10001
DATA = "/var/lib/postgresql/data"


def claim(
    name: str,
    namespace: str,
    claim_labels: dict[str, str],
    size_mib: int,
    shared: bool,
    settings: KubernetesSettings,
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.PersistentVolumeClaim:
    """An explicit PVC (a Pulumi resource, so it can be protected and retained in prod).

    A shared claim is ReadWriteMany: its storage class (``kubernetes.storage_class``) must offer it.
    """
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteMany" if shared else "ReadWriteOnce"],
        "resources": {"requests": {"storage": quantity_memory(size_mib)}},
    }
    if settings.storage_class:
        spec["storageClassName"] = settings.storage_class
    return k8s.core.v1.PersistentVolumeClaim(
        name,
        metadata=manifest({"name": name, "namespace": namespace, "labels": claim_labels}),
        spec=manifest(spec),
        opts=opts,
    )


def build(
    request: PostgresRequest[PoolHandle],
    password: pulumi.Output[str],
    context: TargetContext[KubernetesSettings],
    settings: KubernetesSettings,
    cluster: Cluster,
    traffic: Traffic,
    parent: pulumi.Resource,
) -> DatabaseEndpoint:
    """The database, its credentials, its backups and its traffic rules."""
    name = request.name
    meta = {"name": name, "namespace": cluster.namespace_name, "labels": labels(context.stack, name)}
    protect = pulumi.ResourceOptions(protect=request.protect, retain_on_delete=request.protect)
    credentials = _credentials(request, password, meta, cluster, parent)
    if settings.cnpg:
        host, pod_selector = f"{name}-rw", {"cnpg.io/cluster": name}
        opts = pulumi.ResourceOptions.merge(cluster.opts(parent, depends_on=[credentials]), protect)
        database = _cnpg_cluster(request, meta, settings, opts)
    else:
        host, pod_selector = name, selector(name)
        database = _statefulset(request, meta, credentials, settings, cluster, parent, protect)
    traffic.add_workload(name, pod_selector, ())
    if settings.cnpg:
        _operator_traffic(name, pod_selector, settings, traffic)
    resources: list[pulumi.Resource] = [database]
    if request.backup_schedule != "none":
        resources.append(_backups(request, host, password, context, settings, cluster, traffic, parent, protect))
    return DatabaseEndpoint(
        name=name,
        host=pulumi.Output.from_input(host),
        port=5432,
        database=request.database,
        username=request.username,
        password=password,
        resources=tuple(resources),
    )


def _credentials(
    request: PostgresRequest[PoolHandle],
    password: pulumi.Output[str],
    meta: dict[str, Any],
    cluster: Cluster,
    parent: pulumi.Resource,
) -> k8s.core.v1.Secret:
    """The owner's basic-auth Secret (CloudNativePG bootstraps from it; the StatefulSet mounts its password)."""
    return k8s.core.v1.Secret(
        f"{request.name}-credentials",
        metadata=manifest({**meta, "name": f"{request.name}-credentials"}),
        type="kubernetes.io/basic-auth",
        string_data={"username": request.username, "password": pulumi.Output.secret(password)},
        opts=cluster.opts(parent),
    )


def _cnpg_cluster(
    request: PostgresRequest[PoolHandle],
    meta: dict[str, Any],
    settings: KubernetesSettings,
    opts: pulumi.ResourceOptions,
) -> pulumi.Resource:
    """A CloudNativePG Cluster: 1 + read replicas instances (3 when the profile wants multi-AZ HA)."""
    instances = 1 + request.read_replicas + (1 if request.multi_az and request.read_replicas < 2 else 0)
    return k8s.apiextensions.CustomResource(
        request.name,
        api_version="postgresql.cnpg.io/v1",
        kind="Cluster",
        metadata=manifest(meta),
        spec=manifest(
            {
                "instances": instances,
                "imageName": CNPG_IMAGES[request.version],
                "storage": {"size": quantity_memory(request.storage_mib)}
                | ({"storageClass": settings.storage_class} if settings.storage_class else {}),
                "bootstrap": {
                    "initdb": {
                        "database": request.database,
                        "owner": request.username,
                        "secret": {"name": f"{request.name}-credentials"},
                        "dataChecksums": True,
                    }
                },
                "postgresql": {"parameters": {"password_encryption": "scram-sha-256"}},
                "resources": {
                    "requests": {
                        "cpu": f"{int(request.cpu * 1000)}m",
                        "memory": quantity_memory(request.memory_mib),
                    },
                    "limits": {"memory": quantity_memory(request.memory_mib)},
                },
                "affinity": {
                    "nodeSelector": dict(_scheduling(request).node_selector),
                    "tolerations": list(_scheduling(request).tolerations),
                    **({"topologyKey": "topology.kubernetes.io/zone"} if request.multi_az else {}),
                },
                "enableSuperuserAccess": False,
            }
        ),
        opts=opts,
    )


def _statefulset(
    request: PostgresRequest[PoolHandle],
    meta: dict[str, Any],
    credentials: k8s.core.v1.Secret,
    settings: KubernetesSettings,
    cluster: Cluster,
    parent: pulumi.Resource,
    protect: pulumi.ResourceOptions,
) -> pulumi.Resource:
    """Without the operator: one Postgres pod on an explicit PVC, its ServiceAccount and its Service."""
    name, ns = request.name, cluster.namespace_name
    data = claim(f"{name}-data", ns, meta["labels"], request.storage_mib, False, settings,
                 pulumi.ResourceOptions.merge(cluster.opts(parent), protect))  # fmt: skip
    secrets, _ = secret_volume(f"{name}-credentials", ["password"])
    volumes = [
        {"name": "data", "persistentVolumeClaim": {"claimName": f"{name}-data"}},
        secrets,
        {"name": "run", "emptyDir": {}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
    ]
    spec = pod_spec([_container(request)], _scheduling(request), f"{name}-sa", volumes)
    spec["containers"][0]["ports"] = [{"name": "postgres", "containerPort": 5432, "protocol": "TCP"}]
    k8s.core.v1.ServiceAccount(
        f"{name}-sa", metadata=manifest({**meta, "name": f"{name}-sa"}), automount_service_account_token=False,
        opts=cluster.opts(parent),
    )  # fmt: skip
    database = k8s.apps.v1.StatefulSet(
        name,
        metadata=manifest(meta),
        spec=manifest(
            {
                "replicas": 1,
                "serviceName": name,
                "selector": {"matchLabels": selector(name)},
                "template": {"metadata": {"labels": meta["labels"]}, "spec": spec},
            }
        ),
        opts=cluster.opts(parent, depends_on=[data, credentials]),
    )
    k8s.core.v1.Service(
        f"{name}-svc",
        metadata=manifest(meta),
        spec=manifest(
            {
                "selector": selector(name),
                "ports": [{"name": "postgres", "port": 5432, "targetPort": 5432, "protocol": "TCP"}],
            }
        ),
        opts=cluster.opts(parent),
    )
    return database


def _container(request: PostgresRequest[PoolHandle]) -> Container:
    """The Postgres container: password from a file, scram-sha-256, checksums, pg_isready health."""
    return Container(
        name="postgres",
        image=POSTGRES_IMAGES[request.version],
        ports=(),
        env={
            "POSTGRES_DB": request.database,
            "POSTGRES_USER": request.username,
            "POSTGRES_PASSWORD_FILE": f"{SECRETS_DIR}/password",
            "PGDATA": f"{DATA}/pgdata",
            "POSTGRES_INITDB_ARGS": "--auth-host=scram-sha-256 --data-checksums",
        },
        cpu=request.cpu,
        memory_mib=request.memory_mib,
        limit_cpu=request.limit_cpu,
        limit_memory_mib=request.limit_memory_mib,
        health=HealthRequest(
            kind="command",
            port=5432,
            command=("pg_isready", "-q", "-U", request.username, "-d", request.database, "-h", "127.0.0.1"),
            interval_s=10,
            start_period_s=30,
        ),
        uid=UID,
        gid=UID,
        mounts=(("data", DATA), ("secrets", SECRETS_DIR), ("run", "/var/run/postgresql"), ("tmp", "/tmp")),
    )


def _operator_traffic(name: str, pods: dict[str, str], settings: KubernetesSettings, traffic: Traffic) -> None:
    """What CloudNativePG needs under default-deny: the operator reaches the instance manager (8000)
    and Postgres (5432); instances replicate to each other; the instance manager talks to the API server."""
    operator = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": settings.cnpg_namespace}}}
    peers = {"podSelector": {"matchLabels": pods}}
    ports = [{"port": 8000, "protocol": "TCP"}, {"port": 5432, "protocol": "TCP"}]
    traffic.extra_ingress(name, {"from": [operator, peers], "ports": ports})
    traffic.extra_egress(name, {"to": [peers], "ports": ports})
    traffic.extra_egress(name, {"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]})


def _scheduling(request: PostgresRequest[PoolHandle]) -> Scheduling:
    return request.pool.handle.scheduling


def _backups(
    request: PostgresRequest[PoolHandle],
    host: str,
    password: pulumi.Output[str],
    context: TargetContext[KubernetesSettings],
    settings: KubernetesSettings,
    cluster: Cluster,
    traffic: Traffic,
    parent: pulumi.Resource,
    protect: pulumi.ResourceOptions,
) -> pulumi.Resource:
    """A CronJob that pg_dumps to a backup PVC on the profile's schedule, keeping its retention."""
    name, ns = f"{request.name}{BACKUP_SUFFIX}", cluster.namespace_name
    meta = {"name": name, "namespace": ns, "labels": labels(context.stack, name)}
    store = claim(f"{name}s", ns, meta["labels"], request.storage_mib, False, settings,
                  pulumi.ResourceOptions.merge(cluster.opts(parent), protect))  # fmt: skip
    pgpass = pulumi.Output.secret(
        pulumi.Output.format("{0}:5432:{1}:{2}:{3}\n", host, request.database, request.username, password)
    )
    k8s.core.v1.Secret(
        f"{name}-pgpass",
        metadata=manifest({**meta, "name": f"{name}-pgpass"}),
        type="Opaque",
        string_data={"pgpass": pgpass},
        opts=cluster.opts(parent),
    )
    k8s.core.v1.ServiceAccount(
        f"{name}-sa", metadata=manifest({**meta, "name": f"{name}-sa"}), automount_service_account_token=False,
        opts=cluster.opts(parent),
    )  # fmt: skip
    dump = f"/backups/{request.database}-$(date +%Y%m%dT%H%M%S).dump"
    # fsGroup makes secret files group-readable and libpq ignores such a password file: use a 0600 copy.
    script = (
        "set -eu; "
        f"cp {SECRETS_DIR}/pgpass /tmp/pgpass; chmod 600 /tmp/pgpass; export PGPASSFILE=/tmp/pgpass; "
        f'pg_dump -h {host} -U {request.username} -d {request.database} -Fc -f "{dump}"; '
        f"find /backups -name '*.dump' -mtime +{request.backup_retention_days} -delete"
    )
    container = Container(
        name="pg-dump",
        image=POSTGRES_IMAGES[request.version],
        command=("sh", "-c", script),
        env={"PGSSLMODE": "prefer"},
        cpu=0.1,
        memory_mib=256,
        limit_cpu=1.0,
        limit_memory_mib=1024,
        uid=UID,
        gid=UID,
        mounts=(("backups", "/backups"), ("secrets", SECRETS_DIR), ("tmp", "/tmp")),
    )
    secrets, _ = secret_volume(f"{name}-pgpass", ["pgpass"])
    volumes = [
        {"name": "backups", "persistentVolumeClaim": {"claimName": f"{name}s"}},
        secrets,
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
    ]
    spec = pod_spec([container], _scheduling(request), f"{name}-sa", volumes)
    spec["restartPolicy"] = "OnFailure"
    traffic.add_workload(name, selector(name), (Peer(request.name, (5432,)),))
    return k8s.batch.v1.CronJob(
        name,
        metadata=manifest(meta),
        spec=manifest(
            {
                "schedule": {"daily": "0 3 * * *", "6h": "0 */6 * * *"}[request.backup_schedule],
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "spec": {
                        "backoffLimit": 2,
                        "activeDeadlineSeconds": 3600,
                        "ttlSecondsAfterFinished": 86400,
                        "template": {"metadata": {"labels": {**meta["labels"], **selector(name)}}, "spec": spec},
                    }
                },
            }
        ),
        opts=cluster.opts(parent, depends_on=[store]),
    )
