"""Next hop: which route a packet from the VM to an address takes.

Longest prefix match over the NIC's routes; on equal prefixes a user route (UDR) beats a BGP
route, which beats a system route. Offline, the routes are Azure's system routes for the NIC's
VNet plus the UDRs of the subnet's route table (``virtual-networks-udr-overview``):

- every VNet address prefix → ``VnetLocal``; connected peerings' prefixes → ``VNetPeering``;
- ``0.0.0.0/0`` → ``Internet``;
- ``10.0.0.0/8``, ``172.16.0.0/12``, ``192.168.0.0/16``, ``100.64.0.0/10`` → ``None`` (dropped),
  except where a VNet prefix equals or contains one: then the VNet's route replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kit.analyze.network._addresses import RESERVED_DROP, parse_ip, parse_prefix
from kit.analyze.network._model import Nic, Route, VmNetwork
from kit.errors import AnalysisError
from kit.ids import name_of

__all__ = ["NextHop", "configured_routes", "next_hop", "select_route", "system_routes"]

#: Route sources by precedence on equal prefixes (lower wins).
_SOURCE_RANK = {"user": 0, "virtualnetworkgateway": 1, "default": 2}
_VNET_TYPES = {"vnetlocal", "vnetpeering", "vnetglobalpeering", "virtualnetworkserviceendpoint"}
SYSTEM_ROUTE = "System Route"


@dataclass(frozen=True)
class NextHop:
    """Where a packet to ``destination`` goes, in the shape of Network Watcher's next hop.

    Parameters
    ----------
    destination
        The address asked about.
    next_hop_type
        ``VnetLocal``, ``Internet``, ``VirtualAppliance``, ``VirtualNetworkGateway``,
        ``VNetPeering``, ``None`` (dropped) …
    next_hop_ip
        The appliance or gateway address, when the route names one.
    route
        The chosen :class:`Route`; ``None`` when no route covers the destination.
    route_table_id
        The route table of a UDR, or ``"System Route"`` (Network Watcher's wording).
    nic
        The NIC whose routes were used.
    source
        ``effective`` (captured from the running VM) or ``configuration``.
    dropped
        Whether the packet is dropped (next hop type ``None``, or no route at all).
    suspect
        A possible blackhole that is not certain: a ``VirtualAppliance`` address that no NIC in the
        captured data owns, or whose NIC does not forward (IP forwarding off).
    appliance
        The name of the NIC owning the appliance address, when known.
    notes
        Sentences for people (why suspect, which routes tied …).
    cross_check
        When effective routes were used and the configuration picks another next hop.
    """

    destination: str
    next_hop_type: str
    next_hop_ip: str | None
    route: Route | None
    route_table_id: str | None
    nic: str
    source: str
    dropped: bool
    suspect: bool = False
    appliance: str | None = None
    notes: tuple[str, ...] = ()
    cross_check: str | None = None

    @property
    def delivers(self) -> bool | None:
        """``False`` when dropped, ``None`` when a suspect appliance may drop it, else ``True``."""
        if self.dropped:
            return False
        return None if self.suspect else True

    def explain(self) -> str:
        """One sentence for people."""
        if self.route is None:
            return f"no route covers {self.destination}: dropped"
        text = f"{self.destination} → {self.next_hop_type}"
        if self.next_hop_ip:
            text += f" {self.next_hop_ip}"
        origin = "UDR " + self.route.name if self.route.source == "User" and self.route.name else self.route.source
        text += f" via {self.route.address_prefix} ({origin})"
        if self.dropped:
            text += ": dropped"
        elif self.suspect:
            text += ": possible blackhole"
        return text

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "destination": self.destination, "next_hop_type": self.next_hop_type, "next_hop_ip": self.next_hop_ip,
            "route_table_id": self.route_table_id, "nic": self.nic, "source": self.source, "dropped": self.dropped,
            "suspect": self.suspect, "appliance": self.appliance, "notes": list(self.notes),
            "cross_check": self.cross_check, "explanation": self.explain(),
            "route": None if self.route is None else {
                "address_prefix": self.route.address_prefix, "next_hop_type": self.route.next_hop_type,
                "next_hop_ip": self.route.next_hop_ip, "source": self.route.source, "name": self.route.name,
                "route_table_id": self.route.route_table_id,
            },
        }


def system_routes(network: VmNetwork, nic: Nic | None = None) -> tuple[Route, ...]:
    """Azure's default routes for a NIC's VNet (offline), without UDRs."""
    nic = nic or network.primary_nic
    config = nic.primary_ip_configuration
    subnet_id = config.subnet_id if config else None
    vnet = network.vnet_of(subnet_id)
    local: list[str] = []
    if vnet is not None:
        local = list(vnet.address_prefixes)
    elif network.subnet(subnet_id) is not None:
        local = list(network.subnet(subnet_id).address_prefixes)  # type: ignore[union-attr]
    routes = [Route(prefix, "VnetLocal", where=f"vnet address prefix {prefix}") for prefix in local]
    if vnet is not None:
        routes += [Route(prefix, "VNetPeering", where=f"peered prefix {prefix}") for prefix in vnet.peered_prefixes]
    spaces = [parse_prefix(prefix, "vnet address prefix") for prefix in local]
    routes.append(Route("0.0.0.0/0", "Internet"))
    for reserved in RESERVED_DROP:
        if any(space.version == reserved.version and reserved.subnet_of(space) for space in spaces):  # type: ignore[arg-type]
            continue  # equal or contained: the VNet's own route replaces it
        routes.append(Route(str(reserved), "None"))
    return tuple(routes)


def configured_routes(network: VmNetwork, nic: Nic | None = None) -> tuple[Route, ...]:
    """System routes plus the UDRs of the NIC's subnet's route table (overridden system routes marked Invalid)."""
    nic = nic or network.primary_nic
    config = nic.primary_ip_configuration
    subnet = network.subnet(config.subnet_id if config else None)
    table = network.route_table(subnet.route_table_id if subnet else None)
    user = list(table.routes) if table else []
    overridden = {route.network for route in user}
    system = [
        route if route.network not in overridden else Route(route.address_prefix, route.next_hop_type,
                                                            route.next_hop_ip, route.source, "Invalid")
        for route in system_routes(network, nic)
    ]
    return tuple(system + user)


def select_route(routes: tuple[Route, ...] | list[Route], destination: str) -> Route | None:
    """Longest prefix match; on equal prefixes User over BGP over System. Invalid routes are skipped."""
    address = parse_ip(destination, "destination")
    candidates = [
        route for route in routes
        if route.state.lower() != "invalid" and route.network.version == address.version and address in route.network
    ]
    if not candidates:
        return None
    vnet_covered = any(r.source.lower() == "default" and r.next_hop_type.lower() in _VNET_TYPES for r in candidates)
    if vnet_covered:  # VNet and peering system routes win over BGP, even more specific BGP
        candidates = [r for r in candidates if r.source.lower() != "virtualnetworkgateway"]
    return min(candidates, key=lambda r: (-r.network.prefixlen, _SOURCE_RANK.get(r.source.lower(), 1)))


def next_hop(
    network: VmNetwork,
    destination_ip: str,
    *,
    source_ip: str | None = None,
    use_effective: bool = True,
) -> NextHop:
    """The next hop for traffic from the VM to ``destination_ip``.

    Parameters
    ----------
    network
        The VM's network.
    destination_ip
        Where the packet goes.
    source_ip
        A private address of the VM choosing the NIC (default: the primary NIC).
    use_effective
        Use the NIC's effective routes when captured (default); ``False`` forces the offline
        system routes + UDRs.

    Returns
    -------
    NextHop
        The chosen route and next hop; ``dropped`` for next hop type ``None``; ``suspect`` when
        the next hop is an appliance address that no captured NIC owns or forwards for.

    Raises
    ------
    UsageError
        When ``destination_ip`` is not an IP address.
    AnalysisError
        When ``source_ip`` is not an address of the VM.
    """
    parse_ip(destination_ip, "destination")
    nic = network.primary_nic
    if source_ip is not None:
        located = network.locate(str(parse_ip(source_ip, "source")))
        if located is None:
            raise AnalysisError(f"source address {source_ip} is not an address of {network.vm_name}")
        nic = located[0]
    if use_effective and nic.name in network.effective_routes:
        source, routes = "effective", network.effective_routes[nic.name]
    else:
        source, routes = "configuration", configured_routes(network, nic)
    result = _hop(network, nic, routes, destination_ip, source)
    if source == "effective":
        offline = _hop(network, nic, configured_routes(network, nic), destination_ip, "configuration")
        if (offline.next_hop_type.lower(), offline.next_hop_ip) != (result.next_hop_type.lower(), result.next_hop_ip):
            result = _with(result, cross_check=(
                f"the captured effective routes give {result.explain()}, but the configuration gives "
                f"{offline.explain()}: the route table changed between the captures, or routes come from "
                "BGP/peerings the configuration does not show"
            ))
    return result


def _with(hop: NextHop, **changes: Any) -> NextHop:
    import dataclasses

    return dataclasses.replace(hop, **changes)


def _hop(network: VmNetwork, nic: Nic, routes: Any, destination: str, source: str) -> NextHop:
    route = select_route(routes, destination)
    if route is None:
        return NextHop(destination, "None", None, None, None, nic.name, source, dropped=True,
                       notes=("no route covers the destination",))
    notes: list[str] = []
    suspect = False
    appliance = None
    if route.next_hop_type.lower() == "virtualappliance":
        if not route.next_hop_ip:
            suspect = True
            notes.append("the VirtualAppliance route names no next hop address")
        elif route.next_hop_ip in network.working_appliances:
            notes.append(f"the appliance {route.next_hop_ip} carries the known-good peers' traffic")
        else:
            owner = network.owner_of(route.next_hop_ip)
            if owner is None:
                suspect = True
                notes.append(
                    f"no NIC in the captured data owns the appliance address {route.next_hop_ip}; if none exists "
                    "the traffic is dropped (possible blackhole)"
                )
            else:
                appliance = owner[0].name
                if not owner[0].ip_forwarding:
                    suspect = True
                    notes.append(f"the appliance NIC {owner[0].name} has IP forwarding off: Azure drops what it "
                                 "would forward (possible blackhole)")
    dropped = route.next_hop_type.lower() == "none"
    if dropped:
        notes.append(f"route {route.address_prefix} has next hop type None: Azure drops the traffic")
    if route.source.lower() == "user":
        table = route.route_table_id or None
    else:
        table = SYSTEM_ROUTE if route.source.lower() == "default" else None
    if route.source.lower() == "user" and table:
        notes.append(f"user route {route.name or route.address_prefix} in route table {name_of(table)}")
    return NextHop(destination, route.next_hop_type, route.next_hop_ip, route, table, nic.name, source,
                   dropped=dropped, suspect=suspect, appliance=appliance, notes=tuple(notes))
