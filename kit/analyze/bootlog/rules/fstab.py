"""/etc/fstab trouble: devices that never appeared, mounts that failed, what depended on them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.analyze.bootlog.rules._base import Context, Hit, register

__all__ = ["FstabRule"]

_TIMED_OUT = re.compile(r"Timed out waiting for device (.+?)\.?\s*$")
_DEPENDENCY = re.compile(r"Dependency failed for (.+?)\.?\s*$")
_FAILED_MOUNT = re.compile(r"Failed to mount (.+?)\.?\s*$")
_MOUNT_CMD = re.compile(r"\bmount: (/\S*): (.+)$")
_FSTAB_TARGET = re.compile(r"(?:^|- )/|Local File Systems|File System Check|\.mount\b|\.swap\b|^Swap$")
_START_JOB = re.compile(r"A start job is running for (.+?) \(")


def _device(name: str) -> str:
    """What a person calls the unit: the description after `` - `` (systemd 25x prints
    ``unit - description``), else the unit name with ``\\x2d`` unescaped."""
    if " - " in name:
        return name.split(" - ", 1)[1].strip()
    return name.replace("\\x2d", "-").replace("\\x2f", "/").strip()


class FstabRule:
    """Mount units and devices named in /etc/fstab."""

    NAME = "fstab"
    TRIGGERS = ("Timed out waiting for device", "Dependency failed for", "Failed to mount",
                "A start job is running for")

    def matches(self, line: str) -> bool:
        return "Timed out waiting" in line or "Dependency failed" in line or "Failed to mount" in line or (
            "A start job is running for" in line and "dev" in line) or "mount: /" in line

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        timed_out = _TIMED_OUT.search(line)
        if timed_out:
            device = _device(timed_out.group(1))
            return [Hit("boot:fstab:device_timeout", f"systemd gave up waiting for device {device}: a disk named in "
                        "/etc/fstab is missing, detached or renamed.", severity="error", stage="systemd", os="linux")]
        dependency = _DEPENDENCY.search(line)
        if dependency and _FSTAB_TARGET.search(dependency.group(1).strip()):
            target = _device(dependency.group(1))
            return [Hit("boot:fstab:dependency_failed", f"{target} did not start because the device it needs "
                        "failed (see the device time-out above).", severity="error", stage="systemd", os="linux")]
        failed = _FAILED_MOUNT.search(line)
        if failed:
            return [Hit("boot:fstab:mount_failed", f"Mounting {failed.group(1).strip()} failed (check its /etc/fstab "
                        "entry: device, UUID, file system type, options such as nofail).", severity="error",
                        stage="systemd", os="linux")]
        mount = _MOUNT_CMD.search(line)
        if mount:
            return [Hit("boot:fstab:mount_failed", f"mount {mount.group(1)} failed: {mount.group(2).strip()}.",
                        severity="error", os="linux")]
        job = _START_JOB.search(line)
        if job and ("dev-" in job.group(1) or "/dev/" in job.group(1)):
            return [Hit("boot:fstab:waiting_for_device", f"systemd is waiting for {_device(job.group(1))}.",
                        stage="systemd", os="linux")]
        return []


register(FstabRule())
