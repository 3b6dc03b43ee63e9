"""Proven recovery: collect the VM again, prove it is back, and seal the proof in the incident archive.

::

    result = check_recovery(target, vm_id, incident_root=archive / "INC-1", since=fix_time,
                            responder_ip="203.0.113.7", probe=("10.0.0.4", 22), approval="CHG-1")
    result.passed, [(p.name, p.passed, p.seen, p.where) for p in result.proofs], result.record

Proofs (:mod:`kit.report.recovery_proofs`): the VM is running; its last boot reached the login
prompt with no critical finding (and, for a repair, started after the fix); the offline network
verdict from the responder is reachable; the port answers (SSH banner / RDP X.224 confirm); the
platform metrics since the fix are back (availability 100%, flows within a band of the same hours
before the incident, read from the incident's earlier evidence; not available without metrics). With
``reboot=True`` the VM is restarted through the SDK, the check waits for the new boot in boot
diagnostics and proves boot, network and port again. The collected bundles and the
``recovery-check`` record (:mod:`kit.azure.actions`, with the fix it proves and every ARM write)
are one sealed stage of the archive.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kit import ids
from kit.analyze.bootlog import BootReport, boot_report_from_bundle, parse_boot_log
from kit.analyze.metrics import MetricsReading, metrics_from_bundle
from kit.analyze.verdict import check_responder
from kit.archive import Stage
from kit.azure.actions import ActionRecord, WriteLog, read_actions, record_action
from kit.azure.collect import collect
from kit.azure.request import CollectionRequest
from kit.azure.restart import restart_vm, serial_log
from kit.azure.sealing import sealed
from kit.azure.target import AzureTarget
from kit.errors import KitError, UsageError
from kit.evidence import Bundle, load_bundle
from kit.report.postmortem import transcripts
from kit.report.recovery_proofs import (
    Proof,
    boot_proof,
    booted_up,
    is_windows,
    metrics_proof,
    network_proof,
    port_proof,
    running_proof,
)
from kit.times import iso_z

__all__ = ["FIX_KINDS", "RecoveryResult", "check_recovery", "newest_fix"]

#: The recorded actions a recovery check proves (besides console transcripts).
FIX_KINDS = ("run-command", "repair")


@dataclass(frozen=True)
class RecoveryResult:
    """What a recovery check proved, and where it is recorded.

    Attributes
    ----------
    vm_id
        The VM checked.
    status
        ``passed`` (no proof failed), ``failed``, or ``interrupted`` (Ctrl-C while it waited for the boot
        after its restart: recorded with the restart it made).
    summary
        One sentence: which proof failed and why, or what passed.
    proofs
        Every proof, in order.
    record
        The recorded folder ``reports/<stamp>-recovery-check/`` (its ``action.json``).
    bundles
        The bundles collected, relative to the incident (``evidence/<stamp>/<vm>``).
    fix
        The fix it proves (the newest run-command / repair record or console transcript), or ``None``.
    """

    vm_id: str
    status: str
    summary: str
    proofs: tuple[Proof, ...]
    record: Path
    bundles: tuple[str, ...] = ()
    fix: dict[str, Any] | None = None
    writes: tuple[dict[str, Any], ...] = field(default=())

    @property
    def passed(self) -> bool:
        """Whether no proof failed."""
        return self.status == "passed"

    @property
    def failed(self) -> Proof | None:
        """The first proof that failed."""
        return next((p for p in self.proofs if p.passed is False), None)


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def newest_fix(incident_root: str | Path, vm_id: str) -> dict[str, Any] | None:
    """The newest fix recorded for ``vm_id``: a ``run-command``/``repair`` record or a console transcript.

    Returns ``{"kind", "run", "approval", "status", "summary", "responder", "started", "ended"}``
    (``kind`` ``console`` for a transcript), or ``None``.
    """
    if not Path(incident_root).is_dir():
        return None
    wanted = vm_id.lower()
    found: list[tuple[datetime, dict[str, Any]]] = []
    for action in read_actions(incident_root):
        if action.get("kind") in FIX_KINDS and str(action.get("vm_id", "")).lower() == wanted:
            moment = _time(action.get("ended")) or _time(action.get("started"))
            if moment is not None:
                found.append((moment, {k: action.get(k) for k in (
                    "kind", "run", "approval", "status", "summary", "responder", "started", "ended")}))
    if (Path(incident_root) / "transcripts").is_dir():
        for cast in transcripts(incident_root, tail=1):
            kit = cast.get("kit") or {}
            moment = _time(cast.get("started"))
            if str(kit.get("vm_id", "")).lower() == wanted and moment is not None:
                found.append((moment, {"kind": "console", "run": cast["file"], "approval": kit.get("approval"),
                                       "status": "recorded", "summary": f"console session {cast['id']}",
                                       "responder": kit.get("responder"), "started": iso_z(moment),
                                       "ended": iso_z(moment)}))
    return max(found, key=lambda pair: pair[0])[1] if found else None


def _collect(stage: Stage, target: AzureTarget, vm_id: str, known_good: Sequence[str], since: datetime,
             source: str) -> tuple[Bundle, list[Bundle], str]:
    """Collect the VM (and known-good peers) into the stage's evidence; the bundle, peers and its recorded path."""
    end = datetime.now(UTC) + timedelta(seconds=2)  # the window is whole seconds: keep what was just written
    start = max(min(since, end - timedelta(minutes=5)) - timedelta(hours=1), end - timedelta(days=89))
    request = CollectionRequest.for_vm_id(vm_id, known_good=tuple(known_good), start=start, end=end, source=source)
    result = collect(target, request, stage.evidence_dir())
    bundle = load_bundle(result.bundles[0])
    return bundle, [load_bundle(path) for path in result.bundles[1:]], stage.relative(result.bundles[0])


