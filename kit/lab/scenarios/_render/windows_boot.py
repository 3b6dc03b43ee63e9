"""Windows Server boots as the serial port records them with EMS enabled: the Special
Administration Console (SAC) banner, its prompt and EVENT notices. A boot dict may carry
``events`` (SAC notices, commands typed at SAC>, a cmd channel's screen) and ``end`` (a restart:
the next boot follows). SAC lines carry no dates."""

from __future__ import annotations

from typing import Any

from kit.lab.scenarios._render.common import ts
from kit.lab.scenarios._render.serial import Console

__all__ = ["boot_windows"]

_SAC_BANNER = [
    "",
    "Computer is booting, SAC started and initialized.",
    "",
    'Use the "ch -?" command for information about using channels.',
    'Use the "?" command for general help.',
    "",
    "",
]

_EVENTS = {
    "cmd_available": ["EVENT: The CMD command is now available."],
    "channel": ["EVENT:   A new channel has been created.  Use \"ch -?\" for channel help.", "        Channel: {channel}"],
    "channel_closed": ["EVENT:   A channel has been closed.", "        Channel: {channel}"],
}


def boot_windows(con: Console, story: dict[str, Any], vm: dict[str, Any], boot: dict[str, Any]) -> None:
    """One Windows boot: SAC's banner and prompt, then the boot's ``events``."""
    con.new_boot(ts(boot["at"]))
    for line in _SAC_BANNER:
        con.plain(line)
    con.plain("SAC>")
    con.plain(_EVENTS["cmd_available"][0])
    con.plain("SAC>", end="")
    for ev in boot.get("events", []):
        if ev["kind"] == "typed":          # what someone typed at SAC> and SAC's answer
            con.plain(ev["command"])
            for line in ev.get("output", []):
                con.plain(line)
            con.plain("SAC>", end="")
            continue
        if ev["kind"] == "channel_output":  # a cmd channel brought to the front: its screen goes to COM1
            con.plain("")
            for line in ev["lines"]:
                con.plain(line)
            continue
        con.plain("")
        for line in _EVENTS[ev["kind"]]:
            con.plain(line.format(**ev))
        con.plain("SAC>", end="")
    if boot.get("end"):
        con.plain("")
