"""Microsoft.Network writes a trainee fixes things with: NSGs and their rules, route tables and
their routes (PUT, and DELETE of a rule or route), and subnets (PUT, e.g. to detach a route table);
and the public IP update that makes a dynamic address static (it keeps the address it holds; a
Standard one asked to be dynamic is refused in Azure's words, "Standard sku publicIp … must have
AllocationMethod set to Static.").

Writes behave like Azure's: a PUT answers 201 (new) or 200 with ``provisioningState:
Updating`` and an ``Azure-AsyncOperation`` to poll; the resource reads ``Succeeded``
afterwards. Each write appends its Started + Succeeded records to the Activity Log.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from aiohttp import web

from kit.lab._activity import record_write
from kit.lab._arm import ArmHandler, arm_error, arm_json, arm_route, find, read_json_body, resource_id, state_of
from kit.lab._state import LabState
from kit.lab.arm_operations import start_operation
from kit.lab.public_ips import new_address

__all__ = ["add_routes"]

_NET = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network"
_PROTOCOLS = {"tcp": "Tcp", "udp": "Udp", "icmp": "Icmp", "esp": "Esp", "ah": "Ah", "*": "*"}
_NEXT_HOPS = ("VirtualNetworkGateway", "VnetLocal", "Internet", "VirtualAppliance", "None")
# Read-only properties a PUT body does not carry but the stored child keeps.
_READ_ONLY = ("ipConfigurations", "purpose", "privateEndpoints", "resourceNavigationLinks", "serviceAssociationLinks")


def add_routes(app: web.Application) -> None:
    """Register the NSG and route-table write routes."""
    arm_route(app, "PUT", f"{_NET}/networkSecurityGroups/{{parent}}", _put_top("networkSecurityGroups",
                                                                                "securityRules", _check_rule))
    arm_route(app, "PUT", f"{_NET}/routeTables/{{parent}}", _put_top("routeTables", "routes", _check_route))
    for parent_type, child_type, check in (("networkSecurityGroups", "securityRules", _check_rule),
                                           ("routeTables", "routes", _check_route)):
        pattern = f"{_NET}/{parent_type}/{{parent}}/{child_type}/{{child}}"
        arm_route(app, "PUT", pattern, _put_child(parent_type, child_type, check))
        arm_route(app, "DELETE", pattern, _delete_child(parent_type, child_type))
    arm_route(app, "PUT", f"{_NET}/virtualNetworks/{{parent}}/subnets/{{child}}",
              _put_child("virtualNetworks", "subnets", _check_subnet))
    arm_route(app, "PUT", f"{_NET}/publicIPAddresses/{{parent}}", _put_public_ip)


def _put_top(type_: str, child_type: str, check: Any) -> ArmHandler:
    async def put(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        state = state_of(request)
        current, problem = find(state, params["sub"], params["rg"], "Microsoft.Network", type_, params["parent"])
        if current is None:
            return problem  # type: ignore[return-value]
        body, problem = await read_json_body(request)
        if body is None:
            return problem  # type: ignore[return-value]
        properties = dict(body.get("properties") or {})
        children = []
        for child in properties.get(child_type) or []:
            child_problem = check(child.get("name"), child.get("properties") or {}, properties.get(child_type) or [])
            if child_problem:
                return child_problem
            child_id = f"{current['id']}/{child_type}/{child.get('name')}"
            children.append(_stamp(child_id, child.get("name", ""), f"Microsoft.Network/{type_}/{child_type}",
                                   child.get("properties") or {}, "Succeeded"))
        kept = {key: value for key, value in current.get("properties", {}).items()
                if key in ("defaultSecurityRules", "subnets", "networkInterfaces", "resourceGuid")}
        properties.update(kept, **{child_type: children})
        updated = _stamp(current["id"], current["name"], current["type"], properties, "Updating")
        updated.update({key: current[key] for key in ("location", "tags") if key in current})
        if "tags" in body:
            updated["tags"] = body["tags"]
        return _accept_write(request, params["sub"], current, current["id"], updated, 200)

    return put


async def _put_public_ip(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    current, problem = find(state, params["sub"], params["rg"], "Microsoft.Network", "publicIPAddresses",
                            params["parent"])
    if current is None:
        return problem  # type: ignore[return-value]
    body, problem = await read_json_body(request)
    if body is None:
        return problem  # type: ignore[return-value]
    wanted = dict(body.get("properties") or {})
    allocation = str(wanted.get("publicIPAllocationMethod") or current["properties"]["publicIPAllocationMethod"])
    if str((body.get("sku") or current.get("sku") or {}).get("name", "Basic")).lower() == "standard" \
            and allocation.lower() != "static":
        return arm_error(400, "InvalidRequestFormat", f"Standard sku publicIp {current['id']} must have "
                                                      "AllocationMethod set to Static.")
    updated = copy.deepcopy(current)
    updated["properties"].update({key: wanted[key] for key in ("idleTimeoutInMinutes", "dnsSettings", "ipTags")
                                  if key in wanted}, publicIPAllocationMethod=allocation)
    if allocation.lower() == "static":  # keeps the address it holds, or is given one now
        updated["properties"].setdefault("ipAddress", new_address())
    if "tags" in body:
        updated["tags"] = body["tags"]
    _set_state(updated, "Updating")
    return _accept_write(request, params["sub"], current, str(current["id"]), updated, 200)


def _put_child(parent_type: str, child_type: str, check: Any) -> ArmHandler:
    async def put(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        state = state_of(request)
        parent, problem = find(state, params["sub"], params["rg"], "Microsoft.Network", parent_type, params["parent"])
        if parent is None:
            return problem  # type: ignore[return-value]
        body, problem = await read_json_body(request)
        if body is None:
            return problem  # type: ignore[return-value]
        name = params["child"]
        siblings = [child for child in parent.get("properties", {}).get(child_type, [])
                    if str(child.get("name", "")).lower() != name.lower()]
        properties = dict(body.get("properties") or {})
        child_problem = check(name, properties, siblings) or _check_references(state, name, properties)
        if child_problem:
            return child_problem
        child_id = resource_id(params["sub"], params["rg"], "Microsoft.Network", parent_type, params["parent"],
                               child_type, name)
        existing = state.get(child_id)
        for key in _READ_ONLY:
            if existing is not None and key in existing.get("properties", {}):
                properties[key] = existing["properties"][key]
        child = _stamp(f"{parent['id']}/{child_type}/{name}", name, f"Microsoft.Network/{parent_type}/{child_type}",
                       properties, "Updating")
        existed = existing is not None
        return _accept_write(request, params["sub"], parent, child_id, child, 200 if existed else 201)

    return put


def _delete_child(parent_type: str, child_type: str) -> ArmHandler:
    async def delete(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        state = state_of(request)
        parent, problem = find(state, params["sub"], params["rg"], "Microsoft.Network", parent_type, params["parent"])
        if parent is None:
            return problem  # type: ignore[return-value]
        child_id = f"{parent['id']}/{child_type}/{params['child']}"
        if not state.delete(child_id):
            return web.Response(status=204)
        parent["etag"] = _etag()
        record_write(state, child_id, "delete", "DELETE", 200, request.headers.get("x-ms-client-request-id"),
                     request.remote or "127.0.0.1")
        return web.Response(status=200)

    return delete


def _accept_write(request: web.Request, sub: str, owner: dict[str, Any], written_id: str,
                  body: dict[str, Any], status: int) -> web.Response:
    """Store ``body`` (as Succeeded), log the write, answer it as Updating with an operation to poll."""
    state = state_of(request)
    stored = copy.deepcopy(body)
    _set_state(stored, "Succeeded")
    state.put(written_id, stored)
    if written_id.lower() != str(owner.get("id", "")).lower():
        owner["etag"] = _etag()
    record_write(state, written_id, "write", request.method, status, request.headers.get("x-ms-client-request-id"),
                 request.remote or "127.0.0.1")
    headers = start_operation(request, sub, str(owner.get("location", "eastus")).lower(), None)
    headers.pop("Location")
    return arm_json(body, status, headers)


def _check_rule(name: object, props: dict[str, Any], siblings: list[dict[str, Any]]) -> web.Response | None:
    for key in ("protocol", "access", "direction", "priority"):
        if props.get(key) in (None, ""):
            return arm_error(400, "InvalidRequestFormat", f"Cannot parse the request: security rule '{name}' lacks "
                                                           f"properties.{key}.")
    if str(props["protocol"]).lower() not in _PROTOCOLS:
        return arm_error(400, "SecurityRuleInvalidProtocol",
                         f"Security rule {name} has invalid Protocol {props['protocol']}. "
                         "Allowed: Tcp, Udp, Icmp, Esp, Ah, *.")
    if str(props["access"]) not in ("Allow", "Deny") or str(props["direction"]) not in ("Inbound", "Outbound"):
        return arm_error(400, "InvalidRequestFormat", f"Security rule {name}: access must be Allow or Deny and "
                                                       "direction Inbound or Outbound.")
    priority = props["priority"]
    if not isinstance(priority, int) or not 100 <= priority <= 4096:
        return arm_error(400, "SecurityRuleInvalidPriority", f"Security rule has invalid Priority. Value provided: "
                                                              f"{priority} Allowed range 100-4096.")
    for other in siblings:
        other_props = other.get("properties") or {}
        if other is not props and other.get("name") != name and other_props.get("priority") == priority \
                and other_props.get("direction") == props["direction"]:
            return arm_error(400, "SecurityRulesConflictingPriority",
                             f"Security rule {name} conflicts with rule {other.get('name')}. Rules cannot have "
                             f"the same Priority and Direction.")
    for side in ("source", "destination"):
        if not (props.get(f"{side}AddressPrefix") or props.get(f"{side}AddressPrefixes")
                or props.get(f"{side}ApplicationSecurityGroups")):
            return arm_error(400, "InvalidRequestFormat", f"Security rule {name} lacks {side}AddressPrefix.")
        if not (props.get(f"{side}PortRange") or props.get(f"{side}PortRanges")):
            return arm_error(400, "InvalidRequestFormat", f"Security rule {name} lacks {side}PortRange.")
    return None


def _check_route(name: object, props: dict[str, Any], siblings: list[dict[str, Any]]) -> web.Response | None:
    if not props.get("addressPrefix"):
        return arm_error(400, "InvalidRequestFormat", f"Route {name} lacks properties.addressPrefix.")
    hop = props.get("nextHopType")
    if hop not in _NEXT_HOPS:
        return arm_error(400, "InvalidRequestFormat", f"Route {name} has invalid nextHopType {hop!r}; "
                                                       f"expected one of {', '.join(_NEXT_HOPS)}.")
    if (hop == "VirtualAppliance") != bool(props.get("nextHopIpAddress")):
        return arm_error(400, "InvalidNextHopIpAddress" if hop == "VirtualAppliance" else "InvalidRequestFormat",
                         f"Route {name}: nextHopIpAddress is required for VirtualAppliance and only allowed there.")
    return None


def _check_subnet(name: object, props: dict[str, Any], siblings: list[dict[str, Any]]) -> web.Response | None:
    if not (props.get("addressPrefix") or props.get("addressPrefixes")):
        return arm_error(400, "InvalidRequestFormat", f"Subnet {name} lacks properties.addressPrefix.")
    return None


def _check_references(state: LabState, name: object, props: dict[str, Any]) -> web.Response | None:
    """ARM's answer when the body points at an NSG or route table that does not exist."""
    for key in ("networkSecurityGroup", "routeTable"):
        reference = (props.get(key) or {}).get("id")
        if reference and state.get(reference) is None:
            return arm_error(400, "InvalidResourceReference", f"Resource {reference} referenced by resource "
                                                              f"{name} was not found. Please make sure that the "
                                                              "referenced resource exists, and that both resources "
                                                              "are in the same region.")
    return None




def _stamp(id_: str, name: str, type_: str, properties: dict[str, Any], provisioning: str) -> dict[str, Any]:
    properties = dict(properties)
    if type_.endswith("/securityRules") and "protocol" in properties:
        properties["protocol"] = _PROTOCOLS.get(str(properties["protocol"]).lower(), properties["protocol"])
    properties["provisioningState"] = provisioning
    return {"name": name, "id": id_, "etag": _etag(), "type": type_, "properties": properties}


def _set_state(body: dict[str, Any], provisioning: str) -> None:
    body.setdefault("properties", {})["provisioningState"] = provisioning
    for key in ("securityRules", "routes"):
        for child in body["properties"].get(key, []):
            child.setdefault("properties", {})["provisioningState"] = provisioning


def _etag() -> str:
    return f'W/"{uuid.uuid4()}"'
