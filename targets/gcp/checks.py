"""What a blueprint must pass on GCP (Cloud Run, Compute Engine, Cloud SQL) before any resource is registered,
and what GCP deploys short of the ask.

SDK-free: the stack loader runs these for every GCP stack (``TargetPlugin.check`` and ``.caveats``). Where each
workload runs is :mod:`targets.gcp.fit`'s decision; the limits there cite the docs that set them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stacks.errors import Caveat, Problem
from stacks.placement import Placement
from stacks.profiles import Profile
from stacks.settings import PROJECT
from stacks.spec import Blueprint
from stacks.workloads import Workload, workloads
from targets.gcp import fit
from targets.gcp.settings import GcpPoolSettings, GcpSettings


def spec_of(blueprint: Blueprint, key: str) -> Any:
    """The blueprint object at a workload's key path (``grpc_tool_fleets.kite.tools.empirical``)."""
    found: Any = blueprint
    for part in key.split("."):
        found = found[part] if isinstance(found, dict) else getattr(found, part)
    return found


def shape(blueprint: Blueprint, workload: Workload, listed: Sequence[str] = ()) -> fit.Shape:
    """The workload's :class:`fit.Shape` from its blueprint spec (a gRPC tool is probed over gRPC; a Pixel
    Streaming streamer exchanges UDP media with its relay)."""
    spec = spec_of(blueprint, workload.key)
    health = getattr(spec, "health", None)
    volumes = getattr(spec, "volumes", {}) or {}
    return fit.Shape(
        ports=tuple((p.protocol, p.app_protocol) for p in workload.ports),
        health=health.kind if health is not None else "grpc",
        single_writer_volumes=tuple(sorted(n for n, v in volumes.items() if not v.shared)),
        gpu=workload.requests.gpu,
        udp_peer=workload.key.startswith("pixel_streaming.") and workload.key.endswith(".streamer"),
        listed=workload.name in listed,
    )


def check(
    source: str,
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, GcpPoolSettings],
    target_settings: GcpSettings,
) -> list[Problem]:
    """Pixel Streaming is not built here; every other workload must fit Cloud Run or one VM; routes' timeouts."""
    del source, path, placement, pool_settings
    listed = target_settings.vm_workloads
    problems = [
        Problem(
            f"{PROJECT}:gcp.vm_workloads",
            list(listed),
            f"list {name}-signalling: the Pixel Streaming streamer reaches its signalling server at "
            "ws://host:port without a Google ID token, which a Cloud Run service cannot serve, so on gcp it runs "
            "on a VM",
        )
        for name in blueprint.pixel_streaming
        if f"{name}-signalling" not in listed
    ]
    names = {w.name for w in workloads(blueprint)}
    problems += [
        Problem(f"{PROJECT}:gcp.vm_workloads[{i}]", name, f"a workload of the blueprint: {', '.join(sorted(names))}")
        for i, name in enumerate(listed)
        if name not in names
    ]
    for workload in workloads(blueprint):
        if workload.key.startswith("databases.") or workload.key.endswith(".turn"):
            continue  # Cloud SQL; the relay is always a VM of fixed size
        problems += _workload_problems(blueprint, workload, target_settings)
    problems += _timeouts(blueprint)
    return problems


def _limits(workload: Workload) -> tuple[float, int]:
    limits = workload.limits or workload.requests
    return max(limits.cpu, workload.requests.cpu), max(limits.memory, workload.requests.memory)


def _workload_problems(blueprint: Blueprint, workload: Workload, settings: GcpSettings) -> list[Problem]:
    cpu, memory = _limits(workload)
    gpu = workload.requests.gpu
    region = settings.region
    reasons = fit.vm_reasons(shape(blueprint, workload, settings.vm_workloads))
    if reasons:
        if workload.replicas > 1:
            return [
                Problem(
                    f"{workload.key}.replicas",
                    workload.replicas,
                    f"runs on a Compute Engine VM on gcp ({'; '.join(reasons)}), and a VM workload runs 1 replica: "
                    "set replicas 1 (no autoscale) or make it fit Cloud Run",
                )
            ]
        if fit.machine_for(cpu, memory, gpu) is None:
            return [
                Problem(
                    f"{workload.key}.limits",
                    f"{cpu:g} cpu, {memory} MiB, {gpu:g} GPU",
                    "no E2 or G2 machine type holds it (up to 32 vCPU / 128 GiB without GPUs, 96 vCPU / 384 GiB "
                    "with 8 L4s): lower the limits",
                )
            ]
        return []
    if fit.cloud_run_size(cpu, memory, gpu) is None:
        return [
            Problem(
                f"{workload.key}.limits",
                f"{cpu:g} cpu, {memory} MiB",
                "the largest Cloud Run instance is 8 vCPU and 32 GiB (a GPU instance needs at least 4 vCPU and "
                "16 GiB): lower the limits",
            )
        ]
    autoscale = getattr(spec_of(blueprint, workload.key), "autoscale", None)
    if autoscale is not None and not fit.CPU_TARGET_PERCENT[0] <= autoscale.cpu_percent <= fit.CPU_TARGET_PERCENT[1]:
        low, high = fit.CPU_TARGET_PERCENT
        return [
            Problem(
                f"{workload.key}.autoscale.cpu_percent",
                autoscale.cpu_percent,
                f"{low}-{high} on gcp (Cloud Run's scaling.cpuUtilization accepts 0.{low // 10}-0.{high // 10})",
            )
        ]
    if gpu > 0 and region not in fit.L4_REGIONS:
        return [
            Problem(
                f"{PROJECT}:gcp.region",
                region,
                f"{workload.key} wants a GPU, which Cloud Run offers (NVIDIA L4) only in {', '.join(fit.L4_REGIONS)}",
            )
        ]
    return []


