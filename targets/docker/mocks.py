"""Computed outputs pulumi-docker would report, for the offline preview's mock runtime (SDK-free)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def resource_outputs(token: str, name: str, rid: str, inputs: Mapping[str, Any], out: dict[str, Any]) -> None:
    del name
    if token == "docker:index/remoteImage:RemoteImage":
        out["imageId"] = f"sha256:{rid}"
        out["repoDigest"] = f"{inputs.get('name', 'image')}@sha256:{rid}"
    elif token == "docker:index/container:Container":
        out["networkDatas"] = [{"ipAddress": "172.18.0.10", "networkName": "stack"}]
        out["exitCode"] = 0
    elif token == "docker:index/volume:Volume":
        out["mountpoint"] = f"/var/lib/docker/volumes/{inputs.get('name')}/_data"
        out["driver"] = "local"
    elif token == "docker:index/network:Network":
        out["driver"] = inputs.get("driver", "bridge")
        # Docker's default address pools hand bridge networks /16s from 172.17.0.0 up.
        out.setdefault("ipamConfigs", [{"subnet": "172.18.0.0/16", "gateway": "172.18.0.1"}])
