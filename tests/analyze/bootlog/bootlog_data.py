"""The boot-log test fixtures: realistic Azure serial logs named after what they show."""

from __future__ import annotations

from pathlib import Path

from kit.analyze.bootlog import Finding, parse_boot_log

DATA = Path(__file__).parent / "data"


def read(name: str) -> bytes:
    """A fixture log's raw bytes (CRLF line ends, ANSI escapes with the ESC byte, some NUL padding)."""
    return (DATA / name).read_bytes()


def without_esc(data: bytes) -> bytes:
    """The same log as Azure sometimes stores it: every ESC byte lost, ``[0;1;31m`` left behind."""
    return data.replace(b"\x1b", b"")


#: systemd's status prefixes as a colour console prints them.
ESC = "\x1b"
FAILED = f"[{ESC}[0;1;31mFAILED{ESC}[0m]"
OK = f"[{ESC}[0;32m  OK  {ESC}[0m]"
TIME = f"[{ESC}[0;1;31m TIME {ESC}[0m]"
DEPEND = f"[{ESC}[0;1;33mDEPEND{ESC}[0m]"


def findings(line: str, before: str = "") -> list[Finding]:
    """The findings of one log line (as a serial log holds it, ``\\r\\n`` ended), after the lines ``before``."""
    return list(parse_boot_log((before + line).encode() + b"\r\n").findings)


def only(line: str, kind: str, before: str = "") -> Finding:
    """The one finding of ``kind``'s family on ``line``, which must be of ``kind``, its summary free of colour codes."""
    family = ":".join(kind.split(":")[:2]) + ":"
    found = [f for f in findings(line, before) if f.kind.startswith(family)]
    assert [f.kind for f in found] == [kind], (line, [(f.kind, f.summary) for f in found])
    assert "[0;" not in found[0].summary and ESC not in found[0].summary, found[0].summary
    return found[0]
