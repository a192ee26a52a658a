"""What a blueprint must pass on Azure (Container Apps, Flexible Server, Front Door) before any resource is
registered, and what Container Apps deploys short of the ask.

SDK-free: the stack loader runs these for every Azure stack (``TargetPlugin.check`` and ``.caveats``).
Each limit is Container Apps' or Flexible Server's documented one (targets/azure/settings.py names the pages).
"""

from __future__ import annotations

import math
import re

from stacks.errors import Caveat, Problem
from stacks.placement import Placement
from stacks.profiles import Profile
from stacks.settings import PROJECT
from stacks.spec import Blueprint, WebSocketGatewaySpec
from stacks.workloads import Workload, workloads
from targets.azure.settings import (
    INGRESS_IDLE_TIMEOUT_S,
    MAX_REPLICAS,
    WORKLOAD_PROFILES,
    AzurePoolSettings,
    AzureSettings,
    postgres_tier,
    replica_size,
)

# Container App names: 2-32 lowercase letters, digits and '-', starting with a letter, no '--', not ending in '-'.
APP_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,30}[a-z0-9]$")


def check(
    source: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, AzurePoolSettings],
    target_settings: AzureSettings,
) -> list[Problem]:
    """Replica sizes per workload profile, GPUs per replica, GPU profile regions, replica counts, app names,
    WebSocket keep-alive under the ingress idle timeout, and read replicas on the Postgres tier."""
    del source, path
    problems = _regions(blueprint, pool_settings, target_settings) + _keepalive(blueprint)
    for workload in workloads(blueprint):
        if workload.key.startswith("databases.") or workload.key.endswith(".turn"):
            continue  # Flexible Server and the TURN scale set, not Container Apps
        problems += _app(workload, blueprint, placement, pool_settings)
    tier = postgres_tier(target_settings.postgres_sku)
    for name, database in blueprint.databases.items():
        if database.read_replicas and tier == "Burstable":
            problems.append(
                Problem(
                    f"{PROJECT}:azure.postgres_sku",
                    target_settings.postgres_sku,
                    f"databases.{name}.read_replicas asks for {database.read_replicas}, which Burstable flexible "
                    "servers cannot have: use a Standard_D* (General Purpose) or Standard_E* (Memory Optimized) SKU",
                )
            )
    return problems


def _app(
    workload: Workload, blueprint: Blueprint, placement: Placement, pool_settings: dict[str, AzurePoolSettings]
) -> list[Problem]:
    """One Container App: its name, its size and GPUs on its pool's workload profile, its replica count."""
    pool_name = placement.pool_of[workload.key]
    settings = pool_settings[pool_name]
    profile_name = settings.profile_type(blueprint.pools[pool_name].gpus)
    profile = WORKLOAD_PROFILES[profile_name]
    setting = f"pools.{pool_name}.targets.azure.workload_profile"
    problems = []
    if not APP_NAME.match(workload.name):
        problems.append(
            Problem(
                workload.key,
                workload.name,
                "a Container App name is 2-32 lowercase letters, digits and '-', starting with a letter, with no "
                "'--' and no trailing '-': shorten or rename the workload",
            )
        )
    cpu, memory = replica_size(profile_name, workload.requests.cpu, workload.requests.memory)
    if cpu > profile.cpu or memory > profile.memory_gib:
        problems.append(
            Problem(
                f"{workload.key}.requests",
                f"{workload.requests.cpu:g} cpu, {workload.requests.memory} MiB",
                f"a replica on the {profile_name} workload profile gets at most {profile.cpu:g} vCPU and "
                f"{profile.memory_gib:g} GiB (this asks {cpu:g} vCPU, {memory:g} GiB): lower the requests or set "
                f"{setting} to a larger profile (D4-D32, E4-E32)",
            )
        )
    gpu = workload.requests.gpu
    if gpu > 0 and profile.gpus == 0:
        problems.append(
            Problem(
                f"{workload.key}.pool",
                pool_name,
                f"pool {pool_name!r} runs on the {profile_name} workload profile, which has no GPUs: set {setting} to "
                "Consumption-GPU-NC8as-T4, Consumption-GPU-NC24-A100 or NC24/48/96-A100",
            )
        )
    elif gpu > profile.gpus:
        problems.append(
            Problem(
                f"{workload.key}.requests.gpu",
                f"{gpu:g}",
                f"a replica on {profile_name} gets at most {profile.gpus} GPU(s): lower it or use a larger A100 "
                "profile (NC48-A100: 2, NC96-A100: 4)",
            )
        )
    elif gpu > 0 and not profile.per_replica:
        problems += _dedicated_gpus(workload, pool_name, profile_name, settings)
    if workload.replicas > MAX_REPLICAS:
        problems.append(
            Problem(f"{workload.key}.autoscale.max", workload.replicas, f"Container Apps runs at most {MAX_REPLICAS}")
        )
    return problems


