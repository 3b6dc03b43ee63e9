"""The boot report's data types: events, findings, warnings, the time anchor and the report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kit.times import iso_z

__all__ = [
    "LINUX_STAGES",
    "SEVERITIES",
    "STAGES",
    "WINDOWS_STAGES",
    "BootEvent",
    "BootReport",
    "Finding",
    "ParseWarning",
    "TimeAnchor",
    "stage_rank",
    "stage_reached",
]

JSON_FORMAT = "kit-bootlog/1"

#: Linux boot stages, in the order a boot passes through them.
LINUX_STAGES: tuple[str, ...] = (
    "none", "firmware", "bootloader", "kernel", "initramfs", "systemd", "multi-user", "login",
)
#: Windows boot stages, in order ("none" and "firmware" are shared with Linux).
WINDOWS_STAGES: tuple[str, ...] = ("none", "firmware", "boot-manager", "windows-kernel", "sac", "windows-login")
#: Every stage a report can name: the Linux stages, then the Windows-only ones.
STAGES: tuple[str, ...] = LINUX_STAGES + WINDOWS_STAGES[2:]
#: Finding severities, worst first.
SEVERITIES: tuple[str, ...] = ("critical", "error", "warning", "info")

_RANK: dict[str, int] = {**{s: i for i, s in enumerate(LINUX_STAGES)}, **{s: i for i, s in enumerate(WINDOWS_STAGES)}}
_WINDOWS_ONLY = frozenset(WINDOWS_STAGES[2:])
_LINUX_ONLY = frozenset(LINUX_STAGES[2:])


def stage_rank(stage: str) -> int:
    """Position of ``stage`` along its own OS's boot (0 for "none", -1 if unknown)."""
    return _RANK.get(stage, -1)


def stage_reached(reached: str, wanted: str) -> bool:
    """Whether a boot that got as far as ``reached`` has passed through ``wanted``.

    Linux and Windows stages are separate tracks: ``stage_reached("login", "sac")`` is False.
    "none" and "firmware" belong to both.

    Parameters
    ----------
    reached
        The furthest stage a boot reached (``BootReport.stage``).
    wanted
        The stage asked about.
    """
    if reached not in _RANK or wanted not in _RANK:
        return False
    if (reached in _WINDOWS_ONLY and wanted in _LINUX_ONLY) or (reached in _LINUX_ONLY and wanted in _WINDOWS_ONLY):
        return False
    return _RANK[reached] >= _RANK[wanted]


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return iso_z(value)


@dataclass(frozen=True, slots=True)
class TimeAnchor:
    """How kernel uptime is turned into wall time for one boot.

    ``time`` is the wall time at ``uptime`` seconds after the kernel started.

    Parameters
    ----------
    source
        "cloud-init" (a dated "Up N seconds" line), "syslog" (a dated line that also carries an
        uptime stamp) or "given" (the VM start time passed in, taken as uptime 0).
    time
        Wall time (tz-aware UTC) at ``uptime``.
    uptime
        Seconds since the kernel started.
    line
        The log line the anchor came from (None for "given").
    text
        That line's text (None for "given").
    """

    source: str
    time: datetime
    uptime: float
    line: int | None = None
    text: str | None = None

    def at(self, uptime: float) -> datetime:
        """Wall time estimated for a kernel uptime stamp of the same boot."""
        return self.time + timedelta(seconds=uptime - self.uptime)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"source": self.source, "time": _iso(self.time), "uptime": self.uptime, "line": self.line,
                "text": self.text}


