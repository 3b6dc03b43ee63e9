"""``kit analyze flow`` (offline IP flow verify) and ``kit analyze diff`` (network diff against peers).

``kit analyze flow BUNDLE --direction Inbound --protocol TCP --local 10.0.0.4:22 --remote 203.0.113.7:50000 [--json]``
    prints Allow/Deny, the deciding rule, NSG and hop, and the per-hop trace; exit 0 whatever the answer.
``kit analyze diff BUNDLE [--against BUNDLE …] [--responder-ip IP] [--ports 22,3389] [--json]``
    prints the SSH (Linux) or RDP (Windows) verdicts of the VM and its peers and every difference,
    those that change the verdict first, with the Activity Log operation that introduced them; exit 0.
    The responder follows :func:`responder_for` (the one given, else a lab
    scenario's, else none: each difference is then judged from the Internet, the VNet, a peered
    VNet and AzureLoadBalancer). ``--responder`` is an older spelling of ``--responder-ip``.

Both exit 1 for an unreadable bundle and 2 for a bad option (an address that is not IPv4 for
``--responder-ip``, local and remote of different IP versions, ``--against`` naming the bundle
itself). Names, rules and Activity Log callers are printed with control characters escaped.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from kit.cli._common import Commands, print_json, refuse_self, safe
from kit.errors import KitError, UsageError
from kit.times import iso_z

if TYPE_CHECKING:
    from kit.analyze.network import Difference
    from kit.evidence import Bundle

__all__ = ["RESPONDER_HELP", "parse_ports", "register", "responder_for"]

#: The ``--responder-ip`` help, shared by ``kit analyze diff`` and ``kit analyze verdict``.
RESPONDER_HELP = ("the address you connect from, as the VM sees it (default: the lab scenario's for lab bundles, "
                  "else none: SSH/RDP verdicts are from an Internet stand-in, 203.0.113.10, and the diff judges "
                  "each difference from the Internet, the VNet, a peered VNet and AzureLoadBalancer)")


def responder_for(bundle: Bundle, given: str | None = None) -> str | None:
    """The responder address rule every command shares: the one given, else a lab scenario's, else ``None``.

    ``None`` means no responder is known: SSH/RDP verdicts are then from the Internet stand-in
    (:data:`kit.analyze.network.DEFAULT_RESPONDER`) and the diff judges every representative
    source (the Internet, the VNet, a peered VNet, AzureLoadBalancer).
    """
    if given:
        return given
    from kit.evidence import parse_source
    from kit.lab import load_scenario

    try:
        scenario = parse_source(str((bundle.manifest or {}).get("source") or ""), allowed=("lab",)).scenario
        return (load_scenario(scenario).responder_ip or None) if scenario else None
    except KitError:  # not a lab bundle, or a scenario this kit version does not ship
        return None


def parse_ports(text: str) -> list[int]:
    """``22,3389`` → ``[22, 3389]`` (argparse type; a bad value is a usage error)."""
    try:
        ports = [int(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of port numbers") from None
    if not ports or not all(0 < port < 65536 for port in ports):
        raise argparse.ArgumentTypeError(f"{text!r}: ports are 1-65535")
    return ports


def register(commands: Commands) -> None:
    """Add ``flow`` and ``diff`` to ``kit analyze``."""
    flow = commands.analyze.add_parser(
        "flow",
        help="offline IP flow verify: would the NSGs allow this flow (and which rule decides)?",
        description="Evaluate the NSGs on the subnet and NIC of the VM in BUNDLE for one flow, the way Network "
        "Watcher's IP flow verify does (inbound: subnet NSG then NIC NSG; outbound: NIC then subnet). Uses the "
        "effective rules when the bundle has them, else the configuration (a deallocated VM gets an answer too).",
    )
    flow.add_argument("bundle", metavar="BUNDLE", help="an evidence bundle folder")
    flow.add_argument("--direction", required=True, help="Inbound or Outbound")
    flow.add_argument("--protocol", default="TCP", help="TCP (default), UDP, ICMP, ESP or AH")
    flow.add_argument("--local", required=True, metavar="IP:PORT", help="the VM's address and port (10.0.0.4:22)")
    flow.add_argument("--remote", required=True, metavar="IP:PORT", help="the other end (203.0.113.7:50000)")
    flow.add_argument("--configuration", action="store_true",
                      help="ignore captured effective rules and evaluate the configuration only")
    flow.add_argument("--json", action="store_true", help="print the verdict as JSON")
    flow.set_defaults(handler=_flow)

    diff = commands.analyze.add_parser(
        "diff",
        help="compare the VM's network with known-good VMs; say which differences break SSH/RDP",
        description="Compare NSG rules, routes, NIC settings and subnet/NSG/route-table associations of the VM "
        "in BUNDLE with known-good VMs. Each difference says whether taking the peer's value changes the SSH (22) "
        "or RDP (3389) verdict from the responder's address, and which Activity Log operation introduced it.",
    )
    diff.add_argument("bundle", metavar="BUNDLE", help="the unreachable VM's bundle")
    diff.add_argument("--against", nargs="+", default=None, metavar="BUNDLE",
                      help="known-good bundles (default: the peers named in BUNDLE's manifest)")
    diff.add_argument("--responder-ip", "--responder", dest="responder_ip", metavar="IP", default=None,
                      help=RESPONDER_HELP)
    diff.add_argument("--ports", type=parse_ports, default=None, metavar="PORTS",
                      help="ports to judge, comma-separated (default: 22 for Linux, 3389 for Windows, both if unknown)")
    diff.add_argument("--json", action="store_true", help="print the diff as JSON")
    diff.set_defaults(handler=_diff)



def _flow(args: argparse.Namespace) -> int:
    from kit.analyze.network import flow_verdict, load_network
    from kit.evidence import load_bundle

    network = load_network(load_bundle(args.bundle))
    verdict = flow_verdict(network, args.direction, args.protocol, args.local, args.remote,
                           use_effective=not args.configuration)
    if args.json:
        print_json({"vm": network.vm_name, **verdict.to_json()})
        return 0
    arrow = (f"{verdict.remote} → {verdict.local}" if verdict.direction == "Inbound"
             else f"{verdict.local} → {verdict.remote}")
    print(f"{verdict.access}  {safe(verdict.rule_name or '(no NSG on the path)')}")
    print(f"  {safe(network.vm_name)}: {verdict.direction} {verdict.protocol.upper()} {arrow} at NIC "
          f"{safe(verdict.nic)}, from the {verdict.source} rules")
    for hop in verdict.trace:
        label = "subnet" if hop.hop == "subnet" else "NIC"
        nsg = f"NSG {safe(hop.nsg_name)}" if hop.nsg_name else "no NSG"
        print(f"  {label:<6} {nsg:<28} {safe(hop.note)}")
    if verdict.cross_check:
        print(f"  cross-check: {safe(verdict.cross_check)}")
    for warning in verdict.warnings:
        print(f"  note: {safe(warning)}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from kit.analyze.network import ACCESS_PORTS, diff_from_bundles
    from kit.analyze.verdict import check_responder
    from kit.evidence import load_bundle

    check_responder(args.responder_ip)
    subject = load_bundle(args.bundle)
    peers = [load_bundle(path) for path in args.against] if args.against else subject.peers()
    if not peers:
        raise UsageError(f"{args.bundle} names no known-good peers in its manifest; give --against BUNDLE")
    refuse_self(subject.path, [peer.path for peer in peers])
    result = diff_from_bundles(subject, peers, responder_ip=responder_for(subject, args.responder_ip),
                               ports=args.ports)
    if args.json:
        print_json(result.to_json())
        return 0
    print(f"{safe(result.subject)} against {safe(', '.join(result.peers))}; responder {result.responder_ip}"
          + ("" if result.responder_given else
             " (an Internet stand-in: give --responder-ip for your address; differences are judged from "
             + ", ".join(f"{label} {address}" for label, address in result.sources.items()) + ")"))
    for port in result.ports:
        service = ACCESS_PORTS.get(port, f"port {port}")
        mine = result.subject_verdicts[port]
        print(f"  {service} ({port})")
        print(f"    {safe(result.subject)}: {safe(mine.explain().partition(': ')[2])}")
        for note in mine.notes:
            print(f"      note: {safe(note)}")
        for name, verdicts in result.peer_verdicts.items():
            print(f"    {safe(name)}: {safe(verdicts[port].explain().partition(': ')[2])}")
    changing = result.explaining
    others = [d for d in result.differences if not d.changes_verdict]
    whom = "" if result.responder_given else " for some source"
    print(f"\nDifferences that change the SSH/RDP verdict{whom}: {len(changing) or 'none'}")
    for difference in changing:
        _print_difference(difference, detail=True, per_source=not result.responder_given)
    print(f"\nOther differences: {len(others) or 'none'}")
    for difference in others:
        _print_difference(difference, detail=False)
    for warning in result.warnings:
        print(f"note: {safe(warning)}")
    return 0


def _print_difference(difference: Difference, *, detail: bool, per_source: bool = False) -> None:
    print(f"  * [{safe(difference.kind)}] {safe(difference.description)} (peers: {safe(', '.join(difference.peers))})")
    if (detail and per_source) or (not detail and difference.changes):
        for change in difference.changes:
            print(f"      {safe(change.explain())}")
    elif detail:
        for port in difference.ports:
            print(f"      {port} now: {safe(difference.before[port])}")
            print(f"      {port} with the peer's value: {safe(difference.after[port])}")
    op = difference.operation
    if op is not None:
        when = iso_z(op.start)
        print(f"      introduced by {safe(op.operation_name)} at {when} by {safe(op.caller or 'unknown caller')} "
              f"({safe(op.status)}, correlation {safe(op.correlation_id)})")
        if difference.operation_note and not difference.operation_note.startswith("a write/delete"):
            print(f"      why linked: {safe(difference.operation_note)}")
