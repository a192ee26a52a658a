"""The Docker target: containers on one or more Docker engines (local socket or ``ssh://``).

Only ``target.py`` and what it imports load pulumi_docker; ``settings.py`` and
``render.py`` are SDK-free so the stack loader and the preview can use them.
"""
