"""``kit analyze screenshot FILE [--json]``: OCR a boot-diagnostics screenshot and run the boot-log rules on it.

FILE is the screenshot (BMP as Azure stores it, PNG or JPEG), or an evidence bundle folder
holding ``screenshot.bmp``. Exit 0 when the screenshot was read (whatever it shows), 2 when FILE
does not exist or is not a regular file (a FIFO or device would block the read), 1 when it
cannot be read, is not an image, or Tesseract (Debian's ``tesseract-ocr``) is missing.
Recognised text is printed with its control characters escaped.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from kit.cli._common import Commands, evidence_file, print_json, safe

if TYPE_CHECKING:
    from kit.analyze.screenshot import ScreenshotReport

__all__ = ["register", "summary"]

_SHOT = "screenshot.bmp"


def register(commands: Commands) -> None:
    """Add ``screenshot`` to ``kit analyze``."""
    shot = commands.analyze.add_parser(
        "screenshot",
        help="OCR the boot-diagnostics screenshot and run the boot-log rules on its text",
        description="Read a boot-diagnostics screenshot (or the screenshot.bmp of an evidence bundle folder) with "
        "Tesseract OCR, print the recognised text and the findings of the boot-log rules (stop codes, Boot "
        "Manager errors, repair and update screens, a Linux login prompt). Needs Debian's tesseract-ocr.",
    )
    shot.add_argument("file", metavar="FILE", help="screenshot file (BMP, PNG, JPEG), or a bundle folder")
    shot.add_argument("--json", action="store_true", help="print the report as JSON (format kit-screenshot/1)")
    shot.set_defaults(handler=_screenshot)


def _screenshot(args: argparse.Namespace) -> int:
    from kit.analyze.screenshot import analyze_screenshot

    report = analyze_screenshot(evidence_file(args.file, _SHOT, "screenshot")[0])
    if args.json:
        print_json({"source": str(args.file), **report.to_json()})
    else:
        sys.stdout.write(summary(report, args.file))
    return 0


def summary(report: ScreenshotReport, source: str = "screenshot") -> str:
    """The plain-text summary ``kit analyze screenshot`` prints."""
    text = report.text
    out = [f"{safe(source)}: {text.size[0]}×{text.size[1]} pixels, {len(text.lines)} line(s) read by "
           f"{text.engine} in {text.seconds:.2f} s; screen: {report.layout}",
           "recognised text:"]
    out.extend(f"  | {safe(line)}" for line in text.lines)
    if not text.lines:
        out.append("  (none)")
    if report.findings:
        out.append(f"findings ({len(report.findings)}):")
        for finding in report.findings:
            out.append(f"  {finding.severity:<8} {finding.kind}")
            out.append(f"           {safe(finding.summary)}")
    else:
        out.append("findings: none")
    if report.warnings:
        out.append(f"warnings ({len(report.warnings)}):")
        out.extend(f"  {safe(warning)}" for warning in report.warnings)
    return "\n".join(out) + "\n"
