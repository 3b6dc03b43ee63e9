"""Activity Log: normalise EventData records and group them into operations.

Azure writes several records for one control-plane operation (``Started``, ``Accepted``,
``Succeeded`` or ``Failed``), all sharing a ``correlationId``. This module turns the raw
records into :class:`ActivityEvent` objects (UTC times, the original strings kept) and groups
them into :class:`Operation` objects with a start, an end, a duration and a final status.

Accepted record shapes, one of which is picked per key:

- the REST shape (camelCase, ``{"value", "localizedValue"}`` objects), which the bundle stores and
  ``az monitor activity-log list -o json`` prints;
- the SDK's ``EventData.as_dict()`` shape (snake_case, as dftimewolf writes it);
- Log Analytics ``AzureActivity`` rows (``OperationNameValue``, ``ActivityStatusValue``,
  ``TimeGenerated`` …).

Records that cannot be used (no time at all, not an object) become warnings, never exceptions,
except when the input as a whole is not a list of records.

Two sources, one model: a bundle collected with a Log Analytics workspace holds the same
control-plane events twice, as Activity Log records (``activity_log.json``) and as ``AzureActivity``
rows (``workspace/AzureActivity.json``), and the workspace also has what is older than the Activity
Log's 90 days. :func:`activity_from_bundle` reads both into one :class:`ActivityLog`: a workspace row
is the same record as an Activity Log one when their ``eventDataId`` match, or else when correlation
id, operation name (any case), status (``Success`` and ``Succeeded`` alike) and event time to the
second all match; such rows are left out (counted in ``duplicates``), the others are added, each event
keeping its ``origin``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from kit.analyze._activity_model import LEVEL_RANK, LEVELS, ActivityEvent, ActivityLog, Operation, evidence_of
from kit.analyze._gc import gc_paused
from kit.errors import AnalysisError
from kit.ids import try_parse
from kit.times import parse_time

if TYPE_CHECKING:
    from kit.evidence import Bundle

__all__ = [
    "LEVELS",
    "ActivityEvent",
    "ActivityLog",
    "Operation",
    "activity_from_bundle",
    "event_key",
    "evidence_of",
    "normalize_event",
    "operations",
    "parse_activity_log",
    "workspace_records",
]


# A status's place in an operation's life: the record with the highest phase (then the latest
# time) decides the operation's final status.
_PHASE = {
    "started": 0,
    "accepted": 1,
    "in progress": 1,
    "inprogress": 1,
    "active": 1,
    "updated": 1,
    "succeeded": 2,
    "failed": 2,
    "canceled": 2,
    "cancelled": 2,
    "resolved": 2,
}
_TERMINAL = 2
_NO_PROPERTIES: Mapping[str, Any] = MappingProxyType({})  # shared, so read-only

# key → its spelling in each record shape: REST/az camelCase, SDK ``as_dict()`` snake_case,
# Log Analytics ``AzureActivity`` columns. One shape is picked per record (see ``_shape``).
_FIELDS = ("event_time", "submitted", "correlation_id", "event_id", "operation_name", "status", "sub_status",
           "caller", "category", "level", "resource_id", "resource_type", "http_request", "description", "properties")
_SHAPES: dict[str, tuple[str, ...]] = {
    "rest": ("eventTimestamp", "submissionTimestamp", "correlationId", "eventDataId", "operationName", "status",
             "subStatus", "caller", "category", "level", "resourceId", "resourceType", "httpRequest", "description",
             "properties"),
    "sdk": ("event_timestamp", "submission_timestamp", "correlation_id", "event_data_id", "operation_name", "status",
            "sub_status", "caller", "category", "level", "resource_id", "resource_type", "http_request", "description",
            "properties"),
    "log_analytics": ("TimeGenerated", "EventSubmissionTimestamp", "CorrelationId", "EventDataId", "OperationNameValue",
                      "ActivityStatusValue", "ActivitySubstatusValue", "Caller", "CategoryValue", "Level", "ResourceId",
                      "ResourceProviderValue", "HTTPRequest", "Description", "Properties_d"),
}


#: ``AzureActivity``'s ``ActivityStatusValue`` → the Activity Log's ``status.value``.
_WORKSPACE_STATUS = {"start": "Started", "accept": "Accepted", "success": "Succeeded", "failure": "Failed"}


def _shape(record: Mapping[str, Any]) -> tuple[str, ...]:
    if "eventTimestamp" in record or "correlationId" in record or "operationName" in record:
        return _SHAPES["rest"]
    if "event_timestamp" in record or "correlation_id" in record or "operation_name" in record:
        return _SHAPES["sdk"]
    return _SHAPES["log_analytics"]


def _text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value
    if kind is dict:
        inner = value.get("value")
        if inner is None:
            inner = value.get("localizedValue", value.get("localized_value"))
        return "" if inner is None else inner if type(inner) is str else str(inner)
    if value is None:
        return ""
    if isinstance(value, Mapping):
        inner = value.get("value")
        if inner is None:
            inner = value.get("localizedValue", value.get("localized_value"))
        return "" if inner is None else str(inner)
    return str(value)


def _label(value: Any, fallback: str) -> str:
    if type(value) is dict or isinstance(value, Mapping):
        label = value.get("localizedValue", value.get("localized_value"))
        if label:
            return str(label)
    return fallback


#: ``try_parse`` cached: big logs name the same resources over and over.
_parsed = lru_cache(maxsize=65536)(try_parse)


def _type_of(resource_id: str) -> str:
    parsed = _parsed(resource_id)
    return parsed.kind if parsed is not None else ""


def normalize_event(record: Mapping[str, Any], *, index: int = 0) -> ActivityEvent:
    """Normalise one Activity Log record.

    Parameters
    ----------
    record
        One EventData record in the REST, SDK ``as_dict()`` or Log Analytics shape.
    index
        Its position in the input, kept for evidence references.

    Returns
    -------
    ActivityEvent
        The record with UTC times and the original time strings kept.

    Raises
    ------
    AnalysisError
        When ``record`` is not an object or has neither an event nor a submission time.
    """
    if type(record) is not dict and not isinstance(record, Mapping):
        raise AnalysisError(f"Activity Log record {index} is a {type(record).__name__}, not an object")
    get = record.get
    (k_time, k_submitted, k_correlation, k_event_id, k_operation, k_status, k_sub_status, k_caller, k_category,
     k_level, k_resource, k_type, k_http, k_description, k_properties) = _shape(record)
    event_text = get(k_time)
    submitted_text = get(k_submitted)
    event_time = parse_time(event_text)
    submitted = parse_time(submitted_text)
    time, time_desc = (event_time, "event") if event_time is not None else (submitted, "submitted")
    if time is None:
        raise AnalysisError(
            f"Activity Log record {index} has no usable eventTimestamp or submissionTimestamp "
            f"(eventTimestamp={event_text!r})"
        )
    name_value = get(k_operation)
    operation_name = _text(name_value)
    http = get(k_http)
    properties = get(k_properties)
    workspace = k_time == "TimeGenerated"
    status = _text(get(k_status))
    label = _label(name_value, operation_name)
    resource_id = _text(get(k_resource))
    resource_type = _text(get(k_type))
    if workspace:  # AzureActivity: JSON text in its string columns, its own status words, _ResourceId
        http, properties = _json_object(http), _json_object(properties)
        status = _WORKSPACE_STATUS.get(status.lower(), status)
        label = _text(get("OperationName")) or operation_name
        resource_id = _text(get("_ResourceId")) or resource_id
        resource_type = ""
    if type(http) is not dict:
        http = None
    if not resource_id:  # some records (support tickets, role assignments) only name their scope
        authorization = get("authorization")
        if isinstance(authorization, Mapping):
            resource_id = _text(authorization.get("scope"))
    text = _text
    client_ip = method = ""
    if http:
        client_ip = text(http.get("clientIpAddress") or http.get("client_ip_address"))
        method = text(http.get("method"))
    return _new_event(ActivityEvent, (  # positional: this runs once per record, 100k+ times on big logs
        time,
        time_desc,
        submitted,
        text(get(k_correlation)),
        text(get(k_event_id) or get("id")),
        operation_name,
        label,
        status,
        text(get(k_sub_status)),
        text(get(k_caller)),
        text(get(k_category)),
        text(get(k_level)) or "Informational",
        resource_id,
        resource_type,
        client_ip,
        method,
        text(get(k_description)),
        properties if type(properties) is dict else _NO_PROPERTIES,
        None if event_text is None else str(event_text),
        None if submitted_text is None else str(submitted_text),
        index,
        "workspace" if workspace else "activity_log",
    ))


def _json_object(value: Any) -> Any:
    """A dynamic column's value: an object as is, JSON text parsed (``None`` when it holds no object)."""
    if type(value) is str and value[:1] == "{":
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if type(value) is dict else None


