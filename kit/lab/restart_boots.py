"""A restarted VM boots again: the ``restart`` action reboots the VM's guest, as Azure's does.

:mod:`kit.lab.arm_compute_power` changes the instance view; this module wraps its ``restart``
route so that an accepted restart (202) also reboots the broken VM's guest (scripted: its new
boot is appended to the serial log boot diagnostics serves; real: a QEMU reset). Registered after
:mod:`kit.lab.arm_compute_power` in :data:`kit.lab.ROUTE_MODULES`.
"""

from __future__ import annotations

import contextlib

from aiohttp import web

from kit.errors import LabError
from kit.lab._arm import ROUTER_KEY, ArmHandler, state_of
from kit.lab.gateway import hub_of

__all__ = ["add_routes"]

_RESTART = ("restart",)


def add_routes(app: web.Application) -> None:
    """Wrap the VM ``restart`` route registered before (a lab without one is left as it is)."""
    router = app.get(ROUTER_KEY)
    for route in router.routes if router is not None else []:
        if route.method == "POST" and route.segments[-1:] == _RESTART and "virtualMachines" in route.segments:
            route.handler = _rebooting(route.handler)


def _rebooting(handler: ArmHandler) -> ArmHandler:
    async def handle(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        response = await handler(request, params)
        if response.status == 202:
            state = state_of(request)
            info = state.scenario_for(params["sub"])
            name = params["vm"] if "vm" in params else f"{params['vmss']}_{params['instance']}"  # an instance's
            if info is not None and info.broken_vm.lower() == name.lower():
                with contextlib.suppress(LabError):  # no scripted guest: only the instance view changes
                    hub_of(state).scenario_guest(info.name).reboot()
        return response

    return handle
