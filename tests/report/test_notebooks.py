"""The kit's notebooks run against every lab scenario and show what the scenario expects."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from answers import ANSWERS

from kit.archive import verify_archive
from kit.lab import list_scenarios, running_lab
from kit.report import run_report

SCENARIOS = sorted(s.name for s in list_scenarios())


def _shown_hypothesis(page: str) -> str | None:
    match = re.search(r'class="kit-classification" data-hypothesis="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_triage_shows_the_scenarios_expected_classification(scenario: str, collected: dict[str, Path],
                                                             lab: object, tmp_path: Path) -> None:
    info = lab.scenario(scenario)  # type: ignore[attr-defined]
    run = run_report("triage", incident=f"INC-{scenario}", archive_root=tmp_path, parameters={
        "source": f"bundle:{collected[scenario]}", "responder_ip": info.responder_ip})
    assert run.status == "ok" and run.html is not None
    page = run.html.read_text()
    assert _shown_hypothesis(page) == ANSWERS[scenario].hypothesis
    top = run.result("triage")["top_hypothesis"]
    assert (top["kind"], top["next_step"]) == (ANSWERS[scenario].hypothesis, ANSWERS[scenario].next_step)
    for section in ("1. Identity and scope", "2. Power and provisioning state", "3. Boot diagnostics",
                    "4. Timeline", "5. Network path", "6. Who may open the serial console",
                    "7. Classification and next step", "8. Reproduce the evidence", "9. Evidence manifest"):
        assert section in page
    assert 'class="plotly-graph-div"' in page, "the timeline figure is in the HTML"
    assert "kit-network-verdicts" in page
    group = "vmss" if info.scale_set else "vm"  # an instance's evidence is reproduced with az vmss
    assert f"az {group} get-instance-view --subscription {info.subscription_id}" in page
    assert verify_archive(tmp_path / f"INC-{scenario}").ok


@pytest.mark.slow
def test_triage_from_the_lab_collects_a_scale_set_scenarios_broken_instance_and_its_peers(tmp_path: Path) -> None:
    run = run_report("triage", incident="INC-VMSS", archive_root=tmp_path,
                     parameters={"source": "lab:vmss-canary-firewall"})
    assert run.status == "ok" and run.html is not None
    top = run.result("triage")["top_hypothesis"]
    assert (top["kind"], top["next_step"]) == (ANSWERS["vmss-canary-firewall"].hypothesis,
                                               ANSWERS["vmss-canary-firewall"].next_step)
    bundles = sorted(path.name for path in (tmp_path / "INC-VMSS" / "evidence").glob("*/*") if path.is_dir())
    assert bundles == ["vmss-checkout_0", "vmss-checkout_1", "vmss-checkout_2"]
    assert "az vmss get-instance-view --subscription" in run.html.read_text()


@pytest.mark.slow
def test_triage_from_azure_takes_an_instances_full_id_and_trusts_the_ca_bundle_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_lab(scenarios=["vmss-canary-firewall"]) as served:  # as Azure Stack Hub or a TLS proxy would be
        info = served.scenario("vmss-canary-firewall")
        monkeypatch.setenv("KIT_ARM_TOKEN", served.token)
        run = run_report("triage", incident="INC-AZ", archive_root=tmp_path, parameters={
            "source": "azure", "vm": str(info.vm_id(info.broken_vm)), "known_good": "0,1",
            "arm_endpoint": served.endpoint, "credential": "env-token", "ca_bundle": str(served.ca_path),
            "responder_ip": info.responder_ip, "window_start": info.window_start.isoformat(),
            "window_end": info.window_end.isoformat()})
    assert run.status == "ok", run.error
    assert run.result("triage")["top_hypothesis"]["kind"] == ANSWERS["vmss-canary-firewall"].hypothesis
    [subject] = (tmp_path / "INC-AZ" / "evidence").glob("*/vmss-checkout_2")
    failures = json.loads((subject / "manifest.json").read_text())["failures"]
    assert not [f for f in failures if f["code"] == "ConnectionError"], failures  # the CA bundle was trusted
    assert (subject / "serial.log").is_file() and (subject / "vmss.json").is_file()


NETWORK = [s for s in ("nsg-deny", "route-blackhole", "firewall-lockout") if s in SCENARIOS][:2]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", NETWORK)
def test_network_diff_compares_rules_flows_and_routes(scenario: str, collected: dict[str, Path], lab: object,
                                                      tmp_path: Path) -> None:
    info = lab.scenario(scenario)  # type: ignore[attr-defined]
    run = run_report("network-diff", incident="INC-NET", archive_root=tmp_path, parameters={
        "source": f"bundle:{collected[scenario]}", "responder_ip": info.responder_ip})
    assert run.html is not None
    page = run.html.read_text()
    for caption in ("Custom NSG rules", "Inbound TCP verdicts", f"Routes of {info.broken_vm}",
                    "Differences from the known-good VMs"):
        assert caption in page
    result = run.result("network-diff")
    assert result["vm"] == info.broken_vm and set(result["peers"]) == set(info.known_good)
    assert any(row["VM"] == info.broken_vm for row in result["flow_matrix"])
    assert 'class="kit-verdict-card"' in page and "Causal change" in page
    family = {"nsg_deny": ("nsg_rule", "association:subnet_nsg", "association:nic_nsg"),
              "route_blackhole": ("route", "association:route_table")}.get(ANSWERS[scenario].hypothesis)
    if family:
        kinds = [d["kind"] for d in result["diff"]["differences"]]
        assert any(k.startswith(family) for k in kinds), f"the diff shows the {family[0]} difference: {kinds}"


POSTMORTEM = [s for s in ("firewall-lockout", "fstab-emergency", "nsg-deny") if s in SCENARIOS][:2]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", POSTMORTEM)
def test_postmortem_reads_the_archive_after_triage(scenario: str, collected: dict[str, Path], lab: object,
                                                   tmp_path: Path) -> None:
    info = lab.scenario(scenario)  # type: ignore[attr-defined]
    run_report("triage", incident="INC-PM", archive_root=tmp_path, parameters={
        "source": f"bundle:{collected[scenario]}", "responder_ip": info.responder_ip})
    from kit.console.transcript import Transcript

    transcript = Transcript(tmp_path / "INC-PM" / "transcripts" / "console-1.cast", vm_id=info.vm_id(info.broken_vm),
                            responder="oncall@example.org", approval="CHG-42", transport="lab")
    transcript.output("sched-01 login: ")
    transcript.input("azureuser\r")
    transcript.output("\r\n$ sudo iptables -D INPUT -p tcp --dport 22 -j DROP\r\n$ ")
    transcript.close()
    run = run_report("postmortem", incident="INC-PM", archive_root=tmp_path, parameters={"service": "queue scheduler"})
    assert run.html is not None
    page = run.html.read_text()
    for heading in ("Summary", "Impact window", "Timeline from first change to recovery", "Root cause and evidence",
                    "What the console session did", "Follow-up actions", "TO COMPLETE"):
        assert heading in page
    assert "Console sessions" in page and "iptables -D INPUT -p tcp --dport 22 -j DROP" in page
    result = run.result("postmortem")
    assert result["sessions"] == ["console-1"]
    assert result["cause"] == ANSWERS[scenario].hypothesis
    assert result["follow_ups"], "standard follow-ups for the cause"
    assert 'class="kit-verdict-card"' in page
    assert result["times"]["first change"] and result["times"]["changed by"], "the triage's attribution"
    assert verify_archive(tmp_path / "INC-PM").ok


def test_postmortem_without_triage_fails_with_an_archived_report(tmp_path: Path) -> None:
    from kit.archive import record
    from kit.errors import NotebookExecutionError

    (tmp_path / "INC-EMPTY").mkdir()
    record(tmp_path / "INC-EMPTY", {"kind": "note"})
    with pytest.raises(NotebookExecutionError, match="no successful triage run"):
        run_report("postmortem", incident="INC-EMPTY", archive_root=tmp_path)
    assert verify_archive(tmp_path / "INC-EMPTY").ok


@pytest.mark.slow
def test_a_bundle_source_is_copied_into_the_incident_so_verify_covers_it(collected: dict[str, Path], lab: object,
                                                                        tmp_path: Path) -> None:
    scenario = SCENARIOS[0]
    info = lab.scenario(scenario)  # type: ignore[attr-defined]
    source = collected[scenario]
    run = run_report("triage", incident="INC-COPY", archive_root=tmp_path, parameters={
        "source": f"bundle:{source}", "responder_ip": info.responder_ip})
    assert run.status == "ok"
    copies = sorted((tmp_path / "INC-COPY" / "evidence").glob("*/*/manifest.json"))
    assert {path.parent.name for path in copies} == {source.name, *info.known_good}
    assert verify_archive(tmp_path / "INC-COPY").ok
    # a second report on the copy inside the incident does not copy it again
    inside = next(path.parent for path in copies if path.parent.name == source.name)
    run_report("triage", incident="INC-COPY", archive_root=tmp_path, parameters={
        "source": f"bundle:{inside}", "responder_ip": info.responder_ip})
    assert len(list((tmp_path / "INC-COPY" / "evidence").iterdir())) == 1
    # the copy is in the chain: changing it is caught
    (inside / "serial.log").write_bytes(b"rewritten after the fact\n")
    assert not verify_archive(tmp_path / "INC-COPY").ok
