"""Each component on the AWS target, one small blueprint at a time.

The AWS twin of ``test_kubernetes_components.py``: the blueprints here hold a
component or two (plus the pools and databases they need) and run on the
``prod`` stack, whose ``Pulumi.prod.yaml`` targets AWS, with the environment,
domain and ``gpu-platform:aws`` settings overridden per test. Assertions read
what pulumi-aws would receive (camelCase inputs, ECS container definitions as
JSON text) and derive every expected value from the blueprint and settings
written here; values AWS computes (ids, ARNs, RDS addresses) are asked of the
same mocks the run used, so a failure names the resource and field that drifted.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import pulumi
import pytest
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from preview import runner
from preview.mocks import SECRET, PlatformMocks, Recorded, RecordingMonitor
from preview.policies import evaluate
from preview.runner import PreviewResult, run_program
from targets.aws.mocks import MOCK_ACCOUNT
from tests.conftest import Runner, reference_blueprint, shipped, stack_config, write_blueprint
from tests.kit import fixture, names, one
from tests.tokens import (
    AWS_APPAUTOSCALING_POLICY,
    AWS_APPAUTOSCALING_TARGET,
    AWS_AUTOSCALING_GROUP,
    AWS_AUTOSCALING_SCHEDULE,
    AWS_CLOUDWATCH_LOG_GROUP,
    AWS_CLOUDWATCH_METRIC_ALARM,
    AWS_EC2_DEFAULT_SECURITY_GROUP,
    AWS_EC2_LAUNCH_TEMPLATE,
    AWS_EC2_NAT_GATEWAY,
    AWS_EC2_ROUTE_TABLE,
    AWS_EC2_SECURITY_GROUP,
    AWS_EC2_SUBNET,
    AWS_EC2_VPC,
    AWS_ECS_CAPACITY_PROVIDER,
    AWS_ECS_CLUSTER,
    AWS_ECS_CLUSTER_CAPACITY_PROVIDERS,
    AWS_ECS_SERVICE,
    AWS_ECS_TASK_DEFINITION,
    AWS_IAM_INSTANCE_PROFILE,
    AWS_IAM_ROLE,
    AWS_IAM_ROLE_POLICY,
    AWS_IAM_ROLE_POLICY_ATTACHMENT,
    AWS_INDEX_GET_AVAILABILITY_ZONES,
    AWS_KMS_KEY,
    AWS_LB_LISTENER,
    AWS_LB_LISTENER_RULE,
    AWS_LB_LOAD_BALANCER,
    AWS_LB_TARGET_GROUP,
    AWS_RDS_INSTANCE,
    AWS_RDS_PARAMETER_GROUP,
    AWS_RDS_SUBNET_GROUP,
    AWS_S3_BUCKET,
    AWS_S3_BUCKET_POLICY,
    AWS_S3_BUCKET_PUBLIC_ACCESS_BLOCK,
    AWS_S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION,
    AWS_SECRETSMANAGER_SECRET,
    AWS_SECRETSMANAGER_SECRET_VERSION,
    AWS_SERVICEDISCOVERY_HTTP_NAMESPACE,
    AWS_SSM_GET_PARAMETER,
    AWS_VPC_SECURITY_GROUP_EGRESS_RULE,
    AWS_VPC_SECURITY_GROUP_INGRESS_RULE,
    AWS_WAFV2_WEB_ACL,
    AWS_WAFV2_WEB_ACL_ASSOCIATION,
)

VPC = AWS_EC2_VPC
SUBNET = AWS_EC2_SUBNET
NAT_GATEWAY = AWS_EC2_NAT_GATEWAY
ROUTE_TABLE = AWS_EC2_ROUTE_TABLE
DEFAULT_SG = AWS_EC2_DEFAULT_SECURITY_GROUP
SECURITY_GROUP = AWS_EC2_SECURITY_GROUP
INGRESS = AWS_VPC_SECURITY_GROUP_INGRESS_RULE
EGRESS = AWS_VPC_SECURITY_GROUP_EGRESS_RULE
KMS_KEY = AWS_KMS_KEY
CLUSTER = AWS_ECS_CLUSTER
CLUSTER_CAPACITY = AWS_ECS_CLUSTER_CAPACITY_PROVIDERS
CAPACITY_PROVIDER = AWS_ECS_CAPACITY_PROVIDER
TASK_DEFINITION = AWS_ECS_TASK_DEFINITION
ECS_SERVICE = AWS_ECS_SERVICE
LOG_GROUP = AWS_CLOUDWATCH_LOG_GROUP
ALARM = AWS_CLOUDWATCH_METRIC_ALARM
ROLE = AWS_IAM_ROLE
ROLE_POLICY = AWS_IAM_ROLE_POLICY
POLICY_ATTACHMENT = AWS_IAM_ROLE_POLICY_ATTACHMENT
INSTANCE_PROFILE = AWS_IAM_INSTANCE_PROFILE
SECRET_TYPE = AWS_SECRETSMANAGER_SECRET
SECRET_VERSION = AWS_SECRETSMANAGER_SECRET_VERSION
SCALING_TARGET = AWS_APPAUTOSCALING_TARGET
SCALING_POLICY = AWS_APPAUTOSCALING_POLICY
LAUNCH_TEMPLATE = AWS_EC2_LAUNCH_TEMPLATE
ASG = AWS_AUTOSCALING_GROUP
SCHEDULE = AWS_AUTOSCALING_SCHEDULE
LOAD_BALANCER = AWS_LB_LOAD_BALANCER
LISTENER = AWS_LB_LISTENER
LISTENER_RULE = AWS_LB_LISTENER_RULE
TARGET_GROUP = AWS_LB_TARGET_GROUP
WEB_ACL = AWS_WAFV2_WEB_ACL
WEB_ACL_ASSOCIATION = AWS_WAFV2_WEB_ACL_ASSOCIATION
BUCKET = AWS_S3_BUCKET
BUCKET_PUBLIC_ACCESS = AWS_S3_BUCKET_PUBLIC_ACCESS_BLOCK
BUCKET_ENCRYPTION = AWS_S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION
BUCKET_POLICY = AWS_S3_BUCKET_POLICY
RDS_INSTANCE = AWS_RDS_INSTANCE
PARAMETER_GROUP = AWS_RDS_PARAMETER_GROUP
DB_SUBNET_GROUP = AWS_RDS_SUBNET_GROUP
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
AWS_PROVIDER = "pulumi:providers:aws"
COMPONENT = "gpu-platform:components:"

AZ_LOOKUP = AWS_INDEX_GET_AVAILABILITY_ZONES
SSM_PARAMETER = AWS_SSM_GET_PARAMETER

STACK = "prod"
DOMAIN = "units.example.org"
REGION = "us-east-1"
CERT = "arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-3333-4444-555555555555"
TOPIC = "arn:aws:sns:us-east-1:111122223333:unit-alarms"
PROD_AWS: dict[str, Any] = {"certificate_arn": CERT, "alarm_topic_arn": TOPIC, "availability_zones": 2}
WORLD = "0.0.0.0/0"
USER = "10001:10001"

# The prod and staging rows of stacks/profiles.py that these blueprints exercise.
LOG_RETENTION = {"staging": 30, "prod": 365}
RATE_LIMIT_RPS = {"staging": 50, "prod": 100}
BACKUP_DAYS = {"staging": 7, "prod": 30}

POOLS: dict[str, Any] = fixture("pools-aws")  # the GPU pool: g5.12xlarge, four A10G with 24 GiB each
GPU_MEMORY_MIB = 24 * 1024
API: dict[str, Any] = fixture("api")


# -- running a blueprint -------------------------------------------------------------------------


def blueprint(pools: dict[str, Any] | None = None, **sections: Any) -> dict[str, Any]:
    return {"name": "unit", "pools": POOLS if pools is None else pools, **sections}


def run_blueprint(
    run: Runner,
    tmp_path: Path,
    environment: str = STACK,
    aws: dict[str, Any] | None = None,
    pools: dict[str, Any] | None = None,
    **sections: Any,
) -> PreviewResult:
    """The prod stack (target aws) with this blueprint, profile and ``gpu-platform:aws`` settings.

    Without ``aws``, prod gets the certificate and alarm topic it requires, staging the certificate
    (it serves TLS) and dev nothing.
    """
    if aws is None:
        aws = {"prod": PROD_AWS, "staging": {"certificate_arn": CERT}}.get(environment, {})
    overrides: dict[str, Any] = {
        "blueprint": write_blueprint(tmp_path, blueprint(pools, **sections)),
        "domain": DOMAIN,
        "aws": aws,
    }
    if environment != STACK:
        overrides["environment"] = environment
    return run(STACK, **overrides)


# -- lookups -------------------------------------------------------------------------------------

_MOCKS = PlatformMocks()


def computed(resource: Recorded) -> tuple[str, dict[str, Any]]:
    """The id and outputs the mocks gave ``resource`` (ARNs, ids, generated names, RDS addresses)."""
    rid, outputs = _MOCKS.new_resource(MockResourceArgs(resource.type, resource.name, resource.inputs))
    assert rid is not None
    return rid, outputs


def id_of(resource: Recorded) -> str:
    return computed(resource)[0]


def arn_of(resource: Recorded) -> str:
    return str(computed(resource)[1]["arn"])


def zone_names() -> list[str]:
    """What the availability-zone lookup answers (the mocks' region has three zones)."""
    outputs, _ = _MOCKS.call(MockCallArgs(AZ_LOOKUP, {"state": "available"}, ""))
    return list(outputs["names"])


def key_arn(result: PreviewResult) -> str:
    (key,) = result.of_type(KMS_KEY)
    return arn_of(key)


def subnet_ids(result: PreviewResult, tier: str) -> list[str]:
    """Ids of the ``public`` or ``private`` subnets, in AZ order."""
    subnets = sorted(
        (s for s in result.of_type(SUBNET) if s.inputs["tags"]["gpu-platform:tier"] == tier), key=lambda s: s.name
    )
    return [id_of(s) for s in subnets]


def task(result: PreviewResult, name: str) -> dict[str, Any]:
    """The inputs of a workload's task definition."""
    return one(result, TASK_DEFINITION, f"{name}-task").inputs


def containers(result: PreviewResult, name: str) -> dict[str, dict[str, Any]]:
    """A workload's container definitions by container name (the JSON text parsed)."""
    return {c["name"]: c for c in json.loads(task(result, name)["containerDefinitions"])}


def container(result: PreviewResult, name: str) -> dict[str, Any]:
    """The workload's own container (the one named after it)."""
    return containers(result, name)[name]


def env_of(box: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in box.get("environment", [])}


def secrets_of(box: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["valueFrom"] for s in box.get("secrets", [])}


def ecs_service(result: PreviewResult, name: str) -> Recorded:
    return one(result, ECS_SERVICE, f"{name}-service")


def policy_document(result: PreviewResult, name: str) -> dict[str, Any]:
    """An inline role policy, parsed."""
    return json.loads(one(result, ROLE_POLICY, name).inputs["policy"])


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    (found,) = [s for s in document["Statement"] if s.get("Sid") == sid]
    return found


def rds_secret_arn(result: PreviewResult, database: str) -> str:
    """The ARN of the secret holding ``database``'s generated master credentials."""
    return arn_of(one(result, AWS_SECRETSMANAGER_SECRET, f"{database}-credentials"))


def db_password_ref(result: PreviewResult, database: str) -> str:
    """What consumers of ``database`` get: the credentials secret's password, pinned to its current version."""
    version = one(result, AWS_SECRETSMANAGER_SECRET_VERSION, f"{database}-credentials-value")
    _, outputs = _MOCKS.new_resource(MockResourceArgs(version.type, version.name, version.unmasked_inputs))
    return f"{rds_secret_arn(result, database)}:password::{outputs['versionId']}"


class Flow(NamedTuple):
    """One security group rule: groups by workload name, a CIDR where no group is referenced."""

    direction: str
    group: str
    peer: str
    protocol: str
    low: int
    high: int


def flows(result: PreviewResult) -> set[Flow]:
    """Every ingress and egress rule of the stack as a :class:`Flow`."""
    groups = {id_of(g): g.name.removesuffix("-sg") for g in result.of_type(SECURITY_GROUP)}
    found: set[Flow] = set()
    for direction, token in (("in", INGRESS), ("out", EGRESS)):
        for rule in result.of_type(token):
            inputs = rule.inputs
            peer = groups.get(inputs.get("referencedSecurityGroupId", "")) or inputs.get("cidrIpv4") or "?"
            found.add(
                Flow(
                    direction,
                    groups[inputs["securityGroupId"]],
                    peer,
                    inputs["ipProtocol"],
                    inputs["fromPort"],
                    inputs["toPort"],
                )
            )
    return found


def world_ingress(result: PreviewResult) -> set[tuple[str, str, int]]:
    """(group, protocol, port) of every rule that admits an address range rather than a group."""
    groups = {g.name.removesuffix("-sg") for g in result.of_type(SECURITY_GROUP)}
    return {(f.group, f.protocol, f.low) for f in flows(result) if f.direction == "in" and f.peer not in groups}


def workload_name(key: str) -> str:
    """A placement key (``grpc_tool_fleets.kite.tools.power``) as the workload's name (``kite-power``)."""
    parts = key.split(".")
    if parts[0] in {"services", "databases", "websocket_gateways"}:
        return parts[1]
    if parts[0] == "grpc_tool_fleets":
        return f"{parts[1]}-{parts[-1]}"
    return f"{parts[1]}-{parts[2]}"  # pixel_streaming.<name>.streamer|signalling.service|turn|matchmaker


def containers_everywhere(result: PreviewResult) -> Iterator[tuple[str, dict[str, Any]]]:
    for definition in result.of_type(TASK_DEFINITION):
        for box in json.loads(definition.inputs["containerDefinitions"]):
            yield f"{definition.name}/{box['name']}", box


# -- 1. Foundation -------------------------------------------------------------------------------


class TestFoundation:
    """VPC over two AZs, private tasks, NAT by profile, an encrypted cluster and log groups."""

    SERVICES: ClassVar[dict[str, Any]] = {"api": API}

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, services=self.SERVICES)

    def test_one_public_and_one_private_subnet_per_zone_from_the_lookup(self, result: PreviewResult) -> None:
        zones = zone_names()[: PROD_AWS["availability_zones"]]
        by_tier: dict[str, list[str]] = {"public": [], "private": []}
        for subnet in sorted(result.of_type(SUBNET), key=lambda s: s.name):
            by_tier[subnet.inputs["tags"]["gpu-platform:tier"]].append(subnet.inputs["availabilityZone"])
        assert by_tier == {"public": zones, "private": zones}

    def test_subnets_are_disjoint_blocks_of_the_vpc(self, result: PreviewResult) -> None:
        (vpc,) = result.of_type(VPC)
        network = ipaddress.IPv4Network(vpc.inputs["cidrBlock"])
        blocks = [ipaddress.IPv4Network(s.inputs["cidrBlock"]) for s in result.of_type(SUBNET)]
        assert all(block.subnet_of(network) for block in blocks)
        assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
        assert vpc.inputs["enableDnsHostnames"] is True
        assert vpc.inputs["enableDnsSupport"] is True

    def test_no_subnet_hands_out_public_addresses(self, result: PreviewResult) -> None:
        """Only the load balancers are public; even the public subnets give instances no public IP."""
        assert len(result.of_type(SUBNET)) == 4
        for subnet in result.of_type(SUBNET):
            assert subnet.inputs["mapPublicIpOnLaunch"] is False, subnet.name

    def test_private_subnets_leave_through_nat(self, result: PreviewResult) -> None:
        nats = {id_of(n) for n in result.of_type(NAT_GATEWAY)}
        private_tables = [t for t in result.of_type(ROUTE_TABLE) if "natGatewayId" in t.inputs["routes"][0]]
        assert len(private_tables) == 2
        used = set()
        for table in private_tables:
            (route,) = table.inputs["routes"]
            assert route["cidrBlock"] == WORLD
            assert route["natGatewayId"] in nats
            used.add(route["natGatewayId"])
        assert used == nats, "prod: each private subnet leaves through the NAT gateway of its own AZ"

    @pytest.mark.parametrize(
        ("environment", "zones", "expected"),
        [("staging", 2, 1), ("prod", 2, 2), ("prod", 3, 3)],
        ids=["staging-one-nat", "prod-nat-per-az", "prod-three-azs"],
    )
    def test_nat_gateways_by_profile(
        self, run: Runner, tmp_path: Path, environment: str, zones: int, expected: int
    ) -> None:
        """One NAT in staging (cost); one per AZ in prod, each in its own public subnet."""
        aws = {**PROD_AWS, "availability_zones": zones}
        result = run_blueprint(run, tmp_path, environment=environment, aws=aws, services=self.SERVICES)
        nats = result.of_type(NAT_GATEWAY)
        assert len(nats) == expected
        public = subnet_ids(result, "public")
        assert len(public) == zones
        assert len({n.inputs["subnetId"] for n in nats}) == expected
        assert {n.inputs["subnetId"] for n in nats} <= set(public)

    def test_cluster_has_container_insights(self, result: PreviewResult) -> None:
        (cluster,) = result.of_type(CLUSTER)
        settings = {s["name"]: s["value"] for s in cluster.inputs["settings"]}
        assert settings["containerInsights"] in {"enabled", "enhanced"}
        assert cluster.inputs["configuration"]["executeCommandConfiguration"]["kmsKeyId"] == key_arn(result)

    @pytest.mark.parametrize("environment", ["staging", "prod"])
    def test_log_groups_keep_the_profiles_retention_encrypted(
        self, run: Runner, tmp_path: Path, environment: str
    ) -> None:
        result = run_blueprint(run, tmp_path, environment=environment, services=self.SERVICES)
        groups = result.of_type(LOG_GROUP)  # the services' and, where monitored, flow logs and WAF logs
        assert groups
        for group in groups:
            assert group.inputs["retentionInDays"] == LOG_RETENTION[environment]
            assert group.inputs["kmsKeyId"] == key_arn(result)

    def test_default_security_group_allows_nothing(self, result: PreviewResult) -> None:
        (default,) = result.of_type(DEFAULT_SG)
        (vpc,) = result.of_type(VPC)
        assert default.inputs == {"vpcId": id_of(vpc)}

    def test_key_rotates(self, result: PreviewResult) -> None:
        (key,) = result.of_type(KMS_KEY)
        assert key.inputs["enableKeyRotation"] is True


