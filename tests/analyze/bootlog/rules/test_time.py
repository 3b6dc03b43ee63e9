"""The time family: NTP clients that cannot synchronise (warning), clock steps and unstable clocksources
(info), and synchronisation (events only)."""

from __future__ import annotations

import pytest

from kit.analyze.bootlog import Finding, parse_boot_log

FAMILY = "boot:time:"


def time_findings(line: str) -> list[Finding]:
    report = parse_boot_log(line.encode() + b"\r\n")
    return [f for f in report.findings if f.kind.startswith(FAMILY)]


def forms(message: str, program: str) -> list[str]:
    stamp = "[   41.021004] "
    return [message, f"{stamp}{program}: {message}", f"Nov 25 09:14:02 vm-01 {program}: {message}",
            f"2026-11-25T09:14:02.123456+00:00 vm-01 {program}: {message}"]


CASES = [
    # (message, program, kind, severity, words the summary must name)
    ("Can't synchronise: no selectable sources", "chronyd[701]", "sync_failed", "warning",
     ("chronyd", "no selectable sources")),
    ("Can't synchronise: no selectable sources (2 unreachable sources)", "chronyd[701]", "sync_failed", "warning",
     ("no selectable sources",)),
    ("Can't synchronise: no majority (no agreement among 2 sources)", "chronyd[701]", "sync_failed", "warning",
     ("no majority",)),
    ("No suitable source for synchronisation", "chronyd[701]", "sync_failed", "warning", ("chronyd",)),
    ("Timed out waiting for reply from 185.125.190.56:123 (ntp.ubuntu.com).", "systemd-timesyncd[612]",
     "sync_failed", "warning", ("185.125.190.56:123", "ntp.ubuntu.com")),
    ("Timed out waiting for reply from [2620:2d:4000:1::41]:123 (ntp.ubuntu.com).", "systemd-timesyncd[612]",
     "sync_failed", "warning", ("[2620:2d:4000:1::41]:123",)),
    ("no servers can be used, exiting", "ntpdate[1210]", "sync_failed", "warning", ("ntpdate",)),
    ("no server suitable for synchronization found", "ntpdate[1210]", "sync_failed", "warning", ("ntpdate",)),
    ("0.0.0.0 0617 07 panic_stop +3624 s; set clock manually within 1000 s.", "ntpd[812]", "sync_failed", "warning",
     ("+3624",)),
    ("System clock wrong by 3624.521034 seconds", "chronyd[701]", "clock_jump", "info", ("3624.521034",)),
    ("System clock was stepped by -3624.521034 seconds", "chronyd[701]", "clock_jump", "info", ("-3624.521034",)),
    ("Backward time jump detected!", "chronyd[701]", "clock_jump", "info", ("Backward",)),
    ("time reset +3624.521034 s", "ntpd[812]", "clock_jump", "info", ("+3624.521034",)),
    ("step time server 162.159.200.1 offset 3624.521034 sec", "ntpdate[1210]", "clock_jump", "info",
     ("162.159.200.1", "3624.521034")),
    ("Time has been changed", "systemd[1]", "clock_jump", "info", ("time",)),
    ("Time jumped backwards, rotating.", "systemd-journald[412]", "clock_jump", "info", ("backwards",)),
    ("System clock time unset or jumped backwards, restoring from recorded timestamp: Wed 2026-11-25 09:14:02 UTC",
     "systemd-timesyncd[612]", "clock_jump", "info", ("Wed 2026-11-25 09:14:02 UTC",)),
    ("clocksource: timekeeping watchdog on CPU1: Marking clocksource 'tsc' as unstable because the skew is too large:",
     "kernel", "clock_jump", "info", ("tsc",)),
    ("Clocksource tsc unstable (delta = 4398046511104 ns)", "kernel", "clock_jump", "info", ("tsc",)),
    ("tsc: Marking TSC unstable due to clocksource watchdog", "kernel", "clock_jump", "info",
     ("clocksource watchdog",)),
]


@pytest.mark.parametrize(("message", "program", "kind", "severity", "names"), CASES, ids=[c[0][:48] for c in CASES])
@pytest.mark.parametrize("form", range(4), ids=["bare", "console", "journal", "iso-journal"])
def test_each_form_gives_its_kind_and_names_the_server_or_offset(message: str, program: str, kind: str,
                                                                 severity: str, names: tuple[str, ...],
                                                                 form: int) -> None:
    found = time_findings(forms(message, program)[form])
    assert [(f.kind, f.severity) for f in found] == [(FAMILY + kind, severity)]
    assert all(name in found[0].summary for name in names), found[0].summary


@pytest.mark.parametrize("line", [
    "Nov 25 09:14:02 vm-01 chronyd[701]: Selected source PHC0",
    "Nov 25 09:14:02 vm-01 chronyd[701]: Selected source 169.254.169.123",
    "Nov 25 09:14:02 vm-01 systemd-timesyncd[612]: Contacted time server 185.125.190.56:123 (ntp.ubuntu.com).",
    "Nov 25 09:14:02 vm-01 systemd-timesyncd[612]: Initial synchronization to time server 91.189.89.198:123 "
    "(ntp.ubuntu.com).",
    "Nov 25 09:14:02 vm-01 systemd-timesyncd[612]: Initial clock synchronization to Wed 2026-11-25 09:14:02.123456 "
    "UTC.",
])
def test_synchronisation_is_an_event_not_a_finding(line: str) -> None:
    report = parse_boot_log(line.encode() + b"\r\n")
    assert time_findings(line) == []
    assert "boot:time:synced" in {event.kind for event in report.events}


@pytest.mark.parametrize("line", [
    "[    0.000004] clocksource: hyperv_clocksource_tsc_page: mask: 0xffffffffffffffff max_cycles: 0x24e6a1710, "
    "max_idle_ns: 440795202120 ns",
    "[    0.290114] clocksource: Switched to clocksource hyperv_clocksource_tsc_page",
    "[    0.000000] tsc: Marking TSC unstable due to running on Hyper-V",
    "[   12.000000] hv_utils: TimeSync IC version 4.0",
    "Nov 25 09:14:02 vm-01 chronyd[701]: chronyd version 4.2 starting (+CMDMON +NTP +REFCLOCK +RTC +PRIVDROP)",
    "Nov 25 09:14:02 vm-01 chronyd[701]: Frequency -11.204 +/- 0.155 ppm read from /var/lib/chrony/chrony.drift",
    "Nov 25 09:14:02 vm-01 systemd[1]: Started chrony.service - chrony, an NTP client/server.",
    "Nov 25 09:14:02 vm-01 systemd[1]: Started systemd-timesyncd.service - Network Time Synchronization.",
    "Nov 25 09:14:02 vm-01 systemd[1]: Reached target time-set.target - System Time Set.",
])
def test_healthy_lines_give_no_warning(line: str) -> None:
    assert [f for f in time_findings(line) if f.severity != "info"] == []
    assert time_findings(line) == []
