"""One timeline for one VM: Activity Log, boot log, instance view, console, the kit itself.

:func:`build_timeline` lays every source of an evidence bundle on one UTC axis as a pandas
DataFrame with the columns of the design (modelled on Timesketch/plaso events)::

    time        tz-aware UTC (NaT for boot events that have an uptime but no wall time)
    time_desc   which kind of time it is (TIME_KINDS below)
    source      activity_log | boot_log | console | instance_view | metrics | heartbeat | syslog | event | kit
    kind        what happened (an ARM operation name, a bootlog event or finding kind …)
    summary     one line for people
    actor       who did it (a UPN, an app id, ``platform``, ``guest``, the responder …)
    resource_id the ARM resource it concerns
    severity    info | warning | error | critical
    evidence    where to look (``serial.log:412``, ``activity_log.json#3,4,7`` …)
    details     dict with everything else, original time strings included

Kernel uptime stamps become wall times only through an anchor: one the log itself provides
(cloud-init's dated "Up N seconds" lines, syslog dates) or else the VM start found in the Activity
Log or the instance view. Such rows say ``estimated from uptime``; rows that cannot be anchored
keep time NaT and ``uptime only (no anchor)``, are listed, and stay off the time axis.

:func:`timeline_figure` (plotly) and :func:`write_timeline_html` live in
``_timeline_figure.py``; :func:`to_timesketch_jsonl` writes Timesketch's JSONL import form.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kit.analyze._activity_model import RecordList, evidence_of
from kit.analyze._gc import gc_paused
from kit.analyze._timeline_boot import boot_rows
from kit.analyze._timeline_console import console_events_from_cast
from kit.analyze._timeline_figure import reference_times, timeline_figure, write_timeline_html
from kit.analyze._timeline_metrics import metrics_rows
from kit.analyze._timeline_peers import causal_kind, peer_rows, routine_peer_rows
from kit.analyze._timeline_rows import COLUMNS, SEVERITIES, SOURCES, TIME_KINDS, Rows, normalize_severity
from kit.analyze._timeline_workspace import workspace_rows
from kit.analyze.activity import ActivityLog, Operation, activity_from_bundle
from kit.analyze.bootlog import BootReport
from kit.analyze.metrics import MetricsReading, metrics_from_bundle
from kit.errors import AnalysisError
from kit.times import parse_time

if TYPE_CHECKING:
    from kit.evidence import Bundle

__all__ = [
    "COLUMNS",
    "SEVERITIES",
    "SOURCES",
    "TIME_KINDS",
    "build_timeline",
    "causal_kind",
    "changes_before",
    "console_events_from_cast",
    "console_rows",
    "normalize_severity",
    "peer_rows",
    "reference_times",
    "routine_peer_rows",
    "timeline_figure",
    "to_timesketch_jsonl",
    "write_timeline_html",
]

# ---------------------------------------------------------------- sources


_HEALTH_CATEGORIES = ("resourcehealth", "servicehealth")


def _activity_rows(rows: Rows, operations: Iterable[Operation]) -> None:
    """One row per operation (40k operations in a 100k-record log).

    One pass reads each operation once (its records lie all over memory: a pass per column would
    fetch them again and again), appending to the column lists; the records themselves stay a
    :class:`RecordList` view, made into dicts only when read.
    """
    ops = list(operations)
    count = len(ops)
    event_desc = TIME_KINDS[("activity_log", "eventTimestamp")]
    submitted_desc = TIME_KINDS[("activity_log", "submissionTimestamp")]
    ends = _isoformats([op.end for op in ops])
    times: list[Any] = []
    descs: list[str] = []
    kinds: list[str] = []
    summaries: list[str] = []
    actors: list[str] = []
    resource_ids: list[str] = []
    severities: list[str] = []
    evidence: list[str] = []
    details_of: list[dict[str, Any]] = []
    for op, end in zip(ops, ends, strict=True):
        events = op.events
        first = events[0]
        name, category, caller, duration = op.operation_name, op.category, op.caller, op.duration
        details: dict[str, Any] = {
            "operation_name": name, "operation": first.operation_label, "status": op.status,
            "category": category, "level": op.level, "correlation_id": op.correlation_id,
            "resource_type": op.resource_type, "end": end,
            "duration_s": duration.total_seconds() if duration is not None else None,
            "records": RecordList(events),
        }
        if first.client_ip:
            details["client_ip"] = first.client_ip
        if category.lower() in _HEALTH_CATEGORIES:
            details["properties"] = op.properties
            actors.append(caller or "platform")
            severities.append(_operation_severity(op))
        else:
            actors.append(caller or "")
            severities.append(op.severity)
        times.append(op.start)
        descs.append(event_desc if first.time_desc == "event" else submitted_desc)
        kinds.append(name or "activity")
        summaries.append(op.summary)
        resource_ids.append(op.resource_id)
        evidence.append(evidence_of(events))  # activity_log.json#…, and workspace/AzureActivity.json#… if any
        details_of.append(details)
    rows.extend({"time": times, "time_desc": descs, "source": ["activity_log"] * count, "kind": kinds,
                 "summary": summaries, "actor": actors, "resource_id": resource_ids, "severity": severities,
                 "evidence": evidence, "details": details_of})


def _isoformats(times: list[datetime | None]) -> list[str | None]:
    """``time.isoformat()`` of every time (``None`` stays ``None``), formatted by numpy when all are UTC."""
    present = [time for time in times if time is not None]
    if not present or set(map(type, present)) != {datetime} or {time.tzinfo for time in present} != {UTC}:
        return [time.isoformat() if time is not None else None for time in times]
    stamps = pd.DatetimeIndex(present).as_unit("us").tz_localize(None).to_numpy()
    texts = np.datetime_as_string(stamps, unit="us").astype(object)
    whole = stamps.astype(np.int64) % 1_000_000 == 0  # isoformat leaves out a zero fraction
    if whole.any():
        texts[whole] = np.datetime_as_string(stamps[whole], unit="s")
    formatted: list[str | None] = [text + "+00:00" for text in texts.tolist()]
    if len(formatted) == len(times):
        return formatted
    rest = iter(formatted)
    return [next(rest) if time is not None else None for time in times]


def _operation_severity(op: Operation) -> str:
    severity = op.severity
    if op.category.lower() not in _HEALTH_CATEGORIES:
        return severity
    health = str(op.properties.get("currentHealthStatus", "")).lower()
    if health == "unavailable":
        return "error" if severity in ("info", "warning") else severity
    if health == "degraded" and severity == "info":
        return "warning"
    return severity


def _instance_view_rows(rows: Rows, view: Mapping[str, Any] | None, collected: datetime | None, vm_id: str) -> None:
    if not isinstance(view, Mapping):
        return
    groups: list[tuple[str, str, Any]] = [("", "statuses", view.get("statuses"))]
    agent = view.get("vmAgent")
    if isinstance(agent, Mapping):
        groups.append(("VM agent", "vmAgent.statuses", agent.get("statuses")))
    disks, extensions = view.get("disks"), view.get("extensions")
    for d, disk in enumerate(disks if isinstance(disks, list) else []):
        if isinstance(disk, Mapping):
            groups.append((f"disk {disk.get('name', d)}", f"disks[{d}].statuses", disk.get("statuses")))
    for e, ext in enumerate(extensions if isinstance(extensions, list) else []):
        if isinstance(ext, Mapping):
            groups.append((f"extension {ext.get('name', e)}", f"extensions[{e}].statuses", ext.get("statuses")))
    health = view.get("vmHealth")
    if isinstance(health, Mapping) and isinstance(health.get("status"), Mapping):
        groups.append(("VM health", "vmHealth.status", [health["status"]]))
    for owner, path, statuses in groups:
        if not isinstance(statuses, list):
            continue
        for i, status in enumerate(statuses):
            if not isinstance(status, Mapping):
                continue
            code = str(status.get("code", ""))
            time = parse_time(status.get("time"))
            if time is not None:
                time_desc = TIME_KINDS[("instance_view", "time")]
            elif collected is not None:
                time, time_desc = collected, TIME_KINDS[("instance_view", "collected_at")]
            else:
                continue
            text = status.get("displayStatus") or code
            message = status.get("message")
            summary = f"{owner}: {text}" if owner else str(text)
            if message:
                summary += f" — {str(message)[:200]}"
            details = {"code": code, "level": status.get("level"), "display_status": status.get("displayStatus")}
            if status.get("time") is not None:
                details["time"] = str(status.get("time"))
            if message:
                details["message"] = str(message)
            rows.add(
                time, time_desc, "instance_view", f"instance_view:{code}" if code else "instance_view:status", summary,
                actor="platform", resource_id=vm_id, severity=normalize_severity(status.get("level")),
                evidence=f"instance_view.json: {path}[{i}]", details=details,
            )


def _kit_rows(rows: Rows, manifest: Mapping[str, Any], collected: datetime | None, vm_id: str) -> None:
    if collected is None:
        return
    desc = TIME_KINDS[("kit", "collected_at")]
    principal = ((manifest.get("collector") or {}).get("principal")) or ""
    files = manifest.get("files") or []
    rows.add(
        collected, desc, "kit", "kit:collected",
        f"evidence collected ({len(files)} files, source {manifest.get('source', '?')})",
        actor=str(principal), resource_id=vm_id, evidence="manifest.json",
        details={"collected_at": manifest.get("collected_at"), "window": manifest.get("window"),
                 "role": manifest.get("role")},
    )
    for i, failure in enumerate(manifest.get("failures") or []):
        if not isinstance(failure, Mapping):
            continue
        status = failure.get("status")
        rows.add(
            collected, desc, "kit", "kit:collection_failed",
            (f"not collected: {failure.get('call', '?')} ({status or ''} {failure.get('code') or ''}) "
             f"{failure.get('message') or ''}").strip(),
            actor=str(principal), resource_id=str(failure.get("resource_id") or vm_id), severity="warning",
            evidence=f"manifest.json: failures[{i}]", details=dict(failure),
        )


def console_rows(events: Any) -> list[dict[str, Any]]:
    """Normalise console events (from a transcript or live findings) into timeline rows.

    Parameters
    ----------
    events
        A DataFrame with timeline columns, an iterable of mappings with at least ``time``
        and one of ``summary``/``text`` (optional ``kind``, ``actor``, ``severity``, ``evidence``,
        ``details``, ``time_desc``, ``resource_id``), or the path of a ``.cast`` transcript
        (see :func:`console_events_from_cast`).

    Returns
    -------
    list[dict]
        One row dict per event, ``source`` set to ``console``.

    Raises
    ------
    AnalysisError
        When an event is not a mapping or its time cannot be read.
    """
    if isinstance(events, (str, Path)):
        events = console_events_from_cast(events)
    if isinstance(events, pd.DataFrame):
        events = events.to_dict("records")
    result = []
    for n, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise AnalysisError(f"console event {n} is a {type(event).__name__}, "
                                "not a mapping with 'time' and 'summary'")
        raw = event.get("time")
        time = raw.to_pydatetime() if isinstance(raw, pd.Timestamp) else parse_time(raw)
        if time is None:
            raise AnalysisError(f"console event {n} has no readable time ({raw!r}); "
                                "give an ISO 8601 time or a datetime")
        details = dict(event.get("details") or {})
        if isinstance(raw, str):
            details.setdefault("time_text", raw)
        result.append({
            "time": time,
            "time_desc": str(event.get("time_desc") or TIME_KINDS[("console", "recorded")]),
            "source": "console",
            "kind": str(event.get("kind") or "console:output"),
            "summary": str(event.get("summary") or event.get("text") or ""),
            "actor": str(event.get("actor") or ""),
            "resource_id": str(event.get("resource_id") or ""),
            "severity": normalize_severity(event.get("severity")),
            "evidence": str(event.get("evidence") or "console"),
            "details": details,
        })
    return result


# ---------------------------------------------------------------- the bundle


def build_timeline(bundle: Bundle, *, console_events: Any = None, boot_report: BootReport | None = None,
                   activity: ActivityLog | None = None, metrics: MetricsReading | None = None) -> pd.DataFrame:
    """Lay a bundle's evidence on one UTC timeline.

    Parameters
    ----------
    bundle
        A loaded :class:`kit.evidence.Bundle`.
    console_events
        Later serial-console events (see :func:`console_rows`), added to the ``console`` lane.
    boot_report, activity
        The bundle's serial log and Activity Log already read (as :func:`kit.analyze.triage.triage`
        does once for every analysis); read here when ``None``.
    metrics
        The bundle's platform metrics already read (:func:`kit.analyze.metrics.metrics_from_bundle`);
        read here when ``None``. Their change points are the ``metrics`` rows.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`COLUMNS`, sorted by time; rows without wall time come last.
        ``df.attrs`` holds ``warnings`` (list of str), ``anchor`` (how uptime was anchored,
        or ``None``), ``vm_id``, ``peers`` (the known-good VMs' names) and ``metrics`` (the
        :class:`~kit.analyze.metrics.MetricsReading` the figure's metrics panel draws).

    Raises
    ------
    AnalysisError
        When ``bundle`` is not a bundle or a console event is unreadable.
    """
    if not hasattr(bundle, "manifest"):
        raise AnalysisError("build_timeline needs a loaded evidence bundle (kit.evidence.load_bundle), "
                            f"got {type(bundle).__name__}")
    manifest = bundle.manifest or {}
    collected = parse_time(manifest.get("collected_at"))
    vm_id = str(manifest.get("vm_id") or (bundle.vm or {}).get("id") or "")
    with gc_paused():  # hundreds of thousands of small acyclic dicts: nothing for the collector to find
        frame = _build(bundle, manifest, collected, vm_id, console_events, boot_report,
                       activity if activity is not None else activity_from_bundle(bundle),
                       metrics if metrics is not None else metrics_from_bundle(bundle))
        _promote_to_oldest_generation()
        return frame


def _promote_to_oldest_generation() -> None:
    """Move every object the collector tracks into its oldest generation, without a collection.

    The timeline's rows (80k tracked dicts and lists at 40k operations) outlive the call; left in
    the youngest generation, the first allocation after :func:`gc_paused` ends would walk them all
    (and a later collection again) only to promote them. ``gc.freeze()`` + ``gc.unfreeze()`` moves
    them there at once; they are still collected by full collections like any long-lived object.
    Skipped when the process froze objects itself (``unfreeze`` would thaw those too).
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def _build(bundle: Bundle, manifest: Mapping[str, Any], collected: datetime | None, vm_id: str, console_events: Any,
           boot_report: BootReport | None, activity: ActivityLog, metrics: MetricsReading) -> pd.DataFrame:
    rows = Rows()
    warnings: list[str] = [*activity.warnings, *metrics.warnings]
    _activity_rows(rows, activity.operations)
    _instance_view_rows(rows, bundle.instance_view, collected, vm_id)
    anchor = boot_rows(rows, bundle, activity.operations, bundle.instance_view, vm_id, warnings, report=boot_report)
    metrics_rows(rows, metrics, vm_id)
    workspace_rows(rows, getattr(bundle, "workspace_tables", None), vm_id,
                   parse_time((manifest.get("window") or {}).get("end")), warnings)
    _kit_rows(rows, manifest, collected, vm_id)
    if console_events is not None:
        for row in console_rows(console_events):
            rows.add(**row)
    frame = rows.frame()
    frame.attrs["warnings"] = warnings
    frame.attrs["anchor"] = anchor
    frame.attrs["vm_id"] = vm_id
    frame.attrs["peers"] = [str(name) for name in manifest.get("peers") or []]
    frame.attrs["metrics"] = metrics
    return frame


# ---------------------------------------------------------------- changes


def changes_before(df: pd.DataFrame, incident_start: Any, hours: float = 6) -> pd.DataFrame:
    """The Activity Log's write operations in the ``hours`` before ``incident_start``, newest first.

    Write operations are the Administrative category (PUT, PATCH, DELETE and POST actions);
    the known-good peers' own operations are left out (they are the comparison, not the change).

    Returns
    -------
    pandas.DataFrame
        Columns ``time``, ``who``, ``what``, ``resource``, ``status``, ``operation``; empty
        (with those columns) when nothing changed.
    """
    end = pd.Timestamp(incident_start)
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    activity = df[(df["source"] == "activity_log") & ~peer_rows(df)]
    categories = activity["details"].map(lambda d: str(d.get("category", "")).lower() if isinstance(d, dict) else "")
    times = activity["time"]
    window = (categories == "administrative") & (times <= end) & (times >= end - pd.Timedelta(hours=hours))
    rows = activity[window].sort_values("time", ascending=False, kind="stable")
    return pd.DataFrame({
        "time": rows["time"],
        "who": rows["actor"],
        "what": rows["summary"],
        "resource": rows["resource_id"].str.replace(r"(?i)^.*/providers/[^/]+/[^/]+/", "", regex=True)
                                        .str.replace(r"/[^/]+/", "/", regex=True),
        "status": rows["details"].map(lambda d: str(d.get("status", ""))),
        "operation": rows["kind"],
    }, columns=["time", "who", "what", "resource", "status", "operation"]).reset_index(drop=True)


# ---------------------------------------------------------------- Timesketch


def to_timesketch_jsonl(df: pd.DataFrame, path: str | Path) -> int:
    """Write the timeline as Timesketch JSONL (one event per line).

    Each line has Timesketch's required ``message``, ``datetime`` (ISO 8601 with ``+00:00``) and
    ``timestamp_desc``, the integer ``timestamp`` in microseconds, ``data_type``
    (``kit:<source>``), the other columns, and the scalar ``details`` as attributes (nested
    values JSON-encoded). Rows without wall time cannot be placed and are skipped.

    Parameters
    ----------
    df
        A timeline from :func:`build_timeline`.
    path
        The file to write (replaced if it exists).

    Returns
    -------
    int
        How many events were written.

    Raises
    ------
    AnalysisError
        When ``df`` lacks the timeline columns or the file cannot be written.
    """
    missing = [name for name in COLUMNS if name not in getattr(df, "columns", ())]
    if missing:
        raise AnalysisError(f"not a timeline DataFrame: missing columns {', '.join(missing)}")
    written = 0
    try:
        with open(path, "w", encoding="utf-8") as out:
            for row in df.itertuples(index=False):
                if row.time is pd.NaT or row.time is None:
                    continue
                stamp: pd.Timestamp = row.time
                event: dict[str, Any] = {
                    "message": row.summary,
                    "datetime": stamp.isoformat(),
                    "timestamp": int(stamp.value) // 1000,  # .value is always nanoseconds
                    "timestamp_desc": row.time_desc,
                    "data_type": f"kit:{row.source}",
                    "source": row.source,
                    "kind": row.kind,
                    "actor": row.actor,
                    "resource_id": row.resource_id,
                    "severity": row.severity,
                    "evidence": row.evidence,
                }
                for key, value in (row.details or {}).items():
                    name = key if key not in event else f"details_{key}"
                    event[name] = value if _scalar(value) else json.dumps(value, default=_jsonable, sort_keys=True)
                out.write(json.dumps(event, default=str, ensure_ascii=False))
                out.write("\n")
                written += 1
    except OSError as error:
        raise AnalysisError(f"cannot write {path}: {error.strerror or error}") from error
    return written


def _jsonable(value: Any) -> Any:
    """``json.dumps``'s fallback: a :class:`RecordList` as its list, anything else as text."""
    return value.to_json() if isinstance(value, RecordList) else str(value)


def _scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (str, int, bool))
