"""Service: a plain long-running container workload, optionally with a public route."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.base import Component
from components.protocol import PublicEndpoint, RouteOptions, ServiceEndpoint, ServiceRequest, Target


@dataclass(frozen=True)
class ServiceArgs:
    request: ServiceRequest
    route: RouteOptions | None = None


class Service(Component):
    """A workload from a blueprint's ``services`` section."""

    def __init__(
        self, name: str, args: ServiceArgs, target: Target, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        request, route = args.request, args.route
        self.endpoint: ServiceEndpoint = target.service(request, parent=self)
        self.public: PublicEndpoint | None = None
        outputs: dict[str, object] = {"host": self.endpoint.host}
        if route is not None:
            self.public = target.route(route.bind(request.name, self.endpoint), parent=self)
            outputs["url"] = self.public.url
        self.publish(outputs)
