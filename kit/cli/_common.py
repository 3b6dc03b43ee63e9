"""What the command modules share: where they register, help and JSON output.

Not a command module (the dispatcher skips ``_`` names). Imports nothing heavy: every command
module is imported to build the parser, so ``kit --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Commands", "Handler", "print_help", "print_json"]

Handler = Callable[[argparse.Namespace], int]
"""A command's handler: parsed arguments in, exit code out."""


@dataclass
class Commands:
    """Where area modules add their sub-commands.

    Parameters
    ----------
    top
        Sub-commands of ``kit`` itself (``kit collect``).
    analyze
        Sub-commands of ``kit analyze`` (``kit analyze boot``).
    """

    top: argparse._SubParsersAction[argparse.ArgumentParser]
    analyze: argparse._SubParsersAction[argparse.ArgumentParser]


def print_help(parser: argparse.ArgumentParser) -> int:
    """Print ``parser``'s help to stderr; exit code 2 (a command group given without a command)."""
    parser.print_help(sys.stderr)
    return 2


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout (non-ASCII kept, anything else as text)."""
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
