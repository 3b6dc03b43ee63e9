"""Which typed lines may be recorded: the rule that keeps passwords typed ahead out of a transcript.

Every line typed (keys up to Enter) gets a mode when its first key arrives:

- ``hide`` — the guest is waiting at a secret prompt (:data:`~kit.console._prompts.PASSWORD_PROMPTS`):
  nothing of the line is written, only a marker;
- ``record`` — the guest is waiting at another prompt it showed (``login:``, a shell prompt):
  the line is written (redacted);
- ``hold`` — the guest has shown no prompt since the last Enter (the line is typed ahead, e.g. a
  password typed after the user name before ``Password:`` arrived), or lines before it are still
  held: the line is held back until the guest's next prompts decide what it was.

Decisions, as prompts arrive (a kernel or systemd line is no prompt, so it decides nothing):

- a secret prompt hides every held line (so the password cannot slip through whichever line it
  was); each is also masked in the output held with it and in all later output, except a line the
  guest echoed just before the prompt while a later line is held too (the user name it follows);
- another prompt asks for the oldest held line: it is written once the guest echoes it, hidden
  if the next prompt comes first (the guest read it without echo, as a password is read); a line
  echoed only *before* the prompt answered an earlier prompt, so this one waits for the next line;
- the first line of a session (or after lost output) answered a prompt nobody saw, or the first
  one shown: it is written once echoed, and hidden and masked if the next prompt comes first.

While a line is held, the guest output is held too (an echo of the typed-ahead text must not be
written before it is known). :meth:`TypeAhead.expire` settles what waited too long; :meth:`finish`
hides whatever is still undecided at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from kit.console._prompts import PromptKind
from kit.console._render import render_text
from kit.console._tracker import PromptEvent, PromptTracker

__all__ = ["InputLine", "LineMode", "Piece", "TypeAhead"]

#: ``record`` (write it), ``hide`` (never write it), ``hold`` (undecided)
LineMode = Literal["record", "hide", "hold"]

_SEEN_LIMIT = 64 * 1024
_LINES = re.compile(r"[^\n]*\n|[^\n]+")
_ENTER = "\r\n"


@dataclass(eq=False)
class InputLine:
    """One line of keys, from its first key to Enter.

    Attributes
    ----------
    mode
        :data:`LineMode`; a held line becomes ``record`` or ``hide`` once decided.
    started
        ``time.monotonic()`` of its first key.
    keys
        Everything typed on it, as sent.
    finished
        Enter was typed.
    first
        Typed before the guest showed any prompt (the session's first line, or after lost output).
    seen
        Guest output since its first key (rendered, bounded): where its echo would be.
    asked
        Where in :attr:`seen` the prompt that reads it began, once one did; else ``None``.
    secret
        Mask its text in the output as well (a password; not just a line not to record).
    reason
        Why it was hidden, for the transcript marker.
    placed, told
        For the transcript: its place among held events is kept; its "input hidden" marker is written.
    """

    mode: LineMode
    started: float
    keys: str = ""
    finished: bool = False
    first: bool = False
    seen: str = ""
    asked: int | None = None
    secret: bool = False
    reason: str = ""
    placed: bool = False
    told: bool = False

    @property
    def text(self) -> str:
        """What the guest reads: erase keys applied, Ctrl+U and Ctrl+W honoured, other control keys dropped."""
        out: list[str] = []
        escape = ""
        for ch in self.keys:
            if escape:
                escape = "" if (len(escape) > 1 and "@" <= ch <= "~") or (escape == "\x1b" and ch not in "[O") \
                    else escape + ch
                continue
            if ch == "\x1b":
                escape = ch
            elif ch in "\x7f\x08":
                if out:
                    out.pop()
            elif ch == "\x15":
                out.clear()
            elif ch == "\x17":
                while out and out[-1] == " ":
                    out.pop()
                while out and out[-1] != " ":
                    out.pop()
            elif ch in _ENTER:
                break
            elif ch >= " " or ch == "\t":
                out.append(ch)
        return "".join(out)

    def echoed(self, start: int = 0, end: int | None = None) -> bool:
        """Whether the guest printed it back (in ``seen[start:end]``; an empty line counts as echoed)."""
        text = self.text.strip()
        return not text or text in self.seen[start:end]

    def see(self, rendered: str) -> None:
        """Add guest output that came after it (bounded)."""
        if len(self.seen) < _SEEN_LIMIT:
            self.seen += rendered[:_SEEN_LIMIT - len(self.seen)]

    def hide(self, reason: str, *, secret: bool) -> None:
        """Decide: never write this line (and with ``secret``, mask it in the output too)."""
        self.mode, self.reason, self.secret = "hide", reason, secret


@dataclass(frozen=True)
class Piece:
    """The part of one :meth:`TypeAhead.keys` call that belongs to one line."""

    line: InputLine
    keys: str
    ended: bool


@dataclass
class TypeAhead:
    """The typed-line state machine (see the module docstring)."""

    _tracker: PromptTracker = field(default_factory=PromptTracker)
    _waiting: PromptKind | None = None
    _line: InputLine | None = None
    _held: list[InputLine] = field(default_factory=list)
    _unknown: bool = True
    _after_cr: bool = False

    @property
    def holding(self) -> bool:
        """Whether a line is undecided (then the output must be held as well)."""
        return bool(self._held)

    @property
    def held_since(self) -> float | None:
        """When the oldest undecided line was started, else ``None``."""
        return self._held[0].started if self._held else None

    def output_lost(self) -> None:
        """Output went missing (a reconnect gap): the next line answers a prompt nobody saw."""
        self._unknown = True
        self._waiting = None

    def keys(self, data: str, now: float) -> list[Piece]:
        """Split typed keys into their lines (a new line gets its mode here)."""
        pieces: list[Piece] = []
        start = 0
        if self._after_cr and data.startswith("\n"):
            start = 1  # the LF of a CR LF Enter split across two sends
        self._after_cr = data.endswith("\r")
        index = start
        while index < len(data):
            if data[index] in _ENTER:
                end = index + 1
                if data[index] == "\r" and data[end:end + 1] == "\n":
                    end += 1
                pieces.append(self._take(data[start:end], now, ended=True))
                start = index = end
                continue
            index += 1
        if start < len(data):
            pieces.append(self._take(data[start:], now, ended=False))
        return pieces

    def _take(self, keys: str, now: float, *, ended: bool) -> Piece:
        line = self._line or self._start(now)
        line.keys += keys
        if ended:
            line.finished = True
            self._line = None
            self._waiting = None
        return Piece(line, keys, ended)

    def _start(self, now: float) -> InputLine:
        if self._held or self._waiting is None:
            line = InputLine("hold", now, first=self._unknown and not self._held)
            self._held.append(line)
        elif self._waiting == "secret":
            line = InputLine("hide", now, secret=True, reason="typed at a password prompt")
        else:
            line = InputLine("record", now)
        self._line = line
        return line

    def output(self, text: str) -> list[InputLine]:
        """Take guest output; return the held lines it decided, oldest first."""
        decided: list[InputLine] = []
        for part in _LINES.findall(text):
            if self._held:
                rendered = render_text(part)
                for line in self._held:
                    line.see(rendered)
            for event in self._tracker.feed(part):
                decided += self._decide(event)
            decided += self._echoes()
        return decided

    def _echoes(self) -> list[InputLine]:
        """Held lines a prompt asked for, now echoed by the guest: written."""
        decided = [line for line in self._held if line.asked is not None and line.echoed(line.asked)]
        for line in decided:
            line.mode = "record"
            self._held.remove(line)
        return decided

    def _decide(self, event: PromptEvent) -> list[InputLine]:
        decided: list[InputLine] = []
        self._unknown = False
        if event.kind != "secret":
            for stale in [line for line in self._held if line.asked is not None]:
                # asked for by an earlier prompt, not echoed before this one: read without echo
                stale.hide("typed ahead, not echoed by the guest", secret=stale.first)
                self._held.remove(stale)
                decided.append(stale)
        first = self._held[0] if self._held and self._held[0].first and self._held[0].finished else None
        if first is not None and first.asked is None:
            # it answered a prompt nobody saw (or this one): its echo decides, this prompt may be the next line's
            if first.echoed():
                first.mode = "record"
                self._held.remove(first)
                decided.append(first)
            else:
                first.asked = 0
        used = False
        if event.kind == "secret" and self._held:
            newest = self._held[-1]
            for line in self._held:
                user_name = line is not newest and line.finished and line.text.strip() == event.previous.strip()
                line.hide("typed ahead of a password prompt", secret=not user_name)
                used = used or line.finished
            decided += self._held
            self._held = []
        else:
            oldest = next((line for line in self._held if line.finished and line.asked is None), None)
            if oldest is not None:
                oldest.asked = max(len(oldest.seen) - len(event.line) - 2, 0)
                used = True
                if oldest.echoed(oldest.asked):
                    oldest.mode = "record"
                elif oldest.echoed(0, oldest.asked):
                    oldest.mode, used = "record", False  # echoed before this prompt: it answered an earlier one
                if oldest.mode == "record":
                    self._held.remove(oldest)
                    decided.append(oldest)
        self._waiting = event.kind if event.waiting and not used and not self._held else None
        return decided

    def expire(self) -> list[InputLine]:
        """Settle every held line now (it waited too long): written if echoed, else hidden."""
        decided, self._held = self._held, []
        for line in decided:
            if line.echoed():
                line.mode = "record"
            else:
                line.hide("typed ahead, no prompt decided what it was", secret=False)
        self._waiting = None
        return decided

    def finish(self) -> list[InputLine]:
        """The end: every line still undecided is hidden (and masked, as it may be a password)."""
        decided, self._held = self._held, []
        for line in decided:
            line.hide("typed ahead, no prompt followed before the end", secret=True)
        return decided
