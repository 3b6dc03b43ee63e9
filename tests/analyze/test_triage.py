"""The triage pipeline: each source read once, the same answers as the analyses run one by one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from answers import ANSWERS

import kit.analyze._timeline_boot
import kit.analyze._verdict_facts
import kit.analyze.bootlog
import kit.analyze.network._reading
from kit.analyze.bootlog import boot_report_from_bundle
from kit.analyze.network import diff_network, load_network, ssh_rdp_verdicts
from kit.analyze.timeline import build_timeline
from kit.analyze.triage import triage
from kit.analyze.verdict import classify
from kit.errors import AnalysisError, UsageError
from kit.evidence import load_bundle
from kit.evidence.manifest import new_manifest
from kit.evidence.writer import BundleWriter


def _counting(monkeypatch: pytest.MonkeyPatch, counts: Counter[str], name: str, *modules: Any) -> None:
    for module in modules:
        original: Callable[..., Any] = getattr(module, name)

        def counted(*args: Any, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            counts[name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_serial_log_and_network_are_read_once(scenario_bundles: dict[str, Any], name: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    info, subject, peers = scenario_bundles[name]
    report = boot_report_from_bundle(subject)
    undated = report.anchor is None and any(e.time is None and e.uptime is not None for e in report.events)
    counts: Counter[str] = Counter()
    _counting(monkeypatch, counts, "parse_boot_log", kit.analyze.bootlog, kit.analyze._timeline_boot,
              kit.analyze._verdict_facts)
    _counting(monkeypatch, counts, "load_network", kit.analyze.network._reading)
    result = triage(subject, peers, responder_ip=info.responder_ip)
    # once; a log with no dated line is read a second time, with the VM's start as uptime 0, for the timeline
    assert counts["parse_boot_log"] == (2 if undated else 1)
    assert counts["load_network"] == 1 + len(peers), "each VM's network is loaded once"
    assert result.classification.top.kind == ANSWERS[name].hypothesis


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_triage_agrees_with_each_analysis_run_alone(scenario_bundles: dict[str, Any], name: str) -> None:
    info, subject, peers = scenario_bundles[name]
    result = triage(subject, peers, responder_ip=info.responder_ip)
    alone = classify(subject, peers, responder_ip=info.responder_ip)
    assert result.classification.to_json() == alone.to_json()
    pd.testing.assert_frame_equal(result.timeline, build_timeline(subject))
    assert result.boot.to_json() == boot_report_from_bundle(subject).to_json()
    if result.vm_network is not None:
        verdicts = ssh_rdp_verdicts(load_network(subject), info.responder_ip)
        assert {p: v.to_json() for p, v in result.verdicts.items()} == {p: v.to_json() for p, v in verdicts.items()}
        if peers:
            diff = diff_network(load_network(subject), [load_network(p) for p in peers], responder_ip=info.responder_ip)
            assert [d.kind for d in result.diff.differences] == [d.kind for d in diff.differences]  # type: ignore[union-attr]


def test_without_a_responder_the_verdicts_come_from_a_documentation_address(scenario_bundles: dict[str, Any]) -> None:
    _info, subject, peers = scenario_bundles["nsg-deny"]
    result = triage(subject, peers)
    assert result.assumed_responder == "203.0.113.10" and not result.responder_given
    assert set(result.verdicts) == {22, 3389} and result.diff is not None
    assert result.classification.top.kind == "nsg_deny"
    assert "no responder address given" in result.classification.top.supporting[0].summary


def test_differences_are_linked_to_the_activity_log_change(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = scenario_bundles["nsg-deny"]
    result = triage(subject, peers, responder_ip=info.responder_ip)
    assert result.diff is not None
    linked = [d for d in result.diff.explaining if d.operation is not None]
    assert linked, "the verdict-changing NSG difference names the operation that made it"
    assert all("networksecuritygroups" in d.operation.operation_name.lower() for d in linked)  # type: ignore[union-attr]


def _bundle_without_network(tmp_path: Path) -> Any:
    sub = "1f3a2b4c-0000-4000-8000-000000000001"
    manifest = new_manifest(source="import", subscription_id=sub, resource_group="rg", vm_name="vm1",
                            vm_id=f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
                            window={"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"})
    with BundleWriter(tmp_path / "vm1") as writer:
        writer.add_bytes("serial.log", b"\x00\xff garbage \x1b[0;1;3\n" * 50, call="boot_diagnostics")
        path = writer.commit(manifest)
    return load_bundle(path)


def test_missing_and_broken_evidence_are_warnings_not_errors(tmp_path: Path) -> None:
    result = triage(_bundle_without_network(tmp_path))
    assert result.vm_network is None and result.verdicts == {} and result.diff is None
    assert result.classification.insufficient
    assert any("network" in w for w in result.warnings)
    assert "no network verdict (NICs or NSGs missing from the bundle)" in result.classification.missing


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="needs a loaded evidence bundle"):
        triage("not a bundle")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="not an IPv4 address"):
        triage(_bundle_without_network(tmp_path), responder_ip="::1")
