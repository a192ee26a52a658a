"""Apply the recorded Docker resources to a real engine the way pulumi-docker would.

What it mirrors (terraform-provider-docker, which pulumi-docker bridges:
``internal/provider/resource_docker_container_funcs.go``, ``resourceDockerContainerCreate``):
- networks (``docker_network``) and volumes (``docker_volume``) first, with their names,
  driver, attachable flag and labels;
- images (``docker_remote_image``) are looked up locally by reference; the provider pulls
  only when the image is missing, and here nothing may be pulled, so a missing image fails;
- each container, in dependency order: ``ContainerCreate`` with the same Config and
  HostConfig (image id, entrypoint, command, env, user, labels, health check, exposed ports, network mode,
  port bindings, ``volume:path:rw`` binds, read-only root, tmpfs, capabilities, security
  options, privileged, init, memory and reservation in MiB, NanoCPUs, CPU shares, device
  requests, restart policy, log config, extra hosts); then disconnect from the default
  ``bridge`` and ``NetworkConnect`` each ``networks_advanced`` entry with its aliases; then
  each ``upload`` as a one-file tar copied to ``/`` (mode from ``permissions``, uid/gid from
  ``owner``/``group``); then ``ContainerStart`` unless ``start`` is false (``wait`` is false in
  the program, so no wait for health).
- a second apply reads each container back (``ContainerInspect``) and compares the fields the
  provider reads into its state; any difference is what ``pulumi up`` would show as a change.

What it does not mirror: Pulumi state and diffing of the other resource types, replacement
(``delete_before_replace``), ``must_run`` restarts, ``protect``/``retain_on_delete``, image
pulls and platforms, providers per pool (every pool is this one local engine), logs capture.
"""

from __future__ import annotations

import io
import re
import tarfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from preview.mocks import Recorded
from tests.e2e.engine_api import Engine, EngineError
from tests.e2e.stack import DesiredStack

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")


def _nanoseconds(duration: str) -> int:
    match = _DURATION.match(duration)
    assert match, f"not a Go duration: {duration!r}"
    hours, minutes, seconds = match.groups()
    return int(((int(hours or 0) * 60 + int(minutes or 0)) * 60 + float(seconds or 0)) * 1e9)


def _labels(entries: Iterable[dict[str, str]]) -> dict[str, str]:
    return {entry["label"]: entry["value"] for entry in entries}


