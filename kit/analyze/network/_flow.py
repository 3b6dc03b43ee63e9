"""Offline IP flow verify: would this 5-tuple pass the NSGs in front of a NIC?

Azure's order (``network-security-group-how-it-works``): inbound traffic meets the subnet's NSG
first, then the NIC's; outbound traffic meets the NIC's first, then the subnet's. Both must
allow; a hop with no NSG allows. Within one NSG the rules of the flow's direction are tried in
ascending priority and the first match decides. Rules see private addresses (inbound after NAT).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kit.analyze.network._addresses import (
    AZURE_HOST,
    BUILTIN_TAGS,
    PORTED,
    IPAddress,
    contains,
    is_public,
    normalize_protocol,
    parse_endpoint,
    parse_prefix,
    port_in,
)
from kit.analyze.network._model import Nic, Nsg, SecurityRule, VmNetwork, id_key
from kit.errors import AnalysisError, UsageError
from kit.ids import name_of

__all__ = ["FlowVerdict", "HopVerdict", "evaluate_nsg", "flow_verdict", "rule_matches"]

_DIRECTIONS = {"inbound": "Inbound", "in": "Inbound", "outbound": "Outbound", "out": "Outbound"}
_HOP_LABEL = {"subnet": "subnet", "nic": "NIC"}


@dataclass(frozen=True)
class HopVerdict:
    """What one hop (the subnet's or the NIC's NSG) did with the flow.

    Parameters
    ----------
    hop
        ``subnet`` or ``nic``.
    nsg_id, nsg_name
        The NSG on that hop, or ``None`` when the hop has none.
    access
        ``Allow`` or ``Deny``; ``None`` when the hop was not evaluated (an earlier hop denied)
        or its NSG was not captured.
    rule_name
        ``securityRules/<name>`` or ``defaultSecurityRules/<name>``; ``None`` without an NSG.
    priority
        The deciding rule's priority.
    evaluated
        Whether Azure would have reached this hop.
    note
        A sentence for people (``no NSG on the subnet: allowed``).
    """

    hop: str
    nsg_id: str | None
    nsg_name: str | None
    access: str | None
    rule_name: str | None
    priority: int | None
    evaluated: bool
    note: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "hop": self.hop, "nsg_id": self.nsg_id, "nsg_name": self.nsg_name, "access": self.access,
            "rule_name": self.rule_name, "priority": self.priority, "evaluated": self.evaluated, "note": self.note,
        }


@dataclass(frozen=True)
class FlowVerdict:
    """The answer to one flow question, in the shape of Network Watcher's IP flow verify.

    Parameters
    ----------
    access
        ``Allow`` or ``Deny``.
    rule_name
        The deciding rule (``securityRules/deny-ssh``, ``defaultSecurityRules/DenyAllInBound``);
        ``None`` when no NSG is on the path. When the flow is allowed, the rule of the last hop
        that has an NSG (inbound: the NIC's if any; outbound: the subnet's if any).
    nsg_id
        The NSG holding that rule.
    hop
        ``subnet``, ``nic``, or ``None`` when no NSG is on the path.
    direction, protocol
        As asked (``Inbound``/``Outbound``; ``Tcp``/``Udp``/…).
    local, remote
        ``ip:port`` as evaluated (a public local address is mapped to its private address).
    nic
        The NIC whose NSGs were evaluated.
    source
        ``effective`` (rules captured from the running VM) or ``configuration``.
    trace
        One :class:`HopVerdict` per hop in evaluation order.
    cross_check
        When effective rules were used and the configuration disagrees, a sentence saying how.
    warnings
        Gaps that may affect the answer (an NSG not captured, an unknown service tag …).
    """

    access: str
    rule_name: str | None
    nsg_id: str | None
    hop: str | None
    direction: str
    protocol: str
    local: str
    remote: str
    nic: str
    source: str
    trace: tuple[HopVerdict, ...]
    cross_check: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def rule(self) -> str | None:
        """The deciding rule's own name (``deny-ssh`` of ``securityRules/deny-ssh``), or ``None``."""
        return self.rule_name.rpartition("/")[2] if self.rule_name else None

    @property
    def allowed(self) -> bool:
        """Whether the NSGs let the flow through."""
        return self.access == "Allow"

    def explain(self) -> str:
        """One sentence: what decided and where."""
        if self.rule_name is None:
            return f"{self.access}: no NSG on the subnet or the NIC {self.nic} (every hop allows)"
        where = f"{_HOP_LABEL.get(self.hop or '', self.hop)} NSG {name_of(self.nsg_id) if self.nsg_id else '?'}"
        return f"{self.access} by {self.rule_name} on the {where} ({self.source})"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (Network Watcher's ``access``/``ruleName`` plus the kit's fields)."""
        return {
            "access": self.access, "rule_name": self.rule_name, "nsg_id": self.nsg_id, "hop": self.hop,
            "direction": self.direction, "protocol": self.protocol, "local": self.local, "remote": self.remote,
            "nic": self.nic, "source": self.source, "trace": [hop.to_json() for hop in self.trace],
            "cross_check": self.cross_check, "warnings": list(self.warnings), "explanation": self.explain(),
        }


@dataclass
class _Context:
    """What address matching needs to know about the flow's surroundings."""

    network: VmNetwork
    nic: Nic
    subnet_id: str | None
    tag_map: dict[str, tuple[str, ...]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    captured_tags: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # tag expansions captured with the effective rules also serve the configuration's rules
        for entry in self.network.effective_nsgs.get(self.nic.name, ()):
            self.captured_tags.update(entry.nsg.tag_map)

    def vnet_space(self) -> list[Any]:
        vnet = self.network.vnet_of(self.subnet_id)
        if vnet is None:
            subnet = self.network.subnet(self.subnet_id)
            if subnet is None or not subnet.address_prefixes:
                self._warn("the VNet's address space was not captured; VirtualNetwork means nothing here")
                return []
            self._warn("the VNet was not captured; VirtualNetwork is taken as the subnet's prefixes only")
            return [parse_prefix(p, f"subnet {subnet.name}") for p in subnet.address_prefixes]
        prefixes = vnet.address_prefixes + vnet.peered_prefixes
        return [parse_prefix(p, f"vnet {vnet.name}") for p in prefixes]

    def tag_contains(self, tag: str, address: IPAddress, rule: SecurityRule) -> bool:
        captured = self.tag_map.get(tag.lower())
        if captured is not None:
            return contains((parse_prefix(p, f"tagMap[{tag!r}]") for p in captured), address)
        owner = self.network.owner_of(str(address))
        if owner is not None and any(name_of(asg).lower() == tag.lower() for asg in owner[1].asg_ids):
            return True  # effective rules name application security groups by name
        if self._is_asg_name(tag):
            return False
        builtin = BUILTIN_TAGS.get(tag.lower())
        if builtin == "VirtualNetwork":
            return contains(self.vnet_space(), address)
        if builtin == "AzureLoadBalancer":
            return contains([AZURE_HOST], address)
        if builtin == "Internet":
            return is_public(address) and not contains(self.vnet_space(), address)
        self._warn(
            f"rule {rule.rule_name} uses service tag {tag!r}, whose prefixes were not captured; "
            "it was taken not to match"
        )
        return False

    def _is_asg_name(self, tag: str) -> bool:
        nics = (*self.network.nics, *self.network.known_nics)
        return any(name_of(asg).lower() == tag.lower()
                   for nic in nics for c in nic.ip_configurations for asg in c.asg_ids)

    def asgs_of(self, address: IPAddress) -> set[str]:
        owner = self.network.owner_of(str(address))
        return {id_key(asg) for asg in owner[1].asg_ids} if owner else set()

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)


