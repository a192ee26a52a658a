"""Each component on the Azure target, read from what pulumi-azure-native would receive.

The reference blueprint (every component) runs on ``Pulumi.azure-prod.yaml`` as shipped and once more with the
dev profile, so each profile-driven value is seen on both sides. Expected values come from the reference
blueprint's YAML, the profiles table (stacks/profiles.py) and Azure's documented limits; values Azure computes
(ids, FQDNs) are the mocks' and are only compared with each other.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from preview.mocks import Recorded
from preview.runner import PreviewResult, run_program
from targets.azure.render import render
from tests.conftest import ROOT, cached_run, reference_blueprint, shipped, stack_config
from tests.preview_probe import modules_after_preview
from tests.tokens import (
    AZURE_APP_CONTAINER_APP,
    AZURE_APP_MANAGED_ENVIRONMENT,
    AZURE_AUTHORIZATION_LOCK,
    AZURE_AUTHORIZATION_ROLE_ASSIGNMENT,
    AZURE_CDN_CUSTOM_DOMAIN,
    AZURE_CDN_ENDPOINT,
    AZURE_CDN_ORIGIN,
    AZURE_CDN_ORIGIN_GROUP,
    AZURE_CDN_PROFILE,
    AZURE_CDN_ROUTE,
    AZURE_CDN_SECURITY_POLICY,
    AZURE_COMPUTE_SCALE_SET,
    AZURE_FRONTDOOR_POLICY,
    AZURE_KEYVAULT_SECRET,
    AZURE_KEYVAULT_VAULT,
    AZURE_MONITOR_DIAGNOSTIC_SETTING,
    AZURE_NETWORK_LOAD_BALANCER,
    AZURE_NETWORK_NSG,
    AZURE_NETWORK_PRIVATE_ENDPOINT,
    AZURE_NETWORK_SUBNET,
    AZURE_NETWORK_VNET,
    AZURE_POSTGRES_CONFIGURATION,
    AZURE_POSTGRES_DATABASE,
    AZURE_POSTGRES_SERVER,
    AZURE_STORAGE_ACCOUNT,
    AZURE_STORAGE_FILE_SHARE,
)

STACK = "azure-prod"
SHIPPED = yaml.safe_load((ROOT / f"Pulumi.{STACK}.yaml").read_text())["config"]
VNET = SHIPPED["gpu-platform:azure"]["vnet_cidr"]
DOMAIN = SHIPPED["gpu-platform:domain"]
BP = reference_blueprint()
# ARM types without a tags property (their API takes none), so the only untagged Azure resources.
UNTAGGED = {
    AZURE_NETWORK_SUBNET,
    AZURE_POSTGRES_CONFIGURATION,
    "azure-native:dbforpostgresql:Database",
    AZURE_AUTHORIZATION_ROLE_ASSIGNMENT,
    AZURE_AUTHORIZATION_LOCK,
    AZURE_MONITOR_DIAGNOSTIC_SETTING,
    "azure-native:network:PrivateDnsZoneGroup",
    "azure-native:app:ManagedEnvironmentsStorage",
    AZURE_STORAGE_FILE_SHARE,
    AZURE_CDN_ORIGIN_GROUP,
    AZURE_CDN_ORIGIN,
    AZURE_CDN_ROUTE,
    AZURE_CDN_CUSTOM_DOMAIN,
    AZURE_CDN_SECURITY_POLICY,
}


@pytest.fixture(scope="module")
def prod() -> PreviewResult:
    return shipped(STACK)


@pytest.fixture(scope="module")
def dev() -> PreviewResult:
    return run_program(STACK, stack_config(STACK, environment="dev"))


def apps(result: PreviewResult) -> dict[str, dict[str, Any]]:
    return {r.inputs["containerAppName"]: r.inputs for r in result.of_type(AZURE_APP_CONTAINER_APP)}


def only(result: PreviewResult, token: str) -> Recorded:
    (found,) = result.of_type(token)
    return found


# -- foundation ------------------------------------------------------------------------------------


def test_subnets_are_the_first_four_eighths_of_the_vnet(prod: PreviewResult) -> None:
    assert only(prod, AZURE_NETWORK_VNET).inputs["addressSpace"]["addressPrefixes"] == [VNET]
    eighths = [str(n) for n in ipaddress.IPv4Network(VNET).subnets(prefixlen_diff=3)]
    subnets = {r.inputs["subnetName"]: r.inputs for r in prod.of_type(AZURE_NETWORK_SUBNET)}
    assert {name: s["addressPrefix"] for name, s in subnets.items()} == dict(
        zip(("apps", "postgres", "endpoints", "turn"), eighths, strict=False)
    )
    assert [d["serviceName"] for d in subnets["apps"]["delegations"]] == ["Microsoft.App/environments"]
    assert [d["serviceName"] for d in subnets["postgres"]["delegations"]] == [
        "Microsoft.DBforPostgreSQL/flexibleServers"
    ]
    assert all(s["defaultOutboundAccess"] is False for s in subnets.values())
    assert {n for n, s in subnets.items() if s.get("natGateway")} == {"apps", "turn"}


def test_key_vault_is_private_rbac_and_purge_protected(prod: PreviewResult) -> None:
    vault = only(prod, AZURE_KEYVAULT_VAULT)
    properties = vault.inputs["properties"]
    assert properties["enableRbacAuthorization"] is True
    assert properties["enablePurgeProtection"] is True
    assert properties["enableSoftDelete"] is True
    assert properties["publicNetworkAccess"] == "Disabled"
    assert properties["networkAcls"]["defaultAction"] == "Deny"
    assert vault.protect
    assert vault.retain_on_delete
    (endpoint,) = prod.of_type(AZURE_NETWORK_PRIVATE_ENDPOINT)
    assert endpoint.inputs["privateLinkServiceConnections"][0]["groupIds"] == ["vault"]


def test_apps_identity_reads_secrets_of_this_vault_only(prod: PreviewResult) -> None:
    (grant,) = prod.of_type(AZURE_AUTHORIZATION_ROLE_ASSIGNMENT)
    # Key Vault Secrets User (built-in role id), scoped to the vault, for the identity the apps use
    assert grant.inputs["roleDefinitionId"].endswith("/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6")
    assert grant.inputs["scope"].startswith("azure-vault-")
    assert grant.inputs["principalType"] == "ServicePrincipal"


def test_every_taggable_resource_carries_the_stack_tags(prod: PreviewResult) -> None:
    azure = [r for r in prod.resources if r.type.startswith("azure-native:") and r.custom]
    missing = [
        r.name for r in azure if r.type not in UNTAGGED and r.inputs.get("tags", {}).get("gpu-platform:stack") != STACK
    ]
    assert missing == []
    assert {r.inputs["tags"]["gpu-platform:environment"] for r in azure if r.type not in UNTAGGED} == {"prod"}


# -- the environment and its apps ----------------------------------------------------------------------


def test_environment_is_vnet_bound_and_private(prod: PreviewResult, dev: PreviewResult) -> None:
    environment = only(prod, AZURE_APP_MANAGED_ENVIRONMENT).inputs
    assert environment["publicNetworkAccess"] == "Disabled"
    assert environment["vnetConfiguration"]["infrastructureSubnetId"].startswith("azure-apps-subnet-")
    assert environment["appLogsConfiguration"] == {"destination": "azure-monitor"}
    assert environment["peerTrafficConfiguration"]["encryption"]["enabled"] is True
    # the prod profile is multi-AZ, dev single
    assert environment["zoneRedundant"] is True
    assert only(dev, AZURE_APP_MANAGED_ENVIRONMENT).inputs["zoneRedundant"] is False
    uris = {r.inputs["resourceUri"] for r in prod.of_type(AZURE_MONITOR_DIAGNOSTIC_SETTING)}
    assert any(u.startswith("apps-environment-") for u in uris)


def test_gpu_pool_is_a_serverless_t4_profile(prod: PreviewResult) -> None:
    profiles = only(prod, AZURE_APP_MANAGED_ENVIRONMENT).inputs["workloadProfiles"]
    assert {p["name"]: p["workloadProfileType"] for p in profiles} == {
        "Consumption": "Consumption",
        "gpu": "Consumption-GPU-NC8as-T4",
    }
    gpu_apps = {n for n, a in apps(prod).items() if a["workloadProfileName"] == "gpu"}
    on_gpu_pool = {n for n, s in BP["services"].items() if s.get("pool") == "gpu"} | {"unreal-streamer"}
    assert gpu_apps == on_gpu_pool
    for name in gpu_apps:
        # the blueprint asks 0.5 GPU; a Container Apps GPU replica gets a whole one
        assert apps(prod)[name]["template"]["containers"][0]["resources"]["gpu"] == 1


def test_consumption_sizes_round_requests_up_the_ladder(prod: PreviewResult) -> None:
    # admin-api asks 0.5 cpu / 512Mi: Consumption pairs are (n/4 vCPU, n/2 GiB) -> 0.5 vCPU, 1 GiB
    resources = apps(prod)["admin-api"]["template"]["containers"][0]["resources"]
    assert BP["services"]["admin-api"]["requests"] == {"cpu": 0.5, "memory": "512Mi"}
    assert (resources["cpu"], resources["memory"]) == (0.5, "1Gi")
    # ui asks 0.1 cpu / 64Mi -> the smallest pair
    ui = apps(prod)["ui"]["template"]["containers"][0]["resources"]
    assert (ui["cpu"], ui["memory"]) == (0.25, "0.5Gi")


def test_replicas_and_cpu_scaling_follow_the_blueprint(prod: PreviewResult) -> None:
    autoscale = BP["services"]["admin-api"]["autoscale"]
    scale = apps(prod)["admin-api"]["template"]["scale"]
    assert (scale["minReplicas"], scale["maxReplicas"]) == (autoscale["min"], autoscale["max"])
    (rule,) = scale["rules"]
    assert rule["custom"] == {
        "type": "cpu",
        "metadata": {"type": "Utilization", "value": str(autoscale["cpu_percent"])},
    }
    fixed = BP["websocket_gateways"]["ecm"]["service"]["replicas"]
    ecm = apps(prod)["ecm"]["template"]["scale"]
    assert (ecm["minReplicas"], ecm["maxReplicas"], ecm.get("rules")) == (fixed, fixed, None)


def test_ingress_by_role(prod: PreviewResult) -> None:
    found = apps(prod)
    ecm = found["ecm"]["configuration"]["ingress"]
    assert (ecm["external"], ecm["transport"], ecm["allowInsecure"]) == (True, "http", False)
    assert ecm["stickySessions"] == {"affinity": "sticky"}  # the gateway asks sticky: true
    assert "stickySessions" not in found["admin-api"]["configuration"]["ingress"]
    tools = BP["grpc_tool_fleets"]["kite"]["tools"]
    for tool, spec in tools.items():
        ingress = found[f"kite-{tool}"]["configuration"]["ingress"]
        assert (ingress["transport"], ingress["targetPort"], ingress["external"]) == ("http2", spec["port"], True)
    # an unrouted workload is reached by its peers over TCP on its port, inside the environment...
    # ...except on 80/443, which a TCP ingress cannot expose: the streamer listens on 80 (internal HTTP)
    (streamer_port,) = BP["pixel_streaming"]["unreal"]["streamer"]["ports"]
    streamer = found["unreal-streamer"]["configuration"]["ingress"]
    assert streamer_port["container_port"] == 80
    assert (streamer["transport"], streamer["external"], streamer["targetPort"]) == ("http", False, 80)
    assert "exposedPort" not in streamer
    (signalling_port,) = BP["pixel_streaming"]["unreal"]["signalling"]["service"]["ports"]
    routed = found["unreal-signalling"]["configuration"]["ingress"]
    assert routed["additionalPortMappings"] == [
        {
            "external": False,
            "targetPort": signalling_port["container_port"],
            "exposedPort": signalling_port["container_port"],
        }
    ]


def test_secrets_are_key_vault_references_with_the_identity(prod: PreviewResult) -> None:
    identities = set()
    for name, inputs in apps(prod).items():
        assert inputs["identity"]["type"] == "UserAssigned", name
        identities.update(inputs["identity"]["userAssignedIdentities"])
        for secret in inputs["configuration"].get("secrets") or []:
            assert set(secret) == {"name", "keyVaultUrl", "identity"}, name
            assert ".vault.azure.net/secrets/" in secret["keyVaultUrl"]
        for env in inputs["template"]["containers"][0].get("env") or []:
            assert ("secretRef" in env) != ("value" in env), (name, env["name"])
        assert not inputs["configuration"].get("registries"), name
    assert len(identities) == 1
    users = [a for a in apps(prod).values() if "bem-db" in json.dumps(a["template"])]
    assert users, "the database's consumers get its password"


def test_volumes_are_nfs_shares_protected_in_prod(prod: PreviewResult, dev: PreviewResult) -> None:
    volumes = [(n, v) for n, s in BP["services"].items() for v in (s.get("volumes") or {})]
    volumes += [("kite-api", v) for v in BP["grpc_tool_fleets"]["kite"]["api"].get("volumes") or {}]
    shares = {r.inputs["shareName"]: r for r in prod.of_type(AZURE_STORAGE_FILE_SHARE)}
    assert set(shares) == {f"{n}-{v}" for n, v in volumes}
    assert all(s.inputs["enabledProtocols"] == "NFS" and s.protect for s in shares.values())
    account = only(prod, AZURE_STORAGE_ACCOUNT)
    assert account.inputs["allowSharedKeyAccess"] is False
    assert account.inputs["networkRuleSet"]["defaultAction"] == "Deny"
    assert account.protect
    assert not any(s.protect for s in dev.of_type(AZURE_STORAGE_FILE_SHARE))


# -- postgres --------------------------------------------------------------------------------------


def test_postgres_is_private_with_tls_and_the_profiles_backups(prod: PreviewResult, dev: PreviewResult) -> None:
    servers = prod.of_type(AZURE_POSTGRES_SERVER)
    primary = next(s for s in servers if "createMode" not in s.inputs)
    network = primary.inputs["network"]
    assert network["publicNetworkAccess"] == "Disabled"
    assert network["delegatedSubnetResourceId"].startswith("azure-postgres-subnet-")
    assert network["privateDnsZoneArmResourceId"].startswith("bem-db-dns-zone-")
    # prod: every 6 h kept 30 days with PITR (geo-redundant), zone-redundant HA and one read replica
    assert primary.inputs["backup"] == {"backupRetentionDays": 30, "geoRedundantBackup": "Enabled"}
    assert primary.inputs["highAvailability"] == {"mode": "ZoneRedundant"}
    replicas = [s for s in servers if s.inputs.get("createMode") == "Replica"]
    assert len(replicas) == 1
    settings = {(c.inputs["configurationName"], c.inputs["value"]) for c in prod.of_type(AZURE_POSTGRES_CONFIGURATION)}
    assert settings == {("require_secure_transport", "on"), ("ssl_min_protocol_version", "TLSv1.2")}
    assert len(prod.of_type(AZURE_POSTGRES_CONFIGURATION)) == 2 * len(servers)
    (dev_primary,) = dev.of_type(AZURE_POSTGRES_SERVER)
    # dev: no backups asked, so the service's floor of 7 days; no HA, no replica
    assert dev_primary.inputs["backup"] == {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"}
    assert dev_primary.inputs["highAvailability"] == {"mode": "Disabled"}


def test_stateful_resources_are_protected_and_locked_in_prod_only(prod: PreviewResult, dev: PreviewResult) -> None:
    servers = prod.of_type(AZURE_POSTGRES_SERVER)
    assert all(s.protect and s.retain_on_delete for s in servers)
    locks = prod.of_type(AZURE_AUTHORIZATION_LOCK)
    assert all(lock.inputs["level"] == "CanNotDelete" for lock in locks)
    locked = {lock.inputs["scope"].rsplit("-", 1)[0] for lock in locks}
    assert locked == {"bem-db-server", "bem-db-replica-0", "azure-vault", "volumes"}
    assert dev.of_type(AZURE_AUTHORIZATION_LOCK) == []
    assert not any(s.protect for s in dev.of_type(AZURE_POSTGRES_SERVER))


def test_databases_are_stateful_and_protected_in_prod_only(prod: PreviewResult, dev: PreviewResult) -> None:
    """A database is dropped with its replacement: the plugin names what replaces it, prod protects it."""
    from targets.azure import PLUGIN

    stateful = PLUGIN.stateful_types[AZURE_POSTGRES_DATABASE]
    assert set(stateful.replace_on) == {"databaseName", "serverName", "resourceGroupName", "charset", "collation"}
    assert stateful.protect
    databases = prod.of_type(AZURE_POSTGRES_DATABASE)
    assert databases
    assert all(d.protect and d.retain_on_delete for d in databases)
    assert not any(d.protect or d.retain_on_delete for d in dev.of_type(AZURE_POSTGRES_DATABASE))


# -- edge ------------------------------------------------------------------------------------------


def test_front_door_premium_with_waf_by_profile(prod: PreviewResult, dev: PreviewResult) -> None:
    assert only(prod, AZURE_CDN_PROFILE).inputs["sku"] == {"name": "Premium_AzureFrontDoor"}
    waf = only(prod, AZURE_FRONTDOOR_POLICY).inputs
    assert waf["policySettings"]["mode"] == "Prevention"
    (rule,) = waf["customRules"]["rules"]
    # prod: 100 requests/s per client IP = 6000 per one-minute window
    assert (rule["ruleType"], rule["rateLimitThreshold"], rule["rateLimitDurationInMinutes"]) == (
        "RateLimitRule",
        6000,
        1,
    )
    assert rule["groupBy"] == [{"variableName": "SocketAddr"}]
    assert rule["action"] == "Block"
    assert {s["ruleSetType"] for s in waf["managedRules"]["managedRuleSets"]} >= {"Microsoft_DefaultRuleSet"}
    dev_waf = only(dev, AZURE_FRONTDOOR_POLICY).inputs
    assert dev_waf["policySettings"]["mode"] == "Detection"
    assert dev_waf["customRules"]["rules"] == []


def test_the_waf_covers_every_host(prod: PreviewResult) -> None:
    association = only(prod, AZURE_CDN_SECURITY_POLICY).inputs["parameters"]["associations"]
    covered = {d["id"].rsplit("-", 1)[0] for a in association for d in a["domains"]}
    hosts = {r.name for r in prod.of_type(AZURE_CDN_ENDPOINT)} | {r.name for r in prod.of_type(AZURE_CDN_CUSTOM_DOMAIN)}
    assert covered == hosts


def test_custom_domains_use_managed_certificates_and_tls12(prod: PreviewResult) -> None:
    tools = BP["grpc_tool_fleets"]["kite"]["tools"]
    domains = {r.inputs["hostName"]: r.inputs["tlsSettings"] for r in prod.of_type(AZURE_CDN_CUSTOM_DOMAIN)}
    assert set(domains) == {DOMAIN} | {f"kite-{t}.{DOMAIN}" for t in tools}
    assert all(t == {"certificateType": "ManagedCertificate", "minimumTlsVersion": "TLS12"} for t in domains.values())


def test_routes_forward_https_only_by_path(prod: PreviewResult) -> None:
    routes = {r.inputs["routeName"]: r.inputs for r in prod.of_type(AZURE_CDN_ROUTE)}
    assert routes["admin-api"]["patternsToMatch"] == ["/api/*"]  # route path /api/
    assert routes["ecm"]["patternsToMatch"] == ["/ws", "/ws/*"]  # gateway path /ws
    assert all(r["forwardingProtocol"] == "HttpsOnly" and r["httpsRedirect"] == "Enabled" for r in routes.values())
    sticky = {
        r.inputs["originGroupName"]
        for r in prod.of_type(AZURE_CDN_ORIGIN_GROUP)
        if r.inputs["sessionAffinityState"] == "Enabled"
    }
    # WebSocket gateways are sticky unless they say otherwise (the blueprint schema's default: true)
    gateways = dict(BP["websocket_gateways"].items())
    gateways |= {f"{n}-signalling": p["signalling"] for n, p in BP["pixel_streaming"].items()}
    assert sticky == {n for n, g in gateways.items() if g.get("sticky", True)}


def test_origins_reach_the_environment_over_private_link(prod: PreviewResult) -> None:
    for origin in prod.of_type(AZURE_CDN_ORIGIN):
        link = origin.inputs["sharedPrivateLinkResource"]
        assert link["groupId"] == "managedEnvironments"
        assert link["privateLink"]["id"].startswith("apps-environment-")
        assert origin.inputs["hostName"].startswith(origin.inputs["originName"] + ".")


# -- TURN ------------------------------------------------------------------------------------------


def test_turn_runs_on_a_scale_set_behind_a_standard_load_balancer(prod: PreviewResult) -> None:
    turn = BP["pixel_streaming"]["unreal"]["turn"]
    relay = range(turn["relay_min_port"], turn["relay_max_port"] + 1)
    balancer = only(prod, AZURE_NETWORK_LOAD_BALANCER).inputs
    assert balancer["sku"] == {"name": "Standard"}
    # the world reaches the listening port only, over UDP and TCP
    published = sorted((r["protocol"], r["frontendPort"]) for r in balancer["loadBalancingRules"])
    assert published == [("Tcp", turn["listening_port"]), ("Udp", turn["listening_port"])]
    rules = only(prod, AZURE_NETWORK_NSG).inputs["securityRules"]
    from_internet = {int(r["destinationPortRange"]) for r in rules if r["sourceAddressPrefix"] == "Internet"}
    assert from_internet == {turn["listening_port"]}
    # the relay range admits the streamer's subnet (the apps subnet, the VNet's first eighth) only
    apps_subnet = str(next(ipaddress.IPv4Network(VNET).subnets(prefixlen_diff=3)))
    from_apps = {int(r["destinationPortRange"]) for r in rules if r["sourceAddressPrefix"] == apps_subnet}
    assert from_apps == set(relay)
    (deny,) = [r for r in rules if r["access"] == "Deny"]
    assert (deny["sourceAddressPrefix"], deny["destinationPortRange"]) == ("VirtualNetwork", "*")
    assert deny["priority"] > max(r["priority"] for r in rules if r["access"] == "Allow")


def test_turn_config_comes_from_key_vault_not_custom_data(prod: PreviewResult) -> None:
    scale_set = only(prod, AZURE_COMPUTE_SCALE_SET)
    profile = scale_set.unmasked_inputs["virtualMachineProfile"]
    script = base64.b64decode(profile["osProfile"]["customData"]).decode()
    (stored,) = [s for s in prod.of_type(AZURE_KEYVAULT_SECRET) if s.name.startswith("unreal-turn-turnserver")]
    conf = stored.unmasked_inputs["properties"]["value"]
    assert "static-auth-secret" in conf
    assert conf not in script
    # the cloud-config parses, and its start script fetches the config from the vault before starting coturn
    (start,) = yaml.safe_load(script.removeprefix("#cloud-config\n"))["write_files"]
    fetch, run = (
        start["content"].index(".vault.azure.net/secrets/unreal-turn-turnserver-conf"),
        start["content"].index("docker run"),
    )
    assert fetch < run
    assert profile["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"] is True
    assert scale_set.inputs["identity"]["type"] == "UserAssigned"


# -- the program as a whole ------------------------------------------------------------------------


def test_render_writes_one_containerapp_yaml_per_app(prod: PreviewResult, tmp_path: Path) -> None:
    written = render(prod.resources, tmp_path)
    assert sorted(p.stem for p in written) == sorted(apps(prod))
    document = yaml.safe_load((tmp_path / "containerapps" / "admin-api.yaml").read_text())
    assert document["type"] == "Microsoft.App/containerApps"
    assert document["properties"]["template"]["containers"][0]["image"] == BP["services"]["admin-api"]["image"]
    assert "null" not in json.dumps(document)


@pytest.mark.slow  # a fresh interpreter
def test_an_azure_preview_loads_only_the_azure_modules_it_registers() -> None:
    """azure-native loads a service module (``pulumi_azure_native.app``: ~0.1-0.5 s each) on first use; the
    preview loads those of the types it registers and no other (no ``compute`` without a TURN relay).
    Which SDKs a preview imports at all is tests/test_preview_imports.py's."""
    code, loaded = modules_after_preview(STACK, "--blueprint", "paissive-income")
    types = {r.type for r in cached_run(STACK, blueprint="paissive-income").resources}
    registered = {t.split(":")[1] for t in types if t.startswith("azure-native:")}
    service_modules = {m.split(".")[1] for m in loaded if m.startswith("pulumi_azure_native.")}
    assert code == 0
    assert "compute" not in registered  # paissive-income has no UDP workload
    assert service_modules == registered | {"provider", "_utilities"}  # and the provider resource, the SDK's helpers


