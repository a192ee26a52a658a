"""Parsing of human sizes used in blueprints: memory (``512Mi``, ``4GB``) and CPU (``500m``, ``0.5``).

Kubernetes-style suffixes (Ki, Mi, Gi, Ti) and the seeds' ones (K, M, G, T with
or without a trailing B) are accepted. Like Docker's ``--memory 4g``, both mean
powers of 1024: the seeds say "64GB RAM" for a 64 GiB machine, and reading it as
decimal would silently lose 7 % of every pool. Values are normalised to MiB so
every target sees one unit.
"""

from __future__ import annotations

import math
import re

_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|[kmgt]i?b?|B|b)?\s*$")
_BINARY = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}

MEMORY_FORMAT = "a size such as 512Mi, 4Gi, 2GB or a number of MiB"
CPU_FORMAT = "a number of cores such as 0.5 or 2, or millicores such as 500m"


def parse_memory_mib(value: object) -> int:
    """Return ``value`` in MiB (rounded up). Raises ValueError naming the accepted format."""
    if isinstance(value, bool):
        raise ValueError(MEMORY_FORMAT)
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value <= 0:
            raise ValueError(MEMORY_FORMAT)
        return int(-(-value // 1))
    if not isinstance(value, str):
        raise ValueError(MEMORY_FORMAT)
    match = _MEMORY.match(value)
    if not match:
        raise ValueError(MEMORY_FORMAT)
    number = float(match.group(1))
    suffix = (match.group(2) or "").lower().rstrip("b")
    if suffix == "":
        # A bare number means MiB; a bare "B" suffix means bytes.
        size_bytes = number if (match.group(2) or "").lower() == "b" else number * 1024**2
    else:
        size_bytes = number * _BINARY[suffix[0]]
    mib = -(-size_bytes // 1024**2)
    if mib <= 0:
        raise ValueError(MEMORY_FORMAT)
    return int(mib)


def parse_cpu(value: object) -> float:
    """Return ``value`` in cores. Raises ValueError naming the accepted format."""
    if isinstance(value, bool):
        raise ValueError(CPU_FORMAT)
    if isinstance(value, (int, float)):
        cores = float(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+m\s*", value):
        cores = int(value.strip()[:-1]) / 1000
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        cores = float(value)
    else:
        raise ValueError(CPU_FORMAT)
    if not math.isfinite(cores) or cores <= 0:
        raise ValueError(CPU_FORMAT)
    return cores


def format_mib(mib: float) -> str:
    """Render MiB as the shortest exact-ish human size (for messages and reports)."""
    if mib >= 1024 and mib % 1024 == 0:
        return f"{int(mib // 1024)}Gi"
    if mib >= 1024:
        return f"{mib / 1024:.1f}Gi"
    return f"{int(mib)}Mi"
