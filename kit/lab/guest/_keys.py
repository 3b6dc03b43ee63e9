"""The line editing both scripted guests share: echo, erase, and ENTER handing the typed line over.

A guest keeps the line being typed (:attr:`Keyboard.line`) and says what ENTER does with it;
:func:`feed_keys` turns keystrokes into what the serial line prints back. Keys a guest treats
specially (Ctrl-C, escape sequences, SAC's ``<esc><tab>``) it takes in :meth:`Keyboard.control`
before the editor sees them.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Keyboard", "feed_keys"]

_ERASE = "\x7f\x08"


class Keyboard(Protocol):
    """A guest's console as the line editor sees it."""

    line: str
    """What has been typed since the last ENTER."""

    def echoes(self) -> bool:
        """Whether typed characters are echoed (not at a password prompt)."""
        ...

    def enter(self, line: str) -> str:
        """Act on a finished line; what the guest prints after the echoed ``\\r\\n``."""
        ...

    def control(self, data: str, index: int) -> tuple[str, int] | None:
        """Take a special key at ``data[index]``: ``(output, index after it)``, or ``None`` to edit as usual."""
        ...


def feed_keys(keyboard: Keyboard, data: str) -> str:
    """Keystrokes in, what the serial line prints back out.

    ENTER is ``\\r``, ``\\n`` or ``\\r\\n``; DEL and BS erase one character (``\\b \\b`` when
    echoing); printable characters and TAB join the line; other control characters are dropped.
    """
    out: list[str] = []
    index = 0
    while index < len(data):
        taken = keyboard.control(data, index)
        if taken is not None:
            text, index = taken
            out.append(text)
            continue
        ch = data[index]
        index += 1
        if ch in "\r\n":
            if ch == "\n" and index >= 2 and data[index - 2] == "\r":
                continue
            line, keyboard.line = keyboard.line, ""
            out.append("\r\n")
            out.append(keyboard.enter(line))
        elif ch in _ERASE:
            if keyboard.line:
                keyboard.line = keyboard.line[:-1]
                if keyboard.echoes():
                    out.append("\x08 \x08")
        elif ch >= " " or ch == "\t":
            keyboard.line += ch
            if keyboard.echoes():
                out.append(ch)
    return "".join(out)
