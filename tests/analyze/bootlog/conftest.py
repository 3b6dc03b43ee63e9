"""Fixture logs for the boot-log tests: realistic Azure serial logs named after what they show."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def read(name: str) -> bytes:
    """A fixture log's raw bytes (CRLF line ends, ANSI escapes with the ESC byte, some NUL padding)."""
    return (DATA / name).read_bytes()


def without_esc(data: bytes) -> bytes:
    """The same log as Azure sometimes stores it: every ESC byte lost, ``[0;1;31m`` left behind."""
    return data.replace(b"\x1b", b"")


@pytest.fixture(params=["esc", "no-esc"])
def ansi_form(request: pytest.FixtureRequest):
    """Both ANSI forms of a log: with the ESC byte and without it."""
    return (lambda data: data) if request.param == "esc" else without_esc
