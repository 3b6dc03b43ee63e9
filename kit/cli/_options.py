"""Option values shared by several commands (not a command module: the dispatcher skips ``_`` names)."""

from __future__ import annotations

from datetime import UTC, datetime

from kit.errors import UsageError

__all__ = ["utc_time"]


def utc_time(text: str, option: str) -> datetime:
    """Parse an ISO 8601 option value (``2026-11-25T08:00:00Z``); a time without a zone is UTC.

    Raises
    ------
    UsageError
        When ``text`` is not ISO 8601; the message names the option.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {text!r} is not an ISO 8601 time such as 2026-11-25T08:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
