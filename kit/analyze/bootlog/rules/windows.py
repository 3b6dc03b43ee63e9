"""Windows: boot manager and BCD errors, bugchecks, SAC (the serial console), the Azure VM health report
shown when SAC is off, and Remote Desktop service messages in SAC ``EVENT:`` lines."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.analyze.bootlog.rules._base import Context, Hit, register

__all__ = ["WindowsRule"]

_STOP = re.compile(r"\*\*\* STOP: (0x[0-9A-Fa-f]+)|Stop code:\s*(\S+)|BugCheck(?:Code)?[: ]+(0x[0-9A-Fa-f]+|\w+)|"
                   r"bugcheck[: ]+(0x[0-9A-Fa-f]+|\w+)|\b(INACCESSIBLE_BOOT_DEVICE|CRITICAL_PROCESS_DIED|"
                   r"UNMOUNTABLE_BOOT_VOLUME|CRITICAL_SERVICE_FAILED|IRQL_NOT_LESS_OR_EQUAL|"
                   r"SYSTEM_THREAD_EXCEPTION_NOT_HANDLED|KERNEL_SECURITY_CHECK_FAILURE|PAGE_FAULT_IN_NONPAGED_AREA)\b")
_STATUS = re.compile(r"Status:\s*(0x[0-9A-Fa-f]{8})")
_BCD = re.compile(r"0xc0000034|Boot Configuration Data|\\Boot\\BCD|\\boot\\bcd", re.IGNORECASE)
_RDP = re.compile(r"TermService|Remote Desktop Services|Remote Desktop|fDenyTSConnections|UmRdpService")
_RDP_BAD = re.compile(r"disabled|stopped|stopping|terminated|failed|did not start|stop state|fDenyTSConnections\D*1",
                      re.IGNORECASE)
_RDP_GOOD = re.compile(r"entered the running state|started|running", re.IGNORECASE)


class WindowsRule:
    """Windows serial output: EMS/boot manager, bugcheck text and SAC."""

    NAME = "windows"
    TRIGGERS = (
        "SAC", "EVENT:", "Boot Manager", "Boot Loader", "Windows", "STOP:", "Stop code", "BugCheck", "Bugcheck",
        "Status: 0x", "Boot Configuration Data", "File: \\", "TermService", "Remote Desktop", "Health Report",
        "Computer is booting", "INACCESSIBLE_BOOT_DEVICE", "CRITICAL_PROCESS_DIED", "UNMOUNTABLE_BOOT_VOLUME",
        "CRITICAL_SERVICE_FAILED", "IRQL_NOT_LESS", "SYSTEM_THREAD_EXCEPTION", "KERNEL_SECURITY_CHECK",
    )

    def matches(self, line: str) -> bool:
        return (
            "SAC" in line or "EVENT:" in line or "Windows" in line or "Boot " in line or "STOP" in line
            or "Stop code" in line or "ug" in line or "Status: 0x" in line or "File: \\" in line
            or "Remote Desktop" in line or "TermService" in line or "Health Report" in line
            or "Computer is booting" in line or "_" in line
        )

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        if "Computer is booting, SAC started and initialized" in line:
            return [Hit("boot:windows:sac_started", "Windows started its Special Administration Console (SAC) on "
                        "the serial port.", stage="sac", boot_start=True, os="windows")]
        if "VM Health Report" in line or "Health Report" in line and "Azure" in line:
            return [Hit("boot:windows:health_report", "Azure wrote a VM health report to the serial log (SAC is not "
                        "enabled in this guest).", severity="info", os="windows")]
        if _RDP.search(line) and ("EVENT" in line or "service" in line.lower() or "fDenyTSConnections" in line):
            if _RDP_BAD.search(line):
                return [Hit("boot:windows:rdp_service", f"Remote Desktop is off in the guest: {line.strip()[-160:]}",
                            severity="critical", os="windows")]
            if _RDP_GOOD.search(line):
                return [Hit("boot:windows:rdp_running", "The Remote Desktop service is running.", severity="info",
                            os="windows")]
        stop = _STOP.search(line)
        if stop:
            code = next(group for group in stop.groups() if group)
            return [Hit("boot:windows:bugcheck", f"Windows stopped with a bugcheck (stop code {code}).",
                        severity="critical", stage="windows-kernel", os="windows")]
        status = _STATUS.search(line)
        if (status or "File: \\" in line or "Boot Configuration Data" in line) and _BCD.search(line):
            return [Hit("boot:windows:bcd_error", "The Windows Boot Manager cannot read the Boot Configuration Data "
                        "(BCD, 0xc0000034): the BCD store is missing or corrupt.", severity="critical",
                        stage="boot-manager", os="windows")]
        if status and ("Windows" in line or "Boot" in line or context.stage == "boot-manager"):
            return [Hit("boot:windows:boot_manager_error", f"The Windows Boot Manager failed with status "
                        f"{status.group(1)}.", severity="critical", stage="boot-manager", os="windows")]
        if "EVENT: The CMD command is now available" in line:
            return [Hit("boot:windows:cmd_available", "Windows finished starting services (SAC's CMD channel is "
                        "available).", severity="info", stage="windows-login", os="windows")]
        if line.lstrip().startswith("SAC>"):
            return [Hit("boot:windows:sac_prompt", "The SAC> prompt was shown.", stage="sac", os="windows")]
        if "EVENT:" in line:
            return [Hit("boot:windows:sac_event", f"SAC event: {line.strip()[:160]}", os="windows")]
        if "Windows Boot Manager" in line:
            return [Hit("boot:windows:boot_manager", "The Windows Boot Manager started.", stage="boot-manager",
                        boot_start=True, os="windows")]
        if "Windows Boot Loader" in line or "Windows is loading files" in line or "Starting Windows" in line:
            return [Hit("boot:windows:loader", "The Windows loader is starting the kernel.", stage="windows-kernel",
                        os="windows")]
        return []


register(WindowsRule())
