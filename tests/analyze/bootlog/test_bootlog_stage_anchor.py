"""Boot stages, several boots in one log, and how uptime stamps become wall times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bootlog_data import read

from kit.analyze.bootlog import STAGES, parse_boot_log, stage_reached

UTC = UTC


@pytest.mark.parametrize(("reached", "wanted", "expected"), [
    ("login", "systemd", True), ("systemd", "multi-user", False), ("initramfs", "kernel", True),
    ("kernel", "initramfs", False), ("windows-login", "sac", True), ("sac", "windows-login", False),
    ("login", "sac", False), ("sac", "kernel", False), ("login", "none", True), ("none", "firmware", False),
    ("boot-manager", "firmware", True), ("nonsense", "none", False),
])
def test_stage_reached_orders_each_os_track(reached: str, wanted: str, expected: bool) -> None:
    assert stage_reached(reached, wanted) is expected


def test_stages_are_named_in_order() -> None:
    assert STAGES[:8] == ("none", "firmware", "bootloader", "kernel", "initramfs", "systemd", "multi-user", "login")
    assert STAGES[8:] == ("boot-manager", "windows-kernel", "sac", "windows-login")


def test_stage_and_findings_describe_the_last_of_two_boots() -> None:
    report = parse_boot_log(read("ubuntu-kernel-panic-two-boots.log"))
    assert report.boots == 2 and report.stage == "kernel"
    assert {f.boot for f in report.findings} == {1}
    assert not report.findings_of("boot:systemd:login_prompt")  # the first boot's prompt is not the last boot's
    first = [e for e in report.events if e.boot == 0]
    assert any(e.kind == "boot:systemd:login_prompt" for e in first)
    loading = next(e for e in report.events if e.kind == "boot:bootloader:loading")
    assert loading.boot == 1  # GRUB's lines start the second boot


def test_log_that_ends_in_emergency_mode_never_reached_multi_user() -> None:
    report = parse_boot_log(read("ubuntu-fstab-emergency.log"))
    assert report.stage == "systemd" and not report.reached("multi-user")
    assert report.reached("initramfs")


def test_empty_log() -> None:
    report = parse_boot_log(b"")
    assert (report.boots, report.stage, report.os, report.platform, report.lines) == \
        (0, "none", "unknown", "unknown", 0)
    assert report.events == report.findings == report.warnings == ()


def test_cloud_init_up_seconds_line_anchors_uptime() -> None:
    report = parse_boot_log(read("ubuntu-healthy.log"))
    anchor = report.anchor
    assert anchor is not None and anchor.source == "cloud-init"
    assert anchor.time == datetime(2026, 11, 25, 9, 13, 50, tzinfo=UTC) and anchor.uptime == pytest.approx(5.2)
    kernel = next(e for e in report.events if e.kind == "boot:kernel:start")
    assert kernel.time_desc == "estimated from uptime"
    assert kernel.time == datetime(2026, 11, 25, 9, 13, 44, 800000, tzinfo=UTC)
    agent = next(e for e in report.events if e.text.startswith("2026-11-25T09:13:58.631221Z"))
    assert agent.time_desc == "event" and agent.time == datetime(2026, 11, 25, 9, 13, 58, 631221, tzinfo=UTC)


def test_unanchored_events_keep_uptime_only() -> None:
    report = parse_boot_log(read("ubuntu-fstab-emergency.log"))
    assert report.anchor is None
    kernel = next(e for e in report.events if e.kind == "boot:kernel:start")
    assert (kernel.uptime, kernel.time, kernel.time_desc) == (0.0, None, None)


def test_given_vm_start_time_anchors_the_last_boot_only_when_the_log_has_no_date() -> None:
    start = datetime(2026, 11, 25, 9, 12, 0, tzinfo=UTC)
    report = parse_boot_log(read("ubuntu-fstab-emergency.log"), anchor=start)
    assert report.anchor is not None and (report.anchor.source, report.anchor.uptime) == ("given", 0.0)
    run_init = next(e for e in report.events if e.kind == "boot:kernel:run_init")
    assert run_init.time_desc == "estimated from uptime"
    assert run_init.time == start + timedelta(seconds=0.532001)
    timeout = next(e for e in report.events if e.kind == "boot:fstab:device_timeout")
    assert (timeout.uptime, timeout.time) == (None, None)  # a status line without a stamp gets no invented time
    in_log = parse_boot_log(read("ubuntu-healthy.log"), anchor=start)
    assert in_log.anchor is not None and in_log.anchor.source == "cloud-init"


def test_naive_given_anchor_is_taken_as_utc() -> None:
    report = parse_boot_log(b"[    0.000000] Linux version 5.15.0 (x)\n", anchor=datetime(2026, 1, 2, 3, 4, 5))
    assert report.events[0].time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_dated_syslog_line_with_uptime_anchors_and_earlier_boots_stay_unanchored() -> None:
    log = (b"[    0.000000] Linux version 5.15.0-1051-azure (x)\r\n"
           b"[    9.000000] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100\r\n"
           b"[    0.000000] Linux version 5.15.0-1051-azure (x)\r\n"
           b"2026-11-25T10:00:10.500000+01:00 vm kernel: [   10.500000] Oops: 0000 [#1] SMP PTI\r\n"
           b"[   12.000000] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [swapper/0:0]\r\n")
    report = parse_boot_log(log)
    assert report.boots == 2
    assert report.anchor is not None and report.anchor.source == "syslog" and report.anchor.line == 4
    lockup = next(e for e in report.events if e.kind == "boot:kernel:soft_lockup")
    assert lockup.time == datetime(2026, 11, 25, 9, 0, 12, tzinfo=UTC)
    first_panic = next(e for e in report.events if e.kind == "boot:kernel:panic")
    assert first_panic.boot == 0 and first_panic.time is None


def test_syslog_line_without_year_takes_the_year_of_a_dated_line() -> None:
    log = (b"[    5.0] cloud-init[1]: Cloud-init v. 23.4 running 'init' at Wed, 25 Nov 2026 09:13:50 +0000."
           b" Up 5.00 seconds.\n"
           b"Nov 25 09:20:01 vm sshd[900]: /etc/ssh/sshd_config line 3: Bad configuration option: Foo\n")
    report = parse_boot_log(log)
    bad = next(e for e in report.events if e.kind == "boot:sshd:bad_config")
    assert bad.time == datetime(2026, 11, 25, 9, 20, 1, tzinfo=UTC) and bad.time_desc == "event"


def test_unreadable_cloud_init_date_is_a_warning_with_its_line() -> None:
    log = (b"x\n[ 5.0] cloud-init[1]: Cloud-init v. 23.4 running 'init' at Someday, 99 Foo 2026 +0000."
           b" Up 5.00 seconds.\n")
    report = parse_boot_log(log)
    assert report.anchor is None
    assert [(w.kind, w.line) for w in report.warnings] == [("date", 2)]


def test_grub_failure_after_a_healthy_boot_is_a_new_boot_stuck_in_the_boot_loader() -> None:
    report = parse_boot_log(read("ubuntu-healthy.log") + b"\r\n" + read("grub-rescue.log"))
    assert report.boots == 2 and report.stage == "bootloader"
    assert {f.kind for f in report.findings} == {"boot:bootloader:error", "boot:bootloader:rescue_shell"}
    assert all(f.boot == 1 for f in report.findings)
    assert report.earlier_findings and all(f.severity == "info" for f in report.earlier_findings)


def test_windows_reboot_into_a_bcd_error_is_the_last_boot() -> None:
    report = parse_boot_log(read("windows-sac-healthy.log") + read("windows-bcd-missing.log"))
    assert report.boots == 2 and report.stage == "boot-manager" and report.os == "windows"
    assert report.findings_of("boot:windows:bcd_error")
