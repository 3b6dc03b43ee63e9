"""The bootloader family (GRUB): rescue and command-line shells, files it cannot find, its errors,
and its normal banner, menu and loading lines (GRUB repaints the screen with ANSI codes)."""

from __future__ import annotations

import pytest
from bootlog_data import ESC, only

from kit.analyze.bootlog import Finding, parse_boot_log

REPAINT = f"{ESC}[0m{ESC}[30m{ESC}[40m{ESC}[2J{ESC}[01;01H{ESC}[0m{ESC}[37m{ESC}[40m"


def findings(text: str) -> list[Finding]:
    return list(parse_boot_log(text.encode() + b"\r\n").findings)


@pytest.mark.parametrize("line", ["Entering rescue mode...", "grub rescue> ", f"{REPAINT}grub rescue> "])
def test_the_rescue_prompt_is_critical(line: str) -> None:
    finding = only(line, "boot:bootloader:rescue_shell")
    assert finding.severity == "critical" and "grub rescue>" in finding.summary


def test_the_grub_command_line_is_critical() -> None:
    line = ("   Minimal BASH-like line editing is supported. For the first word, TAB lists possible command "
            "completions. Anywhere else TAB lists possible device or file completions.")
    assert only(line, "boot:bootloader:grub_shell").severity == "critical"


@pytest.mark.parametrize(("line", "path", "severity"), [
    ("error: file `/boot/vmlinuz-5.15.0-1052-azure' not found.", "/boot/vmlinuz-5.15.0-1052-azure", "critical"),
    (f"{REPAINT}error: file '/boot/grub2/i386-pc/normal.mod' not found.", "/boot/grub2/i386-pc/normal.mod",
     "critical"),
    ("error: file `/initrd.img-5.15.0-1052-azure' not found.", "/initrd.img-5.15.0-1052-azure", "error"),
    ("error: ../../grub-core/fs/fshelp.c:257:file `/boot/initramfs-5.14.0-362.el9.x86_64.img' not found.",
     "/boot/initramfs-5.14.0-362.el9.x86_64.img", "error"),
    ("error: ../../grub-core/fs/fshelp.c:257:file `/vmlinuz-6.5.0-1025-azure' not found.",
     "/vmlinuz-6.5.0-1025-azure", "critical"),
])
def test_a_missing_file_names_it_and_a_missing_initramfs_is_only_an_error(line: str, path: str, severity: str) -> None:
    finding = only(line, "boot:bootloader:file_not_found")
    assert finding.severity == severity and path in finding.summary


def test_grub_legacy_error_15_is_critical() -> None:
    finding = only("Error 15: File not found", "boot:bootloader:file_not_found")
    assert finding.severity == "critical" and "15" in finding.summary and "File not found" in finding.summary


@pytest.mark.parametrize(("line", "named"), [
    (f"{REPAINT}error: no such device: 0c3c1b5f-7a8e-4d52-b1f3-6e2a9c4d7b10.", "0c3c1b5f-7a8e-4d52-b1f3-6e2a9c4d7b10"),
    ("error: unknown filesystem.", "unknown filesystem"),
    ("error: no such partition.", "no such partition"),
    ("error: you need to load the kernel first.", "you need to load the kernel first"),
    ("error: symbol `grub_calloc' not found.", "grub_calloc"),
    ("error: symbol 'grub_efi_get_secure_boot' not found.", "grub_efi_get_secure_boot"),
    ("error: ../../grub-core/loader/i386/efi/linux.c:215:invalid magic number.", "invalid magic number"),
    ("error: attempt to read or write outside of disk `hd0'.", "outside of disk"),
])
def test_grub_errors_are_errors_naming_what_grub_said(line: str, named: str) -> None:
    finding = only(line, "boot:bootloader:error")
    assert finding.severity == "error" and named in finding.summary and "grub-core/" not in finding.summary


def test_a_grub_error_starts_a_new_boot_after_a_booted_system() -> None:
    log = ("[    0.000000] Linux version 6.1.0-27-cloud-amd64 (debian-kernel@lists.debian.org)\r\n"
           "vm-01 login: \r\n"
           "error: file `/boot/vmlinuz-6.1.0-28-cloud-amd64' not found.\r\n")
    report = parse_boot_log(log.encode())
    assert report.boots == 2 and report.stage == "bootloader"
    assert [f.kind for f in report.findings] == ["boot:bootloader:file_not_found"]


def test_an_error_line_of_a_later_stage_is_not_a_grub_error() -> None:
    log = ("[    0.000000] Linux version 6.1.0-27-cloud-amd64 (debian-kernel@lists.debian.org)\r\n"
           "error: could not read the configuration\r\n")
    assert parse_boot_log(log.encode()).findings_of("boot:bootloader") == ()


def test_secure_boot_refusals_printed_by_grub_are_firmware_findings() -> None:
    for line in ("error: ../../grub-core/kern/efi/sb.c:190:bad shim signature.",
                 "error: /vmlinuz-6.5.0-1017-azure has invalid signature."):
        assert [f.kind for f in findings(line)] == ["boot:firmware:secure_boot_violation"]


@pytest.mark.parametrize(("line", "kind"), [
    (f"{REPAINT}{ESC}[H{ESC}[J                             GNU GRUB  version 2.06", "boot:bootloader:grub"),
    ("Welcome to GRUB!", "boot:bootloader:grub"),
    ("  Booting `Ubuntu'", "boot:bootloader:boot_entry"),
    ("  Booting a command list", "boot:bootloader:boot_entry"),
    ("Loading Linux 5.15.0-1052-azure ...", "boot:bootloader:loading"),
    ("Loading initial ramdisk ...", "boot:bootloader:loading"),
])
def test_normal_grub_lines_are_events_that_start_a_boot(line: str, kind: str) -> None:
    report = parse_boot_log(line.encode() + b"\r\n")
    assert [(e.kind, e.stage, e.severity) for e in report.events] == [(kind, "bootloader", None)]
    assert report.findings == ()
