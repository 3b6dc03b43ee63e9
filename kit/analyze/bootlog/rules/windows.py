"""Windows: the Boot Manager and its BCD errors, stop codes (bugchecks), the recovery and repair screens,
update / policy / CHKDSK screens a VM can sit on, SAC (the serial console), the Azure VM health report
shown when SAC is off, and the guest services an RDP connection needs (Remote Desktop, DHCP Client).

Lines come from two places: the serial port with EMS/SAC enabled (``Computer is booting, SAC started
and initialized.``, ``EVENT:`` notices, a cmd channel's screen), and the text of the boot-diagnostics
screenshot, read by OCR (punctuation may be missing, a screen may be joined into one line:
``Windows Boot Manager: Status: 0xc000000e File: \\Windows\\system32\\winload.exe Info: …``).

Sources: Microsoft, "Troubleshoot Azure Virtual Machines boot errors" and the articles it links
(learn.microsoft.com/troubleshoot/azure/virtual-machines/windows/…: boot-error-0xc0000034,
error-code-0xc000000e, boot-error-0xc000000f, boot-error-0xc0000098, boot-error-status-not-found
(0xc0000225), boot-error-0xc000014c, error-code-0xc0000605, boot-error-0xc0000011, -0xc0000221,
-0xc0000359, os-bootmgr-missing, windows-boot-failure (INACCESSIBLE_BOOT_DEVICE),
troubleshoot-common-blue-screen-error, troubleshoot-guide-critical-process-died,
troubleshoot-critical-service-failed-boot-error, windows-stop-error-system-process-terminated,
troubleshoot-vm-boot-configure-update, troubleshoot-stuck-updating-boot-error,
azure-vm-cannot-rdp-working-features, unresponsive-vm-apply-windows-update,
unresponsive-vm-apply-security-policy, applying-group-policy-*, vm-stops-at-please-wait-for-group-policy-client,
troubleshoot-check-disk-boot-error, troubleshoot-guide-windows-boot-manager-menu, troubleshoot-rdp-safe-mode,
troubleshoot-rdp-dhcp-disabled, troubleshoot-activation-problems, windows-vm-activation-error-0xc004f074,
windows-vm-activation-error-0xc004fd01-0xc004fd02, activation-watermark-appears); the Automatic Repair screen
(learn.microsoft.com/troubleshoot/windows-client/performance/windows-devices-fail-boot-after-installing-
kb4041676-kb4041691); Azure's self-help boot-error texts (TheresaLui/SelfHelpContent_v2,
articles/microsoft.compute.cantrdp.noboot/: errorcode-0xc0000001, osstartup-preparing-confgure-windows);
the bug check code reference (learn.microsoft.com/windows-hardware/drivers/debugger/bug-check-code-reference2); the SAC
message table (reactos/reactos: sdk/include/reactos/mc/sacmsg.mc).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["BOOT_STATUSES", "RULE", "STOP_CODES"]

_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/windows/"
_BUGCHECKS = "https://learn.microsoft.com/windows-hardware/drivers/debugger/bug-check-code-reference2"
_SAC_MESSAGES = "reactos/reactos:sdk/include/reactos/mc/sacmsg.mc"
_AUTOMATIC_REPAIR = ("https://learn.microsoft.com/troubleshoot/windows-client/performance/"
                     "windows-devices-fail-boot-after-installing-kb4041676-kb4041691")

#: Stop codes Azure VMs show most, by number: (name, what it usually means on a VM — "" when nothing short fits).
STOP_CODES: dict[int, tuple[str, str]] = {
    0x0000000A: ("IRQL_NOT_LESS_OR_EQUAL", "a driver touched invalid or paged memory at raised IRQL"),
    0x00000019: ("BAD_POOL_HEADER", "kernel pool memory is corrupt"),
    0x0000001A: ("MEMORY_MANAGEMENT", "the kernel found a memory-management error"),
    0x0000001E: ("KMODE_EXCEPTION_NOT_HANDLED", "a kernel-mode exception was not handled (usually a driver)"),
    0x00000024: ("NTFS_FILE_SYSTEM", "the NTFS file system is corrupt"),
    0x0000003B: ("SYSTEM_SERVICE_EXCEPTION", "a system service raised an exception (usually a driver)"),
    0x00000050: ("PAGE_FAULT_IN_NONPAGED_AREA", "invalid system memory was referenced (driver or corrupt file)"),
    0x0000005A: ("CRITICAL_SERVICE_FAILED", "a boot-critical service or driver failed to start (often an unsigned "
                 "or broken driver)"),
    0x00000067: ("CONFIG_INITIALIZATION_FAILED", "the registry could not be loaded"),
    0x00000074: ("BAD_SYSTEM_CONFIG_INFO", "the SYSTEM registry hive is damaged"),
    0x00000077: ("KERNEL_STACK_INPAGE_ERROR", "kernel data could not be read back from disk"),
    0x0000007A: ("KERNEL_DATA_INPAGE_ERROR", "kernel data could not be read back from disk"),
    0x0000007B: ("INACCESSIBLE_BOOT_DEVICE", "Windows lost access to its boot disk (storage driver, BCD or an "
                 "inactive partition)"),
    0x0000007E: ("SYSTEM_THREAD_EXCEPTION_NOT_HANDLED", "a system thread raised an exception (usually a driver)"),
    0x0000007F: ("UNEXPECTED_KERNEL_MODE_TRAP", "the CPU raised a trap the kernel could not handle"),
    0x00000080: ("NMI_HARDWARE_FAILURE", "a non-maskable interrupt arrived (a hardware fault, or an NMI sent from "
                 "the serial console)"),
    0x0000008E: ("KERNEL_MODE_EXCEPTION_NOT_HANDLED", "a kernel-mode exception was not handled (usually a driver)"),
    0x0000009F: ("DRIVER_POWER_STATE_FAILURE", "a driver did not complete a power request"),
    0x000000C2: ("BAD_POOL_CALLER", "a driver made a bad pool request"),
    0x000000C4: ("DRIVER_VERIFIER_DETECTED_VIOLATION", "Driver Verifier caught a driver violation"),
    0x000000D1: ("DRIVER_IRQL_NOT_LESS_OR_EQUAL", "a driver touched invalid or paged memory at raised IRQL"),
    0x000000E2: ("MANUALLY_INITIATED_CRASH", "a crash dump was triggered on purpose"),
    0x000000ED: ("UNMOUNTABLE_BOOT_VOLUME", "the boot volume could not be mounted (file-system corruption)"),
    0x000000EF: ("CRITICAL_PROCESS_DIED", "a critical system process died during boot (often OS file "
                 "corruption)"),
    0x000000F4: ("CRITICAL_OBJECT_TERMINATION", "a critical process or thread exited"),
    0x00000101: ("CLOCK_WATCHDOG_TIMEOUT", "a virtual processor stopped answering clock interrupts"),
    0x00000124: ("WHEA_UNCORRECTABLE_ERROR", "an uncorrectable hardware error was reported"),
    0x00000133: ("DPC_WATCHDOG_VIOLATION", "a deferred procedure call ran too long (a driver or a storage stall)"),
    0x00000139: ("KERNEL_SECURITY_CHECK_FAILURE", "the kernel found a corrupt critical data structure"),
    0x0000013A: ("KERNEL_MODE_HEAP_CORRUPTION", "the kernel heap is corrupt"),
    0x00000154: ("UNEXPECTED_STORE_EXCEPTION", "the memory store component hit an unexpected exception"),
    0x1000007E: ("SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M", "a system thread raised an exception (usually a driver)"),
    0x1000008E: ("KERNEL_MODE_EXCEPTION_NOT_HANDLED_M", "a kernel-mode exception was not handled (usually a "
                 "driver)"),
    0xC0000017: ("STATUS_NO_MEMORY", "there is not enough memory to start Windows"),
    0xC000021A: ("STATUS_SYSTEM_PROCESS_TERMINATED", "winlogon.exe or csrss.exe failed (mismatched system files or "
                 "a failed update)"),
    0xC0000218: ("STATUS_CANNOT_LOAD_REGISTRY_FILE", "a registry hive could not be loaded"),
    0xC00002E2: ("STATUS_DS_INIT_FAILURE", "Active Directory could not start on this domain controller"),
}
_STOP_NUMBERS = {name: number for number, (name, _) in STOP_CODES.items()}
#: Names recognised on their own in a line (not the STATUS_* ones, which other text prints too).
_BARE_NAMES = sorted([name for name in _STOP_NUMBERS if not name.startswith("STATUS_")] +
                     ["STATUS_SYSTEM_PROCESS_TERMINATED"], key=len, reverse=True)

#: Boot Manager / winload statuses of the Azure boot-error articles: (NTSTATUS name, what it means there).
BOOT_STATUSES: dict[int, tuple[str, str]] = {
    0xC0000001: ("STATUS_UNSUCCESSFUL", "a device named in the Boot Configuration Data (BCD) is not accessible"),
    0xC000000E: ("STATUS_NO_SUCH_DEVICE", "the boot device is not accessible (the BCD names a device that does not "
                 "exist, or winload.exe cannot be reached)"),
    0xC000000F: ("STATUS_NO_SUCH_FILE", "a boot file is missing (a corrupt BCD with an unknown device/osdevice, or a "
                 "missing binary)"),
    0xC0000011: ("STATUS_END_OF_FILE", "a system binary is not the version Windows expects"),
    0xC0000017: ("STATUS_NO_MEMORY", "there is not enough memory to start Windows"),
    0xC0000034: ("STATUS_OBJECT_NAME_NOT_FOUND", "the BCD store is missing or has no entry for the Windows "
                 "partition"),
    0xC0000098: ("STATUS_FILE_INVALID", "a system driver is missing, corrupt or from another Windows version"),
    0xC00000BA: ("STATUS_FILE_IS_A_DIRECTORY", "a boot file is damaged"),
    0xC0000102: ("STATUS_FILE_CORRUPT_ERROR", "a boot file or the file system is corrupt"),
    0xC000014C: ("STATUS_REGISTRY_CORRUPT", "the SYSTEM registry hive is corrupt or was not closed cleanly"),
    0xC0000221: ("STATUS_IMAGE_CHECKSUM_MISMATCH", "a system file (often the kernel) is corrupt because the file "
                 "system is damaged"),
    0xC0000225: ("STATUS_NOT_FOUND", "a required file or device was not found (a missing driver, a corrupt BCD "
                 "when no file is named, or a corrupt registry hive)"),
    0xC0000359: ("STATUS_INVALID_IMAGE_WIN_32", "a 32-bit system binary replaced the 64-bit one"),
    0xC0000428: ("STATUS_INVALID_IMAGE_HASH", "the digital signature of a boot file cannot be verified"),
    0xC0000605: ("STATUS_IMAGE_CERT_EXPIRED", "a component of the operating system has expired (the VM was built "
                 "from a preview or trial image)"),
}
#: Statuses whose meaning depends on the file the screen names.
_FILE_DEPENDENT = frozenset({0xC000000F, 0xC0000225, 0xC0000102, 0xC00000BA})

_FILE = re.compile(r"File:?\s*(?P<file>\\\S+|[A-Za-z]:\\\S+)")
_INFO = re.compile(r"Info:?\s*(?P<info>.+?)\s*(?=(?:File|Status|Error [Cc]ode):|$)")
_BCD_FILE = re.compile(r"\\boot\\bcd\b", re.IGNORECASE)
_BCD_TEXT = re.compile(r"boot configuration data", re.IGNORECASE)
_HIVE_FILE = re.compile(r"\\config\\(?:system|software)\b", re.IGNORECASE)
_DRIVER_FILE = re.compile(r"\\drivers\\(?P<driver>[^\\\s]+)", re.IGNORECASE)
_PERCENT = re.compile(r"(?P<pct>\d{1,3})\s*%")
_WHAT_FAILED = re.compile(r"What failed:?\s*(?P<module>[\w.-]+)")
_RDP_BAD = re.compile(r"disabled|stopped|stopping|terminated|failed|did not start|stop state"
                      r"|fDenyTSConnections\D*?(?:0x|dword:)?0*1\b", re.IGNORECASE)
_RDP_GOOD = re.compile(r"entered the running state|started|running", re.IGNORECASE)
_DHCP_STATE = re.compile(r"(?P<state>disabled|stopped|stopping|hung on starting|failed to start|terminated"
                         r"|did not start|could not (?:be )?start\w*)", re.IGNORECASE)
#: What the DHCP Client state words say about the service.
_DHCP_SAID = (("disabled", "disabled"), ("stop", "stopped"), ("hung", "hung while starting"),
              ("terminated", "terminated"), ("start", "failing to start"))
_START_TYPE = re.compile(r"changed from .+? to (?P<to>.+)")
_NAME = r"[A-Z][A-Z0-9]*(?![a-z])(?:[_ ][A-Z0-9]+(?![A-Za-z0-9]))*"
_CODE = rf"(?P<code>0[xX][0-9A-Fa-f]{{1,8}}\b|{_NAME})"
_APOS = "['\u2019]?"


# ----------------------------------------------------------------------------------------------
# Boot Manager screens: a file printed on one line, its status on a later one


#: A status this many lines below a ``File:`` line belongs to the same screen.
_SCREEN_LINES = 8


def _remember_file(context: Context, file: str) -> None:
    context.notes["windows:file"] = (context.boot, context.line, file)


def _recalled_file(context: Context) -> str:
    boot, line, file = context.notes.get("windows:file", (-1, -1, ""))
    return file if boot == context.boot and 0 < context.line - line <= _SCREEN_LINES else ""


def _status_name(number: int) -> str:
    known = BOOT_STATUSES.get(number)
    return f" {known[0]}" if known else ""


def _screen_meaning(number: int | None, file: str, info: str) -> str:
    """What a Boot Manager status (with the file it names) means, or the screen's own Info text."""
    if number is not None and number in BOOT_STATUSES and number not in _FILE_DEPENDENT:
        return BOOT_STATUSES[number][1]
    if file and _BCD_FILE.search(file):
        return "the BCD store is missing or corrupt"
    if file and _HIVE_FILE.search(file):
        return "the registry hive is missing or corrupt"
    driver = _DRIVER_FILE.search(file) if file else None
    if driver:
        return f"the driver {driver.group('driver')} is missing, corrupt or the wrong version"
    if file and re.search(r"winload\.(?:exe|efi)", file, re.IGNORECASE):
        return "the OS loader winload cannot be loaded (a BCD entry points at a missing device or file)"
    if number is not None and number in BOOT_STATUSES:
        return BOOT_STATUSES[number][1]
    return info.rstrip(".") if info else ""


