"""Private: turn the ``az`` (flattened) shape of an ARM resource back into the REST shape.

``az … show -o json`` lifts every key of ``properties`` to the top level, spells ``IP`` as
``Ip`` (``privateIpAddress`` for ``privateIPAddress``) and adds ``resourceGroup`` to every
resource and reference. :func:`to_rest` undoes that; a body that already has ``properties``
is taken as REST and returned unchanged.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["ENVELOPE", "is_az_shape", "rest_key", "to_rest", "vm_to_rest"]

#: keys that stay at the top level of an ARM resource (everything else is a property)
ENVELOPE = frozenset({"id", "name", "type", "location", "tags", "etag", "zones", "identity", "plan", "sku",
                      "extendedLocation", "managedBy", "systemData", "kind", "resources"})
#: keys ``az`` adds that are not part of the resource
_AZ_ONLY = frozenset({"resourceGroup"})
#: ``az vm show -d`` extras, derived from other resources
_AZ_VM_DETAILS = frozenset({"powerState", "publicIps", "privateIps", "fqdns", "macAddresses"})
#: keys whose REST spelling really is ``Ip``
_KEEP = frozenset({"nextHopIpAddress", "clientIpAddress"})
_IP = re.compile(r"(?<=[a-z])Ip(?=[A-Z]|$)")
#: list-valued properties whose items are full sub-resources (with their own ``properties``)
_CHILDREN = frozenset({"ipConfigurations", "securityRules", "defaultSecurityRules", "subnets", "routes",
                       "virtualNetworkPeerings"})
_NO_RENAME = frozenset({"tags"})


def rest_key(key: str) -> str:
    """The REST spelling of an ``az`` key (``privateIpAddress`` → ``privateIPAddress``)."""
    return key if key in _KEEP else _IP.sub("IP", key)


def is_az_shape(doc: dict[str, Any]) -> bool:
    """Whether a resource body is flattened (``az``) rather than REST (has ``properties``)."""
    return "properties" not in doc


def _plain(value: Any) -> Any:
    """Rename keys inside a nested value that is not a sub-resource; drop ``resourceGroup``."""
    if isinstance(value, dict):
        return {rest_key(k): (v if k in _NO_RENAME else _plain(v)) for k, v in value.items() if k not in _AZ_ONLY}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _is_reference(item: dict[str, Any]) -> bool:
    return set(item) <= {"id", "resourceGroup"}


def to_rest(doc: dict[str, Any], *, drop: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The REST shape of a resource body in either shape.

    Parameters
    ----------
    doc
        ``az`` output or a REST body.
    drop
        Extra top-level ``az`` keys to discard (``az vm show -d`` details).
    """
    if not is_az_shape(doc):
        return doc
    top: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for key, value in doc.items():
        if key in _AZ_ONLY or key in drop:
            continue
        if key in ENVELOPE:
            top[key] = value
            continue
        if key in _CHILDREN and isinstance(value, list):
            properties[rest_key(key)] = [
                _plain(item) if not isinstance(item, dict) or _is_reference(item) else to_rest(item)
                for item in value
            ]
        else:
            properties[rest_key(key)] = _plain(value)
    if properties:
        top["properties"] = properties
    return top


def vm_to_rest(doc: dict[str, Any]) -> dict[str, Any]:
    """A VM body in REST shape, without ``az vm show -d`` details."""
    return to_rest(doc, drop=_AZ_VM_DETAILS)
