"""Streaming redaction: what may be written to a transcript.

Text arrives in pieces (a token echoed one keystroke at a time). :class:`RedactingStream`
emits everything that is certainly safe and holds back a tail that could still turn into a
secret: the last word of an unfinished line, any prefix of a known secret, an unfinished
private key. Complete lines are masked with the patterns below; the held tail is released
once its line ends, or by :meth:`RedactingStream.flush`.

SAS signatures are removed by :func:`kit.evidence.sas.strip_sas_text` (every spelling of ``sig=``
in a URL, ``SharedAccessSignature=`` in a connection string, a bare ``sig=``); a URL that lost its
signed query says so with ``?[REDACTED:sas]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kit.evidence.sas import strip_sas_text

__all__ = ["MASK", "RedactingStream", "redact_text", "strip_sas_words"]

MASK = "[REDACTED]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # JSON Web Tokens (ARM access tokens, id tokens)
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[REDACTED:jwt]"),
    # Authorization: Bearer <anything>
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + MASK),
    # SAS signatures and other signed URL parameters
    (re.compile(r"(?i)([?&\s]sig=)[^&\s\"'<>]+"), r"\1" + MASK),
    (re.compile(r"(?i)(\bsig=)[^&\s\"'<>]+"), r"\1" + MASK),
    # password=…, secret=…, token=…, key=… assignments (config files, URLs, command lines)
    (re.compile(r"(?i)(?<![A-Za-z0-9])((?:password|passwd|pwd|pass|secret|client_secret|access_token|token|api_?key"
                r"|accountkey)\s*=\s*)(\"[^\"]*\"|'[^']*'|[^\s;\"']+)"),
     r"\1" + MASK),
    # "password": "…" in JSON
    (re.compile(r"(?i)(\"(?:password|secret|token|access_token|client_secret)\"\s*:\s*\")[^\"]*(\")"),
     r"\1" + MASK + r"\2"),
)

_KEY_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_KEY_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_BEARER_TAIL = re.compile(r"(?i)\bbearer\s*\S*$")


_SAS_MASK = "?[REDACTED:sas]"
_WORD = re.compile(r"\S+")


def _strip_sas_word(match: re.Match[str]) -> str:
    word = match.group(0)
    stripped, count = strip_sas_text(word)
    if count and stripped != word and word.startswith(stripped):
        return stripped + _SAS_MASK  # a URL lost its signed query: say where it was
    return stripped


def strip_sas_words(text: str) -> str:
    """``text`` with every SAS signature removed (:func:`kit.evidence.sas.strip_sas_text`), marked."""
    if "sig" not in text.lower():
        return text
    return _WORD.sub(_strip_sas_word, text)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secrets, SAS signatures and secret-looking patterns in a complete piece of text."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = strip_sas_words(text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingStream:
    """Redact a stream of text that arrives in arbitrary pieces.

    Parameters
    ----------
    secrets
        Literal strings that must never be emitted (the access token, a typed password).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: set[str] = {s for s in secrets if s}
        self._pending = ""
        self._in_key = False

    def add_secret(self, secret: str) -> None:
        """Also mask ``secret`` from now on (and in anything still held back)."""
        if secret:
            self.secrets.add(secret)

    def feed(self, text: str) -> str:
        """Take a piece of text; return the part that is safe to write now."""
        self._pending += text
        cut = self._pending.rfind("\n") + 1
        complete, partial = self._pending[:cut], self._pending[cut:]
        out = self._lines(complete) if complete else ""
        hold = self._hold_from(partial)
        if hold > 0:
            out += self._redact(partial[:hold])
        self._pending = partial[hold:]
        return out

    def flush(self) -> str:
        """Release everything held back, redacted (end of stream)."""
        text, self._pending = self._pending, ""
        if self._in_key:
            return MASK + "\n" if text else ""
        return self._redact(text)

    def _redact(self, text: str) -> str:
        return redact_text(text, self.secrets)

    def _lines(self, text: str) -> str:
        out: list[str] = []
        for line in text.splitlines(keepends=True):
            if self._in_key:
                end = _KEY_END.search(line)
                if end:
                    self._in_key = False
                    out.append(line[end.start():])
                continue
            begin = _KEY_BEGIN.search(line)
            if begin:
                out.append(self._redact(line[: begin.end()]) + "\n" + MASK + " (private key)\n")
                rest = line[begin.end():]
                end = _KEY_END.search(rest)
                if end:
                    out.append(rest[end.start():])
                else:
                    self._in_key = True
                continue
            out.append(self._redact(line))
        # a secret can span a line break only if it contains one; mask those on the joined text
        joined = "".join(out)
        for secret in self.secrets:
            if "\n" in secret:
                joined = joined.replace(secret, MASK)
        return joined

    def _hold_from(self, partial: str) -> int:
        """Index in ``partial`` from which text must be held back."""
        if self._in_key or "-----BEGIN" in partial or partial.endswith("-"):
            return 0
        hold = len(partial)
        # the last word (a token or password=… still being typed)
        match = re.search(r"\S*$", partial)
        if match and match.start() < hold:
            hold = match.start()
        match = _BEARER_TAIL.search(partial)
        if match and match.start() < hold:
            hold = match.start()
        # any prefix of a literal secret at the end (secrets may contain spaces)
        for secret in self.secrets:
            for size in range(min(len(secret), len(partial)), 0, -1):
                if partial.endswith(secret[:size]):
                    hold = min(hold, len(partial) - size)
                    break
        return hold