def balanced_keys(blueprint: Blueprint) -> set[str]:
    """Workload keys the load balancer fronts: routed services, gateways, fleet APIs with a route, signalling
    servers, and the tools of a fleet with ``public_grpc`` (their backend health check probes them)."""
    keys = {f"services.{n}" for n, s in blueprint.services.items() if s.route}
    keys |= {f"websocket_gateways.{n}.service" for n in blueprint.websocket_gateways}
    keys |= {f"grpc_tool_fleets.{n}.api" for n, f in blueprint.grpc_tool_fleets.items() if f.api.route}
    keys |= {f"pixel_streaming.{n}.signalling.service" for n in blueprint.pixel_streaming}
    keys |= {
        f"grpc_tool_fleets.{n}.tools.{t}"
        for n, f in blueprint.grpc_tool_fleets.items()
        if f.public_grpc
        for t in f.tools
    }
    return keys


def _unprobed(blueprint: Blueprint, workload: Workload) -> list[Caveat]:
    """A VM workload's HTTP/gRPC check runs only as its load-balancer backend's health check (a command check is
    Docker's own, on the VM); an unrouted one is restarted when its container exits, never for not answering."""
    health = getattr(spec_of(blueprint, workload.key), "health", None)
    kind = health.kind if health is not None else "grpc"
    if kind == "command" or workload.key in balanced_keys(blueprint):
        return []
    return [
        Caveat(
            f"{workload.key}.health",
            f"nothing probes its {kind} health check on gcp: a VM workload's HTTP/gRPC check runs only as a load "
            "balancer backend's, and this one has no route (Docker restarts it when the container exits)",
        )
    ]


def _image_user(blueprint: Blueprint, workload: Workload) -> Caveat:
    """Cloud Run's container contract has no user setting: the container runs as its image's ``USER``."""
    user = getattr(spec_of(blueprint, workload.key), "user", None)
    return Caveat(
        f"{workload.key}.user",
        f"Cloud Run runs the image's own USER (its container contract takes no user): the blueprint's user {user} "
        "must be the image's USER, or the container runs as whatever the image declares",
    )


def _timeouts(blueprint: Blueprint) -> list[Problem]:
    """A WebSocket lives one Cloud Run request, at most 3600 s; the gateway's idle timeout becomes that timeout."""
    return [
        Problem(
            f"websocket_gateways.{name}.idle_timeout_s",
            gateway.idle_timeout_s,
            f"1-{fit.MAX_TIMEOUT_S} on gcp (Cloud Run's longest request timeout, which bounds a WebSocket)",
        )
        for name, gateway in blueprint.websocket_gateways.items()
        if gateway.idle_timeout_s > fit.MAX_TIMEOUT_S
    ]


def caveats(
    path: str,
    blueprint: Blueprint,
    placement: Placement,
    pool_settings: dict[str, GcpPoolSettings],
    target_settings: GcpSettings,
    profile: Profile,
) -> list[Caveat]:
    """VM workloads (and why), fractional GPUs taking a whole L4, sizes Cloud Run raises, peers over HTTPS."""
    del path, placement, pool_settings, profile  # Cloud SQL builds replicas and HA as asked
    found = []
    for workload in workloads(blueprint):
        if workload.key.startswith("databases.") or workload.key.endswith(".turn"):
            continue
        found += _workload_caveats(blueprint, workload, _used(blueprint), target_settings.vm_workloads)
    return found


def _used(blueprint: Blueprint) -> set[str]:
    """Names other workloads reach: every ``uses`` entry, and each fleet's tools (its API calls them)."""
    used = {name for w in workloads(blueprint) for name in getattr(spec_of(blueprint, w.key), "uses", [])}
    used |= {f"{fleet}-{tool}" for fleet, spec in blueprint.grpc_tool_fleets.items() for tool in spec.tools}
    return used


def _workload_caveats(blueprint: Blueprint, workload: Workload, used: set[str], listed: Sequence[str]) -> list[Caveat]:
    found = []
    gpu = workload.requests.gpu
    reasons = fit.vm_reasons(shape(blueprint, workload, listed))
    if reasons:
        found.append(Caveat(workload.key, f"runs as a container on a Compute Engine VM: {'; '.join(reasons)}"))
        found += _unprobed(blueprint, workload)
    else:
        found.append(_image_user(blueprint, workload))
    if not reasons and workload.name in used:
        found.append(
            Caveat(
                workload.key,
                "runs on Cloud Run: peers reach it at its run.app host on port 443 over HTTPS with a Google ID "
                "token (roles/run.invoker is granted to each user's service account)",
            )
        )
    if 0 < gpu < 1:
        found.append(Caveat(f"{workload.key}.requests.gpu", f"takes a whole NVIDIA L4 on gcp ({gpu:g} asked)"))
    cpu, memory = _limits(workload)
    size = fit.cloud_run_size(cpu, memory, gpu) if not reasons else None
    if size is not None and (size[0] > cpu + 1e-9 or size[1] > memory):
        found.append(
            Caveat(
                f"{workload.key}.limits",
                f"Cloud Run runs it with {size[0]} vCPU and {size[1]} MiB ({cpu:g} cpu, {memory} MiB asked): "
                "its CPU steps and memory-per-CPU rules (and a GPU's 4 vCPU / 16 GiB minimum)",
            )
        )
    return found
