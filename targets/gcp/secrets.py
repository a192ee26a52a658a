"""Secrets in Secret Manager, readable only by the workloads that use them.

A workload's secret environment values are stored as secrets (a generated value once, a stored one such
as a database password by reference); its own service account gets ``roles/secretmanager.secretAccessor``
on each, and Cloud Run or the VM's boot script reads them by reference. No value is ever a plain env var.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_gcp as gcp

from components.protocol import SecretRef
from targets.gcp.network import Network


def store(name: str, value: pulumi.Input[str], network: Network, parent: pulumi.Resource) -> pulumi.Output[str]:
    """A Secret Manager secret holding ``value``; returns the secret's id (``projects/<p>/secrets/<name>``)."""
    kms = network.settings.kms_key
    replication: gcp.secretmanager.SecretReplicationArgsDict = (
        {
            "user_managed": {
                "replicas": [
                    {"location": network.settings.region, "customer_managed_encryption": {"kms_key_name": kms}}
                ]
            }
        }
        if kms
        else {"auto": {}}
    )
    secret = gcp.secretmanager.Secret(
        name,
        secret_id=f"{network.prefix}-{name}",
        replication=replication,
        labels=network.labels(),
        opts=network.stateful_opts(parent),
    )
    gcp.secretmanager.SecretVersion(
        f"{name}-version", secret=secret.id, secret_data=pulumi.Output.secret(value), opts=network.opts(parent)
    )
    return secret.id


def grant(
    workload: str,
    secrets: Mapping[str, pulumi.Input[str] | SecretRef],
    account: gcp.serviceaccount.Account,
    network: Network,
    parent: pulumi.Resource,
) -> dict[str, pulumi.Output[str]]:
    """Name (an environment variable or a secret file) -> secret id for each of a workload's secrets, with its
    service account allowed to read it."""
    ids: dict[str, pulumi.Output[str]] = {}
    for name, value in secrets.items():
        key = name.lower().replace("_", "-").replace(".", "-")
        if isinstance(value, SecretRef):
            ids[name] = value.reference
        else:
            ids[name] = store(f"{workload}-{key}", value, network, parent)
        gcp.secretmanager.SecretIamMember(
            f"{workload}-{key}-reader",
            secret_id=ids[name],
            role="roles/secretmanager.secretAccessor",
            member=account.member,
            opts=network.opts(parent),
        )
    return ids
