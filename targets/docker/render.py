"""What the Docker target hands to Docker's own tools: compose files and the nginx config.

Works on the offline preview's recorded resources (no SDK import), so
``python -m preview dev --render DIR`` writes, per Docker engine, a compose
file equivalent to the containers the program registers, plus every
generated config file (nginx.conf) the containers receive. Secret files are
listed in the compose file as ``secrets:`` pointing to ``secrets/<name>``,
which are not written (their values never leave the Pulumi state).

The program delivers files through never-started carrier containers and read-only
volumes (``containers.py``); compose has ``secrets:`` and ``configs:`` for that, so
carriers and their volumes become those entries of the workload they serve.

Services, networks, volumes and files are written by name: the order the program registered
them in changes from run to run under the mock runtime, and the files should not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml

from components.protocol import SECRETS_DIR
from targets.docker.delivery import CARRIER_LABEL, CONFIG_DIR

CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"
PROVIDER = "pulumi:providers:docker"
NETWORK = "docker:index/network:Network"
VOLUME = "docker:index/volume:Volume"
SECRET = "[secret]"


class RecordedLike(Protocol):
    """The fields of ``preview.mocks.Recorded`` this module reads."""

    urn: str
    type: str
    name: str
    provider: str | None
    dependencies: list[str]
    inputs: dict[str, Any]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "local"


def _label(resource: RecordedLike, key: str) -> str | None:
    return next((str(lbl["value"]) for lbl in resource.inputs.get("labels") or [] if lbl.get("label") == key), None)


def _by_name(resources: Sequence[RecordedLike]) -> list[RecordedLike]:
    """Resources by type and Docker name (the name the engine knows), whatever order they were registered in."""
    return sorted(resources, key=lambda r: (r.type, str(r.inputs.get("name", r.name)), r.name))


def carriers(resources: Sequence[RecordedLike]) -> dict[str, RecordedLike]:
    """The carrier container of each container that receives files, by the served container's name."""
    found: dict[str, RecordedLike] = {}
    for box in (r for r in resources if r.type == CONTAINER):
        served = _label(box, CARRIER_LABEL)
        if served is not None:
            found[served] = box
    return found


def compose_documents(resources: Sequence[RecordedLike]) -> dict[str, dict[str, Any]]:
    """One compose document per Docker engine, keyed by a file-name-safe engine slug."""
    resources = _by_name(resources)
    by_urn = {r.urn: r for r in resources}
    hosts = {r.urn: str(r.inputs.get("host", "unix:///var/run/docker.sock")) for r in resources if r.type == PROVIDER}
    files_of = carriers(resources)
    documents: dict[str, dict[str, Any]] = {}
    for box in (r for r in resources if r.type == CONTAINER and _label(r, CARRIER_LABEL) is None):
        host = hosts.get(box.provider or "", "unix:///var/run/docker.sock")
        doc = documents.setdefault(
            host, {"name": "", "services": {}, "networks": {}, "volumes": {}, "secrets": {}, "configs": {}}
        )
        name = str(box.inputs.get("name", box.name))
        doc["services"][name] = _service(box, by_urn, doc, files_of.get(name))
    for resource in resources:
        host = hosts.get(resource.provider or "", "unix:///var/run/docker.sock")
        if host not in documents or _label(resource, CARRIER_LABEL) is not None:
            continue
        if resource.type == NETWORK:
            net = str(resource.inputs.get("name"))
            documents[host]["networks"][net] = {"name": net, "driver": resource.inputs.get("driver", "bridge")}
            documents[host]["name"] = net
        elif resource.type == VOLUME:
            vol = str(resource.inputs.get("name"))
            documents[host]["volumes"][vol] = {"name": vol}
    named = {}
    for host, doc in documents.items():
        for key in ("secrets", "configs"):
            if not doc[key]:
                del doc[key]
        named[_slug(host.split("://", 1)[-1])] = doc
    return named


def _service(
    box: RecordedLike, by_urn: dict[str, RecordedLike], doc: dict[str, Any], carrier: RecordedLike | None
) -> dict[str, Any]:
    """The compose service of one recorded container, its keys in compose's usual reading order; the files
    its carrier delivers are added to ``doc``'s top-level ``secrets`` and ``configs``."""
    inputs = box.inputs
    image = next(
        (str(by_urn[d].inputs.get("name")) for d in box.dependencies if d in by_urn and by_urn[d].type == IMAGE),
        str(inputs.get("image")),
    )
    return {
        "image": image,
        "container_name": inputs.get("name"),
        **_process(inputs),
        **_confinement(inputs),
        **_limits(inputs),
        **_healthcheck(inputs),
        **_attachments(inputs),
        **_gpu_reservations(inputs),
        **_observability(inputs),
        **_delivered(carrier, str(inputs.get("name")), doc),
    }


# Container inputs copied as they are (when set at all, falsy values included), by their compose key.
_AS_IS = (("user", "user"), ("readOnly", "read_only"), ("init", "init"), ("restart", "restart"))


def _process(inputs: dict[str, Any]) -> dict[str, Any]:
    """What runs and how: command, environment, user, read-only root, init, restart policy, tmpfs mounts."""
    service: dict[str, Any] = {}
    if inputs.get("command"):
        service["command"] = inputs["command"]
    if inputs.get("envs"):
        service["environment"] = dict(e.split("=", 1) for e in inputs["envs"] if isinstance(e, str))
    service.update((target, inputs[key]) for key, target in _AS_IS if key in inputs)
    if inputs.get("tmpfs"):
        service["tmpfs"] = [f"{path}:{opts}" for path, opts in inputs["tmpfs"].items()]
    return service


