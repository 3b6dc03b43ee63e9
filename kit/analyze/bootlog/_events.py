"""One log line → its time fields: kernel uptime stamp and, if the line carries one, a date.

Also turns per-boot anchors into wall times for uptime-only events ("estimated from uptime").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

__all__ = ["LineTime", "line_time", "parse_iso", "parse_rfc2822", "with_year"]

# "[   12.345678]" at the start, or after a syslog prefix ("kernel: [ 12.3] …"), within 80 chars.
_UPTIME = re.compile(r"\[\s{0,12}(\d{1,9}\.\d{1,9})\]")
# ISO 8601 / RFC 3339 and the "2026-11-25 09:14:02,123" of Python logging (cloud-init).
_ISO = re.compile(
    r"(?<!\d)(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?(?!\d)"
)
# Classic syslog at the start of a line: "Nov 25 09:14:02 host prog[1]: …" (no year).
_BSD = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d) (\d{2}):(\d{2}):(\d{2})\b")
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_HEAD = 160
_BSD_FIRST = frozenset("JFMASOND")


@dataclass(frozen=True, slots=True)
class LineTime:
    """Time fields read from one line: its uptime stamp and its own date, if any."""

    uptime: float | None
    time: datetime | None
    dated_without_year: tuple[int, int, int, int, int] | None = None  # month, day, h, m, s


def parse_iso(match: re.Match[str]) -> datetime | None:
    """A tz-aware UTC datetime from an ``_ISO`` match (no zone means UTC), None if invalid."""
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro)
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
            return value.replace(tzinfo=timezone(sign * offset)).astimezone(UTC)
        return value.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def parse_rfc2822(text: str) -> datetime | None:
    """``Wed, 25 Nov 2026 09:14:02 +0000`` (cloud-init's format) → UTC datetime, None if invalid."""
    try:
        value = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def line_time(text: str) -> LineTime:
    """The uptime stamp and date a line carries (a date only when it sits near the start)."""
    head = text[:_HEAD]
    uptime = None
    if "[" in head:
        match = _UPTIME.search(head, 0, 80)
        if match:
            uptime = float(match.group(1))
    when = None
    if "-" in head and ":" in head:  # cheap test first: most lines carry no date
        iso = _ISO.search(head)
        if iso:
            when = parse_iso(iso)
    no_year = None
    if when is None and head[:1] in _BSD_FIRST:
        bsd = _BSD.match(head)
        if bsd:
            month, day, hour, minute, second = bsd.groups()
            no_year = (_MONTHS[month], int(day), int(hour), int(minute), int(second))
    return LineTime(uptime, when, no_year)


def with_year(parts: tuple[int, int, int, int, int], year: int) -> datetime | None:
    """A syslog date without a year, placed in ``year`` (UTC), or None if it does not exist."""
    month, day, hour, minute, second = parts
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
