"""The Docker target: containers on one or more Docker engines (local socket or ``ssh://``).

Only ``target.py`` and what it imports load pulumi_docker; ``settings.py``, ``checks.py``,
``mocks.py`` and ``render.py`` are SDK-free so the stack loader and the preview can use them.
``PLUGIN`` is the target's whole contract with the rest of the program (``targets/contract.py``).
"""

from __future__ import annotations

from targets.contract import (
    EVERY_INPUT,
    StatefulType,
    TargetPlugin,
    lazy_cost,
    lazy_load,
    lazy_render,
    no_mock_call,
    no_reservation,
)
from targets.docker import checks, mocks, settings

PLUGIN = TargetPlugin(
    name="docker",
    providers=("docker",),
    target_settings=settings.TARGET_SETTINGS,
    pool_settings=settings.POOL_SETTINGS,
    requirements=settings.requirements,
    check=checks.check,
    caveats=checks.caveats,
    load=lazy_load(__name__),
    render=lazy_render(__name__),
    gpu_devices=checks.gpu_devices,
    reservation_text=no_reservation,
    mock_outputs=mocks.resource_outputs,
    cost=lazy_cost(__name__),
    mock_call=no_mock_call,
    stateful_types={
        # docker_volume has no update function at all: every input is ForceNew.
        "docker:index/volume:Volume": StatefulType((EVERY_INPUT,)),
    },
    entry_hints={"docker:index/container:Container": "reverse proxy"},
)
