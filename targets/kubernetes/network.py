"""NetworkPolicies: default-deny, DNS, and exactly the flows the wiring declares.

Every workload registers its pod selector and the peers it connects to; the
Gateway's data plane and public (LoadBalancer) ports are recorded as they are
created. :func:`policies` then writes one default-deny policy, one DNS allow,
and per workload one policy whose ingress lists who uses it and whose egress
lists what it uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi_kubernetes as k8s

from components.protocol import Peer
from targets.kubernetes.cluster import Cluster
from targets.kubernetes.pods import labels, manifest
from targets.kubernetes.settings import KubernetesSettings


@dataclass
class Traffic:
    """Who talks to whom, gathered while the workloads are built."""

    selectors: dict[str, dict[str, str]] = field(default_factory=dict)
    peers: dict[str, list[Peer]] = field(default_factory=dict)
    from_gateway: dict[str, set[int]] = field(default_factory=dict)
    public: dict[str, list[Peer]] = field(default_factory=dict)
    ingress_rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    egress_rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # cert-manager solves ACME HTTP-01 challenges with pods in this namespace (a ClusterIssuer's certificate).
    acme_solvers: bool = False
    _consumers: dict[str, list[tuple[str, Peer]]] | None = field(default=None, init=False, repr=False, compare=False)

    def add_workload(
        self, name: str, selector: dict[str, str], peers: tuple[Peer, ...], public_ports: tuple[Peer, ...] = ()
    ) -> None:
        self._consumers = None  # a new workload changes who uses whom
        self.selectors[name] = selector
        self.peers.setdefault(name, []).extend(peers)
        if public_ports:
            self.public.setdefault(name, []).extend(public_ports)

    def extra_ingress(self, name: str, rule: dict[str, Any]) -> None:
        """A rule a workload needs beyond the wiring (e.g. from an operator's namespace)."""
        self.ingress_rules.setdefault(name, []).append(rule)

    def extra_egress(self, name: str, rule: dict[str, Any]) -> None:
        self.egress_rules.setdefault(name, []).append(rule)

    def allow_from_gateway(self, name: str, port: int) -> None:
        self.from_gateway.setdefault(name, set()).add(port)

    def consumers(self, name: str) -> list[tuple[str, Peer]]:
        """(consumer, the peer entry naming ``name``) for everything that uses ``name``.

        Read once every workload is added: the index is built on the first call, so the policies of
        N workloads cost O(N + peers), not O(N x peers).
        """
        if self._consumers is None:
            self._consumers = {}
            for consumer, peers in self.peers.items():
                if consumer in self.selectors:
                    for peer in peers:
                        self._consumers.setdefault(peer.name, []).append((consumer, peer))
        return self._consumers.get(name, [])


def _ports(peer: Peer) -> list[dict[str, Any]]:
    ports = [{"port": port, "protocol": peer.protocol.upper()} for port in peer.ports]
    return ports + [{"port": low, "endPort": high, "protocol": peer.protocol.upper()} for low, high in peer.ranges]


# cert-manager's HTTP-01 solver pods (pkg/issuer/acme/http/pod.go): this label, serving on this port.
ACME_SOLVER_LABEL = "acme.cert-manager.io/http01-solver"
ACME_SOLVER_PORT = 8089


def _gateway_peer(settings: KubernetesSettings) -> dict[str, Any]:
    """The Gateway implementation's data plane, by the namespace its proxies run in."""
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": settings.gateway_namespace}}}


def _acme_solvers(settings: KubernetesSettings, cluster: Cluster) -> None:
    """Let the Gateway reach cert-manager's HTTP-01 solver pods, and nothing else reach or leave them.

    A ClusterIssuer's ACME HTTP-01 challenge (``gatewayHTTPRoute`` solver) runs a pod
    labelled ``acme.cert-manager.io/http01-solver: "true"`` in the Certificate's namespace
    (this one) behind an HTTPRoute on our Gateway; under default-deny the Gateway's proxies
    could not reach it and the certificate would never issue. The solver only answers, so
    it gets no egress. With a DNS-01 issuer no such pod exists and the policy selects nothing.
    """
    ns = cluster.namespace_name
    k8s.networking.v1.NetworkPolicy(
        "acme-http01-solver",
        metadata=manifest(
            {"name": "acme-http01-solver", "namespace": ns, "labels": labels(cluster.stack, "acme-http01-solver")}
        ),
        spec=manifest(
            {
                "podSelector": {"matchLabels": {ACME_SOLVER_LABEL: "true"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    {"from": [_gateway_peer(settings)], "ports": [{"port": ACME_SOLVER_PORT, "protocol": "TCP"}]}
                ],
                "egress": [],
            }
        ),
        opts=cluster.opts(cluster),
    )


def policies(traffic: Traffic, settings: KubernetesSettings, cluster: Cluster) -> None:
    ns = cluster.namespace_name
    stack_labels = labels(cluster.stack, "network")
    opts = cluster.opts(cluster)
    k8s.networking.v1.NetworkPolicy(
        "default-deny",
        metadata=manifest({"name": "default-deny", "namespace": ns, "labels": stack_labels}),
        spec=manifest({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        opts=opts,
    )
    egress: list[dict[str, Any]] = [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        }
    ]
    if settings.egress_cidrs:
        egress.append({"to": [{"ipBlock": {"cidr": cidr}} for cidr in settings.egress_cidrs]})
    k8s.networking.v1.NetworkPolicy(
        "allow-dns",
        metadata=manifest({"name": "allow-dns", "namespace": ns, "labels": stack_labels}),
        spec=manifest({"podSelector": {}, "policyTypes": ["Egress"], "egress": egress}),
        opts=opts,
    )
    if traffic.acme_solvers:
        _acme_solvers(settings, cluster)
    for name, selector in sorted(traffic.selectors.items()):
        ingress: list[dict[str, Any]] = [
            {"from": [{"podSelector": {"matchLabels": traffic.selectors[consumer]}}], "ports": _ports(peer)}
            for consumer, peer in traffic.consumers(name)
        ]
        gateway_ports = sorted(traffic.from_gateway.get(name, set()))
        if gateway_ports:
            ingress.append(
                {"from": [_gateway_peer(settings)], "ports": [{"port": p, "protocol": "TCP"} for p in gateway_ports]}
            )
        for peer in traffic.public.get(name, []):
            ingress.append({"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": _ports(peer)})
        egress_rules = [
            {"to": [{"podSelector": {"matchLabels": traffic.selectors[peer.name]}}], "ports": _ports(peer)}
            for peer in traffic.peers.get(name, [])
            if peer.name in traffic.selectors
        ]
        # UDP peers (a TURN relay) answer on the consumer's ephemeral ports: allow the way back.
        for consumer, peer in traffic.consumers(name):
            if peer.protocol == "udp":
                egress_rules.append(
                    {
                        "to": [{"podSelector": {"matchLabels": traffic.selectors[consumer]}}],
                        "ports": [{"protocol": "UDP"}],
                    }
                )
        for peer in traffic.peers.get(name, []):
            if peer.protocol == "udp" and peer.name in traffic.selectors:
                ingress.append(
                    {
                        "from": [{"podSelector": {"matchLabels": traffic.selectors[peer.name]}}],
                        "ports": [{"protocol": "UDP"}],
                    }
                )
        ingress += traffic.ingress_rules.get(name, [])
        egress_rules += traffic.egress_rules.get(name, [])
        spec: dict[str, Any] = {"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress", "Egress"]}
        spec["ingress"] = ingress
        spec["egress"] = egress_rules
        k8s.networking.v1.NetworkPolicy(
            f"{name}-traffic",
            metadata=manifest({"name": f"{name}-traffic", "namespace": ns, "labels": labels(cluster.stack, name)}),
            spec=manifest(spec),
            opts=opts,
        )
