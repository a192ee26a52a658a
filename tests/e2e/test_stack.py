"""Checks on the dev stack running on a real Docker engine, from outside, as a user would.

Everything goes through the ports the stack publishes on 127.0.0.1 (the edge's HTTP and gRPC
ports, TURN's UDP port); container-to-container traffic stays on the stack's bridge network
and is observed through what the services report (the API's view of Postgres and the tools).
Not collected by ``make test`` (see ``norecursedirs`` in pyproject.toml); ``make e2e`` runs it.
"""

from __future__ import annotations

import json
import urllib.parse

from stacks.profiles import PROFILES
from tests.e2e import apply as harness
from tests.e2e.clients import WebSocket, grpc_health, http_get, stun_binding, turn_allocate, turn_credentials
from tests.e2e.conftest import IDLE_S, Deployed
from tests.e2e.stack import desired


def _urls(deployed: Deployed, *schemes: str) -> dict[str, str]:
    return {name: url for name, url in deployed.stack.outputs["urls"].items() if url.split(":", 1)[0] in schemes}


def test_every_container_was_created_uploaded_and_started(deployed: Deployed) -> None:
    assert deployed.applied.errors == {}, "\n".join(f"{n}: {e}" for n, e in deployed.applied.errors.items())


def test_health_checks_report_healthy(deployed: Deployed) -> None:
    """Long-running containers are healthy; containers the program never starts (file carriers) exist, stopped."""
    expected = {
        c.inputs["name"]: "healthy" if c.inputs.get("start", True) else "created (exit 0)"
        for c in deployed.stack.containers
    }
    assert deployed.health == expected


def test_every_public_http_route_answers_through_the_edge(deployed: Deployed) -> None:
    routes = _urls(deployed, "http", "https")
    assert routes, "the dev stack publishes HTTP routes"
    answers = {name: http_get(url) for name, url in routes.items()}
    failing = {name: answer for name, answer in answers.items() if answer[0] != 200}
    assert failing == {}
    # Each route reaches its own service (the stand-ins say who they are).
    for name, (_, body) in answers.items():
        assert body.get("path", "").startswith(urllib.parse.urlsplit(routes[name]).path), (name, body)


def test_each_grpc_tool_answers_health_through_the_edge(deployed: Deployed) -> None:
    tools = _urls(deployed, "grpc", "grpcs")
    assert tools, "the dev stack publishes gRPC tools"
    answers = {name: grpc_health(urllib.parse.urlsplit(url).netloc) for name, url in tools.items()}
    assert answers == dict.fromkeys(tools, "SERVING")


def test_the_api_reaches_its_tools_over_the_stack_network(deployed: Deployed) -> None:
    url = _urls(deployed, "http", "https")["kite"]
    status, body = http_get(url.rstrip("/") + "/tools")
    assert status == 200, body
    assert body, "the API was given no TOOL_*_ADDR"
    assert set(body.values()) == {"SERVING"}, body


def test_the_api_reaches_postgres_with_the_generated_credentials(deployed: Deployed) -> None:
    url = _urls(deployed, "http", "https")["admin-api"]
    status, body = http_get(url.rstrip("/") + "/db")
    assert status == 200, body
    databases = deployed.stack.outputs["databases"]
    profile = PROFILES[deployed.stack.outputs["environment"]]
    for name, database in databases.items():
        seen = body[name.upper().replace("-", "_")]
        server = next(c for c in deployed.stack.containers if c.inputs["name"].endswith(f"-{name}"))
        env = dict(e.split("=", 1) for e in server.inputs["envs"])
        assert (seen.get("user"), seen.get("database")) == (env["POSTGRES_USER"], database["database"]), seen
        if profile.tls != "off":
            assert seen["ssl"] is True, f"{name}: the {profile.name} profile serves TLS, the connection has none"


def test_signalling_upgrades_through_the_edge_and_hands_out_turn_credentials(deployed: Deployed) -> None:
    url = deployed.stack.outputs["urls"]["unreal"]
    ws = WebSocket(url)
    config = json.loads(ws.receive())
    ws.send("hello")
    assert ws.receive() == "hello"
    ws.close()
    (server,) = config["peerConnectionOptions"]["iceServers"]
    assert server["urls"][0].startswith("turn:"), server


def test_turn_answers_a_binding_and_allocates_a_relay_with_the_shared_secret(deployed: Deployed) -> None:
    turn = next(c for c in deployed.stack.containers if c.inputs["name"].endswith("-turn"))
    port = next(p["external"] for p in turn.inputs["ports"] if p["protocol"] == "udp" and p["internal"] == 3478)
    assert stun_binding("127.0.0.1", port)
    # Credentials as a player gets them: from the signalling server, through the edge.
    ws = WebSocket(deployed.stack.outputs["urls"]["unreal"])
    (server,) = json.loads(ws.receive())["peerConnectionOptions"]["iceServers"]
    ws.close()
    allocated = turn_allocate("127.0.0.1", port, server["username"], server["credential"])
    assert allocated["ok"], allocated
    wrong = turn_allocate("127.0.0.1", port, *turn_credentials("not-the-secret"))
    assert not wrong["ok"], wrong
    assert "401" in wrong["error"], wrong


def test_every_container_runs_as_its_declared_non_root_user_with_a_read_only_root(deployed: Deployed) -> None:
    problems: list[str] = []
    for container in (c for c in deployed.stack.containers if c.inputs.get("start", True)):
        name, declared = container.inputs["name"], container.inputs["user"]
        uid = declared.split(":")[0]
        if uid in ("", "0", "root"):
            problems.append(f"{name}: declared user {declared!r} is root")
        top = deployed.engine.request("GET", f"/containers/{name}/top", query={"ps_args": "-o pid,uid,comm"})
        column = top["Titles"].index("UID")
        uids = {row[column] for row in top["Processes"]}
        if uids != {uid}:
            problems.append(f"{name}: processes run as {sorted(uids)}, declared {uid}")
        code, output = deployed.engine.exec(name, ["sh", "-c", "touch /e2e-probe"])
        if code == 0 or "Read-only file system" not in output:
            problems.append(f"{name}: root is writable ({code}: {output.strip()})")
    assert problems == []


def test_a_second_apply_of_the_unchanged_stack_changes_nothing(deployed: Deployed) -> None:
    again = desired()
    first = {c.inputs["name"]: c.unmasked_inputs for c in deployed.stack.containers}
    second = {c.inputs["name"]: c.unmasked_inputs for c in again.containers}
    assert second == first, "a second run of the program registers different containers"
    assert harness.drift(deployed.engine, again) == {}
    assert harness.apply(deployed.engine, again).created == []


def test_a_websocket_survives_an_idle_period_longer_than_nginx_default(deployed: Deployed) -> None:
    assert deployed.idle_thread is not None, "the dev stack has a WebSocket route"
    deployed.idle_thread.join(timeout=IDLE_S + 60)
    assert deployed.idle == {"before": "before-idle", "after": "after-idle"}
