"""``kit run-command``: diagnostics or a fix through Run Command, recorded in the incident archive.

``kit run-command --vm ID|NAME --approval REF --incident INC (--diagnose | --script FILE | --fix FINDING)``
    (or ``--vmss NAME --instance ID`` for a uniform scale-set instance)
    ``[--managed] [--timeout S] [--os linux|windows] [--fact KEY=VALUE …] [--archive DIR]`` plus the
    connection options, or ``--lab SCENARIO`` (the lab, in-process). Prints the script's stdout and
    stderr and its exit code, and records the run (script, redacted output, exit code, times, the
    responder and every ARM write) as a ``run-command`` action of the incident. Exit codes: 0 the
    script succeeded, 1 it failed or a kit error (agent not Ready, another Run Command in progress,
    timeout …), 2 bad usage (a boot failure's ``--fix``: use ``kit repair``), 3 credential refused,
    4 VM not found, 6 the incident archive is busy.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.cli._common import Commands, number, safe, safe_block
from kit.cli._connection import (
    action_incident,
    action_target,
    add_connection_options,
    add_scale_set_options,
    vm_resource_id,
)
from kit.errors import KitError, UsageError
from kit.ids import parse_resource_id

if TYPE_CHECKING:
    from kit.azure.runcommand import RunCommandOutcome
    from kit.azure.target import AzureTarget
    from kit.lab import ScenarioInfo

__all__ = ["register"]

_MAX_TIMEOUT = 5400


def register(commands: Commands) -> None:
    """Add ``run-command`` to ``kit``."""
    parser = commands.top.add_parser(
        "run-command",
        help="run diagnostics or a fix in the guest through Run Command (VM agent Ready), recorded in the archive",
        description="Run a script in the VM's guest through Azure Run Command (the VM agent must be Ready): the "
        "read-only diagnostics pack, your own script, or the online fix of a finding. The script, its redacted "
        "output, the exit code, the times, the responder and every ARM write are recorded in the incident archive. "
        "Exit codes: 0 the script succeeded, 1 it failed or a kit error, 2 bad usage, 3 credential refused, "
        "4 VM not found, 6 the archive is busy.",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--diagnose", action="store_true", help="run the read-only diagnostics pack for the OS")
    what.add_argument("--script", metavar="FILE", help="run this script (bash on Linux, PowerShell on Windows)")
    what.add_argument("--fix", metavar="FINDING", help="run the online fix of a finding: firewall, sshd, rdp "
                      "(or guest_firewall, service_failure:sshd, service_failure:rdp); fstab, kernel, dhcp, nvme: "
                      "use kit repair")
    where = parser.add_argument_group("which VM")
    where.add_argument("--vm", metavar="NAME|ID", help="the VM: a name, or its full ARM resource id")
    where.add_argument("--subscription", metavar="GUID", help="subscription id (with --vm NAME)")
    where.add_argument("--resource-group", metavar="NAME", help="resource group (with --vm NAME)")
    add_scale_set_options(where)
    where.add_argument("--os", choices=("linux", "windows"), help="the guest OS (default: read from the VM model)")
    record = parser.add_argument_group("approval and record")
    record.add_argument("--approval", required=True, metavar="REF", help="the approval / ticket reference (recorded)")
    record.add_argument("--incident", required=True, metavar="INC-ID", help="incident id, e.g. INC-1234")
    record.add_argument("--archive", default="archive", metavar="DIR", help="archive root (default: ./archive)")
    how = parser.add_argument_group("how to run")
    how.add_argument("--managed", action="store_true", help="a managed Run Command: whole output and exit code "
                     "(the action keeps the last 4096 bytes of each stream and, on Windows, no exit code)")
    how.add_argument("--timeout", type=number(float, minimum=0, maximum=_MAX_TIMEOUT, above=True), default=600.0,
                     metavar="SECONDS", help=f"wait this long for the script (default 600, at most {_MAX_TIMEOUT})")
    how.add_argument("--fact", action="append", default=[], metavar="KEY=VALUE",
                     help="a fact the fix uses (responder_ip=203.0.113.7, bad_option=…, sshd_config_file=…, "
                     "backup=…); with --lab the scenario's facts are used")
    how.add_argument("--lab", metavar="SCENARIO", help="start the lab in-process and run on this scenario's VM")
    add_connection_options(how)
    parser.set_defaults(handler=_run)


def _facts(pairs: list[str], scenario: ScenarioInfo | None) -> dict[str, Any]:
    """The facts the fix is filled from: the lab scenario's, then ``--fact`` pairs."""
    facts: dict[str, Any] = {}
    if scenario is not None:
        import yaml

        data = yaml.safe_load((Path(scenario.path) / "scenario.yaml").read_text(encoding="utf-8")) or {}
        facts.update(data.get("facts") or {})
        facts.setdefault("responder_ip", scenario.responder_ip)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--fact {pair!r} is not KEY=VALUE")
        facts[key.strip()] = value.strip()
    return facts


