"""The lab's Windows repair VM: Azure's refusals of a Windows VM's profile, and its PowerShell on a disk copy."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient

from kit.azure.target import AzureTarget
from kit.lab import RunningLab, running_lab
from kit.lab.guest import WindowsRescueDisk, WindowsRescueShell


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    with running_lab(scenarios=["windows-rdp"]) as running:
        yield running


def _windows_vm(lab: RunningLab, name: str, profile: dict[str, Any]) -> Any:
    info = lab.scenario("windows-rdp")
    target = AzureTarget.for_lab(lab)
    group = info.resource_group
    compute = ComputeManagementClient(target.sync_credential(), info.subscription_id, **target.client_kwargs())
    broken = compute.virtual_machines.get(group, info.broken_vm)
    nic_body = lab.state.get(str(broken.network_profile.network_interfaces[0].id))
    assert nic_body is not None
    subnet = nic_body["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
    network = NetworkManagementClient(target.sync_credential(), info.subscription_id, **target.client_kwargs())
    nic = network.network_interfaces.begin_create_or_update(group, f"{name}-nic", {
        "location": broken.location, "properties": {"ipConfigurations": [
            {"name": "ipconfig1", "properties": {"subnet": {"id": subnet}}}]}}).result()
    return compute.virtual_machines.begin_create_or_update(group, name, {
        "location": broken.location, "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {"imageReference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                                                  "sku": "2022-datacenter-g2", "version": "latest"},
                               "osDisk": {"createOption": "FromImage", "osType": "Windows"}},
            "osProfile": {"adminUsername": "kitrepair", **profile},
            "networkProfile": {"networkInterfaces": [{"id": nic.id}]}}}).result()


@pytest.mark.parametrize(("profile", "refusal"), [
    ({"computerName": "kitfix1"}, "Required parameter 'adminPassword' is missing"),
    ({"computerName": "kitfix2", "adminPassword": "alllowercase"}, "at least 3 of password complexity"),
    ({"computerName": "kit-repair-20261204213000", "adminPassword": "Good-Passw0rd!x"},
     "Windows computer name cannot be more than 15 characters long")])
def test_a_windows_vm_is_refused_as_azure_refuses_its_profile(lab: RunningLab, profile: dict[str, Any],
                                                              refusal: str) -> None:
    with pytest.raises(HttpResponseError, match=refusal) as raised:
        _windows_vm(lab, f"win-{profile['computerName'][-1]}", profile)
    assert raised.value.error is not None and raised.value.error.code == "InvalidParameter"


def test_a_windows_vm_with_a_proper_profile_is_created_and_never_returns_its_password(lab: RunningLab) -> None:
    vm = _windows_vm(lab, "win-ok", {"computerName": "kitfixok", "adminPassword": "Good-Passw0rd!x"})
    assert vm.provisioning_state == "Succeeded" and vm.os_profile.admin_password is None


def _copy() -> dict[str, Any]:
    return {"services": {"termservice": {"name": "TermService", "start": "disabled", "trigger": "yes"}},
            "registry": {"hklm\\system\\currentcontrolset\\control\\terminal server": {"fDenyTSConnections": "0x1"}}}


def test_the_copy_is_offline_until_brought_online_and_stays_online_for_the_next_script() -> None:
    shell, disk = WindowsRescueShell(), WindowsRescueDisk(0, _copy())
    out, err, code = shell.run('reg load HKLM\\BROKENSYSTEM "F:\\Windows\\System32\\config\\SYSTEM"', [disk])
    assert (code, err) == (1, "ERROR: The system cannot find the file specified.\n")
    shell.run("Get-Disk | Where-Object IsOffline | Set-Disk -IsOffline $false", [disk])
    out, err, code = shell.run('reg load HKLM\\BROKENSYSTEM "F:\\Windows\\System32\\config\\SYSTEM"', [disk])
    assert (code, out) == (0, "The operation completed successfully.\n")


def test_reg_edits_of_the_loaded_hive_land_on_the_disk_and_a_missing_control_set_stays_apart() -> None:
    definition = _copy()
    before = copy.deepcopy(definition)
    shell, disk = WindowsRescueShell(), WindowsRescueDisk(0, definition)
    script = "\n".join([
        "Get-Disk | Where-Object IsOffline | Set-Disk -IsOffline $false",
        "Start-Sleep -Seconds 2",
        'reg load HKLM\\BROKENSYSTEM "F:\\Windows\\System32\\config\\SYSTEM"',
        'reg add "HKLM\\BROKENSYSTEM\\ControlSet002\\Services\\TermService" /v Start /t REG_DWORD /d 2 /f',
        "if (Test-Path 'HKLM:\\BROKENSYSTEM\\ControlSet002') { Write-Output 'has 002' }",
        'reg add "HKLM\\BROKENSYSTEM\\ControlSet001\\Control\\Terminal Server" /v fDenyTSConnections /t REG_DWORD '
        '/d 0 /f',
        'reg add "HKLM\\BROKENSYSTEM\\ControlSet001\\Services\\TermService" /v Start /t REG_DWORD /d 3 /f',
        "reg unload HKLM\\BROKENSYSTEM"])
    out, err, code = shell.run(script, [disk])
    assert code == 0 and not err and "has 002" not in out
    assert definition["services"]["termservice"]["start"] == "demand" != before["services"]["termservice"]["start"]
    assert definition["registry"]["hklm\\system\\currentcontrolset\\control\\terminal server"] == {
        "fDenyTSConnections": "0x0"}
    out, err, code = shell.run("reg unload HKLM\\BROKENSYSTEM", [disk])
    assert code == 1 and "The parameter is incorrect" in err


def test_a_command_the_repair_vm_does_not_know_ends_a_stop_script_with_exit_1() -> None:
    shell, disk = WindowsRescueShell(), WindowsRescueDisk(0, _copy())
    out, err, code = shell.run("$ErrorActionPreference = 'Stop'\nbcdboot F:\\Windows\nWrite-Output 'after'", [disk])
    assert code == 1 and "The term 'bcdboot' is not recognized" in err and "after" not in out
    out, err, code = shell.run("bcdboot F:\\Windows\nWrite-Output 'after'", [disk])
    assert "after" in out  # without Stop, PowerShell goes on


def test_a_block_over_several_lines_with_else_runs_as_powershell_runs_it() -> None:
    shell, disk = WindowsRescueShell(), WindowsRescueDisk(0, _copy())
    script = "\n".join([
        "Get-Disk | Where-Object IsOffline | Set-Disk -IsOffline $false",
        "Update-HostStorageCache",
        "if (Test-Path 'F:\\Windows\\System32\\config\\SYSTEM') {",
        "    # the copy's hive is there",
        "    Write-Output 'found'",
        "    Write-Output 'twice'",
        "} else {",
        "    Write-Output 'missing'",
        "}",
        "if (Test-Path 'G:\\Windows') { Write-Output 'G' } else { Write-Output 'no G' }"])
    out, err, code = shell.run(script, [disk])
    assert (out, err, code) == ("found\ntwice\nno G\n", "", 0)


def test_a_block_that_never_closes_is_a_parse_error_and_nothing_runs() -> None:
    shell, disk = WindowsRescueShell(), WindowsRescueDisk(0, _copy())
    out, err, code = shell.run("Write-Output 'first'\nif ($true) {\n  Write-Output 'inside'\n", [disk])
    assert (out, code) == ("", 1) and "Missing closing '}'" in err


def test_a_disk_brought_online_has_its_drive_letters_only_after_a_wait() -> None:
    shell, disk = WindowsRescueShell(), WindowsRescueDisk(0, _copy())
    look = "if (Test-Path 'F:\\Windows\\System32\\config\\SYSTEM') { Write-Output 'F' } else { Write-Output 'none' }"
    out, _, _ = shell.run("\n".join(["Get-Disk | Where-Object IsOffline | Set-Disk -IsOffline $false", look,
                                     "Start-Sleep -Seconds 5", look]), [disk])
    assert out == "none\nF\n"


def test_the_nvme_fix_refuses_a_copy_without_the_nvme_driver_and_changes_nothing() -> None:
    from kit.analyze.repair_scripts_windows import windows_fix_script

    definition = _copy()
    definition["windows_files"] = {"\\windows\\system32\\config\\system": "SYSTEM hive"}  # no stornvme.sys
    before = copy.deepcopy(definition)
    out, err, code = WindowsRescueShell().run(windows_fix_script("boot_failure:storage_driver"),
                                                     [WindowsRescueDisk(0, definition)])
    assert code == 4 and "no \\Windows\\System32\\drivers\\stornvme.sys" in err and "nothing was changed" in err
    assert definition == before  # not even the hive's backup: the script stopped before it
