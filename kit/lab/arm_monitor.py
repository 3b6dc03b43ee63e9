"""Microsoft.Insights Activity Log: ``eventtypes/management/values`` with ``$filter`` and paging.

Records are answered newest first, :data:`PAGE_SIZE` a page, with a ``nextLink`` carrying
the original query plus ``$skiptoken`` (the SDK follows it verbatim). A start more than 90 days
before the scenario's present (its window's end, see ``_workspace_tables.present_of``) is refused
with 400, as Azure refuses one more than 90 days ago.
"""

from __future__ import annotations

import urllib.parse

from aiohttp import web

from kit.lab._arm import arm_error, arm_json, arm_route, check_scope, state_of
from kit.lab._odata import FilterError, parse_activity_filter
from kit.lab._workspace_tables import RETENTION, present_of

__all__ = ["PAGE_SIZE", "add_routes"]

PAGE_SIZE = 25


def add_routes(app: web.Application) -> None:
    """Register the Activity Log route."""
    arm_route(app, "GET", "/subscriptions/{sub}/providers/Microsoft.Insights/eventtypes/management/values", _list)


async def _list(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    sub = params["sub"]
    problem = check_scope(state, sub)
    if problem is not None:
        return problem
    text = request.query.get("$filter")
    if not text:
        return arm_error(400, "BadRequest", "The $filter query parameter is required and must give at least "
                                            "eventTimestamp ge '<start>'.")
    try:
        parsed = parse_activity_filter(text)
    except FilterError as error:
        return arm_error(400, "BadRequest", f"The $filter '{text}' is invalid: {error}.")
    info = state.scenario_for(sub)
    oldest = present_of(info) - RETENTION if info is not None else None
    if oldest is not None and parsed.start < oldest:
        return arm_error(400, "BadRequest", f"The $filter '{text}' starts before {oldest:%Y-%m-%dT%H:%M:%SZ}: the "
                                            "Activity Log keeps 90 days; older events are only in a Log Analytics "
                                            "workspace the log was sent to.")
    token = request.query.get("$skiptoken", "0")
    if not token.isdigit():
        return arm_error(400, "BadRequest", f"The $skiptoken '{token}' is invalid.")
    offset = int(token)
    events = [event for event in state.activity.get(sub.lower(), []) if parsed.matches(event)]
    events.sort(key=lambda event: str(event.get("eventTimestamp", "")), reverse=True)
    page = events[offset:offset + PAGE_SIZE]
    select = [name.strip() for name in request.query.get("$select", "").split(",") if name.strip()]
    if select:
        page = [{key: event[key] for key in select if key in event} for event in page]
    body: dict[str, object] = {"value": page}
    if offset + PAGE_SIZE < len(events):
        query = [(key, value) for key, value in request.query.items() if key != "$skiptoken"]
        query.append(("$skiptoken", str(offset + PAGE_SIZE)))
        encoded = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        body["nextLink"] = f"{state.endpoint}{request.path}?{encoded}"
    return arm_json(body)
