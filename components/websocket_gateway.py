"""WebSocketGateway: a service behind a WebSocket route (long idle timeout, affinity, draining).

Load balancers cut idle connections (ALB default 60 s, nginx 60 s), so the
route's idle timeout comes from the component (default 3600 s) and must exceed
the application's ping interval (checked in the blueprint model).
"""

from __future__ import annotations

import pulumi

from components.base import Component
from components.protocol import PublicEndpoint, RouteOptions, ServiceEndpoint, ServiceRequest, Target


class WebSocketGateway(Component):
    """``service`` + ``route(kind=websocket)``."""

    def __init__(
        self,
        request: ServiceRequest,
        target: Target,
        port: str,
        path: str = "/ws",
        idle_timeout_s: int = 3600,
        sticky: bool = True,
        drain_s: int = 30,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(request.name, opts)
        self.endpoint: ServiceEndpoint = target.service(request, parent=self)
        route = RouteOptions(
            kind="websocket", port=port, path=path, idle_timeout_s=idle_timeout_s, sticky=sticky, drain_s=drain_s
        )
        self.public: PublicEndpoint = target.route(route.bind(request.name, self.endpoint), parent=self)
        self.publish({"host": self.endpoint.host, "url": self.public.url})
