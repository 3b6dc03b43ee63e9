"""Firmware before the boot loader: UEFI (Hyper-V Gen2, OVMF) and BIOS (Gen1, SeaBIOS), shim and
Secure Boot, and the GPT partition table the kernel reads.

GRUB's own errors are the ``bootloader`` family, except its Secure Boot refusals ("has invalid
signature", "bad shim signature"), which are reported here as ``secure_boot_violation``. "you need to
load the kernel first" and "invalid magic number" stay GRUB errors: they follow any kernel that did
not load, signed or not.

Sources: gcpdiag ``gce/err/2021_004_secure_boot_failed`` and ``gce/err/2024_003`` ("Security Violation",
"Binary is blacklisted", "UEFI: Failed to load image", "Verification failed: (0x1A) Security
Violation") and runbook ``gce/constants.py`` ("Boot failed: not a bootable disk", "BdsDxe: starting");
Microsoft, "Troubleshoot UEFI boot failures in Azure Linux virtual machines"
(learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/azure-linux-vm-uefi-boot-failures:
"Virtual Machine Boot Summary", "The boot loader did not load an operating system", "No operating
system was loaded", "Start PXE over IPv4"); rhboot/shim (shim.c: "Failed to load image",
"start_image() returned", "Verification failed", "Something has gone seriously wrong"); EDK2/OVMF
BdsDxe ("BdsDxe: failed to load Boot0001 … Not Found", "No bootable option or device was found") and
the UEFI Shell; SeaBIOS ("Boot failed: not a bootable disk", "No bootable device"); the kernel's
block/partitions/efi.c (GPT header checks).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_UEFI_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/azure-linux-vm-uefi-boot-failures"
_GCPDIAG_SB = "GoogleCloudPlatform/gcpdiag:gcpdiag/lint/gce/err_2021_004_secure_boot_failed.py"
_GCPDIAG = "GoogleCloudPlatform/gcpdiag:gcpdiag/runbook/gce/constants.py (KERNEL_PANIC_LOGS)"
_SHIM = "rhboot/shim:shim.c"
_EFI_C = "torvalds/linux:block/partitions/efi.c"
_REFUSED = ("Access Denied", "Security Violation")


def _bds_failed(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    entry, status = match.group("entry"), match.group("status").strip().rstrip(".")
    name = f" ({match.group('name').strip()})" if match.group("name") and match.group("name").strip() else ""
    if status in _REFUSED:
        return signature.hit(match, kind="boot:firmware:secure_boot_violation", summary=(
            f"The UEFI firmware refused to {match.group('what')} boot entry {entry}{name}: {status} (Secure Boot "
            "rejected the boot loader's signature)."))
    return signature.hit(match, summary=f"The UEFI firmware failed to {match.group('what')} boot entry {entry}{name}: "
                         f"{status} (the EFI system partition or its boot loader is missing or damaged).")


def _grub_refused(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    return signature.hit(match, summary=f"Secure Boot: GRUB refused to load {match.group('file') or 'the kernel'} "
                         "because its signature is not trusted (an unsigned or self-built kernel with Secure Boot on).")


def _shim(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    if match.group("returned"):
        return signature.hit(match, summary="shim could not start the next boot loader: start_image() returned "
                             f"{match.group('returned').strip()}.")
    image = (match.groupdict().get("image") or "").strip()
    status = (match.group("status") or "").strip().rstrip(".") or "unknown status"
    what = f"the boot loader {image}" if image else "the next boot loader"
    summary = f"shim/the firmware could not start {what}: {status}"
    if status in _REFUSED:
        summary += " (Secure Boot rejected its signature)"
    elif "Not Found" in status:
        summary += " (grubx64.efi is missing from the EFI system partition)"
    return signature.hit(match, summary=summary + ".")


def _boot_failed(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    device = match.group("device").strip().rstrip(".")
    if "Network" in device or "PXE" in device:
        return signature.hit(match, severity="error", summary=f"Hyper-V firmware: network boot ({device}) failed too; "
                             "it is only tried after the disk did not boot.")
    return signature.hit(match, summary=f"Hyper-V firmware could not boot from {device}: no boot loader on it could be "
                         "started (EFI system partition missing or damaged).")


RULE = register(Rule("firmware", [
    Signature("boot:firmware:secure_boot_violation",
              r"Verification failed: \(0x1A\) Security Violation|Status: Security Violation|"
              r"Binary is blacklisted",
              "Secure Boot refused to run the boot loader or kernel (its signature is not trusted): the VM stops "
              "in the firmware.", severity="critical", stage="firmware", boot_start=True, source=_GCPDIAG_SB,
              samples=("Verification failed: (0x1A) Security Violation",
                       "Status: Security Violation",
                       "Binary is blacklisted")),
    Signature("boot:firmware:secure_boot_violation",
              r"^\s*error: (?:(?:\.\./)*grub-core/\S+?:\d+:\s*)?(?:(?P<file>\S+) has invalid signature|"
              r"bad shim signature)",
              build=_grub_refused,
              severity="critical", stage="bootloader", boot_start=True, os="linux",
              source="rhboot/grub2:grub-core/kern/efi/sb.c",
              samples=("error: ../../grub-core/kern/efi/sb.c:190:bad shim signature.",
                       "error: bad shim signature.",
                       "error: /vmlinuz-6.5.0-1017-azure has invalid signature.",
                       "error: ../../grub-core/loader/i386/efi/linux.c:208:(hd0,gpt1)/vmlinuz-5.14.0 has invalid "
                       "signature.")),
    Signature("boot:firmware:uefi_boot_failed",
              r"BdsDxe: failed to (?P<what>load|start) (?P<entry>Boot[0-9A-Fa-f]{4})(?: \"(?P<name>[^\"]*)\")?"
              r".*: (?P<status>[A-Z][A-Za-z ]+?)\.?\s*$",
              build=_bds_failed, severity="critical", stage="firmware", boot_start=True,
              source="tianocore/edk2:MdeModulePkg/Universal/BdsDxe/BdsEntry.c",
              samples=("BdsDxe: failed to load Boot0001 \"UEFI Microsoft Virtual Disk\" from "
                       "PciRoot(0x0)/Pci(0x1,0x1)/Scsi(0x0,0x0): Not Found",
                       "BdsDxe: failed to start Boot0002 \"ubuntu\" from HD(15,GPT,4a0b)/\\EFI\\ubuntu\\grubx64.efi: "
                       "Load Error")),
    Signature("boot:firmware:uefi_boot_failed", r"Boot Failed\. (?P<device>EFI [A-Za-z0-9 ]+)", build=_boot_failed,
              severity="critical", stage="firmware", boot_start=True, source=_UEFI_DOCS,
              samples=("Boot Failed. EFI SCSI Device.", "Boot Failed. EFI Network.")),
    Signature("boot:firmware:uefi_boot_failed", r"The boot loader did not load an operating system",
              "Hyper-V firmware: the boot loader on the disk did not load an operating system (Gen2 boot summary; "
              "the EFI system partition or /boot is missing or damaged).", severity="critical", stage="firmware",
              source=_UEFI_DOCS,
              samples=("    The boot loader did not load an operating system.",)),
    Signature("boot:firmware:no_bootable_device",
              r"No UEFI-compatible file system was found|No bootable option or device was found|No bootable device|"
              r"Boot failed: not a bootable disk|No operating system found|No operating system was loaded|"
              r"No Operating System was Loaded|Missing operating system|Operating System not found",
              "The firmware found nothing bootable on the OS disk (no EFI system partition, boot sector or boot "
              "loader): the VM never reaches GRUB.", severity="critical", stage="firmware", boot_start=True,
              source=_UEFI_DOCS,
              samples=("No UEFI-compatible file system was found.",
                       "BdsDxe: No bootable option or device was found.",
                       "Boot failed: not a bootable disk",
                       "No bootable device.",
                       "No operating system was loaded. Your virtual machine may be configured incorrectly.",
                       "No Operating System was Loaded. Press a key to retry the boot sequence...",
                       "Missing operating system.")),
    Signature("boot:firmware:shim_failed",
              r"Failed to load image(?: (?P<image>[^:]+?))?(?::| -) (?P<status>[A-Z][A-Za-z ]+?)\.?\s*$|"
              r"start_image\(\) returned (?P<returned>[A-Za-z0-9 ]+)",
              build=_shim,
              severity="critical", stage="firmware", boot_start=True, source=_SHIM,
              samples=("Failed to load image \\EFI\\redhat\\grubx64.efi: Not Found",
                       "Failed to load image: Access Denied",
                       "start_image() returned Not Found")),
    Signature("boot:firmware:shim_failed", r"UEFI: Failed to (?:load|start) image|Something has gone seriously wrong",
              "The UEFI firmware or shim could not start the boot loader image: the VM stops before GRUB.",
              severity="critical", stage="firmware", boot_start=True, source=_GCPDIAG_SB,
              samples=("UEFI: Failed to load image.", "UEFI: Failed to start image.",
                       "Something has gone seriously wrong: import_mok_state() failed")),
    Signature("boot:firmware:uefi_shell", r"UEFI Interactive Shell|Press ESC in \d+ seconds to skip startup\.nsh",
              "The firmware found no boot loader to start and opened the UEFI shell: the VM stops there (EFI "
              "system partition or boot entries missing).", severity="critical", stage="firmware", boot_start=True,
              source="tianocore/edk2:ShellPkg/Application/Shell/Shell.c",
              samples=("UEFI Interactive Shell v2.2",
                       "Press ESC in 1 seconds to skip startup.nsh or any other key to continue.")),
    Signature("boot:firmware:pxe_boot", r"Start PXE over IPv[46]|PXE Network Boot|>>Start PXE",
              "The firmware fell back to network (PXE) boot: nothing on the OS disk could be booted.",
              severity="error", stage="firmware", boot_start=True, source=_UEFI_DOCS,
              samples=(">>Start PXE over IPv4.", "PXE Network Boot using IPv4 ( Press ESC to cancel )")),
    Signature("boot:firmware:boot_summary", r"Virtual Machine Boot Summary|A boot image was not found",
              "Hyper-V firmware printed its boot summary: it tried every boot device (see the lines that follow).",
              stage="firmware", boot_start=True, source=_UEFI_DOCS,
              samples=("Virtual Machine Boot Summary", "    A boot image was not found.")),
    Signature("boot:firmware:gpt_corrupt", r"GPT: ?Primary header thinks Alt\. header is not at the end of the disk",
              "The disk's GPT says it ends before the disk does (the disk was grown, or the backup GPT header is "
              "lost): fix it with sgdisk -e or growpart before partitions are changed.",
              severity="error", stage="kernel", os="linux", source=_EFI_C,
              samples=("[    1.832110] GPT:Primary header thinks Alt. header is not at the end of the disk.",)),
    Signature("boot:firmware:gpt_corrupt", r"Primary GPT is invalid, using alternate GPT",
              "The disk's primary GPT is damaged; the kernel used the backup copy (repair the partition table with "
              "gdisk/sgdisk).", severity="error", stage="kernel", os="linux", source=_EFI_C,
              samples=("[    1.833001] Primary GPT is invalid, using alternate GPT.",)),
    Signature("boot:firmware:gpt_corrupt",
              r"GPT: ?Alternate GPT header not at the end of the disk|Alternate GPT is invalid, using primary GPT|"
              r"GPT: Use GNU Parted to correct GPT errors",
              "The disk's backup GPT header is not where it belongs (usually after the disk was grown); the kernel "
              "uses the primary table and boots.", severity="warning", stage="kernel", os="linux", source=_EFI_C,
              samples=("[    1.832200] GPT:Alternate GPT header not at the end of the disk.",
                       "[    1.832300] Alternate GPT is invalid, using primary GPT.",
                       "[    1.832400] GPT: Use GNU Parted to correct GPT errors.")),
    Signature("boot:firmware:handoff",
              r"BdsDxe|Booting from Hard Disk|SeaBIOS|UEFI: Attempting to start image",
              "The firmware is starting the boot loader.", stage="firmware", boot_start=True,
              samples=("BdsDxe: loading Boot0001 \"UEFI Microsoft Virtual Disk\" from PciRoot(0x0)/Pci(0x1,0x1)",
                       "BdsDxe: starting Boot0001 \"ubuntu\" from HD(15,GPT,4a0b)/\\EFI\\ubuntu\\shimx64.efi",
                       "Booting from Hard Disk...",
                       "SeaBIOS (version 1.16.2-debian-1.16.2-1)",
                       "UEFI: Attempting to start image.")),
]))
