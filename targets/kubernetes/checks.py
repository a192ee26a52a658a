"""What a blueprint must pass on Kubernetes before any resource is registered, and what the cluster deploys short
of the ask.

SDK-free: the stack loader runs these for every Kubernetes stack (``TargetPlugin.check`` and ``.caveats``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stacks.errors import Caveat, Problem
from stacks.placement import Placement
from stacks.profiles import Profile
from stacks.settings import PROJECT
from stacks.spec import Blueprint, Volume
from stacks.target_checks import database_features_not_built
from stacks.workloads import workloads

if TYPE_CHECKING:
    from targets.kubernetes.settings import KubernetesPoolSettings, KubernetesSettings


def check(
    source: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, KubernetesPoolSettings],
    target_settings: KubernetesSettings,
) -> list[Problem]:
    """Time-sliced GPUs are whole units: a pool's pods may not ask for more units than its cards offer."""
    import math

    del path
    problems: list[Problem] = []
    if blueprint.pixel_streaming and not target_settings.pod_cidrs:
        problems.append(
            Problem(
                f"{PROJECT}:kubernetes.pod_cidrs",
                None,
                f"the blueprint streams Pixel Streaming ({', '.join(blueprint.pixel_streaming)}): the TURN relay "
                "refuses private peers except the cluster's pod CIDRs, so set them (e.g. [10.244.0.0/16]) "
                f"in {source}",
            )
        )
    asked: dict[str, list[tuple[str, int]]] = {}
    for workload in workloads(blueprint):
        if workload.requests.gpu <= 0:
            continue
        pool = placement.pool_of[workload.key]
        settings = pool_settings[pool]
        units = max(1, math.ceil(workload.requests.gpu * settings.time_slicing_replicas - 1e-9)) * workload.replicas
        asked.setdefault(pool, []).append((workload.key, units))
    problems += _kubernetes_names(blueprint, target_settings)
    for pool, items in asked.items():
        settings = pool_settings[pool]
        offered = blueprint.pools[pool].gpus * settings.time_slicing_replicas
        total = sum(units for _, units in items)
        if total > offered:
            largest = ", ".join(f"{key} ({units})" for key, units in sorted(items, key=lambda i: -i[1])[:3])
            problems.append(
                Problem(
                    f"pools.{pool}.targets.kubernetes.time_slicing_replicas",
                    settings.time_slicing_replicas,
                    f"the pool's pods ask for {total} time-sliced nvidia.com/gpu units but its cards offer {offered} "
                    f"(each request rounds up to whole units); largest: {largest}",
                )
            )
    return problems


def _volumes(blueprint: Blueprint) -> dict[str, dict[str, Volume]]:
    """Each workload's volumes by its key path (the sections that have volumes)."""
    found: dict[str, dict[str, Volume]] = {}
    for name, service in blueprint.services.items():
        found[f"services.{name}"] = service.volumes
    for name, gateway in blueprint.websocket_gateways.items():
        found[f"websocket_gateways.{name}.service"] = gateway.service.volumes
    for name, fleet in blueprint.grpc_tool_fleets.items():
        found[f"grpc_tool_fleets.{name}.api"] = fleet.api.volumes
        for tool_name, tool in fleet.tools.items():
            found[f"grpc_tool_fleets.{name}.tools.{tool_name}"] = tool.volumes
    for name, streaming in blueprint.pixel_streaming.items():
        key = f"pixel_streaming.{name}"
        found[f"{key}.streamer"] = streaming.streamer.volumes
        found[f"{key}.signalling.service"] = streaming.signalling.service.volumes
        if streaming.matchmaker is not None:
            found[f"{key}.matchmaker"] = streaming.matchmaker.volumes
    return found


def _kubernetes_names(blueprint: Blueprint, target_settings: KubernetesSettings) -> list[Problem]:
    """Names the Kubernetes target derives from the blueprint, each within the API's limit for its use.

    One problem per blueprint key and derived name (the strictest limit it breaks), so a long
    ``<fleet>-<tool>`` is named once, not once per object it would have named.
    """
    from targets.kubernetes import names

    volumes = _volumes(blueprint)
    # Workloads with a volume one replica owns become StatefulSets (targets/kubernetes/target.py).
    stateful = {key for key, found in volumes.items() if any(not v.shared for v in found.values())}
    derived: list[names.DerivedName] = []
    for workload in workloads(blueprint):
        key, name = workload.key, workload.name
        if key.startswith("databases."):
            what = "a CloudNativePG Cluster name" if target_settings.cnpg else "the Postgres StatefulSet's name"
            limit = names.CNPG_CLUSTER if target_settings.cnpg else names.STATEFUL_SET
            derived.append(names.DerivedName(key, name, limit, what))
            derived.append(
                names.DerivedName(key, f"{name}{names.BACKUP_SUFFIX}", names.CRON_JOB, "the backup CronJob's name")
            )
        elif key in stateful:
            derived.append(names.DerivedName(key, name, names.STATEFUL_SET, "a StatefulSet name"))
        derived.append(names.DerivedName(key, name, names.DNS_LABEL, names.WORKLOAD_USES))
        for index, port in enumerate(workload.ports):
            derived.append(names.PortName(f"{key}.ports[{index}].name", port.name, names.PORT_NAME, names.PORT_USES))
    for fleet_name, fleet in blueprint.grpc_tool_fleets.items():
        for tool in fleet.tools if fleet.public_grpc else ():
            derived.append(
                names.DerivedName(
                    f"grpc_tool_fleets.{fleet_name}.tools.{tool}", f"{fleet_name}-{tool}", names.DNS_LABEL,
                    "the first label of its gRPC route's hostname (<fleet>-<tool>.<domain>)",
                )
            )  # fmt: skip
    problems: list[Problem] = []
    reported: set[tuple[str, str]] = set()
    for item in sorted(derived, key=lambda d: d.limit):
        problem = item.problem()
        if problem and (item.key, item.name) not in reported:
            reported.add((item.key, item.name))
            problems.append(Problem(item.key, item.name, problem))
    return problems


def caveats(
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, KubernetesPoolSettings],
    target_settings: KubernetesSettings,
    profile: Profile,
) -> list[Caveat]:
    """Without CloudNativePG a database is one Postgres pod: read replicas and multi-AZ HA are not built.

    Not an error: a staging cluster without the operator still deploys a working database, and the
    prod profile asks for a replica by default. But ``pulumi up`` and the preview say so.
    """

    del path, placement, pool_settings
    if target_settings.cnpg:
        return []
    return [
        Caveat(
            key,
            f"runs as a single Postgres StatefulSet on Kubernetes without CloudNativePG: "
            f"{' and '.join(asked)} not deployed; set {PROJECT}:kubernetes.cnpg: true on a cluster "
            "with the CloudNativePG operator to get them",
        )
        for key, asked in database_features_not_built(blueprint, profile).values()
    ]
