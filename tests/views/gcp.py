"""The GCP target as the shared tests see it: a Cloud Run v2 service or a Compute Engine VM per workload.

Where a workload runs is decided here from the blueprint YAML by Cloud Run's documented limits (one
HTTP-family port, an HTTP/gRPC/TCP probe, no single-writer volume, at most one GPU, no UDP media from a
relay: the Pixel Streaming streamer; a name in ``gpu-platform:gcp.vm_workloads``: the signalling server),
independently of ``targets/gcp/fit.py``. A Cloud Run workload is a service of its name (min/max instances,
probes, ``nvidia-l4``); any other is a VM of its name (one replica, ``docker run`` in its cloud-init, a disk
per single-writer volume, L4s on a G2 machine type); each TURN relay is a VM too. Shared volumes of Cloud
Run workloads are buckets, Postgres is Cloud SQL (with the prod profile's read replica), routes and public
gRPC tools are backend services of one global load balancer.
"""

from __future__ import annotations

import itertools
import json
import math
import shlex
from collections.abc import Mapping
from typing import Any

from preview.mocks import Recorded
from preview.runner import PreviewResult, read_stack_config
from stacks.profiles import Profile
from tests.kit import Workload, blueprint, count, names, one, public_tools, workloads
from tests.tokens import (
    GCP_CLOUDRUNV2_SERVICE,
    GCP_COMPUTE_BACKEND_SERVICE,
    GCP_COMPUTE_DISK,
    GCP_COMPUTE_FIREWALL,
    GCP_COMPUTE_FORWARDING_RULE,
    GCP_COMPUTE_HEALTH_CHECK,
    GCP_COMPUTE_INSTANCE,
    GCP_SERVICEACCOUNT_ACCOUNT,
    GCP_SQL_DATABASE_INSTANCE,
    GCP_STORAGE_BUCKET,
)
from tests.views import TargetView

STACK = "gcp-prod"
HTTP_FAMILY = {"http", "http2", "grpc", "websocket"}
L4 = "nvidia-l4"  # the one GPU Cloud Run offers (run/docs/configuring/services/gpu) and G2 VMs carry
RUN_SCRIPT = "/etc/gpu-platform/run.sh"
NO_VALUE = ("--rm", "--read-only")  # the docker run flags targets/gcp/vm_boot.py gives without a value


# -- where a workload runs, from the YAML ------------------------------------------------------------


def signalling(bp: dict[str, Any]) -> list[str]:
    """The Pixel Streaming signalling servers of a blueprint: VMs on GCP, listed in ``vm_workloads``."""
    return [f"{streaming}-signalling" for streaming in bp.get("pixel_streaming", {})]


def on_cloud_run(w: Workload) -> bool:
    """Cloud Run takes the workload (run/docs/container-contract, .../configuring/healthchecks, .../gpu)."""
    ports = w.spec.get("ports", []) if w.tool_port is None else [{"app_protocol": "grpc"}]
    http_only = len(ports) <= 1 and all(
        p.get("protocol", "tcp") == "tcp" and p.get("app_protocol", "http") in HTTP_FAMILY for p in ports
    )
    probe = w.health["kind"] != "command"
    stateless = all(v.get("shared") for v in w.volumes.values())
    media = w.key.startswith("pixel_streaming.") and w.key.endswith(".streamer")
    listed = w.key.startswith("pixel_streaming.") and w.name.endswith("-signalling")
    return http_only and probe and stateless and w.gpu <= 1 and not media and not listed


# -- the resources of one workload ---------------------------------------------------------------------


def service(result: PreviewResult, name: str) -> dict[str, Any]:
    """The Cloud Run service ``name``'s revision template."""
    return one(result, GCP_CLOUDRUNV2_SERVICE, name).inputs["template"]


def container(result: PreviewResult, name: str) -> dict[str, Any]:
    (box,) = service(result, name)["containers"]
    return box


def machine(result: PreviewResult, name: str) -> Recorded:
    """The VM ``name`` (exactly one: a VM workload runs one replica)."""
    return one(result, GCP_COMPUTE_INSTANCE, name)


def boot_files(vm: Recorded) -> dict[str, str]:
    """The files the VM's cloud-init writes (``#cloud-config`` then JSON), by path."""
    document = json.loads(vm.inputs["metadata"]["user-data"].removeprefix("#cloud-config\n"))
    return {f["path"]: f["content"] for f in document["write_files"]}


def docker_run(vm: Recorded) -> list[str]:
    """The ``docker run`` argument list the VM's run script executes."""
    script = boot_files(vm)[RUN_SCRIPT]
    (line,) = [row for row in script.splitlines() if row.startswith("exec ")]
    return shlex.split(line)[1:]


