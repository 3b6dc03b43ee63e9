"""The systemd family: emergency/rescue mode, a locked root, PID 1 freezing, failed units, time-outs,
start jobs still running, targets and the login prompt, in the forms consoles and journals print
(colour with and without the ESC byte, none, ellipsized unit names, kernel stamps, journal lines)."""

from __future__ import annotations

import pytest
from bootlog_data import DEPEND, ESC, FAILED, OK, TIME, only

from kit.analyze.bootlog import Finding, parse_boot_log

FAILED_NO_ESC = "[[0;1;31mFAILED[0m]"
OK_NO_ESC = "[[0;32m  OK  [0m]"


def findings(line: str) -> list[Finding]:
    """The findings of the one line ``line`` (with its CRLF, as Azure stores the log)."""
    return list(parse_boot_log(line.encode() + b"\r\n").findings)


def clean(finding: Finding) -> None:
    assert "[0;" not in finding.summary and ESC not in finding.summary and "[0m" not in finding.summary


EMERGENCY = [
    "You are in emergency mode. After logging in, type \"journalctl -xb\" to view",
    "Welcome to emergency mode! After logging in, type \"journalctl -xb\" to view system logs, \"systemctl reboot\" "
    "to reboot, \"systemctl default\" to try again to boot into default mode.",
    f"{OK} Reached target {ESC}[0;1;39mEmergency Mode{ESC}[0m.",
    f"{OK_NO_ESC} Reached target [0;1;39memergency.target[0m - Emergency Mode.",
    "[  OK  ] Started Emergency Shell.",
    f"{OK} Started {ESC}[0;1;39memergency.service{ESC}[0m - Emergency Shell.",
    "Give root password for maintenance",
    "(or press Control-D to continue):",
    "[   93.402211] systemd[1]: Started Emergency Shell.",
    "Nov 25 09:14:02 vm-01 systemd[1]: Reached target Emergency Mode.",
    "2026-11-25T09:14:02.123456+00:00 vm-01 systemd[1]: Started emergency.service - Emergency Shell.",
]


@pytest.mark.parametrize("line", EMERGENCY)
def test_emergency_mode_is_critical_in_every_form(line: str) -> None:
    finding = only(line, "boot:systemd:emergency_mode")
    assert finding.severity == "critical" and "emergency mode" in finding.summary


def test_emergency_inside_the_initramfs_is_left_to_the_initramfs_rule() -> None:
    log = ("[    1.201400] systemd[1]: Running in initial RAM disk.\r\n"
           f"{OK} Reached target {ESC}[0;1;39mEmergency Mode{ESC}[0m.\r\n")
    report = parse_boot_log(log.encode())
    assert report.findings_of("boot:systemd:emergency_mode") == ()
    assert report.findings_of("boot:initramfs:emergency_shell")


@pytest.mark.parametrize("line", [
    "You are in rescue mode. After logging in, type \"journalctl -xb\" to view",
    f"{OK} Reached target {ESC}[0;1;39mRescue Mode{ESC}[0m.",
    "[  OK  ] Started rescue.service - Rescue Shell.",
])
def test_rescue_mode_is_critical(line: str) -> None:
    assert only(line, "boot:systemd:rescue_mode").severity == "critical"


@pytest.mark.parametrize("line", [
    "Cannot open access to console, the root account is locked.",
    "[   93.500000] sulogin[611]: Cannot open access to console, the root account is locked.",
    "Cannot open access to console, the root account is locked. See sulogin(8) man page for more details. "
    "Press Enter to continue.",
    "The root account is locked ... Press Enter to continue.",
])
def test_a_locked_root_in_emergency_mode_is_critical(line: str) -> None:
    finding = only(line, "boot:systemd:root_locked")
    assert finding.severity == "critical" and "root account is locked" in finding.summary


@pytest.mark.parametrize("line", [
    "[    1.734512] systemd[1]: Freezing execution.",
    "Freezing execution.",
    "Nov 25 09:14:02 vm-01 systemd[1]: Freezing execution.",
    "2026-11-25T09:14:02.123456+00:00 vm-01 systemd[1]: Freezing execution.",
])
def test_pid1_freezing_is_critical(line: str) -> None:
    finding = only(line, "boot:systemd:freezing")
    assert finding.severity == "critical" and "PID 1" in finding.summary


UNIT_FAILED = [
    (f"{FAILED} Failed to start {ESC}[0;1;39mnginx.service{ESC}[0m - A high performance web server.",
     "nginx.service - A high performance web server"),
    (f"{FAILED_NO_ESC} Failed to start [0;1;39mnginx.service[0m - A high performance web server.",
     "nginx.service - A high performance web server"),
    ("[FAILED] Failed to start Wait for Network to be Configured.", "Wait for Network to be Configured"),
    ("[   12.100000] systemd[1]: Failed to start Wait for Network to be Configured.",
     "Wait for Network to be Configured"),
    ("Nov 25 09:14:02 vm-01 systemd[1]: Failed to start nginx.service - A high performance web server.",
     "nginx.service"),
    # systemd cut the unit name to the console width
    (f"{FAILED} Failed to start {ESC}[0;1;39mchronyd.servic…{ESC}[0m - NTP client/server.", "chronyd.servic…"),
    (f"{FAILED_NO_ESC} Failed to start [0;1;39mchronyd.servic…[0m - NTP client/server.", "chronyd.servic…"),
    # ... and cut a colour code in half
    (f"{FAILED} Failed to start {ESC}[0;1;39mnginx.service{ESC}[0;1;…", "nginx.service"),
    (f"{FAILED_NO_ESC} Failed to start [0;1;39mnginx.service[0;1;", "nginx.service"),
    (f"{FAILED_NO_ESC} Failed to start [0;1;39mnginx.service[0;1…", "nginx.service"),
    (f"{FAILED} Failed to start {ESC}[0;1;…", "cut off"),
]


