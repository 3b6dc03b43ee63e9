"""What a lab disk holds, and the disk resources the scenarios' VMs refer to.

A scenario's ``resources.json`` lists VMs whose ``storageProfile`` names managed disks it does not
list itself; :func:`find_disk` serves those from the VM (``Attached``, ``managedBy`` the VM). The
OS disk of a VM with a scripted guest holds that guest: :class:`DiskContent`, taken from the
guest as it is when the disk is first read (files edited over the console included). A snapshot
or a disk copied from one holds a deep copy; a repair VM's rescue shell edits a copy's files in
place; a VM started from a disk boots what it holds.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.ids import try_parse
from kit.lab._real_disks import copy_image
from kit.lab._state import LabState
from kit.lab.gateway import hub_of
from kit.lab.guest import Guest, WindowsGuest
from kit.lab.realguest import RealGuest

__all__ = ["DiskContent", "content_of", "copied", "find_disk", "set_content", "vm_of_disk"]

_CONTENTS = "disk_contents"
_DERIVED = "disk_contents_derived_from"  # disk id → the VM body its content was taken from


@dataclass
class DiskContent:
    """An OS disk's filesystem as the lab knows it.

    Parameters
    ----------
    scenario
        The scenario it comes from.
    definition
        The guest data (:func:`kit.lab.guest.guest_definition` shape); ``files`` is the filesystem.
    boot_log
        The serial log of the last boot from this disk (the next boot is written from it).
    responder_ip, username, password
        The scenario guest's (kept in memory only).
    image, variant
        A real guest's disk: the raw image file, and the real-guest variant it was made from (what
        its check judges); ``None`` and ``""`` for scripted guests.
    """

    scenario: str
    definition: dict[str, Any]
    boot_log: bytes
    responder_ip: str = ""
    username: str | None = None
    password: str | None = None
    image: Path | None = None
    variant: str = ""

    @property
    def files(self) -> dict[str, str]:
        """The filesystem, path → text (edit in place)."""
        files: dict[str, str] = self.definition.setdefault("files", {})
        return files

    def copy(self) -> DiskContent:
        """A deep copy (what a snapshot or a disk copy holds; a real guest's image is copied by :func:`copied`)."""
        return copy.deepcopy(self)


async def copied(state: LabState, content: DiskContent, target_id: str) -> DiskContent:
    """What a snapshot or disk copied from ``content`` holds: its files, or a copy of its image file."""
    duplicate = content.copy()
    if content.image is not None:
        duplicate.image = await copy_image(state, content.image, target_id)
    return duplicate


def _contents(state: LabState) -> dict[str, DiskContent]:
    contents: dict[str, DiskContent] = state.extras.setdefault(_CONTENTS, {})
    return contents


def set_content(state: LabState, disk_id: str, content: DiskContent | None) -> None:
    """Make ``disk_id`` hold ``content`` (``None``: forget it, the disk was deleted)."""
    if content is None:
        _contents(state).pop(disk_id.lower(), None)
    else:
        _contents(state)[disk_id.lower()] = content


def content_of(state: LabState, disk_id: str) -> DiskContent | None:
    """What ``disk_id`` holds: stored, or the scripted guest of the scenario VM it is the OS disk of."""
    key = disk_id.lower()
    derived: dict[str, Any] = state.extras.setdefault(_DERIVED, {})
    source = derived.get(key)
    if key in _contents(state) and (source is None or state.get(str(source["id"])) is source):
        return _contents(state)[key]  # a scenario put back as loaded has new VM bodies: derive again
    vm = vm_of_disk(state, disk_id)
    if vm is None or _os_disk_id(vm).lower() != key:
        return None
    parsed = try_parse(disk_id)
    info = state.scenario_for(parsed.subscription_id) if parsed is not None else None
    if info is None or str(vm.get("name", "")) not in info.vms:
        return None
    guest = hub_of(state).guest(info.name, str(vm["id"]))
    if isinstance(guest, RealGuest):  # a real QEMU guest: its disk is the image file it runs from
        content = DiskContent(info.name, {}, guest.boot_log(), image=guest.qemu.disk, variant=guest.variant)
        _contents(state)[key] = content
        derived[key] = vm
        return content
    if not isinstance(guest, Guest):
        return None
    definition = copy.deepcopy(guest.definition)
    definition["files"] = dict(getattr(guest.shell, "files", definition.get("files", {})))  # Windows: as defined
    if isinstance(guest.shell, WindowsGuest):  # its registry and services as they are now (console edits included)
        definition["services"] = copy.deepcopy(guest.shell.services)
        definition["registry"] = copy.deepcopy(guest.shell.registry)
    content = DiskContent(info.name, definition, guest.boot_log(), guest.responder_ip,
                          str(info.guest.get("username", "")) or None, str(info.guest.get("password", "")) or None)
    _contents(state)[key] = content
    derived[key] = vm
    return content


def vm_of_disk(state: LabState, disk_id: str) -> dict[str, Any] | None:
    """The VM whose storageProfile names ``disk_id`` (OS or data disk), if any."""
    key = disk_id.lower()
    parsed = try_parse(disk_id)
    if parsed is None:
        return None
    for vm in state.of_type(parsed.subscription_id, "Microsoft.Compute/virtualMachines"):
        storage = vm.get("properties", {}).get("storageProfile", {})
        ids = [_os_disk_id(vm)] + [str(d.get("managedDisk", {}).get("id", "")) for d in storage.get("dataDisks", [])]
        if key in (i.lower() for i in ids):
            return vm
    return None


def find_disk(state: LabState, disk_id: str) -> dict[str, Any] | None:
    """The disk's body: stored, or made from the scenario VM that names it (then stored)."""
    body = state.get(disk_id)
    if body is not None:
        return body
    vm = vm_of_disk(state, disk_id)
    parsed = try_parse(disk_id)
    if vm is None or parsed is None:
        return None
    properties = vm.get("properties", {})
    storage = properties.get("storageProfile", {})
    is_os = _os_disk_id(vm).lower() == disk_id.lower()
    entry = storage.get("osDisk", {}) if is_os else next(
        d for d in storage.get("dataDisks", [])
        if str(d.get("managedDisk", {}).get("id", "")).lower() == disk_id.lower())
    disk_properties: dict[str, Any] = {
        "creationData": {"createOption": "FromImage", "imageReference": {"id": _image_id(vm)}} if is_os
        else {"createOption": "Empty"},
        "diskSizeGB": int(entry.get("diskSizeGB", 30)),
        "diskIOPSReadWrite": 120, "diskMBpsReadWrite": 25,
        "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
        "networkAccessPolicy": "AllowAll", "publicNetworkAccess": "Enabled",
        "timeCreated": str(properties.get("timeCreated", _now())),
        "provisioningState": "Succeeded", "diskState": "Attached", "uniqueId": str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                                              disk_id.lower())),
        "diskSizeBytes": int(entry.get("diskSizeGB", 30)) * 1024 ** 3,
    }
    if is_os:
        disk_properties["osType"] = storage.get("osDisk", {}).get("osType", "Linux")
        disk_properties["hyperVGeneration"] = _hyper_v_generation(vm)
        security = properties.get("securityProfile", {}).get("securityType")
        if security:
            disk_properties["securityProfile"] = {"securityType": security}
    account = entry.get("managedDisk", {}).get("storageAccountType", "Premium_LRS")
    body = {"id": disk_id, "name": parsed.name, "type": "Microsoft.Compute/disks", "location": vm.get("location"),
            "managedBy": vm["id"], "sku": {"name": account, "tier": account.split("_")[0]},
            "properties": disk_properties}
    if vm.get("zones"):
        body["zones"] = list(vm["zones"])
    state.put(disk_id, body)
    return body


