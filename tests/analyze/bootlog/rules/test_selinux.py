"""The selinux family: a relabel at boot (and in which boot), a policy that did not load, and AVC
denials naming the process, permission and target, in console, kernel and journal forms."""

from __future__ import annotations

import pytest
from bootlog_data import ESC, OK, only

from kit.analyze.bootlog import Finding, parse_boot_log

AVC = ("avc:  denied  { read } for  pid=812 comm=\"sshd\" name=\"authorized_keys\" dev=\"sda2\" ino=1234 "
       "scontext=system_u:system_r:sshd_t:s0-s0:c0.c1023 tcontext=unconfined_u:object_r:user_home_t:s0 "
       "tclass=file permissive=0")


def findings(text: str) -> list[Finding]:
    return list(parse_boot_log(text.encode() + b"\r\n").findings)


@pytest.mark.parametrize("line", [
    "[    1.734001] systemd[1]: Failed to load SELinux policy. Freezing.",
    "Failed to load SELinux policy. Freezing.",
    "[    1.734001] systemd[1]: Failed to load SELinux policy :No such file or directory",
    "Nov 25 09:14:02 vm-01 systemd[1]: Failed to load SELinux policy.",
    "Unable to load SELinux Policy. Machine is in enforcing mode. Halting now.",
    "SELinux:  Could not open policy file <= /etc/selinux/targeted/policy/policy.33:  No such file or directory",
    "SELinux:  Could not load policy",
])
def test_a_policy_that_did_not_load_is_critical(line: str) -> None:
    finding = only(line, "boot:selinux:policy_load_failed")
    assert finding.severity == "critical" and "SELinux policy" in finding.summary and "selinux=0" in finding.summary


def test_the_policy_file_is_named_when_printed() -> None:
    line = "SELinux:  Could not open policy file <= /etc/selinux/targeted/policy/policy.33:  No such file or directory"
    assert "/etc/selinux/targeted/policy/policy.33" in only(line, "boot:selinux:policy_load_failed").summary


def test_the_freeze_after_a_failed_policy_is_also_systemd_freezing() -> None:
    report = parse_boot_log(b"[    1.734001] systemd[1]: Failed to load SELinux policy.\r\n"
                            b"[    1.734100] systemd[1]: Freezing execution.\r\n")
    assert [f.kind for f in report.findings] == ["boot:selinux:policy_load_failed", "boot:systemd:freezing"]


def test_a_policy_reload_failure_is_only_a_warning() -> None:
    line = "[    2.100231] systemd[1]: Failed to load new SELinux policy. Continuing with old policy."
    assert only(line, "boot:selinux:policy_reload_failed").severity == "warning"


@pytest.mark.parametrize(("line", "named"), [
    ("[    4.351970] selinux-autorelabel[869]: *** Warning -- SELinux targeted policy relabel is required.",
     "targeted"),
    ("*** Warning -- SELinux mls policy relabel is required.", "mls"),
    ("[    4.352094] selinux-autorelabel[869]: *** Relabeling could take a very long time, depending on file system "
     "size and speed of hard drives.", "relabelling"),
    ("Relabeling / /boot /dev /dev/hugepages /dev/mqueue /dev/pts /dev/shm /run /sys /sys/fs/cgroup", "/ /boot /dev"),
    ("Relabeling /", "relabelling /"),
    (f"{OK} Starting {ESC}[0;1;39mRelabel all filesystems{ESC}[0m...", "autorelabel"),
    ("         Starting selinux-autorelabel.service - Relabel all filesystems...", "autorelabel"),
])
def test_a_relabel_is_a_warning(line: str, named: str) -> None:
    finding = only(line, "boot:selinux:relabel")
    assert finding.severity == "warning" and named in finding.summary


def test_relabel_findings_carry_the_boot_they_are_in() -> None:
    boot = ("[    0.000000] Linux version 5.14.0-362.8.1.el9_3.x86_64 (mockbuild@x86-64-01.build.eng.rdu2)\r\n"
            "[    4.351970] selinux-autorelabel[869]: *** Warning -- SELinux targeted policy relabel is required.\r\n")
    report = parse_boot_log((boot * 3).encode())
    relabels = [f for f in report.earlier_findings + report.findings if f.kind == "boot:selinux:relabel"]
    assert report.boots == 3 and [f.boot for f in relabels] == [0, 1, 2]


@pytest.mark.parametrize(("line", "named"), [
    (f"[   12.512001] audit: type=1400 audit(1764061991.123:45): {AVC}",
     ["read", "sshd", "812", "file authorized_keys", "sshd_t", "user_home_t"]),
    (f"Nov 25 09:14:02 vm-01 kernel: audit: type=1400 audit(1764061991.123:45): {AVC}", ["read", "sshd"]),
    (f"2026-11-25T09:14:02.123456+00:00 vm-01 audit[812]: AVC {AVC}", ["read", "sshd"]),
    ("type=AVC msg=audit(1764061991.123:46): avc:  denied  { name_bind } for  pid=812 comm=\"sshd\" src=2222 "
     "scontext=system_u:system_r:sshd_t:s0 tcontext=system_u:object_r:unreserved_port_t:s0 tclass=tcp_socket "
     "permissive=0", ["name_bind", "sshd", "tcp_socket", "unreserved_port_t"]),
    ("avc:  denied  { getattr open read } for  pid=1203 comm=\"httpd\" path=\"/var/www/html/index.html\" "
     "dev=\"sda2\" ino=4412 scontext=system_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:user_tmp_t:s0 "
     "tclass=file permissive=0", ["getattr open read", "httpd", "/var/www/html/index.html"]),
    ("Nov 25 09:14:05 vm-01 setroubleshoot[1201]: SELinux is preventing /usr/sbin/sshd from read access on the file "
     "authorized_keys. For complete SELinux messages run: sealert -l 5c3a",
     ["/usr/sbin/sshd", "read", "authorized_keys"]),
])
def test_an_avc_denial_is_a_warning_naming_process_permission_and_target(line: str, named: list[str]) -> None:
    finding = only(line, "boot:selinux:denied")
    assert finding.severity == "warning"
    for word in named:
        assert word in finding.summary, (word, finding.summary)


def test_a_permissive_denial_is_only_info() -> None:
    finding = only(AVC.replace("permissive=0", "permissive=1"), "boot:selinux:denied")
    assert finding.severity == "info" and "permissive" in finding.summary


@pytest.mark.parametrize("line", [
    "[    0.231004] SELinux:  Initializing.",
    "[    2.010001] systemd[1]: Successfully loaded SELinux policy in 212.431ms.",
    "[    2.300123] audit: type=1403 audit(1764061991.001:2): auid=4294967295 ses=4294967295 lsm=selinux res=1",
    "[  OK  ] Started Mark the need to relabel after reboot.",
    "[DEPEND] Dependency failed for Mark the need to relabel after reboot.",
    'audit: type=1400 audit(1764061991.123:456): apparmor="STATUS" operation="profile_replace" profile="unconfined"',
    "[    2.400000] SELinux:  policy capability network_peer_controls=1",
])
def test_healthy_selinux_lines_give_no_selinux_warning(line: str) -> None:
    assert not [f for f in findings(line) if f.kind.startswith("boot:selinux:")], line
