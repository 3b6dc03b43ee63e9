"""Kernel messages: the kernel banner, panics, oopses, lockups and stalls, and Hyper-V driver failures.

Sources: the kernel's own messages (kernel/panic.c and every ``panic()`` reason it prints — init/main.c,
kernel/exit.c, mm/oom_kill.c, kernel/hung_task.c, kernel/watchdog.c, drivers/tty/sysrq.c,
arch/x86/kernel/nmi.c —, kernel/watchdog.c, kernel/rcu/tree_stall.h, kernel/irq/spurious.c,
kernel/hung_task.c, arch/x86/kernel/traps.c, arch/x86/mm/fault.c, arch/arm64/mm/fault.c, lib/bug.c,
drivers/hv/vmbus_drv.c, drivers/scsi/storvsc_drv.c); gcpdiag ``gce/warn_2021_006`` (kernel panic) and its
runbook's ``KERNEL_PANIC_LOGS``; EC2Rescue for Linux's ``kernelpanic``, ``kernelbug``,
``kerneldereference``, ``softlockup`` and ``hungtasks`` modules (awslabs/aws-ec2rescue-linux mod.d/);
Microsoft, "Troubleshoot a Linux VM kernel panic"
(learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/kernel-related-boot-issues).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_KERNEL_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/kernel-related-boot-issues"


#: The reasons ``panic()`` prints, first match wins: (text in the reason, what it means).
_PANIC_REASONS = (
    ("VFS: Unable to mount root fs", "the kernel could not mount the root file system ({reason}); usually a missing "
     "or broken initramfs for this kernel, or a wrong root= device"),
    ("Attempted to kill init", "init (PID 1) died ({reason}){status}"),
    ("Attempted to kill the idle task", "the idle task died ({reason}): a kernel bug"),
    ("No working init found", "no init program could be run ({reason}): /sbin/init is missing or broken, or init= "
     "names a wrong program"),
    ("Requested init", "the init program could not be run ({reason})"),
    ("Out of memory", "the system ran out of memory ({reason})"),
    ("System is deadlocked on memory", "the system ran out of memory ({reason})"),
    ("hung_task", "a task hung and hung_task_panic is set ({reason})"),
    ("softlockup", "a CPU soft lockup with softlockup_panic set ({reason})"),
    ("Hard LOCKUP", "a CPU hard lockup with hardlockup_panic set ({reason})"),
    ("sysrq triggered crash", "a crash was forced with SysRq-c or an NMI sent from the serial console ({reason})"),
    ("NMI", "an NMI with panic_on_unrecovered_nmi / unknown_nmi_panic set, for instance one sent from the serial "
     "console to take a crash dump ({reason})"),
    ("stack-protector", "the kernel stack was corrupted ({reason})"),
    ("Machine check", "a hardware machine-check error ({reason})"),
    ("Fatal exception", "an earlier oops or BUG was fatal ({reason})"),
)


def _init_status(reason: str) -> str:
    """What ``exitcode=0x…`` of "Attempted to kill init!" says about how init ended."""
    code = re.search(r"exitcode=(0x[0-9a-fA-F]+)", reason)
    if not code:
        return ""
    value = int(code.group(1), 16)
    signal, status = value & 0x7F, (value >> 8) & 0xFF
    if signal:
        return f": init was killed by signal {signal}"
    if status == 127:
        return ": init exited with status 127 (a program or library it needs is missing)"
    return f": init exited with status {status}"


def _panic(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    reason = (match.group("reason") or "").strip().rstrip(" .]-") or "no reason given"
    for text, meaning in _PANIC_REASONS:
        if text in reason:
            explained = meaning.format(reason=reason, status=_init_status(reason) if "{status}" in meaning else "")
            return signature.hit(match, summary=f"Kernel panic: {explained}.")
    return signature.hit(match, summary=f"Kernel panic: {reason}.")


def _hard_lockup(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    cpu = match.group("cpu") or match.group("old_cpu")
    which = f"CPU {cpu}" if cpu else "A CPU"
    return signature.hit(match, summary=f"{which} stopped responding to interrupts (hard lockup): the VM hangs until "
                                        "it is restarted.")


def _irq_flood(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    irq = match.group("irq") or match.group("number")
    return signature.hit(match, summary=f"Interrupt {irq} kept firing with no driver handling it (IRQ storm); the "
                                        "kernel disabled it.")


def _oops(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    detail = match.string[match.start():].strip().rstrip(".!")[:120]
    return signature.hit(match, summary=f"Kernel oops/BUG: the kernel hit an internal error ({detail}).")


def _hv_driver(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    return signature.hit(match, summary=f"Hyper-V driver problem ({match.group('driver')}): "
                         f"{match.string[match.start():].strip()[:160]}")


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
                       "[88213.007121] Kernel panic - not syncing: hung_task: blocked tasks",
                       "[  512.100112] Kernel panic - not syncing: sysrq triggered crash",
                       "[  512.100112] Kernel panic - not syncing: NMI: Not continuing",
                       "[    2.310021] Kernel panic - not syncing: No working init found.  Try passing init= option to "
                       "kernel. See Linux Documentation/admin-guide/init.rst for guidance.",
                       "[ 4012.300001] Kernel panic - not syncing: Hard LOCKUP",
                       "[ 4012.300001] Kernel panic - not syncing: softlockup: hung tasks",
                       "[    3.100200] Kernel panic - not syncing: Attempted to kill the idle task!",
                       "[ 4012.300001] Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: "
                       "nf_hook_slow+0x9f/0xb0")),
    Signature("boot:kernel:root_device", r"VFS: Cannot open root device",
              "The kernel could not open the root device named on its command line.", severity="error",
              stage="kernel", os="linux", source=_KERNEL_DOCS,
              samples=('[    2.100311] VFS: Cannot open root device "sda1" or unknown-block(0,0): error -6',)),
    # The kernel's own GPF ("general protection fault: 0000 [#1]", "…, probably for non-canonical address");
    # "traps: java[812] general protection fault ip:… in libc.so" is a user-space crash, not the kernel's.
    Signature("boot:kernel:general_protection_fault",
              r"general protection fault(?:: [0-9a-f]{4} \[#\d+\]|, (?:probably|maybe) for)",
              "General protection fault in the kernel.", severity="error", os="linux",
              source="kernel arch/x86/kernel/traps.c (exc_general_protection)",
              samples=("[ 5021.661802] general protection fault, probably for non-canonical address "
                       "0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI",
                       "[ 5021.661802] general protection fault: 0000 [#1] SMP",
                       "[ 5021.661802] Oops: general protection fault, probably for non-canonical address "
                       "0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI")),
    Signature("boot:kernel:hard_lockup",
              r"Watchdog detected hard LOCKUP on cpu (?P<cpu>\d+)|NMI watchdog: hard LOCKUP"
              r"|NMI Watchdog detected LOCKUP on CPU ?(?P<old_cpu>\d+)",
              build=_hard_lockup, severity="error", os="linux", source="kernel/watchdog.c (watchdog_hardlockup_check)",
              samples=("[ 7120.004412] Watchdog detected hard LOCKUP on cpu 1",
                       "[ 7120.004412] NMI watchdog: Watchdog detected hard LOCKUP on cpu 3",
                       "NMI Watchdog detected LOCKUP on CPU 2")),
    Signature("boot:kernel:soft_lockup",
              r"soft lockup - CPU#(?P<cpu>\d+) stuck for (?P<seconds>\d+)s! \[(?P<task>[^\]]*)",
              "CPU {cpu} was stuck in the kernel for {seconds} s running {task} (soft lockup).",
              severity="error", os="linux", explains=False, source="kernel/watchdog.c (watchdog_timer_fn)",
              samples=("[ 9031.221245] watchdog: BUG: soft lockup - CPU#0 stuck for 23s! [kworker/0:1:31337]",
                       "[ 9031.221245] NMI watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [java:4121]")),
    Signature("boot:kernel:rcu_stall", r"INFO: rcu_\w+ (?:self-)?detected (?:expedited )?stalls?"
              r"|rcu_\w+ kthread starved for \d+ jiffies",
              "The kernel's RCU machinery stalled (a CPU made no progress for tens of seconds; often a starved or "
              "overcommitted host).", severity="error", os="linux", source="kernel/rcu/tree_stall.h",
              samples=("[ 1432.112002] rcu: INFO: rcu_sched self-detected stall on CPU",
                       "[ 1432.112002] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
                       "INFO: rcu_sched detected stalls on CPUs/tasks: { 1} (detected by 0, t=60002 jiffies)",
                       "[ 1432.112002] rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 3-... } 21002 "
                       "jiffies s: 1093 root: 0x8/.",
                       "[ 1432.112002] rcu: rcu_sched kthread starved for 10502 jiffies! g72489 f0x0 "
                       "RCU_GP_WAIT_FQS(5) ->state=0x402 ->cpu=1")),
    Signature("boot:kernel:irq_flood", r"irq (?P<irq>\d+): nobody cared|Disabling IRQ #(?P<number>\d+)",
              build=_irq_flood,
              severity="warning", os="linux", source="kernel/irq/spurious.c (__report_bad_irq)",
              samples=("[   12.337102] irq 11: nobody cared (try booting with the \"irqpoll\" option)",
                       "[   12.338401] Disabling IRQ #11")),
    Signature("boot:kernel:oops",
              r"\bOops(?::| -) |BUG: unable to handle|BUG: kernel NULL pointer|kernel BUG at |BUG: Bad page state"
              r"|BUG: scheduling while atomic|Unable to handle kernel (?:NULL pointer dereference|paging request)"
              r"|invalid opcode: [0-9a-f]{4} \[#",
              build=_oops, severity="error", os="linux",
              source="kernel arch/x86/mm/fault.c, arch/arm64/mm/fault.c, lib/bug.c; EC2Rescue kernelbug and "
                     "kerneldereference modules",
              samples=("[ 4012.221100] BUG: kernel NULL pointer dereference, address: 0000000000000008",
                       "[ 4012.223311] Oops: 0000 [#1] PREEMPT SMP NOPTI",
                       "[  811.000122] kernel BUG at mm/slub.c:4012!",
                       "[  811.000122] BUG: unable to handle kernel paging request at ffffffffc0a1b2c3",
                       "[  811.000122] Unable to handle kernel NULL pointer dereference at virtual address "
                       "0000000000000010",
                       "[  811.000122] invalid opcode: 0000 [#1] SMP PTI",
                       "[  811.000122] BUG: Bad page state in process java  pfn:1f3a2c")),
    Signature("boot:kernel:hung_task", r"INFO: task (?P<task>\S+) blocked for more than (?P<seconds>\d+) seconds",
              "Task {task} was blocked in the kernel for more than {seconds} s (a storage or lock stall).",
              severity="warning", os="linux", explains=False, source="kernel/hung_task.c",
              samples=("[ 1210.021547] INFO: task jbd2/sda1-8:215 blocked for more than 120 seconds.",)),
    # The problem words are the literal (not the driver names): healthy boots print many hv_* lines.
    Signature("boot:kernel:hv_driver_failed",
              r"\b(?P<driver>hv_vmbus|hv_storvsc|storvsc|vmbus|hv_netvsc|hv_pci|hv_utils|hv_balloon)\b.*?"
              r"(?:[Pp]robe failed|failed with error|[Ff]ailed to |timed out|[Uu]nable to |error -\d|[Aa]borting|"
              r"not ready|not respond)",
              build=_hv_driver, severity="error", os="linux",
              source="kernel drivers/hv/vmbus_drv.c, drivers/scsi/storvsc_drv.c, drivers/net/hyperv/netvsc_drv.c",
              samples=("[    5.120331] hv_vmbus: probe failed for device 9a3b2c1d (-110)",
                       "[   31.442100] storvsc: timed out waiting for host response",
                       "[    5.120331] hv_storvsc f8b3781a-1e82-4818-a1c3-63d806ec15bb: probe failed with error -12",
                       "[    6.004113] hv_netvsc 000d3a5b-8c2e-000d-3a5b-8c2e000d3a5b: probe of "
                       "000d3a5b-8c2e-000d-3a5b-8c2e000d3a5b failed with error -110")),
]))