def _hyper_v_generation(vm: dict[str, Any]) -> str:
    """``V2`` for Trusted Launch / UEFI VMs and ``-gen2`` images, else ``V1``."""
    properties = vm.get("properties", {})
    if properties.get("securityProfile", {}).get("securityType") in ("TrustedLaunch", "ConfidentialVM"):
        return "V2"
    sku = str(properties.get("storageProfile", {}).get("imageReference", {}).get("sku", "")).lower()
    return "V1" if "gen1" in sku else "V2" if "gen2" in sku or sku == "server" else "V1"


def _os_disk_id(vm: dict[str, Any]) -> str:
    storage = vm.get("properties", {}).get("storageProfile", {})
    return str(storage.get("osDisk", {}).get("managedDisk", {}).get("id", ""))


def _image_id(vm: dict[str, Any]) -> str:
    image = vm.get("properties", {}).get("storageProfile", {}).get("imageReference", {})
    parsed = try_parse(str(vm["id"]))
    subscription = parsed.subscription_id if parsed is not None else ""
    return (f"/Subscriptions/{subscription}/Providers/Microsoft.Compute/Locations/{vm.get('location')}"
            f"/Publishers/{image.get('publisher')}/ArtifactTypes/VMImage/Offers/{image.get('offer')}/Skus/{image.get('sku')}"
            f"/Versions/{image.get('exactVersion', image.get('version', 'latest'))}")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
