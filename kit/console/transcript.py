"""Session transcripts: asciinema v2 ``.cast`` plus a plain-text rendering, redacted.

Both files are appended and flushed as data arrives, so a crash loses nothing already shown.
What is never written: the access token (even if the guest echoes it), anything typed after a
password prompt, and output that looks like a bearer token, JWT, SAS signature, private key or
``password=`` assignment (see :mod:`kit.console._redact`).
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from kit.console._redact import RedactingStream
from kit.errors import BundleExistsError

__all__ = ["Transcript", "render_text"]

#: CSI and OSC sequences, other escapes, and control characters except tab, LF and CR
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x1b\(."
                   r"|[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]")
_PASSWORD_PROMPT = re.compile(r"(?i)(password|passphrase|passcode)")
_ERASED = re.compile(r"[^\n\x08]\x08")


def render_text(text: str) -> str:
    """Terminal output as plain text: backspaces applied, escape sequences removed, CR/LF normalised."""
    while "\x08" in text:
        erased = _ERASED.sub("", text, count=1)
        if erased == text:
            break
        text = erased
    return _ANSI.sub("", text.replace("\r\n", "\n")).replace("\r", "")


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
        self._output = RedactingStream(secrets)
        self._input = RedactingStream(secrets)
        self._since_enter = ""
        self._line = ""
        self._hidden = False
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

    def add_secret(self, secret: str) -> None:
        """Never write ``secret`` from now on (a password the session typed, a new token)."""
        self._output.add_secret(secret)
        self._input.add_secret(secret)

    def _elapsed(self) -> float:
        return round(time.monotonic() - self._t0, 6)

    def _event(self, kind: str, data: str) -> None:
        if data and not self._closed:
            self._cast.write(json.dumps([self._elapsed(), kind, data]) + "\n")

    def _flush(self) -> None:
        self._cast.flush()
        self._text.flush()

    def output(self, text: str) -> None:
        """Record guest output (raw; redacted here)."""
        if self._closed:
            return
        self._since_enter = (self._since_enter + text)[-400:]
        self._write_output(self._output.feed(text))

    def _write_output(self, safe: str) -> None:
        if safe:
            self._event("o", safe)
            rendered = render_text(safe)
            self._text.write(rendered)
            self._line = (self._line + rendered).rsplit("\n", 1)[-1][-400:]
            self._flush()

    def input(self, data: str) -> None:
        """Record keystrokes sent to the guest; nothing typed after a password prompt is kept."""
        if self._closed or not data:
            return
        prompt = render_text(self._since_enter).rstrip()
        if not self._hidden and prompt.endswith(":") and _PASSWORD_PROMPT.search(prompt[-200:]):
            self._hidden = True
        if self._hidden:
            if "\r" in data or "\n" in data:
                self._hidden = False
                self._since_enter = ""
                self._event("m", "input hidden (typed at a password prompt)")
                self._event("i", "\r")
                self._flush()
            return
        if "\r" in data or "\n" in data:
            self._since_enter = ""
        self._event("i", self._input.feed(data.replace("\r", "\r\n")).replace("\r\n", "\r"))
        self._flush()

    def marker(self, label: str, *, repeat_line: bool = True, **details: Any) -> None:
        """Record an event of the session itself (reconnect gap, admin command, login)."""
        if self._closed:
            return
        self._write_output(self._output.flush())
        text = label if not details else f"{label} {json.dumps(details, sort_keys=True)}"
        self._event("m", text)
        stamp = datetime.now(UTC).strftime("%H:%M:%SZ")
        # a marker in the middle of a line (a finding while the user types) repeats the line after it
        self._text.write(f"\n[kit {stamp}] {text}\n{self._line if repeat_line else ''}")
        self._flush()

    def close(self) -> None:
        """Write whatever was held back and close both files."""
        if self._closed:
            return
        self._write_output(self._output.flush())
        self._event("i", self._input.flush())
        self.marker("session closed", repeat_line=False)
        self._closed = True
        self._cast.close()
        self._text.close()
