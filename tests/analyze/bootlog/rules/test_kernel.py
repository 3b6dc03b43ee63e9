"""The kernel family: the banner, panics of every documented reason, oopses and BUGs, general protection
faults, hard and soft lockups, RCU stalls, IRQ storms, hung tasks and Hyper-V driver failures."""

from __future__ import annotations

import pytest

from kit.analyze.bootlog import Finding, parse_boot_log

FAMILY = "boot:kernel:"


def kernel_findings(line: str) -> list[Finding]:
    report = parse_boot_log(line.encode() + b"\r\n")
    return [f for f in report.findings if f.kind.startswith(FAMILY)]


def forms(message: str) -> list[str]:
    """A kernel message bare, with its uptime stamp, and in both journal formats."""
    return [message, f"[ 4012.300001] {message}", f"Nov 25 09:14:02 vm-01 kernel: [ 4012.300001] {message}",
            f"2026-11-25T09:14:02.123456+00:00 vm-01 kernel: {message}"]


PANICS = [
    # (reason, words the summary must hold)
    ("VFS: Unable to mount root fs on unknown-block(0,0)", ("root file system", "initramfs")),
    ("Attempted to kill init! exitcode=0x00007f00", ("init (PID 1)", "status 127")),
    ("Attempted to kill init! exitcode=0x0000000b", ("init (PID 1)", "signal 11")),
    ("Attempted to kill init! exitcode=0x00000100", ("init exited with status 1",)),
    ("Attempted to kill the idle task!", ("idle task",)),
    ("No working init found.  Try passing init= option to kernel. See Linux Documentation/admin-guide/init.rst for "
     "guidance.", ("/sbin/init",)),
    ("Out of memory and no killable processes...", ("out of memory",)),
    ("System is deadlocked on memory", ("out of memory",)),
    ("hung_task: blocked tasks", ("hung_task_panic",)),
    ("softlockup: hung tasks", ("soft lockup",)),
    ("Hard LOCKUP", ("hard lockup",)),
    ("sysrq triggered crash", ("SysRq",)),
    ("NMI: Not continuing", ("NMI",)),
    ("stack-protector: Kernel stack is corrupted in: nf_hook_slow+0x9f/0xb0", ("stack", "nf_hook_slow")),
    ("Fatal exception in interrupt", ("Fatal exception in interrupt",)),
    ("Fatal exception", ("oops",)),
    ("Fatal Machine check", ("machine-check",)),
    ("Timeout: Not all CPUs entered broadcast exception handler", ("Not all CPUs entered broadcast exception",)),
]


@pytest.mark.parametrize(("reason", "names"), PANICS, ids=[p[0][:40] for p in PANICS])
@pytest.mark.parametrize("form", range(4), ids=["bare", "stamped", "journal", "iso-journal"])
def test_every_panic_reason_is_critical_and_explained(reason: str, names: tuple[str, ...], form: int) -> None:
    found = kernel_findings(forms(f"Kernel panic - not syncing: {reason}")[form])
    assert [(f.kind, f.severity) for f in found] == [("boot:kernel:panic", "critical")]
    assert all(name in found[0].summary for name in names), found[0].summary


CASES = [
    # (message, kind, severity, detect_only, words the summary must name)
    ("BUG: kernel NULL pointer dereference, address: 0000000000000008", "oops", "error", False,
     ("NULL pointer dereference",)),
    ("BUG: unable to handle kernel NULL pointer dereference at 0000000000000008", "oops", "error", False,
     ("unable to handle",)),
    ("BUG: unable to handle page fault for address: ffffffffc0a1b2c3", "oops", "error", False, ("ffffffffc0a1b2c3",)),
    ("Oops: 0000 [#1] SMP PTI", "oops", "error", False, ("Oops",)),
    ("Internal error: Oops: 0000000096000004 [#1] SMP", "oops", "error", False, ("Oops",)),
    ("Unable to handle kernel paging request at virtual address ffff80000a1b2c3d", "oops", "error", False,
     ("paging request",)),
    ("kernel BUG at mm/slub.c:4012!", "oops", "error", False, ("mm/slub.c:4012",)),
    ("invalid opcode: 0000 [#1] SMP PTI", "oops", "error", False, ("invalid opcode",)),
    ("BUG: scheduling while atomic: kworker/0:1/31337/0x00000002", "oops", "error", False,
     ("scheduling while atomic",)),
    ("general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#2] SMP PTI",
     "general_protection_fault", "error", False, ("protection fault",)),
    ("general protection fault: 0000 [#1] SMP", "general_protection_fault", "error", False, ("protection fault",)),
    ("Watchdog detected hard LOCKUP on cpu 1", "hard_lockup", "error", False, ("CPU 1",)),
    ("NMI watchdog: Watchdog detected hard LOCKUP on cpu 3", "hard_lockup", "error", False, ("CPU 3",)),
    ("NMI Watchdog detected LOCKUP on CPU 2", "hard_lockup", "error", False, ("CPU 2",)),
    ("watchdog: BUG: soft lockup - CPU#2 stuck for 22s! [kworker/2:1:1234]", "soft_lockup", "error", True,
     ("CPU 2", "22 s", "kworker/2:1:1234")),
    ("BUG: soft lockup - CPU#0 stuck for 67s! [java:4121]", "soft_lockup", "error", True, ("CPU 0", "java:4121")),
    ("rcu: INFO: rcu_sched self-detected stall on CPU", "rcu_stall", "error", False, ("RCU",)),
    ("INFO: rcu_sched detected stalls on CPUs/tasks: { 1} (detected by 0, t=60002 jiffies)", "rcu_stall", "error",
     False, ("RCU",)),
    ("rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 3-... } 21002 jiffies s: 1093 root: 0x8/.",
     "rcu_stall", "error", False, ("RCU",)),
    ("rcu: rcu_sched kthread starved for 10502 jiffies! g72489 f0x0 RCU_GP_WAIT_FQS(5) ->state=0x402 ->cpu=1",
     "rcu_stall", "error", False, ("RCU",)),
    ('irq 11: nobody cared (try booting with the "irqpoll" option)', "irq_flood", "warning", False, ("11",)),
    ("Disabling IRQ #11", "irq_flood", "warning", False, ("11",)),
    ("INFO: task jbd2/sda1-8:215 blocked for more than 120 seconds.", "hung_task", "warning", True,
     ("jbd2/sda1-8:215", "120")),
    ("hv_vmbus: probe failed for device 9a3b2c1d (-110)", "hv_driver_failed", "error", False, ("hv_vmbus",)),
    ("hv_storvsc f8b3781a-1e82-4818-a1c3-63d806ec15bb: probe failed with error -12", "hv_driver_failed", "error",
     False, ("hv_storvsc", "f8b3781a")),
    ("storvsc: timed out waiting for host response", "hv_driver_failed", "error", False, ("storvsc",)),
    ("hv_netvsc 000d3a5b-8c2e-000d-3a5b-8c2e000d3a5b: probe of 000d3a5b-8c2e-000d-3a5b-8c2e000d3a5b failed with "
     "error -110", "hv_driver_failed", "error", False, ("hv_netvsc",)),
    ('VFS: Cannot open root device "sda1" or unknown-block(0,0): error -6', "root_device", "error", False,
     ("root device",)),
]


