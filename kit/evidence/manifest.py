"""The bundle layout and its ``manifest.json``: the one description both writer and loader use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kit import __version__
from kit.times import utc_text

__all__ = [
    "FOLDERS",
    "FORMAT",
    "MANIFEST",
    "DIRECTORY_CALL",
    "SINGLE_FILES",
    "TEXT_FILES",
    "new_manifest",
]

FORMAT = "kit-bundle/1"
MANIFEST = "manifest.json"

#: single files: attribute name → (file name, kind) where kind is "json" or "bytes"; ``resource_health`` is the
#: VM's current Resource Health availability status, ``resource_health_history`` its list (``{"value": [...]}``)
SINGLE_FILES: dict[str, tuple[str, str]] = {
    "vm": ("vm.json", "json"),
    "instance_view": ("instance_view.json", "json"),
    "boot_diagnostics": ("boot_diagnostics.json", "json"),
    "serial_log": ("serial.log", "bytes"),
    "screenshot": ("screenshot.bmp", "bytes"),
    "activity_log": ("activity_log.json", "json"),
    "role_assignments": ("role_assignments.json", "json"),
    "serial_console_status": ("serial_console_status.json", "json"),
    "resource_health": ("resource_health.json", "json"),
    "resource_health_history": ("resource_health_history.json", "json"),
    "directory_objects": ("graph/directory_objects.json", "json"),
}

#: the call that fills ``graph/directory_objects.json`` (Microsoft Graph ``directoryObjects/getByIds``)
DIRECTORY_CALL = "directory_objects.get_by_ids"

#: raw files a person reads as text: SAS signatures are removed from them before they are written
#: (the file's manifest entry says how many, under ``redacted``)
TEXT_FILES = frozenset({"serial.log"})

#: per-resource folders: attribute name → folder (files are ``<folder>/<name>.json``)
FOLDERS: dict[str, str] = {
    "nics": "nics",
    "nsgs": "nsgs",
    "subnets": "subnets",
    "vnets": "vnets",
    "route_tables": "route_tables",
    "public_ips": "public_ips",
    "effective_nsgs": "effective_nsg",
    "effective_routes": "effective_routes",
}


def new_manifest(
    *,
    source: str,
    subscription_id: str,
    resource_group: str,
    vm_name: str,
    vm_id: str,
    window: Mapping[str, str | None],
    arm_endpoint: str = "",
    role: str = "subject",
    peers: list[str] | None = None,
    collector: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A manifest with every top-level field of ``kit-bundle/1``; files and failures come later.

    Parameters
    ----------
    source
        ``azure``, ``lab:<scenario>`` or ``import``.
    subscription_id, resource_group, vm_name, vm_id
        The VM the bundle is about.
    window
        ``{"start": …Z, "end": …Z}``, the Activity Log window.
    arm_endpoint
        Where the data came from (empty for imports).
    role
        ``subject`` or ``known-good``.
    peers
        Sibling bundle folder names (known-good VMs for the subject, the subject for a peer).
    collector
        ``{"principal": …, "tenant": …}`` when known.
    """
    return {
        "format": FORMAT,
        "kit_version": __version__,
        "collected_at": utc_text(),
        "collector": collector or {"principal": None, "tenant": None},
        "source": source,
        "arm_endpoint": arm_endpoint,
        "subscription_id": subscription_id,
        "resource_group": resource_group,
        "vm_name": vm_name,
        "vm_id": vm_id,
        "role": role,
        "peers": list(peers or []),
        "window": dict(window),
        "files": [],
        "failures": [],
    }
