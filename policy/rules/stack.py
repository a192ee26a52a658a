"""Stack-wide rules: state is protected in prod; no secret travels as a plaintext value."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from policy.rules.base import Rule, Subject, resource_rule, secret_looking, stack_rule
from policy.rules.registry import modules_for
from policy.rules.targets import STATEFUL_TYPES


@stack_rule(
    "gpu-platform-stack-protect-stateful",
    "In prod every stateful resource (database, volume, claim) must be protected against deletion.",
    "critical",
    "Pulumi protect option (AWSGuard rds-instance-deletion-protection, by analogy)",
    environments=("prod",),
)
def protect_stateful(subjects: Sequence[Subject]) -> Iterator[tuple[str, str]]:
    types = {subject.type for subject in subjects}
    regenerated = {urn for module in modules_for(types) for urn in module.regenerated(subjects)}
    for subject in subjects:
        if subject.urn in regenerated:
            continue
        if subject.type in STATEFUL_TYPES and not subject.protect:
            yield subject.urn, f"{subject.type} {subject.name} holds state but is not protected"


def _env_pairs(subject: Subject) -> Iterator[tuple[str, object]]:
    """(name, literal value) of every environment variable a resource sets, whatever the target.

    Only the module of the resource's own provider can find any (each module's ``env_pairs`` reads its types).
    """
    for module in modules_for((subject.type,)):
        yield from module.env_pairs(subject)


@resource_rule(
    "gpu-platform-stack-no-plaintext-secrets",
    "A secret-looking environment variable (password, token, key) must come from a secret, not a literal.",
    "critical",
    "Checkov CKV_SECRET_6 / Security Hub ECS.8",
    [],
)
def no_plaintext_secrets(subject: Subject) -> Iterator[str]:
    for name, value in _env_pairs(subject):
        if secret_looking(name) and value not in (None, ""):
            yield (
                f"{subject.name} sets {name} as a plaintext environment value; deliver it as a secret "
                f"({name}_FILE on Docker/Kubernetes, ECS secrets, Cloud Run valueSource.secretKeyRef, "
                "a Container Apps secretRef to a Key Vault secret)"
            )
    # RDS master passwords: policy/rules/aws.py (rds_master_password), which sees where a value comes from.


RULES: list[Rule] = [protect_stateful, no_plaintext_secrets]
