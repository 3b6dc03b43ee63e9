"""Microsoft Graph v1.0 ``POST /v1.0/directoryObjects/getByIds``: display names of the lab's principals.

The kit points its Graph calls at the lab's own endpoint (``AzureTarget.for_lab``), so the path
is served on the same HTTPS server as ARM and behind the same bearer-token guard (no
``api-version``: Graph has none). As Graph does, ids not in the directory are left out, objects
of a type not asked for too, and more than 1000 ids is a 400. With ``LabState.graph_refused``
set every lookup answers 403 ``Authorization_RequestDenied``, as for an identity without
directory permission.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from kit.lab._arm import arm_json, state_of

__all__ = ["MAX_IDS", "PATH", "add_routes"]

PATH = "/v1.0/directoryObjects/getByIds"
#: The most ids one getByIds request may carry.
MAX_IDS = 1000
_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#directoryObjects"
_TYPES = {"user", "serviceprincipal", "group", "device", "application", "directoryroletemplate", "orgcontact"}


def add_routes(app: web.Application) -> None:
    """Register the getByIds route."""
    app.router.add_post(PATH, _get_by_ids)


def _error(status: int, code: str, message: str) -> web.Response:
    return arm_json({"error": {"code": code, "message": message, "innerError": {}}}, status)


async def _get_by_ids(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    if state.graph_refused:
        return _error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    try:
        body: Any = json.loads(await request.read() or b"null")
    except ValueError:
        return _error(400, "BadRequest", "Unable to read JSON request payload.")
    ids = body.get("ids") if isinstance(body, dict) else None
    types = body.get("types", []) if isinstance(body, dict) else []
    if not isinstance(ids, list) or not ids or not all(isinstance(item, str) for item in ids):
        return _error(400, "Request_BadRequest", "Invalid request: 'ids' must be a non-empty list of strings.")
    if len(ids) > MAX_IDS:
        return _error(400, "Request_BadRequest", f"Too many ids: at most {MAX_IDS} in one request.")
    if not isinstance(types, list) or not all(isinstance(kind, str) and kind.lower() in _TYPES for kind in types):
        return _error(400, "Request_BadRequest", f"Invalid 'types': {types!r}.")
    wanted = {kind.lower() for kind in types}
    found = []
    for item in dict.fromkeys(item.lower() for item in ids):
        entry = state.directory.get(item)
        kind = str((entry or {}).get("@odata.type", "")).rsplit(".", 1)[-1].lower()
        if entry is not None and (not wanted or kind in wanted):
            found.append(entry)
    return arm_json({"@odata.context": _CONTEXT, "value": found})
