"""The Kubernetes names a blueprint turns into, and the API's limits on them (SDK-free).

Blueprint names are checked by the blueprint (DNS labels of at most 32
characters), but the target derives longer ones: ``<fleet>-<tool>`` workloads,
``<db>-backup`` CronJobs, ``<route>.<domain>`` hostnames. The API server rejects
a name over its limit only when ``pulumi up`` reaches that object, halfway
through a deployment, so the stack refuses such a blueprint before any resource.

The target knows the limits and the suffixes it appends (imported from here by
``postgres.py``, so the check and the objects cannot drift); ``targets/kubernetes/checks.py``
knows the blueprint and lists the names this module judges. Nothing here imports
the SDK or the blueprint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BACKUP_SUFFIX = "-backup"  # the pg_dump CronJob of database <db>

DNS_LABEL = 63  # RFC 1123 / 1035 label: Service and container names, label values, hostname labels
# A StatefulSet's pods carry ``controller-revision-hash: <name>-<hash of up to 10 characters>``, a label value.
STATEFUL_SET = DNS_LABEL - 11
# A CronJob's Jobs are named ``<name>-<11-character schedule suffix>`` and carry it as the ``job-name`` label.
CRON_JOB = 52
CNPG_CLUSTER = 50  # CloudNativePG's admission webhook: "the maximum length of a cluster name is 50 characters"
PORT_NAME = 15  # IANA_SVC_NAME (RFC 6335): container and Service port names
WORKLOAD_USES = "the Service and container name and the app.kubernetes.io/name label (a DNS label)"
PORT_USES = "a container and Service port name"
_IANA_SVC_NAME = re.compile(r"^(?=.*[a-z])(?!.*--)[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


@dataclass(frozen=True)
class DerivedName:
    """A name the target creates from a blueprint key, and the limit its use imposes."""

    key: str  # the blueprint key path the name comes from
    name: str
    limit: int
    what: str  # where Kubernetes uses it, for the message

    def problem(self) -> str | None:
        """What is wrong with the name, or None when the API accepts it."""
        if len(self.name) > self.limit:
            return (
                f"on Kubernetes it becomes {self.what}, which allows at most {self.limit} characters; "
                f"{self.name!r} has {len(self.name)}: shorten the name in the blueprint"
            )
        return None


@dataclass(frozen=True)
class PortName(DerivedName):
    """A port name: at most 15 characters, a letter somewhere, no ``--`` (IANA_SVC_NAME)."""

    def problem(self) -> str | None:
        if len(self.name) > self.limit or not _IANA_SVC_NAME.match(self.name):
            return (
                f"on Kubernetes it becomes {self.what}, an IANA service name: at most {self.limit} characters "
                f"(it has {len(self.name)}), lowercase letters, digits and single '-' between them"
            )
        return None