def _script(args: argparse.Namespace, os_type: str | None, facts: dict[str, Any]) -> tuple[str, str, str | None]:
    """``(script, its name, finding)``; the fix's OS is checked against ``os_type``."""
    from kit.analyze.fix_scripts import diagnostics_script, finding_kind, fix_os, fix_script

    if args.fix:
        finding = finding_kind(args.fix)
        wanted = fix_os(finding)  # a boot failure: UsageError pointing to kit repair
        if os_type is not None and os_type != wanted:
            raise UsageError(f"the {finding} fix is for {wanted} guests; this VM runs {os_type}")
        return fix_script(finding, facts), f"fix-{finding.replace(':', '-')}", finding
    if args.script:
        path = Path(args.script)
        if not path.is_file():
            raise UsageError(f"--script {args.script}: no such file")
        try:
            return path.read_text(encoding="utf-8"), path.name, None
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"--script {args.script}: cannot read it as UTF-8 text ({error})") from None
    assert os_type is not None
    return diagnostics_script(os_type), f"diagnostics-{os_type}", None


def _run(args: argparse.Namespace) -> int:
    from contextlib import nullcontext


    incident = action_incident(args)
    scenario = None
    lab_context: Any = nullcontext(None)
    if args.lab:
        from kit.lab import load_scenario, running_lab

        scenario = load_scenario(args.lab)
        args.subscription = args.subscription or scenario.subscription_id
        args.resource_group = args.resource_group or scenario.resource_group
        if not (args.vm or args.vmss):  # the scenario's VM, or its broken scale-set instance
            args.vm = str(scenario.vm_id(scenario.broken_vm))
        lab_context = running_lab()
    vm_id = vm_resource_id(args, command="kit run-command")
    facts = _facts(args.fact, scenario)
    if args.fix or args.script:  # usage errors before the lab starts or a token is asked for
        _script(args, args.os, facts)
    with lab_context as lab:
        target = action_target(args, lab)
        os_type = args.os or _os_type(target, vm_id, args.fix)
        script, name, finding = _script(args, os_type, facts)
        return _execute(args, target, incident, vm_id, script, name, finding, os_type)



def _os_type(target: AzureTarget, vm_id: str, fix: str | None) -> str:
    """The guest OS: the fix's, else the VM model's."""
    if fix:
        from kit.analyze.fix_scripts import fix_os

        return fix_os(fix)
    from kit.azure.runcommand import vm_os_type

    return vm_os_type(target, vm_id)


