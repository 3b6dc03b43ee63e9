"""NSG deny: a security engineer containing a suspicious host put a Deny-22 rule at priority 100
on the wrong NIC NSG (pos-api-01's instead of a dev box's). The guest is healthy; the subnet NSG
and the peers' NIC NSGs are unchanged."""

import json
from typing import Any

from kit.lab.scenarios._render.stories._helpers import after, boot_chain, linux_vm, restart, restore_points, sp, user

__all__ = ["STORY"]

SUB = "d47a1c90-6e2b-4f35-8b1d-0c9e5a7f3b62"
TENANT = "91c5e3a7-4d0f-4b28-a6e9-2f7b1d8c0e54"
RG = "rg-pos-api-prod"
RULE_AT = "2026-11-25T09:14:27.662Z"

PATCH = {"pos-api-01": "2026-11-24T07:02:15.330Z", "pos-api-02": "2026-11-24T07:09:48.712Z",
         "pos-api-03": "2026-11-24T07:17:03.095Z"}
APP = [("nginx.service", "A high performance web server and a reverse proxy server"),
       ("pos-api.service", "Lumen POS pricing and basket API")]


def _nic_nsg(name: str, *, deny: bool = False) -> dict[str, Any]:
    rules = [
        {"name": "Allow-SSH-Corp", "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "src": ["203.0.113.0/24", "10.30.0.4"], "dst": "*", "dst_port": "22", "description": "SSH from corp VPN and the jump host"},
        {"name": "Allow-HTTPS-AppGw", "priority": 200, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "src": "10.30.1.0/24", "dst": "*", "dst_port": ["443", "8443"]},
    ]
    if deny:
        rules.insert(0, {"name": "Deny-SSH-Inbound", "priority": 100, "direction": "Inbound", "access": "Deny",
                         "protocol": "Tcp", "src": "*", "dst": "*", "dst_port": "22", "etag_seed": "v2",
                         "description": "IR-4471 containment"})
    return {"name": f"nsg-{name}", "etag_seed": "v2" if deny else "v1", "rules": rules}


def _vm(name: str, ip: str, zone: str, created: str, **kw: Any) -> dict[str, Any]:
    boots = boot_chain(after(PATCH[name], 17.4), [], each={"incarnation": 12})
    return linux_vm(name, ip, "snet-pos-api", zone=zone, created=created, nic_nsg=f"nsg-{name}", services=APP,
                    boots=boots, size="Standard_D2s_v5", **kw)


STORY = {
    "name": "nsg-deny",
    "title": "Store pricing API host pos-api-01 unreachable over SSH",
    "briefing": ("The retail platform team cannot SSH to pos-api-01 (from the corporate VPN or the jump host) since "
                 "about 09:15 UTC on 25 Nov 2026; the API behind the application gateway still answers. pos-api-02 "
                 "and pos-api-03 are reachable. A deployment is waiting on this host."),
    "subscription_id": SUB, "tenant_id": TENANT, "resource_group": RG, "location": "westeurope",
    "broken_vm": "pos-api-01", "known_good": ["pos-api-02", "pos-api-03"],
    "responder_ip": "203.0.113.7",
    "window": {"start": "2026-11-24T06:00:00Z", "end": "2026-11-25T11:00:00Z"},
    "console_enabled": True,
    "expected": {"hypothesis": "nsg_deny", "next_step": "change_nsg", "level": "platform"},
    "guest": {"os": "linux", "username": "azureuser", "password": "Lab-Only-Pa55!"},
    "fix": "Delete the Deny-SSH-Inbound rule (priority 100) from nsg-pos-api-01; it was meant for another host.",
    "facts": {
        "nsg": "nsg-pos-api-01", "nsg_scope": "network_interface", "nic": "pos-api-01-nic",
        "rule": "Deny-SSH-Inbound", "priority": 100, "direction": "Inbound", "access": "Deny",
        "protocol": "Tcp", "port": 22, "source": "*",
        "shadowed_rule": "Allow-SSH-Corp",
        "changed_at": RULE_AT[:19] + "Z", "changed_by": "rafael.ferreira@lumenretail.com",
        "operation": "Microsoft.Network/networkSecurityGroups/securityRules/write",
    },
    "tags": {"app": "pos-api", "env": "prod", "owner": "retail-platform"},
    "dns_zone": "ax",
    "management_group": "mg-lumen-prod",
    "principals": {
        "rafael": user("rafael.ferreira@lumenretail.com", "Rafael Ferreira", "203.0.113.66"),
        "oncall": user("sofia.lind@lumenretail.com", "Sofia Lind", "203.0.113.7"),
        "patching": sp("sp-lumen-patching", "3f9b0a27-c1d4-4e68-95a2-b7e0d3c6f184", "52.157.64.9"),
        "pipeline": sp("sp-pos-api-release", "e2c6a814-7f3b-49d0-a5c1-60d9b4e8f275", "52.157.64.9"),
        "backup": sp("Backup Management Service", "262044b1-e2ce-469f-a196-69ab7ada62d3", "20.103.58.12"),
    },
    "role_assignments": [
        {"who": "rafael", "role": "Network Contributor", "scope": "sub", "created": "2025-03-02T10:11:45.2Z", "by": "oncall"},
        {"who": "oncall", "role": "Owner", "scope": "rg", "created": "2024-08-19T12:40:03.7Z", "by": "oncall"},
        {"who": "patching", "role": "Virtual Machine Contributor", "scope": "rg", "created": "2024-08-19T12:44:50.1Z", "by": "oncall"},
        {"who": "pipeline", "role": "Contributor", "scope": "rg", "created": "2024-08-19T12:46:21.9Z", "by": "oncall"},
    ],
    "network": {
        "vnet": {"name": "vnet-pos-prod", "address_space": ["10.30.0.0/16"], "subnets": [
            {"name": "snet-mgmt", "prefix": "10.30.0.0/27"},
            {"name": "snet-appgw", "prefix": "10.30.1.0/24"},
            {"name": "snet-pos-api", "prefix": "10.30.4.0/24", "nsg": "nsg-snet-pos-api"},
        ]},
        "nsgs": [
            {"name": "nsg-snet-pos-api", "rules": [
                {"name": "AllowCorpAndJumpSsh", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": ["203.0.113.0/24", "10.30.0.0/27"], "dst": "10.30.4.0/24", "dst_port": "22"},
                {"name": "AllowAppGwHttps", "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": "10.30.1.0/24", "dst": "10.30.4.0/24", "dst_port": ["443", "8443"]},
                {"name": "AllowAppGwProbes", "priority": 120, "direction": "Inbound", "access": "Allow", "protocol": "*",
                 "src": "GatewayManager", "dst": "*", "dst_port": "65200-65535"},
            ]},
            _nic_nsg("pos-api-01", deny=True), _nic_nsg("pos-api-02"), _nic_nsg("pos-api-03"),
        ],
    },
    "vms": [
        _vm("pos-api-01", "10.30.4.4", "1", "2024-08-19T13:05:40.1180225Z",
            view={"power": "running", "agent": "ready", "agent_at": "2026-11-25T10:41:12Z",
                  "provisioned_at": "2026-11-24T07:02:47.5519802Z", "disks_at": "2026-11-24T07:02:25.6603719Z"}),
        _vm("pos-api-02", "10.30.4.5", "2", "2024-08-19T13:05:42.9031177Z",
            view={"power": "running", "agent": "ready", "agent_at": "2026-11-25T10:40:51Z",
                  "provisioned_at": "2026-11-24T07:10:19.2201408Z", "disks_at": "2026-11-24T07:09:58.0427719Z"}),
        _vm("pos-api-03", "10.30.4.6", "3", "2024-08-19T13:05:41.5526610Z", accelerated=False,
            view={"power": "running", "agent": "ready", "agent_at": "2026-11-25T10:41:30Z",
                  "provisioned_at": "2026-11-24T07:17:34.8830076Z", "disks_at": "2026-11-24T07:17:13.3319055Z"},
            serial_pad=512),
    ],
    "activity": [
        *[op for vm, at in PATCH.items() for op in (
            {"at": after(at, -402.5), "op": "vm_install_patches", "vm": vm, "by": "patching", "took": 371},
            restart(vm, at, "patching", took=30))],
        *restore_points(list(PATCH), "2026-11-24T22:00:41.229Z", rg="AzureBackupRG_westeurope_1"),
        {"at": "2026-11-24T15:32:08.117Z", "op": "deployment_write", "by": "pipeline", "rg": "rg-pos-web-prod",
         "resource": "Microsoft.Resources/deployments/pos-web-2026.11.24-2", "took": 148},
        {"at": "2026-11-25T09:02:44.913Z", "op": "nsg_rule_write", "by": "rafael", "rg": "rg-pos-dev",
         "nsg": "nsg-pos-dev-07", "rule": "Deny-All-Outbound-IR4471", "took": 13},
        {"at": RULE_AT, "op": "nsg_rule_write", "by": "rafael", "nsg": "nsg-pos-api-01", "rule": "Deny-SSH-Inbound", "took": 14,
         "request_body": json.dumps({"properties": {
             "description": "IR-4471 containment", "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "22",
             "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "access": "Deny", "priority": 100,
             "direction": "Inbound"}}, separators=(",", ":"))},
        {"at": "2026-11-25T09:21:30.552Z", "op": "tags_write", "by": "rafael", "rg": "rg-pos-dev", "resource": "Microsoft.Resources/tags/default"},
        {"at": "2026-11-25T10:05:13.801Z", "op": "storage_listkeys", "by": "pipeline", "rg": "rg-pos-shared",
         "resource": "Microsoft.Storage/storageAccounts/stposreleases"},
    ],
    "service_health": [{
        "title": "Azure Front Door - Intermittent latency in West Europe", "service": "Azure Front Door",
        "region": "West Europe", "tracking_id": "4KQN-9TZ", "start": "2026-11-25T08:05:00Z",
        "updates": [
            {"at": "2026-11-25T08:31:17.000Z", "stage": "Active",
             "text": "Starting at 08:05 UTC on 25 Nov 2026, a subset of customers using Azure Front Door in West Europe may experience intermittent latency. Engineers are investigating."},
            {"at": "2026-11-25T09:48:52.000Z", "stage": "Resolved",
             "text": "Between 08:05 and 09:40 UTC on 25 Nov 2026, a subset of customers using Azure Front Door in West Europe experienced intermittent latency. This issue is now mitigated."},
        ]}],
}
