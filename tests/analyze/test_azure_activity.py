"""Log Analytics AzureActivity rows and Activity Log records: one model, two sources, each event once.

The workspace rows are written here the way the AzureActivity table holds them (upper-case
``OperationNameValue``, ``Start``/``Success`` statuses, JSON text in the dynamic columns), from
Activity Log records in REST shape; the analysis must recognise the same event in both.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from kit.analyze.activity import activity_from_bundle, parse_activity_log, workspace_records
from kit.analyze.timeline import build_timeline
from kit.evidence import load_bundle
from kit.evidence.manifest import new_manifest
from kit.evidence.writer import BundleWriter

SUB = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"
RG = "rg-app"
VM = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/app-01"
NSG = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/networkSecurityGroups/nsg-app"
_STATUS = {"Started": "Start", "Accepted": "Accept", "Succeeded": "Success", "Failed": "Failure"}
COLUMNS = ["TimeGenerated", "OperationNameValue", "OperationName", "ActivityStatusValue", "ActivitySubstatusValue",
           "Caller", "CallerIpAddress", "CorrelationId", "EventDataId", "EventSubmissionTimestamp", "Level",
           "CategoryValue", "ResourceProviderValue", "ResourceGroup", "SubscriptionId", "_ResourceId", "HTTPRequest",
           "Properties_d"]


def record(when: str, operation: str, status: str, correlation: str, event_id: str, resource: str = VM,
           label: str = "Restart Virtual Machine", **extra: Any) -> dict[str, Any]:
    """An Activity Log record in REST shape."""
    body = {"eventTimestamp": when, "submissionTimestamp": when, "correlationId": correlation,
            "eventDataId": event_id, "operationName": {"value": operation, "localizedValue": label},
            "status": {"value": status, "localizedValue": status}, "subStatus": {"value": "", "localizedValue": ""},
            "caller": "ops@contoso.com", "category": {"value": "Administrative", "localizedValue": "Administrative"},
            "level": "Informational", "resourceId": resource, "resourceGroupName": RG, "subscriptionId": SUB,
            "httpRequest": {"clientIpAddress": "198.51.100.4", "method": "POST"}, "properties": {}}
    body.update(extra)
    return body


def as_row(event: dict[str, Any], *, keep_id: bool = True, time: str | None = None) -> list[Any]:
    """The AzureActivity row of a REST record, in :data:`COLUMNS` order (the table's own spellings)."""
    values = {
        "TimeGenerated": time or event["eventTimestamp"], "OperationNameValue": event["operationName"]["value"].upper(),
        "OperationName": event["operationName"]["localizedValue"],
        "ActivityStatusValue": _STATUS.get(event["status"]["value"], event["status"]["value"]),
        "ActivitySubstatusValue": event["subStatus"]["value"], "Caller": event["caller"],
        "CallerIpAddress": event["httpRequest"]["clientIpAddress"], "CorrelationId": event["correlationId"],
        "EventDataId": event["eventDataId"] if keep_id else "",
        "EventSubmissionTimestamp": event["submissionTimestamp"], "Level": event["level"],
        "CategoryValue": event["category"]["value"], "ResourceProviderValue": "MICROSOFT.COMPUTE",
        "ResourceGroup": RG.upper(), "SubscriptionId": SUB, "_ResourceId": event["resourceId"].lower(),
        "HTTPRequest": json.dumps(event["httpRequest"]), "Properties_d": json.dumps(event["properties"]),
    }
    return [values[name] for name in COLUMNS]


def document(rows: list[list[Any]], status: str = "complete") -> dict[str, Any]:
    return {"table": "AzureActivity", "workspace_id": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "query": "AzureActivity",
            "timespan": "2026-11-24T00:00:00Z/2026-11-25T00:00:00Z", "status": status,
            "columns": [{"name": name, "type": "datetime" if name.startswith(("Time", "EventSub")) else "string"}
                        for name in COLUMNS], "rows": rows}


RESTART = [record("2026-11-24T10:00:01.1234567Z", "Microsoft.Compute/virtualMachines/restart/action", "Started",
                  "c-restart", "e-1"),
           record("2026-11-24T10:00:31.7654321Z", "Microsoft.Compute/virtualMachines/restart/action", "Succeeded",
                  "c-restart", "e-2")]
RULE = [record("2026-11-24T09:30:00.0000000Z", "Microsoft.Network/networkSecurityGroups/write", "Started",
               "c-nsg", "e-3", resource=NSG, label="Create or Update Network Security Group"),
        record("2026-11-24T09:30:12.5000000Z", "Microsoft.Network/networkSecurityGroups/write", "Succeeded",
               "c-nsg", "e-4", resource=NSG, label="Create or Update Network Security Group")]


def _operation_names(log: Any) -> list[str]:
    return sorted(op.operation_name.lower() for op in log.operations)


def test_the_same_operation_from_both_sources_is_one_operation() -> None:
    rows = workspace_records(document([as_row(event) for event in RESTART + RULE]))
    log = parse_activity_log(RESTART + RULE, workspace=rows)
    alone = parse_activity_log(RESTART + RULE)
    assert _operation_names(log) == _operation_names(alone)
    assert len(log.events) == 4 and log.duplicates == 4
    assert all(event.origin == "activity_log" for event in log.events)


def test_without_event_ids_the_correlation_operation_status_and_second_match() -> None:
    # the workspace's time has other fractions of the same second and no EventDataId
    rows = workspace_records(document([as_row(event, keep_id=False, time=event["eventTimestamp"][:19] + ".5Z")
                                       for event in RESTART]))
    log = parse_activity_log(RESTART, workspace=rows)
    assert log.duplicates == 2 and len(log.events) == 2 and len(log.operations) == 1


def test_rows_only_in_one_source_are_kept_and_say_where_they_are() -> None:
    rows = workspace_records(document([as_row(event) for event in RULE]))
    log = parse_activity_log(RESTART, workspace=rows)
    assert _operation_names(log) == ["microsoft.compute/virtualmachines/restart/action",
                                     "microsoft.network/networksecuritygroups/write"]
    rule = next(op for op in log.operations if "networksecuritygroups" in op.operation_name.lower())
    assert {event.origin for event in rule.events} == {"workspace"}
    assert rule.status == "Succeeded" and rule.end is not None and rule.duration == timedelta(seconds=12.5)
    assert rule.label == "Create or Update Network Security Group"
    assert rule.resource_id.lower() == NSG.lower() and rule.caller == "ops@contoso.com"
    restart = next(op for op in log.operations if "restart" in op.operation_name.lower())
    assert {event.origin for event in restart.events} == {"activity_log"}


def test_a_different_second_is_a_different_record() -> None:
    later = [as_row(RESTART[1], keep_id=False, time="2026-11-24T10:05:31Z")]
    log = parse_activity_log(RESTART, workspace=workspace_records(document(later)))
    assert log.duplicates == 0 and len(log.events) == 3


def test_dynamic_columns_written_as_json_text_are_read() -> None:
    health = record("2026-11-24T10:00:05Z", "Microsoft.Resourcehealth/healthevent/Activated/action", "Active",
                    "c-health", "e-9", label="Health Event Activated",
                    properties={"currentHealthStatus": "Unavailable", "cause": "PlatformInitiated"},
                    category={"value": "ResourceHealth", "localizedValue": "Resource Health"})
    log = parse_activity_log([], workspace=workspace_records(document([as_row(health)])))
    (op,) = log.operations
    assert op.properties["currentHealthStatus"] == "Unavailable"
    assert op.events[0].client_ip == "198.51.100.4"


def test_broken_workspace_documents_become_warnings() -> None:
    warnings: list[str] = []
    bad = document([as_row(RESTART[0]), ["too", "short"], "not a row"], status="partial")
    bad["error"] = {"code": "PartialError", "message": "There were some errors when processing your query."}
    assert len(workspace_records(bad, warnings)) == 1
    assert any("partial" in warning for warning in warnings)
    assert sum("does not match" in warning for warning in warnings) == 2
    assert workspace_records({"table": "AzureActivity", "columns": "x", "rows": 3}, warnings) == []
    assert workspace_records(None, warnings) == [] and workspace_records([1, 2], warnings) == []
    junk = workspace_records(document([[None] * len(COLUMNS)]))
    log = parse_activity_log([], workspace=junk)
    assert log.events == () and any("workspace AzureActivity row 0" in warning for warning in log.warnings)


def _bundle(tmp_path: Path, tables: dict[str, dict[str, Any]], activity: list[dict[str, Any]]) -> Any:
    folder = tmp_path / "app-01"
    with BundleWriter(folder) as writer:
        writer.add_json("activity_log.json", {"value": activity}, call="activity_logs.list")
        for name, body in tables.items():
            writer.add_json(f"workspace/{name}.json", body, call=f"workspace.{name}", api_version="v1")
        writer.commit(new_manifest(source="azure", subscription_id=SUB, resource_group=RG, vm_name="app-01", vm_id=VM,
                                   window={"start": "2026-11-24T00:00:00Z", "end": "2026-11-24T12:00:00Z"}))
    return load_bundle(folder)


def _heartbeats(start: datetime, minutes: list[int]) -> dict[str, Any]:
    columns = [{"name": "TimeGenerated", "type": "datetime"}, {"name": "Computer", "type": "string"},
               {"name": "Category", "type": "string"}, {"name": "OSType", "type": "string"}]
    rows = [[(start + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ"), "app-01", "Azure Monitor Agent", "Linux"]
            for m in minutes]
    return {"table": "Heartbeat", "status": "complete", "columns": columns, "rows": rows[::-1]}


def test_the_bundle_timeline_has_each_operation_once_and_the_last_heartbeat(tmp_path: Path) -> None:
    start = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    minutes = [m for m in range(0, 60) if not 20 <= m < 32]  # a 13-minute silence, then it stops at 09:59
    tables = {"AzureActivity": document([as_row(event) for event in RESTART + RULE]),
              "Heartbeat": _heartbeats(start, minutes)}
    bundle = _bundle(tmp_path, tables, RESTART)
    log = activity_from_bundle(bundle)
    assert log.duplicates == 2 and len(log.operations) == 2
    frame = build_timeline(bundle, activity=log)
    activity = frame[frame["source"] == "activity_log"]
    assert len(activity) == 2
    rule = activity[activity["kind"].str.lower() == "microsoft.network/networksecuritygroups/write"].iloc[0]
    assert rule["evidence"].startswith("workspace/AzureActivity.json#")
    restart = activity[activity["kind"].str.lower().str.endswith("restart/action")].iloc[0]
    assert restart["evidence"].startswith("activity_log.json#")
    beats = frame[frame["source"] == "heartbeat"]
    last = beats[beats["kind"] == "heartbeat:last_known_good"]
    assert len(last) == 1 and last.iloc[0]["details"]["last_known_good"] is True
    assert last.iloc[0]["time"] == pd.Timestamp(start + timedelta(minutes=59))
    assert last.iloc[0]["severity"] == "warning"  # two hours of silence to the window's end
    gaps = beats[beats["kind"] == "heartbeat:gap"]
    assert len(gaps) == 1 and gaps.iloc[0]["time"] == pd.Timestamp(start + timedelta(minutes=19))
    assert len(beats) == 3  # the first, the gap, the last: not one row a minute