def _boots_before(incident_root: Path, vm_name: str, since: datetime, log: bytes | None = None,
                  previous: bytes | None = None) -> int | None:
    """How many boots of ``log`` are from before ``since``: none when it no longer begins as ``previous`` did
    (the log began again), else as many as the newest bundle of this VM collected before ``since`` held."""
    if previous and log and not log.startswith(previous):  # an appended log keeps all it had; a new one does not
        return 0
    best: tuple[datetime, bytes] | None = None
    for folder in incident_root.glob(f"evidence/*/{vm_name}"):
        try:
            bundle = load_bundle(folder)  # every file's sha256 checked
        except (KitError, OSError):
            continue
        collected = _time(bundle.manifest.get("collected_at"))
        if bundle.serial_log and collected is not None and collected < since and (best is None or collected > best[0]):
            best = (collected, bundle.serial_log)
    return parse_boot_log(best[1]).boots if best else None


def _baseline_metrics(incident_root: Path, vm_name: str, since: datetime) -> MetricsReading | None:
    """The metrics of the newest bundle of this VM collected before ``since`` (the incident's own evidence)."""
    best: tuple[datetime, Bundle] | None = None
    for folder in incident_root.glob(f"evidence/*/{vm_name}"):
        try:
            bundle = load_bundle(folder)
        except (KitError, OSError):
            continue
        collected = _time(bundle.manifest.get("collected_at"))
        if collected is not None and collected < since and (best is None or collected > best[0]):
            best = (collected, bundle)
    return metrics_from_bundle(best[1]) if best else None


def _round(bundle: Bundle, peers: Sequence[Bundle], where: str, *, since: datetime, require_new: bool,
           boots_before: int | None, responder_ip: str | None, probe: tuple[str, int] | None,
           suffix: str = "") -> tuple[list[Proof], BootReport]:
    report = boot_report_from_bundle(bundle)
    return [running_proof(bundle, where, "running" + suffix),
            boot_proof(report, where, since=since, require_new=require_new, boots_before=boots_before,
                       name="boot" + suffix),
            network_proof(bundle, peers, where, responder_ip, "network" + suffix),
            port_proof(probe, windows=is_windows(bundle), name="port" + suffix)], report


def _wait_for_boot(target: AzureTarget, vm_id: str, boots: int, timeout: float,
                   sleep: Callable[[float], None]) -> BootReport | None:
    """Poll boot diagnostics until the serial log holds a boot more than ``boots`` that got to login or failed."""
    deadline = time.monotonic() + timeout
    while True:
        data = serial_log(target, vm_id)
        if data is not None:
            report = parse_boot_log(data)
            done = booted_up(report) or report.worst_severity == "critical"
            if report.boots > boots and done:
                return report
        if time.monotonic() >= deadline:
            return None
        sleep(2.0)


