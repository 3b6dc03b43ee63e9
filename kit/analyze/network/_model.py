"""The network around one VM, built from ARM REST bodies as a bundle stores them.

:class:`VmNetwork` holds the VM's NICs, the NSGs, subnets, VNets and route tables they refer to,
and, where they were captured while the VM ran, the NIC's effective security rules and routes.
Build it with :func:`~kit.analyze.network.load_network` (an evidence bundle) or
:func:`~kit.analyze.network.network_from_dicts` (plain dicts, e.g. in tests or from ``az ... -o json``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kit.analyze.network._addresses import IPNetwork, parse_address_entry, parse_ports, parse_prefix
from kit.errors import AnalysisError
from kit.ids import name_of, try_parse

__all__ = [
    "DEFAULT_RULES",
    "DEFAULT_RULE_NAMES",
    "EffectiveNsg",
    "IpConfiguration",
    "Nic",
    "Nsg",
    "Route",
    "RouteTable",
    "SecurityRule",
    "Subnet",
    "VmNetwork",
    "Vnet",
    "id_key",
]

DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {"name": "AllowVnetInBound", "priority": 65000, "direction": "Inbound", "access": "Allow",
     "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": "VirtualNetwork"},
    {"name": "AllowAzureLoadBalancerInBound", "priority": 65001, "direction": "Inbound", "access": "Allow",
     "sourceAddressPrefix": "AzureLoadBalancer", "destinationAddressPrefix": "*"},
    {"name": "DenyAllInBound", "priority": 65500, "direction": "Inbound", "access": "Deny",
     "sourceAddressPrefix": "*", "destinationAddressPrefix": "*"},
    {"name": "AllowVnetOutBound", "priority": 65000, "direction": "Outbound", "access": "Allow",
     "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": "VirtualNetwork"},
    {"name": "AllowInternetOutBound", "priority": 65001, "direction": "Outbound", "access": "Allow",
     "sourceAddressPrefix": "*", "destinationAddressPrefix": "Internet"},
    {"name": "DenyAllOutBound", "priority": 65500, "direction": "Outbound", "access": "Deny",
     "sourceAddressPrefix": "*", "destinationAddressPrefix": "*"},
)

DEFAULT_RULE_NAMES = frozenset(rule["name"].lower() for rule in DEFAULT_RULES)


def id_key(resource_id: str | None) -> str:
    """The dictionary key of a resource id (ARM compares ids case-insensitively)."""
    return (resource_id or "").lower()


@dataclass(frozen=True)
class SecurityRule:
    """One NSG rule, custom or default, from configuration or from the effective rules.

    Parameters
    ----------
    name
        The rule's own name (``deny-ssh``, ``DenyAllInBound``).
    collection
        ``securityRules`` or ``defaultSecurityRules``.
    priority, direction, access, protocol
        As ARM has them; ``protocol`` is normalised (``Tcp``, ``Udp``, ``Icmp``, ``Esp``, ``Ah``, ``*``).
    source_prefixes, destination_prefixes
        The prefix entries as written (singular and plural fields merged): CIDRs, addresses,
        ``*`` or a service tag.
    source_ports, destination_ports
        The port entries as written (``*``, ``22``, ``10000-10005``).
    source_asgs, destination_asgs
        Application security group ids.
    expanded_source, expanded_destination
        The at-capture expansion of a service tag (effective rules only), else empty.
    id
        The rule's resource id, when known.
    """

    name: str
    collection: str
    priority: int
    direction: str
    access: str
    protocol: str
    source_prefixes: tuple[str, ...] = ("*",)
    destination_prefixes: tuple[str, ...] = ("*",)
    source_ports: tuple[str, ...] = ("*",)
    destination_ports: tuple[str, ...] = ("*",)
    source_asgs: tuple[str, ...] = ()
    destination_asgs: tuple[str, ...] = ()
    expanded_source: tuple[str, ...] = ()
    expanded_destination: tuple[str, ...] = ()
    id: str | None = None
    where: str = field(default="", compare=False, repr=False)
    _parsed: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, init=False)

    def __post_init__(self) -> None:
        where = self.where or f"rule {self.name!r}"
        parsed = {
            "source": tuple(parse_address_entry(v, f"{where} source address") for v in self.source_prefixes),
            "destination": tuple(
                parse_address_entry(v, f"{where} destination address") for v in self.destination_prefixes
            ),
            "source_ports": parse_ports(self.source_ports, f"{where} source port"),
            "destination_ports": parse_ports(self.destination_ports, f"{where} destination port"),
            "expanded_source": tuple(
                parse_prefix(v, f"{where} expandedSourceAddressPrefix") for v in self.expanded_source
            ),
            "expanded_destination": tuple(
                parse_prefix(v, f"{where} expandedDestinationAddressPrefix") for v in self.expanded_destination
            ),
        }
        self._parsed.update(parsed)

    @property
    def rule_name(self) -> str:
        """The name Network Watcher reports: ``securityRules/<name>`` or ``defaultSecurityRules/<name>``."""
        return f"{self.collection}/{self.name}"

    @property
    def is_default(self) -> bool:
        """Whether this is one of the six default rules."""
        return self.collection == "defaultSecurityRules"

    def summary(self) -> str:
        """One line: ``300 Deny Inbound Tcp * → 22 from 203.0.113.0/24``."""
        source = ",".join(self.source_prefixes + tuple(name_of(a) for a in self.source_asgs))
        destination = ",".join(self.destination_prefixes + tuple(name_of(a) for a in self.destination_asgs))
        return (
            f"{self.priority} {self.access} {self.direction} {self.protocol} "
            f"{source}:{','.join(self.source_ports)} → {destination}:{','.join(self.destination_ports)}"
        )

    def comparable(self) -> tuple[Any, ...]:
        """Everything that decides matching (names of ASGs compared case-insensitively)."""
        return (
            self.priority, self.direction, self.access, self.protocol,
            tuple(sorted(p.lower() for p in self.source_prefixes)),
            tuple(sorted(p.lower() for p in self.destination_prefixes)),
            tuple(sorted(self.source_ports)), tuple(sorted(self.destination_ports)),
            tuple(sorted(a.lower() for a in self.source_asgs)),
            tuple(sorted(a.lower() for a in self.destination_asgs)),
        )


@dataclass(frozen=True)
class Nsg:
    """A network security group: custom rules plus the six defaults.

    Parameters
    ----------
    id, name
        The NSG's resource id and name.
    rules
        Every rule (custom and default) in both directions.
    tag_map
        Service tag → prefixes captured with the effective rules (lower-case tag names).
    source
        ``configuration`` or ``effective``.
    """

    id: str
    name: str
    rules: tuple[SecurityRule, ...]
    tag_map: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = "configuration"

    def ordered(self, direction: str) -> list[SecurityRule]:
        """The rules of ``direction`` in evaluation order (priority, custom before default)."""
        return sorted(
            (rule for rule in self.rules if rule.direction == direction),
            key=lambda rule: (rule.priority, rule.is_default),
        )

    def custom_rules(self) -> tuple[SecurityRule, ...]:
        """The rules the owner wrote (``securityRules``)."""
        return tuple(rule for rule in self.rules if not rule.is_default)


@dataclass(frozen=True)
class IpConfiguration:
    """One ip configuration of a NIC."""

    name: str
    private_ip: str | None
    subnet_id: str | None
    public_ip_id: str | None = None
    asg_ids: tuple[str, ...] = ()
    primary: bool = False


@dataclass(frozen=True)
class Nic:
    """A network interface and the settings the diff compares."""

    id: str
    name: str
    ip_configurations: tuple[IpConfiguration, ...]
    nsg_id: str | None = None
    primary: bool = False
    ip_forwarding: bool = False
    accelerated_networking: bool = False
    dns_servers: tuple[str, ...] = ()

    @property
    def primary_ip_configuration(self) -> IpConfiguration | None:
        """The primary ip configuration (else the first)."""
        for config in self.ip_configurations:
            if config.primary:
                return config
        return self.ip_configurations[0] if self.ip_configurations else None


@dataclass(frozen=True)
class Subnet:
    """A subnet and its associations."""

    id: str
    name: str
    address_prefixes: tuple[str, ...] = ()
    nsg_id: str | None = None
    route_table_id: str | None = None


@dataclass(frozen=True)
class Vnet:
    """A virtual network's address space and the spaces of connected peerings."""

    id: str
    name: str
    address_prefixes: tuple[str, ...] = ()
    peered_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    """One route: a UDR, a system route, or an effective route entry.

    Parameters
    ----------
    address_prefix
        The destination prefix (one per route; effective entries with several are split).
    next_hop_type
        ``VnetLocal``, ``Internet``, ``VirtualAppliance``, ``VirtualNetworkGateway``,
        ``VNetPeering``, ``None`` …
    next_hop_ip
        The appliance address for ``VirtualAppliance``.
    source
        ``User`` (a UDR), ``VirtualNetworkGateway`` (BGP) or ``Default`` (system).
    state
        ``Active`` or ``Invalid`` (overridden).
    name
        The UDR's name; ``None`` for system routes.
    route_table_id
        The route table holding a UDR.
    """

    address_prefix: str
    next_hop_type: str
    next_hop_ip: str | None = None
    source: str = "Default"
    state: str = "Active"
    name: str | None = None
    route_table_id: str | None = None
    where: str = field(default="", compare=False, repr=False)
    _network: list[IPNetwork] = field(default_factory=list, compare=False, repr=False, init=False)

    def __post_init__(self) -> None:
        self._network.append(parse_prefix(self.address_prefix,
                                          self.where or f"route {self.name or self.address_prefix}"))

    @property
    def network(self) -> IPNetwork:
        """The prefix as an ``ipaddress`` network."""
        return self._network[0]

    def summary(self) -> str:
        """One line: ``0.0.0.0/0 → VirtualAppliance 10.0.9.4 (User, to-firewall)``."""
        hop = f"{self.next_hop_type} {self.next_hop_ip}" if self.next_hop_ip else self.next_hop_type
        label = f"{self.source}, {self.name}" if self.name else self.source
        return f"{self.address_prefix} → {hop} ({label})"


