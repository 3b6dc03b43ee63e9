"""The timeline's rows from a Log Analytics workspace: Heartbeat, Syslog and Event, each its own lane.

``Heartbeat`` comes once a minute while the VM's agent runs; one row each would bury everything
else, so the rows are runs: where the heartbeats (re)start, each silence longer than
:data:`GAP` (a ``warning``), and the last heartbeat of the window: the VM's *last known good*
(``heartbeat:last_known_good``, ``details["last_known_good"]``), a ``warning`` when it stops more
than :data:`GAP` before the window ends. ``Syslog`` and ``Event`` rows are one row each, their
severity read from ``SeverityLevel`` / ``EventLevelName``. AzureActivity is not here: it joins the
Activity Log's operations (:mod:`kit.analyze.activity`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from kit.analyze._timeline_rows import TIME_KINDS, Rows, normalize_severity
from kit.analyze.activity import workspace_records
from kit.times import parse_time

__all__ = ["GAP", "workspace_rows"]

#: A silence between two heartbeats longer than this is a gap (the agent sends one a minute).
GAP = timedelta(minutes=5)

_SYSLOG_SEVERITY = {"emerg": "critical", "alert": "critical", "crit": "critical", "err": "error", "error": "error",
                    "warning": "warning", "warn": "warning"}
_EVENT_SEVERITY = {"critical": "critical", "error": "error", "warning": "warning"}


def _timed(records: list[dict[str, Any]]) -> list[tuple[datetime, int, dict[str, Any]]]:
    found = []
    for index, record in enumerate(records):
        when = parse_time(record.get("TimeGenerated"))
        if when is not None:
            found.append((when, index, record))
    found.sort(key=lambda item: (item[0], item[1]))
    return found


def _heartbeats(rows: Rows, records: list[dict[str, Any]], vm_id: str, window_end: datetime | None) -> None:
    beats = _timed(records)
    if not beats:
        return
    desc = TIME_KINDS[("heartbeat", "TimeGenerated")]
    evidence = "workspace/Heartbeat.json#{}"
    first_time, first_index, first = beats[0]
    rows.add(first_time, desc, "heartbeat", "heartbeat:first", f"heartbeats from {first.get('Computer') or 'the VM'} "
             f"({first.get('Category') or 'agent'}, {first.get('OSType') or '?'})", actor="guest", resource_id=vm_id,
             evidence=evidence.format(first_index), details={"computer": first.get("Computer"), "row": first_index})
    for (before, _, _), (after, index, _) in zip(beats, beats[1:], strict=False):
        if after - before > GAP:
            minutes = (after - before).total_seconds() / 60
            rows.add(before, desc, "heartbeat", "heartbeat:gap", f"no heartbeat for {minutes:.0f} min "
                     f"(until {after:%Y-%m-%d %H:%M:%S}Z)", actor="guest", resource_id=vm_id, severity="warning",
                     evidence=evidence.format(index), details={"gap_s": (after - before).total_seconds(),
                                                               "resumed": after.isoformat(), "row": index})
    last_time, last_index, last = beats[-1]
    silent = window_end is not None and window_end - last_time > GAP
    summary = "last heartbeat: last known good"
    if silent and window_end is not None:
        summary += f" (none in the {((window_end - last_time).total_seconds() / 60):.0f} min to the window's end)"
    rows.add(last_time, desc, "heartbeat", "heartbeat:last_known_good", summary, actor="guest", resource_id=vm_id,
             severity="warning" if silent else "info", evidence=evidence.format(last_index),
             details={"last_known_good": True, "count": len(beats), "computer": last.get("Computer"),
                      "row": last_index})


def _syslog(rows: Rows, records: list[dict[str, Any]], vm_id: str) -> None:
    desc = TIME_KINDS[("syslog", "TimeGenerated")]
    for when, index, record in _timed(records):
        facility = str(record.get("Facility") or "")
        level = str(record.get("SeverityLevel") or "").lower()
        process = str(record.get("ProcessName") or "")
        message = str(record.get("SyslogMessage") or "")
        rows.add(when, desc, "syslog", f"syslog:{facility or 'message'}",
                 f"{process}: {message}"[:300] if process else message[:300], actor="guest", resource_id=vm_id,
                 severity=_SYSLOG_SEVERITY.get(level) or normalize_severity(level),
                 evidence=f"workspace/Syslog.json#{index}",
                 details={"facility": facility, "severity_level": level, "process": process, "message": message,
                          "computer": record.get("Computer"), "row": index})


def _events(rows: Rows, records: list[dict[str, Any]], vm_id: str) -> None:
    desc = TIME_KINDS[("event", "TimeGenerated")]
    for when, index, record in _timed(records):
        event_id = record.get("EventID")
        source = str(record.get("Source") or "")
        level = str(record.get("EventLevelName") or "")
        text = str(record.get("RenderedDescription") or "")
        rows.add(when, desc, "event", f"event:{source}:{event_id}" if source else f"event:{event_id}",
                 f"{source} {event_id}: {text}"[:300], actor="guest", resource_id=vm_id,
                 severity=_EVENT_SEVERITY.get(level.lower(), "info"), evidence=f"workspace/Event.json#{index}",
                 details={"event_log": record.get("EventLog"), "source": source, "event_id": event_id,
                          "level": level, "message": text, "computer": record.get("Computer"), "row": index})


def workspace_rows(rows: Rows, tables: Any, vm_id: str, window_end: datetime | None, warnings: list[str]) -> None:
    """Add the Heartbeat, Syslog and Event rows of ``tables`` (``Bundle.workspace_tables``) to ``rows``."""
    if not isinstance(tables, Mapping):
        return
    for name, add in (("Heartbeat", None), ("Syslog", _syslog), ("Event", _events)):
        document = tables.get(name)
        if document is None:
            continue
        records = workspace_records(document, warnings)
        if add is None:
            _heartbeats(rows, records, vm_id, window_end)
        else:
            add(rows, records, vm_id)
