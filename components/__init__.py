"""Target-agnostic ComponentResources: what a platform is made of.

Each component is written against :class:`components.protocol.Target` and never
imports a provider SDK; type tokens are ``gpu-platform:components:<Name>``.
"""

from components.gpu_node import GpuNode
from components.grpc_tool_fleet import GrpcToolFleet
from components.managed_postgres import ManagedPostgres
from components.pixel_streaming import PixelStreaming
from components.service import Service
from components.websocket_gateway import WebSocketGateway

__all__ = ["GpuNode", "GrpcToolFleet", "ManagedPostgres", "PixelStreaming", "Service", "WebSocketGateway"]
