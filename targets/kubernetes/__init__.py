"""The Kubernetes target: any cluster, Gateway API routing, GPU scheduling through the NVIDIA device plugin.

Only ``target.py`` and what it imports load pulumi_kubernetes; ``settings.py``, ``checks.py``,
``mocks.py`` and ``render.py`` are SDK-free so the stack loader and the preview can use them.
``PLUGIN`` is the target's whole contract with the rest of the program (``targets/contract.py``).
"""

from __future__ import annotations

from targets.contract import (
    StatefulType,
    TargetPlugin,
    lazy_cost,
    lazy_load,
    lazy_render,
    no_gpu_devices,
    no_mock_call,
    no_reservation,
)
from targets.kubernetes import checks, mocks, settings

_METADATA = ("metadata.name", "metadata.namespace")  # pulumi-kubernetes replaces any object on these


PLUGIN = TargetPlugin(
    name="kubernetes",
    providers=("kubernetes",),
    target_settings=settings.TARGET_SETTINGS,
    pool_settings=settings.POOL_SETTINGS,
    requirements=settings.requirements,
    check=checks.check,
    caveats=checks.caveats,
    load=lazy_load(__name__),
    render=lazy_render(__name__),
    gpu_devices=no_gpu_devices,
    reservation_text=no_reservation,
    mock_outputs=mocks.resource_outputs,
    cost=lazy_cost(__name__),
    mock_call=no_mock_call,
    # forceNew in pulumi-kubernetes' provider/pkg/provider/diff.go
    stateful_types={
        "kubernetes:core/v1:PersistentVolumeClaim": StatefulType(
            (*_METADATA, "spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName")
        ),
        # Its claims hold the data (and are protected themselves); the set is watched for replacement only.
        "kubernetes:apps/v1:StatefulSet": StatefulType(
            (
                *_METADATA,
                "spec.podManagementPolicy",
                "spec.revisionHistoryLimit",
                "spec.selector",
                "spec.serviceName",
                "spec.volumeClaimTemplates",
            ),
            protect=False,
        ),
        # A custom resource: the Kubernetes provider only knows the metadata rule; the operator validates the rest.
        "kubernetes:postgresql.cnpg.io/v1:Cluster": StatefulType(_METADATA),
    },
    entry_hints={
        "kubernetes:gateway.networking.k8s.io/v1:Gateway": "Gateway API",
        "kubernetes:cert-manager.io/v1:Certificate": "TLS",
    },
)
