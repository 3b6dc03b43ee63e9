"""The current screen as text, rendered with pyte (what a screenshot would show)."""

from __future__ import annotations

import pyte

__all__ = ["Screen"]


class Screen:
    """A VT100 screen fed with guest output.

    Parameters
    ----------
    width, height
        Terminal size in characters (a serial console has no resize message; 80x24 default).
    """

    def __init__(self, width: int = 80, height: int = 24) -> None:
        self._screen = pyte.Screen(width, height)
        self._stream = pyte.Stream(self._screen)
        self.width = width
        self.height = height

    def feed(self, text: str) -> None:
        """Apply guest output to the screen."""
        self._stream.feed(text)

    def lines(self) -> list[str]:
        """Every screen row, trailing spaces removed."""
        return [row.rstrip() for row in self._screen.display]

    def text(self) -> str:
        """The screen as text, trailing blank rows dropped."""
        rows = self.lines()
        while rows and not rows[-1]:
            rows.pop()
        return "\n".join(rows)

    def last_lines(self, count: int = 10) -> list[str]:
        """The last ``count`` non-empty-tail rows (for error messages)."""
        rows = self.lines()
        while rows and not rows[-1]:
            rows.pop()
        return rows[-count:]

    @property
    def cursor(self) -> tuple[int, int]:
        """(column, row) of the cursor."""
        return self._screen.cursor.x, self._screen.cursor.y