def _execute(args: argparse.Namespace, target: AzureTarget, incident: Path, vm_id: str, script: str, name: str,
             finding: str | None, os_type: str) -> int:
    from kit.azure.actions import ActionRecord, WriteLog, record_action
    from kit.azure.runcommand import responder, run_command
    from kit.console import redact_text

    log = WriteLog()
    who = responder(target)
    started = datetime.now(UTC)
    suffix = "ps1" if os_type == "windows" else "sh"
    details: dict[str, Any] = {"channel": "managed" if args.managed else "action", "script": name, "os": os_type,
                               "finding": finding}
    files: dict[str, str] = {f"script.{suffix}": redact_text(script)}
    try:
        outcome = run_command(target, vm_id, script, os_type=os_type, managed=args.managed, timeout=args.timeout,
                              write_log=log)
    except KitError as error:
        details.update(exit_code=None, execution_state="NotRun", truncated=False, error=redact_text(str(error)))
        record = ActionRecord(kind="run-command", vm_id=vm_id, approval=args.approval, status="failed",
                              summary=f"Run Command {name} did not run: {redact_text(str(error))}", started=started,
                              ended=datetime.now(UTC), responder=who, writes=log.writes, details=details)
        folder = record_action(incident, record, files=files)
        print(f"recorded: {safe(folder)}", file=sys.stderr)
        raise
    except KeyboardInterrupt:  # the script may be running already: what was sent is recorded before the exit
        said = _interrupted(vm_id, bool(log.writes), args.managed)
        details.update(exit_code=None, execution_state="Unknown", truncated=False, interrupted=True)
        record = ActionRecord(kind="run-command", vm_id=vm_id, approval=args.approval, status="interrupted",
                              summary=f"Run Command {name} interrupted: {said}", started=started,
                              ended=datetime.now(UTC), responder=who, writes=log.writes, details=details)
        folder = record_action(incident, record, files=files)
        print(safe(f"interrupted: {said}"), file=sys.stderr)
        print(f"recorded: {safe(folder)}", file=sys.stderr)
        return 130
    stdout, stderr = redact_text(outcome.stdout), redact_text(outcome.stderr)
    succeeded = outcome.execution_state == "Succeeded" and outcome.exit_code in (0, None)
    details.update(exit_code=outcome.exit_code, execution_state=outcome.execution_state, truncated=outcome.truncated)
    files.update({"stdout.txt": stdout, "stderr.txt": stderr})
    shown_exit = "not reported" if outcome.exit_code is None else str(outcome.exit_code)
    record = ActionRecord(kind="run-command", vm_id=vm_id, approval=args.approval,
                          status="succeeded" if succeeded else "failed",
                          summary=f"Run Command ({outcome.channel}) {name}: exit code {shown_exit}, "
                                  f"{outcome.execution_state}",
                          started=outcome.started, ended=outcome.ended, responder=who, writes=log.writes,
                          details=details)
    folder = record_action(incident, record, files=files)
    _show(outcome, stdout, stderr, shown_exit)
    print(f"recorded: {safe(folder)}")
    return 0 if succeeded else 1


def _interrupted(vm_id: str, sent: bool, managed: bool) -> str:
    """What an interrupted Run Command leaves behind, and where its result can still be read."""
    parsed = parse_resource_id(vm_id)
    where = f"-g {parsed.resource_group} --vm-name {parsed.name}"
    if not sent:  # no answer yet: the request may have reached Azure or not
        return ("Azure had not answered the request that sends the script: it may not have run, or it runs on to "
                f"its end; the VM's Activity Log says which (az monitor activity-log list --resource-id {vm_id} "
                "--offset 1h)")
    if managed:
        return (f"the script was sent and runs on to its end (Azure does not cancel it); its managed Run Command "
                f"stays on the VM with its output: az vm run-command list {where} --expand instanceView, then az vm "
                f"run-command delete {where} --name NAME")
    return ("the script was sent and runs on to its end (Azure does not cancel it); an action Run Command's output "
            "is read only by its caller, so it is lost: run it again once this one ends (Azure refuses another "
            "Run Command while one runs)")


def _show(outcome: RunCommandOutcome, stdout: str, stderr: str, shown_exit: str) -> None:
    print("--- stdout")
    print(safe_block(stdout.rstrip("\n").expandtabs(8)))
    print("--- stderr")
    print(safe_block(stderr.rstrip("\n").expandtabs(8)))
    print(f"exit code: {shown_exit} ({outcome.execution_state}, {outcome.channel} Run Command)")
    if outcome.truncated:
        print("note: the output reached Azure's 4096-byte limit per stream and its beginning is lost; run again "
              "with --managed for the whole output", file=sys.stderr)
    if outcome.execution_state == "TimedOut":
        print("note: the script timed out (managed Run Command timeoutInSeconds); raise --timeout or shorten it",
              file=sys.stderr)
