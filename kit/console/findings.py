"""Live findings: guest output passed through the boot-log analyzer as it arrives.

The notebook shows e.g. "emergency mode detected" the moment the guest prints it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LiveFinding", "LiveFindings"]


@dataclass(frozen=True)
class LiveFinding:
    """One finding seen in console output.

    Parameters
    ----------
    kind
        Colon-separated kind from the analyzer (``boot:emergency_mode``).
    text
        The line that showed it.
    summary
        What it means, in words.
    """

    kind: str
    text: str
    summary: str


# Used only when kit.analyze.bootlog is unavailable: the few states a responder must see at once.
_FALLBACK = (
    ("boot:emergency_mode", re.compile(r"You are in emergency mode|Give root password for maintenance"), "emergency mode detected"),
    ("boot:fstab:mount_failed", re.compile(r"Failed to mount .*|Dependency failed for Local File Systems"), "a filesystem in /etc/fstab failed to mount"),
    ("boot:kernel_panic", re.compile(r"Kernel panic - not syncing"), "kernel panic"),
    ("service:sshd:failed", re.compile(r"Failed to start .*OpenBSD Secure Shell"), "sshd failed to start"),
)


class LiveFindings:
    """Accumulate output and report each new finding once.

    Parameters
    ----------
    on_finding
        Called with each new :class:`LiveFinding`.
    min_interval
        Seconds between analyzer runs (the whole accumulated output is re-parsed).
    """

    def __init__(self, on_finding: Callable[[LiveFinding], None] | None = None, *, min_interval: float = 0.25,
                 limit: int = 2_000_000) -> None:
        self.on_finding = on_finding
        self.min_interval = min_interval
        self.limit = limit
        self.findings: list[LiveFinding] = []
        self._seen: set[tuple[str, str]] = set()
        self._data = bytearray()
        self._last = 0.0
        self._dirty = False

    def feed(self, text: str) -> list[LiveFinding]:
        """Add output; analyse when a line completed and enough time passed."""
        self._data += text.encode("utf-8", errors="replace")
        if len(self._data) > self.limit:
            del self._data[: len(self._data) - self.limit]
        self._dirty = self._dirty or "\n" in text
        if self._dirty and time.monotonic() - self._last >= self.min_interval:
            return self.analyse()
        return []

    def analyse(self) -> list[LiveFinding]:
        """Run the analyzer now; return the findings not seen before."""
        self._last = time.monotonic()
        self._dirty = False
        new: list[LiveFinding] = []
        for finding in self._run():
            key = (finding.kind, finding.text)
            if key in self._seen:
                continue
            self._seen.add(key)
            self.findings.append(finding)
            new.append(finding)
            if self.on_finding is not None:
                self.on_finding(finding)
        return new

    def _run(self) -> list[LiveFinding]:
        data = bytes(self._data)
        try:
            from kit.analyze.bootlog import parse_boot_log
        except ImportError:
            return self._fallback(data)
        try:
            report = parse_boot_log(data, source="console")
        except Exception:  # the analyzer must never break a live session
            return self._fallback(data)
        out = []
        for item in getattr(report, "findings", ()):
            text = str(getattr(item, "text", "") or "")
            summary = str(getattr(item, "summary", "") or getattr(item, "message", "") or item.kind)
            out.append(LiveFinding(str(item.kind), text.strip(), summary))
        return out or self._fallback(data)

    @staticmethod
    def _fallback(data: bytes) -> list[LiveFinding]:
        text = data.decode("utf-8", errors="replace")
        out = []
        for kind, pattern, summary in _FALLBACK:
            match = pattern.search(text)
            if match:
                line_start = text.rfind("\n", 0, match.start()) + 1
                line_end = text.find("\n", match.end())
                line = re.sub(r"\x1b\[[0-9;]*m", "", text[line_start: line_end if line_end >= 0 else None]).strip()
                out.append(LiveFinding(kind, line, summary))
        return out
