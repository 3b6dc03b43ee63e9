"""Microsoft's worked examples in "How network security groups filter network traffic".

The article's picture: NSG1 on Subnet1 (VM1, VM2), NSG2 on VM1's NIC and on VM3's NIC (Subnet2, no
subnet NSG), VM4 in Subnet3 with no NSG anywhere; traffic to and from the internet over TCP 80.
Each test quotes the sentence it encodes.
"""

from __future__ import annotations

import pytest
from network_build import network, nic, nsg, rule, subnet, vnet

from kit.analyze.network import flow_verdict

INTERNET = "203.0.113.7"
VMS = {"VM1": ("10.0.1.4", "Subnet1", "NSG2"), "VM2": ("10.0.1.5", "Subnet1", None),
       "VM3": ("10.0.2.4", "Subnet2", "NSG2"), "VM4": ("10.0.3.4", "Subnet3", None)}
ALLOW_80_IN = rule("Allow-HTTP-Inbound", 100, dport="80", src="Internet")
DENY_80_OUT = rule("Deny-HTTP-Outbound", 100, direction="Outbound", access="Deny", dport="80", dst="Internet")
DENY_ALL_IN = rule("Deny-All-Inbound", 100, protocol="*", access="Deny")
DENY_ALL_OUT = rule("Deny-All-Outbound", 100, direction="Outbound", protocol="*", access="Deny")


def vm(name: str, *, nsg1: tuple = (), nsg2: tuple = ()):
    ip, subnet_name, nic_nsg = VMS[name]
    return network(
        nic(f"{name.lower()}-nic", ip, subnet_name, nsg=nic_nsg),
        nsgs=(nsg("NSG1", *nsg1), nsg("NSG2", *nsg2)),
        subnets=(subnet("vnet1", "Subnet1", "10.0.1.0/24", nsg="NSG1"), subnet("vnet1", "Subnet2", "10.0.2.0/24"),
                 subnet("vnet1", "Subnet3", "10.0.3.0/24")),
        vnets=(vnet("vnet1", "10.0.0.0/16"),),
        name=name,
    )


def inbound_80(name: str, **nsgs):
    return flow_verdict(vm(name, **nsgs), "Inbound", "TCP", f"{VMS[name][0]}:80", f"{INTERNET}:50000")


def outbound_80(name: str, **nsgs):
    return flow_verdict(vm(name, **nsgs), "Outbound", "TCP", f"{VMS[name][0]}:50000", f"{INTERNET}:80")


# -- Inbound ---------------------------------------------------------------------------------


def test_vm1_inbound_denied_by_nsg1_default_and_never_evaluated_by_nsg2():
    """"Unless you've created a rule that allows port 80 inbound, the traffic is denied by the
    DenyAllInbound default security rule, and never evaluated by NSG2"."""
    verdict = inbound_80("VM1", nsg2=(ALLOW_80_IN,))
    assert (verdict.access, verdict.rule_name, verdict.hop) == ("Deny", "defaultSecurityRules/DenyAllInBound", "subnet")
    assert verdict.nsg_id.endswith("/NSG1")
    nic_hop = verdict.trace[1]
    assert nic_hop.hop == "nic" and nic_hop.nsg_name == "NSG2" and not nic_hop.evaluated and nic_hop.access is None


def test_vm1_inbound_nsg1_allows_then_nsg2_decides():
    """"If NSG1 has a security rule that allows port 80, the traffic is then processed by NSG2"."""
    verdict = inbound_80("VM1", nsg1=(ALLOW_80_IN,))
    assert (verdict.access, verdict.rule_name, verdict.hop) == ("Deny", "defaultSecurityRules/DenyAllInBound", "nic")
    assert [h.access for h in verdict.trace] == ["Allow", "Deny"]
    assert verdict.trace[0].rule_name == "securityRules/Allow-HTTP-Inbound"


def test_vm1_inbound_needs_both_nsgs_to_allow():
    """"To allow port 80 to the virtual machine, both NSG1 and NSG2 must have a rule that allows
    port 80 from the internet"."""
    verdict = inbound_80("VM1", nsg1=(ALLOW_80_IN,), nsg2=(ALLOW_80_IN,))
    assert verdict.access == "Allow"
    assert [(h.hop, h.access) for h in verdict.trace] == [("subnet", "Allow"), ("nic", "Allow")]


def test_vm2_inbound_follows_nsg1_alone():
    """"Since VM2 doesn't have a network security group associated to its network interface, it
    receives all traffic allowed through NSG1 or is denied all traffic denied by NSG1"."""
    denied = inbound_80("VM2")
    allowed = inbound_80("VM2", nsg1=(ALLOW_80_IN,))
    assert (denied.access, denied.hop, denied.rule_name) == ("Deny", "subnet", "defaultSecurityRules/DenyAllInBound")
    assert (allowed.access, allowed.hop, allowed.rule_name) == ("Allow", "subnet", "securityRules/Allow-HTTP-Inbound")
    assert allowed.trace[1].nsg_id is None and allowed.trace[1].access == "Allow"


