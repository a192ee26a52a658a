"""PixelStreaming: Unreal streamers on a GPU pool, a signalling WebSocket gateway and a TURN relay.

WebRTC clients behind NAT need TURN, so coturn runs with a shared-secret
(``use-auth-secret``): the signalling server hands clients time-limited TURN
credentials derived from the same secret, and the TURN address it hands out is
the relay's *public* one (a load balancer's name, the Docker host's address):
browsers cannot resolve internal names. The relay refuses private, loopback and
link-local peers so it cannot be used to reach the internal network, except the
ranges the streamer takes its addresses from (``allowed-peer-ip``, which coturn
lets win over ``denied-peer-ip``): the relay must reach the streamer. Epic
removed the matchmaker in UE 5.5, so it is optional.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pulumi

from components.base import Component
from components.protocol import (
    SECRETS_DIR,
    HealthRequest,
    Peer,
    Pool,
    PortRequest,
    RouteOptions,
    ServiceEndpoint,
    ServiceRequest,
    Target,
)
from components.turn import TURN_CPU, TURN_LIMIT_CPU, TURN_LIMIT_MEMORY_MIB, TURN_MEMORY_MIB
from components.websocket_gateway import WebSocketGateway, WebSocketGatewayArgs

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
class PixelStreamingArgs:
    streamer: ServiceRequest
    signalling: ServiceRequest
    signalling_route: RouteOptions  # the signalling server's WebSocket route
    turn: TurnOptions
    matchmaker: ServiceRequest | None = None


def peer_range(cidr: str) -> str:
    """A workload CIDR as a coturn address range, without its network, first (gateway) and broadcast addresses.

    The first host of a Docker bridge network is the host's gateway, and of an AWS subnet
    the VPC router: a relay allowed to reach them would reach the host or the VPC's services.
    """
    network = ipaddress.ip_network(cidr, strict=False)
    if network.num_addresses < 4:
        raise ValueError(f"workload range {cidr} is too small to hold a workload besides its gateway")
    first = network.network_address + 2
    last = network.broadcast_address - 1 if network.version == 4 else network.broadcast_address
    return f"{first}-{last}"


def turn_config(options: TurnOptions, secret: str, peer_ranges: Sequence[str] = ()) -> str:
    """coturn's turnserver.conf (contains the shared secret: deliver it as a secret file).

    ``peer_ranges`` are the streamer's workload CIDRs: allowed although private.
    """
    lines = [
        f"listening-port={options.listening_port}",
        f"min-port={options.relay_min_port}",
        f"max-port={options.relay_max_port}",
        f"realm={options.realm}",
        "fingerprint",
        "use-auth-secret",
        f"static-auth-secret={secret}",
        "no-cli",
        # WebRTC allocates UDP relays only; RFC 6062 TCP relaying would let any browser with
        # credentials open TCP connections into the allowed workload ranges (databases, APIs).
        "no-tcp-relay",
        "no-multicast-peers",
        "no-tlsv1",
        "no-tlsv1_1",
        "log-file=stdout",
        *[f"denied-peer-ip={peers}" for peers in DENIED_PEERS],
        *[f"allowed-peer-ip={peer_range(cidr)}" for cidr in peer_ranges],
    ]
    return "\n".join(lines) + "\n"


class PixelStreaming(Component):
    """Streamer ``service`` on a GPU pool + signalling WebSocketGateway + TURN ``service``."""

    def __init__(
        self, name: str, args: PixelStreamingArgs, target: Target, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        streamer, signalling, turn, matchmaker = args.streamer, args.signalling, args.turn, args.matchmaker
        secret = target.secret(self.child("turn-secret"), 48, parent=self)
        peer_ranges = target.workload_ranges(streamer.pool)
        self.turn: ServiceEndpoint = target.service(
            _turn_request(self.child("turn"), turn, secret, peer_ranges), parent=self
        )
        # Browsers get this address from signalling: where the relay is reachable from outside.
        turn_host = self.turn.public_host if self.turn.public_host is not None else self.turn.host
        turn_url = pulumi.Output.format("turn:{0}:{1}", turn_host, turn.listening_port)
        signalling = replace(
            signalling,
            env={**signalling.env, "TURN_URL": turn_url},
            secrets={**signalling.secrets, "TURN_SHARED_SECRET": secret},
        )
        self.signalling = WebSocketGateway(
            signalling.name,
            WebSocketGatewayArgs(signalling, args.signalling_route),
            target,
            opts=pulumi.ResourceOptions(parent=self),
        )
        signalling_port = signalling.ports[0].container_port if signalling.ports else 80
        signalling_url = pulumi.Output.format("ws://{0}:{1}", self.signalling.endpoint.host, signalling_port)
        # The streamer talks to TURN on its listening port and sends media to relayed addresses
        # (the relay range); the relay answers on the streamer's ephemeral ports.
        relay = ((turn.relay_min_port, turn.relay_max_port),)
        turn_peer = Peer(self.turn.name, (turn.listening_port,), "udp", ranges=relay)
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


def _turn_request(
    name: str, turn: TurnOptions, secret: pulumi.Output[str], peer_ranges: pulumi.Output[Sequence[str]]
) -> ServiceRequest:
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
        secret_files={
            "turnserver.conf": pulumi.Output.all(secret, peer_ranges).apply(
                lambda values: turn_config(turn, values[0], values[1])
            )
        },
        cpu=TURN_CPU,
        memory_mib=TURN_MEMORY_MIB,
        limit_cpu=TURN_LIMIT_CPU,
        limit_memory_mib=TURN_LIMIT_MEMORY_MIB,
        health=HealthRequest(kind="tcp", port=turn.listening_port),
        user="65534:65534",
        public=turn.public,
    )
