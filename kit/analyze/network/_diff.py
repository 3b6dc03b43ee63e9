"""Diff a VM's network against known-good peers, and say which differences break SSH/RDP.

For every difference (NSG rules, UDRs, NIC settings, subnet/NSG/route-table associations) the
subject's configuration is changed to the peer's value for that one thing and the SSH (22) and/or
RDP (3389) verdicts (the VM's OS's, or the ports asked) are computed again from each
representative source (the responder when given, the Internet, the VNet, a peered VNet,
AzureLoadBalancer): a difference "changes the verdict" when the answer moves for the responder,
or, without one, for any source. Differences are linked to the Activity Log write/delete operation
on the same resource (inside the incident window) that most likely introduced them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kit.analyze.activity import Operation
from kit.analyze.network._model import Nsg, Route, RouteTable, SecurityRule, Subnet, VmNetwork, id_key
from kit.analyze.network._responder import ACCESS_PORTS, ResponderVerdict, access_ports, ssh_rdp_verdicts
from kit.analyze.network._routes import next_hop
from kit.analyze.network._sources import DEFAULT_RESPONDER, representative_sources
from kit.errors import AnalysisError, KitError
from kit.ids import canonical_id, name_of, try_parse
from kit.times import iso_z

__all__ = ["Difference", "NetworkDiff", "VerdictChange", "diff_network"]

Apply = Callable[[VmNetwork], VmNetwork]
RuleEdit = Callable[[tuple[SecurityRule, ...]], tuple[SecurityRule, ...]]
RouteEdit = Callable[[tuple[Route, ...]], tuple[Route, ...]]

# the most specific differences first: a rule or route says more than an association
_HOP = {"nic": "NIC", "subnet": "subnet"}
_KIND_RANK = {"nsg_rule": 0, "route": 1, "route_table": 2, "association": 3, "nic": 4}


@dataclass(frozen=True)
class VerdictChange:
    """How one difference moves the verdict for one source and port.

    Parameters
    ----------
    source
        The source's label (``the responder``, ``the Internet``, ``the VNet`` …).
    address
        The source address the verdict is computed from.
    port
        The destination port.
    before, after
        The verdict sentence now, and with the peer's value.
    """

    source: str
    address: str
    port: int
    before: str
    after: str

    def explain(self) -> str:
        """``from the Internet (203.0.113.10), SSH: blocked … → reachable …``."""
        service, _, now = self.before.partition(": ")
        return f"from {self.source} ({self.address}), {service}: {now} → with the peer's value: " \
               f"{self.after.partition(': ')[2]}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"source": self.source, "address": self.address, "port": self.port, "before": self.before,
                "after": self.after}


@dataclass(frozen=True)
class Difference:
    """One way the subject's network differs from one or more peers'.

    Parameters
    ----------
    kind
        ``nsg_rule:added`` (only the subject has it), ``nsg_rule:missing`` (only peers have it),
        ``nsg_rule:changed``, ``route:added``/``route:missing``/``route:changed``,
        ``route_table:bgp_propagation``, ``association:subnet``, ``association:subnet_nsg``,
        ``association:nic_nsg``, ``association:route_table`` (one side has an NSG / route table,
        the other none; when both have one, their rules or routes are compared instead), ``nic:ip_forwarding``,
        ``nic:accelerated_networking``, ``nic:dns_servers``, ``nic:private_ip``, ``nic:asgs``,
        ``nic:public_ip``.
    item
        What differs (rule name, route prefix, setting name).
    subject_value, peer_value
        Both sides as text (``absent`` when one side lacks it).
    resource_id
        The subject-side resource (NSG, route table, NIC, subnet).
    description
        A sentence for people.
    peers
        The peers that differ this way.
    changes_verdict
        Whether taking the peer's value changes the SSH or RDP verdict from the responder (without
        one: from any representative source).
    ports
        The ports (22, 3389) whose verdict changes (for the responder, else for the first source that moves).
    before, after
        Port → the verdict sentence now, and with the peer's value (same source as ``ports``).
    changes
        Every (source, port) whose verdict moves, for every representative source.
    operation
        The Activity Log operation that introduced it (an ``activity.Operation``), when found.
    operation_note
        How the operation was linked: a write/delete on the same resource, or (for a route to an
        appliance address no captured NIC owns) a NIC or VM deleted inside the window.
    """

    kind: str
    item: str
    subject_value: str
    peer_value: str
    resource_id: str | None
    description: str
    peers: tuple[str, ...]
    changes_verdict: bool = False
    ports: tuple[int, ...] = ()
    before: dict[int, str] = field(default_factory=dict)
    after: dict[int, str] = field(default_factory=dict)
    operation: Operation | None = None
    operation_note: str | None = None
    changes: tuple[VerdictChange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        op = self.operation
        return {
            "kind": self.kind, "item": self.item, "subject": self.subject_value, "peer": self.peer_value,
            "resource_id": self.resource_id, "description": self.description, "peers": list(self.peers),
            "changes_verdict": self.changes_verdict, "ports": list(self.ports),
            "before": {str(k): v for k, v in self.before.items()}, "after": {str(k): v for k, v in self.after.items()},
            "changes": [c.to_json() for c in self.changes],
            "operation": None if op is None else {
                "correlation_id": getattr(op, "correlation_id", None),
                "operation_name": getattr(op, "operation_name", None),
                "resource_id": getattr(op, "resource_id", None),
                "status": getattr(op, "status", None),
                "start": _iso(getattr(op, "start", None)),
                "caller": getattr(op, "caller", None),
            },
            "operation_note": self.operation_note,
        }


@dataclass(frozen=True)
class NetworkDiff:
    """The subject's network against its peers'.

    Parameters
    ----------
    subject
        The subject VM's name.
    peers
        The peers' names.
    responder_ip
        The address the verdicts are computed from (the responder's, else the Internet stand-in).
    subject_verdicts
        Port → :class:`ResponderVerdict` for the subject (effective rules/routes where captured).
    peer_verdicts
        Peer name → port → verdict.
    differences
        Every difference, verdict-changing ones first.
    warnings
        What could not be compared.
    responder_given
        Whether a responder address was given (else the diff judged every representative source).
    sources
        Label → address of the sources each difference was judged from.
    ports
        The ports judged and shown (the VM's OS's, or the ones asked).
    """

    subject: str
    peers: tuple[str, ...]
    responder_ip: str
    subject_verdicts: dict[int, ResponderVerdict]
    peer_verdicts: dict[str, dict[int, ResponderVerdict]]
    differences: tuple[Difference, ...]
    warnings: tuple[str, ...] = ()
    responder_given: bool = True
    sources: dict[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = tuple(ACCESS_PORTS)

    @property
    def explaining(self) -> tuple[Difference, ...]:
        """The differences that change the SSH/RDP verdict."""
        return tuple(d for d in self.differences if d.changes_verdict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "subject": self.subject, "peers": list(self.peers), "responder_ip": self.responder_ip,
            "responder_given": self.responder_given, "sources": dict(self.sources), "ports": list(self.ports),
            "subject_verdicts": {str(p): v.to_json() for p, v in self.subject_verdicts.items()},
            "peer_verdicts": {name: {str(p): v.to_json() for p, v in verdicts.items()}
                              for name, verdicts in self.peer_verdicts.items()},
            "differences": [d.to_json() for d in self.differences],
            "warnings": list(self.warnings),
        }


@dataclass
class _Raw:
    kind: str
    item: str
    subject_value: str
    peer_value: str
    resource_id: str | None
    description: str
    apply: Apply
    related: tuple[str, ...]
    appliance_ip: str | None = None


# --------------------------------------------------------------------------------------------
# Counterfactual edits: the subject with one thing taken from the peer
# --------------------------------------------------------------------------------------------


def _set_nic(**changes: Any) -> Apply:
    def apply(net: VmNetwork) -> VmNetwork:
        nic = net.primary_nic
        nics = tuple(dataclasses.replace(n, **changes) if n is nic else n for n in net.nics)
        return dataclasses.replace(net, nics=nics)
    return apply


def _set_config(**changes: Any) -> Apply:
    def apply(net: VmNetwork) -> VmNetwork:
        nic = net.primary_nic
        config = nic.primary_ip_configuration
        configs = tuple(dataclasses.replace(c, **changes) if c is config else c for c in nic.ip_configurations)
        return _set_nic(ip_configurations=configs)(net)
    return apply


def _bring(net: VmNetwork, peer: VmNetwork, *, nsg_id: str | None = None, table_id: str | None = None,
           subnet_id: str | None = None) -> VmNetwork:
    nsgs, tables, subnets, vnets = dict(net.nsgs), dict(net.route_tables), dict(net.subnets), dict(net.vnets)
    if nsg_id and peer.nsg(nsg_id):
        nsgs[id_key(nsg_id)] = peer.nsg(nsg_id)  # type: ignore[assignment]
    if table_id and peer.route_table(table_id):
        tables[id_key(table_id)] = peer.route_table(table_id)  # type: ignore[assignment]
    if subnet_id and peer.subnet(subnet_id):
        subnet = peer.subnet(subnet_id)
        subnets[id_key(subnet_id)] = subnet  # type: ignore[assignment]
        vnet = peer.vnet_of(subnet_id)
        if vnet is not None:
            vnets[id_key(vnet.id)] = vnet
        assert subnet is not None
        return _bring(dataclasses.replace(net, subnets=subnets, vnets=vnets, nsgs=nsgs, route_tables=tables),
                      peer, nsg_id=subnet.nsg_id, table_id=subnet.route_table_id)
    return dataclasses.replace(net, nsgs=nsgs, route_tables=tables, subnets=subnets, vnets=vnets)


def _set_subnet(subnet_id: str, peer: VmNetwork, **changes: Any) -> Apply:
    def apply(net: VmNetwork) -> VmNetwork:
        net = _bring(net, peer, nsg_id=changes.get("nsg_id"), table_id=changes.get("route_table_id"))
        subnet = net.subnet(subnet_id)
        if subnet is None:
            return net
        subnets = dict(net.subnets)
        subnets[id_key(subnet_id)] = dataclasses.replace(subnet, **changes)
        return dataclasses.replace(net, subnets=subnets)
    return apply


def _edit_rules(nsg_id: str, edit: RuleEdit) -> Apply:
    def apply(net: VmNetwork) -> VmNetwork:
        nsg = net.nsg(nsg_id)
        if nsg is None:
            return net
        nsgs = dict(net.nsgs)
        nsgs[id_key(nsg_id)] = dataclasses.replace(nsg, rules=edit(nsg.rules))
        return dataclasses.replace(net, nsgs=nsgs)
    return apply


def _edit_routes(table_id: str, edit: RouteEdit) -> Apply:
    def apply(net: VmNetwork) -> VmNetwork:
        table = net.route_table(table_id)
        if table is None:
            return net
        tables = dict(net.route_tables)
        tables[id_key(table_id)] = dataclasses.replace(table, routes=edit(table.routes))
        return dataclasses.replace(net, route_tables=tables)
    return apply


def _take_nic_nsg(peer: VmNetwork, nsg_id: str | None) -> Apply:
    return lambda net: _set_nic(nsg_id=nsg_id)(_bring(net, peer, nsg_id=nsg_id))


def _take_subnet(peer: VmNetwork, subnet_id: str | None) -> Apply:
    return lambda net: _set_config(subnet_id=subnet_id)(_bring(net, peer, subnet_id=subnet_id))


def _drop_rule(name: str) -> RuleEdit:
    return lambda rules: tuple(r for r in rules if r.is_default or r.name.lower() != name)


def _add_rule(rule: SecurityRule) -> RuleEdit:
    return lambda rules: (*rules, rule)


def _swap_rule(name: str, rule: SecurityRule) -> RuleEdit:
    return lambda rules: tuple(rule if (not r.is_default and r.name.lower() == name) else r for r in rules)


def _drop_route(key: str) -> RouteEdit:
    return lambda routes: tuple(r for r in routes if _route_key(r) != key)


def _add_route(route: Route) -> RouteEdit:
    return lambda routes: (*routes, route)


def _swap_route(key: str, route: Route) -> RouteEdit:
    return lambda routes: tuple(route if _route_key(r) == key else r for r in routes)


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    if value is None or value == () or value == "":
        return "absent"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _nsg_name(nsg_id: str | None) -> str:
    return name_of(nsg_id) if nsg_id else "none"


def _compare(subject: VmNetwork, peer: VmNetwork) -> list[_Raw]:
    raws: list[_Raw] = []
    s_nic, p_nic = subject.primary_nic, peer.primary_nic
    s_cfg, p_cfg = s_nic.primary_ip_configuration, p_nic.primary_ip_configuration
    nic_id = s_nic.id or None

    def nic_setting(kind: str, label: str, s_value: Any, p_value: Any, apply: Apply) -> None:
        if s_value != p_value:
            raws.append(_Raw(f"nic:{kind}", label, _show(s_value), _show(p_value), nic_id,
                             f"NIC {s_nic.name}: {label} is {_show(s_value)} (peer {peer.vm_name}: {_show(p_value)})",
                             apply, (nic_id or "",)))

    nic_setting("ip_forwarding", "IP forwarding", s_nic.ip_forwarding, p_nic.ip_forwarding,
                _set_nic(ip_forwarding=p_nic.ip_forwarding))
    nic_setting("accelerated_networking", "accelerated networking", s_nic.accelerated_networking,
                p_nic.accelerated_networking, _set_nic(accelerated_networking=p_nic.accelerated_networking))
    nic_setting("dns_servers", "DNS servers", s_nic.dns_servers, p_nic.dns_servers,
                _set_nic(dns_servers=p_nic.dns_servers))
    if s_cfg is not None and p_cfg is not None:
        nic_setting("private_ip", "private IP", s_cfg.private_ip, p_cfg.private_ip,
                    _set_config(private_ip=p_cfg.private_ip))
        s_asgs = tuple(sorted(name_of(a) for a in s_cfg.asg_ids))
        p_asgs = tuple(sorted(name_of(a) for a in p_cfg.asg_ids))
        nic_setting("asgs", "application security groups", s_asgs, p_asgs, _set_config(asg_ids=p_cfg.asg_ids))
        nic_setting("public_ip", "public IP", bool(s_cfg.public_ip_id), bool(p_cfg.public_ip_id), lambda net: net)
    if bool(s_nic.nsg_id) != bool(p_nic.nsg_id):  # both have one: the rule differences say more
        raws.append(_Raw("association:nic_nsg", "NIC NSG", _nsg_name(s_nic.nsg_id), _nsg_name(p_nic.nsg_id), nic_id,
                         f"NIC {s_nic.name} has NSG {_nsg_name(s_nic.nsg_id)}; peer {peer.vm_name}'s NIC has "
                         f"{_nsg_name(p_nic.nsg_id)}",
                         _take_nic_nsg(peer, p_nic.nsg_id), (nic_id or "",)))
    s_sub = subject.subnet(s_cfg.subnet_id if s_cfg else None)
    p_sub = peer.subnet(p_cfg.subnet_id if p_cfg else None)
    if s_cfg and p_cfg and id_key(s_cfg.subnet_id) != id_key(p_cfg.subnet_id):
        raws.append(_Raw("association:subnet", "subnet", _show(name_of(s_cfg.subnet_id) if s_cfg.subnet_id else None),
                         _show(name_of(p_cfg.subnet_id) if p_cfg.subnet_id else None), nic_id,
                         f"NIC {s_nic.name} is in subnet {name_of(s_cfg.subnet_id or '') or 'none'}; peer "
                         f"{peer.vm_name} is in {name_of(p_cfg.subnet_id or '') or 'none'}",
                         _take_subnet(peer, p_cfg.subnet_id),
                         (nic_id or "",)))
    if s_sub is not None and p_sub is not None:
        raws += _compare_subnets(subject, peer, s_sub, p_sub)
    raws += _compare_nsgs(subject, peer, "nic", subject.nsg(s_nic.nsg_id), peer.nsg(p_nic.nsg_id))
    raws += _compare_nsgs(subject, peer, "subnet", subject.nsg(s_sub.nsg_id if s_sub else None),
                          peer.nsg(p_sub.nsg_id if p_sub else None))
    raws += _compare_tables(peer, subject.route_table(s_sub.route_table_id if s_sub else None),
                            peer.route_table(p_sub.route_table_id if p_sub else None))
    return raws


def _subnet_related(subnet: Subnet) -> tuple[str, ...]:
    related = [subnet.id]
    parsed = try_parse(subnet.id)
    if parsed is not None and parsed.parent is not None:
        related.append(str(parsed.parent))
    return tuple(related)


def _compare_subnets(subject: VmNetwork, peer: VmNetwork, s_sub: Subnet, p_sub: Subnet) -> list[_Raw]:
    raws = []
    if bool(s_sub.nsg_id) != bool(p_sub.nsg_id):
        raws.append(_Raw("association:subnet_nsg", "subnet NSG", _nsg_name(s_sub.nsg_id), _nsg_name(p_sub.nsg_id),
                         s_sub.id, f"subnet {s_sub.name} has NSG {_nsg_name(s_sub.nsg_id)}; peer {peer.vm_name}'s "
                         f"subnet {p_sub.name} has {_nsg_name(p_sub.nsg_id)}",
                         _set_subnet(s_sub.id, peer, nsg_id=p_sub.nsg_id), _subnet_related(s_sub)))
    if bool(s_sub.route_table_id) != bool(p_sub.route_table_id):
        raws.append(_Raw("association:route_table", "route table", _nsg_name(s_sub.route_table_id),
                         _nsg_name(p_sub.route_table_id), s_sub.id,
                         f"subnet {s_sub.name} has route table {_nsg_name(s_sub.route_table_id)}; peer "
                         f"{peer.vm_name}'s subnet {p_sub.name} has {_nsg_name(p_sub.route_table_id)}",
                         _set_subnet(s_sub.id, peer, route_table_id=p_sub.route_table_id), _subnet_related(s_sub),
                         _table_appliance(subject.route_table(s_sub.route_table_id))))
    return raws


def _compare_nsgs(subject: VmNetwork, peer: VmNetwork, hop: str, s_nsg: Nsg | None, p_nsg: Nsg | None) -> list[_Raw]:
    if s_nsg is None or p_nsg is None:
        return []
    s_rules = {rule.name.lower(): rule for rule in s_nsg.custom_rules()}
    p_rules = {rule.name.lower(): rule for rule in p_nsg.custom_rules()}
    raws = []
    where = f"{_HOP[hop]} NSG {s_nsg.name}"
    for name in sorted(set(s_rules) | set(p_rules)):
        s_rule, p_rule = s_rules.get(name), p_rules.get(name)
        rule_name = (s_rule or p_rule).name  # type: ignore[union-attr]
        rule_id = f"{s_nsg.id}/securityRules/{rule_name}" if s_nsg.id else ""
        related = (rule_id, s_nsg.id)
        if s_rule is not None and p_rule is None:
            raws.append(_Raw("nsg_rule:added", rule_name, s_rule.summary(), "absent", s_nsg.id or None,
                             f"{where} has rule {rule_name} ({s_rule.summary()}) that peer {peer.vm_name}'s "
                             f"{_HOP[hop]} NSG lacks",
                             _edit_rules(s_nsg.id, _drop_rule(name)),
                             related))
        elif p_rule is not None and s_rule is None:
            raws.append(_Raw("nsg_rule:missing", rule_name, "absent", p_rule.summary(), s_nsg.id or None,
                             f"{where} lacks rule {rule_name} ({p_rule.summary()}) that peer {peer.vm_name}'s "
                             f"{_HOP[hop]} NSG has",
                             _edit_rules(s_nsg.id, _add_rule(p_rule)), related))
        elif s_rule is not None and p_rule is not None and s_rule.comparable() != p_rule.comparable():
            raws.append(_Raw("nsg_rule:changed", rule_name, s_rule.summary(), p_rule.summary(), s_nsg.id or None,
                             f"{where} rule {rule_name} is {s_rule.summary()}; on peer {peer.vm_name} it is "
                             f"{p_rule.summary()}",
                             _edit_rules(s_nsg.id, _swap_rule(name, p_rule)),
                             related))
    return raws


def _table_appliance(table: RouteTable | None) -> str | None:
    return next((ip for ip in map(_appliance, table.routes if table else ()) if ip), None)


def _appliance(route: Route) -> str | None:
    return route.next_hop_ip if route.next_hop_type.lower() == "virtualappliance" else None


def _route_key(route: Route) -> str:
    return str(route.network)


def _compare_tables(peer: VmNetwork, s_table: RouteTable | None, p_table: RouteTable | None) -> list[_Raw]:
    if s_table is None or p_table is None:
        return []
    raws = []
    if s_table.disable_bgp_route_propagation != p_table.disable_bgp_route_propagation:
        raws.append(_Raw("route_table:bgp_propagation", "BGP route propagation",
                         _show(not s_table.disable_bgp_route_propagation),
                         _show(not p_table.disable_bgp_route_propagation), s_table.id or None,
                         f"route table {s_table.name} has BGP route propagation "
                         f"{_show(not s_table.disable_bgp_route_propagation)} (peer {peer.vm_name}: "
                         f"{_show(not p_table.disable_bgp_route_propagation)})",
                         lambda net: net, (s_table.id,)))
    s_routes = {_route_key(r): r for r in s_table.routes}
    p_routes = {_route_key(r): r for r in p_table.routes}
    for prefix in sorted(set(s_routes) | set(p_routes)):
        s_route, p_route = s_routes.get(prefix), p_routes.get(prefix)
        name = (s_route or p_route).name or prefix  # type: ignore[union-attr]
        related = (f"{s_table.id}/routes/{name}" if s_table.id else "", s_table.id)
        if s_route is not None and p_route is None:
            raws.append(_Raw("route:added", prefix, s_route.summary(), "absent", s_table.id or None,
                             f"route table {s_table.name} has {s_route.summary()} that peer {peer.vm_name}'s "
                             "route table lacks",
                             _edit_routes(s_table.id, _drop_route(prefix)), related, _appliance(s_route)))
        elif p_route is not None and s_route is None:
            raws.append(_Raw("route:missing", prefix, "absent", p_route.summary(), s_table.id or None,
                             f"route table {s_table.name} lacks {p_route.summary()} that peer {peer.vm_name} has",
                             _edit_routes(s_table.id, _add_route(p_route)), related))
        elif s_route is not None and p_route is not None and (
            s_route.next_hop_type.lower(), s_route.next_hop_ip) != (p_route.next_hop_type.lower(), p_route.next_hop_ip):
            raws.append(_Raw("route:changed", prefix, s_route.summary(), p_route.summary(), s_table.id or None,
                             f"route {prefix} in {s_table.name} goes to {s_route.summary()}; on peer "
                             f"{peer.vm_name}: {p_route.summary()}",
                             _edit_routes(s_table.id, _swap_route(prefix, p_route)), related, _appliance(s_route)))
    return raws


# --------------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return iso_z(value) if isinstance(value, datetime) else (str(value) if value else None)


def _find_operation(related: tuple[str, ...], operations: Sequence[Operation],
                    window: tuple[datetime, datetime] | None) -> Operation | None:
    wanted = {canonical_id(r) for r in related if r}
    matches = []
    for op in operations:
        name = str(getattr(op, "operation_name", "") or "").lower()
        if not (name.endswith("/write") or name.endswith("/delete")):
            continue
        if canonical_id(getattr(op, "resource_id", None)) not in wanted:
            continue
        start = getattr(op, "start", None)
        if window is not None and isinstance(start, datetime) and not window[0] <= start <= window[1]:
            continue
        matches.append(op)
    if not matches:
        return None
    # the most specific resource first (a rule over its NSG), then succeeded, then the latest
    def rank(op: Any) -> tuple[int, int, Any]:
        specific = len(canonical_id(getattr(op, "resource_id", "")))
        ok = str(getattr(op, "status", "")).lower() == "succeeded"
        return specific, int(ok), getattr(op, "start", None) or datetime.min
    try:
        return max(matches, key=rank)
    except TypeError:  # naive and aware datetimes mixed
        return matches[-1]


def _find_deletion(operations: Sequence[Operation], window: tuple[datetime, datetime] | None) -> Operation | None:
    """The latest NIC (else VM) delete inside the window: a candidate for a vanished appliance."""
    for suffix in ("/networkinterfaces/delete", "/virtualmachines/delete"):
        found = [op for op in operations
                 if str(getattr(op, "operation_name", "")).lower().endswith(suffix)
                 and str(getattr(op, "status", "")).lower() != "failed"
                 and (window is None or not isinstance(getattr(op, "start", None), datetime)
                      or window[0] <= op.start <= window[1])]
        if found:
            try:
                return max(found, key=lambda op: getattr(op, "start", None) or datetime.min)
            except TypeError:
                return found[-1]
    return None


def _link(raw: _Raw, subject: VmNetwork, operations: Sequence[Operation],
          window: tuple[datetime, datetime] | None) -> tuple[Any, str | None]:
    if not operations:
        return None, None
    op = _find_operation(raw.related, operations, window)
    if op is not None:
        return op, "a write/delete on the same resource inside the window"
    ip = raw.appliance_ip
    if ip and subject.owner_of(ip) is None and ip not in subject.working_appliances:
        op = _find_deletion(operations, window)
        if op is not None:
            return op, (f"no captured NIC owns the appliance address {ip}, and this deletion inside the "
                        "window may have removed the appliance")
    return None, None


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def _verdicts(net: VmNetwork, responder_ip: str, *, use_effective: bool,
              ports: Sequence[int] = tuple(ACCESS_PORTS)) -> dict[int, ResponderVerdict] | None:
    try:
        return ssh_rdp_verdicts(net, responder_ip, use_effective=use_effective, ports=ports)
    except AnalysisError:
        return None


Verdicts = dict[str, dict[int, ResponderVerdict]]


def _by_source(net: VmNetwork, sources: dict[str, str], ports: Sequence[int]) -> Verdicts | None:
    """Source label → port → configuration-only verdict (``None`` when the VM cannot be evaluated)."""
    found = {}
    for label, address in sources.items():
        verdicts = _verdicts(net, address, use_effective=False, ports=ports)
        if verdicts is None:
            return None
        found[label] = verdicts
    return found


def _changes(baseline: Verdicts, counterfactual: Verdicts, sources: dict[str, str]) -> list[VerdictChange]:
    return [VerdictChange(label, sources[label], port, now.network_explain(),
                          counterfactual[label][port].network_explain())
            for label, verdicts in baseline.items() for port, now in verdicts.items()
            if now.key != counterfactual[label][port].key]


def _appliances(peers: Sequence[VmNetwork], responder_ip: str) -> list[str]:
    """Next hop addresses of VirtualAppliance routes the peers' replies to the responder take."""
    found = []
    for peer in peers:
        for use_effective in (True, False):
            try:
                hop = next_hop(peer, responder_ip, use_effective=use_effective)
            except AnalysisError:
                continue
            if hop.next_hop_type.lower() == "virtualappliance" and hop.next_hop_ip:
                found.append(hop.next_hop_ip)
    return found


def diff_network(
    subject: VmNetwork,
    peers: Sequence[VmNetwork],
    *,
    responder_ip: str | None = None,
    ports: Sequence[int] | None = None,
    operations: Iterable[Operation] | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> NetworkDiff:
    """Compare the subject's network with known-good peers and rate each difference.

    Parameters
    ----------
    subject
        The broken VM's network.
    peers
        Known-good VMs' networks (usually in the same subnet or VNet).
    responder_ip
        The address the responder connects from; verdicts are TCP 22 and 3389 from there. ``None``:
        the verdicts are from the Internet stand-in and each difference is judged from every
        representative source (:func:`~kit.analyze.network._sources.representative_sources`).
    ports
        The ports to judge (default: SSH for Linux, RDP for Windows, both when the OS is unknown).
    operations
        ``kit.analyze.activity.Operation`` objects (or anything with ``operation_name``,
        ``resource_id``, ``status``, ``start``) to link differences to the change that made them.
    window
        (start, end) of the incident window; operations outside it are not linked.

    Returns
    -------
    NetworkDiff
        The verdicts of subject and peers and every difference, verdict-changing ones first.
        Counterfactual verdicts use configuration only, so a difference's effect is judged the
        same way whether or not effective rules were captured. Appliances the peers' replies go
        through are taken to forward (the peers are known to be reachable).

    Raises
    ------
    UsageError
        When ``responder_ip`` is not an IP address.
    AnalysisError
        When the subject has no NIC or private address to evaluate.
    """
    if not peers:
        raise AnalysisError("diff needs at least one known-good peer to compare with")
    ops = list(operations or ())
    known = [nic for peer in peers for nic in peer.nics]
    subject = subject.with_known_nics(known)
    peers = [peer.with_known_nics(subject.nics) for peer in peers]
    # the known-good peers' replies reach the responder: the appliances they go through forward
    address = responder_ip or DEFAULT_RESPONDER
    shown = access_ports(subject, ports)
    sources = representative_sources(subject, responder_ip)
    working = tuple(dict.fromkeys(_appliances(peers, address)))
    subject = dataclasses.replace(subject, working_appliances=subject.working_appliances + working)
    peers = [dataclasses.replace(peer, working_appliances=peer.working_appliances + working) for peer in peers]
    warnings: list[str] = []
    judged = tuple(dict.fromkeys((*ACCESS_PORTS, *shown)))
    subject_verdicts = ssh_rdp_verdicts(subject, address, ports=judged)
    baseline = _by_source(subject, sources, shown)
    peer_verdicts: dict[str, dict[int, ResponderVerdict]] = {}
    for peer in peers:
        verdicts = _verdicts(peer, address, use_effective=True, ports=judged)
        if verdicts is None:
            warnings.append(f"peer {peer.vm_name}: no private address to evaluate; its verdicts are missing")
        else:
            peer_verdicts[peer.vm_name] = verdicts
    merged: dict[tuple[str, str, str, str], tuple[_Raw, list[str]]] = {}
    for peer in peers:
        try:
            raws = _compare(subject, peer)
        except KitError as error:
            warnings.append(f"peer {peer.vm_name}: could not be compared ({error})")
            continue
        for raw in raws:
            key = (raw.kind, raw.item.lower(), raw.subject_value, raw.peer_value)
            if key in merged:
                merged[key][1].append(peer.vm_name)
            else:
                merged[key] = (raw, [peer.vm_name])
    differences = []
    for raw, names in merged.values():
        changes: list[VerdictChange] = []
        if baseline is not None:
            try:
                counterfactual = _by_source(raw.apply(subject), sources, shown)
            except KitError:
                counterfactual = None
            if counterfactual is not None:
                changes = _changes(baseline, counterfactual, sources)
        deciding = [c for c in changes if c.source == "the responder"] if responder_ip else changes
        first = [c for c in deciding if c.source == deciding[0].source] if deciding else []
        operation, note = _link(raw, subject, ops, window)
        differences.append(Difference(
            kind=raw.kind, item=raw.item, subject_value=raw.subject_value, peer_value=raw.peer_value,
            resource_id=raw.resource_id, description=raw.description, peers=tuple(names),
            changes_verdict=bool(deciding), ports=tuple(c.port for c in first),
            before={c.port: c.before for c in first}, after={c.port: c.after for c in first},
            operation=operation, operation_note=note, changes=tuple(changes),
        ))
    differences.sort(key=lambda d: (not d.changes_verdict, d.operation is None,
                                    _KIND_RANK.get(d.kind.partition(":")[0], 9), d.kind, d.item))
    return NetworkDiff(
        subject=subject.vm_name, peers=tuple(p.vm_name for p in peers), responder_ip=address,
        subject_verdicts=subject_verdicts, peer_verdicts=peer_verdicts, differences=tuple(differences),
        warnings=tuple(dict.fromkeys(warnings + list(subject.warnings))),
        responder_given=responder_ip is not None, sources=sources, ports=shown,
    )
