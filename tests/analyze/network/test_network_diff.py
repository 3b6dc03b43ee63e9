"""Diff against known-good peers: which differences break SSH/RDP, and which change made them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from network_build import nic, nsg, nsg_id, route, route_table, rt_id, rule, subnet, vnet

from kit.analyze.activity import operations
from kit.analyze.network import diff_network, network_from_dicts
from kit.errors import AnalysisError

RESPONDER = "203.0.113.7"
ALLOW_SSH = rule("allow-ssh", 300, dport="22", src=RESPONDER)
ALLOW_RDP = rule("allow-rdp", 310, dport="3389", src=RESPONDER)


def vm(name, ip, *, nic_nsg=None, nsgs=(), subnet_name="default", subnet_nsg="subnet-nsg", route_tables=(),
       subnet_rt=None, **nic_props):
    return network_from_dicts(
        nics=[nic(f"{name}-nic", ip, subnet_name, nsg=nic_nsg, **nic_props)],
        nsgs=[nsg("subnet-nsg", ALLOW_SSH, ALLOW_RDP), *nsgs],
        subnets=[subnet("vnet1", subnet_name, "10.0.0.0/24" if subnet_name == "default" else "10.0.1.0/24",
                        nsg=subnet_nsg, route_table=subnet_rt)],
        vnets=[vnet("vnet1", "10.0.0.0/16")], route_tables=list(route_tables), name=name)


def record(correlation, when, operation, resource_id, status="Succeeded", caller="alice@contoso.com"):
    return {"correlationId": correlation, "eventTimestamp": when, "operationName": {"value": operation},
            "status": {"value": status}, "caller": caller, "resourceId": resource_id,
            "category": {"value": "Administrative"}, "level": "Informational"}


def test_extra_deny_rule_on_the_subject_changes_ssh_and_is_linked_to_its_write():
    deny = rule("deny-ssh-temp", 200, access="Deny", dport="22", protocol="*")
    subject = vm("web1", "10.0.0.4", nic_nsg="web1-nsg", nsgs=(nsg("web1-nsg", deny, ALLOW_SSH, ALLOW_RDP),))
    peers = [vm(f"web{n}", f"10.0.0.{n + 3}", nic_nsg=f"web{n}-nsg", nsgs=(nsg(f"web{n}-nsg", ALLOW_SSH, ALLOW_RDP),))
             for n in (2, 3)]
    rule_resource = f"{nsg_id('web1-nsg')}/securityRules/deny-ssh-temp"
    ops = operations([
        record("c0", "2026-11-24T08:00:00Z", "Microsoft.Network/networkSecurityGroups/securityRules/write",
               rule_resource),
        record("c1", "2026-11-25T09:58:00Z", "Microsoft.Network/networkSecurityGroups/securityRules/write",
               rule_resource, "Started"),
        record("c1", "2026-11-25T09:58:05Z", "Microsoft.Network/networkSecurityGroups/securityRules/write",
               rule_resource),
        record("c2", "2026-11-25T09:59:00Z", "Microsoft.Compute/virtualMachines/restart/action",
               "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg1"
               "/providers/Microsoft.Compute/virtualMachines/web1"),
    ])
    window = (datetime(2026, 11, 25, 9, 0, tzinfo=UTC), datetime(2026, 11, 25, 11, 0, tzinfo=UTC))
    diff = diff_network(subject, peers, responder_ip=RESPONDER, operations=ops, window=window)
    assert diff.subject_verdicts[22].flow.rule_name == "securityRules/deny-ssh-temp"
    assert diff.subject_verdicts[22].reachable is False and diff.subject_verdicts[3389].reachable is True
    assert all(v[22].reachable for v in diff.peer_verdicts.values())
    top = diff.differences[0]
    assert (top.kind, top.item, top.changes_verdict, top.ports) == ("nsg_rule:added", "deny-ssh-temp", True, (22,))
    assert set(top.peers) == {"web2", "web3"}
    assert "deny-ssh-temp" in top.before[22] and "reachable" in top.after[22]
    assert top.operation is not None and top.operation.correlation_id == "c1"  # c0 is outside the window
    assert top.operation.caller == "alice@contoso.com"
    assert diff.explaining == (top,)
    # private IPs differ from every peer but do not change the verdict
    private = [d for d in diff.differences if d.kind == "nic:private_ip"]
    assert len(private) == 2 and not any(d.changes_verdict for d in private)
    assert diff.to_json()["differences"][0]["operation"]["correlation_id"] == "c1"


def test_missing_allow_rule_is_found_against_the_peer():
    subject = vm("app1", "10.0.0.4", nic_nsg="app1-nsg", nsgs=(nsg("app1-nsg", ALLOW_RDP),))
    peer = vm("app2", "10.0.0.5", nic_nsg="app2-nsg", nsgs=(nsg("app2-nsg", ALLOW_SSH, ALLOW_RDP),))
    diff = diff_network(subject, [peer], responder_ip=RESPONDER)
    missing = diff.explaining[0]
    assert (missing.kind, missing.item, missing.subject_value, missing.ports) == \
        ("nsg_rule:missing", "allow-ssh", "absent", (22,))


def test_changed_rule_and_nic_nsg_association():
    narrowed = rule("allow-ssh", 300, dport="22", src="198.51.100.0/24")
    subject = vm("a", "10.0.0.4", nic_nsg="a-nsg", nsgs=(nsg("a-nsg", narrowed, ALLOW_RDP),))
    peer = vm("b", "10.0.0.5", nic_nsg="b-nsg", nsgs=(nsg("b-nsg", ALLOW_SSH, ALLOW_RDP),))
    no_nsg_peer = vm("c", "10.0.0.6")
    diff = diff_network(subject, [peer, no_nsg_peer], responder_ip=RESPONDER)
    kinds = {(d.kind, d.changes_verdict) for d in diff.differences}
    assert ("nsg_rule:changed", True) in kinds
    assert ("association:nic_nsg", True) in kinds  # taking peer c's "no NIC NSG" restores SSH


def test_route_table_with_blackhole_route():
    dead = route_table("rt-dead", route("default-via-fw", "0.0.0.0/0", "VirtualAppliance", "10.0.9.4"))
    good = route_table("rt-good", route("office", "198.51.100.0/24", "Internet"))
    subject = vm("s", "10.0.1.4", subnet_name="backend", route_tables=(dead,), subnet_rt="rt-dead")
    peer = vm("p", "10.0.0.5", route_tables=(good,), subnet_rt="rt-good")
    diff = diff_network(subject, [peer], responder_ip=RESPONDER)
    assert diff.subject_verdicts[22].reachable is None  # allowed, but replies go to an appliance nobody owns
    assert diff.subject_verdicts[22].route.next_hop_type == "VirtualAppliance"
    explaining = {(d.kind, d.item) for d in diff.explaining}
    assert ("route:added", "0.0.0.0/0") in explaining and ("association:subnet", "subnet") in explaining
    assert diff.explaining[0].kind == "route:added"  # the route says more than the subnet move
    no_table = vm("q", "10.0.0.6")
    diff = diff_network(subject, [no_table], responder_ip=RESPONDER)
    assert "association:route_table" in {d.kind for d in diff.explaining}


def test_route_differences_inside_one_route_table_resource_pair():
    subject_rt = route_table("rt1", route("default", "0.0.0.0/0", "None"), disable_bgp=True)
    peer_rt = route_table("rt1", route("default", "0.0.0.0/0", "Internet"))
    subject = vm("s", "10.0.0.4", route_tables=(subject_rt,), subnet_rt="rt1")
    peer = vm("p", "10.0.0.5", route_tables=(peer_rt,), subnet_rt="rt1")
    diff = diff_network(subject, [peer], responder_ip=RESPONDER)
    changed = [d for d in diff.differences if d.kind == "route:changed"]
    assert changed and changed[0].changes_verdict and changed[0].ports == (22, 3389)
    assert changed[0].resource_id == rt_id("rt1")
    bgp = [d for d in diff.differences if d.kind == "route_table:bgp_propagation"]
    assert bgp and not bgp[0].changes_verdict


def test_nic_settings_are_compared():
    subject = vm("s", "10.0.0.4", enableIPForwarding=True, enableAcceleratedNetworking=True,
                 dnsSettings={"dnsServers": ["10.0.0.10"]}, asgs=("AsgWeb",))
    peer = vm("p", "10.0.0.5")
    kinds = {d.kind for d in diff_network(subject, [peer], responder_ip=RESPONDER).differences}
    assert {"nic:ip_forwarding", "nic:accelerated_networking", "nic:dns_servers", "nic:asgs", "nic:private_ip"} <= kinds


def test_identical_vms_have_only_their_addresses_differing():
    diff = diff_network(vm("a", "10.0.0.4"), [vm("b", "10.0.0.5")], responder_ip=RESPONDER)
    assert [d.kind for d in diff.differences] == ["nic:private_ip"]
    assert not diff.explaining


def test_diff_needs_peers():
    with pytest.raises(AnalysisError, match="at least one known-good peer"):
        diff_network(vm("a", "10.0.0.4"), [], responder_ip=RESPONDER)


def test_route_to_a_vanished_appliance_is_linked_to_the_nic_deletion():
    dead = route_table("rt-b", route("default-via-nva", "0.0.0.0/0", "VirtualAppliance", "10.0.9.4"))
    subject = vm("s", "10.0.1.4", subnet_name="backend", route_tables=(dead,), subnet_rt="rt-b")
    good = route_table("rt-a", route("office", "198.51.100.0/24", "Internet"))
    peer = vm("p", "10.0.0.5", route_tables=(good,), subnet_rt="rt-a")
    nic_resource = ("/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg1"
                    "/providers/Microsoft.Network/networkInterfaces/nva-01-nic")
    ops = operations([
        record("d1", "2026-11-25T10:00:00Z", "Microsoft.Network/networkInterfaces/delete", nic_resource),
        record("d0", "2026-11-20T10:00:00Z", "Microsoft.Network/networkInterfaces/delete", nic_resource + "x"),
    ])
    window = (datetime(2026, 11, 25, 9, 0, tzinfo=UTC), datetime(2026, 11, 25, 11, 0, tzinfo=UTC))
    diff = diff_network(subject, [peer], responder_ip=RESPONDER, operations=ops, window=window)
    top = diff.explaining[0]
    assert (top.kind, top.item) == ("route:added", "0.0.0.0/0")
    assert top.operation.correlation_id == "d1" and "10.0.9.4" in top.operation_note
    assert diff.to_json()["differences"][0]["operation_note"] == top.operation_note
    without_table = diff_network(subject, [vm("q", "10.0.0.6")], responder_ip=RESPONDER, operations=ops, window=window)
    association = next(d for d in without_table.explaining if d.kind == "association:route_table")
    assert association.operation.correlation_id == "d1"
