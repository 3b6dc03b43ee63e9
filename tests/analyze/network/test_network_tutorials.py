"""Network Watcher's tutorials, answered offline, and the ARM REST examples of effective rules/routes.

"Diagnose a virtual machine network traffic filter problem" (IP flow verify) and "Diagnose a
virtual machine network routing problem" (next hop): a VM at 10.0.0.4 in a 10.0.0.0/16 VNet with
the NSG the portal creates (default rules only).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from network_build import network, nic, nsg, subnet, vnet

from kit.analyze.network import flow_verdict, network_from_dicts, next_hop

EXAMPLES = Path("/work/shared/reference/arm-examples")


@pytest.fixture()
def my_vm():
    return network(nic("myvm", "10.0.0.4", "default", nsg="myVm-nsg"), nsgs=(nsg("myVm-nsg"),),
                   subnets=(subnet("vnet1", "default", "10.0.0.0/24"),), vnets=(vnet("vnet1", "10.0.0.0/16"),))


# -- IP flow verify tutorial -----------------------------------------------------------------


def test_outbound_to_bing_allowed_by_allow_internet_outbound(my_vm):
    """Step 3: outbound TCP 10.0.0.4:60000 → 13.107.21.200:80 "is allowed because of a security rule
    named AllowInternetOutbound"."""
    verdict = flow_verdict(my_vm, "Outbound", "TCP", "10.0.0.4:60000", "13.107.21.200:80")
    assert (verdict.access, verdict.rule_name) == ("Allow", "defaultSecurityRules/AllowInternetOutBound")


def test_outbound_to_private_address_outside_vnet_denied(my_vm):
    """Step 4: remote 172.31.0.100 "is denied because of a security rule named DefaultOutboundDenyAll"
    (DenyAllOutBound): the address is neither in the VNet nor Internet."""
    verdict = flow_verdict(my_vm, "Outbound", "TCP", "10.0.0.4:60000", "172.31.0.100:80")
    assert (verdict.access, verdict.rule_name) == ("Deny", "defaultSecurityRules/DenyAllOutBound")


def test_inbound_port_80_denied_by_deny_all_inbound(my_vm):
    """Step 5: inbound, local port 80, remote 172.31.0.100:60000 "is denied because of a security rule
    named DefaultInboundDenyAll" (DenyAllInBound)."""
    verdict = flow_verdict(my_vm, "Inbound", "TCP", "10.0.0.4:80", "172.31.0.100:60000")
    assert (verdict.access, verdict.rule_name, verdict.hop) == ("Deny", "defaultSecurityRules/DenyAllInBound", "nic")


def test_internet_tag_expanded_prefix_covers_bing():
    """"One of the prefixes in the list is 12.0.0.0/6 ... Since 13.107.21.200 is within that address
    range, the AllowInternetOutBound rule allows the outbound traffic" — with the expansion captured."""
    effective = {"value": [{
        "networkSecurityGroup": {"id": "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg1"
                                       "/providers/Microsoft.Network/networkSecurityGroups/myVm-nsg"},
        "association": {"networkInterface": {"id": "/subscriptions/00000000-0000-0000-0000-0000000000aa"
                                                   "/resourceGroups/rg1/providers/Microsoft.Network"
                                                   "/networkInterfaces/myvm"}},
        "effectiveSecurityRules": [
            {"name": "defaultSecurityRules/AllowInternetOutBound", "protocol": "All", "sourcePortRange": "0-65535",
             "destinationPortRange": "0-65535", "sourceAddressPrefix": "0.0.0.0/0",
             "destinationAddressPrefix": "Internet",
             "expandedDestinationAddressPrefix": ["12.0.0.0/6", "32.0.0.0/3"], "access": "Allow", "priority": 65001,
             "direction": "Outbound"},
            {"name": "defaultSecurityRules/DenyAllOutBound", "protocol": "All", "sourcePortRange": "0-65535",
             "destinationPortRange": "0-65535", "sourceAddressPrefix": "0.0.0.0/0",
             "destinationAddressPrefix": "0.0.0.0/0", "access": "Deny", "priority": 65500, "direction": "Outbound"},
        ]}]}
    net = network(nic("myvm", "10.0.0.4", "default", nsg="myVm-nsg"), nsgs=(nsg("myVm-nsg"),),
                  subnets=(subnet("vnet1", "default", "10.0.0.0/24"),), vnets=(vnet("vnet1", "10.0.0.0/16"),),
                  effective_nsgs={"myvm": effective})
    bing = flow_verdict(net, "Outbound", "TCP", "10.0.0.4:60000", "13.107.21.200:80")
    assert (bing.access, bing.rule_name, bing.source) == \
        ("Allow", "defaultSecurityRules/AllowInternetOutBound", "effective")
    # 8.8.8.8 is outside the captured expansion: the capture wins over the kit's own idea of Internet
    google = flow_verdict(net, "Outbound", "TCP", "10.0.0.4:60000", "8.8.8.8:53")
    assert (google.access, google.rule_name) == ("Deny", "defaultSecurityRules/DenyAllOutBound")
    assert google.cross_check and "configuration says Allow" in google.cross_check


