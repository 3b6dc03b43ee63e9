"""``kit demo``: start the lab in-process, collect a scenario with its peers, print the summary.

``kit demo [--scenario firewall-lockout] [--out evidence]`` writes
``evidence/<scenario>-<UTC time>/<vm>/`` (one bundle per VM, so a second run never collides
with the first) and prints the broken VM's bundle summary and path.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kit.cli import Commands

__all__ = ["register"]


def register(commands: Commands) -> None:
    """Add ``demo`` to ``kit``."""
    demo = commands.top.add_parser(
        "demo",
        help="start the lab, collect a scenario's evidence and print the bundle summary",
        description="Start the embedded lab (HTTPS, TLS verified, bearer token), collect the scenario's broken VM "
        "and its known-good peers with the real Azure SDK into OUT/<scenario>-<time>/, and print the summary.",
    )
    demo.add_argument("--scenario", default="firewall-lockout", help="lab scenario (default firewall-lockout)")
    demo.add_argument("--out", default="evidence", metavar="DIR", help="parent folder (default ./evidence)")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from kit.azure.collect import CollectionRequest, collect
    from kit.azure.target import AzureTarget
    from kit.cli.collect import _progress
    from kit.evidence import load_bundle, summarize
    from kit.lab import load_scenario, running_lab

    load_scenario(args.scenario)
    out = Path(args.out) / f"{args.scenario}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    with running_lab() as lab:
        scenario = lab.scenario(args.scenario)
        print(f"lab running at {lab.endpoint} (CA {lab.ca_path}); scenario {scenario.name}: {scenario.title}")
        request = CollectionRequest(subscription_id=scenario.subscription_id, resource_group=scenario.resource_group,
                                    vm=scenario.broken_vm, known_good=tuple(scenario.known_good),
                                    start=scenario.window_start, end=scenario.window_end,
                                    source=f"lab:{scenario.name}")
        with _progress(list(request.names)) as progress:
            result = collect(AzureTarget.for_lab(lab), request, out, progress=progress)
    subject = load_bundle(result.subject)
    print()
    print(summarize(subject))
    print()
    for path in result.bundles:
        print(f"bundle: {path}")
    print(f"collected {len(result.bundles)} bundle(s) in {result.seconds:.1f} s; next: kit bundle show {result.subject}")
    return 0