def _side_matches(rule: SecurityRule, side: str, address: IPAddress, context: _Context) -> bool:
    expanded = rule._parsed[f"expanded_{side}"]
    entries = rule._parsed[side]
    asgs = rule.source_asgs if side == "source" else rule.destination_asgs
    if asgs and {id_key(asg) for asg in asgs} & context.asgs_of(address):
        return True
    if expanded and contains(expanded, address):
        return True
    for entry in entries:
        if entry is None:
            return True
        if isinstance(entry, str):
            # the captured expansion stands for the tags; without one, resolve the tag here
            if not expanded and context.tag_contains(entry, address, rule):
                return True
        elif entry.version == address.version and address in entry:
            return True
    return False


def rule_matches(
    rule: SecurityRule,
    protocol: str,
    source: tuple[IPAddress, int | None],
    destination: tuple[IPAddress, int | None],
    context: _Context,
) -> bool:
    """Whether ``rule`` matches the 5-tuple (direction is checked by the caller)."""
    if rule.protocol != "*" and rule.protocol != protocol:
        return False
    if protocol in PORTED:
        if not port_in(source[1], rule._parsed["source_ports"]):
            return False
        if not port_in(destination[1], rule._parsed["destination_ports"]):
            return False
    return _side_matches(rule, "source", source[0], context) and _side_matches(
        rule, "destination", destination[0], context
    )


def evaluate_nsg(
    nsg: Nsg,
    direction: str,
    protocol: str,
    source: tuple[IPAddress, int | None],
    destination: tuple[IPAddress, int | None],
    context: _Context,
) -> SecurityRule | None:
    """The first rule of ``nsg`` (by priority) matching the flow, or ``None``."""
    context.tag_map = {**context.captured_tags, **nsg.tag_map}
    for rule in nsg.ordered(direction):
        if rule_matches(rule, protocol, source, destination, context):
            return rule
    return None


