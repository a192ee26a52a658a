"""Each component on the GCP target, one small blueprint at a time.

The GCP twin of ``test_aws_components.py``: blueprints of a component or two run on the ``gcp-prod``
stack (``Pulumi.gcp-prod.yaml``) with the environment and ``gpu-platform:gcp`` settings overridden per test.
Assertions read what pulumi-gcp would receive (camelCase inputs) and derive expected values from the
blueprint written here, the environment profiles (``stacks/profiles.py``) and Cloud Run's documented size
rules; values GCP computes (emails, IPs, ids) are taken from the same run's resources, so a failure names
the resource and field that drifted.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from preview.mocks import SECRET, Recorded
from preview.runner import PreviewResult, run_program
from stacks.profiles import PROFILES
from targets.gcp import render as gcp_render
from targets.gcp.mocks import MOCK_PROJECT, MOCK_PROJECT_NUMBER
from targets.gcp.settings import GcpSettings
from tests.conftest import stack_config, write_blueprint
from tests.tokens import (
    GCP_CLOUDRUNV2_SERVICE,
    GCP_CLOUDRUNV2_SERVICE_IAM_MEMBER,
    GCP_COMPUTE_BACKEND_SERVICE,
    GCP_COMPUTE_DISK,
    GCP_COMPUTE_FIREWALL,
    GCP_COMPUTE_GLOBAL_ADDRESS,
    GCP_COMPUTE_GLOBAL_FORWARDING_RULE,
    GCP_COMPUTE_INSTANCE,
    GCP_COMPUTE_INSTANCE_GROUP,
    GCP_COMPUTE_MANAGED_SSL_CERTIFICATE,
    GCP_COMPUTE_REGION_NETWORK_ENDPOINT_GROUP,
    GCP_COMPUTE_ROUTER_NAT,
    GCP_COMPUTE_SECURITY_POLICY,
    GCP_COMPUTE_SSL_POLICY,
    GCP_COMPUTE_SUBNETWORK,
    GCP_COMPUTE_TARGET_HTTP_PROXY,
    GCP_COMPUTE_TARGET_HTTPS_PROXY,
    GCP_COMPUTE_URL_MAP,
    GCP_SECRETMANAGER_SECRET,
    GCP_SECRETMANAGER_SECRET_IAM_MEMBER,
    GCP_SECRETMANAGER_SECRET_VERSION,
    GCP_SERVICEACCOUNT_ACCOUNT,
    GCP_SERVICENETWORKING_CONNECTION,
    GCP_SQL_DATABASE_INSTANCE,
    GCP_SQL_USER,
    GCP_STORAGE_BUCKET,
)

ROOT = Path(__file__).resolve().parent.parent
STACK = "gcp-prod"
PROJECT = "unit-project-1"
REGION = "us-central1"
DOMAIN = "units.example.org"
KMS = f"projects/{PROJECT}/locations/{REGION}/keyRings/ring/cryptoKeys/key"
LABELLED = (
    GCP_CLOUDRUNV2_SERVICE,
    GCP_COMPUTE_INSTANCE,
    GCP_COMPUTE_DISK,
    GCP_STORAGE_BUCKET,
    GCP_SECRETMANAGER_SECRET,
    GCP_COMPUTE_GLOBAL_ADDRESS,
    GCP_COMPUTE_GLOBAL_FORWARDING_RULE,
    GCP_COMPUTE_SECURITY_POLICY,
)
POOLS: dict[str, Any] = {
    "general": {"cpu": 16, "memory": "64Gi"},
    "gpu": {"cpu": 8, "memory": "32Gi", "gpus": 1},
}
DB: dict[str, Any] = {
    "version": "16",
    "database": "app",
    "username": "app",
    "storage": "20Gi",
    "requests": {"cpu": 0.5, "memory": "1Gi"},
}
API: dict[str, Any] = {
    "image": "ghcr.io/example/api:1.0.0",
    "ports": [{"name": "http", "container_port": 8000}],
    "health": {"kind": "http", "path": "/healthz"},
    "requests": {"cpu": 0.5, "memory": "512Mi"},
    "limits": {"cpu": 1, "memory": "1Gi"},
    "autoscale": {"min": 1, "max": 4, "cpu_percent": 70},
    "uses": ["main-db", "worker"],
    "route": {"path": "/api/"},
}
WORKER: dict[str, Any] = {
    "image": "ghcr.io/example/worker:1.0.0",
    "ports": [{"name": "http", "container_port": 9000}],
    "requests": {"cpu": 1, "memory": "5Gi"},
    "limits": {"cpu": 1, "memory": "5Gi"},
}
REDIS: dict[str, Any] = {
    "image": "redis:7.4.5-alpine",
    "args": ["--appendonly", "yes"],
    "ports": [{"name": "redis", "container_port": 6379, "app_protocol": "tcp"}],
    "health": {"kind": "command", "command": ["redis-cli", "ping"]},
    "requests": {"cpu": 0.25, "memory": "512Mi"},
    "limits": {"cpu": 0.5, "memory": "512Mi"},
    "user": "999:1000",
    "uses": ["main-db"],
    "volumes": {"data": {"path": "/data", "size": "30Gi"}},
}


def run(tmp_path: Path, environment: str = "prod", gcp: dict[str, Any] | None = None, **sections: Any) -> PreviewResult:
    path = write_blueprint(tmp_path, {"name": "unit", "pools": POOLS, **sections})
    config = stack_config(
        STACK,
        blueprint=path,
        environment=environment,
        domain=DOMAIN,
        gcp={"project": PROJECT, "region": REGION, **(gcp or {})},
    )
    return run_program(STACK, config)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> PreviewResult:
    """An API (routed, autoscaled) using a database and an internal worker, and Redis on a VM."""
    tmp = tmp_path_factory.mktemp("app")
    api = {**API, "uses": [*API["uses"], "cache"]}
    return run(tmp, databases={"main-db": DB}, services={"worker": WORKER, "cache": REDIS, "api": api})


def only(result: PreviewResult, token: str, name: str) -> Recorded:
    (found,) = [r for r in result.of_type(token) if r.name == name]
    return found


def container(service: Recorded) -> dict[str, Any]:
    (box,) = service.inputs["template"]["containers"]
    return box


def envs(service: Recorded) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(service)["envs"]}


def email(result: PreviewResult, workload: str) -> str:
    """The service account email the mocks computed for the workload's own account."""
    account = only(result, GCP_SERVICEACCOUNT_ACCOUNT, f"{workload}-sa")
    return f"{account.inputs['accountId']}@{MOCK_PROJECT}.iam.gserviceaccount.com"