@dataclass
class Applied:
    """What one apply did: names created, and per container the upload or start error, if any."""

    created: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def container_body(inputs: dict[str, Any], image_id: str) -> dict[str, Any]:
    """The ``ContainerCreate`` request the provider builds from a container's inputs."""
    ports = inputs.get("ports") or []
    exposed = {f"{p['internal']}/{p.get('protocol', 'tcp')}": {} for p in ports}
    bindings: dict[str, list[dict[str, str]]] = {}
    for p in ports:
        binding = {"HostIp": p.get("ip", ""), "HostPort": str(p["external"]) if p.get("external") else ""}
        bindings.setdefault(f"{p['internal']}/{p.get('protocol', 'tcp')}", []).append(binding)
    health = inputs.get("healthcheck")
    caps = inputs.get("capabilities") or {}
    host_config: dict[str, Any] = {
        "Binds": [
            f"{v['volumeName']}:{v['containerPath']}:{'ro' if v.get('readOnly') else 'rw'}"
            for v in inputs.get("volumes") or []
        ],
        "PortBindings": bindings,
        "ReadonlyRootfs": bool(inputs.get("readOnly")),
        "Tmpfs": inputs.get("tmpfs") or {},
        "SecurityOpt": inputs.get("securityOpts") or [],
        "CapAdd": caps.get("adds") or [],
        "CapDrop": caps.get("drops") or [],
        "Privileged": bool(inputs.get("privileged")),
        "Init": bool(inputs.get("init")),
        "Memory": int(inputs.get("memory") or 0) * 1024 * 1024,
        "MemoryReservation": int(inputs.get("memoryReservation") or 0) * 1024 * 1024,
        "NanoCpus": int(float(inputs.get("cpus") or 0) * 1e9),
        "CpuShares": int(inputs.get("cpuShares") or 0),
        "DeviceRequests": [
            {
                "Driver": d.get("driver", ""),
                "Count": int(d.get("count") or 0),
                "DeviceIDs": d.get("deviceIds") or [],
                "Capabilities": [d.get("capabilities") or []],
            }
            for d in inputs.get("deviceRequests") or []
        ],
        "RestartPolicy": {"Name": inputs.get("restart", "no")},
        "LogConfig": {"Type": inputs.get("logDriver", "json-file"), "Config": inputs.get("logOpts") or {}},
        "ExtraHosts": [f"{h['host']}:{h['ip']}" for h in inputs.get("hosts") or []],
    }
    if inputs.get("networkMode"):
        host_config["NetworkMode"] = inputs["networkMode"]
    body: dict[str, Any] = {
        "Image": image_id,
        "Env": inputs.get("envs") or [],
        "User": inputs.get("user", ""),
        "Labels": _labels(inputs.get("labels") or []),
        "ExposedPorts": exposed,
        "Volumes": {v["containerPath"]: {} for v in inputs.get("volumes") or []},
        "HostConfig": host_config,
    }
    if inputs.get("command"):
        body["Cmd"] = inputs["command"]
    if inputs.get("entrypoints"):
        body["Entrypoint"] = inputs["entrypoints"]
    if health:
        body["Healthcheck"] = {
            "Test": health["tests"],
            "Interval": _nanoseconds(health.get("interval", "0s")),
            "Timeout": _nanoseconds(health.get("timeout", "0s")),
            "StartPeriod": _nanoseconds(health.get("startPeriod", "0s")),
            "Retries": int(health.get("retries", 0)),
        }
    return body


def upload_tar(upload: dict[str, Any]) -> bytes:
    """One upload as the provider sends it: a tar with one file at its absolute path."""
    content = upload["content"].encode()
    info = tarfile.TarInfo(upload["file"])
    info.size = len(content)
    info.mtime = int(time.time())
    info.mode = (
        int(upload["permissions"], 8) if upload.get("permissions") else (0o744 if upload.get("executable") else 0o644)
    )
    info.uid = int(upload.get("owner") or 0)
    info.gid = int(upload.get("group") or 0)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def dependency_order(containers: list[Recorded]) -> list[Recorded]:
    """Containers after the containers they depend on (the engine creates them in this order)."""
    by_urn = {c.urn: c for c in containers}
    done: list[Recorded] = []
    seen: set[str] = set()

    def visit(container: Recorded) -> None:
        if container.urn in seen:
            return
        seen.add(container.urn)
        for urn in container.dependencies:
            if urn in by_urn:
                visit(by_urn[urn])
        done.append(container)

    for container in containers:
        visit(container)
    return done


def apply(engine: Engine, stack: DesiredStack) -> Applied:
    """Create what does not exist yet; existing resources are left alone (see ``drift``)."""
    applied = Applied()
    _create_networks(engine, stack, applied)
    _create_volumes(engine, stack, applied)
    for container in dependency_order(stack.containers):
        inputs = container.unmasked_inputs
        if engine.exists(f"/containers/{inputs['name']}/json"):
            continue
        image_id = engine.inspect("images", stack.image_of(container))["Id"]
        try:
            _create_container(engine, inputs, image_id, applied)
        except EngineError as error:
            applied.errors[inputs["name"]] = str(error)
    return applied


def _create_networks(engine: Engine, stack: DesiredStack, applied: Applied) -> None:
    for network in stack.networks:
        inputs = network.inputs
        if not engine.exists(f"/networks/{inputs['name']}"):
            engine.request(
                "POST",
                "/networks/create",
                {
                    "Name": inputs["name"],
                    "Driver": inputs.get("driver", "bridge"),
                    "Attachable": bool(inputs.get("attachable")),
                    "Internal": bool(inputs.get("internal")),
                    "Labels": _labels(inputs.get("labels") or []),
                    "CheckDuplicate": True,
                },
            )
            applied.created.append(f"network/{inputs['name']}")


