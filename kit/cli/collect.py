"""``kit collect`` (evidence from Azure or the lab), ``kit bundle show`` and ``kit import``.

``kit collect --subscription S --resource-group G --vm NAME [--known-good A B …] --out DIR``
    one bundle per VM in ``DIR/<vm>/``; exit 0 even when some calls failed (they are in the
    manifest), 1 a bundle folder cannot be written, 2 bad usage (a VM name ARM would refuse, a
    number out of range, a CA bundle that is not PEM), 3 credential refused, 4 VM not found,
    5 a bundle already exists, 8 the broken VM itself could not be read or every one of its calls
    failed (its bundle, holding only failures, is written). Arguments are checked before the lab
    starts or a token is asked for.
``kit collect --subscription S --resource-group G --vmss NAME --instance ID [--known-good ID …] --out DIR``
    a uniform scale-set instance (or ``--vm`` with the instance's resource id): bundles
    ``DIR/<scale set>_<id>/``, the peers by default up to three other instances of the scale set.
``kit collect --lab SCENARIO --out DIR``
    the same against the embedded lab, started in-process.
``kit bundle show PATH``
    verify a bundle's hashes and print its summary (exit 1 if it is broken).
``kit import FOLDER --out BUNDLE``
    build a bundle from saved ``az … -o json`` outputs, recognised by content; exit 1 for a
    malformed file, 2 bad usage, 5 ``BUNDLE`` exists.

Every evidence string printed goes through :func:`~kit.cli._common.safe`. Progress goes to
stderr (:mod:`kit.cli._progress`); stdout carries only the results.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kit.cli._common import Commands, existing_folder, number, print_help, safe
from kit.cli._connection import add_connection_options, add_scale_set_options, scale_set_instance
from kit.errors import UsageError
from kit.times import require_time

if TYPE_CHECKING:
    from kit.azure.request import CollectionRequest, CollectionResult
    from kit.azure.target import AzureTarget
    from kit.lab import RunningLab, ScenarioInfo

#: Exit code of ``kit collect`` when the broken VM itself could not be read (the bundle is written).
UNREAD = 8

__all__ = ["register"]

# The bounds of the numeric options; kit.azure's RetrySettings and CollectionRequest hold the same.
_MAX_HOURS = 2160  # 90 days: what the Activity Log keeps
_MAX_RETRIES = 50
_MAX_TIMEOUT = 3600
_MAX_DEADLINE = 86400


def register(commands: Commands) -> None:
    """Add ``collect``, ``bundle show`` and ``import`` to ``kit``."""
    collect = commands.top.add_parser(
        "collect",
        help="collect evidence bundles for a broken VM and known-good VMs (Azure or --lab)",
        description="Collect one evidence bundle per VM (DIR/<vm>/) with the Azure SDK: VM model and instance "
        "view, boot diagnostics (serial log, screenshot), NICs, NSGs, subnets, VNets, route tables, public IPs, "
        "effective NSGs and routes, Activity Log of the resource group in the window, role assignments, serial "
        "console status. Failed calls are recorded in each bundle's manifest; the collection still finishes.",
    )
    where = collect.add_argument_group("what to collect")
    where.add_argument("--subscription", metavar="GUID", help="subscription id")
    where.add_argument("--resource-group", metavar="NAME", help="resource group of the VMs")
    where.add_argument("--vm", metavar="NAME|ID", help="the broken VM: a name, or its full ARM resource id")
    add_scale_set_options(where)
    where.add_argument("--known-good", nargs="+", default=None, metavar="NAME", help="healthy VMs to compare with "
                       "(with --vmss: instance ids of the same scale set; default: up to 3 other instances)")
    where.add_argument("--hours", type=number(float, minimum=0, maximum=_MAX_HOURS, above=True), default=24.0,
                       help=f"Activity Log window ending now (default 24, at most {_MAX_HOURS}: the log keeps 90 days)")
    where.add_argument("--start", metavar="ISO", help="window start, e.g. 2026-11-25T08:00:00Z (overrides --hours)")
    where.add_argument("--end", metavar="ISO", help="window end (default: now)")
    where.add_argument("--out", required=True, metavar="DIR", help="parent folder of the bundles")
    where.add_argument("--workspace", nargs="?", const="", default=None, metavar="ID",
                       help="also query this Log Analytics workspace (its Workspace ID) for AzureActivity, Heartbeat, "
                       "Syslog and Event in the window (workspace/<table>.json); with --lab and no ID, the "
                       "scenario's workspace")
    how = collect.add_argument_group("where and how to connect")
    how.add_argument("--lab", metavar="SCENARIO", help="start the lab in-process and collect this scenario")
    add_connection_options(how, credential_default=None, credential_help=(
        "default (DefaultAzureCredential), cli (az login), managed-identity, or env-token (a pre-issued ARM token "
        "in KIT_ARM_TOKEN); default: 'default', the lab's own token with --lab"))
    how.add_argument("--retries", type=number(int, minimum=0, maximum=_MAX_RETRIES), default=5, metavar="N",
                     help=f"retries per call (default 5, at most {_MAX_RETRIES})")
    how.add_argument("--timeout", type=number(float, minimum=0, maximum=_MAX_TIMEOUT, above=True), default=60.0,
                     metavar="SECONDS", help=f"read timeout per try of a call (default 60, at most {_MAX_TIMEOUT})")
    how.add_argument("--deadline", type=number(float, minimum=0, maximum=_MAX_DEADLINE, above=True), default=600.0,
                     metavar="SECONDS", help="give up on one call after this long in all, tries and polling included "
                     f"(default 600, at most {_MAX_DEADLINE})")
    collect.set_defaults(handler=_collect)

    bundle = commands.top.add_parser("bundle", help="inspect evidence bundles")
    bundle_commands = bundle.add_subparsers(dest="bundle_command", metavar="COMMAND")
    show = bundle_commands.add_parser("show", help="verify a bundle and print its summary",
                                      description="Verify every sha256 of a bundle and print a summary: VM, power "
                                      "state, OS, boot diagnostics, NICs and IPs, NSGs, routes, Activity Log, "
                                      "failures.")
    show.add_argument("path", metavar="PATH")
    show.set_defaults(handler=_show)
    bundle.set_defaults(handler=lambda _args: print_help(bundle))

    importer = commands.top.add_parser(
        "import",
        help="build a bundle from saved 'az ... -o json' outputs",
        description="Build an evidence bundle from a folder of saved az outputs (vm show, vm get-instance-view, "
        "nic show, nsg show, nic list-effective-nsg, nic show-effective-route-table, route-table show, vnet show, "
        "vnet subnet show, public-ip show, monitor activity-log list, role assignment list, vm boot-diagnostics "
        "get-boot-log as text). Files are recognised by content, in az or raw ARM REST shape; files it does not "
        "recognise are listed (and recorded in the manifest), not dropped silently.",
    )
    importer.add_argument("folder", metavar="FOLDER")
    importer.add_argument("--out", required=True, metavar="BUNDLE", help="the bundle folder to create")
    importer.add_argument("--vm", metavar="NAME", help="the VM to import when the folder holds several")
    importer.set_defaults(handler=_import)


def _request(args: argparse.Namespace, scenario: ScenarioInfo | None) -> CollectionRequest:
    """What to collect: checked in full (names, window) before anything starts."""
    from kit.azure.request import CollectionRequest

    for option, value in (("--vm", args.vm), ("--subscription", args.subscription),
                          ("--resource-group", args.resource_group)):
        if value is not None and not value.strip():
            raise UsageError(f"{option} is empty; give a value or leave the option out")
    end = require_time(args.end, "--end") if args.end is not None else None
    start = require_time(args.start, "--start") if args.start is not None else None
    pair = scale_set_instance(args, command="kit collect")
    if scenario is not None and (pair is not None or scenario.scale_set):
        scale_set, instance = pair or (scenario.scale_set, scenario.instance_id(scenario.broken_vm))
        peers = (tuple(args.known_good) if args.known_good is not None else
                 tuple(scenario.instance_id(vm) for vm in scenario.known_good) if scale_set == scenario.scale_set
                 else ())
        return CollectionRequest(
            subscription_id=args.subscription or scenario.subscription_id,
            resource_group=args.resource_group or scenario.resource_group, vm=instance, known_good=peers,
            scale_set=scale_set, start=start or scenario.window_start, end=end or scenario.window_end,
            source=f"lab:{args.lab}", workspace=_workspace(args, scenario))
    if scenario is not None:
        known_good = tuple(args.known_good) if args.known_good is not None else tuple(scenario.known_good)
        return CollectionRequest(
            subscription_id=args.subscription or scenario.subscription_id,
            resource_group=args.resource_group or scenario.resource_group,
            vm=args.vm or scenario.broken_vm, known_good=known_good,
            start=start or scenario.window_start, end=end or scenario.window_end, source=f"lab:{args.lab}",
            workspace=_workspace(args, scenario))
    if start is None:
        start = (end or datetime.now(UTC)) - timedelta(hours=args.hours)
    if args.vm and args.vm.startswith("/"):
        return CollectionRequest.for_vm_id(args.vm, known_good=tuple(args.known_good or ()), start=start, end=end,
                                           workspace=_workspace(args, None))
    if pair is not None:
        missing = [option for option, value in (("--subscription", args.subscription),
                                                ("--resource-group", args.resource_group)) if not value]
        if missing:
            raise UsageError(f"kit collect --vmss {pair[0]} --instance {pair[1]} needs {', '.join(missing)} "
                             "(or --vm with the instance's full resource id)")
        return CollectionRequest(subscription_id=args.subscription, resource_group=args.resource_group, vm=pair[1],
                                 scale_set=pair[0], known_good=tuple(args.known_good or ()), start=start, end=end,
                                 workspace=_workspace(args, None))
    missing = [option for option, value in (("--subscription", args.subscription),
                                            ("--resource-group", args.resource_group), ("--vm", args.vm)) if not value]
    if missing:
        raise UsageError(f"kit collect needs {', '.join(missing)} (or --vm with a full resource id, or --lab SCENARIO)")
    return CollectionRequest(subscription_id=args.subscription, resource_group=args.resource_group, vm=args.vm,
                             known_good=tuple(args.known_good or ()), start=start, end=end,
                             workspace=_workspace(args, None))


def _workspace(args: argparse.Namespace, scenario: ScenarioInfo | None) -> str | None:
    """The Log Analytics workspace id of ``--workspace`` (the lab scenario's when given without one)."""
    value = getattr(args, "workspace", None)
    if value is None:
        return None
    if value.strip():
        return value.strip()
    if scenario is None:
        raise UsageError("--workspace needs the workspace id (a GUID); only with --lab may it be left out")
    from kit.lab.loganalytics import workspace_id

    return workspace_id(scenario)


def _target(args: argparse.Namespace, lab: RunningLab | None) -> AzureTarget:
    """Where to collect from: the running lab, or the endpoint, CA and credential of the options."""
    from kit.azure.target import AzureTarget, RetrySettings

    retry = RetrySettings(total=args.retries, read_timeout=args.timeout, deadline=args.deadline)
    if lab is not None:
        return AzureTarget.for_lab(lab, retry=retry)
    return AzureTarget(arm_endpoint=args.arm_endpoint or "", cloud=args.cloud,
                       credential=args.credential or "default", ca_bundle=args.ca_bundle, retry=retry)


def _collect(args: argparse.Namespace) -> int:
    import logging
    from contextlib import nullcontext

    from kit.azure.collect import collect
    from kit.azure.request import counting
    from kit.cli._progress import Progress

    if args.lab and (args.arm_endpoint or args.ca_bundle or (args.credential not in (None, "env-token"))):
        raise UsageError("--lab fills in the endpoint, CA and credential itself; drop --arm-endpoint/--ca-bundle/"
                         "--credential")
    logging.getLogger("azure.identity").setLevel(logging.ERROR)  # the kit reports credential failures itself
    out = existing_folder(args.out, "--out")
    lab_context: Any = nullcontext(None)
    scenario = None
    if args.lab:
        from kit.lab import load_scenario, running_lab

        scenario = load_scenario(args.lab)  # unknown scenario: a clear error before starting anything
        lab_context = running_lab()
    request = _request(args, scenario)
    target = None if scenario is not None else _target(args, None)  # a bad endpoint or CA: an error before any call
    with Progress("collect") as progress:
        if scenario is not None:
            progress("starting the lab")
        with lab_context as lab:
            target = target or _target(args, lab)
            step = f"{len(request.names)} VM" + ("s" if len(request.names) > 1 else "")
            if request.wants_scale_set_peers:
                step = f"scale set {request.scale_set}: instance {request.vm} and up to 3 others"
            progress(step, "asking for a token")
            shown = [request.bundle_name(name) for name in request.names]
            result = collect(target, request, out, progress=counting(progress, step, shown))
    for path in result.bundles:
        name = path.name
        failed = len(result.failures.get(name, []))
        note = f", {failed} failed (see: kit bundle show {safe(path)})" if failed else ""
        print(f"{safe(path)}  {result.calls.get(name, 0)} calls{note}")
    print(f"collected {len(result.bundles)} bundle(s) in {result.seconds:.1f} s")
    return _subject_unread(result)


def _subject_unread(result: CollectionResult) -> int:
    """``UNREAD`` (with a line on stderr) when the broken VM itself could not be read, else 0."""
    if not result.bundles:
        return 0
    name = result.subject.name
    failures, calls = result.failures.get(name, []), result.calls.get(name, 0)
    reads = ("virtual_machines.get", "virtual_machine_scale_set_vms.get")
    model = next((f for f in failures if f.get("call") in reads), None)
    if model is None and not (calls and len(failures) >= calls):
        return 0
    why = (f"the VM itself could not be read ({model.get('call')}: {model.get('status') or 'no answer'})"
           if model is not None else f"every one of its {calls} calls failed")
    print(f"warning: {safe(name)}: {why}; the bundle holds the failures (kit bundle show {safe(result.subject)}) "
          f"but no evidence to analyse; collect again", file=sys.stderr)
    return UNREAD


def _show(args: argparse.Namespace) -> int:
    from kit.evidence import load_bundle, summarize

    bundle = load_bundle(args.path)
    print(f"bundle {safe(bundle.path)}")
    print(summarize(bundle, escape=safe))
    return 0


def _import(args: argparse.Namespace) -> int:
    from kit.evidence import import_folder

    result = import_folder(args.folder, args.out, vm=args.vm)
    for shown, importer in result.recognised.items():
        print(f"  imported     {safe(shown)}  ({safe(importer)})")
    for shown in result.duplicates:
        print(f"  duplicate    {safe(shown)}  (same artefact as an earlier file; first one kept)")
    for shown in result.unrecognised:
        print(f"  unrecognised {safe(shown)}  (not imported; listed in the manifest failures)")
    print(f"bundle written: {safe(result.bundle)}")
    return 0
