"""``kit console precheck`` and ``kit console open``: the serial console outside Jupyter.

``kit console precheck --vm ID``            will the console work for me, for this VM, now? Every check
                                              (subscription console, boot diagnostics, power, my
                                              permissions, boot storage, the console host, SAC or a
                                              serial getty in the log) with ok / FAILED / could not
                                              check, the reason and the fix (:mod:`kit.console.precheck`).
``kit console open --vm ID --approval REF``  an interactive session in this terminal (raw mode);
                                              ``Ctrl+]`` opens the menu: n NMI, s SysRq, r reset,
                                              q quit, ``Ctrl+]`` again sends a literal 0x1d
                                              (:mod:`kit.console.terminal`).
``kit console open --socket PATH|HOST:PORT --approval REF``  the same over a raw serial socket (QEMU,
                                              libvirt, ``kit lab guest boot``).
``kit console --lab SCENARIO --approval REF`` and
``kit console --subscription S --resource-group G --vm NAME --approval REF`` are the same as ``open``.
``--lab SCENARIO`` starts the lab in-process and uses the scenario's broken VM. Connection
options match ``kit collect`` (``--cloud``, ``--arm-endpoint``, ``--ca-bundle``, ``--credential``).
When the connection ends for good, Enter opens a new session (fresh ``/connect`` and token; its
transcript goes next to the first one, ``t-2.cast``, ``t-3.cast`` …).
Exit codes: 0 ready (no check failed) / session ended, 1 console not usable (a check failed), 2 usage,
3 refused credential,
7 the console connection was lost for good (every reconnect failed) and not reopened.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from kit.cli._common import Commands, print_help, safe, safe_block
from kit.cli._connection import add_connection_options, add_scale_set_options, vm_resource_id
from kit.errors import UsageError

if TYPE_CHECKING:
    from kit.azure.serialconsole import SerialConsoleClient
    from kit.console import Session

__all__ = ["register"]


def register(commands: Commands) -> None:
    """Add ``kit console precheck`` and ``kit console open``."""
    console = commands.top.add_parser("console", help="the Azure serial console: prechecks and a terminal session")
    sub = console.add_subparsers(dest="console_command", metavar="CONSOLE_COMMAND")
    _where(console)
    console.add_argument("--approval", metavar="REF",
                         help="open the console now (same as `kit console open`): the approval / ticket reference")
    console.add_argument("--transcript", metavar="PATH.cast", help="record a redacted transcript (.cast + .txt)")
    console.set_defaults(handler=lambda args: _open(args) if args.approval else print_help(console))
    precheck = sub.add_parser("precheck", help="will the serial console work for me, for this VM, now? "
                                               "(every check, its reason and fix)")
    _where(precheck)
    precheck.add_argument("--timeout", type=_seconds, default=5.0, metavar="SECONDS",
                          help="per step of reaching the console host: DNS, TCP, TLS (default 5)")
    precheck.set_defaults(handler=_precheck)
    opener = sub.add_parser("open", help="an interactive serial console in this terminal (Ctrl+] for the menu)")
    _where(opener)
    opener.add_argument("--approval", required=True, metavar="REF",
                        help="the approval / ticket reference allowing this break-glass access (recorded)")
    opener.add_argument("--transcript", metavar="PATH.cast", help="record a redacted transcript (.cast + .txt)")
    opener.add_argument("--socket", metavar="PATH|HOST:PORT",
                        help="attach to a raw serial socket instead of Azure (a QEMU or libvirt guest, socat, "
                             "`kit lab guest boot`): a unix socket path or host:port")
    opener.add_argument("--os", choices=("linux", "windows"), default="linux",
                        help="the guest behind --socket (prompt detection; default linux)")
    opener.set_defaults(handler=_open)


def _where(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vm", metavar="ID|NAME", help="ARM id of the VM or scale-set instance (or its name, "
                        "with --subscription and --resource-group)")
    parser.add_argument("--subscription", metavar="GUID", help="subscription id (with --resource-group and --vm NAME)")
    parser.add_argument("--resource-group", metavar="NAME", help="resource group of the VM")
    add_scale_set_options(parser)
    parser.add_argument("--lab", metavar="SCENARIO", help="start the lab in-process and use this scenario's broken VM")
    add_connection_options(parser, credential_help="how to get the ARM token (default: DefaultAzureCredential)")


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[tuple[SerialConsoleClient, str]]:
    from kit.azure.serialconsole import SerialConsoleClient
    from kit.azure.target import AzureTarget

    if args.lab:
        from kit.console.open import lab_console_client
        from kit.lab import running_lab

        with running_lab(scenarios=[args.lab]) as lab:
            yield lab_console_client(lab, args.lab)
        return
    vm = vm_resource_id(args, command="kit console")
    target = AzureTarget(arm_endpoint=args.arm_endpoint or "", cloud=args.cloud, credential=args.credential,
                         ca_bundle=args.ca_bundle)
    yield SerialConsoleClient.from_target(target), vm


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.1 <= value <= 120:
        raise argparse.ArgumentTypeError(f"a timeout is 0.1 to 120 seconds, not {text}")
    return value


def _precheck(args: argparse.Namespace) -> int:
    from kit.console.precheck import console_readiness

    with _client(args) as (client, vm_id):
        result = console_readiness(client, vm_id, timeout=args.timeout)
    print(safe_block(str(result)))
    return 0 if result.ok else 1


def _numbered(path: str, number: int) -> Path:
    """The transcript of the ``number``-th session of one ``kit console``: ``path``, then ``t-2.cast`` … not taken."""
    first = Path(path)
    if number <= 1:
        return first  # an existing file is refused, as always
    while True:
        candidate = first.with_name(f"{first.stem}-{number}{first.suffix or '.cast'}")
        if not (candidate.exists() or candidate.with_suffix(".txt").exists()):
            return candidate
        number += 1


def _open(args: argparse.Namespace) -> int:
    from kit.console import Session, azure_transport
    from kit.console.terminal import run_terminal

    if getattr(args, "socket", None):
        return _open_socket(args)
    with _client(args) as (client, vm_id):
        opened = 0

        def make() -> Session:
            nonlocal opened
            transport, pre = azure_transport(client, vm_id, check=True)
            if not opened:
                for hint in pre.hints if pre else ():
                    print(safe(f"note: {hint}"), file=sys.stderr)
            opened += 1
            transcript = _numbered(args.transcript, opened) if args.transcript else None
            return Session(transport, approval=args.approval, transcript=transcript, vm_id=vm_id,
                           responder=client.responder(), os_type=pre.os_type if pre else None,
                           boot_log_tail=client.serial_log_tail(vm_id))

        banner = safe(f"connected to {vm_id} (approval {args.approval}); Ctrl+] for the menu")
        return run_terminal(make(), new_session=make, banner=banner)


def _open_socket(args: argparse.Namespace) -> int:
    """``kit console open --socket``: the same terminal, transcript and redaction over a raw serial socket."""
    from kit.console import Session, SocketTransport
    from kit.console.terminal import run_terminal

    if args.vm or args.lab or args.subscription:
        raise UsageError("--socket attaches to a serial socket directly: leave out --vm, --lab and --subscription")
    opened = 0

    def make() -> Session:
        nonlocal opened
        opened += 1
        transcript = _numbered(args.transcript, opened) if args.transcript else None
        return Session(SocketTransport(args.socket, os_type=args.os), approval=args.approval, transcript=transcript,
                       vm_id=f"socket:{args.socket}", responder="local", os_type=args.os)

    banner = safe(f"connected to {args.socket} (approval {args.approval}); Ctrl+] for the menu")
    return run_terminal(make(), new_session=make, banner=banner)
