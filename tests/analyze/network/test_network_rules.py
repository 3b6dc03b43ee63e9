"""Rule matching details: plural fields, port ranges, protocols, ASGs, service tags, bad input."""

from __future__ import annotations

import pytest
from network_build import NET, asg_id, network, nic, nsg, rule, subnet, vnet

from kit.analyze.network import flow_verdict, network_from_dicts
from kit.errors import AnalysisError, KitError, UsageError

RESPONDER = "203.0.113.7"


def vm(*rules, nic_kwargs=None, effective=None, vnets=None):
    return network(nic("vm-nic", "10.0.0.4", "default", nsg="vm-nsg", **(nic_kwargs or {})),
                   nsgs=(nsg("vm-nsg", *rules),), subnets=(subnet("vnet1", "default", "10.0.0.0/24"),),
                   vnets=vnets or (vnet("vnet1", "10.0.0.0/16"),), effective_nsgs=effective)


def inbound(net, port, remote=RESPONDER, protocol="TCP", remote_port=50000):
    return flow_verdict(net, "Inbound", protocol, f"10.0.0.4:{port}", f"{remote}:{remote_port}")


def test_plural_ports_and_ranges():
    net = vm(rule("web", 200, dport=None, destinationPortRanges=["80", "10000-10005"]))
    assert inbound(net, 80).rule_name == "securityRules/web"
    assert inbound(net, 10003).access == "Allow"
    assert inbound(net, 10005).access == "Allow"
    assert inbound(net, 10006).rule_name == "defaultSecurityRules/DenyAllInBound"
    assert inbound(net, 81).access == "Deny"


def test_plural_address_prefixes():
    net = vm(rule("ssh-from-office", 200, dport="22", src=None,
                  sourceAddressPrefixes=["198.51.100.0/24", "203.0.113.7"]))
    assert inbound(net, 22, remote="198.51.100.20").access == "Allow"
    assert inbound(net, 22, remote="203.0.113.7").access == "Allow"
    assert inbound(net, 22, remote="203.0.113.8").access == "Deny"


def test_source_port_range_is_checked():
    net = vm(rule("odd", 200, dport="22", sport="1024-2048"))
    assert inbound(net, 22, remote_port=1500).access == "Allow"
    assert inbound(net, 22, remote_port=50000).access == "Deny"


@pytest.mark.parametrize(("rule_protocol", "asked", "allowed"), [
    ("Tcp", "TCP", True), ("Tcp", "UDP", False), ("Udp", "udp", True), ("*", "UDP", True),
    ("Icmp", "ICMP", True), ("Icmp", "TCP", False), ("Esp", "ESP", True), ("Ah", "AH", True), ("Ah", "ESP", False),
])
def test_protocols(rule_protocol, asked, allowed):
    net = vm(rule("p", 200, protocol=rule_protocol, dport="*"))
    verdict = inbound(net, 22, protocol=asked)
    assert (verdict.access == "Allow") is allowed


def test_lowest_priority_number_wins_whatever_the_order_in_the_file():
    net = vm(rule("allow-all", 300, protocol="*"), rule("deny-ssh", 100, access="Deny", dport="22"))
    assert inbound(net, 22).rule_name == "securityRules/deny-ssh"
    assert inbound(net, 80).rule_name == "securityRules/allow-all"


def test_custom_rule_overrides_default_rules():
    net = vm(rule("deny-vnet", 4096, access="Deny", protocol="*", src="VirtualNetwork"))
    assert inbound(net, 22, remote="10.0.1.9").rule_name == "securityRules/deny-vnet"
    assert inbound(net, 22, remote="203.0.113.7").rule_name == "defaultSecurityRules/DenyAllInBound"


def test_rules_of_the_other_direction_are_ignored():
    net = vm(rule("deny-out", 100, direction="Outbound", access="Deny", protocol="*"),
             rule("allow-ssh", 200, dport="22"))
    assert inbound(net, 22).rule_name == "securityRules/allow-ssh"


def test_application_security_groups_from_nic_ip_configurations():
    net = vm(rule("web", 200, dst=None, dport="22", destinationApplicationSecurityGroups=[{"id": asg_id("AsgWeb")}]),
             nic_kwargs={"asgs": ("AsgWeb",)})
    other = vm(rule("web", 200, dst=None, dport="22", destinationApplicationSecurityGroups=[{"id": asg_id("AsgWeb")}]),
               nic_kwargs={"asgs": ("AsgDb",)})
    assert inbound(net, 22).rule_name == "securityRules/web"
    assert inbound(other, 22).rule_name == "defaultSecurityRules/DenyAllInBound"


