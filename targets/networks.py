"""Network checks the cloud targets' settings share (SDK-free: the stack loader validates with them)."""

from __future__ import annotations

import ipaddress

PRIVATE_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def private_ipv4_network(value: str, prefixes: tuple[int, int], example: str, why: str) -> str:
    """``value`` when it is an RFC 1918 IPv4 network address (no host bits) from /prefixes[0] to /prefixes[1];
    else a ValueError saying so, with an example and why the range is bounded."""
    try:
        network = ipaddress.IPv4Network(value)
    except ValueError:
        network = None
    if (
        network is None
        or not (prefixes[0] <= network.prefixlen <= prefixes[1])
        or not any(network.subnet_of(block) for block in PRIVATE_RANGES)
    ):
        raise ValueError(
            f"a private (RFC 1918) IPv4 network address from /{prefixes[0]} to /{prefixes[1]} "
            f"with no host bits set, e.g. {example} ({why})"
        )
    return value
