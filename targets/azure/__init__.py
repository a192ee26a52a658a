"""The Azure target: Container Apps (workload profiles, serverless GPUs), Flexible Server PostgreSQL, Front Door
Premium with WAF, and a TURN scale set.

Only ``target.py`` and what it imports load pulumi_azure_native (its submodules only); ``settings.py``,
``checks.py``, ``mocks.py`` and ``render.py`` are SDK-free so the stack loader and the preview can use them.
"""

from __future__ import annotations

from targets.azure import checks, mocks, settings
from targets.contract import (
    StatefulType,
    TargetPlugin,
    lazy_cost,
    lazy_load,
    lazy_render,
    no_gpu_devices,
    no_reservation,
)

PLUGIN = TargetPlugin(
    name="azure",
    providers=("azure-native",),
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
    # Inputs the resource providers cannot change in place (their ARM specs' x-ms-mutability: create only).
    stateful_types={
        "azure-native:dbforpostgresql:Server": StatefulType(
            (
                "serverName",
                "resourceGroupName",
                "location",
                "administratorLogin",
                "availabilityZone",
                "createMode",
                "sourceServerResourceId",
                "network",
            )
        ),
        # A database lives on its server; renaming it, moving it or changing its encoding replaces (drops) it.
        "azure-native:dbforpostgresql:Database": StatefulType(
            ("databaseName", "serverName", "resourceGroupName", "charset", "collation")
        ),
        "azure-native:keyvault:Vault": StatefulType(("vaultName", "resourceGroupName", "location")),
        "azure-native:storage:StorageAccount": StatefulType(("accountName", "resourceGroupName", "location", "kind")),
        "azure-native:storage:FileShare": StatefulType(("shareName", "accountName", "enabledProtocols")),
    },
    entry_hints={"azure-native:cdn:Profile": "Front Door", "azure-native:frontdoor:Policy": "WAF"},
)
