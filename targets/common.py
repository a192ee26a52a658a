"""Small pieces every target shares (kept here so targets never copy each other)."""

from __future__ import annotations

import pulumi
import pulumi_random as random


def random_secret(name: str, length: int, parent: pulumi.Resource) -> pulumi.Output[str]:
    """A generated secret kept in the Pulumi state (encrypted) and marked secret everywhere it flows.

    No special characters: the value goes into URLs, config files and pgpass
    lines without escaping.
    """
    password = random.RandomPassword(name, length=length, special=False, opts=pulumi.ResourceOptions(parent=parent))
    return pulumi.Output.secret(password.result)
