"""Service: a plain long-running container workload, optionally with a public route."""

from __future__ import annotations

import pulumi

from components.base import Component
from components.protocol import PublicEndpoint, RouteOptions, ServiceEndpoint, ServiceRequest, Target


class Service(Component):
    """A workload from a blueprint's ``services`` section."""

    def __init__(
        self,
        request: ServiceRequest,
        target: Target,
        route: RouteOptions | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(request.name, opts)
        self.endpoint: ServiceEndpoint = target.service(request, parent=self)
        self.public: PublicEndpoint | None = None
        outputs: dict[str, object] = {"host": self.endpoint.host}
        if route is not None:
            self.public = target.route(route.bind(request.name, self.endpoint), parent=self)
            outputs["url"] = self.public.url
        self.publish(outputs)
