"""The Azure target as the shared tests see it: a Container App per workload in one environment.

Every workload is a Container App of its name on its pool's workload profile (Consumption, or a serverless
T4 GPU profile for a GPU pool unless the pool names another); replicas and the CPU scale rule come from the
blueprint; probes are HTTP, else TCP (Container Apps has no exec or gRPC probe); each volume is an NFS
Azure Files share; Postgres is a flexible server (with the prod profile's read replica); routes and public
gRPC tools are Front Door routes; each TURN relay is a VM scale set (Container Apps ingress takes no UDP).
Container Apps runs the image's own USER (the preview warns), so the user is the image's to declare.
"""

from __future__ import annotations

import math
from typing import Any

from preview.runner import PreviewResult
from stacks.profiles import Profile
from tests.kit import Workload, one, public_tools, workloads
from tests.tokens import (
    AZURE_APP_CONTAINER_APP,
    AZURE_APP_MANAGED_ENVIRONMENT,
    AZURE_CDN_ROUTE,
    AZURE_COMPUTE_SCALE_SET,
    AZURE_POSTGRES_SERVER,
    AZURE_STORAGE_FILE_SHARE,
)
from tests.views import TargetView

CONSUMPTION = "Consumption"
# A GPU pool's profile unless its settings name one (README: azure; workload-profiles-overview, "Profile types").
SERVERLESS_T4 = "Consumption-GPU-NC8as-T4"
PROBES = ("Startup", "Liveness", "Readiness")


def app(result: PreviewResult, name: str) -> dict[str, Any]:
    """The Container App ``name``'s inputs."""
    return one(result, AZURE_APP_CONTAINER_APP, name).inputs


def container(result: PreviewResult, name: str) -> dict[str, Any]:
    (box,) = app(result, name)["template"]["containers"]
    return box


def ingress_ports(inputs: dict[str, Any]) -> set[int]:
    """The main ingress's target port and every additional port mapping's."""
    ingress = inputs["configuration"].get("ingress") or {}
    mapped = {m["targetPort"] for m in ingress.get("additionalPortMappings") or []}
    return ({ingress["targetPort"]} if ingress else set()) | mapped


def profile_types(result: PreviewResult) -> dict[str, str]:
    """The environment's workload profiles: name -> type."""
    (environment,) = result.of_type(AZURE_APP_MANAGED_ENVIRONMENT)
    return {p["name"]: p["workloadProfileType"] for p in environment.inputs["workloadProfiles"]}


def pool_profile(pool: dict[str, Any]) -> str:
    """The workload profile type a blueprint pool runs on."""
    named = ((pool.get("targets") or {}).get("azure") or {}).get("workload_profile")
    return named or (SERVERLESS_T4 if pool.get("gpus", 0) > 0 else CONSUMPTION)


class AzureView(TargetView):
    target = "azure"
    stack = "azure-prod"

    def target_counts(self, bp: dict[str, Any], profile: Profile) -> dict[str, int]:
        items = workloads(bp)
        return {
            AZURE_APP_CONTAINER_APP: len(items),
            AZURE_APP_MANAGED_ENVIRONMENT: int(bool(items)),
            AZURE_COMPUTE_SCALE_SET: len(bp.get("pixel_streaming", {})),  # a TURN relay per Pixel Streaming
            AZURE_STORAGE_FILE_SHARE: sum(len(w.volumes) for w in items),
            # each primary and its read replicas (the blueprint's, else the profile's: prod adds one)
            AZURE_POSTGRES_SERVER: sum(
                1 + (db["read_replicas"] if db.get("read_replicas") is not None else profile.read_replicas)
                for db in bp.get("databases", {}).values()
            ),
            AZURE_CDN_ROUTE: len([w for w in items if w.route is not None]) + len(public_tools(bp)),
        }

    def image(self, result: PreviewResult, w: Workload) -> str:
        return container(result, w.name)["image"]

    def users(self, result: PreviewResult, w: Workload) -> set[str]:
        """Container Apps sets no user on a container: the image's USER runs (:meth:`image_user`)."""
        return self.image_user(result, w)

    def running(self, result: PreviewResult, w: Workload) -> int:
        return app(result, w.name)["template"]["scale"]["minReplicas"]

    def check_ports_and_health(self, result: PreviewResult, w: Workload) -> None:
        """Every port reachable through the ingress; an HTTP check as HTTP probes, any other as TCP probes on the
        first port (Container Apps probes HTTP or TCP only: learn.microsoft.com/azure/container-apps/health-probes)."""
        assert ingress_ports(app(result, w.name)) == set(w.ports), w.name
        probes = container(result, w.name).get("probes") or []
        if not w.ports and w.health["kind"] != "http":
            assert probes == [], f"{w.name}: nothing to probe over TCP"
            return
        assert [p["type"] for p in probes] == list(PROBES), w.name
        want = (
            {"httpGet": {"path": w.health["path"], "port": w.ports[0]}}
            if w.health["kind"] == "http"
            else {"tcpSocket": {"port": w.ports[0]}}
        )
        for probe in probes:
            assert {k: v for k, v in probe.items() if k in ("httpGet", "tcpSocket")} == want, w.name

    def check_autoscaling(self, result: PreviewResult, w: Workload) -> None:
        """``minReplicas``/``maxReplicas``, and a CPU Utilization rule (KEDA's cpu scaler) only where it autoscales."""
        scale = app(result, w.name)["template"]["scale"]
        assert (scale["minReplicas"], scale["maxReplicas"]) == (w.running, w.most), w.name
        if not w.autoscale:
            assert not scale.get("rules"), w.name
            return
        (rule,) = scale["rules"]
        want = {"type": "Utilization", "value": str(w.autoscale.get("cpu_percent", 70))}
        assert (rule["custom"]["type"], rule["custom"]["metadata"]) == ("cpu", want), w.name

    def check_placement(self, result: PreviewResult, w: Workload, pool: dict[str, Any]) -> None:
        """The pool's workload profile; Container Apps runs linux/amd64 images only."""
        assert pool.get("architecture", "amd64") == "amd64", w.name
        profile = profile_types(result)[app(result, w.name)["workloadProfileName"]]
        assert profile == pool_profile(pool), w.name

    def check_gpu(self, result: PreviewResult, w: Workload, pool: dict[str, Any], share: str) -> None:
        """Whole GPUs per replica on a GPU profile (a fraction takes one; the preview warns)."""
        box = container(result, w.name)
        assert box["resources"]["gpu"] == math.ceil(w.gpu), w.name
        assert pool_profile(pool) != CONSUMPTION, w.name
        env = {e["name"]: e["value"] for e in box["env"] if "value" in e}
        assert env["GPU_MEMORY_FRACTION"] == share, w.name


VIEW = AzureView()