_new_event = tuple.__new__


def parse_activity_log(records: Iterable[Mapping[str, Any] | ActivityEvent] | Mapping[str, Any], *,
                       workspace: Iterable[Mapping[str, Any]] = ()) -> ActivityLog:
    """Normalise records and group them into operations.

    Parameters
    ----------
    records
        A list of records (or of already normalised :class:`ActivityEvent`), or the
        ``{"value": [...]}`` page as the REST API and the bundle's ``activity_log.json`` hold it.
    workspace
        Log Analytics ``AzureActivity`` rows (dicts, see :func:`workspace_records`) of the same window:
        added where ``records`` lack them, left out where they are the same record (:func:`event_key`).

    Returns
    -------
    ActivityLog
        Events in time order, operations by start time, one warning per skipped record, and how
        many workspace rows were duplicates.

    Raises
    ------
    AnalysisError
        When ``records`` is neither a list nor a ``{"value": [...]}`` object.
    """
    items: Any = records
    if isinstance(records, Mapping):
        if "value" not in records:
            raise AnalysisError("the Activity Log should be a list of records or an object with a 'value' list")
        items = records["value"]
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise AnalysisError(f"the Activity Log should be a list of records, not {type(items).__name__}")
    events: list[ActivityEvent] = []
    warnings: list[str] = []
    with gc_paused():
        for index, record in enumerate(items):
            if isinstance(record, ActivityEvent):
                events.append(record)
                continue
            try:
                events.append(normalize_event(record, index=index))
            except AnalysisError as error:
                warnings.append(f"skipped: {error}")
        duplicates = _add_workspace(events, workspace, warnings)
        events.sort(key=lambda event: (event.time, _PHASE.get(event.status.lower(), 1)))
        grouped = _group(events)
    return ActivityLog(events=tuple(events), operations=tuple(grouped), warnings=tuple(warnings),
                       duplicates=duplicates)


