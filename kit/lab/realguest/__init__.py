"""Real guests: Debian 12 under QEMU standing in for a scenario's broken VM.

>>> image = build_base()                                  # cached by recipe hash; minutes once
>>> guest = start_real_guest(info, folder)                # variant disk in seconds, QEMU booting
>>> guest.wait_until_booted()                             # "sched-01 login: " after 20-60 s on TCG
>>> guest.check()                                         # a real SSH login + the scenario's condition

The gateway (:mod:`kit.lab.gateway`) bridges its websocket to the guest's serial socket; boot
diagnostics serve the QEMU chardev log; admin commands go to the QEMU monitor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kit.errors import LabError
from kit.lab.realguest._agent import agent_ready, guest_exec
from kit.lab.realguest._guest import BOOTED, RealGuest
from kit.lab.realguest._image import BaseImage, build_base, cache_root, missing_tools
from kit.lab.realguest._proof import ssh
from kit.lab.realguest._qemu import QemuGuest, accelerator
from kit.lab.realguest._recipe import PASSWORD, USERNAME, recipe_hash
from kit.lab.realguest._rescue import boot_disk, copy_disk, start_rescue_vm
from kit.lab.realguest._variants import RETIRED_DISK, VARIANTS, make_variant

__all__ = [
    "BOOTED", "PASSWORD", "RETIRED_DISK", "SCENARIO_VARIANTS", "USERNAME", "VARIANTS", "BaseImage", "QemuGuest",
    "RealGuest", "accelerator", "agent_ready", "boot_disk", "build_base", "cache_root", "copy_disk", "guest_exec",
    "make_variant", "missing_tools", "recipe_hash", "ssh", "start_real_guest", "start_rescue_vm",
]

#: the lab scenario → the real-guest variant that plays its broken VM
SCENARIO_VARIANTS = {
    "firewall-lockout": "firewall-lockout",
    "fstab-emergency": "fstab-emergency-rootpw",  # the scenario's story: root has a password
    "sshd-broken": "sshd-broken",
    "kernel-panic": "kernel-panic",
}


def start_real_guest(info: Any, folder: Path, *, variant: str | None = None, memory: int = 1024,
                     progress: Callable[[str], None] = lambda _line: None) -> RealGuest:
    """Make ``info``'s broken VM a real guest: its variant disk under ``folder``, QEMU booting it.

    Parameters
    ----------
    info
        The scenario (``name``, ``broken_vm``, ``window_end``).
    folder
        Scratch room for the disk copy, sockets and logs (deleted by the caller).
    variant
        The real-guest variant (default: the scenario's, :data:`SCENARIO_VARIANTS`).

    Raises
    ------
    LabError
        The scenario has no real-guest variant, a build tool is missing, or QEMU cannot start.
    """
    name = variant or SCENARIO_VARIANTS.get(info.name)
    if name is None:
        raise LabError(f"scenario {info.name!r} has no real guest; real guests play "
                       f"{', '.join(SCENARIO_VARIANTS)}")
    image = build_base(progress=progress)
    disk = make_variant(image, name, folder / "disk.img", hostname=info.broken_vm)
    clock = getattr(info, "window_end", None)
    rtc = (clock - dt.timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M:%S") if clock is not None else None
    qemu = QemuGuest(disk, folder, memory=memory, rtc_base=rtc).start()
    return RealGuest(info.name, name, qemu, image)
