"""``kit lab check SCENARIO``: has the trainee's console fix made the VM reachable again?

Asks a lab started with ``kit lab serve`` (in another terminal) over HTTPS; the guest's state
lives in that process. Exit 0 when the fix is right, 1 when not (the message says what is left).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add ``check`` under the ``kit lab`` group (registered by :mod:`kit.cli.lab`)."""
    lab = commands.top.choices.get("lab")
    if lab is None:
        return
    group = next((a for a in lab._actions if isinstance(a, argparse._SubParsersAction)), None)
    if group is None:
        return
    check = group.add_parser("check", help="check a trainee's console fix against a running lab (kit lab serve)")
    check.add_argument("scenario", metavar="SCENARIO")
    check.add_argument("--arm-endpoint", metavar="URL", default=os.environ.get("KIT_LAB_ENDPOINT"),
                       help="the lab's https://127.0.0.1:PORT as `kit lab serve` printed it (or KIT_LAB_ENDPOINT)")
    check.add_argument("--ca-bundle", metavar="PEM", default=os.environ.get("KIT_LAB_CA"),
                       help="the lab's CA certificate as `kit lab serve` printed it (or KIT_LAB_CA)")
    check.add_argument("--token-env", default="KIT_ARM_TOKEN", metavar="VAR",
                       help="environment variable holding the lab token (default KIT_ARM_TOKEN)")
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    from kit.errors import UsageError
    from kit.lab.gateway import check_remote

    if not args.arm_endpoint:
        raise UsageError("give the running lab's --arm-endpoint (start one with `kit lab serve`)")
    token = os.environ.get(args.token_env)
    if not token:
        raise UsageError(f"${args.token_env} is empty: export the token `kit lab serve` printed")
    result = check_remote(args.arm_endpoint, args.scenario, token=token, ca_path=args.ca_bundle)
    print(str(result))
    return 0 if result.passed else 1
