"""The AWS target: ECS on Fargate and on G5 capacity, an ALB for HTTP/WebSocket/gRPC, RDS PostgreSQL.

Only ``target.py`` and the modules it imports load pulumi_aws; ``settings.py``,
``fargate.py`` and ``render.py`` are SDK-free.
"""