# -- Cloud Run ----------------------------------------------------------------------------------


def test_routed_service_is_reachable_only_through_the_load_balancer(app: PreviewResult) -> None:
    api = only(app, GCP_CLOUDRUNV2_SERVICE, "api")
    assert api.inputs["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    assert api.inputs["invokerIamDisabled"] is False
    invokers = [r for r in app.of_type(GCP_CLOUDRUNV2_SERVICE_IAM_MEMBER) if r.inputs["name"] == "api"]
    assert [(r.inputs["role"], r.inputs["member"]) for r in invokers] == [("roles/run.invoker", "allUsers")]


def test_internal_service_is_internal_and_invoked_only_by_its_users(app: PreviewResult) -> None:
    worker = only(app, GCP_CLOUDRUNV2_SERVICE, "worker")
    assert worker.inputs["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    invokers = [r for r in app.of_type(GCP_CLOUDRUNV2_SERVICE_IAM_MEMBER) if r.inputs["name"] == "worker"]
    assert [r.inputs["member"] for r in invokers] == [f"serviceAccount:{email(app, 'api')}"]
    assert all(r.inputs["member"] != "allUsers" for r in invokers)


def test_each_workload_runs_as_its_own_service_account(app: PreviewResult) -> None:
    for name in ("api", "worker"):
        template = only(app, GCP_CLOUDRUNV2_SERVICE, name).inputs["template"]
        assert template["serviceAccount"] == email(app, name)
        assert "compute@developer" not in template["serviceAccount"]
    cache = only(app, GCP_COMPUTE_INSTANCE, "cache")
    assert cache.inputs["serviceAccount"]["email"] == email(app, "cache")
    ids = [r.inputs["accountId"] for r in app.of_type(GCP_SERVICEACCOUNT_ACCOUNT)]
    assert len(ids) == len(set(ids)) == 3
    assert all(6 <= len(i) <= 30 for i in ids)


def test_cloud_run_sizes_scaling_and_probes_follow_the_blueprint(app: PreviewResult) -> None:
    api = only(app, GCP_CLOUDRUNV2_SERVICE, "api")
    template = api.inputs["template"]
    assert template["scaling"] == {
        "minInstanceCount": API["autoscale"]["min"],
        "maxInstanceCount": API["autoscale"]["max"],
        "cpuUtilization": API["autoscale"]["cpu_percent"] / 100,
    }
    box = container(api)
    # limits 1 cpu / 1 GiB: a whole vCPU and 1024 MiB (no rule raises them).
    assert box["resources"]["limits"] == {"cpu": "1", "memory": "1024Mi"}
    assert box["resources"]["cpuIdle"] is True
    assert box["ports"] == {"name": "http1", "containerPort": 8000}
    assert box["startupProbe"]["httpGet"] == {"path": "/healthz", "port": 8000}
    assert box["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 8000}
    # 5 GiB is more than 4 GiB, which needs 2 vCPU (run/docs/configuring/services/memory-limits).
    worker = container(only(app, GCP_CLOUDRUNV2_SERVICE, "worker"))
    assert worker["resources"]["limits"] == {"cpu": "2", "memory": "5120Mi"}
    # An unrouted HTTP service keeps Cloud Run's default request timeout.
    assert only(app, GCP_CLOUDRUNV2_SERVICE, "worker").inputs["template"]["timeout"] == "300s"


def test_egress_goes_through_the_private_subnet(app: PreviewResult) -> None:
    network = app.named("vpc")
    subnet = only(app, GCP_COMPUTE_SUBNETWORK, "private")
    assert subnet.inputs["ipCidrRange"] == GcpSettings.model_fields["subnet_cidr"].default
    assert subnet.inputs["privateIpGoogleAccess"] is True
    assert subnet.inputs["logConfig"]["metadata"] == "INCLUDE_ALL_METADATA"
    (nat,) = app.of_type(GCP_COMPUTE_ROUTER_NAT)
    assert nat.inputs["logConfig"] == {"enable": True, "filter": "ERRORS_ONLY"}
    for service in app.of_type(GCP_CLOUDRUNV2_SERVICE):
        access = service.inputs["template"]["vpcAccess"]
        assert access["egress"] == "ALL_TRAFFIC"
        (interface,) = access["networkInterfaces"]
        assert interface["network"].startswith(network.name)
        assert interface["subnetwork"].startswith(subnet.name)


def test_secrets_are_references_never_values(app: PreviewResult) -> None:
    api = only(app, GCP_CLOUDRUNV2_SERVICE, "api")
    password = envs(api)["DB_MAIN_DB_PASSWORD"]
    assert "value" not in password
    ref = password["valueSource"]["secretKeyRef"]
    assert ref["version"] == "latest"
    (secret,) = [s for s in app.of_type(GCP_SECRETMANAGER_SECRET) if s.name == "main-db-password"]
    assert ref["secret"].startswith("main-db-password")
    readers = {r.inputs["member"] for r in app.of_type(GCP_SECRETMANAGER_SECRET_IAM_MEMBER)}
    assert f"serviceAccount:{email(app, 'api')}" in readers
    assert f"serviceAccount:{email(app, 'cache')}" in readers
    assert {r.inputs["role"] for r in app.of_type(GCP_SECRETMANAGER_SECRET_IAM_MEMBER)} == {
        "roles/secretmanager.secretAccessor"
    }
    assert secret.inputs["replication"] == {"auto": {}}
    # The generated password is nowhere in the clear: only the secret version and the SQL user hold it, masked.
    (user,) = app.of_type(GCP_SQL_USER)
    assert user.inputs["password"] == SECRET
    (version,) = [v for v in app.of_type(GCP_SECRETMANAGER_SECRET_VERSION) if v.name == "main-db-password-version"]
    generated = version.unmasked_inputs["secretData"]
    assert len(generated) == 32
    for resource in app.resources:
        assert generated not in json.dumps(resource.inputs), resource.name
        assert "DB_MAIN_DB_URL" not in json.dumps(resource.inputs)  # a stored password is never spelled into a URL


def test_peers_are_wired_to_run_app_hosts_and_vm_addresses(app: PreviewResult) -> None:
    api = envs(only(app, GCP_CLOUDRUNV2_SERVICE, "api"))
    assert api["WORKER_ADDR"]["value"] == f"worker-{MOCK_PROJECT_NUMBER}.{REGION}.run.app:443"
    assert api["WORKER_URL"]["value"] == f"https://worker-{MOCK_PROJECT_NUMBER}.{REGION}.run.app:443"
    assert api["CACHE_URL"]["value"].startswith("http://")  # a VM: the container port, in the clear
    host, _, port = api["CACHE_ADDR"]["value"].partition(":")
    assert port == "6379"
    # The VM's internal address (computed by GCP; here by the mocks), inside the private subnet.
    assert ipaddress.ip_address(host) in ipaddress.ip_network(GcpSettings.model_fields["subnet_cidr"].default)
    assert api["DB_MAIN_DB_PORT"]["value"] == "5432"


# -- VMs ------------------------------------------------------------------------------------------


def test_vm_is_shielded_private_and_os_login(app: PreviewResult) -> None:
    cache = only(app, GCP_COMPUTE_INSTANCE, "cache").inputs
    assert cache["shieldedInstanceConfig"] == {
        "enableSecureBoot": True,
        "enableVtpm": True,
        "enableIntegrityMonitoring": True,
    }
    (interface,) = cache["networkInterfaces"]
    assert "accessConfigs" not in interface
    assert cache["metadata"]["enable-oslogin"] == "TRUE"
    assert cache["metadata"]["block-project-ssh-keys"] == "TRUE"
    assert cache["serviceAccount"]["scopes"] == ["https://www.googleapis.com/auth/cloud-platform"]
    # 0.5 cpu / 512 MiB + 1 GiB for the OS: the smallest E2.
    assert cache["machineType"] == "e2-standard-2"
    assert cache["bootDisk"]["initializeParams"]["image"] == "cos-cloud/cos-stable"
    assert "guestAccelerators" not in cache or not cache["guestAccelerators"]


def test_vm_volume_is_a_protected_disk_in_prod(app: PreviewResult) -> None:
    disk = only(app, GCP_COMPUTE_DISK, "cache-data")
    assert disk.inputs["size"] == 30
    assert disk.inputs["type"] == "pd-balanced"
    assert disk.protect
    assert disk.retain_on_delete
    instance = only(app, GCP_COMPUTE_INSTANCE, "cache")
    assert instance.inputs["deletionProtection"] is True
    (attached,) = instance.inputs["attachedDisks"]
    assert attached["deviceName"] == "data"


def test_vm_boot_runs_the_container_as_asked(app: PreviewResult) -> None:
    user_data = only(app, GCP_COMPUTE_INSTANCE, "cache").inputs["metadata"]["user-data"]
    assert user_data.startswith("#cloud-config\n")
    document = yaml.safe_load(user_data)
    files = {f["path"]: f["content"] for f in document["write_files"]}
    unit = files["/etc/systemd/system/cache.service"]
    run = files["/etc/gpu-platform/run.sh"]
    start = files["/etc/gpu-platform/start.sh"]
    assert "--user 999:1000" in run
    assert "--read-only" in run
    assert "--volume /mnt/disks/data:/data" in run
    assert "--health-cmd 'redis-cli ping'" in run
    assert "redis:7.4.5-alpine --appendonly yes" in run
    assert "ExecStart=/bin/bash /etc/gpu-platform/run.sh" in unit
    assert "Restart=always" in unit
    assert "mount -o discard,defaults /dev/disk/by-id/google-data /mnt/disks/data" in start
    # The database password is fetched from Secret Manager at boot, handed over as a file.
    assert "secretmanager.googleapis.com/v1/main-db-password" in start
    assert "DB_MAIN_DB_PASSWORD_FILE=/run/secrets/db_main_db_password" in run


def test_vm_firewall_admits_only_the_subnet_on_its_ports(app: PreviewResult) -> None:
    rule = only(app, GCP_COMPUTE_FIREWALL, "cache-from-subnet").inputs
    assert rule["sourceRanges"] == [GcpSettings.model_fields["subnet_cidr"].default]
    assert rule["allows"] == [{"protocol": "tcp", "ports": ["6379"]}]
    assert rule["targetServiceAccounts"] == [email(app, "cache")]
    assert rule["direction"] == "INGRESS"


def test_fractional_gpu_with_command_health_runs_on_an_l4_vm(tmp_path: Path) -> None:
    trainer = {
        "image": "ghcr.io/example/trainer:1.0.0",
        "health": {"kind": "command", "command": ["python", "-c", "print(1)"]},
        "requests": {"cpu": 1, "memory": "4Gi", "gpu": 0.5},
        "limits": {"cpu": 2, "memory": "6Gi", "gpu": 0.5},
        "pool": "gpu",
    }
    result = run(tmp_path, services={"trainer": trainer})
    vm = only(result, GCP_COMPUTE_INSTANCE, "trainer").inputs
    # 2 vCPU / 6 GiB + 1 GiB with one L4: g2-standard-4 (4 vCPU, 16 GiB, 1 L4).
    assert vm["machineType"] == "g2-standard-4"
    assert vm["guestAccelerators"] == [{"type": "nvidia-l4", "count": 1}]
    assert vm["scheduling"]["onHostMaintenance"] == "TERMINATE"
    start = {f["path"]: f["content"] for f in yaml.safe_load(vm["metadata"]["user-data"])["write_files"]}
    assert "cos-extensions install gpu" in start["/etc/gpu-platform/start.sh"]
    assert "--device /dev/nvidia0" in start["/etc/gpu-platform/run.sh"]
    assert result.of_type(GCP_CLOUDRUNV2_SERVICE) == []


# -- GPU, WebSocket and gRPC on Cloud Run ---------------------------------------------------------------


def test_whole_gpu_service_takes_an_l4_on_cloud_run(tmp_path: Path) -> None:
    infer = {k: v for k, v in API.items() if k not in ("limits", "autoscale", "uses")}
    infer.update(requests={"cpu": 2, "memory": "4Gi", "gpu": 1}, pool="gpu")
    result = run(tmp_path, services={"infer": infer})
    service = only(result, GCP_CLOUDRUNV2_SERVICE, "infer")
    template = service.inputs["template"]
    assert template["nodeSelector"] == {"accelerator": "nvidia-l4"}
    assert template["gpuZonalRedundancyDisabled"] is False
    box = container(service)
    # The prod profile's limits (stacks/profiles.py) or the requests, raised to a GPU instance's 4 vCPU / 16 GiB.
    limits = PROFILES["prod"].limits
    cpu = next(step for step in (1, 2, 4, 6, 8) if step >= max(4, limits.cpu, 2))
    memory = max(16 * 1024, limits.memory_mib, 4096)
    assert box["resources"]["limits"] == {"cpu": str(cpu), "memory": f"{memory}Mi", "nvidia.com/gpu": "1"}
    assert box["resources"]["cpuIdle"] is False


def test_sticky_websocket_gateway(tmp_path: Path) -> None:
    gateway = {
        "service": {
            "image": "ghcr.io/example/ws:1.0.0",
            "ports": [{"name": "ws", "container_port": 8765, "app_protocol": "websocket"}],
            "replicas": 2,
        },
        "path": "/ws",
        "idle_timeout_s": 1800,
        "sticky": True,
    }
    result = run(tmp_path, websocket_gateways={"chat": gateway})
    service = only(result, GCP_CLOUDRUNV2_SERVICE, "chat")
    template = service.inputs["template"]
    assert template["timeout"] == "1800s"
    assert template["sessionAffinity"] is True
    assert template["scaling"] == {"minInstanceCount": 2, "maxInstanceCount": 2}
    assert container(service)["ports"]["name"] == "http1"  # WebSockets are not end-to-end HTTP/2
    assert container(service)["resources"]["cpuIdle"] is False
    assert result.outputs["urls"]["chat"] == f"wss://{DOMAIN}/ws"


def test_grpc_tools_are_h2c_and_routed_by_host(tmp_path: Path) -> None:
    fleet = {
        "api": {
            "image": "ghcr.io/example/tools-api:1.0.0",
            "ports": [{"name": "http", "container_port": 8000}],
            "route": {"path": "/"},
        },
        "tools": {"alpha": {"image": "ghcr.io/example/tools:1.0.0", "port": 50051}},
        "public_grpc": True,
    }
    result = run(tmp_path, grpc_tool_fleets={"kit": fleet})
    tool = only(result, GCP_CLOUDRUNV2_SERVICE, "kit-alpha")
    assert container(tool)["ports"] == {"name": "h2c", "containerPort": 50051}
    assert container(tool)["startupProbe"]["grpc"] == {"port": 50051}
    api = envs(only(result, GCP_CLOUDRUNV2_SERVICE, "kit-api"))
    assert api["TOOL_ALPHA_ADDR"]["value"] == f"kit-alpha-{MOCK_PROJECT_NUMBER}.{REGION}.run.app:443"
    backend = only(result, GCP_COMPUTE_BACKEND_SERVICE, "kit-alpha-backend")
    assert backend.inputs["protocol"] == "HTTP2"
    (certificate,) = result.of_type(GCP_COMPUTE_MANAGED_SSL_CERTIFICATE)
    assert sorted(certificate.inputs["managed"]["domains"]) == sorted([DOMAIN, f"kit-alpha.{DOMAIN}"])
    urls = only(result, GCP_COMPUTE_URL_MAP, "edge-urls").inputs
    assert {"hosts": [f"kit-alpha.{DOMAIN}"], "pathMatcher": "kit-alpha"} in urls["hostRules"]
    assert result.outputs["urls"]["kit-alpha"] == f"grpcs://kit-alpha.{DOMAIN}:443"


def test_shared_volume_is_a_private_bucket(tmp_path: Path) -> None:
    models = {**API, "uses": [], "volumes": {"models": {"path": "/models", "size": "20Gi", "shared": True}}}
    result = run(tmp_path, services={"models": models})
    bucket = only(result, GCP_STORAGE_BUCKET, "models-models")
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.protect
    assert bucket.retain_on_delete
    template = only(result, GCP_CLOUDRUNV2_SERVICE, "models").inputs["template"]
    assert template["volumes"][0]["gcs"]["readOnly"] is False
    assert container(only(result, GCP_CLOUDRUNV2_SERVICE, "models"))["volumeMounts"] == [
        {"name": "models", "mountPath": "/models"}
    ]


# -- Cloud SQL -----------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_cloud_sql_follows_the_profile(tmp_path: Path, environment: str) -> None:
    result = run(
        tmp_path, environment=environment, databases={"main-db": DB}, services={"api": {**API, "uses": ["main-db"]}}
    )
    profile = PROFILES[environment]  # type: ignore[index]
    (primary,) = [r for r in result.of_type(GCP_SQL_DATABASE_INSTANCE) if r.name == "main-db"]
    settings = primary.inputs["settings"]
    assert primary.inputs["databaseVersion"] == "POSTGRES_16"
    assert settings["ipConfiguration"]["ipv4Enabled"] is False
    assert settings["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY"
    assert settings["ipConfiguration"]["privateNetwork"].startswith("vpc")
    backups = settings["backupConfiguration"]
    assert backups["enabled"] is (profile.backups.schedule != "none")
    assert backups["pointInTimeRecoveryEnabled"] is (
        profile.backups.schedule != "none" and profile.backups.point_in_time
    )
    assert backups["backupRetentionSettings"]["retainedBackups"] == max(1, profile.backups.retention_days)
    assert settings["availabilityType"] == ("REGIONAL" if profile.ha == "multi-az" else "ZONAL")
    protect = profile.protect_stateful
    assert primary.inputs["deletionProtection"] is protect
    assert settings["deletionProtectionEnabled"] is protect
    assert primary.protect is protect
    assert primary.retain_on_delete is protect
    replicas = [r for r in result.of_type(GCP_SQL_DATABASE_INSTANCE) if r.name != "main-db"]
    assert len(replicas) == profile.read_replicas
    for replica in replicas:
        assert replica.inputs["masterInstanceName"] == primary.inputs["name"]
        assert replica.inputs["settings"]["ipConfiguration"]["ipv4Enabled"] is False
    # Private Service Access: the peering range and connection come before the instance.
    (connection,) = result.of_type(GCP_SERVICENETWORKING_CONNECTION)
    assert connection.urn in primary.dependencies
    (reserved,) = [a for a in result.of_type(GCP_COMPUTE_GLOBAL_ADDRESS) if a.inputs.get("purpose") == "VPC_PEERING"]
    assert reserved.inputs["addressType"] == "INTERNAL"


# -- the load balancer ----------------------------------------------------------------------------


def test_every_backend_has_cloud_armor_and_the_https_proxy_a_tls_policy(app: PreviewResult) -> None:
    (armor,) = app.of_type(GCP_COMPUTE_SECURITY_POLICY)
    throttle = [r for r in armor.inputs["rules"] if r["action"] == "throttle"]
    (rule,) = throttle
    rate = rule["rateLimitOptions"]
    assert rate["enforceOnKey"] == "IP"
    assert rate["rateLimitThreshold"] == {"count": (PROFILES["prod"].rate_limit_rps or 0) * 60, "intervalSec": 60}
    assert rate["exceedAction"] == "deny(429)"
    backends = app.of_type(GCP_COMPUTE_BACKEND_SERVICE)
    assert backends
    for backend in backends:
        assert backend.inputs["securityPolicy"].startswith("https://www.googleapis.com/compute/v1/")
        assert backend.inputs["loadBalancingScheme"] == "EXTERNAL_MANAGED"
    (policy,) = app.of_type(GCP_COMPUTE_SSL_POLICY)
    assert policy.inputs["minTlsVersion"] == "TLS_1_2"
    assert policy.inputs["profile"] == "MODERN"
    (https,) = app.of_type(GCP_COMPUTE_TARGET_HTTPS_PROXY)
    assert https.inputs["sslPolicy"].startswith(policy.name)
    (certificate,) = app.of_type(GCP_COMPUTE_MANAGED_SSL_CERTIFICATE)
    assert certificate.inputs["managed"]["domains"] == [DOMAIN]
    # Port 80 only redirects.
    (http,) = app.of_type(GCP_COMPUTE_TARGET_HTTP_PROXY)
    redirect = only(app, GCP_COMPUTE_URL_MAP, "edge-redirect")
    assert http.inputs["urlMap"].startswith(redirect.name)
    assert redirect.inputs["defaultUrlRedirect"]["httpsRedirect"] is True
    rules = app.of_type(GCP_COMPUTE_GLOBAL_FORWARDING_RULE)
    assert sorted(r.inputs["portRange"] for r in rules) == ["443", "80"]
    assert {r.inputs["loadBalancingScheme"] for r in rules} == {"EXTERNAL_MANAGED"}


def test_routes_are_serverless_negs_and_paths(app: PreviewResult) -> None:
    (neg,) = app.of_type(GCP_COMPUTE_REGION_NETWORK_ENDPOINT_GROUP)
    assert neg.inputs["networkEndpointType"] == "SERVERLESS"
    assert neg.inputs["cloudRun"]["service"] == "api"
    urls = only(app, GCP_COMPUTE_URL_MAP, "edge-urls").inputs
    (matcher,) = urls["pathMatchers"]
    assert matcher["pathRules"][0]["paths"] == ["/api", "/api/*"]
    assert app.outputs["urls"]["api"] == f"https://{DOMAIN}/api/"


def test_routed_vm_gets_an_instance_group_health_check_and_lb_firewall(tmp_path: Path) -> None:
    grafana = {
        "image": "grafana/grafana:12.1.1",
        "ports": [{"name": "http", "container_port": 3000}],
        "health": {"kind": "http", "path": "/api/health"},
        "user": "472:472",
        "volumes": {"data": {"path": "/var/lib/grafana", "size": "5Gi"}},
        "route": {"path": "/grafana/"},
    }
    result = run(tmp_path, services={"grafana": grafana})
    (group,) = result.of_type(GCP_COMPUTE_INSTANCE_GROUP)
    assert group.inputs["namedPorts"] == [{"name": "p3000", "port": 3000}]
    backend = only(result, GCP_COMPUTE_BACKEND_SERVICE, "grafana-backend").inputs
    assert backend["portName"] == "p3000"
    assert backend["protocol"] == "HTTP"
    health = result.named("grafana-hc").inputs
    assert health["httpHealthCheck"] == {"port": 3000, "requestPath": "/api/health"}
    rule = only(result, GCP_COMPUTE_FIREWALL, "grafana-from-lb").inputs
    assert rule["sourceRanges"] == ["35.191.0.0/16", "130.211.0.0/22"]
    assert rule["allows"] == [{"protocol": "tcp", "ports": ["3000"]}]


def test_dev_serves_plain_http_without_a_certificate(tmp_path: Path) -> None:
    result = run(tmp_path, environment="dev", services={"api": {**API, "uses": []}})
    assert result.of_type(GCP_COMPUTE_MANAGED_SSL_CERTIFICATE) == []
    assert result.of_type(GCP_COMPUTE_TARGET_HTTPS_PROXY) == []
    (http,) = result.of_type(GCP_COMPUTE_TARGET_HTTP_PROXY)
    assert http.inputs["urlMap"].startswith("edge-urls")
    assert result.outputs["urls"]["api"] == f"http://{DOMAIN}/api/"
    api = only(result, GCP_CLOUDRUNV2_SERVICE, "api")
    assert api.inputs["deletionProtection"] is False
    # dev sets no rate limit: Cloud Armor takes the setting's default.
    (armor,) = result.of_type(GCP_COMPUTE_SECURITY_POLICY)
    throttle = next(r for r in armor.inputs["rules"] if r["action"] == "throttle")
    default = GcpSettings.model_fields["rate_limit_per_minute"].default
    assert throttle["rateLimitOptions"]["rateLimitThreshold"]["count"] == default


# -- labels, keys, render, SDKs ------------------------------------------------------------------


def test_every_labelable_resource_is_labelled(app: PreviewResult) -> None:
    seen = 0
    for resource in app.resources:
        if resource.type in LABELLED:
            labels = resource.inputs["labels"]
            assert labels["gpu-platform-stack"] == STACK, resource.name
            assert labels["gpu-platform-environment"] == "prod", resource.name
            seen += 1
        if resource.type == GCP_SQL_DATABASE_INSTANCE:
            assert resource.inputs["settings"]["userLabels"]["gpu-platform-stack"] == STACK
    assert seen >= 8


def test_customer_managed_keys_when_set(tmp_path: Path) -> None:
    models = {**API, "volumes": {"models": {"path": "/models", "size": "1Gi", "shared": True}}}
    result = run(
        tmp_path,
        gcp={"kms_key": KMS},
        databases={"main-db": DB},
        services={"worker": WORKER, "cache": REDIS, "api": models},
    )
    for instance in result.of_type(GCP_SQL_DATABASE_INSTANCE):
        assert instance.inputs["encryptionKeyName"] == KMS
    assert only(result, GCP_COMPUTE_DISK, "cache-data").inputs["diskEncryptionKey"] == {"kmsKeySelfLink": KMS}
    assert only(result, GCP_COMPUTE_INSTANCE, "cache").inputs["bootDisk"]["kmsKeySelfLink"] == KMS
    assert only(result, GCP_STORAGE_BUCKET, "api-models").inputs["encryption"] == {"defaultKmsKeyName": KMS}
    for secret in result.of_type(GCP_SECRETMANAGER_SECRET):
        (replica,) = secret.inputs["replication"]["userManaged"]["replicas"]
        assert replica["customerManagedEncryption"] == {"kmsKeyName": KMS}
    for service in result.of_type(GCP_CLOUDRUNV2_SERVICE):
        assert service.inputs["template"]["encryptionKey"] == KMS


def test_render_writes_a_knative_service_per_cloud_run_service(app: PreviewResult, tmp_path: Path) -> None:
    written = gcp_render.render(app.resources, tmp_path)
    names = sorted(p.name for p in written)
    assert names == sorted(f"{r.inputs['name']}.yaml" for r in app.of_type(GCP_CLOUDRUNV2_SERVICE))
    document = yaml.safe_load((tmp_path / "cloud-run" / "api.yaml").read_text())
    assert document["apiVersion"] == "serving.knative.dev/v1"
    assert document["metadata"]["annotations"]["run.googleapis.com/ingress"] == "internal-and-cloud-load-balancing"
    annotations = document["spec"]["template"]["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/maxScale"] == str(API["autoscale"]["max"])
    (interface,) = json.loads(annotations["run.googleapis.com/network-interfaces"])
    assert interface["network"].startswith("vpc")
    assert interface["subnetwork"].startswith("private")
    spec = document["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == email(app, "api")
    env = {e["name"]: e for e in spec["containers"][0]["env"]}
    assert "value" not in env["DB_MAIN_DB_PASSWORD"]
    assert env["DB_MAIN_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "latest"
