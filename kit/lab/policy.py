"""Azure Policy's deny effect on the writes a repair makes: tags, VM sizes, encryption at host, disk encryption sets.

An enterprise landing zone often assigns the built-in "Require a tag on resources" and "Allowed
virtual machine size SKUs" with effect ``deny``; the Azure Landing Zones' compute guardrails deny
a VM without encryption at host ("Virtual machines and virtual machine scale sets should have
encryption at host enabled", audit by default); where data must be encrypted with the company's
own key, a policy denies any managed disk not encrypted with its disk encryption set. ARM then
refuses the PUT with 403 ``RequestDisallowedByPolicy`` and a message naming the assignment (the
shape Azure sends when the assignment sets no non-compliance message). Policy judges the request's
body, not what Azure would inherit: a snapshot or disk copied from a CMK disk must say
``encryption.diskEncryptionSetId`` itself, a VM its OS disk's ``managedDisk.diskEncryptionSet``.
:func:`require_tag`, :func:`allow_sizes`, :func:`require_encryption_at_host` and
:func:`require_disk_encryption_set` assign them in the lab; :func:`policy_refusal` is the answer a
PUT gets.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from kit.lab._arm import arm_error
from kit.lab._state import LabState

__all__ = ["allow_sizes", "policy_refusal", "require_disk_encryption_set", "require_encryption_at_host",
           "require_tag"]

_KEY = "policy_denies"
_REQUIRE_TAG = ("Require a tag on resources", "871b6d14-10aa-478d-b590-94f262ecfa99")
_ALLOWED_SIZES = ("Allowed virtual machine size SKUs", "cccc23c7-8427-4f53-ad12-b6a63eb452b3")
#: a custom definition (assigned at the subscription): the built-in ones for disk encryption sets audit by default
_REQUIRE_DES = ("Managed disks must use the company disk encryption set", "")
#: the built-in one assigned with effect deny (its default is audit)
_AT_HOST = ("Virtual machines and virtual machine scale sets should have encryption at host enabled",
            "fc4d8e41-e223-45ea-9bf5-eada37891d87")


def require_tag(state: LabState, name: str) -> None:
    """Deny every later resource PUT that lacks the tag ``name``."""
    state.extras.setdefault(_KEY, {})["tag"] = name


def allow_sizes(state: LabState, *sizes: str) -> None:
    """Deny every later VM PUT whose size is not one of ``sizes``."""
    state.extras.setdefault(_KEY, {})["sizes"] = {size.lower() for size in sizes}


def require_disk_encryption_set(state: LabState, encryption_set_id: str) -> None:
    """Deny every later disk, snapshot or VM PUT whose (OS) disk is not encrypted with ``encryption_set_id``."""
    state.extras.setdefault(_KEY, {})["disk_encryption_set"] = encryption_set_id.lower()


def require_encryption_at_host(state: LabState) -> None:
    """Deny every later VM PUT that does not ask for encryption at host."""
    state.extras.setdefault(_KEY, {})["encryption_at_host"] = True


def policy_refusal(state: LabState, subscription: str, name: str, body: dict[str, Any],
                   vm_size: str | None = None) -> web.Response | None:
    """The 403 a PUT of ``body`` (named ``name``) gets from the lab's policy assignments, or ``None``."""
    denies = state.extras.get(_KEY, {})
    at_host = ((body.get("properties") or {}).get("securityProfile") or {}).get("encryptionAtHost")
    if denies.get("encryption_at_host") and vm_size is not None and at_host is not True:
        return _denied(subscription, name, _AT_HOST, "encryption-at-host")
    encryption_set = denies.get("disk_encryption_set")
    if encryption_set and _disk_encryption_set(body) not in (None, encryption_set):
        return _denied(subscription, name, _REQUIRE_DES, "require-disk-encryption-set")
    tag = denies.get("tag")
    if tag and tag not in (body.get("tags") or {}):
        return _denied(subscription, name, _REQUIRE_TAG, "require-tag")
    sizes = denies.get("sizes")
    if vm_size is not None and sizes and vm_size.lower() not in sizes:
        return _denied(subscription, name, _ALLOWED_SIZES, "allowed-vm-sizes")
    return None


def _disk_encryption_set(body: dict[str, Any]) -> str | None:
    """The disk encryption set a disk, snapshot or VM body asks for (``""``: none), or ``None`` for other bodies."""
    properties = body.get("properties") or {}
    if "creationData" in properties:
        return str((properties.get("encryption") or {}).get("diskEncryptionSetId") or "").lower()
    os_disk = (properties.get("storageProfile") or {}).get("osDisk")
    if isinstance(os_disk, dict) and str(os_disk.get("createOption", "")).lower() == "fromimage":
        return str(((os_disk.get("managedDisk") or {}).get("diskEncryptionSet") or {}).get("id") or "").lower()
    return None


def _denied(subscription: str, name: str, definition: tuple[str, str], assignment: str) -> web.Response:
    display, guid = definition
    definition_id = f"/providers/Microsoft.Authorization/policyDefinitions/{guid}" if guid else \
        f"/subscriptions/{subscription}/providers/Microsoft.Authorization/policyDefinitions/{assignment}"
    identifiers = [{"policyAssignment": {
        "name": display, "id": f"/subscriptions/{subscription}/providers/Microsoft.Authorization/policyAssignments/"
                             f"{assignment}"},
        "policyDefinition": {"name": display, "id": definition_id}}]
    return arm_error(403, "RequestDisallowedByPolicy", f"Resource '{name}' was disallowed by policy. Policy "
                                                       f"identifiers: '{json.dumps(identifiers)}'.")
