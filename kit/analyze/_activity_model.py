"""The Activity Log's data types: one normalised record, one operation, one parsed log."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, overload

__all__ = ["LEVELS", "LEVEL_RANK", "ORIGIN_FILES", "ActivityEvent", "ActivityLog", "Operation", "RecordList",
           "evidence_of"]

#: Activity Log levels, least to most severe, and the timeline severity each maps to.
LEVELS: dict[str, str] = {
    "verbose": "info",
    "informational": "info",
    "warning": "warning",
    "error": "error",
    "critical": "critical",
}
LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}


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
    position
        Position of the record in the input list (its row in the workspace table for ``workspace`` records).
    origin
        Where the record was read: ``activity_log`` (the Activity Log API, ``activity_log.json``) or
        ``workspace`` (a Log Analytics ``AzureActivity`` row, ``workspace/AzureActivity.json``).
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
    position: int
    origin: str = "activity_log"

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


#: The bundle file each origin's records come from, as evidence references name it.
ORIGIN_FILES = {"activity_log": "activity_log.json", "workspace": "workspace/AzureActivity.json"}


def evidence_of(events: Sequence[ActivityEvent]) -> str:
    """Where an operation's records are: ``activity_log.json#3,4,7``, plus ``workspace/AzureActivity.json#12``
    for records only the workspace had (positions in each file, sorted)."""
    by_origin: dict[str, list[int]] = {}
    for event in events:
        by_origin.setdefault(event.origin, []).append(event.position)
    return " ".join(f"{ORIGIN_FILES.get(origin, origin)}#{','.join(str(p) for p in sorted(positions))}"
                    for origin, positions in sorted(by_origin.items()))


class RecordList(Sequence[dict[str, Any]]):
    """An operation's records as the timeline shows them, made when read.

    Each item is ``{"status", "sub_status", "event_id", "index", "eventTimestamp"}`` plus
    ``"submissionTimestamp"`` when the record had one: the original strings. Building 100k such
    dicts up front was a third of the timeline's time; a view over the events costs nothing until
    someone opens a row. Compares equal to the list of those dicts; :meth:`to_json` gives that list.
    """

    __slots__ = ("_events",)

    def __init__(self, events: Sequence[ActivityEvent]) -> None:
        self._events = events

    @staticmethod
    def _record(event: ActivityEvent) -> dict[str, Any]:
        record = {"status": event.status, "sub_status": event.sub_status, "event_id": event.event_id,
                  "index": event.position, "eventTimestamp": event.event_text}
        if event.origin != "activity_log":
            record["origin"] = event.origin
        if event.submitted_text is not None:
            record["submissionTimestamp"] = event.submitted_text
        return record

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._record(event) for event in self._events[index]]
        return self._record(self._events[index])

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(self._record, self._events)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecordList | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))

    def to_json(self) -> list[dict[str, Any]]:
        """The records as a JSON-ready list."""
        return list(self)


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
    duplicates
        Workspace ``AzureActivity`` rows left out because the Activity Log already had the record.
    """

    events: tuple[ActivityEvent, ...]
    operations: tuple[Operation, ...]
    warnings: tuple[str, ...] = field(default=())
    duplicates: int = 0
