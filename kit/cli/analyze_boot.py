"""``kit analyze boot FILE [--json] [--events] [--anchor TIME]``: read a serial/boot log offline.

FILE is a serial log as Azure stores it, or an evidence bundle folder holding ``serial.log``.
Exit 0 when the log was analysed (whatever it shows), 2 when FILE does not exist, is not a
regular file (a FIFO or device would block the read) or an option is wrong, 1 when FILE cannot
be read. Log lines are printed with their control characters escaped (``\x1b`` …).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import TYPE_CHECKING

from kit.times import iso_z, require_time

if TYPE_CHECKING:
    from kit.analyze.bootlog import BootReport

from kit.cli._common import Commands, evidence_file, print_json, safe

__all__ = ["register", "summary"]

#: Critical findings repeated in the opening lines, before the details.
_LEAD = 5


def register(commands: Commands) -> None:
    """Add ``boot`` to ``kit analyze``."""
    boot = commands.analyze.add_parser(
        "boot",
        help="how far the last boot got, the platform, and findings with line numbers",
        description="Analyse a serial/boot log (or the serial.log of an evidence bundle folder): OS, "
        "platform markers, the furthest boot stage of the last boot, and findings with their line numbers.",
    )
    boot.add_argument("file", metavar="FILE", help="serial log file, or a bundle folder containing serial.log")
    boot.add_argument("--json", action="store_true", help="print the report as JSON (format kit-bootlog/1)")
    boot.add_argument("--events", action="store_true", help="with --json: include every recognised line")
    boot.add_argument("--anchor", metavar="TIME",
                      help="VM start time (ISO 8601, UTC if no zone) used when the log has no dated line")
    boot.set_defaults(handler=_boot)


def _boot(args: argparse.Namespace) -> int:
    from kit.analyze.bootlog import parse_boot_log

    anchor = require_time(args.anchor, "--anchor") if args.anchor is not None else None
    data, path = evidence_file(args.file, "serial.log", "serial log")
    name = path.name
    report = parse_boot_log(data, source=name, anchor=anchor)
    if args.json:
        print_json(report.to_json(events=args.events))
    else:
        sys.stdout.write(summary(report))
    return 0


def summary(report: BootReport) -> str:
    """The plain-text summary ``kit analyze boot`` prints: the answer first, then the details."""
    from kit.analyze.bootlog import SEVERITIES

    markers = (f" (markers: {', '.join(report.platform_markers)})" if report.platform_markers
               else " (no Hyper-V/Azure markers)")
    counts = Counter(f.severity for f in report.findings)
    tally = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s]) or "no findings"
    out = [f"summary: the last boot reached {report.stage}; {tally}"]
    critical: dict[str, list[int]] = {}
    for finding in report.findings:
        if finding.severity == "critical" and not finding.detect_only:
            critical.setdefault(finding.summary, []).append(finding.line)
    for text, lines in list(critical.items())[:_LEAD]:
        again = f" (and {len(lines) - 1} more like it)" if len(lines) > 1 else ""
        out.append(f"  critical line {lines[0]}{again}: {safe(text)}")
    if len(critical) > _LEAD:
        out.append(f"  … {len(critical) - _LEAD} more critical finding(s) below")
    out += [
        "",
        f"{safe(report.source)}: {report.size:,} bytes, {report.lines:,} lines, {report.boots} boot(s)",
        f"os: {report.os}   platform: {report.platform}{safe(markers)}",
        f"last boot reached: {report.stage}",
    ]
    if report.anchor is None:
        out.append("time: uptime only (no dated line to anchor it; pass --anchor with the VM start time)")
    else:
        where = f"line {report.anchor.line}" if report.anchor.line else "--anchor"
        stamp = iso_z(report.anchor.time)
        out.append(f"time: anchored from {safe(report.anchor.source)} ({where}): "
                   f"uptime {report.anchor.uptime:.2f} s = {stamp}")
    if report.findings:
        out.append(f"findings in the last boot ({len(report.findings)}):")
        for finding in report.findings:
            context = " (detect-only: context, not a cause)" if finding.detect_only else ""
            out.append(f"  {finding.severity:<8} line {finding.line:<6} {finding.kind}{context}")
            out.append(f"           {safe(finding.summary)}")
            out.append(f"           > {safe(finding.text)}")
    else:
        out.append("findings in the last boot: none")
    if report.earlier_findings:
        worst = [f for f in report.earlier_findings if f.severity in ("critical", "error")]
        out.append(f"earlier boots: {len(report.earlier_findings)} finding(s), {len(worst)} critical/error"
                   + ("" if not worst else ":"))
        for finding in worst[:10]:
            out.append(f"  {finding.severity:<8} line {finding.line:<6} {finding.kind} (boot {finding.boot})")
    if report.warnings:
        out.append(f"warnings ({len(report.warnings)}):")
        out.extend(f"  {safe(warning.message)}" for warning in report.warnings)
    return "\n".join(out) + "\n"
