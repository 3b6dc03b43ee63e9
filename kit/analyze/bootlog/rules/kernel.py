"""Kernel messages: the kernel banner, panics, oopses, lockups and stalls, and Hyper-V driver failures.

Sources: the kernel's own messages (kernel/panic.c, kernel/watchdog.c, kernel/rcu/tree_stall.h,
kernel/irq/spurious.c, kernel/hung_task.c); gcpdiag ``gce/bp/2021_001_serial_logging`` and the
``gce/err`` kernel-panic lint; Microsoft, "Troubleshoot a Linux VM kernel panic"
(learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/kernel-related-boot-issues).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_HV_PROBLEM = re.compile(r"fail|error|timed? ?out|abort|not (?:ready|respond)", re.IGNORECASE)
_KERNEL_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/kernel-related-boot-issues"


def _panic(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    line, reason = match.string, (match.group("reason") or "").strip() or "no reason given"
    if "VFS: Unable to mount root fs" in line:
        summary = (f"Kernel panic: the kernel could not mount the root file system ({reason}); usually a missing or "
                   "broken initramfs for this kernel, or a wrong root= device.")
    elif "Attempted to kill init" in line:
        summary = f"Kernel panic: init (PID 1) died ({reason})."
    else:
        summary = f"Kernel panic: {reason}."
    return signature.hit(match, summary=summary)


def _hv_driver(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    if not _HV_PROBLEM.search(match.string):
        return None
    return signature.hit(match, summary=f"Hyper-V driver problem ({match.group('driver')}): "
                         f"{match.string.strip()[-160:]}")


RULE = register(Rule("kernel", [
    Signature("boot:kernel:start", r"^.{0,80}?Linux version (?P<version>\S+)", "Linux kernel {version} started.",
              stage="kernel", boot_start=True, os="linux",
              samples=("[    0.000000] Linux version 6.1.0-27-cloud-amd64 (debian-kernel@lists.debian.org) "
                       "(gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)",)),
    Signature("boot:kernel:cmdline", r"Command line: .*(?:BOOT_IMAGE|root=)", "Kernel command line.",
              stage="kernel", os="linux",
              samples=("[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-6.1.0-27-cloud-amd64 "
                       "root=PARTUUID=8f1e2c77-01 ro console=tty0 console=ttyS0,115200n8 earlyprintk=ttyS0",)),
    Signature("boot:kernel:run_init", r"Run /init as init process",
              "The kernel handed over to the initramfs (/init).", stage="initramfs", os="linux",
              samples=("[    1.532001] Run /init as init process",)),
    Signature("boot:kernel:panic_end", r"---\[ end Kernel panic", "End of the kernel panic report: the VM is halted.",
              stage="kernel", os="linux",
              samples=("[    2.113245] ---[ end Kernel panic - not syncing: VFS: Unable to mount root fs on "
                       "unknown-block(0,0) ]---",)),
    Signature("boot:kernel:panic", r"Kernel panic - not syncing:?(?P<reason>.*)", build=_panic,
              severity="critical", stage="kernel", os="linux", source=_KERNEL_DOCS,
              samples=("[    2.101987] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
                       "[ 3344.118716] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00007f00",
                       "Kernel panic - not syncing: Fatal exception in interrupt",
                       "[88213.007121] Kernel panic - not syncing: hung_task: blocked tasks")),
    Signature("boot:kernel:root_device", r"VFS: Cannot open root device",
              "The kernel could not open the root device named on its command line.", severity="error",
              stage="kernel", os="linux", source=_KERNEL_DOCS,
              samples=('[    2.100311] VFS: Cannot open root device "sda1" or unknown-block(0,0): error -6',)),
    Signature("boot:kernel:general_protection_fault", r"general protection fault",
              "General protection fault in the kernel.", severity="error", os="linux",
              samples=("[ 5021.661802] general protection fault, probably for non-canonical address "
                       "0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI",)),
    Signature("boot:kernel:hard_lockup", r"Watchdog detected hard LOCKUP on cpu (?P<cpu>\d+)|NMI watchdog: hard LOCKUP",
              "CPU {cpu} stopped responding to interrupts (hard lockup): the VM hangs until it is restarted.",
              severity="error", os="linux", source="kernel/watchdog.c (watchdog_hardlockup_check)",
              samples=("[ 7120.004412] Watchdog detected hard LOCKUP on cpu 1",
                       "[ 7120.004412] NMI watchdog: Watchdog detected hard LOCKUP on cpu 3")),
    Signature("boot:kernel:soft_lockup", r"soft lockup - CPU#(?P<cpu>\d+) stuck for (?P<seconds>\d+)s! \[(?P<task>[^\]]*)",
              "CPU {cpu} was stuck in the kernel for {seconds} s running {task} (soft lockup).",
              severity="error", os="linux", explains=False, source="kernel/watchdog.c (watchdog_timer_fn)",
              samples=("[ 9031.221245] watchdog: BUG: soft lockup - CPU#0 stuck for 23s! [kworker/0:1:31337]",
                       "[ 9031.221245] NMI watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [java:4121]")),
    Signature("boot:kernel:rcu_stall", r"rcu: INFO: rcu_(?:sched|preempt|bh) (?:self-)?detected (?:stalls|stall)|"
              r"INFO: rcu_(?:sched|preempt|bh) (?:self-)?detected stall",
              "The kernel's RCU machinery stalled (a CPU made no progress for tens of seconds; often a starved or "
              "overcommitted host).", severity="error", os="linux", source="kernel/rcu/tree_stall.h",
              samples=("[ 1432.112002] rcu: INFO: rcu_sched self-detected stall on CPU",
                       "[ 1432.112002] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
                       "INFO: rcu_sched detected stalls on CPUs/tasks: { 1} (detected by 0, t=60002 jiffies)")),
    Signature("boot:kernel:irq_flood", r"irq (?P<irq>\d+): nobody cared|Disabling IRQ #(?P<number>\d+)",
              "An interrupt kept firing with no driver handling it (IRQ storm); the kernel disabled it.",
              severity="warning", os="linux", source="kernel/irq/spurious.c (__report_bad_irq)",
              samples=("[   12.337102] irq 11: nobody cared (try booting with the \"irqpoll\" option)",
                       "[   12.338401] Disabling IRQ #11")),
    Signature("boot:kernel:oops", r"\bOops(?::| -) |BUG: unable to handle|BUG: kernel NULL pointer|kernel BUG at ",
              "Kernel oops/BUG: the kernel hit an internal error.", severity="error", os="linux",
              samples=("[ 4012.221100] BUG: kernel NULL pointer dereference, address: 0000000000000008",
                       "[ 4012.223311] Oops: 0000 [#1] PREEMPT SMP NOPTI",
                       "[  811.000122] kernel BUG at mm/slub.c:4012!")),
    Signature("boot:kernel:hung_task", r"INFO: task (?P<task>\S+) blocked for more than (?P<seconds>\d+) seconds",
              "Task {task} was blocked in the kernel for more than {seconds} s (a storage or lock stall).",
              severity="warning", os="linux", explains=False, source="kernel/hung_task.c",
              samples=("[ 1210.021547] INFO: task jbd2/sda1-8:215 blocked for more than 120 seconds.",)),
    Signature("boot:kernel:hv_driver_failed", r"\b(?P<driver>hv_vmbus|hv_storvsc|storvsc|vmbus)\b", build=_hv_driver,
              severity="error", os="linux",
              samples=("[    5.120331] hv_vmbus: probe failed for device 9a3b2c1d (-110)",
                       "[   31.442100] storvsc: timed out waiting for host response")),
]))
