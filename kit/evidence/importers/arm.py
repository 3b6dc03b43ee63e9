"""Importers for ARM resources and list responses (``az`` or REST shape)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kit.evidence.importers._base import Artifact, Importers
from kit.evidence.importers._shapes import to_rest, vm_to_rest

__all__ = [
    "ActivityLogImporter",
    "BootDiagnosticsImporter",
    "ConsoleStatusImporter",
    "EffectiveNsgImporter",
    "EffectiveRoutesImporter",
    "InstanceViewImporter",
    "ResourceHealthImporter",
    "ResourceHealthListImporter",
    "ResourceImporter",
    "ResourceListImporter",
    "RoleAssignmentsImporter",
    "VmImporter",
    "register",
]

_SNAKE = re.compile(r"_([a-z])")
_HEALTH = "microsoft.resourcehealth/availabilitystatuses"
_TIMESTAMPS = ("eventTimestamp", "submissionTimestamp")


def _items(doc: Any) -> list[Any] | None:
    """The items of a list response (``[...]`` or ``{"value": [...]}``), or ``None``."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and isinstance(doc.get("value"), list) and set(doc) <= {"value", "nextLink"}:
        return doc["value"]
    return None


def _nonempty_dicts(items: list[Any] | None) -> list[dict[str, Any]] | None:
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    return items


def _type_of(doc: Any) -> str:
    return str(doc.get("type", "")).lower() if isinstance(doc, dict) else ""


@dataclass(frozen=True)
class ResourceImporter:
    """One ARM resource type (``az … show`` or a REST GET body)."""

    name: str
    resource_type: str
    attribute: str
    description: str

    def accepts(self, doc: Any) -> bool:
        """A dict whose ``type`` is this resource type."""
        return _type_of(doc) == self.resource_type.lower()

    def load(self, doc: Any) -> list[Any]:
        """The resource in REST shape."""
        return [Artifact(self.attribute, to_rest(doc), name=doc.get("name"), resource_id=doc.get("id"))]


class VmImporter:
    """``az vm show`` / ``az vm get-instance-view`` (model + instance view) or a VM GET body."""

    name = "vm"
    description = "az vm show / az vm get-instance-view, or a VM GET body (with $expand=instanceView)"

    def accepts(self, doc: Any) -> bool:
        """A dict of type ``Microsoft.Compute/virtualMachines``."""
        return _type_of(doc) == "microsoft.compute/virtualmachines"

    def load(self, doc: Any) -> list[Any]:
        """The model, and the instance view when the document holds one."""
        body = vm_to_rest(dict(doc))
        properties = dict(body.get("properties") or {})
        instance_view = properties.pop("instanceView", None)
        body = {**body, "properties": properties}
        found = [Artifact("vm", body, name=body.get("name"), resource_id=body.get("id"))]
        if isinstance(instance_view, dict):
            found.append(Artifact("instance_view", instance_view, resource_id=body.get("id")))
        return found


class InstanceViewImporter:
    """A bare instance view (``GET …/instanceView``)."""

    name = "instance-view"
    description = "a VM instanceView body (GET …/instanceView)"

    def accepts(self, doc: Any) -> bool:
        """A dict with ``statuses`` and VM agent / OS fields, and no resource ``type``."""
        return (isinstance(doc, dict) and "type" not in doc and isinstance(doc.get("statuses"), list)
                and bool({"vmAgent", "osName", "computerName", "platformFaultDomain", "disks"} & set(doc)))

    def load(self, doc: Any) -> list[Any]:
        """The instance view as is."""
        return [Artifact("instance_view", doc)]


class BootDiagnosticsImporter:
    """``az vm boot-diagnostics get-boot-log-uris`` / ``retrieveBootDiagnosticsData``."""

    name = "boot-diagnostics"
    description = "az vm boot-diagnostics get-boot-log-uris (SAS stripped on import)"

    def accepts(self, doc: Any) -> bool:
        """A dict with the two blob URI keys."""
        return isinstance(doc, dict) and bool({"serialConsoleLogBlobUri", "consoleScreenshotBlobUri"} & set(doc))

    def load(self, doc: Any) -> list[Any]:
        """The URIs (the writer removes their signatures)."""
        return [Artifact("boot_diagnostics", doc)]


