"""Docker rules (CIS Docker Benchmark, section 5 "Container Runtime", and image pinning)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from policy.rules.base import Rule, Subject, as_list, get, resource_rule

CONTAINER = "docker:index/container:Container"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
VOLUME = "docker:index/volume:Volume"
# Label the Docker target puts on a container whose ports are meant to be reachable from outside.
PUBLIC_LABEL = "gpu-platform.public"


def _labels(subject: Subject) -> dict[str, str]:
    return {str(item.get("label")): str(item.get("value")) for item in as_list(subject.props.get("labels"))}


def read_only_volumes(subjects: Sequence[Subject]) -> set[str]:
    """Docker volumes that no running container can write: they hold delivered files, not state.

    The Docker target delivers files through a never-started carrier into volumes every
    workload mounts read-only; those volumes are regenerated from the program, so they are
    not protected. Decided from the mounts, not from a label, so a data volume cannot opt out.
    """
    written: set[str] = set()
    mounted: set[str] = set()
    for subject in subjects:
        if subject.type != CONTAINER:
            continue
        for mount in as_list(subject.props.get("volumes")):
            name = str(mount.get("volumeName") or "")
            mounted.add(name)
            if mount.get("readOnly") is not True and not _never_started(subject):
                written.add(name)
    return mounted - written - {""}


def _never_started(subject: Subject) -> bool:
    """A container created and never started runs no process: health, restart and root-fs rules do not apply.

    The Docker target's file carriers are such containers (their root must be writable for
    the engine to accept the files); every other rule still holds for them.
    """
    return subject.props.get("start") is False and subject.props.get("mustRun") is False


def _one_shot(subject: Subject) -> bool:
    """A container run once to completion while the provider waits (``attach``), never restarted.

    Health and restart rules do not apply to it: it exits by design. The Docker target's
    volume-ownership init (before the Postgres backup job) is one.
    """
    props = subject.props
    return props.get("attach") is True and props.get("mustRun") is False and props.get("restart") == "no"


def _root_ownership_init(subject: Subject) -> bool:
    """The one root container the Docker target runs: a one-shot ``chown`` of a fresh volume.

    Exempt from the non-root rule only in exactly this shape: one-shot, no network, read-only
    root, no-new-privileges, ALL capabilities dropped and only CHOWN added back, and its
    entrypoint ``chown`` itself (no shell, no image entrypoint), so root can do nothing else.
    """
    props = subject.props
    entrypoint = [str(e) for e in as_list(props.get("entrypoints"))]
    return (
        _one_shot(subject)
        and props.get("networkMode") == "none"
        and props.get("readOnly") is True
        and "no-new-privileges:true" in [str(o).replace("=", ":") for o in as_list(props.get("securityOpts"))]
        and [str(c).upper() for c in as_list(get(props, "capabilities.drops"))] == ["ALL"]
        and [str(c).upper() for c in as_list(get(props, "capabilities.adds"))] == ["CHOWN"]
        and bool(entrypoint)
        and entrypoint[0] in ("chown", "/bin/chown")
    )


@resource_rule(
    "gpu-platform-docker-no-privileged",
    "Containers must not run privileged, which gives them every capability and all host devices.",
    "critical",
    "CIS Docker 5.4",
    [CONTAINER],
)
def no_privileged(subject: Subject) -> Iterator[str]:
    if subject.props.get("privileged") is True:
        yield f"container {subject.name} runs privileged; request the specific devices or capabilities instead"


@resource_rule(
    "gpu-platform-docker-no-host-network",
    "Containers must not share the host's network namespace.",
    "high",
    "CIS Docker 5.9",
    [CONTAINER],
)
def no_host_network(subject: Subject) -> Iterator[str]:
    if subject.props.get("networkMode") == "host":
        yield f"container {subject.name} uses networkMode host; attach it to the stack network"


@resource_rule(
    "gpu-platform-docker-no-host-pid",
    "Containers must not share the host's process namespace.",
    "high",
    "CIS Docker 5.15",
    [CONTAINER],
)
def no_host_pid(subject: Subject) -> Iterator[str]:
    if subject.props.get("pidMode") == "host":
        yield f"container {subject.name} uses pidMode host"


@resource_rule(
    "gpu-platform-docker-no-host-ipc",
    "Containers must not share the host's IPC namespace.",
    "high",
    "CIS Docker 5.16",
    [CONTAINER],
)
def no_host_ipc(subject: Subject) -> Iterator[str]:
    if subject.props.get("ipcMode") == "host":
        yield f"container {subject.name} uses ipcMode host"


@resource_rule(
    "gpu-platform-docker-memory-limit",
    "Containers must have a memory limit so one workload cannot exhaust the host.",
    "medium",
    "CIS Docker 5.10",
    [CONTAINER],
)
def memory_limit(subject: Subject) -> Iterator[str]:
    if not subject.props.get("memory"):
        yield f"container {subject.name} has no memory limit"


@resource_rule(
    "gpu-platform-docker-cpu-limit",
    "Containers must have a CPU limit or CPU shares so one workload cannot starve the rest.",
    "medium",
    "CIS Docker 5.11",
    [CONTAINER],
)
def cpu_limit(subject: Subject) -> Iterator[str]:
    props = subject.props
    if not (props.get("cpus") or props.get("cpuShares") or props.get("cpuQuota")):
        yield f"container {subject.name} has no CPU limit (cpus, cpuShares or cpuQuota)"


@resource_rule(
    "gpu-platform-docker-healthcheck",
    "Containers must define a healthcheck so the engine and the edge know when they are ready.",
    "medium",
    "CIS Docker 4.6",
    [CONTAINER],
    security=False,
)
def healthcheck(subject: Subject) -> Iterator[str]:
    if _never_started(subject) or _one_shot(subject):
        return
    tests = [str(t) for t in as_list(get(subject.props, "healthcheck.tests"))]
    if not tests or tests == ["NONE"]:
        yield f"container {subject.name} has no healthcheck"


@resource_rule(
    "gpu-platform-docker-restart-policy",
    "Containers must have a restart policy so a crash or a host reboot does not leave them down.",
    "low",
    "CIS Docker 5.14",
    [CONTAINER],
    security=False,
)
def restart_policy(subject: Subject) -> Iterator[str]:
    if _never_started(subject) or _one_shot(subject):
        return
    if subject.props.get("restart") in (None, "", "no"):
        yield f"container {subject.name} has no restart policy (use unless-stopped or on-failure)"


@resource_rule(
    "gpu-platform-docker-no-docker-socket",
    "Containers must not mount the Docker socket, which is root on the host.",
    "critical",
    "CIS Docker 5.31",
    [CONTAINER],
)
def no_docker_socket(subject: Subject) -> Iterator[str]:
    props = subject.props
    sources = [str(v.get("hostPath", "")) for v in as_list(props.get("volumes"))]
    sources += [str(m.get("source", "")) for m in as_list(props.get("mounts"))]
    for source in sources:
        if source.rstrip("/").endswith("docker.sock"):
            yield f"container {subject.name} mounts the Docker socket ({source})"


@resource_rule(
    "gpu-platform-docker-no-new-privileges",
    "Containers must set no-new-privileges so setuid binaries cannot raise privileges.",
    "high",
    "CIS Docker 5.25",
    [CONTAINER],
)
def no_new_privileges(subject: Subject) -> Iterator[str]:
    options = [str(o).replace("=", ":") for o in as_list(subject.props.get("securityOpts"))]
    if "no-new-privileges:true" not in options and "no-new-privileges" not in options:
        yield f"container {subject.name} does not set security option no-new-privileges:true"


@resource_rule(
    "gpu-platform-docker-drop-capabilities",
    "Containers must drop all Linux capabilities and add back only what they need.",
    "high",
    "CIS Docker 5.3",
    [CONTAINER],
)
def drop_capabilities(subject: Subject) -> Iterator[str]:
    drops = [str(c).upper() for c in as_list(get(subject.props, "capabilities.drops"))]
    if "ALL" not in drops:
        yield f"container {subject.name} does not drop ALL capabilities"


@resource_rule(
    "gpu-platform-docker-non-root",
    "Containers must run as a non-root user.",
    "high",
    "CIS Docker 4.1 / Checkov CKV_DOCKER_3",
    [CONTAINER],
)
def non_root(subject: Subject) -> Iterator[str]:
    user = str(subject.props.get("user") or "")
    if user.split(":")[0] in ("", "0", "root") and not _root_ownership_init(subject):
        yield f"container {subject.name} runs as root (user {user or 'unset'})"


@resource_rule(
    "gpu-platform-docker-read-only-root",
    "Containers should mount their root filesystem read-only, with tmpfs where they must write.",
    "medium",
    "CIS Docker 5.12",
    [CONTAINER],
    security=False,
)
def read_only_root(subject: Subject) -> Iterator[str]:
    if subject.props.get("readOnly") is not True and not _never_started(subject):
        yield f"container {subject.name} has a writable root filesystem"


@resource_rule(
    "gpu-platform-docker-loopback-ports",
    "In dev, published ports must bind 127.0.0.1 unless the workload is explicitly public.",
    "high",
    "CIS Docker 5.13",
    [CONTAINER],
    environments=("dev",),
)
def loopback_ports(subject: Subject) -> Iterator[str]:
    if _labels(subject).get(PUBLIC_LABEL) == "true":
        return
    for port in as_list(subject.props.get("ports")):
        if not port.get("external"):
            continue
        ip = str(port.get("ip") or "0.0.0.0")
        if ip not in ("127.0.0.1", "::1"):
            yield (
                f"container {subject.name} publishes port {port.get('external')} on {ip}; "
                "bind 127.0.0.1 or mark the service public"
            )


_PINNED = re.compile(r"^[^@\s]+(:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]*))?(@sha256:[a-f0-9]{64})?$")


@resource_rule(
    "gpu-platform-docker-pinned-image",
    "Images must be pinned to a version tag or digest, never latest or untagged.",
    "medium",
    "Checkov CKV_DOCKER_7",
    [REMOTE_IMAGE],
)
def pinned_image(subject: Subject) -> Iterator[str]:
    name = str(subject.props.get("name") or "")
    last = name.rsplit("/", 1)[-1]
    if "@sha256:" in name:
        return
    tag = last.split(":", 1)[1] if ":" in last else None
    if not _PINNED.match(name) or tag in (None, "latest"):
        yield f"image {name or '(unset)'} is not pinned to a version tag or digest"


def env_pairs(subject: Subject) -> Iterator[tuple[str, object]]:
    """(name, literal value) of every environment variable a container sets (the no-plaintext-secrets rule)."""
    if subject.type == CONTAINER:
        for entry in as_list(subject.props.get("envs")):
            name, _, value = str(entry).partition("=")
            yield name, value


def regenerated(subjects: Sequence[Subject]) -> set[str]:
    """Volumes of delivered files (``read_only_volumes``): regenerated from the program, not state."""
    delivered = read_only_volumes(subjects)
    return {s.urn for s in subjects if s.type == VOLUME and str(s.props.get("name")) in delivered}


RULES: list[Rule] = [
    no_privileged,
    no_host_network,
    no_host_pid,
    no_host_ipc,
    memory_limit,
    cpu_limit,
    healthcheck,
    restart_policy,
    no_docker_socket,
    no_new_privileges,
    drop_capabilities,
    non_root,
    read_only_root,
    loopback_ports,
    pinned_image,
]
