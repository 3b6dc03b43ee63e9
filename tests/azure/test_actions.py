"""The write log and the action record: every ARM write a responder's action makes, sealed in the archive."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lab.conftest import DATA, RG, SUB, Token, client_kwargs

from kit.archive import verify_archive
from kit.azure.actions import ActionRecord, WriteLog, read_actions, record_action
from kit.errors import UsageError
from kit.lab import running_lab


def _record(**overrides: object) -> ActionRecord:
    now = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)
    fields: dict[str, object] = {"kind": "run-command", "vm_id": f"/subscriptions/{SUB}/x", "approval": "CHG-7",
                                 "status": "succeeded", "summary": "iptables fixed", "started": now,
                                 "ended": now + timedelta(seconds=42)}
    fields.update(overrides)
    return ActionRecord(**fields)  # type: ignore[arg-type]


def test_writes_through_the_sdk_are_logged_and_equal_the_activity_log(tmp_path: Path) -> None:
    from azure.mgmt.compute import ComputeManagementClient

    log = WriteLog()
    with running_lab(scenario_dirs=[DATA]) as lab:
        compute = ComputeManagementClient(Token(lab.token), SUB, raw_response_hook=log.hook,
                                          **client_kwargs(lab, polling_interval=0.01))
        before = len(lab.state.activity[SUB])
        compute.virtual_machines.get(RG, "web-01")                       # a read: not logged
        compute.virtual_machines.begin_restart(RG, "web-01").result()   # a write and its polls (GETs)
        compute.virtual_machines.retrieve_boot_diagnostics_data(RG, "web-01")  # a POST that only reads
        activity = lab.state.activity[SUB][before:]
    vm = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/web-01"
    [write] = log.writes
    assert (write.operation, write.method, write.status, write.result) == (
        "POST virtualMachines/restart", "POST", 202, "accepted")
    assert write.target.lower() == vm.lower()
    logged = {(r["operationName"]["value"].lower(), r["resourceId"].lower()) for r in activity
              if r["status"]["value"] == "Succeeded"}
    assert logged == {("microsoft.compute/virtualmachines/restart/action", vm.lower())}


def test_a_record_is_sealed_in_the_archive_and_read_back(tmp_path: Path) -> None:
    incident = tmp_path / "archive" / "INC-9"
    log = WriteLog()
    log.add("PUT", f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/snapshots/s1", 201)
    log.add("DELETE", f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/disks/d1", 409)
    folder = record_action(incident, _record(writes=log.writes), files={"script.sh": "iptables -P INPUT ACCEPT\n"})
    assert folder.parent == incident / "reports" and (folder / "script.sh").read_text().startswith("iptables")
    [action] = read_actions(incident)
    assert action["approval"] == "CHG-7" and action["started"] == "2026-11-25T03:30:00Z"
    assert [w["operation"] for w in action["writes"]] == ["PUT snapshots", "DELETE disks"]
    assert [w["result"] for w in action["writes"]] == ["accepted", "failed: 409"]
    assert json.loads((folder / "action.json").read_text())["ended"] == "2026-11-25T03:30:42Z"
    result = verify_archive(incident)
    assert not (result.added or result.removed or result.altered or result.chain_errors)


@pytest.mark.parametrize(("overrides", "files", "message"), [
    ({"kind": "reboot"}, None, "unknown action kind"),
    ({"approval": "  "}, None, "approval"),
    ({}, {"../escape.sh": "x"}, "plain file name"),
    ({}, {"action.json": "{}"}, "plain file name"),
])
def test_bad_records_are_refused_and_nothing_is_written(tmp_path: Path, overrides: dict[str, object],
                                                        files: dict[str, str] | None, message: str) -> None:
    incident = tmp_path / "INC-1"
    with pytest.raises(UsageError, match=message):
        record_action(incident, _record(**overrides), files=files)
    assert not incident.exists()
