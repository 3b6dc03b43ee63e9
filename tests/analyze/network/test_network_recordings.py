"""The offline verdict model against real Azure answers recorded by azure-cli (tests/data/azure-cli-recordings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kit.analyze.network import (
    VmNetwork,
    access_ports,
    flow_matches,
    flow_verdict,
    hop_matches,
    network_from_dicts,
    next_hop,
)
from kit.lab.effective import effective_security_groups

DATA = Path(__file__).parents[2] / "data" / "azure-cli-recordings"
RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/cli_test_nw_vm000001"
# Not in the recording (``vm create`` made them in one template): azure-cli's default names and prefixes.
VNET = f"{RG}/providers/Microsoft.Network/virtualNetworks/vm1VNET"
SUBNET = f"{VNET}/subnets/vm1Subnet"
NSG = f"{RG}/providers/Microsoft.Network/networkSecurityGroups/vm1NSG"


def recorded(name: str) -> Any:
    return json.loads((DATA / f"test_network_watcher_vm.{name}.json").read_text())


def recorded_network() -> VmNetwork:
    """vm1 as the recording shows it: the real VM body, its NIC's NSG rules from the security group view."""
    vm = recorded("vm_show")
    view = recorded("security_group_view")["networkInterfaces"][0]
    rules = view["securityRuleAssociations"]
    private_ip = recorded("ip_flow_verify")[0]["request"]["localIPAddress"]
    nic = {"id": view["id"], "name": view["id"].rsplit("/", 1)[1],
           "properties": {"networkSecurityGroup": {"id": NSG}, "ipConfigurations": [
               {"name": "ipconfigvm1", "properties": {"privateIPAddress": private_ip, "primary": True,
                                                      "subnet": {"id": SUBNET}}}]}}
    nsg = {"id": NSG, "name": "vm1NSG", "properties": {
        "securityRules": rules["networkInterfaceAssociation"]["securityRules"],
        "defaultSecurityRules": rules["defaultSecurityRules"]}}
    vnet = {"id": VNET, "name": "vm1VNET", "properties": {
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "subnets": [{"id": SUBNET, "name": "vm1Subnet", "properties": {"addressPrefix": "10.0.0.0/24"}}]}}
    return network_from_dicts(nics=[nic], nsgs=[nsg], vnets=[vnet], vm=vm)


@pytest.mark.parametrize("flow", recorded("ip_flow_verify"), ids=lambda f: f["request"]["direction"])
def test_offline_ip_flow_verify_matches_network_watcher(flow):
    ask, answer = flow["request"], flow["response"]
    local, remote = f"{ask['localIPAddress']}:{ask['localPort']}", f"{ask['remoteIPAddress']}:{ask['remotePort']}"
    verdict = flow_verdict(recorded_network(), ask["direction"], ask["protocol"], local, remote)
    assert (verdict.access, verdict.rule_name) == (answer["access"], answer["ruleName"])
    assert flow_matches(verdict, answer)


@pytest.mark.parametrize("hop", recorded("next_hop"), ids=lambda h: h["request"]["destinationIPAddress"])
def test_offline_next_hop_matches_network_watcher(hop):
    ask, answer = hop["request"], hop["response"]
    found = next_hop(recorded_network(), ask["destinationIPAddress"], source_ip=ask["sourceIPAddress"])
    assert found.next_hop_type == "VnetLocal" and answer["nextHopType"] == "VirtualNetwork"  # Network Watcher's word
    assert found.route_table_id == answer["routeTableId"]
    assert hop_matches(found, answer)


def test_a_recorded_linux_vm_is_judged_on_ssh_only():
    net = recorded_network()
    assert net.os_type == "Linux" and access_ports(net) == (22,) and access_ports(net, [3389]) == (3389,)


def test_the_lab_answers_effective_rules_with_the_fields_azure_returns():
    real = recorded("security_group_view")["networkInterfaces"][0]["securityRuleAssociations"]
    real_fields = {key for rule in real["effectiveSecurityRules"] for key in rule}
    nsg_body = {"id": NSG, "properties": {"securityRules": [
        {"name": "allow-ssh", "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "22",
                                             "sourceAddressPrefix": "Internet", "destinationAddressPrefix": "*",
                                             "access": "Allow", "priority": 300, "direction": "Inbound"}}]}}
    nic = {"id": f"{RG}/providers/Microsoft.Network/networkInterfaces/vm1VMNic", "properties": {
        "networkSecurityGroup": {"id": NSG}, "ipConfigurations": [{"properties": {"subnet": {"id": SUBNET}}}]}}
    lab = effective_security_groups(nic, lambda rid: nsg_body if rid == NSG else None)
    entry = lab["value"][0]
    assert set(entry["association"]) == {"networkInterface"}
    for rule in entry["effectiveSecurityRules"]:
        assert real_fields <= set(rule), real_fields - set(rule)
        assert rule["sourcePortRanges"] == [rule["sourcePortRange"]]


@pytest.mark.parametrize("tag_map", [None, {"Internet": ["1.0.0.0/8"]}, '{"Internet": ["1.0.0.0/8"]}'],
                         ids=["absent", "object", "json-text"])
def test_effective_rules_parse_in_azures_shapes(tag_map):
    """Azure's example: one NSG on subnet and NIC (and a network manager), singular fields only, no or any tagMap."""
    entry: dict[str, Any] = {
        "networkSecurityGroup": {"id": NSG},
        "association": {"networkManager": {"id": f"{RG}/providers/Microsoft.Network/networkManagers/nm1"},
                        "subnet": {"id": SUBNET}, "networkInterface": {"id": recorded_network().primary_nic.id}},
        "effectiveSecurityRules": [
            {"name": "securityRules/deny-ssh", "protocol": "Tcp", "sourcePortRange": "0-65535",
             "destinationPortRange": "22-22", "sourceAddressPrefix": "0.0.0.0/0",
             "destinationAddressPrefix": "0.0.0.0/0",
             "access": "Deny", "priority": 100, "direction": "Inbound"},
            {"name": "defaultSecurityRules/AllowInternetOutBound", "protocol": "All", "sourcePortRange": "0-65535",
             "destinationPortRange": "0-65535", "sourceAddressPrefix": "0.0.0.0/0",
             "destinationAddressPrefix": "Internet",
             "expandedDestinationAddressPrefix": ["32.0.0.0/3", "4.0.0.0/6", "2.0.0.0/7", "1.0.0.0/8"],
             "access": "Allow", "priority": 65001, "direction": "Outbound"}]}
    if tag_map is not None:
        entry["tagMap"] = tag_map
    base = recorded_network()
    config = {"name": "ip", "properties": {"privateIPAddress": "10.0.0.9", "subnet": {"id": SUBNET}}}
    net = network_from_dicts(nics=[{"id": base.primary_nic.id, "name": "vm1VMNic",
                                    "properties": {"ipConfigurations": [config]}}],
                             effective_nsgs={"vm1VMNic": {"value": [entry]}})
    inbound = flow_verdict(net, "Inbound", "TCP", "10.0.0.9:22", "100.1.2.3:50000")
    outbound = flow_verdict(net, "Outbound", "TCP", "10.0.0.9:50000", "1.2.3.4:443")
    assert (inbound.access, inbound.rule_name, inbound.source) == ("Deny", "securityRules/deny-ssh", "effective")
    assert (outbound.access, outbound.rule_name) == ("Allow", "defaultSecurityRules/AllowInternetOutBound")
