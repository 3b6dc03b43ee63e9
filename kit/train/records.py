"""Drill records in the incident archive, and the table ``kit train report`` prints.

A drill is an incident folder (``archive/DRILL-…``) whose manifest history holds ``kind: drill``
events: ``start`` (scenario, seed, mode, trainee), one ``check`` per attempt (passed, message, time
to repair once passed) and ``answer`` events. The same hash chain as any report covers them, so a
drill record cannot be edited after the fact without ``kit verify`` noticing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.archive import atomic_write, read_manifest
from kit.azure.sealing import sealed
from kit.times import utc_text

__all__ = ["DrillRow", "drill_prefix", "drill_rows", "format_duration", "format_report", "record_event"]


def drill_prefix(scenario: str, seed: int) -> str:
    """The start of a drill's incident id: ``DRILL-<scenario>-s<seed>`` (the folder adds ``-<UTC stamp>``)."""
    return f"DRILL-{scenario}-s{seed}"


def record_event(root: Path, event: str, fields: dict[str, Any], *, files: dict[str, Any] | None = None) -> None:
    """Record a ``kind: drill`` event, with ``files`` (name → JSON value) under ``drill/``, in one staged step."""
    with sealed(root, f"drill-{event}", about={"event": event}) as stage:
        for name, value in (files or {}).items():
            atomic_write(stage.folder / "drill" / name, (json.dumps(value, indent=2, default=str) + "\n").encode())
        stage.commit({"kind": "drill", "event": event, "at": utc_text(), **fields})


def format_duration(seconds: float | None) -> str:
    """``12 min 05 s`` style, or ``-``."""
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


@dataclass(frozen=True)
class DrillRow:
    """One drill as ``kit train report`` lists it."""

    drill: str
    scenario: str
    seed: int
    mode: str
    trainee: str
    started_at: str
    attempts: int
    passed: bool
    time_to_repair_s: float | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The row as plain values (for JSON output)."""
        return dict(self.__dict__)


def drill_rows(archive_root: str | os.PathLike[str]) -> list[DrillRow]:
    """Every drill under ``archive_root``, oldest first."""
    root = Path(archive_root)
    rows = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        manifest = read_manifest(folder) if (folder / "manifest.json").is_file() else None
        events = [h for h in (manifest or {}).get("history", []) if h.get("kind") == "drill"]
        start = next((e for e in events if e.get("event") == "start"), None)
        if start is None:
            continue
        checks = [e for e in events if e.get("event") == "check"]
        passing = next((c for c in checks if c.get("passed")), None)
        last = passing or (checks[-1] if checks else None)
        rows.append(DrillRow(
            drill=folder.name, scenario=str(start.get("scenario")), seed=int(start.get("seed", 0)),
            mode=str(start.get("mode", "")), trainee=str(start.get("trainee") or "-"),
            started_at=str(start.get("started_at", "")), attempts=len(checks), passed=passing is not None,
            time_to_repair_s=(passing or {}).get("time_to_repair_s"),
            message=str((last or {}).get("message") or "not checked yet")))
    return sorted(rows, key=lambda r: r.started_at)


def format_report(rows: list[DrillRow]) -> str:
    """The rows as an aligned text table."""
    if not rows:
        return "no drills in this archive yet: start one with `kit train start SCENARIO`"
    table = [("DRILL", "SCENARIO", "SEED", "MODE", "TRAINEE", "STARTED (UTC)", "CHECKS", "RESULT", "TIME TO REPAIR")]
    for r in rows:
        started = r.started_at[:19].replace("T", " ")
        table.append((r.drill, r.scenario, str(r.seed), r.mode, r.trainee, started, str(r.attempts),
                      "PASS" if r.passed else "FAIL", format_duration(r.time_to_repair_s)))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table)
