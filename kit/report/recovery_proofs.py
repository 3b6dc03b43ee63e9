"""The recovery check's proofs, each from one piece of evidence: power state, boot, network, the port, metrics.

Every proof is a :class:`Proof`: its name, whether it passed (``None``: not checked, with the
reason), what was seen in one sentence a person can act on, and where (a bundle file, a serial
log line, a TCP address). They read a freshly collected bundle (:func:`running_proof`,
:func:`boot_proof`, :func:`network_proof`, :func:`metrics_proof`) or the network itself (:func:`port_proof`).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kit.analyze.bootlog import BootReport
from kit.analyze.metrics import FLOW_BAND, MetricsReading, compare_recovery, metrics_from_bundle
from kit.analyze.network import os_type_of, read_network
from kit.times import iso_z

if TYPE_CHECKING:
    from kit.evidence import Bundle

__all__ = ["X224_REQUEST", "Proof", "boot_proof", "booted_up", "is_windows", "metrics_proof", "network_proof",
           "port_proof", "running_proof"]

#: TPKT + X.224 Connection Request + RDP_NEG_REQ (TLS | CredSSP), what an RDP client sends first.
X224_REQUEST = bytes.fromhex("030000130ee000000000000100080003000000")
_LOGIN_STAGES = ("login", "sac", "windows-login")
_TRAFFIC_FAMILIES = frozenset({"firewall"})


@dataclass(frozen=True)
class Proof:
    """One proof of a recovery.

    Parameters
    ----------
    name
        ``running``, ``boot``, ``network``, ``port`` (``… after restart`` for the second round), ``restart``.
    passed
        ``True``/``False``; ``None`` when it was not checked (``seen`` says why).
    seen
        What was seen, one sentence.
    where
        The evidence: ``evidence/<stamp>/<vm>/instance_view.json``, ``…/serial.log:512``, ``tcp://host:port``.
    """

    name: str
    passed: bool | None
    seen: str
    where: str = ""

    @property
    def mark(self) -> str:
        """✓ passed, ✗ failed, – not checked."""
        return {True: "✓", False: "✗", None: "–"}[self.passed]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"name": self.name, "passed": self.passed, "seen": self.seen, "where": self.where}


def is_windows(bundle: Bundle) -> bool:
    """Whether the bundle's VM runs Windows (its OS disk says so)."""
    return os_type_of(bundle.vm) == "Windows"


def running_proof(bundle: Bundle, where: str, name: str = "running") -> Proof:
    """The instance view says ``PowerState/running``."""
    file = f"{where}/instance_view.json"
    if bundle.instance_view is None:
        return Proof(name, False, "the instance view could not be read, so the power state is unknown "
                                  "(see the bundle's failures)", file)
    codes = [str(s.get("code", "")) for s in bundle.instance_view.get("statuses") or []]
    power = next((code.split("/", 1)[1] for code in codes if code.startswith("PowerState/")), None)
    if power == "running":
        return Proof(name, True, "the VM is running (PowerState/running)", file)
    return Proof(name, False, f"the VM is {power or 'in an unknown power state'}, not running: start it "
                              "(az vm start) and check again", file)


def booted_up(report: BootReport) -> bool:
    """Whether the last boot got to the login prompt (Linux) or to SAC, Windows' services running (Windows)."""
    return report.reached("sac" if report.os == "windows" else "login")


def _up_text(report: BootReport) -> str:
    return "Windows' SAC (the OS is up)" if report.os == "windows" else "the login prompt"


def _boot_start(report: BootReport) -> datetime | None:
    return report.anchor.at(0.0) if report.anchor is not None else None


def _login_line(report: BootReport) -> int | None:
    last = report.boots - 1
    lines = [e.line for e in report.events if e.boot == last and e.stage in _LOGIN_STAGES]
    return lines[-1] if lines else None


