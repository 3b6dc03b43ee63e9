"""Property-based tests of the evaluator (hypothesis)."""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from network_build import network, nic, nsg, rule, subnet, vnet

from kit.analyze.network import flow_verdict, select_route
from kit.analyze.network._model import Route

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

addresses = st.one_of(
    st.sampled_from(["10.0.0.5", "10.0.1.7", "192.168.1.1", "203.0.113.7", "8.8.8.8", "168.63.129.16", "172.16.5.5"]),
    st.integers(min_value=1, max_value=2**32 - 2).map(lambda n: str(ipaddress.IPv4Address(n))),
)
ports = st.integers(min_value=0, max_value=65535)
prefixes = st.one_of(
    st.sampled_from(["*", "VirtualNetwork", "Internet", "AzureLoadBalancer", "10.0.0.0/8", "203.0.113.0/24"]),
    st.tuples(addresses, st.integers(min_value=8, max_value=32)).map(
        lambda t: str(ipaddress.ip_network(f"{t[0]}/{t[1]}", strict=False))),
)
port_specs = st.one_of(
    st.just("*"), ports.map(str),
    st.tuples(ports, ports).map(lambda t: f"{min(t)}-{max(t)}"),
)


@st.composite
def rule_sets(draw, min_size=0, max_size=8):
    count = draw(st.integers(min_value=min_size, max_value=max_size))
    priorities = draw(st.lists(st.integers(min_value=100, max_value=4096), min_size=count, max_size=count, unique=True))
    rules = []
    for index, priority in enumerate(priorities):
        rules.append(rule(
            f"r{index}", priority,
            direction=draw(st.sampled_from(["Inbound", "Outbound"])),
            access=draw(st.sampled_from(["Allow", "Deny"])),
            protocol=draw(st.sampled_from(["Tcp", "Udp", "*", "Icmp"])),
            src=draw(prefixes), dst=draw(prefixes), sport=draw(port_specs), dport=draw(port_specs),
        ))
    return rules


flows = st.tuples(st.sampled_from(["Inbound", "Outbound"]), st.sampled_from(["TCP", "UDP"]), ports, addresses, ports)


def vm(nic_rules=None, subnet_rules=None):
    nsgs = []
    if nic_rules is not None:
        nsgs.append(nsg("nic-nsg", *nic_rules))
    if subnet_rules is not None:
        nsgs.append(nsg("subnet-nsg", *subnet_rules))
    return network(nic("vm-nic", "10.0.0.4", "default", nsg="nic-nsg" if nic_rules is not None else None),
                   nsgs=tuple(nsgs),
                   subnets=(subnet("vnet1", "default", "10.0.0.0/24",
                                   nsg="subnet-nsg" if subnet_rules is not None else None),),
                   vnets=(vnet("vnet1", "10.0.0.0/16"),))


def _nic_hop(verdict):
    return next(hop for hop in verdict.trace if hop.hop == "nic")


def ask(net, flow):
    direction, protocol, local_port, remote, remote_port = flow
    return flow_verdict(net, direction, protocol, f"10.0.0.4:{local_port}", f"{remote}:{remote_port}")


@SETTINGS
@given(rules=rule_sets(), flow=flows, data=st.data())
def test_rule_order_does_not_matter_when_priorities_are_unique(rules, flow, data):
    shuffled = data.draw(st.permutations(rules))
    first = ask(vm(nic_rules=rules), flow)
    second = ask(vm(nic_rules=shuffled), flow)
    assert (first.access, first.rule_name) == (second.access, second.rule_name)
    across = ask(vm(subnet_rules=rules, nic_rules=[]), flow)
    across_shuffled = ask(vm(subnet_rules=shuffled, nic_rules=[]), flow)
    assert [(h.access, h.rule_name) for h in across.trace] == [(h.access, h.rule_name) for h in across_shuffled.trace]


@SETTINGS
@given(rules=rule_sets(min_size=1), flow=flows)
def test_default_rules_only_decide_when_no_custom_rule_matches(rules, flow):
    verdict = ask(vm(nic_rules=rules), flow)
    decided = _nic_hop(verdict)
    assert decided.rule_name is not None
    if decided.rule_name.startswith("defaultSecurityRules/"):
        # no custom rule of this direction can match: putting each alone in front of nothing changes nothing
        for candidate in rules:
            alone = ask(vm(nic_rules=[candidate]), flow)
            assert _nic_hop(alone).rule_name.startswith("defaultSecurityRules/")
    else:
        assert decided.priority <= 4096


@SETTINGS
@given(rules=rule_sets(), flow=flows, priority=st.integers(min_value=100, max_value=4096),
       access=st.sampled_from(["Allow", "Deny"]))
def test_a_catch_all_custom_rule_beats_every_default(rules, flow, priority, access):
    direction = flow[0]
    others = [r for r in rules if r["properties"]["priority"] > priority]
    catch_all = rule("catch-all", priority, direction=direction, access=access, protocol="*")
    verdict = ask(vm(nic_rules=[*others, catch_all]), flow)
    assert (verdict.access, verdict.rule_name) == (access, "securityRules/catch-all")


@SETTINGS
@given(flow=flows)
def test_no_nsg_anywhere_allows(flow):
    verdict = ask(vm(), flow)
    assert (verdict.access, verdict.rule_name, verdict.nsg_id, verdict.hop) == ("Allow", None, None, None)
    assert all(h.access == "Allow" and h.nsg_id is None for h in verdict.trace)


@SETTINGS
@given(rules=rule_sets(), flow=flows)
def test_a_hop_without_nsg_does_not_change_the_answer(rules, flow):
    only_nic = ask(vm(nic_rules=rules), flow)
    only_subnet = ask(vm(subnet_rules=rules), flow)
    assert (only_nic.access, only_nic.rule_name) == (only_subnet.access, only_subnet.rule_name)


@SETTINGS
@given(rules=rule_sets(), flow=flows)
def test_both_hops_must_allow(rules, flow):
    both = ask(vm(nic_rules=rules, subnet_rules=rules), flow)
    single = ask(vm(nic_rules=rules), flow)
    assert both.access == single.access


route_specs = st.lists(
    st.tuples(addresses, st.integers(min_value=0, max_value=32),
              st.sampled_from(["User", "Default", "VirtualNetworkGateway"]),
              st.sampled_from(["VirtualAppliance", "Internet", "None", "VirtualNetworkGateway"])),
    min_size=1, max_size=10,
)


@SETTINGS
@given(specs=route_specs, destination=addresses)
def test_next_hop_is_the_longest_matching_prefix(specs, destination):
    routes = [Route(str(ipaddress.ip_network(f"{a}/{n}", strict=False)), hop, source=source)
              for a, n, source, hop in specs]
    chosen = select_route(routes, destination)
    matching = [r for r in routes if ipaddress.ip_address(destination) in r.network]
    if not matching:
        assert chosen is None
        return
    assert chosen.network.prefixlen == max(r.network.prefixlen for r in matching)
    same = [r for r in matching if r.network == chosen.network]
    rank = {"User": 0, "VirtualNetworkGateway": 1, "Default": 2}
    assert rank[chosen.source] == min(rank[r.source] for r in same)