def test_source_asg_uses_known_nics_of_peers():
    logic = network_from_dicts(nics=[nic("logic-nic", "10.0.0.9", "default", asgs=("AsgLogic",))]).nics
    net = vm(rule("db-from-logic", 200, src=None, dport="1433",
                  sourceApplicationSecurityGroups=[{"id": asg_id("AsgLogic")}]))
    assert inbound(net, 1433, remote="10.0.0.9").rule_name == "defaultSecurityRules/AllowVnetInBound"
    net = vm(rule("deny-db", 300, access="Deny", dport="1433", protocol="*"),
             rule("db-from-logic", 200, src=None, dport="1433",
                  sourceApplicationSecurityGroups=[{"id": asg_id("AsgLogic")}])).with_known_nics(logic)
    assert inbound(net, 1433, remote="10.0.0.9").rule_name == "securityRules/db-from-logic"
    assert inbound(net, 1433, remote="10.0.0.10").rule_name == "securityRules/deny-db"


def test_builtin_tags_without_capture():
    net = vm(rule("lb", 100, access="Deny", protocol="*", src="AzureLoadBalancer"),
             rule("vnet", 110, access="Deny", dport="22", src="VirtualNetwork"),
             rule("web", 120, dport="443", src="Internet"))
    assert inbound(net, 80, remote="168.63.129.16").rule_name == "securityRules/lb"
    assert inbound(net, 22, remote="10.0.200.1").rule_name == "securityRules/vnet"  # inside 10.0.0.0/16
    assert inbound(net, 443, remote="8.8.8.8").rule_name == "securityRules/web"
    # private: not Internet
    assert inbound(net, 443, remote="192.168.1.1").rule_name == "defaultSecurityRules/DenyAllInBound"
    assert inbound(net, 443, remote="10.0.9.9").rule_name == "defaultSecurityRules/AllowVnetInBound"


def test_virtual_network_includes_connected_peerings():
    peered = vnet("vnet1", "10.0.0.0/16")
    peered["properties"]["virtualNetworkPeerings"] = [
        {"name": "to-hub", "properties": {"peeringState": "Connected",
                                          "remoteAddressSpace": {"addressPrefixes": ["10.100.0.0/16"]}}},
        {"name": "gone", "properties": {"peeringState": "Disconnected",
                                        "remoteAddressSpace": {"addressPrefixes": ["10.200.0.0/16"]}}},
    ]
    net = vm(vnets=(peered,))
    assert inbound(net, 22, remote="10.100.0.5").rule_name == "defaultSecurityRules/AllowVnetInBound"
    assert inbound(net, 22, remote="10.200.0.5").rule_name == "defaultSecurityRules/DenyAllInBound"


def test_unknown_service_tag_is_a_warning_not_a_guess():
    net = vm(rule("storage", 100, access="Deny", dport="22", src="Storage.WestEurope"))
    verdict = inbound(net, 22)
    assert verdict.rule_name == "defaultSecurityRules/DenyAllInBound"
    assert any("Storage.WestEurope" in warning for warning in verdict.warnings)


def test_tag_map_captured_with_effective_rules_is_used():
    nsg_ref = {"id": f"{NET}/networkSecurityGroups/vm-nsg"}
    effective = {"vm-nic": {"value": [{
        "networkSecurityGroup": nsg_ref, "association": {"networkInterface": {"id": f"{NET}/networkInterfaces/vm-nic"}},
        "tagMap": {"AzureCloud": ["203.0.113.0/24"]},
        "effectiveSecurityRules": [
            {"name": "securityRules/cloud", "protocol": "Tcp", "sourcePortRange": "0-65535",
             "destinationPortRange": "22-22", "sourceAddressPrefix": "AzureCloud",
             "destinationAddressPrefix": "0.0.0.0/0", "access": "Allow",
             "priority": 100, "direction": "Inbound"},
            {"name": "defaultSecurityRules/DenyAllInBound", "protocol": "All", "sourcePortRange": "0-65535",
             "destinationPortRange": "0-65535", "sourceAddressPrefix": "0.0.0.0/0",
             "destinationAddressPrefix": "0.0.0.0/0", "access": "Deny", "priority": 65500, "direction": "Inbound"},
        ]}]}}
    net = vm(rule("cloud", 100, dport="22", src="AzureCloud"), effective=effective)
    verdict = inbound(net, 22)
    assert (verdict.access, verdict.rule_name, verdict.source, verdict.hop) == \
        ("Allow", "securityRules/cloud", "effective", "nic")
    assert inbound(net, 22, remote="198.51.100.1").access == "Deny"


def test_public_local_address_is_mapped_to_the_private_one():
    pip = {"name": "vm-pip", "id": f"{NET}/publicIPAddresses/vm-pip", "properties": {"ipAddress": "20.1.2.3"}}
    net = network(nic("vm-nic", "10.0.0.4", "default", nsg="vm-nsg", public_ip="vm-pip"),
                  nsgs=(nsg("vm-nsg", rule("ssh", 100, dport="22", dst="10.0.0.4")),),
                  subnets=(subnet("vnet1", "default", "10.0.0.0/24"),), public_ips=(pip,))
    verdict = flow_verdict(net, "Inbound", "TCP", "20.1.2.3:22", f"{RESPONDER}:50000")
    assert verdict.rule_name == "securityRules/ssh" and verdict.local == "10.0.0.4:22"
    assert any("after NAT" in warning for warning in verdict.warnings)


