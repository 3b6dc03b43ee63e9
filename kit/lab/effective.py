"""Effective security rules and routes of a NIC, computed from the configuration as Azure does.

Pure functions over ARM REST bodies: ``lookup(resource_id)`` returns any resource body (a
subnet too) or ``None``. The answers have the shape of
``networkInterfaces/{nic}/effectiveNetworkSecurityGroups`` and ``…/effectiveRouteTable``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from kit.ids import parse_resource_id

__all__ = ["DEFAULT_SECURITY_RULES", "LOAD_BALANCER_PREFIX", "Lookup", "effective_routes", "effective_security_groups"]

#: ``lookup(resource_id)``: any resource body (a subnet too), or ``None``.
Lookup = Callable[[str], "dict[str, Any] | None"]
LOAD_BALANCER_PREFIX = "168.63.129.16/32"
_ANY = "0.0.0.0/0"
#: ``(name, priority, direction, source, destination, access)`` of the rules every NSG has.
DEFAULT_SECURITY_RULES = (
    ("AllowVnetInBound", 65000, "Inbound", "VirtualNetwork", "VirtualNetwork", "Allow"),
    ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "AzureLoadBalancer", "*", "Allow"),
    ("DenyAllInBound", 65500, "Inbound", "*", "*", "Deny"),
    ("AllowVnetOutBound", 65000, "Outbound", "VirtualNetwork", "VirtualNetwork", "Allow"),
    ("AllowInternetOutBound", 65001, "Outbound", "*", "Internet", "Allow"),
    ("DenyAllOutBound", 65500, "Outbound", "*", "*", "Deny"),
)
# Prefixes Azure adds as system routes with next hop None (dropped), unless a VNet uses them.
_NONE_ROUTES = ("10.0.0.0/8", "127.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16")
# Not "Internet" for the service tag: private, shared, loopback, link-local, multicast/reserved.
_NOT_INTERNET = ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
                 "192.168.0.0/16", "224.0.0.0/3")


def effective_security_groups(nic: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    """The ``{"value": [EffectiveNetworkSecurityGroup…]}`` of ``nic``: its own NSG, then its subnet's."""
    nic_id = str(nic.get("id", ""))
    subnet_id = _subnet_id(nic)
    subnet = lookup(subnet_id) if subnet_id else None
    tag_map = {"VirtualNetwork": _vnet_prefixes(subnet_id, lookup) if subnet_id else [],
               "AzureLoadBalancer": [LOAD_BALANCER_PREFIX], "Internet": _internet()}
    entries: list[dict[str, Any]] = []
    by_nsg: dict[str, dict[str, Any]] = {}
    holders = (("networkInterface", nic_id, nic), ("subnet", subnet_id, subnet))
    for association, holder_id, holder in holders:
        nsg_ref = ((holder or {}).get("properties", {}).get("networkSecurityGroup") or {}).get("id")
        if not nsg_ref:
            continue
        if nsg_ref.lower() in by_nsg:  # one NSG on both the NIC and its subnet: one entry, two associations
            by_nsg[nsg_ref.lower()]["association"][association] = {"id": holder_id}
            continue
        nsg = lookup(nsg_ref) or {"properties": {}}
        entry = {
            "networkSecurityGroup": {"id": nsg_ref},
            "association": {association: {"id": holder_id}},
            "effectiveSecurityRules": _rules(nsg, tag_map),
            "tagMap": tag_map,
        }
        by_nsg[nsg_ref.lower()] = entry
        entries.append(entry)
    return {"value": entries}


