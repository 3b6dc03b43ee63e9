"""Microsoft.SerialConsole subscription status: ``consoleServices/default``.

The websocket ``serialPorts/0/connect`` and the gateway live in :mod:`kit.lab.gateway`.
"""

from __future__ import annotations

from aiohttp import web

from kit.lab._arm import arm_error, arm_json, arm_route, check_scope, state_of

__all__ = ["add_routes"]


def add_routes(app: web.Application) -> None:
    """Register the console status route."""
    arm_route(app, "GET", "/subscriptions/{sub}/providers/Microsoft.SerialConsole/consoleServices/{name}", _status)


async def _status(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    problem = check_scope(state, params["sub"])
    if problem is not None:
        return problem
    if params["name"].lower() != "default":
        return arm_error(404, "ResourceNotFound", f"The console service '{params['name']}' was not found; "
                                                  "its name must be 'default'.")
    info = state.scenario_for(params["sub"])
    return arm_json({"properties": {"disabled": not info.console_enabled}})  # type: ignore[union-attr]