def flag_values(argv: list[str], flag: str) -> list[str]:
    """Every value given to ``flag`` (``--env``, ``--user``, ...) in an argument list."""
    return [value for key, value in itertools.pairwise(argv) if key == flag]


def positional(argv: list[str]) -> list[str]:
    """The image and its arguments: what follows ``docker run``'s options (all but two take a value)."""
    i = 2  # docker run
    while argv[i].startswith("--"):
        i += 1 if argv[i] in NO_VALUE else 2
    return argv[i:]


def cloud_run_env(box: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in box.get("envs", []) if "value" in e}


class GcpView(TargetView):
    target = "gcp"
    stack = STACK

    def settings_for(self, name: str) -> Mapping[str, Any]:
        """A blueprint with Pixel Streaming lists its signalling servers in ``vm_workloads`` (README: gcp):
        the stack file's ``gpu-platform:gcp`` with that list added; nothing for any other."""
        listed = signalling(blueprint(name))
        if not listed:
            return {}
        config, _ = read_stack_config(self.stack)
        return {"gcp": {**json.loads(config["gpu-platform:gcp"]), "vm_workloads": listed}}

    def target_counts(self, bp: dict[str, Any], profile: Profile) -> dict[str, int]:
        items = workloads(bp)
        streams = len(bp.get("pixel_streaming", {}))
        cloud_run = [w for w in items if on_cloud_run(w)]
        vms = [w for w in items if not on_cloud_run(w)]
        # a VM behind the load balancer (routed, or a public gRPC tool) gets its health check; a serverless NEG none
        balanced_vms = [w for w in vms if w.route is not None or w.name in public_tools(bp)]
        return {
            GCP_CLOUDRUNV2_SERVICE: len(cloud_run),
            GCP_COMPUTE_INSTANCE: len(vms) + streams,  # and a TURN relay per Pixel Streaming
            GCP_SERVICEACCOUNT_ACCOUNT: len(items) + streams,  # every workload its own account
            GCP_COMPUTE_DISK: sum(len([v for v in w.volumes.values() if not v.get("shared")]) for w in vms),
            GCP_STORAGE_BUCKET: sum(len([v for v in w.volumes.values() if v.get("shared")]) for w in cloud_run),
            # each primary and its read replicas (the blueprint's, else the profile's: prod adds one)
            GCP_SQL_DATABASE_INSTANCE: sum(
                1 + (db["read_replicas"] if db.get("read_replicas") is not None else profile.read_replicas)
                for db in bp.get("databases", {}).values()
            ),
            # one backend service per route and per public gRPC tool, on the one load balancer
            GCP_COMPUTE_BACKEND_SERVICE: len([w for w in items if w.route is not None]) + len(public_tools(bp)),
            GCP_COMPUTE_HEALTH_CHECK: len(balanced_vms),
            # TURN's listening port, UDP and TCP, on its passthrough Network Load Balancer
            GCP_COMPUTE_FORWARDING_RULE: 2 * streams,
        }

    # -- one workload -------------------------------------------------------------------------------

    def image(self, result: PreviewResult, w: Workload) -> str:
        if on_cloud_run(w):
            return container(result, w.name)["image"]
        return positional(docker_run(machine(result, w.name)))[0]

    def users(self, result: PreviewResult, w: Workload) -> set[str]:
        """A VM runs ``docker run --user``; Cloud Run (fully managed) takes no user: its API's runAsUser is "not
        supported by Cloud Run" and the image's USER runs (:meth:`image_user`)."""
        if on_cloud_run(w):
            return self.image_user(result, w)
        return set(flag_values(docker_run(machine(result, w.name)), "--user"))

    def running(self, result: PreviewResult, w: Workload) -> int:
        if on_cloud_run(w):
            return service(result, w.name)["scaling"]["minInstanceCount"]
        return count(result, GCP_COMPUTE_INSTANCE, lambda r: r.name == w.name)

    def check_ports_and_health(self, result: PreviewResult, w: Workload) -> None:
        if on_cloud_run(w):
            self._cloud_run_ports_and_health(result, w)
        else:
            self._vm_ports_and_health(result, w)

    @staticmethod
    def _cloud_run_ports_and_health(result: PreviewResult, w: Workload) -> None:
        """One container port; the blueprint's probe as the startup probe and (HTTP, gRPC) the liveness probe."""
        box = container(result, w.name)
        assert ([box["ports"]["containerPort"]] if "ports" in box else []) == w.ports, w.name
        health = w.health
        for probe in (box["startupProbe"], box["livenessProbe"]):
            if health["kind"] == "http":
                assert probe["httpGet"] == {"path": health["path"], "port": w.ports[0]}, w.name
            else:
                assert probe["grpc"] == {"port": w.ports[0]}, w.name

    @staticmethod
    def _vm_ports_and_health(result: PreviewResult, w: Workload) -> None:
        """The subnet may reach the ports; a command probe is Docker's; an HTTP/gRPC one the balancer's."""
        if w.ports:
            wall = one(result, GCP_COMPUTE_FIREWALL, f"{w.name}-from-subnet").inputs
            opened = sorted(int(port) for rule in wall["allows"] for port in rule["ports"])
            assert opened == sorted(w.ports), w.name
        health = w.health
        if health["kind"] == "command":
            run = docker_run(machine(result, w.name))
            assert flag_values(run, "--health-cmd") == [shlex.join(health["command"])], w.name
            return
        checks = names(result, GCP_COMPUTE_HEALTH_CHECK)
        if f"{w.name}-hc" not in checks:
            # Only a load-balancer backend's health check probes a VM: an unrouted one must say nothing probes it.
            warned = f"{w.key}.health: nothing probes its {health['kind']} health check"
            assert any(line.startswith(warned) for line in result.warnings), (
                f"{w.name}: runs on a VM with a {health['kind']} health check nothing probes, and no warning says so"
            )
            return
        check = one(result, GCP_COMPUTE_HEALTH_CHECK, f"{w.name}-hc").inputs
        if health["kind"] == "http":
            assert check["httpHealthCheck"] == {"port": w.ports[0], "requestPath": health["path"]}, w.name
        else:
            assert check["grpcHealthCheck"] == {"port": w.ports[0]}, w.name

    def check_autoscaling(self, result: PreviewResult, w: Workload) -> None:
        """Cloud Run: min/max instances and the CPU target (``scaling.cpuUtilization``, a fraction; docs:
        run/docs/configuring/scaling-controls); a fixed count is min = max. A VM workload runs one replica."""
        if not on_cloud_run(w):
            assert (w.autoscale, w.most) == (None, 1), f"{w.name}: a VM workload runs one replica"
            assert self.running(result, w) == 1, w.name
            return
        scaling = service(result, w.name)["scaling"]
        assert (scaling["minInstanceCount"], scaling["maxInstanceCount"]) == (w.running, w.most), w.name
        if w.autoscale:
            target = w.autoscale.get("cpu_percent", 70) / 100
            assert scaling.get("cpuUtilization") == target, (
                f"{w.name}: the blueprint's CPU target {target:g} is not Cloud Run's scaling.cpuUtilization "
                f"({scaling.get('cpuUtilization')})"
            )

    def check_placement(self, result: PreviewResult, w: Workload, pool: dict[str, Any]) -> None:
        """Cloud Run and E2/G2 VMs run x86-64 (run/docs/container-contract); GPU work takes L4s, CPU work E2."""
        assert pool.get("architecture", "amd64") == "amd64", w.name
        if on_cloud_run(w):
            assert w.name not in names(result, GCP_COMPUTE_INSTANCE), w.name
            selector = service(result, w.name).get("nodeSelector")
            assert selector == ({"accelerator": L4} if w.gpu > 0 else None), w.name
            return
        assert w.name not in names(result, GCP_CLOUDRUNV2_SERVICE), w.name
        vm = machine(result, w.name).inputs
        chosen = ((pool.get("targets") or {}).get("gcp") or {}).get("machine_type")
        family = "g2-standard-" if w.gpu > 0 else "e2-standard-"
        assert vm["machineType"] == chosen if chosen else vm["machineType"].startswith(family), w.name

    def check_gpu(self, result: PreviewResult, w: Workload, pool: dict[str, Any], share: str) -> None:
        """Cloud Run: one L4 per instance; a VM: ``ceil(gpu)`` L4s and the driver's devices (cos/docs/run-gpus)."""
        if on_cloud_run(w):
            box = container(result, w.name)
            assert box["resources"]["limits"]["nvidia.com/gpu"] == "1", w.name
            assert service(result, w.name)["nodeSelector"] == {"accelerator": L4}, w.name
            assert cloud_run_env(box)["GPU_MEMORY_FRACTION"] == share, w.name
            return
        vm = machine(result, w.name)
        assert vm.inputs["guestAccelerators"] == [{"type": L4, "count": math.ceil(w.gpu)}], w.name
        assert vm.inputs["scheduling"]["onHostMaintenance"] == "TERMINATE", w.name  # GPU VMs cannot migrate
        run = docker_run(vm)
        assert "/dev/nvidia0" in flag_values(run, "--device"), w.name
        assert f"GPU_MEMORY_FRACTION={share}" in flag_values(run, "--env"), w.name


VIEW = GcpView()
