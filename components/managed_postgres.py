"""ManagedPostgres: a PostgreSQL database whose safety (backups, HA, protection) follows the profile."""

from __future__ import annotations

import pulumi

from components.base import Component
from components.protocol import DatabaseEndpoint, PostgresRequest, SecretRef, Target


class ManagedPostgres(Component):
    """``postgres``: a container with a volume, a CloudNativePG cluster or RDS, by target."""

    def __init__(
        self, name: str, args: PostgresRequest, target: Target, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        request = args
        self.database: DatabaseEndpoint = target.postgres(request, parent=self)
        self.publish(
            {
                "host": self.database.host,
                "port": pulumi.Output.from_input(self.database.port),
                "database_name": pulumi.Output.from_input(self.database.database),
                "username": pulumi.Output.from_input(self.database.username),
                "password": pulumi.Output.secret(
                    password.reference if isinstance(password := self.database.password, SecretRef) else password
                ),
            }
        )
