"""Microsoft.SerialConsole subscription status: ``consoleServices/default``.

The websocket ``serialPorts/0/connect`` and the gateway live in :mod:`kit.lab.gateway`.
"""

from __future__ import annotations

from aiohttp import web

from kit.lab._arm import arm_error, arm_json, arm_route, check_scope, state_of
from kit.lab.fleet_answers import fleet_console_disabled

__all__ = ["add_routes"]


def add_routes(app: web.Application) -> None:
    """Register the console status route."""
    arm_route(app, "GET", "/subscriptions/{sub}/providers/Microsoft.SerialConsole/consoleServices/{name}", _status)


async def _status(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    fleet_disabled = fleet_console_disabled(state, params["sub"])  # a lab fleet's subscription (kit.lab.fleet)
    if fleet_disabled is not None and params["name"].lower() == "default":
        return arm_json({"properties": {"disabled": fleet_disabled}})
    problem = check_scope(state, params["sub"])
    if problem is not None:
        return problem
    if params["name"].lower() != "default":
        return arm_error(404, "ResourceNotFound", f"The console service '{params['name']}' was not found; "
                                                  "its name must be 'default'.")
    info = state.scenario_for(params["sub"])
    return arm_json({"properties": {"disabled": not info.console_enabled}})  # type: ignore[union-attr]
