"""Windows Server boots as the serial port (EMS/SAC) records them."""

from __future__ import annotations

from typing import Any

from .common import ts
from .serial import Console


def boot_windows(con: Console, story: dict[str, Any], vm: dict[str, Any], boot: dict[str, Any]) -> None:
    raise NotImplementedError("windows boots are rendered in a later revision")
