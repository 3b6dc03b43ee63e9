"""Prompts in a stream of guest output, as events: what the guest asked for, and whether it still waits.

The output arrives in pieces; :class:`PromptTracker` keeps the line being printed and classifies
it (:func:`kit.console._prompts.classify`) each time it grows and once more when it ends. A line
yields at most one event per kind, so ``login: `` followed by the echoed user name is one prompt,
and a kernel message arriving after ``Password:`` is no prompt at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from kit.console._prompts import PromptKind, classify
from kit.console._render import render_text

__all__ = ["PromptEvent", "PromptTracker"]

_LINE_LIMIT = 2000


@dataclass(frozen=True)
class PromptEvent:
    """A prompt seen in the output.

    Parameters
    ----------
    kind
        What it asks for (:data:`~kit.console._prompts.PromptKind`).
    line
        The prompt's line, rendered (escape sequences removed).
    previous
        The line printed before it.
    waiting
        The prompt is the line being printed (it waits for an answer); ``False`` for a prompt
        seen inside a complete line (it was answered within the same output).
    """

    kind: PromptKind
    line: str
    previous: str
    waiting: bool


class PromptTracker:
    """Turn guest output into :class:`PromptEvent` s."""

    def __init__(self) -> None:
        self._raw = ""
        self._previous = ""
        self._emitted: PromptKind | None = None

    def feed(self, text: str) -> list[PromptEvent]:
        """Take a piece of output; return the prompts it showed, in order."""
        events: list[PromptEvent] = []
        parts = text.split("\n")
        for index, part in enumerate(parts):
            complete = index < len(parts) - 1
            if not part and not complete:
                break
            self._raw = (self._raw + part)[-_LINE_LIMIT:]
            line = render_text(self._raw)
            kind = classify(line, self._previous)
            if kind is not None and kind != self._emitted:
                events.append(PromptEvent(kind, line, self._previous, waiting=not complete))
                self._emitted = kind
            if complete:
                if line.strip():
                    self._previous = line
                self._raw = ""
                self._emitted = None
        return events
