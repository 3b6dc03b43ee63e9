"""VM power actions a responder may take: start, deallocate, power off, restart (of a VM or a scale-set instance).

Each is a long-running POST as in Azure (202, then poll); the VM's instance view changes at
once, and the action is logged in the Activity Log (Started + Succeeded). Restarting or
powering off a VM that is not running is refused as Compute refuses it (409); a start the
region has no room for (:func:`kit.lab.capacity.refuse_start`) ends ``Failed`` and leaves the
VM deallocated. Deallocating releases the address of a dynamic public IP; starting assigns another
(:mod:`kit.lab.public_ips`).
"""

from __future__ import annotations

from aiohttp import web

from kit.lab._activity import record_write
from kit.lab._arm import ArmHandler, arm_error, arm_route, state_of
from kit.lab._state import LabState
from kit.lab.arm_operations import start_operation
from kit.lab.arm_vmss import MACHINE_PATHS, find_machine
from kit.lab.capacity import start_refusal
from kit.lab.public_ips import assign_dynamic, release_dynamic

__all__ = ["add_routes"]

#: action → (power state it leaves the VM in, its display status, power states it may start from or None for any)
_ACTIONS = {
    "start": ("running", "VM running", None),
    "deallocate": ("deallocated", "VM deallocated", None),
    "powerOff": ("stopped", "VM stopped", ("running", "starting", "stopped")),
    "restart": ("running", "VM running", ("running",)),
}


def add_routes(app: web.Application) -> None:
    """Register the power action routes."""
    for action in _ACTIONS:
        for machine in MACHINE_PATHS:
            arm_route(app, "POST", f"{machine}/{action}", _handler(action))


def _handler(action: str) -> ArmHandler:
    async def handle(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        state = state_of(request)
        vm, problem = find_machine(state, params)
        if vm is None:
            return problem  # type: ignore[return-value]
        target, display, allowed_from = _ACTIONS[action]
        current = state.power_state(str(vm["id"])) or "running"
        if allowed_from is not None and current not in allowed_from:
            return arm_error(409, "OperationNotAllowed", f"Operation '{action}' is not allowed on VM "
                                                         f"'{vm.get('name')}' since the VM is {current}.")
        refused = start_refusal(state, vm) if action == "start" else None
        if refused is None:
            _set_power(state, str(vm["id"]), target, display)
            if action == "deallocate":
                release_dynamic(state, vm)
            elif action == "start":
                assign_dynamic(state, vm)
        record_write(state, str(vm["id"]), f"{action}/action", "POST", 202,
                     request.headers.get("x-ms-client-request-id"), request.remote or "127.0.0.1")
        headers = start_operation(request, params["sub"], str(vm.get("location", "eastus")).lower(),
                                  None if refused is None else {"error": refused}, namespace="Microsoft.Compute")
        return web.Response(status=202, headers=headers)

    return handle


def _set_power(state: LabState, vm_id: str, power: str, display: str) -> None:
    view = state.instance_views.setdefault(vm_id.lower(), {"statuses": []})
    statuses = [status for status in view.get("statuses", [])
                if not str(status.get("code", "")).startswith("PowerState/")]
    statuses.append({"code": f"PowerState/{power}", "level": "Info", "displayStatus": display})
    view["statuses"] = statuses
