"""Live findings: guest output passed through the boot-log analyzer as it arrives.

The notebook shows e.g. "emergency mode detected" the moment the guest prints it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kit.analyze.bootlog import parse_boot_log

__all__ = ["LiveFinding", "LiveFindings"]


@dataclass(frozen=True)
class LiveFinding:
    """One finding seen in console output.

    Parameters
    ----------
    kind
        Colon-separated kind from the analyzer (``boot:systemd:emergency_mode``).
    text
        The line that showed it.
    summary
        What it means, in words.
    """

    kind: str
    text: str
    summary: str


class LiveFindings:
    """Analyse output line by line as it arrives and report each new finding once.

    Only lines completed since the last analysis are parsed, so a long session costs the same
    per line as a short one; a line still being printed waits for its end.

    Parameters
    ----------
    on_finding
        Called with each new :class:`LiveFinding`.
    min_interval
        Seconds between analyzer runs; lines completed in between are analysed together.
    """

    def __init__(self, on_finding: Callable[[LiveFinding], None] | None = None, *, min_interval: float = 0.25) -> None:
        self.on_finding = on_finding
        self.min_interval = min_interval
        self.findings: list[LiveFinding] = []
        self._seen: set[tuple[str, str]] = set()
        self._lines: list[str] = []
        self._partial = ""
        self._last = 0.0

    def feed(self, text: str) -> list[LiveFinding]:
        """Add output; analyse the completed lines when enough time has passed."""
        complete, newline, partial = (self._partial + text).rpartition("\n")
        if newline:
            self._lines.append(complete + newline)
        self._partial = partial
        if self._lines and time.monotonic() - self._last >= self.min_interval:
            return self.analyse()
        return []

    def analyse(self) -> list[LiveFinding]:
        """Analyse every completed line not analysed yet; return the findings not seen before."""
        self._last = time.monotonic()
        data, self._lines = "".join(self._lines).encode("utf-8", errors="replace"), []
        if not data:
            return []
        report = parse_boot_log(data, source="console")
        new: list[LiveFinding] = []
        for item in (*report.earlier_findings, *report.findings):
            finding = LiveFinding(item.kind, item.text.strip(), item.summary)
            if (finding.kind, finding.text) in self._seen:
                continue
            self._seen.add((finding.kind, finding.text))
            self.findings.append(finding)
            new.append(finding)
            if self.on_finding is not None:
                self.on_finding(finding)
        return new
