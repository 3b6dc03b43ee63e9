"""Small deterministic helpers shared by the renderers: ids, times, seeded randomness."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta

from kit.times import require_time

__all__ = ["guid", "hexid", "iso", "iso_offset", "mac_for", "plus", "rfc2822", "rng", "ticks", "ts"]

_NAMESPACE = uuid.UUID("5f0c9a52-3e61-4b2c-9d57-1a8e4c0b7d21")
_EPOCH_TICKS = 621355968000000000  # .NET ticks at 1970-01-01T00:00:00Z


def guid(*parts: object) -> str:
    """A stable GUID for ``parts`` (the same parts always give the same GUID)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def hexid(*parts: object, length: int = 32) -> str:
    """A stable lowercase hex string (disk-name suffixes, machine ids)."""
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:length]


def rng(*parts: object) -> random.Random:
    """A ``random.Random`` seeded from ``parts``."""
    return random.Random(int(hexid(*parts, length=16), 16))


def ts(text: str) -> datetime:
    """Parse a story's ``2026-11-24T21:47:03Z`` (or with fractional seconds) as an aware UTC datetime."""
    return require_time(text, "story time")


def iso(moment: datetime, digits: int = 7) -> str:
    """ARM style: ``2026-11-24T21:47:03.1234567Z`` (``digits`` fractional digits; 0 for none)."""
    moment = moment.astimezone(UTC)
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if digits == 0:
        return base + "Z"
    frac = f"{moment.microsecond:06d}" + "0"
    return f"{base}.{frac[:digits]}Z"


def iso_offset(moment: datetime) -> str:
    """Compute RP instance-view style: ``2026-11-24T21:47:03.1234567+00:00``."""
    return iso(moment)[:-1] + "+00:00"


def ticks(moment: datetime) -> int:
    """.NET ticks (100 ns) of ``moment``, as in Activity Log record ids."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return _EPOCH_TICKS + (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def rfc2822(moment: datetime) -> str:
    """cloud-init's banner date: ``Mon, 24 Nov 2026 21:47:03 +0000``."""
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def plus(moment: datetime, seconds: float) -> datetime:
    """``moment`` plus ``seconds``."""
    return moment + timedelta(seconds=seconds)


def mac_for(*parts: object) -> str:
    """An Azure-looking MAC (Microsoft OUI 00-0D-3A or 60-45-BD / 7C-1E-52)."""
    h = hexid(*parts, length=6).upper()
    oui = ["00-0D-3A", "60-45-BD", "7C-1E-52"][int(h[0], 16) % 3]
    return f"{oui}-{h[0:2]}-{h[2:4]}-{h[4:6]}"
