"""Boot-log rows of the timeline, and the anchor that turns kernel uptime into wall time."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from kit.analyze._timeline_rows import TIME_KINDS, Rows
from kit.analyze.activity import Operation
from kit.analyze.bootlog import BootReport, parse_boot_log
from kit.times import parse_time

if TYPE_CHECKING:
    from kit.evidence import Bundle

__all__ = ["boot_rows", "vm_start_anchor"]

_START_OPS = (
    "microsoft.compute/virtualmachines/start/action",
    "microsoft.compute/virtualmachines/restart/action",
    "microsoft.compute/virtualmachines/redeploy/action",
    "microsoft.compute/virtualmachines/reimage/action",
    "microsoft.compute/virtualmachines/performmaintenance/action",
)
_CREATE_OP = "microsoft.compute/virtualmachines/write"
#: A getty prompt at the start of a line: a stamp later on that line is the next message's, not the prompt's.
_PROMPT = re.compile(r"^\S+ login:")


def _is_start(op: Operation, vm_id: str) -> bool:
    name = op.operation_name.lower()
    if vm_id and op.resource_id and op.resource_id.lower() != vm_id.lower():
        return False
    if op.status.lower() == "failed":
        return False
    if name in _START_OPS:
        return True
    # a write only boots the VM when it created it (HTTP 201 Created)
    return name == _CREATE_OP and any(e.sub_status.lower() == "created" for e in op.events)


def vm_start_anchor(
    operations: Sequence[Operation], instance_view: Mapping[str, Any] | None, vm_id: str = ""
) -> tuple[datetime | None, dict[str, Any] | None]:
    """Where the last boot started, from the control plane.

    The start of the latest successful start / restart / redeploy / create operation on the VM
    in the Activity Log; failing that, the time of the instance view's
    ``ProvisioningState/succeeded`` status when the VM is running.

    Parameters
    ----------
    operations
        Activity Log operations (:func:`kit.analyze.activity.operations`).
    instance_view
        The VM's instance view, or ``None``.
    vm_id
        The VM's resource id; operations on other resources are ignored when given.

    Returns
    -------
    tuple
        ``(time, description)``; ``(None, None)`` when nothing can anchor the boot.
    """
    starts = [op for op in operations if _is_start(op, vm_id)]
    if starts:
        op = starts[-1]
        return op.start, {
            "from": "activity_log",
            "operation": op.label,
            "operation_name": op.operation_name,
            "correlation_id": op.correlation_id,
            "time": op.start.isoformat(),
            "caller": op.caller,
            "note": "uptime 0 taken as the start of this operation; the kernel starts some seconds later",
        }
    if isinstance(instance_view, Mapping):
        statuses = [s for s in instance_view.get("statuses") or [] if isinstance(s, Mapping)]
        running = any(str(s.get("code", "")).lower() == "powerstate/running" for s in statuses)
        for status in statuses:
            if str(status.get("code", "")).lower().startswith("provisioningstate/") and running:
                time = parse_time(status.get("time"))
                if time is not None:
                    return time, {
                        "from": "instance_view",
                        "code": status.get("code"),
                        "time": time.isoformat(),
                        "note": "uptime 0 taken as the last provisioning time of the running VM",
                    }
    return None, None


def boot_rows(rows: Rows, bundle: Bundle, operations: Sequence[Operation], instance_view: Mapping[str, Any] | None,
              vm_id: str, warnings: list[str], *, report: BootReport | None = None) -> dict[str, Any] | None:
    """Add the serial log's events and findings to ``rows``; return how uptime was anchored.

    A finding is merged into the event of its line (kind, summary and severity of the finding,
    the line's own text in ``details``), so a line is one row. Uptime stamps of the last boot
    are anchored by the log itself when it can (cloud-init, syslog dates), else by the VM start
    from the Activity Log / instance view; without either they are listed with time NaT.
    """
    data = bundle.serial_log
    if not data:
        return None
    if report is None:
        report = parse_boot_log(data, source="serial.log")
    anchor: dict[str, Any] | None = None
    if report.anchor is not None:
        anchor = {"from": "boot_log", **report.anchor.to_json()}
    elif any(e.time is None and e.uptime is not None for e in report.events):
        start, anchor = vm_start_anchor(operations, instance_view, vm_id)
        if start is not None and data:
            report = parse_boot_log(data, source=report.source, anchor=start)
            if report.anchor is None:  # the parser did not take it: say so rather than invent times
                anchor = None
        else:
            anchor = None
        if anchor is None:
            warnings.append("serial.log: kernel uptime stamps could not be anchored to wall time (no dated line in the "
                            "log, no VM start in the Activity Log or instance view); they are listed without a time")
    for warning in report.warnings:
        warnings.append(f"serial.log: {warning.message}")
    last_boot = max(map(attrgetter("boot"), report.events), default=None)
    started = _unstamped_last_boot_start(report, last_boot, operations, instance_view, vm_id)
    _add_events(rows, report, vm_id, started, last_boot)
    return anchor


def _unstamped_last_boot_start(report: BootReport, last: int | None, operations: Sequence[Operation],
                               instance_view: Mapping[str, Any] | None, vm_id: str) -> datetime | None:
    """The VM start, when the last boot (``last``) printed no time at all (Windows SAC): its rows are placed there."""
    if last is None or any(e.time is not None or e.uptime is not None for e in report.events if e.boot == last):
        return None
    return vm_start_anchor(operations, instance_view, vm_id)[0]


def _add_events(rows: Rows, report: BootReport, vm_id: str, started: datetime | None, last_boot: int | None) -> None:
    """One row per event (merged with its line's finding), then the findings of lines without an event.

    Rows of an unstamped last boot (``last_boot``) get ``started`` (the VM start), when given. Built straight into
    column lists (100k events in an event-heavy log): the common line — its own stamp, no finding,
    no prompt — costs a few appends.
    """
    events = report.events
    from_start = TIME_KINDS[("boot_log", "vm_start")]
    wall, estimated = TIME_KINDS[("boot_log", "wall_time")], TIME_KINDS[("boot_log", "uptime_anchored")]
    unanchored, untimed = TIME_KINDS[("boot_log", "uptime_unanchored")], TIME_KINDS[("boot_log", "none")]
    preceding = TIME_KINDS[("boot_log", "preceding_line")]
    findings = {(f.boot, f.line): f for f in report.findings}
    last_time: dict[int, tuple[Any, str]] = {}
    times: list[Any] = []
    descs: list[str] = []
    kinds: list[str] = []
    summaries: list[str] = []
    severities: list[str] = []
    evidence: list[str] = []
    details_of: list[dict[str, Any]] = []
    lines: list[int] = []
    prefix = f"{report.source}:"
    for event in events:
        time, text, boot, line = event.time, event.text, event.boot, event.line
        if time is not None and " login:" in text and _PROMPT.match(text):
            # the prompt has no stamp of its own: it appeared no earlier than the line before it
            own = (time, estimated if event.time_desc == "estimated from uptime" else wall)
            previous = last_time.get(boot)
            time, desc = (previous[0], preceding) if previous else (None, untimed)
            last_time[boot] = own
        elif time is not None:
            desc = estimated if event.time_desc == "estimated from uptime" else wall
            last_time[boot] = (time, desc)
        elif event.uptime is not None:
            desc = unanchored
        elif boot in last_time:  # a line without a stamp (systemd status): no earlier than the line before
            time, desc = last_time[boot][0], preceding
        elif started is not None and boot == last_boot:
            time, desc = started, from_start
        else:
            desc = untimed
        stage = event.stage
        details = ({"line": line, "boot": boot, "uptime": event.uptime, "text": text, "stage": stage} if stage else
                   {"line": line, "boot": boot, "uptime": event.uptime, "text": text})
        times.append(time)
        descs.append(desc)
        details_of.append(details)
        lines.append(line if type(line) is int else 0)
        finding = findings.pop((boot, line), None) if findings else None
        if finding is not None:
            details["event_kind"] = event.kind
            kinds.append(finding.kind)
            summaries.append(finding.summary)
            severities.append(finding.severity)
            evidence.append(finding.evidence)
        else:
            kinds.append(event.kind)
            summaries.append(text)
            severities.append(event.severity or "info")
            evidence.append(prefix + str(line))
    for finding in sorted(findings.values(), key=lambda f: f.line):
        if finding.boot in last_time:
            time, desc = last_time[finding.boot][0], preceding
        elif started is not None and finding.boot == last_boot:
            time, desc = started, from_start
        else:
            time, desc = None, untimed
        times.append(time)
        descs.append(desc)
        kinds.append(finding.kind)
        summaries.append(finding.summary)
        severities.append(finding.severity)
        evidence.append(finding.evidence)
        details_of.append({"line": finding.line, "boot": finding.boot, "text": finding.text,
                           "time_from": "the last timed line before it"})
        lines.append(finding.line if type(finding.line) is int else 0)
    if not times:
        return
    count = len(times)
    rows.extend({"time": times, "time_desc": descs, "source": ["boot_log"] * count, "kind": kinds,
                 "summary": summaries, "actor": [""] * count, "resource_id": [vm_id] * count,
                 "severity": severities, "evidence": evidence, "details": details_of}, lines=lines)