def boot_proof(report: BootReport, where: str, *, since: datetime, require_new: bool,
               boots_before: int | None = None, name: str = "boot") -> Proof:
    """The last boot reached the login stage with no critical finding, and started after ``since`` if required.

    Guest firewall drops logged during the boot are not boot failures: the port proof judges them.

    A boot is new when its uptime, anchored to wall time, starts after ``since``, or when the log
    holds more boots than ``boots_before`` (what an earlier collection saw). A boot that is not
    new is evidence from before the fix: it passes when it reached login with no critical finding,
    is not proven (``None``) when it shows one (what the fix addressed), and fails with ``require_new``.
    """
    log = f"{where}/serial.log"
    if report.boots == 0:
        return Proof(name, None, "not checked: the VM has no serial log (boot diagnostics off or nothing written)",
                     log)
    start = _boot_start(report)
    new = (start is not None and start >= since) or (boots_before is not None and report.boots > boots_before)
    when = f"started {iso_z(start)}" if start is not None else "start time unknown"
    # dropped packets are the port proof's to judge (a fix that does not persist fails it), not the boot's
    critical = [f for f in report.findings if f.severity == "critical" and not f.detect_only
                and f.family not in _TRAFFIC_FAMILIES]
    login = _login_line(report)
    reached = booted_up(report)
    up = _up_text(report)
    boot = f"boot {report.boots} of the serial log ({when})"
    if not new:
        if require_new:
            return Proof(name, False, f"no boot since the fix at {iso_z(since)}: the last is {boot}; the VM "
                                      "has not restarted since, so nothing proves the fix boots (restart it, or "
                                      "check with --reboot)", f"{log}:{login or report.lines}")
        if not reached:
            return Proof(name, False, f"the last boot stopped at stage '{report.stage}' and the VM has not "
                                      f"booted since the fix at {iso_z(since)}: restart it and check again",
                         f"{log}:{report.lines}")
        if critical:
            return Proof(name, None, f"not proven: the running {boot} is from before the fix and shows "
                                     f"'{critical[0].summary}'; only a boot after the fix proves it (check with "
                                     "--reboot)", f"{log}:{critical[0].line}")
        return Proof(name, True, f"no restart since the fix: the running {boot} reached {up} with no critical "
                                 "finding (check with --reboot to prove a boot)", f"{log}:{login}")
    if critical:
        first = critical[0]
        return Proof(name, False, f"{boot}, after the fix, still shows a critical problem: {first.summary}",
                     f"{log}:{first.line}")
    if not reached:
        return Proof(name, False, f"{boot}, after the fix, stopped at stage '{report.stage}' before {up}",
                     f"{log}:{report.lines}")
    return Proof(name, True, f"{boot}, after the fix, reached {up} with no critical finding",
                 f"{log}:{login}")


def network_proof(bundle: Bundle, peers: Sequence[Bundle], where: str, responder_ip: str | None,
                  name: str = "network") -> Proof:
    """The offline network verdict from the responder to the VM's SSH (Linux) or RDP (Windows) port is reachable."""
    files = f"{where}/nsgs, effective_nsg, effective_routes"
    if responder_ip is None:
        return Proof(name, None, "not checked: give --responder-ip (the address you connect from)", files)
    reading = read_network(bundle, peers, responder_ip=responder_ip)
    port = 3389 if is_windows(bundle) else 22
    verdict = reading.verdicts.get(port)
    if verdict is None:
        return Proof(name, False, f"no network verdict: {'; '.join(reading.missing) or 'the NICs were not read'}",
                     files)
    seen = f"from {responder_ip}: {verdict.explain()}"
    if verdict.reachable is True:
        return Proof(name, True, seen, files)
    if verdict.reachable is None:
        return Proof(name, False, f"{seen}: not proven reachable (check the appliance forwards)", files)
    return Proof(name, False, seen, files)


