"""Public IP addresses as a deallocation treats them, and the update that makes one static.

A Basic public IP with ``publicIPAllocationMethod: Dynamic`` holds an address only while its VM
runs: deallocating the VM releases it (``ipAddress`` disappears) and starting it again assigns
another. A Standard public IP is always static. Changing a dynamic address to static while the
VM runs keeps the address it holds. No Basic address can be created since Basic's retirement
("Cannot create more than 0 IPv4 Basic SKU public IP addresses"), but a legacy VM may still hold
one: :func:`add_public_ip` gives a lab VM one. ``PUT …/publicIPAddresses/{name}`` updates it as
Network does; a Standard one asked to be dynamic is refused with Azure's words ("Standard sku
publicIp … must have AllocationMethod set to Static.").
"""

from __future__ import annotations

import copy
import itertools
from typing import Any, Literal

from aiohttp import web

from kit.lab._activity import record_write
from kit.lab._arm import arm_error, arm_json, arm_route, find, read_json_body, state_of
from kit.lab._state import LabState
from kit.lab.arm_operations import start_operation

__all__ = ["add_public_ip", "add_routes", "assign_dynamic", "release_dynamic"]

_NET = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network"
_ADDRESSES = (f"20.62.{third}.{fourth}" for third, fourth in itertools.product(range(100, 200), range(10, 250)))


def add_public_ip(state: LabState, vm_id: str, *, sku: Literal["Basic", "Standard"] = "Basic",
                  allocation: Literal["Dynamic", "Static"] = "Dynamic") -> str:
    """Give the VM's primary NIC a public IP (assigned now: the VM runs); its id."""
    vm = state.get(vm_id)
    if vm is None:
        raise KeyError(vm_id)
    nic_id = str(vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"])
    nic = state.get(nic_id)
    if nic is None:
        raise KeyError(nic_id)
    pip_id = f"{nic_id.rsplit('/providers/', 1)[0]}/providers/Microsoft.Network/publicIPAddresses/{vm['name']}-pip"
    config = nic["properties"]["ipConfigurations"][0]
    state.put(pip_id, {
        "name": f"{vm['name']}-pip", "id": pip_id, "type": "Microsoft.Network/publicIPAddresses",
        "location": vm.get("location", "eastus"), "sku": {"name": sku, "tier": "Regional"},
        "properties": {"provisioningState": "Succeeded", "ipAddress": next(_ADDRESSES),
                       "publicIPAddressVersion": "IPv4", "publicIPAllocationMethod": allocation,
                       "idleTimeoutInMinutes": 4, "ipTags": [], "ipConfiguration": {"id": str(config["id"])}}})
    config.setdefault("properties", {})["publicIPAddress"] = {"id": pip_id}
    return pip_id


def release_dynamic(state: LabState, vm: dict[str, Any]) -> None:
    """A deallocation: the VM's dynamic public IPs give their addresses up."""
    for pip in _dynamic_ips(state, vm):
        pip["properties"].pop("ipAddress", None)


def assign_dynamic(state: LabState, vm: dict[str, Any]) -> None:
    """A start: the VM's dynamic public IPs without an address get a new one."""
    for pip in _dynamic_ips(state, vm):
        pip["properties"].setdefault("ipAddress", next(_ADDRESSES))


def add_routes(app: web.Application) -> None:
    """Register the public IP update."""
    arm_route(app, "PUT", f"{_NET}/publicIPAddresses/{{name}}", _put)


async def _put(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    current, problem = find(state, params["sub"], params["rg"], "Microsoft.Network", "publicIPAddresses",
                            params["name"])
    if current is None:
        return problem  # type: ignore[return-value]
    body, problem = await read_json_body(request)
    if body is None:
        return problem  # type: ignore[return-value]
    wanted = dict(body.get("properties") or {})
    allocation = str(wanted.get("publicIPAllocationMethod") or current["properties"]["publicIPAllocationMethod"])
    sku = str((body.get("sku") or current.get("sku") or {}).get("name", "Basic"))
    if sku.lower() == "standard" and allocation.lower() != "static":
        return arm_error(400, "InvalidRequestFormat",
                         f"Standard sku publicIp /subscriptions/{params['sub']}/resourceGroups/{params['rg']}/"
                         f"providers/Microsoft.Network/publicIPAddresses/{params['name']} must have "
                         "AllocationMethod set to Static.")
    updated = copy.deepcopy(current)
    updated["properties"]["publicIPAllocationMethod"] = allocation
    for key in ("idleTimeoutInMinutes", "dnsSettings", "ipTags"):
        if key in wanted:
            updated["properties"][key] = wanted[key]
    if "tags" in body:
        updated["tags"] = body["tags"]
    if allocation.lower() == "static":  # keeps the address it holds, or is given one now
        updated["properties"].setdefault("ipAddress", next(_ADDRESSES))
    state.put(str(current["id"]), updated)
    record_write(state, str(current["id"]), "write", "PUT", 200, request.headers.get("x-ms-client-request-id"),
                 request.remote or "127.0.0.1")
    headers = start_operation(request, params["sub"], str(current.get("location", "eastus")).lower(), None)
    headers.pop("Location")
    return arm_json(updated, 200, headers)


def _dynamic_ips(state: LabState, vm: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for reference in (vm.get("properties") or {}).get("networkProfile", {}).get("networkInterfaces", []):
        nic = state.get(str(reference.get("id", "")))
        for config in (nic or {}).get("properties", {}).get("ipConfigurations", []):
            pip_id = ((config.get("properties") or {}).get("publicIPAddress") or {}).get("id")
            pip = state.get(str(pip_id)) if pip_id else None
            if pip is not None and str(pip["properties"].get("publicIPAllocationMethod", "")).lower() == "dynamic":
                found.append(pip)
    return found