# -- staging, with the general pool on dedicated D4 nodes ------------------------------------------------

DEDICATED = {"workload_profile": "D4", "min_nodes": 1, "max_nodes": 3}


@pytest.fixture(scope="module")
def staging() -> PreviewResult:
    return run_program(STACK, stack_config(STACK, environment="staging", pools={"general": DEDICATED}))


def test_a_dedicated_pool_is_a_sized_workload_profile(staging: PreviewResult) -> None:
    profiles = only(staging, AZURE_APP_MANAGED_ENVIRONMENT).inputs["workloadProfiles"]
    assert {"name": "general", "workloadProfileType": "D4", "minimumCount": 1, "maximumCount": 3} in profiles
    on_general = {n for n, a in apps(staging).items() if a["workloadProfileName"] == "general"}
    assert "admin-api" in on_general
    assert "gpu" not in {apps(staging)[n]["workloadProfileName"] for n in on_general}
    # off the Consumption ladder, a replica is its requests rounded up to 0.25 vCPU and 0.5 GiB:
    # admin-api's 0.5 cpu / 512Mi stays 0.5 / 0.5Gi (Consumption would give 0.5 / 1Gi)
    api = apps(staging)["admin-api"]["template"]["containers"][0]["resources"]
    assert (api["cpu"], api["memory"]) == (0.5, "0.5Gi")