def _parse_question(direction: str, protocol: str, local: str, remote: str) -> tuple[str, str, Any, Any]:
    canonical = _DIRECTIONS.get(str(direction).strip().lower())
    if canonical is None:
        raise UsageError(f"direction must be Inbound or Outbound, got {direction!r}")
    proto = normalize_protocol(protocol, "protocol", usage=True)
    if proto == "*":
        raise UsageError("protocol must be one protocol (TCP, UDP, ICMP, ESP or AH), not '*'")
    local_end = parse_endpoint(local, "local")
    remote_end = parse_endpoint(remote, "remote")
    if local_end[0].version != remote_end[0].version:
        raise UsageError(f"local {local_end[0]} is IPv{local_end[0].version} but remote {remote_end[0]} is "
                         f"IPv{remote_end[0].version}: both ends of a flow use the same IP version")
    if proto in PORTED and local_end[1] is None and remote_end[1] is None:
        raise UsageError(f"{proto.upper()} needs ports: give --local ip:port and --remote ip:port")
    return canonical, proto, local_end, remote_end


def _hops(network: VmNetwork, nic: Nic, subnet_id: str | None,
          use_effective: bool) -> tuple[str, dict[str, Nsg | None], list[str]]:
    """(source, hop → NSG, warnings) for a NIC; an NSG id that was not captured maps to None."""
    warnings: list[str] = []
    if use_effective and nic.name in network.effective_nsgs:
        hops: dict[str, Nsg | None] = {"subnet": None, "nic": None}
        for entry in network.effective_nsgs[nic.name]:
            hops[entry.hop] = entry.nsg
        return "effective", hops, warnings
    subnet = network.subnet(subnet_id)
    hops = {"subnet": None, "nic": None}
    if subnet_id and subnet is None:
        warnings.append(f"subnet {name_of(subnet_id)} was not captured: whether it has an NSG is unknown")
    if subnet is not None and subnet.nsg_id:
        hops["subnet"] = network.nsg(subnet.nsg_id) or _missing(subnet.nsg_id)
    if nic.nsg_id:
        hops["nic"] = network.nsg(nic.nsg_id) or _missing(nic.nsg_id)
    return "configuration", hops, warnings


def _missing(nsg_id: str) -> Nsg:
    return Nsg(id=nsg_id, name=name_of(nsg_id), rules=(), source="missing")


def _evaluate(
    network: VmNetwork, nic: Nic, subnet_id: str | None, direction: str, protocol: str,
    local: tuple[IPAddress, int | None], remote: tuple[IPAddress, int | None], use_effective: bool,
) -> tuple[str, str | None, str | None, str | None, tuple[HopVerdict, ...], str, list[str]]:
    source_kind, hops, warnings = _hops(network, nic, subnet_id, use_effective)
    context = _Context(network, nic, subnet_id)
    src, dst = (remote, local) if direction == "Inbound" else (local, remote)
    order = ("subnet", "nic") if direction == "Inbound" else ("nic", "subnet")
    trace: list[HopVerdict] = []
    decided: tuple[str, str | None, str | None, str | None] | None = None
    last_allow: tuple[str, str | None, str | None, str | None] = ("Allow", None, None, None)
    for hop in order:
        nsg = hops[hop]
        label = _HOP_LABEL[hop]
        if decided is not None:
            trace.append(HopVerdict(hop, nsg.id if nsg else None, nsg.name if nsg else None, None, None, None,
                                    False, f"not evaluated: the {_HOP_LABEL[decided[3] or hop]} NSG already denied"))
            continue
        if nsg is None:
            trace.append(HopVerdict(hop, None, None, "Allow", None, None, True, f"no NSG on the {label}: allowed"))
            continue
        if nsg.source == "missing":
            warnings.append(f"the {label} NSG {nsg.name} was not captured; this hop was taken to allow")
            trace.append(HopVerdict(hop, nsg.id, nsg.name, None, None, None, True,
                                    f"NSG {nsg.name} not captured: unknown"))
            continue
        rule = evaluate_nsg(nsg, direction, protocol, src, dst, context)
        if rule is None:  # only effective lists without defaults can get here
            warnings.append(f"no rule of the {label} NSG {nsg.name} matched; Azure's default deny was applied")
            access, rule_name, priority = "Deny", f"defaultSecurityRules/DenyAll{direction[:-5]}Bound", 65500
        else:
            access, rule_name, priority = rule.access, rule.rule_name, rule.priority
        trace.append(HopVerdict(hop, nsg.id or None, nsg.name, access, rule_name, priority, True,
                                f"{access} by {rule_name} (priority {priority})"))
        if access == "Deny":
            decided = ("Deny", rule_name, nsg.id or None, hop)
        else:
            last_allow = ("Allow", rule_name, nsg.id or None, hop)
    final_access, final_rule, final_nsg, final_hop = decided or last_allow
    return final_access, final_rule, final_nsg, final_hop, tuple(trace), source_kind, warnings + context.warnings


