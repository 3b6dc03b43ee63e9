"""Builders of ARM REST bodies (the shape a bundle stores) for network tests."""

from __future__ import annotations

from typing import Any

from kit.analyze.network import VmNetwork, network_from_dicts

SUB = "00000000-0000-0000-0000-0000000000aa"
RG = "rg1"
NET = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"


def nsg_id(name: str) -> str:
    return f"{NET}/networkSecurityGroups/{name}"


def subnet_id(vnet: str, name: str) -> str:
    return f"{NET}/virtualNetworks/{vnet}/subnets/{name}"


def asg_id(name: str) -> str:
    return f"{NET}/applicationSecurityGroups/{name}"


def rt_id(name: str) -> str:
    return f"{NET}/routeTables/{name}"


def rule(name: str, priority: int, *, direction: str = "Inbound", access: str = "Allow", protocol: str = "Tcp",
         src: str | None = "*", dst: str | None = "*", sport: str | None = "*", dport: str | None = "*",
         **plural: Any) -> dict[str, Any]:
    """A securityRules entry; pass e.g. destinationPortRanges=[...] and dport=None for plural fields."""
    props: dict[str, Any] = {"priority": priority, "direction": direction, "access": access, "protocol": protocol}
    for key, value in (("sourceAddressPrefix", src), ("destinationAddressPrefix", dst),
                       ("sourcePortRange", sport), ("destinationPortRange", dport)):
        if value is not None:
            props[key] = value
    props.update(plural)
    return {"name": name, "properties": props}


def nsg(name: str, *rules: dict[str, Any]) -> dict[str, Any]:
    """An NSG body with its custom rules (defaults are added by the kit, as Azure has them)."""
    return {"name": name, "id": nsg_id(name), "type": "Microsoft.Network/networkSecurityGroups",
            "properties": {"securityRules": [dict(r, id=f"{nsg_id(name)}/securityRules/{r['name']}") for r in rules]}}


def vnet(name: str, *prefixes: str, subnets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"name": name, "id": f"{NET}/virtualNetworks/{name}",
            "properties": {"addressSpace": {"addressPrefixes": list(prefixes)}, "subnets": subnets or []}}


def subnet(vnet_name: str, name: str, prefix: str, *, nsg: str | None = None,
           route_table: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"addressPrefix": prefix}
    if nsg:
        props["networkSecurityGroup"] = {"id": nsg_id(nsg)}
    if route_table:
        props["routeTable"] = {"id": rt_id(route_table)}
    return {"name": name, "id": subnet_id(vnet_name, name), "properties": props}


def nic(name: str, ip: str, subnet: str, *, vnet_name: str = "vnet1", nsg: str | None = None,
        asgs: tuple[str, ...] = (), public_ip: str | None = None, **props: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"privateIPAddress": ip, "subnet": {"id": subnet_id(vnet_name, subnet)}, "primary": True,
                              "privateIPAllocationMethod": "Dynamic"}
    if asgs:
        config["applicationSecurityGroups"] = [{"id": asg_id(a)} for a in asgs]
    if public_ip:
        config["publicIPAddress"] = {"id": f"{NET}/publicIPAddresses/{public_ip}"}
    body: dict[str, Any] = {"ipConfigurations": [
        {"name": "ipconfig1", "id": f"{NET}/networkInterfaces/{name}/ipConfigurations/ipconfig1",
         "properties": config}],
        "primary": True, "enableIPForwarding": False, "enableAcceleratedNetworking": False,
        "dnsSettings": {"dnsServers": []}}
    if nsg:
        body["networkSecurityGroup"] = {"id": nsg_id(nsg)}
    body.update(props)
    return {"name": name, "id": f"{NET}/networkInterfaces/{name}", "properties": body}


def route(name: str, prefix: str, hop_type: str, hop_ip: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"addressPrefix": prefix, "nextHopType": hop_type}
    if hop_ip:
        props["nextHopIpAddress"] = hop_ip
    return {"name": name, "id": f"{NET}/routeTables/x/routes/{name}", "properties": props}


def route_table(name: str, *routes: dict[str, Any], disable_bgp: bool = False) -> dict[str, Any]:
    return {"name": name, "id": rt_id(name),
            "properties": {"routes": list(routes), "disableBgpRoutePropagation": disable_bgp}}


def network(nic_body: dict[str, Any], *, nsgs: tuple[dict[str, Any], ...] = (),
            subnets: tuple[dict[str, Any], ...] = (), vnets: tuple[dict[str, Any], ...] = (),
            route_tables: tuple[dict[str, Any], ...] = (),
            effective_nsgs: dict[str, Any] | None = None, effective_routes: dict[str, Any] | None = None,
            name: str | None = None, public_ips: tuple[dict[str, Any], ...] = ()) -> VmNetwork:
    return network_from_dicts(nics=[nic_body], nsgs=list(nsgs), subnets=list(subnets), vnets=list(vnets),
                              route_tables=list(route_tables), effective_nsgs=effective_nsgs,
                              effective_routes=effective_routes, name=name or nic_body["name"],
                              public_ips=list(public_ips))
