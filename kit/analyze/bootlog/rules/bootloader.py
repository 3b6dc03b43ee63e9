"""Firmware and GRUB: the boot menu, the kernel it loads, and its rescue shells and errors."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.analyze.bootlog.rules._base import Context, Hit, register

__all__ = ["BootloaderRule"]

_FILE_NOT_FOUND = re.compile(r"error: file [`'\"]?(\S+?)['`\"]? not found")
_GRUB_ERROR = re.compile(r"^\s*error: (.+)$")
# errors only GRUB prints: seeing one means a (new) boot is in the boot loader, whatever came before
_GRUB_ONLY = re.compile(r"no such device|unknown filesystem|no such partition|file [`']|you need to load the kernel|"
                        r"disk [`'].*not found|outside of disk|invalid arch-dependent ELF magic|symbol [`'].*not found|"
                        r"invalid signature|bad shim signature")


class BootloaderRule:
    """UEFI/BIOS hand-over and GRUB."""

    NAME = "bootloader"
    TRIGGERS = (
        "GNU GRUB", "Welcome to GRUB", "Booting `", "Booting '", "Booting a command list", "Loading Linux",
        "Loading initial ramdisk", "error: ", "Entering rescue mode", "Minimal BASH-like",
        "BdsDxe", "Booting from Hard Disk", "SeaBIOS",
    )

    def matches(self, line: str) -> bool:
        return (
            "GRUB" in line or "Booting" in line or "Loading" in line or "error: " in line or "rescue" in line
            or "BASH-like" in line or "BdsDxe" in line or "SeaBIOS" in line
        )

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        if "grub rescue>" in line or "Entering rescue mode" in line:
            return [Hit("boot:bootloader:rescue_shell", "GRUB could not find its files and stopped at the "
                        "'grub rescue>' prompt.", severity="critical", stage="bootloader", boot_start=True,
                        os="linux")]
        if "Minimal BASH-like line editing is supported" in line:
            return [Hit("boot:bootloader:grub_shell", "GRUB stopped at its command line (no usable grub.cfg).",
                        severity="critical", stage="bootloader", boot_start=True, os="linux")]
        missing = _FILE_NOT_FOUND.search(line)
        if missing and _GRUB_ERROR.match(line):
            path = missing.group(1)
            if "initrd" in path or "initramfs" in path:
                return [Hit("boot:bootloader:file_not_found", f"GRUB could not find the initramfs {path}; the kernel "
                            "boots without it and usually cannot mount the root file system.", severity="error",
                            stage="bootloader", boot_start=True, os="linux")]
            return [Hit("boot:bootloader:file_not_found", f"GRUB could not find {path} (kernel removed, or grub.cfg "
                        "points at the wrong file).", severity="critical", stage="bootloader", boot_start=True,
                        os="linux")]
        error = _GRUB_ERROR.match(line)
        if error and (_GRUB_ONLY.search(line) or context.stage in ("none", "firmware", "bootloader")):
            return [Hit("boot:bootloader:error", f"GRUB error: {error.group(1).strip()[:160]}", severity="error",
                        stage="bootloader", boot_start=bool(_GRUB_ONLY.search(line)), os="linux")]
        if "GNU GRUB" in line or "Welcome to GRUB" in line:
            return [Hit("boot:bootloader:grub", "GRUB started.", stage="bootloader", boot_start=True, os="linux")]
        if re.search(r"Booting (?:[`'].+['`]|a command list)", line):
            return [Hit("boot:bootloader:boot_entry", "GRUB booted a menu entry.", stage="bootloader", boot_start=True,
                        os="linux")]
        if "Loading Linux" in line or "Loading initial ramdisk" in line:
            return [Hit("boot:bootloader:loading", "GRUB is loading the kernel and initramfs.", stage="bootloader",
                        boot_start=True, os="linux")]
        if "BdsDxe" in line or "Booting from Hard Disk" in line or "SeaBIOS" in line:
            return [Hit("boot:firmware:handoff", "The firmware is starting the boot loader.", stage="firmware",
                        boot_start=True)]
        return []


register(BootloaderRule())
