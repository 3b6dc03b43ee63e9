"""The ``kit`` command line.

Each area of the kit has a module here (``kit/cli/lab.py``, ``kit/cli/collect.py`` …) with a
``register(commands)`` function that adds its sub-commands. Handlers take the parsed
arguments and return an exit code; they parse, convert and call the same public functions a
notebook calls. Building the parser imports every command module, so a command module imports
only the cheap vocabulary at its top (:mod:`kit.errors`, :mod:`kit.ids`, :mod:`kit.times`,
:mod:`kit.cli._common`); each handler imports the layer it runs (``kit --help`` takes about 60 ms
this way, several seconds otherwise).

Exit codes: 0 success, 1 a kit error, 2 usage (a malformed argument: a name ARM would refuse, a
number that is not finite or out of range, a path of the wrong kind, a CA file that is not PEM),
3 authentication, 4 not found, 5 refusing to overwrite, 6 the incident archive is busy, 7 the
console connection is lost for good, 130 interrupted, 141 output pipe closed (``kit … | head``);
each command's module says which of them it returns. 70 means a bug: an exception that is not a
:class:`~kit.errors.KitError`.

A failure is one line on stderr, ``error: <message>``, with the message's control characters
escaped (:func:`kit.cli._common.safe`), so a message quoting evidence or an argument cannot
break the line or drive the terminal. Output that cannot be encoded in the terminal's encoding
is written with backslash escapes rather than failing.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from kit import __version__
from kit.cli._common import Commands, Handler, print_help, safe
from kit.errors import KitError

__all__ = ["Commands", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The full ``kit`` parser, with every area's commands registered."""
    parser = argparse.ArgumentParser(
        prog="kit",
        description="Investigate Azure VMs that can no longer be reached over SSH or RDP.",
    )
    parser.add_argument("--version", action="version", version=f"kit {__version__}")
    top = parser.add_subparsers(dest="command", metavar="COMMAND")
    analyze = top.add_parser("analyze", help="analyse an evidence bundle offline (boot log, network, verdict)")
    analyze_commands = analyze.add_subparsers(dest="analysis", metavar="ANALYSIS")
    analyze.set_defaults(handler=lambda _args: print_help(analyze))
    commands = Commands(top=top, analyze=analyze_commands)
    for module in sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")):
        importlib.import_module(f"{__name__}.{module}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kit`` with ``argv`` and return the exit code."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        return print_help(parser)
    try:
        return handler(args)
    except KitError as error:
        print(f"error: {safe(error)}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `kit … | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as error:  # a bug: say so in one line, traceback only on request
        if os.environ.get("KIT_DEBUG"):
            raise
        print(f"internal error: {type(error).__name__}: {safe(error)} (set KIT_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return 70


if __name__ == "__main__":
    raise SystemExit(main())