def _create_volumes(engine: Engine, stack: DesiredStack, applied: Applied) -> None:
    for volume in stack.volumes:
        inputs = volume.inputs
        if not engine.exists(f"/volumes/{inputs['name']}"):
            engine.request(
                "POST", "/volumes/create", {"Name": inputs["name"], "Labels": _labels(inputs.get("labels") or [])}
            )
            applied.created.append(f"volume/{inputs['name']}")


def _create_container(engine: Engine, inputs: dict[str, Any], image_id: str, applied: Applied) -> None:
    """Create one container as the provider does: its networks, its uploaded files, then start it."""
    name = inputs["name"]
    created = engine.request("POST", "/containers/create", container_body(inputs, image_id), query={"name": name})
    applied.created.append(f"container/{name}")
    _connect(engine, created["Id"], inputs.get("networksAdvanced") or [])
    for upload in inputs.get("uploads") or []:
        engine.request(
            "PUT",
            f"/containers/{created['Id']}/archive",
            query={"path": "/"},
            raw=upload_tar(upload),
            content_type="application/x-tar",
        )
    if not inputs.get("start", True):
        return
    engine.request("POST", f"/containers/{created['Id']}/start")
    if inputs.get("attach"):
        # Like the provider with attach: wait for the one-shot to exit before its dependents.
        ended = engine.request("POST", f"/containers/{created['Id']}/wait")
        if isinstance(ended, dict) and ended.get("StatusCode"):
            applied.errors[name] = f"exited with status {ended['StatusCode']}"


def _connect(engine: Engine, container_id: str, networks: list[dict[str, Any]]) -> None:
    """Move the container from the default bridge to each of its networks, with its aliases there."""
    for network in networks:
        try:
            engine.request("POST", "/networks/bridge/disconnect", {"Container": container_id})
        except EngineError as error:
            if "is not connected" not in error.message:
                raise
        engine.request(
            "POST",
            f"/networks/{network['name']}/connect",
            {"Container": container_id, "EndpointConfig": {"Aliases": network.get("aliases") or []}},
        )


def drift(engine: Engine, stack: DesiredStack) -> dict[str, list[str]]:
    """Per resource, the fields where the engine's state differs from the program's inputs.

    Compares what the provider reads back into state (``resourceDockerContainerRead``): a
    difference there is a change ``pulumi up`` would plan for an unchanged program.
    """
    changes: dict[str, list[str]] = {}
    for network in stack.networks:
        if not engine.exists(f"/networks/{network.inputs['name']}"):
            changes[f"network/{network.inputs['name']}"] = ["missing"]
    for volume in stack.volumes:
        if not engine.exists(f"/volumes/{volume.inputs['name']}"):
            changes[f"volume/{volume.inputs['name']}"] = ["missing"]
    for container in stack.containers:
        inputs = container.unmasked_inputs
        name = inputs["name"]
        try:
            actual = engine.inspect("containers", name)
        except EngineError:
            changes[f"container/{name}"] = ["missing"]
            continue
        want = container_body(inputs, engine.inspect("images", stack.image_of(container))["Id"])
        diffs = _compare(want, actual, inputs)
        if diffs:
            changes[f"container/{name}"] = diffs
    return changes


def _compare(want: dict[str, Any], actual: dict[str, Any], inputs: dict[str, Any]) -> list[str]:
    diffs = _differs("image", want["Image"], actual["Image"])
    diffs += _config_diffs(want, actual["Config"])
    diffs += _host_config_diffs(want["HostConfig"], actual["HostConfig"])
    diffs += _network_diffs(actual["NetworkSettings"]["Networks"], inputs)
    if inputs.get("mustRun", True) and inputs.get("start", True) and not actual["State"]["Running"]:
        diffs.append(f"mustRun: container is {actual['State']['Status']}")
    return diffs


