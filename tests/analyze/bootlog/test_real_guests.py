"""Serial logs of a real Debian 12 guest (systemd 252, OpenSSH 9.2, kernel 6.1; data/real/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.analyze.bootlog import BootReport, parse_boot_log

REAL = Path(__file__).parent / "data" / "real"
SERIOUS = {"critical", "error", "warning"}


def _read(name: str) -> BootReport:
    return parse_boot_log((REAL / name).read_bytes(), source=name)


def _no_colour_leftovers(report: BootReport) -> None:
    for finding in report.findings:
        for text in (finding.text, finding.summary):
            assert "[0;" not in text and "\x1b" not in text and "[0m" not in text, text


@pytest.mark.parametrize("name", ["debian12-healthy.log", "debian12-iptables-bad-target.log"])
def test_a_healthy_console_gives_no_warning_or_worse(name: str) -> None:
    report = _read(name)
    assert (report.os, report.stage, report.boots) == ("linux", "login", 1)
    assert [f.kind for f in report.findings if f.severity in SERIOUS] == []
    assert report.findings_of("boot:sshd:started") and report.findings_of("boot:systemd:login_prompt")


def test_a_bad_sshd_option_is_the_ssh_service_failing_even_with_the_unit_name_cut() -> None:
    report = _read("debian12-sshd-bad-option.log")
    failed = report.findings_of("boot:sshd:service_failed")
    assert failed and failed[0].severity == "critical" and failed[0].line == 582
    assert "ssh" in failed[0].summary
    assert not report.findings_of("boot:systemd:unit_failed")  # the specific finding replaces the generic one
    _no_colour_leftovers(report)


def test_a_stale_fstab_entry_with_root_locked_is_emergency_mode_and_a_dead_end() -> None:
    report = _read("debian12-fstab-stale-root-locked.log")
    assert report.stage == "systemd"
    kinds = {f.kind: f for f in report.findings}
    timeout = kinds.get("boot:fstab:device_timeout") or kinds["boot:systemd:timeout"]
    assert "5d6f-4a1b-9c8d-7e6f5a4b3c2d" in timeout.summary
    assert kinds["boot:systemd:emergency_mode"].severity == "critical"
    assert kinds["boot:systemd:root_locked"].severity == "critical"
    assert "boot:systemd:job_running" in kinds  # "Job dev-disk-by…start running (1min 22s / 1min 30s)"
    _no_colour_leftovers(report)


def test_the_oom_killer_names_the_process_it_killed() -> None:
    report = _read("debian12-oom-kill.log")
    killed = report.findings_of("boot:memory:oom_kill")
    assert killed and "tail" in killed[0].summary and "278" in killed[0].summary
    assert report.findings_of("boot:memory:oom_invoked")
    assert not report.findings_of("boot:memory:oom_killed_sshd")
    _no_colour_leftovers(report)


def test_a_start_job_redrawn_every_second_is_one_warning_per_unit() -> None:
    report = _read("debian12-fstab-stale-root-locked.log")
    waits = report.findings_of("boot:systemd:job_running")
    redraws = [e for e in report.events if e.kind == "boot:systemd:job_running"]
    assert len(waits) == 1 and len(redraws) >= 25 and "1min" in redraws[-1].text


def test_a_truncated_initramfs_is_the_initramfs_shell_waiting_for_root() -> None:
    report = _read("debian12-initramfs-truncated.log")
    assert report.stage == "initramfs"
    missing = report.findings_of("boot:initramfs:root_missing")
    assert missing and any("8d3c2f6e-4b1a-4c9e-9f0d-2a7b5e1c3d40" in f.summary for f in missing)
    assert report.findings_of("boot:initramfs:emergency_shell")[0].severity == "critical"
    assert not report.findings_of("boot:kernel:panic")
