"""``kit repair`` on a Windows VM as a user runs it: RDP back after an offline fix, proven and recorded."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kit.archive import verify_archive
from kit.azure import _repair_os
from kit.azure.actions import ActionRecord, read_actions, record_action
from kit.cli import main
from kit.lab import RunningLab, load_scenario, running_lab
from kit.lab.gateway import check, hub_of

RDP = "windows-rdp"


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    with running_lab(scenarios=[RDP]) as running:
        yield running


def _against(lab: RunningLab, vm_id: str, approval: str, incident: str, archive: Path, *extra: str) -> list[str]:
    """``kit repair`` as against real Azure, proving RDP at the lab's probe port of the VM."""
    host, port = lab.probe_address(vm_id)
    return ["repair", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential", "env-token",
            "--vm", vm_id, "--approval", approval, "--incident", incident, "--archive", str(archive),
            "--probe", f"{host}:{port}", "--responder-ip", load_scenario(RDP).responder_ip, *extra]


def lab_answers(lab: RunningLab, vm_id: str) -> bool:
    """Whether the VM's RDP port answers an X.224 connection request."""
    from kit.report.recovery_proofs import port_proof

    return bool(port_proof(lab.probe_address(vm_id), windows=True).passed)


def test_rdp_is_fixed_offline_proven_by_an_rdp_answer_and_the_repair_vm_password_is_never_written(
        lab: RunningLab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    passwords: list[str] = []
    made = _repair_os._throwaway_password
    monkeypatch.setattr(_repair_os, "_throwaway_password", lambda: passwords.append(made()) or passwords[-1])
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    info = load_scenario(RDP)
    vm_id = str(info.vm_id(info.broken_vm))
    tried = datetime.now(UTC) - timedelta(minutes=10)  # an online fix tried first, before the agent went away
    record_action(tmp_path / "INC-21", ActionRecord(kind="run-command", vm_id=vm_id, approval="CHG-EARLIER",
                                                    status="failed", summary="Run Command: agent not Ready",
                                                    started=tried, ended=tried))
    before = len(lab.state.activity[info.subscription_id.lower()])
    code = main(_against(lab, vm_id, "CHG-RDP", "INC-21", tmp_path, "--finding", "rdp"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "run the fix on the repair VM (Run Command): ok (kit: fix applied; the hive is unloaded)" in out
    assert "prove the recovery: ok" in out and "delete the repair NSG: ok" in out
    assert check(lab, RDP).passed
    _, check_record, repair = read_actions(tmp_path / "INC-21")
    assert (check_record["kind"], check_record["status"]) == ("recovery-check", "passed")
    # the proof is about this repair, recorded after it, never the earlier run-command
    assert (check_record["details"]["fix"]["kind"], check_record["details"]["fix"]["approval"]) == ("repair",
                                                                                                   "CHG-RDP")
    assert "proves the repair fix (approval CHG-RDP)" in check_record["summary"]
    port, = [p for p in check_record["details"]["proofs"] if p["name"] == "port"]
    assert port["passed"] and "answers RDP (X.224 connection confirm)" in port["seen"]
    assert (repair["kind"], repair["status"], repair["details"]["finding"]) == ("repair", "succeeded",
                                                                               "service_failure:rdp")
    folder = tmp_path / "INC-21" / repair["run"]
    assert "reg load HKLM\\BROKENSYSTEM" in (folder / "fix.ps1").read_text() and not (folder / "fix.sh").exists()
    assert "kit: ControlSet001 fixed" in (folder / "stdout.txt").read_text()
    logged = sorted((w["method"], w["target"].lower()) for w in repair["writes"])
    records = lab.state.activity[info.subscription_id.lower()][before:]
    activity = sorted((r["httpRequest"]["method"], r["resourceId"].lower()) for r in records
                      if r["status"]["value"] == "Succeeded")
    assert logged == activity
    assert any(method == "PUT" and "/runcommands/" in target for method, target in logged)  # managed: exit code
    assert len(passwords) == 1
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert passwords[0] not in path.read_text(errors="replace"), path
    assert verify_archive(tmp_path / "INC-21").ok


def test_a_disabled_dhcp_client_is_fixed_offline_and_the_vm_gets_its_network_and_agent_back(
        lab: RunningLab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    shell = hub_of(lab.state).scenario_guest(RDP).shell
    shell.services["termservice"].update(start="demand", state="RUNNING")  # RDP itself is fine on this VM
    shell.services["dhcp"] = {"name": "Dhcp", "display": "DHCP Client", "start": "disabled", "state": "STOPPED"}
    info = load_scenario(RDP)
    vm_id = str(info.vm_id(info.broken_vm))
    assert not lab_answers(lab, vm_id)
    code = main(_against(lab, vm_id, "CHG-DHCP", "INC-22", tmp_path, "--finding", "dhcp"))
    out = capsys.readouterr().out
    assert code == 0, out
    check_record, repair = read_actions(tmp_path / "INC-22")
    assert check_record["status"] == "passed" and repair["details"]["finding"] == "guest_network:dhcp_disabled"
    fix = (tmp_path / "INC-22" / repair["run"] / "fix.ps1").read_text()
    assert '\\Services\\Dhcp" /v Start /t REG_DWORD /d 2 /f' in fix and "TermService" not in fix
    assert "Start    REG_DWORD    0x2" in (tmp_path / "INC-22" / repair["run"] / "stdout.txt").read_text()
    statuses = lab.state.instance_views[vm_id.lower()]["vmAgent"]["statuses"]
    assert statuses[0]["displayStatus"] == "Ready"  # the agent reaches Azure again once the NIC has its address


def test_a_wrong_finding_for_the_os_is_refused_before_anything_changes(
        lab: RunningLab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["repair", "--lab", RDP, "--finding", "fstab", "--approval", "CHG-X", "--incident", "INC-23",
                 "--archive", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "no offline Windows fix for 'boot_failure:fstab'" in err and "Traceback" not in err
    assert not (tmp_path / "INC-23" / "reports").exists()


@pytest.fixture
def nvme_vm(lab: RunningLab, monkeypatch: pytest.MonkeyPatch) -> str:
    """The scenario VM's id, resized to an NVMe size (diskControllerType NVMe), its RDP otherwise fine."""
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    vm_id = str(load_scenario(RDP).vm_id(load_scenario(RDP).broken_vm))
    hub_of(lab.state).scenario_guest(RDP).shell.services["termservice"].update(start="demand", state="RUNNING")
    vm = lab.state.get(vm_id)
    assert vm is not None
    vm["properties"]["storageProfile"]["diskControllerType"] = "NVMe"
    return vm_id


def test_a_vm_resized_to_nvme_without_its_nvme_boot_driver_is_fixed_offline_and_boots(
        lab: RunningLab, nvme_vm: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vm_id = nvme_vm
    code = main(_against(lab, vm_id, "CHG-NVME", "INC-24", tmp_path, "--finding", "nvme"))
    out = capsys.readouterr().out
    assert code == 0, out
    _, repair = read_actions(tmp_path / "INC-24")
    fix = (tmp_path / "INC-24" / repair["run"] / "fix.ps1").read_text()
    assert 'Services\\stornvme" /v Start /t REG_DWORD /d 0 /f' in fix and "Group Policy" not in fix
    log = lab.state.serial_logs[vm_id.lower()].read_text(encoding="utf-8")
    assert "SAC" in log and "INACCESSIBLE_BOOT_DEVICE" not in log


def test_on_nvme_a_fix_that_leaves_the_nvme_driver_alone_bugchecks_and_is_rolled_back(
        lab: RunningLab, nvme_vm: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vm_id = nvme_vm
    code = main(_against(lab, vm_id, "CHG-RDP2", "INC-25", tmp_path, "--finding", "rdp"))
    out = capsys.readouterr().out
    assert code == 1 and "rolled back" in out, out
    check_record, repair = read_actions(tmp_path / "INC-25")
    assert repair["status"] == "rolled-back" and check_record["status"] == "failed"
    assert "INACCESSIBLE_BOOT_DEVICE" in json.dumps(check_record["details"]["proofs"])


def test_the_verdict_on_a_vm_that_bugchecks_on_nvme_offers_the_repair_that_recovers_it(
        lab: RunningLab, nvme_vm: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kit.analyze.verdict import classify
    from kit.azure.collect import CollectionRequest, collect
    from kit.azure.target import AzureTarget
    from kit.evidence import load_bundle

    info, vm_id = load_scenario(RDP), nvme_vm
    assert main(_against(lab, vm_id, "CHG-TRY", "INC-26", tmp_path, "--finding", "rdp")) == 1  # the wrong fix
    capsys.readouterr()
    _delete_kept_repair_vm(lab, read_actions(tmp_path / "INC-26")[-1]["details"]["repair_vm"])
    start, end = info.window
    collected = collect(AzureTarget.for_lab(lab), CollectionRequest(
        info.subscription_id, info.resource_group, info.broken_vm, info.known_good, start=start,
        end=datetime.now(UTC) + timedelta(minutes=1), source=f"lab:{RDP}"), tmp_path / "bundles")
    bundle = load_bundle(collected.subject)
    top = classify(bundle, bundle.peers(), responder_ip=info.responder_ip).top
    assert top.kind == "boot_failure:storage_driver", [top.kind, top.summary]
    pasted = top.next_step.commands[0]
    assert pasted.startswith(f"kit repair --vm {vm_id}") and pasted.endswith("--finding nvme")
    argv = shlex.split(pasted.replace("<change-ref>", "CHG-NVME2").replace("<INC-ID>", "INC-26"))[1:]
    host, port = lab.probe_address(vm_id)
    code = main([*argv, "--archive", str(tmp_path), "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path),
                 "--credential", "env-token", "--probe", f"{host}:{port}"])
    assert code == 0, capsys.readouterr().out
    assert lab_answers(lab, vm_id)


def _delete_kept_repair_vm(lab: RunningLab, repair_vm: str) -> None:
    """What the refusal of a second repair asks for: the kept repair VM, its OS disk, NIC and NSG deleted."""
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient

    from kit.azure.target import AzureTarget

    target = AzureTarget.for_lab(lab)
    sub, group, name = repair_vm.split("/")[2], repair_vm.split("/")[4], repair_vm.rsplit("/", 1)[1]
    compute = ComputeManagementClient(target.sync_credential(), sub, **target.client_kwargs())
    network = NetworkManagementClient(target.sync_credential(), sub, **target.client_kwargs())
    compute.virtual_machines.begin_delete(group, name).result()
    compute.disks.begin_delete(group, f"{name}-osdisk").result()
    network.network_interfaces.begin_delete(group, f"{name}-nic").result()
    network.network_security_groups.begin_delete(group, f"{name}-nsg").result()