def _differs(field_name: str, expected: Any, got: Any) -> list[str]:
    return [f"{field_name}: program {expected!r}, engine {got!r}"] if expected != got else []


def _config_diffs(want: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """Environment, user, command, entrypoint, labels and health check: only what the program sets."""
    diffs = _differs("envs", sorted(want["Env"]), sorted(e for e in config.get("Env") or [] if e in want["Env"]))
    diffs += _differs("user", want["User"], config.get("User", ""))
    if "Cmd" in want:
        diffs += _differs("command", want["Cmd"], config.get("Cmd"))
    if "Entrypoint" in want:
        diffs += _differs("entrypoints", want["Entrypoint"], config.get("Entrypoint"))
    labels = config.get("Labels") or {}
    diffs += _differs("labels", want["Labels"], {k: labels[k] for k in want["Labels"] if k in labels})
    if "Healthcheck" in want:
        actual_health = config.get("Healthcheck") or {}
        diffs += _differs("healthcheck", want["Healthcheck"], {k: actual_health.get(k) for k in want["Healthcheck"]})
    return diffs


def _host_config_diffs(want: dict[str, Any], host: dict[str, Any]) -> list[str]:
    """Limits, confinement, restart policy, ports, binds, hosts and logging (lists compared as sets)."""
    keys = ("ReadonlyRootfs", "Privileged", "Memory", "MemoryReservation", "NanoCpus", "CpuShares", "Init")
    diffs = [diff for key in keys for diff in _differs(key, want[key], host.get(key))]
    diffs += _differs("tmpfs", want["Tmpfs"], host.get("Tmpfs") or {})
    for field_name, key in (
        ("securityOpts", "SecurityOpt"),
        ("capabilities.drops", "CapDrop"),
        ("capabilities.adds", "CapAdd"),
    ):
        diffs += _differs(field_name, sorted(want[key]), sorted(host.get(key) or []))
    diffs += _differs("restart", want["RestartPolicy"]["Name"], host.get("RestartPolicy", {}).get("Name"))
    diffs += _differs("ports", want["PortBindings"], host.get("PortBindings") or {})
    diffs += _differs("binds", sorted(want["Binds"]), sorted(host.get("Binds") or []))
    diffs += _differs("hosts", sorted(want["ExtraHosts"]), sorted(host.get("ExtraHosts") or []))
    diffs += _differs("logOpts", want["LogConfig"], host.get("LogConfig"))
    return diffs


def _network_diffs(networks: dict[str, Any], inputs: dict[str, Any]) -> list[str]:
    """Every network the program names, with its aliases, and no other."""
    diffs: list[str] = []
    for network in inputs.get("networksAdvanced") or []:
        attached = networks.get(network["name"])
        if attached is None:
            diffs.append(f"networksAdvanced: not attached to {network['name']}")
            continue
        missing = set(network.get("aliases") or []) - set(attached.get("Aliases") or [])
        if missing:
            diffs.append(f"networksAdvanced: aliases {sorted(missing)} missing on {network['name']}")
    extra = set(networks) - {n["name"] for n in inputs.get("networksAdvanced") or []} - {inputs.get("networkMode")}
    if extra:
        diffs.append(f"networksAdvanced: also attached to {sorted(extra)}")
    return diffs


def destroy(engine: Engine, stack: DesiredStack) -> None:
    """Remove the stack's containers, then its volumes and networks (by the stack's own names only)."""
    for container in reversed(dependency_order(stack.containers)):
        try:
            engine.request("DELETE", f"/containers/{container.inputs['name']}", query={"force": "true", "v": "true"})
        except EngineError as error:
            if error.status != 404:
                raise
    for kind, resources in (("volumes", stack.volumes), ("networks", stack.networks)):
        for resource in resources:
            try:
                engine.request("DELETE", f"/{kind}/{resource.inputs['name']}")
            except EngineError as error:
                if error.status != 404:
                    raise
