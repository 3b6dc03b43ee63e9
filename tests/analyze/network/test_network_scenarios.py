"""The lab scenarios' network data (``kit/lab/scenarios/<name>/resources.json``), read directly.

Each VM's network is built the way a bundle holds it: the VM's own NICs plus the NSGs, VNets
(with subnets), route tables and public IPs around it; effective rules and routes are computed by
the lab (as the collector would fetch them from a running VM).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kit.analyze.activity import operations
from kit.analyze.network import diff_network, network_from_dicts, next_hop, ssh_rdp_verdicts

SCENARIOS = Path(__file__).resolve().parents[3] / "kit" / "lab" / "scenarios"
PRESENT = sorted(p.parent.name for p in SCENARIOS.glob("*/resources.json"))


def _scenario(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    folder = SCENARIOS / name
    if not (folder / "resources.json").is_file():
        pytest.skip(f"scenario {name} has not been rendered into {folder} yet")
    info = yaml.safe_load((folder / "scenario.yaml").read_text())
    resources = json.loads((folder / "resources.json").read_text())["value"]
    return info, resources


def _of(resources, kind: str) -> list[dict[str, Any]]:
    return [r for r in resources if str(r.get("type", "")).lower() == kind.lower()]


def vm_network(name: str, vm_name: str, *, effective: bool = True):
    _, resources = _scenario(name)
    vms = [*_of(resources, "Microsoft.Compute/virtualMachines"),  # a scale set's instances are VMs here
           *_of(resources, "Microsoft.Compute/virtualMachineScaleSets/virtualMachines")]
    vm = next(r for r in vms if r["name"] == vm_name)
    nic_ids = {ref["id"].lower() for ref in vm["properties"]["networkProfile"]["networkInterfaces"]}
    nics = [r for r in resources if r["id"].lower() in nic_ids]  # an instance's NICs live under its scale set
    eff_nsgs = eff_routes = None
    if effective:
        from kit.lab import effective as lab_effective

        index = {r["id"].lower(): r for r in resources}
        for vnet in _of(resources, "Microsoft.Network/virtualNetworks"):
            for sub in vnet["properties"].get("subnets", []):
                index[sub["id"].lower()] = sub
        lookup = lambda resource_id: index.get(resource_id.lower())  # noqa: E731
        eff_nsgs = {nic["name"]: lab_effective.effective_security_groups(nic, lookup) for nic in nics}
        eff_routes = {nic["name"]: lab_effective.effective_routes(nic, lookup) for nic in nics}
    return network_from_dicts(
        nics=nics, nsgs=_of(resources, "Microsoft.Network/networkSecurityGroups"),
        vnets=_of(resources, "Microsoft.Network/virtualNetworks"),
        route_tables=_of(resources, "Microsoft.Network/routeTables"),
        public_ips=_of(resources, "Microsoft.Network/publicIPAddresses"),
        effective_nsgs=eff_nsgs, effective_routes=eff_routes, vm=vm, name=vm_name)


def _port(info: dict[str, Any]) -> int:
    return 3389 if str((info.get("guest") or {}).get("os", "linux")).lower() == "windows" else 22


@pytest.mark.parametrize("name", PRESENT or ["(none rendered yet)"])
def test_every_known_good_peer_is_reachable(name):
    if not PRESENT:
        pytest.skip("no lab scenario has been rendered yet")
    info, _ = _scenario(name)
    port = _port(info)
    for peer in info["known_good"]:
        for effective in (True, False):
            verdict = ssh_rdp_verdicts(vm_network(name, peer, effective=effective), info["responder_ip"])[port]
            # alone, a peer routing through an appliance the bundle does not show is "uncertain"
            assert verdict.access == "Allow" and verdict.reachable is not False, (name, peer, verdict.explain())
    if len(info["known_good"]) > 0 and info["broken_vm"]:
        subject = vm_network(name, info["broken_vm"])
        if subject.nics and subject.primary_nic.primary_ip_configuration.private_ip:
            diff = diff_network(subject, [vm_network(name, p) for p in info["known_good"]],
                                responder_ip=info["responder_ip"])
            for peer, verdicts in diff.peer_verdicts.items():
                assert verdicts[port].reachable is True, (name, peer, verdicts[port].explain())


@pytest.mark.parametrize("name", PRESENT or ["(none rendered yet)"])
def test_effective_and_configuration_agree_for_every_vm(name):
    if not PRESENT:
        pytest.skip("no lab scenario has been rendered yet")
    info, _ = _scenario(name)
    for vm_name in [info["broken_vm"], *info["known_good"]]:
        net = vm_network(name, vm_name)
        for port, verdict in ssh_rdp_verdicts(net, info["responder_ip"]).items():
            assert verdict.flow.cross_check is None, (name, vm_name, port, verdict.flow.cross_check)
            assert verdict.route.cross_check is None, (name, vm_name, port, verdict.route.cross_check)


def test_nsg_deny_broken_vm_is_denied_by_a_custom_rule_and_peers_are_allowed():
    info, resources = _scenario("nsg-deny")
    port = _port(info)
    broken = ssh_rdp_verdicts(vm_network("nsg-deny", info["broken_vm"]), info["responder_ip"])[port]
    assert broken.access == "Deny" and broken.reachable is False
    assert broken.flow.rule_name.startswith("securityRules/"), broken.flow.explain()
    expected_rule = (info.get("facts") or {}).get("rule")
    if expected_rule:
        assert broken.flow.rule_name == f"securityRules/{expected_rule}"
    for peer in info["known_good"]:
        assert ssh_rdp_verdicts(vm_network("nsg-deny", peer), info["responder_ip"])[port].access == "Allow"
    # offline (deallocated-style) gives the same answer
    offline = ssh_rdp_verdicts(vm_network("nsg-deny", info["broken_vm"], effective=False), info["responder_ip"])[port]
    assert (offline.access, offline.flow.rule_name) == (broken.access, broken.flow.rule_name)
    # the diff against the peers explains it, and links the change when the Activity Log has it
    diff = diff_network(vm_network("nsg-deny", info["broken_vm"]),
                        [vm_network("nsg-deny", p) for p in info["known_good"]], responder_ip=info["responder_ip"],
                        operations=operations(json.loads((SCENARIOS / "nsg-deny" / "activity_log.json").read_text())))
    assert diff.explaining, [d.description for d in diff.differences]
    assert any(port in d.ports for d in diff.explaining)


def test_route_blackhole_next_hop_for_the_responder_is_dead_or_dropped():
    info, _ = _scenario("route-blackhole")
    broken = vm_network("route-blackhole", info["broken_vm"])
    hop = next_hop(broken, info["responder_ip"])
    assert hop.dropped or hop.suspect, hop.explain()
    assert hop.route is not None and hop.route.source == "User"
    verdict = ssh_rdp_verdicts(broken, info["responder_ip"])[_port(info)]
    assert verdict.access == "Allow" and verdict.reachable is not True
    facts = info.get("facts") or {}
    if facts.get("next_hop_ip"):
        assert (hop.next_hop_type, hop.next_hop_ip) == (facts["next_hop_type"], facts["next_hop_ip"])
        assert hop.route.name == facts["route"]
    for peer in info["known_good"]:
        assert next_hop(vm_network("route-blackhole", peer), info["responder_ip"]).delivers is not False
    ops = operations(json.loads((SCENARIOS / "route-blackhole" / "activity_log.json").read_text()))
    diff = diff_network(broken, [vm_network("route-blackhole", p) for p in info["known_good"]],
                        responder_ip=info["responder_ip"], operations=ops)
    assert diff.subject_verdicts[_port(info)].reachable is None  # its appliance is not the peers' one
    top = diff.explaining[0]
    assert top.kind in ("route:changed", "route:added") and top.item == "0.0.0.0/0", \
        [d.description for d in diff.explaining]
    assert "reachable" in top.after[_port(info)]  # with the peers' route the replies get back
    deleted = [op for op in ops if op.operation_name.lower().endswith("/networkinterfaces/delete")]
    if deleted:  # the appliance's NIC was deleted in the window: the route difference points at it
        assert top.operation is deleted[-1] and "appliance" in top.operation_note


def test_firewall_lockout_ssh_is_allowed_by_azure():
    info, _ = _scenario("firewall-lockout")
    net = vm_network("firewall-lockout", info["broken_vm"])
    verdict = ssh_rdp_verdicts(net, info["responder_ip"])[22]
    assert verdict.access == "Allow" and verdict.reachable is True, verdict.explain()
    assert verdict.flow.rule_name == "securityRules/Allow-SSH-Campus"
    diff = diff_network(net, [vm_network("firewall-lockout", p) for p in info["known_good"]],
                        responder_ip=info["responder_ip"])
    assert not diff.explaining, [d.description for d in diff.explaining]  # the fault is in the guest
