"""Raw serial bytes → text: NUL padding, line ends, invalid UTF-8, ANSI escapes, long lines.

Whole-text steps here run at C speed (``bytes.decode``, ``str.replace``); per-line work
(ANSI stripping, ``\\r`` redraws, truncation) is only done for the lines a rule looks at.
"""

from __future__ import annotations

import codecs
import re
import threading

from kit.analyze.bootlog._model import ParseWarning

__all__ = ["DISPLAY_LIMIT", "clean_line", "decode", "decode_warnings", "display", "log_lines"]

#: Longest text kept for an event or finding; longer lines are cut (they are still scanned).
DISPLAY_LIMIT = 400
#: Undecodable byte runs reported one by one before a single summary warning.
_DECODE_WARNINGS = 10

_ERRORS = "kit-bootlog-escape"
_state = threading.local()


def _escape_handler(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):  # pragma: no cover - only registered for decoding
        raise error
    bad = error.object[error.start : error.end]
    offsets: list[list[int]] = _state.offsets
    if offsets and offsets[-1][0] + offsets[-1][1] == error.start:
        offsets[-1][1] += error.end - error.start  # one warning per run of bad bytes
    elif len(offsets) < _DECODE_WARNINGS:
        offsets.append([error.start, error.end - error.start])
    _state.bad += error.end - error.start
    return "".join(f"\\x{b:02x}" for b in bad), error.end


codecs.register_error(_ERRORS, _escape_handler)

# With the ESC byte: CSI (colours, cursor, erase), OSC (titles), charset selection, two-byte codes.
# Without it (lost on the way, as Azure often stores them): "[0;1;31m", "[0m", "[K", "[?25l".
# Cut in half by systemd's ellipsis ("device [0;1;…a9c4e"): the code before the "…" goes, the "…" stays.
_ANSI = re.compile(
    r"\x1b\[[0-9;?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b\n]{0,256}(?:\x07|\x1b\\)?"
    r"|\x1b[()][0-9A-Za-z]"
    r"|\x1b[=>78cDEHM]"
    r"|\x1b?\[[0-9;]+(?=…)"
    r"|\x1b"
    r"|\[[0-9]{1,3}(?:;[0-9]{1,3}){0,6}m|\[m"
    r"|\[\?25[lh]|\[[0-9]{0,3}K|\[[0-9]{0,2}J|\[[0-9]{1,3};[0-9]{1,3}H|\[H"
)
#: Cheap test for the start of any form ``_ANSI`` removes (a kernel stamp "[  12.3]" is not one).
_MAYBE_ANSI = re.compile(r"\x1b|\[[0-9;?mKJH]")
_CONTROL = {code: " " for code in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F)}


def decode(data: bytes) -> tuple[str, list[ParseWarning]]:
    """Decode raw serial bytes to text with ``\\n`` line ends, never raising.

    NUL bytes (Azure pads the blob with them) are dropped and every undecodable byte becomes a
    visible ``\\xNN`` escape with a warning giving its byte offset. Lines end at ``\\n``; the
    ``\\r`` of ``\\r\\n`` and ``\\r\\r\\n`` is left for :func:`clean_line`, which only runs on
    the lines a rule reads (a global replace would copy 50 MB twice).
    """
    warnings: list[ParseWarning] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        _state.offsets = []
        _state.bad = 0
        text = data.decode("utf-8", errors=_ERRORS)
        offsets, bad = _state.offsets, _state.bad
        for offset, length in offsets:
            warnings.append(ParseWarning(
                "decode", f"{length} undecodable byte(s) at byte offset {offset}, shown as \\xNN escapes",
                offset=offset,
            ))
        shown = sum(length for _, length in offsets[:_DECODE_WARNINGS])
        if bad > shown:
            warnings.append(ParseWarning(
                "decode", f"{bad - shown} more undecodable byte(s) after byte offset {offsets[-1][0]}, "
                "shown as \\xNN escapes",
                offset=offsets[-1][0],
            ))
    text = text.rstrip("\x00")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text, warnings


def decode_warnings(data: bytes) -> list[ParseWarning]:
    """The warnings :func:`decode` would give, without keeping the text (free for ASCII logs)."""
    if data.isascii():
        return []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return decode(data)[1]
    return []


def log_lines(data: bytes) -> list[str]:
    """The log's lines numbered as the parser numbers them (``lines[n - 1]`` is line ``n``).

    Decoded by :func:`decode` (NUL padding dropped, undecodable bytes as ``\\xNN``), split at
    ``\\n`` only, the ``\\r`` of ``\\r\\n`` removed; colour codes and other control bytes are
    kept for the caller to show or escape.

    Parameters
    ----------
    data
        The raw serial log bytes.
    """
    if not data:
        return []
    text, _ = decode(data)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def clean_line(raw: str, position: int = 0) -> str:
    """One physical line as a person would read it on the console.

    Keeps only the ``\\r``-separated redraw that holds ``position`` (the spot a trigger
    matched), removes ANSI escapes in both forms, and turns other control bytes into spaces.
    """
    raw = raw.rstrip("\r")
    if "\r" in raw:
        position = min(position, len(raw) - 1)
        start = raw.rfind("\r", 0, position) + 1
        end = raw.find("\r", position)
        raw = raw[start:] if end < 0 else raw[start:end]
    if ("[" in raw or "\x1b" in raw) and _MAYBE_ANSI.search(raw):
        raw = _ANSI.sub("", raw)
    if not raw.isprintable():  # C-speed test; only odd lines pay for the translation
        raw = raw.translate(_CONTROL)
    return raw.rstrip()


def display(text: str, limit: int = DISPLAY_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} more characters]"