@pytest.mark.parametrize(("line", "named"), UNIT_FAILED)
def test_a_failed_unit_is_a_warning_naming_the_unit_without_colour_leftovers(line: str, named: str) -> None:
    finding = only(line, "boot:systemd:unit_failed")
    assert finding.severity == "warning" and named in finding.summary
    clean(finding)


def test_a_failed_result_line_names_unit_and_result() -> None:
    finding = only("Nov 25 09:14:02 vm-01 systemd[1]: nginx.service: Failed with result 'exit-code'.",
                   "boot:systemd:unit_failed")
    assert "nginx.service" in finding.summary and "exit-code" in finding.summary


@pytest.mark.parametrize("line", [
    f"{FAILED} Failed to start {ESC}[0;1;39mssh.service{ESC}[0m - OpenBSD Secure Shell server.",
    f"{FAILED} Failed to start {ESC}[0;1;39mssh.servic…{ESC}[0m - OpenBSD Secure Shell server.",
    f"{FAILED_NO_ESC} Failed to start [0;1;39mssh.servic…[0m - OpenBSD Secure Shell server.",
    f"{FAILED} Failed to start {ESC}[0;1;39mssh.service{ESC}[0;1;…",
])
def test_a_failed_ssh_unit_leaves_the_finding_to_the_sshd_rule(line: str) -> None:
    """systemd's unit_failed is generic: when another family reads the same line it is only an event."""
    report = parse_boot_log(line.encode() + b"\r\n")
    assert any(e.kind == "boot:systemd:unit_failed" for e in report.events)
    kinds = [f.kind for f in report.findings]
    if any(kind.startswith("boot:sshd:") for kind in kinds):
        assert "boot:systemd:unit_failed" not in kinds
    for finding in report.findings:
        clean(finding)


@pytest.mark.parametrize(("line", "named"), [
    (f"{DEPEND} Dependency failed for {ESC}[0;1;39mcloud-init.service{ESC}[0m - Initial cloud-init job.",
     "cloud-init.service"),
    ("[DEPEND] Dependency failed for Relabel all filesystems, if necessary.", "Relabel all filesystems"),
    ("[[0;1;33mDEPEND[0m] Dependency failed for [0;1;39mMark the need to relabel after reboot[0m.",
     "Mark the need to relabel after reboot"),
])
def test_a_dependency_failure_of_a_non_mount_unit_is_a_warning(line: str, named: str) -> None:
    finding = only(line, "boot:systemd:dependency_failed")
    assert finding.severity == "warning" and named in finding.summary
    clean(finding)


def test_a_dependency_failure_of_a_mount_is_left_to_fstab() -> None:
    kinds = [f.kind for f in findings(f"{DEPEND} Dependency failed for {ESC}[0;1;39m/data{ESC}[0m.")]
    assert kinds == ["boot:fstab:dependency_failed"]


@pytest.mark.parametrize(("line", "named"), [
    (f"{TIME} Timed out starting {ESC}[0;1;39mWait for Network to be Configured{ESC}[0m.",
     "Wait for Network to be Configured"),
    ("[[0;1;31m TIME [0m] Timed out stopping [0;1;39mcloud-final.service[0m - Execute cloud user/final scripts.",
     "cloud-final.service"),
    ("[   95.120331] systemd[1]: cloud-init.service: Start operation timed out. Terminating.", "cloud-init.service"),
    ("Nov 25 09:15:32 vm-01 systemd[1]: Job nginx.service/start timed out.", "nginx.service"),
])
def test_a_unit_time_out_is_an_error_naming_the_unit(line: str, named: str) -> None:
    finding = only(line, "boot:systemd:timeout")
    assert finding.severity == "error" and named in finding.summary
    clean(finding)


@pytest.mark.parametrize("line", [
    f"{TIME} Timed out waiting for device {ESC}[0;1;39mdev-disk-by\\x2duuid-6f0c1a7e\\x2d3b4d.device{ESC}[0m.",
    "[ TIME ] Timed out waiting for device /dev/disk/by-uuid/6f0c1a7e-3b4d.",
    "Nov 25 09:15:32 vm-01 systemd[1]: Job dev-disk-by\\x2duuid-6f0c1a7e.device/start timed out.",
])
def test_a_device_that_never_came_is_fstab_device_timeout_not_systemd_timeout(line: str) -> None:
    found = findings(line)
    assert [f.kind for f in found] == ["boot:fstab:device_timeout"]
    assert "6f0c1a7e-3b4d" in found[0].summary or "6f0c1a7e" in found[0].summary


