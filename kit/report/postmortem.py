"""Reading an incident archive back for the postmortem: triage results, transcripts, fixes, follow-ups.

The postmortem notebook never re-decides anything: it reads what the triage run saved
(``reports/<run>/triage.json``), the evidence bundles it names, the console transcripts and the
recorded responder actions (Run Command, repair, recovery check: :mod:`kit.azure.actions`), then
lays them out with marked gaps for people to complete.

Everything it reads may have been planted: no reader here follows a symbolic link or opens a
special file (FIFO, device); such an entry, like an unreadable file, is skipped with an
:class:`~kit.archive.ArchiveWarning` (shown in the report) instead of read. Given a run's
staging folder as ``archive_dir`` (what ``kit report`` passes), the incident it belongs to is read.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kit.analyze.attribution import Attribution
from kit.archive import (
    ArchiveWarning,
    describe,
    incident_of,
    list_inside,
    open_inside,
    read_inside,
    read_manifest,
    walk,
)
from kit.azure.actions import read_actions
from kit.errors import ArchiveError, KitError

__all__ = ["FIX_KINDS", "FOLLOW_UPS", "IncidentRecord", "actions", "durations", "first_change", "fix_actions",
           "follow_ups", "newest_recovery_check", "read_incident", "transcripts"]

#: Recorded actions that fix a VM (a console session is the third way, from its transcript).
FIX_KINDS = ("run-command", "repair")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Follow-up actions by hypothesis family: the field guide's examples first.
FOLLOW_UPS: dict[str, list[str]] = {
    "guest_firewall": [
        ("Add a pre-deployment firewall validation script to the template pipeline "
         "(reject default-deny without an SSH/RDP allow)."),
        "Roll firewall template changes to a canary VM first, with a 10-minute gate before the fleet.",
        "Rehearse the serial-console recovery of a firewall lockout (console recovery drill).",
    ],
    "boot_failure:fstab": [
        "Add a patch-runbook precheck for removed disks and stale fstab mount entries (use nofail for data disks).",
        "Validate fstab with `findmnt --verify` before every reboot in the change pipeline.",
        "Rehearse booting to emergency mode and fixing fstab through the serial console (console recovery drill).",
    ],
    "service_failure:sshd": [
        "Require a serial-console recovery drill before agent rollouts that touch sshd configuration.",
        "Run `sshd -t` in the rollout after each configuration change and roll back on failure.",
        "Keep an approved emergency local account for console sign-in, with rotation after use.",
    ],
    "service_failure:rdp": [
        "Check TermService and the RDP listener in the post-change health probe.",
        "Rehearse SAC/CMD recovery of RDP through the serial console (console recovery drill).",
    ],
    "nsg_deny": [
        "Guard NSGs with Azure Policy (deny rules blocking the management source ranges need review).",
        "Alert on NSG writes in the Activity Log for production resource groups.",
    ],
    "route_blackhole": [
        "Validate that UDR next-hop appliances exist and forward before associating route tables.",
        "Alert on route table writes in the Activity Log; add a connectivity probe through the appliance.",
    ],
    "boot_failure": [
        "Keep a tested repair-VM procedure and recent OS disk backups for this workload.",
        "Stage kernel and bootloader updates on a canary VM before the fleet.",
    ],
    "vm_not_running": [
        "Alert on VM deallocation/stop operations in the Activity Log; review who may stop production VMs.",
    ],
    "platform": ["Open a support case with the collected evidence bundle and the Activity Log correlation ids."],
}


def follow_ups(hypothesis: str | None) -> list[str]:
    """Follow-up actions for a hypothesis kind (its family's when there is no exact entry)."""
    if not hypothesis:
        return []
    return list(FOLLOW_UPS.get(hypothesis) or FOLLOW_UPS.get(hypothesis.split(":", 1)[0], []))


@dataclass
class IncidentRecord:
    """What the archive holds about one incident.

    Attributes
    ----------
    root
        ``archive/<incident>``.
    manifest
        The newest archive manifest.
    triage
        The newest successful triage run's ``triage.json`` (``None`` when there is none).
    triage_run
        That run's folder.
    reports
        Every report run in the archive history (notebook, status, run folder, time).
    """

    root: Path
    manifest: dict[str, Any]
    triage: dict[str, Any] | None = None
    triage_run: Path | None = None
    reports: list[dict[str, Any]] = field(default_factory=list)

    def bundle_path(self, vm: str) -> Path | None:
        """The evidence bundle the triage used for ``vm``; ``None`` (with a warning) if it holds a link.

        A relative path is inside the incident (it may not climb out with ``..``); an absolute
        one is a bundle collected elsewhere (``bundle:`` source).
        """
        rel = ((self.triage or {}).get("bundles") or {}).get(vm)
        if not rel or not isinstance(rel, str):
            return None
        path = Path(rel)
        if path.is_absolute():
            return path
        try:
            found = [e for e in walk(self.root, under=rel) if e.special]
        except ArchiveError as error:
            _skip(f"the evidence bundle of {vm} ({rel}): {error}")
            return None
        if found:
            _skip(f"the evidence bundle of {vm} ({rel}) holds {len(found)} link(s) or special file(s), "
                  f"e.g. {found[0].path}")
            return None
        return self.root / path


def _skip(what: str) -> None:
    warnings.warn(f"skipped {what}; run `kit verify` on the incident", ArchiveWarning, stacklevel=3)


def _read_json(root: Path, rel: str) -> Any:
    """A JSON file of the archive, never through a link; ``None`` (with a warning) when it is not readable."""
    try:
        return json.loads(read_inside(root, rel))
    except FileNotFoundError:
        return None
    except (ArchiveError, OSError, ValueError) as error:
        _skip(f"{rel}: {error}")
        return None


def read_incident(archive_dir: str | Path) -> IncidentRecord:
    """Read the incident folder: newest manifest, report history and the newest triage results.

    Raises
    ------
    ArchiveError
        The folder is not an incident archive.
    """
    root = incident_of(Path(archive_dir))
    manifest = read_manifest(root)
    if manifest is None:
        raise ArchiveError(f"{root} is not an incident archive (no manifest.json); run `kit report triage` first")
    reports = [h for h in manifest.get("history", []) if h.get("kind") == "report"]
    record = IncidentRecord(root=root, manifest=manifest, reports=reports)
    for run in reversed(reports):
        rel = f"{run.get('run', '')}/triage.json"
        if run.get("status") != "ok" or not isinstance(run.get("run"), str):
            continue
        value = _read_json(root, rel)
        if isinstance(value, dict):
            record.triage = value
            record.triage_run = root / str(run["run"])
            break
    return record


def _first_line(root: Path, rel: str, limit: int = 1 << 20) -> bytes:
    fd = open_inside(root, rel)
    with os.fdopen(fd, "rb") as handle:
        return handle.readline(limit)


def transcripts(archive_dir: str | Path, *, tail: int = 60) -> list[dict[str, Any]]:
    """Console transcripts under ``transcripts/``: the cast header's kit fields and the text's last lines.

    A ``.cast`` or ``.txt`` that is a link or a special file (or a ``transcripts`` folder that
    is a link) is skipped with an :class:`~kit.archive.ArchiveWarning`, never read.
    """
    root = incident_of(Path(archive_dir))
    try:
        entries = list_inside(root, "transcripts")
    except ArchiveError as error:
        _skip(f"transcripts: {error}")
        return []
    names = {e.path: e for e in entries}
    found = []
    for entry in entries:
        if not entry.path.endswith(".cast"):
            if entry.special and entry.path.endswith(".txt") and entry.path[:-4] + ".cast" not in names:
                _skip(f"{entry.path}: it is {describe(entry)}")
            continue
        if entry.special:
            _skip(f"{entry.path}: it is {describe(entry)}")
            continue
        header: dict[str, Any] = {}
        try:
            value = json.loads(_first_line(root, entry.path) or b"{}")
            header = value if isinstance(value, dict) else {}
        except (ArchiveError, OSError, ValueError) as error:
            _skip(f"the header of {entry.path}: {error}")
        text_rel = entry.path[: -len(".cast")] + ".txt"
        lines: list[str] = []
        text = names.get(text_rel)
        if text is not None and text.special:
            _skip(f"{text_rel}: it is {describe(text)}")
        elif text is not None:
            try:
                lines = read_inside(root, text_rel).decode("utf-8", errors="replace").splitlines()
            except (ArchiveError, OSError) as error:
                _skip(f"{text_rel}: {error}")
        kit_fields = header.get("kit", {})
        found.append({"id": Path(entry.path).stem, "file": entry.path,
                      "kit": kit_fields if isinstance(kit_fields, dict) else {}, "started": header.get("timestamp"),
                      "lines": len(lines), "tail": lines[-tail:]})
    return found


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        import pandas as pd

        stamp = pd.Timestamp(value)
        return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")).to_pydatetime()
    except (ValueError, TypeError):
        return None


def first_change(triage: dict[str, Any]) -> str | None:
    """Who made the causal change and how (``who · operation · status``), from the triage's attribution."""
    saved = triage.get("attribution")
    if not saved:
        return None
    a = Attribution.from_json(saved)
    return " · ".join(x for x in (a.who, a.operation, a.status) if x)


def actions(archive_dir: str | Path) -> list[dict[str, Any]]:
    """The incident's recorded actions (:func:`kit.azure.actions.read_actions`), oldest first; ``[]`` if unreadable."""
    try:
        return read_actions(incident_of(Path(archive_dir)))
    except KitError as error:
        _skip(f"the recorded actions: {error}")
        return []


def _ended(action: Mapping[str, Any]) -> datetime | None:
    return _time(action.get("ended")) or _time(action.get("started"))


def newest_recovery_check(recorded: Sequence[Mapping[str, Any]], *, passed: bool = False) -> Mapping[str, Any] | None:
    """The newest ``recovery-check`` record (the newest that passed, with ``passed``), or ``None``."""
    checks = [a for a in recorded if a.get("kind") == "recovery-check" and _ended(a) is not None
              and (not passed or a.get("status") == "passed")]
    return max(checks, key=lambda a: _ended(a) or _EPOCH) if checks else None


def fix_actions(recorded: Sequence[Mapping[str, Any]],
                sessions: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """The fixes made, oldest first: Run Command and repair records, then console sessions (from their transcripts).

    Each row has ``kind``, ``status``, ``approval``, ``responder``, ``started``, ``ended``, ``summary``,
    ``run`` (the record's folder or the transcript) and ``writes`` (the ARM writes, none for a console).
    """
    rows = [{"kind": a.get("kind"), "status": a.get("status"), "approval": a.get("approval"),
             "responder": a.get("responder"), "started": a.get("started"), "ended": a.get("ended"),
             "summary": a.get("summary"), "run": a.get("run"), "writes": list(a.get("writes") or [])}
            for a in recorded if a.get("kind") in FIX_KINDS]
    for session in sessions:
        kit = session.get("kit") or {}
        epoch = session.get("started")  # the cast header's timestamp: seconds since the epoch
        started = datetime.fromtimestamp(epoch, UTC) if isinstance(epoch, int | float) else _time(epoch)
        rows.append({"kind": "console", "status": "recorded", "approval": kit.get("approval"),
                     "responder": kit.get("responder"), "started": started.isoformat() if started else None,
                     "ended": None, "summary": f"serial console session {session.get('id')} "
                                               f"({session.get('lines', 0)} lines of redacted transcript)",
                     "run": session.get("file"), "writes": []})
    return sorted(rows, key=lambda row: _time(row["ended"] or row["started"]) or _EPOCH)


def durations(triage: dict[str, Any], recorded: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """First change, detection and recovery times, with time to detect/repair where known.

    ``first change`` is the triage's attribution (:mod:`kit.analyze.attribution`), else the
    Activity Log operation behind the verdict-changing network difference, else the timeline's
    ``incident start``; ``changed by`` says who did what (:func:`first_change`);
    ``investigation started`` is when the evidence was collected (the page time, if earlier,
    belongs in the human sections); ``recovered`` is the end of the newest passing
    ``recovery-check`` in ``recorded`` (:func:`actions`), else the end of the newest successful
    Run Command or repair, else the timeline's ``fix applied`` when a console session recorded one;
    ``recovered from`` says which. Anything unknown is ``None`` (the notebook marks it for a person).
    """
    refs = triage.get("reference_times") or {}
    attribution = triage.get("attribution") or {}
    changes = [_time(attribution.get("time"))]
    for d in ((triage.get("network_diff") or {}).get("differences") or []):
        op = d.get("operation") or {}
        if d.get("changes_verdict") and op.get("start"):
            changes.append(_time(op["start"]))
    first = min([c for c in changes if c], default=None) or _time(refs.get("incident start"))
    detected = _time(triage.get("collected_at"))
    recovered, source = _recovered(recorded, _time(refs.get("fix applied")))

    def span(a: datetime | None, b: datetime | None) -> str | None:
        if a is None or b is None or b < a:
            return None
        minutes = (b - a).total_seconds() / 60
        return f"{minutes:.0f} min" if minutes < 600 else f"{minutes / 60:.1f} h"

    return {"first change": first, "changed by": first_change(triage),
            "investigation started (evidence collected)": detected,
            "recovered": recovered, "recovered from": source,
            "time to detect": span(first, detected), "time to repair": span(detected or first, recovered)}


def _recovered(recorded: Sequence[Mapping[str, Any]],
               fix_applied: datetime | None) -> tuple[datetime | None, str | None]:
    """When the VM recovered and what says so: a passing recovery check, else a fix's end, else the timeline."""
    check = newest_recovery_check(recorded, passed=True)
    if check is not None:
        return _ended(check), f"recovery check passed ({check.get('run')}, approval {check.get('approval')})"
    fixes = [a for a in recorded if a.get("kind") in FIX_KINDS and a.get("status") == "succeeded" and _ended(a)]
    if fixes:
        fix = max(fixes, key=lambda a: _ended(a) or _EPOCH)
        return _ended(fix), f"{fix.get('kind')} ended ({fix.get('run')}); not proven: run kit recover-check"
    if fix_applied is not None:
        return fix_applied, "console fix applied (timeline); not proven: run kit recover-check"
    return None, None