# -- 2. Fargate services and wiring ---------------------------------------------------------------


class TestFargateService:
    """CPU services on Fargate: sized from requests, hardened, secrets by reference, private."""

    WEB: ClassVar[dict[str, Any]] = {
        **API,
        "uses": ["db"],
        "route": {"path": "/api/"},
        "autoscale": {"min": 2, "max": 5, "cpu_percent": 60},
    }
    DB: ClassVar[dict[str, Any]] = {"database": "store", "username": "clerk"}
    # name -> (requests, the smallest valid Fargate pair that holds them)
    SIZES: ClassVar[dict[str, tuple[dict[str, Any], tuple[int, int]]]] = {
        "web": ({"cpu": 0.5, "memory": "512Mi"}, (512, 1024)),
        "mid": ({"cpu": 1, "memory": "3Gi"}, (1024, 3072)),
        "wide": ({"cpu": 2, "memory": "3Gi"}, (2048, 4096)),
        "tiny": ({"cpu": 0.25, "memory": "256Mi"}, (256, 512)),
    }

    def sections(self) -> dict[str, Any]:
        services: dict[str, Any] = {name: {**API, "requests": requests} for name, (requests, _) in self.SIZES.items()}
        services["web"] = {**self.WEB, "requests": self.SIZES["web"][0]}
        services["mid"]["uses"] = ["other"]
        return {"databases": {"db": self.DB, "other": {}}, "services": services}

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, **self.sections())

    @pytest.fixture
    def staging(self, run: Runner, tmp_path: Path) -> PreviewResult:
        # web's root filesystem is writable here: ECS Exec needs one (read-only tasks get no exec).
        aws = {"certificate_arn": CERT, "writable_root": ["web"]}
        return run_blueprint(run, tmp_path, environment="staging", aws=aws, **self.sections())

    @pytest.mark.parametrize("name", list(SIZES))
    def test_task_size_is_the_requests_rounded_up_to_a_valid_pair(self, result: PreviewResult, name: str) -> None:
        definition = task(result, name)
        _, (cpu, memory) = self.SIZES[name]
        assert (definition["cpu"], definition["memory"]) == (str(cpu), str(memory))

    def test_fargate_task_in_awsvpc_mode(self, result: PreviewResult) -> None:
        definition = task(result, "web")
        assert definition["networkMode"] == "awsvpc"
        assert definition["requiresCompatibilities"] == ["FARGATE"]
        assert definition["runtimePlatform"] == {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}
        assert container(result, "web")["image"] == self.WEB["image"]
        assert container(result, "web")["portMappings"][0]["containerPort"] == 8000

    def test_logs_go_to_the_workloads_own_group(self, result: PreviewResult) -> None:
        group = one(result, LOG_GROUP, "web-logs").inputs["name"]
        logging = container(result, "web")["logConfiguration"]
        assert logging["logDriver"] == "awslogs"
        assert logging["options"]["awslogs-group"] == group
        assert logging["options"]["awslogs-region"] == REGION

    def test_container_is_hardened(self, result: PreviewResult) -> None:
        for name in self.SIZES:
            box = container(result, name)
            assert box["user"] == USER, name
            assert box["readonlyRootFilesystem"] is True, name
            assert box["privileged"] is False, name
            assert box["linuxParameters"]["capabilities"]["drop"] == ["ALL"], name
            assert {"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False} in box["mountPoints"]

    def test_database_password_is_a_reference_to_the_rds_secret(self, result: PreviewResult) -> None:
        """``uses: [db]``: host and names in the environment, the password as a Secrets Manager reference."""
        box = container(result, "web")
        _, primary = computed(one(result, RDS_INSTANCE, "db-primary"))
        env = env_of(box)
        assert env["DB_DB_HOST"] == primary["address"]
        assert (env["DB_DB_PORT"], env["DB_DB_NAME"], env["DB_DB_USER"]) == (
            "5432",
            self.DB["database"],
            self.DB["username"],
        )
        assert secrets_of(box) == {"DB_DB_PASSWORD": db_password_ref(result, "db")}
        assert "DB_DB_PASSWORD" not in env
        assert "DB_DB_URL" not in env
        assert "DB_DB_URL" not in secrets_of(box), "a stored secret is passed on, never read into a URL"
        assert SECRET not in json.dumps(box)

    def test_execution_and_task_roles_are_separate(self, result: PreviewResult) -> None:
        definition = task(result, "web")
        assert definition["executionRoleArn"] == arn_of(one(result, ROLE, "web-execution-role"))
        assert definition["taskRoleArn"] == arn_of(one(result, ROLE, "web-task-role"))
        assert definition["executionRoleArn"] != definition["taskRoleArn"]

    def test_execution_role_reads_only_its_own_secrets(self, result: PreviewResult) -> None:
        """web uses db, mid uses other: neither execution role may read the other's password."""
        for service, database in (("web", "db"), ("mid", "other")):
            document = policy_document(result, f"{service}-execution-policy")
            assert statement(document, "ReadOwnSecrets")["Resource"] == [rds_secret_arn(result, database)]
            assert statement(document, "DecryptSecrets")["Resource"] == key_arn(result)
            logs = statement(document, "WriteLogs")["Resource"]
            assert logs == arn_of(one(result, LOG_GROUP, f"{service}-logs")) + ":*"
        tiny = policy_document(result, "tiny-execution-policy")
        assert "ReadOwnSecrets" not in {s["Sid"] for s in tiny["Statement"]}

    def test_service_runs_privately(self, result: PreviewResult) -> None:
        network = ecs_service(result, "web").inputs["networkConfiguration"]
        assert network["assignPublicIp"] is False
        assert network["subnets"] == subnet_ids(result, "private")
        assert network["securityGroups"] == [id_of(one(result, SECURITY_GROUP, "web-sg"))]

    def test_deployments_roll_back_on_failure(self, result: PreviewResult) -> None:
        service = ecs_service(result, "web").inputs
        assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        assert service["taskDefinition"] == arn_of(one(result, TASK_DEFINITION, "web-task"))
        (cluster,) = result.of_type(CLUSTER)
        assert service["cluster"] == arn_of(cluster)

    def test_service_connect_names_the_service(self, result: PreviewResult) -> None:
        connect = ecs_service(result, "web").inputs["serviceConnectConfiguration"]
        assert connect["enabled"] is True
        (namespace,) = result.of_type(AWS_SERVICEDISCOVERY_HTTP_NAMESPACE)
        assert connect["namespace"] == arn_of(namespace)
        (entry,) = connect["services"]
        assert entry["portName"] == "http"
        assert entry["clientAlias"] == [{"dnsName": "web", "port": 8000}]

    def test_ecs_exec_only_outside_prod(self, result: PreviewResult, staging: PreviewResult) -> None:
        assert ecs_service(result, "web").inputs["enableExecuteCommand"] is False
        assert "web-exec-policy" not in names(result, ROLE_POLICY)
        assert ecs_service(staging, "web").inputs["enableExecuteCommand"] is True
        exec_policy = one(staging, ROLE_POLICY, "web-exec-policy")
        assert exec_policy.inputs["role"] == id_of(one(staging, ROLE, "web-task-role"))
        actions = statement(json.loads(exec_policy.inputs["policy"]), "EcsExec")["Action"]
        assert {"ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel"} <= set(actions)

    def test_capacity_is_on_demand_in_prod_and_spot_backed_in_staging(
        self, result: PreviewResult, staging: PreviewResult
    ) -> None:
        assert ecs_service(result, "web").inputs["capacityProviderStrategies"] == [
            {"capacityProvider": "FARGATE", "weight": 1}
        ]
        strategy = {s["capacityProvider"]: s for s in ecs_service(staging, "web").inputs["capacityProviderStrategies"]}
        assert set(strategy) == {"FARGATE", "FARGATE_SPOT"}
        assert strategy["FARGATE"].get("base") == 1, "one task always on regular Fargate"
        assert strategy["FARGATE_SPOT"]["weight"] > strategy["FARGATE"]["weight"]

    def test_autoscale_tracks_cpu_between_min_and_max(self, result: PreviewResult) -> None:
        autoscale = self.WEB["autoscale"]
        service = ecs_service(result, "web").inputs
        assert service["desiredCount"] == autoscale["min"]
        (cluster,) = result.of_type(CLUSTER)
        target = one(result, SCALING_TARGET, "web-scaling").inputs
        assert (target["minCapacity"], target["maxCapacity"]) == (autoscale["min"], autoscale["max"])
        assert target["resourceId"] == f"service/{cluster.inputs['name']}/{service['name']}"
        assert (target["serviceNamespace"], target["scalableDimension"]) == ("ecs", "ecs:service:DesiredCount")
        policy = one(result, SCALING_POLICY, "web-cpu-tracking").inputs
        assert policy["policyType"] == "TargetTrackingScaling"
        assert policy["resourceId"] == target["resourceId"]
        tracking = policy["targetTrackingScalingPolicyConfiguration"]
        assert tracking["targetValue"] == autoscale["cpu_percent"]
        assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "ECSServiceAverageCPUUtilization"

    def test_a_service_without_autoscale_has_no_scaling(self, result: PreviewResult) -> None:
        assert names(result, SCALING_TARGET) == {"web-scaling"}
        assert ecs_service(result, "tiny").inputs["desiredCount"] == 1


class TestWiring:
    """Security groups admit exactly what ``uses`` and routes declare; the world reaches only the edge."""

    SERVICES: ClassVar[dict[str, Any]] = {
        "front": {**API, "uses": ["db", "worker"], "route": {"path": "/"}},
        "worker": {**API, "ports": [{"name": "rpc", "container_port": 9000}]},
    }

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, databases={"db": {}}, services=self.SERVICES)

    def test_consumer_reaches_the_database_on_5432_both_sides(self, result: PreviewResult) -> None:
        found = flows(result)
        assert Flow("in", "db", "front", "tcp", 5432, 5432) in found
        assert Flow("out", "front", "db", "tcp", 5432, 5432) in found

    def test_database_admits_only_its_consumer_and_sends_nothing(self, result: PreviewResult) -> None:
        found = flows(result)
        assert {f for f in found if f.group == "db"} == {Flow("in", "db", "front", "tcp", 5432, 5432)}

    def test_used_service_admits_its_consumer_on_its_ports(self, result: PreviewResult) -> None:
        found = flows(result)
        assert {f for f in found if f.group == "worker" and f.direction == "in"} == {
            Flow("in", "worker", "front", "tcp", 9000, 9000)
        }
        assert Flow("out", "front", "worker", "tcp", 9000, 9000) in found

    def test_the_load_balancer_reaches_routed_services_only(self, result: PreviewResult) -> None:
        found = flows(result)
        assert {f for f in found if f.group == "alb" and f.direction == "out"} == {
            Flow("out", "alb", "front", "tcp", 8000, 8000)
        }
        assert Flow("in", "front", "alb", "tcp", 8000, 8000) in found

    def test_workloads_leave_only_over_https_and_to_their_peers(self, result: PreviewResult) -> None:
        found = flows(result)
        assert {f for f in found if f.group == "worker" and f.direction == "out"} == {
            Flow("out", "worker", WORLD, "tcp", 443, 443)
        }

    def test_the_world_reaches_only_the_load_balancer_on_80_and_443(self, result: PreviewResult) -> None:
        assert world_ingress(result) == {("alb", "tcp", 80), ("alb", "tcp", 443)}
        for rule in result.of_type(INGRESS):
            assert "cidrIpv6" not in rule.inputs, rule.name
            if "cidrIpv4" in rule.inputs:
                assert rule.inputs["tags"] == {"gpu-platform:role": "load-balancer"}, rule.name
        alb = one(result, SECURITY_GROUP, "alb-sg")
        assert alb.inputs["tags"]["gpu-platform:role"] == "load-balancer"


