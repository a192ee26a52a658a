"""``python -m preview.floor FILE``: the SDK's own cost for the resources a preview recorded.

The benchmark's floor. It reads a ``python -m preview --json`` document and registers the
same resources (same types, names, parents, protect flags and inputs, in the same order) with
the providers' typed SDK classes under a trivial mock — no blueprint, no components' logic, no
policies, no report. What the preview costs above this is the program's own overhead.

A type's class is found from its token (``aws:ec2/instance:Instance`` -> ``pulumi_aws.ec2.Instance``,
``kubernetes:apps/v1:Deployment`` -> ``pulumi_kubernetes.apps.v1.Deployment``); the recorded
camelCase inputs become the class's snake_case keyword arguments (nested values stay as the
engine received them: the typed classes pass camelCase nested dicts through unchanged, so the engine
gets exactly the recorded inputs, azure-native's included). A resource whose class or arguments do not
resolve is registered as a bare ``pulumi.CustomResource`` and counted, so the floor never silently drops work.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from preview import collector

if __name__ == "__main__":  # the same collector settings as the preview process (preview/collector.py)
    collector.pause()

import pulumi
import pulumi.runtime.settings as runtime_settings
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class _Trivial(pulumi.runtime.Mocks):
    """Echo the inputs back with a fixed id: the least a mock runtime can do."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ.startswith("azure-native:"):
            _answer_identities(outputs)
        return f"{args.name}-id", outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, []


def _answer_identities(outputs: dict[str, Any]) -> None:
    """Answer a list of user-assigned identity ids as the map azure-native's output types insist on.

    The one place the echo is not enough: ARM takes ``identity.userAssignedIdentities`` as a list of
    ids and answers with a map id -> {principalId, clientId}; the SDK's ``ManagedServiceIdentityResponse``
    refuses a list back (``Expected 'list' got 'Mapping[...]'``), so every typed class with an identity fails.
    ``targets/azure/mocks.py`` answers the same (with ids); the floor keeps its own four lines so that it
    imports no program module (``targets`` brings pydantic), which would raise the floor it measures.
    """
    identity = outputs.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        assigned = {identity_id: {} for identity_id in identity["userAssignedIdentities"]}
        outputs["identity"] = {**identity, "userAssignedIdentities": assigned}


def typed_class(token: str) -> type[pulumi.CustomResource] | None:
    """The SDK class registering ``token``, or None when it cannot be found.

    Module paths are tried from the most specific (``apps/v1`` -> ``apps.v1``, ``networking.k8s.io/v1``
    -> ``networking.v1``, ``ec2/instance`` -> ``ec2.instance``) to the package root; a type no module has
    (a CRD such as a Gateway API route) takes the SDK's generic ``apiextensions.CustomResource``.
    """
    package, module, name = token.split(":")
    if package == "pulumi" and module == "providers":  # pulumi:providers:<pkg> -> pulumi_<pkg>.Provider
        return _class(f"pulumi_{name.replace('-', '_')}", "Provider")
    root = f"pulumi_{package.replace('-', '_')}"
    parts = [part.split(".")[0] for part in module.split("/") if part != "index"]
    for depth in range(len(parts), -1, -1):
        found = _class(".".join([root, *parts[:depth]]), name)
        if found is not None:
            return found
    return _class(f"{root}.apiextensions", "CustomResource")


def _class(module: str, name: str) -> type[pulumi.CustomResource] | None:
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if isinstance(found, type) and issubclass(found, pulumi.CustomResource) else None


def _keyword_arguments(cls: type, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """``inputs`` as ``cls``'s keyword arguments, or None when one does not match a parameter."""
    kwargs = {_CAMEL.sub("_", key).lower(): value for key, value in inputs.items()}
    accepted = set(inspect.signature(getattr(cls, "_internal_init", cls.__init__)).parameters)
    accepted -= {"self", "__self__", "resource_name", "opts"}  # the constructor's own, not inputs
    by_letters = {parameter.replace("_", ""): parameter for parameter in accepted}
    for key in [k for k in kwargs if k not in accepted and k.replace("_", "") in by_letters]:
        # an acronym the split above breaks wrongly: publicIPAllocationMethod -> public_ip_allocation_method
        kwargs[by_letters[key.replace("_", "")]] = kwargs.pop(key)
    for key in [k for k in kwargs if f"{k}_" in accepted]:  # an input named like a parameter: resource_name_
        kwargs[f"{key}_"] = kwargs.pop(key)
    for fixed in ("kind", "api_version"):  # a typed class that sets them itself does not take them
        if fixed not in accepted:
            kwargs.pop(fixed, None)
    return kwargs if set(kwargs) <= accepted else None


def parents_first(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The document's resources (sorted for reading) in an order where each parent precedes its children."""
    by_urn = {resource["urn"]: resource for resource in resources}
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(resource: dict[str, Any]) -> None:
        chain = []
        while resource["urn"] not in placed:
            chain.append(resource)
            placed.add(resource["urn"])
            parent = by_urn.get(resource["parent"] or "")
            if parent is None:
                break
            resource = parent
        ordered.extend(reversed(chain))

    for resource in resources:
        place(resource)
    return ordered


def program(resources: list[dict[str, Any]], bare: list[str], typed: bool = True) -> Callable[[], None]:
    """Register ``resources`` (a preview's JSON ``resources``) in order; collect bare registrations."""

    def run() -> None:
        made: dict[str, pulumi.Resource] = {}
        for resource in resources:
            opts = pulumi.ResourceOptions(parent=made.get(resource["parent"] or ""), protect=resource["protect"])
            token, name, inputs = resource["type"], resource["name"], resource["inputs"]
            if not resource["custom"]:
                made[resource["urn"]] = pulumi.ComponentResource(token, name, None, opts)
                continue
            cls = typed_class(token)  # imported either way: the SDK's import cost is part of the floor
            kwargs = _keyword_arguments(cls, inputs) if cls is not None and typed else None
            if cls is not None and kwargs is not None:
                made[resource["urn"]] = cls(name, opts=opts, **kwargs)
            else:
                bare.append(token)
                made[resource["urn"]] = pulumi.CustomResource(token, name, inputs, opts)

    return run


def register(document: dict[str, Any], typed: bool = True) -> list[str]:
    """Register a preview document's resources under the trivial mock; the tokens registered bare.

    Recorded inputs are the engine's shape; an SDK that reshapes an input on the wire (a list sent as a
    map) refuses it back, and the run fails. ``typed=False`` (``--bare``) registers every resource as a
    plain ``pulumi.CustomResource`` instead (the SDK modules still imported): a cheaper floor, reported as bare.
    """
    return _register(document, parents_first(document["resources"]), typed)


def _register(document: dict[str, Any], resources: list[dict[str, Any]], typed: bool) -> list[str]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(_Trivial(), project=document["project"], stack=document["stack"], preview=True)
    bare: list[str] = []
    try:
        _sync_await(run_pulumi_func(program(resources, bare, typed)))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return bare


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    typed = "--bare" not in args
    files = [a for a in args if a != "--bare"]
    if len(files) != 1:
        print("usage: python -m preview.floor [--bare] PREVIEW.json", file=sys.stderr)
        return 2
    document = json.loads(Path(files[0]).read_text())
    bare = register(document, typed)
    print(json.dumps({"resources": len(document["resources"]), "bare": len(bare), "bare_types": sorted(set(bare))}))
    return 0


if __name__ == "__main__":
    collector.collect_less()
    sys.exit(main())
