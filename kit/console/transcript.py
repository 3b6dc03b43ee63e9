"""Session transcripts: asciinema v2 ``.cast`` plus a plain-text rendering, redacted.

Both files are appended and flushed as data arrives, so a crash loses nothing already shown.
What is never written: the access token (even if the guest echoes it), anything typed at a
password prompt or typed ahead of one (:mod:`kit.console._typeahead`: a line typed before the
guest's next prompt is held back, with the output after it, until that prompt decides what it
was), and output or input that looks like a bearer token, JWT, SAS signature, private key or
``password=`` assignment (see :mod:`kit.console._redact`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from kit.console._redact import MASK, RedactingStream, redact_text
from kit.console._render import render_text
from kit.console._typeahead import InputLine, TypeAhead
from kit.errors import BundleExistsError

__all__ = ["Transcript", "render_text"]

#: a secret shorter than this is not masked in the output (it would mask ordinary words)
_MIN_SECRET = 4


@dataclass
class _Held:
    """An event held back while a typed-ahead line is undecided."""

    kind: Literal["o", "m", "i", "enter", "line"]
    at: float
    data: str = ""
    line: InputLine | None = None
    stamp: str = ""
    repeat_line: bool = True


class Transcript:
    """A redacted recording of one console session.

    Parameters
    ----------
    path
        The ``.cast`` file to create; the text rendering goes next to it with ``.txt``.
        Refuses to overwrite an existing file.
    vm_id
        The ARM id of the VM (or ``lab:<scenario>/<vm>``, ``qemu:<socket>``).
    responder
        Who opened the console (from the token's claims in Azure; ``"lab"`` in the lab).
    approval
        The approval or ticket reference that allowed opening it (break-glass).
    transport
        Where the bytes came from.
    secrets
        Literal strings never to write (the token). More can be added with :meth:`add_secret`.
    width, height
        Terminal size recorded in the header.
    hold_seconds, hold_chars
        How long, and for how much output, a typed-ahead line may wait for the guest's next
        prompt; then it is written if the guest echoed it, else hidden.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        vm_id: str,
        responder: str,
        approval: str,
        transport: str = "",
        secrets: tuple[str, ...] | list[str] = (),
        width: int = 80,
        height: int = 24,
        hold_seconds: float = 30.0,
        hold_chars: int = 256 * 1024,
    ) -> None:
        self.cast_path = Path(path)
        if self.cast_path.suffix != ".cast":
            self.cast_path = self.cast_path.with_suffix(".cast")
        self.text_path = self.cast_path.with_suffix(".txt")
        for existing in (self.cast_path, self.text_path):
            if existing.exists():
                raise BundleExistsError(f"transcript {existing} already exists; choose another name")
        self.cast_path.parent.mkdir(parents=True, exist_ok=True)
        self.started = datetime.now(UTC).replace(microsecond=0)
        self._t0 = time.monotonic()
        #: the ``kit`` part of the cast header
        self.header: dict[str, str] = {
            "vm_id": vm_id, "responder": responder, "approval": approval,
            "started_at": self.started.isoformat().replace("+00:00", "Z"), "transport": transport,
        }
        self.hold_seconds = hold_seconds
        self.hold_chars = hold_chars
        self._output = RedactingStream(secrets)
        self._input = RedactingStream(secrets)
        self._typeahead = TypeAhead()
        self._held: list[_Held] = []
        self._held_chars = 0
        self._masks: set[str] = set()
        self._line = ""
        self._closed = False
        self._cast: TextIO = open(self.cast_path, "x", encoding="utf-8")  # noqa: SIM115
        self._text: TextIO = open(self.text_path, "x", encoding="utf-8")  # noqa: SIM115
        os.chmod(self.cast_path, 0o600)
        os.chmod(self.text_path, 0o600)
        cast_header = {
            "version": 2, "width": width, "height": height, "timestamp": int(self.started.timestamp()),
            "title": f"serial console {vm_id}", "env": {"TERM": "xterm-256color"}, "kit": dict(self.header),
        }
        self._cast.write(json.dumps(cast_header) + "\n")
        self._text.write(
            "# serial console transcript\n"
            f"# vm: {vm_id}\n# responder: {responder}\n# approval: {approval}\n"
            f"# started: {self.header['started_at']}\n# transport: {transport}\n\n"
        )
        self._flush()

    # ------------------------------------------------------------------ secrets
    def add_secret(self, secret: str) -> None:
        """Never write ``secret`` from now on (a password the session typed, a new token)."""
        self._output.add_secret(secret)
        self._input.add_secret(secret)
        if secret:
            self._masks.add(secret)

    def output_lost(self) -> None:
        """Output went missing (a reconnect gap): the next line typed answers a prompt nobody saw."""
        self._typeahead.output_lost()

    @property
    def holding(self) -> bool:
        """Whether a typed-ahead line is undecided (its output is held back with it)."""
        return bool(self._held)

    # ------------------------------------------------------------------ writing
    def _elapsed(self) -> float:
        return round(time.monotonic() - self._t0, 6)

    def _event(self, kind: str, data: str, at: float | None = None) -> None:
        if data and not self._closed:
            self._cast.write(json.dumps([self._elapsed() if at is None else at, kind, data]) + "\n")

    def _flush(self) -> None:
        self._cast.flush()
        self._text.flush()

    def _write_output(self, safe: str, at: float | None = None) -> None:
        if safe:
            self._event("o", safe, at)
            rendered = render_text(safe)
            self._text.write(rendered)
            self._line = (self._line + rendered).rsplit("\n", 1)[-1][-400:]

    def _write_marker(self, text: str, stamp: str, *, repeat_line: bool, at: float | None = None) -> None:
        self._event("m", text, at)
        # a marker in the middle of a line (a finding while the user types) repeats the line after it
        self._text.write(f"\n[kit {stamp}] {text}\n{self._line if repeat_line else ''}")

    def _write_input(self, keys: str, at: float | None = None) -> None:
        self._event("i", self._input.feed(keys.replace("\r", "\r\n")).replace("\r\n", "\r"), at)

    def _hold(self, item: _Held) -> None:
        self._held.append(item)
        self._held_chars += len(item.data)

    def _emit_output(self, safe: str) -> None:
        if not safe:
            return
        if self._held:
            self._hold(_Held("o", self._elapsed(), safe))
        else:
            self._write_output(safe)

    def _emit_marker(self, text: str, *, repeat_line: bool = True) -> None:
        stamp = datetime.now(UTC).strftime("%H:%M:%SZ")
        if self._held:
            self._hold(_Held("m", self._elapsed(), text, stamp=stamp, repeat_line=repeat_line))
        else:
            self._write_marker(text, stamp, repeat_line=repeat_line)

    def _emit_input(self, keys: str) -> None:
        if self._held:
            self._hold(_Held("i", self._elapsed(), keys))
        else:
            self._write_input(keys)

    def _hidden_line_ended(self, line: InputLine) -> None:
        if line.told:
            return
        line.told = True
        self._emit_marker(f"input hidden ({line.reason})", repeat_line=False)
        if self._held:
            self._hold(_Held("enter", self._elapsed(), "\r"))
        else:
            self._event("i", "\r")

    # ------------------------------------------------------------------ decisions
    def _decided(self, lines: list[InputLine]) -> None:
        for line in lines:
            text = line.text.strip()
            if line.mode == "hide" and line.secret and len(text) >= _MIN_SECRET:
                self.add_secret(text)
        self._release()

    def _release(self) -> None:
        """Write what was held once no typed-ahead line is undecided."""
        if self._typeahead.holding or not self._held:
            return
        held, self._held, self._held_chars = self._held, [], 0
        index = 0
        while index < len(held):
            item = held[index]
            if item.kind == "o":
                start = index  # consecutive output is masked as one text: a secret may span two pieces
                while index + 1 < len(held) and held[index + 1].kind == "o":
                    index += 1
                text = "".join(piece.data for piece in held[start:index + 1])
                self._write_output(self._mask(text), item.at)
            elif item.kind == "m":
                self._write_marker(item.data, item.stamp, repeat_line=item.repeat_line, at=item.at)
            elif item.kind == "i":
                self._write_input(item.data, item.at)
            elif item.kind == "enter":
                self._event("i", item.data, item.at)
            elif item.line is not None:
                line = item.line
                if line.mode == "record":
                    self._write_input(line.keys, item.at)
                elif line.finished and not line.told:
                    line.told = True
                    self._write_marker(f"input hidden ({line.reason})", item.stamp, repeat_line=False, at=item.at)
                    self._event("i", "\r", item.at)
            index += 1
        self._flush()

    def _mask(self, text: str) -> str:
        for secret in sorted(self._masks, key=len, reverse=True):
            if len(secret) >= _MIN_SECRET or secret in self._output.secrets:
                text = text.replace(secret, MASK)
        return text

    def _expire(self) -> None:
        since = self._typeahead.held_since
        if since is None:
            return
        if time.monotonic() - since >= self.hold_seconds or self._held_chars >= self.hold_chars:
            self._decided(self._typeahead.expire())

    # ------------------------------------------------------------------ the stream
    def output(self, text: str) -> None:
        """Record guest output (raw; redacted here)."""
        if self._closed:
            return
        decided = self._typeahead.output(text)
        self._emit_output(self._output.feed(text))
        self._decided(decided)
        self._expire()
        self._flush()

    def input(self, data: str) -> None:
        """Record keystrokes sent to the guest; nothing typed at (or ahead of) a password prompt is kept."""
        if self._closed or not data:
            return
        for piece in self._typeahead.keys(data, time.monotonic()):
            line = piece.line
            if line.mode == "hold":
                if not line.placed:
                    line.placed = True
                    self._hold(_Held("line", self._elapsed(), line=line,
                                     stamp=datetime.now(UTC).strftime("%H:%M:%SZ")))
            elif line.mode == "record":
                self._emit_input(piece.keys)
            elif piece.ended:
                self._decided([line])
                self._hidden_line_ended(line)
        self._expire()
        self._flush()

    def marker(self, label: str, *, repeat_line: bool = True, **details: Any) -> None:
        """Record an event of the session itself (reconnect gap, admin command, login)."""
        if self._closed:
            return
        self._emit_output(self._output.flush())
        text = label if not details else f"{label} {json.dumps(details, sort_keys=True)}"
        self._emit_marker(redact_text(text, self._output.secrets), repeat_line=repeat_line)
        self._flush()

    def close(self) -> None:
        """Write whatever was held back and close both files."""
        if self._closed:
            return
        self._decided(self._typeahead.finish())
        self._write_output(self._output.flush())
        self._event("i", self._input.flush())
        self.marker("session closed", repeat_line=False)
        self._closed = True
        self._cast.close()
        self._text.close()
