"""Microsoft.Compute disks and snapshots: GET, PUT (a copy of a disk or a snapshot), DELETE.

Shaped like Azure's (``Disk_Get``, ``Disk_Create_ByCopyingASnapshot``,
``Snapshot_Create_FromAnExistingSnapshot``): ``diskState`` is ``Attached``, ``Reserved`` (its VM is
deallocated) or ``Unattached``; a PUT answers 202 with the body ``Updating`` and an
``Azure-AsyncOperation`` to poll, and the copy holds what its source holds (:mod:`kit.lab._disks`);
Azure Disk Encryption settings (``encryptionSettingsCollection``) travel with every copy. A disk
attached to a VM (``managedBy``) cannot be deleted (409). The scenario VMs' own disks are served
from their ``storageProfile``. Every write is logged in the Activity Log.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any

from aiohttp import web

from kit.ids import try_parse
from kit.lab._activity import record_write
from kit.lab._arm import ArmHandler, arm_error, arm_json, arm_route, check_scope, read_json_body, resource_id, state_of
from kit.lab._disks import content_of, copied, find_disk, set_content
from kit.lab.arm_operations import start_operation
from kit.lab.policy import policy_refusal

__all__ = ["add_routes"]

_BASE = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute"
_TYPES = {"disks": "Microsoft.Compute/disks", "snapshots": "Microsoft.Compute/snapshots"}
#: What a copy inherits from its source.
_INHERITED = ("osType", "hyperVGeneration", "diskSizeGB", "encryption", "encryptionSettingsCollection",
              "securityProfile", "supportedCapabilities", "purchasePlan")


def add_routes(app: web.Application) -> None:
    """Register the disk and snapshot routes."""
    for kind in _TYPES:
        arm_route(app, "GET", f"{_BASE}/{kind}/{{name}}", _get(kind))
        arm_route(app, "PUT", f"{_BASE}/{kind}/{{name}}", _put(kind))
        arm_route(app, "DELETE", f"{_BASE}/{kind}/{{name}}", _delete(kind))


def _get(kind: str) -> ArmHandler:
    async def get(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        state = state_of(request)
        problem = check_scope(state, params["sub"], params["rg"])
        if problem is not None:
            return problem
        disk_id = resource_id(params["sub"], params["rg"], "Microsoft.Compute", kind, params["name"])
        body = find_disk(state, disk_id) if kind == "disks" else state.get(disk_id)
        if body is None:
            return _not_found(kind, params["name"], params["rg"])
        owner = str(body.get("managedBy") or "")
        if owner and state.power_state(owner) == "deallocated":  # a deallocated VM's disks are Reserved
            body = copy.deepcopy(body)
            body["properties"]["diskState"] = "Reserved"
        return arm_json(body)

    return get


def _put(kind: str) -> ArmHandler:
    async def put(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        state = state_of(request)
        problem = check_scope(state, params["sub"], params["rg"])
        if problem is not None:
            return problem
        body, problem = await read_json_body(request)
        if body is None:
            return problem  # type: ignore[return-value]
        if not body.get("location"):
            return arm_error(400, "LocationRequired", "The location property is required for this definition.")
        target_id = resource_id(params["sub"], params["rg"], "Microsoft.Compute", kind, params["name"])
        existing = find_disk(state, target_id) if kind == "disks" else state.get(target_id)
        if existing is not None:
            return arm_error(409, "OperationNotAllowed", f"The {kind[:-1]} '{params['name']}' already exists; the "
                                                         "lab only creates copies (delete it first).")
        properties = dict(body.get("properties") or {})
        creation = dict(properties.get("creationData") or {})
        if str(creation.get("createOption", "")).lower() != "copy":
            return arm_error(400, "InvalidParameter", "The lab creates disks and snapshots by copying: "
                                                      "creationData.createOption must be 'Copy'.")
        source_id = "/" + str(creation.get("sourceResourceId", "")).strip("/")
        source = _source(state, source_id)
        if source is None:
            return arm_error(404, "NotFound", f"Resource '{source_id}' was not found (creationData.sourceResourceId).")
        if str(body["location"]).replace(" ", "").lower() != str(source.get("location", "")).lower():
            return arm_error(400, "InvalidParameter", f"The source '{source_id}' is in {source.get('location')}; "
                                                      f"a copy must be created in the same region.")
        denied = policy_refusal(state, params["sub"], params["name"], body)
        if denied is not None:
            return denied
        stored = _copy_body(target_id, params["name"], kind, body, source, source_id)
        sku = str(stored.get("sku", {}).get("name", ""))
        if sku.upper().endswith("_ZRS") and stored.get("zones"):  # zone-redundant: in every zone, pinned to none
            return arm_error(409, "OperationNotAllowed", f"A disk with sku '{sku}' cannot be created in an "
                                                         "availability zone.")
        state.put(target_id, stored)
        content = content_of(state, source_id)
        set_content(state, target_id, await copied(state, content, target_id) if content is not None else None)
        record_write(state, target_id, "write", "PUT", 202, request.headers.get("x-ms-client-request-id"),
                     request.remote or "127.0.0.1")
        headers = start_operation(request, params["sub"], str(stored["location"]), stored,
                                  namespace="Microsoft.Compute")
        answer = copy.deepcopy(stored)
        answer["properties"]["provisioningState"] = "Updating"
        return arm_json(answer, 202, headers)

    return put


def _delete(kind: str) -> ArmHandler:
    async def delete(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        state = state_of(request)
        problem = check_scope(state, params["sub"], params["rg"])
        if problem is not None:
            return problem
        target_id = resource_id(params["sub"], params["rg"], "Microsoft.Compute", kind, params["name"])
        body = find_disk(state, target_id) if kind == "disks" else state.get(target_id)
        if body is None:
            return web.Response(status=204)
        if body.get("managedBy"):
            return arm_error(409, "OperationNotAllowed", f"Disk {params['name']} is attached to VM "
                                                         f"{body['managedBy']}.")
        state.delete(target_id)
        set_content(state, target_id, None)
        record_write(state, target_id, "delete", "DELETE", 202, request.headers.get("x-ms-client-request-id"),
                     request.remote or "127.0.0.1")
        headers = start_operation(request, params["sub"], str(body.get("location", "eastus")), None,
                                  namespace="Microsoft.Compute")
        return web.Response(status=202, headers=headers)

    return delete


def _source(state: Any, source_id: str) -> dict[str, Any] | None:
    parsed = try_parse(source_id)
    if parsed is None or parsed.kind.lower() not in (t.lower() for t in _TYPES.values()):
        return None
    return find_disk(state, source_id) if parsed.kind.lower() == "microsoft.compute/disks" else state.get(source_id)


def _copy_body(target_id: str, name: str, kind: str, body: dict[str, Any], source: dict[str, Any],
               source_id: str) -> dict[str, Any]:
    """The stored body of a copy: the request's settings over what the source passes on."""
    source_properties = source.get("properties", {})
    requested = dict(body.get("properties") or {})
    properties: dict[str, Any] = {key: copy.deepcopy(source_properties[key]) for key in _INHERITED
                                  if key in source_properties}
    properties.update({key: value for key, value in requested.items() if key != "creationData"})
    size = int(properties.get("diskSizeGB", 30))
    properties.update({
        "creationData": {"createOption": "Copy", "sourceResourceId": source_id,
                         "sourceUniqueId": source_properties.get("uniqueId", "")},
        "diskSizeGB": size, "diskSizeBytes": size * 1024 ** 3,
        "timeCreated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
        "provisioningState": "Succeeded", "uniqueId": str(uuid.uuid4()),
        "encryption": properties.get("encryption") or {"type": "EncryptionAtRestWithPlatformKey"},
    })
    properties["diskState"] = "Unattached"
    if kind == "snapshots":
        properties.setdefault("incremental", False)
    stored: dict[str, Any] = {"id": target_id, "name": name, "type": _TYPES[kind],
                              "location": str(body["location"]).replace(" ", "").lower(),
                              "sku": body.get("sku") or copy.deepcopy(source.get("sku", {"name": "Premium_LRS"})),
                              "properties": properties}
    if kind == "snapshots" and "sku" not in body:
        stored["sku"] = {"name": "Standard_LRS", "tier": "Standard"}
    for key in ("tags", "zones"):
        if key in body:
            stored[key] = body[key]
    return stored


def _not_found(kind: str, name: str, rg: str) -> web.Response:
    type_name = "disks" if kind == "disks" else "snapshots"
    return arm_error(404, "ResourceNotFound", f"The Resource 'Microsoft.Compute/{type_name}/{name}' under resource "
                                              f"group '{rg}' was not found. For more details please go to "
                                              "https://aka.ms/ARMResourceNotFoundFix")
