"""The gpu-platform CrossGuard policy pack (``pulumi preview --policy-pack policy``).

Only this module constructs ``PolicyPack``: its constructor starts the policy
server and never returns, so nothing else may import this file. The CLI runs
it with ``policy/`` as the working directory; the repository root goes on the
path so the rules import as ``policy.rules``, the same name the offline preview uses.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.rules import POLICIES

PolicyPack(
    name="gpu-platform",
    policies=POLICIES,
    enforcement_level=EnforcementLevel.ADVISORY,
    description="Security and reliability rules for gpu-platform stacks on Docker, Kubernetes and AWS.",
)
