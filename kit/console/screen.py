"""The current screen as text, rendered with pyte (what a screenshot would show).

pyte draws character by character in Python (about 0.3 MB/s), so output is applied only when
the screen is read, and a long backlog is cut to its last ``tail_chars`` characters (from a line
start): what is on an 80x24 screen now never depends on output thousands of lines back.
"""

from __future__ import annotations

import pyte

__all__ = ["Screen"]


class Screen:
    """A VT100 screen fed with guest output.

    Parameters
    ----------
    width, height
        Terminal size in characters (a serial console has no resize message; 80x24 default).
    tail_chars
        How much of a backlog is drawn when the screen is read after a burst of output.
    """

    def __init__(self, width: int = 80, height: int = 24, *, tail_chars: int = 32 * 1024) -> None:
        self._screen = pyte.Screen(width, height)
        self._stream = pyte.Stream(self._screen)
        self.width = width
        self.height = height
        self._tail_chars = tail_chars
        self._pending: list[str] = []
        self._pending_chars = 0

    def feed(self, text: str) -> None:
        """Queue guest output for the screen (drawn when the screen is next read)."""
        self._pending.append(text)
        self._pending_chars += len(text)
        if self._pending_chars > 4 * self._tail_chars:  # keep memory bounded during a flood
            self._pending = [self._backlog_tail()]
            self._pending_chars = len(self._pending[0])

    def lines(self) -> list[str]:
        """Every screen row, trailing spaces removed."""
        self._draw()
        return [row.rstrip() for row in self._screen.display]

    def _backlog_tail(self) -> str:
        backlog = "".join(self._pending)
        if len(backlog) <= self._tail_chars:
            return backlog
        start = backlog.find("\n", len(backlog) - self._tail_chars)
        # restart at a line end, as the guest did: carriage return, then the line feed and what follows
        return "\r" + backlog[start:] if start >= 0 else backlog[-self._tail_chars:]

    def _draw(self) -> None:
        if self._pending:
            backlog = self._backlog_tail()
            self._pending.clear()
            self._pending_chars = 0
            self._stream.feed(backlog)

    def _used_rows(self) -> list[str]:
        rows = self.lines()
        while rows and not rows[-1]:
            rows.pop()
        return rows

    def text(self) -> str:
        """The screen as text, trailing blank rows dropped."""
        return "\n".join(self._used_rows())

    def last_lines(self, count: int = 10) -> list[str]:
        """The last ``count`` rows down to the last non-blank one (for error messages)."""
        return self._used_rows()[-count:]

    @property
    def cursor(self) -> tuple[int, int]:
        """(column, row) of the cursor."""
        self._draw()
        return self._screen.cursor.x, self._screen.cursor.y
