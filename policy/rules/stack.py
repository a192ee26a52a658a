"""Stack-wide rules: state is protected in prod; no secret travels as a plaintext value."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from policy.rules.base import (
    Rule,
    Subject,
    as_list,
    json_value,
    pod_containers,
    pod_spec,
    resource_rule,
    secret_looking,
    stack_rule,
)
from policy.rules.docker import read_only_volumes

# Resources whose loss loses data: databases, volumes, claims.
STATEFUL_TYPES = (
    "docker:index/volume:Volume",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:postgresql.cnpg.io/v1:Cluster",
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:ebs/volume:Volume",
    "aws:efs/fileSystem:FileSystem",
)


@stack_rule(
    "gpu-platform-stack-protect-stateful",
    "In prod every stateful resource (database, volume, claim) must be protected against deletion.",
    "critical",
    "Pulumi protect option (AWSGuard rds-instance-deletion-protection, by analogy)",
    environments=("prod",),
)
def protect_stateful(subjects: Sequence[Subject]) -> Iterator[tuple[str, str]]:
    delivered = read_only_volumes(subjects)  # Docker volumes of delivered files: regenerated, not state
    for subject in subjects:
        if subject.type == "docker:index/volume:Volume" and str(subject.props.get("name")) in delivered:
            continue
        if subject.type in STATEFUL_TYPES and not subject.protect:
            yield subject.urn, f"{subject.type} {subject.name} holds state but is not protected"


def _env_pairs(subject: Subject) -> Iterator[tuple[str, object]]:
    """(name, literal value) of every environment variable a resource sets, whatever the target."""
    props = subject.props
    if subject.type == "docker:index/container:Container":
        for entry in as_list(props.get("envs")):
            name, _, value = str(entry).partition("=")
            yield name, value
    elif subject.type.startswith("kubernetes:"):
        for container in pod_containers(pod_spec(subject)):
            for env in as_list(container.get("env")):
                if "value" in env:
                    yield str(env.get("name")), env.get("value")
    elif subject.type == "aws:ecs/taskDefinition:TaskDefinition":
        for container in as_list(json_value(props.get("containerDefinitions"))):
            for env in as_list(container.get("environment")):
                yield str(env.get("name")), env.get("value")


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
                f"({name}_FILE on Docker/Kubernetes, ECS secrets)"
            )
    # RDS master passwords: policy/rules/aws.py (rds_master_password), which sees where a value comes from.


RULES: list[Rule] = [protect_stateful, no_plaintext_secrets]
