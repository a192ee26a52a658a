"""The dev stack as the program registers it: the same run the offline preview makes.

``desired()`` runs ``preview.runner.run_program(STACK, ...)`` (``e2e-<hex>``, unique per run) with
``Pulumi.dev.yaml`` (plus the e2e overrides: this machine has no NVIDIA GPU) and returns the recorded resources with
their inputs, secrets in the clear (``Recorded.unmasked_inputs``), ready to be applied.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from preview.mocks import Recorded
from preview.runner import PreviewResult, read_stack_config, run_program
from tests.e2e.engine_api import Engine, EngineError
from tests.tokens import DOCKER_CONTAINER, DOCKER_NETWORK, DOCKER_REMOTE_IMAGE, DOCKER_VOLUME

# The program runs with Pulumi.dev.yaml's config under a stack name unique to this run, so every
# name it creates (containers, volumes, the network) is e2e-<hex>-...: destroying this run's
# resources can never touch a developer's real `dev` stack on the same engine.
CONFIG_STACK = "dev"
STACK = f"e2e-{secrets.token_hex(4)}"
NETWORK = DOCKER_NETWORK
VOLUME = DOCKER_VOLUME
IMAGE = DOCKER_REMOTE_IMAGE
CONTAINER = DOCKER_CONTAINER


# Stack config the e2e run sets on top of Pulumi.dev.yaml: GPU workloads run without
# device requests (the Docker target's no-GPU setting), since these machines have no GPU,
# and CPU limits stay within this machine's cores (the engine refuses a limit above them).
def engine_cpus() -> float:
    """The engine's CPU count (``NCPU`` from ``GET /info``) when it answers, else this machine's."""
    try:
        ncpu = Engine().request("GET", "/info").get("NCPU")
    except (OSError, EngineError, AttributeError):
        ncpu = None
    return float(ncpu) if isinstance(ncpu, int) and ncpu > 0 else float(os.cpu_count() or 1)


NO_GPU_SETTINGS: dict[str, Any] = {"gpus": "none", "max_cpus": engine_cpus()}


@dataclass
class DesiredStack:
    """What to apply: Docker resources by type, in registration order, and the stack outputs."""

    result: PreviewResult
    networks: list[Recorded] = field(default_factory=list)
    volumes: list[Recorded] = field(default_factory=list)
    images: list[Recorded] = field(default_factory=list)
    containers: list[Recorded] = field(default_factory=list)

    @property
    def outputs(self) -> dict[str, Any]:
        return self.result.outputs

    def image_of(self, container: Recorded) -> str:
        """The image reference a container runs (its RemoteImage dependency's ``name``)."""
        names = [r.inputs["name"] for r in self.images if r.urn in container.dependencies]
        assert len(names) == 1, f"{container.name}: expected one image dependency, found {names}"
        return names[0]

    def references(self) -> list[str]:
        return sorted({r.inputs["name"] for r in self.images})


def stack_config(overrides: dict[str, Any] | None = None) -> tuple[dict[str, Any], set[str]]:
    """``Pulumi.dev.yaml`` as the CLI hands it over, with the Docker settings merged with ``overrides``."""
    config, secret_keys = read_stack_config(CONFIG_STACK)
    key = "gpu-platform:docker"
    docker = json.loads(config[key]) if key in config else {}
    docker.update(NO_GPU_SETTINGS if overrides is None else overrides)
    config[key] = json.dumps(docker)
    return config, secret_keys


def desired(overrides: dict[str, Any] | None = None) -> DesiredStack:
    config, secret_keys = stack_config(overrides)
    result = run_program(STACK, config, secret_keys)
    stack = DesiredStack(result)
    for resource in result.resources:
        {NETWORK: stack.networks, VOLUME: stack.volumes, IMAGE: stack.images, CONTAINER: stack.containers}.get(
            resource.type, []
        ).append(resource)
    return stack