def effective_routes(nic: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    """The ``{"value": [EffectiveRoute…]}`` of ``nic``: system routes, then its subnet's UDRs."""
    subnet_id = _subnet_id(nic)
    subnet = (lookup(subnet_id) if subnet_id else None) or {}
    table_ref = (subnet.get("properties", {}).get("routeTable") or {}).get("id")
    table = (lookup(table_ref) if table_ref else None) or {}
    disable_bgp = bool(table.get("properties", {}).get("disableBgpRoutePropagation", False))
    user = [_route(route.get("name"), "User", [route.get("properties", {}).get("addressPrefix", "")],
                   route.get("properties", {}).get("nextHopType", "None"),
                   [ip] if (ip := route.get("properties", {}).get("nextHopIpAddress")) else [], disable_bgp)
            for route in table.get("properties", {}).get("routes", [])]
    user_prefixes = {prefix for route in user for prefix in route["addressPrefix"]}
    vnet = lookup(str(parse_resource_id(subnet_id).parent)) if subnet_id else None
    local = _address_space(vnet)
    system = [_route(None, "Default", [prefix], "VnetLocal", [], disable_bgp) for prefix in local]
    for peering in (vnet or {}).get("properties", {}).get("virtualNetworkPeerings", []):
        remote = peering.get("properties", {}).get("remoteAddressSpace", {}).get("addressPrefixes", [])
        system += [_route(None, "Default", [prefix], "VNetPeering", [], disable_bgp) for prefix in remote]
    system.append(_route(None, "Default", [_ANY], "Internet", [], disable_bgp))
    system += [_route(None, "Default", [prefix], "None", [], disable_bgp)
               for prefix in _NONE_ROUTES if prefix not in local]
    for route in system:  # a user route for the same prefix replaces the system one
        if route["addressPrefix"][0] in user_prefixes:
            route["state"] = "Invalid"
    return {"value": system + user}


def _route(name: str | None, source: str, prefixes: list[str], hop: str, hop_ips: list[str],
           disable_bgp: bool) -> dict[str, Any]:
    return {"name": name, "disableBgpRoutePropagation": disable_bgp, "source": source, "state": "Active",
            "addressPrefix": prefixes, "nextHopIpAddress": hop_ips, "nextHopType": hop, "hasBgpOverride": False}


def _rules(nsg: dict[str, Any], tag_map: dict[str, list[str]]) -> list[dict[str, Any]]:
    properties = nsg.get("properties", {})
    defaults = properties.get("defaultSecurityRules") or [
        {"name": name, "properties": {"protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*",
                                      "sourceAddressPrefix": source, "destinationAddressPrefix": destination,
                                      "access": access, "priority": priority, "direction": direction}}
        for name, priority, direction, source, destination, access in DEFAULT_SECURITY_RULES
    ]
    ordered = sorted(properties.get("securityRules", []), key=lambda rule: (
        rule.get("properties", {}).get("direction") != "Inbound", rule.get("properties", {}).get("priority", 4096)))
    rules = [("securityRules", rule) for rule in ordered]
    rules += [("defaultSecurityRules", rule) for rule in defaults]
    return [_rule(collection, rule, tag_map) for collection, rule in rules]


def _rule(collection: str, rule: dict[str, Any], tag_map: dict[str, list[str]]) -> dict[str, Any]:
    props = rule.get("properties", {})
    protocol = str(props.get("protocol", "*"))
    out: dict[str, Any] = {"name": f"{collection}/{rule.get('name', '')}",
                           "protocol": "All" if protocol == "*" else protocol.capitalize()}
    for side in ("source", "destination"):
        ports = props.get(f"{side}PortRanges") or []
        if ports:
            out[f"{side}PortRanges"] = [_ports(port) for port in ports]
        else:  # Azure fills the plural with the singular value too
            out[f"{side}PortRange"] = _ports(props.get(f"{side}PortRange", "*"))
            out[f"{side}PortRanges"] = [out[f"{side}PortRange"]]
        prefixes = list(props.get(f"{side}AddressPrefixes") or [])
        prefixes += _asg_labels(props.get(f"{side}ApplicationSecurityGroups") or [])
        if prefixes:
            out[f"{side}AddressPrefixes"] = [_prefix(prefix) for prefix in prefixes]
            expanded = [ip for prefix in prefixes for ip in tag_map.get(prefix, [])]
        else:
            prefix = _prefix(props.get(f"{side}AddressPrefix", "*"))
            out[f"{side}AddressPrefix"] = prefix
            out[f"{side}AddressPrefixes"] = [prefix]
            expanded = tag_map.get(prefix, [])
        if expanded:
            out[f"expanded{side.capitalize()}AddressPrefix"] = expanded
    out.update(access=props.get("access"), priority=props.get("priority"), direction=props.get("direction"))
    return out


def _asg_labels(groups: Iterable[dict[str, Any]]) -> list[str]:
    return [str(parse_resource_id(group["id"]).name) for group in groups if group.get("id")]


def _ports(value: object) -> str:
    text = str(value).strip()
    if text in ("*", ""):
        return "0-65535"
    return text if "-" in text else f"{text}-{text}"


def _prefix(value: object) -> str:
    text = str(value).strip()
    if text in ("*", "0.0.0.0/0", ""):
        return _ANY
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return text  # a service tag (VirtualNetwork, Internet, AzureLoadBalancer …)


def _subnet_id(nic: dict[str, Any]) -> str | None:
    for config in nic.get("properties", {}).get("ipConfigurations", []):
        subnet = config.get("properties", {}).get("subnet") or {}
        if subnet.get("id"):
            return str(subnet["id"])
    return None


def _address_space(vnet: dict[str, Any] | None) -> list[str]:
    return list((vnet or {}).get("properties", {}).get("addressSpace", {}).get("addressPrefixes", []))


def _vnet_prefixes(subnet_id: str, lookup: Lookup) -> list[str]:
    vnet = lookup(str(parse_resource_id(subnet_id).parent))
    prefixes = _address_space(vnet)
    for peering in (vnet or {}).get("properties", {}).get("virtualNetworkPeerings", []):
        prefixes += peering.get("properties", {}).get("remoteAddressSpace", {}).get("addressPrefixes", [])
    return prefixes


@lru_cache(maxsize=1)
def _internet_prefixes() -> tuple[str, ...]:
    remaining = [ipaddress.ip_network(_ANY)]
    for excluded in map(ipaddress.ip_network, _NOT_INTERNET):
        next_round: list[ipaddress.IPv4Network] = []
        for network in remaining:
            if excluded.subnet_of(network):  # type: ignore[arg-type]
                next_round += network.address_exclude(excluded)  # type: ignore[arg-type]
            elif not network.subnet_of(excluded):  # type: ignore[arg-type]
                next_round.append(network)  # type: ignore[arg-type]
        remaining = next_round  # type: ignore[assignment]
    return tuple(str(network) for network in sorted(remaining))


def _internet() -> list[str]:
    return list(_internet_prefixes())
