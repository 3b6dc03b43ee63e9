"""The memory family: every form of the OOM killer across kernel versions, OOM panics, failed page
allocations and the user-space OOM killers; sshd or the VM agent killed is critical."""

from __future__ import annotations

import pytest

from kit.analyze.bootlog import Finding, parse_boot_log

FAMILY = "boot:memory:"


def forms(message: str, program: str = "kernel") -> list[str]:
    """``message`` as the serial console, the classic journal and the ISO journal print it."""
    stamped = f"[ 6612.420117] {message}" if program == "kernel" else message
    return [message, f"[ 6612.420117] {message}", f"Nov 25 09:14:02 vm-01 {program}: {stamped}",
            f"2026-11-25T09:14:02.123456+00:00 vm-01 {program}: {stamped}"]


def memory_findings(line: str) -> list[Finding]:
    report = parse_boot_log(line.encode() + b"\r\n")
    return [f for f in report.findings if f.kind.startswith(FAMILY)]


KILLS = [
    # (message, kind, severity, words the summary must name)
    ("Out of memory: Killed process 4121 (java) total-vm:9812344kB, anon-rss:7034112kB, file-rss:0kB, "
     "shmem-rss:0kB, UID:1001 pgtables:14160kB oom_score_adj:0", "oom_kill", "error", ("java", "4121")),
    ("Out of memory: Kill process 4121 (java) score 912 or sacrifice child", "oom_kill", "error", ("java", "4121")),
    ("Out of Memory: Killed process 2592 (mysqld).", "oom_kill", "error", ("mysqld", "2592")),
    ("Killed process 4121 (java) total-vm:9812344kB, anon-rss:7034112kB, file-rss:0kB", "oom_kill", "error",
     ("java", "4121")),
    ("Memory cgroup out of memory: Killed process 2210 (node) total-vm:2291004kB, anon-rss:1048576kB, "
     "file-rss:30212kB, shmem-rss:0kB, UID:0 pgtables:2560kB oom_score_adj:0", "oom_kill", "error",
     ("node", "2210", "memory-cgroup")),
    ("Memory cgroup out of memory: Kill process 2210 (node) score 1000 or sacrifice child", "oom_kill", "error",
     ("node", "2210")),
    ("Out of memory (oom_kill_allocating_task): Killed process 977 (python3) total-vm:812344kB, anon-rss:701412kB",
     "oom_kill", "error", ("python3", "977")),
    ("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
     "task_memcg=/system.slice/tomcat.service,task=java,pid=4121,uid=1001", "oom_kill", "error", ("java", "4121")),
    ("Task in /system.slice/app.service killed as a result of limit of /system.slice/app.service", "oom_kill",
     "error", ("/system.slice/app.service",)),
    ("Out of memory: Killed process 812 (sshd) total-vm:15432kB, anon-rss:1024kB, file-rss:0kB, shmem-rss:0kB, "
     "UID:0 pgtables:64kB oom_score_adj:0", "oom_killed_sshd", "critical", ("sshd", "812", "SSH")),
    ("Out of memory: Kill process 812 (sshd) score 3 or sacrifice child", "oom_killed_sshd", "critical",
     ("sshd", "812")),
    ("Killed process 812 (sshd) total-vm:15432kB, anon-rss:1024kB, file-rss:0kB", "oom_killed_sshd", "critical",
     ("sshd", "812")),
    ("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
     "task_memcg=/system.slice/ssh.service,task=sshd,pid=812,uid=0", "oom_killed_sshd", "critical", ("sshd", "812")),
    ("Out of memory: Killed process 1022 (waagent) total-vm:312344kB, anon-rss:41412kB, file-rss:0kB",
     "oom_killed_sshd", "critical", ("waagent", "1022", "agent")),
    ("java invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0",
     "oom_invoked", "warning", ("java",)),
    ("mysqld invoked oom-killer: gfp_mask=0x201d2, order=0, oomkilladj=0", "oom_invoked", "warning", ("mysqld",)),
    ("Kernel panic - not syncing: Out of memory and no killable processes...", "oom_panic", "critical",
     ("no process left to kill",)),
    ("Kernel panic - not syncing: System is deadlocked on memory", "oom_panic", "critical", ("deadlocked",)),
    ("Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled", "oom_panic", "critical",
     ("panic_on_oom",)),
    ("kworker/u8:3: page allocation failure: order:4, mode:0x40cc0(GFP_KERNEL|__GFP_COMP), nodemask=(null),cpuset=/",
     "allocation_failure", "warning", ("kworker/u8:3", "order 4")),
    ("swapper/0: page allocation failure. order:1, mode:0x20", "allocation_failure", "warning", ("swapper/0",)),
]


@pytest.mark.parametrize(("message", "kind", "severity", "names"), KILLS, ids=[k[0][:48] for k in KILLS])
@pytest.mark.parametrize("form", range(4), ids=["bare", "stamped", "journal", "iso-journal"])
def test_each_kernel_form_names_the_process(message: str, kind: str, severity: str, names: tuple[str, ...],
                                            form: int) -> None:
    found = memory_findings(forms(message)[form])
    assert [(f.kind, f.severity) for f in found] == [(FAMILY + kind, severity)]
    assert all(name in found[0].summary for name in names), found[0].summary


