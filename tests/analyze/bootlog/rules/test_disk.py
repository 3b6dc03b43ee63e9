"""The disk family: full file systems named by path or device, auditd low on space / halting the VM,
and systemd-journald out of room."""

from __future__ import annotations

import pytest

from kit.analyze.bootlog import Finding, parse_boot_log

FAMILY = "boot:disk:"


def disk_findings(line: str) -> list[Finding]:
    report = parse_boot_log(line.encode() + b"\r\n")
    return [f for f in report.findings if f.kind.startswith(FAMILY)]


def forms(message: str, program: str) -> list[str]:
    """``message`` bare, on the console after a kernel stamp, and in both journal formats."""
    return [message, f"[   41.233101] {program}: {message}", f"Nov 25 09:14:02 vm-01 {program}: {message}",
            f"2026-11-25T09:14:02.123456+00:00 vm-01 {program}: {message}"]


CASES = [
    # (message, program, kind, severity, words the summary must name)
    ("The audit daemon is now halting the system", "auditd[854]", "auditd_halt", "critical", ("halted", "HALT")),
    ("The audit daemon is now halting the system due to no space left on logging partition", "auditd[854]",
     "auditd_halt", "critical", ("disk_full_action=HALT",)),
    ("The audit daemon is now changing the system to single user mode due to no space left on logging partition",
     "auditd[854]", "auditd_halt", "critical", ("single-user", "disk_full_action=SINGLE")),
    ("The audit daemon is now halting the system due to previously mentioned write error.", "auditd[854]",
     "auditd_halt", "critical", ("disk_error_action=HALT",)),
    ("Audit daemon has no space left on logging partition", "auditd[854]", "no_space", "error", ("/var/log/audit",)),
    ("Audit daemon is suspending logging due to no space left on logging partition.", "auditd[854]", "no_space",
     "error", ("auditd",)),
    ("Audit daemon is low on disk space for logging", "auditd[854]", "auditd_low_space", "warning", ("auditd",)),
    ("Audit daemon is very low on disk space for logging", "auditd[854]", "auditd_low_space", "warning",
     ("admin_space_left",)),
    ("Audit daemon is suspending logging due to low disk space.", "auditd[854]", "auditd_low_space", "warning",
     ("auditd",)),
    ("Failed to write entry (22 items, 705 bytes), ignoring: No space left on device", "systemd-journald[412]",
     "journal_full", "warning", ("journald", "No space left on device")),
    ("Failed to write entry to /var/log/journal/4b1c2d3e/system.journal (21 items, 612 bytes) despite vacuuming, "
     "ignoring: No space left on device", "systemd-journald[412]", "journal_full", "warning",
     ("/var/log/journal/4b1c2d3e/system.journal",)),
    ("Failed to open system journal: No space left on device", "systemd-journald[412]", "journal_full", "warning",
     ("system journal",)),
    ("System Journal (/var/log/journal/4b1c2d3e) is 3.9G, max 3.9G, 0B free.", "systemd-journald[412]",
     "journal_full", "warning", ("/var/log/journal/4b1c2d3e", "3.9G")),
    ("cp: error writing '/boot/initrd.img-5.15.0-1052-azure.new': No space left on device", "update-initramfs",
     "no_space", "error", ("/boot/initrd.img-5.15.0-1052-azure.new",)),
    ("OSError: [Errno 28] No space left on device: '/var/lib/cloud/instances/4b1c/obj.pkl'", "cloud-init[812]",
     "no_space", "error", ("/var/lib/cloud/instances/4b1c/obj.pkl",)),
    ("error: cannot create /run/sshd.pid: No space left on device", "sshd[812]", "no_space", "error",
     ("/run/sshd.pid",)),
    ("mkdir: cannot create directory ‘/data/spool’: No space left on device", "bash[1200]", "no_space", "error",
     ("/data/spool",)),
    ("gzip: stdout: No space left on device", "update-initramfs", "no_space", "error", ("No space left",)),
    ("EXT4-fs (sda1): Delayed block allocation failed for inode 1839291 at logical offset 0 with max blocks 2 with "
     "error 28", "kernel", "no_space", "error", ("sda1", "1839291")),
    ("FileNotFoundError: [Errno 2] No usable temporary directory found in ['/tmp', '/var/tmp', '/usr/tmp', '/']",
     "waagent[1022]", "no_space", "error", ("/var/tmp",)),
]


@pytest.mark.parametrize(("message", "program", "kind", "severity", "names"), CASES, ids=[c[0][:48] for c in CASES])
@pytest.mark.parametrize("form", range(4), ids=["bare", "console", "journal", "iso-journal"])
def test_each_form_gives_its_kind_and_names_the_object(message: str, program: str, kind: str, severity: str,
                                                       names: tuple[str, ...], form: int) -> None:
    found = disk_findings(forms(message, program)[form])
    assert [(f.kind, f.severity) for f in found] == [(FAMILY + kind, severity)]
    assert all(name in found[0].summary for name in names), found[0].summary


def test_a_program_without_a_path_is_named() -> None:
    (found,) = disk_findings("Nov 25 09:14:02 vm-01 dpkg[2210]: write error: No space left on device")
    assert "dpkg" in found.summary


def test_the_journal_at_its_size_limit_is_context_only() -> None:
    (found,) = disk_findings("systemd-journald[412]: System Journal (/var/log/journal/4b) is 4.0G, max 4.0G, 0B free.")
    assert found.detect_only


def test_auditd_filling_up_then_halting_the_vm_is_critical() -> None:
    log = ("Mar 12 08:46:01 vm-01 auditd[854]: Audit daemon is low on disk space for logging\r\n"
           "Mar 12 09:42:01 vm-01 auditd[854]: The audit daemon is now halting the system\r\n"
           "Mar 12 09:42:26 vm-01 systemd[1]: Reached target Shutdown.\r\n")
    report = parse_boot_log(log.encode())
    kinds = [(f.kind, f.severity) for f in report.findings if f.kind.startswith(FAMILY)]
    assert kinds == [("boot:disk:auditd_low_space", "warning"), ("boot:disk:auditd_halt", "critical")]


@pytest.mark.parametrize("line", [
    # ENOSPC from kernel limits, not from a full disk
    "Nov 25 09:14:02 vm-01 systemd[1]: Failed to add inotify watch descriptor for control group: No space left on "
    "device",
    "Nov 25 09:14:02 vm-01 node[2210]: Error: ENOSPC: System limit for number of file watchers reached, watch "
    "'/srv/app': No space left on device",
    "Nov 25 09:14:02 vm-01 systemd[1]: user@1000.service: Failed to create cgroup /user.slice: No space left on device",
    # healthy lines
    "[    3.121004] systemd-journald[412]: System Journal (/var/log/journal/4b1c2d3e) is 104.0M, max 3.9G, 3.8G free.",
    "[    3.121004] systemd-journald[412]: Runtime Journal (/run/log/journal/4b1c2d3e) is 8.0M, max 64.0M, 56.0M free.",
    "Nov 25 09:14:02 vm-01 auditd[854]: Init complete, auditd 3.0.7 listening for events (startup state enable)",
    "[    9.001000] audit: type=1130 audit(1764061991.123:45): pid=1 uid=0 msg='unit=auditd comm=\"systemd\" "
    "res=success'",
    "Nov 25 09:14:02 vm-01 systemd[1]: Started auditd.service - Security Auditing Service.",
    "[    0.953322] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null). Quota mode: none.",
])
def test_other_enospc_and_healthy_lines_give_nothing(line: str) -> None:
    assert disk_findings(line) == []