def _dedicated_gpus(workload: Workload, pool: str, profile_name: str, settings: AzurePoolSettings) -> list[Problem]:
    """A dedicated GPU profile is nodes of whole GPUs: the workload's replicas (each a whole number of GPUs)
    must fit its ``max_nodes``."""
    profile = WORKLOAD_PROFILES[profile_name]
    wanted = math.ceil(workload.requests.gpu) * workload.replicas
    offered = profile.gpus * settings.max_nodes
    if wanted <= offered:
        return []
    return [
        Problem(
            f"pools.{pool}.targets.azure.max_nodes",
            settings.max_nodes,
            f"{workload.key} wants {wanted} whole GPUs at its most replicas, but {profile_name} x max_nodes "
            f"{settings.max_nodes} offers {offered}: raise max_nodes",
        )
    ]


def _regions(
    blueprint: Blueprint, pool_settings: dict[str, AzurePoolSettings], settings: AzureSettings
) -> list[Problem]:
    """GPU workload profiles exist in a few regions only: a pool on one elsewhere cannot deploy."""
    problems = []
    for name, pool in blueprint.pools.items():
        pool_setting = pool_settings[name]
        profile_name = pool_setting.profile_type(pool.gpus)
        regions = WORKLOAD_PROFILES[profile_name].regions
        if regions and settings.location not in regions:
            problems.append(
                Problem(
                    f"{PROJECT}:azure.location",
                    settings.location,
                    f"pool {name!r} runs on the {profile_name} workload profile, offered only in "
                    f"{', '.join(sorted(regions))}: move the stack there or change "
                    f"pools.{name}.targets.azure.workload_profile",
                )
            )
    return problems


def _gateways(blueprint: Blueprint) -> list[tuple[str, WebSocketGatewaySpec]]:
    """Every WebSocket route of the blueprint (gateways and Pixel Streaming signalling), by key path."""
    found = [(f"websocket_gateways.{name}", spec) for name, spec in blueprint.websocket_gateways.items()]
    found += [(f"pixel_streaming.{name}.signalling", s.signalling) for name, s in blueprint.pixel_streaming.items()]
    return found


def _keepalive(blueprint: Blueprint) -> list[Problem]:
    """The Container Apps ingress cuts a connection idle for 240 s (Front Door's WebSocket idle timeout is 300 s):
    a longer idle timeout holds only when the application pings more often than that."""
    return [
        Problem(
            f"{key}.ping_interval_s",
            spec.ping_interval_s,
            f"Container Apps' ingress closes WebSockets idle for {INGRESS_IDLE_TIMEOUT_S} s: ping more often "
            f"(below {INGRESS_IDLE_TIMEOUT_S})",
        )
        for key, spec in _gateways(blueprint)
        if spec.ping_interval_s >= INGRESS_IDLE_TIMEOUT_S
    ]


def caveats(
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, AzurePoolSettings],
    target_settings: AzureSettings,
    profile: Profile,
) -> list[Caveat]:
    """Whole GPUs per replica, idle timeouts held by keep-alive, no exec probes, the image's own user."""
    del path, placement, pool_settings
    found = []
    for workload in workloads(blueprint):
        gpu = workload.requests.gpu
        if 0 < gpu < 1:
            found.append(
                Caveat(
                    f"{workload.key}.requests.gpu",
                    f"gets a whole GPU per replica on Container Apps ({gpu:g} asked): sharing a card needs AKS",
                )
            )
    for key, spec in _gateways(blueprint):
        if spec.idle_timeout_s > INGRESS_IDLE_TIMEOUT_S:
            found.append(
                Caveat(
                    f"{key}.idle_timeout_s",
                    f"Container Apps closes connections idle for {INGRESS_IDLE_TIMEOUT_S} s; the application's "
                    f"pings every {spec.ping_interval_s} s keep them open up to Front Door's 4 h WebSocket limit",
                )
            )
    for name, service in blueprint.services.items():
        if service.health is not None and service.health.kind == "command":
            found.append(
                Caveat(
                    f"services.{name}.health",
                    "Container Apps probes are HTTP or TCP only: the first TCP port is probed, or none without ports",
                )
            )
    found.append(
        Caveat(
            "services",
            "Container Apps runs each image as its own USER with a writable root filesystem: the blueprint's user "
            "and read_only_root are the image's to honour",
        )
    )
    del profile
    return found
