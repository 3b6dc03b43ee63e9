"""``kit fleet readiness``: which VMs of a fleet could a responder get into tonight, and what to fix on the others.

``kit fleet readiness (--subscription ID … | --management-group MG) --out DIR [--incident INC-ID]``
    ``[--archive DIR] [--no-report]`` plus the connection options, or ``--lab [--fleet N --seed S
    --subscriptions K]`` (an in-process lab serving a generated fleet). Reads the fleet from Azure
    Resource Graph, one VM list and one serial console status per subscription (never a call per
    VM), writes ``fleet-readiness.csv``, ``fleet-readiness.parquet`` and ``fleet-collection.json``
    into ``DIR`` (replacing the last run's), then runs ``notebooks/fleet-readiness.ipynb`` into the
    incident archive (default incident ``FLEET-<UTC date>``) and prints the report's path. Exit
    codes: 0 done (machines that are not ready are findings, not errors), 1 a kit error (a query
    refused, a cell failed), 2 bad usage, 3 credential refused, 6 the incident archive is busy.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from kit.cli._common import Commands, existing_folder, number, safe
from kit.cli._connection import add_connection_options
from kit.errors import UsageError
from kit.times import utc_now

__all__ = ["register"]


def register(commands: Commands) -> None:
    """Add ``fleet readiness`` to ``kit``."""
    fleet = commands.top.add_parser("fleet", help="fleet-wide checks over Azure Resource Graph (readiness)")
    areas = fleet.add_subparsers(dest="fleet_command", metavar="CHECK")
    fleet.set_defaults(handler=lambda _args: _help(fleet))
    parser = areas.add_parser(
        "readiness",
        help="which VMs could the serial console and the repair flow reach tonight; the fix for each one that not",
        description="Read every VM and scale-set instance of the subscriptions (or management group) from Azure "
        "Resource Graph, plus one VM list (agent state) and one serial console status per subscription - never a "
        "call per VM - and say for each machine whether it is ready for an incident, or why not and the command "
        "that fixes it. Writes the per-machine table (CSV, Parquet) and the collection to --out, and the report "
        "(notebooks/fleet-readiness.ipynb, HTML) into the incident archive. Exit codes: 0 done, 1 a kit error, "
        "2 bad usage, 3 credential refused, 6 the archive is busy.",
    )
    scope = parser.add_argument_group("scope (one of)")
    scope.add_argument("--subscription", nargs="+", action="extend", default=[], metavar="ID",
                       help="subscription ids (repeatable; batched 1000 per Resource Graph request)")
    scope.add_argument("--management-group", metavar="MG", help="a management group id: everything under it")
    out = parser.add_argument_group("output")
    out.add_argument("--out", required=True, metavar="DIR", help="folder for the CSV, Parquet and collection files")
    out.add_argument("--incident", metavar="INC-ID", help="incident archive the report goes to (default FLEET-<date>)")
    out.add_argument("--archive", default="archive", metavar="DIR", help="archive root (default: ./archive)")
    out.add_argument("--no-report", action="store_true", help="write the tables only, no notebook report")
    lab = parser.add_argument_group("the lab")
    lab.add_argument("--lab", action="store_true", help="start the lab in-process with a generated fleet")
    lab.add_argument("--fleet", type=number(int, minimum=1, maximum=200_000), default=1000, metavar="N",
                     help="machines in the lab's fleet (default 1000)")
    lab.add_argument("--seed", type=number(int, minimum=0, maximum=2**31 - 1), default=7, metavar="S",
                     help="the fleet's seed (default 7)")
    lab.add_argument("--subscriptions", type=number(int, minimum=1, maximum=5000), default=10, metavar="K",
                     help="subscriptions the lab's fleet is spread over (default 10)")
    how = parser.add_argument_group("connection")
    how.add_argument("--concurrency", type=number(int, minimum=1, maximum=64), default=16, metavar="N",
                     help="per-subscription calls in flight at once (default 16)")
    add_connection_options(how)
    parser.set_defaults(handler=_readiness)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _readiness(args: argparse.Namespace) -> int:
    from kit.analyze.readiness import assess
    from kit.archive import incident_dir
    from kit.azure.fleet import FleetScope, collect_fleet
    from kit.azure.target import AzureTarget
    from kit.report.fleet_readiness import COLLECTION_FILE, write_collection, write_tables
    if args.subscription and args.management_group:
        raise UsageError("give --subscription or --management-group, not both")
    if not args.lab and not (args.subscription or args.management_group):
        raise UsageError("fleet readiness needs --subscription ID … or --management-group MG (or --lab)")
    if args.lab and (args.arm_endpoint or args.ca_bundle):
        raise UsageError("--lab fills in the endpoint, CA and credential itself; drop --arm-endpoint/--ca-bundle")
    out = existing_folder(args.out, "--out")
    incident = args.incident or f"FLEET-{utc_now():%Y%m%d}"
    archive = Path(args.archive)
    if archive.exists() and not archive.is_dir():
        raise UsageError(f"--archive {archive} is a file; give the folder that holds incident archives")
    incident_dir(archive, incident)  # a malformed id is refused before anything is read

    lab_context: Any = nullcontext(None)
    if args.lab:
        from kit.lab import running_lab
        from kit.lab.fleet import FleetSpec

        lab_context = running_lab(fleet=FleetSpec(vms=args.fleet, seed=args.seed, subscriptions=args.subscriptions))
    with lab_context as lab:
        if lab is not None:
            target = AzureTarget.for_lab(lab)
            subscriptions = tuple(args.subscription) or tuple(lab.fleet.subscriptions)
            scope = FleetScope(subscriptions=subscriptions) if not args.management_group \
                else FleetScope(management_group=args.management_group)
        else:
            target = AzureTarget(arm_endpoint=args.arm_endpoint or "", cloud=args.cloud, credential=args.credential,
                                 ca_bundle=args.ca_bundle)
            scope = FleetScope(subscriptions=tuple(args.subscription), management_group=args.management_group)
        print(safe(f"reading {scope} from Azure Resource Graph …"), file=sys.stderr)
        collection = collect_fleet(target, scope, concurrency=args.concurrency)
    readiness = assess(collection)
    collection_path = write_collection(collection, out / COLLECTION_FILE)
    csv_path, parquet_path = write_tables(readiness, out)

    machines = len(readiness.machines)
    calls = collection.calls
    print(safe(f"{machines:,} machines in {len(collection.subscriptions)} subscription(s): {readiness.ready:,} ready, "
               f"{machines - readiness.ready:,} not ready ({calls.total} ARM calls, {collection.seconds:.1f} s)"))
    for row in readiness.by_reason():
        print(safe(f"  {row['reason']:<28} {row['machines']:>7,}  e.g. {row['example_fix']}"))
    for failure in collection.failures:
        print(safe(f"note: {failure['call']} {failure['resource_id']}: {failure['message']}"), file=sys.stderr)
    for label, path in (("table", csv_path), ("table", parquet_path), ("collection", collection_path)):
        print(safe(f"{label + ':':<12}{path}"))
    if args.no_report:
        return 0

    from kit.cli._progress import Progress
    from kit.report.runner import run_report

    with Progress("fleet readiness") as progress:
        run = run_report("fleet-readiness", incident=incident, archive_root=archive,
                         parameters={"collection": str(collection_path.resolve())}, progress=progress)
    print(safe(f"report:     {run.html}"))
    return 0
