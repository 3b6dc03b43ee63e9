"""Whether a new Linux VM would boot a data disk attached at its creation instead of its own OS disk.

Every VM made from a marketplace image carries the image's root file system UUID and label (Ubuntu's
``cloudimg-rootfs``), and so does every copy of its OS disk. A VM created from the same image with
such a copy attached boots with two roots of one identity, and GRUB or the initramfs may take the
copy's: the "repair VM" boots the broken system and its agent never reports Ready. ``az vm repair``
attaches the copy only after the repair VM has booted for this reason (``vm-repair``'s ``create``:
"done after VM creation to avoid a UUID mismatch causing an incorrect boot"); the lab makes a VM
created with such a copy attached boot it, so a flow that attaches at creation fails as it can on Azure.
"""

from __future__ import annotations

from typing import Any

from kit.lab._disks import find_disk
from kit.lab._state import LabState

__all__ = ["booted_copy"]


def booted_copy(state: LabState, vm: dict[str, Any]) -> str | None:
    """The name of the data disk ``vm`` boots instead of its own OS disk, if one of them clashes."""
    storage = vm.get("properties", {}).get("storageProfile", {})
    if str(storage.get("osDisk", {}).get("osType", "Linux")).lower() != "linux":
        return None
    own = _image_family(str(_image_path(storage.get("imageReference") or {})))
    for entry in storage.get("dataDisks", []):
        disk = find_disk(state, str(entry.get("managedDisk", {}).get("id", "")))
        if disk is not None and str(disk["properties"].get("osType", "")).lower() == "linux" \
                and own is not None and _image_family(_origin(state, disk)) == own:
            return str(disk["name"])
    return None


def _origin(state: LabState, disk: dict[str, Any]) -> str:
    """The image a disk's content comes from, through the snapshots and copies it was made from."""
    seen: set[str] = set()
    current: dict[str, Any] | None = disk
    while current is not None and str(current.get("id", "")).lower() not in seen:
        seen.add(str(current.get("id", "")).lower())
        creation = current.get("properties", {}).get("creationData", {})
        image = str((creation.get("imageReference") or {}).get("id", ""))
        if image:
            return image
        source = str(creation.get("sourceResourceId", ""))
        current = (state.get(source) or find_disk(state, source)) if source else None
    return ""


def _image_path(image: dict[str, Any]) -> str:
    return f"/Publishers/{image.get('publisher', '')}/ArtifactTypes/VMImage/Offers/{image.get('offer', '')}"


def _image_family(image_id: str) -> tuple[str, str] | None:
    """``(publisher, offer)`` of a platform image id: same family, same root file system identity."""
    parts = image_id.lower().split("/")
    if "publishers" not in parts or "offers" not in parts:
        return None
    publisher, offer = parts[parts.index("publishers") + 1], parts[parts.index("offers") + 1]
    return (publisher, offer) if publisher and offer else None
