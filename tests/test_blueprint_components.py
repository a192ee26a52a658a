"""Every blueprint on every built target registers the components its YAML declares, no more, no less.

One test for what each target's suite used to copy (the reference blueprint's component counts on
dev, staging and prod) and the seed blueprints' version of it: parametrised over the blueprints
and ``targets.TARGETS``' built targets, each run once per session through the target's view
(``tests/views/<target>.py``). The reference blueprint on a target whose shipped stack selects it is
that stack's run as shipped.
"""

from __future__ import annotations

import pytest

from tests.kit import blueprint, component_counts, expected_components, targets_of_every_pool
from tests.views import built, view

# The reference blueprint and the seeds run on every target; bev (pools on named nodes) on the
# targets every one of its pools has settings for.
ON_EVERY_TARGET = ("reference", "bem", "paissive-income", "monte-carlo", "brahminykite")
PAIRS = [(name, target) for name in ON_EVERY_TARGET for target in built()] + [
    ("bev", target) for target in targets_of_every_pool(blueprint("bev")) if target in built()
]


@pytest.mark.parametrize(("name", "target"), PAIRS)
def test_component_counts_follow_the_blueprint(name: str, target: str) -> None:
    result = view(target).preview(name)
    assert result.outputs["blueprint"] == blueprint(name)["name"]
    assert result.outputs["target"] == target
    assert dict(component_counts(result)) == expected_components(blueprint(name))
