"""The filesystem family: fsck results (initramfs, systemd-fsck), ext4/jbd2 and XFS errors, corruption;
systemd's fsck status lines with colour, with colour codes whose ESC byte was lost, and ellipsized."""

from __future__ import annotations

import pytest
from bootlog_data import ESC

from kit.analyze.bootlog import Finding, parse_boot_log

FAMILY = "boot:filesystem:"


def fs_findings(line: str) -> list[Finding]:
    report = parse_boot_log(line.encode() + b"\r\n")
    return [f for f in report.findings if f.kind.startswith(FAMILY)]


def forms(message: str, program: str = "kernel") -> list[str]:
    stamped = f"[    4.401221] {message}"
    return [message, stamped, f"Nov 25 09:14:02 vm-01 {program}: {stamped if program == 'kernel' else message}",
            f"2026-11-25T09:14:02.123456+00:00 vm-01 {program}: {message}"]


CASES = [
    # (message, program, kind, severity, words the summary must name)
    ("/dev/sda1: UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY.", "systemd-fsck[412]", "fsck_failed", "critical",
     ("/dev/sda1", "UNEXPECTED INCONSISTENCY")),
    ("The root filesystem on /dev/sda1 requires a manual fsck", "kernel", "fsck_failed", "critical", ("/dev/sda1",)),
    ("fsck exited with status code 4", "kernel", "fsck_failed", "error", ("4", "uncorrected")),
    ("fsck failed with exit status 8.", "systemd-fsck[412]", "fsck_failed", "error", ("8",)),
    ("fsck.ext4: Bad magic number in super-block while trying to open /dev/sdc1", "systemd-fsck[412]", "fsck_failed",
     "error", ("/dev/sdc1",)),
    ("fsck exited with status code 1", "kernel", "fsck_errors", "warning", ("corrected",)),
    ("/dev/sda1 contains a file system with errors, check forced.", "systemd-fsck[412]", "fsck_errors", "warning",
     ("/dev/sda1",)),
    ("/dev/sdb1 was not cleanly unmounted, check forced.", "systemd-fsck[412]", "fsck_errors", "warning",
     ("/dev/sdb1",)),
    ("XFS (sdc1): Metadata corruption detected at xfs_agf_verify+0x6a/0x110 [xfs], xfs_agf block 0x1", "kernel",
     "xfs_error", "error", ("sdc1", "Metadata corruption")),
    ("XFS (sdc1): Unmount and run xfs_repair", "kernel", "xfs_error", "error", ("sdc1",)),
    ('XFS (sdc1): metadata I/O error in "xfs_read_agf+0x8e/0x120 [xfs]" at daddr 0x1 len 1 error 117', "kernel",
     "xfs_error", "error", ("sdc1",)),
    ("XFS (sdc1): log mount failed", "kernel", "xfs_error", "error", ("sdc1", "log mount failed")),
    ("EXT4-fs error (device sda1): ext4_find_extent:915: inode #1839291: comm fsck: pblk 0 bad header/extent",
     "kernel", "ext4_error", "error", ("sda1", "ext4_find_extent")),
    ("EXT4-fs error (device sda1) in ext4_reserve_inode_write:5786: Journal has aborted", "kernel", "ext4_error",
     "error", ("sda1", "Journal has aborted")),
    ("EXT4-fs (sdc1): bad geometry: block count 26214400 exceeds size of device (2621440 blocks)", "kernel",
     "ext4_error", "error", ("sdc1", "bad geometry")),
    ("EXT4-fs (sdc1): VFS: Can't find ext4 filesystem", "kernel", "ext4_error", "error", ("sdc1",)),
    ("Aborting journal on device sda1-8.", "kernel", "ext4_error", "error", ("sda1",)),
    ("JBD2: Error -5 detected when updating journal superblock for sda1-8.", "kernel", "ext4_error", "error",
     ("sda1",)),
    ("EXT4-fs (sda1): warning: mounting fs with errors, running e2fsck is recommended", "kernel", "ext4_warning",
     "warning", ("sda1", "e2fsck")),
    ("EXT4-fs (sda1): error count since last fsck: 12", "kernel", "ext4_warning", "warning", ("sda1", "12")),
    ("mount: /data: mount(2) system call failed: Structure needs cleaning.", "mount[612]", "corrupt", "error",
     ("/data",)),
]


@pytest.mark.parametrize(("message", "program", "kind", "severity", "names"), CASES, ids=[c[0][:48] for c in CASES])
@pytest.mark.parametrize("form", range(4), ids=["bare", "stamped", "journal", "iso-journal"])
def test_each_form_gives_its_kind_and_names_the_file_system(message: str, program: str, kind: str, severity: str,
                                                            names: tuple[str, ...], form: int) -> None:
    found = fs_findings(forms(message, program)[form])
    assert [(f.kind, f.severity) for f in found] == [(FAMILY + kind, severity)]
    assert all(name in found[0].summary for name in names), found[0].summary


