"""The postmortem of a recovered incident: time to repair and "How it was fixed" come from the records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kit.archive import verify_archive
from kit.azure.actions import ActionRecord, WriteLog, record_action
from kit.report import postmortem as pm

TRIAGE = {"collected_at": "2026-12-03T10:00:00Z", "reference_times": {"fix applied": "2026-12-03T10:30:00Z"}}


def _action(kind: str, status: str, ended: str, run: str) -> dict[str, object]:
    return {"kind": kind, "status": status, "ended": ended, "started": ended, "run": run, "approval": "CHG-1",
            "vm_id": "/subscriptions/x/vm", "writes": [], "summary": f"{kind} {status}"}


def test_recovered_is_the_newest_passing_check_else_the_fix_else_the_timeline() -> None:
    fix = _action("run-command", "succeeded", "2026-12-03T10:40:00Z", "reports/a-run-command")
    failed = _action("recovery-check", "failed", "2026-12-03T10:45:00Z", "reports/b-recovery-check")
    passed = _action("recovery-check", "passed", "2026-12-03T11:00:00Z", "reports/c-recovery-check")
    times = pm.durations(TRIAGE, [fix, failed, passed, _action("recovery-check", "failed", "2026-12-03T11:30:00Z",
                                                                "reports/d-recovery-check")])
    assert times["recovered"] == datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    assert times["time to repair"] == "60 min"
    assert times["recovered from"] == "recovery check passed (reports/c-recovery-check, approval CHG-1)"
    unproven = pm.durations(TRIAGE, [fix, failed])
    assert unproven["time to repair"] == "40 min" and "not proven: run kit recover-check" in unproven["recovered from"]
    console = pm.durations(TRIAGE)
    assert console["time to repair"] == "30 min" and console["recovered from"].startswith("console fix applied")
    assert pm.durations({"collected_at": "2026-12-03T10:00:00Z"})["time to repair"] is None


def test_fix_actions_list_records_and_console_sessions_oldest_first() -> None:
    repair = _action("repair", "succeeded", "2026-12-03T10:50:00Z", "reports/r-repair")
    repair["writes"] = [{"operation": "PUT snapshots", "target": "/s", "time": "t", "result": "accepted"}]
    session = {"id": "20261203T102000Z-vm", "file": "transcripts/20261203T102000Z-vm.cast", "lines": 12,
               "started": int(datetime(2026, 12, 3, 10, 20, tzinfo=UTC).timestamp()),
               "kit": {"approval": "CHG-2", "responder": "oncall@example.org"}}
    rows = pm.fix_actions([repair, _action("recovery-check", "passed", "2026-12-03T11:00:00Z", "x")], [session])
    assert [(r["kind"], r["approval"]) for r in rows] == [("console", "CHG-2"), ("repair", "CHG-1")]
    assert rows[1]["writes"][0]["operation"] == "PUT snapshots" and rows[0]["writes"] == []
    assert rows[0]["started"] == "2026-12-03T10:20:00+00:00"


@pytest.mark.slow
def test_postmortem_of_a_recovered_incident_has_no_gap_in_repair_or_fix(tmp_path: Path) -> None:
    from kit.azure.collect import CollectionRequest, collect
    from kit.azure.target import AzureTarget
    from kit.lab import running_lab
    from kit.lab.gateway import hub_of
    from kit.report import run_report
    from kit.report.recovery_check import check_recovery

    with running_lab(scenarios=["sshd-broken"]) as lab:
        info = lab.scenario("sshd-broken")
        target = AzureTarget.for_lab(lab)
        start, end = info.window
        bundle = collect(target, CollectionRequest(info.subscription_id, info.resource_group, info.broken_vm,
                                                   info.known_good, start=start, end=end, source="lab:sshd-broken"),
                         tmp_path / "evidence").subject
        triage = run_report("triage", incident="INC-PM", archive_root=tmp_path / "archive", parameters={
            "source": f"bundle:{bundle}", "responder_ip": info.responder_ip})
        assert triage.status == "ok"
        incident = tmp_path / "archive" / "INC-PM"
        guest = hub_of(lab.state).scenario_guest("sshd-broken")
        for line in (guest.shell.username, guest.shell.password,
                     "sudo sed -i '3s/^/#/' /etc/ssh/sshd_config.d/50-cloud-init.conf", "sudo systemctl restart ssh"):
            guest.feed(line + "\r")
        log = WriteLog()
        log.add("POST", f"{info.vm_id(info.broken_vm)}/runCommand", 202)
        fixed = datetime.now(UTC)
        record_action(incident, ActionRecord(kind="run-command", vm_id=info.vm_id(info.broken_vm), approval="CHG-FIX",
                                             status="succeeded", summary="Run Command fix-service_failure-sshd: "
                                             "exit code 0", started=fixed - timedelta(seconds=3), ended=fixed,
                                             responder="oncall@example.org", writes=log.writes))
        check = check_recovery(target, info.vm_id(info.broken_vm), incident_root=incident, since=fixed,
                               responder_ip=info.responder_ip, probe=lab.probe_address("sshd-broken"),
                               approval="CHG-FIX", source="lab:sshd-broken")
        assert check.passed, check.summary
    run = run_report("postmortem", incident="INC-PM", archive_root=tmp_path / "archive")
    assert run.status == "ok" and run.html is not None
    page = run.html.read_text()
    assert "How it was fixed" in page and "Fix actions" in page and "CHG-FIX" in page
    assert "POST virtualMachines/runCommand" in page, "the fix's ARM writes are listed"
    assert "Recovery check passed" in page and "SSH-2.0-" in page, "the proofs are shown"
    assert "TO COMPLETE: how it was fixed" not in page and "TO COMPLETE: recovery actions" not in page
    times = run.result("postmortem")["times"]
    assert times["time to repair"] and times["recovered from"].startswith("recovery check passed")
    assert run.result("postmortem")["fixes"] == [{"kind": "run-command", "status": "succeeded",
                                                  "approval": "CHG-FIX", "run": check.fix["run"]}]  # type: ignore[index]
    assert verify_archive(incident).ok
