"""``kit repair`` on a Windows VM: a Windows repair VM fixes the copy's SYSTEM hive offline (lab, real SDK)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from repairs import broken_vm, kit_fix

from kit.analyze.fix_scripts import fix_os
from kit.analyze.repair_scripts import fix_script
from kit.analyze.repair_scripts_windows import windows_fix_script
from kit.azure.actions import WriteLog
from kit.azure.repair import BootProof, RepairRefused, repair
from kit.errors import UsageError
from kit.lab import RunningLab, running_lab
from kit.lab.gateway import check

RDP = "windows-rdp"


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    """A lab of its own per test: a repair changes the VM, its disks and its guest."""
    with running_lab(scenarios=[RDP]) as running:
        yield running


def _rdp_answers(lab: RunningLab) -> BootProof:
    result = check(lab, RDP)
    return BootProof(result.passed, result.message)


def test_remote_desktop_disabled_is_fixed_offline_on_a_windows_repair_vm_and_the_vm_answers_rdp_again(
        lab: RunningLab) -> None:
    target, vm_id, compute = broken_vm(lab, RDP)
    group, name = vm_id.split("/")[4], vm_id.rsplit("/", 1)[1]
    assert not check(lab, RDP).passed  # TermService disabled: nothing listens on 3389
    original = compute.virtual_machines.get(group, name).as_dict()["properties"]["storageProfile"]["osDisk"]
    created: list[dict] = []
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "service_failure:rdp"),
                     finding="service_failure:rdp", approval="CHG-W1", prove=lambda: _rdp_answers(lab),
                     write_log=WriteLog(), keep_repair_vm=True,
                     on_step=lambda step: created.extend(
                         [compute.virtual_machines.get(group, step.detail.rsplit("/", 1)[1]).as_dict()]
                         if step.name.startswith("create the repair VM") else []))
    assert outcome.status == "recovered", outcome.message
    assert check(lab, RDP).passed
    stdout = outcome.fix_output["stdout"]
    assert "kit: OS disk copy: Windows on F:" in stdout and "kit: ControlSet001 fixed" in stdout
    assert "ControlSet002 fixed" not in stdout  # Windows Server 2022 has one control set: none is invented
    assert "Start    REG_DWORD    0x3" in stdout and outcome.fix_output["exit_code"] == 0
    now = compute.virtual_machines.get(group, name).as_dict()["properties"]["storageProfile"]["osDisk"]
    assert now["managedDisk"]["id"] == outcome.repaired_disk != original["managedDisk"]["id"]
    repair_vm, = created
    image = repair_vm["properties"]["storageProfile"]["imageReference"]
    generation = compute.disks.get(group, original["name"]).as_dict()["properties"]["hyperVGeneration"]
    assert (image["publisher"], image["offer"]) == ("MicrosoftWindowsServer", "WindowsServer")
    assert image["sku"] == {"V1": "2022-datacenter", "V2": "2022-datacenter-g2"}[generation]
    profile = repair_vm["properties"]["osProfile"]
    assert len(profile["computerName"]) <= 15 and "adminPassword" not in profile
    assert profile["windowsConfiguration"]["provisionVMAgent"] is True


def test_a_fix_that_leaves_remote_desktop_disabled_is_rolled_back(lab: RunningLab) -> None:
    target, vm_id, compute = broken_vm(lab, RDP)
    group, name = vm_id.split("/")[4], vm_id.rsplit("/", 1)[1]
    original = compute.virtual_machines.get(group, name).as_dict()["properties"]["storageProfile"]["osDisk"]
    looks_only = "Get-Disk | Where-Object IsOffline | Set-Disk -IsOffline $false\nWrite-Output 'looked'\n"
    outcome = repair(target, vm_id, script=looks_only, approval="CHG-W2", prove=lambda: _rdp_answers(lab))
    assert outcome.status == "rolled-back", outcome.message
    now = compute.virtual_machines.get(group, name).as_dict()["properties"]["storageProfile"]["osDisk"]
    assert now["managedDisk"]["id"] == original["managedDisk"]["id"]
    assert not check(lab, RDP).passed


def test_a_script_that_does_not_bring_the_copy_online_finds_no_windows_volume_and_leaves_the_vm_alone(
        lab: RunningLab) -> None:
    target, vm_id, compute = broken_vm(lab, RDP)
    group, name = vm_id.split("/")[4], vm_id.rsplit("/", 1)[1]
    kit_script = windows_fix_script("service_failure:rdp")
    offline = "\n".join(line for line in kit_script.splitlines() if "Set-Disk -IsOffline" not in line)
    outcome = repair(target, vm_id, script=offline, approval="CHG-W3", prove=lambda: _rdp_answers(lab))
    assert outcome.status == "fix-failed" and outcome.fix_output["exit_code"] == 3
    assert "no attached volume holds" in outcome.fix_output["stderr"]
    assert compute.virtual_machines.get(group, name).as_dict()["properties"]["storageProfile"]["osDisk"][
        "managedDisk"]["id"] == outcome.original_disk
    assert not any(step.name.startswith("deallocate") for step in outcome.steps)


def test_windows_on_arm64_is_refused_before_any_write(lab: RunningLab) -> None:
    target, vm_id, compute = broken_vm(lab, RDP)
    group, name = vm_id.split("/")[4], vm_id.rsplit("/", 1)[1]
    disk_name = compute.virtual_machines.get(group, name).as_dict()["properties"]["storageProfile"]["osDisk"]["name"]
    disk = lab.state.get(str(compute.disks.get(group, disk_name).id))
    assert disk is not None
    disk["properties"]["supportedCapabilities"] = {"architecture": "Arm64"}
    log = WriteLog()
    with pytest.raises(RepairRefused, match="no Windows Server image for an Arm64 repair VM"):
        repair(target, vm_id, script=kit_fix(target, vm_id, "service_failure:rdp"), approval="CHG-W4",
               prove=lambda: _rdp_answers(lab), write_log=log)
    assert log.writes == []


def test_the_windows_fix_finds_the_copy_edits_each_control_set_it_has_and_stops_on_a_failed_reg() -> None:
    script = windows_fix_script("service_failure:rdp", stamp="20261204T000000Z")
    assert "Set-Disk -IsOffline $false" in script and "F:" not in script  # the volume is found, not assumed
    assert 'SYSTEM.kit-20261204T000000Z"' in script  # the hive is saved before it is edited
    assert script.index("Copy-Item") < script.index("reg load") < script.index("reg add") < \
        script.index("reg unload")
    for control_set in ("ControlSet001", "ControlSet002"):
        assert f"if (Test-Path 'HKLM:\\BROKENSYSTEM\\{control_set}')" in script
    assert script.count("/v Start /t REG_DWORD /d 3 /f") == 2
    assert script.count("reg ") == script.count("if ($LASTEXITCODE) { exit $LASTEXITCODE }") + 1  # all but query
    assert fix_script("service_failure:rdp", {}, os_type="windows", stamp="20261204T000000Z") == script


def test_the_dhcp_fix_sets_the_dhcp_client_back_to_automatic_and_run_command_cannot_reach_it() -> None:
    script = windows_fix_script("guest_network:dhcp_disabled")
    assert 'ControlSet001\\Services\\Dhcp" /v Start /t REG_DWORD /d 2 /f' in script
    assert '/v ObjectName /t REG_SZ /d "NT Authority\\LocalService" /f' in script and "TermService" not in script
    with pytest.raises(UsageError, match="the guest has no network address for the VM agent; use kit repair"):
        fix_os("dhcp")


def test_windows_findings_without_an_offline_fix_are_refused_naming_what_the_kit_repairs() -> None:
    with pytest.raises(UsageError, match="no offline Windows fix for 'boot_failure:fstab'.*service_failure:rdp"):
        fix_script("boot_failure:fstab", {}, os_type="windows")
    with pytest.raises(UsageError, match="kit run-command --fix"):
        fix_script("service_failure:rdp", {})  # on Linux there is no RDP to fix offline
