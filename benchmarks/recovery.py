"""From verdict to proven recovery, against the lab with 200 ms per call.

    python benchmarks/recovery.py [--latency 0.2]

1. The repair flow (``kit repair``: snapshot, copy, repair VM, fix by Run Command, swap, start,
   proof, clean-up) with independent steps run at once, against the same calls awaited one after
   another in ``az vm repair``'s order, for kernel-panic, fstab-emergency and windows-rdp (offline, on
   a Windows repair VM), each in a fresh lab (both modes proved alike: the boot-log proof, on Windows
   the lab's RDP check): wall times and their ratio (target <= 0.6).
2. For every case the kit fixes, the time from the verdict to a proven recovery: the fix (Run
   Command for firewall-lockout, sshd-broken and windows-rdp; the repair VM for kernel-panic,
   fstab-emergency and windows-rdp) and then ``kit recover-check``'s proofs (collect again, boot,
   network, port).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kit.analyze import fix_scripts, repair_scripts  # noqa: E402
from kit.azure.repair import BootProof, boot_proof, read_boot_state, repair  # noqa: E402
from kit.azure.restart import serial_log  # noqa: E402
from kit.azure.runcommand import run_command  # noqa: E402
from kit.azure.target import AzureTarget  # noqa: E402
from kit.lab import Faults, RunningLab, running_lab  # noqa: E402
from kit.lab.gateway import check  # noqa: E402
from kit.report.recovery_check import check_recovery  # noqa: E402

ONLINE = {"firewall-lockout": "guest_firewall", "sshd-broken": "service_failure:sshd",
          "windows-rdp": "service_failure:rdp"}
OFFLINE = {"kernel-panic": "boot_failure:kernel_panic", "fstab-emergency": "boot_failure:fstab",
           "windows-rdp": "service_failure:rdp"}


def _facts(lab: RunningLab, scenario: str) -> dict[str, Any]:
    info = lab.scenario(scenario)
    data = yaml.safe_load((Path(info.path) / "scenario.yaml").read_text(encoding="utf-8")) or {}
    return {**(data.get("facts") or {}), "responder_ip": info.responder_ip}


def _repair_script(target: AzureTarget, vm_id: str, kind: str) -> str:
    state = read_boot_state(target, vm_id)
    return repair_scripts.fix_script(kind, repair_scripts.facts_from_boot_log(state.serial_log),
                                     os_type=state.os_type)


def _repair_seconds(scenario: str, latency: float, concurrent: bool) -> tuple[float, int, str]:
    with running_lab(scenarios=[scenario], faults=Faults(latency=latency)) as lab:
        info = lab.scenario(scenario)
        target, vm_id = AzureTarget.for_lab(lab), str(info.vm_id(info.broken_vm))
        script = _repair_script(target, vm_id, OFFLINE[scenario])
        def prove() -> Any:
            if scenario == "windows-rdp":  # no Linux boot log to read: the guest answers RDP or not
                answer = check(lab, scenario)
                return BootProof(answer.passed, answer.message)
            return boot_proof(target, vm_id, interval=0.2)

        began = time.perf_counter()
        outcome = repair(target, vm_id, script=script, finding=OFFLINE[scenario], approval="BENCH-1", prove=prove,
                         concurrent=concurrent)
        return time.perf_counter() - began, len(outcome.steps), outcome.status


def _prove(lab: RunningLab, scenario: str, incident: Path, since: datetime, previous: bytes | None) -> Any:
    """``kit recover-check``'s proofs, as ``kit repair`` runs them (``previous``: the serial log before a repair)."""
    info = lab.scenario(scenario)
    return check_recovery(AzureTarget.for_lab(lab), str(info.vm_id(info.broken_vm)), incident_root=incident,
                          since=since, responder_ip=info.responder_ip, probe=lab.probe_address(scenario),
                          approval="BENCH-1", source=f"lab:{scenario}", require_new_boot=previous is not None,
                          sleep=lambda _seconds: None, previous_log=previous)


def _verdict_to_recovery(scenario: str, offline: bool, latency: float, scratch: Path) -> tuple[float, float, str]:
    """Seconds of the fix (Run Command, or the repair VM when ``offline``) and of the proof, and its status."""
    with running_lab(scenarios=[scenario], faults=Faults(latency=latency)) as lab:
        info = lab.scenario(scenario)
        target, vm_id = AzureTarget.for_lab(lab), str(info.vm_id(info.broken_vm))
        incident = scratch / f"INC-{scenario}-{'offline' if offline else 'online'}"
        since = datetime.now(UTC)
        began = time.perf_counter()
        if not offline:
            kind = ONLINE[scenario]
            run_command(target, vm_id, fix_scripts.fix_script(kind, _facts(lab, scenario)),
                        os_type=fix_scripts.fix_os(kind))
            fixed = time.perf_counter()
            result = _prove(lab, scenario, incident, since, None)
            return fixed - began, time.perf_counter() - fixed, result.status
        script = _repair_script(target, vm_id, OFFLINE[scenario])
        previous = serial_log(target, vm_id) or b""  # the broken boots: a proof needs a boot that is not one of them
        proof_seconds: list[float] = []

        def prove() -> Any:
            start = time.perf_counter()
            answer = _prove(lab, scenario, incident, since, previous)
            proof_seconds.append(time.perf_counter() - start)
            return answer

        outcome = repair(target, vm_id, script=script, finding=OFFLINE[scenario], approval="BENCH-1", prove=prove)
        total = time.perf_counter() - began
        proved = sum(proof_seconds)
        return total - proved, proved, "passed" if outcome.status == "recovered" else outcome.status


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added to every lab call")
    args = parser.parse_args()
    _repair_seconds("kernel-panic", 0.0, True)  # SDK imports, TLS, the lab's first start: outside every timing
    ratios = []
    for scenario in OFFLINE:
        kit, steps, status = _repair_seconds(scenario, args.latency, True)
        one_by_one, _, status_sequential = _repair_seconds(scenario, args.latency, False)
        ratios.append(kit / one_by_one)
        print(f"repair {scenario:<16} kit {kit:6.2f} s, one after another {one_by_one:6.2f} s: ratio "
              f"{kit / one_by_one:.2f} ({steps} steps; {status} / {status_sequential})")
    worst = max(ratios)
    print(f"repair: worst ratio {worst:.2f} (target <= 0.6: {'met' if worst <= 0.6 else 'NOT met'}), "
          f"lab latency {args.latency * 1000:.0f} ms per call")
    with tempfile.TemporaryDirectory() as scratch:
        for scenario, offline in (*((s, False) for s in ONLINE), *((s, True) for s in OFFLINE)):
            fix, proof, status = _verdict_to_recovery(scenario, offline, args.latency, Path(scratch))
            channel = "repair VM" if offline else "Run Command"
            print(f"verdict -> proven recovery {scenario:<16} {fix + proof:6.2f} s ({channel} {fix:.2f} s, "
                  f"recover-check {proof:.2f} s): {status}")
    return 0 if worst <= 0.6 else 1


if __name__ == "__main__":
    sys.exit(main())