# -- Next hop tutorial -----------------------------------------------------------------------


def test_next_hop_to_bing_is_internet_system_route(my_vm):
    """"the next hop type is Internet and that the Route table ID is System Route"."""
    hop = next_hop(my_vm, "13.107.21.200")
    assert (hop.next_hop_type, hop.route_table_id, hop.dropped) == ("Internet", "System Route", False)
    assert hop.route.address_prefix == "0.0.0.0/0"


def test_next_hop_to_172_31_is_none_dropped(my_vm):
    """"None is the Next hop type and ... the Route table ID is also System Route" (route 172.16.0.0/12)."""
    hop = next_hop(my_vm, "172.31.0.100")
    assert (hop.next_hop_type, hop.route_table_id, hop.dropped) == ("None", "System Route", True)
    assert hop.route.address_prefix == "172.16.0.0/12"
    assert hop.delivers is False


def test_next_hop_becomes_virtual_network_when_vnet_covers_the_reserved_prefix():
    """"If you added the 172.16.0.0/12 address range to the address space of the virtual network,
    Azure changes the NEXT HOP TYPE to Virtual network"."""
    net = network(nic("myvm", "10.0.0.4", "default"), subnets=(subnet("vnet1", "default", "10.0.0.0/24"),),
                  vnets=(vnet("vnet1", "10.0.0.0/16", "172.16.0.0/12"),))
    hop = next_hop(net, "172.31.0.100")
    assert (hop.next_hop_type, hop.route.address_prefix, hop.dropped) == ("VnetLocal", "172.16.0.0/12", False)


# -- ARM REST examples -----------------------------------------------------------------------


def _example(name: str) -> dict:
    # Microsoft's examples use the placeholder subscription "subid"; the kit's id parser wants a GUID
    text = (EXAMPLES / name).read_text().replace("/subscriptions/subid/",
                                                 "/subscriptions/00000000-0000-0000-0000-0000000000aa/")
    return json.loads(text)["responses"]["200"]["body"]


@pytest.mark.skipif(not EXAMPLES.exists(), reason="the shared ARM examples are not on this machine")
def test_effective_route_table_example():
    """NetworkInterfaceEffectiveRouteTableList: VnetLocal for 172.20.2.0/24, None for 10/8 etc."""
    nic_body = _example("network_2024-05-01_NetworkInterfaceGet.json")
    routes = _example("network_2024-07-01_NetworkInterfaceEffectiveRouteTableList.json")
    net = network_from_dicts(nics={"test-nic": nic_body}, effective_routes={"test-nic": routes})
    assert next_hop(net, "172.20.2.9").next_hop_type == "VnetLocal"
    assert next_hop(net, "10.1.2.3").dropped
    assert next_hop(net, "100.64.1.1").next_hop_type == "None"
    internet = next_hop(net, "13.107.21.200")
    assert (internet.next_hop_type, internet.source) == ("Internet", "effective")


@pytest.mark.skipif(not EXAMPLES.exists(), reason="the shared ARM examples are not on this machine")
def test_nsg_get_example_with_effective_nsg_example():
    """NetworkSecurityGroupGet (rule1 allows 80) and NetworkInterfaceEffectiveNSGList."""
    nic_body = _example("network_2024-05-01_NetworkInterfaceGet.json")
    nsg_body = _example("network_2024-05-01_NetworkSecurityGroupGet.json")
    config_only = network_from_dicts(nics={"test-nic": nic_body}, nsgs={"testnsg": nsg_body})
    assert config_only.warnings  # the NIC's NSG ("nsg") and subnet were not captured: say so
    effective = _example("network_2024-07-01_NetworkInterfaceEffectiveNSGList.json")
    net = network_from_dicts(nics={"test-nic": nic_body}, nsgs={"testnsg": nsg_body},
                             effective_nsgs={"test-nic": effective})
    rdp = flow_verdict(net, "Inbound", "TCP", "172.20.2.4:3389", "1.1.1.1:50000")
    assert (rdp.access, rdp.rule_name, rdp.source) == ("Allow", "securityRules/default-allow-rdp", "effective")
    other = flow_verdict(net, "Inbound", "TCP", "172.20.2.4:3389", "1.1.1.2:50000")
    assert other.access == "Deny"  # the example lists no defaults: Azure's implicit deny applies
    # the example's ipconfig2 address is a /28 prefix; its first address belongs to the NIC
    assert flow_verdict(net, "Inbound", "TCP", "172.20.2.16:3389", "1.1.1.1:1").access == "Allow"
