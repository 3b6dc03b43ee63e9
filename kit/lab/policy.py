"""Azure Policy's deny effect on the writes a repair makes: a required tag, allowed VM sizes.

An enterprise landing zone often assigns the built-in "Require a tag on resources" and "Allowed
virtual machine size SKUs" with effect ``deny``; ARM then refuses the PUT with 403
``RequestDisallowedByPolicy`` and a message naming the assignment (the shape Azure sends when the
assignment sets no non-compliance message). :func:`require_tag` and :func:`allow_sizes` assign
them in the lab; :func:`policy_refusal` is the answer a PUT gets.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from kit.lab._arm import arm_error
from kit.lab._state import LabState

__all__ = ["allow_sizes", "policy_refusal", "require_tag"]

_KEY = "policy_denies"
_REQUIRE_TAG = ("Require a tag on resources", "871b6d14-10aa-478d-b590-94f262ecfa99")
_ALLOWED_SIZES = ("Allowed virtual machine size SKUs", "cccc23c7-8427-4f53-ad12-b6a63eb452b3")


def require_tag(state: LabState, name: str) -> None:
    """Deny every later resource PUT that lacks the tag ``name``."""
    state.extras.setdefault(_KEY, {})["tag"] = name


def allow_sizes(state: LabState, *sizes: str) -> None:
    """Deny every later VM PUT whose size is not one of ``sizes``."""
    state.extras.setdefault(_KEY, {})["sizes"] = {size.lower() for size in sizes}


def policy_refusal(state: LabState, subscription: str, name: str, body: dict[str, Any],
                   vm_size: str | None = None) -> web.Response | None:
    """The 403 a PUT of ``body`` (named ``name``) gets from the lab's policy assignments, or ``None``."""
    denies = state.extras.get(_KEY, {})
    tag = denies.get("tag")
    if tag and tag not in (body.get("tags") or {}):
        return _denied(subscription, name, _REQUIRE_TAG, "require-tag")
    sizes = denies.get("sizes")
    if vm_size is not None and sizes and vm_size.lower() not in sizes:
        return _denied(subscription, name, _ALLOWED_SIZES, "allowed-vm-sizes")
    return None


def _denied(subscription: str, name: str, definition: tuple[str, str], assignment: str) -> web.Response:
    display, guid = definition
    identifiers = [{"policyAssignment": {
        "name": display, "id": f"/subscriptions/{subscription}/providers/Microsoft.Authorization/policyAssignments/"
                             f"{assignment}"},
        "policyDefinition": {"name": display, "id": f"/providers/Microsoft.Authorization/policyDefinitions/{guid}"}}]
    return arm_error(403, "RequestDisallowedByPolicy", f"Resource '{name}' was disallowed by policy. Policy "
                                                       f"identifiers: '{json.dumps(identifiers)}'.")
