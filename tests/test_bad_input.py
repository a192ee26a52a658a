"""Bad input stops the program cleanly: one message, no traceback, nothing registered.

Every case below breaks one thing in an otherwise valid dev stack (the reference
blueprint on the local Docker engine) and runs the real program under the mock
runtime. The contract of ``stacks/errors.py`` is checked for each:

1. the program raises :class:`pulumi.RunError` (what ``pulumi up`` turns into a
   clean exit), never another exception that would print a traceback;
2. no resource reached the monitor, so a failed ``pulumi up`` changed nothing;
3. the message names the key path that was broken, shows the bad value and says
   what is allowed.

The expected fragments come from the input each case writes (the key path it
edits, the value it puts there), not from copies of the program's messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest

from preview import runner
from preview.mocks import RecordingMonitor
from stacks.loader import load_stack
from tests.conftest import ROOT, reference_blueprint, stack_config, write_blueprint
from tests.preview_probe import preview_cli

# A service that is valid on its own: the cases that need a new service add this one.
MINIMAL_SERVICE: dict[str, Any] = {"image": "nginx:1.27.3", "ports": [{"container_port": 80}]}


@dataclass(frozen=True)
class Case:
    """One malformed config and what its error message must contain.

    ``edits`` change the reference blueprint (key path in the message's own
    syntax -> new value); ``text`` replaces the blueprint file outright (for
    syntax errors); ``settings`` override ``gpu-platform:`` stack config keys.
    """

    id: str
    path: str  # the key path the message must name
    value: str  # the bad value as the message shows it (its repr, or the part the rule quotes)
    allowed: tuple[str, ...]  # distinctive fragments of "what is allowed"
    edits: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    text: str | None = None


CASES = [
    Case(
        "replicas-on-single-writer-volume",
        path="services.dgl-training",
        value="checkpoints",
        allowed=("single-writer", "shared: true"),
        edits={"services.dgl-training.replicas": 2},
    ),
    Case(
        "user-by-name",
        path="services.ui.user",
        value=repr("nginx"),
        allowed=("pattern",),
        edits={"services.ui.user": "nginx"},
    ),
    Case(
        "unknown-target",
        path="gpu-platform:target",
        value=repr("k8s"),
        allowed=("allowed targets", "docker", "kubernetes"),
        settings={"target": "k8s"},
    ),
    Case(
        "unknown-environment",
        path="gpu-platform:environment",
        value=repr("qa"),
        allowed=("'dev'", "'staging'", "'prod'"),
        settings={"environment": "qa"},
    ),
    Case(
        "explicit-pool-overflow",
        path="pools.general",
        value="workloads",
        allowed=("allocation cap of 80%", "requested", "services.ui (100Gi"),
        edits={
            "services.ui.pool": "general",
            "services.ui.requests.memory": "100Gi",
            "services.ui.limits.memory": "100Gi",
        },
    ),
    Case(
        "stack-pool-bad-docker-host",
        path="gpu-platform:pools.gpu.host",
        value=repr("http://x"),
        allowed=("ssh://user@host",),
        settings={"pools": {"gpu": {"host": "http://x"}}},
    ),
    Case(
        "pool-targets-not-a-mapping",
        path="pools.gpu.targets",
        value=repr("docker"),
        allowed=("mapping of target name",),
        edits={"pools.gpu.targets": "docker"},
        settings={"pools": {"gpu": {"host": "ssh://deploy@gpu-box"}}},
    ),
    Case(
        "cpu-not-a-number",
        path="services.ui.requests.cpu",
        value="nan",
        allowed=("number of cores",),
        edits={"services.ui.requests.cpu": float("nan")},
    ),
    Case(
        "service-unknown-key",
        path="services.admin-api.replica",
        value=repr(2),
        allowed=("allowed keys here", "replicas"),
        edits={"services.admin-api.replica": 2},
    ),
    Case(
        "blueprint-unknown-key",
        path="servics",
        value=repr({}),
        allowed=("allowed keys here", "services", "pools"),
        edits={"servics": {}},
    ),
    Case(
        "replicas-wrong-type",
        path="services.admin-api.replicas",
        value=repr("three"),
        allowed=("valid integer",),
        edits={"services.admin-api.replicas": "three"},
    ),
    Case(
        "container-port-out-of-range",
        path="services.admin-api.ports[0].container_port",
        value=repr(70000),
        allowed=("1 to 65535",),
        edits={"services.admin-api.ports[0].container_port": 70000},
    ),
    Case(
        "host-port-published-twice",
        path="services.ui.ports[0].host_port",
        value=repr(9000),
        allowed=("already published by services.admin-api.ports[0].host_port", "free port"),
        edits={"services.admin-api.ports[0].host_port": 9000, "services.ui.ports[0].host_port": 9000},
    ),
    Case(
        "host-port-taken-by-edge",
        path="services.ui.ports[0].host_port",
        value=repr(8080),
        allowed=("the edge", "free port"),
        edits={"services.ui.ports[0].host_port": 8080},
    ),
    Case(
        "host-port-taken-by-turn",
        path="services.ui.ports[0].host_port",
        value=repr(3478),
        allowed=("pixel_streaming.unreal.turn", "free port"),
        edits={"services.ui.ports[0].host_port": 3478},
    ),
    Case(
        "unknown-blueprint-name",
        path="gpu-platform:blueprint",
        value=repr("nope"),
        allowed=("shipped blueprints", "reference"),
        settings={"blueprint": "nope"},
    ),
    Case(
        "unknown-pool",
        path="services.ui.pool",
        value=repr("nowhere"),
        allowed=("known pools", "general", "gpu"),
        edits={"services.ui.pool": "nowhere"},
    ),
    Case(
        "gpu-request-on-cpu-pool",
        path="services.dgl-training.pool",
        value=repr("general"),
        allowed=("no GPUs", "GPU pools: gpu"),
        edits={"services.dgl-training.pool": "general"},
    ),
    Case(
        "pool-architecture-mismatch",
        path="pixel_streaming.unreal.streamer.pool",
        value=repr("gpu"),
        allowed=("arm64", "amd64"),
        edits={"pools.gpu.architecture": "arm64"},
    ),
    Case(
        "memory-unparseable",
        path="services.ui.requests.memory",
        value=repr("lots"),
        allowed=("512Mi",),
        edits={"services.ui.requests.memory": "lots"},
    ),
    Case(
        "uses-missing-database",
        path="services.ui.uses[0]",
        value=repr("no-such-db"),
        allowed=("known databases", "bem-db"),
        edits={"services.ui.uses": ["no-such-db"]},
    ),
    Case(
        "uses-itself",
        path="services.ui.uses[0]",
        value=repr("ui"),
        allowed=("cannot use itself",),
        edits={"services.ui.uses": ["ui"]},
    ),
    Case(
        "uses-cycle",
        path="services.admin-api.uses",
        value="admin-api -> ui -> admin-api",
        allowed=("cycle",),
        edits={"services.admin-api.uses": ["bem-db", "ui"], "services.ui.uses": ["admin-api"]},
    ),
    Case(
        "image-latest-tag",
        path="services.ui.image",
        value=repr("nginx:latest"),
        allowed=("pinned to a version tag or digest", "never 'latest'"),
        edits={"services.ui.image": "nginx:latest"},
    ),
    Case(
        "image-without-tag",
        path="services.ui.image",
        value=repr("nginx"),
        allowed=("pinned to a version tag or digest",),
        edits={"services.ui.image": "nginx"},
    ),
    Case(
        "service-name-underscore",
        path="services.admin_console",
        value=repr("admin_console"),
        allowed=("lowercase DNS label",),
        edits={"services.admin_console": MINIMAL_SERVICE},
    ),
    Case(
        "service-name-uppercase",
        path="services.AdminConsole",
        value=repr("AdminConsole"),
        allowed=("lowercase DNS label",),
        edits={"services.AdminConsole": MINIMAL_SERVICE},
    ),
    Case(
        "name-shared-across-sections",
        path="websocket_gateways.ecm",
        value=repr("ecm"),
        allowed=("already used in services",),
        edits={"services.ecm": MINIMAL_SERVICE},
    ),
    Case(
        # A model-level rule: the path is the gateway, the rule quotes both numbers.
        "websocket-idle-timeout-below-ping",
        path="websocket_gateways.ecm",
        value="idle_timeout_s (20)",
        allowed=("must exceed ping_interval_s (30)",),
        edits={"websocket_gateways.ecm.idle_timeout_s": 20, "websocket_gateways.ecm.ping_interval_s": 30},
    ),
    Case(
        "autoscale-min-above-max",
        path="services.admin-api.autoscale",
        value="'min': 5, 'max': 2",
        allowed=("must not exceed autoscale.max",),
        edits={"services.admin-api.autoscale.min": 5, "services.admin-api.autoscale.max": 2},
    ),
    Case(
        # Explicitly placed on the GPU pool (16Gi at a 90 % cap); see the report for the general-pool variant.
        "pool-overflow",
        path="pools.gpu",
        value="workloads",
        allowed=("allocation cap", "memory", "100Gi", "requested >", "services.dgl-training"),
        edits={"services.dgl-training.requests.memory": "100Gi", "services.dgl-training.limits.memory": "100Gi"},
    ),
    Case(
        "stack-pools-unknown-pool",
        path="gpu-platform:pools.nowhere",
        value=repr("nowhere"),
        allowed=("known pools", "general", "gpu"),
        settings={"pools": {"nowhere": {"host": "ssh://deploy@gpu-box"}}},
    ),
    Case(
        "docker-host-url-in-blueprint",
        path="pools.gpu.targets.docker.host",
        value=repr("http://x"),
        allowed=("ssh://user@host", "unix:///"),
        edits={"pools.gpu.targets.docker.host": "http://x"},
    ),
    Case(
        "docker-http-port-out-of-range",
        path="gpu-platform:docker.http_port",
        value=repr(0),
        allowed=("1 to 65535",),
        settings={"docker": {"http_port": 0}},
    ),
    Case(
        "docker-settings-unknown-key",
        path="gpu-platform:docker.htp_port",
        value=repr(80),
        allowed=("allowed keys here", "http_port"),
        settings={"docker": {"htp_port": 80}},
    ),
    Case(
        "malformed-yaml",
        path="line ",
        value="expected ','",
        allowed=("valid YAML",),
        text="name: broken\npools: [\n  general: {cpu: 1}\n",
    ),
    Case(
        "blueprint-not-a-mapping",
        path="(top level)",
        value=repr("a list"),
        allowed=("YAML mapping",),
        text="- name: broken\n",
    ),
    Case(
        # Docker's nginx refused this after 49 resources; Kubernetes and AWS let one route hide the other.
        "two-routes-one-path",
        path="services.ui.route.path",
        value=repr("/api"),
        allowed=("services.admin-api.route.path already routes this path",),
        edits={"services.ui.route.path": "/api"},
    ),
    Case(
        "gateway-on-the-signalling-path",
        path="pixel_streaming.unreal.signalling.path",
        value=repr("/signalling/"),
        allowed=("websocket_gateways.ecm.path already routes this path",),
        # A trailing slash does not make another route: ALB rules and Gateway API prefixes ignore it.
        edits={"pixel_streaming.unreal.signalling.path": "/signalling/", "websocket_gateways.ecm.path": "/signalling"},
    ),
    Case(
        "fleet-api-on-a-service-path",
        path="grpc_tool_fleets.kite.api.route.path",
        value=repr("/api/"),
        allowed=("services.admin-api.route.path already routes this path",),
        edits={"grpc_tool_fleets.kite.api.route.path": "/api/"},
    ),
    Case(
        "route-on-a-gateway-service-is-ignored",
        path="websocket_gateways.ecm.service.route",
        value=repr("/events"),
        allowed=("route is read only on services", "websocket_gateways.ecm.path"),
        edits={"websocket_gateways.ecm.service.route": {"path": "/events", "port": "ws"}},
    ),
    Case(
        # The fleet kite runs a workload called kite-api: a second resource of that name.
        "service-named-like-a-fleet-api",
        path="grpc_tool_fleets.kite.api",
        value=repr("kite-api"),
        allowed=("services.kite-api already runs a workload of this name",),
        edits={"services.kite-api": MINIMAL_SERVICE},
    ),
    Case(
        # pydantic's message starts with "GPU"; lowercasing the first letter made it "gPU".
        "gpu-message-keeps-its-acronym",
        path="services.ui.requests.gpu",
        value=repr(1.5),
        allowed=("; GPU units above 1 must be whole numbers",),
        edits={"services.ui.requests.gpu": 1.5},
    ),
    Case(
        "database-version-not-offered",
        path="databases.bem-db.version",
        value="13",
        allowed=("'14', '15', '16' or '17'",),
        edits={"databases.bem-db.version": 13},
    ),
    Case(
        "blueprint-empty-file",
        path="(top level)",
        value=repr("an empty document"),
        allowed=("YAML mapping",),
        text="",
    ),
    Case(
        "blueprint-scalar",
        path="(top level)",
        value=repr("a str"),
        allowed=("YAML mapping",),
        text="just words\n",
    ),
    Case(
        "blueprint-is-a-directory",
        path="gpu-platform:blueprint",
        value="blueprints",
        allowed=("it is a directory", "regular YAML file"),
        settings={"blueprint": str(ROOT / "blueprints")},
    ),
    Case(
        # is_file() was False for a device, so this was "no such blueprint"; reading it never ends.
        "blueprint-is-dev-zero",
        path="gpu-platform:blueprint",
        value=repr("/dev/zero"),
        allowed=("it is a device", "regular YAML file"),
        settings={"blueprint": "/dev/zero"},
    ),
    Case(
        "blueprint-name-with-nul-byte",
        path="gpu-platform:blueprint",
        value="\\x00",
        allowed=("no such blueprint",),
        settings={"blueprint": "a\x00b.yaml"},
    ),
    Case(
        "blueprint-integer-too-long",
        path="line 2, column 11",
        value="4300 digits",
        allowed=("valid YAML",),
        text="name: x\nreplicas: " + "7" * 5000 + "\n",
    ),
    Case(
        "blueprint-impossible-date",
        path="line 1, column 14",
        value="month must be in 1..12",
        allowed=("valid YAML",),
        text="description: 2024-13-45\nname: x\n",
    ),
    Case(
        "overrides-nested-too-deep",
        path="gpu-platform:overrides",
        value="65 levels",
        allowed=("nested at most 64 deep",),
        settings={"overrides": '{"a": ' * 100 + "1" + "}" * 100},
    ),
    Case(
        # json.loads recurses: 100 000 brackets were a RecursionError.
        "overrides-nested-past-python",
        path="gpu-platform:overrides",
        value="deeper than Python can read",
        allowed=("nested at most 64 deep",),
        settings={"overrides": "[" * 100_000 + "]" * 100_000},
    ),
    Case(
        "overrides-integer-too-long",
        path="gpu-platform:overrides",
        value="4300 digits",
        allowed=("numbers must fit in 4300 digits",),
        settings={"overrides": '{"services": {"ui": {"replicas": ' + "9" * 5000 + "}}}"},
    ),
    Case(
        "prod-on-docker-without-tls",
        path="gpu-platform:tls",
        value="is not set",
        allowed=("CA-issued TLS", "gpu-platform:tls.certificate", "gpu-platform:tls.private_key"),
        settings={"environment": "prod"},
    ),
]


_INDEX = re.compile(r"\[(\d+)\]")


def apply_edit(blueprint: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at ``path`` ("services.ui.ports[0].host_port"), creating missing mappings on the way."""
    steps: list[str | int] = []
    for part in path.split("."):
        name = _INDEX.sub("", part)
        if name:
            steps.append(name)
        steps += [int(i) for i in _INDEX.findall(part)]
    node: Any = blueprint
    for step in steps[:-1]:
        node = node[step] if isinstance(step, int) else node.setdefault(step, {})
    node[steps[-1]] = value


