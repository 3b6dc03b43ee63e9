"""The serial-log writer: uptime-stamped kernel lines, systemd status lines with their ANSI colours,
dated lines, and the bytes exactly as Azure stores them (``\\r\\n``, some ``\\r\\r\\n``, NUL padding)."""

from __future__ import annotations

import random
import re
from datetime import datetime

from kit.lab.scenarios._render.common import plus

__all__ = ["Console"]

_GREEN, _RED, _YELLOW, _BOLD = "\x1b[0;32m", "\x1b[0;1;31m", "\x1b[0;1;33m", "\x1b[0;1;39m"
_RESET = "\x1b[0m"
_UNIT = re.compile(r"\{u:([^}]+)\}")


def _units(text: str) -> str:
    """``{u:ssh.service}`` -> the unit name in bold, as systemd 25x prints it (StatusUnitFormat=combined)."""
    return _UNIT.sub(lambda m: f"{_BOLD}{m.group(1)}{_RESET}", text)


class Console:
    """Accumulates one VM's serial output across boots.

    Parameters
    ----------
    rnd
        The seeded randomness of the jitter (uptimes, gaps between lines).

    Attributes
    ----------
    t
        The current uptime of the boot, in seconds.
    """

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.lines: list[tuple[str, str]] = []  # (text, line end)
        self.boot_at: datetime | None = None
        self.t = 0.0
        self.scale = 1.0
        self._last_template = -1.0

    # --- boots and clocks -------------------------------------------------------------------
    def new_boot(self, boot_at: datetime) -> None:
        """Start a boot whose kernel starts at ``boot_at`` (uptime 0, a new clock speed)."""
        self.boot_at = boot_at
        self.t = 0.0
        self.scale = 0.94 + self.rnd.random() * 0.14
        self._last_template = -1.0

    def now(self) -> datetime:
        """The wall-clock time at the current uptime."""
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
        """Move the uptime on by ``seconds``; the new uptime."""
        self.t += seconds
        return self.t

    def until(self, moment: datetime) -> float:
        """Advance to a wall-clock moment of this boot."""
        assert self.boot_at is not None
        self.t = max(self.t + 0.0001, (moment - self.boot_at).total_seconds())
        return self.t

    # --- line kinds -------------------------------------------------------------------------
    def raw(self, text: str, end: str = "\r\n") -> None:
        """Append a line as it is, with its line end."""
        self.lines.append((text, end))

    def stamp(self) -> str:
        """The kernel's ``[  uptime]`` stamp for the current uptime."""
        sec = int(self.t)
        usec = int(round((self.t - sec) * 1_000_000))
        if usec >= 1_000_000:
            sec, usec = sec + 1, usec - 1_000_000
        return f"[{sec:5d}.{usec:06d}]"

    def kern(self, text: str, uptime: float | None = None) -> None:
        """A kernel line, at the template ``uptime`` or a moment after the last line."""
        if uptime is not None:
            self.at_uptime(uptime)
        else:
            self.t += 0.000004 + self.rnd.random() * 0.00012
        self.raw(f"{self.stamp()} {text}")

    def ok(self, text: str) -> None:
        """A systemd ``[  OK  ]`` line."""
        self.t += 0.002 + self.rnd.random() * 0.03
        self.raw(f"[{_GREEN}  OK  {_RESET}] {_units(text)}")

    def starting(self, text: str) -> None:
        """A systemd ``Starting …``/``Mounting …`` line (indented, no status)."""
        self.t += 0.001 + self.rnd.random() * 0.01
        self.raw(f"         {_units(text)}")

    def failed(self, text: str) -> None:
        """A systemd ``[FAILED]`` line."""
        self.raw(f"[{_RED}FAILED{_RESET}] {_units(text)}")

    def depend(self, text: str) -> None:
        """A systemd ``[DEPEND]`` line."""
        self.raw(f"[{_YELLOW}DEPEND{_RESET}] {_units(text)}")

    def timeout(self, text: str) -> None:
        """A systemd ``[ TIME ]`` line."""
        self.raw(f"[{_RED} TIME {_RESET}] {_units(text)}")

    def plain(self, text: str, end: str = "\r\n") -> None:
        """A line without a stamp (GRUB, cloud-init's dated lines, getty)."""
        self.raw(text, end)

    def to_bytes(self, pad_to: int = 0) -> bytes:
        """The serial log as Azure stores it, NUL-padded to a multiple of ``pad_to`` bytes when given."""
        data = "".join(text + end for text, end in self.lines).encode("utf-8")
        if pad_to:
            data += b"\x00" * (-len(data) % pad_to)
        return data
