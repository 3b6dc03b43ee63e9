"""The firmware family: Secure Boot and shim refusals, UEFI (Hyper-V Gen2, OVMF) and BIOS boot
failures, the UEFI shell, PXE fall-back and the GPT checks the kernel prints."""

from __future__ import annotations

import pytest
from bootlog_data import only

from kit.analyze.bootlog import Finding, parse_boot_log


def findings(text: str) -> list[Finding]:
    return list(parse_boot_log(text.encode() + b"\r\n").findings)


@pytest.mark.parametrize(("line", "named"), [
    ("Verification failed: (0x1A) Security Violation", "Secure Boot"),
    ("Status: Security Violation", "Secure Boot"),
    ("Binary is blacklisted", "Secure Boot"),
    ("error: ../../grub-core/kern/efi/sb.c:190:bad shim signature.", "the kernel"),
    ("error: /vmlinuz-6.5.0-1017-azure has invalid signature.", "/vmlinuz-6.5.0-1017-azure"),
    ("error: ../../grub-core/loader/i386/efi/linux.c:208:(hd0,gpt1)/vmlinuz-5.14.0 has invalid signature.",
     "(hd0,gpt1)/vmlinuz-5.14.0"),
    ("BdsDxe: failed to start Boot0002 \"ubuntu\" from HD(15,GPT,4a0b)/\\EFI\\ubuntu\\shimx64.efi: Access Denied",
     "Boot0002 (ubuntu): Access Denied"),
])
def test_secure_boot_refusals_are_critical(line: str, named: str) -> None:
    finding = only(line, "boot:firmware:secure_boot_violation")
    assert finding.severity == "critical" and named in finding.summary


@pytest.mark.parametrize(("line", "named"), [
    ("Failed to load image \\EFI\\redhat\\grubx64.efi: Not Found", "\\EFI\\redhat\\grubx64.efi: Not Found"),
    ("Failed to load image \\EFI\\ubuntu\\grubx64.efi - Volume Corrupt", "Volume Corrupt"),
    ("Failed to load image: Access Denied", "Secure Boot"),
    ("start_image() returned Not Found", "Not Found"),
    ("start_image() returned Invalid Parameter, falling back to default loader", "Invalid Parameter"),
    ("UEFI: Failed to load image.", "boot loader"),
    ("Something has gone seriously wrong: import_mok_state() failed", "boot loader"),
])
def test_shim_failing_to_start_grub_is_critical(line: str, named: str) -> None:
    finding = only(line, "boot:firmware:shim_failed")
    assert finding.severity == "critical" and named in finding.summary


@pytest.mark.parametrize(("line", "named", "severity"), [
    ("BdsDxe: failed to load Boot0001 \"UEFI Microsoft Virtual Disk\" from PciRoot(0x0)/Pci(0x1,0x1)/Scsi(0x0,0x0): "
     "Not Found", "Boot0001 (UEFI Microsoft Virtual Disk): Not Found", "critical"),
    ("Boot Failed. EFI SCSI Device.", "EFI SCSI Device", "critical"),
    ("Boot Failed. EFI Network.", "EFI Network", "error"),
    ("    The boot loader did not load an operating system.", "boot loader", "critical"),
])
def test_uefi_boot_failures_name_the_entry_or_device(line: str, named: str, severity: str) -> None:
    finding = only(line, "boot:firmware:uefi_boot_failed")
    assert finding.severity == severity and named in finding.summary


@pytest.mark.parametrize("line", [
    "No UEFI-compatible file system was found.",
    "BdsDxe: No bootable option or device was found.",
    "Boot failed: not a bootable disk",
    "No bootable device.",
    "No operating system was loaded. Your virtual machine may be configured incorrectly. Exit and re-configure your "
    "VM or click restart to retry the current boot sequence again.",
    "No Operating System was Loaded. Press a key to retry the boot sequence...",
    "Missing operating system.",
    "Operating System not found",
])
def test_nothing_bootable_is_critical(line: str) -> None:
    assert only(line, "boot:firmware:no_bootable_device").severity == "critical"


def test_the_uefi_shell_and_pxe_fall_back() -> None:
    assert only("UEFI Interactive Shell v2.2", "boot:firmware:uefi_shell").severity == "critical"
    assert only(">>Start PXE over IPv4.", "boot:firmware:pxe_boot").severity == "error"
    assert only("PXE Network Boot using IPv4 ( Press ESC to cancel )", "boot:firmware:pxe_boot").severity == "error"


@pytest.mark.parametrize(("line", "severity"), [
    ("[    1.832110] GPT:Primary header thinks Alt. header is not at the end of the disk.", "error"),
    ("[    1.833001] Primary GPT is invalid, using alternate GPT.", "error"),
    ("[    1.832200] GPT:Alternate GPT header not at the end of the disk.", "warning"),
    ("[    1.832300] Alternate GPT is invalid, using primary GPT.", "warning"),
    ("[    1.832400] GPT: Use GNU Parted to correct GPT errors.", "warning"),
])
def test_gpt_problems(line: str, severity: str) -> None:
    finding = only(line, "boot:firmware:gpt_corrupt")
    assert finding.severity == severity and "GPT" in finding.summary


def test_a_firmware_failure_after_a_booted_system_is_a_new_boot() -> None:
    log = ("[    0.000000] Linux version 6.1.0-27-cloud-amd64 (debian-kernel@lists.debian.org)\r\n"
           "vm-01 login: \r\n"
           "Boot Failed. EFI SCSI Device.\r\n"
           "No UEFI-compatible file system was found.\r\n")
    report = parse_boot_log(log.encode())
    assert report.boots == 2 and report.stage == "firmware"
    assert {f.kind for f in report.findings} == {"boot:firmware:uefi_boot_failed", "boot:firmware:no_bootable_device"}


@pytest.mark.parametrize("line", [
    "BdsDxe: loading Boot0001 \"UEFI Microsoft Virtual Disk\" from PciRoot(0x0)/Pci(0x1,0x1)/Scsi(0x0,0x0)",
    "BdsDxe: starting Boot0001 \"ubuntu\" from HD(15,GPT,4a0b)/\\EFI\\ubuntu\\shimx64.efi",
    "Booting from Hard Disk...",
    "SeaBIOS (version 1.16.2-debian-1.16.2-1)",
    "UEFI: Attempting to start image.",
    "[    0.000000] secureboot: Secure boot disabled",
    "[    0.000000] efi: EFI v2.70 by Microsoft",
    "[    0.000000] DMI: Microsoft Corporation Virtual Machine/Virtual Machine, BIOS Hyper-V UEFI Release v4.1",
    "[    0.691107]  sda: sda1 sda14 sda15",
])
def test_healthy_firmware_lines_give_no_finding(line: str) -> None:
    assert not [f for f in findings(line) if f.kind.startswith("boot:firmware:")], line
