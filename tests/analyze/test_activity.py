"""Activity Log normalisation and grouping into operations."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kit.analyze.activity import (
    ActivityEvent,
    normalize_event,
    operations,
    parse_activity_log,
)
from kit.errors import AnalysisError

SUB = "1f3a2b4c-0000-4000-8000-000000000001"
RULE = (f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Network/networkSecurityGroups/nsg-web"
        "/securityRules/DenyAll")
VM = f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-web-01"
EXAMPLE = Path("/work/shared/reference/arm-examples/monitor_2015-04-01_GetActivityLogsFiltered.json")


def record(correlation: str, operation: str, status: str, when: str, *, resource: str = RULE,
           caller: str = "alice@contoso.com", level: str = "Informational", sub_status: str = "",
           label: str | None = None, **extra: object) -> dict:
    body = {
        "caller": caller,
        "correlationId": correlation,
        "eventDataId": f"{correlation}-{status}",
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "level": level,
        "operationName": {"value": operation, "localizedValue": label or operation},
        "status": {"value": status, "localizedValue": status},
        "subStatus": {"value": sub_status, "localizedValue": sub_status},
        "eventTimestamp": when,
        "submissionTimestamp": when,
        "resourceId": resource,
        "httpRequest": {"clientIpAddress": "203.0.113.7", "method": "PUT"},
        "properties": {},
    }
    body.update(extra)
    return body


def rule_write(correlation: str = "c-1") -> list[dict]:
    op = "Microsoft.Network/networkSecurityGroups/securityRules/write"
    label = "Create or Update Security Rule"
    return [
        record(correlation, op, "Started", "2026-03-02T09:14:05.1234567Z", label=label),
        record(correlation, op, "Accepted", "2026-03-02T09:14:06.5Z", label=label, sub_status="Created"),
        record(correlation, op, "Succeeded", "2026-03-02T09:14:37.0000001Z", label=label, caller=""),
    ]


def test_records_of_one_operation_become_one_operation_whatever_their_order() -> None:
    records = rule_write()
    shuffled = [records[2], records[0], records[1]]
    [operation] = operations(shuffled)
    assert operation.correlation_id == "c-1"
    assert operation.status == "Succeeded"
    assert [event.status for event in operation.events] == ["Started", "Accepted", "Succeeded"]
    assert operation.start == datetime(2026, 3, 2, 9, 14, 5, 123456, tzinfo=UTC)
    assert operation.end == datetime(2026, 3, 2, 9, 14, 37, tzinfo=UTC)
    assert operation.duration == operation.end - operation.start
    assert operation.caller == "alice@contoso.com"  # the Succeeded record has none; the Started one does
    assert operation.resource_type == "Microsoft.Network/networkSecurityGroups/securityRules"
    assert "Create or Update Security Rule nsg-web/DenyAll" in operation.summary
    assert "Succeeded" in operation.summary and "alice@contoso.com" in operation.summary


def test_original_time_strings_are_kept_and_times_are_utc() -> None:
    event = normalize_event(rule_write()[0])
    assert event.original["eventTimestamp"] == "2026-03-02T09:14:05.1234567Z"
    assert event.time.utcoffset() == timedelta(0)
    offset = normalize_event(record("c", "x/write", "Started", "2026-03-02T10:14:05+01:00"))
    assert offset.time == datetime(2026, 3, 2, 9, 14, 5, tzinfo=UTC)
    assert offset.original["eventTimestamp"] == "2026-03-02T10:14:05+01:00"
    naive = normalize_event(record("c", "x/write", "Started", "2026-03-02T09:14:05"))
    assert naive.time == datetime(2026, 3, 2, 9, 14, 5, tzinfo=UTC)


def test_a_failed_operation_is_failed_and_an_error_even_if_logged_informational() -> None:
    op = "Microsoft.Compute/virtualMachines/start/action"
    [operation] = operations([
        record("c-2", op, "Started", "2026-03-02T09:00:00Z", resource=VM),
        record("c-2", op, "Failed", "2026-03-02T09:00:40Z", resource=VM, sub_status="Conflict"),
    ])
    assert operation.failed
    assert operation.severity == "error"
    assert "Failed (Conflict)" in operation.summary
    assert operation.duration == timedelta(seconds=40)


def test_unfinished_operation_has_no_end() -> None:
    [operation] = operations(rule_write()[:2])
    assert operation.status == "Accepted"
    assert operation.end is None and operation.duration is None


def test_same_correlation_different_operations_stay_apart() -> None:
    policy = record("c-1", "Microsoft.Authorization/policies/audit/action", "Succeeded", "2026-03-02T09:14:06Z")
    result = operations([*rule_write(), policy])
    assert sorted(o.operation_name for o in result) == [
        "Microsoft.Authorization/policies/audit/action",
        "Microsoft.Network/networkSecurityGroups/securityRules/write",
    ]


def test_many_interleaved_operations_group_correctly() -> None:
    rng = random.Random(7)
    records = []
    for n in range(200):
        records += rule_write(f"corr-{n}")
    rng.shuffle(records)
    result = operations(records)
    assert len(result) == 200
    assert all(len(o.events) == 3 and o.status == "Succeeded" for o in result)
    assert [o.start for o in result] == sorted(o.start for o in result)


def test_rest_example_page_from_the_api_spec() -> None:
    page = json.loads(EXAMPLE.read_text())["responses"]["200"]["body"]
    [operation] = operations(page)
    assert operation.caller == "admin@contoso.com"
    assert operation.status == "Succeeded"
    assert operation.resource_id.endswith("supporttickets/115012112305841")  # from authorization.scope
    assert operation.events[0].client_ip == "192.168.35.115"


def test_sdk_snake_case_records_as_dftimewolf_writes_them() -> None:
    snake = {
        "caller": "bob@contoso.com",
        "correlation_id": "c-9",
        "event_data_id": "e-9",
        "operation_name": {"value": "Microsoft.Compute/virtualMachines/deallocate/action",
                           "localized_value": "Deallocate Virtual Machine"},
        "status": {"value": "Succeeded"},
        "event_timestamp": "2026-03-02T08:00:00Z",
        "submission_timestamp": "2026-03-02T08:00:12Z",
        "resource_id": VM,
        "level": "Informational",
        "category": {"value": "Administrative"},
    }
    [operation] = operations([snake])
    assert operation.label == "Deallocate Virtual Machine"
    assert operation.caller == "bob@contoso.com"
    assert operation.resource_type == "Microsoft.Compute/virtualMachines"
    assert operation.events[0].submitted == datetime(2026, 3, 2, 8, 0, 12, tzinfo=UTC)


def test_resource_health_summary_says_the_health_and_cause() -> None:
    health = record(
        "rh-1", "Microsoft.Resourcehealth/healthevent/Activated/action", "Active", "2026-03-02T09:20:00Z",
        resource=VM, caller="", category={"value": "ResourceHealth"},
        properties={"currentHealthStatus": "Unavailable", "previousHealthStatus": "Available",
                    "cause": "PlatformInitiated"},
    )
    [operation] = operations([health])
    assert operation.category == "ResourceHealth"
    assert "health Unavailable (PlatformInitiated)" in operation.summary


def test_unusable_records_become_warnings_not_exceptions() -> None:
    log = parse_activity_log([*rule_write(), "not a record", {"correlationId": "x"}])
    assert len(log.operations) == 1
    assert len(log.warnings) == 2
    assert "record 3" in log.warnings[0] and "record 4" in log.warnings[1]


def test_input_that_is_not_a_list_is_a_clear_error() -> None:
    with pytest.raises(AnalysisError, match="list of records"):
        parse_activity_log("nonsense")
    with pytest.raises(AnalysisError, match="'value'"):
        parse_activity_log({"nextLink": "x"})


def test_submission_time_is_used_and_labelled_when_event_time_is_missing() -> None:
    body = record("c", "x/write", "Succeeded", "2026-03-02T09:14:05Z")
    del body["eventTimestamp"]
    event = normalize_event(body)
    assert event.time_desc == "submitted"


def test_already_normalised_events_are_accepted() -> None:
    events = [normalize_event(r, index=i) for i, r in enumerate(rule_write())]
    assert isinstance(events[0], ActivityEvent)
    [operation] = operations(events)
    assert operation.status == "Succeeded"


# ----------------------------------------------------------------- never a traceback

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_VALUES = st.one_of(
    st.none(), st.text(max_size=30), st.integers(), st.floats(allow_nan=True), st.booleans(),
    st.sampled_from(["2026-03-02T09:14:05Z", "2026-03-02T09:14:05.1234567+01:00", "1/21/2015 10:14:26 PM", "", "Z"]),
    st.dictionaries(st.sampled_from(["value", "localizedValue", "scope", "clientIpAddress"]), st.text(max_size=10),
                    max_size=3),
    st.lists(st.integers(), max_size=3),
)
_KEYS = st.sampled_from([
    "eventTimestamp", "submissionTimestamp", "correlationId", "operationName", "status", "subStatus", "caller",
    "category", "level", "resourceId", "httpRequest", "properties", "authorization", "event_timestamp",
    "correlation_id", "TimeGenerated", "OperationNameValue", "junk",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.dictionaries(_KEYS, _VALUES, max_size=10), _VALUES), max_size=12))
def test_any_list_of_records_parses_or_warns_never_raises(records: list[object]) -> None:
    log = parse_activity_log(records)
    assert len(log.events) + len(log.warnings) == len(records)
    assert sum(len(op.events) for op in log.operations) == len(log.events)
    for op in log.operations:
        assert op.start.utcoffset() == timedelta(0)
        assert isinstance(op.summary, str) and op.severity in ("info", "warning", "error", "critical")
