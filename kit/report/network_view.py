"""Tables for the deep network comparison (``network-diff.ipynb``): rules side by side, a flow
matrix (ports × sources → verdict) and routes. Rendering only; verdicts come from
:mod:`kit.analyze.network`.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Sequence
from typing import Any

from kit.analyze.network import DEFAULT_RESPONDER, Nsg, SecurityRule, VmNetwork, configured_routes, flow_verdict

__all__ = ["DEFAULT_PORTS", "flow_matrix", "route_rows", "rule_rows", "rules_side_by_side", "sources_for"]

#: Ports the flow matrix checks by default: SSH, RDP, HTTP(S), WinRM.
DEFAULT_PORTS = (22, 3389, 80, 443, 5986)


def _nsgs(net: VmNetwork) -> list[tuple[str, Nsg]]:
    """(hop, Nsg) for the primary NIC: subnet NSG then NIC NSG (the inbound order); NSGs not captured left out."""
    nic = net.primary_nic
    config = nic.primary_ip_configuration
    subnet = net.subnet(config.subnet_id if config else None)
    found = [("subnet", net.nsg(subnet.nsg_id) if subnet is not None else None), ("nic", net.nsg(nic.nsg_id))]
    return [(hop, nsg) for hop, nsg in found if nsg is not None]


def _rule_text(rule: SecurityRule) -> str:
    src = ",".join(rule.source_prefixes or ()) + (f" asg:{','.join(rule.source_asgs)}" if rule.source_asgs else "")
    dst = ",".join(rule.destination_prefixes or ())
    return (f"{rule.priority} {rule.access} {rule.protocol} {src}:{','.join(rule.source_ports)} → "
            f"{dst}:{','.join(rule.destination_ports)}")


def rule_rows(net: VmNetwork, *, include_default: bool = False) -> list[dict[str, Any]]:
    """Every NSG rule on the VM's primary NIC path, by hop, direction and priority."""
    rows = []
    for hop, nsg in _nsgs(net):
        for direction in ("Inbound", "Outbound"):
            for rule in nsg.ordered(direction):
                if rule.is_default and not include_default:
                    continue
                rows.append({"hop": hop, "NSG": nsg.name, "direction": direction, "priority": rule.priority,
                             "rule": rule.name, "access": rule.access, "protocol": rule.protocol,
                             "source": ",".join(rule.source_prefixes), "source ports": ",".join(rule.source_ports),
                             "destination": ",".join(rule.destination_prefixes),
                             "destination ports": ",".join(rule.destination_ports)})
    return rows


def rules_side_by_side(subject: VmNetwork, peers: Sequence[VmNetwork]) -> list[dict[str, Any]]:
    """One row per (hop, direction, rule name) across all VMs; a column per VM (``absent`` if missing).

    Rows where the VMs disagree come first and carry ``differs: yes``.
    """
    nets = [subject, *peers]
    keyed: dict[tuple[str, str, str], dict[str, str]] = {}
    for net in nets:
        for hop, nsg in _nsgs(net):
            for rule in nsg.rules:
                if rule.is_default:
                    continue
                keyed.setdefault((hop, rule.direction, rule.name), {})[net.vm_name] = _rule_text(rule)
    rows = []
    for (hop, direction, name), by_vm in keyed.items():
        values = [by_vm.get(n.vm_name, "absent") for n in nets]
        rows.append({"differs": "yes" if len(set(values)) > 1 else "no", "hop": hop, "direction": direction,
                     "rule": name, **{n.vm_name: v for n, v in zip(nets, values, strict=True)}})
    rows.sort(key=lambda r: (r["differs"] != "yes", r["hop"], r["direction"], r["rule"]))
    return rows


def sources_for(subject: VmNetwork, responder_ip: str | None) -> dict[str, str]:
    """Label → address for the flow matrix: the responder, a VNet neighbour, the internet, Azure's platform."""
    sources: dict[str, str] = {}
    if responder_ip:
        sources["responder"] = responder_ip
    config = subject.primary_nic.primary_ip_configuration
    subnet = subject.subnet(config.subnet_id if config else None)
    if subnet is not None and subnet.address_prefixes:
        network = ipaddress.ip_network(subnet.address_prefixes[0], strict=False)
        hosts = [str(h) for h in itertools.islice(network.hosts(), 3, 8)]  # a /8 has 16 M hosts: never list them
        neighbour = next((h for h in hosts if h != subject.primary_ip), None)
        if neighbour:
            sources["same subnet"] = neighbour
    sources["internet"] = DEFAULT_RESPONDER
    sources["Azure platform (168.63.129.16)"] = "168.63.129.16"
    return sources


def flow_matrix(nets: Sequence[VmNetwork], sources: dict[str, str],
                ports: Sequence[int] = DEFAULT_PORTS) -> list[dict[str, Any]]:
    """Inbound TCP verdicts: one row per (VM, source), a column per port (``Allow``/``Deny`` + rule)."""
    rows = []
    for net in nets:
        for label, address in sources.items():
            row: dict[str, Any] = {"VM": net.vm_name, "source": f"{label} {address}"}
            for port in ports:
                try:
                    v = flow_verdict(net, "Inbound", "TCP", f"{net.primary_ip}:{port}", f"{address}:50000")
                    row[f"TCP {port}"] = f"{v.access} ({v.rule_name or 'no NSG'})"
                except Exception as error:  # noqa: BLE001 - show why a cell has no verdict
                    row[f"TCP {port}"] = f"n/a: {error}"
            rows.append(row)
    return rows


def route_rows(net: VmNetwork) -> list[dict[str, Any]]:
    """The primary NIC's routes: effective ones when captured, else configured (system + UDR)."""
    nic = net.primary_nic
    effective = net.effective_routes.get(nic.name) or net.effective_routes.get(nic.id)
    routes = effective if effective else configured_routes(net, nic)
    origin = "effective" if effective else "configured"
    return [{"VM": net.vm_name, "from": origin, "prefix": r.address_prefix, "next hop": r.next_hop_type,
             "next hop IP": r.next_hop_ip or "", "source": r.source, "state": r.state, "name": r.name or ""}
            for r in routes]
