"""The TURN relay (coturn) on a VM Scale Set behind a Standard Load Balancer: Container Apps ingress takes no UDP.

- One instance (the component asks for one replica): every relay port is a load-balancing rule to it, and
  a relay allocation lives on the instance that made it, so more instances would need instance public IPs.
- The coturn config holds the shared secret: it is stored in Key Vault and fetched at boot with the apps'
  user-assigned identity (IMDS token, Key Vault REST over the private endpoint), never put in custom data.
- The scale set's NSG admits only the listening port (UDP and TCP) and the relay range from the Internet.
- Password login is disabled; the SSH key is generated and kept (secret) in the state, for break-glass use.
"""

from __future__ import annotations

import base64

import pulumi
import pulumi_azure_native.compute as compute
import pulumi_azure_native.network as network
import pulumi_tls as tls

from components.protocol import ServiceEndpoint, ServiceRequest
from targets.azure.foundation import Foundation

VM_SIZE = "Standard_D2as_v5"
IMAGE: compute.ImageReferenceArgsDict = {
    "publisher": "Canonical",
    "offer": "ubuntu-24_04-lts",
    "sku": "server",
    "version": "latest",
}
ADMIN = "turnadmin"


def _cloud_init(
    image: str, secret_uris: dict[str, pulumi.Output[str]], client_id: pulumi.Output[str], args: list[str]
) -> pulumi.Output[str]:
    """cloud-init: Docker, the secret files from Key Vault through the identity, then coturn on the host network."""

    def render(values: list[str]) -> str:
        client, *uris = values
        # Key Vault REST: GET {secret URI}?api-version=7.4 answers {"value": ...} (six spaces: inside the YAML block).
        fetch = "\n".join(
            f"      curl -sf -H \"Authorization: Bearer $TOKEN\" '{uri}?api-version=7.4' | jq -r .value"
            f" > /run/secrets/{name}"
            for name, uri in zip(secret_uris, uris, strict=True)
        )
        token_url = (
            "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
            f"&resource=https%3A%2F%2Fvault.azure.net&client_id={client}"
        )
        script = f"""#cloud-config
package_update: true
packages: [docker.io, jq, curl]
write_files:
  - path: /usr/local/bin/turn-start
    permissions: "0700"
    content: |
      #!/bin/sh
      set -eu
      mkdir -p /run/secrets && chmod 700 /run/secrets
      TOKEN=$(curl -sf -H Metadata:true '{token_url}' | jq -r .access_token)
{fetch}
      exec docker run --rm --name turn --network host --user 65534:65534 --read-only \\
        -v /run/secrets:/run/secrets:ro {image} {" ".join(args)}
runcmd:
  - [sh, -c, "systemd-run --unit turn --property=Restart=always /usr/local/bin/turn-start"]
"""
        return base64.b64encode(script.encode()).decode()

    return pulumi.Output.all(client_id, *secret_uris.values()).apply(render)


def relay(request: ServiceRequest, f: Foundation, parent: pulumi.Resource) -> ServiceEndpoint:
    """Public IP, Standard Load Balancer with one rule per published port, NSG and the scale set."""
    name = request.name
    address = network.PublicIPAddress(
        f"{name}-ip",
        resource_group_name=f.group.name,
        sku={"name": "Standard"},
        public_ip_allocation_method="Static",
        tags=f.tags,
        opts=f.opts(parent),
    )
    lb_id = (
        f"/subscriptions/{f.settings.subscription_id}/resourceGroups/{f.prefix}"
        f"/providers/Microsoft.Network/loadBalancers/{f.prefix}-{name}"
    )
    balancer = _balancer(request, f, lb_id, address, parent)
    security = _security_group(request, f, parent)
    uris = {
        key: f.secret(f"{name}-{key}".replace(".", "-"), value, parent) for key, value in request.secret_files.items()
    }
    key = tls.PrivateKey(f"{name}-ssh", algorithm="ED25519", opts=pulumi.ResourceOptions(parent=parent))
    args = [*(request.command or ()), *(request.args or ())]
    profile = _vm_profile(
        name[:9],
        _cloud_init(request.image, uris, f.identity.client_id, args),
        key.public_key_openssh,
        security.id,
        f.subnets["turn"].id,
        f"{lb_id}/backendAddressPools/turn",
    )
    scale_set = compute.VirtualMachineScaleSet(
        f"{name}-vmss",
        resource_group_name=f.group.name,
        vm_scale_set_name=f"{f.prefix}-{name}",
        sku={"name": VM_SIZE, "tier": "Standard", "capacity": max(1, request.replicas)},
        identity={"type": compute.ResourceIdentityType.USER_ASSIGNED, "user_assigned_identities": [f.identity.id]},
        upgrade_policy={"mode": compute.UpgradeMode.AUTOMATIC},
        overprovision=False,
        virtual_machine_profile=profile,
        tags=f.tags,
        opts=f.opts(parent, depends_on=[security, balancer]),
    )
    return ServiceEndpoint(
        name=name,
        host=pulumi.Output.from_input(name),
        ports={p.name: p.container_port for p in request.ports},
        resources=(scale_set,),
        public_host=address.ip_address.apply(lambda ip: ip or ""),
    )


