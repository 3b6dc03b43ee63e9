"""Network facts that hold: one responder option, verdict-changing differences without a responder,
a stopped VM is never reachable, and a VM is judged on its own OS's port unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from network_build import SUB, nic, nsg, rule, subnet, vnet

from kit.analyze.network import diff_network, load_network, ssh_rdp_verdicts
from kit.cli import main
from kit.evidence import BundleWriter, load_bundle
from kit.evidence.manifest import new_manifest
from kit.report.sections import network_section

ALLOW_SSH = rule("allow-ssh", 300, dport="22", src="*")
DENY_SSH_INTERNET = rule("Deny-SSH-Inbound", 200, access="Deny", dport="22", src="Internet")
DENY_SSH_VNET = rule("deny-ssh-vnet", 210, access="Deny", dport="22", src="VirtualNetwork")


def vm_body(name: str, os_type: str | None) -> dict:
    storage = {"osDisk": {"osType": os_type}} if os_type else {}
    return {"name": name, "properties": {"storageProfile": storage, "networkProfile": {"networkInterfaces": [
        {"id": f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/{name}-nic"}]}}}


def write_bundle(root: Path, name: str, ip: str, rules, *, role="subject", peers=(), os_type=None,
                 power="running") -> Path:
    with BundleWriter(root / name) as writer:
        writer.add_json(f"nics/{name}-nic.json", nic(f"{name}-nic", ip, "default", nsg=f"{name}-nsg"),
                        call="network_interfaces.get")
        writer.add_json(f"nsgs/{name}-nsg.json", nsg(f"{name}-nsg", *rules), call="network_security_groups.get")
        writer.add_json("subnets/default.json", subnet("vnet1", "default", "10.0.0.0/24"), call="subnets.get")
        writer.add_json("vnets/vnet1.json", vnet("vnet1", "10.0.0.0/16"), call="virtual_networks.get")
        writer.add_json("vm.json", vm_body(name, os_type), call="virtual_machines.get")
        writer.add_json("instance_view.json", {"statuses": [{"code": f"PowerState/{power}"}]},
                        call="virtual_machines.instance_view")
        manifest = new_manifest(source="import", subscription_id=SUB, resource_group="rg1", vm_name=name,
                                vm_id=f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Compute/"
                                f"virtualMachines/{name}", role=role, peers=list(peers),
                                window={"start": "2026-11-25T09:00:00Z", "end": "2026-11-25T11:00:00Z"})
        return writer.commit(manifest)


def pair(root: Path, subject_rules, *, os_type=None, power="running") -> tuple[Path, Path]:
    subject = write_bundle(root, "web1", "10.0.0.4", subject_rules, peers=("web2",), os_type=os_type, power=power)
    peer = write_bundle(root, "web2", "10.0.0.5", (ALLOW_SSH,), role="known-good", peers=("web1",), os_type=os_type)
    return subject, peer


def nets(paths):
    return [load_network(load_bundle(p)) for p in paths]


# 1. one responder option -----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["diff", "verdict"])
@pytest.mark.parametrize("spelling", ["--responder-ip", "--responder"])
def test_both_spellings_of_the_responder_option_work(tmp_path, capsys, command, spelling):
    subject, _ = pair(tmp_path, (DENY_SSH_INTERNET, ALLOW_SSH))
    assert main(["analyze", command, str(subject), spelling, "203.0.113.7"]) == 0
    assert "203.0.113.7" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["diff", "verdict"])
def test_help_documents_one_responder_rule(capsys, command):
    with pytest.raises(SystemExit):
        main(["analyze", command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--responder-ip IP, --responder IP" in text
    assert "the lab scenario's for lab bundles, else none" in text


# 2. verdict-changing differences without a responder -----------------------------------------------


def test_without_a_responder_each_difference_is_judged_from_every_source(tmp_path):
    subject, peer = nets(pair(tmp_path, (DENY_SSH_INTERNET, DENY_SSH_VNET, ALLOW_SSH)))
    result = diff_network(subject, [peer])
    assert not result.responder_given and {"the Internet", "the VNet", "AzureLoadBalancer"} <= set(result.sources)
    by_rule = {d.item: d for d in result.explaining}
    internet = {c.source for c in by_rule["Deny-SSH-Inbound"].changes}
    assert "the Internet" in internet and "the VNet" not in internet
    assert {c.source for c in by_rule["deny-ssh-vnet"].changes} == {"the VNet"}


def test_with_a_responder_only_its_verdict_decides(tmp_path):
    subject, peer = nets(pair(tmp_path, (DENY_SSH_INTERNET, DENY_SSH_VNET, ALLOW_SSH)))
    result = diff_network(subject, [peer], responder_ip="203.0.113.7")
    vnet_rule = next(d for d in result.differences if d.item == "deny-ssh-vnet")
    assert not vnet_rule.changes_verdict  # the responder is on the Internet …
    assert {c.source for c in vnet_rule.changes} == {"the VNet"}  # … but the VNet's verdict moves, and says so
    assert [d.item for d in result.explaining] == ["Deny-SSH-Inbound"]


def test_cli_diff_without_a_responder_names_the_sources(tmp_path, capsys):
    subject, _ = pair(tmp_path, (DENY_SSH_INTERNET, ALLOW_SSH))
    assert main(["analyze", "diff", str(subject)]) == 0
    out = capsys.readouterr().out
    assert "Differences that change the SSH/RDP verdict for some source: 1" in out
    assert "from the Internet (203.0.113.10), SSH: blocked" in out


# 3. a page comparing two VMs never says there is no known-good VM ---------------------------------------


def test_network_section_compares_the_manifest_peers_when_no_diff_was_computed(tmp_path):
    subject, _ = pair(tmp_path, (DENY_SSH_INTERNET, ALLOW_SSH))
    page = str(network_section({}, None, load_bundle(subject)))
    assert "No known-good VM was given" not in page
    assert "Deny-SSH-Inbound" in page and "web2 (known good)" in page


def test_network_section_without_peers_still_says_so(tmp_path):
    lone = write_bundle(tmp_path, "solo", "10.0.0.4", (ALLOW_SSH,))
    net = load_network(load_bundle(lone))
    assert "No known-good VM was given" in str(network_section(ssh_rdp_verdicts(net, "203.0.113.7"), None,
                                                                load_bundle(lone)))


# 4. power state and the OS's port --------------------------------------------------------------------


@pytest.mark.parametrize("power", ["deallocated", "stopped"])
def test_a_stopped_vm_is_never_reachable(tmp_path, capsys, power):
    subject, _ = pair(tmp_path, (ALLOW_SSH,), os_type="Linux", power=power)
    verdict = ssh_rdp_verdicts(load_network(load_bundle(subject)), "203.0.113.7")[22]
    assert verdict.access == "Allow" and verdict.reachable is False and verdict.reachability == "not running"
    assert main(["analyze", "diff", str(subject), "--responder-ip", "203.0.113.7"]) == 0
    out = capsys.readouterr().out
    assert f"web1: not running (the VM is {power})" in out
    page = str(network_section({}, None, load_bundle(subject)))
    assert "not running" in page and ">yes<" not in page.split("web2")[0]


def test_a_linux_vm_gets_no_rdp_rows_unless_asked(tmp_path, capsys):
    subject, _ = pair(tmp_path, (ALLOW_SSH,), os_type="Linux")
    main(["analyze", "diff", str(subject), "--responder-ip", "203.0.113.7"])
    out = capsys.readouterr().out
    assert "SSH (22)" in out and "RDP (3389)" not in out
    main(["analyze", "diff", str(subject), "--responder-ip", "203.0.113.7", "--ports", "22,3389"])
    assert "RDP (3389)" in capsys.readouterr().out
    assert "3389" not in str(network_section({}, None, load_bundle(subject)))


def test_a_windows_vm_gets_no_ssh_rows(tmp_path, capsys):
    subject, _ = pair(tmp_path, (ALLOW_SSH,), os_type="Windows")
    main(["analyze", "diff", str(subject), "--responder-ip", "203.0.113.7"])
    out = capsys.readouterr().out
    assert "RDP (3389)" in out and "SSH (22)" not in out


def test_a_bad_ports_option_is_a_usage_error(tmp_path):
    subject, _ = pair(tmp_path, (ALLOW_SSH,))
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", "diff", str(subject), "--ports", "ssh"])
    assert exit_info.value.code == 2
