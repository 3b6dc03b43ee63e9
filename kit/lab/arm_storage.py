"""Microsoft.Storage storage accounts: get one, list a group's or a subscription's (api-version 2023-05-01).

The lab serves the accounts in its state (a scenario's ``resources.json``, or one a test added
with :func:`kit.lab.console_states.use_boot_storage`), in the REST shape of
``storage_accounts.get_properties`` and ``storage_accounts.list`` / ``list_by_resource_group``.
"""

from __future__ import annotations

from aiohttp import web

from kit.lab._arm import arm_json, arm_route, check_scope, find, state_of

__all__ = ["add_routes"]

_TYPE = "Microsoft.Storage/storageAccounts"


def add_routes(app: web.Application) -> None:
    """Register the storage account routes."""
    arm_route(app, "GET", "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}",
              _get)
    arm_route(app, "GET", "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts",
              _list_group)
    arm_route(app, "GET", "/subscriptions/{sub}/providers/Microsoft.Storage/storageAccounts", _list_subscription)


async def _get(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    account, problem = find(state_of(request), params["sub"], params["rg"], "Microsoft.Storage", "storageAccounts",
                            params["name"])
    return problem if account is None else arm_json(account)  # type: ignore[return-value]


async def _list_group(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    problem = check_scope(state, params["sub"], params["rg"])
    if problem is not None:
        return problem
    group = f"/resourcegroups/{params['rg'].lower()}/"
    return arm_json({"value": [body for body in state.of_type(params["sub"], _TYPE)
                               if group in str(body.get("id", "")).lower()]})


async def _list_subscription(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    problem = check_scope(state, params["sub"])
    if problem is not None:
        return problem
    return arm_json({"value": list(state.of_type(params["sub"], _TYPE))})
