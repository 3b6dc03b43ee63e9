"""Terminal output as plain text: what the transcript's ``.txt`` and the prompt detection read."""

from __future__ import annotations

import re

__all__ = ["render_text"]

#: CSI and OSC sequences, other escapes, and control characters except tab, LF and CR
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x1b\(."
                   r"|[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]")
_ERASED = re.compile(r"[^\n\x08]\x08")


def render_text(text: str) -> str:
    """Terminal output as plain text: backspaces applied, escape sequences removed, CR/LF normalised."""
    while "\x08" in text:
        erased = _ERASED.sub("", text, count=1)
        if erased == text:
            break
        text = erased
    return _ANSI.sub("", text.replace("\r\n", "\n")).replace("\r", "")
