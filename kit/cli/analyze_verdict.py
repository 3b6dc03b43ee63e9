"""``kit analyze verdict BUNDLE [--against BUNDLE …] [--responder-ip IP] [--json]``.

Ranks the explanations for an unreachable VM (``kit.analyze.verdict.classify``) and prints the
top one with its evidence and next step, then the others. Peers default to the known-good
bundles named in the bundle's manifest (one that cannot be loaded, or is the bundle itself, is
left out with a warning). Exit 0 whatever the verdict; 1 for an unreadable bundle; 2 for bad
arguments (``--responder-ip`` not IPv4, ``--against`` naming the bundle itself). Evidence text
is printed with its control characters escaped.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from kit.cli._common import Commands, print_json, refuse_self, safe
from kit.cli.analyze_network import RESPONDER_HELP, responder_for
from kit.errors import KitError

if TYPE_CHECKING:
    from kit.analyze.verdict import Classification

__all__ = ["print_classification", "register"]


def register(commands: Commands) -> None:
    """Add ``verdict`` to ``kit analyze``."""
    parser = commands.analyze.add_parser(
        "verdict",
        help="rank the hypotheses (guest firewall, NSG deny, boot failure …) with evidence and next step",
        description="Classify why a VM cannot be reached from its evidence bundle: a ranked list of hypotheses, "
        "each with supporting and contradicting evidence and a recommended next step. Known-good peers "
        "default to the bundles named in the manifest.",
    )
    parser.add_argument("bundle", metavar="BUNDLE", help="the unreachable VM's evidence bundle folder")
    parser.add_argument("--against", nargs="+", metavar="BUNDLE", default=None,
                        help="known-good bundles to compare the network with (default: the manifest's peers)")
    parser.add_argument("--responder-ip", "--responder", dest="responder_ip", metavar="IP", default=None,
                        help=RESPONDER_HELP)
    parser.add_argument("--json", action="store_true", help="print the kit-verdict/1 JSON document")
    parser.set_defaults(handler=_verdict)


def _verdict(args: argparse.Namespace) -> int:
    from kit.analyze.verdict import check_responder, classify
    from kit.evidence import load_bundle

    check_responder(args.responder_ip)
    bundle = load_bundle(args.bundle)
    if args.against is not None:
        peers = [load_bundle(path) for path in args.against]
        refuse_self(bundle.path, [peer.path for peer in peers])
    else:
        peers = []
        for name in bundle.manifest.get("peers", []) or []:
            try:
                peer = load_bundle(bundle.path.parent / name)
                refuse_self(bundle.path, [peer.path])
            except KitError as error:
                print(f"warning: peer {safe(name)} left out: {safe(error)}", file=sys.stderr)
                continue
            peers.append(peer)
    result = classify(bundle, peers, responder_ip=responder_for(bundle, args.responder_ip))
    if args.json:
        print_json(result.to_json())
        return 0
    print_classification(result)
    return 0


def print_classification(result: Classification, out: TextIO | None = None) -> None:
    """Print a classification for people: the top hypothesis in full, then the rest."""
    out = out or sys.stdout
    top = result.top
    print(f"{safe(result.vm)} ({safe(result.role)}): {top.kind} — {top.level} level, "
          f"confidence {top.confidence:.2f}", file=out)
    print(f"  {safe(top.summary)}", file=out)
    print(f"  next step ({top.next_step.kind}): {safe(top.next_step.text)}", file=out)
    for command in top.next_step.commands:
        print(f"      {safe(command)}", file=out)
    for title, rows in (("supporting", top.supporting), ("contradicting", top.contradicting)):
        if rows:
            print(f"  {title}:", file=out)
            for row in rows:
                print(f"    [{safe(row.source)}] {safe(row.evidence or '-')}: {safe(row.summary)}", file=out)
    if len(result.hypotheses) > 1:
        print("other hypotheses:", file=out)
        for rank, h in enumerate(result.hypotheses[1:], start=2):
            print(f"  {rank}. {h.kind} (score {h.score:.1f}, next step {h.next_step.kind}): {safe(h.summary)}",
                  file=out)
    print(f"checked: {safe(', '.join(result.checked)) or 'nothing'}"
          + (f"; responder address {safe(result.responder_ip)}" if result.responder_ip else ""), file=out)
    for missing in result.missing:
        print(f"missing: {safe(missing)}", file=out)
    for warning in result.warnings:
        print(f"warning: {safe(warning)}", file=sys.stderr)