def _vm_of(status: dict[str, Any]) -> str | None:
    """The resource an availability status is about (its id without ``/providers/Microsoft.ResourceHealth/…``)."""
    status_id = str(status.get("id") or "")
    cut = status_id.lower().find("/providers/microsoft.resourcehealth/")
    return status_id[:cut] if cut > 0 else None


class ResourceHealthImporter:
    """``az rest`` of ``…/providers/Microsoft.ResourceHealth/availabilityStatuses/current``."""

    name = "resource-health"
    description = "az rest --url …/providers/Microsoft.ResourceHealth/availabilityStatuses/current"

    def accepts(self, doc: Any) -> bool:
        """An availability status body."""
        return _type_of(doc) == _HEALTH

    def load(self, doc: Any) -> list[Any]:
        """The status as is."""
        return [Artifact("resource_health", doc, resource_id=_vm_of(doc))]


class ResourceHealthListImporter:
    """``az rest`` of ``…/providers/Microsoft.ResourceHealth/availabilityStatuses`` (the history)."""

    name = "resource-health-history"
    description = "az rest --url …/providers/Microsoft.ResourceHealth/availabilityStatuses"

    def accepts(self, doc: Any) -> bool:
        """A list of availability statuses."""
        items = _nonempty_dicts(_items(doc))
        return items is not None and all(_type_of(item) == _HEALTH for item in items)

    def load(self, doc: Any) -> list[Any]:
        """``{"value": [...]}``, newest first as Resource Health answers it."""
        items = _items(doc) or []
        return [Artifact("resource_health_history", {"value": items}, resource_id=_vm_of(items[0]) if items else None)]


class ConsoleStatusImporter:
    """``consoleServices/default`` (subscription serial console status)."""

    name = "serial-console-status"
    description = "GET …/Microsoft.SerialConsole/consoleServices/default"

    def accepts(self, doc: Any) -> bool:
        """``{"properties": {"disabled": bool}}``."""
        return (isinstance(doc, dict) and isinstance(doc.get("properties"), dict)
                and isinstance(doc["properties"].get("disabled"), bool) and "type" not in doc) or (
            _type_of(doc) == "microsoft.serialconsole/consoleservices")

    def load(self, doc: Any) -> list[Any]:
        """The status body as is."""
        return [Artifact("serial_console_status", doc)]


class EffectiveNsgImporter:
    """``az network nic list-effective-nsg`` / ``effectiveNetworkSecurityGroups``."""

    name = "effective-nsg"
    description = "az network nic list-effective-nsg"

    def accepts(self, doc: Any) -> bool:
        """A list whose items have ``effectiveSecurityRules`` or ``association``."""
        items = _nonempty_dicts(_items(doc))
        return items is not None and all("effectiveSecurityRules" in item or "association" in item for item in items)

    def load(self, doc: Any) -> list[Any]:
        """``{"value": [...]}``; the NIC is resolved from the association when the bundle is built."""
        items = _items(doc) or []
        nic = next((((item.get("association") or {}).get("networkInterface") or {}).get("id")
                    for item in items if ((item.get("association") or {}).get("networkInterface") or {}).get("id")),
                   None)
        subnet = next((((item.get("association") or {}).get("subnet") or {}).get("id")
                       for item in items if ((item.get("association") or {}).get("subnet") or {}).get("id")), None)
        return [Artifact("effective_nsgs", {"value": items}, resource_id=nic or subnet)]


class EffectiveRoutesImporter:
    """``az network nic show-effective-route-table`` / ``effectiveRouteTable``."""

    name = "effective-routes"
    description = "az network nic show-effective-route-table"

    def accepts(self, doc: Any) -> bool:
        """A list whose items have ``nextHopType`` and ``source``."""
        items = _nonempty_dicts(_items(doc))
        return items is not None and all("nextHopType" in item and "source" in item for item in items)

    def load(self, doc: Any) -> list[Any]:
        """``{"value": [...]}``; the NIC is resolved when the bundle is built."""
        return [Artifact("effective_routes", {"value": _items(doc) or []})]


