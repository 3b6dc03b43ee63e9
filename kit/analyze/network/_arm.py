"""Parsing ARM REST bodies (as a bundle stores them) into the :mod:`._model` dataclasses.

Every malformed value raises :class:`~kit.errors.AnalysisError` naming the file
(``nsgs/web.json``) and the field (``securityRules[2] ('deny-ssh') destination port``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kit.analyze.network._addresses import normalize_protocol, parse_prefix
from kit.analyze.network._model import (
    DEFAULT_RULE_NAMES,
    DEFAULT_RULES,
    EffectiveNsg,
    IpConfiguration,
    Nic,
    Nsg,
    Route,
    RouteTable,
    SecurityRule,
    Subnet,
    VmNetwork,
    Vnet,
    id_key,
)
from kit.errors import AnalysisError, InvalidResourceId
from kit.ids import name_of, parse_resource_id, try_parse

if TYPE_CHECKING:
    from kit.evidence import Bundle

__all__ = [
    "default_rules",
    "load_network",
    "network_from_dicts",
    "os_type_of",
    "parse_effective_nsgs",
    "parse_effective_routes",
    "parse_nic",
    "parse_nsg",
    "parse_route_table",
    "parse_rule",
    "parse_subnet",
    "parse_vnet",
]

_DIRECTIONS = {"inbound": "Inbound", "outbound": "Outbound"}
_ACCESS = {"allow": "Allow", "deny": "Deny"}

def _props(body: Any, where: str) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise AnalysisError(f"{where}: expected a JSON object (an ARM resource body), got {type(body).__name__}")
    props = body.get("properties", {})
    if not isinstance(props, Mapping):
        raise AnalysisError(f"{where}: 'properties' is not an object")
    return dict(props)


def _id_of(ref: Any) -> str | None:
    if isinstance(ref, Mapping):
        value = ref.get("id")
        return value if isinstance(value, str) and value else None
    return None


def _checked_id(value: str | None, where: str) -> str | None:
    if value is None:
        return None
    try:
        return str(parse_resource_id(value))
    except InvalidResourceId as error:
        raise AnalysisError(f"{where}: {error}") from None


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise AnalysisError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _identity(body: Mapping[str, Any], where: str, fallback_name: str) -> tuple[str, str]:
    resource_id = body.get("id")
    if isinstance(resource_id, str) and resource_id:
        parsed = try_parse(resource_id)
        if parsed is None:
            raise AnalysisError(f"{where}: 'id' {resource_id!r} is not a valid ARM resource id")
        return str(parsed), str(body.get("name") or parsed.name)
    return "", str(body.get("name") or fallback_name)


def _entries(props: Mapping[str, Any], singular: str, plural: str, where: str, default: str | None) -> tuple[str, ...]:
    many = _list(props.get(plural), f"{where} {plural}")
    one = props.get(singular)
    values = [*many] + ([one] if one not in (None, "") else [])
    if not values:
        if default is None:
            return ()
        values = [default]
    for value in values:
        if not isinstance(value, (str, int)):
            raise AnalysisError(f"{where} {singular}/{plural}: {value!r} is not text")
    return tuple(str(value) for value in values)


def parse_rule(raw: Any, collection: str, where: str, *, effective: bool = False) -> SecurityRule:
    """One rule from its REST body (``{"name", "properties": {...}}``) or an effective rule (flat)."""
    if not isinstance(raw, Mapping):
        raise AnalysisError(f"{where}: expected a rule object, got {type(raw).__name__}")
    props = dict(raw) if effective else _props(raw, where)
    name = str(raw.get("name") or "")
    if not name:
        raise AnalysisError(f"{where}: the rule has no 'name'")
    if "/" in name:  # effective rules: "securityRules/x", "defaultSecurityRules/y"
        collection, _, name = name.partition("/")
        collection = "defaultSecurityRules" if collection.lower().startswith("default") else "securityRules"
    elif effective and name.lower() in DEFAULT_RULE_NAMES:
        collection = "defaultSecurityRules"
    where = f"{where} ({name!r})"
    for required in ("priority", "direction", "access"):
        if props.get(required) in (None, ""):
            raise AnalysisError(f"{where}: field '{required}' is missing")
    try:
        priority = int(props["priority"])
    except (TypeError, ValueError):
        raise AnalysisError(f"{where}: field 'priority' is {props['priority']!r}, not a number") from None
    direction = _DIRECTIONS.get(str(props["direction"]).lower())
    if direction is None:
        raise AnalysisError(f"{where}: field 'direction' is {props['direction']!r} (expected Inbound or Outbound)")
    access = _ACCESS.get(str(props["access"]).lower())
    if access is None:
        raise AnalysisError(f"{where}: field 'access' is {props['access']!r} (expected Allow or Deny)")
    protocol = normalize_protocol(props.get("protocol", "*"), f"{where} field 'protocol'")
    source_asgs = tuple(
        _checked_id(_id_of(ref), f"{where} sourceApplicationSecurityGroups") or ""
        for ref in _list(props.get("sourceApplicationSecurityGroups"), f"{where} sourceApplicationSecurityGroups")
    )
    destination_asgs = tuple(
        _checked_id(_id_of(ref), f"{where} destinationApplicationSecurityGroups") or ""
        for ref in _list(props.get("destinationApplicationSecurityGroups"),
                         f"{where} destinationApplicationSecurityGroups")
    )
    rule_id = props.get("id") if effective else raw.get("id")
    return SecurityRule(
        name=name,
        collection=collection,
        priority=priority,
        direction=direction,
        access=access,
        protocol=protocol,
        source_prefixes=_entries(props, "sourceAddressPrefix", "sourceAddressPrefixes", where,
                                 None if source_asgs else "*"),
        destination_prefixes=_entries(props, "destinationAddressPrefix", "destinationAddressPrefixes", where,
                                      None if destination_asgs else "*"),
        source_ports=_entries(props, "sourcePortRange", "sourcePortRanges", where, "*"),
        destination_ports=_entries(props, "destinationPortRange", "destinationPortRanges", where, "*"),
        source_asgs=tuple(a for a in source_asgs if a),
        destination_asgs=tuple(a for a in destination_asgs if a),
        expanded_source=tuple(_list(props.get("expandedSourceAddressPrefix"), f"{where} expandedSourceAddressPrefix")),
        expanded_destination=tuple(
            _list(props.get("expandedDestinationAddressPrefix"), f"{where} expandedDestinationAddressPrefix")
        ),
        id=rule_id if isinstance(rule_id, str) else None,
        where=where,
    )


def default_rules(nsg_id: str = "") -> tuple[SecurityRule, ...]:
    """The six default rules every NSG has."""
    rules = []
    for spec in DEFAULT_RULES:
        body = {"name": spec["name"], "properties": {**spec, "protocol": "*"}}
        if nsg_id:
            body["id"] = f"{nsg_id}/defaultSecurityRules/{spec['name']}"
        rules.append(parse_rule(body, "defaultSecurityRules", f"default rule {spec['name']}"))
    return tuple(rules)


def parse_nsg(body: Any, where: str, fallback_name: str = "") -> Nsg:
    """An NSG from its GET body; missing default rules are added (Azure always has them)."""
    props = _props(body, where)
    nsg_id, name = _identity(body, where, fallback_name)
    rules = [
        parse_rule(raw, "securityRules", f"{where} securityRules[{index}]")
        for index, raw in enumerate(_list(props.get("securityRules"), f"{where} securityRules"))
    ]
    defaults = [
        parse_rule(raw, "defaultSecurityRules", f"{where} defaultSecurityRules[{index}]")
        for index, raw in enumerate(_list(props.get("defaultSecurityRules"), f"{where} defaultSecurityRules"))
    ]
    present = {rule.name.lower() for rule in defaults}
    defaults += [rule for rule in default_rules(nsg_id) if rule.name.lower() not in present]
    return Nsg(id=nsg_id, name=name, rules=tuple(rules + defaults))


def parse_nic(body: Any, where: str, fallback_name: str = "") -> Nic:
    """A NIC from its GET body."""
    props = _props(body, where)
    nic_id, name = _identity(body, where, fallback_name)
    configs = []
    for index, raw in enumerate(_list(props.get("ipConfigurations"), f"{where} ipConfigurations")):
        at = f"{where} ipConfigurations[{index}]"
        config = _props(raw, at)
        address = config.get("privateIPAddress")
        if isinstance(address, str) and "/" in address:  # prefix delegation: "172.20.2.16/28"
            address = address.partition("/")[0]
        configs.append(
            IpConfiguration(
                name=str(raw.get("name") or f"ipconfig{index + 1}"),
                private_ip=address if isinstance(address, str) and address else None,
                subnet_id=_checked_id(_id_of(config.get("subnet")), f"{at} subnet.id"),
                public_ip_id=_checked_id(_id_of(config.get("publicIPAddress")), f"{at} publicIPAddress.id"),
                asg_ids=tuple(
                    _checked_id(_id_of(ref), f"{at} applicationSecurityGroups") or ""
                    for ref in _list(config.get("applicationSecurityGroups"), f"{at} applicationSecurityGroups")
                    if _id_of(ref)
                ),
                primary=bool(config.get("primary", False)),
            )
        )
    dns = props.get("dnsSettings") or {}
    dns_servers = dns.get("dnsServers") if isinstance(dns, Mapping) else None
    return Nic(
        id=nic_id,
        name=name,
        ip_configurations=tuple(configs),
        nsg_id=_checked_id(_id_of(props.get("networkSecurityGroup")), f"{where} networkSecurityGroup.id"),
        primary=bool(props.get("primary", False)),
        ip_forwarding=bool(props.get("enableIPForwarding", False)),
        accelerated_networking=bool(props.get("enableAcceleratedNetworking", False)),
        dns_servers=tuple(str(server) for server in _list(dns_servers, f"{where} dnsSettings.dnsServers")),
    )


def parse_subnet(body: Any, where: str, fallback_name: str = "", *, vnet_id: str = "") -> Subnet:
    """A subnet from its GET body (or its entry inside a VNet body)."""
    props = _props(body, where)
    subnet_id, name = _identity(body, where, fallback_name)
    if not subnet_id and vnet_id:
        subnet_id = str(parse_resource_id(vnet_id).child("subnets", name))
    prefixes = _entries(props, "addressPrefix", "addressPrefixes", where, None)
    for prefix in prefixes:
        parse_prefix(prefix, f"{where} addressPrefix")
    return Subnet(
        id=subnet_id,
        name=name,
        address_prefixes=prefixes,
        nsg_id=_checked_id(_id_of(props.get("networkSecurityGroup")), f"{where} networkSecurityGroup.id"),
        route_table_id=_checked_id(_id_of(props.get("routeTable")), f"{where} routeTable.id"),
    )


def parse_vnet(body: Any, where: str, fallback_name: str = "") -> tuple[Vnet, list[Subnet]]:
    """A VNet (address space, connected peerings) and the subnets listed inside it."""
    props = _props(body, where)
    vnet_id, name = _identity(body, where, fallback_name)
    space = props.get("addressSpace") or {}
    prefixes = tuple(_list(space.get("addressPrefixes") if isinstance(space, Mapping) else None,
                           f"{where} addressSpace.addressPrefixes"))
    for prefix in prefixes:
        parse_prefix(prefix, f"{where} addressSpace.addressPrefixes")
    peered: list[str] = []
    for index, raw in enumerate(_list(props.get("virtualNetworkPeerings"), f"{where} virtualNetworkPeerings")):
        peering = _props(raw, f"{where} virtualNetworkPeerings[{index}]")
        if str(peering.get("peeringState", "Connected")).lower() != "connected":
            continue
        remote = peering.get("remoteAddressSpace") or {}
        for prefix in _list(remote.get("addressPrefixes") if isinstance(remote, Mapping) else None,
                            f"{where} virtualNetworkPeerings[{index}].remoteAddressSpace"):
            parse_prefix(prefix, f"{where} virtualNetworkPeerings[{index}].remoteAddressSpace")
            peered.append(prefix)
    subnets = [
        parse_subnet(raw, f"{where} subnets[{index}]", vnet_id=vnet_id)
        for index, raw in enumerate(_list(props.get("subnets"), f"{where} subnets"))
    ]
    return Vnet(id=vnet_id, name=name, address_prefixes=prefixes, peered_prefixes=tuple(peered)), subnets


def parse_route_table(body: Any, where: str, fallback_name: str = "") -> RouteTable:
    """A route table (UDRs) from its GET body."""
    props = _props(body, where)
    table_id, name = _identity(body, where, fallback_name)
    routes = []
    for index, raw in enumerate(_list(props.get("routes"), f"{where} routes")):
        at = f"{where} routes[{index}]"
        route = _props(raw, at)
        if not route.get("addressPrefix"):
            raise AnalysisError(f"{at}: field 'addressPrefix' is missing")
        if not route.get("nextHopType"):
            raise AnalysisError(f"{at}: field 'nextHopType' is missing")
        routes.append(
            Route(
                address_prefix=str(route["addressPrefix"]),
                next_hop_type=str(route["nextHopType"]),
                next_hop_ip=route.get("nextHopIpAddress") or None,
                source="User",
                name=str(raw.get("name") or f"route{index}"),
                route_table_id=table_id or None,
                where=f"{at} addressPrefix",
            )
        )
    return RouteTable(
        id=table_id,
        name=name,
        routes=tuple(routes),
        disable_bgp_route_propagation=bool(props.get("disableBgpRoutePropagation", False)),
    )


def _value_list(body: Any, where: str) -> list[Any]:
    if isinstance(body, Mapping) and "value" in body:
        return _list(body["value"], f"{where} value")
    if isinstance(body, list):
        return body
    raise AnalysisError(f"{where}: expected {{\"value\": [...]}} as the effective-rules/routes call returns")


def _tag_map(raw: Any, where: str) -> dict[str, tuple[str, ...]]:
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):  # the REST spec types tagMap as a JSON string
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise AnalysisError(f"{where}: 'tagMap' is text but not JSON") from None
    if not isinstance(raw, Mapping):
        raise AnalysisError(f"{where}: 'tagMap' is not an object")
    return {str(tag).lower(): tuple(_list(prefixes, f"{where} tagMap[{tag!r}]")) for tag, prefixes in raw.items()}


def parse_effective_nsgs(body: Any, where: str, nic: Nic | None, subnet: Subnet | None) -> tuple[EffectiveNsg, ...]:
    """A NIC's effective security rules (``listEffectiveNetworkSecurityGroups``)."""
    entries = []
    for index, raw in enumerate(_value_list(body, where)):
        at = f"{where} value[{index}]"
        if not isinstance(raw, Mapping):
            raise AnalysisError(f"{at}: expected an object")
        nsg_id = _checked_id(_id_of(raw.get("networkSecurityGroup")), f"{at} networkSecurityGroup.id") or ""
        association = raw.get("association") or {}
        has_subnet = isinstance(association, Mapping) and bool(_id_of(association.get("subnet")))
        has_nic = isinstance(association, Mapping) and bool(_id_of(association.get("networkInterface")))
        hops = [hop for hop, present in (("subnet", has_subnet), ("nic", has_nic)) if present]
        if not hops:  # no association given: place it by the configuration, else on the NIC
            in_subnet = subnet is not None and subnet.nsg_id and id_key(subnet.nsg_id) == id_key(nsg_id)
            hops = ["subnet" if in_subnet else "nic"]
        rules = tuple(
            parse_rule(rule, "securityRules", f"{at} effectiveSecurityRules[{n}]", effective=True)
            for n, rule in enumerate(_list(raw.get("effectiveSecurityRules"), f"{at} effectiveSecurityRules"))
        )
        name = name_of(nsg_id) if nsg_id else f"effective-{hops[0]}"
        nsg = Nsg(nsg_id, name, rules, _tag_map(raw.get("tagMap"), at), "effective")
        # one NSG on both the subnet and the NIC comes as one entry with both associations
        entries += [EffectiveNsg(hop, nsg) for hop in hops]
    return tuple(entries)


