"""Deallocated: a FinOps idle-VM cleanup script (run with the engineer's own CLI login) deallocated
rpt-db-01 because its CPU looked idle between nightly report builds. Resource Health says
Unavailable (user initiated). The serial log ends with the guest powering off."""

from typing import Any

from kit.lab.scenarios._render.stories._helpers import after, boot_chain, linux_vm, restart, restore_points, sp, user

__all__ = ["STORY"]

SUB = "0f4a8d26-3c71-4e9b-a5d8-6b2e9c1f7a43"
TENANT = "58d2b9e4-a0c6-4f13-9b7e-1e4c8a6d2f95"
RG = "rg-reporting-prod"
DEALLOC = "2026-11-24T18:02:11.274Z"
PATCH = {"rpt-db-01": "2026-11-23T14:05:20.663Z", "rpt-db-02": "2026-11-23T14:13:44.107Z",
         "rpt-db-03": "2026-11-23T14:22:09.858Z"}
APP = [("postgresql-16.service", "PostgreSQL 16 database server"), ("pgbouncer.service", "A lightweight connection pooler for PostgreSQL")]


def _vm(name: str, ip: str, zone: str, created: str, *, broken: bool = False, **kw: Any) -> dict[str, Any]:
    last = {"end": {"at": after(DEALLOC, 3.1), "how": "poweroff"}} if broken else None
    boots = boot_chain(after(PATCH[name], 17.5), [], each={"incarnation": 4}, last=last)
    vm = linux_vm(name, ip, "snet-reporting-db", zone=zone, created=created, services=APP, boots=boots,
                  size="Standard_E4s_v5", image="rhel9",
                  disks=[{"lun": 0, "size_gb": 1024, "mount": "/var/lib/pgsql", "suffix": "pgdata"}], **kw)
    return vm


