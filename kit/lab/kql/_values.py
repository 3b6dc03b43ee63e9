"""KQL values in Python and the conversions between them.

``null`` is ``None``; string, long, real, bool are ``str``, ``int``, ``float``, ``bool``; datetime is an
aware UTC ``datetime.datetime``; timespan is ``datetime.timedelta``; dynamic is whatever JSON gives
(``dict``, ``list`` or a scalar). Conversions return ``None`` where KQL's return null.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from kit.times import parse_time

__all__ = [
    "freeze",
    "kql_type",
    "parse_datetime",
    "parse_timespan",
    "sort_key",
    "to_bool",
    "to_datetime",
    "to_double",
    "to_dynamic",
    "to_long",
    "to_string",
    "to_timespan",
]

_SPAN = re.compile(r"^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$")
_SPAN_UNIT = re.compile(r"^(-?\d+(?:\.\d+)?)\s*(d|h|m|s|ms)$")
_UNIT = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_datetime(text: str) -> dt.datetime | None:
    """An ISO 8601 (or Azure's older) date text as an aware UTC datetime, or ``None``."""
    return parse_time(text.strip())


def parse_timespan(text: str) -> dt.timedelta | None:
    """``1.02:03:04.5``, ``02:03``, ``3h``, ``100ms`` as a timedelta, or ``None``."""
    text = text.strip()
    unit = _SPAN_UNIT.match(text)
    if unit:
        return dt.timedelta(seconds=float(unit.group(1)) * _UNIT[unit.group(2)])
    match = _SPAN.match(text)
    if match is None:
        return None
    sign, days, hours, minutes, seconds, fraction = match.groups()
    span = dt.timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0),
                        microseconds=int((fraction or "0")[:6].ljust(6, "0")))
    return -span if sign else span


def kql_type(value: Any) -> str | None:
    """The KQL type of a Python value (``None`` for null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "real"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.timedelta):
        return "timespan"
    return "dynamic"


def _datetime_text(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def _timespan_text(value: dt.timedelta) -> str:
    sign = "-" if value < dt.timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    if value.microseconds:
        text += f".{value.microseconds:06d}0"
    return f"{sign}{value.days}.{text}" if value.days else f"{sign}{text}"


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, dt.timedelta):
        return _timespan_text(value)
    return str(value)


def to_string(value: Any) -> str:
    """``tostring()``: null is ``""``, dynamic objects and arrays are compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, dt.timedelta):
        return _timespan_text(value)
    return json.dumps(value, separators=(",", ":"), default=_json_default)


def to_long(value: Any) -> int | None:
    """``tolong()`` / ``toint()``: numbers truncate, numeric text converts, anything else is null."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if value != value or value in (float("inf"), float("-inf")) else int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                return int(float(text))
            except ValueError:
                return None
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds() * 10_000_000)
    return None


def to_double(value: Any) -> float | None:
    """``todouble()`` / ``toreal()``."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def to_bool(value: Any) -> bool | None:
    """``tobool()``: ``true``/``false`` text (any case), numbers (non-zero is true)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
    return None


def to_datetime(value: Any) -> dt.datetime | None:
    """``todatetime()``."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        return parse_datetime(value)
    return None


def to_timespan(value: Any) -> dt.timedelta | None:
    """``totimespan()``."""
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, str):
        return parse_timespan(value)
    return None


def to_dynamic(value: Any) -> Any:
    """``parse_json()`` / ``todynamic()``: JSON text parsed; other values kept; bad JSON stays the string."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def freeze(value: Any) -> Any:
    """A hashable stand-in for ``value`` (for grouping, distinct and join keys)."""
    if isinstance(value, (dict, list)):
        return ("\0dynamic", json.dumps(value, sort_keys=True, default=_json_default))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_RANK = {bool: 1, int: 2, float: 2, str: 3, dt.datetime: 4, dt.timedelta: 5}


def sort_key(value: Any) -> tuple[int, Any]:
    """A key that orders any two KQL values without a TypeError (nulls have their own rank)."""
    if value is None:
        return (0, 0)
    rank = _RANK.get(type(value))
    if rank is None:
        if isinstance(value, dt.datetime):
            return (4, value)
        return (6, to_string(value))
    return (rank, value)