def parse_effective_routes(body: Any, where: str) -> tuple[Route, ...]:
    """A NIC's effective routes (``getEffectiveRouteTable``), one :class:`Route` per prefix."""
    routes = []
    for index, raw in enumerate(_value_list(body, where)):
        at = f"{where} value[{index}]"
        if not isinstance(raw, Mapping):
            raise AnalysisError(f"{at}: expected an object")
        if not raw.get("nextHopType"):
            raise AnalysisError(f"{at}: field 'nextHopType' is missing")
        prefixes = raw.get("addressPrefix")
        prefixes = [prefixes] if isinstance(prefixes, str) else _list(prefixes, f"{at} addressPrefix")
        hops = raw.get("nextHopIpAddress")
        hops = [hops] if isinstance(hops, str) else _list(hops, f"{at} nextHopIpAddress")
        for prefix in prefixes:
            routes.append(
                Route(
                    address_prefix=str(prefix),
                    next_hop_type=str(raw["nextHopType"]),
                    next_hop_ip=str(hops[0]) if hops else None,
                    source=str(raw.get("source") or "Default"),
                    state=str(raw.get("state") or "Active"),
                    name=raw.get("name") or None,
                    where=f"{at} addressPrefix",
                )
            )
    return tuple(routes)


def _items(value: Any, what: str) -> list[tuple[str, Any]]:
    """(name, body) pairs from a name→body mapping or a list of bodies."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [(str(name), body) for name, body in value.items()]
    if isinstance(value, (list, tuple)):
        return [(str(body.get("name") or f"{what}[{i}]") if isinstance(body, Mapping) else f"{what}[{i}]", body)
                for i, body in enumerate(value)]
    raise AnalysisError(f"{what}: expected a list of resource bodies or a name → body mapping")


def network_from_dicts(
    *,
    nics: Mapping[str, Any] | Sequence[Any],
    nsgs: Mapping[str, Any] | Sequence[Any] = (),
    subnets: Mapping[str, Any] | Sequence[Any] = (),
    vnets: Mapping[str, Any] | Sequence[Any] = (),
    route_tables: Mapping[str, Any] | Sequence[Any] = (),
    public_ips: Mapping[str, Any] | Sequence[Any] = (),
    effective_nsgs: Mapping[str, Any] | None = None,
    effective_routes: Mapping[str, Any] | None = None,
    vm: Mapping[str, Any] | None = None,
    instance_view: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> VmNetwork:
    """Build a :class:`VmNetwork` from ARM REST bodies.

    Parameters
    ----------
    nics, nsgs, subnets, vnets, route_tables, public_ips
        Resource bodies (REST shape), as a list or as a name → body mapping (a bundle's
        ``nics/<name>.json`` files). Subnets may also come inside the VNet bodies.
    effective_nsgs, effective_routes
        NIC name → the ``{"value": [...]}`` body of the effective-rules / effective-routes call.
    vm
        The VM body: its ``networkProfile`` orders the NICs (primary first); its OS disk names the OS.
    instance_view
        The VM's instance view: its ``PowerState/…`` status says whether the VM runs.
    name
        The name used in messages (default: the VM's name).

    Returns
    -------
    VmNetwork
        The model; anything that could not be used is listed in ``warnings``.

    Raises
    ------
    AnalysisError
        When a body is malformed; the message names the file (``nsgs/web.json``) and the field.
    """
    warnings: list[str] = []
    nic_models = [parse_nic(body, f"nics/{key}.json", key) for key, body in _items(nics, "nics")]
    nic_models = _order_nics(nic_models, vm)
    nsg_models = {}
    for key, body in _items(nsgs, "nsgs"):
        nsg = parse_nsg(body, f"nsgs/{key}.json", key)
        nsg_models[id_key(nsg.id or key)] = nsg
    subnet_models: dict[str, Subnet] = {}
    vnet_models = {}
    for key, body in _items(vnets, "vnets"):
        vnet, inner = parse_vnet(body, f"vnets/{key}.json", key)
        vnet_models[id_key(vnet.id or key)] = vnet
        for subnet in inner:
            subnet_models.setdefault(id_key(subnet.id), subnet)
    for key, body in _items(subnets, "subnets"):
        subnet = parse_subnet(body, f"subnets/{key}.json", key)
        subnet_models[id_key(subnet.id or key)] = subnet  # the subnet's own GET wins over the VNet's copy
    table_models = {}
    for key, body in _items(route_tables, "route_tables"):
        table = parse_route_table(body, f"route_tables/{key}.json", key)
        table_models[id_key(table.id or key)] = table
    addresses = {}
    for key, body in _items(public_ips, "public_ips"):
        props = _props(body, f"public_ips/{key}.json")
        pip_id, _ = _identity(body, f"public_ips/{key}.json", key)
        if props.get("ipAddress"):
            addresses[id_key(pip_id)] = str(props["ipAddress"])
    by_name = {nic.name.lower(): nic for nic in nic_models}
    effective: dict[str, tuple[EffectiveNsg, ...]] = {}
    for key, body in (effective_nsgs or {}).items():
        owner = by_name.get(str(key).lower())
        config = owner.primary_ip_configuration if owner else None
        on_subnet = subnet_models.get(id_key(config.subnet_id)) if config else None
        effective[owner.name if owner else str(key)] = parse_effective_nsgs(body, f"effective_nsg/{key}.json", owner,
                                                                            on_subnet)
    routes = {}
    for key, body in (effective_routes or {}).items():
        owner = by_name.get(str(key).lower())
        routes[owner.name if owner else str(key)] = parse_effective_routes(body, f"effective_routes/{key}.json")
    for nic in nic_models:
        if nic.nsg_id and id_key(nic.nsg_id) not in nsg_models:
            warnings.append(f"NIC {nic.name}: its NSG {name_of(nic.nsg_id)} was not captured; its rules are unknown")
        for ip_config in nic.ip_configurations:
            captured = subnet_models.get(id_key(ip_config.subnet_id))
            if ip_config.subnet_id and captured is None:
                warnings.append(f"NIC {nic.name}: subnet {name_of(ip_config.subnet_id)} was not captured")
            elif captured and captured.nsg_id and id_key(captured.nsg_id) not in nsg_models:
                warnings.append(f"subnet {captured.name}: its NSG {name_of(captured.nsg_id)} was not captured")
            elif captured and captured.route_table_id and id_key(captured.route_table_id) not in table_models:
                warnings.append(f"subnet {captured.name}: its route table {name_of(captured.route_table_id)} "
                                "was not captured")
    vm_name = name or (str(vm.get("name")) if isinstance(vm, Mapping) and vm.get("name") else None)
    return VmNetwork(
        vm_name=vm_name or (nic_models[0].name if nic_models else "vm"),
        nics=tuple(nic_models),
        nsgs=nsg_models,
        subnets=subnet_models,
        vnets=vnet_models,
        route_tables=table_models,
        public_ips=addresses,
        effective_nsgs=effective,
        effective_routes=routes,
        os_type=os_type_of(vm),
        power_state=_power_state(instance_view),
        warnings=tuple(dict.fromkeys(warnings)),
    )


def os_type_of(vm: Mapping[str, Any] | None) -> str | None:
    """``Linux``/``Windows`` from a VM body's OS disk (``None`` when it does not say)."""
    props = vm.get("properties") if isinstance(vm, Mapping) else None
    storage = props.get("storageProfile") if isinstance(props, Mapping) else None
    disk = storage.get("osDisk") if isinstance(storage, Mapping) else None
    value = disk.get("osType") if isinstance(disk, Mapping) else None
    return {"linux": "Linux", "windows": "Windows"}.get(str(value).lower()) if value else None


def _power_state(view: Mapping[str, Any] | None) -> str | None:
    statuses = view.get("statuses") if isinstance(view, Mapping) else None
    for status in statuses if isinstance(statuses, list) else []:
        code = status.get("code") if isinstance(status, Mapping) else None
        if isinstance(code, str) and code.lower().startswith("powerstate/"):
            return code.split("/", 1)[1].lower()
    return None


def _order_nics(nics: list[Nic], vm: Mapping[str, Any] | None) -> list[Nic]:
    if not isinstance(vm, Mapping):
        return sorted(nics, key=lambda nic: not nic.primary)
    props = vm.get("properties")
    profile = props.get("networkProfile") if isinstance(props, Mapping) else None
    refs = profile.get("networkInterfaces") if isinstance(profile, Mapping) else None
    primary_id = None
    order: list[str] = []
    for ref in refs if isinstance(refs, list) else []:
        ref_id = _id_of(ref)
        if not ref_id:
            continue
        order.append(id_key(ref_id))
        ref_props = ref.get("properties") or {}
        if isinstance(ref_props, Mapping) and ref_props.get("primary"):
            primary_id = id_key(ref_id)
    if primary_id is None and len(order) == 1:
        primary_id = order[0]
    ordered = []
    for nic in nics:
        if primary_id and id_key(nic.id) == primary_id and not nic.primary:
            nic = dataclasses.replace(nic, primary=True)
        ordered.append(nic)
    rank = {nic_id: index for index, nic_id in enumerate(order)}
    return sorted(ordered, key=lambda nic: (not nic.primary, rank.get(id_key(nic.id), len(rank))))


def load_network(bundle: Bundle) -> VmNetwork:
    """The :class:`VmNetwork` of an evidence bundle (``kit.evidence.Bundle``).

    Parameters
    ----------
    bundle
        A loaded bundle; uses its ``vm``, ``nics``, ``nsgs``, ``subnets``, ``vnets``,
        ``route_tables``, ``public_ips``, ``effective_nsgs`` and ``effective_routes``.

    Returns
    -------
    VmNetwork
        The model. Effective rules/routes are used only for NICs the bundle captured them for
        (a deallocated VM has none; its verdicts come from configuration).
    """
    def attr(name: str) -> Any:
        value = getattr(bundle, name, None)
        return value if value is not None else {}

    manifest = getattr(bundle, "manifest", None) or {}
    vm = getattr(bundle, "vm", None)
    view = getattr(bundle, "instance_view", None)
    return network_from_dicts(
        nics=attr("nics"),
        nsgs=attr("nsgs"),
        subnets=attr("subnets"),
        vnets=attr("vnets"),
        route_tables=attr("route_tables"),
        public_ips=attr("public_ips"),
        effective_nsgs=attr("effective_nsgs"),
        effective_routes=attr("effective_routes"),
        vm=vm if isinstance(vm, Mapping) else None,
        instance_view=view if isinstance(view, Mapping) else None,
        name=(manifest.get("vm_name") if isinstance(manifest, Mapping) else None) or None,
    )
