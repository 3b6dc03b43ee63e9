"""Case study 02: the port authority's customs message processor stuck in emergency mode.

The archive data disk was detached and retired on Sunday afternoon (a VM write removing LUN 1),
but /etc/fstab still mounts it by UUID without ``nofail``. Nothing noticed until Wednesday's
patch run installed kernel 6.8.0-1018-azure and restarted the VM: systemd waits 90 s for the
disk, gives up, and drops to emergency mode. The two peer processors never had that disk.
"""

import json
from typing import Any

from kit.lab.scenarios._render.stories._helpers import (
    after,
    boot_chain,
    group,
    linux_vm,
    reboot_health,
    restart,
    restore_points,
    sp,
    user,
)

__all__ = ["STORY"]

SUB = "6a0d4e8b-21f7-4c93-b5e0-9f3a7c1d2e84"
TENANT = "e41c7a09-5d2b-4f8e-a6c3-1b9d0f7e2a55"
RG = "rg-customs-proc-prod"
ARCHIVE_UUID = "b4e2d8f0-61a3-4c57-9d2e-08f7c3a1b965"
ARCHIVE_MOUNT = "/srv/customs/archive"
NEW_KERNEL = "6.8.0-1018-azure"

SPOOL = {"lun": 0, "size_gb": 256, "mount": "/srv/customs/spool", "suffix": "spool"}
ARCHIVE = {"lun": 1, "size_gb": 512, "mount": ARCHIVE_MOUNT, "suffix": "archive", "uuid": ARCHIVE_UUID}
APP = [("customs-ingest.service", "Customs EDI message ingest (CUSDEC/CUSRES)"),
       ("customs-forwarder.service", "Customs declarations forwarder to HMRC CDS")]

# Sunday maintenance restarts (first boot in the window), Wednesday patch-night restarts.
SUN = {"customs-proc-01": "2026-11-22T02:08:51.204Z", "customs-proc-02": "2026-11-22T02:19:12.880Z",
       "customs-proc-03": "2026-11-22T02:29:40.519Z"}
WED = {"customs-proc-01": "2026-11-25T03:11:48.215Z", "customs-proc-02": "2026-11-25T03:23:40.067Z",
       "customs-proc-03": "2026-11-25T03:35:10.731Z"}
PATCH_START = {"customs-proc-01": ("2026-11-22T02:01:10.551Z", "2026-11-25T03:00:05.318Z"),
               "customs-proc-02": ("2026-11-22T02:12:30.117Z", "2026-11-25T03:14:20.904Z"),
               "customs-proc-03": ("2026-11-22T02:22:58.402Z", "2026-11-25T03:26:02.615Z")}


def _vm(name: str, ip: str, zone: str, created: str, *, broken: bool = False, **kw: Any) -> dict[str, Any]:
    wed_boot: dict[str, Any] = {"kernel": NEW_KERNEL}
    if broken:
        wed_boot.update({"kind": "fstab_emergency", "guest_disks": None,
                         "stale_mount": {"mount": ARCHIVE_MOUNT, "uuid": ARCHIVE_UUID}})
    boots = boot_chain(after(SUN[name], 17.6), [WED[name]], each={"incarnation": 21}, kinds={1: wed_boot})
    vm = linux_vm(name, ip, "snet-customs-proc", zone=zone, created=created, size="Standard_D4s_v5",
                  disks=[SPOOL, ARCHIVE] if broken else [SPOOL], services=APP, boots=boots, **kw)
    if broken:
        vm["data_disks"] = vm["data_disks"][:1]           # LUN 1 detached on Sunday
        boots[1]["guest_disks"] = vm["guest_disks"][:1]   # the kernel only finds the spool disk
        boots[0]["detached_mounts"] = [ARCHIVE_MOUNT]
        boots[0]["events"] = [{"at": "2026-11-22T15:40:31.406Z", "kind": "kernel", "text": t} for t in (
            "sd 1:0:0:1: [sdd] Synchronizing SCSI cache",
            "sd 1:0:0:1: [sdd] Synchronize Cache(10) failed: Result: hostbyte=DID_NO_CONNECT driverbyte=DRIVER_OK",
            "EXT4-fs (sdd1): shut down requested (2)",
            f"EXT4-fs (sdd1): unmounting filesystem {ARCHIVE_UUID}.",
        )]
        vm["guest_disks"] = vm["guest_disks"]             # Sunday's boot still mounted both
    return vm