def event_key(event: ActivityEvent) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The two keys that make a workspace row the same record as an Activity Log one.

    ``("id", eventDataId)`` (empty when the record has none) and ``(correlation id, operation name,
    status, event time to the second)``, all lower-cased: both sources write the same event's
    time, but not always to the same fraction of a second.
    """
    second = event.time.replace(microsecond=0).isoformat()
    return (("id", event.event_id.lower()) if event.event_id else (),
            (event.correlation_id.lower(), event.operation_name.lower(), event.status.lower(), second))


def _add_workspace(events: list[ActivityEvent], rows: Iterable[Mapping[str, Any]], warnings: list[str]) -> int:
    """Add the workspace rows the Activity Log lacks to ``events``; how many were duplicates."""
    known: set[tuple[str, ...]] = set()
    for event in events:
        known.update(key for key in event_key(event) if key)
    duplicates = 0
    for index, row in enumerate(rows):
        try:
            event = normalize_event(row, index=index)
        except AnalysisError as error:
            warnings.append(f"skipped: workspace AzureActivity row {index}: {error}")
            continue
        if event.origin != "workspace":
            event = event._replace(origin="workspace")
        by_id, by_operation = event_key(event)
        if (by_id and by_id in known) or by_operation in known:
            duplicates += 1
            continue
        known.update(key for key in (by_id, by_operation) if key)
        events.append(event)
    return duplicates


def workspace_records(document: Any, warnings: list[str] | None = None) -> list[dict[str, Any]]:
    """A ``workspace/<table>.json`` document's rows as dicts (column name → value).

    A document that is not one (no ``columns``/``rows`` lists), or a row whose length is not the
    columns', is left out with a warning in ``warnings``; a ``partial`` or ``failed`` query is noted there too.
    """
    notes = warnings if warnings is not None else []
    if not isinstance(document, Mapping):
        return []
    table = str(document.get("table") or "workspace table")
    status = document.get("status")
    if status in ("partial", "failed"):
        error = document.get("error")
        detail = error.get("message") or error.get("code") if isinstance(error, Mapping) else None
        notes.append(f"workspace {table}: the query was {status}" + (f" ({detail})" if detail else ""))
    columns, rows = document.get("columns"), document.get("rows")
    if not isinstance(columns, list) or not isinstance(rows, list):
        if status != "failed":
            notes.append(f"workspace {table}: no columns and rows lists; its rows are not used")
        return []
    names = [str(column.get("name")) if isinstance(column, Mapping) else str(column) for column in columns]
    records = []
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(names):
            notes.append(f"workspace {table}: row {index} does not match its {len(names)} columns; skipped")
            continue
        records.append(dict(zip(names, row, strict=True)))
    return records


def operations(records: Iterable[Mapping[str, Any] | ActivityEvent] | Mapping[str, Any]) -> list[Operation]:
    """Group Activity Log records into operations (see :func:`parse_activity_log`).

    Parameters
    ----------
    records
        Raw records, normalised events, or the ``{"value": [...]}`` page.

    Returns
    -------
    list[Operation]
        Ordered by start time. Skipped records are only reported by :func:`parse_activity_log`.
    """
    return list(parse_activity_log(records).operations)


def activity_from_bundle(bundle: Bundle) -> ActivityLog:
    """The Activity Log of an evidence bundle (``bundle.activity_log``) and its workspace's AzureActivity, parsed.

    Parameters
    ----------
    bundle
        A loaded :class:`kit.evidence.Bundle` (anything with an ``activity_log`` list; ``workspace_tables``
        when it has one).
    """
    warnings: list[str] = []
    tables = getattr(bundle, "workspace_tables", None)
    rows = workspace_records(tables.get("AzureActivity"), warnings) if isinstance(tables, Mapping) else []
    log = parse_activity_log(getattr(bundle, "activity_log", None) or [], workspace=rows)
    if not warnings:
        return log
    return ActivityLog(events=log.events, operations=log.operations, warnings=(*warnings, *log.warnings),
                       duplicates=log.duplicates)


def _group(events: Sequence[ActivityEvent]) -> list[Operation]:
    groups: dict[tuple[str, str, str], list[ActivityEvent]] = {}
    for event in events:  # already in time order, so each group is too
        key = (
            event.correlation_id or f"event:{event.event_id or event.position}",
            event.operation_name.lower(),
            event.resource_id.lower(),
        )
        group = groups.get(key)
        if group is None:
            groups[key] = [event]
        else:
            group.append(event)
    result = [_operation(key[0], group) for key, group in groups.items()]
    result.sort(key=lambda operation: operation.start)
    return result


def _operation(correlation_id: str, events: list[ActivityEvent]) -> Operation:
    first = events[0]
    final, final_phase = first, -1
    caller = resource_id = resource_type = category = ""
    level, level_rank = first.level, -1
    failed = False
    for event in events:  # one pass: this runs once per operation, 100k times on big logs
        phase = _PHASE.get(event.status.lower(), 1)
        if phase >= final_phase:
            final, final_phase = event, phase
        if not caller and event.caller:
            caller = event.caller
        if not resource_id and event.resource_id:
            resource_id = event.resource_id
        if not resource_type and event.resource_type:
            resource_type = event.resource_type
        if not category and event.category:
            category = event.category
        rank = LEVEL_RANK.get(event.level.lower(), 1)
        if rank > level_rank:
            level, level_rank = event.level, rank
        if phase == _TERMINAL and event.status == "Failed":
            failed = True
    end = final.time if final_phase == _TERMINAL else None
    duration = end - first.time if end is not None else None
    status = final.status or "Unknown"
    return Operation(
        correlation_id, first.operation_name, resource_id, resource_type or _type_of(resource_id), status,
        first.time, end, duration, caller, category, level, tuple(events),
        _summary(first, final, status, caller, resource_id, duration),
        _severity(level, failed or status.lower() == "failed"),
    )


def _severity(level: str, failed: bool) -> str:
    severity = LEVELS.get(level.lower(), "info")
    if failed and severity in ("info", "warning"):
        return "error"
    return severity


def _summary(
    first: ActivityEvent,
    final: ActivityEvent,
    status: str,
    caller: str,
    resource_id: str,
    duration: timedelta | None,
) -> str:
    what = first.operation_label or first.operation_name or "operation"
    name = _resource_name(resource_id)
    text = f"{what} {name}" if name else what
    if first.category.lower() == "resourcehealth":
        current = _text(final.properties.get("currentHealthStatus"))
        cause = _text(final.properties.get("cause"))
        if current:
            text += f": health {current}" + (f" ({cause})" if cause else "")
    ending = status
    if final.sub_status and final.sub_status.lower() not in ("ok", status.lower()):
        ending += f" ({final.sub_status})"
    text += f" — {ending}"
    if duration is not None and duration.total_seconds() >= 1:
        text += f" after {_seconds(duration)}"
    if caller:
        text += f", by {caller}"
    return text


def _resource_name(resource_id: str) -> str:
    parsed = _parsed(resource_id)
    if parsed is None:
        return resource_id
    if len(parsed.names) > 1:
        return "/".join(parsed.names)
    return parsed.name if parsed.names else (parsed.resource_group or "")


def _seconds(duration: timedelta) -> str:
    seconds = duration.total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
