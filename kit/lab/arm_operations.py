"""Long-running operations: the status and result URLs ARM clients poll.

An operation answers ``InProgress`` to its first status poll(s), then ``Succeeded`` (or
``Failed``); its ``operationResults`` URL answers 202 until then and the result after. The
lab asks clients to poll again after 100 ms (``Retry-After-Ms``), so polling is exercised
without slowing anyone down.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from kit.lab._arm import arm_error, arm_json, arm_route, check_scope, state_of
from kit.lab._state import Operation

__all__ = ["POLL_DELAY_MS", "add_routes", "start_operation"]

POLL_DELAY_MS = 100
_BASE = "/subscriptions/{sub}/providers/{namespace}/locations/{location}"
_NAMESPACES = ("microsoft.network", "microsoft.compute")


def add_routes(app: web.Application) -> None:
    """Register the operation status and result routes."""
    arm_route(app, "GET", _BASE + "/operations/{operation}", _status)
    arm_route(app, "GET", _BASE + "/operationResults/{operation}", _result)


def start_operation(request: web.Request, sub: str, location: str, result: dict[str, Any] | None,
                    polls: int = 1, namespace: str = "Microsoft.Network") -> dict[str, str]:
    """Register an operation; the headers of the 201/202 that starts it.

    Parameters
    ----------
    request
        The request starting it (its api-version is echoed in the poll URLs).
    sub, location
        Where the status URLs live.
    result
        What the ``operationResults`` URL answers once done (``None``: no body).
    polls
        How many status polls answer ``InProgress`` first.
    namespace
        The provider whose ``locations/{location}/operations`` URLs are handed out.
    """
    state = state_of(request)
    started = f"{request.method} {request.path_qs}".lower()
    state.operation_starts[started] = state.operation_starts.get(started, 0) + 1
    operation_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{started} #{state.operation_starts[started]}"))
    state.operations[operation_id] = Operation(sub, location, result or {}, polls)
    base = f"{state.endpoint}/subscriptions/{sub}/providers/{namespace}/locations/{location}"
    version = request.query.get("api-version", "")
    return {
        "Azure-AsyncOperation": f"{base}/operations/{operation_id}?api-version={version}",
        "Location": f"{base}/operationResults/{operation_id}?api-version={version}",
        "Retry-After-Ms": str(POLL_DELAY_MS),
    }


async def _status(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    operation = _polled(request, params)
    if isinstance(operation, web.Response):
        return operation
    body: dict[str, Any] = {"id": request.path, "name": params["operation"], "startTime": operation.started}
    if operation.polls_left > 0:
        operation.polls_left -= 1
        body["status"] = "InProgress"
        return arm_json(body, headers={"Retry-After-Ms": str(POLL_DELAY_MS)})
    error = operation.result.get("error")  # an operation that ends Failed carries its ARM error
    body["status"] = "Failed" if isinstance(error, dict) else "Succeeded"
    if isinstance(error, dict):
        body["error"] = error
    return arm_json(body)


async def _result(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    operation = _polled(request, params)
    if isinstance(operation, web.Response):
        return operation
    if operation.polls_left > 0:
        return web.Response(status=202, headers={"Location": state_of(request).endpoint + request.path_qs,
                                                 "Retry-After-Ms": str(POLL_DELAY_MS)})
    if not operation.result:
        return web.Response(status=204)
    return arm_json(operation.result)


def _polled(request: web.Request, params: dict[str, str]) -> Operation | web.Response:
    """The operation a status or result URL names, or the error ARM answers instead."""
    state = state_of(request)
    problem = check_scope(state, params["sub"])
    if problem is not None:
        return problem
    operation = None
    if params["namespace"].lower() in _NAMESPACES:
        operation = state.operations.get(params["operation"].lower())
    if operation is None or operation.subscription_id.lower() != params["sub"].lower():
        return arm_error(404, "OperationNotFound", f"The operation '{params['operation']}' could not be found.")
    return operation
