"""Classification: every lab scenario's broken VM gets the right hypothesis and next step.

Bundles are collected once per session from the lab over HTTPS with the real collector, exactly
as a responder would collect them; the classifier then reads them offline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from answers import ANSWERS

from kit.analyze.verdict import Classification, classify
from kit.cli import main
from kit.errors import AnalysisError


def _scenario(scenario_bundles: dict[str, Any], name: str) -> tuple[Any, Any, list[Any]]:
    if name not in scenario_bundles:
        pytest.skip(f"scenario {name} is not in kit/lab/scenarios yet")
    return scenario_bundles[name]


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_broken_vm_gets_the_expected_hypothesis_and_next_step(scenario_bundles: dict[str, Any], name: str) -> None:
    info, subject, peers = _scenario(scenario_bundles, name)
    result = classify(subject, peers, responder_ip=info.responder_ip)
    answer = ANSWERS[name]
    assert (result.top.kind, result.top.next_step.kind) == (answer.hypothesis, answer.next_step), _explain(result)
    assert result.top.level == answer.level
    assert result.top.supporting, "the top hypothesis must show its evidence"
    assert not result.insufficient


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_known_good_peers_have_no_fault(scenario_bundles: dict[str, Any], name: str) -> None:
    info, subject, peers = _scenario(scenario_bundles, name)
    assert peers, f"{name} has known-good VMs"
    for peer in peers:
        result = classify(peer, [subject], responder_ip=info.responder_ip)
        assert (result.top.kind, result.top.next_step.kind, result.top.level) == ("no_fault_found", "none", "none"), \
            _explain(result)


def _explain(result: Classification) -> str:
    return "\n".join(f"{h.kind} {h.score:.2f}: {h.summary}" for h in result.hypotheses)


def test_guest_firewall_points_at_the_log_lines_and_the_console_commands(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles, "firewall-lockout")
    top = classify(subject, peers, responder_ip=info.responder_ip).top
    assert any(e.source == "boot_log" and e.evidence.startswith("serial.log:") for e in top.supporting)
    assert "sudo iptables -S INPUT" in top.next_step.commands
    assert any(c.startswith("sudo netfilter-persistent save") for c in top.next_step.commands)
    assert (f"az serial-console connect --subscription {info.subscription_id} -g {info.resource_group} "
            f"-n {info.broken_vm}") in top.next_step.text
    contradicted = {e.source for e in top.contradicting}
    assert "network" not in contradicted  # the NSG lets the responder in


def test_nsg_deny_names_the_rule_to_change(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles, "nsg-deny")
    top = classify(subject, peers, responder_ip=info.responder_ip).top
    details = top.next_step.details
    assert details["rule"] and details["nsg"]
    assert any("az network nsg rule" in c and details["nsg"] in c for c in top.next_step.commands)


def test_kernel_panic_hands_over_to_a_repair_vm(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles, "kernel-panic")
    top = classify(subject, peers, responder_ip=info.responder_ip).top
    target = f"--subscription {info.subscription_id} -g {info.resource_group} -n {info.broken_vm}"
    assert f"az vm repair create {target} --verbose" in top.next_step.commands
    assert (f"az vm repair run {target} --run-on-repair --run-id linux-alar2 --parameters kernel --verbose"
            in top.next_step.commands)


# ----------------------------------------------------------------- without the lab


def _bare_bundle(tmp_path: Path, *, role: str = "subject", serial: bytes | None = None) -> Any:
    from kit.evidence import load_bundle
    from kit.evidence.manifest import new_manifest
    from kit.evidence.writer import BundleWriter

    sub = "1f3a2b4c-0000-4000-8000-000000000001"
    manifest = new_manifest(source="import", subscription_id=sub, resource_group="rg", vm_name="vm1",
                            vm_id=f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
                            window={"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"}, role=role)
    with BundleWriter(tmp_path / "vm1") as writer:
        writer.add_json("instance_view.json",
                        {"statuses": [{"code": "PowerState/running", "displayStatus": "VM running"}]},
                        call="virtual_machines.instance_view")
        if serial is not None:
            writer.add_bytes("serial.log", serial, call="boot_diagnostics")
        path = writer.commit(manifest)
    return load_bundle(path)


def test_no_serial_log_and_no_network_is_insufficient_not_a_guess(tmp_path: Path) -> None:
    result = classify(_bare_bundle(tmp_path))
    assert result.insufficient
    assert result.top.kind == "insufficient_evidence" and result.top.level == "none"
    assert any("serial log" in m for m in result.missing)
    assert any("network" in m for m in result.missing)
    doc = result.to_json()
    assert doc["insufficient"] is True and doc["top"] == "insufficient_evidence"
    json.dumps(doc)  # serialisable as is


def test_not_a_bundle_is_a_clear_error() -> None:
    with pytest.raises(AnalysisError, match="loaded evidence bundle"):
        classify({"not": "a bundle"})


def test_json_document_shape(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles, "firewall-lockout")
    doc = classify(subject, peers, responder_ip=info.responder_ip).to_json()
    assert doc["format"] == "kit-verdict/1"
    assert doc["top"] == doc["hypotheses"][0]["kind"]
    first = doc["hypotheses"][0]
    assert {"kind", "level", "score", "confidence", "summary", "supporting", "contradicting", "next_step",
            "next_step_text", "commands"} <= set(first)
    assert {"source", "kind", "summary", "evidence", "time"} <= set(first["supporting"][0])


def test_cli_verdict_uses_the_manifest_peers(scenario_bundles: dict[str, Any],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    info, subject, _ = _scenario(scenario_bundles, "firewall-lockout")
    assert main(["analyze", "verdict", str(subject.path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{info.broken_vm} (subject): guest_firewall")
    assert "next step (serial_console)" in out and "iptables -S" in out
    assert "peers" in out.split("checked:")[1]
    assert main(["analyze", "verdict", str(subject.path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["top"] == "guest_firewall"


def test_cli_verdict_bad_bundle_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "verdict", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_route_blackhole_names_the_route_and_its_table(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles, "route-blackhole")
    top = classify(subject, peers, responder_ip=info.responder_ip).top
    details = top.next_step.details
    assert details["route"] and details["route_table"]
    assert any(c.startswith("az network route-table route update") and details["route"] in c
               and "--next-hop-type VirtualAppliance" in c for c in top.next_step.commands)
    assert not any("route delete" in c for c in top.next_step.commands)


def test_deallocated_vm_names_who_stopped_it(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles, "deallocated")
    top = classify(subject, peers, responder_ip=info.responder_ip).top
    assert (f"az vm start --subscription {info.subscription_id} -g {info.resource_group} -n {info.broken_vm}"
            in top.next_step.commands)
    stop = [e for e in top.supporting if e.source == "activity_log"]
    assert stop and stop[0].details["caller"]


def test_bad_responder_address_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kit.errors import UsageError

    bundle = _bare_bundle(tmp_path)
    with pytest.raises(UsageError, match="not an IPv4 address"):
        classify(bundle, responder_ip="banana")
    assert main(["analyze", "verdict", str(bundle.path), "--responder-ip", "banana"]) == 2
    assert capsys.readouterr().err.startswith("error: responder address 'banana'")
