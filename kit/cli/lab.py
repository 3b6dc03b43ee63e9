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
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    serve.add_argument("--real-guests", action="store_true",
                       help="every served scenario that has one gets a real Debian 12 guest under QEMU as its "
                            "broken VM (booting takes 20-60 s on TCG; the image is built once, minutes)")
    serve.add_argument("--real-guest", action="append", default=None, metavar="SCENARIO",
                       help="this scenario's broken VM is a real guest (repeatable)")
    serve.add_argument("--fleet", type=number(int, minimum=1, maximum=200_000), default=None, metavar="N",
                       help="also serve a generated fleet of N VMs (Resource Graph, statusOnly lists, console "
                            "status), some not console-ready; --seed picks which")
    serve.add_argument("--fleet-subscriptions", type=number(int, minimum=1, maximum=5000), default=None,
                       metavar="M", help="spread the fleet over M subscriptions (default: one per 200 VMs)")
    serve.set_defaults(handler=_serve)

    guest = sub.add_parser("guest", help="the real Debian 12 guest: build its image, boot a variant")
    guest_sub = guest.add_subparsers(dest="guest_command", metavar="GUEST_COMMAND")
    guest.set_defaults(handler=lambda _args: print_help(guest))
    build = guest_sub.add_parser("build", help="build the base image (or say where the cached one is)")
    build.set_defaults(handler=_guest_build)
    boot = guest_sub.add_parser("boot", help="boot a variant under QEMU until Ctrl-C (attach with "
                                             "`kit console open --socket`)")
    boot.add_argument("variant", metavar="VARIANT", help="healthy, firewall-lockout, fstab-emergency, "
                                                         "fstab-emergency-rootpw, sshd-broken or kernel-panic")
    boot.add_argument("--hostname", default="debian-guest", help="the guest's hostname (default debian-guest)")
    boot.set_defaults(handler=_guest_boot)

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


def _real_guest_names(args: argparse.Namespace) -> list[str]:
    """The scenarios whose broken VM is a real guest: ``--real-guest`` ones, or all with one for ``--real-guests``."""
    from kit.lab import list_scenarios
    from kit.lab.realguest import SCENARIO_VARIANTS

    chosen = list(args.real_guest or [])
    if args.real_guests:
        served = args.scenario or [info.name for info in list_scenarios(args.scenario_dir)]
        chosen += [name for name in served if name in SCENARIO_VARIANTS and name not in chosen]
    unknown = [name for name in chosen if name not in SCENARIO_VARIANTS]
    if unknown:
        raise UsageError(f"no real guest for {', '.join(map(repr, unknown))}; real guests play "
                         f"{', '.join(SCENARIO_VARIANTS)}")
    return chosen


def _watch_boot(name: str, guest: Any) -> None:
    """Say when a real guest finished booting (or where it stopped), from a background thread."""
    try:
        seen = guest.wait_until_booted(900)
        print(f"real guest {name}: {seen.strip()!r} after {time.monotonic() - guest.started:.0f} s", flush=True)
    except LabError as error:
        print(f"real guest {name}: {safe(error)}", flush=True)


def _serve(args: argparse.Namespace) -> int:
    from kit.lab import Faults, running_lab

    faults = Faults(latency=args.latency, error_rate=args.error_rate, seed=args.seed)
    if args.fault_kinds:
        faults = dataclasses.replace(faults, kinds=tuple(kind.strip() for kind in args.fault_kinds.split(",")))
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        real = _real_guest_names(args)
        with running_lab(faults=faults, scenarios=args.scenario, port=args.port,
                         scenario_dirs=args.scenario_dir) as lab:
            lab.refuse_graph(args.refuse_graph)
            if args.fleet:
                from kit.lab.fleet import FleetSpec
                spread = args.fleet_subscriptions or max(1, min(args.fleet // 200, 1000))
                lab.add_fleet(FleetSpec(vms=args.fleet, seed=args.seed, subscriptions=min(spread, args.fleet)))
            for name in real:
                guest = lab.add_real_guest(name, progress=lambda line: print(safe(line), flush=True))
                threading.Thread(target=_watch_boot, args=(name, guest), daemon=True).start()
            _announce(lab, faults)
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("lab stopped", flush=True)
    return 0


def _announce(lab: RunningLab, faults: Faults) -> None:
    from kit.lab.realguest import accelerator

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
    for name, guest in lab.real_guests.items():
        print(f"real guest {name}: {guest.variant} under QEMU ({accelerator(guest.qemu.folder / 'boot' / 'vmlinuz')}), "
              f"booting — 20-60 s on TCG, longer on a busy machine; SSH forwarded to 127.0.0.1:{guest.qemu.ssh_port}, "
              f"serial socket {guest.qemu.serial_socket}")
    if lab.state.graph_refused:
        print("Microsoft Graph: refuses directory reads (403 Authorization_RequestDenied)")
    if lab.fleet is not None:
        fleet = lab.fleet
        ready = sum(1 for reasons in fleet.planted.values() if not reasons)
        print(f"fleet: {len(fleet.planted)} VMs and scale-set instances in {len(fleet.subscriptions)} subscriptions "
              f"(seed {fleet.spec.seed}), {ready} console-ready; query it with Resource Graph "
              f"(POST {lab.endpoint}/providers/Microsoft.ResourceGraph/resources)")
    print("\nscenarios:")
    for name in lab.scenario_names:
        info = lab.scenario(name)
        peers = ", ".join(info.known_good) or "none"
        print(f"  {safe(name):<20} subscription {safe(info.subscription_id)}  group {safe(info.resource_group)}  "
              f"broken VM {safe(info.broken_vm)}  (known good: {safe(peers)})")
    print("\nCtrl-C stops the lab.", flush=True)


def _guest_build(_args: argparse.Namespace) -> int:
    from kit.lab.realguest import build_base, recipe_hash

    started = time.monotonic()
    image = build_base(progress=lambda line: print(safe(line), flush=True))
    if time.monotonic() - started < 5:
        print(f"cached (recipe {recipe_hash()}, built in {image.build_seconds:.0f} s): {image.disk}")
    print(f"SSH key for azureuser: {image.key}")
    return 0


def _guest_boot(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from kit.lab.realguest import BOOTED, QemuGuest, build_base, make_variant

    image = build_base(progress=lambda line: print(safe(line), flush=True))
    folder = Path(tempfile.mkdtemp(prefix=f"kit-guest-{args.variant}-"))
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        disk = make_variant(image, args.variant, folder / "disk.img", hostname=args.hostname)
        qemu = QemuGuest(disk, folder).start()
        print(f"booting {args.variant} (20-60 s on TCG)\n  serial: kit console open --socket {qemu.serial_socket} "
              f"--approval REF\n  ssh:    ssh -i {image.key} -p {qemu.ssh_port} azureuser@127.0.0.1\n"
              f"  log:    {qemu.serial_log}\nCtrl-C powers it off and deletes the disk copy.", flush=True)
        threading.Thread(target=lambda: _print_booted(qemu, BOOTED), daemon=True).start()
        while not stop.wait(0.5) and (qemu.running or not qemu.powered_off):
            pass
        qemu.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def _print_booted(qemu: Any, pattern: str) -> None:
    started = time.monotonic()
    try:
        seen = qemu.wait_for(pattern, 900).group(0)
        print(f"{seen.strip()!r} after {time.monotonic() - started:.0f} s", flush=True)
    except LabError as error:
        print(safe(error), flush=True)


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
