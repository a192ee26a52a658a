"""AWS rules (AWS Security Hub foundational controls and their Checkov counterparts, over pulumi-aws v7 inputs).

Inputs arrive as the engine sends them: camelCase names, numbers possibly as
floats (``22.0``), launch-template booleans as strings (``"true"``), ECS
container definitions as JSON text, and — under the real policy server —
lists and maps wrapped in read-only proxies that are ``Sequence``/``Mapping``
but not ``list``/``dict``. The input readers in ``policy/rules/base.py`` read all of those shapes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policy.rules.base import (
    GENERATED_PASSWORD,
    Environment,
    Rule,
    Subject,
    as_list,
    get,
    has_input,
    is_false,
    is_true,
    json_value,
    mapping,
    mappings,
    resource_rule,
    secret_looking,
    shown,
    stack_rule,
    whole_number,
    world_cidrs,
)

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
EBS_VOLUME = "aws:ebs/volume:Volume"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

# Tag the AWS target puts on the security groups (and their rules) that face the internet on
# purpose: a load balancer takes TCP 80/443, a TURN relay its listening port (3478, 5349 for TLS).
ROLE_TAG = "gpu-platform:role"
LOAD_BALANCER_ROLE = "load-balancer"
TURN_ROLE = "turn"
WORLD_OPEN = {
    LOAD_BALANCER_ROLE: {("tcp", 80), ("tcp", 443)},
    TURN_ROLE: {("udp", 3478), ("tcp", 3478), ("udp", 5349), ("tcp", 5349)},
}
WORLD_OPEN_PORTS = (80, 443)

# Listener security policies that negotiate TLS 1.2 or newer only (ALB and NLB predefined policies).
TLS12_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
        "ELBSecurityPolicy-FS-1-2-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    }
)
RECOMMENDED_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
# What ELB uses when a listener created through the API names no policy (TLS 1.0+).
API_DEFAULT_TLS_POLICY = "ELBSecurityPolicy-2016-08"

GRPC_HEALTH_PATH = "/grpc.health.v1.Health/Check"

# Backup retention per environment, from the profiles (stacks/profiles.py): staging daily/7 days, prod 30 days.
BACKUP_RETENTION_DAYS: dict[Environment, int] = {"staging": 7, "prod": 30}


# -- AWS-specific readers (the shared ones are in policy/rules/base.py) -------------


def _is_replica(props: Mapping[str, Any]) -> bool:
    """A read replica: ``replicateSourceDb`` is set (the engine omits unset inputs).

    Only the keys are read, so a replica whose source is still being created (its
    identifier unknown during preview) counts as a replica instead of failing the rule.
    """
    return has_input(props, "replicateSourceDb")


def _kind(subject: Subject) -> str:
    return {
        LAUNCH_TEMPLATE: "launch template",
        INSTANCE: "instance",
        EBS_VOLUME: "EBS volume",
        SECURITY_GROUP: "security group",
        SG_INGRESS_RULE: "security group ingress rule",
        SG_RULE: "security group rule",
        LOAD_BALANCER: "load balancer",
        LISTENER: "listener",
        TARGET_GROUP: "target group",
        RDS_INSTANCE: "RDS instance",
        RDS_PARAMETER_GROUP: "RDS parameter group",
        TASK_DEFINITION: "task definition",
        ECS_SERVICE: "ECS service",
        LOG_GROUP: "log group",
    }.get(subject.type, subject.type)


# -- EC2 ---------------------------------------------------------------------------


@resource_rule(
    "gpu-platform-aws-imdsv2",
    "Launch templates and instances must require IMDSv2 session tokens with a response hop limit of at most 2.",
    "high",
    "Security Hub EC2.8 / CKV_AWS_79",
    [LAUNCH_TEMPLATE, INSTANCE],
)
def imdsv2(subject: Subject) -> Iterator[str]:
    options = mapping(subject.props, "metadataOptions")
    if str(options.get("httpEndpoint") or "enabled").lower() == "disabled":
        return  # no metadata service at all
    tokens = options.get("httpTokens")
    if str(tokens or "").lower() != "required":
        yield (
            f"{_kind(subject)} {subject.name} allows IMDSv1 (metadataOptions.httpTokens {shown(tokens)}); "
            'set metadataOptions.httpTokens "required"'
        )
    hops = whole_number(options.get("httpPutResponseHopLimit"))
    if hops is not None and hops > 2:
        yield (
            f"{_kind(subject)} {subject.name} sets metadataOptions.httpPutResponseHopLimit {hops}; "
            "use 1, or 2 where containers on the host need the metadata service"
        )


@resource_rule(
    "gpu-platform-aws-ebs-encrypted",
    "EBS volumes, instance block devices and launch template block devices must be encrypted at rest.",
    "high",
    "Security Hub EC2.3 (EC2.7 account default) / CKV_AWS_8 / CKV_AWS_3",
    [LAUNCH_TEMPLATE, INSTANCE, EBS_VOLUME],
)
def ebs_encrypted(subject: Subject) -> Iterator[str]:
    props = subject.props
    name = f"{_kind(subject)} {subject.name}"
    if subject.type == EBS_VOLUME:
        if not is_true(props.get("encrypted")):
            yield f"{name} is not encrypted (encrypted {shown(props.get('encrypted'))}); set encrypted true"
    elif subject.type == LAUNCH_TEMPLATE:
        for i, device_mapping in enumerate(mappings(props.get("blockDeviceMappings"))):
            ebs = device_mapping.get("ebs")
            if not isinstance(ebs, Mapping):
                continue  # instance store / noDevice entries carry no EBS volume
            if not is_true(ebs.get("encrypted")):
                device = device_mapping.get("deviceName") or f"#{i}"
                yield (
                    f"{name} block device {device} is not encrypted "
                    f'(blockDeviceMappings[{i}].ebs.encrypted {shown(ebs.get("encrypted"))}); set ebs.encrypted "true"'
                )
    else:
        root_encrypted = mapping(props, "rootBlockDevice").get("encrypted")
        if not is_true(root_encrypted):
            yield f"{name} root volume has rootBlockDevice.encrypted {shown(root_encrypted)}; set it true"
        for i, device in enumerate(mappings(props.get("ebsBlockDevices"))):
            if not is_true(device.get("encrypted")):
                label = device.get("deviceName") or f"#{i}"
                yield (
                    f"{name} EBS device {label} is not encrypted "
                    f"(ebsBlockDevices[{i}].encrypted {shown(device.get('encrypted'))}); set encrypted true"
                )


@resource_rule(
    "gpu-platform-aws-no-public-ip",
    "Instances and launch template network interfaces must not get a public IP address.",
    "high",
    "Security Hub EC2.9 / CKV_AWS_88",
    [LAUNCH_TEMPLATE, INSTANCE],
)
def no_public_ip(subject: Subject) -> Iterator[str]:
    props = subject.props
    name = f"{_kind(subject)} {subject.name}"
    if subject.type == INSTANCE:
        if is_true(props.get("associatePublicIpAddress")):
            yield f"{name} sets associatePublicIpAddress true; place it in a private subnet and set it false"
        return
    for i, interface in enumerate(mappings(props.get("networkInterfaces"))):
        if is_true(interface.get("associatePublicIpAddress")):
            yield (
                f"{name} sets networkInterfaces[{i}].associatePublicIpAddress "
                f'{shown(interface.get("associatePublicIpAddress"))}; set it "false"'
            )


_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "-1": "all", "all": "all"}


def _ingress_violations(
    name: str, protocol: Any, from_port: Any, to_port: Any, cidrs: list[str], role: str | None
) -> Iterator[str]:
    if not cidrs:
        return
    proto = str(protocol if protocol is not None else "all").strip().lower()
    proto = _PROTOCOLS.get(proto, proto)
    low, high = whole_number(from_port), whole_number(to_port)
    if proto == "all":
        what = "all traffic"
    elif proto in ("tcp", "udp"):
        low = 0 if low is None else low
        high = 65535 if high is None else high
        what = f"{proto} {low}" if low == high else f"{proto} {low}-{high}"
    else:
        what = proto
    if low == high and (proto, low) in WORLD_OPEN.get(role or "", set()):
        return
    if proto == "tcp" and low == high and low in WORLD_OPEN_PORTS:
        fix = f"tag the load balancer's security group {ROLE_TAG}: {LOAD_BALANCER_ROLE}, or restrict the source"
    else:
        fix = "restrict the source to known CIDRs or a security group"
    yield f"{name} allows ingress on {what} from {', '.join(cidrs)}; {fix}"


@resource_rule(
    "gpu-platform-aws-no-world-ingress",
    "Security groups must not admit the whole internet except on a load balancer's 80/443 or a TURN relay's listener.",
    "critical",
    "Security Hub EC2.18 / EC2.19 / CKV_AWS_24 / CKV_AWS_25 / CKV_AWS_260",
    [SECURITY_GROUP, SG_INGRESS_RULE, SG_RULE],
)
def no_world_ingress(subject: Subject) -> Iterator[str]:
    props = subject.props
    name = f"{_kind(subject)} {subject.name}"
    role = mapping(props, "tags").get(ROLE_TAG)
    if subject.type == SECURITY_GROUP:
        for i, rule in enumerate(mappings(props.get("ingress"))):
            cidrs = world_cidrs(rule.get("cidrBlocks"), rule.get("ipv6CidrBlocks"))
            yield from _ingress_violations(
                f"{name} ingress[{i}]", rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"), cidrs, role
            )
        return
    if subject.type == SG_INGRESS_RULE:
        cidrs = world_cidrs(props.get("cidrIpv4"), props.get("cidrIpv6"))
        protocol = props.get("ipProtocol")
    else:
        if str(props.get("type") or "").lower() != "ingress":
            return
        cidrs = world_cidrs(props.get("cidrBlocks"), props.get("ipv6CidrBlocks"))
        protocol = props.get("protocol")
    yield from _ingress_violations(name, protocol, props.get("fromPort"), props.get("toPort"), cidrs, role)


# -- Elastic Load Balancing ---------------------------------------------------------


def _lb_type(props: Mapping[str, Any]) -> str:
    return str(props.get("loadBalancerType") or "application").lower()


@resource_rule(
    "gpu-platform-aws-alb-https-tls12",
    "HTTPS and TLS listeners must carry a certificate and a security policy that allows only TLS 1.2 or newer.",
    "high",
    "Security Hub ELB.17 / CKV_AWS_103",
    [LISTENER],
)
def alb_https_tls12(subject: Subject) -> Iterator[str]:
    props = subject.props
    protocol = str(props.get("protocol") or "").upper()
    if protocol not in ("HTTPS", "TLS"):
        return
    name = f"{protocol} listener {subject.name}"
    if not props.get("certificateArn"):
        yield f"{name} has no certificateArn; set the ACM certificate ARN"
    policy = props.get("sslPolicy")
    if not policy:
        yield (
            f"{name} has no sslPolicy (the API default {API_DEFAULT_TLS_POLICY} allows TLS 1.0); "
            f"set sslPolicy {RECOMMENDED_TLS_POLICY}"
        )
    elif str(policy) not in TLS12_POLICIES:
        yield f"{name} uses sslPolicy {policy}, which is not TLS 1.2+; set sslPolicy {RECOMMENDED_TLS_POLICY}"


@resource_rule(
    "gpu-platform-aws-alb-http-redirect",
    "HTTP listeners must redirect every request to HTTPS.",
    "medium",
    "Security Hub ELB.1 / CKV2_AWS_20 / CKV_AWS_2",
    [LISTENER],
)
def alb_http_redirect(subject: Subject) -> Iterator[str]:
    props = subject.props
    if str(props.get("protocol") or "HTTP").upper() != "HTTP":
        return
    actions = mappings(props.get("defaultActions"))
    for action in actions:
        redirect = action.get("redirect")
        if (
            str(action.get("type") or "").lower() == "redirect"
            and isinstance(redirect, Mapping)
            and str(redirect.get("protocol") or "").upper() == "HTTPS"
        ):
            return
    found = ", ".join(str(a.get("type")) for a in actions) or "none"
    yield (
        f"HTTP listener {subject.name} does not redirect to HTTPS (defaultActions type {found}); "
        'use a defaultActions redirect with protocol "HTTPS", port "443", statusCode "HTTP_301"'
    )


@resource_rule(
    "gpu-platform-aws-alb-access-logs",
    "Application load balancers must write access logs to a bucket.",
    "medium",
    "Security Hub ELB.5 / CKV_AWS_91",
    [LOAD_BALANCER],
)
def alb_access_logs(subject: Subject) -> Iterator[str]:
    props = subject.props
    if _lb_type(props) != "application":
        return  # an NLB logs only TLS listeners and a gateway LB none: ELB.5 covers application LBs
    logs = mapping(props, "accessLogs")
    if not is_true(logs.get("enabled")):
        yield f"load balancer {subject.name} has accessLogs.enabled {shown(logs.get('enabled'))}; set it true"
    if not logs.get("bucket"):
        yield f"load balancer {subject.name} has no accessLogs.bucket; name the log bucket"


@resource_rule(
    "gpu-platform-aws-alb-deletion-protection",
    "In prod load balancers must have deletion protection on.",
    "medium",
    "Security Hub ELB.6 / CKV_AWS_150",
    [LOAD_BALANCER],
    environments=("prod",),
)
def alb_deletion_protection(subject: Subject) -> Iterator[str]:
    value = subject.props.get("enableDeletionProtection")
    if not is_true(value):
        yield f"load balancer {subject.name} has enableDeletionProtection {shown(value)}; set it true in prod"


@resource_rule(
    "gpu-platform-aws-alb-drop-invalid-headers",
    "Application load balancers must drop HTTP headers with invalid names to prevent request smuggling.",
    "medium",
    "Security Hub ELB.4 / CKV_AWS_131",
    [LOAD_BALANCER],
)
def alb_drop_invalid_headers(subject: Subject) -> Iterator[str]:
    props = subject.props
    if _lb_type(props) != "application":
        return
    value = props.get("dropInvalidHeaderFields")
    if not is_true(value):
        yield f"application load balancer {subject.name} has dropInvalidHeaderFields {shown(value)}; set it true"


def _matcher_allows_zero(matcher: Any) -> bool:
    """True when a gRPC matcher ("0", "0-99", "0,12") accepts status 0 (OK)."""
    for part in str(matcher or "").split(","):
        low, _, high = part.strip().partition("-")
        start, end = whole_number(low), whole_number(high or low)
        if start is not None and end is not None and start <= 0 <= end:
            return True
    return False


@resource_rule(
    "gpu-platform-aws-target-group-health-check",
    "Target groups must health-check targets, on an explicit path for HTTP and the gRPC health service for gRPC.",
    "medium",
    "ELB target group health checks (gRPC: grpc.health.v1.Health/Check, matcher 0)",
    [TARGET_GROUP],
    security=False,
)
def target_group_health_check(subject: Subject) -> Iterator[str]:
    props = subject.props
    check = mapping(props, "healthCheck")
    name = f"target group {subject.name}"
    if is_false(check.get("enabled")):
        yield f"{name} sets healthCheck.enabled false; enable the health check"
        return
    path = check.get("path")
    if str(props.get("protocolVersion") or "").upper() == "GRPC":
        if path != GRPC_HEALTH_PATH:
            yield f"{name} (gRPC) uses healthCheck.path {shown(path)}; set it {GRPC_HEALTH_PATH}"
        matcher = check.get("matcher")
        if not _matcher_allows_zero(matcher):
            yield f'{name} (gRPC) uses healthCheck.matcher {matcher or "unset (12)"}; set it "0" (gRPC OK)'
        return
    protocol = str(check.get("protocol") or props.get("protocol") or "").upper()
    if protocol in ("HTTP", "HTTPS") and not path:
        yield f"{name} ({protocol}) has no healthCheck.path; set the service's health endpoint"


# -- RDS ----------------------------------------------------------------------------


@resource_rule(
    "gpu-platform-aws-rds-encrypted",
    "RDS instances must encrypt their storage.",
    "high",
    "Security Hub RDS.3 / CKV_AWS_16",
    [RDS_INSTANCE],
)
def rds_encrypted(subject: Subject) -> Iterator[str]:
    props = subject.props
    if is_true(props.get("storageEncrypted")):
        return
    if _is_replica(props) and props.get("kmsKeyId"):
        return  # a cross-region replica is encrypted through kmsKeyId (storageEncrypted is ignored)
    yield f"RDS instance {subject.name} has storageEncrypted {shown(props.get('storageEncrypted'))}; set it true"


@resource_rule(
    "gpu-platform-aws-rds-not-public",
    "RDS instances must not be publicly accessible.",
    "critical",
    "Security Hub RDS.2 / CKV_AWS_17",
    [RDS_INSTANCE],
)
def rds_not_public(subject: Subject) -> Iterator[str]:
    if is_true(subject.props.get("publiclyAccessible")):
        yield f"RDS instance {subject.name} sets publiclyAccessible true; set it false and use private subnets"


@resource_rule(
    "gpu-platform-aws-rds-backup-retention",
    "RDS instances must keep automated backups for the environment's retention (7 days in staging, 30 in prod).",
    "high",
    "Security Hub RDS.11 / CKV_AWS_133",
    [RDS_INSTANCE],
    environments=("staging", "prod"),
)
def rds_backup_retention(subject: Subject) -> Iterator[str]:
    props = subject.props
    if _is_replica(props):
        return  # read replicas are exempt: the source instance keeps the backups
    required = BACKUP_RETENTION_DAYS.get(subject.environment, max(BACKUP_RETENTION_DAYS.values()))
    days = whole_number(props.get("backupRetentionPeriod"))
    if days is None or days < required:
        yield (
            f"RDS instance {subject.name} has backupRetentionPeriod {shown(days)}; "
            f"set it to at least {required} days in {subject.environment}"
        )


@resource_rule(
    "gpu-platform-aws-rds-multi-az",
    "In prod RDS instances must run Multi-AZ so a zone failure does not take the database down.",
    "medium",
    "Security Hub RDS.5 / CKV_AWS_157",
    [RDS_INSTANCE],
    security=False,
    environments=("prod",),
)
def rds_multi_az(subject: Subject) -> Iterator[str]:
    props = subject.props
    if _is_replica(props):
        return
    if not is_true(props.get("multiAz")):
        yield f"RDS instance {subject.name} has multiAz {shown(props.get('multiAz'))}; set multiAz true in prod"


@resource_rule(
    "gpu-platform-aws-rds-deletion-protection",
    "In prod RDS instances must have deletion protection on.",
    "high",
    "Security Hub RDS.8 / CKV_AWS_293",
    [RDS_INSTANCE],
    environments=("prod",),
)
def rds_deletion_protection(subject: Subject) -> Iterator[str]:
    value = subject.props.get("deletionProtection")
    if not is_true(value):
        yield f"RDS instance {subject.name} has deletionProtection {shown(value)}; set it true in prod"


@resource_rule(
    "gpu-platform-aws-rds-final-snapshot",
    "In prod deleting an RDS instance must leave a named final snapshot.",
    "medium",
    "AWS RDS DeleteDBInstance FinalDBSnapshotIdentifier (RDS User Guide: deleting a DB instance)",
    [RDS_INSTANCE],
    environments=("prod",),
)
def rds_final_snapshot(subject: Subject) -> Iterator[str]:
    props = subject.props
    if _is_replica(props):
        return  # replicas cannot take a final snapshot
    if is_true(props.get("skipFinalSnapshot")):
        yield f"RDS instance {subject.name} sets skipFinalSnapshot true; set it false in prod"
    if not props.get("finalSnapshotIdentifier"):
        yield f"RDS instance {subject.name} has no finalSnapshotIdentifier; name the final snapshot"


def _force_ssl_value(props: Mapping[str, Any]) -> str | None:
    for parameter in mappings(props.get("parameters")):
        if str(parameter.get("name") or "").lower() == "rds.force_ssl":
            value = parameter.get("value")
            number = whole_number(value)
            return str(number) if number is not None else (None if value is None else str(value))
    return None


@resource_rule(
    "gpu-platform-aws-rds-force-ssl",
    "PostgreSQL on RDS must refuse unencrypted connections through a custom parameter group with rds.force_ssl 1.",
    "high",
    "RDS for PostgreSQL rds.force_ssl / CKV2_AWS_69",
    [RDS_PARAMETER_GROUP, RDS_INSTANCE],
)
def rds_force_ssl(subject: Subject) -> Iterator[str]:
    props = subject.props
    if subject.type == RDS_PARAMETER_GROUP:
        if not str(props.get("family") or "").lower().startswith("postgres"):
            return
        value = _force_ssl_value(props)
        if value != "1":
            yield (
                f"RDS parameter group {subject.name} sets rds.force_ssl {shown(value)}; "
                'add parameter rds.force_ssl = "1"'
            )
        return
    if str(props.get("engine") or "").lower() != "postgres":
        return
    group = str(props.get("parameterGroupName") or "")
    if not group or group.startswith("default."):
        yield (
            f"RDS instance {subject.name} uses parameterGroupName {group or 'unset (the default group)'}; "
            "attach a custom postgres parameter group with rds.force_ssl 1"
        )


# -- ECS ----------------------------------------------------------------------------


def _containers(subject: Subject) -> list[Mapping[str, Any]]:
    return mappings(json_value(subject.props.get("containerDefinitions")))


@resource_rule(
    "gpu-platform-aws-ecs-not-privileged",
    "ECS containers must not run privileged, which gives them root on the host.",
    "critical",
    "Security Hub ECS.4 / CKV_AWS_334",
    [TASK_DEFINITION],
)
def ecs_not_privileged(subject: Subject) -> Iterator[str]:
    for container in _containers(subject):
        if is_true(container.get("privileged")):
            yield (
                f"task definition {subject.name} container {container.get('name')} sets privileged true; "
                "remove it and add only the Linux capabilities it needs"
            )


@resource_rule(
    "gpu-platform-aws-ecs-logging",
    "Every ECS container must have a log configuration with a log driver.",
    "medium",
    "Security Hub ECS.9",
    [TASK_DEFINITION],
)
def ecs_logging(subject: Subject) -> Iterator[str]:
    for container in _containers(subject):
        logging = container.get("logConfiguration")
        if not (isinstance(logging, Mapping) and logging.get("logDriver")):
            yield (
                f"task definition {subject.name} container {container.get('name')} has no "
                'logConfiguration.logDriver; set logDriver "awslogs" with a log group'
            )


@resource_rule(
    "gpu-platform-aws-ecs-secrets-not-in-environment",
    "Secret-looking ECS container variables must come from secrets (valueFrom), not environment.",
    "high",
    "Security Hub ECS.8",
    [TASK_DEFINITION],
)
def ecs_secrets_not_in_environment(subject: Subject) -> Iterator[str]:
    for container in _containers(subject):
        for env in mappings(container.get("environment")):
            name = str(env.get("name") or "")
            if secret_looking(name):
                yield (
                    f"task definition {subject.name} container {container.get('name')} passes {name} in environment; "
                    "move it to secrets with valueFrom (Secrets Manager or SSM)"
                )


@resource_rule(
    "gpu-platform-aws-ecs-read-only-root",
    "ECS containers should mount their root filesystem read-only.",
    "medium",
    "Security Hub ECS.5 / CKV_AWS_336",
    [TASK_DEFINITION],
    security=False,
)
def ecs_read_only_root(subject: Subject) -> Iterator[str]:
    for container in _containers(subject):
        value = container.get("readonlyRootFilesystem")
        if not is_true(value):
            yield (
                f"task definition {subject.name} container {container.get('name')} has readonlyRootFilesystem "
                f"{shown(value)}; set it true and mount volumes where it must write"
            )


@resource_rule(
    "gpu-platform-aws-ecs-no-public-ip",
    "ECS services must not assign public IP addresses to their tasks.",
    "high",
    "Security Hub ECS.2 / CKV_AWS_333",
    [ECS_SERVICE],
)
def ecs_no_public_ip(subject: Subject) -> Iterator[str]:
    if is_true(get(subject.props, "networkConfiguration.assignPublicIp")):
        yield (
            f"ECS service {subject.name} sets networkConfiguration.assignPublicIp true; "
            "set it false and reach the internet through a NAT gateway"
        )


# -- CloudWatch ---------------------------------------------------------------------


@resource_rule(
    "gpu-platform-aws-log-retention",
    "CloudWatch log groups must set a retention period instead of keeping logs forever.",
    "low",
    "Security Hub CloudWatch.16 / CKV_AWS_338 (any explicit retention here)",
    [LOG_GROUP],
    security=False,
)
def log_retention(subject: Subject) -> Iterator[str]:
    days = whole_number(subject.props.get("retentionInDays"))
    if days is None or days <= 0:
        yield (
            f"log group {subject.name} has retentionInDays {shown(days)} (never expires); "
            "set retentionInDays to the environment's log retention"
        )


@stack_rule(
    "gpu-platform-aws-rds-master-password",
    "An RDS master password must be managed by RDS or generated by the program, never a literal in the code.",
    "critical",
    "Checkov CKV_SECRET_6 / Security Hub RDS (no hard-coded credentials)",
)
def rds_master_password(subjects: Sequence[Subject]) -> Iterator[tuple[str, str]]:
    """A ``password`` input is accepted only from a RandomPassword the instance depends on.

    RDS-managed passwords cannot have read replicas, so the AWS target generates
    the password; a literal has no generator among the instance's dependencies.
    (The check is per instance, not per property: CrossGuard's offline twin records
    no property dependencies.)
    """
    types = {s.urn: s.type for s in subjects}
    for subject in subjects:
        if not subject.type.startswith("aws:rds/") or subject.props.get("manageMasterUserPassword"):
            continue
        for key in ("password", "masterPassword"):
            if subject.props.get(key) and GENERATED_PASSWORD not in {types.get(d) for d in subject.dependencies}:
                yield (
                    subject.urn,
                    f"{subject.name} sets {key} from no generated secret; generate it (random.RandomPassword, "
                    "a Pulumi secret) or set manageMasterUserPassword",
                )


def env_pairs(subject: Subject) -> Iterator[tuple[str, object]]:
    """(name, literal value) of every environment variable a task definition sets (the no-plaintext-secrets rule)."""
    if subject.type == "aws:ecs/taskDefinition:TaskDefinition":
        for container in as_list(json_value(subject.props.get("containerDefinitions"))):
            for env in as_list(container.get("environment")):
                yield str(env.get("name")), env.get("value")


def regenerated(subjects: Sequence[Subject]) -> set[str]:
    """Every stateful-typed AWS resource holds state."""
    del subjects
    return set()


RULES: list[Rule] = [
    imdsv2,
    ebs_encrypted,
    no_public_ip,
    no_world_ingress,
    alb_https_tls12,
    alb_http_redirect,
    alb_access_logs,
    alb_deletion_protection,
    alb_drop_invalid_headers,
    target_group_health_check,
    rds_encrypted,
    rds_not_public,
    rds_backup_retention,
    rds_multi_az,
    rds_deletion_protection,
    rds_final_snapshot,
    rds_force_ssl,
    rds_master_password,
    ecs_not_privileged,
    ecs_logging,
    ecs_secrets_not_in_environment,
    ecs_read_only_root,
    ecs_no_public_ip,
    log_retention,
]
