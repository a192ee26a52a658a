"""Computed outputs and invoke results pulumi-aws would report, for the offline preview's mock runtime (SDK-free)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from preview.mocks import plain, stable_id

MOCK_ACCOUNT = "123456789012"
MOCK_REGION = "us-east-1"


# ARN formats of the resources whose ARNs end up in IAM, bucket and key policies (Service Authorization Reference).
_ARN_SHAPES = {
    "aws:cloudwatch/logGroup:LogGroup": "arn:aws:logs:{where}:log-group:{name}",
    "aws:secretsmanager/secret:Secret": "arn:aws:secretsmanager:{where}:secret:{name}-{rid:.6}",
    "aws:s3/bucket:Bucket": "arn:aws:s3:::{name}",
    "aws:kms/key:Key": "arn:aws:kms:{where}:key/{rid:.8}-0000-4000-8000-{rid:.12}",
    "aws:efs/fileSystem:FileSystem": "arn:aws:elasticfilesystem:{where}:file-system/fs-{rid:.17}",
    "aws:efs/accessPoint:AccessPoint": "arn:aws:elasticfilesystem:{where}:access-point/fsap-{rid:.17}",
    "aws:iam/role:Role": "arn:aws:iam::{account}:role/{name}",
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": "arn:aws:iam::{account}:role/aws-service-role/{name}",
}


def resource_outputs(token: str, name: str, rid: str, inputs: Mapping[str, Any], outputs: dict[str, Any]) -> None:
    """ARNs, generated names and endpoints the way AWS would compute them."""
    del inputs
    module, _, kind = token.removeprefix("aws:").partition("/")
    kind = kind.split(":")[-1]
    for prefix_key, key in (("namePrefix", "name"), ("bucketPrefix", "bucket"), ("identifierPrefix", "identifier")):
        if prefix_key in outputs and key not in outputs:
            outputs[key] = f"{outputs[prefix_key]}{rid[:8]}"
    resource_name = outputs.get("name") or outputs.get("bucket") or outputs.get("identifier") or name
    shape = _ARN_SHAPES.get(token)
    where = f"{MOCK_REGION}:{MOCK_ACCOUNT}"
    if shape is not None:  # the real ARN formats, so policy documents built from them can be linted
        outputs.setdefault("arn", shape.format(where=where, account=MOCK_ACCOUNT, name=resource_name, rid=rid))
    outputs.setdefault("arn", f"arn:aws:{module}:{where}:{kind.lower()}/{resource_name}")
    if kind in ("LoadBalancer", "TargetGroup"):
        outputs["arnSuffix"] = f"{'app' if kind == 'LoadBalancer' else 'targetgroup'}/{resource_name}/{rid[:16]}"
        outputs["dnsName"] = f"{resource_name}-{rid[:8]}.{MOCK_REGION}.elb.amazonaws.com"
    if token == "aws:rds/instance:Instance":
        outputs["address"] = f"{resource_name}.{rid[:12]}.{MOCK_REGION}.rds.amazonaws.com"
        outputs["endpoint"] = f"{outputs['address']}:5432"
        if outputs.get("manageMasterUserPassword"):
            secret = f"arn:aws:secretsmanager:{MOCK_REGION}:{MOCK_ACCOUNT}:secret:rds!db-{rid[:8]}"
            outputs["masterUserSecrets"] = [{"secretArn": secret, "secretStatus": "active", "kmsKeyId": "mock"}]
    if token == "aws:secretsmanager/secretVersion:SecretVersion":
        # A new value is a new version (changing secret_string replaces the version).
        value = stable_id(rid, json.dumps(plain(outputs.get("secretString", ""), "", [], mask=False)))
        outputs["versionId"] = f"{value[:8]}-0000-4000-8000-{value[:12]}"
    if token == "aws:ecs/cluster:Cluster":
        outputs.setdefault("name", resource_name)


def call(token: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
    """Invokes the target makes: AZ, caller identity, SSM parameter and ELB account lookups."""
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        names = [f"{MOCK_REGION}{z}" for z in "abc"]
        return {"names": names, "zoneIds": [f"use1-az{i}" for i in (1, 2, 4)], "id": MOCK_REGION}
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {"accountId": MOCK_ACCOUNT, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:user/preview", "userId": "AIDA"}
    if token == "aws:ssm/getParameter:getParameter":
        return {"name": args.get("name"), "value": "ami-0abcdef1234567890", "type": "String"}
    if token == "aws:elb/getServiceAccount:getServiceAccount":
        return {"arn": "arn:aws:iam::127311923021:root", "id": "127311923021"}
    return None