@dataclass(frozen=True, slots=True)
class BootEvent:
    """One recognised log line.

    Parameters
    ----------
    line
        1-based line number (lines end at ``\\n``, as ``grep -n`` counts them).
    boot
        0-based index of the boot this line belongs to.
    uptime
        The kernel uptime stamp (``[   12.345678]``) in seconds, if the line has one.
    time
        Wall time (tz-aware UTC) if the line carries a date, or is estimated from its uptime.
    time_desc
        "event" (the line's own date), "estimated from uptime" (anchored uptime) or None.
    kind
        What the line shows, colon-separated (``boot:systemd:multi_user``).
    text
        The line without ANSI escapes, truncated for display when very long.
    stage
        The boot stage this line proves was reached, if any.
    severity
        The severity when the line is also a finding, else None.
    """

    line: int
    boot: int
    uptime: float | None
    time: datetime | None
    time_desc: str | None
    kind: str
    text: str
    stage: str | None = None
    severity: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "line": self.line, "boot": self.boot, "uptime": self.uptime, "time": _iso(self.time),
            "time_desc": self.time_desc, "kind": self.kind, "text": self.text, "stage": self.stage,
            "severity": self.severity,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """Something in the log that matters to an investigation, with its evidence line.

    Parameters
    ----------
    kind
        Colon-separated kind, ``boot:<family>:<what>`` (``boot:fstab:mount_failed``).
    severity
        "critical" (explains an unreachable VM on its own), "error", "warning" or "info".
    line
        1-based line number of the evidence.
    text
        The evidence line (ANSI escapes removed, truncated when very long).
    evidence
        ``<source>:<line>``, e.g. ``serial.log:123``.
    summary
        One human sentence saying what the line means.
    boot
        0-based index of the boot the line belongs to.
    detect_only
        Context rather than an explanation (a soft lockup that passed, an old OOM kill): shown,
        never used by the verdict.
    """

    kind: str
    severity: str
    line: int
    text: str
    evidence: str
    summary: str
    boot: int = 0
    detect_only: bool = False

    @property
    def family(self) -> str:
        """The rule family, the middle part of ``kind`` (``fstab``)."""
        parts = self.kind.split(":")
        return parts[1] if len(parts) > 2 else ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "kind": self.kind, "severity": self.severity, "line": self.line, "text": self.text,
            "evidence": self.evidence, "summary": self.summary, "boot": self.boot, "detect_only": self.detect_only,
        }


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """Something the parser could not read or had to change; returned, never raised.

    Parameters
    ----------
    kind
        "decode" (undecodable bytes), "long_line", "rule" (a rule failed on a line),
        "date" (a date it could not read), "truncated" (too many findings of one kind listed),
        "no_log" (no serial log at all).
    message
        One sentence.
    line
        1-based line number, when it concerns a line.
    offset
        Byte offset in the raw log, when it concerns bytes.
    """

    kind: str
    message: str
    line: int | None = None
    offset: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"kind": self.kind, "message": self.message, "line": self.line, "offset": self.offset}


@dataclass(frozen=True, slots=True)
class BootReport:
    """What a serial/boot log says about how far the last boot got and what went wrong.

    Parameters
    ----------
    source
        Name used in evidence references (``serial.log``).
    os
        "linux", "windows" or "unknown".
    platform
        "azure-hyperv" (Azure markers seen), "hyperv" (Hyper-V markers only) or "unknown".
    platform_markers
        The markers seen, in order of first appearance (``hv_vmbus``, ``168.63.129.16`` …).
    stage
        Furthest stage the last boot reached (one of ``STAGES``).
    events
        Every recognised line of every boot, in log order.
    findings
        Findings of the last boot, in log order.
    warnings
        What could not be read, in log order.
    boots
        How many boots the log holds (0 for an empty log).
    anchor
        How the last boot's uptime stamps were anchored to wall time, or None.
    lines
        Number of lines in the log.
    size
        Size of the raw log in bytes.
    earlier_findings
        Findings of the boots before the last, in log order (``Finding.boot`` says which). Useful
        for evidence that outlives a reboot, such as a responder's console session showing a
        disabled service before someone restarted the VM.
    """

    source: str
    os: str
    platform: str
    platform_markers: tuple[str, ...]
    stage: str
    events: tuple[BootEvent, ...]
    findings: tuple[Finding, ...]
    warnings: tuple[ParseWarning, ...]
    boots: int
    anchor: TimeAnchor | None
    lines: int = 0
    size: int = 0
    earlier_findings: tuple[Finding, ...] = ()

    def reached(self, stage: str) -> bool:
        """Whether the last boot passed through ``stage`` (see :func:`stage_reached`)."""
        return stage_reached(self.stage, stage)

    def findings_of(self, prefix: str) -> tuple[Finding, ...]:
        """Findings whose kind starts with ``prefix`` (``boot:fstab`` or ``boot:fstab:mount_failed``)."""
        return tuple(f for f in self.findings if f.kind == prefix or f.kind.startswith(prefix + ":"))

    @property
    def worst_severity(self) -> str | None:
        """The worst severity among the findings, or None when there are none."""
        present = {f.severity for f in self.findings}
        return next((s for s in SEVERITIES if s in present), None)

    def to_json(self, *, events: bool = True) -> dict[str, Any]:
        """A stable JSON document (``format`` ``kit-bootlog/1``).

        Parameters
        ----------
        events
            Include the ``events`` list (it can be long).
        """
        doc: dict[str, Any] = {
            "format": JSON_FORMAT,
            "source": self.source,
            "os": self.os,
            "platform": self.platform,
            "platform_markers": list(self.platform_markers),
            "stage": self.stage,
            "boots": self.boots,
            "lines": self.lines,
            "bytes": self.size,
            "anchor": self.anchor.to_json() if self.anchor else None,
            "findings": [f.to_json() for f in self.findings],
            "earlier_findings": [f.to_json() for f in self.earlier_findings],
            "warnings": [w.to_json() for w in self.warnings],
        }
        if events:
            doc["events"] = [e.to_json() for e in self.events]
        return doc
