"""``kit analyze flow`` and ``kit analyze diff`` over bundles written by the kit's own writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from network_build import SUB, nic, nsg, nsg_id, rule, subnet, vnet

from kit.cli import main
from kit.evidence import BundleWriter
from kit.evidence.manifest import new_manifest

RESPONDER = "203.0.113.7"
ALLOW_SSH = rule("allow-ssh", 300, dport="22", src="Internet")


def write_bundle(root: Path, name: str, ip: str, rules, *, role="subject", peers=(), activity=(),
                 effective=None) -> Path:
    nsg_name = f"{name}-nsg"
    with BundleWriter(root / name) as writer:
        writer.add_json(f"nics/{name}-nic.json", nic(f"{name}-nic", ip, "default", nsg=nsg_name),
                        call="network_interfaces.get")
        writer.add_json(f"nsgs/{nsg_name}.json", nsg(nsg_name, *rules), call="network_security_groups.get")
        writer.add_json("subnets/default.json", subnet("vnet1", "default", "10.0.0.0/24"), call="subnets.get")
        writer.add_json("vnets/vnet1.json", vnet("vnet1", "10.0.0.0/16"), call="virtual_networks.get")
        writer.add_json("activity_log.json", {"value": list(activity)}, call="activity_logs.list")
        if effective is not None:
            writer.add_json(f"effective_nsg/{name}-nic.json", effective, call="network_interfaces.list_effective")
        manifest = new_manifest(source="import", subscription_id=SUB, resource_group="rg1", vm_name=name,
                                vm_id=f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/{name}",
                                window={"start": "2026-11-25T09:00:00Z", "end": "2026-11-25T11:00:00Z"},
                                role=role, peers=list(peers))
        return writer.commit(manifest)


@pytest.fixture()
def bundles(tmp_path):
    deny = rule("deny-ssh", 200, access="Deny", dport="22", protocol="*")
    resource = f"{nsg_id('web1-nsg')}/securityRules/deny-ssh"
    activity = [
        {"correlationId": "c9", "eventTimestamp": "2026-11-25T09:41:00Z", "status": {"value": "Succeeded"},
         "operationName": {"value": "Microsoft.Network/networkSecurityGroups/securityRules/write"},
         "caller": "bob@contoso.com", "resourceId": resource, "level": "Informational"},
    ]
    subject = write_bundle(tmp_path, "web1", "10.0.0.4", (deny, ALLOW_SSH), peers=("web2",), activity=activity)
    peer = write_bundle(tmp_path, "web2", "10.0.0.5", (ALLOW_SSH,), role="known-good", peers=("web1",))
    return subject, peer


def test_flow_human_output(bundles, capsys):
    code = main(["analyze", "flow", str(bundles[0]), "--direction", "Inbound", "--protocol", "TCP",
                 "--local", "10.0.0.4:22", "--remote", f"{RESPONDER}:50000"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == "Deny  securityRules/deny-ssh"
    assert "NSG web1-nsg" in out and "configuration" in out


def test_flow_json_output(bundles, capsys):
    code = main(["analyze", "flow", str(bundles[1]), "--direction", "inbound", "--local", "10.0.0.5:22",
                 "--remote", f"{RESPONDER}:50000", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (data["access"], data["rule_name"], data["hop"], data["vm"]) == \
        ("Allow", "securityRules/allow-ssh", "nic", "web2")


def test_diff_uses_manifest_peers_and_links_the_operation(bundles, capsys):
    code = main(["analyze", "diff", str(bundles[0]), "--responder", RESPONDER])
    out = capsys.readouterr().out
    assert code == 0
    assert "web1 against web2; responder 203.0.113.7" in out
    assert "SSH (22)\n    web1: blocked, Deny by securityRules/deny-ssh" in out and "web2: reachable" in out
    changing = out.split("Differences that change the SSH/RDP verdict:")[1].split("Other differences")[0]
    assert "[nsg_rule:added]" in changing and "deny-ssh" in changing
    assert ("introduced by Microsoft.Network/networkSecurityGroups/securityRules/write"
            " at 2026-11-25T09:41:00Z by bob@contoso.com") in changing


def test_diff_json_with_against(bundles, capsys):
    code = main(["analyze", "diff", str(bundles[0]), "--against", str(bundles[1]), "--responder", RESPONDER, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    first = data["differences"][0]
    assert (first["kind"], first["item"], first["changes_verdict"], first["ports"]) == \
        ("nsg_rule:added", "deny-ssh", True, [22])
    assert first["operation"]["caller"] == "bob@contoso.com"
    assert data["subject_verdicts"]["22"]["reachable"] is False


def test_diff_without_responder_uses_an_internet_stand_in(bundles, capsys):
    assert main(["analyze", "diff", str(bundles[0])]) == 0
    assert "Internet stand-in" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "code", "words"), [
    (["--direction", "Sideways", "--local", "10.0.0.4:22", "--remote", "1.2.3.4:5"], 2, "direction"),
    (["--direction", "Inbound", "--local", "10.0.0.9:22", "--remote", "1.2.3.4:5"], 1, "not an address of web1"),
    (["--direction", "Inbound", "--local", "10.0.0.4:x", "--remote", "1.2.3.4:5"], 2, "port"),
])
def test_flow_bad_input_is_one_line(bundles, capsys, argv, code, words):
    assert main(["analyze", "flow", str(bundles[0]), *argv]) == code
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and "Traceback" not in err


def test_broken_json_in_a_bundle_names_the_file(tmp_path, capsys):
    broken = write_bundle(tmp_path, "bad", "10.0.0.4", ())
    nsg_file = broken / "nsgs" / "bad-nsg.json"
    body = json.loads(nsg_file.read_text())
    body["properties"]["securityRules"] = [rule("r", 100, dport="22-")]
    # rewrite through a fresh writer so the hashes stay valid: the content is what is broken
    with BundleWriter(tmp_path / "bad2") as writer:
        for path in broken.rglob("*.json"):
            relative = path.relative_to(broken).as_posix()
            if relative != "manifest.json":
                writer.add_json(relative, body if relative == "nsgs/bad-nsg.json" else json.loads(path.read_text()),
                                call="test")
        writer.commit(json.loads((broken / "manifest.json").read_text()))
    assert main(["analyze", "flow", str(tmp_path / "bad2"), "--direction", "Inbound", "--local", "10.0.0.4:22",
                 "--remote", "1.2.3.4:5"]) == 1
    err = capsys.readouterr().err
    assert "nsgs/bad-nsg.json" in err and "'22-'" in err and "Traceback" not in err


def test_diff_without_peers_is_a_usage_error(tmp_path, capsys):
    alone = write_bundle(tmp_path, "alone", "10.0.0.4", ())
    assert main(["analyze", "diff", str(alone)]) == 2
    assert "--against" in capsys.readouterr().err