def _reboot_round(stage: Stage, target: AzureTarget, vm_id: str, known_good: Sequence[str], source: str,
                  log: WriteLog, boots: int, where: str, *, responder_ip: str | None, probe: tuple[str, int] | None,
                  timeout: float, sleep: Callable[[float], None]) -> tuple[list[Proof], list[str], bool]:
    """Restart the VM, wait for its new boot, collect it again and prove boot, network and port again.

    The third value: the responder interrupted it (Ctrl-C) before the new boot was seen.
    """
    restarted = datetime.now(UTC)
    try:
        restart_vm(target, vm_id, hook=log.hook)
        after = _wait_for_boot(target, vm_id, boots, timeout, sleep)
    except KitError as error:
        return [Proof("restart", False, f"the restart through the SDK failed: {error}")], [], False
    except KeyboardInterrupt:  # the restart is a write: it is recorded before the check ends
        sent = f"was restarted at {iso_z(restarted)}" if log.writes else "may have been restarted (no answer yet)"
        return [Proof("restart", False, f"interrupted while waiting for the new boot: the VM {sent}; run the "
                                        "check again to prove the boot after it")], [], True
    if after is None:
        return [Proof("restart", False, f"the VM was restarted at {iso_z(restarted)} but no new boot reached the "
                                        f"login prompt (or Windows' SAC) in boot diagnostics within {timeout:g} s",
                      f"{where}/serial.log")], [], False
    bundle, peers, again = _collect(stage, target, vm_id, known_good, restarted, source)
    proofs, _ = _round(bundle, peers, again, since=restarted, require_new=True, boots_before=boots,
                       responder_ip=responder_ip, probe=probe, suffix=" after restart")
    return [Proof("restart", True, f"restarted at {iso_z(restarted)} through the SDK; boot {after.boots} of the "
                                   "serial log followed", f"{again}/serial.log"), *proofs], [again], False


def _summary(vm_name: str, proofs: Sequence[Proof], fix: dict[str, Any] | None) -> str:
    failed = next((p for p in proofs if p.passed is False), None)
    if failed is not None:
        return f"{vm_name} is not proven recovered: {failed.name} failed: {failed.seen}"
    checked = [p.name for p in proofs if p.passed]
    skipped = [p.name for p in proofs if p.passed is None]
    what = f" the {fix['kind']} fix (approval {fix.get('approval')})" if fix else " no recorded fix"
    return (f"{vm_name} recovered: {', '.join(checked)} proven" + (f" ({', '.join(skipped)} not checked)"
                                                                    if skipped else "") + f"; proves{what}")


