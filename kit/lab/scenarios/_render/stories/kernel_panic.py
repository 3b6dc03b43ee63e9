"""Kernel panic: the patch run installed kernel 6.8.0-1018-azure while /boot was full, so
update-initramfs never wrote its initrd. GRUB boots the new kernel without one; with no storage
drivers it cannot find the root disk. The peers (same patch run, roomier /boot) boot 1018 fine."""

from typing import Any

from kit.lab.scenarios._render.stories._helpers import (
    after,
    boot_chain,
    linux_vm,
    reboot_health,
    restart,
    restore_points,
    sp,
    user,
)

__all__ = ["STORY"]

SUB = "5c9d3a7e-0b6f-4e21-8d94-a3f7c1e5b028"
TENANT = "a8e1f6c3-7d2b-4a95-b0c4-9e3d5f1a7c62"
RG = "rg-historian-prod"
NEW_KERNEL = "6.8.0-1018-azure"
OLD_KERNEL = "6.8.0-1017-azure"

PREV = {"hist-app-01": "2026-11-24T02:10:31.602Z", "hist-app-02": "2026-11-24T02:18:55.217Z",
        "hist-app-03": "2026-11-24T02:27:14.880Z"}
PATCH = {"hist-app-01": "2026-11-25T02:00:08.441Z", "hist-app-02": "2026-11-25T02:19:36.095Z",
         "hist-app-03": "2026-11-25T02:37:50.712Z"}
RESTART = {"hist-app-01": "2026-11-25T02:14:05.318Z", "hist-app-02": "2026-11-25T02:31:48.506Z",
           "hist-app-03": "2026-11-25T02:49:22.127Z"}
APP = [("influxdb.service", "InfluxDB is an open-source, distributed, time series database"),
       ("opcua-collector.service", "Tidewater OPC UA to InfluxDB collector")]


def _vm(name: str, ip: str, zone: str, created: str, *, broken: bool = False, **kw: Any) -> dict[str, Any]:
    last = {"kernel": NEW_KERNEL}
    if broken:
        last.update({"kind": "no_initrd_panic"})
    boots = boot_chain(after(PREV[name], 17.3), [RESTART[name]], each={"incarnation": 9}, kinds={1: last})
    return linux_vm(name, ip, "snet-historian", zone=zone, created=created, services=APP, boots=boots,
                    size="Standard_E4s_v5",
                    disks=[{"lun": 0, "size_gb": 1024, "mount": "/var/lib/influxdb", "suffix": "tsdb"}], **kw)


