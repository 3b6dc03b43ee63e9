"""What every ARM route shares: a case-insensitive router, ARM-shaped errors, lookups.

ARM matches the fixed segments, provider namespaces and resource types of a path without
regard to case; aiohttp's router does not, so ARM routes are registered here with
:func:`arm_route` and dispatched by one catch-all aiohttp route added last.

Authentication is deny-by-default (``kit.lab.server``'s guard): every request needs the lab's
bearer token, whatever its path looks like, unless aiohttp routed it to a handler registered
with :func:`own_credential_route` — the few non-ARM endpoints that check a credential of their
own (a SAS signature, the websocket's first frame, their own bearer check).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from kit.lab._state import STATE_KEY, LabState

__all__ = [
    "ArmHandler",
    "ArmRouter",
    "OWN_CREDENTIAL_KEY",
    "ROUTER_KEY",
    "arm_error",
    "arm_json",
    "arm_route",
    "check_scope",
    "dispatch",
    "find",
    "own_credential_route",
    "read_json_body",
    "resource_id",
    "state_of",
]

ArmHandler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SCOPE = "{scope*}"


@dataclass
class _Route:
    method: str
    segments: tuple[str, ...]
    handler: ArmHandler


@dataclass
class ArmRouter:
    """ARM routes, matched segment by segment, literals case-insensitively.

    A pattern is a path such as ``/subscriptions/{sub}/resourceGroups/{rg}/providers/
    Microsoft.Compute/virtualMachines/{vm}``; ``{name}`` captures one segment and a leading
    ``{scope*}`` captures any ARM scope (subscription, group or resource).
    """

    routes: list[_Route] = field(default_factory=list)

    def add(self, method: str, pattern: str, handler: ArmHandler) -> None:
        """Register ``handler`` for ``method`` on ``pattern``."""
        self.routes.append(_Route(method.upper(), tuple(pattern.strip("/").split("/")), handler))

    def match(self, method: str, path: str) -> tuple[ArmHandler | None, dict[str, str], bool]:
        """The handler and captures for a request, and whether the path matched another method."""
        segments = tuple(path.strip("/").split("/"))
        path_known = False
        for route in self.routes:
            params = _match(route.segments, segments)
            if params is None:
                continue
            if route.method == method.upper():
                return route.handler, params, True
            path_known = True
        return None, {}, path_known


ROUTER_KEY = web.AppKey("kit_lab_arm_router", ArmRouter)
#: The handlers that check a credential of their own (the bearer guard lets their requests through).
OWN_CREDENTIAL_KEY = web.AppKey("kit_lab_own_credential", set)

WebHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def own_credential_route(app: web.Application, method: str, path: str, handler: WebHandler) -> None:
    """Register a plain aiohttp route whose ``handler`` checks its own credential (SAS, first frame, bearer).

    Only the exact path (case and slashes as written) reaches ``handler``; any other spelling
    falls to the ARM dispatcher and needs the bearer token.
    """
    if OWN_CREDENTIAL_KEY not in app:
        app[OWN_CREDENTIAL_KEY] = set()
    app.router.add_route(method, path, handler)
    app[OWN_CREDENTIAL_KEY].add(handler)


def arm_route(app: web.Application, method: str, pattern: str, handler: ArmHandler) -> None:
    """Register an ARM route on ``app`` (the router is created on first use)."""
    if ROUTER_KEY not in app:
        app[ROUTER_KEY] = ArmRouter()
    app[ROUTER_KEY].add(method, pattern, handler)


async def dispatch(request: web.Request) -> web.StreamResponse:
    """The catch-all aiohttp handler: find the ARM route or answer as ARM does."""
    router = request.app.get(ROUTER_KEY) or ArmRouter()
    handler, params, path_known = router.match(request.method, request.path)
    if handler is not None:
        return await handler(request, params)
    if path_known:
        return arm_error(405, "MethodNotAllowed",
                         f"The requested resource does not support http method '{request.method}'.")
    return arm_error(404, "InvalidResourceType" if "/providers/" in request.path else "NotFound",
                     f"The lab does not serve '{request.path}' (no such resource type or path).")


def state_of(request: web.Request) -> LabState:
    """The :class:`LabState` of the lab answering ``request``."""
    return request.app[STATE_KEY]


def arm_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer as ARM sends it."""
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers)


def arm_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """An ARM error answer ``{"error": {"code", "message"}}``."""
    return arm_json({"error": {"code": code, "message": message}}, status, headers)


def resource_id(sub: str, rg: str, namespace: str, *pairs: str) -> str:
    """``/subscriptions/…/resourceGroups/…/providers/<namespace>/<type>/<name>…`` from path captures."""
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/" + "/".join(pairs)


def check_scope(state: LabState, sub: str, rg: str | None = None) -> web.Response | None:
    """The error ARM gives for a malformed or unknown subscription or resource group, or ``None``."""
    if not _GUID.fullmatch(sub):
        return arm_error(400, "InvalidSubscriptionId",
                         f"The provided subscription identifier '{sub}' is malformed or invalid.")
    if state.scenario_for(sub) is None:
        return arm_error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
    if rg is not None and not state.has_group(sub, rg):
        return arm_error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
    return None


def _match(pattern: tuple[str, ...], segments: tuple[str, ...]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    if pattern and pattern[0] == _SCOPE:
        tail = pattern[1:]
        if len(segments) <= len(tail) or segments[0].lower() not in ("subscriptions", "providers"):
            return None
        params["scope"] = "/" + "/".join(segments[: len(segments) - len(tail)])
        pattern, segments = tail, segments[len(segments) - len(tail):]
    if len(pattern) != len(segments):
        return None
    for expected, actual in zip(pattern, segments, strict=True):
        if expected.startswith("{") and expected.endswith("}"):
            if not actual:
                return None
            params[expected[1:-1]] = actual
        elif expected.lower() != actual.lower():
            return None
    return params


def find(state: LabState, sub: str, rg: str, namespace: str, type_: str, name: str,
         ) -> tuple[dict[str, Any] | None, web.Response | None]:
    """The body of a top-level resource, or the 400/404 ARM would answer instead.

    ``namespace`` and ``type_`` are the canonical spellings used in the not-found message
    (``Microsoft.Compute``, ``virtualMachines``), whatever case the request used.
    """
    problem = check_scope(state, sub, rg)
    if problem is not None:
        return None, problem
    body = state.get(resource_id(sub, rg, namespace, type_, name))
    if body is None:
        return None, arm_error(404, "ResourceNotFound",
                               f"The Resource '{namespace}/{type_}/{name}' under resource group '{rg}' was not found. "
                               "For more details please go to https://aka.ms/ARMResourceNotFoundFix")
    return body, None


async def read_json_body(request: web.Request) -> tuple[dict[str, Any] | None, web.Response | None]:
    """A write's JSON object body, or the 400 ``InvalidRequestContent`` ARM answers instead."""
    try:
        body = json.loads(await request.text() or "null")
    except ValueError as error:
        return None, arm_error(400, "InvalidRequestContent", f"The request content was invalid and could not be "
                                                              f"deserialized: '{error}'.")
    if not isinstance(body, dict):
        return None, arm_error(400, "InvalidRequestContent", "The request content must be a JSON object.")
    return body, None
