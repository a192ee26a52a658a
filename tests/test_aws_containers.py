"""Container definitions called directly: plain data in, the ECS API's JSON out (no Pulumi runtime, no mocks)."""

from __future__ import annotations

from components.protocol import SECRETS_DIR, HealthRequest, Pool, PortRequest, ServiceRequest
from targets.aws.containers import INIT, container_definitions


def test_init_container_first_then_the_non_root_workload() -> None:
    request = ServiceRequest(
        name="api",
        image="ghcr.io/example/api:1.0.0",
        pool=Pool("cpu", 0, "x86_64", None),
        ports=(PortRequest("http", 8080), PortRequest("grpc", 50051, app_protocol="grpc")),
        health=HealthRequest(kind="command", port=8080, command=("true",), interval_s=1, timeout_s=120),
    )
    init, main = container_definitions(
        request,
        region="eu-west-1",
        log_group="/ecs/api",
        env={"B": "2", "A": "1"},
        secrets={"TOKEN": "arn:token"},
        files={"key.pem": "arn:key"},
        efs_mounts=[("data", "/data")],
        ec2=True,
        writable=False,
    )
    assert init["name"] == INIT
    assert init["user"] == "0"
    assert init["secrets"] == [{"name": "SECRET_FILE_0", "valueFrom": "arn:key"}]
    assert main["user"] == "10001:10001"
    assert main["readonlyRootFilesystem"] is True
    assert main["dependsOn"] == [{"containerName": INIT, "condition": "SUCCESS"}]
    assert [e["name"] for e in main["environment"]] == ["A", "B"]
    assert [p.get("appProtocol") for p in main["portMappings"]] == ["http", "grpc"]
    assert (main["cpu"], main["memoryReservation"], main["memory"]) == (256, 256, 512)
    assert (main["healthCheck"]["interval"], main["healthCheck"]["timeout"]) == (5, 60)
    assert "resourceRequirements" not in main
    assert [m["containerPath"] for m in main["mountPoints"]] == ["/tmp", "/data", SECRETS_DIR]
    assert main["logConfiguration"]["options"]["awslogs-region"] == "eu-west-1"
