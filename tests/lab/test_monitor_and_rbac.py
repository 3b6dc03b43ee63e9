"""Activity Log filtering and paging, role assignments and definitions, console status."""

from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from lab.conftest import RG, SUB, Token, client_kwargs

VM_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/web-01"


@pytest.fixture(scope="module")
def monitor(tiny_lab):
    from azure.mgmt.monitor import MonitorManagementClient

    return MonitorManagementClient(Token(tiny_lab.token), SUB, **client_kwargs(tiny_lab))


@pytest.fixture(scope="module")
def authorization(tiny_lab):
    from azure.mgmt.authorization import AuthorizationManagementClient

    return AuthorizationManagementClient(Token(tiny_lab.token), SUB, **client_kwargs(tiny_lab))


def test_activity_log_window_is_paged_and_exact(monitor, tiny_lab):
    window = "eventTimestamp ge '2026-11-20T09:00:00Z' and eventTimestamp le '2026-11-20T11:00:00Z'"
    pages = list(monitor.activity_logs.list(filter=f"{window} and resourceGroupName eq '{RG}'").by_page())
    events = [event for page in pages for event in page]
    assert [len(list(page)) for page in monitor.activity_logs.list(filter=window).by_page()] == [25, 11]
    assert len(events) == 36  # operations 2..19 of the tiny scenario, two records each
    stamps = [event.event_timestamp for event in events]
    assert stamps == sorted(stamps, reverse=True)
    assert min(stamps).isoformat() >= "2026-11-20T09:00:00"


def test_activity_log_filters_by_resource(monitor):
    events = list(monitor.activity_logs.list(
        filter=f"eventTimestamp ge '2026-11-20T09:00:00Z' and resourceUri eq '{VM_ID.upper()}'"))
    assert events and {event.resource_id for event in events} == {VM_ID}
    assert len(events) == 18


@pytest.mark.parametrize("bad", [
    "eventTimestamp ge 2026-11-20",
    "resourceGroupName eq 'rg-tiny'",
    "eventTimestamp ge '2026-11-20T09:00:00Z' or resourceGroupName eq 'x'",
    "eventTimestamp ge '2026-11-20T09:00:00Z' and colour eq 'blue'",
])
def test_malformed_filters_are_a_400(monitor, bad):
    with pytest.raises(HttpResponseError) as caught:
        list(monitor.activity_logs.list(filter=bad))
    assert caught.value.status_code == 400
    assert caught.value.error.code == "BadRequest"


def test_role_assignments_at_vm_scope_include_inherited(authorization):
    found = list(authorization.role_assignments.list_for_scope(VM_ID, filter="atScope()"))
    scopes = sorted(assignment.scope for assignment in found)
    assert scopes == [f"/subscriptions/{SUB}", f"/subscriptions/{SUB}/resourceGroups/{RG}", VM_ID]
    everything = list(authorization.role_assignments.list_for_scope(f"/subscriptions/{SUB}/resourceGroups/{RG}"))
    assert len(everything) == 4  # no filter: below the scope too (both VMs)


def test_role_definition_by_id_names_the_role(authorization):
    assignment = next(item for item in authorization.role_assignments.list_for_scope(VM_ID, filter="atScope()")
                      if item.scope.endswith(f"/resourceGroups/{RG}"))
    definition = authorization.role_definitions.get_by_id(assignment.role_definition_id)
    assert definition.role_name == "Virtual Machine Contributor"
    assert definition.role_type == "BuiltInRole"


def test_serial_console_status(tiny_lab):
    url = f"{tiny_lab.endpoint}/subscriptions/{SUB}/providers/Microsoft.SerialConsole/consoleServices/default"
    answer = requests.get(url, params={"api-version": "2024-07-01"}, verify=str(tiny_lab.ca_path), timeout=5,
                          headers={"Authorization": f"Bearer {tiny_lab.token}"})
    assert answer.json() == {"properties": {"disabled": False}}
