"""Compute and boot diagnostics through the real azure-mgmt-compute client, over verified TLS."""

from __future__ import annotations

import struct

import pytest
import requests
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from lab.conftest import DATA, RG, SUB, Token, client_kwargs


def test_vm_get_returns_the_scenario_model(compute):
    vm = compute.virtual_machines.get(RG, "web-01")
    assert vm.name == "web-01"
    assert vm.id == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/web-01"
    assert vm.hardware_profile.vm_size == "Standard_B2s"
    assert vm.diagnostics_profile.boot_diagnostics.enabled is True
    assert vm.instance_view is None


def test_vm_get_expand_instance_view_embeds_power_state(compute):
    vm = compute.virtual_machines.get(RG, "db-01", expand="instanceView")
    codes = [status.code for status in vm.instance_view.statuses]
    assert "PowerState/deallocated" in codes


def test_instance_view_endpoint(compute):
    view = compute.virtual_machines.instance_view(RG, "web-01")
    assert [status.code for status in view.statuses][-1] == "PowerState/running"


def test_list_vms_in_resource_group(compute):
    names = sorted(vm.name for vm in compute.virtual_machines.list(RG))
    assert names == ["db-01", "old-01", "web-01", "web-02"]


def test_boot_diagnostics_sas_urls_download_the_scenario_bytes(compute, tiny_lab):
    result = compute.virtual_machines.retrieve_boot_diagnostics_data(RG, "web-01", sas_uri_expiration_time_in_minutes=5)
    assert result.serial_console_log_blob_uri.startswith(f"{tiny_lab.endpoint}/bootdiagnostics/")
    assert "sig=" in result.serial_console_log_blob_uri and "se=" in result.serial_console_log_blob_uri
    log = requests.get(result.serial_console_log_blob_uri, verify=str(tiny_lab.ca_path), timeout=5)
    assert log.status_code == 200
    assert log.content == (DATA / "tiny" / "serial" / "web-01.log").read_bytes()
    shot = requests.get(result.console_screenshot_blob_uri, verify=str(tiny_lab.ca_path), timeout=5)
    assert shot.headers["Content-Type"] == "image/bmp"
    magic, size = struct.unpack("<2sI", shot.content[:6])
    width, height, planes, bits = struct.unpack("<iiHH", shot.content[18:30])
    assert (magic, size, planes, bits) == (b"BM", len(shot.content), 1, 24)
    assert width > 0 and height > 0


def test_blob_with_a_tampered_signature_is_refused(compute, tiny_lab):
    url = compute.virtual_machines.retrieve_boot_diagnostics_data(RG, "web-01").serial_console_log_blob_uri
    tampered = url.replace("sig=", "sig=AAAA")
    answer = requests.get(tampered, verify=str(tiny_lab.ca_path), timeout=5)
    assert answer.status_code == 403
    assert "<Code>AuthenticationFailed</Code>" in answer.text


def test_boot_diagnostics_off_is_a_409(compute):
    with pytest.raises(ResourceExistsError) as caught:
        compute.virtual_machines.retrieve_boot_diagnostics_data(RG, "old-01")
    assert caught.value.status_code == 409
    assert "Boot diagnostics is not enabled" in caught.value.message


@pytest.mark.parametrize(
    ("subscription", "group", "name", "code", "text"),
    [
        (SUB, RG, "ghost", "ResourceNotFound",
         "The Resource 'Microsoft.Compute/virtualMachines/ghost' under resource group 'rg-tiny' was not found"),
        (SUB, "rg-gone", "web-01", "ResourceGroupNotFound", "Resource group 'rg-gone' could not be found."),
        ("00000000-0000-4000-8000-000000000000", RG, "web-01", "SubscriptionNotFound",
         "The subscription '00000000-0000-4000-8000-000000000000' could not be found."),
    ],
)
def test_not_found_answers_have_arm_codes(tiny_lab, subscription, group, name, code, text):
    from azure.mgmt.compute import ComputeManagementClient

    client = ComputeManagementClient(Token(tiny_lab.token), subscription, **client_kwargs(tiny_lab))
    with pytest.raises(ResourceNotFoundError) as caught:
        client.virtual_machines.get(group, name)
    assert caught.value.error.code == code
    assert text in caught.value.message


def test_provider_and_type_segments_match_case_insensitively(tiny_lab):
    url = (f"{tiny_lab.endpoint}/SUBSCRIPTIONS/{SUB}/resourcegroups/{RG}/PROVIDERS/microsoft.compute/"
           f"VIRTUALMACHINES/web-01?api-version=2024-07-01")
    answer = requests.get(url, headers={"Authorization": f"Bearer {tiny_lab.token}"}, verify=str(tiny_lab.ca_path),
                          timeout=5)
    assert answer.status_code == 200
    assert answer.json()["name"] == "web-01"


async def test_async_client_reads_the_same_vm(tiny_lab):
    from azure.mgmt.compute.aio import ComputeManagementClient

    from lab.conftest import AsyncToken

    async with ComputeManagementClient(AsyncToken(tiny_lab.token), SUB, **client_kwargs(tiny_lab)) as client:
        vm = await client.virtual_machines.get(RG, "web-02", expand="instanceView")
        data = await client.virtual_machines.retrieve_boot_diagnostics_data(RG, "web-02")
    assert vm.instance_view.statuses[-1].code == "PowerState/running"
    assert "web-02.serialconsole.log" in data.serial_console_log_blob_uri


def test_starting_a_deallocated_vm_changes_its_state_and_logs_it(fresh_lab):
    import datetime as dt

    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.monitor import MonitorManagementClient
    from azure.mgmt.network import NetworkManagementClient

    compute = ComputeManagementClient(Token(fresh_lab.token), SUB, **client_kwargs(fresh_lab, polling_interval=0.01))
    with pytest.raises(ResourceExistsError, match="not allowed on VM 'db-01' since the VM is deallocated"):
        compute.virtual_machines.begin_restart(RG, "db-01").result()
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    compute.virtual_machines.begin_start(RG, "db-01").result()
    assert compute.virtual_machines.instance_view(RG, "db-01").statuses[-1].code == "PowerState/running"
    network = NetworkManagementClient(Token(fresh_lab.token), SUB, **client_kwargs(fresh_lab, polling_interval=0.01))
    assert network.network_interfaces.begin_get_effective_route_table(RG, "db-01-nic").result().value
    monitor = MonitorManagementClient(Token(fresh_lab.token), SUB, **client_kwargs(fresh_lab))
    vm_id = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/db-01"
    window = f"eventTimestamp ge '{since.isoformat()}' and resourceId eq '{vm_id}'"
    events = list(monitor.activity_logs.list(filter=window))
    assert {event.operation_name.value for event in events} == {"Microsoft.Compute/virtualMachines/start/action"}
    assert sorted(event.status.value for event in events) == ["Started", "Succeeded"]
