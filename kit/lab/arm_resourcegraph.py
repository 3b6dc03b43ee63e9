"""Azure Resource Graph: ``POST /providers/Microsoft.ResourceGraph/resources`` over the fleet and the scenarios.

The query (KQL, run by :mod:`kit.lab.kql`) sees the tables ``resources``, ``computeresources`` and
``resourcecontainers``: the lab fleet's rows (:mod:`kit.lab.fleet`) and the scenarios' own resources
rendered as Resource Graph rows (lower-case ``type``, ``resourceGroup``, ``subscriptionId``, the VM's
``properties.extended.instanceView.powerState``), limited to the request's ``subscriptions`` (all the lab's
when none are given; the management group named after the tenant holds them all).

As the service does: ``options.$top`` (1-1000, default 1000), ``$skip`` and ``$skipToken`` paging (a
token only when the result has an ``id`` column, else ``resultTruncated``), ``resultFormat``
``objectArray`` (default) or ``table``, ``facets``; at most 1000 subscriptions per request; a per-caller
quota (15 requests per 5 s unless :func:`set_quota` says otherwise) reported in
``x-ms-user-quota-remaining`` / ``x-ms-user-quota-resets-after`` on every answer, 429 ``RateLimiting``
with ``Retry-After`` once spent; a bad query answers 400 ``BadRequest`` with ``InvalidQuery`` and a
detail carrying ``line`` and ``characterPositionInLine`` (0-based), as Resource Graph does.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from kit.ids import try_parse
from kit.lab._arm import arm_json, arm_route, state_of
from kit.lab._state import LabState
from kit.lab.fleet import fleet_of
from kit.lab.kql import KqlError, KqlResult, evaluate

__all__ = ["API_VERSIONS", "add_routes", "graph_tables", "set_quota"]

#: api-versions the route accepts (azure-mgmt-resourcegraph 8 sends 2021-03-01; C3 uses 2024-04-01).
API_VERSIONS = frozenset({"2019-04-01", "2020-04-01-preview", "2021-03-01", "2021-06-01-preview", "2022-10-01",
                          "2024-04-01"})
_MAX_TOP = 1000
_MAX_SUBSCRIPTIONS = 1000
_DEFAULT_QUOTA = (15, 5.0)
_QUOTA_KEY = "kit.lab.resourcegraph.quota"
_CACHE_KEY = "kit.lab.resourcegraph.cache"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_TABLE_TYPES = {"string": "string", "int": "integer", "long": "integer", "real": "number", "bool": "boolean",
                "datetime": "datetime", "timespan": "string", "dynamic": "object"}
_COMPUTE_TYPES = frozenset({"microsoft.compute/virtualmachinescalesets/virtualmachines"})
_INVALID_QUERY = ("Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix "
                  "the error before retrying.")


def add_routes(app: web.Application) -> None:
    """Register the Resource Graph query route."""
    arm_route(app, "POST", "/providers/Microsoft.ResourceGraph/resources", _resources)


# -- quota ------------------------------------------------------------------------------------
@dataclass
class _Quota:
    limit: int
    window: float
    used: dict[str, tuple[float, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, caller: str) -> tuple[bool, int, float]:
        """Spend one request for ``caller``: (allowed, remaining, seconds until the window resets)."""
        now = time.monotonic()
        with self.lock:
            start, count = self.used.get(caller, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            allowed = count < self.limit
            if allowed:
                count += 1
            self.used[caller] = (start, count)
            return allowed, max(self.limit - count, 0), max(self.window - (now - start), 0.0)


def set_quota(state: LabState, requests: int, window_seconds: float) -> None:
    """Allow each caller ``requests`` queries per ``window_seconds`` from now on (counts start again)."""
    if not isinstance(requests, int) or requests < 0 or not window_seconds > 0:
        raise ValueError("the Resource Graph quota needs requests >= 0 and window_seconds > 0")
    state.extras[_QUOTA_KEY] = _Quota(requests, float(window_seconds))


def _quota(state: LabState) -> _Quota:
    quota = state.extras.get(_QUOTA_KEY)
    if not isinstance(quota, _Quota):
        quota = _Quota(*_DEFAULT_QUOTA)
        state.extras[_QUOTA_KEY] = quota
    return quota


def _quota_headers(remaining: int, resets_in: float) -> dict[str, str]:
    seconds = math.ceil(resets_in)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return {"x-ms-user-quota-remaining": str(remaining),
            "x-ms-user-quota-resets-after": f"{hours:02d}:{minutes:02d}:{secs:02d}"}


# -- errors -----------------------------------------------------------------------------------
def _graph_error(status: int, code: str, details: Sequence[Mapping[str, Any]], headers: dict[str, str],
                 message: str | None = None) -> web.Response:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    text = message or (f"Please provide below info when asking for support: timestamp = {stamp}, "
                       f"correlationId = {uuid.uuid4()}.")
    return arm_json({"error": {"code": code, "message": text, "details": list(details)}}, status, headers)


def _bad_request(detail_code: str, message: str, headers: dict[str, str]) -> web.Response:
    return _graph_error(400, "BadRequest", [{"code": detail_code, "message": message}], headers)


def _query_error(error: KqlError, query: str, headers: dict[str, str]) -> web.Response:
    lines = query.splitlines() or [""]
    line_text = lines[error.line - 1] if 0 < error.line <= len(lines) else ""
    token = re.match(r"\S+", line_text[error.column - 1:]) if error.column >= 1 else None
    detail: dict[str, Any] = {"code": error.code, "message": error.message, "line": error.line,
                              "characterPositionInLine": error.column - 1}
    if token is not None:
        detail["token"] = token.group(0)
    return _graph_error(400, "BadRequest", [{"code": "InvalidQuery", "message": _INVALID_QUERY}, detail], headers)


# -- tables -----------------------------------------------------------------------------------
def graph_tables(state: LabState, subscriptions: Iterable[str] | None) -> dict[str, list[dict[str, Any]]]:
    """The Resource Graph tables the lab serves, limited to ``subscriptions`` (all when ``None``)."""
    wanted = None if subscriptions is None else {sub.lower() for sub in subscriptions}
    tables: dict[str, list[dict[str, Any]]] = {"resources": [], "computeresources": [], "resourcecontainers": []}
    fleet = fleet_of(state)
    if fleet is not None:
        by_subscription = _fleet_index(state, fleet)
        for sub in fleet.subscriptions:
            if wanted is None or sub in wanted:
                for name, rows in by_subscription[sub].items():
                    tables[name].extend(rows)
    for info in state.scenarios.values():
        sub = info.subscription_id.lower()
        if wanted is not None and sub not in wanted:
            continue
        tables["resourcecontainers"].append(_container(f"/subscriptions/{info.subscription_id}", info.title,
                                                       "microsoft.resources/subscriptions", info.subscription_id, "",
                                                       "", info.tenant_id))
        groups: dict[str, str] = {}
        for key, body in state.resources.items():
            if not key.startswith(f"/subscriptions/{sub}/"):
                continue
            row = _row(state, body, info.tenant_id)
            if row is None:
                continue
            groups.setdefault(row["resourceGroup"].lower(), row["resourceGroup"])
            table = "computeresources" if row["type"] in _COMPUTE_TYPES else "resources"
            tables[table].append(row)
        for group in sorted(groups.values()):
            tables["resourcecontainers"].append(_container(
                f"/subscriptions/{info.subscription_id}/resourceGroups/{group}", group,
                "microsoft.resources/subscriptions/resourcegroups", info.subscription_id, group, info.location,
                info.tenant_id))
    return tables


def _fleet_index(state: LabState, fleet: Any) -> dict[str, dict[str, list[dict[str, Any]]]]:
    cached = state.extras.get("kit.lab.resourcegraph.index")
    if cached is not None and cached[0] is fleet:
        return cached[1]
    index: dict[str, dict[str, list[dict[str, Any]]]] = {
        sub: {name: [] for name in fleet.tables} for sub in fleet.subscriptions}
    for name, rows in fleet.tables.items():
        for row in rows:
            index[row["subscriptionId"]][name].append(row)
    state.extras["kit.lab.resourcegraph.index"] = (fleet, index)
    return index


def _container(resource_id: str, name: str, type_: str, sub: str, group: str, location: str,
               tenant: str) -> dict[str, Any]:
    return {"id": resource_id, "name": name, "type": type_, "tenantId": tenant, "kind": "", "location": location,
            "resourceGroup": group, "subscriptionId": sub, "managedBy": "", "sku": None, "plan": None,
            "properties": {"provisioningState": "Succeeded"} if group else {"state": "Enabled"}, "tags": {},
            "identity": None, "zones": None, "extendedLocation": None}


def _row(state: LabState, body: Mapping[str, Any], tenant: str) -> dict[str, Any] | None:
    parsed = try_parse(str(body.get("id", "")))
    if parsed is None or parsed.resource_group is None:
        return None
    properties = json.loads(json.dumps(body.get("properties") or {}))
    type_ = str(body.get("type") or parsed.kind).lower()
    if type_ in ("microsoft.compute/virtualmachines", "microsoft.compute/virtualmachinescalesets/virtualmachines"):
        power = state.power_state(str(body["id"]))
        view = properties.setdefault("extended", {}).setdefault("instanceView", {})
        if power is not None:
            view["powerState"] = {"code": f"PowerState/{power}", "displayStatus": f"VM {power}", "level": "Info"}
    return {"id": body["id"], "name": body.get("name", parsed.name), "type": type_, "tenantId": tenant,
            "kind": body.get("kind", ""), "location": body.get("location", ""), "resourceGroup": parsed.resource_group,
            "subscriptionId": parsed.subscription_id, "managedBy": body.get("managedBy", ""),
            "sku": body.get("sku"), "plan": body.get("plan"), "properties": properties, "tags": body.get("tags") or {},
            "identity": body.get("identity"), "zones": body.get("zones"),
            "extendedLocation": body.get("extendedLocation")}


# -- the route --------------------------------------------------------------------------------
async def _resources(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    caller = hashlib.sha256(request.headers.get("Authorization", "").encode()).hexdigest()
    allowed, remaining, resets_in = _quota(state).take(caller)
    headers = _quota_headers(remaining, resets_in)
    if not allowed:
        headers["Retry-After"] = str(max(1, math.ceil(resets_in)))
        return _graph_error(429, "RateLimiting", [{
            "code": "RateLimiting",
            "message": "Client application has been throttled and should not attempt to repeat the request until "
                       "an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help."}],
            headers)
    version = request.query.get("api-version", "")
    if version not in API_VERSIONS:
        return arm_json({"error": {"code": "InvalidApiVersionParameter",
                                   "message": f"The api-version '{version}' is invalid. The supported versions are "
                                              f"'{', '.join(sorted(API_VERSIONS, reverse=True))}'."}}, 400, headers)
    try:
        body = json.loads(await request.text() or "null")
    except ValueError as error:
        return _bad_request("InvalidRequestContent", f"The request content was invalid and could not be "
                                                     f"deserialized: '{error}'.", headers)
    if not isinstance(body, dict):
        return _bad_request("InvalidRequestContent", "The request content must be a JSON object.", headers)
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        return _bad_request("InvalidRequestContent", "The 'query' property is required and must be a string.",
                            headers)
    scope, problem = _scope(state, body, headers)
    if problem is not None:
        return problem
    options = body.get("options") or {}
    if not isinstance(options, dict):
        return _bad_request("InvalidRequestContent", "'options' must be an object.", headers)
    top, skip, token_skip, problem = _paging(options, query, scope, headers)
    if problem is not None:
        return problem
    try:
        result = _evaluate_cached(state, query, scope, fresh=options.get("$skipToken") is None)
    except KqlError as error:
        return _query_error(error, query, headers)
    start = token_skip if options.get("$skipToken") is not None else skip  # a token holds the absolute offset
    page = result.rows[start:start + top]
    answer: dict[str, Any] = {"totalRecords": len(result.rows), "count": len(page), "resultTruncated": "false",
                              "facets": _facets(state, body.get("facets"), query, scope)}
    more = start + len(page) < len(result.rows)
    if more:
        if any(name == "id" for name, _ in result.columns):
            answer["$skipToken"] = _token(query, scope, start + len(page))
        else:
            answer["resultTruncated"] = "true"
    answer["data"] = _format(result, page, str(options.get("resultFormat") or "objectArray"))
    return web.Response(status=200, text=json.dumps(answer, default=_json_value), content_type="application/json",
                        headers=headers)


def _scope(state: LabState, body: Mapping[str, Any], headers: dict[str, str],
           ) -> tuple[tuple[str, ...] | None, web.Response | None]:
    subscriptions = body.get("subscriptions")
    groups = body.get("managementGroups")
    if subscriptions is not None:
        if not isinstance(subscriptions, list) or not all(isinstance(sub, str) for sub in subscriptions):
            return None, _bad_request("InvalidRequestContent", "'subscriptions' must be a list of strings.", headers)
        if len(subscriptions) > _MAX_SUBSCRIPTIONS:
            return None, _bad_request(
                "TooManySubscriptions",
                f"The number of subscriptions in the request ({len(subscriptions)}) has exceeded the allowed limit "
                f"{_MAX_SUBSCRIPTIONS}. Please batch the request into groups of at most {_MAX_SUBSCRIPTIONS} "
                "subscriptions.", headers)
        bad = next((sub for sub in subscriptions if not _GUID.fullmatch(sub)), None)
        if bad is not None:
            return None, _bad_request("InvalidSubscriptionId",
                                      f"The provided subscription identifier '{bad}' is malformed or invalid.", headers)
        return tuple(sorted({sub.lower() for sub in subscriptions})), None
    if groups is not None:
        if not isinstance(groups, list) or not all(isinstance(group, str) for group in groups):
            return None, _bad_request("InvalidRequestContent", "'managementGroups' must be a list of strings.",
                                      headers)
        root = state.principal.tenant_id.lower()
        unknown = [group for group in groups if group.lower() != root]
        if unknown:
            return None, _bad_request("ManagementGroupNotFound",
                                      f"The management group '{unknown[0]}' was not found (the lab's only "
                                      f"management group is the tenant root group '{root}').", headers)
    return None, None


def _paging(options: Mapping[str, Any], query: str, scope: tuple[str, ...] | None, headers: dict[str, str],
            ) -> tuple[int, int, int, web.Response | None]:
    top = options.get("$top", _MAX_TOP)
    skip = options.get("$skip", 0)
    if not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= _MAX_TOP:
        return 0, 0, 0, _bad_request("InvalidQueryOption", f"The value of '$top' must be between 1 and {_MAX_TOP}; "
                                                           f"got {top!r}.", headers)
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        return 0, 0, 0, _bad_request("InvalidQueryOption", f"The value of '$skip' must be 0 or more; got {skip!r}.",
                                     headers)
    fmt = options.get("resultFormat")
    if fmt is not None and str(fmt).lower() not in ("objectarray", "table"):
        return 0, 0, 0, _bad_request("InvalidQueryOption", f"The resultFormat '{fmt}' is not supported; use "
                                                           "'objectArray' or 'table'.", headers)
    token = options.get("$skipToken")
    if token is None:
        return top, skip, 0, None
    offset = _read_token(token, query, scope)
    if offset is None:
        return 0, 0, 0, _bad_request("InvalidSkipToken", "The $skipToken is invalid or does not belong to this "
                                                         "query and scope.", headers)
    return top, skip, offset, None


def _token(query: str, scope: tuple[str, ...] | None, offset: int) -> str:
    payload = {"q": _fingerprint(query, scope), "o": offset}
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _read_token(token: Any, query: str, scope: tuple[str, ...] | None) -> int | None:
    if not isinstance(token, str):
        return None
    try:
        payload = json.loads(base64.b64decode(token.encode(), validate=True))
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("q") != _fingerprint(query, scope):
        return None
    offset = payload.get("o")
    return offset if isinstance(offset, int) and offset >= 0 else None


def _fingerprint(query: str, scope: tuple[str, ...] | None) -> str:
    return hashlib.sha256(json.dumps([query, scope]).encode()).hexdigest()[:32]


def _evaluate_cached(state: LabState, query: str, scope: tuple[str, ...] | None, *, fresh: bool) -> KqlResult:
    """A first page (``fresh``) runs the query; the pages after it re-use that snapshot for a minute."""
    cache = state.extras.get(_CACHE_KEY)
    if not isinstance(cache, OrderedDict):
        cache = OrderedDict()
        state.extras[_CACHE_KEY] = cache
    key = (_fingerprint(query, scope), id(fleet_of(state)))
    hit = cache.get(key)
    now = time.monotonic()
    if not fresh and hit is not None and now - hit[0] < 60:
        cache.move_to_end(key)
        return hit[1]
    result = evaluate(query, graph_tables(state, scope))
    cache[key] = (now, result)
    while len(cache) > 8:
        cache.popitem(last=False)
    return result


def _facets(state: LabState, facets: Any, query: str, scope: tuple[str, ...] | None) -> list[dict[str, Any]]:
    if not isinstance(facets, list):
        return []
    answers = []
    for facet in facets:
        if not isinstance(facet, dict) or not isinstance(facet.get("expression"), str):
            continue
        expression = facet["expression"]
        options = facet.get("options") or {}
        top = options.get("$top", 10) if isinstance(options.get("$top", 10), int) else 10
        order = "asc" if str(options.get("sortOrder", "desc")).lower() == "asc" else "desc"
        sort_by = options.get("sortBy") or "count"
        where = f" | where {options['filter']}" if isinstance(options.get("filter"), str) else ""
        facet_query = f"{query}{where} | summarize ['count'] = count() by {expression} | order by {sort_by} {order}"
        try:
            result = _evaluate_cached(state, facet_query, scope, fresh=True)
        except KqlError as error:
            errors = [{"code": "NoValidColumns", "message": "No valid columns in facet expression."}]
            if error.code == "UnknownColumn":
                errors.append({"code": "InvalidColumnNames", "message": f"Invalid column names: [{expression}]."})
            answers.append({"expression": expression, "resultType": "FacetError", "errors": errors})
            continue
        data = list(result.rows[:top])
        answers.append({"expression": expression, "resultType": "FacetResult", "totalRecords": len(result.rows),
                        "count": len(data), "data": data})
    return answers


def _format(result: KqlResult, page: Sequence[dict[str, Any]], fmt: str) -> Any:
    if fmt.lower() != "table":
        return list(page)
    return {"columns": [{"name": name, "type": _TABLE_TYPES.get(kind, "string")} for name, kind in result.columns],
            "rows": [list(row.values()) for row in page]}


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")
    if isinstance(value, dt.timedelta):
        total = int(value.total_seconds())
        hours, rest = divmod(abs(total), 3600)
        return f"{'-' if total < 0 else ''}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)