JOBS = [
    ("[ ***  ] A start job is running for /dev/disk/by-uuid/6f0c1a7e-3b4d (1min 17s / 1min 30s)",
     "/dev/disk/by-uuid/6f0c1a7e-3b4d", "1min 17s"),
    (f"[{ESC}[0;1;31m*     {ESC}[0m] A start job is running for /dev/disk/by-uuid/6f0c1a7e (1min 28s / 1min 30s)",
     "/dev/disk/by-uuid/6f0c1a7e", "1min 28s"),
    ("[[0;31m*[0;1;31m*[0m[0;31m*  [0m] (2 of 3) A start job is running for Wait for Network to be Configured "
     "(41s / 2min)", "Wait for Network to be Configured", "41s"),
    ("[ ***  ] (2 of 2) Job dev-mapper-var.device/start running (1min 17s / 1min 30s)", "dev-mapper-var.device",
     "1min 17s"),
    ("[*     ] Job systemd-networkd-wait-online.service/start running (1min 2s / 2min)",
     "systemd-networkd-wait-online.service", "1min 2s"),
    ("[   **] A stop job is running for Session 3 of user azureuser (12s / no limit)", "Session 3 of user azureuser",
     "no time limit"),
]


@pytest.mark.parametrize(("line", "named", "elapsed"), JOBS)
def test_a_start_job_still_running_is_a_warning_naming_unit_and_time(line: str, named: str, elapsed: str) -> None:
    finding = only(line, "boot:systemd:job_running")
    assert finding.severity == "warning" and named in finding.summary and elapsed in finding.summary
    clean(finding)


def test_start_job_redraws_on_one_line_are_one_finding() -> None:
    line = "\r".join(f"[ ***  ] A start job is running for /dev/sdc1 ({s}s / 1min 30s)" for s in range(10, 20))
    assert len([f for f in findings(line) if f.kind == "boot:systemd:job_running"]) == 1


def test_waiting_for_an_encrypted_volume_is_left_to_the_volume_rule() -> None:
    found = findings("[ ***  ] A start job is running for Cryptography Setup for osencrypt (1min 12s / no limit)")
    assert [f.kind for f in found] == ["boot:volume:crypt_waiting"]


@pytest.mark.parametrize("line", [
    "vm-web-01 login: ",
    "rhel9-db.internal.cloudapp.net login:",
])
def test_the_login_prompt_is_info_and_names_the_host(line: str) -> None:
    finding = only(line, "boot:systemd:login_prompt")
    assert finding.severity == "info" and line.split()[0] in finding.summary


@pytest.mark.parametrize("line", [
    f"{OK} Reached target {ESC}[0;1;39mMulti-User System{ESC}[0m.",
    f"{OK_NO_ESC} Reached target [0;1;39mmulti-user.target[0m - Multi-User System.",
    "[  OK  ] Reached target Graphical Interface.",
])
def test_reaching_multi_user_is_info(line: str) -> None:
    assert only(line, "boot:systemd:multi_user").severity == "info"


def test_switch_root_and_targets_are_events_with_their_stage() -> None:
    report = parse_boot_log(b"[    3.512331] systemd[1]: Switching root.\r\n"
                            + f"{OK} Reached target {ESC}[0;1;39mLocal File Systems{ESC}[0m.\r\n".encode())
    assert [(e.kind, e.stage, e.severity) for e in report.events] == [
        ("boot:systemd:switch_root", "systemd", None), ("boot:systemd:target", "systemd", None)]


HEALTHY = [
    f"{OK} Started {ESC}[0;1;39mssh.service{ESC}[0m - OpenBSD Secure Shell server.",
    "[  OK  ] Started OpenBSD Secure Shell server.",
    f"{OK} Finished {ESC}[0;1;39mRemount Root and Kernel File Systems{ESC}[0m.",
    f"{OK} Reached target {ESC}[0;1;39mLocal Encrypted Volumes{ESC}[0m.",
    "[  OK  ] Started Serial Getty on ttyS0.",
    "Welcome to Ubuntu 22.04.3 LTS!",
    f"Welcome to {ESC}[1mUbuntu 22.04.3 LTS{ESC}[0m!",
    "[    1.211000] systemd[1]: Detected virtualization microsoft.",
    "Ubuntu 22.04.3 LTS vm-web-01 ttyS0",
    "Last login: Tue Nov 25 09:12:01 2026 from 203.0.113.7",
    "[  OK  ] Stopped target Emergency Mode.",
    "         Starting Wait for Network to be Configured...",
    "[  OK  ] Started Mark the need to relabel after reboot.",
    "Nov 25 09:14:02 vm-01 systemd[1]: nginx.service: Succeeded.",
    "[  OK  ] Reached target Timers.",
]


@pytest.mark.parametrize("line", HEALTHY)
def test_healthy_lines_give_no_warning_or_worse(line: str) -> None:
    assert not [f for f in findings(line) if f.severity in ("critical", "error", "warning")], line
