"""Time keeping: NTP clients that cannot synchronise (chronyd, systemd-timesyncd, ntpd/ntpdate/sntp),
clock steps and jumps, and the kernel giving up on an unstable clocksource. Context for the outage,
never the cause of an unreachable VM on its own (a wrong clock breaks TLS, Kerberos and token expiry).

Sources: chrony's sources.c (``Can't synchronise: no selectable sources (N unreachable sources)``,
``no majority``, ``Selected source``), reference.c (``System clock wrong by``, ``System clock was stepped
by``, ``No suitable source for synchronisation``) and sched.c (``Forward/Backward time jump detected!``);
systemd's src/timesync/timesyncd-manager.c (``Timed out waiting for reply from``, ``Contacted time server``,
``Initial clock synchronization to``), src/core/manager.c (``Time has been changed``) and
src/journal/journald-server.c (``Time jumped backwards, rotating.``); ntp's ntpdate.c and ntpd
(``no servers can be used, exiting``, ``no server suitable for synchronization found``, ``time reset``,
``panic_stop``); the kernel's kernel/time/clocksource.c (``Marking clocksource '…' as unstable``) and
arch/x86/kernel/tsc.c (``Marking TSC unstable due to …``); gcpdiag's runbook ``TIME_SYNC_ERROR``
(gcpdiag/runbook/gce/constants.py) and lint ``gce/bp_2023_001`` (NTP configuration).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_CHRONY = "chrony sources.c / reference.c; gcpdiag runbook TIME_SYNC_ERROR"
_TIMESYNCD = "systemd src/timesync/timesyncd-manager.c"
_NTP = "ntp ntpdate/ntpdate.c, ntpd; gcpdiag runbook TIME_SYNC_ERROR"
_CLOCKSOURCE = "kernel kernel/time/clocksource.c (clocksource_watchdog), arch/x86/kernel/tsc.c"


def _timesyncd_timeout(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    server = match.group("server") + (f" ({match.group('name')})" if match.group("name") else "")
    return signature.hit(match, summary=f"systemd-timesyncd got no answer from the time server {server}: NTP (UDP "
                                        "123) is blocked or the server is unreachable.")


def _tsc_unstable(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    if "Hyper-V" in match.group("why"):  # by design on Hyper-V: the TSC page clocksource is used instead
        return None
    return signature.hit(match)


RULE = register(Rule("time", [
    # --- synchronisation failing ------------------------------------------------------------------------
    Signature("boot:time:sync_failed",
              r"Can't synchronise: (?P<why>no selectable sources|no majority|not enough selectable sources|"
              r"no required source in selectable sources)",
              "chronyd cannot synchronise the clock ({why}): the clock drifts and time-dependent logins (Kerberos, "
              "tokens, TLS) can fail.", severity="warning", os="linux", source=_CHRONY,
              samples=("Nov 25 09:14:02 vm-01 chronyd[701]: Can't synchronise: no selectable sources",
                       "2026-11-25T09:14:02.123456+00:00 vm-01 chronyd[701]: Can't synchronise: no selectable "
                       "sources (2 unreachable sources)",
                       "chronyd[701]: Can't synchronise: no majority (no agreement among 2 sources)")),
    Signature("boot:time:sync_failed", r"No suitable source for (?P<what>synchronisation|initstepslew)",
              "chronyd found no time source it could use ({what}).", severity="warning", os="linux",
              source=_CHRONY,
              samples=("Nov 25 09:14:02 vm-01 chronyd[701]: No suitable source for synchronisation",)),
    Signature("boot:time:sync_failed",
              r"Timed out waiting for reply from (?P<server>\S+?)(?: \((?P<name>[^)]+)\))?\.?(?:\s|$)",
              build=_timesyncd_timeout, severity="warning", os="linux", source=_TIMESYNCD,
              samples=("Nov 25 09:14:02 vm-01 systemd-timesyncd[612]: Timed out waiting for reply from "
                       "185.125.190.56:123 (ntp.ubuntu.com).",
                       "[   41.021004] systemd-timesyncd[612]: Timed out waiting for reply from "
                       "[2620:2d:4000:1::41]:123 (ntp.ubuntu.com).")),
    Signature("boot:time:sync_failed",
              r"(?:(?P<program>ntpdate|sntp|ntpd)\[?\d*\]?: )?(?P<why>no servers can be used, exiting|"
              r"no server suitable for synchronization found)",
              build=lambda signature, match, context: signature.hit(match, summary=(
                  f"{match.group('program') or 'ntpdate'} could not synchronise the clock ({match.group('why')}).")),
              severity="warning", os="linux", source=_NTP,
              samples=("Nov 25 09:14:02 vm-01 ntpdate[1210]: no servers can be used, exiting",
                       "25 Nov 09:14:02 ntpdate[1210]: no server suitable for synchronization found")),
    Signature("boot:time:sync_failed",
              r"panic_stop (?P<offset>[+-]?\d+(?:\.\d+)?) s; set clock manually",
              "ntpd exited: the clock is {offset} s off, beyond its panic threshold (set it manually or run ntpd -g).",
              severity="warning", os="linux", source=_NTP + " (ntp_loopfilter.c local_clock)",
              samples=("Nov 25 09:14:02 vm-01 ntpd[812]: 0.0.0.0 0617 07 panic_stop +3624 s; set clock manually "
                       "within 1000 s.",)),
    # --- the clock jumping ------------------------------------------------------------------------------
    Signature("boot:time:clock_jump", r"System clock wrong by (?P<offset>-?\d+(?:\.\d+)?) seconds",
              "chronyd found the system clock off by {offset} s.", severity="info", os="linux", source=_CHRONY,
              samples=("Nov 25 09:14:02 vm-01 chronyd[701]: System clock wrong by 3624.521034 seconds",
                       "chronyd[701]: System clock wrong by -0.812004 seconds (step)")),
    Signature("boot:time:clock_jump", r"System clock was stepped by (?P<offset>-?\d+(?:\.\d+)?) seconds",
              "chronyd stepped the system clock by {offset} s.", severity="info", os="linux", source=_CHRONY,
              samples=("Nov 25 09:14:02 vm-01 chronyd[701]: System clock was stepped by 3624.521034 seconds",)),
    Signature("boot:time:clock_jump", r"(?P<direction>Forward|Backward) time jump detected!",
              "chronyd detected a {direction} jump of the system clock (something else set the time).",
              severity="info", os="linux", source="chrony sched.c",
              samples=("Nov 25 09:14:02 vm-01 chronyd[701]: Backward time jump detected!",)),
    Signature("boot:time:clock_jump", r"time reset (?P<offset>[+-]\d+(?:\.\d+)?) s",
              "ntpd stepped the system clock by {offset} s.", severity="info", os="linux", source=_NTP,
              samples=("Nov 25 09:14:02 vm-01 ntpd[812]: time reset +3624.521034 s",)),
    Signature("boot:time:clock_jump", r"step time server (?P<server>\S+) offset (?P<offset>[+-]?\d+(?:\.\d+)?) sec",
              "ntpdate stepped the system clock by {offset} s (server {server}).", severity="info", os="linux",
              source=_NTP,
              samples=("25 Nov 09:14:02 ntpdate[1210]: step time server 162.159.200.1 offset 3624.521034 sec",)),
    Signature("boot:time:clock_jump", r"Time has been changed",
              "systemd saw the system time change (a step by an NTP client or by hand).",
              severity="info", os="linux", source="systemd src/core/manager.c (manager_dispatch_time_change_fd)",
              samples=("Nov 25 09:14:02 vm-01 systemd[1]: Time has been changed",)),
    Signature("boot:time:clock_jump", r"Time jumped backwards, rotating",
              "systemd-journald saw the clock jump backwards.", severity="info", os="linux",
              source="systemd src/journal/journald-server.c",
              samples=("[   12.300100] systemd-journald[412]: Time jumped backwards, rotating.",)),
    Signature("boot:time:clock_jump",
              r"System clock time unset or jumped backwards, restoring from recorded timestamp: (?P<when>.+)",
              "systemd-timesyncd found the clock unset or behind and restored it to {when}.",
              severity="info", os="linux", source=_TIMESYNCD,
              samples=("[    3.118204] systemd-timesyncd[612]: System clock time unset or jumped backwards, restoring "
                       "from recorded timestamp: Wed 2026-11-25 09:14:02 UTC",)),
    Signature("boot:time:clock_jump",
              r"System time (?:before build time, advancing clock|is further ahead than \S+ after build time, "
              r"resetting clock to build time)",
              "systemd found the system time implausible and reset it to its build time.",
              severity="info", os="linux", source="systemd src/core/main.c (clock_apply_epoch)",
              samples=("[    1.400221] systemd[1]: System time before build time, advancing clock.",)),
    Signature("boot:time:clock_jump", r"Marking clocksource '(?P<clocksource>[^']+)' as unstable",
              "The kernel stopped trusting the {clocksource} clocksource (it drifted against its watchdog) and "
              "switched to another.", severity="info", os="linux", source=_CLOCKSOURCE,
              samples=("[ 9120.004412] clocksource: timekeeping watchdog on CPU1: Marking clocksource 'tsc' as "
                       "unstable because the skew is too large:",)),
    Signature("boot:time:clock_jump", r"Clocksource (?P<clocksource>\S+) unstable \(delta = ",
              "The kernel stopped trusting the {clocksource} clocksource (it drifted against its watchdog) and "
              "switched to another.", severity="info", os="linux", source=_CLOCKSOURCE + " (2.6–4.2)",
              samples=("[  120.004412] Clocksource tsc unstable (delta = 4398046511104 ns)",)),
    Signature("boot:time:clock_jump", r"Marking TSC unstable due to (?P<why>.+)",
              "The kernel stopped trusting the TSC clocksource ({why}).", build=_tsc_unstable,
              severity="info", os="linux", source=_CLOCKSOURCE,
              samples=("[ 9120.004412] tsc: Marking TSC unstable due to clocksource watchdog",)),
    # --- synchronised (events) --------------------------------------------------------------------------
    Signature("boot:time:synced", r"Selected source (?P<server>\S+)",
              "chronyd synchronises to {server}.", os="linux", source=_CHRONY + "; gcpdiag gce/bp_2023_001",
              samples=("Nov 25 09:14:02 vm-01 chronyd[701]: Selected source PHC0",
                       "chronyd[701]: Selected source 169.254.169.123 (metadata.google.internal)")),
    Signature("boot:time:synced",
              r"(?:Contacted time server|Initial synchronization to time server|Synchronized to time server(?: for "
              r"the first time)?) (?P<server>\S+)",
              "systemd-timesyncd synchronises to {server}.", os="linux", source=_TIMESYNCD,
              samples=("Nov 25 09:14:02 vm-01 systemd-timesyncd[612]: Contacted time server 185.125.190.56:123 "
                       "(ntp.ubuntu.com).",
                       "systemd-timesyncd[612]: Initial synchronization to time server 91.189.89.198:123 "
                       "(ntp.ubuntu.com).")),
    Signature("boot:time:synced", r"Initial clock synchronization to (?P<when>.+?)\.?$",
              "systemd-timesyncd set the clock from NTP ({when}).", os="linux", source=_TIMESYNCD,
              samples=("Nov 25 09:14:02 vm-01 systemd-timesyncd[612]: Initial clock synchronization to Wed "
                       "2026-11-25 09:14:02.123456 UTC.",)),
]))
