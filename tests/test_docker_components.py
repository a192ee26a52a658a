"""Each component on the Docker target, one small blueprint at a time.

The blueprints here hold one component each (plus the pool it needs), so a
failure points at one component. Assertions read the inputs the provider
would receive (camelCase, as the engine sends them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from preview.mocks import SECRET
from preview.runner import PreviewResult
from tests.conftest import Runner, write_blueprint
from tests.docker_checks import assert_hardened, containers, delivered, edge_conf, env_of
from tests.kit import fixture
from tests.tokens import DOCKER_NETWORK, DOCKER_REMOTE_IMAGE

POOLS: dict[str, Any] = fixture("pools-docker")
API: dict[str, Any] = fixture("api")


def blueprint(**sections: Any) -> dict[str, Any]:
    return {"name": "unit", "pools": POOLS, **sections}


def run_blueprint(run: Runner, tmp_path: Path, stack: str = "dev", **sections: Any) -> PreviewResult:
    overrides: dict[str, Any] = {"blueprint": write_blueprint(tmp_path, blueprint(**sections))}
    if stack != "dev":
        overrides.update(environment=stack, target="docker")
    if stack == "prod":
        overrides["tls"] = {
            "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
        }
    return run("dev", **overrides)


class TestService:
    def test_service_is_hardened_and_pinned(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, services={"api": {**API, "route": {"path": "/api/"}}})
        box = containers(result)["dev-api"]
        assert_hardened(box)
        assert box.inputs["readOnly"] is True
        assert "/tmp" in box.inputs["tmpfs"]
        image = result.named("api-image")
        assert image.inputs["name"] == "ghcr.io/example/api:1.0.0"
        assert box.urn.split("::")[-2].startswith("gpu-platform:components:Service$")

    def test_published_port_is_loopback_unless_public(self, run: Runner, tmp_path: Path) -> None:
        private = {**API, "ports": [{"name": "http", "container_port": 8000, "host_port": 9000}]}
        public = {**private, "public": True, "ports": [{"name": "http", "container_port": 8000, "host_port": 9001}]}
        result = run_blueprint(run, tmp_path, services={"private": private, "open": public})
        boxes = containers(result)
        assert boxes["dev-private"].inputs["ports"] == [
            {"internal": 8000, "external": 9000, "ip": "127.0.0.1", "protocol": "tcp"}
        ]
        assert boxes["dev-open"].inputs["ports"][0]["ip"] == "0.0.0.0"

    def test_replicas_share_an_alias_and_one_image(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, services={"api": {**API, "replicas": 3}})
        boxes = [b for n, b in containers(result).items() if n.startswith("dev-api")]
        assert len(boxes) == 3
        aliases = {tuple(b.inputs["networksAdvanced"][0]["aliases"]) for b in boxes}
        assert aliases == {("api",)}
        assert len(result.of_type(DOCKER_REMOTE_IMAGE)) == 1

    def test_autoscaled_service_runs_its_minimum(self, run: Runner, tmp_path: Path) -> None:
        service = {**API, "autoscale": {"min": 2, "max": 5}}
        result = run_blueprint(run, tmp_path, services={"api": service})
        assert len([n for n in containers(result) if n.startswith("dev-api")]) == 2

    def test_gpu_service_gets_a_device_request_and_share(self, run: Runner, tmp_path: Path) -> None:
        trainer = {
            "image": "ghcr.io/example/train:2.0.0",
            "health": {"kind": "command", "command": ["true"]},
            "requests": {"cpu": 1, "memory": "2Gi", "gpu": 1},
        }
        result = run_blueprint(run, tmp_path, services={"train": trainer})
        box = containers(result)["dev-train"]
        assert box.inputs["deviceRequests"] == [
            {"driver": "nvidia", "deviceIds": ["0"], "capabilities": ["gpu", "compute", "utility"]}
        ]
        assert env_of(box)["GPU_MEMORY_FRACTION"] == "0.4"  # the dev profile's GPU share
        assert result.outputs["placement"]["services.train"] == "gpu"

    def test_fractional_gpu_shares_device_zero(self, run: Runner, tmp_path: Path) -> None:
        trainer = {
            "image": "ghcr.io/example/train:2.0.0",
            "health": {"kind": "command", "command": ["true"]},
            "requests": {"cpu": 1, "memory": "2Gi", "gpu": 0.5},
        }
        result = run_blueprint(run, tmp_path, services={"train": trainer})
        request = containers(result)["dev-train"].inputs["deviceRequests"][0]
        assert request["deviceIds"] == ["0"]
        assert "count" not in request

    def test_cpu_service_stays_off_the_gpu_pool(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, services={"api": API})
        assert result.outputs["placement"]["services.api"] == "general"
        assert (
            "deviceRequests" not in containers(result)["dev-api"].inputs
            or not containers(result)["dev-api"].inputs["deviceRequests"]
        )


class TestManagedPostgres:
    def test_password_is_a_secret_file_never_an_env_value(self, run: Runner, tmp_path: Path) -> None:
        api = {**API, "uses": ["db"]}
        result = run_blueprint(run, tmp_path, databases={"db": {"database": "app"}}, services={"api": api})
        db = containers(result)["dev-db"]
        assert_hardened(db)
        env = env_of(db)
        assert env["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
        assert "POSTGRES_PASSWORD" not in env
        upload = delivered(result, "dev-db")["/run/secrets/postgres_password"]
        assert upload["content"] == SECRET
        assert upload["permissions"] == "0400"
        assert (upload["owner"], upload["group"]) == ("70", "70")  # the postgres image's user
        consumer = containers(result)["dev-api"]
        consumer_env = env_of(consumer)
        assert consumer_env["DB_DB_HOST"] == "db"
        assert consumer_env["DB_DB_PORT"] == "5432"
        assert consumer_env["DB_DB_PASSWORD_FILE"] == "/run/secrets/db_db_password"
        assert not any("PASSWORD=" in e and not e.startswith("DB_DB_PASSWORD_FILE=") for e in consumer.inputs["envs"])
        secret_files = {path: u["content"] for path, u in delivered(result, "dev-api").items()}
        assert secret_files["/run/secrets/db_db_password"] == SECRET
        assert secret_files["/run/secrets/db_db_url"] == SECRET
        password = result.of_type("random:index/randomPassword:RandomPassword")[0]
        assert password.inputs["length"] >= 32
        assert db.urn in consumer.dependencies

    def test_dev_volume_is_not_protected_and_has_no_backups(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, databases={"db": {}})
        volume = result.named("db-data")
        assert volume.inputs["name"] == "dev-db-data"
        assert not volume.protect
        assert "dev-db-backup" not in containers(result)

    def test_prod_protects_and_retains_state_and_backs_up_every_six_hours(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, stack="prod", databases={"db": {}})
        for name in ("db-data", "db-backups"):
            volume = result.named(name)
            assert volume.protect, name
            assert volume.retain_on_delete, name
        backup = containers(result)["dev-db-backup"]
        assert_hardened(backup)
        env = env_of(backup)
        assert env["SCHEDULE"] == "0 */6 * * *"
        assert env["BACKUP_KEEP_DAYS"] == "30"
        assert env["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")

    @pytest.mark.parametrize("stack", ["prod", "staging"])
    def test_backup_volume_is_chowned_by_a_one_shot_before_the_job(
        self, run: Runner, tmp_path: Path, stack: str
    ) -> None:
        # The image's /backups is root:root 0755 and a new volume copies that: the job (70:70) needs it chowned.
        result = run_blueprint(run, tmp_path, stack=stack, databases={"db": {}})
        owner = result.named("db-backup-owner")
        inputs = owner.inputs
        assert inputs["user"] == "0:0"
        assert inputs["entrypoints"] == ["chown", "70:70", "/backups"]
        assert inputs["capabilities"] == {"drops": ["ALL"], "adds": ["CHOWN"]}
        assert inputs["securityOpts"] == ["no-new-privileges:true"]
        assert (inputs["attach"], inputs["mustRun"], inputs["restart"]) == (True, False, "no")
        assert (inputs["networkMode"], inputs["readOnly"], inputs["privileged"]) == ("none", True, False)
        assert inputs["image"] == containers(result)["dev-db-backup"].inputs["image"]
        assert [v["containerPath"] for v in inputs["volumes"]] == ["/backups"]
        assert inputs["volumes"][0]["volumeName"] == result.named("db-backups").inputs["name"]
        assert owner.urn in containers(result)["dev-db-backup"].dependencies

    def test_staging_backs_up_daily_for_a_week(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, stack="staging", databases={"db": {}})
        env = env_of(containers(result)["dev-db-backup"])
        assert (env["SCHEDULE"], env["BACKUP_KEEP_DAYS"]) == ("@daily", "7")
        assert not result.named("db-data").protect


class TestWebSocketGateway:
    def test_route_and_affinity(self, run: Runner, tmp_path: Path) -> None:
        gateway = {
            "service": {
                "image": "ghcr.io/example/ws:1.0.0",
                "ports": [{"name": "ws", "container_port": 8765}],
                "replicas": 2,
            },
            "path": "/ws",
            "idle_timeout_s": 1800,
        }
        result = run_blueprint(run, tmp_path, websocket_gateways={"ecm": gateway})
        assert result.outputs["urls"]["ecm"] == "ws://localhost:8080/ws"
        conf = edge_conf(result)
        # One engine: the gateway is resolved per request (a replaced replica is followed); an
        # open WebSocket stays on its connection, so no ip_hash block is needed for affinity.
        assert "proxy_pass http://$edge_backend_ecm" in conf
        assert "ip_hash;" not in conf
        assert "proxy_read_timeout 1800s;" in conf
        assert "proxy_set_header Upgrade $http_upgrade;" in conf
        gw = result.named("ecm")
        assert gw.type == "gpu-platform:components:WebSocketGateway"
        assert not gw.custom


class TestGrpcToolFleet:
    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        tools = {
            name: {"image": "ghcr.io/example/tools:1.0.0", "port": 50051 + i}
            for i, name in enumerate(["empirical", "contextual", "consistency"])
        }
        fleet = {"api": {**API, "route": {"path": "/kite/"}}, "tools": tools, "public_grpc": True}
        return run_blueprint(run, tmp_path, grpc_tool_fleets={"kite": fleet})

    def test_api_gets_every_tool_address(self, result: PreviewResult) -> None:
        env = env_of(containers(result)["dev-kite-api"])
        assert env["TOOL_EMPIRICAL_ADDR"] == "kite-empirical:50051"
        assert env["TOOL_CONSISTENCY_ADDR"] == "kite-consistency:50053"

    def test_tools_use_grpc_health_and_are_hardened(self, result: PreviewResult) -> None:
        tool = containers(result)["dev-kite-contextual"]
        assert_hardened(tool)
        assert tool.inputs["healthcheck"]["tests"] == ["CMD", "grpc_health_probe", "-addr=127.0.0.1:50052"]
        assert "ports" not in tool.inputs or not tool.inputs["ports"]  # reached through the edge only

    def test_edge_speaks_http2_to_tools(self, result: PreviewResult) -> None:
        conf = edge_conf(result)
        assert "listen 50051 http2;" in conf
        assert "set $edge_backend_kite_empirical kite-empirical:50051;" in conf
        assert "grpc_pass grpc://$edge_backend_kite_empirical;" in conf
        assert result.outputs["urls"]["kite"] == "http://localhost:8080/kite/"
        assert result.outputs["urls"]["kite-empirical"] == "grpc://localhost:50051"


class TestPixelStreaming:
    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        streaming = {
            "streamer": {
                "image": "ghcr.io/example/unreal:5.4.4",
                "ports": [{"name": "http", "container_port": 80}],
                "requests": {"cpu": 2, "memory": "8Gi", "gpu": 1},
            },
            "signalling": {
                "service": {
                    "image": "ghcr.io/example/signalling:5.4.4",
                    "ports": [{"name": "http", "container_port": 8888}],
                },
                "path": "/signalling",
            },
            "turn": {"relay_min_port": 49160, "relay_max_port": 49170},
        }
        return run_blueprint(run, tmp_path, pixel_streaming={"unreal": streaming})

    def test_streamer_on_gpu_pool(self, result: PreviewResult) -> None:
        streamer = containers(result)["dev-unreal-streamer"]
        assert streamer.inputs["deviceRequests"][0]["deviceIds"] == ["0"]
        assert result.outputs["placement"]["pixel_streaming.unreal.streamer"] == "gpu"
        assert env_of(streamer)["SIGNALLING_URL"] == "ws://unreal-signalling:8888"

    def test_turn_publishes_its_relay_range_and_keeps_its_secret_secret(self, result: PreviewResult) -> None:
        turn = containers(result)["dev-unreal-turn"]
        assert_hardened(turn)
        udp = sorted(p["external"] for p in turn.inputs["ports"] if p["protocol"] == "udp")
        assert udp == [3478, *range(49160, 49171)]
        assert any(p["external"] == 3478 and p["protocol"] == "tcp" for p in turn.inputs["ports"])
        conf = delivered(result, "dev-unreal-turn")["/run/secrets/turnserver.conf"]
        assert conf["content"] == SECRET
        assert turn.inputs["command"] == ["-c", "/run/secrets/turnserver.conf"]

    def test_signalling_gets_turn_secret_as_file(self, result: PreviewResult) -> None:
        signalling = containers(result)["dev-unreal-signalling"]
        env = env_of(signalling)
        assert env["TURN_URL"] == "turn:127.0.0.1:3478"  # published on the engine, reachable by browsers
        assert env["TURN_SHARED_SECRET_FILE"] == "/run/secrets/turn_shared_secret"
        assert result.outputs["urls"]["unreal"] == "ws://localhost:8080/signalling"


class TestGpuNode:
    def test_one_provider_per_pool_and_one_network_per_engine(self, run: Runner, tmp_path: Path) -> None:
        pools = {
            "thanos": {"cpu": 24, "memory": "64Gi", "gpus": 1, "targets": {"docker": {"host": "ssh://ops@thanos"}}},
            "oracle1": {
                "cpu": 4,
                "memory": "24Gi",
                "architecture": "arm64",
                "targets": {"docker": {"host": "ssh://ops@oracle1"}},
            },
            "starlord": {"cpu": 8, "memory": "32Gi", "targets": {"docker": {"address": "10.0.0.3"}}},
        }
        path = write_blueprint(
            tmp_path, {"name": "nodes", "pools": pools, "services": {"api": {**API, "pool": "oracle1"}}}
        )
        result = run("dev", blueprint=path)
        providers = {r.name: r.inputs.get("host") for r in result.of_type("pulumi:providers:docker")}
        assert providers == {
            "thanos-engine": "ssh://ops@thanos",
            "oracle1-engine": "ssh://ops@oracle1",
            "starlord-engine": "unix:///var/run/docker.sock",
        }
        assert len(result.of_type(DOCKER_NETWORK)) == 3
        api = containers(result)["dev-api"]
        assert api.provider is not None
        assert api.provider.endswith("::oracle1-engine")
        assert result.named("api-image").inputs["platform"] == "linux/arm64"


class TestAcrossEngines:
    """Pools on several engines: every port is published on the host's private address, peers get /etc/hosts."""

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        pools = {
            "thanos": {"cpu": 24, "memory": "64Gi",
                       "targets": {"docker": {"host": "ssh://ops@thanos", "address": "10.0.0.1"}}},
            "oracle1": {"cpu": 4, "memory": "24Gi", "architecture": "arm64",
                        "targets": {"docker": {"host": "ssh://ops@oracle1", "address": "10.0.0.2"}}},
        }  # fmt: skip
        blueprint = {
            "name": "spread",
            "pools": pools,
            "databases": {"db": {"pool": "thanos"}},
            "services": {"api": {**API, "pool": "oracle1", "uses": ["db"], "route": {"path": "/"}}},
        }
        return run("dev", blueprint=write_blueprint(tmp_path, blueprint))

    def test_consumer_reaches_the_database_on_the_other_host(self, result: PreviewResult) -> None:
        api = containers(result)["dev-api"]
        assert {"host": "db", "ip": "10.0.0.1"} in api.inputs["hosts"]
        db = containers(result)["dev-db"]
        assert db.inputs["ports"] == [{"internal": 5432, "external": 5432, "ip": "10.0.0.1", "protocol": "tcp"}]

    def test_edge_reaches_routed_services_on_other_hosts(self, result: PreviewResult) -> None:
        edge = containers(result)["dev-edge"]  # the edge runs on the first pool (thanos)
        assert {"host": "api", "ip": "10.0.0.2"} in edge.inputs["hosts"]
        api = containers(result)["dev-api"]
        assert api.inputs["ports"][0]["ip"] == "10.0.0.2"

    def test_a_host_without_an_address_is_a_config_error(self, run: Runner, tmp_path: Path) -> None:
        import pulumi

        pools = {
            "a": {"cpu": 4, "memory": "8Gi", "targets": {"docker": {"host": "ssh://ops@a"}}},
            "b": {"cpu": 4, "memory": "8Gi"},
        }
        path = write_blueprint(tmp_path, {"name": "x", "pools": pools, "services": {"api": API}})
        with pytest.raises(pulumi.RunError, match=r"pools\.b\.targets\.docker\.address is not set"):
            run("dev", blueprint=path)
