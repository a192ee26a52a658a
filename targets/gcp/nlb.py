"""A regional external passthrough Network Load Balancer for a public VM workload (the TURN relay).

Cloud Run and the Application Load Balancer take no UDP; a passthrough NLB forwards UDP and TCP to the VM
unchanged, client addresses included (load-balancing/docs/network/networklb-backend-service). Only the
workload's public ports are forwarded (TURN's listening port, not its relay range, which only the streamer in
the subnet uses); a forwarding rule per protocol on one address, a backend service per protocol on one
instance group, a TCP health check. A passthrough balancer keeps the client's address, so the VM's firewall
must admit the internet on exactly those ports, plus Google's health checkers
(load-balancing/docs/health-check-concepts#ip-ranges).
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from targets.gcp import vm as vms
from targets.gcp.network import Network

HEALTH_CHECKERS = ["35.191.0.0/16", "209.85.152.0/22", "209.85.204.0/22"]
WORLD = ["0.0.0.0/0"]


def _health_port(machine: vms.Machine) -> int:
    health = machine.request.health
    if health is not None and health.kind == "tcp" and health.port:
        return health.port
    return next(p.container_port for p in machine.request.ports if p.public and p.protocol == "tcp")


def passthrough(machine: vms.Machine, network: Network, parent: pulumi.Resource) -> gcp.compute.Address:
    """The address, group, health check, backend services, forwarding rules and firewall rules."""
    request = machine.request
    name, region = request.name, network.settings.region
    public = vms.by_protocol([p for p in request.ports if p.public])
    opts = network.opts(parent)
    address = gcp.compute.Address(f"{name}-address", name=f"{network.prefix}-{name}"[:63], region=region,
                                  address_type="EXTERNAL", network_tier="PREMIUM", labels=network.labels(),
                                  opts=opts)  # fmt: skip
    group = gcp.compute.InstanceGroup(f"{name}-nlb-group", name=f"{network.prefix}-{name}-nlb"[:63],
                                      zone=machine.zone, network=network.network.id,
                                      instances=[machine.instance.self_link], opts=opts)  # fmt: skip
    port = _health_port(machine)
    check = gcp.compute.RegionHealthCheck(f"{name}-nlb-hc", name=f"{network.prefix}-{name}-nlb"[:63], region=region,
                                          tcp_health_check={"port": port}, check_interval_sec=10, timeout_sec=5,
                                          opts=opts)  # fmt: skip
    for protocol, ports in public.items():
        backend = gcp.compute.RegionBackendService(
            f"{name}-{protocol}",
            name=f"{network.prefix}-{name}-{protocol}"[:63],
            region=region,
            load_balancing_scheme="EXTERNAL",
            protocol=protocol.upper(),
            backends=[{"group": group.self_link, "balancing_mode": "CONNECTION"}],
            health_checks=check.id,
            log_config={"enable": True, "sample_rate": 1.0},
            opts=opts,
        )
        gcp.compute.ForwardingRule(
            f"{name}-{protocol}",
            name=f"{network.prefix}-{name}-{protocol}"[:63],
            region=region,
            load_balancing_scheme="EXTERNAL",
            ip_protocol=protocol.upper(),
            ports=[str(p) for p in ports],
            ip_address=address.address,
            backend_service=backend.id,
            labels=network.labels(workload=name),
            opts=opts,
        )
    vms.allow(f"{name}-from-world", WORLD, public, machine.account, network, parent)
    vms.allow(f"{name}-from-health-checks", HEALTH_CHECKERS, {"tcp": [port]}, machine.account, network, parent)
    return address
