"""What the GCP target hands to Google's own tools: each Cloud Run service as a Knative Service manifest.

From the offline preview's recorded resources (no SDK import): each ``gcp:cloudrunv2/service`` becomes
``cloud-run/<name>.yaml`` in the shape ``gcloud run services replace`` takes (serving.knative.dev/v1
Service, run/docs/reference/yaml/v1). Values the preview cannot know (service-account emails, secret ids)
appear as the mocks computed them; a secret env var is a ``secretKeyRef``, never a value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml

CLOUD_RUN_SERVICE = "gcp:cloudrunv2/service:Service"
INGRESS = {
    "INGRESS_TRAFFIC_ALL": "all",
    "INGRESS_TRAFFIC_INTERNAL_ONLY": "internal",
    "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER": "internal-and-cloud-load-balancing",
}


class RecordedLike(Protocol):
    type: str
    name: str
    inputs: dict[str, Any]


def _env(entry: dict[str, Any]) -> dict[str, Any]:
    ref = (entry.get("valueSource") or {}).get("secretKeyRef")
    if ref:
        return {"name": entry["name"], "valueFrom": {"secretKeyRef": {"name": ref["secret"], "key": ref["version"]}}}
    return {"name": entry["name"], "value": entry.get("value", "")}


def _probe(probe: dict[str, Any] | None) -> dict[str, Any] | None:
    if not probe:
        return None
    found = {
        k: probe[k]
        for k in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold")
        if k in probe
    }
    for kind, key in (("httpGet", "httpGet"), ("grpc", "grpc"), ("tcpSocket", "tcpSocket")):
        if probe.get(kind):
            found[key] = probe[kind]
    return found


def _container(box: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = {"name": box.get("name"), "image": box["image"]}
    if box.get("commands"):
        container["command"] = box["commands"]
    if box.get("args"):
        container["args"] = box["args"]
    if box.get("ports"):
        container["ports"] = [{"name": box["ports"].get("name"), "containerPort": box["ports"]["containerPort"]}]
    container["env"] = [_env(e) for e in box.get("envs") or []]
    container["resources"] = {"limits": (box.get("resources") or {}).get("limits", {})}
    for key in ("startupProbe", "livenessProbe"):
        probe = _probe(box.get(key))
        if probe:
            container[key] = probe
    if box.get("volumeMounts"):
        container["volumeMounts"] = [{"name": m["name"], "mountPath": m["mountPath"]} for m in box["volumeMounts"]]
    return container


def manifest(inputs: dict[str, Any]) -> dict[str, Any]:
    """The Knative Service for one recorded Cloud Run v2 service."""
    template = inputs.get("template") or {}
    scaling = template.get("scaling") or {}
    annotations = {
        "autoscaling.knative.dev/minScale": str(scaling.get("minInstanceCount", 0)),
        "autoscaling.knative.dev/maxScale": str(scaling.get("maxInstanceCount", 100)),
        "run.googleapis.com/execution-environment": "gen2",
        "run.googleapis.com/cpu-throttling": str(
            bool(template["containers"][0].get("resources", {}).get("cpuIdle", True))
        ).lower(),
        "run.googleapis.com/sessionAffinity": str(bool(template.get("sessionAffinity"))).lower(),
        # JSON, as run/docs/configuring/vpc-direct-vpc's YAML shows it.
        "run.googleapis.com/network-interfaces": json.dumps(
            [
                {"network": i.get("network"), "subnetwork": i.get("subnetwork")}
                for i in (template.get("vpcAccess") or {}).get("networkInterfaces", [])
            ],
            separators=(",", ":"),
        ),
        "run.googleapis.com/vpc-access-egress": "all-traffic",
    }
    spec: dict[str, Any] = {
        "serviceAccountName": template.get("serviceAccount"),
        "timeoutSeconds": int(str(template.get("timeout", "300s")).rstrip("s")),
        "containers": [_container(c) for c in template.get("containers", [])],
    }
    if (template.get("nodeSelector") or {}).get("accelerator"):
        spec["nodeSelector"] = {"run.googleapis.com/accelerator": template["nodeSelector"]["accelerator"]}
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {
            "name": inputs.get("name"),
            "labels": inputs.get("labels") or {},
            "annotations": {"run.googleapis.com/ingress": INGRESS.get(inputs.get("ingress", ""), "all")},
        },
        "spec": {
            "template": {"metadata": {"annotations": annotations, "labels": template.get("labels") or {}}, "spec": spec}
        },
    }


def render(resources: Sequence[RecordedLike], directory: Path) -> list[Path]:
    """Write one ``gcloud run services replace`` manifest per Cloud Run service under ``directory/cloud-run``."""
    folder = directory / "cloud-run"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for resource in resources:
        if resource.type != CLOUD_RUN_SERVICE:
            continue
        document = manifest(resource.inputs)
        path = folder / f"{document['metadata']['name'] or resource.name}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        written.append(path)
    return written
