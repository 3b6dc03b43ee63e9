"""GRUB: the boot menu, the kernel it loads, and its rescue shells and errors.

The firmware before it (UEFI/BIOS hand-over, shim and Secure Boot) is the ``firmware`` family;
GRUB's own "has invalid signature"/"bad shim signature" errors are Secure Boot refusals and are
reported there.

Sources: Microsoft, "Linux virtual machine boots to GRUB rescue"
(learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/troubleshoot-vm-boot-error: "error: file
'/boot/grub2/i386-pc/normal.mod' not found", "error: unknown filesystem", "Error 15: File not found",
"error: no such partition", "error: symbol 'grub_efi_get_secure_boot' not found"); gcpdiag runbook
``gce/constants.py`` (KERNEL_PANIC_LOGS: "Minimal BASH-like line editing is supported", "error: symbol
'grub_calloc' not found"); GRUB 2 grub-core (kern/rescue_reader.c, normal/main.c, loader/i386/linux.c).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/troubleshoot-vm-boot-error"
_GCPDIAG = "GoogleCloudPlatform/gcpdiag:gcpdiag/runbook/gce/constants.py (KERNEL_PANIC_LOGS)"
# errors only GRUB prints: seeing one means a (new) boot is in the boot loader, whatever came before
_GRUB_ONLY = re.compile(r"no such device|unknown filesystem|no such partition|file [`']|you need to load the kernel|"
                        r"disk [`'].*not found|outside of disk|invalid arch-dependent ELF magic|symbol [`'].*not found|"
                        r"invalid magic number|grub-core/")
# Secure Boot refusals GRUB prints: the firmware family reports them
_SECURE_BOOT = ("invalid signature", "bad shim signature")
# GRUB 2.12 puts the source position before the message: "error: ../../grub-core/fs/fshelp.c:257:file …"
_WHERE = re.compile(r"^(?:\.\./)*grub-core/\S+?:\d+:\s*")


def _file_not_found(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    path = match.group("path")
    name = path.rsplit("/", 1)[-1]
    if "initrd" in name or "initramfs" in name:
        return signature.hit(match, severity="error", summary=f"GRUB could not find the initramfs {path}; the kernel "
                             "boots without it and usually cannot mount the root file system.")
    if name.endswith((".mod", ".lst")) or "grub" in path and not name.startswith("vmlinuz"):
        return signature.hit(match, summary=f"GRUB could not find its own file {path} (the /boot/grub files are "
                             "missing, or GRUB looks on the wrong partition) and stops at the rescue prompt.")
    return signature.hit(match, summary=f"GRUB could not find {path} (kernel removed, or grub.cfg points at the wrong "
                         "file).")


def _legacy_error(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    if context.stage not in ("none", "firmware", "bootloader"):
        return None  # "Error N: …" from a program of a later stage
    code, message = match.group("code"), match.group("message").strip().rstrip(".")
    severity = "critical" if code in ("15", "17", "22") else "error"
    return signature.hit(match, severity=severity, summary=f"GRUB legacy error {code}: {message} (GRUB cannot read "
                         "the kernel or its partition; the VM stops in the boot loader).")


def _error(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    line = match.string
    if any(text in line for text in _SECURE_BOOT):
        return None  # boot:firmware:secure_boot_violation
    grub_only = bool(_GRUB_ONLY.search(line))
    if not grub_only and context.stage not in ("none", "firmware", "bootloader"):
        return None  # an "error: " line from a later stage, not GRUB's
    message = _WHERE.sub("", match.group("message").strip()).rstrip(".")[:160]
    return signature.hit(match, summary=f"GRUB error: {message}.", boot_start=grub_only)


RULE = register(Rule("bootloader", [
    Signature("boot:bootloader:rescue_shell", r"grub rescue>|Entering rescue mode",
              "GRUB could not find its files and stopped at the 'grub rescue>' prompt.", severity="critical",
              stage="bootloader", boot_start=True, os="linux", source=_DOCS,
              samples=("Entering rescue mode...", "grub rescue> ")),
    Signature("boot:bootloader:grub_shell", r"Minimal BASH-like line editing is supported",
              "GRUB stopped at its command line (no usable grub.cfg).", severity="critical", stage="bootloader",
              boot_start=True, os="linux", source=_GCPDIAG,
              samples=("   Minimal BASH-like line editing is supported. For the first word, TAB lists possible "
                       "command completions. Anywhere else TAB lists possible device or file completions.",)),
    Signature("boot:bootloader:file_not_found",
              r"^\s*error: (?:(?:\.\./)*grub-core/\S+?:\d+:\s*)?file [`'\"]?(?P<path>[^\s'`\"]+?)['`\"]? not found",
              build=_file_not_found, severity="critical", stage="bootloader", boot_start=True, os="linux",
              source=_DOCS,
              samples=("error: file `/boot/vmlinuz-5.15.0-1052-azure' not found.",
                       "error: file '/boot/grub2/i386-pc/normal.mod' not found.",
                       "error: ../../grub-core/fs/fshelp.c:257:file `/boot/initrd.img-6.5.0-1025-azure' not found.")),
    Signature("boot:bootloader:file_not_found", r"^\s*Error (?P<code>\d{1,2}): (?P<message>[A-Z].*?)\s*$",
              build=_legacy_error, severity="critical", stage="bootloader", boot_start=True, os="linux",
              source=_DOCS,
              samples=("Error 15: File not found", "Error 17: Cannot mount selected partition")),
    Signature("boot:bootloader:error", r"^\s*error: (?P<message>.+)$", build=_error, severity="error",
              stage="bootloader", os="linux", source=_DOCS,
              samples=("error: no such device: 0c3c1b5f-7a8e-4d52-b1f3-6e2a9c4d7b10.",
                       "error: unknown filesystem.",
                       "error: no such partition.",
                       "error: you need to load the kernel first.",
                       "error: symbol `grub_calloc' not found.",
                       "error: symbol 'grub_efi_get_secure_boot' not found.",
                       "error: ../../grub-core/loader/i386/efi/linux.c:215:invalid magic number.",
                       "error: attempt to read or write outside of disk `hd0'.")),
    Signature("boot:bootloader:grub", r"GNU GRUB|Welcome to GRUB", "GRUB started.", stage="bootloader",
              boot_start=True, os="linux",
              samples=("                             GNU GRUB  version 2.06", "Welcome to GRUB!")),
    Signature("boot:bootloader:boot_entry", r"Booting (?:[`'].+['`]|a command list)", "GRUB booted a menu entry.",
              stage="bootloader", boot_start=True, os="linux",
              samples=("  Booting `Ubuntu'", "  Booting a command list")),
    Signature("boot:bootloader:loading", r"Loading Linux|Loading initial ramdisk",
              "GRUB is loading the kernel and initramfs.", stage="bootloader", boot_start=True, os="linux",
              samples=("Loading Linux 5.15.0-1052-azure ...", "Loading initial ramdisk ...")),
]))
