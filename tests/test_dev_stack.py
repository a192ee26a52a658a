"""The dev stack as shipped (reference blueprint on Docker), and the offline preview's contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.runtime.mocks import MockResourceArgs

from preview.mocks import PlatformMocks, Recorded
from preview.runner import PreviewResult, read_stack_config, run_program
from tests.conftest import Runner, reference_blueprint, write_blueprint
from tests.docker_checks import CONTAINER, assert_hardened, containers, delivered, env_of, is_carrier
from tests.preview_probe import preview_cli, preview_main
from tests.tokens import DOCKER_VOLUME

COMPONENT = "gpu-platform:components:"


def test_one_container_per_replica(dev_result: PreviewResult) -> None:
    names = set(containers(dev_result))
    # admin-api autoscales 1-3: Docker has no autoscaler, so it runs the minimum (1).
    # ecm has 2 replicas; the fleet has an api and six tools; streaming has streamer, signalling, TURN.
    expected = {
        "dev-admin-api",
        "dev-ui",
        "dev-dgl-training",
        "dev-ecm-1",
        "dev-ecm-2",
        "dev-bem-db",
        "dev-kite-api",
        "dev-unreal-streamer",
        "dev-unreal-signalling",
        "dev-unreal-turn",
        "dev-edge",
    } | {f"dev-kite-{t}" for t in ("empirical", "contextual", "consistency", "power", "utility", "evolution")}
    assert names == expected


def test_every_container_is_hardened(dev_result: PreviewResult) -> None:
    boxes = list(containers(dev_result).values())
    assert boxes
    for box in boxes:
        assert_hardened(box)


def test_dev_publishes_only_on_loopback(dev_result: PreviewResult) -> None:
    published = [(box.name, p) for box in dev_result.of_type(CONTAINER) for p in box.inputs.get("ports", [])]
    assert published, "the edge and TURN publish ports"
    assert all(port["ip"] == "127.0.0.1" for _, port in published), published


def test_children_are_named_after_their_component(dev_result: PreviewResult) -> None:
    by_urn = {r.urn: r for r in dev_result.resources}
    for resource in dev_result.resources:
        parent = by_urn.get(resource.parent or "")
        if parent is not None and parent.type.startswith(COMPONENT):
            assert resource.name.startswith(parent.name), (parent.name, resource.name)


def test_no_generated_secret_appears_in_plaintext(dev_result: PreviewResult) -> None:
    """Ask the mocks what each RandomPassword returned and look for it in every input."""
    mocks = PlatformMocks()
    secrets = []
    for password in dev_result.of_type("random:index/randomPassword:RandomPassword"):
        _, state = mocks.new_resource(MockResourceArgs(password.type, password.name, password.inputs))
        secrets.append(state["result"])
    assert len(secrets) == 2  # the database password and the TURN shared secret
    text = json.dumps([r.inputs for r in dev_result.resources])
    for secret in secrets:
        assert secret not in text
    assert all(not e.startswith(("DB_BEM_DB_PASSWORD=", "DB_BEM_DB_URL=")) for e in _all_env(dev_result))


def _all_env(result: PreviewResult) -> list[str]:
    return [str(e) for box in result.of_type(CONTAINER) for e in box.inputs.get("envs", [])]


def test_wiring_reaches_consumers(dev_result: PreviewResult) -> None:
    admin = env_of(containers(dev_result)["dev-admin-api"])
    assert admin["DB_BEM_DB_HOST"] == "bem-db"
    assert admin["ECM_URL"] == "ws://ecm:8765"
    kite = env_of(containers(dev_result)["dev-kite-api"])
    assert {k for k in kite if k.startswith("TOOL_")} == {
        f"TOOL_{t}_ADDR" for t in ("EMPIRICAL", "CONTEXTUAL", "CONSISTENCY", "POWER", "UTILITY", "EVOLUTION")
    }
    db = next(r for r in dev_result.resources if r.name == "bem-db" and r.type == CONTAINER)
    admin_box = containers(dev_result)["dev-admin-api"]
    assert db.urn in admin_box.dependencies


def test_outputs(dev_result: PreviewResult) -> None:
    outputs = dev_result.outputs
    assert (outputs["environment"], outputs["target"], outputs["blueprint"]) == ("dev", "docker", "reference")
    assert outputs["urls"]["ecm"] == "ws://localhost:8080/ws"
    assert outputs["urls"]["kite-evolution"] == "grpc://localhost:50056"
    assert outputs["placement"]["services.dgl-training"] == "gpu"
    assert outputs["databases"]["bem-db"] == {"host": "bem-db", "port": 5432, "database": "bem"}


def _stateful(result: PreviewResult) -> dict[str, Recorded]:
    # Volumes holding delivered files are regenerated from the program: not state.
    return {r.urn: r for r in result.of_type(DOCKER_VOLUME) if not is_carrier(r)}


def test_routine_changes_keep_stateful_names(run: Runner, tmp_path: Path) -> None:
    """A new image tag, more replicas or another pool for a stateless service must not touch state."""
    before = run("dev", blueprint="reference")
    changed = reference_blueprint()
    changed["services"]["admin-api"]["image"] = "ghcr.io/example/bem-automated-admin:1.5.0"
    changed["websocket_gateways"]["ecm"]["service"]["replicas"] = 1
    changed["services"]["ui"]["pool"] = "gpu"
    after = run("dev", blueprint=write_blueprint(tmp_path, changed))
    assert _stateful(before).keys() == _stateful(after).keys()
    for urn, volume in _stateful(before).items():
        assert _stateful(after)[urn].inputs == volume.inputs


def test_prod_on_docker_protects_every_volume(run: Runner) -> None:
    tls = {
        "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
    }
    result = run("dev", environment="prod", target="docker", tls=tls)
    volumes = [v for v in result.of_type(DOCKER_VOLUME) if not is_carrier(v)]
    assert {v.name for v in volumes} == {"bem-db-data", "bem-db-backups", "dgl-training-checkpoints", "kite-api-data"}
    assert all(v.protect and v.retain_on_delete for v in volumes)
    # Delivered files are regenerated from the program: their volumes are never protected.
    delivery = [v for v in result.of_type(DOCKER_VOLUME) if is_carrier(v)]
    assert delivery
    assert not any(v.protect or v.retain_on_delete for v in delivery)
    edge = containers(result)["dev-edge"]
    assert {p["ip"] for p in edge.inputs["ports"]} == {"0.0.0.0"}
    key = delivered(result, "dev-edge")["/run/secrets/edge_tls_key"]
    assert key["content"] == "[secret]"


def test_staging_on_docker_makes_a_self_signed_certificate(run: Runner) -> None:
    result = run("dev", environment="staging", target="docker")
    assert len(result.of_type("tls:index/selfSignedCert:SelfSignedCert")) == 1
    assert result.outputs["urls"]["ecm"] == "wss://localhost:8443/ws"


def test_json_document_format_version_1() -> None:
    completed = preview_main("dev", "--json")
    assert completed.returncode == 0, completed.stderr
    document: dict[str, Any] = json.loads(completed.stdout)
    assert document["version"] == 1
    assert (document["stack"], document["project"], document["environment"]) == ("dev", "gpu-platform", "dev")
    assert (document["blueprint"], document["targets"]) == ("reference", ["docker"])
    assert document["violations"] == []
    resources = document["resources"]
    assert document["summary"]["resources"] == len(resources)
    assert sum(document["summary"]["by_type"].values()) == len(resources)
    urns = {r["urn"] for r in resources}
    for resource in resources:
        assert set(resource) == {
            "urn",
            "type",
            "name",
            "parent",
            "custom",
            "provider",
            "dependencies",
            "protect",
            "retain_on_delete",
            "inputs",
        }
        assert set(resource["dependencies"]) <= urns, resource["name"]


def test_tree_output_and_exit_code() -> None:
    completed = preview_cli("dev")
    assert completed.returncode == 0, completed.stderr
    assert "gpu-platform:components:PixelStreaming" in completed.stdout
    assert "to create" in completed.stdout
    assert "Traceback" not in completed.stdout + completed.stderr


def test_render_writes_compose_and_nginx(tmp_path: Path) -> None:
    completed = preview_main("dev", "--render", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    compose = yaml.safe_load((tmp_path / "compose.yaml").read_text())
    assert len(compose["services"]) == 17
    edge = compose["services"]["dev-edge"]
    assert edge["ports"] == ["127.0.0.1:8080:8080/tcp", *[f"127.0.0.1:{p}:{p}/tcp" for p in range(50051, 50057)]]
    assert edge["read_only"] is True
    assert edge["security_opt"] == ["no-new-privileges:true"]
    db = compose["services"]["dev-bem-db"]
    assert db["secrets"] == [{"source": "postgres_password", "target": "postgres_password"}]
    assert "POSTGRES_PASSWORD" not in db["environment"]
    streamer = compose["services"]["dev-unreal-streamer"]
    assert streamer["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"
    nginx = tmp_path / "nginx" / "dev-edge.conf"
    # Resolved through Docker's DNS at request time, so a replaced container is followed.
    assert "grpc_pass grpc://$edge_backend_kite_empirical;" in nginx.read_text()


def test_config_from_the_pulumi_config_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Language hosts that pass config in PULUMI_CONFIG (not the explicit map) still work."""
    config, _ = read_stack_config("dev")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    result = run_program("dev", {})
    assert result.outputs["blueprint"] == "reference"
