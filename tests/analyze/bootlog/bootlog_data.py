"""The boot-log test fixtures: realistic Azure serial logs named after what they show."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"


def read(name: str) -> bytes:
    """A fixture log's raw bytes (CRLF line ends, ANSI escapes with the ESC byte, some NUL padding)."""
    return (DATA / name).read_bytes()


def without_esc(data: bytes) -> bytes:
    """The same log as Azure sometimes stores it: every ESC byte lost, ``[0;1;31m`` left behind."""
    return data.replace(b"\x1b", b"")