def test_vm3_inbound_allowed_into_subnet_and_processed_by_nsg2():
    """"Since there's no network security group associated to Subnet2, traffic is allowed into
    the subnet and processed by NSG2"."""
    denied = inbound_80("VM3", nsg1=(ALLOW_80_IN,))
    allowed = inbound_80("VM3", nsg2=(ALLOW_80_IN,))
    assert (denied.access, denied.hop) == ("Deny", "nic")
    assert (allowed.access, allowed.hop, allowed.rule_name) == ("Allow", "nic", "securityRules/Allow-HTTP-Inbound")
    assert allowed.trace[0].note.startswith("no NSG on the subnet")


def test_vm4_inbound_allowed_without_any_nsg():
    """"All network traffic is allowed through a subnet and network interface if they don't have a
    network security group associated to them"."""
    verdict = inbound_80("VM4", nsg1=(DENY_ALL_IN,), nsg2=(DENY_ALL_IN,))
    assert (verdict.access, verdict.rule_name, verdict.nsg_id, verdict.hop) == ("Allow", None, None, None)
    assert "no NSG" in verdict.explain()


# -- Outbound --------------------------------------------------------------------------------


def test_vm1_outbound_allowed_by_allow_internet_outbound_in_both():
    """"the traffic is allowed by the AllowInternetOutbound default security rule in both NSG1 and NSG2"."""
    verdict = outbound_80("VM1")
    assert verdict.access == "Allow"
    assert [(h.hop, h.rule_name) for h in verdict.trace] == [
        ("nic", "defaultSecurityRules/AllowInternetOutBound"),
        ("subnet", "defaultSecurityRules/AllowInternetOutBound"),
    ]


def test_vm1_outbound_denied_by_nsg2_never_evaluated_by_nsg1():
    """"If NSG2 has a security rule that denies port 80, the traffic is denied, and never evaluated by NSG1"."""
    verdict = outbound_80("VM1", nsg2=(DENY_80_OUT,))
    assert (verdict.access, verdict.rule_name, verdict.hop) == ("Deny", "securityRules/Deny-HTTP-Outbound", "nic")
    assert verdict.trace[1].hop == "subnet" and not verdict.trace[1].evaluated


def test_vm1_outbound_either_nsg_can_deny():
    """"To deny port 80 from the virtual machine, either, or both of the network security groups
    must have a rule that denies port 80 to the internet"."""
    verdict = outbound_80("VM1", nsg1=(DENY_80_OUT,))
    assert (verdict.access, verdict.hop) == ("Deny", "subnet")
    assert verdict.trace[0].access == "Allow"


def test_vm2_outbound_processed_by_nsg1():
    """"All traffic is sent through the network interface to the subnet ... The rules in NSG1 are processed"."""
    assert (outbound_80("VM2").access, outbound_80("VM2").hop) == ("Allow", "subnet")
    denied = outbound_80("VM2", nsg1=(DENY_80_OUT,))
    assert (denied.access, denied.hop, denied.rule_name) == ("Deny", "subnet", "securityRules/Deny-HTTP-Outbound")


def test_vm3_outbound_nsg2_denies_or_allow_internet_outbound():
    """"If NSG2 has a security rule that denies port 80, the traffic is denied. If not, the traffic
    is allowed by the AllowInternetOutbound default security rule in NSG2"."""
    assert outbound_80("VM3", nsg2=(DENY_80_OUT,)).access == "Deny"
    allowed = outbound_80("VM3")
    assert (allowed.access, allowed.rule_name, allowed.hop) == \
        ("Allow", "defaultSecurityRules/AllowInternetOutBound", "nic")


def test_vm4_outbound_all_allowed():
    """"All network traffic is allowed from VM4"."""
    verdict = outbound_80("VM4", nsg1=(DENY_ALL_OUT,), nsg2=(DENY_ALL_OUT,))
    assert (verdict.access, verdict.rule_name) == ("Allow", None)


# -- Intra-subnet ----------------------------------------------------------------------------


@pytest.mark.parametrize("port", [22, 80, 3389])
def test_intra_subnet_allowed_by_default(port):
    """"By default, virtual machines in the same subnet can communicate based on a default NSG rule"."""
    out = flow_verdict(vm("VM1"), "Outbound", "TCP", "10.0.1.4:50000", f"10.0.1.5:{port}")
    inbound = flow_verdict(vm("VM2"), "Inbound", "TCP", f"10.0.1.5:{port}", "10.0.1.4:50000")
    assert (out.access, out.rule_name) == ("Allow", "defaultSecurityRules/AllowVnetOutBound")
    assert (inbound.access, inbound.rule_name) == ("Allow", "defaultSecurityRules/AllowVnetInBound")


def test_intra_subnet_blocked_by_subnet_nsg_deny_all():
    """"If a rule is added to NSG1 that denies all inbound and outbound traffic, VM1 and VM2 will no
    longer be able to communicate with each other"."""
    rules = (DENY_ALL_IN, DENY_ALL_OUT)
    out = flow_verdict(vm("VM1", nsg1=rules), "Outbound", "TCP", "10.0.1.4:50000", "10.0.1.5:22")
    inbound = flow_verdict(vm("VM2", nsg1=rules), "Inbound", "TCP", "10.0.1.5:22", "10.0.1.4:50000")
    assert (out.access, out.hop, out.rule_name) == ("Deny", "subnet", "securityRules/Deny-All-Outbound")
    assert (inbound.access, inbound.hop, inbound.rule_name) == ("Deny", "subnet", "securityRules/Deny-All-Inbound")
