"""The lab's Log Analytics query API, through azure-monitor-query's LogsQueryClient over HTTPS.

Shapes are the service's: ``tables``/``PrimaryResult`` with typed columns, ``PartialError`` next to the
rows, 400 ``BadArgumentError`` with the inner syntax or semantic error, 404 for an unknown workspace,
429 with ``Retry-After``. The tables agree with the scenario: its Activity Log (and what is older than
the Activity Log API's 90 days), heartbeats that stop when the broken VM broke, syslog from the serial
log's boots that reached the agent, Windows events.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
import yaml
from azure.core.exceptions import HttpResponseError
from azure.monitor.query import LogsQueryClient, LogsQueryStatus

from kit.lab import RunningLab
from kit.lab.loganalytics import limit_rows, throttle, workspace_id
from kit.times import parse_time
from lab.conftest import Token


@pytest.fixture(scope="module")
def logs(lab: RunningLab) -> Iterator[LogsQueryClient]:
    client = LogsQueryClient(Token(lab.token), endpoint=lab.endpoint, audience=lab.endpoint,
                             connection_verify=str(lab.ca_path), retry_total=0)
    with client:
        yield client


def _facts(info: Any) -> dict[str, Any]:
    return yaml.safe_load((info.path / "scenario.yaml").read_text())["facts"]


def _rows(result: Any) -> list[dict[str, Any]]:
    table = result.tables[0]
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


def _raw(lab: RunningLab, workspace: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{lab.endpoint}/v1/workspaces/{workspace}/query", json=body, verify=str(lab.ca_path),
                         headers={"Authorization": f"Bearer {lab.token}"}, timeout=30)


def test_the_answer_has_the_services_shape(lab: RunningLab) -> None:
    info = lab.scenario("kernel-panic")
    answer = _raw(lab, workspace_id(info), {"query": "AzureActivity | project TimeGenerated, OperationNameValue, "
                                                     "Properties_d | take 3",
                                            "timespan": "2026-11-24T00:00:00Z/2026-11-25T04:30:00Z"})
    assert answer.status_code == 200
    body = answer.json()
    (table,) = body["tables"]
    assert table["name"] == "PrimaryResult"
    assert table["columns"] == [{"name": "TimeGenerated", "type": "datetime"},
                                {"name": "OperationNameValue", "type": "string"},
                                {"name": "Properties_d", "type": "dynamic"}]
    assert len(table["rows"]) == 3
    when, operation, properties = table["rows"][0]
    assert when.endswith("Z") and parse_time(when) is not None
    assert operation == operation.upper() and operation.startswith("MICROSOFT.")
    assert isinstance(json.loads(properties), dict)  # dynamic values come as JSON text


def test_azure_activity_holds_the_activity_log_of_the_window(lab: RunningLab, logs: LogsQueryClient) -> None:
    info = lab.scenario("kernel-panic")
    records = json.loads((info.path / "activity_log.json").read_text())["value"]
    result = logs.query_workspace(workspace_id(info), "AzureActivity | project EventDataId, CorrelationId, "
                                  "ActivityStatusValue, TimeGenerated", timespan=info.window)
    assert result.status == LogsQueryStatus.SUCCESS
    rows = _rows(result)
    in_window = [r for r in records if info.window_start <= parse_time(r["eventTimestamp"]) <= info.window_end]
    assert sorted(row["EventDataId"] for row in rows) == sorted(r["eventDataId"] for r in in_window)
    assert {row["ActivityStatusValue"] for row in rows} >= {"Start", "Success"}  # the table's words


def test_the_workspace_keeps_what_the_activity_log_api_no_longer_returns(lab: RunningLab,
                                                                        logs: LogsQueryClient) -> None:
    from azure.mgmt.monitor import MonitorManagementClient

    info = lab.scenario("nsg-deny")
    start, end = info.window_start - timedelta(days=130), info.window_start - timedelta(days=100)
    monitor = MonitorManagementClient(Token(lab.token), info.subscription_id, base_url=lab.endpoint,
                                      credential_scopes=[f"{lab.endpoint}/.default"],
                                      connection_verify=str(lab.ca_path), retry_total=0)
    window = f"eventTimestamp ge '{start:%Y-%m-%dT%H:%M:%SZ}' and eventTimestamp le '{end:%Y-%m-%dT%H:%M:%SZ}'"
    with pytest.raises(HttpResponseError) as refused:
        list(monitor.activity_logs.list(filter=window))
    assert refused.value.status_code == 400 and "90 days" in str(refused.value)
    result = logs.query_workspace(workspace_id(info), "AzureActivity | where OperationNameValue endswith '/WRITE' "
                                  "| project _ResourceId, ActivityStatusValue", timespan=(start, end))
    written = {row["_ResourceId"] for row in _rows(result) if row["ActivityStatusValue"] == "Success"}
    assert {info.vm_id(vm).lower() for vm in info.vms} <= written


def test_the_broken_vms_heartbeat_stops_when_it_broke(lab: RunningLab, logs: LogsQueryClient) -> None:
    info = lab.scenario("kernel-panic")
    broke = parse_time(_facts(info)["restarted_at"])
    result = logs.query_workspace(workspace_id(info), "Heartbeat | summarize last = max(TimeGenerated), "
                                  "beats = count() by Computer", timespan=info.window)
    last = {row["Computer"]: row["last"] for row in _rows(result)}
    assert set(last) == set(info.vms)
    assert broke - timedelta(minutes=2) < last[info.broken_vm] < broke
    for peer in info.known_good:
        assert last[peer] > info.window_end - timedelta(minutes=2)


def test_a_vm_that_keeps_running_keeps_its_heartbeat(lab: RunningLab, logs: LogsQueryClient) -> None:
    info = lab.scenario("nsg-deny")
    result = logs.query_workspace(workspace_id(info), f"Heartbeat | where Computer == '{info.broken_vm}' "
                                  "| summarize max(TimeGenerated)", timespan=info.window)
    assert _rows(result)[0]["max_TimeGenerated"] > info.window_end - timedelta(minutes=2)


def test_the_timespan_limits_every_table(lab: RunningLab, logs: LogsQueryClient) -> None:
    info = lab.scenario("kernel-panic")
    start = info.window_end - timedelta(hours=1)
    result = logs.query_workspace(workspace_id(info), "Heartbeat | summarize first = min(TimeGenerated), "
                                  "last = max(TimeGenerated), beats = count()", timespan=(start, info.window_end))
    (row,) = _rows(result)
    assert start <= row["first"] and row["last"] <= info.window_end
    assert 2 * 58 <= row["beats"] <= 2 * 60  # the two peers, one a minute; the broken VM is silent


def test_syslog_has_the_boots_that_reached_the_agent_and_not_the_panic(lab: RunningLab,
                                                                      logs: LogsQueryClient) -> None:
    info = lab.scenario("kernel-panic")
    broke = parse_time(_facts(info)["restarted_at"])
    result = logs.query_workspace(workspace_id(info), f"Syslog | where Computer == '{info.broken_vm}' "
                                  "| project TimeGenerated, Facility, ProcessName, SyslogMessage", timespan=info.window)
    rows = _rows(result)
    assert rows and all(row["TimeGenerated"] < broke for row in rows)
    assert any(row["Facility"] == "kern" and "Linux version 6.8.0-1017-azure" in row["SyslogMessage"] for row in rows)
    assert not any("Kernel panic" in row["SyslogMessage"] for row in rows)
    assert any(row["ProcessName"] == "waagent" for row in rows)


def test_a_windows_workspace_has_events_and_no_syslog(lab: RunningLab, logs: LogsQueryClient) -> None:
    info = lab.scenario("windows-rdp")
    facts = _facts(info)
    result = logs.query_workspace(workspace_id(info), f"Event | where Computer == '{info.broken_vm}' "
                                  "| project TimeGenerated, EventID, RenderedDescription", timespan=info.window)
    rows = _rows(result)
    changed = [row for row in rows if row["EventID"] == 7040]
    assert len(changed) == 1 and facts["display_name"] in changed[0]["RenderedDescription"]
    assert changed[0]["TimeGenerated"] > parse_time(facts["gpo_linked_at"])
    with pytest.raises(HttpResponseError) as missing:
        logs.query_workspace(workspace_id(info), "Syslog | take 1", timespan=info.window)
    assert missing.value.status_code == 400 and "Syslog" in str(missing.value)


@pytest.mark.parametrize(("query", "inner"), [
    ("Heartbeat | where", "SyntaxError"),
    ("Heartbeat | project NoSuchColumn", "SemanticError"),
    ("NoSuchTable | take 1", "SemanticError"),
])
def test_a_bad_query_is_a_400_with_the_inner_error(lab: RunningLab, query: str, inner: str) -> None:
    answer = _raw(lab, workspace_id(lab.scenario("kernel-panic")), {"query": query, "timespan": "P1D"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "BadArgumentError" and error["message"] == "The request had some invalid properties"
    assert error["innererror"]["code"] == inner
    assert error["innererror"]["innererror"]["message"]


@pytest.mark.parametrize("body", [{}, {"query": ""}, {"query": "Heartbeat", "timespan": "yesterday"}])
def test_a_bad_body_is_a_400(lab: RunningLab, body: dict[str, Any]) -> None:
    answer = _raw(lab, workspace_id(lab.scenario("kernel-panic")), body)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "BadArgumentError"


def test_an_unknown_workspace_is_a_404(lab: RunningLab, logs: LogsQueryClient) -> None:
    with pytest.raises(HttpResponseError) as caught:
        logs.query_workspace(str(uuid.uuid4()), "Heartbeat | take 1", timespan=timedelta(days=1))
    assert caught.value.status_code == 404
    assert caught.value.error.code == "WorkspaceNotFoundError"


def test_no_token_no_answer(lab: RunningLab) -> None:
    answer = requests.post(f"{lab.endpoint}/v1/workspaces/{workspace_id(lab.scenario('kernel-panic'))}/query",
                           json={"query": "Heartbeat | take 1"}, verify=str(lab.ca_path), timeout=30)
    assert answer.status_code == 401


def test_throttling_is_a_429_with_retry_after_then_answers_again(lab: RunningLab) -> None:
    workspace = workspace_id(lab.scenario("kernel-panic"))
    throttle(lab.state, 2)
    try:
        first, second = (_raw(lab, workspace, {"query": "Heartbeat | count"}) for _ in range(2))
        assert first.status_code == second.status_code == 429
        assert first.headers["Retry-After"] == "1" and first.json()["error"]["code"] == "ThrottledError"
        assert _raw(lab, workspace, {"query": "Heartbeat | count"}).status_code == 200
    finally:
        throttle(lab.state, 0)


def test_a_result_over_the_limit_is_partial(lab: RunningLab, logs: LogsQueryClient) -> None:
    info = lab.scenario("kernel-panic")
    limit_rows(lab.state, 25)
    try:
        result = logs.query_workspace(workspace_id(info), "Heartbeat | project TimeGenerated, Computer",
                                      timespan=info.window)
    finally:
        limit_rows(lab.state, None)
    assert result.status == LogsQueryStatus.PARTIAL
    assert len(result.partial_data[0].rows) == 25
    assert result.partial_error.code == "PartialError"
    assert "E_QUERY_RESULT_SET_TOO_LARGE" in str(result.partial_error.details)
