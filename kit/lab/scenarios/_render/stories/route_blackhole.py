"""Route blackhole: the legacy egress firewall appliance nva-fw-01 (10.70.0.4) was decommissioned
as "unused" and deleted. snet-tms-b (tms-app-01, tms-batch-01; the PCI-scoped half of the app
tier) still sends 0.0.0.0/0 to it through rt-tms-b, so replies to anyone outside the VNet vanish.
The peers live in snet-tms-a (same NSG; rt-tms-a has no default route, so Azure's Internet route
applies). nva-fw-02 (10.70.0.5), built yesterday for the hub migration, is in no route yet."""

from typing import Any

from kit.lab.scenarios._render.stories._helpers import (
    after,
    boot_chain,
    linux_vm,
    restart,
    restore_points,
    running_view,
    sp,
    user,
)

__all__ = ["STORY"]

SUB = "2e8c5f14-9a7d-4b03-b6e2-5d1f0c8a7e39"
TENANT = "c0a7e4d2-1f58-4e9b-8c36-7a2d5b9e1f04"
RG = "rg-tms-prod"
DEAD_NVA = "10.70.0.4"
NEW_NVA = "10.70.0.5"  # built yesterday for the hub migration; no route uses it yet
NVA_FIRST_BOOT = "2026-11-24T16:12:47.300Z"

PATCH = {"tms-app-01": "2026-11-24T13:04:11.208Z", "tms-batch-01": "2026-11-24T13:10:32.771Z",
         "tms-app-02": "2026-11-24T13:16:50.054Z", "tms-app-03": "2026-11-24T13:23:07.639Z"}
APP = [("tms-api.service", "Aurora TMS dispatch API"), ("filebeat.service", "Filebeat sends log files to Logstash or directly to Elasticsearch.")]


def _vm(name: str, ip: str, subnet: str, zone: str, created: str, **kw: Any) -> dict[str, Any]:
    boots = boot_chain(after(PATCH[name], 17.1), [], each={"incarnation": 18})
    return linux_vm(name, ip, subnet, zone=zone, created=created, services=APP, boots=boots, **kw)


