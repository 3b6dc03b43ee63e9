"""Log Analytics query API: ``POST /v1/workspaces/{workspaceId}/query`` over each scenario's workspace.

Every scenario has one workspace (:func:`workspace_id`; tables in ``_workspace_tables``). The body is
``{"query", "timespan"}`` as azure-monitor-query's ``LogsQueryClient`` sends it; the rows of every table
are first limited to the timespan (``start/end``, ``start/duration`` or a duration ending now, on
``TimeGenerated``), then the query runs on the lab's KQL (:func:`kit.lab.kql.evaluate`). The answers
are the service's:

- 200 ``{"tables": [{"name": "PrimaryResult", "columns": [{"name", "type"}], "rows": [[…]]}]}``,
  datetimes as ``…Z`` text and dynamic values as JSON text, as the service sends them;
- 200 with the rows cut at the row limit and ``"error": {"code": "PartialError", "details": […]}``
  when the result is larger (:func:`limit_rows`; the service's own limit is 500000);
- 400 ``BadArgumentError`` with an ``innererror`` (``SyntaxError``/``SYN0002`` with the position,
  ``SemanticError``/``SEM0100`` naming the unknown table, column or function) for a bad query, and
  for a body without a query or with a timespan that cannot be read;
- 404 ``WorkspaceNotFoundError`` for a workspace the lab does not hold;
- 429 ``ThrottledError`` with ``Retry-After`` for the next N queries after :func:`throttle`.

The bearer-token guard of every lab route applies (no ``api-version``: the API has none).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from kit.lab._arm import arm_json, state_of
from kit.lab._state import LabState
from kit.lab._workspace_tables import scenario_tables, workspace_id
from kit.lab.kql import KqlError, KqlResult, evaluate
from kit.lab.scenario import ScenarioInfo
from kit.times import parse_time

__all__ = ["MAX_ROWS", "PATH", "add_routes", "limit_rows", "throttle", "workspace_id", "workspace_scenario"]

PATH = "/v1/workspaces/{workspace}/query"
#: The service's limit on the rows of one result.
MAX_ROWS = 500000
_THROTTLE = "loganalytics.throttle"
_ROW_LIMIT = "loganalytics.row_limit"
_CACHE = "loganalytics.cache"
_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_SEMANTIC = {"UnknownTable", "UnknownColumn", "UnknownFunction", "InvalidArgument", "UnsupportedOperator"}


def add_routes(app: web.Application) -> None:
    """Register the query route."""
    app.router.add_post(PATH, _query)


def throttle(state: LabState, queries: int) -> None:
    """Answer the next ``queries`` queries (to any workspace) 429 ``ThrottledError``; 0 stops throttling."""
    state.extras[_THROTTLE] = max(0, int(queries))


def limit_rows(state: LabState, rows: int | None) -> None:
    """Cut results at ``rows`` rows with a ``PartialError`` (``None``: the service's :data:`MAX_ROWS`)."""
    state.extras[_ROW_LIMIT] = rows


def workspace_scenario(state: LabState, workspace: str) -> ScenarioInfo | None:
    """The served scenario whose workspace id is ``workspace`` (any case), or ``None``."""
    wanted = workspace.strip().lower()
    return next((info for info in state.scenarios.values() if workspace_id(info) == wanted), None)


def _error(status: int, code: str, message: str, inner: Mapping[str, Any] | None = None,
           headers: dict[str, str] | None = None) -> web.Response:
    error: dict[str, Any] = {"message": message, "code": code, "correlationId": str(uuid.uuid4())}
    if inner is not None:
        error["innererror"] = dict(inner)
    return arm_json({"error": error}, status, headers)


def _bad_argument(code: str, message: str, inner: Mapping[str, Any] | None = None) -> web.Response:
    detail: dict[str, Any] = {"code": code, "message": message}
    if inner is not None:
        detail["innererror"] = dict(inner)
    return _error(400, "BadArgumentError", "The request had some invalid properties", detail)


def _duration(text: str) -> dt.timedelta | None:
    match = _DURATION.match(text.strip().upper())
    if match is None or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (float(part or 0) for part in match.groups())
    return dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _timespan(text: Any, now: dt.datetime) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    """``(start, end)`` of an ISO 8601 interval (``None`` bounds when absent); ``None`` when unreadable."""
    if text is None or text == "":
        return None, None
    if not isinstance(text, str):
        return None
    first, slash, second = text.partition("/")
    if not slash:
        span = _duration(first)
        return (now - span, now) if span is not None else None
    start = parse_time(first.strip())
    end = parse_time(second.strip())
    if start is not None and end is None and (span := _duration(second)) is not None:
        end = start + span
    if start is None and end is not None and (span := _duration(first)) is not None:
        start = end - span
    if start is None or end is None:
        return None
    return start, end


def _in_span(rows: list[dict[str, Any]], start: dt.datetime | None, end: dt.datetime | None) -> list[dict[str, Any]]:
    if start is None or end is None:
        return rows
    return [row for row in rows if isinstance(row.get("TimeGenerated"), dt.datetime)
            and start <= row["TimeGenerated"] <= end]


def _kusto_time(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{value.microsecond:06d}0Z" if value.microsecond else "Z")


def _kusto_span(value: dt.timedelta) -> str:
    sign = "-" if value < dt.timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}" + (f".{value.microseconds:06d}0" if value.microseconds else "")
    return sign + (f"{value.days}.{text}" if value.days else text)


def _cell(value: Any, kind: str) -> Any:
    """A value as the service writes it in ``rows``."""
    if value is None:
        return "" if kind == "string" else None
    if isinstance(value, dt.datetime):
        return _kusto_time(value)
    if isinstance(value, dt.timedelta):
        return _kusto_span(value)
    if kind == "dynamic":
        return json.dumps(value, separators=(",", ":"), default=str)
    return value


def _kql_error(error: KqlError) -> web.Response:
    if error.code in _SEMANTIC:
        return _bad_argument("SemanticError", "A semantic error occurred.",
                             {"code": "SEM0100", "message": error.message, "line": error.line, "pos": error.column})
    return _bad_argument("SyntaxError", "A recognition error occurred in the query.",
                         {"code": "SYN0002", "message": f"Query could not be parsed at line [{error.line},"
                                                        f"{error.column}]: {error.message}",
                          "line": error.line, "pos": error.column})


async def _query(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    workspace = request.match_info["workspace"]
    info = workspace_scenario(state, workspace)
    if info is None:
        return _error(404, "WorkspaceNotFoundError", f"The workspace '{workspace}' could not be found.")
    waiting = int(state.extras.get(_THROTTLE) or 0)
    if waiting > 0:
        state.extras[_THROTTLE] = waiting - 1
        return _error(429, "ThrottledError", "Too many requests: the user's concurrent query limit was reached. "
                      "Please retry later.", {"code": "ThrottledError",
                                              "message": "Your request was throttled; retry after the time in the "
                                                         "Retry-After header."}, {"Retry-After": "1"})
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        return _bad_argument("InvalidBody", "The request body is not valid JSON.")
    query = body.get("query") if isinstance(body, dict) else None
    if not isinstance(query, str) or not query.strip():
        return _bad_argument("MissingQuery", "The request must have a 'query' string.")
    now = dt.datetime.now(dt.UTC)
    span = _timespan(body.get("timespan"), now)
    if span is None:
        return _bad_argument("InvalidTimespan", f"The timespan {body.get('timespan')!r} is not an ISO 8601 interval "
                                                "(start/end, start/duration or a duration).")
    cache = state.extras.setdefault(_CACHE, {})
    every = scenario_tables(state, info, cache)
    tables = {name: _in_span(rows, *span) for name, rows in every.items()}
    try:
        result: KqlResult | None = evaluate(query, tables, now=now)
    except KqlError as error:
        if error.code != "UnknownColumn" or all(tables.values()):
            return _kql_error(error)
        result, refused = None, error  # a table empty in the timespan has no columns to name
    columns = result.columns if result is not None else ()
    if result is None or not result.rows:  # the columns of an empty answer: what the whole tables give
        try:
            columns = evaluate(query, every, now=now).columns
        except KqlError:
            if result is None:
                return _kql_error(refused)
    found = result.rows if result is not None else ()
    limit = state.extras.get(_ROW_LIMIT) or MAX_ROWS
    rows = [[_cell(row.get(name), kind) for name, kind in columns] for row in found[:limit]]
    answer: dict[str, Any] = {"tables": [{"name": "PrimaryResult",
                                          "columns": [{"name": name, "type": kind} for name, kind in columns],
                                          "rows": rows}]}
    if len(found) > limit:
        answer["error"] = {
            "code": "PartialError", "message": "There were some errors when processing your query.",
            "details": [{"code": "EngineError", "message": "Something went wrong processing your query on the server.",
                         "innererror": {"code": "-2133196797", "severity": 2, "severityName": "Error",
                                        "message": f"Query result set has exceeded the internal record count limit "
                                                   f"{limit} (E_QUERY_RESULT_SET_TOO_LARGE; see "
                                                   "https://aka.ms/kustoquerylimits)"}}]}
    return arm_json(answer)