@pytest.mark.parametrize(("message", "kind", "severity", "detect_only", "names"), CASES,
                         ids=[c[0][:48] for c in CASES])
@pytest.mark.parametrize("form", range(4), ids=["bare", "stamped", "journal", "iso-journal"])
def test_each_form_gives_its_kind_and_names_what_failed(message: str, kind: str, severity: str, detect_only: bool,
                                                        names: tuple[str, ...], form: int) -> None:
    found = kernel_findings(forms(message)[form])
    assert [(f.kind, f.severity, f.detect_only) for f in found] == [(FAMILY + kind, severity, detect_only)]
    assert all(name in found[0].summary for name in names), found[0].summary


def test_a_gpf_with_an_oops_prefix_is_a_gpf() -> None:
    (found,) = kernel_findings("[  811.0] Oops: general protection fault, probably for non-canonical address "
                               "0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI")
    assert found.kind == "boot:kernel:general_protection_fault"


def test_a_panic_report_ends_the_boot_at_the_kernel_stage() -> None:
    log = ("[    0.000000] Linux version 5.15.0-1052-azure (buildd@lcy02-amd64-017) #59-Ubuntu SMP\r\n"
           "[    2.101987] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\r\n"
           "[    2.113245] ---[ end Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0) ]---"
           "\r\n")
    report = parse_boot_log(log.encode())
    assert (report.os, report.stage, report.worst_severity) == ("linux", "kernel", "critical")
    assert {"boot:kernel:start", "boot:kernel:panic", "boot:kernel:panic_end"} <= {e.kind for e in report.events}


@pytest.mark.parametrize("line", [
    # user-space crashes the kernel reports are not kernel faults
    "[ 5021.661802] traps: java[4121] general protection fault ip:7f1e2a3b4c5d sp:7ffd12345678 error:0 in "
    "libjvm.so[7f1e2a000000+1000000]",
    "[ 5021.661802] node[2210]: segfault at 8 ip 00007f1e2a3b4c5d sp 00007ffd12345678 error 4 in node[400000+2000000]",
    # healthy boot lines
    "[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-5.15.0-1052-azure root=PARTUUID=8b7c6d4e ro console=ttyS0",
    "[    0.281402] hv_vmbus: Vmbus version:5.2",
    "[    0.441190] hv_vmbus: registering driver hv_storvsc",
    "[    0.441190] hv_vmbus: registering driver hv_netvsc",
    "[    0.500000] scsi host0: storvsc_host_t",
    "[    6.004113] hv_netvsc 000d3a5b-8c2e-000d-3a5b-8c2e000d3a5b eth0: VF slot 1 added",
    "[    6.004113] hv_netvsc 000d3a5b-8c2e-000d-3a5b-8c2e000d3a5b eth0: Data path switched to VF: enP12345s1",
    "[    0.120000] rcu: Hierarchical RCU implementation.",
    "[    0.120000] rcu: RCU calculated value of scheduler-enlistment delay is 25 jiffies.",
    "[    0.300000] NMI watchdog: Perf NMI watchdog permanently disabled",
    "[    0.532001] Run /init as init process",
    "[   12.000000] hv_balloon: Balloon request will be partially fulfilled. Balloon floor reached.",
    "[   12.000000] systemd[1]: Started kdump-tools.service - Kernel crash dump capture service.",
])
def test_healthy_and_user_space_lines_give_nothing(line: str) -> None:
    assert kernel_findings(line) == []
