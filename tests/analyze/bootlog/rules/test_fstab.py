"""The fstab family: a device that never appeared, a mount that failed, what depended on it, in the
forms systemd, mount, fsck and mountall print (colour with and without ESC, none, journal lines)."""

from __future__ import annotations

import pytest
from bootlog_data import DEPEND, ESC, FAILED, OK, TIME, findings, only

from kit.analyze.bootlog import parse_boot_log

TIME_NO_ESC = "[[0;1;31m TIME [0m]"


@pytest.mark.parametrize(("line", "named"), [
    (f"{TIME} Timed out waiting for device {ESC}[0;1;39mdev-disk-by\\x2duuid-6f0c1a7e\\x2d3b4d.device{ESC}[0m.",
     "dev-disk-by-uuid-6f0c1a7e-3b4d.device"),
    (f"{TIME_NO_ESC} Timed out waiting for device [0;1;39mdev-sdc1.device[0m - /dev/sdc1.", "/dev/sdc1"),
    ("[ TIME ] Timed out waiting for device /dev/disk/by-uuid/6f0c1a7e-3b4d.", "/dev/disk/by-uuid/6f0c1a7e-3b4d"),
    ("[   92.011234] systemd[1]: Timed out waiting for device dev-incorrect.device.", "dev-incorrect.device"),
    ("Nov 25 09:15:32 vm-01 systemd[1]: Job dev-disk-by\\x2duuid-6f0c1a7e.device/start timed out.",
     "dev-disk-by-uuid-6f0c1a7e.device"),
])
def test_a_device_time_out_is_an_error_naming_the_device(line: str, named: str) -> None:
    finding = only(line, "boot:fstab:device_timeout")
    assert finding.severity == "error" and named in finding.summary and "/etc/fstab" in finding.summary


@pytest.mark.parametrize(("line", "named"), [
    (f"{DEPEND} Dependency failed for {ESC}[0;1;39m/data{ESC}[0m.", "/data"),
    ("[[0;1;33mDEPEND[0m] Dependency failed for [0;1;39mLocal File Systems[0m.", "Local File Systems"),
    ("[DEPEND] Dependency failed for datadrive.mount - /datadrive.", "/datadrive"),
    ("[DEPEND] Dependency failed for File System Check on /dev/disk/by-uuid/6f0c1a7e.",
     "File System Check on /dev/disk/by-uuid/6f0c1a7e"),
    ("[DEPEND] Dependency failed for Swap.", "Swap"),
])
def test_a_mount_that_lost_its_device_is_an_error_naming_it(line: str, named: str) -> None:
    finding = only(line, "boot:fstab:dependency_failed")
    assert finding.severity == "error" and named in finding.summary


@pytest.mark.parametrize(("line", "named"), [
    (f"{FAILED} Failed to mount {ESC}[0;1;39m/boot/efi{ESC}[0m.", "/boot/efi"),
    ("[[0;1;31mFAILED[0m] Failed to mount [0;1;39mdatadrive.mount[0m - /datadrive.", "/datadrive"),
    ("[   10.400000] systemd[1]: Failed to mount /data.", "/data"),
    ("An error occurred while mounting /datadrive.", "/datadrive"),
    ("mount: /data: wrong fs type, bad option, bad superblock on /dev/sdc1, missing codepage or helper program, or "
     "other error.", "/data"),
    ("mount: special device /dev/sdc1 does not exist", "/dev/sdc1"),
    ("mount: wrong fs type, bad option, bad superblock on /dev/sdc1,", "/dev/sdc1"),
])
def test_a_failed_mount_is_an_error_naming_the_mount_point_or_device(line: str, named: str) -> None:
    finding = only(line, "boot:fstab:mount_failed")
    assert finding.severity == "error" and named in finding.summary


def test_the_initramfs_mounting_root_is_not_an_fstab_mount() -> None:
    kinds = [f.kind for f in findings("Failed to mount /dev/sda1 as root file system.")]
    assert kinds == ["boot:initramfs:root_mount_failed"]


@pytest.mark.parametrize(("line", "kind", "named", "severity"), [
    ("[    6.412201] EXT4-fs (sdc1): Unrecognized mount option \"nofial\" or missing value",
     "boot:fstab:bad_option", "nofial", "error"),
    ("fsck.ext4: No such file or directory while trying to open /dev/sdc1", "boot:fstab:device_missing",
     "/dev/sdc1", "error"),
    ("/dev/sdc1: nonexistent device (\"nofail\" fstab option may be used to skip this device)",
     "boot:fstab:device_missing", "/dev/sdc1", "error"),
    ("The disk drive for /var/lib/mysql is not ready yet or not present.", "boot:fstab:device_not_ready",
     "/var/lib/mysql", "critical"),
])
def test_other_fstab_forms(line: str, kind: str, named: str, severity: str) -> None:
    finding = only(line, kind)
    assert finding.severity == severity and named in finding.summary


def test_waiting_for_a_device_is_an_fstab_event() -> None:
    for line in ("[ ***  ] A start job is running for /dev/disk/by-uuid/6f0c1a7e (1min 17s / 1min 30s)",
                 "[ ***  ] (2 of 2) Job dev-mapper-var.device/start running (1min 17s / 1min 30s)"):
        report = parse_boot_log(line.encode() + b"\r\n")
        assert any(e.kind == "boot:fstab:waiting_for_device" and e.severity is None for e in report.events)
        assert not report.findings_of("boot:fstab")


@pytest.mark.parametrize("line", [
    f"{OK} Mounted {ESC}[0;1;39m/boot/efi{ESC}[0m.",
    f"{OK} Reached target {ESC}[0;1;39mLocal File Systems{ESC}[0m.",
    "[  OK  ] Found device Virtual_Disk UEFI.",
    "         Mounting /data...",
    f"{OK} Finished {ESC}[0;1;39mFile System Check on /dev/disk/by-label/UEFI{ESC}[0m.",
    "[    0.953322] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null). Quota mode: none.",
    "[ ***  ] A start job is running for Wait for Network to be Configured (11s / 2min)",
])
def test_healthy_lines_give_no_fstab_finding(line: str) -> None:
    assert not [f for f in findings(line) if f.kind.startswith("boot:fstab:")], line