def _camel(key: str) -> str:
    return _SNAKE.sub(lambda match: match.group(1).upper(), key) if "_" in key else key


def _event_to_rest(event: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in event.items():
        key = _camel(key)
        if key in _TIMESTAMPS and isinstance(value, str) and value.endswith("+00:00"):
            value = value[: -len("+00:00")] + "Z"
        out[key] = value
    return out


class ActivityLogImporter:
    """``az monitor activity-log list`` (az or REST records)."""

    name = "activity-log"
    description = "az monitor activity-log list"

    def accepts(self, doc: Any) -> bool:
        """A list whose items have an event timestamp."""
        items = _nonempty_dicts(_items(doc))
        return items is not None and all("eventTimestamp" in item or "event_timestamp" in item for item in items)

    def load(self, doc: Any) -> list[Any]:
        """``{"value": [...]}`` with REST keys and ``Z`` timestamps."""
        return [Artifact("activity_log", {"value": [_event_to_rest(item) for item in _items(doc) or []]})]


class RoleAssignmentsImporter:
    """``az role assignment list`` (flattened) or a REST list."""

    name = "role-assignments"
    description = "az role assignment list"

    def accepts(self, doc: Any) -> bool:
        """A list of ``Microsoft.Authorization/roleAssignments``."""
        items = _nonempty_dicts(_items(doc))
        return items is not None and all(_type_of(item) == "microsoft.authorization/roleassignments" for item in items)

    def load(self, doc: Any) -> list[Any]:
        """``{"value": [...]}`` with every assignment nested under ``properties``."""
        return [Artifact("role_assignments", {"value": [to_rest(item) for item in _items(doc) or []]})]


_RESOURCES = (
    ResourceImporter("nic", "Microsoft.Network/networkInterfaces", "nics", "az network nic show"),
    ResourceImporter("nsg", "Microsoft.Network/networkSecurityGroups", "nsgs", "az network nsg show"),
    ResourceImporter("subnet", "Microsoft.Network/virtualNetworks/subnets", "subnets", "az network vnet subnet show"),
    ResourceImporter("vnet", "Microsoft.Network/virtualNetworks", "vnets", "az network vnet show"),
    ResourceImporter("route-table", "Microsoft.Network/routeTables", "route_tables", "az network route-table show"),
    ResourceImporter("public-ip", "Microsoft.Network/publicIPAddresses", "public_ips", "az network public-ip show"),
)


class ResourceListImporter:
    """``az … list`` of resources the kit knows (each item imported as if shown alone)."""

    name = "resource-list"
    description = "az network nic list / nsg list / vm list … (lists of known resources)"

    def accepts(self, doc: Any) -> bool:
        """A list whose every item is a resource some other importer takes."""
        items = _nonempty_dicts(_items(doc))
        return items is not None and all(any(importer.accepts(item) for importer in _SINGLE) for item in items)

    def load(self, doc: Any) -> list[Any]:
        """The artefacts of every item."""
        found: list[Any] = []
        for item in _items(doc) or []:
            importer = next(importer for importer in _SINGLE if importer.accepts(item))
            found.extend(importer.load(item))
        return found


_SINGLE: tuple[Any, ...] = (VmImporter(), *_RESOURCES)


def register(registry: Importers) -> None:
    """Add the ARM importers to ``registry``."""
    for importer in (*_SINGLE, InstanceViewImporter(), BootDiagnosticsImporter(), ConsoleStatusImporter(),
                     ResourceHealthImporter(), ResourceHealthListImporter(),
                     EffectiveNsgImporter(), EffectiveRoutesImporter(), ActivityLogImporter(),
                     RoleAssignmentsImporter(), ResourceListImporter()):
        registry.register(importer)