def _screen_parts(match: re.Match[str], context: Context) -> tuple[str, int | None, str, str]:
    """The status text, its number, the file (on this line or the screen's ``File:`` line) and the Info text."""
    line = match.string
    status = match.groupdict().get("status") or ""
    number = int(status, 16) if status else None
    found = _FILE.search(line)
    file = found.group("file").rstrip(".,;") if found else _recalled_file(context)
    info = _INFO.search(line)
    return status, number, file, info.group("info") if info else ""


def _is_bcd(number: int | None, file: str, info: str) -> bool:
    if file:
        return bool(_BCD_FILE.search(file)) or (number in (0xC0000034, 0xC000000F) and bool(_BCD_TEXT.search(info)))
    return number == 0xC0000034 or bool(_BCD_TEXT.search(info))


def _on_boot_manager_screen(match: re.Match[str], context: Context) -> bool:
    line = match.string
    return (context.stage == "boot-manager" or "Windows" in line or "Boot" in line or "File:" in line
            or "Info:" in line)


def _bcd_status(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    status, number, file, info = _screen_parts(match, context)
    if not _on_boot_manager_screen(match, context) or not _is_bcd(number, file, info):
        return None
    where = f"{file}, " if file else ""
    meaning = BOOT_STATUSES[0xC0000034][1] if number == 0xC0000034 else "the BCD store is missing or corrupt"
    return signature.hit(match, summary=f"The Windows Boot Manager cannot read the Boot Configuration Data "
                         f"({where}status {status}{_status_name(number or 0)}): {meaning}.",
                         boot_start="Windows Boot Manager" in match.string)


def _boot_manager_status(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    status, number, file, info = _screen_parts(match, context)
    if not _on_boot_manager_screen(match, context):
        return None
    loading = f" loading {file}" if file else ""
    meaning = _screen_meaning(number, file, info)
    return signature.hit(match, summary=f"The Windows Boot Manager failed with status {status}"
                         f"{_status_name(number or 0)}{loading}" + (f": {meaning}." if meaning else "."),
                         boot_start="Windows Boot Manager" in match.string)


def _file_line(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    """A Boot Manager ``File:`` line: a BCD error when it names the BCD, else remembered for the status below it."""
    file = match.group("file").rstrip(".,;")
    if not _BCD_FILE.search(file):
        if context.stage == "boot-manager":
            _remember_file(context, file)
        return None
    _remember_file(context, file)
    return signature.hit(match, summary=f"The Windows Boot Manager cannot read the Boot Configuration Data ({file}): "
                         "the BCD store is missing or corrupt.")


def _recovery(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    line = match.string
    status = re.search(r"(?:Error [Cc]ode|Status):?\s*(?P<status>0x[0-9A-Fa-f]{8})", line)
    found = _FILE.search(line)
    file = found.group("file").rstrip(".,;") if found else ""
    screen = match.group(0)
    if "did" in screen:
        what = "Windows did not start correctly and stopped at the Automatic Repair screen"
    elif "Error Recovery" in screen or "Startup Repair" in screen:
        what = "Windows failed to start and stopped at the Windows Error Recovery menu"
    else:
        what = "Windows shows the Recovery screen 'Your PC/Device needs to be repaired'"
    if status is None and not file:
        return signature.hit(match, summary=f"{what}; it waits there until someone repairs the OS disk.")
    code = status.group("status") if status else ""
    number = int(code, 16) if code else None
    parts = ", ".join(part for part in (f"error code {code}{_status_name(number or 0)}" if code else "", file) if part)
    meaning = _screen_meaning(number, file, "")
    return signature.hit(match, summary=f"{what} ({parts})" + (f": {meaning}." if meaning else "."))


def _windows_failed(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    return signature.hit(match, summary="The Windows Boot Manager could not start Windows (its 'Windows failed to "
                         "start' screen; the status and file are printed below it).")


# ----------------------------------------------------------------------------------------------
# Stop codes


def _stop_code(text: str) -> tuple[str, str]:
    """A stop code as the summary names it (``0x7B INACCESSIBLE_BOOT_DEVICE``, ``CRITICAL_PROCESS_DIED (0xEF)``)
    and what it usually means ("" when it is not in :data:`STOP_CODES`)."""
    text = text.strip().strip("()#.")
    if re.fullmatch(r"0[xX][0-9A-Fa-f]{1,8}", text):
        number = int(text, 16)
        known = STOP_CODES.get(number)
        return (f"0x{number:X} {known[0]}", known[1]) if known else (f"0x{number:X}", "")
    candidate = text.replace(" ", "_").upper()
    for name in _BARE_NAMES + [n for n in _STOP_NUMBERS if n not in _BARE_NAMES]:
        if candidate == name or candidate.startswith(name + "_"):
            number = _STOP_NUMBERS[name]
            return f"{name} (0x{number:X})", STOP_CODES[number][1]
    return text.split(" ")[0], ""


def _bugcheck_hit(signature: Signature, match: re.Match[str], code: str) -> Hit:
    label, meaning = _stop_code(code)
    what = _WHAT_FAILED.search(match.string)
    failed = f" (what failed: {what.group('module')})" if what else ""
    return signature.hit(match, summary=f"Windows stopped with bugcheck {label}{failed}"
                         + (f": {meaning}." if meaning else "."))


def _bugcheck(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    code = match.groupdict().get("code") or match.groupdict().get("name") or ""
    return _bugcheck_hit(signature, match, code) if code else None


def _bare_hex(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    return _bugcheck_hit(signature, match, "0x" + match.group("hex"))


# ----------------------------------------------------------------------------------------------
# Screens a VM can wait on, services, SAC


def _percent(line: str) -> str:
    found = _PERCENT.search(line)
    return f" ({found.group('pct')}% complete)" if found else ""


def _chkdsk(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    drive = re.search(r"(?:drive|on)\s*\(?(?P<drive>[A-Z]):?\)?", match.string)
    where = f"drive {drive.group('drive')}:" if drive else "a disk"
    return signature.hit(match, summary=f"CHKDSK is checking and repairing {where} at boot{_percent(match.string)}; "
                         "Windows starts once it finishes (it can take hours on a large volume).")


def _updating(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    screen = " ".join(match.string.split())[:100]
    return signature.hit(match, summary=f"Windows is installing or rolling back updates at boot ('{screen}'); "
                         "wait for it to finish before restarting.")


def _update_failed(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    code = match.group("code")
    why = (" (C01A001D, STATUS_LOG_FULL: the OS disk is full or the registry transaction log is broken)"
           if code.upper().endswith("C01A001D") else "")
    return signature.hit(match, summary=f"Windows Update failed with error {code} while applying update operations "
                         f"at boot; the VM does not get past this screen by itself{why}.")


def _policy(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    what = match.group("what") or "Group Policy (waiting for the Group Policy Client)"
    return signature.hit(match, summary=f"Windows is applying {what.rstrip('. ')} at startup; the logon screen (and "
                         "RDP) waits until it finishes.")


def _activation(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    line = match.string
    code = match.groupdict().get("code") or ""
    if not code:
        found = re.search(r"0x[Cc]004[0-9A-Fa-f]{4}|0x8007[0-9A-Fa-f]{4}", line)
        code = found.group(0) if found else ""
    lowered = line.lower()
    if "key management service" in lowered or code.upper() == "0XC004F074":
        why = "no Key Management Service (KMS) could be contacted (azkms.core.windows.net:1688 blocked or routed away)"
    elif "hyper-v" in lowered or "host machine" in lowered or code.upper() in ("0XC004FD01", "0XC004FD02"):
        why = "the VM uses an Automatic Virtual Machine Activation (AVMA) key, which Azure does not support"
    elif "go to" in lowered:
        why = "the 'Activate Windows' watermark is shown"
    else:
        why = line.strip()[-120:]
    named = f" ({code})" if code else ""
    return signature.hit(match, summary=f"Windows activation failed{named}: {why}.")


def _dhcp(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    line = match.string
    changed = _START_TYPE.search(line)
    state = _DHCP_STATE.search(changed.group("to") if changed else line)
    if state is None:
        return None
    word = state.group("state").lower()
    status = next((said for key, said in _DHCP_SAID if key in word), word)
    return signature.hit(match, summary=f"The DHCP Client service is {status} in the guest: the VM gets no address "
                         "from Azure, so nothing can reach it.")


def _apipa(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    net = match.groupdict().get("net")
    where = f"Network {net}" if net else "The network adapter"
    return signature.hit(match, summary=f"{where} has the link-local address {match.group('ip')} (APIPA): Windows "
                         "got no address from DHCP, so the VM cannot be reached.")


def _rdp_context(line: str) -> bool:
    return "EVENT" in line or "service" in line.lower() or "fDenyTSConnections" in line


def _rdp_off(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    line = match.string
    if not _rdp_context(line) or not _RDP_BAD.search(line):
        return None
    return signature.hit(match)


def _rdp_on(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    line = match.string
    if not _rdp_context(line) or _RDP_BAD.search(line) or not _RDP_GOOD.search(line):
        return None
    return signature.hit(match)


def _health_report(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    line = match.string
    return signature.hit(match) if "VM Health Report" in line or "Azure" in line else None


def _sac_event(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    return signature.hit(match, summary=f"SAC event: {match.string.strip()[:160]}")


_BUGCHECK_SAMPLE = "*** STOP: 0x0000007B (0xFFFFF880009A97E8,0xFFFFFFFFC0000034,0x0000000000000000,0x0000000000000000)"

RULE = register(Rule("windows", [
    # --- SAC and the health report -------------------------------------------------------------
    Signature("boot:windows:sac_started", r"(?:Computer|Machine) is booting, SAC started and initialized",
              "Windows started its Special Administration Console (SAC) on the serial port.",
              stage="sac", boot_start=True, os="windows", source=_SAC_MESSAGES,
              samples=("Computer is booting, SAC started and initialized.",
                       "Machine is booting, SAC started and initialized.")),
    Signature("boot:windows:health_report", r"Health Report", build=_health_report,
              summary="Azure wrote a VM health report to the serial log (SAC is not enabled in this guest).",
              severity="info", os="windows",
              samples=("Azure VM Health Report",)),
    # --- guest services an RDP connection needs ----------------------------------------------------
    Signature("boot:windows:rdp_service", r"TermService|Remote Desktop|fDenyTSConnections|UmRdpService",
              "Remote Desktop is off in the guest: {line}", build=_rdp_off, severity="critical", os="windows",
              source=_DOCS + "troubleshoot-remote-desktop-services-issues",
              samples=("EVENT: The start type of the Remote Desktop Services (TermService) service was changed from "
                       "demand start to disabled.",
                       "EVENT: The Remote Desktop Services (TermService) service entered the stopped state.",
                       "Stopped  TermService        Remote Desktop Services",
                       '    "fDenyTSConnections"=dword:00000001',
                       "    fDenyTSConnections    REG_DWORD    0x1")),
    Signature("boot:windows:rdp_running", r"TermService|Remote Desktop", build=_rdp_on,
              summary="The Remote Desktop service is running.", severity="info", os="windows",
              samples=("EVENT: The Remote Desktop Services (TermService) service entered the running state.",
                       "Running  TermService        Remote Desktop Services")),
    Signature("boot:windows:dhcp_disabled",
              r"DHCP Client (?:\(Dhcp\) )?service|\(Dhcp\) service|Dhcp service|DHCP service", build=_dhcp,
              severity="error", os="windows", source=_DOCS + "troubleshoot-rdp-dhcp-disabled",
              samples=("EVENT: The start type of the DHCP Client service was changed from auto start to disabled.",
                       "EVENT: The DHCP Client (Dhcp) service entered the stopped state.",
                       "The DHCP Client service hung on starting.",
                       "The DHCP Client service failed to start due to the following error: Access is denied.")),
    Signature("boot:windows:dhcp_disabled", r"Net: (?P<net>\d+), Ip=(?P<ip>169\.254\.\d{1,3}\.\d{1,3})",
              build=_apipa, severity="error", os="windows", source=_SAC_MESSAGES + " (SAC_IPADDR_DATA, the i command)",
              samples=("Net: 10, Ip=169.254.41.7  Subnet=255.255.0.0  Gateway=0.0.0.0",)),
    Signature("boot:windows:dhcp_disabled",
              r"Autoconfiguration IPv4 Address[ .]*:\s*(?P<ip>169\.254\.\d{1,3}\.\d{1,3})", build=_apipa,
              severity="error", os="windows", source=_DOCS + "troubleshoot-rdp-dhcp-disabled",
              samples=("   Autoconfiguration IPv4 Address. . : 169.254.113.20(Preferred)",)),
    # --- stop codes -------------------------------------------------------------------------------
    Signature("boot:windows:bugcheck", r"\*\*\* STOP: (?P<code>0[xX][0-9A-Fa-f]{1,8})", build=_bugcheck,
              severity="critical", stage="windows-kernel", os="windows", source=_DOCS + "windows-boot-failure",
              samples=(_BUGCHECK_SAMPLE, "*** STOP: 0x000000ED (0xFFFFFA8002A44B10,0xFFFFFFFFC000014F,0x0,0x0)")),
    Signature("boot:windows:bugcheck", r"Fatal System Error: (?P<code>0[xX][0-9A-Fa-f]{1,8})", build=_bugcheck,
              severity="critical", stage="windows-kernel", os="windows", source=_BUGCHECKS,
              samples=("*** Fatal System Error: 0x0000007b",)),
    Signature("boot:windows:bugcheck", rf"(?:Stop code|Stop Code|STOP CODE|Stop error code):?\s*\(?#?{_CODE}",
              build=_bugcheck, severity="critical", stage="windows-kernel", os="windows",
              source=_DOCS + "troubleshoot-critical-service-failed-boot-error",
              samples=("Stop code: INACCESSIBLE_BOOT_DEVICE",
                       "Stop code: CRITICAL SERVICE FAILED",
                       "Stop code: 0xc000021a",
                       "Your PC ran into a problem and needs to restart. We're just collecting some error info, and "
                       "then we'll restart for you. 20% complete If you call a support person, give them this info: "
                       "Stop code: CRITICAL_PROCESS_DIED What failed: ntfs.sys",
                       "Stop Code: (INACCESSIBLE_BOOT_DEVICE)")),
    Signature("boot:windows:bugcheck", rf"search online later for (?:this|the) error:?\s*{_CODE}",
              build=_bugcheck, severity="critical", stage="windows-kernel", os="windows",
              source=_DOCS + "windows-stop-error-system-process-terminated",
              samples=("If you'd like to know more, you can search online later for this error: "
                       "INACCESSIBLE_BOOT_DEVICE",
                       "Your PC ran into a problem and needs to restart. We're just collecting some error info, and "
                       "then you can restart. (100% complete) If you'd like to know more, you can search online later "
                       "for this error: 0xC000021a.")),
    Signature("boot:windows:bugcheck",
              r"(?:BugCheck|Bugcheck|BUGCHECK|bugcheck)(?: [Cc]ode| was)?[:= ]+\{?(?P<code>0[xX][0-9A-Fa-f]{1,8})",
              build=_bugcheck, severity="critical", stage="windows-kernel", os="windows", source=_BUGCHECKS,
              samples=("BugCheck 0x7b",
                       "Bugcheck code: 0xEF (0xFFFFE0014A5BC840, 0x0, 0x0, 0x0)",
                       "The computer has rebooted from a bugcheck.  The bugcheck was: 0x000000ef (0xffffe000e78aa080, "
                       "0x0000000000000000, 0x0000000000000000, 0x0000000000000000).")),
    Signature("boot:windows:bugcheck", r"BugCheck (?P<hex>[0-9A-Fa-f]{1,8}), \{", build=_bare_hex,
              severity="critical", stage="windows-kernel", os="windows", source=_BUGCHECKS,
              samples=("BugCheck EF, {ffff988cc624b7c0, 0, 0, 0}",)),
    Signature("boot:windows:bugcheck", r"(?<![A-Za-z0-9_])(?P<name>" + "|".join(_BARE_NAMES) + r")(?![A-Za-z0-9_])",
              build=_bugcheck, severity="critical", stage="windows-kernel", os="windows", source=_BUGCHECKS,
              samples=("INACCESSIBLE_BOOT_DEVICE", "CRITICAL_PROCESS_DIED (ef)", "UNMOUNTABLE_BOOT_VOLUME")),
    Signature("boot:windows:bugcheck",
              r"Your (?:PC|device|Device) ran into a problem|"
              r"A problem has been detected and Windows has been shut down",
              "Windows stopped with a bugcheck (a blue stop-code screen; the stop code is not on this line).",
              severity="critical", stage="windows-kernel", os="windows",
              source=_DOCS + "troubleshoot-common-blue-screen-error",
              samples=("Your PC ran into a problem and needs to restart.",
                       "A problem has been detected and Windows has been shut down to prevent damage to your "
                       "computer.")),
    # --- Boot Manager, BCD and the recovery screens -------------------------------------------------
    Signature("boot:windows:recovery",
              rf"Your PC did(?: not|n{_APOS}t) start correctly|Your PC didnt start correctly",
              build=_recovery, severity="critical", stage="windows-kernel", os="windows",
              source=_AUTOMATIC_REPAIR,
              samples=("Automatic Repair Your PC did not start correctly Press Restart to restart your PC which can "
                       "sometimes fix the problem",
                       "Your PC didn't start correctly")),
    Signature("boot:windows:recovery",
              r"Your (?:PC/Device|PC|device|Device) needs to be repaired|Windows Error Recovery|Launch Startup Repair",
              build=_recovery, severity="critical", stage="boot-manager", os="windows",
              source=_DOCS + "boot-error-status-not-found",
              samples=("Recovery Your PC/Device needs to be repaired The operating system couldn't be loaded because "
                       "the system registry file is missing or contains errors. File: \\Windows\\system32\\config\\"
                       "system Error code: 0xc0000225",
                       "Your PC/Device needs to be repaired",
                       "Windows Error Recovery")),
    Signature("boot:windows:bcd_error", r"(?:Status|Error code|Error Code):?\s*(?P<status>0[xX][Cc][0-9A-Fa-f]{7})",
              build=_bcd_status, severity="critical", stage="boot-manager", os="windows",
              source=_DOCS + "boot-error-0xc0000034",
              samples=("Windows Boot Manager: Status: 0xc000000f File: \\Boot\\BCD Info: The Boot Configuration Data "
                       "for your PC is missing or contains errors.",
                       "Windows Boot Manager\nWindows failed to start.\n    File: \\Boot\\BCD\n    Status: 0xc0000034",
                       "Windows Boot Manager\n    Error Code: 0xc0000034")),
    Signature("boot:windows:boot_manager_error",
              r"(?:Status|Error code|Error Code):?\s*(?P<status>0[xX][Cc][0-9A-Fa-f]{7})",
              build=_boot_manager_status, severity="critical", stage="boot-manager", os="windows",
              source=_DOCS + "error-code-0xc000000e",
              samples=("Windows Boot Manager: Status: 0xc000000e File: \\Windows\\system32\\winload.exe Info: The "
                       "selected entry could not be loaded because the application is missing or corrupt.",
                       "Windows Boot Manager\n    File: \\Windows\\System32\\drivers\\atapi.sys\n\n    Status: "
                       "0xc0000225",
                       "Windows Boot Manager\n\n    Status: 0xc0000225",
                       "File: \\Windows\\System32\\config\\system Status: 0xc000014c Info: The operating system could "
                       "not be loaded because the system registry file is missing or contains errors.",
                       "File: \\Windows\\System32\\winload.exe Status: 0xc0000605 Info: A component of the operating "
                       "system has expired.",
                       "Windows Boot Manager Status: 0xc0000001 Info: A required device isn't connected or can't be "
                       "accessed.")),
    Signature("boot:windows:bcd_error", r"File:?\s*(?P<file>\\\S+|[A-Za-z]:\\\S+)", build=_file_line,
              severity="critical", stage="boot-manager", os="windows", source=_DOCS + "boot-error-0xc0000034",
              samples=("    File: \\Boot\\BCD", "File: \\EFI\\Microsoft\\Boot\\BCD")),
    Signature("boot:windows:bcd_error",
              r"(?:Boot Configuration Data|boot configuration data)(?: file| for your PC| store)? (?:is missing|"
              r"contains errors|could not)|attempting to read the (?:boot configuration data|Boot Configuration Data)",
              "The Windows Boot Manager cannot read the Boot Configuration Data (BCD): the BCD store is missing or "
              "corrupt.", severity="critical", stage="boot-manager", os="windows",
              source=_DOCS + "boot-error-0xc000000f",
              samples=("    Info: The Windows Boot Configuration Data file is missing required",
                       "Info: The Boot Configuration Data for your PC is missing or contains errors.",
                       "An error occurred while attempting to read the boot configuration data.")),
    Signature("boot:windows:boot_manager_error",
              r"Windows failed to start\.? A recent hardware or software change might be the", build=_windows_failed,
              severity="critical", stage="boot-manager", os="windows", source=_DOCS + "boot-error-status-not-found",
              samples=("Windows failed to start. A recent hardware or software change might be the cause.",)),
    Signature("boot:windows:boot_menu", r"Choose an operating system to start",
              "The Windows Boot Manager menu waits for someone to choose an operating system (displaybootmenu is "
              "on); the VM boots only after its timeout, if one is set.", severity="warning", stage="boot-manager",
              boot_start=True, os="windows", source=_DOCS + "troubleshoot-guide-windows-boot-manager-menu",
              samples=("Windows Boot Manager Choose an operating system to start, or press TAB to select a tool:",)),
    Signature("boot:windows:bootmgr_missing",
              r"(?P<what>BOOTMGR is missing|BOOTMGR is compressed|BOOTMGR image is corrupt|NTLDR is missing|"
              r"A disk read error occurred)",
              "The Windows boot sector stopped with '{what}': the system partition is not active or the boot files "
              "(bootmgr, BCD) are missing.", severity="critical", stage="firmware", boot_start=True, os="windows",
              source=_DOCS + "os-bootmgr-missing",
              samples=("BOOTMGR is missing", "BOOTMGR is missing Press Ctrl+Alt+Del to restart",
                       "BOOTMGR is compressed", "A disk read error occurred")),
    Signature("boot:windows:automatic_repair",
              r"(?P<what>Preparing Automatic Repair|Preparing automatic repair|Diagnosing your PC|Attempting repairs|"
              rf"(?:Automatic|Startup) Repair couldn{_APOS}t repair your PC|Startup Repair cannot repair|"
              r"Startup Repair is checking your system)",
              "Windows is in Automatic Repair ('{what}'): it failed to start twice and is trying to repair itself; "
              "a VM that loops here needs its OS disk repaired.", severity="critical", stage="windows-kernel",
              os="windows", source=_AUTOMATIC_REPAIR,
              samples=("Preparing Automatic Repair", "Diagnosing your PC", "Attempting repairs",
                       "Automatic Repair couldn't repair your PC")),
    # --- screens a VM waits on while it is busy ---------------------------------------------------
    Signature("boot:windows:chkdsk",
              r"Scanning and repairing drive|Checking file system on|CHKDSK is verifying|To skip disk checking|"
              r"Repairing disk errors|needs to be checked for consistency",
              build=_chkdsk, severity="warning", stage="windows-kernel", os="windows",
              source=_DOCS + "troubleshoot-check-disk-boot-error",
              samples=("Scanning and repairing drive (C:): 12% complete",
                       "Scanning and repairing drive C 12% complete",
                       "Checking file system on C:",
                       "CHKDSK is verifying files (stage 1 of 3)...")),
    Signature("boot:windows:updating",
              r"(?:Fatal )?Error (?P<code>[0-9A-Fa-fx]{6,10}) applying update operations",
              build=_update_failed, severity="error", stage="windows-kernel", os="windows",
              source=_DOCS + "unresponsive-vm-apply-windows-update",
              samples=("Error C01A001D applying update operations 1234 of 56789 (\\Registry\\Machine...)",
                       "Fatal Error C01A001D applying update operations 61745 of 95478 ($$...)")),
    Signature("boot:windows:updating",
              r"Getting Windows ready|^\s*Getting ready\s*$|Working on updates|Working on features|"
              r"Configuring Windows updates|configuring Windows updates|Configuring updates|"
              r"Preparing to configure Windows|Undoing changes|"
              r"Reverting changes|"
              rf"We couldn{_APOS}t complete the updates|Installing Windows \d|Installing update \d|"
              rf"(?:Don{_APOS}t|Do not|DON{_APOS}T) turn off your (?:computer|PC)",
              build=_updating, severity="warning", stage="windows-kernel", os="windows",
              source=_DOCS + "troubleshoot-stuck-updating-boot-error",
              samples=("Getting Windows ready", "Getting Windows ready Dont turn off your computer",
                       "Working on updates 27% complete", "Working on features 40% complete",
                       "Configuring Windows updates 100% complete",
                       "Failure configuring Windows updates Reverting changes Do not turn off your computer",
                       "We couldn't complete the updates Undoing changes Don't turn off your computer",
                       "Installing Windows 35% Don't turn off your PC. This will take a while",
                       "Getting ready")),
    Signature("boot:windows:applying_policy",
              r"Applying (?P<what>security policy(?: to the system)?|Group Policy [A-Za-z ]{3,40}?policy|"
              r"[Ss]oftware [Ii]nstallation policy|[Aa]udit [Pp]olicy [Cc]onfiguration policy|"
              r"Default Domain Controllers Policy|computer settings|Computer Settings)|"
              r"Please wait for the Group Policy Client",
              build=_policy, severity="warning", stage="windows-kernel", os="windows",
              source=_DOCS + "unresponsive-vm-apply-security-policy",
              samples=("Applying security policy to the system", "Applying security policy...",
                       "Applying Group Policy Environment policy", "Please wait for the Group Policy Client",
                       "Applying computer settings")),
    # --- the running guest ----------------------------------------------------------------------------
    Signature("boot:windows:activation",
              r"(?:Error: ?(?P<code>0[xX][0-9A-Fa-f]{8}) )?The Software Licensing Service reported that the "
              r"(?:computer|product) could not be activated",
              build=_activation, severity="warning", os="windows",
              source=_DOCS + "windows-vm-activation-error-0xc004f074",
              samples=("Error: 0xC004F074 The Software Licensing Service reported that the computer could not be "
                       "activated. No Key Management Service (KMS) could be contacted. Please see the Application "
                       "Event Log for additional information.",)),
    Signature("boot:windows:activation",
              r"No Key Management Service \(KMS\) could be contacted|"
              r"License Activation \(slui\.exe\) failed with the following error code:?\s*(?:hr=)?"
              r"(?P<code>0[xX][0-9A-Fa-f]{8})|"
              rf"Windows isn{_APOS}t (?:running on a supported Microsoft Hyper-V|activated on the host machine)|"
              r"Activate Windows\W{0,3}Go to (?:Settings|System in Control Panel|PC settings) to activate Windows",
              build=_activation, severity="warning", os="windows", source=_DOCS + "troubleshoot-activation-problems",
              samples=("No Key Management Service (KMS) could be contacted.",
                       "License Activation (slui.exe) failed with the following error code: hr=0xC004F074",
                       "Code: 0xC004FD01 Description: Windows isn't running on a supported Microsoft Hyper-V "
                       "virtualization platform.",
                       "Activate Windows Go to Settings to activate Windows.")),
    Signature("boot:windows:safe_mode",
              r"^\s*(?:(?:Safe Mode|Safe mode|SAFE MODE)\s*){1,4}$|"
              r"^\s*safeboot\s+(?P<mode>Minimal|Network|DsRepair)\s*$",
              "Windows booted into Safe Mode (safeboot is set in the BCD): Remote Desktop and most services do not "
              "start in Safe Mode.", severity="error", os="windows", source=_DOCS + "troubleshoot-rdp-safe-mode",
              samples=("Safe Mode", "Safe Mode     Safe Mode", "safeboot                Minimal",
                       "safeboot                Network")),
    Signature("boot:windows:cmd_available", r"EVENT: The CMD command is now available",
              "Windows finished starting services (SAC's CMD channel is available).", severity="info",
              stage="windows-login", os="windows", source=_SAC_MESSAGES,
              samples=("EVENT: The CMD command is now available.",)),
    Signature("boot:windows:sac_prompt", r"^\s*SAC>", "The SAC> prompt was shown.", stage="sac", os="windows",
              source=_SAC_MESSAGES, samples=("SAC>",)),
    Signature("boot:windows:sac_event", r"EVENT:", build=_sac_event, os="windows", source=_SAC_MESSAGES,
              samples=('EVENT:   A new channel has been created.  Use "ch -?" for channel help.',)),
    Signature("boot:windows:boot_manager", r"Windows Boot Manager", "The Windows Boot Manager started.",
              stage="boot-manager", boot_start=True, os="windows",
              samples=("Windows Boot Manager",)),
    Signature("boot:windows:loader", r"Windows Boot Loader|Windows is loading files|[Ss]tarting Windows",
              "The Windows loader is starting the kernel.", stage="windows-kernel", os="windows",
              samples=("Windows Boot Loader", "Starting Windows")),
]))