def _balancer(
    request: ServiceRequest, f: Foundation, lb_id: str, address: network.PublicIPAddress, parent: pulumi.Resource
) -> network.LoadBalancer:
    """A Standard Load Balancer (UDP needs Standard or Basic; Basic is retired) with a rule per public port: the
    listening port. Relay ports are not published: the relayed address coturn reports is the instance's private
    one, which only the streamer (in the VNet) sends to; browsers speak to the listening port only."""
    listening = next(p.container_port for p in request.ports if p.protocol == "tcp")
    rules: list[network.LoadBalancingRuleArgsDict] = [
        {
            "name": f"{p.name}-{p.protocol}",
            "protocol": network.TransportProtocol(p.protocol.capitalize()),
            "frontend_port": p.container_port,
            "backend_port": p.container_port,
            "frontend_ip_configuration": {"id": f"{lb_id}/frontendIPConfigurations/turn"},
            "backend_address_pool": {"id": f"{lb_id}/backendAddressPools/turn"},
            "probe": {"id": f"{lb_id}/probes/turn"},
            "disable_outbound_snat": True,
            "idle_timeout_in_minutes": 30 if p.protocol == "tcp" else None,
        }
        for p in request.ports
        if p.public
    ]
    return network.LoadBalancer(
        f"{request.name}-lb",
        resource_group_name=f.group.name,
        load_balancer_name=lb_id.rsplit("/", 1)[-1],
        sku={"name": "Standard"},
        frontend_ip_configurations=[{"name": "turn", "public_ip_address": {"id": address.id}}],
        backend_address_pools=[{"name": "turn"}],
        probes=[
            {"name": "turn", "protocol": "Tcp", "port": listening, "interval_in_seconds": 15, "number_of_probes": 2}
        ],
        load_balancing_rules=rules,
        tags=f.tags,
        opts=f.opts(parent),
    )


def _security_group(request: ServiceRequest, f: Foundation, parent: pulumi.Resource) -> network.NetworkSecurityGroup:
    """Inbound from the Internet on the public ports only, the relay range from the apps subnet only (the NSG's
    default rules deny the rest from the Internet; its AllowVnetInBound rule is overridden by the last rule)."""
    apps = f.cidrs["apps"]
    rules: list[network.SecurityRuleArgsDict] = [
        {
            "name": f"allow-{p.name}-{p.protocol}",
            "priority": 100 + index,
            "direction": "Inbound",
            "access": "Allow",
            "protocol": p.protocol.capitalize(),
            "source_address_prefix": "Internet" if p.public else apps,
            "source_port_range": "*",
            "destination_address_prefix": "*",
            "destination_port_range": str(p.container_port),
        }
        for index, p in enumerate(request.ports)
    ]
    rules.append(
        {
            "name": "deny-rest-of-vnet",
            "priority": 4000,
            "direction": "Inbound",
            "access": "Deny",
            "protocol": "*",
            "source_address_prefix": "VirtualNetwork",
            "source_port_range": "*",
            "destination_address_prefix": "*",
            "destination_port_range": "*",
        }
    )
    return network.NetworkSecurityGroup(
        f"{request.name}-nsg",
        resource_group_name=f.group.name,
        security_rules=rules,
        tags=f.tags,
        opts=f.opts(parent),
    )


def _vm_profile(
    prefix: str,
    custom_data: pulumi.Output[str],
    public_key: pulumi.Output[str],
    security_group: pulumi.Output[str],
    subnet: pulumi.Output[str],
    backend_pool: str,
) -> compute.VirtualMachineScaleSetVMProfileArgsDict:
    """Ubuntu with no password login, encryption at host, one NIC in the TURN subnet behind the balancer."""
    return {
        "os_profile": {
            "computer_name_prefix": prefix,
            "admin_username": ADMIN,
            "custom_data": custom_data,
            "linux_configuration": {
                "disable_password_authentication": True,
                "ssh": {"public_keys": [{"path": f"/home/{ADMIN}/.ssh/authorized_keys", "key_data": public_key}]},
            },
        },
        "storage_profile": {
            "image_reference": IMAGE,
            "os_disk": {
                "create_option": compute.DiskCreateOptionTypes.FROM_IMAGE,
                "caching": compute.CachingTypes.READ_WRITE,
                "managed_disk": {"storage_account_type": compute.StorageAccountTypes.PREMIUM_LRS},
            },
        },
        "security_profile": {"encryption_at_host": True},
        "network_profile": {
            "network_interface_configurations": [
                {
                    "name": "turn",
                    "primary": True,
                    "network_security_group": {"id": security_group},
                    "ip_configurations": [
                        {
                            "name": "turn",
                            "primary": True,
                            "subnet": {"id": subnet},
                            "load_balancer_backend_address_pools": [{"id": backend_pool}],
                        }
                    ],
                }
            ]
        },
    }