def metrics_proof(bundle: Bundle, where: str, *, since: datetime, baseline: MetricsReading | None = None,
                  name: str = "metrics") -> Proof:
    """Availability back to 100% and flows back within :data:`~kit.analyze.metrics.FLOW_BAND` of the same
    hours before the incident (``baseline``: the incident's first collection), with the numbers.

    Metrics confirm a recovery, they never fail one: Azure ingests them minutes late, and the buckets
    after ``since`` include the minutes before the fixed VM started (a repair swaps and starts it well
    after the flow began), so "not back yet" is shown with its numbers as ``None`` (not proven), like
    no metrics at all, and the other proofs decide.
    """
    files = f"{where}/metrics"
    reading = metrics_from_bundle(bundle)
    if reading.empty:
        why = "; ".join(reading.unsupported or reading.warnings) or "none in the bundle"
        return Proof(name, None, f"not available: no platform metrics were collected ({why})", files)
    figures = compare_recovery(reading, fixed_at=since, baseline=baseline)
    if not figures:
        return Proof(name, None, "not available: neither VmAvailabilityMetric nor the flow metrics were collected",
                     files)
    failed = [f for f in figures if f.passed is False]
    judged = [f for f in figures if f.passed is not None]
    seen = "; ".join(f.seen for f in [*failed, *(f for f in figures if f.passed is not False)])
    if failed:
        low, high = FLOW_BAND
        return Proof(name, None, f"not back yet since the fix at {iso_z(since)} (flows within {low:.0%}–"
                                 f"{high:.0%} of the same hours before the incident; metrics arrive minutes late, "
                                 f"so they confirm a recovery and never fail one): {seen}", files)
    if not judged:
        return Proof(name, None, f"not proven: {seen}", files)
    return Proof(name, True, seen, files)


def port_proof(probe: tuple[str, int] | None, *, windows: bool, timeout: float = 5.0, name: str = "port") -> Proof:
    """A real TCP connection to ``probe``: an SSH banner (Linux) or an X.224 connection confirm (Windows)."""
    if probe is None:
        return Proof(name, None, "not checked: give --probe HOST[:PORT] (a host that reaches the VM's port)")
    host, port = probe[0], probe[1] or (3389 if windows else 22)
    where = f"tcp://{host}:{port}"
    service = "RDP" if windows else "SSH"
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            if windows:
                sock.sendall(X224_REQUEST)
            answer = _read(sock, 19 if windows else 255, stop=None if windows else b"\n")
    except ConnectionRefusedError:
        return Proof(name, False, f"{host}:{port} refused the connection: nothing listens there (the VM is "
                                  f"stopped or {service} is not running)", where)
    except TimeoutError:
        return Proof(name, False, f"no answer from {host}:{port} within {timeout:g} s (a firewall or an NSG drops "
                                  "the connection)", where)
    except ConnectionResetError:
        return Proof(name, False, f"{host}:{port} reset the connection before any {service} answer (a firewall "
                                  f"rejects it, or {service} is not running)", where)
    except OSError as error:
        return Proof(name, False, f"cannot connect to {host}:{port}: {error.strerror or error}", where)
    if windows and len(answer) >= 7 and answer[0] == 3 and answer[5] & 0xF0 == 0xD0:
        return Proof(name, True, f"{host}:{port} answers RDP (X.224 connection confirm)", where)
    if not windows and answer.startswith((b"SSH-2.0-", b"SSH-1.99-")):
        banner = answer.decode("ascii", errors="replace").strip()
        return Proof(name, True, f"{host}:{port} answers SSH ({banner})", where)
    if not answer:
        return Proof(name, False, f"{host}:{port} accepted the connection but closed it without any {service} "
                                  f"answer (a firewall rejects it, or {service} is not running)", where)
    return Proof(name, False, f"{host}:{port} answered, but not {service}: {answer[:40]!r}", where)


def _read(sock: socket.socket, limit: int, stop: bytes | None) -> bytes:
    data = b""
    while len(data) < limit:
        chunk = sock.recv(limit - len(data))
        if not chunk:
            break
        data += chunk
        if stop is not None and stop in data:
            break
    return data
