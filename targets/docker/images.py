"""Images the Docker target runs itself, pinned to exact versions.

Blueprint images are pinned by the blueprint (``latest`` is rejected); these are
the target's own. Bump them deliberately, in one place.
"""

from __future__ import annotations

_POSTGRES = {
    "14": "postgres:14.15-alpine3.21",
    "15": "postgres:15.10-alpine3.21",
    "16": "postgres:16.6-alpine3.21",
    "17": "postgres:17.2-alpine3.21",
}
# The alpine images' postgres user; the entrypoint supports running as it directly.
POSTGRES_USER = "70:70"

# Scheduled pg_dump with retention (SCHEDULE, BACKUP_KEEP_DAYS, *_FILE secrets). The project
# publishes only moving tags (``16-alpine``) plus, per build of its main branch, an immutable
# ``<major>-alpine-<commit>`` one: d257e5d ("Add pg version 18", 2025-09-26) built 13-18.
_POSTGRES_BACKUP_BUILD = "d257e5d"
_POSTGRES_BACKUP = "prodrigestivill/postgres-backup-local:{version}-alpine-" + _POSTGRES_BACKUP_BUILD
POSTGRES_BACKUP_USER = "70:70"

# Runs as uid 101 and listens above 1024: no capabilities needed.
NGINX = "nginxinc/nginx-unprivileged:1.27.3-alpine3.20"
NGINX_USER = "101:101"


def postgres(version: str) -> str:
    """The pinned Postgres image for a major version."""
    return _POSTGRES[version]


def postgres_backup(version: str) -> str:
    """The pinned backup image matching the server's major version (pg_dump must not be older)."""
    return _POSTGRES_BACKUP.format(version=version)
