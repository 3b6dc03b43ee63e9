"""Effective rules/routes (as the lab computes them from configuration, the way Azure shows them)
must give the same answers as the configuration: the cross-check stays silent."""

from __future__ import annotations

import itertools

import pytest
from network_build import asg_id, nic, nsg, route, route_table, rule, subnet, vnet

from kit.analyze.network import flow_verdict, network_from_dicts, next_hop

effective = pytest.importorskip("kit.lab.effective")

DESTINATIONS = ["203.0.113.7", "10.0.1.9", "10.0.0.5", "172.31.0.100", "168.63.129.16", "8.8.8.8", "10.9.0.1"]
PORTS = [22, 80, 3389]


def world(nic_body, nsgs=(), subnets=(), vnets=(), tables=(), others=()):
    bodies = [nic_body, *nsgs, *subnets, *vnets, *tables, *others]
    index = {body["id"].lower(): body for body in bodies}
    lookup = index.get
    eff_nsg = effective.effective_security_groups(nic_body, lambda i: lookup(i.lower()))
    eff_routes = effective.effective_routes(nic_body, lambda i: lookup(i.lower()))
    kwargs = dict(nics=[nic_body], nsgs=list(nsgs), subnets=list(subnets), vnets=list(vnets), route_tables=list(tables))
    captured = network_from_dicts(**kwargs, effective_nsgs={nic_body["name"]: eff_nsg},
                                  effective_routes={nic_body["name"]: eff_routes})
    return captured.with_known_nics(network_from_dicts(nics=list(others)).nics)


SHARED = nsg("shared", rule("allow-ssh", 100, dport="22", src="Internet"),
             rule("deny-rdp-vnet", 110, access="Deny", dport="3389", src="VirtualNetwork"),
             rule("web-asg", 120, dst=None, dport="80",
                  destinationApplicationSecurityGroups=[{"id": asg_id("AsgWeb")}]),
             rule("out-deny-dns", 130, direction="Outbound", access="Deny", protocol="Udp", dport="53"))
NIC_NSG = nsg("nic-nsg", rule("allow-web-plural", 100, dport=None, destinationPortRanges=["80", "8000-8100"]),
              rule("allow-ssh-office", 110, dport="22", src=None,
                   sourceAddressPrefixes=["203.0.113.0/24", "198.51.100.7"]))
CASES = {
    "subnet nsg only": dict(nic_nsg=None, subnet_nsg="shared"),
    "nic nsg only": dict(nic_nsg="nic-nsg", subnet_nsg=None),
    "both": dict(nic_nsg="nic-nsg", subnet_nsg="shared"),
    "same nsg on both": dict(nic_nsg="shared", subnet_nsg="shared"),
    "none": dict(nic_nsg=None, subnet_nsg=None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_effective_and_configuration_agree(case):
    spec = CASES[case]
    nic_body = nic("vm-nic", "10.0.0.4", "default", nsg=spec["nic_nsg"], asgs=("AsgWeb",))
    net = world(nic_body, nsgs=(SHARED, NIC_NSG),
                subnets=(subnet("vnet1", "default", "10.0.0.0/24", nsg=spec["subnet_nsg"]),),
                vnets=(vnet("vnet1", "10.0.0.0/16"),))
    for remote, port, direction in itertools.product(DESTINATIONS, PORTS, ("Inbound", "Outbound")):
        local, far = (("10.0.0.4:" + str(port), f"{remote}:50000") if direction == "Inbound"
                      else ("10.0.0.4:50000", f"{remote}:{port}"))
        verdict = flow_verdict(net, direction, "TCP", local, far)
        configured = flow_verdict(net, direction, "TCP", local, far, use_effective=False)
        assert verdict.source == "effective"
        assert verdict.cross_check is None, (case, remote, port, direction, verdict.cross_check)
        assert (verdict.access, verdict.rule_name) == (configured.access, configured.rule_name)


def test_routes_agree_with_udrs_and_peering():
    peered = vnet("vnet1", "10.0.0.0/16")
    peered["properties"]["virtualNetworkPeerings"] = [
        {"name": "hub", "properties": {"peeringState": "Connected",
                                       "remoteAddressSpace": {"addressPrefixes": ["10.9.0.0/16"]}}}]
    table = route_table("rt1", route("fw", "0.0.0.0/0", "VirtualAppliance", "10.0.1.4"),
                        route("drop", "172.31.0.0/16", "None"))
    appliance = nic("fw-nic", "10.0.1.4", "default", enableIPForwarding=True)
    net = world(nic("vm-nic", "10.0.0.4", "default"),
                subnets=(subnet("vnet1", "default", "10.0.0.0/24", route_table="rt1"),),
                vnets=(peered,), tables=(table,), others=(appliance,))
    for destination in DESTINATIONS:
        hop = next_hop(net, destination)
        assert hop.source == "effective" and hop.cross_check is None, (destination, hop.cross_check)
    assert next_hop(net, "8.8.8.8").appliance == "fw-nic"
    assert next_hop(net, "10.9.0.1").next_hop_type == "VNetPeering"
    assert next_hop(net, "172.31.0.100").route.source == "User"