STORY = {
    "name": "route-blackhole",
    "title": "Dispatch API host tms-app-01 unreachable after the firewall appliance swap",
    "briefing": ("tms-app-01 (freight dispatch API) stopped answering SSH and its health endpoint at about "
                 "13:00 UTC on 25 Nov 2026. It shows as running in the portal. tms-app-02 and tms-app-03 are fine. "
                 "The network team is decommissioning legacy appliances this week."),
    "subscription_id": SUB, "tenant_id": TENANT, "resource_group": RG, "location": "eastus2",
    "broken_vm": "tms-app-01", "known_good": ["tms-app-02", "tms-app-03"],
    "responder_ip": "203.0.113.7",
    "window": {"start": "2026-11-24T12:00:00Z", "end": "2026-11-25T15:00:00Z"},
    "console_enabled": True,
    "expected": {"hypothesis": "route_blackhole", "next_step": "change_route", "level": "platform"},
    "guest": {"os": "linux", "username": "azureuser", "password": "Lab-Only-Pa55!"},
    "fix": ("Delete rt-tms-b's default-via-nva route (0.0.0.0/0 -> VirtualAppliance 10.70.0.4), or point it at a "
            "live appliance; the appliance it names was deleted at 12:58."),
    "facts": {
        "route_table": "rt-tms-b", "route": "default-via-nva", "prefix": "0.0.0.0/0",
        "next_hop_type": "VirtualAppliance", "next_hop_ip": DEAD_NVA,
        "dead_nva": "nva-fw-01", "dead_nva_nic": "nva-fw-01-nic", "dead_nva_deleted_at": "2026-11-25T12:58:44Z",
        "peer_route_table": "rt-tms-a (no default route: system route to Internet)",
        "red_herring": f"nva-fw-02 ({NEW_NVA}, IP forwarding on) was built yesterday and is not in any route yet",
        "changed_by": "nana.osei@aurorafreight.com",
        "subnet": "snet-tms-b", "also_affected": ["tms-batch-01"], "peers_in_other_subnet": True,
    },
    "tags": {"app": "tms", "env": "prod", "owner": "freight-platform"},
    "dns_zone": "bx",
    "management_group": "mg-aurora-prod",
    "principals": {
        "nana": user("nana.osei@aurorafreight.com", "Nana Osei", "203.0.113.29"),
        "oncall": user("tomas.varga@aurorafreight.com", "Tomas Varga", "203.0.113.7"),
        "patching": sp("sp-aurora-patching", "6c1e8b3f-0a95-4d27-b4f1-e38a7c2d5096", "20.96.41.180"),
        "iac": sp("sp-aurora-netops-iac", "b95d2e07-4c1a-4f8b-9e36-1a7f0c5d8b24", "20.96.41.180"),
        "backup": sp("Backup Management Service", "262044b1-e2ce-469f-a196-69ab7ada62d3", "20.44.19.70"),
    },
    "role_assignments": [
        {"who": "nana", "role": "Network Contributor", "scope": "sub", "created": "2024-11-04T09:30:12.4Z", "by": "oncall"},
        {"who": "nana", "role": "Virtual Machine Contributor", "scope": "rg", "created": "2026-11-24T15:58:02.6Z", "by": "oncall",
         "description": "NVA migration CHG-20931"},
        {"who": "oncall", "role": "Owner", "scope": "rg", "created": "2024-06-10T11:02:37.8Z", "by": "oncall"},
        {"who": "iac", "role": "Contributor", "scope": "rg", "created": "2024-06-10T11:05:04.3Z", "by": "oncall"},
        {"who": "patching", "role": "Virtual Machine Contributor", "scope": "rg", "created": "2024-06-10T11:06:40.0Z", "by": "oncall"},
    ],
    "network": {
        "vnet": {"name": "vnet-tms-prod", "address_space": ["10.70.0.0/16"], "subnets": [
            {"name": "snet-nva", "prefix": "10.70.0.0/27", "nsg": "nsg-snet-nva"},
            {"name": "snet-tms-a", "prefix": "10.70.1.0/24", "nsg": "nsg-snet-tms", "route_table": "rt-tms-a"},
            {"name": "snet-tms-b", "prefix": "10.70.2.0/24", "nsg": "nsg-snet-tms", "route_table": "rt-tms-b"},
        ]},
        "route_tables": [
            {"name": "rt-tms-a", "etag_seed": "v5", "routes": [
                {"name": "partner-edi-direct", "prefix": "198.51.100.0/24", "next_hop": "Internet"},
                {"name": "blackhole-bogons", "prefix": "100.64.0.0/10", "next_hop": "None"}]},
            {"name": "rt-tms-b", "routes": [
                {"name": "default-via-nva", "prefix": "0.0.0.0/0", "next_hop": "VirtualAppliance", "next_hop_ip": DEAD_NVA},
                {"name": "partner-edi-direct", "prefix": "198.51.100.0/24", "next_hop": "Internet"}]},
        ],
        "nsgs": [
            {"name": "nsg-snet-tms", "rules": [
                {"name": "Allow-SSH-Ops", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": "203.0.113.0/24", "dst": "*", "dst_port": "22"},
                {"name": "Allow-API-From-Partners", "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": ["198.51.100.0/24", "192.0.2.0/24"], "dst": "VirtualNetwork", "dst_port": ["443", "8443"]},
            ]},
            {"name": "nsg-snet-nva", "rules": [
                {"name": "Allow-VNet-Forwarding", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "*",
                 "src": "VirtualNetwork", "dst": "*", "dst_port": "*"},
            ]},
        ],
    },
    "vms": [
        _vm("tms-app-01", "10.70.2.4", "snet-tms-b", "1", "2024-06-10T11:40:09.3318017Z", public_ip="20.122.71.34",
            view=running_view("2026-11-25T14:41:06Z", "2026-11-24T13:04:42.7763015Z", "2026-11-24T13:04:21.0039981Z"),
            serial_pad=512),
        _vm("tms-batch-01", "10.70.2.5", "snet-tms-b", "2", "2024-06-10T11:40:12.0016634Z", size="Standard_E4s_v5",
            view=running_view("2026-11-25T14:40:33Z", "2026-11-24T13:11:03.1902558Z", "2026-11-24T13:10:42.6618820Z")),
        _vm("tms-app-02", "10.70.1.4", "snet-tms-a", "2", "2024-06-10T11:40:10.7729113Z", public_ip="20.122.71.52",
            view=running_view("2026-11-25T14:41:19Z", "2026-11-24T13:17:21.4470962Z", "2026-11-24T13:17:00.3315127Z")),
        _vm("tms-app-03", "10.70.1.5", "snet-tms-a", "3", "2024-06-10T11:40:11.5540187Z", accelerated=False,
            view=running_view("2026-11-25T14:40:58Z", "2026-11-24T13:23:38.9983450Z", "2026-11-24T13:23:17.7206631Z")),
        linux_vm("nva-fw-02", NEW_NVA, "snet-nva", zone="1", created="2026-11-24T16:11:58.2204771Z",
                 size="Standard_D4s_v5", ip_forwarding=True,
                 services=[("nftables.service", "Netfilter Tables", "Finished"), ("frr.service", "FRRouting")],
                 boots=[{"at": NVA_FIRST_BOOT, "kind": "normal", "events": [], "incarnation": 1}],
                 view=running_view("2026-11-25T14:41:44Z", "2026-11-24T16:13:20.5507129Z", "2026-11-24T16:12:31.8807362Z")),
    ],
    "activity": [
        *[op for vm, at in PATCH.items() for op in (
            {"at": after(at, -318.4), "op": "vm_install_patches", "vm": vm, "by": "patching", "took": 290},
            restart(vm, at, "patching", took=30))],
        {"at": "2026-11-24T16:09:40.018Z", "op": "deployment_write", "by": "iac", "resource": "Microsoft.Resources/deployments/nva-fw-02-20261124", "took": 225},
        {"at": "2026-11-24T16:10:02.511Z", "op": "vm_write", "vm": "nva-fw-02", "by": "iac", "took": 118},
        *restore_points(["tms-app-01", "tms-app-02", "tms-app-03", "tms-batch-01"], "2026-11-24T21:30:15.604Z", rg="AzureBackupRG_eastus2_1"),
        {"at": "2026-11-25T08:12:45.330Z", "op": "storage_listkeys", "by": "oncall", "rg": "rg-tms-data", "resource": "Microsoft.Storage/storageAccounts/sttmsexports"},
        {"at": "2026-11-25T12:31:10.402Z", "op": "route_write", "by": "nana", "rt": "rt-tms-a", "route": "blackhole-bogons", "took": 16},
        {"at": "2026-11-25T12:58:44.117Z", "op": "vm_delete", "vm": "nva-fw-01", "by": "nana", "took": 74},
        {"at": "2026-11-25T13:00:31.846Z", "op": "nic_delete", "nic": "nva-fw-01-nic", "by": "nana", "took": 11},
        {"at": "2026-11-25T13:01:05.219Z", "op": "disk_delete", "by": "nana", "resource": "Microsoft.Compute/disks/nva-fw-01_OsDisk_1_5d0c7a2e91b34f6e8a1d27c4b9e0f352", "took": 9},
        {"at": "2026-11-25T13:40:22.951Z", "op": "tags_write", "by": "nana", "resource": "Microsoft.Resources/tags/default"},
    ],
}