def test_to_json_has_network_watcher_fields():
    data = inbound(vm(), 22).to_json()
    assert data["access"] == "Deny" and data["rule_name"] == "defaultSecurityRules/DenyAllInBound"
    assert {"nsg_id", "hop", "trace", "source", "cross_check", "warnings"} <= set(data)


# -- bad input: clear errors naming file and field ------------------------------------------


@pytest.mark.parametrize(("field", "value", "words"), [
    ("destinationPortRange", "80-", "destination port"),
    ("destinationPortRange", "70000", "outside 0-65535"),
    ("sourceAddressPrefix", "10.0.0.0/33", "not a valid IP address or CIDR"),
    ("sourceAddressPrefix", "10.0.0.300", "not a valid IP address or CIDR"),
    ("protocol", "Gre", "unknown protocol"),
    ("priority", "high", "priority"),
    ("access", "Maybe", "access"),
    ("direction", "Sideways", "direction"),
])
def test_malformed_rule_fields_name_the_file_and_field(field, value, words):
    body = nsg("bad-nsg", rule("r1", 100))
    body["properties"]["securityRules"][0]["properties"][field] = value
    with pytest.raises(AnalysisError) as error:
        network_from_dicts(nics=[nic("n", "10.0.0.4", "default")], nsgs={"bad-nsg": body})
    assert "nsgs/bad-nsg.json" in str(error.value) and "r1" in str(error.value) and words in str(error.value)


def test_missing_fields_and_wrong_shapes():
    body = nsg("bad", rule("r1", 100))
    del body["properties"]["securityRules"][0]["properties"]["priority"]
    with pytest.raises(AnalysisError, match="'priority' is missing"):
        network_from_dicts(nics=[], nsgs={"bad": body})
    with pytest.raises(AnalysisError, match="nics/x.json: expected a JSON object"):
        network_from_dicts(nics={"x": ["not", "a", "nic"]})
    with pytest.raises(AnalysisError, match="effective_nsg/n.json"):
        network_from_dicts(nics=[nic("n", "10.0.0.4", "default")], effective_nsgs={"n": "broken"})
    with pytest.raises(AnalysisError, match="not a valid ARM resource id"):
        network_from_dicts(nics=[{"name": "n", "id": "/subs/x", "properties": {}}])


@pytest.mark.parametrize(("args", "words"), [
    (("Sideways", "TCP", "10.0.0.4:22", "1.2.3.4:5"), "direction"),
    (("Inbound", "GRE", "10.0.0.4:22", "1.2.3.4:5"), "protocol"),
    (("Inbound", "TCP", "10.0.0.4:99999", "1.2.3.4:5"), "port"),
    (("Inbound", "TCP", "not-an-ip:22", "1.2.3.4:5"), "not an IP address"),
    (("Inbound", "TCP", "10.0.0.4", "1.2.3.4"), "needs ports"),
])
def test_bad_questions_are_usage_errors(args, words):
    with pytest.raises(UsageError, match=words):
        flow_verdict(vm(), *args)


def test_local_address_not_on_the_vm():
    with pytest.raises(AnalysisError, match=r"10.0.0.99 is not an address of .*10.0.0.4"):
        flow_verdict(vm(), "Inbound", "TCP", "10.0.0.99:22", "1.2.3.4:5")
    assert issubclass(AnalysisError, KitError)


def test_nsg_not_captured_is_reported():
    net = network(nic("vm-nic", "10.0.0.4", "default", nsg="lost-nsg"),
                  subnets=(subnet("vnet1", "default", "10.0.0.0/24"),))
    assert any("lost-nsg" in warning for warning in net.warnings)
    verdict = inbound(net, 22)
    assert any("not captured" in warning for warning in verdict.warnings)


def test_diff_is_the_name_the_architecture_gives_diff_network():
    import kit.analyze.network as network_module

    assert network_module.diff is network_module.diff_network


def test_no_public_ip_is_noted_for_an_internet_responder():
    from kit.analyze.network import ssh_rdp_verdicts

    verdict = ssh_rdp_verdicts(vm(rule("ssh", 100, dport="22")), RESPONDER)[22]
    assert verdict.reachable is True and "no public IP" in verdict.notes[0]
    assert not ssh_rdp_verdicts(vm(rule("ssh", 100, dport="22")), "10.0.5.5")[22].notes


def test_captured_tag_map_also_resolves_configuration_rules():
    effective = {"vm-nic": {"value": [{
        "networkSecurityGroup": {"id": f"{NET}/networkSecurityGroups/vm-nsg"},
        "association": {"networkInterface": {"id": f"{NET}/networkInterfaces/vm-nic"}},
        "tagMap": {"AzureCloud": ["203.0.113.0/24"]}, "effectiveSecurityRules": []}]}}
    net = vm(rule("cloud", 100, dport="22", src="AzureCloud"), effective=effective)
    configured = flow_verdict(net, "Inbound", "TCP", "10.0.0.4:22", f"{RESPONDER}:1", use_effective=False)
    assert (configured.source, configured.rule_name, configured.warnings) == \
        ("configuration", "securityRules/cloud", ())