FSCK_UNIT = [
    # with colour
    f"[{ESC}[0;1;31mFAILED{ESC}[0m] Failed to start {ESC}[0;1;39msystemd-fsck@dev-sdc1.service{ESC}[0m - File "
    "System Check on /dev/sdc1.",
    # colour codes whose ESC byte was lost
    "[[0;1;31mFAILED[0m] Failed to start [0;1;39msystemd-fsck@dev-sdc1.service[0m - File System Check on /dev/sdc1.",
    # no colour, older systemd (description only)
    "[FAILED] Failed to start File System Check on /dev/sdc1.",
    # the unit name ellipsized to the console width
    "[FAILED] Failed to start systemd-fsck…ice - File System Check on /dev/sdc1.",
    # the journal
    "Nov 25 09:14:02 vm-01 systemd[1]: Failed to start systemd-fsck@dev-sdc1.service - File System Check on /dev/sdc1.",
    "2026-11-25T09:14:02.123456+00:00 vm-01 systemd[1]: Failed to start File System Check on /dev/sdc1.",
]


@pytest.mark.parametrize("line", FSCK_UNIT)
def test_a_failed_fsck_unit_in_every_console_form_names_its_device(line: str) -> None:
    found = fs_findings(line)
    assert [(f.kind, f.severity) for f in found] == [("boot:filesystem:fsck_failed", "error")]
    assert "/dev/sdc1" in found[0].summary
    assert "[0;1;" not in found[0].text and "\x1b" not in found[0].text


def test_an_ellipsis_that_cut_a_colour_code_leaves_no_code_in_the_finding() -> None:
    line = (f"[{ESC}[0;1;31mFAILED{ESC}[0m] Failed to start {ESC}[0;1;39mFile System Check on "
            f"/dev/disk/by-uuid/3f1e2c77-8a1b-4d5e{ESC}[0;1…")
    (found,) = fs_findings(line)
    assert found.kind == "boot:filesystem:fsck_failed"
    assert "[0;1" not in found.text and "[0;1" not in found.summary
    assert "/dev/disk/by-uuid/3f1e2c77-8a1b-4d5e" in found.summary


def test_the_root_device_check_is_named() -> None:
    (found,) = fs_findings("[FAILED] Failed to start systemd-fsck-root.service - File System Check on Root Device.")
    assert "root device" in found.summary


def test_a_repair_by_fsck_is_context_only() -> None:
    (found,) = fs_findings("/dev/sda1: ***** FILE SYSTEM WAS MODIFIED *****")
    assert (found.kind, found.severity, found.detect_only) == ("boot:filesystem:fsck_errors", "warning", True)


def test_a_read_only_remount_is_left_to_the_storage_family() -> None:
    assert fs_findings("[ 9120.118220] EXT4-fs (sda1): Remounting filesystem read-only") == []


@pytest.mark.parametrize("line", [
    f"[{ESC}[0;32m  OK  {ESC}[0m] Finished {ESC}[0;1;39msystemd-fsck@dev-sdc1.service{ESC}[0m - File System Check "
    "on /dev/sdc1.",
    "[  OK  ] Started File System Check on /dev/disk/by-uuid/3f1e2c77-8a1b-4d5e-9f00-1234567890ab.",
    "         Starting systemd-fsck-root.service - File System Check on Root Device...",
    "[    4.401221] systemd-fsck[412]: /dev/sda1: clean, 81234/2621440 files, 1234567/10485504 blocks",
    "Begin: Will now check root file system ... fsck from util-linux 2.37.2",
    "[/usr/sbin/fsck.ext4 (1) -- /dev/sda1] fsck.ext4 -a -C0 /dev/sda1 ",
    "/dev/sda1: recovering journal",
    "[    0.953322] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null). Quota mode: none.",
    "[    1.500000] EXT4-fs (sda1): re-mounted. Opts: discard,errors=remount-ro. Quota mode: none.",
    "[    6.101000] XFS (sdc1): Mounting V5 Filesystem",
    "[    6.201000] XFS (sdc1): Ending clean mount",
    "[    6.201000] SGI XFS with ACLs, security attributes, scrub, quota, no debug enabled",
    "[   12.000000] systemd[1]: Started e2scrub_all.timer - Periodic ext4 Online Metadata Check for All Filesystems.",
])
def test_healthy_lines_give_nothing(line: str) -> None:
    assert fs_findings(line) == []