STORY = {
    "name": "fstab-emergency",
    "title": "Customs message processor never came back after the patch-night reboot",
    "briefing": ("customs-proc-01, one of the port authority's three customs message processors, did not come "
                 "back after Wednesday's 03:00 UTC patch run: SSH times out and its queue has been growing since "
                 "03:12. The Azure portal shows the VM as running. Declarations must be filed before the 07:00 "
                 "customs cutoff."),
    "subscription_id": SUB, "tenant_id": TENANT, "resource_group": RG, "location": "uksouth",
    "broken_vm": "customs-proc-01", "known_good": ["customs-proc-02", "customs-proc-03"],
    "responder_ip": "203.0.113.7",
    "window": {"start": "2026-11-22T00:00:00Z", "end": "2026-11-25T06:30:00Z"},
    "console_enabled": True,
    "expected": {"hypothesis": "boot_failure:fstab", "next_step": "serial_console", "level": "guest"},
    "guest": {"os": "linux", "username": "root", "password": "Lab-Only-Pa55!"},
    "fix": (f"At the emergency prompt, log in as root, remove (or add nofail to) the {ARCHIVE_MOUNT} line for "
            f"UUID={ARCHIVE_UUID} in /etc/fstab, run systemctl daemon-reload and mount -a, then reboot."),
    "facts": {
        "mount_point": ARCHIVE_MOUNT, "uuid": ARCHIVE_UUID,
        "fstab_line": f"UUID={ARCHIVE_UUID}\t{ARCHIVE_MOUNT}\text4\tdefaults\t0\t2",
        "retired_disk": "customs-proc-01-archive", "retired_lun": 1,
        "detached_at": "2026-11-22T15:40:12Z", "detached_by": "dmitri.volkov@portkestrel.co.uk",
        "detach_operation": "Microsoft.Compute/virtualMachines/write",
        "patched_at": "2026-11-25T03:00:05Z", "restarted_at": "2026-11-25T03:11:48Z",
        "new_kernel": NEW_KERNEL, "remaining_mounts": ["/srv/customs/spool"],
        "emergency_prompt": "Give root password for maintenance",
    },
    "tags": {"owner": "customs-it", "service": "customs-edi", "env": "prod", "cost-center": "PKA-OPS-220"},
    "dns_zone": "cx",
    "management_group": "mg-portkestrel-prod",
    "principals": {
        "patching": sp("sp-portops-update-manager", "5be0c3d1-7a92-4e46-b1f8-2c9d04e6a713", "51.104.28.77"),
        "pipeline": sp("sp-customs-deploy", "c81f2a5e-0d47-4b39-9e6c-7f1a3b8d2e50", "51.104.28.77"),
        "archiver": sp("sp-customs-archiver", "0e4d7b92-5c16-4f8a-a3e1-9b2c6d7f4a08", "10.60.4.20"),
        "backup": sp("Backup Management Service", "262044b1-e2ce-469f-a196-69ab7ada62d3", "51.140.212.36"),
        "dmitri": user("dmitri.volkov@portkestrel.co.uk", "Dmitri Volkov", "203.0.113.52"),
        "oncall": user("hannah.briggs@portkestrel.co.uk", "Hannah Briggs", "203.0.113.7"),
        "admin": user("it-admin@portkestrel.co.uk", "IT Admin", "203.0.113.10"),
        "ops": group("grp-customs-ops"),
    },
    "role_assignments": [
        {"who": "ops", "role": "Contributor", "scope": "rg", "created": "2024-04-18T09:22:40.31Z"},
        {"who": "patching", "role": "Virtual Machine Contributor", "scope": "rg", "created": "2025-02-03T11:05:12.6Z"},
        {"who": "pipeline", "role": "Contributor", "scope": "rg", "created": "2024-04-18T09:30:02.5Z"},
        {"who": "oncall", "role": "Virtual Machine Contributor", "scope": "rg", "created": "2025-09-01T07:45:19.2Z"},
        {"who": "dmitri", "role": "Contributor", "scope": "sub", "created": "2023-11-06T13:10:55.8Z"},
        {"who": "admin", "role": "Owner", "scope": "sub", "created": "2023-06-12T08:00:31.1Z"},
    ],
    "network": {
        "vnet": {"name": "vnet-customs-prod", "address_space": ["10.60.0.0/16"], "dns_servers": [], "subnets": [
            {"name": "snet-customs-proc", "prefix": "10.60.4.0/24", "nsg": "nsg-snet-customs-proc"},
            {"name": "snet-customs-edi", "prefix": "10.60.6.0/24", "nsg": "nsg-snet-customs-edi"},
        ]},
        "asgs": ["asg-customs-proc"],
        "nsgs": [
            {"name": "nsg-snet-customs-proc", "rules": [
                {"name": "AllowSshOpsVpn", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": "203.0.113.0/24", "dst": "VirtualNetwork", "dst_port": "22"},
                {"name": "AllowEdiFromGateway", "priority": 200, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": "10.60.6.0/24", "dst_asgs": ["asg-customs-proc"], "dst_port": ["7400", "7443"]},
                {"name": "DenyAllOtherInbound", "priority": 4096, "direction": "Inbound", "access": "Deny", "protocol": "*",
                 "src": "*", "dst": "*", "dst_port": "*"},
            ]},
            {"name": "nsg-snet-customs-edi", "rules": [
                {"name": "AllowAs2FromHmrc", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": ["198.51.100.16/28", "198.51.100.48/28"], "dst": "10.60.6.0/24", "dst_port": "443"},
            ]},
        ],
    },
    "vms": [
        _vm("customs-proc-01", "10.60.4.10", "1", "2024-04-18T10:02:33.1275510Z", broken=True,
            view={"power": "running", "agent": "not_ready", "agent_at": "2026-11-25T03:22:51Z",
                  "provisioned_at": "2026-11-25T03:12:20.4409313Z", "disks_at": "2026-11-25T03:11:59.1018832Z"},
            serial_pad=512),
        _vm("customs-proc-02", "10.60.4.11", "2", "2024-04-18T10:02:35.8843301Z",
            view={"power": "running", "agent": "ready", "agent_at": "2026-11-25T06:18:40Z",
                  "provisioned_at": "2026-11-25T03:24:12.7702165Z", "disks_at": "2026-11-25T03:23:51.5524098Z"}),
        _vm("customs-proc-03", "10.60.4.12", "3", "2024-04-18T10:02:34.6617029Z", accelerated=False,
            view={"power": "running", "agent": "ready", "agent_at": "2026-11-25T06:19:02Z",
                  "provisioned_at": "2026-11-25T03:35:43.0913477Z", "disks_at": "2026-11-25T03:35:21.3325610Z"}),
    ],
    "activity": [
        *[op for vm in SUN for op in (
            {"at": PATCH_START[vm][0], "op": "vm_install_patches", "vm": vm, "by": "patching", "took": 388},
            restart(vm, SUN[vm], "patching"),
            {"at": PATCH_START[vm][1], "op": "vm_install_patches", "vm": vm, "by": "patching", "took": 655 if vm == "customs-proc-01" else 540},
            restart(vm, WED[vm], "patching", took=32))],
        {"at": "2026-11-22T15:40:12.774Z", "op": "vm_write", "vm": "customs-proc-01", "by": "dmitri", "took": 28,
         "request_body": json.dumps({"location": "uksouth", "properties": {"storageProfile": {"dataDisks": [
             {"lun": 0, "name": "customs-proc-01-spool", "createOption": "Attach", "caching": "ReadOnly"},
             {"lun": 1, "name": "customs-proc-01-archive", "createOption": "Attach", "caching": "ReadOnly",
              "toBeDetached": True}]}}}, separators=(",", ":"))},
        {"at": "2026-11-22T15:46:31.092Z", "op": "disk_write", "by": "dmitri", "resource": "Microsoft.Compute/disks/customs-proc-01-archive", "took": 6},
        {"at": "2026-11-22T16:03:09.318Z", "op": "tags_write", "by": "dmitri", "resource": "Microsoft.Resources/tags/default"},
        *restore_points(list(SUN), "2026-11-22T23:30:12.551Z", rg="AzureBackupRG_uksouth_1"),
        *restore_points(list(SUN), "2026-11-23T23:30:40.118Z", rg="AzureBackupRG_uksouth_1"),
        *restore_points(list(SUN), "2026-11-24T23:31:02.907Z", rg="AzureBackupRG_uksouth_1"),
        *[{"at": f"2026-11-{d}T01:00:0{d[1]}.{d}4Z", "op": "storage_listkeys", "by": "archiver", "rg": "rg-customs-data",
           "resource": "Microsoft.Storage/storageAccounts/stcustomsarchive"} for d in ("22", "23", "24", "25")],
        {"at": "2026-11-24T14:20:45.660Z", "op": "deployment_write", "by": "pipeline", "rg": "rg-customs-edi",
         "resource": "Microsoft.Resources/deployments/edi-gateway-release-2026.11.4", "took": 184},
        {"at": "2026-11-25T05:41:27.339Z", "op": "storage_listkeys", "by": "oncall", "rg": "rg-customs-data",
         "resource": "Microsoft.Storage/storageAccounts/stcustomsarchive"},
    ],
    "resource_health": [reboot_health("customs-proc-01", "2026-11-25T03:11:53.120Z", "2026-11-25T03:12:31.884Z")],
}