def config_for(case: Case, tmp_path: Path) -> dict[str, Any]:
    """The dev stack's config with ``case`` applied (the blueprint variant written under ``tmp_path``)."""
    settings = dict(case.settings)
    if case.text is not None:
        path = tmp_path / f"{case.id}.yaml"
        path.write_text(case.text)
        settings["blueprint"] = str(path)
    elif case.edits:
        blueprint = reference_blueprint()
        for key, value in case.edits.items():
            apply_edit(blueprint, key, value)
        settings["blueprint"] = write_blueprint(tmp_path, blueprint, f"{case.id}.yaml")
    return stack_config("dev", **settings)


def run_failing(config: dict[str, Any], monitors: list[RecordingMonitor]) -> tuple[str, RecordingMonitor]:
    """Run the real program on ``config``; return the RunError's message and the run's monitor."""
    with pytest.raises(pulumi.RunError) as caught:
        runner.run_program("dev", config)
    assert caught.type is pulumi.RunError, f"expected a clean RunError, got {caught.type.__name__}"
    assert len(monitors) == 1
    return str(caught.value), monitors[0]


def test_shipped_dev_stack_loads() -> None:
    """Positive control: the unmodified dev stack validates, so every failure below comes from its edit."""
    spec = load_stack("dev", stack_config("dev"))
    assert spec.blueprint.name == "reference"
    assert spec.target == "docker"


