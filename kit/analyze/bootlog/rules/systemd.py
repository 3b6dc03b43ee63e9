"""systemd and getty: emergency/rescue mode, a locked root account, failed units, targets, login.

Mount and fsck failures belong to the ``fstab`` and ``filesystem`` rules; systemd inside an
initramfs (RHEL/dracut) to ``initramfs``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.analyze.bootlog.rules._base import Context, Hit, register

__all__ = ["SystemdRule"]

_FAILED_START = re.compile(r"Failed to start (.+?)\.?\s*$")
_FAILED_RESULT = re.compile(r"(\S+\.(?:service|socket|target|timer|path)): Failed with result '([^']+)'")
_DEPENDENCY = re.compile(r"Dependency failed for (.+?)\.?\s*$")
_TARGET = re.compile(r"Reached target (.+?)(?: - (.+?))?\.?\s*$")
_WELCOME = re.compile(r"Welcome to (.+?)!")
_LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62} login:")
_BANNER = re.compile(r"\b(?:ttyS0|tty1|hvc0)\b\s*$")
_GETTY = re.compile(r"Started (?:Serial )?Getty on (\S+?)\.?\s*$|Started (?:serial-)?getty@\S+")
_EMERGENCY = (
    "You are in emergency mode", "Welcome to emergency mode", "Reached target Emergency Mode",
    "Reached target emergency.target", "Started Emergency Shell", "Started emergency.service",
    "Give root password for maintenance", "Press Enter for maintenance",
)
_RESCUE = ("You are in rescue mode", "Welcome to rescue mode", "Reached target Rescue Mode")
_MULTI_USER = ("Multi-User System", "multi-user.target", "Graphical Interface", "graphical.target")
_FSTAB_DEPENDENCY = re.compile(r"(?:^|- )/|Local File Systems|File System Check|\.mount\b|\.swap\b|^Swap$")


def _initrd(line: str, context: Context) -> bool:
    return context.in_initrd or "dracut" in line or "Dracut" in line or "(Initramfs)" in line or "initrd" in line


class SystemdRule:
    """systemd status lines and the getty login prompt."""

    NAME = "systemd"
    TRIGGERS = (
        "FAILED", "Failed to start", "Failed with result", "Dependency failed", "Reached target", "Welcome to",
        "You are in", "Emergency", "Cannot open access", "Give root password", "Switching root", "Started ",
        "Detected virtualization", "login:",
    )

    def matches(self, line: str) -> bool:
        return (
            "ailed" in line or "Reached target" in line or "Welcome to" in line or "You are in" in line
            or "Emergency" in line or "Cannot open access" in line or "maintenance" in line
            or "Switching root" in line or "Started " in line or "Detected virtualization" in line
            or "login:" in line or "tty" in line or "hvc0" in line
        )

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        if "Cannot open access to console, the root account is locked" in line:
            return [Hit("boot:systemd:root_locked", "Emergency mode could not open a shell: the root account is "
                        "locked, so the serial console cannot be used to repair from here (repair the disk offline, "
                        "or boot with systemd.unit=... / init=/bin/bash).", severity="critical", os="linux")]
        if any(text in line for text in _EMERGENCY):
            if _initrd(line, context):
                return []  # the initramfs rule reports dracut's emergency shell
            return [Hit("boot:systemd:emergency_mode", "systemd dropped to emergency mode: the boot stopped before "
                        "the network and sshd started (often a failed mount from /etc/fstab).", severity="critical",
                        stage="systemd", os="linux")]
        if any(text in line for text in _RESCUE):
            return [Hit("boot:systemd:rescue_mode", "systemd is in rescue mode: sshd and the network are not "
                        "started.", severity="critical", stage="systemd", os="linux")]
        login = _LOGIN.match(line.strip())
        if login and "Last login" not in line:
            return [Hit("boot:systemd:login_prompt", "The login prompt was shown: the OS finished booting.",
                        severity="info", stage="login", os="linux")]
        if "Switching root" in line:
            return [Hit("boot:systemd:switch_root", "The initramfs switched to the real root file system.",
                        stage="systemd", os="linux")]
        getty = _GETTY.search(line)
        if getty:
            return [Hit("boot:systemd:getty", "A getty started on the console.", stage="multi-user", os="linux")]
        dependency = _DEPENDENCY.search(line)
        if dependency:
            if _FSTAB_DEPENDENCY.search(dependency.group(1).strip()):
                return []  # the fstab rule reports these
            return [Hit("boot:systemd:dependency_failed", f"A unit did not start because something it needs failed: "
                        f"{dependency.group(1).strip()}.", severity="warning", os="linux")]
        failed = _FAILED_START.search(line)
        if failed:
            return [Hit("boot:systemd:unit_failed", f"A systemd unit failed to start: {failed.group(1).strip()}.",
                        severity="warning", os="linux")]
        result = _FAILED_RESULT.search(line)
        if result:
            return [Hit("boot:systemd:unit_failed", f"{result.group(1)} failed ({result.group(2)}).",
                        severity="warning", os="linux")]
        target = _TARGET.search(line)
        if target:
            name = target.group(1).strip()
            if any(m in line for m in _MULTI_USER):
                return [Hit("boot:systemd:multi_user", "systemd reached the multi-user target: services are up.",
                            severity="info", stage="multi-user", os="linux")]
            stage = "initramfs" if _initrd(line, context) or name.startswith("Initrd") else "systemd"
            return [Hit("boot:systemd:target", f"systemd reached {name}.", stage=stage, os="linux")]
        welcome = _WELCOME.search(line)
        if welcome and "GRUB" not in line:
            if _initrd(line, context):
                return [Hit("boot:initramfs:systemd", f"systemd started inside the initramfs ({welcome.group(1)}).",
                            stage="initramfs", os="linux")]
            return [Hit("boot:systemd:start", f"systemd started the OS: {welcome.group(1)}.", stage="systemd",
                        os="linux")]
        if "Detected virtualization" in line and not context.in_initrd:
            return [Hit("boot:systemd:virtualization", "systemd detected the hypervisor.", stage="systemd", os="linux")]
        if _BANNER.search(line) and ("Ubuntu" in line or "Debian" in line or "Linux" in line or "SUSE" in line):
            return [Hit("boot:systemd:login_banner", "The console login banner was shown.", stage="multi-user",
                        os="linux")]
        return []


register(SystemdRule())