@pytest.mark.parametrize(("line", "kind", "severity", "names"), [
    ("Nov 25 09:14:02 vm-01 systemd[1]: tomcat.service: A process of this unit has been killed by the OOM killer.",
     "oom_kill", "error", ("tomcat.service",)),
    ("[ 6613.000000] systemd[1]: ssh.service: A process of this unit has been killed by the OOM killer.",
     "oom_killed_sshd", "critical", ("ssh.service", "SSH")),
    ("2026-11-25T09:14:02.123456+00:00 vm-01 systemd[1]: sshd.service: A process of this unit has been killed by "
     "the OOM killer.", "oom_killed_sshd", "critical", ("sshd.service",)),
    ("Nov 25 09:14:02 vm-01 systemd[1]: walinuxagent.service: A process of this unit has been killed by the OOM "
     "killer.", "oom_killed_sshd", "critical", ("walinuxagent.service", "agent")),
    ("Nov 25 09:14:02 vm-01 systemd-oomd[612]: Killed /user.slice/user-1000.slice/session-4.scope due to memory "
     "pressure for /user.slice/user-1000.slice being 84.21% > 50.00% for > 20s with reclaim activity",
     "oom_kill", "error", ("/user.slice/user-1000.slice/session-4.scope",)),
    ('Nov 25 09:14:02 vm-01 earlyoom[701]: sending SIGTERM to process 4121 uid 1001 "java": oom_score 912, '
     'VmRSS 7012 MiB', "oom_kill", "error", ("java", "4121", "earlyoom")),
    ('Nov 25 09:14:02 vm-01 earlyoom[701]: sending SIGKILL to process 812 uid 0 "sshd": oom_score 12, VmRSS 9 MiB',
     "oom_killed_sshd", "critical", ("sshd", "812")),
])
def test_user_space_oom_killers_name_what_they_killed(line: str, kind: str, severity: str,
                                                      names: tuple[str, ...]) -> None:
    found = memory_findings(line)
    assert [(f.kind, f.severity) for f in found] == [(FAMILY + kind, severity)]
    assert all(name in found[0].summary for name in names), found[0].summary


def test_an_oom_panic_is_also_a_kernel_panic() -> None:
    report = parse_boot_log(b"[ 8812.001342] Kernel panic - not syncing: Out of memory and no killable "
                            b"processes...\r\n")
    assert {f.kind for f in report.findings} == {"boot:kernel:panic", "boot:memory:oom_panic"}
    assert report.worst_severity == "critical"


def test_a_whole_oom_report_gives_one_finding_per_line_and_the_victim() -> None:
    log = "\r\n".join([
        "[ 6612.419001] java invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, "
        "oom_score_adj=0",
        "[ 6612.419100] CPU: 1 PID: 4121 Comm: java Not tainted 5.15.0-1052-azure #60-Ubuntu",
        "[ 6612.419200] Mem-Info:",
        "[ 6612.419877] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
        "task_memcg=/system.slice/tomcat.service,task=java,pid=4121,uid=1001",
        "[ 6612.420117] Out of memory: Killed process 4121 (java) total-vm:9812344kB, anon-rss:7034112kB, "
        "file-rss:0kB, shmem-rss:0kB, UID:1001 pgtables:14160kB oom_score_adj:0",
        "[ 6612.501773] oom_reaper: reaped process 4121 (java), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
    ]) + "\r\n"
    report = parse_boot_log(log.encode())
    assert [(f.kind, f.line) for f in report.findings] == [
        ("boot:memory:oom_invoked", 1), ("boot:memory:oom_kill", 4), ("boot:memory:oom_kill", 5)]
    assert "boot:memory:oom_reaped" in {e.kind for e in report.events}


def test_allocation_failures_are_context_only() -> None:
    (found,) = memory_findings("[ 2210.331201] kworker/u8:3: page allocation failure: order:4, mode:0x40cc0")
    assert found.detect_only


@pytest.mark.parametrize("line", [
    "[    0.101234] Memory: 8123456K/8388152K available (16393K kernel code, 4422K rwdata, 10772K rodata)",
    "[    0.266471] Freeing initrd memory: 94520K",
    "[    0.532001] Run /init as init process",
    "[   31.000000] systemd[1]: session-3.scope: Killing process 1234 (bash) with signal SIGKILL.",
    "[   12.000000] hv_balloon: Balloon request will be partially fulfilled. Balloon floor reached.",
    "Nov 25 09:14:02 vm-01 systemd[1]: Started ssh.service - OpenBSD Secure Shell server.",
    "Nov 25 09:14:02 vm-01 sshd[812]: Server listening on 0.0.0.0 port 22.",
    "[   40.100000] traps: sshd-session[2211] trap int3 ip:7f1e2a sp:7ffd0 error:0 in libc.so.6",
])
def test_healthy_lines_give_nothing(line: str) -> None:
    assert memory_findings(line) == []
