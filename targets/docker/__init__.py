"""The Docker target: containers on one or more Docker engines (local socket or ``ssh://``).

Only ``target.py`` and what it imports load pulumi_docker; ``settings.py``, ``checks.py``,
``mocks.py`` and ``render.py`` are SDK-free so the stack loader and the preview can use them.
``PLUGIN`` is the target's whole contract with the rest of the program (``targets/contract.py``).
"""

from __future__ import annotations

from typing import Any

from targets.contract import EVERY_INPUT, StatefulType, TargetPlugin, no_mock_call, no_reservation
from targets.docker import checks, mocks, settings


def _load() -> Any:
    from targets.docker.target import TARGET

    return TARGET


def _render(resources: Any, directory: Any) -> list[Any]:
    from targets.docker.render import render

    return list(render(resources, directory))


PLUGIN = TargetPlugin(
    name="docker",
    providers=("docker",),
    target_settings=settings.TARGET_SETTINGS,
    pool_settings=settings.POOL_SETTINGS,
    requirements=settings.requirements,
    check=checks.check,
    caveats=checks.caveats,
    load=_load,
    render=_render,
    gpu_devices=checks.gpu_devices,
    reservation_text=no_reservation,
    mock_outputs=mocks.resource_outputs,
    mock_call=no_mock_call,
    stateful_types={
        # docker_volume has no update function at all: every input is ForceNew.
        "docker:index/volume:Volume": StatefulType((EVERY_INPUT,)),
    },
    entry_hints={"docker:index/container:Container": "reverse proxy"},
)