def _confinement(inputs: dict[str, Any]) -> dict[str, Any]:
    """Security options and the capabilities dropped and added."""
    caps = inputs.get("capabilities") or {}
    candidates = (
        ("security_opt", inputs.get("securityOpts")),
        ("cap_drop", caps.get("drops")),
        ("cap_add", caps.get("adds")),
    )
    return {key: value for key, value in candidates if value}


def _limits(inputs: dict[str, Any]) -> dict[str, Any]:
    """Memory limit and reservation (MiB), CPUs and CPU shares."""
    converters: tuple[tuple[str, str, Any], ...] = (
        ("memory", "mem_limit", lambda v: f"{v}m"),
        ("memoryReservation", "mem_reservation", lambda v: f"{v}m"),
        ("cpus", "cpus", float),
        ("cpuShares", "cpu_shares", lambda v: v),
    )
    return {target: convert(inputs[key]) for key, target, convert in converters if key in inputs}


def _healthcheck(inputs: dict[str, Any]) -> dict[str, Any]:
    health = inputs.get("healthcheck")
    if not health:
        return {}
    return {
        "healthcheck": {
            "test": health.get("tests"),
            "interval": health.get("interval"),
            "timeout": health.get("timeout"),
            "retries": health.get("retries"),
            "start_period": health.get("startPeriod"),
        }
    }


def _attachments(inputs: dict[str, Any]) -> dict[str, Any]:
    """Published ports, networks with their aliases, and named volumes (the delivery volumes excepted: they
    become compose secrets and configs, see ``_delivered``)."""
    ports = [
        f"{p.get('ip', '127.0.0.1')}:{p['external']}:{p['internal']}/{p.get('protocol', 'tcp')}"
        for p in inputs.get("ports") or []
        if p.get("external")
    ]
    nets = inputs.get("networksAdvanced") or []
    vols = [v for v in inputs.get("volumes") or [] if v.get("containerPath") not in (SECRETS_DIR, CONFIG_DIR)]
    candidates = (
        ("ports", ports),
        ("networks", {str(n["name"]): {"aliases": n.get("aliases", [])} for n in nets}),
        ("volumes", [f"{v['volumeName']}:{v['containerPath']}" for v in vols]),
    )
    return {key: value for key, value in candidates if value}


def _gpu_reservations(inputs: dict[str, Any]) -> dict[str, Any]:
    """Device requests (GPUs) as compose ``deploy.resources.reservations.devices``."""
    devices = inputs.get("deviceRequests") or []
    if not devices:
        return {}
    fields = (("driver", "driver"), ("count", "count"), ("device_ids", "deviceIds"), ("capabilities", "capabilities"))
    reserved = [{key: d[name] for key, name in fields if d.get(name) is not None} for d in devices]
    return {"deploy": {"resources": {"reservations": {"devices": reserved}}}}


def _observability(inputs: dict[str, Any]) -> dict[str, Any]:
    """Log driver with its options, and labels."""
    service: dict[str, Any] = {}
    if inputs.get("logDriver"):
        service["logging"] = {"driver": inputs["logDriver"], "options": inputs.get("logOpts", {})}
    if inputs.get("labels"):
        service["labels"] = {str(lbl["label"]): str(lbl["value"]) for lbl in inputs["labels"]}
    return service


def _delivered(carrier: RecordedLike | None, container: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The files the container's carrier uploads: secret ones as compose ``secrets`` (under /run/secrets by
    their bare name), the others as ``configs``; each is declared in ``doc`` too."""
    secrets: list[dict[str, Any]] = []
    configs: list[dict[str, Any]] = []
    for upload in carrier.inputs.get("uploads") or [] if carrier is not None else []:
        path = str(upload["file"])
        if upload.get("content") == SECRET:
            secret_name = path.rsplit("/", 1)[-1]
            doc["secrets"][secret_name] = {"file": f"./secrets/{secret_name}"}
            target = secret_name if path.startswith(SECRETS_DIR + "/") else path
            secrets.append({"source": secret_name, "target": target})
        else:
            config_name = f"{container}-{_slug(path)}"
            doc["configs"][config_name] = {"file": f"./files/{config_name}"}
            configs.append({"source": config_name, "target": path})
    return {key: value for key, value in (("secrets", secrets), ("configs", configs)) if value}


def config_files(resources: Sequence[RecordedLike]) -> dict[str, str]:
    """Non-secret uploaded files (e.g. the generated nginx.conf), keyed as in the compose ``configs``."""
    files: dict[str, str] = {}
    for served, carrier in carriers(_by_name(resources)).items():
        for upload in carrier.inputs.get("uploads") or []:
            content = upload.get("content")
            if isinstance(content, str) and content != SECRET:
                files[f"{served}-{_slug(str(upload['file']))}"] = content
    return files


def render(resources: Sequence[RecordedLike], directory: Path) -> list[Path]:
    """Write compose files and config files under ``directory``; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    documents = compose_documents(resources)
    for slug, document in documents.items():
        name = "compose.yaml" if len(documents) == 1 else f"compose.{slug}.yaml"
        path = directory / name
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        written.append(path)
    files_dir = directory / "files"
    for name, content in config_files(resources).items():
        files_dir.mkdir(exist_ok=True)
        path = files_dir / name
        path.write_text(content)
        written.append(path)
        if name.endswith("nginx-conf"):
            nginx = directory / "nginx" / f"{name.removesuffix('-' + _slug(CONFIG_DIR + '/nginx.conf'))}.conf"
            nginx.parent.mkdir(exist_ok=True)
            nginx.write_text(content)
            written.append(nginx)
    return written
