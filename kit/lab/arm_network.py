"""Microsoft.Network reads: NICs, NSGs and rules, VNets and subnets, route tables and routes,
public IPs, ASGs, and the effective rules/routes long-running operations."""

from __future__ import annotations

from aiohttp import web

from kit.lab._arm import ArmHandler, arm_error, arm_json, arm_route, find, resource_id, state_of
from kit.lab.arm_operations import start_operation
from kit.lab.effective import effective_routes, effective_security_groups

__all__ = ["add_routes"]

_NET = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network"
_TOP = {
    "nic": "networkInterfaces",
    "nsg": "networkSecurityGroups",
    "vnet": "virtualNetworks",
    "rt": "routeTables",
    "pip": "publicIPAddresses",
    "asg": "applicationSecurityGroups",
}
# (parent capture, parent type, child type)
_CHILDREN = (("vnet", "virtualNetworks", "subnets"), ("nsg", "networkSecurityGroups", "securityRules"),
             ("rt", "routeTables", "routes"))


def add_routes(app: web.Application) -> None:
    """Register the network read routes and the effective rules/routes operations."""
    for capture, type_ in _TOP.items():
        arm_route(app, "GET", f"{_NET}/{type_}/{{{capture}}}", _top_getter(capture, type_))
    for capture, parent_type, child_type in _CHILDREN:
        arm_route(app, "GET", f"{_NET}/{parent_type}/{{{capture}}}/{child_type}/{{child}}",
                  _child_getter(capture, parent_type, child_type))
        arm_route(app, "GET", f"{_NET}/{parent_type}/{{{capture}}}/{child_type}",
                  _child_lister(capture, parent_type, child_type))
    arm_route(app, "POST", f"{_NET}/networkInterfaces/{{nic}}/effectiveNetworkSecurityGroups", _effective_nsgs)
    arm_route(app, "POST", f"{_NET}/networkInterfaces/{{nic}}/effectiveRouteTable", _effective_routes)


def _top_getter(capture: str, type_: str) -> ArmHandler:
    async def get(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        body, problem = find(state_of(request), params["sub"], params["rg"], "Microsoft.Network", type_,
                             params[capture])
        return problem if body is None else arm_json(body)  # type: ignore[return-value]

    return get


def _child_getter(capture: str, parent_type: str, child_type: str) -> ArmHandler:
    async def get(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        state = state_of(request)
        parent, problem = find(state, params["sub"], params["rg"], "Microsoft.Network", parent_type, params[capture])
        if parent is None:
            return problem  # type: ignore[return-value]
        child_id = resource_id(params["sub"], params["rg"], "Microsoft.Network", parent_type, params[capture],
                               child_type, params["child"])
        body = state.get(child_id)
        if body is None:
            return arm_error(404, "NotFound", f"Resource {child_id} not found.")
        return arm_json(body)

    return get


def _child_lister(capture: str, parent_type: str, child_type: str) -> ArmHandler:
    async def list_(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        parent, problem = find(state_of(request), params["sub"], params["rg"], "Microsoft.Network", parent_type,
                               params[capture])
        if parent is None:
            return problem  # type: ignore[return-value]
        return arm_json({"value": parent.get("properties", {}).get(child_type, [])})

    return list_


async def _effective_nsgs(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    return await _effective(request, params, "effectiveNetworkSecurityGroups")


async def _effective_routes(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    return await _effective(request, params, "effectiveRouteTable")


async def _effective(request: web.Request, params: dict[str, str], kind: str) -> web.StreamResponse:
    state = state_of(request)
    sub = params["sub"]
    nic, problem = find(state, sub, params["rg"], "Microsoft.Network", "networkInterfaces", params["nic"])
    if nic is None:
        return problem  # type: ignore[return-value]
    vm_ref = (nic.get("properties", {}).get("virtualMachine") or {}).get("id")
    power = state.power_state(vm_ref) if vm_ref else None
    if power != "running":
        # Effective rules and routes come from the host the NIC is programmed on, so ARM refuses
        # them for a NIC that is not on a running VM (deallocated, stopped, or unattached).
        return arm_error(400, "NetworkInterfaceNotAttachedToRunningVm" if vm_ref else "NetworkInterfaceNotAttachedToVm",
                         f"Network interface {nic.get('id')} is not attached to a running virtual machine"
                         + (f" (the virtual machine is {power or 'in an unknown state'})." if vm_ref else ".")
                         + " Effective security rules and routes are available only while the VM is running.")
    compute = effective_security_groups if kind == "effectiveNetworkSecurityGroups" else effective_routes
    result = compute(nic, state.get)
    headers = start_operation(request, sub, str(nic.get("location", "eastus")).replace(" ", "").lower(), result)
    return web.Response(status=202, headers=headers)
