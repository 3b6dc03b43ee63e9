"""The small OData ``$filter`` language of the Activity Log API, parsed strictly.

Accepted: clauses ``<field> <op> '<value>'`` joined by ``and`` (any case), where ``op`` is
``eq`` for identity fields and ``ge``/``le`` for ``eventTimestamp``; quotes inside a value
are doubled (``''``). Anything else raises :class:`FilterError` with the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from kit.times import parse_time

__all__ = ["ActivityFilter", "FilterError", "parse_activity_filter"]

_CLAUSE = re.compile(r"\s*([A-Za-z]+)\s+(eq|ge|le)\s+'((?:[^']|'')*)'\s*", re.IGNORECASE)
_AND = re.compile(r"and\b", re.IGNORECASE)
#: fields compared with ``eq`` → the EventData key (or ``None`` when the lab ignores the clause)
_EQ_FIELDS = {
    "resourcegroupname": "resourceGroupName",
    "resourceuri": "resourceId",
    "resourceid": "resourceId",
    "resourceprovider": "resourceProviderName",
    "correlationid": "correlationId",
    "status": "status",
    "eventchannels": None,  # az monitor activity-log list sends it; every lab record is Admin/Operation
    "levels": "level",
    "caller": "caller",
}


class FilterError(ValueError):
    """Raised when a ``$filter`` is not one the Activity Log API accepts."""


@dataclass(frozen=True)
class ActivityFilter:
    """A parsed ``$filter``.

    Parameters
    ----------
    start, end
        The ``eventTimestamp ge`` / ``le`` bounds (tz-aware UTC).
    equals
        EventData key → the values it must equal (case-insensitively).
    """

    start: dt.datetime
    end: dt.datetime | None
    equals: dict[str, str] = field(default_factory=dict)

    def matches(self, event: dict[str, Any]) -> bool:
        """Whether the EventData record passes the filter."""
        when = parse_time(str(event.get("eventTimestamp", "")).strip())
        if when is None or when < self.start or (self.end is not None and when > self.end):
            return False
        for key, wanted in self.equals.items():
            value = event.get(key)
            if isinstance(value, dict):
                value = value.get("value")
            if key == "level":
                if str(value or "").lower() not in {part.strip().lower() for part in wanted.split(",")}:
                    return False
            elif str(value or "").lower().rstrip("/") != wanted.lower().rstrip("/"):
                return False
        return True


def parse_activity_filter(text: str) -> ActivityFilter:
    """Parse an Activity Log ``$filter``.

    Raises
    ------
    FilterError
        When the text is malformed, uses an unknown field or operator, or lacks the
        ``eventTimestamp ge`` start the API requires.
    """
    position = 0
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    equals: dict[str, str] = {}
    while True:
        match = _CLAUSE.match(text, position)
        if match is None:
            raise FilterError(f"cannot parse the $filter at character {position + 1}: {text[position:position + 40]!r}")
        name, op, value = match.group(1).lower(), match.group(2).lower(), match.group(3).replace("''", "'")
        if name == "eventtimestamp":
            when = parse_time(value.strip())
            if when is None or op == "eq":
                raise FilterError(f"eventTimestamp needs ge/le and an ISO 8601 time, got {op} {value!r}")
            if op == "ge":
                start = when
            else:
                end = when
        elif name in _EQ_FIELDS:
            if op != "eq":
                raise FilterError(f"{match.group(1)} only supports eq, got {op}")
            if _EQ_FIELDS[name] is not None:
                equals[_EQ_FIELDS[name]] = value  # type: ignore[index]
        else:
            raise FilterError(f"unsupported $filter field {match.group(1)!r}")
        position = match.end()
        if position == len(text):
            break
        joiner = _AND.match(text, position)
        if joiner is None:
            raise FilterError(f"expected 'and' at character {position + 1}: {text[position:position + 40]!r}")
        position = joiner.end()
    if start is None:
        raise FilterError("the $filter must give a start time (eventTimestamp ge '...')")
    if end is not None and end < start:
        raise FilterError("the $filter end time is before its start time")
    return ActivityFilter(start, end, equals)
