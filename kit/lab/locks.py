"""Management locks: ``ReadOnly`` and ``CanNotDelete`` on a subscription, resource group or resource.

ARM refuses a write (PUT, PATCH, a POST action, DELETE) under a ``ReadOnly`` lock, and a DELETE
under a ``CanNotDelete`` lock, with 409 ``ScopeLocked``: "The scope '…' cannot perform write
operation because following scope(s) are locked: '…'. Please remove the lock and try again."
:func:`add_lock` puts a lock in the lab (an owner's, or one a DeployIfNotExists policy adds to
what a repair just created); ``GET {scope}/providers/Microsoft.Authorization/locks`` lists the
locks at and below a scope, as ``ManagementLockClient`` (api-version 2020-05-01) reads them, to a
responder holding ``Microsoft.Authorization/locks/read`` there (403 ``AuthorizationFailed`` else).
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from aiohttp.typedefs import Handler

from kit.lab._arm import arm_error, arm_json, arm_route, state_of
from kit.lab._state import LabState
from kit.lab.arm_authorization import scope_problem
from kit.lab.arm_permissions import refused_unless_allowed

__all__ = ["LockLevel", "add_lock", "add_routes", "lock_guard"]

LockLevel = Literal["ReadOnly", "CanNotDelete"]
_KEY = "management_locks"
_LIST = "/providers/microsoft.authorization/locks"
#: POST actions that read, which no lock refuses (the kit's boot-log read).
_READS = ("/retrievebootdiagnosticsdata",)


def add_lock(state: LabState, scope: str, level: LockLevel, name: str = "kit-lab-lock", notes: str = "") -> str:
    """Lock ``scope`` (a subscription, resource group or resource id); the lock's id."""
    lock_id = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/locks/{name}"
    properties: dict[str, Any] = {"level": level}
    if notes:
        properties["notes"] = notes
    state.extras.setdefault(_KEY, []).append({"properties": properties, "id": lock_id,
                                              "type": "Microsoft.Authorization/locks", "name": name})
    return lock_id


def add_routes(app: web.Application) -> None:
    """Register the lock list route."""
    arm_route(app, "GET", "{scope*}/providers/Microsoft.Authorization/locks", _list)


async def _list(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    problem = scope_problem(request, params["scope"]) or refused_unless_allowed(
        state, params["scope"], "Microsoft.Authorization/locks/read")
    if problem is not None:
        return problem
    scope = params["scope"].lower().rstrip("/")
    found = [lock for lock in state.extras.get(_KEY, [])
             if (_scope(lock).lower() + "/").startswith(scope + "/")]
    return arm_json({"value": found})


@web.middleware
async def lock_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a write under a lock as ARM does (409 ``ScopeLocked``)."""
    method, path = request.method.upper(), request.path.lower().rstrip("/")
    if method not in ("PUT", "PATCH", "POST", "DELETE") or not path.startswith("/subscriptions/") \
            or path.endswith(_READS) or _LIST in path:
        return await handler(request)
    locks = state_of(request).extras.get(_KEY, [])
    holding = [lock for lock in locks if (path + "/").startswith(_scope(lock).lower() + "/")
               and (method == "DELETE" or lock["properties"]["level"] == "ReadOnly")]
    if not holding:
        return await handler(request)
    operation = "delete" if method == "DELETE" else "write"
    scopes = ",".join(f"'{_scope(lock)}'" for lock in holding)
    return arm_error(409, "ScopeLocked", f"The scope '{request.path}' cannot perform {operation} operation because "
                                         f"following scope(s) are locked: {scopes}. Please remove the lock and try "
                                         "again.")


def _scope(lock: dict[str, Any]) -> str:
    """The id of what ``lock`` is on."""
    lock_id = str(lock["id"])
    return lock_id[:lock_id.lower().rfind(_LIST)]
