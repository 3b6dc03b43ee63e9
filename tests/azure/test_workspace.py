"""``kit collect --workspace``: Log Analytics tables in the bundle, through the real SDK and the lab.

A window older than the Activity Log API's 90 days gets its control-plane events from the
workspace; a bad query, an unknown workspace, throttling and a partial result are recorded in the
bundle (the file says so, the manifest lists the failure), never raised.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kit.analyze.activity import activity_from_bundle, parse_activity_log
from kit.azure import workspace
from kit.azure.collect import CollectionRequest, collect
from kit.azure.target import AzureTarget, RetrySettings
from kit.errors import UsageError
from kit.evidence import load_bundle
from kit.lab import RunningLab
from kit.lab.loganalytics import limit_rows, throttle, workspace_id

NO_RETRY = RetrySettings(total=0)


def _collect(lab: RunningLab, tmp_path: Path, scenario: str, *, retry: RetrySettings | None = None,
             **overrides: Any) -> Any:
    info = lab.scenario(scenario)
    fields: dict[str, Any] = {"subscription_id": info.subscription_id, "resource_group": info.resource_group,
                              "vm": info.broken_vm, "known_good": tuple(info.known_good), "start": info.window_start,
                              "end": info.window_end, "source": f"lab:{scenario}", "workspace": workspace_id(info)}
    fields.update(overrides)
    result = collect(AzureTarget.for_lab(lab, retry=retry), CollectionRequest(**fields), tmp_path / "out")
    return result, load_bundle(result.subject)


def _failures(bundle: Any, prefix: str = "workspace.") -> dict[str, dict[str, Any]]:
    return {failure["call"]: failure for failure in bundle.failures if failure["call"].startswith(prefix)}


def test_every_bundle_gets_the_workspace_tables_with_their_query(lab: RunningLab, tmp_path: Path) -> None:
    result, bundle = _collect(lab, tmp_path, "kernel-panic")
    tables = bundle.workspace_tables
    assert set(tables) == {"AzureActivity", "Heartbeat", "Syslog"}  # a Linux VM: no Event query
    for name, document in tables.items():
        assert document["status"] == "complete", document.get("error")
        assert document["query"] == workspace.query_text(name, subscription_id=bundle.manifest["subscription_id"],
                                                         resource_group=bundle.manifest["resource_group"],
                                                         vm_id=bundle.manifest["vm_id"])
        assert document["timespan"] == f"{bundle.manifest['window']['start']}/{bundle.manifest['window']['end']}"
        assert [column["name"] for column in document["columns"]][0] == "TimeGenerated"
    entries = {entry["path"]: entry for entry in bundle.manifest["files"]}
    assert entries["workspace/Heartbeat.json"]["call"] == "workspace.Heartbeat"
    assert not _failures(bundle)
    # the same control-plane events as the Activity Log: the analysis counts each once
    log = activity_from_bundle(bundle)
    assert log.duplicates == len(bundle.activity_log) > 0
    assert len(log.operations) == len(parse_activity_log(bundle.activity_log).operations)
    for peer in bundle.peers():  # the peers' own heartbeats, the same AzureActivity
        assert peer.workspace_tables["AzureActivity"]["rows"] == tables["AzureActivity"]["rows"]
        computers = {row[1] for row in peer.workspace_tables["Heartbeat"]["rows"]}
        assert computers == {peer.name}


def test_a_window_older_than_90_days_gets_its_events_from_the_workspace(lab: RunningLab, tmp_path: Path) -> None:
    info = lab.scenario("route-blackhole")
    start, end = info.window_start - timedelta(days=125), info.window_start - timedelta(days=100)
    _, bundle = _collect(lab, tmp_path, "route-blackhole", start=start, end=end)
    refused = next(failure for failure in bundle.failures if failure["call"] == "activity_logs.list")
    assert refused["status"] == 400 and bundle.activity_log == []
    log = activity_from_bundle(bundle)
    created = {op.resource_id.lower() for op in log.operations
               if op.operation_name.lower() == "microsoft.compute/virtualmachines/write" and op.status == "Succeeded"}
    assert {info.vm_id(vm).lower() for vm in info.vms} <= created
    assert all(event.origin == "workspace" for event in log.events)


def test_the_broken_vms_last_heartbeat_is_before_it_broke(lab: RunningLab, tmp_path: Path) -> None:
    from kit.analyze.timeline import build_timeline

    _, bundle = _collect(lab, tmp_path, "deallocated")
    frame = build_timeline(bundle)
    last = frame[frame["kind"] == "heartbeat:last_known_good"]
    assert len(last) == 1 and last.iloc[0]["severity"] == "warning"
    deallocations = frame[(frame["source"] == "activity_log")
                          & frame["kind"].str.lower().str.endswith("virtualmachines/deallocate/action")
                          & (frame["resource_id"].str.lower() == bundle.manifest["vm_id"].lower())]
    assert last.iloc[0]["time"] <= deallocations["time"].max()


def test_a_bad_query_is_recorded_not_raised(lab: RunningLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(workspace.QUERIES, "Heartbeat", "Heartbeat | where _ResourceId =~ {vm_id} | project")
    _, bundle = _collect(lab, tmp_path, "kernel-panic")
    document = bundle.workspace_tables["Heartbeat"]
    assert document["status"] == "failed" and document["rows"] == []
    assert document["error"]["status"] == 400 and document["error"]["code"] == "BadArgumentError"
    assert document["error"]["body"]["error"]["innererror"]["code"] == "SyntaxError"
    failure = _failures(bundle)["workspace.Heartbeat"]
    assert failure["status"] == 400 and failure["code"] == "BadArgumentError"
    assert bundle.workspace_tables["Syslog"]["status"] == "complete"  # the other queries still answered
    assert bundle.vm is not None and bundle.activity_log


def test_an_unknown_workspace_is_recorded_for_every_table(lab: RunningLab, tmp_path: Path) -> None:
    result, bundle = _collect(lab, tmp_path, "nsg-deny", workspace=str(uuid.uuid4()))
    failures = _failures(bundle)
    assert set(failures) == {"workspace.AzureActivity", "workspace.Heartbeat", "workspace.Syslog"}
    assert {failure["status"] for failure in failures.values()} == {404}
    assert {document["status"] for document in bundle.workspace_tables.values()} == {"failed"}
    assert result.calls[bundle.name] > len(failures) and bundle.activity_log  # the rest was collected


def test_throttling_is_recorded(lab: RunningLab, tmp_path: Path) -> None:
    throttle(lab.state, 1000)
    try:
        _, bundle = _collect(lab, tmp_path, "sshd-broken", retry=NO_RETRY)
    finally:
        throttle(lab.state, 0)
    failures = _failures(bundle)
    assert failures and {failure["status"] for failure in failures.values()} == {429}
    assert {failure["code"] for failure in failures.values()} == {"ThrottledError"}
    assert bundle.workspace_tables["Heartbeat"]["status"] == "failed"


def test_a_partial_result_keeps_its_rows_and_is_a_failure(lab: RunningLab, tmp_path: Path) -> None:
    limit_rows(lab.state, 30)
    try:
        _, bundle = _collect(lab, tmp_path, "fstab-emergency")
    finally:
        limit_rows(lab.state, None)
    document = bundle.workspace_tables["Heartbeat"]
    assert document["status"] == "partial" and len(document["rows"]) == 30
    assert document["error"]["code"] == "PartialError"
    failure = _failures(bundle)["workspace.Heartbeat"]
    assert failure["code"] == "PartialError" and "E_QUERY_RESULT_SET_TOO_LARGE" in failure["message"]


@pytest.mark.parametrize("bad", ["", "not-a-guid", "6a1b2c3d-4e5f-4a6b-8c7d", "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\n"])
def test_a_workspace_id_that_is_not_a_guid_is_refused_before_any_call(bad: str) -> None:
    with pytest.raises(UsageError, match="not a GUID"):
        CollectionRequest("0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f", "rg", "vm", workspace=bad)


def test_the_endpoint_follows_the_cloud() -> None:
    assert workspace.logs_endpoint(AzureTarget()) == "https://api.loganalytics.io"
    assert workspace.logs_endpoint(AzureTarget(cloud="AzureUSGovernment")) == "https://api.loganalytics.us"
    assert workspace.logs_endpoint(AzureTarget(cloud="AzureChinaCloud")) == "https://api.loganalytics.azure.cn"
    assert workspace.logs_endpoint(AzureTarget(arm_endpoint="https://127.0.0.1:8443")) == "https://127.0.0.1:8443"


def test_queries_quote_what_they_are_given() -> None:
    text = workspace.query_text("AzureActivity", subscription_id="s", resource_group="rg' or 1==1 //")
    assert "'rg\\' or 1==1 //'" in text


def test_kit_collect_workspace_option(lab: RunningLab, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from kit.cli import main

    info = lab.scenario("sshd-broken")
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    code = main(["collect", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential",
                 "env-token", "--subscription", info.subscription_id, "--resource-group", info.resource_group,
                 "--vm", info.broken_vm, "--start", info.window_start.isoformat(), "--end",
                 info.window_end.isoformat(), "--workspace", workspace_id(info), "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    bundle = load_bundle(tmp_path / info.broken_vm)
    assert {name: doc["status"] for name, doc in bundle.workspace_tables.items()} == {
        "AzureActivity": "complete", "Heartbeat": "complete", "Syslog": "complete"}


def test_kit_collect_workspace_needs_an_id_outside_the_lab(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kit.cli import main

    code = main(["collect", "--subscription", "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f", "--resource-group", "rg",
                 "--vm", "vm", "--workspace", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --workspace needs the workspace id")
    code = main(["collect", "--subscription", "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f", "--resource-group", "rg",
                 "--vm", "vm", "--workspace", "my-workspace", "--out", str(tmp_path)])
    assert code == 2 and "is not a GUID" in capsys.readouterr().err
