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

from targets import owner as token_owner

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


def stable_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def plain(value: Any, path: str, secrets: list[str], mask: bool = True) -> Any:
    """Wire-format value -> JSON value, secrets masked (unless ``mask`` is false) and their paths collected."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            secrets.append(path or "(root)")
            return _masked(value.get("value")) if mask else plain(value.get("value"), path, [], mask)
        if _SIG_KEY in value:  # resource references and assets: keep them readable
            return {k: plain(v, f"{path}.{k}", secrets, mask) for k, v in value.items() if k != _SIG_KEY}
        return {k: plain(v, f"{path}.{k}" if path else k, secrets, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, f"{path}[{i}]", secrets, mask) for i, v in enumerate(value)]
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
        inputs = plain(raw, "", secrets)
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
                unmasked_inputs=plain(raw, "", [], mask=False),
            )
        )
        return response


class PlatformMocks(pulumi.runtime.Mocks):
    """Computed outputs that look like the real providers' (ids, digests, endpoints)."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        outputs = dict(args.inputs)
        rid = stable_id(args.typ, args.name)
        token = args.typ
        owner = token_owner(token)
        if owner is not None:
            owner.mock_outputs(token, args.name, rid, args.inputs, outputs)
        elif token == "random:index/randomPassword:RandomPassword":
            length = int(args.inputs.get("length", 32))
            # New keepers make a new password (the provider replaces the resource).
            keepers = args.inputs.get("keepers")
            seed = stable_id(rid, json.dumps(keepers, sort_keys=True)) if keepers else rid
            outputs["result"] = (seed * 4)[:length]
            outputs["bcryptHash"] = "$2a$10$" + rid[:53]
        elif token == "tls:index/privateKey:PrivateKey":
            outputs["privateKeyPem"] = "-----BEGIN PRIVATE KEY-----\nMOCK\n-----END PRIVATE KEY-----\n"
            outputs["publicKeyPem"] = "-----BEGIN PUBLIC KEY-----\nMOCK\n-----END PUBLIC KEY-----\n"
        elif token == "tls:index/selfSignedCert:SelfSignedCert":
            outputs["certPem"] = "-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n"
        return f"{args.name}-{rid[:12]}", outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """Invokes the targets make (AZ, caller identity, parameter lookups), answered by the token's plugin."""
        owner = token_owner(args.token)
        found = owner.mock_call(args.token, args.args) if owner is not None else None
        return (found, []) if found is not None else ({}, [])
