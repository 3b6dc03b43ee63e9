"""Output kept for replay: the pieces a guest printed, bounded by their total size.

A session keeps one for a widget that renders late; the widget keeps one for a browser view
that (re)renders.
"""

from __future__ import annotations

from collections import deque

__all__ = ["History"]


class History:
    """The latest output, at most ``limit`` characters.

    Whole pieces are dropped from the front once the total is over ``limit``; the newest piece
    is always kept, however long.

    Parameters
    ----------
    limit
        Characters kept.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._pieces: deque[str] = deque()
        self._size = 0

    def append(self, text: str) -> None:
        """Keep ``text``, dropping the oldest pieces beyond the limit."""
        self._pieces.append(text)
        self._size += len(text)
        while self._size > self.limit and len(self._pieces) > 1:
            self._size -= len(self._pieces.popleft())

    def clear(self) -> None:
        """Forget everything."""
        self._pieces.clear()
        self._size = 0

    def text(self) -> str:
        """Everything kept, oldest first."""
        return "".join(self._pieces)
