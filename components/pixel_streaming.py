"""PixelStreaming: Unreal streamers on a GPU pool, a signalling WebSocket gateway and a TURN relay.

WebRTC clients behind NAT need TURN, so coturn runs with a shared-secret
(``use-auth-secret``): the signalling server hands clients time-limited TURN
credentials derived from the same secret. The relay refuses private and
loopback peers so it cannot be used to reach the internal network. Epic removed
the matchmaker in UE 5.5, so it is optional.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi

from components.base import Component
from components.protocol import (
    SECRETS_DIR,
    HealthRequest,
    Peer,
    Pool,
    PortRequest,
    ServiceEndpoint,
    ServiceRequest,
    Target,
)
from components.websocket_gateway import WebSocketGateway

# Peers the relay must never reach (RFC 1918, loopback, link-local, CGNAT, multicast).
DENIED_PEERS = (
    "0.0.0.0-0.255.255.255",
    "10.0.0.0-10.255.255.255",
    "100.64.0.0-100.127.255.255",
    "127.0.0.0-127.255.255.255",
    "169.254.0.0-169.254.255.255",
    "172.16.0.0-172.31.255.255",
    "192.168.0.0-192.168.255.255",
    "224.0.0.0-239.255.255.255",
)


@dataclass(frozen=True)
class TurnOptions:
    """The coturn relay: image, ports and where it runs."""

    image: str
    listening_port: int
    relay_min_port: int
    relay_max_port: int
    pool: Pool
    realm: str
    public: bool


@dataclass(frozen=True)
class SignallingOptions:
    """The signalling server's WebSocket route."""

    port: str
    path: str
    idle_timeout_s: int
    sticky: bool
    drain_s: int


def turn_config(options: TurnOptions, secret: str) -> str:
    """coturn's turnserver.conf (contains the shared secret: deliver it as a secret file)."""
    lines = [
        f"listening-port={options.listening_port}",
        f"min-port={options.relay_min_port}",
        f"max-port={options.relay_max_port}",
        f"realm={options.realm}",
        "fingerprint",
        "use-auth-secret",
        f"static-auth-secret={secret}",
        "no-cli",
        "no-multicast-peers",
        "no-tlsv1",
        "no-tlsv1_1",
        "log-file=stdout",
        *[f"denied-peer-ip={peers}" for peers in DENIED_PEERS],
    ]
    return "\n".join(lines) + "\n"


class PixelStreaming(Component):
    """Streamer ``service`` on a GPU pool + signalling WebSocketGateway + TURN ``service``."""

    def __init__(
        self,
        name: str,
        streamer: ServiceRequest,
        signalling: ServiceRequest,
        signalling_route: SignallingOptions,
        turn: TurnOptions,
        target: Target,
        matchmaker: ServiceRequest | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, opts)
        secret = target.secret(self.child("turn-secret"), 48, parent=self)
        self.turn: ServiceEndpoint = target.service(_turn_request(self.child("turn"), turn, secret), parent=self)

        turn_url = pulumi.Output.format("turn:{0}:{1}", self.turn.host, turn.listening_port)
        signalling = replace(
            signalling,
            env={**signalling.env, "TURN_URL": turn_url},
            secrets={**signalling.secrets, "TURN_SHARED_SECRET": secret},
        )
        self.signalling = WebSocketGateway(
            signalling,
            target,
            port=signalling_route.port,
            path=signalling_route.path,
            idle_timeout_s=signalling_route.idle_timeout_s,
            sticky=signalling_route.sticky,
            drain_s=signalling_route.drain_s,
            opts=pulumi.ResourceOptions(parent=self),
        )
        signalling_port = signalling.ports[0].container_port if signalling.ports else 80
        signalling_url = pulumi.Output.format("ws://{0}:{1}", self.signalling.endpoint.host, signalling_port)
        turn_peer = Peer(self.turn.name, (turn.listening_port,), "udp")
        streamer = replace(
            streamer,
            env={**streamer.env, "SIGNALLING_URL": signalling_url},
            peers=(*streamer.peers, self.signalling.endpoint.peer(), turn_peer),
            depends_on=streamer.depends_on + self.signalling.endpoint.resources,
        )
        self.streamer: ServiceEndpoint = target.service(streamer, parent=self)
        self.matchmaker: ServiceEndpoint | None = None
        if matchmaker is not None:
            matchmaker = replace(
                matchmaker,
                env={**matchmaker.env, "SIGNALLING_URL": signalling_url},
                peers=(*matchmaker.peers, self.signalling.endpoint.peer()),
            )
            self.matchmaker = target.service(matchmaker, parent=self)
        self.publish(
            {
                "url": self.signalling.public.url,
                "turn_url": turn_url,
                "streamer_host": self.streamer.host,
            }
        )


def _turn_request(name: str, turn: TurnOptions, secret: pulumi.Output[str]) -> ServiceRequest:
    relay = tuple(
        PortRequest(f"relay-{port}", port, "udp", "udp", host_port=port, public=False)
        for port in range(turn.relay_min_port, turn.relay_max_port + 1)
    )
    listening = (
        PortRequest("turn", turn.listening_port, "udp", "udp", host_port=turn.listening_port),
        PortRequest("turn-tcp", turn.listening_port, "tcp", "tcp", host_port=turn.listening_port),
    )
    return ServiceRequest(
        name=name,
        image=turn.image,
        pool=turn.pool,
        ports=listening + relay,
        args=("-c", f"{SECRETS_DIR}/turnserver.conf"),
        secret_files={"turnserver.conf": secret.apply(lambda s: turn_config(turn, s))},
        cpu=0.5,
        memory_mib=256,
        limit_cpu=1.0,
        limit_memory_mib=512,
        health=HealthRequest(kind="tcp", port=turn.listening_port),
        user="65534:65534",
        public=turn.public,
    )
