"""``kit recover-check``: prove a VM recovered after a fix, and seal the proof in the incident archive.

``kit recover-check --incident INC --vm NAME|ID --approval REF [--responder-ip IP] [--probe HOST[:PORT]]``
    (or ``--vmss NAME --instance ID`` for a uniform scale-set instance)
    ``[--reboot] [--known-good NAME …] [--since ISO] [--boot-timeout S] [--archive DIR]`` plus the
    connection options, or ``--lab SCENARIO`` (the lab, in-process: its probe address is used). Collects
    the VM again into the incident's evidence, prints each proof (✓ passed, ✗ failed, – not checked)
    with its evidence, and records a ``recovery-check`` action. Exit codes: 0 every proof that was
    checked passed, 1 one failed (the last line says which and why) or a kit error, 2 bad usage,
    3 credential refused, 4 VM not found, 6 the incident archive is busy.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.cli._common import Commands, number, safe
from kit.cli._connection import (
    action_incident,
    action_target,
    add_connection_options,
    add_scale_set_options,
    parse_probe,
    vm_resource_id,
)

if TYPE_CHECKING:
    from kit.azure.target import AzureTarget
    from kit.report.recovery_check import RecoveryResult

__all__ = ["register"]

_RESPONDER_HELP = ("the address you connect from, as the VM sees it (default: the lab scenario's with --lab, "
                   "else none: the network proof is not checked)")


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time (e.g. 2026-11-25T09:30:00Z)") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone: add Z for UTC")
    return moment.astimezone(UTC)


def register(commands: Commands) -> None:
    """Add ``recover-check`` to ``kit``."""
    parser = commands.top.add_parser(
        "recover-check",
        help="prove a VM recovered after a fix (running, boot, network, port) and record it in the archive",
        description="Collect the VM again into the incident's evidence and prove, each with its evidence: it is "
        "running; its last boot reached the login prompt with no critical finding; the offline network verdict "
        "from the responder is reachable; the port answers (a real TCP connection: SSH banner or RDP X.224 "
        "confirm, with --probe; in the lab always). --reboot restarts the VM through the SDK and proves it all "
        "again on the new boot. The result is recorded as a recovery-check action with the fix it proves. "
        "Exit codes: 0 passed, 1 a proof failed or a kit error, 2 bad usage, 3 credential refused, "
        "4 VM not found, 6 the archive is busy.",
    )
    where = parser.add_argument_group("which VM")
    where.add_argument("--vm", metavar="NAME|ID", help="the VM: a name, or its full ARM resource id")
    where.add_argument("--subscription", metavar="GUID", help="subscription id (with --vm NAME)")
    where.add_argument("--resource-group", metavar="NAME", help="resource group (with --vm NAME)")
    add_scale_set_options(where)
    where.add_argument("--known-good", nargs="+", default=[], metavar="NAME",
                       help="healthy VMs in the same resource group (with --vmss: instance ids of the same scale "
                       "set), collected alongside")
    record = parser.add_argument_group("approval and record")
    record.add_argument("--approval", required=True, metavar="REF", help="the approval / ticket reference (recorded)")
    record.add_argument("--incident", required=True, metavar="INC-ID", help="incident id, e.g. INC-1234")
    record.add_argument("--archive", default="archive", metavar="DIR", help="archive root (default: ./archive)")
    proofs = parser.add_argument_group("what to prove")
    proofs.add_argument("--responder-ip", "--responder", dest="responder_ip", metavar="IP", default=None,
                        help=_RESPONDER_HELP)
    proofs.add_argument("--probe", type=parse_probe, metavar="HOST[:PORT]",
                        help="connect to this address to prove the port answers (PORT default 22 Linux, 3389 "
                             "Windows); without it (outside the lab) the port is not checked")
    proofs.add_argument("--reboot", action="store_true",
                        help="restart the VM through the SDK and prove the fix survives the reboot")
    proofs.add_argument("--since", type=_since, metavar="ISO",
                        help="when the fix was made (default: the end of the newest recorded fix, else now)")
    proofs.add_argument("--boot-timeout", type=number(float, minimum=1, maximum=3600), default=300.0,
                        metavar="SECONDS", help="how long to wait for the new boot after --reboot (default 300)")
    how = parser.add_argument_group("how to connect")
    how.add_argument("--lab", metavar="SCENARIO", help="start the lab in-process and check this scenario's VM")
    add_connection_options(how)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from kit.analyze.verdict import check_responder

    incident = action_incident(args)
    check_responder(args.responder_ip)
    lab_context: Any = nullcontext(None)
    source = "azure"
    if args.lab:
        from kit.lab import load_scenario, running_lab

        scenario = load_scenario(args.lab)
        args.subscription = args.subscription or scenario.subscription_id
        args.resource_group = args.resource_group or scenario.resource_group
        if not (args.vm or args.vmss):  # the scenario's VM, or its broken scale-set instance
            args.vm = str(scenario.vm_id(scenario.broken_vm))
        args.responder_ip = args.responder_ip or scenario.responder_ip or None
        source = f"lab:{args.lab}"
        lab_context = running_lab(scenarios=[args.lab])
    vm_id = vm_resource_id(args, command="kit recover-check")
    with lab_context as lab:
        target = action_target(args, lab)
        probe = args.probe or (lab.probe_address(vm_id) if lab is not None else None)
        result = _check(args, target, incident, vm_id, probe, source)
    _show(result)
    return {"passed": 0, "interrupted": 130}.get(result.status, 1)



def _check(args: argparse.Namespace, target: AzureTarget, incident: Path, vm_id: str, probe: tuple[str, int] | None,
           source: str) -> RecoveryResult:
    from kit.report.recovery_check import check_recovery, newest_fix

    since = args.since
    if since is None:
        fix = newest_fix(incident, vm_id)
        since = _since(str(fix["ended"])) if fix and fix.get("ended") else datetime.now(UTC)
    return check_recovery(target, vm_id, incident_root=incident, since=since, responder_ip=args.responder_ip,
                          probe=probe, known_good=args.known_good, reboot=args.reboot, approval=args.approval,
                          source=source, boot_timeout=args.boot_timeout)


def _show(result: RecoveryResult) -> None:
    for proof in result.proofs:
        where = f"  [{proof.where}]" if proof.where else ""
        print(f"{proof.mark} {safe(proof.name)}: {safe(proof.seen)}{safe(where)}")
    fix = result.fix
    print(f"fix proven: {safe(fix['kind'])} {safe(fix.get('run') or '')} (approval {safe(fix.get('approval') or '?')})"
          if fix else "fix proven: none recorded for this VM (run-command, repair or console transcript)")
    print(f"recorded: {safe(result.record)}")
    print(f"{'PASSED' if result.passed else 'FAILED'}: {safe(result.summary)}",
          file=sys.stdout if result.passed else sys.stderr)
