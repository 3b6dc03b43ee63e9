"""The initramfs family: root device missing, dracut time-outs, emergency shells and the switch to the
real root failing, in the forms dracut, initramfs-tools, BusyBox and systemd in the initrd print."""

from __future__ import annotations

import pytest
from bootlog_data import ESC, FAILED, OK, findings, only

from kit.analyze.bootlog import parse_boot_log

IN_INITRD = "[    1.201400] systemd[1]: Running in initial RAM disk.\r\n"


@pytest.mark.parametrize(("line", "named"), [
    ("Warning: /dev/mapper/rootvg-rootlv does not exist", "/dev/mapper/rootvg-rootlv"),
    ("[  188.000765] dracut-initqueue[324]: Warning: /dev/VG/SwapVol does not exist", "/dev/VG/SwapVol"),
    ("Warning: /dev/disk/by-uuid/2b0f1d4c-8e7a does not exist", "/dev/disk/by-uuid/2b0f1d4c-8e7a"),
    ("ALERT!  UUID=2b0f1d4c-8e7a-4f3b-a1c9-0d5e6f7a8b9c does not exist.  Dropping to a shell!",
     "UUID=2b0f1d4c-8e7a-4f3b-a1c9-0d5e6f7a8b9c"),
    ("ALERT!  /dev/mapper/osencrypt does not exist.  Dropping to a shell!", "/dev/mapper/osencrypt"),
    ("Gave up waiting for root file system device.  Common problems:", "root device"),
    ("[  201.941153] dracut-initqueue[455]: Warning: Could not boot.", "root file system"),
])
def test_a_missing_root_device_is_critical_and_names_it(line: str, named: str) -> None:
    finding = only(line, "boot:initramfs:root_missing")
    assert finding.severity == "critical" and named in finding.summary


def test_dracut_initqueue_timeout_is_an_error() -> None:
    line = "[  201.935612] dracut-initqueue[455]: Warning: dracut-initqueue timeout - starting timeout scripts"
    assert only(line, "boot:initramfs:timeout").severity == "error"


@pytest.mark.parametrize(("line", "named"), [
    ("Failed to mount /dev/sda1 as root file system.", "/dev/sda1"),
    ("mount: mounting /dev/sda1 on /root failed: Invalid argument", "/dev/sda1"),
])
def test_a_root_that_would_not_mount_is_critical(line: str, named: str) -> None:
    finding = only(line, "boot:initramfs:root_mount_failed")
    assert finding.severity == "critical" and named in finding.summary


SWITCH_ROOT = [
    ("switch_root: failed to mount moving /dev to /sysroot/dev: Invalid argument", "/sysroot/dev"),
    ("[    4.102311] systemd[1]: Failed to switch root: Specified switch root path '/sysroot' does not seem to be an "
     "OS tree. os-release file is missing.", "os-release file is missing"),
    ("Failed to switch root", "real root file system"),
    (f"{FAILED} Failed to start {ESC}[0;1;39mSwitch Root{ESC}[0m.", "Switch Root"),
    ("[[0;1;31mFAILED[0m] Failed to start [0;1;39minitrd-switch-root.service[0m - Switch Root.", "Switch Root"),
    ("[FAILED] Failed to start Switch Root.", "Switch Root"),
    ("run-init: can't execute '/sbin/init': No such file or directory", "/sbin/init"),
    ("can't execute '/sbin/init': No such file or directory", "/sbin/init"),
    ("Target filesystem doesn't have requested /sbin/init.", "/sbin/init"),
    ("No init found. Try passing init= bootarg.", "/sbin/init"),
]


@pytest.mark.parametrize(("line", "named"), SWITCH_ROOT)
def test_switch_root_failing_is_critical_and_the_only_finding(line: str, named: str) -> None:
    finding = only(line, "boot:initramfs:switch_root_failed")
    assert finding.severity == "critical" and named in finding.summary
    assert [f.kind for f in findings(line)] == ["boot:initramfs:switch_root_failed"]  # unit_failed is generic


@pytest.mark.parametrize("line", [
    "         Starting Dracut Emergency Shell...",
    "Entering emergency mode. Exit the shell to continue.",
    "Generating \"/run/initramfs/rdsosreport.txt\"",
    "dracut:/# ",
    "You are now being dropped into an emergency shell.",
    "BusyBox v1.30.1 (Ubuntu 1:1.30.1-7ubuntu3) built-in shell (ash)",
    "(initramfs) ",
])
def test_the_initramfs_shell_is_critical(line: str) -> None:
    assert only(line, "boot:initramfs:emergency_shell").severity == "critical"


def test_emergency_mode_of_systemd_in_the_initrd_is_the_initramfs_shell() -> None:
    finding = only(f"{OK} Reached target {ESC}[0;1;39mEmergency Mode{ESC}[0m.", "boot:initramfs:emergency_shell",
                   before=IN_INITRD)
    assert "dracut" in finding.summary


def test_a_missing_resume_device_is_only_a_warning() -> None:
    assert only("Gave up waiting for suspend/resume device", "boot:initramfs:resume_missing").severity == "warning"


def test_systemd_in_the_initrd_is_an_initramfs_event_not_the_os_starting() -> None:
    line = (f"Welcome to {ESC}[0;31mRed Hat Enterprise Linux 8.8 (Ootpa) dracut-049-223.git20230119.el8 "
            f"(Initramfs){ESC}[0m!")
    report = parse_boot_log(line.encode() + b"\r\n")
    assert [(e.kind, e.stage) for e in report.events] == [("boot:initramfs:systemd", "initramfs")]
    assert "Red Hat Enterprise Linux 8.8" in report.events[0].text


@pytest.mark.parametrize("line", [
    "Loading, please wait...",
    "Begin: Loading essential drivers ... done.",
    "Begin: Mounting root file system ... Begin: Running /scripts/local-top ... done.",
    "[    1.201400] systemd[1]: Running in initial RAM disk.",
    "[    3.512331] systemd[1]: Switching root.",
    f"{OK} Started {ESC}[0;1;39mSwitch Root{ESC}[0m.",
    f"{OK} Reached target {ESC}[0;1;39mSwitch Root{ESC}[0m.",
    "mdadm: No arrays found in config file or automatically",
    "[    0.402212] Freeing initrd memory: 66364K",
])
def test_healthy_lines_give_no_warning_or_worse(line: str) -> None:
    assert not [f for f in findings(line) if f.severity in ("critical", "error", "warning")], line
