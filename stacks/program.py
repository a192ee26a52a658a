"""The Pulumi program: read config, validate everything, build, export.

``__main__.py`` calls :func:`run`; the offline preview runs the same function
under the mock runtime. A :class:`ConfigError` becomes :class:`pulumi.RunError`
so ``pulumi up`` prints one message instead of a traceback, and nothing has
been registered because validation finishes before the first resource.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.runtime.config as runtime_config

from stacks.build import build
from stacks.errors import ConfigError
from stacks.loader import StackSpec, load_stack
from stacks.settings import PROJECT


def project_config() -> dict[str, Any]:
    """This stack's config as the engine passed it (keys like ``gpu-platform:target``).

    The language host sets the config map explicitly; older hosts pass it in
    ``PULUMI_CONFIG``. Both are read, the explicit map winning, as ``pulumi.Config`` does.
    """
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return {k: v for k, v in merged.items() if k.startswith(PROJECT + ":")}


def load() -> StackSpec:
    """The validated spec of the running stack, or a clean RunError."""
    try:
        return load_stack(pulumi.get_stack(), project_config())
    except ConfigError as error:
        raise pulumi.RunError(error.message) from None


def run(spec: StackSpec | None = None) -> None:
    """Validate, build and export the running stack (``spec``: already validated, as the preview has it)."""
    spec = spec if spec is not None else load()
    for caveat in spec.caveats:
        pulumi.log.warn(caveat.render())
    built = build(spec)
    pulumi.export("environment", spec.profile.name)
    pulumi.export("target", spec.target)
    pulumi.export("blueprint", spec.blueprint.name)
    pulumi.export("urls", built.urls())
    pulumi.export("placement", dict(sorted(spec.placement.pool_of.items())))
    pulumi.export(
        "databases",
        {
            name: {"host": db.database.host, "port": db.database.port, "database": db.database.database}
            for name, db in built.databases.items()
        },
    )
