"""The Docker target: the Target protocol on Docker engines with pulumi-docker.

- Each pool gets its own ``docker.Provider`` (local socket or ``ssh://``), so a
  blueprint's nodes are pools; each engine gets one bridge network per stack.
- Services are hardened containers (see ``containers.py``); replicas are
  containers sharing a network alias, which Docker DNS round-robins.
- Routes are collected and served by one nginx edge container created in
  :meth:`DockerTarget.finish`, whose config ``nginx.py`` generates.
- Postgres is a container on a named volume (protected and retained in prod),
  with its password from a RandomPassword delivered as a secret file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_docker as docker

from components.protocol import (
    SECRETS_DIR,
    DatabaseEndpoint,
    HealthRequest,
    Pool,
    PoolRequest,
    PortRequest,
    PostgresRequest,
    PublicEndpoint,
    ResolvedRoute,
    RouteRequest,
    ServiceEndpoint,
    ServiceRequest,
    TargetContext,
    VolumeRequest,
    secret_value,
)
from targets.common import random_secret
from targets.docker import images
from targets.docker.containers import ContainerSpec, Engine, container, pull, volume
from targets.docker.edge import Edge
from targets.docker.settings import DockerPoolSettings, DockerSettings


@dataclass
class _PoolHandle:
    settings: DockerPoolSettings
    engine: Engine


@dataclass
class DockerTarget:
    """Implements :class:`components.protocol.Target` for Docker."""

    context: TargetContext[DockerSettings]
    name: str = "docker"
    routes: list[ResolvedRoute] = field(default_factory=list)
    _networks: dict[str, docker.Network] = field(default_factory=dict)
    _pools: dict[str, Pool[_PoolHandle]] = field(default_factory=dict)
    _upstream_resources: list[pulumi.Resource] = field(default_factory=list)
    # Which pool's settings each workload landed on (for wiring across engines).
    _placed: dict[str, DockerPoolSettings] = field(default_factory=dict)

    def _devices(self, workload: str, replica: int) -> tuple[str, ...]:
        """The device ids one container gets, from the stack's plan (``targets/docker/gpus.py``).

        Whole GPUs get dedicated cards; fractional shares are packed first-fit-decreasing onto
        the pool's other cards. The plan was checked before any resource: it never wraps.
        """
        if self.settings.gpus == "none":
            return ()
        planned = self.context.gpu_devices.get(workload, ())
        return planned[replica] if replica < len(planned) else ()

    @property
    def spans_engines(self) -> bool:
        """True when pools sit on more than one engine: every port is then published on each host's address."""
        return len(self._networks) > 1

    def _published(self, ports: tuple[PortRequest, ...]) -> tuple[PortRequest, ...]:
        if not self.spans_engines:
            return ports
        return tuple(replace(p, host_port=p.host_port or p.container_port) for p in ports)

    def _bind(self, settings: DockerPoolSettings, public: bool) -> str:
        if public:
            return "0.0.0.0"
        return settings.advertised_address if self.spans_engines else "127.0.0.1"

    def _reach(self, settings: DockerPoolSettings, public: bool) -> str:
        """The address clients outside the engine use for a workload's published ports."""
        bound = self._bind(settings, public)
        return settings.advertised_address if bound == "0.0.0.0" else bound

    def _hosts(self, names: list[str]) -> list[tuple[str, str]]:
        """/etc/hosts entries (they win over Docker DNS) sending peers to their host's published ports.

        Only when the stack spans engines: then every peer is reached the same way, on its
        host's address and published port, wherever the consumer runs.
        """
        if not self.spans_engines:
            return []
        return [(name, self._placed[name].advertised_address) for name in names if name in self._placed]

    @property
    def settings(self) -> DockerSettings:
        return self.context.settings

    # -- pools -------------------------------------------------------------
    def pool(self, request: PoolRequest[DockerPoolSettings], parent: pulumi.Resource) -> Pool[_PoolHandle]:
        settings = request.settings
        provider = docker.Provider(
            f"{request.name}-engine",
            host=settings.host,
            ssh_opts=settings.ssh_opts or None,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        network = self._networks.get(settings.host)
        if network is None:
            # One network per engine per stack: pools on one engine must reach each other.
            network = docker.Network(
                f"{request.name}-network",
                name=f"{self.context.stack}-{len(self._networks) + 1}" if self._networks else self.context.stack,
                driver="bridge",
                attachable=False,
                labels=[{"label": "gpu-platform.stack", "value": self.context.stack}],
                opts=pulumi.ResourceOptions(parent=parent, provider=provider),
            )
            self._networks[settings.host] = network
        engine = Engine(
            provider=provider,
            network=network,
            host=settings.host,
            platform=f"linux/{request.architecture}",
            max_cpus=self.settings.max_cpus,
        )
        pool = Pool(
            name=request.name,
            gpus=request.gpus,
            architecture=request.architecture,
            handle=_PoolHandle(settings, engine),
        )
        self._pools[request.name] = pool
        return pool

    # -- services ----------------------------------------------------------
    def service(self, request: ServiceRequest[_PoolHandle], parent: pulumi.Resource) -> ServiceEndpoint:
        handle = request.pool.handle
        engine = handle.engine
        volumes = [
            (
                volume(
                    f"{request.name}-{v.name}",
                    f"{self.context.stack}-{request.name}-{v.name}",
                    engine,
                    v,
                    parent,
                ),
                v,
            )
            for v in request.volumes
        ]
        env: dict[str, pulumi.Input[str]] = dict(request.env)
        secret_files: dict[str, pulumi.Input[str]] = dict(request.secret_files)
        for env_name, value in request.secrets.items():
            file_name = env_name.lower()
            secret_files[file_name] = secret_value(env_name, value)
            env[f"{env_name}_FILE"] = f"{SECRETS_DIR}/{file_name}"
        replicas = request.autoscale.min if request.autoscale else request.replicas
        image = pull(f"{request.name}-image", request.image, engine, parent)
        self._placed[request.name] = handle.settings
        hosts = self._hosts([peer.name for peer in request.peers])
        created: list[pulumi.Resource] = []
        for index in range(1, max(replicas, 1) + 1):
            suffix = "" if replicas == 1 else f"-{index}"
            _, box = container(
                ContainerSpec(
                    resource_name=f"{request.name}{suffix or '-1'}" if replicas > 1 else request.name,
                    container_name=f"{self.context.stack}-{request.name}{suffix}",
                    alias=request.name,
                    image=request.image,
                    engine=engine,
                    labels=self._labels(request.name),
                    # Several replicas cannot publish one host port: only the first does.
                    ports=self._published(request.ports) if index == 1 else (),
                    bind_address=self._bind(handle.settings, request.public),
                    private_bind_address=self._bind(handle.settings, public=False),
                    hosts=hosts,
                    entrypoint=request.command,
                    command=request.args,
                    env=env,
                    secret_files=secret_files,
                    cpu=request.cpu,
                    memory_mib=request.memory_mib,
                    limit_cpu=request.limit_cpu,
                    limit_memory_mib=request.limit_memory_mib,
                    gpu_devices=self._devices(request.name, index - 1) if request.gpu > 0 else (),
                    gpu_driver=handle.settings.gpu_driver,
                    health=request.health,
                    user=request.user,
                    read_only_root=request.read_only_root,
                    volumes=volumes,
                    depends_on=request.depends_on,
                    log_max_size=self.settings.log_max_size,
                    log_max_files=self.settings.log_max_files,
                ),
                parent,
                image=image,
            )
            created.append(box)
        self._upstream_resources += created
        published = any(p.host_port for p in self._published(request.ports))
        return ServiceEndpoint(
            name=request.name,
            host=pulumi.Output.from_input(request.name),
            # Across engines peers arrive on the published port; on one engine, on the container port.
            ports={p.name: p.host_port or p.container_port for p in self._published(request.ports)},
            resources=tuple(created),
            public_host=pulumi.Output.from_input(self._reach(handle.settings, request.public)) if published else None,
        )

    # -- routes ------------------------------------------------------------
    def route(self, request: RouteRequest, parent: pulumi.Resource) -> PublicEndpoint:
        edge_route = request.resolve()
        self.routes.append(edge_route)
        return PublicEndpoint(name=request.name, url=pulumi.Output.from_input(self._url(edge_route)))

    def _url(self, route: ResolvedRoute) -> str:
        host = self.context.domain or "localhost"
        tls = self.context.profile.tls != "off"
        if route.kind == "grpc":
            return f"{'grpcs' if tls else 'grpc'}://{host}:{route.port}"
        port = self.settings.https_port if tls else self.settings.http_port
        scheme = {("websocket", True): "wss", ("websocket", False): "ws"}.get(
            (route.kind, tls), "https" if tls else "http"
        )
        return f"{scheme}://{host}:{port}{route.path}"

    # -- postgres ----------------------------------------------------------
    def postgres(self, request: PostgresRequest[_PoolHandle], parent: pulumi.Resource) -> DatabaseEndpoint:
        handle = request.pool.handle
        engine = handle.engine
        self._placed[request.name] = handle.settings
        password = self.secret(f"{request.name}-password", 32, parent)
        data = volume(
            f"{request.name}-data",
            f"{self.context.stack}-{request.name}-data",
            engine,
            VolumeRequest("data", "/var/lib/postgresql/data", request.storage_mib, protect=request.protect),
            parent,
        )
        image = images.postgres(request.version)
        _, db = container(
            ContainerSpec(
                resource_name=request.name,
                container_name=f"{self.context.stack}-{request.name}",
                alias=request.name,
                image=image,
                engine=engine,
                labels=self._labels(request.name),
                ports=self._published((PortRequest("postgres", 5432, app_protocol="tcp"),)),
                bind_address=self._bind(handle.settings, public=False),
                env={
                    "POSTGRES_DB": request.database,
                    "POSTGRES_USER": request.username,
                    "POSTGRES_PASSWORD_FILE": f"{SECRETS_DIR}/postgres_password",
                    "PGDATA": "/var/lib/postgresql/data/pgdata",
                    "POSTGRES_INITDB_ARGS": "--auth-host=scram-sha-256 --data-checksums",
                },
                secret_files={"postgres_password": password},
                cpu=request.cpu,
                memory_mib=request.memory_mib,
                limit_cpu=request.limit_cpu,
                limit_memory_mib=request.limit_memory_mib,
                health=HealthRequest(
                    kind="command",
                    port=5432,
                    command=("pg_isready", "-q", "-U", request.username, "-d", request.database),
                    interval_s=10,
                    start_period_s=30,
                ),
                user=images.POSTGRES_USER,
                tmpfs_paths=("/tmp", "/var/run/postgresql"),
                volumes=[(data, VolumeRequest("data", "/var/lib/postgresql/data", request.storage_mib))],
                log_max_size=self.settings.log_max_size,
                log_max_files=self.settings.log_max_files,
            ),
            parent,
        )
        resources: list[pulumi.Resource] = [db, data]
        if request.backup_schedule != "none":
            resources += self._backups(request, engine, password, db, parent)
        return DatabaseEndpoint(
            name=request.name,
            host=pulumi.Output.from_input(request.name),
            port=5432,
            database=request.database,
            username=request.username,
            password=password,
            resources=tuple(resources),
        )

    def _backups(
        self,
        request: PostgresRequest[_PoolHandle],
        engine: Engine,
        password: pulumi.Output[str],
        db: docker.Container,
        parent: pulumi.Resource,
    ) -> list[pulumi.Resource]:
        """Scheduled pg_dump to a named volume, keeping the profile's retention."""
        store = volume(
            f"{request.name}-backups",
            f"{self.context.stack}-{request.name}-backups",
            engine,
            VolumeRequest("backups", "/backups", request.storage_mib, protect=request.protect),
            parent,
        )
        schedule = {"daily": "@daily", "6h": "0 */6 * * *"}[request.backup_schedule]
        image = pull(f"{request.name}-backup-image", images.postgres_backup(request.version), engine, parent)
        owner = self._backup_owner(request, engine, store, image, parent)
        _, job = container(
            ContainerSpec(
                resource_name=f"{request.name}-backup",
                container_name=f"{self.context.stack}-{request.name}-backup",
                alias=f"{request.name}-backup",
                image=images.postgres_backup(request.version),
                engine=engine,
                labels=self._labels(f"{request.name}-backup"),
                env={
                    "POSTGRES_HOST": request.name,
                    "POSTGRES_DB": request.database,
                    "POSTGRES_USER": request.username,
                    "POSTGRES_PASSWORD_FILE": f"{SECRETS_DIR}/postgres_password",
                    "SCHEDULE": schedule,
                    "BACKUP_KEEP_DAYS": str(request.backup_retention_days),
                    "BACKUP_KEEP_WEEKS": "0",
                    "BACKUP_KEEP_MONTHS": "0",
                    "HEALTHCHECK_PORT": "8080",
                },
                secret_files={"postgres_password": password},
                cpu=0.1,
                memory_mib=128,
                limit_cpu=0.5,
                limit_memory_mib=512,
                health=HealthRequest(kind="http", port=8080, path="/"),
                user=images.POSTGRES_BACKUP_USER,
                volumes=[(store, VolumeRequest("backups", "/backups", request.storage_mib))],
                depends_on=[db, owner],
                log_max_size=self.settings.log_max_size,
                log_max_files=self.settings.log_max_files,
            ),
            parent,
            image=image,
        )
        return [store, owner, job]

    def _backup_owner(
        self,
        request: PostgresRequest[_PoolHandle],
        engine: Engine,
        store: docker.Volume,
        image: docker.RemoteImage,
        parent: pulumi.Resource,
    ) -> docker.Container:
        """A one-shot root ``chown`` giving the fresh backup volume to the job's user.

        The image only declares ``VOLUME /backups`` (root:root 0755), Docker copies that
        ownership into a new named volume, and the job (70:70) could not write it. This runs
        once as root with only CHOWN, no network and a read-only root; the provider attaches
        and waits for it to exit (``attach``), so the job starts on a volume it owns.
        """
        return docker.Container(
            f"{request.name}-backup-owner",
            name=f"{self.context.stack}-{request.name}-backup-owner",
            image=image.image_id,
            entrypoints=["chown", images.POSTGRES_BACKUP_USER, "/backups"],
            user="0:0",
            attach=True,
            must_run=False,
            restart="no",
            read_only=True,
            network_mode="none",
            security_opts=["no-new-privileges:true"],
            capabilities={"drops": ["ALL"], "adds": ["CHOWN"]},
            privileged=False,
            memory=32,
            cpus="0.1",
            volumes=[{"volume_name": store.name, "container_path": "/backups"}],
            log_driver="json-file",
            log_opts={"max-size": "1m", "max-file": "1"},
            labels=[{"label": k, "value": v} for k, v in sorted(self._labels(f"{request.name}-backup-owner").items())],
            opts=pulumi.ResourceOptions(parent=parent, provider=engine.provider, delete_before_replace=True),
        )

    # -- secrets and the edge ----------------------------------------------
    def workload_ranges(self, pool: Pool[_PoolHandle]) -> pulumi.Output[Sequence[str]]:
        """The subnets Docker gave the pool's engine network (its IPAM configuration, known once it exists)."""
        network = pool.handle.engine.network
        return network.ipam_configs.apply(lambda configs: [c.subnet for c in configs if c.subnet])

    def secret(self, name: str, length: int, parent: pulumi.Resource) -> pulumi.Output[str]:
        return random_secret(name, length, parent)

    def finish(self) -> None:
        """Create the nginx edge for every route collected, on the edge pool."""
        if not self.routes:
            return
        edge_pool = self.settings.edge_pool or next(iter(self._pools))
        handle = self._pools[edge_pool].handle
        Edge(
            "edge",
            routes=self.routes,
            engine=handle.engine,
            hosts=self._hosts([route.service for route in self.routes]),
            context=self.context,
            labels=self._labels("edge"),
            depends_on=self._upstream_resources,
        )

    def _labels(self, workload: str) -> dict[str, str]:
        return {
            "gpu-platform.stack": self.context.stack,
            "gpu-platform.environment": self.context.profile.name,
            "gpu-platform.workload": workload,
        }


TARGET = DockerTarget
