"""The GCP target: Cloud Run v2 (and Compute Engine VMs where Cloud Run cannot), Cloud SQL, a global external ALB.

Only ``target.py`` and what it imports load pulumi_gcp; ``settings.py``, ``fit.py``, ``checks.py``,
``mocks.py``, ``render.py`` and ``vm_boot.py`` are SDK-free so the stack loader and the preview can use them.
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
    no_reservation,
)
from targets.gcp import checks, mocks, settings

PLUGIN = TargetPlugin(
    name="gcp",
    providers=("gcp",),
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
    mock_call=mocks.call,
    cost=lazy_cost(__name__),
    # ForceNew in terraform-provider-google, which pulumi-gcp wraps.
    stateful_types={
        # google_sql_database_instance
        "gcp:sql/databaseInstance:DatabaseInstance": StatefulType(
            ("name", "project", "region", "encryptionKeyName", "masterInstanceName", "replicaConfiguration")
        ),
        # google_sql_database: deleting it drops the database
        "gcp:sql/database:Database": StatefulType(("name", "instance", "project")),
        # google_secret_manager_secret: a generated value lives only here; replication is immutable
        "gcp:secretmanager/secret:Secret": StatefulType(("secretId", "project", "replication")),
        # google_compute_disk
        "gcp:compute/disk:Disk": StatefulType(
            ("name", "project", "zone", "type", "image", "snapshot", "diskEncryptionKey", "sourceDisk")
        ),
        # google_storage_bucket (a shared volume's objects)
        "gcp:storage/bucket:Bucket": StatefulType(("name", "project", "location")),
    },
    entry_hints={
        "gcp:compute/globalForwardingRule:GlobalForwardingRule": "load balancer",
        "gcp:compute/securityPolicy:SecurityPolicy": "Cloud Armor",
    },
)