# -- 3. Routes -----------------------------------------------------------------------------------


class TestRoutes:
    """One ALB for HTTP, WebSocket and gRPC routes: TLS 1.2+, redirects, stickiness, WAF, logs."""

    LIVE: ClassVar[dict[str, Any]] = {
        "service": {**API, "ports": [{"name": "ws", "container_port": 8765, "app_protocol": "websocket"}]},
        "path": "/live",
        "idle_timeout_s": 1800,
        "ping_interval_s": 20,
        "sticky": True,
        "drain_s": 45,
    }
    TOOLS: ClassVar[dict[str, int]] = {"alpha": 50061, "beta": 50062}
    FLEET: ClassVar[dict[str, Any]] = {
        "api": {**API, "route": {"path": "/kite/"}},
        "tools": {t: {"image": "ghcr.io/example/tools:1.2.0", "port": p} for t, p in TOOLS.items()},
        "public_grpc": True,
    }
    # route name -> blueprint path, for every path (non-gRPC) route
    PATHS: ClassVar[dict[str, str]] = {"ui": "/", "api": "/api/", "live": "/live", "kite-api": "/kite/"}

    def sections(self, fleet: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "services": {"ui": {**API, "route": {"path": "/"}}, "api": {**API, "route": {"path": "/api/"}}},
            "websocket_gateways": {"live": self.LIVE},
            "grpc_tool_fleets": {"kite": fleet or self.FLEET},
        }

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, **self.sections())

    @pytest.fixture
    def staging(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, environment="staging", **self.sections())

    @staticmethod
    def alb(result: PreviewResult) -> Recorded:
        return one(result, LOAD_BALANCER, "alb")

    def test_internet_facing_in_the_public_subnets(self, result: PreviewResult) -> None:
        alb = self.alb(result).inputs
        assert alb["loadBalancerType"] == "application"
        assert alb["internal"] is False
        assert alb["subnets"] == subnet_ids(result, "public")
        assert alb["securityGroups"] == [id_of(one(result, SECURITY_GROUP, "alb-sg"))]
        assert alb["dropInvalidHeaderFields"] is True

    def test_idle_timeout_is_the_websocket_gateways(self, result: PreviewResult) -> None:
        assert self.alb(result).inputs["idleTimeout"] == self.LIVE["idle_timeout_s"]

    def test_deletion_protection_in_prod_only(self, result: PreviewResult, staging: PreviewResult) -> None:
        assert self.alb(result).inputs["enableDeletionProtection"] is True
        assert self.alb(staging).inputs["enableDeletionProtection"] is False

    def test_access_logs_go_to_the_log_bucket(self, result: PreviewResult) -> None:
        (bucket,) = result.of_type(BUCKET)
        logs = self.alb(result).inputs["accessLogs"]
        assert logs["enabled"] is True
        assert logs["bucket"] == id_of(bucket)

    def test_log_bucket_is_private_encrypted_and_tls_only(self, result: PreviewResult) -> None:
        (bucket,) = result.of_type(BUCKET)
        block = one(result, BUCKET_PUBLIC_ACCESS, "alb-logs-public-access").inputs
        assert block["bucket"] == id_of(bucket)
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
            assert block[flag] is True, flag
        (encryption,) = result.of_type(BUCKET_ENCRYPTION)
        assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
        (policy,) = result.of_type(BUCKET_POLICY)
        deny = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Effect"] == "Deny"]
        assert len(deny) == 1
        assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert deny[0]["Principal"] == "*"
        assert set(deny[0]["Resource"]) == {arn_of(bucket), arn_of(bucket) + "/*"}

    def test_https_listener_with_the_certificate_and_tls12_or_newer(self, result: PreviewResult) -> None:
        https = one(result, LISTENER, "alb-https").inputs
        assert (https["protocol"], https["port"]) == ("HTTPS", 443)
        assert https["certificateArn"] == CERT
        assert https["sslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
        assert https["loadBalancerArn"] == arn_of(self.alb(result))

    def test_http_only_redirects_to_https(self, result: PreviewResult) -> None:
        http = one(result, LISTENER, "alb-http").inputs
        assert (http["protocol"], http["port"]) == ("HTTP", 80)
        assert http["defaultActions"] == [
            {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
        ]
        https = arn_of(one(result, LISTENER, "alb-https"))
        assert {r.inputs["listenerArn"] for r in result.of_type(LISTENER_RULE)} == {https}

    def test_websocket_target_group_is_sticky_and_drains(self, result: PreviewResult) -> None:
        group = one(result, TARGET_GROUP, "live-tg").inputs
        assert group["stickiness"]["type"] == "lb_cookie"
        assert group["stickiness"]["enabled"] is True
        assert group["deregistrationDelay"] == self.LIVE["drain_s"]
        assert (group["port"], group["targetType"]) == (8765, "ip")

    def test_grpc_target_groups_check_grpc_health(self, result: PreviewResult) -> None:
        for tool, port in self.TOOLS.items():
            group = one(result, TARGET_GROUP, f"kite-{tool}-tg").inputs
            assert group["protocolVersion"] == "GRPC"
            assert group["port"] == port
            assert group["healthCheck"]["path"] == "/grpc.health.v1.Health/Check"
            assert group["healthCheck"]["matcher"] == "0"
        assert one(result, TARGET_GROUP, "ui-tg").inputs["protocolVersion"] == "HTTP1"

    def test_grpc_tools_are_routed_by_host_name(self, result: PreviewResult) -> None:
        for tool in self.TOOLS:
            rule = one(result, LISTENER_RULE, f"kite-{tool}-rule").inputs
            assert rule["conditions"] == [{"hostHeader": {"values": [f"kite-{tool}.{DOMAIN}"]}}]
            assert rule["actions"] == [
                {"type": "forward", "targetGroupArn": arn_of(one(result, TARGET_GROUP, f"kite-{tool}-tg"))}
            ]
            assert result.outputs["urls"][f"kite-{tool}"] == f"grpcs://kite-{tool}.{DOMAIN}:443"

    def test_path_rules_forward_to_their_target_groups(self, result: PreviewResult) -> None:
        for name, path in self.PATHS.items():
            rule = one(result, LISTENER_RULE, f"{name}-rule").inputs
            base = path.rstrip("/")
            expected = [base, f"{base}/*"] if base else ["/*"]
            assert rule["conditions"] == [{"pathPattern": {"values": expected}}], name
            assert rule["actions"] == [
                {"type": "forward", "targetGroupArn": arn_of(one(result, TARGET_GROUP, f"{name}-tg"))}
            ]

    def test_longest_path_is_matched_first_and_hosts_before_paths(self, result: PreviewResult) -> None:
        """ALB evaluates the lowest priority first: "/" must come last or it would swallow everything."""
        priority = {r.name.removesuffix("-rule"): r.inputs["priority"] for r in result.of_type(LISTENER_RULE)}
        assert len(set(priority.values())) == len(priority)
        by_priority = sorted(self.PATHS, key=lambda n: priority[n])
        assert [len(self.PATHS[n]) for n in by_priority] == sorted((len(p) for p in self.PATHS.values()), reverse=True)
        assert by_priority[-1] == "ui"
        assert max(priority[f"kite-{t}"] for t in self.TOOLS) < min(priority[n] for n in self.PATHS)

    def test_every_route_has_a_target_group_attached_to_its_service(self, result: PreviewResult) -> None:
        routed = {**{n: n for n in self.PATHS}, **{f"kite-{t}": f"kite-{t}" for t in self.TOOLS}}
        assert names(result, TARGET_GROUP) == {f"{n}-tg" for n in routed}
        for route, service in routed.items():
            (attached,) = ecs_service(result, service).inputs["loadBalancers"]
            assert attached["targetGroupArn"] == arn_of(one(result, TARGET_GROUP, f"{route}-tg"))
            assert attached["containerName"] == service
            assert attached["containerPort"] == one(result, TARGET_GROUP, f"{route}-tg").inputs["port"]

    @pytest.mark.parametrize("environment", ["staging", "prod"])
    def test_waf_rate_limit_comes_from_the_profile(self, run: Runner, tmp_path: Path, environment: str) -> None:
        result = run_blueprint(run, tmp_path, environment=environment, **self.sections())
        (acl,) = result.of_type(WEB_ACL)
        assert acl.inputs["scope"] == "REGIONAL"
        rules = {r["name"]: r for r in acl.inputs["rules"]}
        rate = rules["rate-limit-per-ip"]
        assert rate["action"] == {"block": {}}
        statement_ = rate["statement"]["rateBasedStatement"]
        window = statement_["evaluationWindowSec"]
        assert statement_["limit"] == RATE_LIMIT_RPS[environment] * window
        assert statement_["aggregateKeyType"] == "IP"
        (association,) = result.of_type(WEB_ACL_ASSOCIATION)
        assert association.inputs["resourceArn"] == arn_of(self.alb(result))
        assert association.inputs["webAclArn"] == arn_of(acl)

    def test_urls_use_tls_schemes(self, result: PreviewResult) -> None:
        urls = result.outputs["urls"]
        assert urls["api"] == f"https://{DOMAIN}/api/"
        assert urls["live"] == f"wss://{DOMAIN}/live"
        assert urls["kite"] == f"https://{DOMAIN}/kite/"

    def test_dev_without_a_certificate_serves_plain_http(self, run: Runner, tmp_path: Path) -> None:
        """No certificate, no public gRPC: one HTTP listener that carries the rules, no WAF in dev."""
        private_tools = {**self.FLEET, "public_grpc": False}
        result = run_blueprint(run, tmp_path, environment="dev", aws={}, **self.sections(private_tools))
        (http,) = result.of_type(LISTENER)
        assert (http.name, http.inputs["protocol"]) == ("alb-http", "HTTP")
        assert {r.inputs["listenerArn"] for r in result.of_type(LISTENER_RULE)} == {arn_of(http)}
        assert not any(t.inputs["protocolVersion"] == "GRPC" for t in result.of_type(TARGET_GROUP))
        assert result.of_type(WEB_ACL) == []
        assert result.outputs["urls"]["live"] == f"ws://{DOMAIN}/live"
        assert world_ingress(result) == {("alb", "tcp", 80), ("alb", "tcp", 443)}


# -- 4. GPU --------------------------------------------------------------------------------------


class _RecordingMocks(PlatformMocks):
    """The platform mocks, remembering every invoke (token, args) the program made."""

    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.calls.append((args.token, dict(args.args)))
        return super().call(args)


class TestGpu:
    """GPU pools are EC2 capacity: hardened launch template, managed ASG, capacity provider, GPU tasks."""

    TRAIN: ClassVar[dict[str, Any]] = {
        "image": "ghcr.io/example/train:2.0.0",
        "health": {"kind": "command", "command": ["true"]},
        "requests": {"cpu": 2, "memory": "8Gi", "gpu": 1},
        "limits": {"cpu": 4, "memory": "16Gi", "gpu": 1},
        "pool": "gpu",
    }
    INFER: ClassVar[dict[str, Any]] = {**TRAIN, "requests": {"cpu": 1, "memory": "4Gi", "gpu": 0.5}, "limits": None}

    def services(self) -> dict[str, Any]:
        infer = {k: v for k, v in self.INFER.items() if v is not None}
        return {"train": self.TRAIN, "infer": infer, "api": API}

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, services=self.services())

    @staticmethod
    def pool_settings() -> dict[str, Any]:
        return POOLS["gpu"]["targets"]["aws"]

    def test_launch_template_boots_the_ecs_gpu_ami_from_ssm(
        self, run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _RecordingMocks.calls = []
        monkeypatch.setattr(runner, "PlatformMocks", _RecordingMocks)
        result = run_blueprint(run, tmp_path, services={"train": self.TRAIN})
        (lookup,) = [args for token, args in _RecordingMocks.calls if token == SSM_PARAMETER]
        assert lookup["name"].startswith("/aws/service/ecs/optimized-ami/")
        assert "/gpu/" in lookup["name"]
        answer, _ = _MOCKS.call(MockCallArgs(SSM_PARAMETER, lookup, ""))
        (template,) = result.of_type(LAUNCH_TEMPLATE)
        assert template.inputs["imageId"] == answer["value"]
        assert template.inputs["instanceType"] == self.pool_settings()["instance_type"]

    def test_launch_template_requires_imdsv2_with_hop_limit_2(self, result: PreviewResult) -> None:
        (template,) = result.of_type(LAUNCH_TEMPLATE)
        metadata = template.inputs["metadataOptions"]
        assert metadata["httpTokens"] == "required"
        assert metadata["httpPutResponseHopLimit"] == 2
        assert metadata["httpEndpoint"] == "enabled"

    def test_root_volume_is_encrypted_gp3_with_the_stack_key(self, result: PreviewResult) -> None:
        (template,) = result.of_type(LAUNCH_TEMPLATE)
        (device,) = template.inputs["blockDeviceMappings"]
        ebs = device["ebs"]
        assert ebs["encrypted"] == "true"
        assert ebs["volumeType"] == "gp3"
        assert ebs["kmsKeyId"] == key_arn(result)
        assert ebs["volumeSize"] == self.pool_settings()["root_volume_gib"]

    def test_instances_get_no_public_ip_and_their_own_group(self, result: PreviewResult) -> None:
        (template,) = result.of_type(LAUNCH_TEMPLATE)
        (interface,) = template.inputs["networkInterfaces"]
        assert interface["associatePublicIpAddress"] == "false"
        assert interface["securityGroups"] == [id_of(one(result, SECURITY_GROUP, "gpu-instances-sg"))]
        assert "keyName" not in template.inputs

    def test_instance_profile_allows_ecs_and_ssm(self, result: PreviewResult) -> None:
        (template,) = result.of_type(LAUNCH_TEMPLATE)
        (profile,) = result.of_type(INSTANCE_PROFILE)
        assert template.inputs["iamInstanceProfile"] == {"arn": arn_of(profile)}
        role = one(result, ROLE, "gpu-instance-role")
        assert role.urn in profile.dependencies
        assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
            "Service": "ec2.amazonaws.com"
        }
        attachments = result.of_type(POLICY_ATTACHMENT)
        assert all(role.urn in a.dependencies for a in attachments)
        attached = {a.inputs["policyArn"].rsplit("/", 1)[-1] for a in attachments}
        assert attached == {"AmazonEC2ContainerServiceforEC2Role", "AmazonSSMManagedInstanceCore"}

    def test_auto_scaling_group_is_private_and_managed_by_ecs(self, result: PreviewResult) -> None:
        (group,) = result.of_type(ASG)
        (template,) = result.of_type(LAUNCH_TEMPLATE)
        inputs = group.inputs
        assert inputs["vpcZoneIdentifiers"] == subnet_ids(result, "private")
        assert {"key": "AmazonECSManaged", "value": "true", "propagateAtLaunch": True} in inputs["tags"]
        assert inputs["protectFromScaleIn"] is True
        settings = self.pool_settings()
        assert (inputs["minSize"], inputs["maxSize"]) == (settings["min_size"], settings["max_size"])
        assert inputs["launchTemplate"]["id"] == id_of(template)
        assert "mixedInstancesPolicy" not in inputs

    def test_capacity_provider_scales_the_group(self, result: PreviewResult) -> None:
        (provider,) = result.of_type(CAPACITY_PROVIDER)
        (group,) = result.of_type(ASG)
        inputs = provider.inputs["autoScalingGroupProvider"]
        assert inputs["autoScalingGroupArn"] == arn_of(group)
        assert inputs["managedScaling"]["status"] == "ENABLED"
        assert inputs["managedTerminationProtection"] == "ENABLED"
        (association,) = result.of_type(CLUSTER_CAPACITY)
        assert provider.inputs["name"] in association.inputs["capacityProviders"]

    def test_whole_gpu_task_runs_on_ec2_with_a_gpu_requirement(self, result: PreviewResult) -> None:
        definition = task(result, "train")
        assert definition["requiresCompatibilities"] == ["EC2"]
        assert definition["networkMode"] == "awsvpc"
        assert container(result, "train")["resourceRequirements"] == [{"type": "GPU", "value": "1"}]

    def test_gpu_service_runs_on_the_pools_capacity_provider(self, result: PreviewResult) -> None:
        (provider,) = result.of_type(CAPACITY_PROVIDER)
        for name in ("train", "infer"):
            strategy = ecs_service(result, name).inputs["capacityProviderStrategies"]
            assert strategy == [{"capacityProvider": provider.inputs["name"], "weight": 1}], name
        assert ecs_service(result, "api").inputs["capacityProviderStrategies"] == [
            {"capacityProvider": "FARGATE", "weight": 1}
        ]
        assert task(result, "api")["requiresCompatibilities"] == ["FARGATE"]

    def test_half_a_gpu_reserves_one_whole_gpu(self, result: PreviewResult) -> None:
        """pulumi-aws cannot pass ECS's MPS sharingStrategy: a fraction reserves one whole GPU."""
        assert container(result, "infer")["resourceRequirements"] == [{"type": "GPU", "value": "1"}]

    def test_spot_setting_makes_a_mixed_instances_group(self, run: Runner, tmp_path: Path) -> None:
        types = ["g5.12xlarge", "g6.12xlarge"]
        pools = {**POOLS, "gpu": {**POOLS["gpu"], "targets": {"aws": {"spot": True, "spot_instance_types": types}}}}
        result = run_blueprint(run, tmp_path, pools=pools, services={"train": self.TRAIN})
        (group,) = result.of_type(ASG)
        (template,) = result.of_type(LAUNCH_TEMPLATE)
        policy = group.inputs["mixedInstancesPolicy"]
        assert "launchTemplate" not in group.inputs
        assert policy["instancesDistribution"]["onDemandPercentageAboveBaseCapacity"] == 0
        spec = policy["launchTemplate"]
        assert spec["launchTemplateSpecification"]["launchTemplateId"] == id_of(template)
        assert [o["instanceType"] for o in spec["overrides"]] == types

    def test_schedule_scales_the_pool_to_zero_and_back(self, run: Runner, tmp_path: Path) -> None:
        schedule = {"scale_down": "0 21 * * 1-5", "scale_up": "0 6 * * 1-5", "timezone": "Europe/Berlin"}
        result = run(
            STACK,
            blueprint=write_blueprint(tmp_path, blueprint(services={"train": self.TRAIN})),
            domain=DOMAIN,
            aws=PROD_AWS,
            pools={"gpu": {"schedule": schedule}},
        )
        (group,) = result.of_type(ASG)
        settings = self.pool_settings()
        down = one(result, SCHEDULE, "gpu-scale-down").inputs
        up = one(result, SCHEDULE, "gpu-scale-up").inputs
        assert names(result, SCHEDULE) == {"gpu-scale-down", "gpu-scale-up"}
        assert (down["minSize"], down["maxSize"], down["desiredCapacity"]) == (0, 0, 0)
        assert down["recurrence"] == schedule["scale_down"]
        assert up["recurrence"] == schedule["scale_up"]
        assert (up["minSize"], up["maxSize"]) == (settings["min_size"], settings["max_size"])
        for action in (down, up):
            assert action["timeZone"] == schedule["timezone"]
            assert action["autoscalingGroupName"] == computed(group)[1]["name"]

    def test_no_schedule_no_scheduled_actions(self, result: PreviewResult) -> None:
        assert result.of_type(SCHEDULE) == []


# -- 5. Config errors ----------------------------------------------------------------------------


class TestConfigErrors:
    """What AWS cannot run is a config error naming the key, before any resource is registered."""

    GPU_WORK: ClassVar[dict[str, Any]] = {
        "image": "ghcr.io/example/train:2.0.0",
        "health": {"kind": "command", "command": ["true"]},
        "requests": {"cpu": 1, "memory": "2Gi", "gpu": 1},
        "pool": "gpu",
    }
    BIG: ClassVar[dict[str, Any]] = {**API, "requests": {"cpu": 17, "memory": "64Gi"}}
    BIG_POOLS: ClassVar[dict[str, Any]] = {"general": {"cpu": 64, "memory": "256Gi"}}
    FLEET: ClassVar[dict[str, Any]] = {
        "api": {**API, "route": {"path": "/kite/"}},
        "tools": {"alpha": {"image": "ghcr.io/example/tools:1.2.0", "port": 50061}},
        "public_grpc": True,
    }

    def fargate_gpu_pools(self, capacity: str) -> dict[str, Any]:
        return {**POOLS, "gpu": {**POOLS["gpu"], "targets": {"aws": {"capacity": capacity}}}}

    def failing(self, run: Runner, tmp_path: Path, monitors: list[RecordingMonitor], **arguments: Any) -> str:
        with pytest.raises(pulumi.RunError) as caught:
            run_blueprint(run, tmp_path, **arguments)
        assert caught.type is pulumi.RunError
        (monitor,) = monitors
        assert monitor.recorded == [], [r.name for r in monitor.recorded]
        message = str(caught.value)
        assert message.startswith("config error in ")
        assert "Traceback" not in message
        return message

    def test_gpu_service_on_a_fargate_pool(self, run: Runner, tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
        pools = self.fargate_gpu_pools("fargate")
        message = self.failing(run, tmp_path, monitors, pools=pools, services={"train": self.GPU_WORK})
        assert "services.train.pool" in message
        assert "Fargate" in message
        assert "no GPUs" in message

    def test_gpu_service_on_the_same_pool_as_ec2_runs(self, run: Runner, tmp_path: Path) -> None:
        """Positive control: the same blueprint with ``capacity: ec2`` deploys."""
        result = run_blueprint(run, tmp_path, pools=self.fargate_gpu_pools("ec2"), services={"train": self.GPU_WORK})
        assert task(result, "train")["requiresCompatibilities"] == ["EC2"]

    def test_requests_above_the_largest_fargate_task(
        self, run: Runner, tmp_path: Path, monitors: list[RecordingMonitor]
    ) -> None:
        message = self.failing(run, tmp_path, monitors, pools=self.BIG_POOLS, services={"big": self.BIG})
        assert "services.big.requests" in message
        assert "17 cpu" in message
        assert "16 vCPU" in message

    def test_sixteen_vcpu_still_fits(self, run: Runner, tmp_path: Path) -> None:
        """Positive control at the edge: 16 vCPU is the largest Fargate task, not over it."""
        edge = {**self.BIG, "requests": {"cpu": 16, "memory": "64Gi"}}
        result = run_blueprint(run, tmp_path, pools=self.BIG_POOLS, services={"big": edge})
        assert (task(result, "big")["cpu"], task(result, "big")["memory"]) == ("16384", "65536")

    def test_public_grpc_in_dev_needs_a_certificate(
        self, run: Runner, tmp_path: Path, monitors: list[RecordingMonitor]
    ) -> None:
        message = self.failing(
            run, tmp_path, monitors, environment="dev", aws={}, grpc_tool_fleets={"kite": self.FLEET}
        )
        assert "gpu-platform:aws.certificate_arn" in message
        assert "gRPC" in message

    def test_prod_needs_an_alarm_topic(self, run: Runner, tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
        message = self.failing(run, tmp_path, monitors, aws={"certificate_arn": CERT}, services={"api": API})
        assert "gpu-platform:aws.alarm_topic_arn" in message
        assert "SNS" in message


# -- 6. ManagedPostgres on RDS -------------------------------------------------------------------


class TestRds:
    """Private, encrypted, TLS-only PostgreSQL with RDS-managed credentials; safety by profile."""

    DATABASE: ClassVar[dict[str, Any]] = {"version": "16", "database": "shop", "username": "shopper", "storage": "50Gi"}
    CONSUMER: ClassVar[dict[str, Any]] = {**API, "uses": ["orders"]}

    def sections(self, database: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"databases": {"orders": database or self.DATABASE}, "services": {"api": self.CONSUMER}}

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, **self.sections())

    @pytest.fixture
    def staging(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, environment="staging", **self.sections())

    @staticmethod
    def primary(result: PreviewResult) -> Recorded:
        return one(result, RDS_INSTANCE, "orders-primary")

    def test_private_and_encrypted_with_the_stack_key(self, result: PreviewResult) -> None:
        inputs = self.primary(result).inputs
        assert inputs["publiclyAccessible"] is False
        assert inputs["storageEncrypted"] is True
        assert inputs["kmsKeyId"] == key_arn(result)
        assert inputs["vpcSecurityGroupIds"] == [id_of(one(result, SECURITY_GROUP, "orders-sg"))]
        subnets = one(result, DB_SUBNET_GROUP, "orders-subnets")
        assert subnets.inputs["subnetIds"] == subnet_ids(result, "private")
        assert subnets.urn in self.primary(result).dependencies

    def test_the_master_password_is_generated_not_rds_managed(self, result: PreviewResult) -> None:
        """RDS cannot replicate a source whose password it manages (tests/test_aws_infra_credentials.py)."""
        primary = self.primary(result)
        inputs = primary.inputs
        assert "manageMasterUserPassword" not in inputs
        assert "password" in primary.secret_paths
        assert (inputs["engine"], inputs["engineVersion"]) == ("postgres", self.DATABASE["version"])
        assert (inputs["dbName"], inputs["username"]) == (self.DATABASE["database"], self.DATABASE["username"])
        assert inputs["allocatedStorage"] == 50

    def test_parameter_group_forces_tls(self, result: PreviewResult) -> None:
        group = one(result, PARAMETER_GROUP, "orders-parameters")
        assert group.inputs["family"] == f"postgres{self.DATABASE['version']}"
        parameters = {p["name"]: p["value"] for p in group.inputs["parameters"]}
        assert parameters["rds.force_ssl"] == "1"
        assert group.urn in self.primary(result).dependencies

    def test_consumer_gets_the_address_and_a_reference_to_the_credentials(self, result: PreviewResult) -> None:
        box = container(result, "api")
        _, primary = computed(self.primary(result))
        assert env_of(box)["DB_ORDERS_HOST"] == primary["address"]
        assert env_of(box)["DB_ORDERS_USER"] == self.DATABASE["username"]
        assert secrets_of(box) == {"DB_ORDERS_PASSWORD": db_password_ref(result, "orders")}

    def test_prod_is_multi_az_backed_up_and_protected(self, result: PreviewResult) -> None:
        primary = self.primary(result)
        inputs = primary.inputs
        assert inputs["multiAz"] is True
        assert inputs["backupRetentionPeriod"] == BACKUP_DAYS["prod"]
        assert inputs["deletionProtection"] is True
        assert inputs["skipFinalSnapshot"] is False
        assert inputs["finalSnapshotIdentifier"]
        assert inputs["deleteAutomatedBackups"] is False
        assert primary.protect
        assert primary.retain_on_delete

    def test_prod_has_a_protected_read_replica(self, result: PreviewResult) -> None:
        (replica,) = [r for r in result.of_type(RDS_INSTANCE) if r.name != "orders-primary"]
        assert replica.inputs["replicateSourceDb"] == self.primary(result).inputs["identifier"]
        assert replica.inputs["publiclyAccessible"] is False
        assert replica.inputs["storageEncrypted"] is True
        assert replica.inputs["kmsKeyId"] == key_arn(result)
        assert replica.protect
        assert replica.retain_on_delete

    def test_blueprint_replica_count_wins_over_the_profile(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, **self.sections({**self.DATABASE, "read_replicas": 2}))
        replicas = [r for r in result.of_type(RDS_INSTANCE) if "replicateSourceDb" in r.inputs]
        assert len(replicas) == 2

    def test_staging_is_single_az_for_a_week_and_unprotected(self, staging: PreviewResult) -> None:
        (primary,) = staging.of_type(RDS_INSTANCE)
        inputs = primary.inputs
        assert inputs["backupRetentionPeriod"] == BACKUP_DAYS["staging"]
        assert inputs["multiAz"] is False
        assert inputs["deletionProtection"] is False
        assert not primary.protect
        assert not primary.retain_on_delete
        assert inputs["skipFinalSnapshot"] is False


# -- 7. PixelStreaming ---------------------------------------------------------------------------


class TestPixelStreaming:
    """TURN behind an NLB the world reaches on its listener only; the relay range only from the streamer."""

    TURN: ClassVar[dict[str, int]] = {"listening_port": 3478, "relay_min_port": 49160, "relay_max_port": 49170}
    STREAMING: ClassVar[dict[str, Any]] = {
        "streamer": {
            "image": "ghcr.io/example/streamer:5.4.4",
            "ports": [{"name": "http", "container_port": 80}],
            "requests": {"cpu": 2, "memory": "8Gi", "gpu": 1},
            "pool": "gpu",
        },
        "signalling": {
            "service": {**API, "ports": [{"name": "ws", "container_port": 8888, "app_protocol": "websocket"}]},
            "path": "/signalling",
        },
        "turn": TURN,
    }

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, pixel_streaming={"live": self.STREAMING})

    def test_turn_is_behind_an_internet_facing_nlb(self, result: PreviewResult) -> None:
        nlb = one(result, LOAD_BALANCER, "live-turn-nlb").inputs
        assert nlb["loadBalancerType"] == "network"
        assert nlb["internal"] is False
        assert nlb["subnets"] == subnet_ids(result, "public")
        group = one(result, SECURITY_GROUP, "live-turn-nlb-sg")
        assert nlb["securityGroups"] == [id_of(group)]
        assert group.inputs["tags"]["gpu-platform:role"] == "turn"

    def test_the_world_reaches_turn_only_on_its_listening_port(self, result: PreviewResult) -> None:
        port = self.TURN["listening_port"]
        turn_world = {w for w in world_ingress(result) if w[0] != "alb"}
        assert turn_world == {("live-turn-nlb", "udp", port), ("live-turn-nlb", "tcp", port)}
        for rule in result.of_type(INGRESS):
            if rule.inputs.get("cidrIpv4") and rule.inputs["securityGroupId"] != id_of(
                one(result, SECURITY_GROUP, "alb-sg")
            ):
                assert rule.inputs["tags"] == {"gpu-platform:role": "turn"}, rule.name

    def test_nlb_forwards_the_listening_port_to_turn(self, result: PreviewResult) -> None:
        port = self.TURN["listening_port"]
        found = flows(result)
        for protocol in ("udp", "tcp"):
            assert Flow("in", "live-turn", "live-turn-nlb", protocol, port, port) in found
        (listener,) = [r for r in result.of_type(LISTENER) if r.name.startswith("live-turn")]
        group = one(result, TARGET_GROUP, f"live-turn-{port}-tg")
        assert (listener.inputs["port"], listener.inputs["protocol"]) == (port, "TCP_UDP")
        assert listener.inputs["loadBalancerArn"] == arn_of(one(result, LOAD_BALANCER, "live-turn-nlb"))
        assert listener.inputs["defaultActions"] == [{"type": "forward", "targetGroupArn": arn_of(group)}]
        assert (group.inputs["protocol"], group.inputs["targetType"]) == ("TCP_UDP", "ip")
        assert ecs_service(result, "live-turn").inputs["loadBalancers"] == [
            {"targetGroupArn": arn_of(group), "containerName": "live-turn", "containerPort": port}
        ]

    def test_relay_range_is_reachable_only_from_the_streamer(self, result: PreviewResult) -> None:
        low, high = self.TURN["relay_min_port"], self.TURN["relay_max_port"]
        found = flows(result)
        relay = {f for f in found if f.group == "live-turn" and f.direction == "in" and f.high >= low}
        assert relay == {Flow("in", "live-turn", "live-streamer", "udp", low, high)}
        assert Flow("out", "live-streamer", "live-turn", "udp", low, high) in found

    def test_streamer_reaches_turn_and_signalling(self, result: PreviewResult) -> None:
        found = flows(result)
        port = self.TURN["listening_port"]
        assert Flow("out", "live-streamer", "live-turn", "udp", port, port) in found
        assert Flow("in", "live-signalling", "live-streamer", "tcp", 8888, 8888) in found

    def test_streamer_renders_on_the_gpu_capacity_provider(self, result: PreviewResult) -> None:
        (provider,) = result.of_type(CAPACITY_PROVIDER)
        assert ecs_service(result, "live-streamer").inputs["capacityProviderStrategies"] == [
            {"capacityProvider": provider.inputs["name"], "weight": 1}
        ]
        assert task(result, "live-streamer")["requiresCompatibilities"] == ["EC2"]
        assert container(result, "live-streamer")["resourceRequirements"] == [{"type": "GPU", "value": "1"}]

    def test_turn_reads_its_config_from_a_secret_file(self, result: PreviewResult) -> None:
        boxes = containers(result, "live-turn")
        init, main = boxes["init"], boxes["live-turn"]
        secret = arn_of(one(result, SECRET_TYPE, "live-turn-file-turnserver-conf-secret"))
        assert secrets_of(init) == {"SECRET_FILE_0": secret}
        assert init["essential"] is False
        assert main["dependsOn"] == [{"containerName": "init", "condition": "SUCCESS"}]
        assert {"sourceVolume": "secrets", "containerPath": "/run/secrets", "readOnly": True} in main["mountPoints"]
        assert main["user"] not in {"0", "0:0", "root"}
        document = policy_document(result, "live-turn-execution-policy")
        assert statement(document, "ReadOwnSecrets")["Resource"] == [secret]

    def test_signalling_gets_the_shared_secret_by_reference_only(self, result: PreviewResult) -> None:
        secret = arn_of(one(result, SECRET_TYPE, "live-signalling-turn-shared-secret-secret"))
        box = container(result, "live-signalling")
        assert secrets_of(box) == {"TURN_SHARED_SECRET": secret}
        assert "TURN_SHARED_SECRET" not in env_of(box)
        document = policy_document(result, "live-signalling-execution-policy")
        assert statement(document, "ReadOwnSecrets")["Resource"] == [secret]

    def test_the_generated_secret_appears_nowhere_in_plaintext(self, result: PreviewResult) -> None:
        (password,) = result.of_type(RANDOM_PASSWORD)
        _, state = computed(password)
        assert state["result"] not in json.dumps([r.inputs for r in result.resources])
        for version in result.of_type(SECRET_VERSION):
            assert version.inputs["secretString"] == SECRET, version.name

    def test_dev_keeps_turn_private(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, environment="dev", pixel_streaming={"live": self.STREAMING})
        assert "live-turn-nlb" not in names(result, LOAD_BALANCER)
        assert {w for w in world_ingress(result) if w[0] != "alb"} == set()


# -- 8. Prod alarms ------------------------------------------------------------------------------


class TestAlarms:
    """Prod alarms on the ALB, every target group, every ECS service and every database, to the topic."""

    def sections(self) -> dict[str, Any]:
        return {
            "databases": {"db": {}},
            "services": {
                "ui": {**API, "route": {"path": "/"}},
                "api": {**API, "uses": ["db"], "route": {"path": "/api/"}},
                "worker": API,
            },
        }

    @pytest.fixture
    def result(self, run: Runner, tmp_path: Path) -> PreviewResult:
        return run_blueprint(run, tmp_path, **self.sections())

    @staticmethod
    def alarms(result: PreviewResult, namespace: str, metric: str) -> list[dict[str, Any]]:
        return [
            a.inputs
            for a in result.of_type(ALARM)
            if a.inputs["namespace"] == namespace and a.inputs["metricName"] == metric
        ]

    def test_alb_5xx(self, result: PreviewResult) -> None:
        _, alb = computed(one(result, LOAD_BALANCER, "alb"))
        (alarm,) = self.alarms(result, "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count")
        assert alarm["dimensions"] == {"LoadBalancer": alb["arnSuffix"]}

    def test_unhealthy_hosts_per_target_group(self, result: PreviewResult) -> None:
        suffixes = {computed(g)[1]["arnSuffix"] for g in result.of_type(TARGET_GROUP)}
        assert len(suffixes) == 2
        alarmed = {
            a["dimensions"]["TargetGroup"] for a in self.alarms(result, "AWS/ApplicationELB", "UnHealthyHostCount")
        }
        assert alarmed == suffixes

    @pytest.mark.parametrize("metric", ["CPUUtilization", "MemoryUtilization"])
    def test_every_ecs_service(self, result: PreviewResult, metric: str) -> None:
        (cluster,) = result.of_type(CLUSTER)
        services = {s.inputs["name"] for s in result.of_type(ECS_SERVICE)}
        assert services == {"ui", "api", "worker"}
        alarms = self.alarms(result, "AWS/ECS", metric)
        assert {a["dimensions"]["ServiceName"] for a in alarms} == services
        assert {a["dimensions"]["ClusterName"] for a in alarms} == {cluster.inputs["name"]}

    @pytest.mark.parametrize("metric", ["CPUUtilization", "FreeStorageSpace"])
    def test_every_database(self, result: PreviewResult, metric: str) -> None:
        (alarm,) = self.alarms(result, "AWS/RDS", metric)
        assert alarm["dimensions"] == {
            "DBInstanceIdentifier": one(result, RDS_INSTANCE, "db-primary").inputs["identifier"]
        }
        if metric == "FreeStorageSpace":
            assert alarm["comparisonOperator"] == "LessThanThreshold"

    def test_every_alarm_notifies_the_configured_topic(self, result: PreviewResult) -> None:
        alarms = result.of_type(ALARM)
        assert len(alarms) == 2 + 2 + 2 * 3 + 2  # ALB and target 5xx, 2 target groups, 3 services, 1 database
        for alarm in alarms:
            assert alarm.inputs["alarmActions"] == [TOPIC], alarm.name

    def test_no_alarms_outside_prod(self, run: Runner, tmp_path: Path) -> None:
        result = run_blueprint(run, tmp_path, environment="staging", **self.sections())
        assert result.of_type(ALARM) == []


# -- 9. The prod stack as shipped ----------------------------------------------------------------


@pytest.fixture(scope="module")
def prod_result() -> PreviewResult:
    """``Pulumi.prod.yaml`` as shipped (the reference blueprint on AWS)."""
    return shipped(STACK)


class TestProdStack:
    """The reference blueprint on AWS: every component, no mandatory violation, one explicit provider."""

    def test_no_mandatory_policy_violation(self, prod_result: PreviewResult) -> None:
        found = evaluate(prod_result.resources, STACK)
        assert [v for v in found if v.enforcement == "mandatory"] == []

    def test_one_ecs_service_per_workload(self, prod_result: PreviewResult) -> None:
        reference = reference_blueprint()
        workloads = set(reference["services"]) | set(reference["websocket_gateways"])
        for fleet, spec in reference["grpc_tool_fleets"].items():
            workloads |= {f"{fleet}-api"} | {f"{fleet}-{t}" for t in spec["tools"]}
        for name in reference["pixel_streaming"]:
            workloads |= {f"{name}-streamer", f"{name}-signalling", f"{name}-turn"}
        assert {s.inputs["name"] for s in prod_result.of_type(ECS_SERVICE)} == workloads
        assert {t.name.removesuffix("-task") for t in prod_result.of_type(TASK_DEFINITION)} == workloads

    def test_work_on_gpu_pools_runs_on_ec2_and_the_rest_on_fargate(self, prod_result: PreviewResult) -> None:
        """The pool a workload is placed on decides: GPU pools are EC2 capacity (TURN follows its streamer)."""
        reference = reference_blueprint()
        gpu_pools = {n for n, p in reference["pools"].items() if p.get("gpus")}
        placed = {
            workload_name(key): pool
            for key, pool in prod_result.outputs["placement"].items()
            if not key.startswith("databases.")
        }
        assert {t.name.removesuffix("-task") for t in prod_result.of_type(TASK_DEFINITION)} == set(placed)
        for name, pool in placed.items():
            expected = ["EC2"] if pool in gpu_pools else ["FARGATE"]
            assert task(prod_result, name)["requiresCompatibilities"] == expected, name
        on_gpu = {n for n, p in placed.items() if p in gpu_pools}
        gpu_work = {n for n, s in reference["services"].items() if s.get("requests", {}).get("gpu")}
        assert gpu_work | {f"{n}-streamer" for n in reference["pixel_streaming"]} <= on_gpu

    def test_rds_per_database_with_a_replica(self, prod_result: PreviewResult) -> None:
        reference = reference_blueprint()
        primaries = {r.name.removesuffix("-primary") for r in prod_result.of_type(RDS_INSTANCE) if "-primary" in r.name}
        assert primaries == set(reference["databases"])
        assert len(prod_result.of_type(RDS_INSTANCE)) == 2 * len(reference["databases"])

    def test_every_container_is_hardened(self, prod_result: PreviewResult) -> None:
        boxes = dict(containers_everywhere(prod_result))
        assert len(boxes) >= 14
        for name, box in boxes.items():
            assert box["readonlyRootFilesystem"] is True, name
            assert box["privileged"] is False, name
            if name.endswith("/init"):  # root with CHOWN only, to hand root-owned bind volumes to the workload
                assert "CHOWN" not in box["linuxParameters"]["capabilities"]["drop"], name
                assert "add" not in box["linuxParameters"]["capabilities"], name
                assert box["essential"] is False, name
                continue
            assert box["user"].split(":")[0] not in {"0", "root"}, name
            assert box["linuxParameters"]["capabilities"]["drop"] == ["ALL"], name
            assert box["logConfiguration"]["logDriver"] == "awslogs", name
            assert SECRET not in json.dumps(box.get("environment", [])), name

    def test_the_world_reaches_only_the_alb_and_the_turn_listener(self, prod_result: PreviewResult) -> None:
        reference = reference_blueprint()
        expected = {("alb", "tcp", 80), ("alb", "tcp", 443)}
        for name, spec in reference["pixel_streaming"].items():
            port = spec["turn"]["listening_port"]
            expected |= {(f"{name}-turn-nlb", "udp", port), (f"{name}-turn-nlb", "tcp", port)}
        assert world_ingress(prod_result) == expected

    def test_every_aws_resource_uses_the_explicit_provider(self, prod_result: PreviewResult) -> None:
        (provider,) = prod_result.of_type(AWS_PROVIDER)
        assert provider.inputs["region"] == json.loads(prod_result.config["gpu-platform:aws"])["region"]
        aws_resources = [r for r in prod_result.resources if r.type.startswith("aws:")]
        assert len(aws_resources) > 200
        for resource in aws_resources:
            assert resource.provider is not None, resource.name
            assert resource.provider.endswith(f"::{provider.name}"), resource.name
            assert resource.provider == provider.urn, resource.name


# -- regressions found in review (each test failed before its fix) ----------------------------------

REGRESSION_TRAIN = {
    "image": "ghcr.io/example/train:2.0.0",
    "health": {"kind": "command", "command": ["true"]},
    "requests": {"cpu": 2, "memory": "8Gi", "gpu": 1},
    "pool": "gpu",
}


def run_prod(
    tmp_path: Path,
    environment: str = "prod",
    aws: dict[str, Any] | None = None,
    pools: dict[str, Any] | None = None,
    **sections: Any,
) -> PreviewResult:
    overrides: dict[str, Any] = {
        "blueprint": write_blueprint(tmp_path, blueprint(pools, **sections)),
        "domain": DOMAIN,
        "aws": PROD_AWS if aws is None else aws,
    }
    if environment != "prod":
        overrides["environment"] = environment
    return run_program("prod", stack_config("prod", **overrides))


def test_regression_scale_up_schedule_restores_max_size_when_min_size_is_zero(tmp_path: Path) -> None:
    pools = {**POOLS, "gpu": {**POOLS["gpu"], "targets": {"aws": {"min_size": 0, "max_size": 3, "schedule": {}}}}}
    result = run_prod(tmp_path, pools=pools, services={"train": REGRESSION_TRAIN})
    up = one(result, SCHEDULE, "gpu-scale-up").inputs
    assert (up["minSize"], up["maxSize"]) == (0, 3)


def test_regression_every_ecs_service_waits_for_the_cluster_capacity_providers(tmp_path: Path) -> None:
    result = run_prod(tmp_path, services={"train": REGRESSION_TRAIN, "api": API})
    (association,) = result.of_type(CLUSTER_CAPACITY)
    missing = [s.name for s in result.of_type(ECS_SERVICE) if association.urn not in s.dependencies]
    assert missing == []


def test_regression_key_policy_lets_ec2_auto_scaling_use_the_key_for_gpu_root_volumes(tmp_path: Path) -> None:
    result = run_prod(tmp_path, services={"train": REGRESSION_TRAIN})
    (key,) = result.of_type(KMS_KEY)
    # The stack's own custom-suffix role (the account's default one may not exist yet: KMS rejects unknown principals).
    service = "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling_gp-prod"
    role = f"arn:aws:iam::{MOCK_ACCOUNT}:role/aws-service-role/{service}"
    granted: set[str] = set()
    for statement in json.loads(key.inputs["policy"])["Statement"]:
        principals = statement.get("Principal", {}).get("AWS", [])
        if role in ([principals] if isinstance(principals, str) else principals):
            actions = statement["Action"]
            granted |= {actions} if isinstance(actions, str) else set(actions)
    assert {"kms:CreateGrant", "kms:Decrypt"} <= granted or "kms:*" in granted


def test_regression_ecs_exec_task_role_may_decrypt_with_the_clusters_exec_key(tmp_path: Path) -> None:
    aws = {"certificate_arn": PROD_AWS["certificate_arn"], "writable_root": ["api"]}  # ECS Exec needs a writable root
    result = run_prod(tmp_path, environment="staging", aws=aws, services={"api": API})
    document = json.loads(one(result, ROLE_POLICY, "api-exec-policy").inputs["policy"])
    decrypt = [s for s in document["Statement"] if "kms:Decrypt" in s["Action"]]
    assert decrypt
    assert decrypt[0]["Resource"] in (key_arn(result), [key_arn(result)])


REGRESSION_STREAMING = {
    "streamer": {
        "image": "ghcr.io/example/streamer:5.4.4",
        "ports": [{"name": "http", "container_port": 80}],
        "requests": {"cpu": 2, "memory": "8Gi", "gpu": 1},
        "pool": "gpu",
    },
    "signalling": {"service": {**API, "ports": [{"name": "ws", "container_port": 8888}]}, "path": "/signalling"},
}


def test_regression_turn_nlb_writes_no_access_logs_it_could_not_deliver(tmp_path: Path) -> None:
    """An NLB logs only TLS listeners; TURN's are UDP/TCP, so logging is left off rather than half-configured."""
    result = run_prod(tmp_path, pixel_streaming={"live": REGRESSION_STREAMING})
    assert "accessLogs" not in one(result, LOAD_BALANCER, "live-turn-nlb").inputs


def test_regression_nlb_target_groups_get_an_unhealthy_host_alarm(tmp_path: Path) -> None:
    result = run_prod(tmp_path, pixel_streaming={"live": REGRESSION_STREAMING})
    nlb_group = one(result, TARGET_GROUP, "live-turn-3478-tg")
    suffix = computed(nlb_group)[1]["arnSuffix"]
    alarmed = [a for a in result.of_type(ALARM) if a.inputs["dimensions"].get("TargetGroup") == suffix]
    assert alarmed, "no UnHealthyHostCount alarm for the NLB's (TURN) target group"