@dataclass(frozen=True)
class RouteTable:
    """A route table: its UDRs and whether BGP routes are propagated."""

    id: str
    name: str
    routes: tuple[Route, ...] = ()
    disable_bgp_route_propagation: bool = False


@dataclass(frozen=True)
class EffectiveNsg:
    """One entry of a NIC's effective security rules: the NSG on one hop, as applied."""

    hop: str
    nsg: Nsg


@dataclass(frozen=True)
class VmNetwork:
    """Everything network-related around one VM.

    Parameters
    ----------
    vm_name
        The VM (or bundle) name, for messages.
    nics
        The VM's NICs, primary first.
    nsgs, subnets, vnets, route_tables
        By lower-case resource id.
    public_ips
        Public IP resource id (lower case) → address.
    effective_nsgs
        NIC name → effective NSG entries, for NICs whose effective rules were captured.
    effective_routes
        NIC name → effective routes, for NICs whose effective routes were captured.
    known_nics
        NICs of other machines (peers, appliances) the caller knows: used for ASG
        membership of remote addresses and to find who owns an appliance address.
    working_appliances
        Appliance (``VirtualAppliance``) addresses known to forward, e.g. those the known-good
        peers' replies go through; a route to one of them is not a possible blackhole.
    os_type
        ``Linux`` or ``Windows`` from the VM body's OS disk (``None`` when unknown).
    power_state
        The instance view's power state (``running``, ``deallocated`` …; ``None`` when not captured).
    warnings
        What was missing or skipped while building the model.
    """

    vm_name: str
    nics: tuple[Nic, ...]
    nsgs: Mapping[str, Nsg] = field(default_factory=dict)
    subnets: Mapping[str, Subnet] = field(default_factory=dict)
    vnets: Mapping[str, Vnet] = field(default_factory=dict)
    route_tables: Mapping[str, RouteTable] = field(default_factory=dict)
    public_ips: Mapping[str, str] = field(default_factory=dict)
    effective_nsgs: Mapping[str, tuple[EffectiveNsg, ...]] = field(default_factory=dict)
    effective_routes: Mapping[str, tuple[Route, ...]] = field(default_factory=dict)
    known_nics: tuple[Nic, ...] = ()
    working_appliances: tuple[str, ...] = ()
    os_type: str | None = None
    power_state: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        """False only when the instance view says the VM is not running (stopped, deallocated …)."""
        return self.power_state is None or self.power_state.lower() == "running"

    @property
    def primary_nic(self) -> Nic:
        """The primary NIC (the first one flagged primary, else the first)."""
        if not self.nics:
            raise AnalysisError(f"{self.vm_name}: no network interface was captured, so there is nothing to evaluate")
        return next((nic for nic in self.nics if nic.primary), self.nics[0])

    @property
    def primary_ip(self) -> str:
        """The primary NIC's primary private address."""
        config = self.primary_nic.primary_ip_configuration
        if config is None or not config.private_ip:
            raise AnalysisError(f"{self.vm_name}: NIC {self.primary_nic.name} has no private IP address in the capture")
        return config.private_ip

    def nsg(self, nsg_id: str | None) -> Nsg | None:
        """The NSG with this id, if captured."""
        return self.nsgs.get(id_key(nsg_id)) if nsg_id else None

    def subnet(self, subnet_id: str | None) -> Subnet | None:
        """The subnet with this id, if captured."""
        return self.subnets.get(id_key(subnet_id)) if subnet_id else None

    def route_table(self, route_table_id: str | None) -> RouteTable | None:
        """The route table with this id, if captured."""
        return self.route_tables.get(id_key(route_table_id)) if route_table_id else None

    def table_holding(self, route: Route) -> str | None:
        """The id of the configured route table holding ``route`` (same name and prefix), if captured.

        Effective routes name no table; this finds the one a user route came from.
        """
        for table in self.route_tables.values():
            for candidate in table.routes:
                if candidate.name == route.name and candidate.address_prefix == route.address_prefix:
                    return table.id
        return None

    def vnet_of(self, subnet_id: str | None) -> Vnet | None:
        """The VNet holding a subnet, if captured."""
        if not subnet_id:
            return None
        parsed = try_parse(subnet_id)
        parent = parsed.parent if parsed is not None else None
        return self.vnets.get(id_key(str(parent))) if parent else None

    def locate(self, address: str) -> tuple[Nic, IpConfiguration] | None:
        """The NIC and ip configuration of this VM that own ``address`` (private, or public via NAT)."""
        for nic in self.nics:
            for config in nic.ip_configurations:
                if config.private_ip == address:
                    return nic, config
        for nic in self.nics:
            for config in nic.ip_configurations:
                if config.public_ip_id and self.public_ips.get(id_key(config.public_ip_id)) == address:
                    return nic, config
        return None

    def owner_of(self, address: str) -> tuple[Nic, IpConfiguration] | None:
        """The NIC (this VM's or a known one) whose private address is ``address``."""
        for nic in (*self.nics, *self.known_nics):
            for config in nic.ip_configurations:
                if config.private_ip == address:
                    return nic, config
        return None

    def with_known_nics(self, nics: Iterable[Nic]) -> VmNetwork:
        """A copy that also knows ``nics`` (e.g. the peers' NICs)."""
        extra = tuple(nic for nic in nics if all(id_key(nic.id) != id_key(own.id) for own in self.nics))
        return dataclasses.replace(self, known_nics=self.known_nics + extra)
