"""Computed outputs pulumi-gcp would report, for the offline preview's mock runtime (SDK-free)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MOCK_PROJECT = "gpu-platform-preview"
MOCK_REGION = "us-central1"
_COMPUTE = "https://www.googleapis.com/compute/v1/projects/{project}/{where}/{kind}/{name}"
# Compute resources that live in a region (the rest of compute/* here is global).
_REGIONAL = {"subnetwork", "router", "regionNetworkEndpointGroup", "address", "forwardingRule"}


def resource_outputs(token: str, name: str, rid: str, inputs: Mapping[str, Any], outputs: dict[str, Any]) -> None:
    """Self links, emails, URIs and private IPs the way GCP computes them."""
    module, _, kind = token.removeprefix("gcp:").partition("/")
    kind = kind.split(":")[0]
    resource_name = outputs.get("name") or outputs.get("accountId") or name
    project = inputs.get("project") or MOCK_PROJECT
    if module == "compute":
        where = (
            f"regions/{MOCK_REGION}"
            if kind in _REGIONAL
            else ("zones/us-central1-a" if kind in ("instance", "disk", "instanceGroup") else "global")
        )
        outputs.setdefault(
            "selfLink", _COMPUTE.format(project=project, where=where, kind=f"{kind}s", name=resource_name)
        )
        outputs.setdefault("id", f"projects/{project}/{where}/{kind}s/{resource_name}")
    if token == "gcp:serviceaccount/account:Account":
        outputs["email"] = f"{resource_name}@{project}.iam.gserviceaccount.com"
        outputs["member"] = f"serviceAccount:{outputs['email']}"
    elif token == "gcp:cloudrunv2/service:Service":
        outputs["uri"] = f"https://{resource_name}-{rid[:10]}-uc.a.run.app"
        outputs["id"] = f"projects/{project}/locations/{MOCK_REGION}/services/{resource_name}"
    elif token == "gcp:secretmanager/secret:Secret":
        outputs["id"] = f"projects/{project}/secrets/{inputs.get('secretId', resource_name)}"
        outputs["name"] = outputs["id"]
    elif token == "gcp:secretmanager/secretVersion:SecretVersion":
        outputs["version"] = "1"
        outputs["name"] = f"{inputs.get('secret', '')}/versions/1"
    elif token == "gcp:sql/databaseInstance:DatabaseInstance":
        outputs["privateIpAddress"] = f"10.100.{int(rid[:2], 16)}.{int(rid[2:4], 16) % 250 + 2}"
        outputs["connectionName"] = f"{project}:{MOCK_REGION}:{resource_name}"
    elif token == "gcp:compute/instance:Instance":
        interfaces = [dict(i) for i in inputs.get("networkInterfaces", [])]
        for index, interface in enumerate(interfaces):
            interface["networkIp"] = f"10.60.{int(rid[:2], 16) % 16}.{int(rid[2:4], 16) % 250 + 2 + index}"
        outputs["networkInterfaces"] = interfaces
    elif token == "gcp:compute/globalAddress:GlobalAddress" and inputs.get("addressType") != "INTERNAL":
        outputs["address"] = f"34.120.{int(rid[:2], 16)}.{int(rid[2:4], 16)}"
    elif token == "gcp:compute/address:Address" and inputs.get("addressType") == "EXTERNAL":
        outputs["address"] = f"35.202.{int(rid[:2], 16)}.{int(rid[2:4], 16)}"
    elif token == "gcp:storage/bucket:Bucket":
        outputs["url"] = f"gs://{resource_name}"


MOCK_PROJECT_NUMBER = "123456789012"


def call(token: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
    """The one invoke the target makes: the project's number (Cloud Run's deterministic URLs carry it)."""
    if token == "gcp:organizations/getProject:getProject":
        project = args.get("projectId") or MOCK_PROJECT
        return {"projectId": project, "number": MOCK_PROJECT_NUMBER, "name": project, "id": f"projects/{project}"}
    return None
