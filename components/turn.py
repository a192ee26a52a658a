"""What the TURN relay (coturn) asks of its pool: one source for placement and the component.

Placement (``stacks/workloads.py``) reserves capacity and reports limits for the
relay; ``components/pixel_streaming.py`` puts the same numbers on its
``ServiceRequest``. Both import these constants, so the Pools report shows what
the targets actually set. coturn is light; relaying media is network-bound.
"""

from __future__ import annotations

from typing import Final

TURN_CPU: Final = 0.5  # cores requested
TURN_MEMORY_MIB: Final = 256  # MiB requested
TURN_LIMIT_CPU: Final = 1.0  # cores, the container's limit
TURN_LIMIT_MEMORY_MIB: Final = 512  # MiB, the container's limit
