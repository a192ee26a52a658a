"""gpu-platform: deploy a blueprint onto the stack's target (see README.md)."""

from stacks.program import run

run()
