r"""What the command modules share: where they register, help, safe text, numbers and JSON output.

Not a command module (the dispatcher skips ``_`` names). Imports nothing heavy: every command
module is imported to build the parser, so ``kit --help`` stays fast.

Terminal text: every string that comes from evidence, a file or an argument (an Activity Log
caller, a serial log line, a file name, an error message) goes through :func:`safe` before it is
printed, so a ``\r``, an ANSI escape, a bidi override or a lone surrogate shows as ``\r``,
``\x1b``, ``\u202e``, ``\udcff`` instead of moving the cursor, recolouring or reordering the
terminal (or failing to encode). :func:`safe_block` does the same to each line of a text the
kit laid out itself, keeping its line breaks. JSON output escapes the same characters as
``\uXXXX`` (still valid JSON, same values).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.errors import AnalysisError, UsageError

__all__ = ["Commands", "Handler", "evidence_file", "existing_folder", "number", "print_help", "print_json",
           "refuse_self", "safe", "safe_block"]

Handler = Callable[[argparse.Namespace], int]
"""A command's handler: parsed arguments in, exit code out."""


@dataclass
class Commands:
    """Where area modules add their sub-commands.

    Parameters
    ----------
    top
        Sub-commands of ``kit`` itself (``kit collect``).
    analyze
        Sub-commands of ``kit analyze`` (``kit analyze boot``).
    """

    top: argparse._SubParsersAction[argparse.ArgumentParser]
    analyze: argparse._SubParsersAction[argparse.ArgumentParser]


def print_help(parser: argparse.ArgumentParser) -> int:
    """Print ``parser``'s help to stderr; exit code 2 (a command group given without a command)."""
    parser.print_help(sys.stderr)
    return 2


#: What a terminal acts on instead of showing: C0/C1 controls and DEL (Cc), invisible format
#: characters such as bidi overrides and zero-width joiners (Cf), line/paragraph separators
#: (Zl, Zp) and lone surrogates (Cs, from undecodable bytes). ``tests/adversarial`` checks this
#: class against ``unicodedata`` for every code point.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def safe(value: object) -> str:
    r"""``str(value)`` fit for a terminal: control and invisible format characters escaped (``\r``, ``\x1b``)."""
    return _UNSAFE.sub(_escape, str(value))


def safe_block(text: str) -> str:
    """:func:`safe` for each line of ``text``; the line breaks between them are kept."""
    return "\n".join(safe(line) for line in str(text).split("\n"))


def number(kind: type[int] | type[float], *, minimum: float, maximum: float,
           above: bool = False) -> Callable[[str], Any]:
    """An argparse ``type`` for a finite number in ``[minimum, maximum]`` (``(minimum, maximum]`` with ``above``).

    ``nan``, ``inf`` and out-of-range values are refused with one line naming the range (exit 2).
    """
    def shown(value: float) -> str:
        return str(int(value)) if kind is int else f"{value:g}"

    low = f"more than {shown(minimum)}" if above else f"at least {shown(minimum)}"
    what = "a whole number" if kind is int else "a number"

    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if (not math.isfinite(value) or value > maximum or value < minimum
                or (above and value <= minimum)):
            raise argparse.ArgumentTypeError(f"{safe(text)!r} is out of range: give {what} {low} and at most "
                                             f"{shown(maximum)}")
        return value

    return convert


def existing_folder(path: str | Path, option: str) -> Path:
    """``path`` if it is a folder or could become one; UsageError naming ``option`` when it (or a parent) is a file."""
    folder = Path(path)
    for candidate in (folder, *folder.parents):
        if candidate.exists() or candidate.is_symlink():
            if not candidate.is_dir():
                where = "is a file" if candidate == folder else f"is under {safe(candidate)}, which is a file"
                raise UsageError(f"{option} {safe(folder)} {where}; give a folder")
            break
    return folder


def evidence_file(file: str, in_bundle: str, what: str) -> tuple[bytes, Path]:
    """The bytes of ``file``, or of ``in_bundle`` inside it when it is a bundle folder, and the path read.

    A missing path, a folder without ``in_bundle`` or something that is not a regular file (a FIFO
    would block the read) is a :class:`UsageError`; an unreadable file an :class:`AnalysisError`.
    ``what`` names the file for the messages ("serial log", "screenshot").
    """
    path = Path(file)
    if path.is_dir():
        path = path / in_bundle
        if not path.exists():
            raise UsageError(f"{file} is a folder without {in_bundle}; give a {what} file or a bundle folder")
    elif not path.exists():
        raise UsageError(f"no such file: {file}; give the path of a {what} or an evidence bundle folder")
    if not path.is_file():
        raise UsageError(f"{path} is not a regular file (a FIFO, socket or device); give a {what} file")
    try:
        return path.read_bytes(), path
    except OSError as error:
        raise AnalysisError(f"cannot read {path}: {error.strerror or error}") from None


def refuse_self(subject: Path, peers: list[Path]) -> None:
    """UsageError when a known-good bundle is the subject's own folder (a comparison with itself)."""
    mine = subject.resolve()
    if any(peer.resolve() == mine for peer in peers):
        raise UsageError(f"{safe(subject)} is compared with itself: --against (or the manifest's peers) must name "
                         "other VMs' bundles")


def _json_safe(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\n":  # json.dumps escapes every control character inside strings: this is layout
        return char
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def print_json(data: Any) -> None:
    r"""Print ``data`` as indented JSON on stdout (non-ASCII kept, anything else as text).

    Characters a terminal would act on are written as ``\uXXXX`` escapes (the same JSON value).
    """
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(_UNSAFE.sub(_json_safe, text) + "\n")
