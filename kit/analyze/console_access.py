"""Serial console access: the RBAC actions a responder needs, and whether the guest answers on the port.

Example::

    serial_access(log_bytes, "linux")      # SerialAccess(status="ok", reason="a getty … ttyS0", …)
    console_actions(vm_id)                  # the actions the responder needs on the VM

The Azure Serial Console needs, on the VM (or scale-set instance), the right to connect to its
serial port and Virtual Machine Contributor-level rights on it (read and write), and, when boot
diagnostics write to a custom storage account, read and list-keys rights on that account
(Microsoft's serial console documentation, "Serial Console RBAC role"). Managed boot diagnostics
need no storage rights.

Whether anything answers behind the port is the guest's business, and the serial log says it:
Windows answers only when Emergency Management Services are on (the log shows "Computer is
booting, SAC started and initialized" or a ``SAC>`` prompt; Azure writes a "VM Health Report"
instead when they are off); Linux answers with a login prompt only when a getty runs on ttyS0
(``serial-getty@ttyS0``, a ``login:`` prompt in the log). :func:`serial_access` reads that with
:func:`kit.analyze.bootlog.parse_boot_log`: ``ok`` when some boot showed it, ``failed`` when a
boot got far enough to show it and did not, ``unknown`` when no boot got that far (or no log).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kit.analyze.bootlog import BootReport, parse_boot_log, stage_reached
from kit.ids import VMSS_VM, try_parse

__all__ = [
    "BOOT_STORAGE_ACTIONS",
    "CONNECT_ACTION",
    "SerialAccess",
    "console_actions",
    "serial_access",
]

#: Connecting to a serial port (Virtual Machine Contributor and above hold it).
CONNECT_ACTION = "Microsoft.SerialConsole/serialPorts/connect/action"
#: On a custom boot-diagnostics storage account: read it and list its keys (the serial log's SAS).
BOOT_STORAGE_ACTIONS = ("Microsoft.Storage/storageAccounts/read", "Microsoft.Storage/storageAccounts/listKeys/action")
_VM_ACTIONS = ("Microsoft.Compute/virtualMachines/read", "Microsoft.Compute/virtualMachines/write")
_VMSS_VM_ACTIONS = ("Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read",
                    "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/write")
_SAC = ("boot:windows:sac_started", "boot:windows:sac_prompt")
_GETTY = ("boot:systemd:getty", "boot:systemd:login_banner")
#: A getty on tty1 is the VM's screen, not its serial port; the serial log only shows ttyS0's prompts.
_SERIAL_TTY = re.compile(r"\bttyS\d")
_EMS_FIX = ("turn EMS on in the guest (Run Command: bcdedit /ems {current} on; bcdedit /emssettings "
            "EMSPORT:1 EMSBAUDRATE:115200), then restart the VM")
_GETTY_FIX = ("start a getty on ttyS0 in the guest (Run Command: systemctl enable --now serial-getty@ttyS0.service) "
              "and keep console=ttyS0,115200 on the kernel command line (GRUB_CMDLINE_LINUX)")


def console_actions(vm_id: str) -> tuple[str, ...]:
    """The actions a responder needs on ``vm_id`` (a VM or a scale-set instance) to use its console."""
    parsed = try_parse(vm_id)
    instance = parsed is not None and parsed.is_kind(VMSS_VM)
    return (CONNECT_ACTION, *(_VMSS_VM_ACTIONS if instance else _VM_ACTIONS))


@dataclass(frozen=True)
class SerialAccess:
    """Whether the guest answers on the serial port, as its serial log shows.

    Parameters
    ----------
    status
        ``ok``, ``failed`` or ``unknown`` (the log cannot tell).
    reason
        What the log shows (or does not).
    fix
        What to change in the guest (empty when ``ok``).
    line
        The 1-based log line that shows it, if any.
    """

    status: str
    reason: str
    fix: str = ""
    line: int | None = None


def serial_access(log: bytes | str, os_type: str | None = None) -> SerialAccess:
    """Whether Windows' SAC or a Linux serial getty answers on the console, from the serial log.

    ``os_type`` (``linux`` / ``windows``, from the VM) wins over what the log suggests.
    """
    if not log:
        return SerialAccess("unknown", "no serial log to read (boot diagnostics have written nothing yet)")
    report = parse_boot_log(log.encode("utf-8", errors="replace") if isinstance(log, str) else log)
    os_name = (os_type or report.os or "").lower()
    if os_name == "windows":
        return _windows(report)
    if os_name == "linux":
        return _linux(report)
    return SerialAccess("unknown", "the serial log does not show which OS booted")


def _windows(report: BootReport) -> SerialAccess:
    seen = next((event for event in report.events if event.kind in _SAC), None)
    if seen is not None:
        return SerialAccess("ok", f"SAC answers on the serial port (log line {seen.line}: {seen.text.strip()[:80]})",
                            line=seen.line)
    health = next((event for event in report.events if event.kind == "boot:windows:health_report"), None)
    if health is not None:
        return SerialAccess("failed", f"Windows runs without SAC: Azure wrote a VM Health Report instead (log line "
                                      f"{health.line}); EMS is off, the console will show nothing to type into",
                            _EMS_FIX, health.line)
    if any(stage_reached(report.stage, "windows-kernel") or event.stage in ("windows-kernel", "windows-login")
           for event in report.events):
        return SerialAccess("failed", "Windows booted but SAC never started on the serial port: EMS is off",
                            _EMS_FIX)
    return SerialAccess("unknown", f"no boot in the serial log got as far as starting SAC (last boot: {report.stage})")


def _linux(report: BootReport) -> SerialAccess:
    gettys = [event for event in report.events
              if event.kind == "boot:systemd:login_prompt" or (event.kind in _GETTY and _SERIAL_TTY.search(event.text))]
    last = report.boots - 1
    seen = next((event for event in gettys if event.boot == last), None) or (gettys[-1] if gettys else None)
    if seen is not None:
        when = "" if seen.boot == last else f" in an earlier boot (the last one stopped at {report.stage})"
        shown = seen.text.split("login:", 1)[0] + "login:" if "login:" in seen.text else seen.text
        return SerialAccess("ok", f"a getty answers on ttyS0{when} (log line {seen.line}: {shown.strip()[:80]})",
                            line=seen.line)
    reached = [event for event in report.events if event.stage in ("multi-user", "login")]
    if reached or report.reached("multi-user"):
        line = reached[0].line if reached else None
        return SerialAccess("failed", "the boot reached multi-user but no getty started on ttyS0: the console will "
                                      "show kernel messages and no login prompt", _GETTY_FIX, line)
    return SerialAccess("unknown", f"no boot in the serial log got as far as starting gettys "
                                   f"(last boot: {report.stage})")
