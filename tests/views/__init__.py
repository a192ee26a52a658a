"""One view per target: what the shared tests ask of a target's resources, answered by that target.

A shared test (the seed blueprints, bev, the component counts) is written once over every built
target (``targets.TARGETS``); where the answer depends on the target (which resource holds a
workload's image, how many replicas run, how a GPU is requested) it asks the target's view,
``tests/views/<target>.py``, whose ``VIEW`` is a :class:`TargetView`. Adding a target adds that
file: no ``if target ==`` branch and no list of covered targets to edit. A built target without
a view fails :func:`view` (and ``tests/test_target_contract.py``) by name, so it can never run
another target's expectations.

Expected values stay derived from the blueprint YAML and the profile: a view turns a blueprint
into the counts its target must register, and reads the target's resources for a workload.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from preview.runner import PreviewResult, read_stack_config
from stacks.profiles import PROFILES, Profile
from targets import TARGETS
from tests.conftest import cached_run, shipped
from tests.kit import Workload, count

Measure = Callable[[PreviewResult], int]
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
# What a warning names when a platform runs the image's own user (a Dockerfile's USER instruction).
IMAGE_USER = "USER"


def built() -> list[str]:
    """Every built target, in registry order (the parameters of the shared tests)."""
    return [name for name, info in TARGETS.items() if info.built]


def view(target: str) -> TargetView:
    """``tests/views/<target>.py``'s ``VIEW``; a built target without one fails here, by name."""
    try:
        module = importlib.import_module(f"tests.views.{target}")
    except ModuleNotFoundError as missing:
        if missing.name != f"tests.views.{target}":
            raise
        raise AssertionError(
            f"target {target!r} is built but has no tests/views/{target}.py with VIEW = a TargetView "
            "(docs/adding-a-target.md, step 4): the shared tests cannot check it"
        ) from None
    found = getattr(module, "VIEW", None)
    assert isinstance(found, TargetView), f"tests/views/{target}.py must define VIEW = a TargetView"
    assert found.target == target, f"tests/views/{target}.py holds the view of {found.target!r}"
    return found


