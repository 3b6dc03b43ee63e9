"""``kit repair`` on a Windows VM as a user runs it: RDP back after an offline fix, proven and recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.archive import verify_archive
from kit.azure import _repair_os
from kit.azure.actions import read_actions
from kit.cli import main
from kit.lab import RunningLab, load_scenario, running_lab
from kit.lab.gateway import check

RDP = "windows-rdp"


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    with running_lab(scenarios=[RDP]) as running:
        yield running


def test_rdp_is_fixed_offline_proven_by_an_rdp_answer_and_the_repair_vm_password_is_never_written(
        lab: RunningLab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    passwords: list[str] = []
    made = _repair_os._throwaway_password
    monkeypatch.setattr(_repair_os, "_throwaway_password", lambda: passwords.append(made()) or passwords[-1])
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    info = load_scenario(RDP)
    before = len(lab.state.activity[info.subscription_id.lower()])
    code = main(["repair", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential",
                 "env-token", "--vm", str(info.vm_id(info.broken_vm)), "--approval", "CHG-RDP", "--incident",
                 "INC-21", "--archive", str(tmp_path), "--finding", "rdp", "--probe",
                 "{}:{}".format(*lab.probe_address(str(info.vm_id(info.broken_vm)))), "--responder-ip",
                 info.responder_ip])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "run the fix on the repair VM (Run Command): ok (kit: fix applied; the hive is unloaded)" in out
    assert "prove the recovery: ok" in out and "delete the repair NSG: ok" in out
    assert check(lab, RDP).passed
    check_record, repair = read_actions(tmp_path / "INC-21")
    assert (check_record["kind"], check_record["status"]) == ("recovery-check", "passed")
    port, = [p for p in check_record["details"]["proofs"] if p["name"] == "port"]
    assert port["passed"] and "answers RDP (X.224 connection confirm)" in port["seen"]
    assert (repair["kind"], repair["status"], repair["details"]["finding"]) == ("repair", "succeeded",
                                                                               "service_failure:rdp")
    folder = tmp_path / "INC-21" / repair["run"]
    assert "reg load HKLM\\BROKENSYSTEM" in (folder / "fix.ps1").read_text() and not (folder / "fix.sh").exists()
    assert "kit: ControlSet001 fixed" in (folder / "stdout.txt").read_text()
    logged = sorted((w["method"], w["target"].lower()) for w in repair["writes"])
    records = lab.state.activity[info.subscription_id.lower()][before:]
    activity = sorted((r["httpRequest"]["method"], r["resourceId"].lower()) for r in records
                      if r["status"]["value"] == "Succeeded")
    assert logged == activity
    assert any(method == "PUT" and "/runcommands/" in target for method, target in logged)  # managed: exit code
    assert len(passwords) == 1
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert passwords[0] not in path.read_text(errors="replace"), path
    assert verify_archive(tmp_path / "INC-21").ok
