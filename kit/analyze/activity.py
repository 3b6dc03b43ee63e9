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
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from kit.azure.ids import ResourceId, parse_resource_id
from kit.errors import AnalysisError, InvalidResourceId

__all__ = [
    "LEVELS",
    "ActivityEvent",
    "ActivityLog",
    "Operation",
    "activity_from_bundle",
    "normalize_event",
    "operations",
    "parse_activity_log",
    "parse_time",
]

#: Activity Log levels, least to most severe, and the timeline severity each maps to.
LEVELS: dict[str, str] = {
    "verbose": "info",
    "informational": "info",
    "warning": "warning",
    "error": "error",
    "critical": "critical",
}
_LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}

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


def _shape(record: Mapping[str, Any]) -> tuple[str, ...]:
    if "eventTimestamp" in record or "correlationId" in record or "operationName" in record:
        return _SHAPES["rest"]
    if "event_timestamp" in record or "correlation_id" in record or "operation_name" in record:
        return _SHAPES["sdk"]
    return _SHAPES["log_analytics"]


class ActivityEvent(NamedTuple):
    """One Activity Log record, normalised (an immutable named tuple: cheap at 100k records).

    Parameters
    ----------
    time
        When the event happened (``eventTimestamp``), UTC; the submission time when the record
        has no event time.
    time_desc
        ``"event"`` or ``"submitted"``: which of the record's times ``time`` is.
    submitted
        When Azure recorded it (``submissionTimestamp``), UTC, or ``None``.
    correlation_id
        Shared by every record of one operation (``""`` when absent).
    event_id
        ``eventDataId``: unique per record.
    operation_name
        ``operationName.value`` (``Microsoft.Compute/virtualMachines/start/action``).
    operation_label
        ``operationName.localizedValue`` (``Start Virtual Machine``), or ``operation_name``.
    status
        ``status.value``: ``Started``, ``Accepted``, ``Succeeded``, ``Failed`` …
    sub_status
        ``subStatus.value`` (``OK``, ``Created``, ``Conflict`` …) or ``""``.
    caller
        Who did it (UPN, app id, or empty for platform events).
    category
        ``Administrative``, ``ResourceHealth``, ``ServiceHealth``, ``Policy`` …
    level
        ``Informational``, ``Warning``, ``Error``, ``Critical`` or ``Verbose``.
    resource_id
        The resource the operation was about, as written in the record.
    resource_type
        ``resourceType.value`` (empty when the record has none; :class:`Operation` fills it in
        from the resource id).
    client_ip
        ``httpRequest.clientIpAddress`` or ``""``.
    http_method
        ``httpRequest.method`` or ``""``.
    description
        ``description`` or ``""``.
    properties
        ``properties`` (ResourceHealth's ``currentHealthStatus``, ``cause`` … live here), as
        read (not copied).
    event_text, submitted_text
        The original time strings exactly as read (``None`` when absent); see :attr:`original`.
    index
        Position of the record in the input list.
    """

    time: datetime
    time_desc: str
    submitted: datetime | None
    correlation_id: str
    event_id: str
    operation_name: str
    operation_label: str
    status: str
    sub_status: str
    caller: str
    category: str
    level: str
    resource_id: str
    resource_type: str
    client_ip: str
    http_method: str
    description: str
    properties: Mapping[str, Any]
    event_text: str | None
    submitted_text: str | None
    index: int

    @property
    def original(self) -> dict[str, str]:
        """The original time strings by their REST names (``eventTimestamp``, ``submissionTimestamp``)."""
        result = {}
        if self.event_text is not None:
            result["eventTimestamp"] = self.event_text
        if self.submitted_text is not None:
            result["submissionTimestamp"] = self.submitted_text
        return result

    @property
    def severity(self) -> str:
        """Timeline severity: the level's, raised to ``error`` for a failed status."""
        severity = LEVELS.get(self.level.lower(), "info")
        if self.status.lower() == "failed" and severity in ("info", "warning"):
            return "error"
        return severity


@dataclass(frozen=True, slots=True)
class Operation:
    """The records of one operation (same correlation id, operation name and resource).

    Parameters
    ----------
    correlation_id
        The shared ``correlationId`` (the event id for a record that has none).
    operation_name
        ``Microsoft.Network/networkSecurityGroups/securityRules/write`` …
    resource_id
        The resource it acted on.
    resource_type
        Its type (``Microsoft.Network/networkSecurityGroups/securityRules``).
    status
        The final status: the terminal record's (``Succeeded``/``Failed``/``Canceled``/
        ``Resolved``), else the latest record's (``Started``, ``Accepted`` …).
    start
        The earliest record's time (UTC).
    end
        The terminal record's time, or ``None`` while the operation has not finished.
    duration
        ``end - start``, or ``None``.
    caller
        Who did it (the first record that names a caller).
    category
        The records' category.
    level
        The most severe level among the records.
    events
        The records, in time order.
    summary
        One line for people: what, on which resource, by whom, how it ended.
    severity
        Timeline severity: the most severe of its records' (a failed record counts as ``error``).
    """

    correlation_id: str
    operation_name: str
    resource_id: str
    resource_type: str
    status: str
    start: datetime
    end: datetime | None
    duration: timedelta | None
    caller: str
    category: str
    level: str
    events: tuple[ActivityEvent, ...]
    summary: str
    severity: str = "info"

    @property
    def label(self) -> str:
        """The operation's localized name (``Create or Update Security Rule``)."""
        return self.events[0].operation_label if self.events else self.operation_name

    @property
    def failed(self) -> bool:
        """Whether the operation ended in ``Failed``."""
        return self.status.lower() == "failed"

    @property
    def properties(self) -> dict[str, Any]:
        """The properties of every record merged, later records winning."""
        merged: dict[str, Any] = {}
        for event in self.events:
            merged.update(event.properties)
        return merged