class TargetView(ABC):
    """What the shared tests ask of one target's preview, answered from its resources."""

    target: ClassVar[str]
    # The stack whose profile the shared tests run this target on, and the config a blueprint needs
    # there beyond ``Pulumi.<stack>.yaml`` (a stack file for another target, the target's settings).
    stack: ClassVar[str]
    settings: ClassVar[Mapping[str, Any]] = {}
    # Counts the view measures itself (not a plain resource type), by the key expected_counts uses.
    counters: ClassVar[Mapping[str, Measure]] = {}

    # -- runs ---------------------------------------------------------------------------------------

    def settings_for(self, name: str) -> Mapping[str, Any]:
        """The config blueprint ``name`` needs on :attr:`stack`: :attr:`settings`, unless the view's vary."""
        del name
        return self.settings

    def preview(self, blueprint: str) -> PreviewResult:
        """``blueprint`` on this target, run once per session; the shipped stack's run when it is that."""
        config, _ = read_stack_config(self.stack)
        named = (config.get("gpu-platform:blueprint"), config.get("gpu-platform:target"))
        settings = self.settings_for(blueprint)
        if named == (blueprint, self.target) and not settings:
            return shipped(self.stack)
        return cached_run(self.stack, blueprint=blueprint, target=self.target, **settings)

    @staticmethod
    def profile(result: PreviewResult) -> Profile:
        return PROFILES[result.outputs["environment"]]

    # -- counts -------------------------------------------------------------------------------------

    def count(self, result: PreviewResult, token: str) -> int:
        """Resources of a type that count as the blueprint's (a view may leave helpers out)."""
        return count(result, token)

    def counted(self, result: PreviewResult, key: str) -> int:
        """The count ``expected_counts`` names by ``key``: one of :attr:`counters`, else a resource type."""
        measure = self.counters.get(key)
        return measure(result) if measure is not None else self.count(result, key)

    def expected_counts(self, bp: dict[str, Any], profile: Profile) -> dict[str, int]:
        """What the blueprint must register on this target under ``profile``, by resource type or counter."""
        # Every target: a generated password per database and a TURN secret per Pixel Streaming (targets/common.py).
        passwords = len(bp.get("databases", {})) + len(bp.get("pixel_streaming", {}))
        return {RANDOM_PASSWORD: passwords, **self.target_counts(bp, profile)}

    @abstractmethod
    def target_counts(self, bp: dict[str, Any], profile: Profile) -> dict[str, int]:
        """The target's own resources the blueprint must register under ``profile``."""

    # -- one workload -------------------------------------------------------------------------------

    @abstractmethod
    def image(self, result: PreviewResult, w: Workload) -> str:
        """The image reference the workload runs (as the blueprint pins it)."""

    @abstractmethod
    def users(self, result: PreviewResult, w: Workload) -> set[str]:
        """The ``uid:gid`` every replica of the workload runs as (asserting the target's non-root flags)."""

    @staticmethod
    def image_user(result: PreviewResult, w: Workload) -> set[str]:
        """:meth:`users` where the platform takes no user and runs the image's ``USER`` (Cloud Run, Container
        Apps): the preview must warn that the blueprint's user is the image's to declare; it is then that user."""
        assert any(IMAGE_USER in line for line in result.warnings), (
            f"{w.name}: the platform runs the image's {IMAGE_USER} and no warning of the preview says so, "
            f"so the blueprint's user {w.user} is dropped silently"
        )
        return {w.user}

    @abstractmethod
    def running(self, result: PreviewResult, w: Workload) -> int:
        """Replicas the target starts with."""

    @abstractmethod
    def check_ports_and_health(self, result: PreviewResult, w: Workload) -> None:
        """The workload's ports and health check are the blueprint's (gRPC tools: a gRPC check)."""

    @abstractmethod
    def check_autoscaling(self, result: PreviewResult, w: Workload) -> None:
        """The autoscaling range (and CPU target) is the blueprint's, and nothing scales what does not."""

    @abstractmethod
    def check_placement(self, result: PreviewResult, w: Workload, pool: dict[str, Any]) -> None:
        """The workload lands on ``pool`` (its architecture, its node selection, its capacity kind)."""

    @abstractmethod
    def check_gpu(self, result: PreviewResult, w: Workload, pool: dict[str, Any], share: str) -> None:
        """The GPU request reaches the runtime, with ``GPU_MEMORY_FRACTION`` = ``share``."""

    # -- a blueprint spread over named nodes (bev): asked only of targets every pool has settings for --

    def check_service_ports(self, result: PreviewResult, name: str, spec: dict[str, Any], pool: dict[str, Any]) -> None:
        """The service's declared ports reach the target (published, or behind a Service)."""
        self._unanswered("check_service_ports")

    def check_database_ports(self, result: PreviewResult, name: str, ports: set[int]) -> None:
        """The database is reached on ``ports``."""
        self._unanswered("check_database_ports")

    def check_single_member(self, result: PreviewResult, name: str) -> None:
        """One replica with its own volume (a member of a Kafka/RabbitMQ trio)."""
        self._unanswered("check_single_member")

    def check_shared_card(
        self, result: PreviewResult, pools: dict[str, dict[str, Any]], gpu_work: dict[str, dict[str, Any]]
    ) -> None:
        """Every GPU service gets its share of the one card of its pool, nothing else gets a GPU."""
        self._unanswered("check_shared_card")

    def check_pools_on_nodes(
        self, result: PreviewResult, pools: dict[str, dict[str, Any]], pool_of: dict[str, str]
    ) -> None:
        """Each pool's workloads run on that pool's node (``pool_of``: workload or database -> pool)."""
        self._unanswered("check_pools_on_nodes")

    def _unanswered(self, question: str) -> None:
        raise AssertionError(f"tests/views/{self.target}.py does not answer {question}: add it to test this pair")
