"""The initramfs: dracut's emergency shell, BusyBox ``(initramfs)``, a root device that never came."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.analyze.bootlog.rules._base import Context, Hit, register

__all__ = ["InitramfsRule"]

_DOES_NOT_EXIST = re.compile(r"Warning: (/dev/\S+|UUID=\S+|LABEL=\S+) does not exist")
_ALERT = re.compile(r"ALERT!\s+(\S+) does not exist")
_SHELL = (
    "Dracut Emergency Shell", "Exit the shell to continue", "rdsosreport.txt", "dracut:/#",
    "Generating \"/run/initramfs/rdsosreport.txt\"",
)


class InitramfsRule:
    """initramfs-tools (Ubuntu/Debian) and dracut (RHEL, SUSE, Fedora) messages."""

    NAME = "initramfs"
    TRIGGERS = (
        "BusyBox", "ALERT!", "Gave up waiting", "Dracut", "Warning:", "Exit the shell", "Generating \"/run/initramfs",
        "Loading, please wait", "Begin: ", "Running in initial RAM disk", "Running in initrd", "Initramfs",
        "Emergency",
    )

    def matches(self, line: str) -> bool:
        return (
            "initramfs" in line or "Initramfs" in line or "BusyBox" in line or "ALERT!" in line or "Gave up" in line
            or "racut" in line or "Warning:" in line or "Exit the shell" in line or "Loading, please wait" in line
            or "Begin: " in line or "initial RAM disk" in line or "initrd" in line or "Emergency" in line
        )

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        missing = _DOES_NOT_EXIST.search(line) or _ALERT.search(line)
        if missing:
            return [Hit("boot:initramfs:root_missing", f"The initramfs could not find the root device "
                        f"{missing.group(1)} (disk missing, wrong root=/UUID, or a driver missing from the "
                        "initramfs).", severity="critical", stage="initramfs", os="linux")]
        if "Gave up waiting for root" in line:
            return [Hit("boot:initramfs:root_missing", "The initramfs gave up waiting for the root device.",
                        severity="critical", stage="initramfs", os="linux")]
        if "Warning: Could not boot" in line:
            return [Hit("boot:initramfs:root_missing", "dracut could not boot: the root file system was not found.",
                        severity="critical", stage="initramfs", os="linux")]
        if "dracut-initqueue timeout" in line:
            return [Hit("boot:initramfs:timeout", "dracut timed out waiting for the root device.", severity="error",
                        stage="initramfs", os="linux")]
        if any(text in line for text in _SHELL) or ("Emergency" in line and (context.in_initrd or "racut" in line)):
            return [Hit("boot:initramfs:emergency_shell", "The initramfs dropped to dracut's emergency shell: the "
                        "root file system could not be mounted.", severity="critical", stage="initramfs", os="linux")]
        if "BusyBox" in line and "built-in shell" in line or line.lstrip().startswith("(initramfs)"):
            return [Hit("boot:initramfs:emergency_shell", "The initramfs dropped to a BusyBox shell ((initramfs) "
                        "prompt): the root file system could not be mounted.", severity="critical", stage="initramfs",
                        os="linux")]
        if "Running in initial RAM disk" in line or "Running in initrd" in line or (
                "Welcome to" in line and "(Initramfs)" in line):
            return [Hit("boot:initramfs:systemd", "systemd started inside the initramfs.", stage="initramfs",
                        os="linux")]
        if "Loading, please wait" in line or line.lstrip().startswith("Begin: "):
            return [Hit("boot:initramfs:start", "The initramfs is running.", stage="initramfs", os="linux")]
        return []


register(InitramfsRule())
