"""Next hop: system routes, UDRs, precedence, effective routes, appliances that may not exist."""

from __future__ import annotations

import pytest
from network_build import network, nic, route, route_table, subnet, vnet

from kit.analyze.network import configured_routes, network_from_dicts, next_hop, ssh_rdp_verdicts, system_routes
from kit.errors import AnalysisError, UsageError

RESPONDER = "203.0.113.7"


def vm(*routes, vnet_prefixes=("10.0.0.0/16",), disable_bgp=False, extra_nics=(), effective_routes=None):
    table = (route_table("rt1", *routes, disable_bgp=disable_bgp),) if routes else ()
    return network_from_dicts(
        nics=[nic("vm-nic", "10.0.0.4", "default"), *extra_nics],
        subnets=[subnet("vnet1", "default", "10.0.0.0/24", route_table="rt1" if routes else None)],
        vnets=[vnet("vnet1", *vnet_prefixes)], route_tables=list(table), effective_routes=effective_routes,
        name="vm")


def test_system_routes_of_a_vnet():
    routes = {(r.address_prefix, r.next_hop_type) for r in system_routes(vm())}
    assert routes == {("10.0.0.0/16", "VnetLocal"), ("0.0.0.0/0", "Internet"), ("10.0.0.0/8", "None"),
                      ("172.16.0.0/12", "None"), ("192.168.0.0/16", "None"), ("100.64.0.0/10", "None")}


def test_vnet_containing_a_reserved_prefix_removes_its_none_route():
    """"If you assign an address range ... that includes, but isn't the same as, one of the four
    reserved address prefixes, Azure removes the route for the prefix"."""
    routes = {(r.address_prefix, r.next_hop_type)
              for r in system_routes(vm(vnet_prefixes=("10.0.0.0/16", "192.168.0.0/15")))}
    assert ("192.168.0.0/16", "None") not in routes and ("192.168.0.0/15", "VnetLocal") in routes
    assert ("10.0.0.0/8", "None") in routes  # 10.0.0.0/16 is inside 10/8: the None route stays, LPM picks the VNet


def test_longest_prefix_wins():
    net = vm(route("to-fw", "0.0.0.0/0", "VirtualAppliance", "10.0.2.4"),
             route("office", "198.51.100.0/24", "Internet"))
    assert next_hop(net, "198.51.100.9").next_hop_type == "Internet"
    assert next_hop(net, "8.8.8.8").next_hop_type == "VirtualAppliance"
    assert next_hop(net, "10.0.0.9").next_hop_type == "VnetLocal"  # /16 beats the /0 UDR


def test_user_route_beats_system_route_on_equal_prefix():
    net = vm(route("drop-internet", "0.0.0.0/0", "None"))
    hop = next_hop(net, "8.8.8.8")
    assert (hop.next_hop_type, hop.dropped, hop.route.source, hop.route.name) == ("None", True, "User", "drop-internet")
    assert hop.route_table_id.endswith("/routeTables/rt1")
    overridden = [r for r in configured_routes(net) if r.address_prefix == "0.0.0.0/0" and r.source == "Default"]
    assert overridden[0].state == "Invalid"


def test_user_over_bgp_over_system_in_effective_routes():
    effective = {"vm-nic": {"value": [
        {"source": "Default", "state": "Active", "addressPrefix": ["10.50.0.0/16"], "nextHopType": "None",
         "nextHopIpAddress": []},
        {"source": "VirtualNetworkGateway", "state": "Active", "addressPrefix": ["10.50.0.0/16"],
         "nextHopType": "VirtualNetworkGateway", "nextHopIpAddress": ["10.0.255.4"]},
        {"source": "Default", "state": "Active", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "Internet",
         "nextHopIpAddress": []},
        {"source": "VirtualNetworkGateway", "state": "Active", "addressPrefix": ["0.0.0.0/0"],
         "nextHopType": "VirtualNetworkGateway", "nextHopIpAddress": ["10.0.255.4"]},
        {"source": "User", "state": "Active", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "VirtualAppliance",
         "nextHopIpAddress": ["10.0.0.200"]},
        {"source": "Default", "state": "Active", "addressPrefix": ["10.0.0.0/16"], "nextHopType": "VnetLocal",
         "nextHopIpAddress": []},
        {"source": "VirtualNetworkGateway", "state": "Active", "addressPrefix": ["10.0.0.0/24"],
         "nextHopType": "VirtualNetworkGateway", "nextHopIpAddress": ["10.0.255.4"]},
    ]}}
    net = vm(effective_routes=effective)
    assert next_hop(net, "10.50.1.1").next_hop_type == "VirtualNetworkGateway"  # BGP over System
    user = next_hop(net, "8.8.8.8")
    assert (user.next_hop_type, user.next_hop_ip, user.source) == ("VirtualAppliance", "10.0.0.200", "effective")
    # a VNet system route wins over a more specific BGP route
    assert next_hop(net, "10.0.0.9").next_hop_type == "VnetLocal"
    # the configuration has no such routes: the cross-check says so
    assert user.cross_check and "configuration gives" in user.cross_check