@dataclass(frozen=True)
class ActivityLog:
    """Normalised records, their operations, and what could not be used.

    Parameters
    ----------
    events
        Every usable record, in time order.
    operations
        The records grouped into operations, ordered by start time.
    warnings
        One sentence per record that was skipped (with its index in the input).
    """

    events: tuple[ActivityEvent, ...]
    operations: tuple[Operation, ...]
    warnings: tuple[str, ...] = field(default=())


def parse_time(text: Any) -> datetime | None:
    """Parse an Activity Log time string into an aware UTC ``datetime``.

    Parameters
    ----------
    text
        ISO 8601 (any number of fractional digits, ``Z`` or an offset). A time without an offset
        is taken as UTC, which is what the Activity Log and ``az`` write.

    Returns
    -------
    datetime | None
        The time in UTC, or ``None`` when ``text`` is empty or not a time.
    """
    if type(text) is str and text:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = _parse_slow(text)
            if parsed is None:
                return None
    elif isinstance(text, datetime):
        parsed = text
    elif isinstance(text, str) and text:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = _parse_slow(text)
            if parsed is None:
                return None
    else:
        return None
    tz = parsed.tzinfo
    if tz is UTC:
        return parsed
    if tz is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_slow(text: str) -> datetime | None:
    """Times ``fromisoformat`` rejects (``1/21/2015 10:14:26 PM``, long fractions …)."""
    import pandas as pd

    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        return None
    if stamp is pd.NaT:
        return None
    return stamp.to_pydatetime()


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


@lru_cache(maxsize=65536)
def _parsed(resource_id: str) -> ResourceId | None:
    """The parsed id (cached: big logs name the same resources over and over), or ``None``."""
    if not resource_id:
        return None
    try:
        return parse_resource_id(resource_id)
    except InvalidResourceId:
        return None


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
    if type(http) is not dict:
        http = None
    properties = get(k_properties)
    resource_id = _text(get(k_resource))
    if not resource_id:  # some records (support tickets, role assignments) only name their scope
        authorization = get("authorization")
        if isinstance(authorization, Mapping):
            resource_id = _text(authorization.get("scope"))
    text = _text
    http_get = http.get if http else None
    return _new_event(ActivityEvent, (  # positional: this runs once per record, 100k+ times on big logs
        time,
        time_desc,
        submitted,
        text(get(k_correlation)),
        text(get(k_event_id) or get("id")),
        operation_name,
        _label(name_value, operation_name),
        text(get(k_status)),
        text(get(k_sub_status)),
        text(get(k_caller)),
        text(get(k_category)),
        text(get(k_level)) or "Informational",
        resource_id,
        text(get(k_type)),
        text(http_get("clientIpAddress") or http_get("client_ip_address")) if http else "",
        text(http_get("method")) if http else "",
        text(get(k_description)),
        properties if type(properties) is dict else _NO_PROPERTIES,
        None if event_text is None else str(event_text),
        None if submitted_text is None else str(submitted_text),
        index,
    ))


_new_event = tuple.__new__


def parse_activity_log(records: Iterable[Mapping[str, Any] | ActivityEvent] | Mapping[str, Any]) -> ActivityLog:
    """Normalise records and group them into operations.

    Parameters
    ----------
    records
        A list of records (or of already normalised :class:`ActivityEvent`), or the
        ``{"value": [...]}`` page as the REST API and the bundle's ``activity_log.json`` hold it.

    Returns
    -------
    ActivityLog
        Events in time order, operations by start time, and one warning per skipped record.

    Raises
    ------
    AnalysisError
        When ``records`` is neither a list nor a ``{"value": [...]}`` object.
    """
    if isinstance(records, Mapping):
        if "value" not in records:
            raise AnalysisError("the Activity Log should be a list of records or an object with a 'value' list")
        records = records["value"]
    if isinstance(records, (str, bytes)) or not isinstance(records, Iterable):
        raise AnalysisError(f"the Activity Log should be a list of records, not {type(records).__name__}")
    events: list[ActivityEvent] = []
    warnings: list[str] = []
    with _gc_paused():
        for index, record in enumerate(records):
            if isinstance(record, ActivityEvent):
                events.append(record)
                continue
            try:
                events.append(normalize_event(record, index=index))
            except AnalysisError as error:
                warnings.append(f"skipped: {error}")
        events.sort(key=lambda event: (event.time, _PHASE.get(event.status.lower(), 1)))
        grouped = _group(events)
    return ActivityLog(events=tuple(events), operations=tuple(grouped), warnings=tuple(warnings))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects.

    A 100k-record log allocates a million dicts and tuples; the collector would walk them
    again and again for nothing (none of them form cycles). Reference counting still frees them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


def activity_from_bundle(bundle: Any) -> ActivityLog:
    """The Activity Log of an evidence bundle (``bundle.activity_log``), parsed.

    Parameters
    ----------
    bundle
        A loaded :class:`kit.evidence.Bundle` (anything with an ``activity_log`` list).
    """
    return parse_activity_log(getattr(bundle, "activity_log", None) or [])


def _group(events: Sequence[ActivityEvent]) -> list[Operation]:
    groups: dict[tuple[str, str, str], list[ActivityEvent]] = {}
    for event in events:  # already in time order, so each group is too
        key = (
            event.correlation_id or f"event:{event.event_id or event.index}",
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
        rank = _LEVEL_RANK.get(event.level.lower(), 1)
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
