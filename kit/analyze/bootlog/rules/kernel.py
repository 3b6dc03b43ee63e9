"""Kernel messages: the kernel banner, panics, oopses, lockups and Hyper-V driver failures."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.analyze.bootlog.rules._base import Context, Hit, register

__all__ = ["KernelRule"]

_VERSION = re.compile(r"Linux version (\S+)")
_PANIC = re.compile(r"Kernel panic - not syncing:?\s*(.*)")
_OOPS = re.compile(r"\bOops(?::| -) |BUG: unable to handle|BUG: kernel NULL pointer|kernel BUG at ")
_HV_PROBLEM = re.compile(r"fail|error|timed? ?out|abort|not (?:ready|respond)", re.IGNORECASE)
_HV_NAME = re.compile(r"\b(hv_vmbus|hv_storvsc|storvsc|vmbus)\b")


class KernelRule:
    """Linux kernel console messages."""

    NAME = "kernel"
    TRIGGERS = (
        "Linux version", "Command line:", "Kernel panic", "Oops", "BUG:", "BUG at", "#1]", "#2]", "#3]",
        "INFO: task", "VFS:", "vmbus", "storvsc", "Run /init",
    )

    def matches(self, line: str) -> bool:
        return (
            "Linux version" in line or "Command line:" in line or "panic" in line or "Oops" in line
            or "BUG" in line or "general protection" in line or "INFO: task" in line or "VFS:" in line
            or "vmbus" in line or "storvsc" in line or "Run /init" in line
        )

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        version = _VERSION.search(line)
        if version and "Linux version" in line[:80]:
            return [Hit("boot:kernel:start", f"Linux kernel {version.group(1)} started.", stage="kernel",
                        boot_start=True, os="linux")]
        if "Command line:" in line and ("BOOT_IMAGE" in line or "root=" in line):
            return [Hit("boot:kernel:cmdline", "Kernel command line.", stage="kernel", os="linux")]
        if "Run /init as init process" in line:
            return [Hit("boot:kernel:run_init", "The kernel handed over to the initramfs (/init).", stage="initramfs",
                        os="linux")]
        if "---[ end Kernel panic" in line:
            return [Hit("boot:kernel:panic_end", "End of the kernel panic report: the VM is halted.", stage="kernel",
                        os="linux")]
        panic = _PANIC.search(line)
        if panic:
            reason = panic.group(1).strip() or "no reason given"
            if "VFS: Unable to mount root fs" in line:
                summary = (f"Kernel panic: the kernel could not mount the root file system ({reason}); usually a "
                           "missing or broken initramfs for this kernel, or a wrong root= device.")
            elif "Attempted to kill init" in line:
                summary = f"Kernel panic: init (PID 1) died ({reason})."
            else:
                summary = f"Kernel panic: {reason}."
            return [Hit("boot:kernel:panic", summary, severity="critical", stage="kernel", os="linux")]
        if "VFS: Cannot open root device" in line:
            return [Hit("boot:kernel:root_device", "The kernel could not open the root device named on its command "
                        "line.", severity="error", stage="kernel", os="linux")]
        if "general protection fault" in line:
            return [Hit("boot:kernel:general_protection_fault", "General protection fault in the kernel.",
                        severity="error", os="linux")]
        if "soft lockup" in line or "hard LOCKUP" in line:
            return [Hit("boot:kernel:soft_lockup", "A CPU was stuck in the kernel (lockup watchdog fired).",
                        severity="error", os="linux")]
        if _OOPS.search(line):
            return [Hit("boot:kernel:oops", "Kernel oops/BUG: the kernel hit an internal error.", severity="error",
                        os="linux")]
        if "INFO: task" in line and "blocked for more than" in line:
            return [Hit("boot:kernel:hung_task", "A task was blocked in the kernel for minutes (storage stall?).",
                        severity="warning", os="linux")]
        name = _HV_NAME.search(line)
        if name and _HV_PROBLEM.search(line):
            return [Hit("boot:kernel:hv_driver_failed",
                        f"Hyper-V driver problem ({name.group(1)}): {line.strip()[-160:]}",
                        severity="error", os="linux")]
        return []


register(KernelRule())