def flow_verdict(
    network: VmNetwork,
    direction: str,
    protocol: str,
    local: str,
    remote: str,
    *,
    use_effective: bool = True,
) -> FlowVerdict:
    """Offline IP flow verify for one flow at one of the VM's NICs.

    Parameters
    ----------
    network
        The VM's network (:func:`load_network` / :func:`network_from_dicts`).
    direction
        ``Inbound`` (``remote`` → ``local``) or ``Outbound`` (``local`` → ``remote``).
    protocol
        ``TCP``, ``UDP``, ``ICMP``, ``ESP`` or ``AH`` (any case).
    local
        ``ip:port`` on the VM; the ip picks the NIC. A public IP of the VM is mapped to the
        private address it is NATed to, since rules see private addresses.
    remote
        ``ip:port`` of the other end.
    use_effective
        Use the effective rules when they were captured (default); ``False`` forces the
        configuration, as for a deallocated VM.

    Returns
    -------
    FlowVerdict
        ``access``, ``rule_name``, the deciding NSG and hop, the per-hop trace, and a cross-check
        note when effective rules and configuration disagree.

    Raises
    ------
    UsageError
        When the direction, protocol or an endpoint is malformed.
    AnalysisError
        When ``local`` is not an address of the VM.
    """
    direction, proto, local_end, remote_end = _parse_question(direction, protocol, local, remote)
    located = network.locate(str(local_end[0]))
    if located is None:
        known = ", ".join(c.private_ip for n in network.nics for c in n.ip_configurations if c.private_ip) or "none"
        raise AnalysisError(
            f"local address {local_end[0]} is not an address of {network.vm_name} (its private addresses: {known})"
        )
    nic, config = located
    notes: list[str] = []
    if config.private_ip and config.private_ip != str(local_end[0]):
        notes.append(f"{local_end[0]} is the public address of {nic.name}; rules were evaluated for its private "
                     f"address {config.private_ip} (Azure applies NSGs after NAT)")
        local_end = (parse_endpoint(config.private_ip, "local")[0], local_end[1])
    result = _evaluate(network, nic, config.subnet_id, direction, proto, local_end, remote_end, use_effective)
    access, rule_name, nsg_id, hop, trace, source_kind, warnings = result
    cross_check = None
    if source_kind == "effective":
        cross_check = _cross_check(network, nic, config.subnet_id, direction, proto, local_end, remote_end, result)
    return FlowVerdict(
        access=access, rule_name=rule_name, nsg_id=nsg_id, hop=hop, direction=direction, protocol=proto,
        local=_endpoint_text(local_end), remote=_endpoint_text(remote_end), nic=nic.name, source=source_kind,
        trace=trace, cross_check=cross_check, warnings=tuple(dict.fromkeys(notes + warnings)),
    )


def _cross_check(network: VmNetwork, nic: Nic, subnet_id: str | None, direction: str, protocol: str,
                 local: Any, remote: Any, effective: tuple[Any, ...]) -> str | None:
    subnet = network.subnet(subnet_id)
    if not nic.nsg_id and not (subnet is not None and subnet.nsg_id) and not any(
        entry.nsg.rules for entry in network.effective_nsgs.get(nic.name, ())
    ):
        return None
    configured = _evaluate(network, nic, subnet_id, direction, protocol, local, remote, use_effective=False)
    if configured[:2] == effective[:2] and (configured[3] == effective[3] or configured[1] is None):
        return None
    said = ("no NSG (allowed)" if configured[1] is None
            else f"{configured[0]} by {configured[1]} on the {_HOP_LABEL.get(configured[3] or '', '?')} NSG")
    got = ("no NSG (allowed)" if effective[1] is None
           else f"{effective[0]} by {effective[1]} on the {_HOP_LABEL.get(effective[3] or '', '?')} NSG")
    return (
        f"the captured effective rules say {got}, but the configuration says {said}: the NSG or its "
        "association changed between the two captures, or rules outside the NSGs (Virtual Network "
        "Manager admin rules, service tag expansion) differ"
    )


def _endpoint_text(end: tuple[IPAddress, int | None]) -> str:
    address = f"[{end[0]}]" if end[0].version == 6 else str(end[0])
    return f"{address}:{'*' if end[1] is None else end[1]}"