STORY = {
    "name": "deallocated",
    "title": "Reporting database host rpt-db-01 down; nightly reports failing",
    "briefing": ("The BI team's nightly report build failed at 20:10 UTC on 24 Nov 2026: it cannot connect to "
                 "rpt-db-01 (connection timed out on 5432 and 22). rpt-db-02 and rpt-db-03 answer."),
    "subscription_id": SUB, "tenant_id": TENANT, "resource_group": RG, "location": "australiaeast",
    "broken_vm": "rpt-db-01", "known_good": ["rpt-db-02", "rpt-db-03"],
    "responder_ip": "203.0.113.7",
    "window": {"start": "2026-11-23T12:00:00Z", "end": "2026-11-24T21:00:00Z"},
    "console_enabled": True,
    "expected": {"hypothesis": "vm_not_running", "next_step": "start_vm", "level": "platform"},
    "guest": {"os": "linux", "username": "azureuser", "password": "Lab-Only-Pa55!"},
    "fix": "Start rpt-db-01 (az vm start) and exclude it from the FinOps idle-VM cleanup (tag finops-exclude=true).",
    "facts": {
        "power_state": "PowerState/deallocated", "deallocated_at": DEALLOC[:19] + "Z",
        "deallocated_by": "lena.nakamura@brightwater-analytics.com", "client": "Azure CLI",
        "operation": "Microsoft.Compute/virtualMachines/deallocate/action",
        "resource_health": "Unavailable (UserInitiated)",
        "other_deallocated": ["rpt-dev-07 (rg-reporting-dev)"],
    },
    "tags": {"app": "reporting", "env": "prod", "owner": "bi-platform"},
    "dns_zone": "ex",
    "management_group": "mg-brightwater",
    "principals": {
        "lena": user("lena.nakamura@brightwater-analytics.com", "Lena Nakamura", "203.0.113.81", app="cli"),
        "oncall": user("joel.mensah@brightwater-analytics.com", "Joel Mensah", "203.0.113.7"),
        "patching": sp("sp-bw-patching", "8a2f5d19-e0b7-4c63-9f14-d6c3a8e2b057", "20.211.60.32"),
        "etl": sp("sp-bi-etl", "c6e09b47-2d5a-4f81-b3c9-7e14d0a6f2b8", "20.211.60.32"),
        "backup": sp("Backup Management Service", "262044b1-e2ce-469f-a196-69ab7ada62d3", "20.53.88.140"),
    },
    "role_assignments": [
        {"who": "lena", "role": "Virtual Machine Contributor", "scope": "sub", "created": "2025-08-25T02:40:11.7Z", "by": "oncall",
         "description": "FinOps idle resource cleanup"},
        {"who": "oncall", "role": "Owner", "scope": "rg", "created": "2024-05-02T23:14:52.0Z", "by": "oncall"},
        {"who": "patching", "role": "Virtual Machine Contributor", "scope": "rg", "created": "2024-05-02T23:20:37.4Z", "by": "oncall"},
        {"who": "etl", "role": "Reader", "scope": "rg", "created": "2024-05-02T23:22:09.5Z", "by": "oncall"},
    ],
    "network": {
        "vnet": {"name": "vnet-reporting-prod", "address_space": ["10.90.0.0/16"], "subnets": [
            {"name": "snet-reporting-db", "prefix": "10.90.2.0/24", "nsg": "nsg-snet-reporting-db"},
            {"name": "snet-bi", "prefix": "10.90.3.0/24", "nsg": "nsg-snet-bi"},
        ]},
        "asgs": ["asg-reporting-db"],
        "nsgs": [
            {"name": "nsg-snet-reporting-db", "rules": [
                {"name": "AllowSshAdmins", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": "203.0.113.0/24", "dst": "*", "dst_port": "22"},
                {"name": "AllowPostgresFromBi", "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": ["10.90.3.0/24", "203.0.113.0/24"], "dst_asgs": ["asg-reporting-db"], "dst_port": ["5432", "6432"]},
            ]},
            {"name": "nsg-snet-bi", "rules": [
                {"name": "AllowHttpsUsers", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": "203.0.113.0/24", "dst": "10.90.3.0/24", "dst_port": "443"},
            ]},
        ],
    },
    "vms": [
        _vm("rpt-db-01", "10.90.2.4", "1", "2024-05-02T23:40:55.1150862Z", broken=True, asgs=["asg-reporting-db"],
            view={"power": "deallocated", "provisioned_at": "2026-11-24T18:03:13.8829401Z",
                  "disks_at": "2026-11-24T18:03:13.7708215Z"}, serial_pad=512),
        _vm("rpt-db-02", "10.90.2.5", "2", "2024-05-02T23:40:57.6604419Z", asgs=["asg-reporting-db"],
            view={"power": "running", "agent": "ready", "agent_at": "2026-11-24T20:48:30Z",
                  "provisioned_at": "2026-11-23T14:14:15.2017730Z", "disks_at": "2026-11-23T14:13:54.3358116Z"}),
        _vm("rpt-db-03", "10.90.2.6", "3", "2024-05-02T23:40:56.3390170Z", asgs=["asg-reporting-db"], accelerated=False,
            view={"power": "running", "agent": "ready", "agent_at": "2026-11-24T20:49:02Z",
                  "provisioned_at": "2026-11-23T14:22:40.9904416Z", "disks_at": "2026-11-23T14:22:19.5512075Z"}),
    ],
    "activity": [
        *[op for vm, at in PATCH.items() for op in (
            {"at": after(at, -350.8), "op": "vm_install_patches", "vm": vm, "by": "patching", "took": 322},
            restart(vm, at, "patching", took=30))],
        *restore_points(list(PATCH), "2026-11-23T16:00:28.441Z", rg="AzureBackupRG_australiaeast_1"),
        {"at": "2026-11-24T09:12:07.308Z", "op": "storage_listkeys", "by": "etl", "rg": "rg-reporting-lake",
         "resource": "Microsoft.Storage/storageAccounts/stbwlake"},
        {"at": "2026-11-24T17:58:52.614Z", "op": "tags_write", "by": "lena", "rg": "rg-reporting-dev", "resource": "Microsoft.Resources/tags/default"},
        {"at": "2026-11-24T18:01:40.905Z", "op": "vm_deallocate", "vm": "rpt-dev-07", "rg": "rg-reporting-dev", "by": "lena", "took": 58},
        {"at": DEALLOC, "op": "vm_deallocate", "vm": "rpt-db-01", "by": "lena", "took": 62},
        {"at": "2026-11-24T20:31:44.120Z", "op": "storage_listkeys", "by": "oncall", "rg": "rg-reporting-lake",
         "resource": "Microsoft.Storage/storageAccounts/stbwlake"},
    ],
    "resource_health": [{"vm": "rpt-db-01", "stages": [
        {"at": "2026-11-24T18:03:21.552Z", "status": "Active", "current": "Unavailable", "previous": "Available",
         "title": "Stopped and deallocated",
         "details": "This virtual machine is stopped and deallocated as requested by an authorized user or process.",
         "type": "Downtime", "cause": "UserInitiated"}]}],
}
