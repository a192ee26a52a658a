"""Environment profiles: the monte-carlo seed's per-environment table as data.

| Feature          | dev              | staging                  | prod                        |
|------------------|------------------|--------------------------|-----------------------------|
| TLS              | off (HTTP only)  | self-signed              | CA-issued                   |
| CORS             | ``*``            | restricted domain        | strict domain               |
| Rate limit       | off              | 50 req/s                 | 100 req/s                   |
| Security headers | basic            | full                     | enterprise                  |
| Backups          | none             | daily, 7 days            | every 6 h, 30 days, PITR    |
| Monitoring       | console logs     | Prometheus + Grafana     | + alerting                  |
| GPU share        | 40 %             | 60 %                     | 80 %                        |
| Limits (default) | 4 GiB, 2 cores   | 6 GiB, 4 cores           | 8 GiB, 6 cores              |
| Storage (floor)  | 5 GiB            | 20 GiB                   | 50 GiB                      |
| HA               | single           | single                   | multi-AZ + read replica     |
| Protection       | none             | none                     | protect + retain + snapshot |
| Log retention    | 7 days           | 30 days                  | 365 days                    |

Targets read the profile; only ``stacks/`` decides which profile a stack gets.
The seed's "GPU: shared / dedicated" row is not a profile value: whether a
workload shares a card is what its blueprint asks (``requests.gpu`` below 1)
and how the pool shares it (time-slicing, MPS), in every environment alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Environment = Literal["dev", "staging", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("dev", "staging", "prod")


@dataclass(frozen=True)
class Backups:
    """Database backup policy: how often, how long kept, point-in-time recovery."""

    schedule: Literal["none", "daily", "6h"]
    retention_days: int
    point_in_time: bool

    @property
    def enabled(self) -> bool:
        return self.schedule != "none"

    @property
    def cron(self) -> str:
        """Standard 5-field cron for the schedule (targets that run their own backup job)."""
        return {"none": "", "daily": "0 3 * * *", "6h": "0 */6 * * *"}[self.schedule]


@dataclass(frozen=True)
class Limits:
    """Default per-replica ceilings for a service that states none of its own."""

    memory_mib: int
    cpu: float
    storage_mib: int  # the least a database gets in this environment


@dataclass(frozen=True)
class Profile:
    """Everything that differs between dev, staging and prod."""

    name: Environment
    tls: Literal["off", "self-signed", "ca"]
    cors_origins: tuple[str, ...]
    rate_limit_rps: int | None
    security_headers: Literal["basic", "full", "enterprise"]
    backups: Backups
    monitoring: Literal["console", "prometheus", "alerting"]
    gpu_share: float
    limits: Limits
    ha: Literal["single", "multi-az"]
    read_replicas: int
    protect_stateful: bool
    publish_address: str
    log_retention_days: int
    # Interruptible capacity (Fargate Spot) for stateless CPU services.
    spot_capacity: bool

    @property
    def rate_limit_burst(self) -> int:
        """Burst allowance: two seconds' worth, so reconnect storms are shaped, not dropped."""
        return 2 * (self.rate_limit_rps or 0)


PROFILES: dict[Environment, Profile] = {
    "dev": Profile(
        name="dev",
        tls="off",
        cors_origins=("*",),
        rate_limit_rps=None,
        security_headers="basic",
        backups=Backups("none", 0, False),
        monitoring="console",
        gpu_share=0.4,
        limits=Limits(memory_mib=4096, cpu=2, storage_mib=5 * 1024),
        ha="single",
        read_replicas=0,
        protect_stateful=False,
        publish_address="127.0.0.1",
        log_retention_days=7,
        spot_capacity=True,
    ),
    "staging": Profile(
        name="staging",
        tls="self-signed",
        cors_origins=(),
        rate_limit_rps=50,
        security_headers="full",
        backups=Backups("daily", 7, False),
        monitoring="prometheus",
        gpu_share=0.6,
        limits=Limits(memory_mib=6144, cpu=4, storage_mib=20 * 1024),
        ha="single",
        read_replicas=0,
        protect_stateful=False,
        publish_address="0.0.0.0",
        log_retention_days=30,
        spot_capacity=True,
    ),
    "prod": Profile(
        name="prod",
        tls="ca",
        cors_origins=(),
        rate_limit_rps=100,
        security_headers="enterprise",
        backups=Backups("6h", 30, True),
        monitoring="alerting",
        gpu_share=0.8,
        limits=Limits(memory_mib=8192, cpu=6, storage_mib=50 * 1024),
        ha="multi-az",
        read_replicas=1,
        protect_stateful=True,
        publish_address="0.0.0.0",
        log_retention_days=365,
        spot_capacity=False,
    ),
}
