"""Microsoft.Authorization permissions: what the lab's caller may do at a scope.

``GET {scope}/providers/Microsoft.Authorization/permissions`` (api-version 2022-04-01, the
answer of ``permissions.list_for_resource`` / ``list_for_resource_group``) lists one
``{"actions", "notActions", "dataActions", "notDataActions"}`` entry per role the caller holds at
or above the scope: the scenario's role assignments naming the lab's principal and the
responder's roles (:func:`kit.lab.console_states.set_responder_roles`; a Contributor on every
served subscription until a test says otherwise). A scope that does not exist answers as ARM does;
empty segments (``permissions.list_for_resource`` with no parent path) are dropped, as ARM drops them.

:func:`refused_unless_allowed` is ARM's authorization for the lab's own routes: the console
gateway's ``connect`` answers 403 ``AuthorizationFailed`` to a responder without
``serialPorts/connect/action``, as Azure does.
"""

from __future__ import annotations

import re

from aiohttp import web

from kit.lab._arm import arm_error, arm_json, arm_route, state_of
from kit.lab._state import LabState
from kit.lab.arm_authorization import scope_problem
from kit.lab.console_states import responder_permissions

__all__ = ["CONNECT_ACTION", "add_routes", "refused_unless_allowed"]

#: The action a serial console ``connect`` needs.
CONNECT_ACTION = "Microsoft.SerialConsole/serialPorts/connect/action"


def add_routes(app: web.Application) -> None:
    """Register the permissions route (any scope: subscription, group or resource)."""
    arm_route(app, "GET", "{scope*}/providers/Microsoft.Authorization/permissions", _list_permissions)


async def _list_permissions(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    scope = re.sub("/{2,}", "/", params["scope"])  # the SDK's empty parent path gives '…/Microsoft.Compute//…'
    problem = scope_problem(request, scope)
    if problem is not None:
        return problem
    return arm_json({"value": responder_permissions(state_of(request), scope)})


def refused_unless_allowed(state: LabState, scope: str, action: str, *, shown: str | None = None,
                           ) -> web.Response | None:
    """ARM's 403 ``AuthorizationFailed`` when the responder may not perform ``action`` at ``scope``, else ``None``.

    ``shown`` is the scope the message names (the request's resource, e.g. a VM's serial port).

    An action is allowed when one role's ``actions`` match it and the same role's ``notActions``
    do not (``*`` matches any characters, case-insensitively).
    """
    for entry in responder_permissions(state, scope):
        if _any(entry["actions"], action) and not _any(entry["notActions"], action):
            return None
    principal = state.principal
    return arm_error(403, "AuthorizationFailed",
                     f"The client '{principal.name}' with object id '{principal.object_id}' does not have "
                     f"authorization to perform action '{action}' over scope '{shown or scope}' or the scope is "
                     "invalid. If access was recently granted, please refresh your credentials.")


def _any(patterns: list[str], action: str) -> bool:
    return any(re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), action, re.IGNORECASE)
               for pattern in patterns)
