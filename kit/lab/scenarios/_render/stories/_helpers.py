"""Building blocks the story files share: VMs, principals, routine noise operations."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from kit.lab.scenarios._render.common import guid, hexid, ts

__all__ = ["MONITOR_AGENT", "MONITOR_AGENT_WIN", "after", "boot_chain", "group", "linux_vm", "reboot_health",
           "restart", "restore_points", "running_view", "sp", "user"]

MONITOR_AGENT = {"name": "AzureMonitorLinuxAgent", "publisher": "Microsoft.Azure.Monitor", "type": "AzureMonitorLinuxAgent",
                 "version": "1.33", "handler_version": "1.33.2", "auto_upgrade": True}
MONITOR_AGENT_WIN = {"name": "AzureMonitorWindowsAgent", "publisher": "Microsoft.Azure.Monitor", "type": "AzureMonitorWindowsAgent",
                     "version": "1.31", "handler_version": "1.31.0.0", "auto_upgrade": True}


def _disk_uuid(*parts: object) -> str:
    """A stable file-system UUID (version 4 in form) for ``parts``."""
    return str(uuid.UUID(hex=hexid(*parts, "fs-uuid"), version=4))


def user(upn: str, name: str, ip: str, app: str = "portal") -> dict[str, Any]:
    """A user principal (its object id derived from the UPN)."""
    return {"kind": "user", "upn": upn, "name": name, "ip": ip, "oid": guid("oid", upn), "app": app}


def sp(name: str, appid: str, ip: str) -> dict[str, Any]:
    """A service principal (its object id derived from the name)."""
    return {"kind": "sp", "name": name, "appid": appid, "ip": ip, "oid": guid("oid", name)}


def group(name: str) -> dict[str, Any]:
    """An Entra group (its object id derived from the name)."""
    return {"kind": "group", "name": name, "oid": guid("oid", name)}


def linux_vm(name: str, ip: str, subnet: str, *, created: str, boots: list[dict[str, Any]], view: dict[str, Any],
             size: str = "Standard_D4s_v5", zone: str | None = "1", image: str = "ubuntu2404",
             disks: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """A Linux VM of a story. ``disks``: ``[{lun, size_gb, mount, suffix}]`` (model + guest view)."""
    disks = disks or []
    cpus = {"Standard_D2s_v5": 2, "Standard_D4s_v5": 4, "Standard_D8s_v5": 8, "Standard_E4s_v5": 4,
            "Standard_F8s_v2": 8, "Standard_D4as_v5": 4, "Standard_B2ms": 2}.get(size, 4)
    mem = {"Standard_D2s_v5": 8, "Standard_D4s_v5": 16, "Standard_D8s_v5": 32, "Standard_E4s_v5": 32,
           "Standard_F8s_v2": 16, "Standard_D4as_v5": 16, "Standard_B2ms": 8}.get(size, 16)
    vm: dict[str, Any] = {
        "name": name, "ip": ip, "subnet": subnet, "size": size, "image": image, "created": created,
        "cpus": cpus, "mem_gib": mem, "temp_gib": {2: 75, 4: 150, 8: 300}.get(cpus, 150),
        "boots": boots, "view": view, "extensions": [MONITOR_AGENT],
        "data_disks": [{"lun": d["lun"], "name": f"{name}-{d['suffix']}", "size_gb": d["size_gb"]} for d in disks],
        "guest_disks": [{"lun": d["lun"], "dev": "sd" + "cdefgh"[i], "size_gb": d["size_gb"], "mount": d["mount"],
                         "uuid": d.get("uuid") or _disk_uuid(name, d["mount"])} for i, d in enumerate(disks)],
    }
    if zone:
        vm["zone"] = zone
    vm.update(extra)
    return vm


def restore_points(vms: list[str], at: str, rg: str | None = None) -> list[dict[str, Any]]:
    """The nightly Azure Backup (enhanced policy) restore points, one per VM, a few minutes apart."""
    out = []
    hh, mm = at[11:13], int(at[14:16])
    for i, vm in enumerate(vms):
        stamp = f"{at[:11]}{hh}:{mm + i * 3:02d}{at[16:]}"
        op = {"at": stamp, "op": "restore_point_write", "by": "backup", "took": 95 + i * 17,
              "resource": f"Microsoft.Compute/restorePointCollections/AzureBackup_{vm}_{hexid(vm, 'rpc', length=12)}/restorePoints/AzureBackup_{stamp[:10].replace('-', '')}_{hexid(vm, stamp, length=8)}"}
        if rg:
            op["rg"] = rg
        out.append(op)
    return out


def after(at: str, seconds: float) -> str:
    """``at`` plus ``seconds``, in the stories' ``…Z`` form (millisecond precision)."""
    moment = ts(at) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def running_view(agent_at: str, provisioned: str, disks: str) -> dict[str, Any]:
    """The instance-view facts of a running VM whose agent is ready (``view`` of :func:`linux_vm`)."""
    return {"power": "running", "agent": "ready", "agent_at": agent_at, "provisioned_at": provisioned, "disks_at": disks}


def restart(vm: str, at: str, by: str, took: int = 31) -> dict[str, Any]:
    """A ``vm_restart`` operation of the story's Activity Log."""
    return {"at": at, "op": "vm_restart", "vm": vm, "by": by, "took": took}


def boot_chain(first: str, restarts: list[str], *, last: dict[str, Any] | None = None,
               each: dict[str, Any] | None = None, events: dict[int, list[dict[str, Any]]] | None = None,
               kinds: dict[int, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Boots of one VM: the first at ``first``, then one after each restart (guest shutdown
    ~3 s after the restart request, the new kernel ~17 s after it). ``kinds[i]`` adds keys to boot i."""
    starts = [first] + [after(r, 17.2 + (len(r) % 3) * 0.9) for r in restarts]
    boots = []
    for i, start in enumerate(starts):
        boot: dict[str, Any] = {"at": start, "kind": "normal", **(each or {}), "events": list((events or {}).get(i, []))}
        if i < len(restarts):
            boot["end"] = {"at": after(restarts[i], 2.7), "how": "reboot"}
        boot.update((kinds or {}).get(i, {}))
        boots.append(boot)
    if last:
        boots[-1].update(last)
    return boots


def reboot_health(vm: str, at: str, back: str | None) -> dict[str, Any]:
    """Resource Health around a user-initiated restart (Unavailable, then Available when it is back)."""
    stages = [{"at": at, "status": "Active", "current": "Unavailable", "previous": "Available",
               "title": "Rebooting (user initiated)",
               "details": "The virtual machine is rebooting as requested by an authorized user or process. It will be back online after the reboot completes.",
               "type": "Downtime", "cause": "UserInitiated"}]
    if back:
        stages.append({"at": back, "status": "Resolved", "current": "Available", "previous": "Unavailable",
                       "title": "Available", "details": "There aren't any known Azure platform problems affecting this virtual machine.",
                       "type": "Downtime", "cause": "UserInitiated", "level": "Informational"})
    return {"vm": vm, "stages": stages}
