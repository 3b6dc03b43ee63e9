"""Serial/boot log analysis: how far did the last boot get, and what stopped it.

Example::

    report = parse_boot_log(Path("serial.log").read_bytes())
    report.stage, report.platform, [f.kind for f in report.findings]

The parser tolerates what real serial logs hold (NUL padding, ``\\r\\r\\n``, invalid UTF-8,
ANSI colours with or without the ESC byte, megabyte-long lines) and returns what it could not
read as warnings; :func:`log_lines` gives the log's lines numbered the same way, for excerpts.
Finding kinds are ``boot:<family>:<what>``; the families are the rule modules in
:mod:`kit.analyze.bootlog.rules` (kernel, memory, disk, storage, filesystem, volume, selinux,
initramfs, bootloader, firmware, systemd, fstab, sshd, firewall, cloud-init, waagent, platform,
time, windows), each a list of signatures whose ``kind``, ``severity`` and ``samples`` say what
it finds. Severity: critical (the line alone explains an unreachable VM), error, warning, info
(positive evidence such as a login prompt); ``Finding.detect_only`` marks context that never
drives the verdict.

Events (no severity) mark stages and boots: ``boot:kernel:start``, ``boot:bootloader:grub``,
``boot:systemd:target``, ``boot:windows:sac_started``, ``boot:platform:marker`` …
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from kit.analyze.bootlog._decode import log_lines
from kit.analyze.bootlog._model import (
    LINUX_STAGES,
    SEVERITIES,
    STAGES,
    WINDOWS_STAGES,
    BootEvent,
    BootReport,
    Finding,
    ParseWarning,
    TimeAnchor,
    stage_reached,
)
from kit.analyze.bootlog._parse import parse_boot_log

__all__ = [
    "LINUX_STAGES",
    "SEVERITIES",
    "STAGES",
    "WINDOWS_STAGES",
    "BootEvent",
    "BootReport",
    "Finding",
    "HasSerialLog",
    "ParseWarning",
    "TimeAnchor",
    "boot_report_from_bundle",
    "log_lines",
    "parse_boot_log",
    "stage_reached",
]


class HasSerialLog(Protocol):
    """What :func:`boot_report_from_bundle` reads: a ``serial_log`` (``kit.evidence.Bundle`` has one)."""

    @property
    def serial_log(self) -> bytes | None: ...


def boot_report_from_bundle(bundle: HasSerialLog, *, anchor: datetime | None = None) -> BootReport:
    """The boot report of an evidence bundle's ``serial.log``.

    A bundle without a serial log (boot diagnostics off, or nothing written yet) gives an empty
    report whose single warning says so.

    Parameters
    ----------
    bundle
        A loaded bundle (anything with a ``serial_log`` attribute holding bytes or None).
    anchor
        The VM start time, passed on to :func:`parse_boot_log`.
    """
    data = getattr(bundle, "serial_log", None)
    if data is None:
        return BootReport(
            source="serial.log", os="unknown", platform="unknown", platform_markers=(), stage="none", events=(),
            findings=(), boots=0, anchor=None,
            warnings=(ParseWarning("no_log", "the bundle has no serial log: boot diagnostics may be off, or the VM "
                                   "has not written to its serial port since they were enabled"),),
        )
    return parse_boot_log(data, source="serial.log", anchor=anchor)
