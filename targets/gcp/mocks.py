"""Computed outputs pulumi-gcp would report, for the offline preview's mock runtime (SDK-free)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MOCK_PROJECT = "gpu-platform-preview"
MOCK_REGION = "us-central1"
_COMPUTE = "https://www.googleapis.com/compute/v1/projects/{project}/{where}/{kind}/{name}"
# Compute resources that live in a region (the rest of compute/* here is global).
_REGIONAL = {"subnetwork", "router", "regionNetworkEndpointGroup", "address", "forwardingRule"}


@dataclass(frozen=True)
class _Made:
    """What a computed output is derived from: the resource's GCP name, project, stable id and inputs."""

    name: str
    project: str
    rid: str
    inputs: Mapping[str, Any]

    def octets(self) -> tuple[int, int]:
        """Two stable numbers 0-255 from the id, for addresses."""
        return int(self.rid[:2], 16), int(self.rid[2:4], 16)


def _compute_links(made: _Made, kind: str, outputs: dict[str, Any]) -> None:
    zonal = kind in ("instance", "disk", "instanceGroup")
    where = f"regions/{MOCK_REGION}" if kind in _REGIONAL else ("zones/us-central1-a" if zonal else "global")
    outputs.setdefault("selfLink", _COMPUTE.format(project=made.project, where=where, kind=f"{kind}s", name=made.name))
    outputs.setdefault("id", f"projects/{made.project}/{where}/{kind}s/{made.name}")


def _account(made: _Made, outputs: dict[str, Any]) -> None:
    outputs["email"] = f"{made.name}@{made.project}.iam.gserviceaccount.com"
    outputs["member"] = f"serviceAccount:{outputs['email']}"


def _cloud_run(made: _Made, outputs: dict[str, Any]) -> None:
    outputs["uri"] = f"https://{made.name}-{made.rid[:10]}-uc.a.run.app"
    outputs["id"] = f"projects/{made.project}/locations/{MOCK_REGION}/services/{made.name}"


def _secret(made: _Made, outputs: dict[str, Any]) -> None:
    outputs["id"] = f"projects/{made.project}/secrets/{made.inputs.get('secretId', made.name)}"
    outputs["name"] = outputs["id"]


def _secret_version(made: _Made, outputs: dict[str, Any]) -> None:
    outputs["version"] = "1"
    outputs["name"] = f"{made.inputs.get('secret', '')}/versions/1"


def _sql_instance(made: _Made, outputs: dict[str, Any]) -> None:
    high, low = made.octets()
    outputs["privateIpAddress"] = f"10.100.{high}.{low % 250 + 2}"
    outputs["connectionName"] = f"{made.project}:{MOCK_REGION}:{made.name}"


def _instance(made: _Made, outputs: dict[str, Any]) -> None:
    high, low = made.octets()
    interfaces = [dict(i) for i in made.inputs.get("networkInterfaces", [])]
    for index, interface in enumerate(interfaces):
        interface["networkIp"] = f"10.60.{high % 16}.{low % 250 + 2 + index}"
    outputs["networkInterfaces"] = interfaces


def _global_address(made: _Made, outputs: dict[str, Any]) -> None:
    if made.inputs.get("addressType") != "INTERNAL":
        outputs["address"] = "34.120.{}.{}".format(*made.octets())


def _address(made: _Made, outputs: dict[str, Any]) -> None:
    if made.inputs.get("addressType") == "EXTERNAL":
        outputs["address"] = "35.202.{}.{}".format(*made.octets())


def _bucket(made: _Made, outputs: dict[str, Any]) -> None:
    outputs["url"] = f"gs://{made.name}"


_OUTPUTS: dict[str, Callable[[_Made, dict[str, Any]], None]] = {
    "gcp:serviceaccount/account:Account": _account,
    "gcp:cloudrunv2/service:Service": _cloud_run,
    "gcp:secretmanager/secret:Secret": _secret,
    "gcp:secretmanager/secretVersion:SecretVersion": _secret_version,
    "gcp:sql/databaseInstance:DatabaseInstance": _sql_instance,
    "gcp:compute/instance:Instance": _instance,
    "gcp:compute/globalAddress:GlobalAddress": _global_address,
    "gcp:compute/address:Address": _address,
    "gcp:storage/bucket:Bucket": _bucket,
}


def resource_outputs(token: str, name: str, rid: str, inputs: Mapping[str, Any], outputs: dict[str, Any]) -> None:
    """Self links, emails, URIs and private IPs the way GCP computes them."""
    module, _, kind = token.removeprefix("gcp:").partition("/")
    made = _Made(
        outputs.get("name") or outputs.get("accountId") or name, inputs.get("project") or MOCK_PROJECT, rid, inputs
    )
    if module == "compute":
        _compute_links(made, kind.split(":")[0], outputs)
    found = _OUTPUTS.get(token)
    if found is not None:
        found(made, outputs)


MOCK_PROJECT_NUMBER = "123456789012"


def call(token: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
    """The one invoke the target makes: the project's number (Cloud Run's deterministic URLs carry it)."""
    if token == "gcp:organizations/getProject:getProject":
        project = args.get("projectId") or MOCK_PROJECT
        return {"projectId": project, "number": MOCK_PROJECT_NUMBER, "name": project, "id": f"projects/{project}"}
    return None
