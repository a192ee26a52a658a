"""GrpcToolFleet: an HTTP API in front of N gRPC tool services (the BrahminyKite shape).

The tools come up first; the API then gets each tool's address as
``TOOL_<NAME>_ADDR`` (host:port). The API is public over HTTP; the tools are
public over gRPC only when asked (``public_grpc``), through an HTTP/2 route
with grpc.health.v1 checks where the target's edge supports them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi

from components.base import Component
from components.protocol import PublicEndpoint, RouteOptions, ServiceEndpoint, ServiceRequest, Target


def tool_env_name(tool: str) -> str:
    """The API's environment variable that holds a tool's address."""
    return "TOOL_" + tool.upper().replace("-", "_") + "_ADDR"


@dataclass(frozen=True)
class GrpcToolFleetArgs:
    api: ServiceRequest
    api_route: RouteOptions
    tools: dict[str, ServiceRequest]
    public_grpc: bool = False


class GrpcToolFleet(Component):
    """``service`` for the API + one ``service`` per tool + ``route(http)`` (+ ``route(grpc)``)."""

    def __init__(
        self, name: str, args: GrpcToolFleetArgs, target: Target, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        api, api_route, tools, public_grpc = args.api, args.api_route, args.tools, args.public_grpc
        self.tools: dict[str, ServiceEndpoint] = {}
        self.tool_routes: dict[str, PublicEndpoint] = {}
        for tool_name, request in tools.items():
            endpoint = target.service(request, parent=self)
            self.tools[tool_name] = endpoint
            if public_grpc:
                grpc_route = RouteOptions(kind="grpc", port="grpc")
                self.tool_routes[tool_name] = target.route(grpc_route.bind(request.name, endpoint), parent=self)

        wired_env = dict(api.env)
        for tool_name, endpoint in self.tools.items():
            wired_env[tool_env_name(tool_name)] = endpoint.address("grpc")
        tool_resources = tuple(r for e in self.tools.values() for r in e.resources)
        tool_peers = tuple(e.peer() for e in self.tools.values())
        api = replace(api, env=wired_env, peers=api.peers + tool_peers, depends_on=api.depends_on + tool_resources)
        self.api: ServiceEndpoint = target.service(api, parent=self)
        self.public: PublicEndpoint = target.route(api_route.bind(api.name, self.api), parent=self)
        self.publish(
            {
                "url": self.public.url,
                "api_host": self.api.host,
                "tool_addresses": pulumi.Output.all(**{n: e.address("grpc") for n, e in self.tools.items()}),
            }
        )