def check_recovery(target: AzureTarget, vm_id: str, *, incident_root: str | Path, since: datetime,
                   responder_ip: str | None, probe: tuple[str, int] | None, known_good: Sequence[str] = (),
                   reboot: bool = False, approval: str, source: str = "azure", require_new_boot: bool | None = None,
                   boot_timeout: float = 300.0, sleep: Callable[[float], None] = time.sleep,
                   previous_log: bytes | None = None, fix: dict[str, Any] | None = None) -> RecoveryResult:
    """Collect ``vm_id`` into the incident's evidence, prove its recovery, and record the proof.

    Parameters
    ----------
    target
        Where the VM is (Azure or the lab).
    vm_id
        The VM's ARM id, or a uniform scale-set instance's.
    incident_root
        The incident archive (``kit.archive.incident_dir(archive, incident)``).
    since
        When the fix was made (UTC): a boot after it proves the fix boots.
    responder_ip
        The address the responder connects from; ``None`` skips the network proof.
    probe
        ``(host, port)`` to connect to (port 0: 22 for Linux, 3389 for Windows); ``None`` skips the port proof.
    known_good
        Healthy VMs collected alongside (the network diff's peers).
    reboot
        Restart the VM through the SDK, wait for the new boot and prove boot, network and port again.
    approval
        The approval / ticket reference (required: a restart changes the VM).
    source
        ``azure`` or ``lab:<scenario>`` (recorded in the bundles' manifests).
    require_new_boot
        Fail the boot proof unless the last boot started after ``since``; default: when the fix is a repair.
    boot_timeout
        How long to wait for the new boot after a restart (or, with ``require_new_boot``, for the
        boot of a VM just started).
    previous_log
        The serial log as it was before the fix (a repair reads it first). When the log no longer
        begins with it, the VM's serial log began again (a deallocated VM started): every boot in it
        is after the fix, even one that prints no wall-clock time.
    fix
        The fix this check proves when it is not recorded yet (``kit repair`` records itself after its
        proof): ``{"kind", "approval", …}``; default: the newest fix recorded for the VM.

    Raises
    ------
    UsageError
        No approval, a responder that is not IPv4, ``since`` without a time zone.
    KitError
        The collection or the restart failed (credential refused, VM not found …).
    """
    if not approval.strip():
        raise UsageError("a recovery check needs an approval / ticket reference (--approval REF)")
    if since.tzinfo is None:
        raise UsageError("the fix time (since) must carry a time zone (use …Z for UTC)")
    check_responder(responder_ip)
    rid = ids.parse_resource_id(vm_id)
    if not rid.is_kind(ids.VMSS_VM):
        rid = ids.parse_resource_id(vm_id, expect=ids.VM)
    name = CollectionRequest.for_vm_id(str(rid)).bundle_name(rid.name)  # its bundle's folder
    root = Path(incident_root)
    started = datetime.now(UTC)
    fix = dict(fix) if fix is not None else newest_fix(root, str(rid))
    require_new = require_new_boot if require_new_boot is not None else bool(fix and fix["kind"] == "repair")
    log = WriteLog()
    about = {"kind": "recovery-check", "vm": str(rid), "approval": approval}
    if require_new:  # a VM started from a repaired disk may still be booting: wait for its boot to end
        _wait_for_boot(target, str(rid), 0, boot_timeout, sleep)
    with sealed(root, "recovery-check", about=about, hold_lock=False) as stage:
        bundle, peers, where = _collect(stage, target, str(rid), known_good, since, source)
        bundles = [where]
        proofs, report = _round(bundle, peers, where, since=since, require_new=require_new,
                                boots_before=_boots_before(root, name, since, bundle.serial_log, previous_log),
                                responder_ip=responder_ip,
                                probe=probe)
        interrupted = False
        if reboot and any(p.passed is False for p in proofs):
            proofs.append(Proof("restart", None, "not done: the fix is not proven yet, so a restart would prove "
                                                 "nothing (fix what failed first)"))
        elif reboot:
            more, again, interrupted = _reboot_round(stage, target, str(rid), known_good, source, log, report.boots,
                                                     where, responder_ip=responder_ip, probe=probe,
                                                     timeout=boot_timeout, sleep=sleep)
            proofs.extend(more)
            bundles.extend(again)
        proofs.append(metrics_proof(bundle, where, since=since, baseline=_baseline_metrics(root, name, since)))
        if not any(p.passed for p in proofs if p.name.startswith(("boot", "port"))):
            proofs.append(Proof("answers", False, "nothing proves the VM is reachable again: no port answered (give "
                                                  "--probe HOST[:PORT]) and no healthy boot was seen (check with "
                                                  "--reboot)"))
        status = "interrupted" if interrupted else "failed" if any(p.passed is False for p in proofs) else "passed"
        summary = _summary(name, proofs, fix)
        record = ActionRecord(kind="recovery-check", vm_id=str(rid), approval=approval, status=status,
                              summary=summary, started=started, ended=datetime.now(UTC), writes=log.writes,
                              details={"proofs": [p.to_json() for p in proofs], "fix": fix, "since": iso_z(since),
                                       "reboot": reboot, "responder_ip": responder_ip,
                                       "probe": f"{probe[0]}:{probe[1]}" if probe else None, "bundles": bundles})
        folder = record_action(root, record, stage=stage)
    return RecoveryResult(vm_id=str(rid), status=status, summary=summary, proofs=tuple(proofs), record=folder,
                          bundles=tuple(bundles), fix=fix, writes=tuple(w.to_json() for w in record.writes))
