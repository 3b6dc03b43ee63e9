"""The windows family: what the serial port (EMS/SAC) and the OCR'd boot-diagnostics screenshot print,
each read as the right finding with a summary that names the stop code, status, file, drive or service
the line shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from bootlog_data import ESC

from kit.analyze.bootlog import BootReport, Finding, parse_boot_log
from kit.analyze.bootlog.rules.windows import BOOT_STATUSES, STOP_CODES

DATA = Path(__file__).parents[1] / "data"
SAC_BANNER = ("\r\nComputer is booting, SAC started and initialized.\r\n\r\n"
              'Use the "ch -?" command for information about using channels.\r\n'
              'Use the "?" command for general help.\r\n\r\n\r\nSAC>\r\nEVENT: The CMD command is now available.\r\n'
              "SAC>")


def parse(text: str) -> BootReport:
    return parse_boot_log(text.replace("\r\n", "\n").replace("\n", "\r\n").encode() + b"\r\n")


def windows(text: str) -> list[Finding]:
    """The windows-family findings of ``text`` (one line, or a few lines of one screen)."""
    return [f for f in parse(text).findings if f.kind.startswith("boot:windows:")]


def last(text: str, kind: str) -> Finding:
    """The finding of the last line of ``text``, which must be of ``kind``."""
    line = text.count("\n") + 1
    found = [f for f in windows(text) if f.line == line]
    assert [f.kind for f in found] == [kind], (text, [(f.kind, f.summary) for f in windows(text)])
    assert ESC not in found[0].summary and "[0;" not in found[0].summary
    return found[0]


# --- stop codes --------------------------------------------------------------------------------------

BUGCHECKS = [
    # EMS text on the serial port (Windows Server 2008 R2 / 2012 and later with bootems on)
    ("*** STOP: 0x0000007B (0xFFFFF880009A97E8,0xFFFFFFFFC0000034,0x0000000000000000,0x0000000000000000)",
     ("0x7B", "INACCESSIBLE_BOOT_DEVICE")),
    ("*** STOP: 0x000000EF (0xFFFFE0014A5BC840,0x0000000000000000,0x0000000000000000,0x0000000000000000)",
     ("0xEF", "CRITICAL_PROCESS_DIED")),
    ("*** Fatal System Error: 0x000000ed", ("0xED", "UNMOUNTABLE_BOOT_VOLUME")),
    # the Windows 10 / Server 2016+ stop screen, as OCR reads it (the screenshot engineer joins it into one line)
    ("Your PC ran into a problem and needs to restart. Stop code: CRITICAL_PROCESS_DIED What failed: ntfs.sys",
     ("CRITICAL_PROCESS_DIED", "0xEF", "ntfs.sys")),
    ("Your PC ran into a problem and needs to restart. We're just collecting some error info, and then we'll "
     "restart for you. 20% complete Stop code: INACCESSIBLE_BOOT_DEVICE", ("INACCESSIBLE_BOOT_DEVICE", "0x7B")),
    ("Stop code: CRITICAL_PROCESS_DIED", ("CRITICAL_PROCESS_DIED", "0xEF")),
    ("Stop code: CRITICAL SERVICE FAILED", ("CRITICAL_SERVICE_FAILED", "0x5A")),  # spaces, as one article shows it
    ("Stop code: 0xc000021a", ("0xC000021A", "STATUS_SYSTEM_PROCESS_TERMINATED")),
    ("Stop Code: (INACCESSIBLE_BOOT_DEVICE)", ("INACCESSIBLE_BOOT_DEVICE", "0x7B")),
    ("Stop code: DPC_WATCHDOG_VIOLATION", ("DPC_WATCHDOG_VIOLATION", "0x133")),
    ("Stop code: SOME_NEW_STOP_CODE", ("SOME_NEW_STOP_CODE",)),  # unknown names are still named
    # Windows 8 / Server 2012 screen
    ("If you'd like to know more, you can search online later for this error: INACCESSIBLE_BOOT_DEVICE",
     ("INACCESSIBLE_BOOT_DEVICE", "0x7B")),
    ("Your PC ran into a problem and needs to restart. We're just collecting some error info, and then you can "
     "restart. (100% complete) If you'd like to know more, you can search online later for this error: 0xC000021a.",
     ("0xC000021A", "STATUS_SYSTEM_PROCESS_TERMINATED")),
    # the debugger, the event log and a cmd channel
    ("BugCheck 0x7b", ("0x7B", "INACCESSIBLE_BOOT_DEVICE")),
    ("BugCheck EF, {ffff988cc624b7c0, 0, 0, 0}", ("0xEF", "CRITICAL_PROCESS_DIED")),
    ("Bugcheck code: 0x133 (0x1, 0x1E00, 0xFFFFF80563CFB320, 0x0)", ("0x133", "DPC_WATCHDOG_VIOLATION")),
    ("The computer has rebooted from a bugcheck.  The bugcheck was: 0x0000009f (0x0000000000000003, "
     "0xffffb80e2b3c5060, 0xfffff8036a8b6850, 0xffffb80e3b2ad010).", ("0x9F", "DRIVER_POWER_STATE_FAILURE")),
    ("*** STOP: 0x0000DEAD (0x0,0x0,0x0,0x0)", ("0xDEAD",)),  # unknown numbers are still named
    # the legacy screen prints the name on a line of its own
    ("INACCESSIBLE_BOOT_DEVICE", ("INACCESSIBLE_BOOT_DEVICE", "0x7B")),
    ("KERNEL_SECURITY_CHECK_FAILURE", ("KERNEL_SECURITY_CHECK_FAILURE", "0x139")),
    # a cmd channel's clear-screen codes in front (ESC kept, and ESC lost)
    (f"{ESC}[2J{ESC}[0;0HStop code: CRITICAL_PROCESS_DIED", ("CRITICAL_PROCESS_DIED",)),
    ("[2J[0;0HStop code: CRITICAL_PROCESS_DIED", ("CRITICAL_PROCESS_DIED",)),
]


@pytest.mark.parametrize(("line", "named"), BUGCHECKS)
def test_a_stop_code_is_a_critical_bugcheck_naming_the_code(line: str, named: tuple[str, ...]) -> None:
    finding = last(line, "boot:windows:bugcheck")
    assert finding.severity == "critical"
    for word in named:
        assert word in finding.summary, (word, finding.summary)


@pytest.mark.parametrize("number", sorted(STOP_CODES), ids=lambda n: f"0x{n:X}")
def test_every_known_stop_code_is_named_from_its_number_and_numbered_from_its_name(number: int) -> None:
    name = STOP_CODES[number][0]
    from_number = last(f"*** STOP: 0x{number:08X} (0x0,0x0,0x0,0x0)", "boot:windows:bugcheck").summary
    from_name = last(f"Stop code: {name}", "boot:windows:bugcheck").summary
    assert f"0x{number:X} {name}" in from_number and f"{name} (0x{number:X})" in from_name


def test_the_table_holds_the_common_azure_stop_codes() -> None:
    for number, name in [(0x7B, "INACCESSIBLE_BOOT_DEVICE"), (0xEF, "CRITICAL_PROCESS_DIED"),
                         (0xED, "UNMOUNTABLE_BOOT_VOLUME"), (0x5A, "CRITICAL_SERVICE_FAILED"),
                         (0x50, "PAGE_FAULT_IN_NONPAGED_AREA"), (0x3B, "SYSTEM_SERVICE_EXCEPTION"),
                         (0x7E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED"), (0xD1, "DRIVER_IRQL_NOT_LESS_OR_EQUAL"),
                         (0x1E, "KMODE_EXCEPTION_NOT_HANDLED"), (0x133, "DPC_WATCHDOG_VIOLATION"),
                         (0x9F, "DRIVER_POWER_STATE_FAILURE"), (0xC2, "BAD_POOL_CALLER"),
                         (0x139, "KERNEL_SECURITY_CHECK_FAILURE"), (0x19, "BAD_POOL_HEADER"),
                         (0xF4, "CRITICAL_OBJECT_TERMINATION"), (0xC000021A, "STATUS_SYSTEM_PROCESS_TERMINATED"),
                         (0x124, "WHEA_UNCORRECTABLE_ERROR"), (0x101, "CLOCK_WATCHDOG_TIMEOUT"),
                         (0x0A, "IRQL_NOT_LESS_OR_EQUAL"), (0x154, "UNEXPECTED_STORE_EXCEPTION"),
                         (0x1000007E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M")]:
        assert STOP_CODES[number][0] == name
    assert len(STOP_CODES) >= 30


def test_the_stop_screen_headline_alone_is_a_bugcheck_and_a_whole_screen_keeps_the_sac_stage() -> None:
    finding = last("Your PC ran into a problem and needs to restart.", "boot:windows:bugcheck")
    assert finding.severity == "critical" and "stop code is not on this line" in finding.summary
    report = parse_boot_log((DATA / "windows-bugcheck.log").read_bytes())
    assert report.stage == "sac" and report.boots == 1
    assert {f.kind for f in report.findings} == {"boot:windows:bugcheck"}


# --- Boot Manager and BCD -----------------------------------------------------------------------------

JOINED = [
    # (the screenshot engineer's one-line Boot Manager screen, kind, words the summary must hold)
    ("Windows Boot Manager: Status: 0xc000000e File: \\Windows\\system32\\winload.exe Info: The selected entry "
     "could not be loaded because the application is missing or corrupt.",
     "boot:windows:boot_manager_error", ("0xc000000e", "STATUS_NO_SUCH_DEVICE", "\\Windows\\system32\\winload.exe",
                                         "not accessible")),
    ("Windows Boot Manager: Status: 0xc0000034 File: \\Boot\\BCD Info: The Windows Boot Configuration Data file "
     "is missing required information.",
     "boot:windows:bcd_error", ("0xc0000034", "\\Boot\\BCD", "missing")),
    ("Windows Boot Manager: Status: 0xc000000f File: \\Boot\\BCD Info: The Boot Configuration Data for your PC is "
     "missing or contains errors.",
     "boot:windows:bcd_error", ("0xc000000f", "STATUS_NO_SUCH_FILE", "\\Boot\\BCD", "corrupt")),
    ("Windows Boot Manager: Status: 0xc000000f File: \\Windows\\system32\\winload.exe Info: The application or "
     "operating system couldn't be loaded because a required file is missing or contains errors.",
     "boot:windows:boot_manager_error", ("0xc000000f", "winload.exe")),
    ("Windows Boot Manager: Status: 0xc0000098 File: \\Windows\\System32\\drivers\\vmbus.sys Info: Windows failed "
     "to load because a critical system driver is missing or corrupt.",
     "boot:windows:boot_manager_error", ("0xc0000098", "STATUS_FILE_INVALID", "vmbus.sys")),
    ("Windows Boot Manager: Status: 0xc0000225 File: \\Windows\\System32\\drivers\\atapi.sys Info: The operating "
     "system couldn't be loaded because a critical system driver is missing or contains errors.",
     "boot:windows:boot_manager_error", ("0xc0000225", "STATUS_NOT_FOUND", "atapi.sys", "driver")),
    ("Windows Boot Manager: Status: 0xc0000225 Info: The boot selection failed because a required device is "
     "inaccessible.",
     "boot:windows:boot_manager_error", ("0xc0000225", "not found")),
    ("Windows Boot Manager: Status: 0xc000014c File: \\Windows\\System32\\config\\system Info: The operating "
     "system could not be loaded because the system registry file is missing or contains errors.",
     "boot:windows:boot_manager_error", ("0xc000014c", "STATUS_REGISTRY_CORRUPT", "config\\system", "registry")),
    ("Windows Boot Manager: Status: 0xc0000001 Info: A required device isn't connected or can't be accessed.",
     "boot:windows:boot_manager_error", ("0xc0000001", "STATUS_UNSUCCESSFUL", "not accessible")),
    ("Windows Boot Manager: Status: 0xc0000605 File: \\Windows\\System32\\winload.exe Info: A component of the "
     "operating system has expired.",
     "boot:windows:boot_manager_error", ("0xc0000605", "expired", "winload.exe")),
    ("Windows Boot Manager: Status: 0xc0000221 File: \\Windows\\system32\\ntoskrnl.exe Info: The operating system "
     "couldn't be loaded because the kernel is missing or contains errors.",
     "boot:windows:boot_manager_error", ("0xc0000221", "ntoskrnl.exe", "corrupt")),
    # OCR without the colons, and with the status upper-cased
    ("Windows Boot Manager Status 0xC000000E File \\Windows\\system32\\winload.exe",
     "boot:windows:boot_manager_error", ("0xC000000E", "winload.exe")),
    # the real screen's order: File before Status
    ("File: \\Windows\\System32\\winload.exe Status: 0xc0000605 Info: A component of the operating system has "
     "expired.", "boot:windows:boot_manager_error", ("0xc0000605", "winload.exe")),
]


@pytest.mark.parametrize(("line", "kind", "named"), JOINED)
def test_a_boot_manager_screen_names_the_status_the_file_and_what_they_mean(line: str, kind: str,
                                                                            named: tuple[str, ...]) -> None:
    finding = last(line, kind)
    assert finding.severity == "critical"
    for word in named:
        assert word in finding.summary, (word, finding.summary)


def test_a_bcd_error_names_the_status_actually_printed() -> None:
    """The old text said 0xc0000034 whatever the screen showed."""
    finding = last("Windows Boot Manager: Status: 0xc000000f File: \\Boot\\BCD", "boot:windows:bcd_error")
    assert "0xc000000f" in finding.summary and "0xc0000034" not in finding.summary
    bare = last("Windows Boot Manager: File: \\EFI\\Microsoft\\Boot\\BCD", "boot:windows:bcd_error")
    assert "\\EFI\\Microsoft\\Boot\\BCD" in bare.summary and "0xc0000034" not in bare.summary


def test_the_serial_boot_manager_screen_names_the_file_printed_above_its_status() -> None:
    report = parse_boot_log((DATA / "windows-bcd-missing.log").read_bytes())
    status = next(f for f in report.findings if "Status:" in f.text)
    assert status.kind == "boot:windows:bcd_error" and "0xc0000034" in status.summary
    assert "\\Boot\\BCD" in status.summary
    screen = ("Windows Boot Manager\n\nWindows failed to start. A recent hardware or software change might be the\n"
              "cause.\n\n    File: \\Windows\\System32\\drivers\\atapi.sys\n\n    Status: 0xc0000225\n")
    finding = last(screen.rstrip("\n"), "boot:windows:boot_manager_error")
    assert "atapi.sys" in finding.summary and "0xc0000225" in finding.summary
    failed = [f for f in windows(screen) if "failed to start" in f.text]
    assert [f.kind for f in failed] == ["boot:windows:boot_manager_error"]


def test_error_code_lines_count_only_on_a_boot_manager_or_recovery_screen() -> None:
    # a recovery screen printed line by line: the status below it belongs to it
    screen = ("Recovery\nYour PC/Device needs to be repaired\nThe operating system couldn't be loaded because the "
              "system registry file is missing or contains errors.\nFile: \\Windows\\system32\\config\\system\n"
              "Error code: 0xc0000225")
    finding = last(screen, "boot:windows:boot_manager_error")
    assert "0xc0000225" in finding.summary and "config\\system" in finding.summary
    # the same words in a running guest's cmd channel are not a boot failure
    after_sac = SAC_BANNER + "\nInstallation failure: Error code: 0x80070643\n    Status: 0xC0000225"
    assert not [f for f in windows(after_sac) if f.severity in ("critical", "error", "warning")]


def test_a_boot_manager_screen_after_a_healthy_boot_starts_a_new_boot() -> None:
    log = (DATA / "windows-sac-healthy.log").read_bytes().rstrip(b"\0") + (
        b"\r\nWindows Boot Manager: Status: 0xc000000e File: \\Windows\\system32\\winload.exe\r\n")
    report = parse_boot_log(log)
    assert report.boots == 2 and report.stage == "boot-manager"
    assert [f.kind for f in report.findings] == ["boot:windows:boot_manager_error"]
    two = parse_boot_log((DATA / "windows-sac-healthy.log").read_bytes() + b"BOOTMGR is missing\r\n"
                         b"Press Ctrl+Alt+Del to restart\r\n")
    assert two.boots == 2 and [f.kind for f in two.findings] == ["boot:windows:bootmgr_missing"]


def test_the_boot_manager_menu_is_a_warning() -> None:
    finding = last("Windows Boot Manager Choose an operating system to start, or press TAB to select a tool:",
                   "boot:windows:boot_menu")
    assert finding.severity == "warning" and "displaybootmenu" in finding.summary


def test_the_status_tables_cover_the_documented_boot_errors() -> None:
    for number in (0xC000000E, 0xC0000034, 0xC000000F, 0xC0000098, 0xC0000225, 0xC000014C, 0xC0000001, 0xC0000605):
        assert number in BOOT_STATUSES


# --- screens a VM stops or waits on ---------------------------------------------------------------------

SCREENS = [
    # (line, kind, severity, words the summary must hold)
    ("BOOTMGR is missing", "boot:windows:bootmgr_missing", "critical", ("BOOTMGR is missing",)),
    ("BOOTMGR is missing Press Ctrl+Alt+Del to restart", "boot:windows:bootmgr_missing", "critical", ("active",)),
    ("BOOTMGR is compressed", "boot:windows:bootmgr_missing", "critical", ("BOOTMGR is compressed",)),
    ("A disk read error occurred", "boot:windows:bootmgr_missing", "critical", ("disk read error",)),
    ("Preparing Automatic Repair", "boot:windows:automatic_repair", "critical", ("Preparing Automatic Repair",)),
    ("Diagnosing your PC", "boot:windows:automatic_repair", "critical", ("Diagnosing your PC",)),
    ("Attempting repairs", "boot:windows:automatic_repair", "critical", ("Attempting repairs",)),
    ("Automatic Repair couldnt repair your PC", "boot:windows:automatic_repair", "critical", ("repair",)),
    ("Automatic Repair Your PC did not start correctly Press Restart to restart your PC, which can sometimes fix the "
     "problem.", "boot:windows:recovery", "critical", ("did not start correctly",)),
    ("Your PC didnt start correctly", "boot:windows:recovery", "critical", ("did not start correctly",)),
    ("Recovery: Your PC/Device needs to be repaired. File: \\Boot\\BCD Error code: 0xc0000034 Info: The Boot "
     "Configuration Data file doesn't contain valid information for an operating system.",
     "boot:windows:recovery", "critical", ("0xc0000034", "\\Boot\\BCD", "BCD")),
    ("Your PC/Device needs to be repaired", "boot:windows:recovery", "critical", ("repaired",)),
    ("Windows Error Recovery", "boot:windows:recovery", "critical", ("Windows Error Recovery",)),
    ("Scanning and repairing drive (C:): 12% complete", "boot:windows:chkdsk", "warning", ("drive C:", "12%")),
    ("Scanning and repairing drive C 12 % complete", "boot:windows:chkdsk", "warning", ("drive C:", "12%")),
    ("Checking file system on D:", "boot:windows:chkdsk", "warning", ("drive D:",)),
    ("CHKDSK is verifying files (stage 1 of 3)...", "boot:windows:chkdsk", "warning", ("CHKDSK",)),
    ("To skip disk checking, press any key within 8 second(s).", "boot:windows:chkdsk", "warning", ("CHKDSK",)),
    ("Getting Windows ready", "boot:windows:updating", "warning", ("Getting Windows ready",)),
    ("Getting Windows ready. Don't turn off your computer", "boot:windows:updating", "warning", ("Getting Windows",)),
    ("Dont turn off your computer", "boot:windows:updating", "warning", ("turn off",)),
    ("Working on updates 27% complete", "boot:windows:updating", "warning", ("Working on updates 27% complete",)),
    ("Working on updates  100% complete  Don't turn off your computer", "boot:windows:updating", "warning",
     ("100% complete",)),
    ("Working on features 40% complete", "boot:windows:updating", "warning", ("Working on features",)),
    ("Configuring Windows updates 30% complete", "boot:windows:updating", "warning", ("Configuring",)),
    ("We couldn't complete the updates Undoing changes Don't turn off your computer", "boot:windows:updating",
     "warning", ("Undoing changes",)),
    ("Undoing changes made to your computer", "boot:windows:updating", "warning", ("Undoing changes",)),
    ("Installing update 3 of 5...", "boot:windows:updating", "warning", ("Installing update",)),
    ("Fatal Error C01A001D applying update operations 61745 of 95478 ($$...)", "boot:windows:updating", "error",
     ("C01A001D", "STATUS_LOG_FULL")),
    ("Applying security policy...", "boot:windows:applying_policy", "warning", ("security policy",)),
    ("Applying security policy to the system", "boot:windows:applying_policy", "warning", ("security policy",)),
    ("Applying Group Policy Local Users and Groups policy", "boot:windows:applying_policy", "warning",
     ("Local Users and Groups",)),
    ("Applying Group Policy Scheduled Tasks policy", "boot:windows:applying_policy", "warning", ("Scheduled Tasks",)),
    ("Please wait for the Group Policy Client", "boot:windows:applying_policy", "warning", ("Group Policy Client",)),
    ("Applying Audit Policy Configuration policy", "boot:windows:applying_policy", "warning", ("Audit Policy",)),
]


@pytest.mark.parametrize(("line", "kind", "severity", "named"), SCREENS)
def test_screens_a_vm_stops_or_waits_on(line: str, kind: str, severity: str, named: tuple[str, ...]) -> None:
    finding = last(line, kind)
    assert finding.severity == severity
    for word in named:
        assert word in finding.summary, (word, finding.summary)


def test_screens_that_finish_by_themselves_are_warnings_and_loops_are_critical() -> None:
    kinds = {kind: severity for _, kind, severity, _ in SCREENS if severity != "error"}
    assert kinds["boot:windows:chkdsk"] == kinds["boot:windows:updating"] == "warning"
    assert kinds["boot:windows:applying_policy"] == "warning"
    assert kinds["boot:windows:automatic_repair"] == kinds["boot:windows:recovery"] == "critical"
    assert kinds["boot:windows:bootmgr_missing"] == "critical"


# --- the running guest: SAC, services, network, activation, Safe Mode -------------------------------------

GUEST = [
    ("EVENT: The start type of the DHCP Client service was changed from auto start to disabled.",
     "boot:windows:dhcp_disabled", "error", ("DHCP Client", "disabled")),
    ("EVENT: The DHCP Client (Dhcp) service entered the stopped state.",
     "boot:windows:dhcp_disabled", "error", ("DHCP Client", "stopped")),
    ("The DHCP Client service hung on starting.", "boot:windows:dhcp_disabled", "error", ("hung",)),
    ("The DHCP Client service terminated with the following error: Access is denied.",
     "boot:windows:dhcp_disabled", "error", ("terminated",)),
    ("Net: 10, Ip=169.254.41.7  Subnet=255.255.0.0  Gateway=0.0.0.0", "boot:windows:dhcp_disabled", "error",
     ("169.254.41.7", "Network 10", "APIPA")),
    ("   Autoconfiguration IPv4 Address. . : 169.254.113.20(Preferred)", "boot:windows:dhcp_disabled", "error",
     ("169.254.113.20",)),
    ("EVENT: The Remote Desktop Services (TermService) service entered the stopped state.",
     "boot:windows:rdp_service", "critical", ("TermService",)),
    ("EVENT: The start type of the Remote Desktop Services (TermService) service was changed from demand start to "
     "disabled.", "boot:windows:rdp_service", "critical", ("disabled",)),
    ("EVENT: The Remote Desktop Services (TermService) service entered the running state.",
     "boot:windows:rdp_running", "info", ("running",)),
    ("Error: 0xC004F074 The Software Licensing Service reported that the computer could not be activated. No Key "
     "Management Service (KMS) could be contacted. Please see the Application Event Log for additional information.",
     "boot:windows:activation", "warning", ("0xC004F074", "KMS")),
    ("License Activation (slui.exe) failed with the following error code: hr=0xC004F074",
     "boot:windows:activation", "warning", ("0xC004F074",)),
    ("Code: 0xC004FD02 Description: Windows isn't activated on the host machine. Please contact your system "
     "administrator.", "boot:windows:activation", "warning", ("0xC004FD02", "AVMA")),
    ("Activate Windows Go to Settings to activate Windows.", "boot:windows:activation", "warning", ("watermark",)),
    ("Safe Mode", "boot:windows:safe_mode", "error", ("Safe Mode",)),
    ("Safe Mode                                    Safe Mode", "boot:windows:safe_mode", "error", ("Safe Mode",)),
    ("safeboot                Minimal", "boot:windows:safe_mode", "error", ("safeboot",)),
]


@pytest.mark.parametrize(("line", "kind", "severity", "named"), GUEST)
def test_the_running_guest_forms(line: str, kind: str, severity: str, named: tuple[str, ...]) -> None:
    finding = last(line, kind)
    assert finding.severity == severity
    for word in named:
        assert word in finding.summary, (word, finding.summary)


HEALTHY = [
    "Computer is booting, SAC started and initialized.",
    "EVENT: The CMD command is now available.",
    'EVENT:   A new channel has been created.  Use "ch -?" for channel help.',
    "EVENT: The DHCP Client (Dhcp) service entered the running state.",
    "EVENT: The start type of the DHCP Client service was changed from disabled to auto start.",
    "Net: 10, Ip=10.0.0.4  Subnet=255.255.255.0  Gateway=10.0.0.1",
    "Net: 10, Ip=fe80::20d:3aff:fe4f:7e21",
    "   IPv4 Address. . . . . . . . . . . : 10.0.0.4(Preferred)",
    "SERVICE_NAME: TermService",
    "C:\\Windows\\system32>bcdedit /deletevalue {current} safeboot",
    "Safe Mode with Networking Safe Mode with Command Prompt",
    "Windows Boot Manager",
    "Windows Boot Loader",
    "Starting Windows",
    "Activating Windows(R), ServerDatacenter edition (e.g. CB7KF-BWN84-R7R2Y-793K2-8XDDG) ... "
    "Product activated successfully.",
    "Press Ctrl+Alt+Delete to unlock.",
    "Status   Name               DisplayName",
]


@pytest.mark.parametrize("line", HEALTHY)
def test_healthy_windows_lines_raise_no_warning(line: str) -> None:
    assert not [f for f in windows(line) if f.severity in ("critical", "error", "warning")], windows(line)


def test_a_healthy_sac_boot_is_clean_and_reaches_the_login_stage() -> None:
    report = parse_boot_log((DATA / "windows-sac-healthy.log").read_bytes())
    assert (report.os, report.stage, report.boots) == ("windows", "windows-login", 1)
    assert {f.severity for f in report.findings} == {"info"}
    events = {e.kind for e in report.events}
    assert {"boot:windows:sac_started", "boot:windows:sac_prompt", "boot:windows:cmd_available"} <= events


def test_the_health_report_is_info_and_windows() -> None:
    report = parse_boot_log((DATA / "windows-health-report.log").read_bytes())
    assert [(f.kind, f.severity) for f in report.findings] == [("boot:windows:health_report", "info")]
    assert report.os == "windows"


LINUX = [
    f"[{ESC}[0;32m  OK  {ESC}[0m] Started {ESC}[0;1;39mDispatch Password Requests to Console Directory Watch{ESC}[0m.",
    "[[0;32m  OK  [0m] Started [0;1;39mOpenBSD Secure Shell server[0m.",
    "[  OK  ] Reached target Network is Online.",
    f"[{ESC}[0;1;31mFAILED{ESC}[0m] Failed to start {ESC}[0;1;39mssh.servic…{ESC}[0m - OpenBSD Secure Shell server.",
    "[    6.324986] cloud-init[712]: ci-info: |   3   | 169.254.169.254 | 10.30.4.1 | 255.255.255.255 |    eth0   |"
    "  UGH  |",
    "Nov 25 09:14:02 vm-01 systemd[1]: Starting Windows Subsystem helper...",  # a made-up unit: still a loader event
    "2026-11-25T09:14:02.123456+00:00 vm-01 dhclient[812]: DHCPDISCOVER on eth0 to 255.255.255.255 port 67",
    "[   12.345678] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null). Quota mode: none.",
    "Nov 25 09:14:02 vm-01 NetworkManager[700]: <info>  [1764061991.1234] dhcp4 (eth0): state changed bound",
]


@pytest.mark.parametrize("line", LINUX)
def test_linux_console_lines_raise_no_windows_problem(line: str) -> None:
    assert not [f for f in windows(line) if f.severity in ("critical", "error", "warning")], windows(line)


def test_the_lab_rdp_scenario_still_reads_as_rdp_off() -> None:
    log = Path(__file__).parents[4] / "kit/lab/scenarios/windows-rdp/serial/claims-app-01.log"
    report = parse_boot_log(log.read_bytes())
    assert report.os == "windows" and report.boots == 2
    assert [f.kind for f in report.findings if f.severity == "critical"] == ["boot:windows:rdp_service"]
