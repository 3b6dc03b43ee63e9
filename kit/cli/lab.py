"""``kit lab serve``, ``kit lab list`` and ``kit lab check``: the local Azure emulator.

``serve`` runs it in the foreground, ``list`` names its scenarios, and ``check SCENARIO`` asks a lab
started with ``kit lab serve`` (in another terminal) whether a trainee's console fix made the VM
reachable again (exit 0 when it did, 1 when not; the message says what is left).

Exit codes: ``serve`` 0 after Ctrl-C, 1 when the lab cannot start (a port in use, no scenario
found in ``--scenario-dir``, a malformed scenario); ``list`` 0, 1 when no scenario is found;
``check`` 0 fixed, 1 not fixed or the lab cannot be reached; all 2 for a bad option (a number
out of range, an endpoint that is not ``https://HOST:PORT``, a CA file that is not PEM).
Scenario text is printed with control characters escaped.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from kit.cli._common import Commands, number, print_help, safe
from kit.errors import LabError, UsageError

if TYPE_CHECKING:
    from kit.lab import Faults, RunningLab

__all__ = ["register"]


def register(commands: Commands) -> None:
    """Add ``kit lab serve`` and ``kit lab list``."""
    lab = commands.top.add_parser("lab", help="the local Azure emulator (training, demos, tests)")
    sub = lab.add_subparsers(dest="lab_command", metavar="LAB_COMMAND")
    lab.set_defaults(handler=lambda _args: print_help(lab))

    serve = sub.add_parser("serve", help="serve the lab over HTTPS in the foreground until Ctrl-C")
    serve.add_argument("--port", type=number(int, minimum=0, maximum=65535), default=0,
                       help="port on 127.0.0.1 (default: any free port)")
    serve.add_argument("--latency", type=number(float, minimum=0, maximum=60), default=0.0, metavar="S",
                       help="seconds added to every answer (0-60)")
    serve.add_argument("--error-rate", type=number(float, minimum=0, maximum=1), default=0.0, metavar="F",
                       help="fraction (0-1) of requests that fail (429/500/503/timeout/reset)")
    serve.add_argument("--fault-kinds", default=None, metavar="K,K",
                       help="comma-separated failures to inject (default: 429,500,503,timeout,reset)")
    serve.add_argument("--seed", type=number(int, minimum=0, maximum=2**63 - 1), default=0,
                       help="which requests fail, reproducibly (default 0)")
    serve.add_argument("--scenario", action="append", default=None, metavar="NAME",
                       help="serve only this scenario (repeatable; default: all)")
    serve.add_argument("--scenario-dir", action="append", type=Path, default=None, metavar="DIR",
                       help="find scenarios in DIR instead of the built-in ones (repeatable)")
    serve.add_argument("--refuse-graph", action="store_true",
                       help="Microsoft Graph answers 403 Authorization_RequestDenied, as for an identity "
                            "without Directory.Read.All (reports then keep GUIDs)")
    serve.set_defaults(handler=_serve)

    listing = sub.add_parser("list", help="list the scenarios: title, broken VM, expected hypothesis")
    listing.add_argument("--scenario-dir", action="append", type=Path, default=None, metavar="DIR",
                         help="find scenarios in DIR instead of the built-in ones (repeatable)")
    listing.set_defaults(handler=_list)

    check = sub.add_parser("check", help="check a trainee's console fix against a running lab (kit lab serve)")
    check.add_argument("scenario", metavar="SCENARIO")
    check.add_argument("--arm-endpoint", metavar="URL", default=os.environ.get("KIT_LAB_ENDPOINT"),
                       help="the lab's https://127.0.0.1:PORT as `kit lab serve` printed it (or KIT_LAB_ENDPOINT)")
    check.add_argument("--ca-bundle", metavar="PEM", default=os.environ.get("KIT_LAB_CA"),
                       help="the lab's CA certificate as `kit lab serve` printed it (or KIT_LAB_CA)")
    check.add_argument("--token-env", default="KIT_ARM_TOKEN", metavar="VAR",
                       help="environment variable holding the lab token (default KIT_ARM_TOKEN)")
    check.set_defaults(handler=_check)



def _list(args: argparse.Namespace) -> int:
    from kit.lab import list_scenarios

    scenarios = list_scenarios(args.scenario_dir)
    if not scenarios:
        where = ", ".join(map(str, args.scenario_dir)) if args.scenario_dir else "the kit"
        raise LabError(f"no scenarios found in {where}: a scenario is a folder holding scenario.yaml")
    rows = [["SCENARIO", "BROKEN VM", "EXPECTED", "NEXT STEP", "TITLE"]]
    rows += [[safe(cell) for cell in (info.name, info.broken_vm, info.expected.hypothesis or "-",
                                      info.expected.next_step or "-", info.title)]
             for info in scenarios]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4])
    return 0


def _serve(args: argparse.Namespace) -> int:
    from kit.lab import Faults, running_lab

    faults = Faults(latency=args.latency, error_rate=args.error_rate, seed=args.seed)
    if args.fault_kinds:
        faults = dataclasses.replace(faults, kinds=tuple(kind.strip() for kind in args.fault_kinds.split(",")))
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with running_lab(faults=faults, scenarios=args.scenario, port=args.port,
                         scenario_dirs=args.scenario_dir) as lab:
            lab.refuse_graph(args.refuse_graph)
            _announce(lab, faults)
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("lab stopped", flush=True)
    return 0


def _announce(lab: RunningLab, faults: Faults) -> None:
    print(f"lab listening on {lab.endpoint}")
    print(f"CA certificate:  {lab.ca_path}")
    if sys.stdout.isatty():
        print("\nIn another terminal, point the kit at it (the token lives only in that shell):")
        print(f"  export KIT_ARM_TOKEN={lab.token}")
        print(f"  kit collect --arm-endpoint {lab.endpoint} --ca-bundle {lab.ca_path} --credential env-token \\")
        print("      --subscription <SUBSCRIPTION> --resource-group <GROUP> --vm <VM> --out <DIR>")
    else:
        print("\nThe bearer token is printed only to a terminal (stdout is redirected here).")
    if faults.error_rate or faults.latency:
        print(f"faults: latency {faults.latency}s, error rate {faults.error_rate}, kinds "
              f"{','.join(faults.kinds)}, seed {faults.seed}")
    if lab.state.graph_refused:
        print("Microsoft Graph: refuses directory reads (403 Authorization_RequestDenied)")
    print("\nscenarios:")
    for name in lab.scenario_names:
        info = lab.scenario(name)
        peers = ", ".join(info.known_good) or "none"
        print(f"  {safe(name):<20} subscription {safe(info.subscription_id)}  group {safe(info.resource_group)}  "
              f"broken VM {safe(info.broken_vm)}  (known good: {safe(peers)})")
    print("\nCtrl-C stops the lab.", flush=True)


def _check(args: argparse.Namespace) -> int:
    from kit.lab.gateway import check_remote

    if not args.arm_endpoint:
        raise UsageError("give the running lab's --arm-endpoint (start one with `kit lab serve`)")
    token = os.environ.get(args.token_env)
    if not token:
        raise UsageError(f"${args.token_env} is empty: export the token `kit lab serve` printed")
    result = check_remote(args.arm_endpoint, args.scenario, token=token, ca_path=args.ca_bundle or None)
    print(safe(result))
    return 0 if result.passed else 1
