"""Times, one way: the clock, the text the kit writes, folder stamps, and reading ISO 8601.

Every time the kit writes is UTC with a ``Z``; every time it reads without a zone is taken as
UTC, which is what the Activity Log, ``az`` and the ARM REST API write.

>>> utc_text(datetime(2026, 11, 25, 18, 0, tzinfo=UTC))
'2026-11-25T18:00:00.000000Z'
>>> iso_z(datetime(2026, 11, 25, 18, 0, tzinfo=UTC))
'2026-11-25T18:00:00Z'
>>> folder_stamp(datetime(2026, 11, 25, 18, 0, tzinfo=UTC))
'20261125T180000Z'
>>> parse_time("2026-11-25T19:00:00+01:00")
datetime.datetime(2026, 11, 25, 18, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kit.errors import UsageError

__all__ = ["UTC", "folder_stamp", "iso_z", "parse_time", "require_time", "utc_now", "utc_text"]


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def utc_text(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as ``2026-11-25T18:00:00.123456Z``, the form every record holds."""
    return (moment or utc_now()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_z(moment: datetime) -> str:
    """``moment`` in UTC as ISO 8601 with a ``Z``, at the precision it has (``2026-11-25T09:13:50Z``).

    For times the kit reports (analysis JSON, what a command prints); records use :func:`utc_text`.
    """
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def folder_stamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as ``20261125T180000Z``, the stamp that starts run and evidence folders."""
    return (moment or utc_now()).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_time(value: Any) -> datetime | None:
    """Read a time leniently: an aware UTC ``datetime``, or ``None`` when ``value`` is not a time.

    Parameters
    ----------
    value
        ISO 8601 text (any number of fractional digits, ``Z`` or an offset), a form Azure's older
        APIs print (``1/21/2015 10:14:26 PM``), or a ``datetime``. No zone means UTC.
    """
    if type(value) is str:  # the hot path: hundreds of thousands of Activity Log and boot times
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            slow = _parse_slow(value)
            if slow is None:
                return None
            parsed = slow
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        return parse_time(str.__str__(value))
    else:
        return None
    tz = parsed.tzinfo
    if tz is UTC:
        return parsed
    if tz is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def require_time(value: str | datetime, what: str) -> datetime:
    """Read a time a person gave (an option, a parameter); UTC when it has no zone.

    Raises
    ------
    UsageError
        ``value`` is not a time; the message names ``what`` (``--start``, ``window_end`` …).
    """
    parsed = parse_time(value.strip() if isinstance(value, str) else value)
    if parsed is None:
        raise UsageError(f"{what} {value!r} is not an ISO 8601 time such as 2026-11-25T08:00:00Z")
    return parsed


def _parse_slow(text: str) -> datetime | None:
    """Times ``fromisoformat`` rejects (``1/21/2015 10:14:26 PM``, nine fractional digits …)."""
    import pandas as pd  # only for the rare odd form; pandas costs ~0.3 s to import

    try:
        stamp = pd.Timestamp(text.strip())
    except (ValueError, TypeError, OverflowError):
        return None
    if stamp is pd.NaT:
        return None
    result: datetime = stamp.to_pydatetime()
    return result
