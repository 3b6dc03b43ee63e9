"""Reading what a program under test writes to a pseudo-terminal."""

from __future__ import annotations

import os
import select
import time


def read_until(fd: int, needle: bytes, seen: bytearray, timeout: float = 30) -> bytes:
    """Read from ``fd`` into ``seen`` until ``needle`` appears after what was already there; the new part."""
    start = len(seen)
    deadline = time.monotonic() + timeout
    while needle not in seen[start:]:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not seen; got {bytes(seen[-600:])!r}")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return bytes(seen[start:])