def test_invalid_effective_routes_are_skipped():
    effective = {"vm-nic": {"value": [
        {"source": "Default", "state": "Invalid", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "Internet"},
        {"source": "User", "state": "Active", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "None"},
    ]}}
    assert next_hop(vm(effective_routes=effective), "8.8.8.8").dropped


def test_appliance_nobody_owns_is_a_possible_blackhole():
    net = vm(route("to-fw", "0.0.0.0/0", "VirtualAppliance", "10.0.2.4"))
    hop = next_hop(net, RESPONDER)
    assert hop.suspect and not hop.dropped and hop.delivers is None
    assert "no NIC in the captured data owns" in " ".join(hop.notes)
    verdicts = ssh_rdp_verdicts(net, RESPONDER)
    assert verdicts[22].reachable is None and "possible blackhole" in verdicts[22].explain()


def test_appliance_owned_by_a_known_nic():
    forwarding = nic("fw-nic", "10.0.2.4", "default", enableIPForwarding=True)
    net = vm(route("to-fw", "0.0.0.0/0", "VirtualAppliance", "10.0.2.4"), extra_nics=(forwarding,))
    hop = next_hop(net, RESPONDER)
    assert (hop.appliance, hop.suspect, hop.delivers) == ("fw-nic", False, True)
    lazy = nic("fw-nic", "10.0.2.4", "default")
    hop = next_hop(vm(route("to-fw", "0.0.0.0/0", "VirtualAppliance", "10.0.2.4"), extra_nics=(lazy,)), RESPONDER)
    assert hop.suspect and "IP forwarding off" in " ".join(hop.notes)


def test_none_route_makes_ssh_unreachable_even_if_nsgs_allow():
    verdicts = ssh_rdp_verdicts(vm(route("blackhole", "203.0.113.0/24", "None")), RESPONDER)
    assert verdicts[22].access == "Allow" and verdicts[22].reachable is False
    assert "replies are dropped" in verdicts[22].explain()


def test_bad_route_input():
    with pytest.raises(AnalysisError, match=r"route_tables/rt1.json routes\[0\].*'nextHopType' is missing"):
        network_from_dicts(nics=[], route_tables={
            "rt1": route_table("rt1", {"name": "x", "properties": {"addressPrefix": "0.0.0.0/0"}})})
    with pytest.raises(AnalysisError, match="not a valid CIDR prefix"):
        network_from_dicts(nics=[], route_tables={"rt1": route_table("rt1", route("x", "10.0.0/33", "None"))})
    with pytest.raises(UsageError, match="not an IP address"):
        next_hop(vm(), "nowhere")
    with pytest.raises(AnalysisError, match="not an address of vm"):
        next_hop(vm(), "8.8.8.8", source_ip="10.9.9.9")


def test_deallocated_vm_has_no_effective_data_but_gets_answers():
    net = network(nic("vm-nic", "10.0.0.4", "default"), subnets=(subnet("vnet1", "default", "10.0.0.0/24"),),
                  vnets=(vnet("vnet1", "10.0.0.0/16"),))
    assert next_hop(net, RESPONDER).source == "configuration"
    assert ssh_rdp_verdicts(net, RESPONDER)[22].reachable is True
