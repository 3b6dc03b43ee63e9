"""The serial-log writer: uptime-stamped kernel lines, systemd status lines with their ANSI colours,
dated lines, and the bytes exactly as Azure stores them (``\\r\\n``, some ``\\r\\r\\n``, NUL padding)."""

from __future__ import annotations

import random
import re
from datetime import datetime

from .common import plus

GREEN, RED, YELLOW, BOLD = "\x1b[0;32m", "\x1b[0;1;31m", "\x1b[0;1;33m", "\x1b[0;1;39m"
RESET = "\x1b[0m"
_UNIT = re.compile(r"\{u:([^}]+)\}")


def units(text: str) -> str:
    """``{u:ssh.service}`` -> the unit name in bold, as systemd 25x prints it (StatusUnitFormat=combined)."""
    return _UNIT.sub(lambda m: f"{BOLD}{m.group(1)}{RESET}", text)


class Console:
    """Accumulates one VM's serial output across boots."""

    def __init__(self, rnd: random.Random):
        self.rnd = rnd
        self.lines: list[tuple[str, str]] = []  # (text, line end)
        self.boot_at: datetime | None = None
        self.t = 0.0
        self.scale = 1.0
        self._last_template = -1.0

    # --- boots and clocks -------------------------------------------------------------------
    def new_boot(self, boot_at: datetime) -> None:
        self.boot_at = boot_at
        self.t = 0.0
        self.scale = 0.94 + self.rnd.random() * 0.14
        self._last_template = -1.0

    def now(self) -> datetime:
        assert self.boot_at is not None
        return plus(self.boot_at, self.t)

    def at_uptime(self, uptime: float) -> float:
        """Advance to a template uptime (scaled for this boot, jittered, never backwards)."""
        if uptime == 0:
            return self.t
        if uptime == self._last_template:
            self.t += self.rnd.random() * 0.000004
            return self.t
        self._last_template = uptime
        target = uptime * self.scale + self.rnd.random() * 0.0004
        self.t = max(self.t + 0.000002 + self.rnd.random() * 0.00003, target)
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t

    def until(self, moment: datetime) -> float:
        """Advance to a wall-clock moment of this boot."""
        assert self.boot_at is not None
        self.t = max(self.t + 0.0001, (moment - self.boot_at).total_seconds())
        return self.t

    # --- line kinds -------------------------------------------------------------------------
    def raw(self, text: str, end: str = "\r\n") -> None:
        self.lines.append((text, end))

    def stamp(self) -> str:
        sec = int(self.t)
        usec = int(round((self.t - sec) * 1_000_000))
        if usec >= 1_000_000:
            sec, usec = sec + 1, usec - 1_000_000
        return f"[{sec:5d}.{usec:06d}]"

    def kern(self, text: str, uptime: float | None = None) -> None:
        if uptime is not None:
            self.at_uptime(uptime)
        else:
            self.t += 0.000004 + self.rnd.random() * 0.00012
        self.raw(f"{self.stamp()} {text}")

    def ok(self, text: str) -> None:
        self.t += 0.002 + self.rnd.random() * 0.03
        self.raw(f"[{GREEN}  OK  {RESET}] {units(text)}")

    def starting(self, text: str) -> None:
        self.t += 0.001 + self.rnd.random() * 0.01
        self.raw(f"         {units(text)}")

    def failed(self, text: str) -> None:
        self.raw(f"[{RED}FAILED{RESET}] {units(text)}")

    def depend(self, text: str) -> None:
        self.raw(f"[{YELLOW}DEPEND{RESET}] {units(text)}")

    def timeout(self, text: str) -> None:
        self.raw(f"[{RED} TIME {RESET}] {units(text)}")

    def plain(self, text: str, end: str = "\r\n") -> None:
        self.raw(text, end)

    def to_bytes(self, pad_to: int = 0) -> bytes:
        data = "".join(text + end for text, end in self.lines).encode("utf-8")
        if pad_to:
            data += b"\x00" * (-len(data) % pad_to)
        return data
