"""``kit repair``: fix a VM that does not boot on a repair VM, swap the fixed disk in, prove it, record it.

``kit repair --vm ID|NAME --approval REF --incident INC (--finding KIND | --script FILE)``
    ``[--keep-repair-vm] [--sequential] [--fact KEY=VALUE …] [--tag KEY=VALUE …] [--repair-vm-size SIZE …]``
    ``[--probe HOST:PORT] [--responder-ip IP]``
    ``[--archive DIR]`` plus the connection options, or ``--lab SCENARIO`` (the lab, in-process).
    Prints each step as it ends, then where the disks are; records a ``repair`` action of the
    incident (the steps, the disks, the script, its output and every ARM write). The recovery is
    proven by ``kit recover-check``'s proofs (recorded as their own ``recovery-check`` action);
    only then are the repair VM and its resources deleted, otherwise the original disk is swapped
    back. Exit codes: 0 recovered, 1 not recovered (rolled back, the fix failed, a call failed,
    or the VM refused: an encrypted or unmanaged disk, Windows), 2 bad usage, 3 credential
    refused, 4 VM not found, 6 the incident archive is busy.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.cli._common import Commands, safe, safe_block
from kit.cli._connection import action_incident, action_target, add_connection_options, parse_probe, vm_resource_id
from kit.errors import UsageError

if TYPE_CHECKING:
    from kit.azure.repair import RepairOutcome, RepairResources, RepairStep
    from kit.azure.target import AzureTarget

__all__ = ["register"]


def register(commands: Commands) -> None:
    """Add ``repair`` to ``kit``."""
    parser = commands.top.add_parser(
        "repair",
        help="fix a VM that does not boot on a repair VM (az vm repair, done by the kit), prove it, record it",
        description="Snapshot the OS disk, copy it, attach the copy to a repair VM (same group, zone and OS, "
        "no public IP, nothing inbound), run the fix there through Run Command, swap the fixed copy in as the VM's "
        "OS disk and start it. Proven recovery deletes the repair VM and its NIC, NSG and OS disk; otherwise the "
        "original disk goes back. The original OS disk and the snapshot are never deleted. Exit codes: 0 recovered, "
        "1 not recovered or refused, 2 bad usage, 3 credential refused, 4 VM not found, 6 the archive is busy.",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--finding", metavar="KIND", help="what to fix: fstab, kernel (or boot_failure:fstab, "
                      "boot_failure:kernel_panic) on Linux; rdp, dhcp, nvme (service_failure:rdp, "
                      "guest_network:dhcp_disabled, boot_failure:storage_driver) on Windows")
    what.add_argument("--script", metavar="FILE", help="your own script for the repair VM (bash; PowerShell for a "
                      "Windows VM): it finds the attached copy itself")
    where = parser.add_argument_group("which VM")
    where.add_argument("--vm", metavar="NAME|ID", help="the VM: a name, or its full ARM resource id")
    where.add_argument("--subscription", metavar="GUID", help="subscription id (with --vm NAME)")
    where.add_argument("--resource-group", metavar="NAME", help="resource group (with --vm NAME)")
    record = parser.add_argument_group("approval and record")
    record.add_argument("--approval", required=True, metavar="REF", help="the approval / ticket reference (recorded)")
    record.add_argument("--incident", required=True, metavar="INC-ID", help="incident id, e.g. INC-1234")
    record.add_argument("--archive", default="archive", metavar="DIR", help="archive root (default: ./archive)")
    how = parser.add_argument_group("how to repair and prove")
    how.add_argument("--keep-repair-vm", action="store_true", help="keep the repair VM even after a proven recovery")
    how.add_argument("--sequential", action="store_true", help="make the calls one after another (az vm repair's "
                     "order) instead of running independent steps at once")
    how.add_argument("--fact", action="append", default=[], metavar="KEY=VALUE",
                     help="a fact the fix uses (mount_point=/datadrive, new_kernel=…, previous_kernel=…, "
                     "boot_previous_kernel=1); default: read from the VM's serial log")
    how.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                     help="a tag on everything the repair creates (an Azure Policy may require it), besides kit-repair")
    how.add_argument("--repair-vm-size", action="append", default=[], metavar="SIZE",
                     help="a repair VM size to try first (one an Azure Policy allows); then the kit's own")
    how.add_argument("--probe", type=parse_probe, metavar="HOST[:PORT]",
                     help="prove the SSH/RDP port answers there (with --lab: the lab's own listener)")
    how.add_argument("--responder-ip", metavar="IP", help="prove the network lets this address in (with --lab: the "
                     "scenario's responder)")
    how.add_argument("--lab", metavar="SCENARIO", help="start the lab in-process and repair this scenario's VM")
    add_connection_options(how)
    parser.set_defaults(handler=_repair)


def _read_script(path_text: str) -> str:
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"--script {path_text}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"--script {path_text}: cannot read it as UTF-8 text ({error})") from None
    if not text.strip():
        raise UsageError(f"--script {path_text} is empty")
    return text


def _pairs(option: str, pairs: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} {pair!r} is not KEY=VALUE")
        found[key.strip()] = value.strip()
    return found


def _repair(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from kit.analyze.fix_scripts import finding_kind

    incident = action_incident(args)
    own_script = _read_script(args.script) if args.script else None
    finding = finding_kind(args.finding) if args.finding else None
    facts: dict[str, Any] = dict(_pairs("--fact", args.fact))
    resources = _resources(args)
    probe = args.probe
    scenario = None
    lab_context: Any = nullcontext(None)
    if args.lab:
        from kit.lab import load_scenario, running_lab

        scenario = load_scenario(args.lab)
        args.subscription = args.subscription or scenario.subscription_id
        args.resource_group = args.resource_group or scenario.resource_group
        args.vm = args.vm or scenario.broken_vm
        args.responder_ip = args.responder_ip or scenario.responder_ip
        lab_context = running_lab()
    vm_id = vm_resource_id(args, command="kit repair")
    with lab_context as lab:
        target = action_target(args, lab)
        if lab is not None and probe is None:
            probe = lab.probe_address(vm_id)
        script, os_type = _fix(target, vm_id, str(finding), facts) if own_script is None else (
            own_script, _os_type(target, vm_id))
        source = f"lab:{args.lab}" if args.lab else "azure"
        return _execute(args, target, incident, vm_id, (script, os_type), finding, probe, source, resources)


def _resources(args: argparse.Namespace) -> Any:
    from kit.azure.repair import RepairResources

    return RepairResources(tags=_pairs("--tag", args.tag), sizes=tuple(args.repair_vm_size))



def _fix(target: AzureTarget, vm_id: str, finding: str, facts: dict[str, Any]) -> tuple[str, str]:
    """The finding's offline fix for the VM's OS, filled from ``facts`` over what its serial log says; and the OS."""
    from kit.analyze.repair_scripts import facts_from_boot_log, fix_script
    from kit.azure.repair import read_boot_state

    state = read_boot_state(target, vm_id)
    facts = {**facts_from_boot_log(state.serial_log), **facts}
    return fix_script(finding, facts, os_type=state.os_type), state.os_type


def _os_type(target: AzureTarget, vm_id: str) -> str:
    from kit.azure.runcommand import vm_os_type

    return vm_os_type(target, vm_id)


def _execute(args: argparse.Namespace, target: AzureTarget, incident: Path, vm_id: str, fix: tuple[str, str],
             finding: str | None, probe: tuple[str, int] | None, source: str, resources: RepairResources) -> int:
    from kit.azure.actions import ActionRecord, WriteLog, record_action
    from kit.azure.repair import RepairRefused, repair
    from kit.azure.restart import serial_log
    from kit.console import redact_text
    from kit.report.recovery_check import check_recovery

    log = WriteLog()
    started = datetime.now(UTC)

    previous = serial_log(target, vm_id)  # the broken boots: a proof needs a boot that is not one of them

    # the fix this proof is about: the repair under way, recorded once it has ended (never an earlier record's)
    under_way = {"kind": "repair", "run": None, "approval": args.approval, "status": "in progress",
                 "summary": f"kit repair ({finding or 'own script'}), recorded after this check",
                 "started": started.isoformat().replace("+00:00", "Z")}

    def prove() -> Any:
        return check_recovery(target, vm_id, incident_root=incident, since=started, responder_ip=args.responder_ip,
                              probe=probe, approval=args.approval, source=source, require_new_boot=True,
                              previous_log=previous, fix=under_way)

    script, os_type = fix
    files = {"fix.ps1" if os_type == "windows" else "fix.sh": redact_text(script)}
    try:
        outcome = repair(target, vm_id, script=script, finding=finding, approval=args.approval, prove=prove,
                         concurrent=not args.sequential, write_log=log, keep_repair_vm=args.keep_repair_vm,
                         on_step=_print_step, resources=resources, on_start=_print_start,
                         on_interrupt=_say_stopping)
    except RepairRefused as error:
        record = ActionRecord(kind="repair", vm_id=vm_id, approval=args.approval, status="refused",
                              summary=f"repair refused: {error}", started=started, ended=datetime.now(UTC),
                              writes=log.writes, details={"finding": finding, "steps": [], "refused": str(error)})
        folder = record_action(incident, record, files=files)
        print(f"recorded: {safe(folder)}", file=sys.stderr)
        raise
    output = outcome.fix_output
    files.update({"stdout.txt": redact_text(str(output.get("stdout", ""))),
                  "stderr.txt": redact_text(str(output.get("stderr", "")))})
    record = ActionRecord(kind="repair", vm_id=vm_id, approval=args.approval,
                          status="succeeded" if outcome.status == "recovered" else outcome.status,
                          summary=_summary(outcome), started=started, ended=datetime.now(UTC), writes=log.writes,
                          details=_details(outcome))
    folder = record_action(incident, record, files=files)
    print(safe(outcome.message))
    if outcome.status == "fix-failed":
        print("--- fix output")
        print(safe_block((str(output.get("stdout", "")) + str(output.get("stderr", ""))).rstrip("\n")))
    print(f"recorded: {safe(folder)}")
    return {"recovered": 0, "interrupted": 130}.get(outcome.status, 1)


def _say_stopping() -> None:
    print("interrupt: the repair stops once the step under way ends (Azure finishes an operation it was given "
          "either way), then says where everything stands and records it", file=sys.stderr, flush=True)


def _print_start(name: str) -> None:
    """A slow step as it starts, with how long Azure usually takes for it."""
    from kit.azure.repair import AZURE_USUALLY

    fits = sorted((start for start in AZURE_USUALLY if name.startswith(start)), key=len)
    usually = AZURE_USUALLY[fits[-1]] if fits else None
    if usually is not None:
        print(safe(f"[{datetime.now(UTC):%H:%M:%S}] {name} … (on Azure {usually})"), flush=True)


def _print_step(step: RepairStep) -> None:
    detail = f" ({step.detail})" if step.detail else ""
    print(safe(f"[{step.ended:%H:%M:%S}] {step.name}: {step.result}{detail}"), flush=True)


def _summary(outcome: RepairOutcome) -> str:
    what = outcome.finding or "the responder's script"
    if outcome.status == "recovered":
        left = "" if not outcome.left else \
            f"; left to delete: {', '.join(resource.rsplit('/', 1)[-1] for resource in outcome.left)}"
        return f"repaired on a repair VM ({what}); the VM boots from {outcome.repaired_disk.rsplit('/', 1)[-1]}{left}"
    return f"repair ({what}) {outcome.status}: {outcome.message}"


def _details(outcome: RepairOutcome) -> dict[str, Any]:
    proof = outcome.proof
    return {"finding": outcome.finding, "steps": [step.to_json() for step in outcome.steps],
            "original_disk": outcome.original_disk, "snapshot": outcome.snapshot,
            "repaired_disk": outcome.repaired_disk, "repair_vm": outcome.repair_vm,
            "rolled_back": outcome.rolled_back, "deleted": outcome.deleted, "left": outcome.left,
            "kept": [outcome.original_disk, outcome.snapshot], "vm_stands": outcome.vm_stands,
            "exit_code": outcome.fix_output.get("exit_code"),
            "proof": None if proof is None else {"passed": bool(getattr(proof, "passed", False)),
                                                 "summary": str(getattr(proof, "summary", proof))}}
