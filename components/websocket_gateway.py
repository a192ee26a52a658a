"""WebSocketGateway: a service behind a WebSocket route (long idle timeout, affinity, draining).

Load balancers cut idle connections (ALB default 60 s, nginx 60 s), so the
route's idle timeout comes from the blueprint (default 3600 s) and must exceed
the application's ping interval (checked in the blueprint model).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.base import Component
from components.protocol import PublicEndpoint, RouteOptions, ServiceEndpoint, ServiceRequest, Target


@dataclass(frozen=True)
class WebSocketGatewayArgs:
    request: ServiceRequest
    route: RouteOptions  # kind "websocket"


class WebSocketGateway(Component):
    """``service`` + ``route(kind=websocket)``."""

    def __init__(
        self, name: str, args: WebSocketGatewayArgs, target: Target, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        request = args.request
        self.endpoint: ServiceEndpoint = target.service(request, parent=self)
        self.public: PublicEndpoint = target.route(args.route.bind(request.name, self.endpoint), parent=self)
        self.publish({"host": self.endpoint.host, "url": self.public.url})
