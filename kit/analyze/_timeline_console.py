"""Console transcripts on the timeline: commands and markers of a recorded serial session."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kit.errors import AnalysisError
from kit.times import parse_time

__all__ = ["console_events_from_cast"]


def console_events_from_cast(path: str | Path) -> list[dict[str, Any]]:
    """Timeline events from a kit console transcript (asciinema v2 ``.cast``, already redacted).

    Each command line typed (keystrokes up to Enter, backspaces applied) becomes a
    ``console:command`` event at the time Enter was pressed; each session marker becomes a
    ``console:marker:<label>`` event (a label naming a fix gives the figure its "fix applied"
    line). Output is not repeated here; the transcript holds it.

    Parameters
    ----------
    path
        The ``.cast`` file (``archive/<INC>/transcripts/<id>.cast``).

    A torn last line (a session cut mid-write) is skipped; any other line that is not an event
    ``[seconds, code, data]`` with a finite, non-negative time is an error naming the line.

    Raises
    ------
    AnalysisError
        When the file cannot be read, is not an asciinema v2 recording, or holds a malformed
        event line.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        raise AnalysisError(f"the console transcript {path} is not a regular file (a folder, FIFO or device)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        header = json.loads(lines[0]) if lines else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AnalysisError(f"cannot read the console transcript {path}: {error}") from error
    if not isinstance(header, dict) or header.get("version") != 2 or "timestamp" not in header:
        raise AnalysisError(f"{path} is not an asciinema v2 transcript (no version 2 header with a timestamp)")
    kit: dict[str, Any] = header["kit"] if isinstance(header.get("kit"), dict) else {}
    started = parse_time(kit.get("started_at")) or _start_of(header["timestamp"], path)
    responder = str(kit.get("responder") or "")
    events: list[dict[str, Any]] = []
    typed = ""
    last = max((number for number, line in enumerate(lines, start=1) if line.strip()), default=1)
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parsed = _event(line, started)
        if parsed is None:
            if number == last:
                continue  # a torn last line of a session that was cut: nothing to place
            raise AnalysisError(f"{path}:{number}: not an asciinema event [seconds, code, data]: {line[:80]!r}")
        when, elapsed, code, data = parsed
        evidence = f"{path.name}:{number}"
        if code == "m":
            label = str(data)
            slug = re.sub(r"[^a-z0-9]+", "_", label.lower().split(" {", 1)[0]).strip("_")[:40]
            events.append({"time": when, "kind": f"console:marker:{slug}", "summary": label, "actor": responder,
                           "evidence": evidence, "details": {"elapsed": elapsed}})
        elif code == "i":
            for char in str(data):
                if char in "\r\n":
                    if typed.strip():
                        events.append({"time": when, "kind": "console:command", "summary": typed.strip(),
                                       "actor": responder, "evidence": evidence, "details": {"elapsed": elapsed}})
                    typed = ""
                elif char in "\x7f\b":
                    typed = typed[:-1]
                elif char.isprintable():
                    typed += char
    return events


def _start_of(timestamp: Any, path: Path) -> datetime:
    """The header's Unix ``timestamp`` as a UTC time; AnalysisError when it is not one."""
    try:
        if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)) or not math.isfinite(timestamp):
            raise ValueError
        return datetime.fromtimestamp(float(timestamp), UTC)
    except (ValueError, OverflowError, OSError):
        raise AnalysisError(f"{path}: the header's timestamp {timestamp!r} is not a Unix time") from None


def _event(line: str, started: datetime) -> tuple[datetime, float, str, Any] | None:
    """``(time, elapsed, code, data)`` of one event line, or ``None`` when it is not one."""
    try:
        elapsed, code, data = json.loads(line)
        if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)) or not isinstance(code, str):
            return None
        if not math.isfinite(elapsed) or elapsed < 0:
            return None
        return started + timedelta(seconds=float(elapsed)), float(elapsed), code, data
    except (ValueError, TypeError, OverflowError):
        return None
