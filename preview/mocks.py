"""Pulumi mock runtime for the offline preview and the tests.

:class:`RecordingMonitor` subclasses pulumi's ``MockMonitor`` and records every
RegisterResource request as the engine would see it: type, name, parent,
dependencies, provider, protect, retainOnDelete and the camelCase inputs, with
secret values replaced by :data:`SECRET` (and their paths remembered) so a
report can show that a value is secret without showing it.
:class:`PlatformMocks` answers with realistic computed outputs per type.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

SECRET = "[secret]"
UNKNOWN = "[computed]"
# Pulumi's wire format for secrets and unknowns (sdk/python/lib/pulumi/runtime/rpc.py).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass
class Recorded:
    """One registered resource, as the offline preview and the policies see it."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    provider: str | None
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    inputs: dict[str, Any]
    secret_paths: list[str] = field(default_factory=list)
    # The inputs with secret values in the clear, never reported: for the e2e harness
    # (tests/e2e), which applies the recorded resources to a real engine.
    unmasked_inputs: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "provider": self.provider,
            "dependencies": self.dependencies,
            "protect": self.protect,
            "retain_on_delete": self.retain_on_delete,
            "inputs": self.inputs,
        }


def _stable_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _plain(value: Any, path: str, secrets: list[str], mask: bool = True) -> Any:
    """Wire-format value -> JSON value, secrets masked (unless ``mask`` is false) and their paths collected."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            secrets.append(path or "(root)")
            return _masked(value.get("value")) if mask else _plain(value.get("value"), path, [], mask)
        if _SIG_KEY in value:  # resource references and assets: keep them readable
            return {k: _plain(v, f"{path}.{k}", secrets, mask) for k, v in value.items() if k != _SIG_KEY}
        return {k: _plain(v, f"{path}.{k}" if path else k, secrets, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]", secrets, mask) for i, v in enumerate(value)]
    if value == _UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf Struct carries every number as a double
    return value


def _masked(value: Any) -> Any:
    """A secret's shape with every leaf replaced by :data:`SECRET` (keys stay readable)."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return _masked(value.get("value"))
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return SECRET


class RecordingMonitor(MockMonitor):
    """A MockMonitor that keeps the registration requests, in order."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[Recorded] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        secrets: list[str] = []
        raw = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
        inputs = _plain(raw, "", secrets)
        provider = request.provider.rsplit("::", 1)[0] if request.provider else None  # "<urn>::<id>"
        self.recorded.append(
            Recorded(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=bool(request.custom),
                provider=provider,
                dependencies=sorted(request.dependencies),  # the SDK gathers them in no stable order
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                inputs=inputs,
                secret_paths=secrets,
                unmasked_inputs=_plain(raw, "", [], mask=False),
            )
        )
        return response


class PlatformMocks(pulumi.runtime.Mocks):
    """Computed outputs that look like the real providers' (ids, digests, endpoints)."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        outputs = dict(args.inputs)
        rid = _stable_id(args.typ, args.name)
        token = args.typ
        if token == "docker:index/remoteImage:RemoteImage":
            outputs["imageId"] = f"sha256:{rid}"
            outputs["repoDigest"] = f"{args.inputs.get('name', 'image')}@sha256:{rid}"
        elif token == "docker:index/container:Container":
            outputs["networkDatas"] = [{"ipAddress": "172.18.0.10", "networkName": "stack"}]
            outputs["exitCode"] = 0
        elif token == "docker:index/volume:Volume":
            outputs["mountpoint"] = f"/var/lib/docker/volumes/{args.inputs.get('name')}/_data"
            outputs["driver"] = "local"
        elif token == "docker:index/network:Network":
            outputs["driver"] = args.inputs.get("driver", "bridge")
            # Docker's default address pools hand bridge networks /16s from 172.17.0.0 up.
            outputs.setdefault("ipamConfigs", [{"subnet": "172.18.0.0/16", "gateway": "172.18.0.1"}])
        elif token == "kubernetes:core/v1:Service" and (args.inputs.get("spec") or {}).get("type") == "LoadBalancer":
            # pulumi-kubernetes waits for the balancer's address before the Service counts as created.
            outputs["status"] = {"loadBalancer": {"ingress": [{"hostname": f"{args.name}-{rid[:8]}.lb.example"}]}}
        elif token == "random:index/randomPassword:RandomPassword":
            length = int(args.inputs.get("length", 32))
            # New keepers make a new password (the provider replaces the resource).
            keepers = args.inputs.get("keepers")
            seed = _stable_id(rid, json.dumps(keepers, sort_keys=True)) if keepers else rid
            outputs["result"] = (seed * 4)[:length]
            outputs["bcryptHash"] = "$2a$10$" + rid[:53]
        elif token == "tls:index/privateKey:PrivateKey":
            outputs["privateKeyPem"] = "-----BEGIN PRIVATE KEY-----\nMOCK\n-----END PRIVATE KEY-----\n"
            outputs["publicKeyPem"] = "-----BEGIN PUBLIC KEY-----\nMOCK\n-----END PUBLIC KEY-----\n"
        elif token == "tls:index/selfSignedCert:SelfSignedCert":
            outputs["certPem"] = "-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n"
        elif token.startswith("aws:"):
            _aws_outputs(token, args.name, rid, outputs)
        return f"{args.name}-{rid[:12]}", outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """Invokes the targets make: AZ, caller identity, SSM parameter and ELB account lookups."""
        token = args.token
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{MOCK_REGION}{z}" for z in "abc"]
            return {"names": names, "zoneIds": [f"use1-az{i}" for i in (1, 2, 4)], "id": MOCK_REGION}, []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": MOCK_ACCOUNT, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:user/preview", "userId": "AIDA"}, []
        if token == "aws:ssm/getParameter:getParameter":
            return {"name": args.args.get("name"), "value": "ami-0abcdef1234567890", "type": "String"}, []
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            return {"arn": "arn:aws:iam::127311923021:root", "id": "127311923021"}, []
        return {}, []


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


def _aws_outputs(token: str, name: str, rid: str, outputs: dict[str, Any]) -> None:
    """ARNs, generated names and endpoints the way AWS would compute them."""
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
        value = _stable_id(rid, json.dumps(_plain(outputs.get("secretString", ""), "", [], mask=False)))
        outputs["versionId"] = f"{value[:8]}-0000-4000-8000-{value[:12]}"
    if token == "aws:ecs/cluster:Cluster":
        outputs.setdefault("name", resource_name)
