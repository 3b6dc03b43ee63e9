"""Microsoft.Authorization: role assignments for a scope, and role definitions by id.

``$filter=atScope()`` answers the assignments at the scope and above it (resource group,
subscription); without a filter, those below the scope too, as ARM does.
"""

from __future__ import annotations

import re

from aiohttp import web

from kit.errors import InvalidResourceId
from kit.ids import parse_resource_id
from kit.lab._arm import arm_error, arm_json, arm_route, check_scope, state_of
from kit.lab._roles import role_definition

__all__ = ["add_routes", "scope_problem"]

_FILTER_PART = re.compile(r"^\s*(atScope\(\)|principalId\s+eq\s+'([^']*)'|assignedTo\('([^']*)'\))\s*$", re.IGNORECASE)


def add_routes(app: web.Application) -> None:
    """Register the role assignment and role definition routes."""
    arm_route(app, "GET", "{scope*}/providers/Microsoft.Authorization/roleAssignments", _list_assignments)
    arm_route(app, "GET", "{scope*}/providers/Microsoft.Authorization/roleDefinitions/{role}", _get_definition)


async def _list_assignments(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    scope = params["scope"]
    problem = scope_problem(request, scope)
    if problem is not None:
        return problem
    at_scope, principal = False, None
    text = request.query.get("$filter", "")
    for part in re.split(r"\s+and\s+", text, flags=re.IGNORECASE) if text.strip() else []:
        match = _FILTER_PART.match(part)
        if match is None:
            return arm_error(400, "UnsupportedQuery", f"The filter '{text}' is not supported. Supported filters "
                                                      "are atScope(), principalId eq '{id}' and assignedTo('{id}').")
        at_scope = at_scope or match.group(1).lower() == "atscope()"
        principal = match.group(2) or match.group(3) or principal
    wanted = scope.lower().rstrip("/")
    sub = parse_resource_id(scope).subscription_id.lower()
    found = []
    for assignment in state.role_assignments.get(sub, []):
        held = str(assignment.get("properties", {}).get("scope", "")).lower().rstrip("/")
        above = held in ("", wanted) or wanted.startswith(held + "/")
        below = held.startswith(wanted + "/")
        if not (above or (below and not at_scope)):
            continue
        if principal and str(assignment.get("properties", {}).get("principalId", "")).lower() != principal.lower():
            continue
        found.append(assignment)
    return arm_json({"value": found})


async def _get_definition(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    problem = scope_problem(request, params["scope"])
    if problem is not None:
        return problem
    body = role_definition(params["scope"], params["role"])
    if body is None:
        return arm_error(404, "RoleDefinitionDoesNotExist",
                         f"The specified role definition with ID '{params['role']}' does not exist.")
    return arm_json(body)


def scope_problem(request: web.Request, scope: str) -> web.Response | None:
    """The error for a malformed or unknown scope, or ``None``."""
    state = state_of(request)
    try:
        parsed = parse_resource_id(scope)
    except InvalidResourceId as error:
        return arm_error(400, "InvalidScope", f"The scope '{scope}' is not valid: {error}")
    problem = check_scope(state, parsed.subscription_id, parsed.resource_group)
    if problem is not None:
        return problem
    if parsed.namespace is not None and state.get(scope) is None:
        return arm_error(404, "ResourceNotFound",
                         f"The Resource '{parsed.kind}/{'/'.join(parsed.names)}' under resource group "
                         f"'{parsed.resource_group}' was not found. For more details please go to "
                         "https://aka.ms/ARMResourceNotFoundFix")
    return None