def test_harness_sees_registrations(monitors: list[RecordingMonitor]) -> None:
    """Positive control for the monitor: a good run records resources, so "nothing recorded" below means something."""
    runner.run_program("dev", stack_config("dev"))
    assert len(monitors) == 1
    assert monitors[0].recorded


def test_cases_are_distinct() -> None:
    """Each case breaks something different (ids, and the config each one produces)."""
    assert len(CASES) >= 18
    assert len({c.id for c in CASES}) == len(CASES)
    inputs = {repr((sorted(c.edits.items()), sorted(c.settings.items()), c.text)) for c in CASES}
    assert len(inputs) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_rejected_cleanly(case: Case, tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    """The program stops with one RunError naming path, value and rule, before registering anything."""
    message, monitor = run_failing(config_for(case, tmp_path), monitors)

    assert monitor.recorded == [], [r.name for r in monitor.recorded]
    assert message.startswith("config error in ")
    assert case.path in message
    assert case.value in message
    for fragment in case.allowed:
        assert fragment in message
    assert "Traceback" not in message


def test_cli_reports_bad_blueprint_without_traceback(tmp_path: Path) -> None:
    """``python -m preview dev --blueprint BAD`` exits 1 with the message on stderr and no traceback."""
    blueprint = reference_blueprint()
    apply_edit(blueprint, "services.admin-api.ports[0].container_port", 70000)
    path = write_blueprint(tmp_path, blueprint, "cli-bad.yaml")

    done = preview_cli("dev", "--blueprint", path)

    assert done.returncode == 1
    assert "services.admin-api.ports[0].container_port" in done.stderr
    assert "70000" in done.stderr
    assert "1 to 65535" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_cli_unbuilt_target_exits_cleanly(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A registered target that is not built yet: exit 1 saying so, no traceback (every shipped target is built,
    so one is marked unbuilt here, as the registry lists a target before its package lands)."""
    from preview.__main__ import main
    from targets import TARGETS, TargetInfo

    monkeypatch.setitem(TARGETS, "azure", TargetInfo("azure", "Microsoft Azure", built=False, issue=14))
    code = main(["dev", "--target", "azure"])
    err = capsys.readouterr().err

    assert code == 1
    assert "gpu-platform:target" in err
    assert "the azure target is not built yet (issue #14)" in err
    assert "Traceback" not in err