STORY = {
    "name": "kernel-panic",
    "title": "Plant historian down after the nightly patch reboot",
    "briefing": ("hist-app-01, one of the SCADA historian nodes, has not come back since the 02:00 UTC patch run on "
                 "25 Nov 2026: no SSH, no ping, and the collectors are buffering. The portal shows it running."),
    "subscription_id": SUB, "tenant_id": TENANT, "resource_group": RG, "location": "centralus",
    "broken_vm": "hist-app-01", "known_good": ["hist-app-02", "hist-app-03"],
    "responder_ip": "203.0.113.7",
    "window": {"start": "2026-11-24T00:00:00Z", "end": "2026-11-25T04:30:00Z"},
    "console_enabled": True,
    "expected": {"hypothesis": "boot_failure:kernel_panic", "next_step": "repair_vm", "level": "guest"},
    "guest": {"os": "linux", "username": "azureuser", "password": "Lab-Only-Pa55!"},
    "fix": (f"Attach the OS disk to a repair VM (az vm repair create), free space on /boot, run "
            f"update-initramfs -c -k {NEW_KERNEL} in a chroot (or make {OLD_KERNEL} the GRUB default), then restore "
            f"the disk (az vm repair restore)."),
    "facts": {
        "new_kernel": NEW_KERNEL, "previous_kernel": OLD_KERNEL,
        "missing_file": f"/boot/initrd.img-{NEW_KERNEL}", "cause": "/boot (sda16) full during update-initramfs",
        "panic": "VFS: Unable to mount root fs on unknown-block(0,0)",
        "patched_at": PATCH["hist-app-01"][:19] + "Z", "restarted_at": RESTART["hist-app-01"][:19] + "Z",
        "patch_operation": "Microsoft.Compute/virtualMachines/installPatches/action",
    },
    "tags": {"site": "tidewater-north", "app": "historian", "env": "prod"},
    "dns_zone": "dx",
    "management_group": "mg-tidewater-ot",
    "principals": {
        "patching": sp("sp-ot-update-manager", "f07c4b2e-6d18-4a39-9e5f-b2c8d1a3e746", "52.165.30.81"),
        "backup": sp("Backup Management Service", "262044b1-e2ce-469f-a196-69ab7ada62d3", "20.40.201.6"),
        "oncall": user("li.wei@tidewater-energy.com", "Li Wei", "203.0.113.7"),
        "eng": user("owen.pryce@tidewater-energy.com", "Owen Pryce", "203.0.113.33", app="cli"),
    },
    "role_assignments": [
        {"who": "patching", "role": "Virtual Machine Contributor", "scope": "rg", "created": "2025-07-08T15:21:40.3Z", "by": "eng"},
        {"who": "oncall", "role": "Virtual Machine Contributor", "scope": "rg", "created": "2025-07-08T15:25:12.8Z", "by": "eng"},
        {"who": "eng", "role": "Owner", "scope": "sub", "created": "2024-01-22T10:04:58.6Z", "by": "eng"},
    ],
    "network": {
        "vnet": {"name": "vnet-ot-dmz", "address_space": ["10.20.0.0/16"], "subnets": [
            {"name": "snet-historian", "prefix": "10.20.5.0/24", "nsg": "nsg-snet-historian"},
            {"name": "snet-collectors", "prefix": "10.20.6.0/24", "nsg": "nsg-snet-historian"},
        ]},
        "asgs": ["asg-historian"],
        "nsgs": [
            {"name": "nsg-snet-historian", "rules": [
                {"name": "Allow-SSH-OT-Admins", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": "203.0.113.0/24", "dst": "*", "dst_port": "22"},
                {"name": "Allow-Influx-From-Collectors", "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                 "src": "10.20.6.0/24", "dst_asgs": ["asg-historian"], "dst_port": ["8086", "8088"]},
                {"name": "Deny-Internet-In", "priority": 4000, "direction": "Inbound", "access": "Deny", "protocol": "*",
                 "src": "Internet", "dst": "*", "dst_port": "*"},
            ]},
        ],
    },
    "vms": [
        _vm("hist-app-01", "10.20.5.10", "1", "2025-07-08T15:40:02.9919403Z", broken=True, asgs=["asg-historian"],
            view={"power": "running", "agent": "not_ready", "agent_at": "2026-11-25T02:24:41Z",
                  "provisioned_at": "2026-11-25T02:14:36.8826310Z", "disks_at": "2026-11-25T02:14:15.4401986Z"},
            serial_pad=512),
        _vm("hist-app-02", "10.20.5.11", "2", "2025-07-08T15:40:05.2307716Z", asgs=["asg-historian"],
            view={"power": "running", "agent": "ready", "agent_at": "2026-11-25T04:11:09Z",
                  "provisioned_at": "2026-11-25T02:32:19.6028377Z", "disks_at": "2026-11-25T02:31:58.7731045Z"}),
        _vm("hist-app-03", "10.20.5.12", "3", "2025-07-08T15:40:04.0065122Z", asgs=["asg-historian"], accelerated=False,
            view={"power": "running", "agent": "ready", "agent_at": "2026-11-25T04:10:47Z",
                  "provisioned_at": "2026-11-25T02:49:53.3390218Z", "disks_at": "2026-11-25T02:49:32.1154871Z"}),
    ],
    "activity": [
        *[op for vm in PREV for op in (
            {"at": after(PREV[vm], -480.2), "op": "vm_install_patches", "vm": vm, "by": "patching", "took": 455},
            restart(vm, PREV[vm], "patching", took=30),
            {"at": PATCH[vm], "op": "vm_install_patches", "vm": vm, "by": "patching", "took": 820 if vm == "hist-app-01" else 690},
            restart(vm, RESTART[vm], "patching", took=31))],
        *restore_points(list(PREV), "2026-11-24T19:00:18.227Z", rg="AzureBackupRG_centralus_1"),
        {"at": "2026-11-24T10:22:40.513Z", "op": "storage_listkeys", "by": "eng", "rg": "rg-historian-archive",
         "resource": "Microsoft.Storage/storageAccounts/sthistarchive"},
        {"at": "2026-11-24T11:03:02.996Z", "op": "tags_write", "by": "eng", "resource": "Microsoft.Resources/tags/default"},
        {"at": "2026-11-24T15:48:19.470Z", "op": "deployment_write", "by": "eng", "rg": "rg-ot-collectors",
         "resource": "Microsoft.Resources/deployments/collectors-scale-out", "took": 205},
    ],
    "resource_health": [reboot_health("hist-app-01", "2026-11-25T02:14:10.226Z", "2026-11-25T02:14:47.018Z")],
}