def test_staging_prevents_at_its_own_rate_and_keeps_daily_backups_a_week(staging: PreviewResult) -> None:
    waf = only(staging, AZURE_FRONTDOOR_POLICY).inputs
    assert waf["policySettings"]["mode"] == "Prevention"
    (rule,) = waf["customRules"]["rules"]
    assert rule["rateLimitThreshold"] == 50 * 60  # the staging profile: 50 requests/s
    (server,) = staging.of_type(AZURE_POSTGRES_SERVER)
    assert server.inputs["backup"] == {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"}
    assert staging.of_type(AZURE_AUTHORIZATION_LOCK) == []


def test_single_origin_groups_probe_nothing(prod: PreviewResult) -> None:
    """One origin per group (the app's ingress balances its replicas): Front Door's probes would only add load."""
    groups = prod.of_type(AZURE_CDN_ORIGIN_GROUP)
    origins = [o.inputs["originGroupName"] for o in prod.of_type(AZURE_CDN_ORIGIN)]
    assert sorted(origins) == sorted(g.inputs["originGroupName"] for g in groups)
    assert [g.name for g in groups if g.inputs.get("healthProbeSettings")] == []


def test_prod_alerts_every_app_database_and_the_edge(prod: PreviewResult, dev: PreviewResult) -> None:
    group = SHIPPED["gpu-platform:azure"]["action_group_id"]
    found = prod.of_type("azure-native:monitor:MetricAlert")
    by_metric: dict[str, int] = {}
    for alert in found:
        (criterion,) = alert.inputs["criteria"]["allOf"]
        by_metric[criterion["metricName"]] = by_metric.get(criterion["metricName"], 0) + 1
        assert alert.inputs["actions"] == [{"actionGroupId": group}]
    apps_count, databases = len(apps(prod)), len(BP["databases"])
    assert by_metric == {
        "CpuPercentage": apps_count,
        "MemoryPercentage": apps_count,
        "RestartCount": apps_count,
        "cpu_percent": databases,
        "storage_percent": databases,
        "Percentage5XX": 1,
    }
    assert dev.of_type("azure-native:monitor:MetricAlert") == []  # dev watches its console


def test_every_input_key_is_camel_case_as_arm_expects(prod: PreviewResult) -> None:
    """The SDK camel-cases dict keys only where it knows the input's type; a snake_case key would reach ARM as is."""
    found: list[str] = []

    def walk(where: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if "_" in key and not key.startswith("gpu-platform:"):
                    found.append(f"{where}.{key}")
                walk(f"{where}.{key}", inner)
        elif isinstance(value, list):
            for inner in value:
                walk(f"{where}[]", inner)

    for resource in prod.resources:
        if resource.type.startswith("azure-native:"):
            walk(resource.name, resource.inputs)
    assert found == []
