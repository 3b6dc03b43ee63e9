"""``kit repair`` as a user runs it: the steps, exit codes, the lab VM booting again, and the sealed record."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.archive import verify_archive
from kit.azure.actions import read_actions
from kit.cli import main
from kit.lab import Faults, RunningLab, load_scenario, running_lab
from kit.lab.gateway import check
from kit.lab.locks import add_lock


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    """A lab of its own per test: a repair changes the VM, its disks and its guest."""
    with running_lab(scenarios=["fstab-emergency", "kernel-panic"]) as running:
        yield running


def _azure(lab: RunningLab, scenario: str, archive: Path, *extra: str) -> list[str]:
    """``kit repair`` as against real Azure: endpoint, CA, env-token and the VM's full id."""
    info = load_scenario(scenario)
    return ["repair", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential", "env-token",
            "--vm", str(info.vm_id(info.broken_vm)), "--approval", "CHG-77", "--incident", "INC-12",
            "--archive", str(archive), *extra]


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    error = [line for line in err if line.startswith("error: ")]
    assert len(error) == 1 and "Traceback" not in "\n".join(err), err
    return error[0]


def test_fstab_is_repaired_the_vm_boots_to_login_and_the_record_matches_the_activity_log(
        lab: RunningLab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    info = load_scenario("fstab-emergency")
    vm_id = str(info.vm_id(info.broken_vm)).lower()
    before = len(lab.state.activity[info.subscription_id.lower()])
    assert not check(lab, "fstab-emergency").passed
    code = main(_azure(lab, "fstab-emergency", tmp_path, "--finding", "fstab"))
    out = capsys.readouterr().out
    assert code == 0, out
    for step in ("snapshot the OS disk: ok", "run the fix on the repair VM (Run Command): ok",
                 "swap in the repaired OS disk: ok", "prove the recovery: ok", "delete the repair NSG: ok"):
        assert step in out
    # a slow step says so as it starts, with Azure's usual time, before its end is printed
    started = out.index("create the repair VM (Standard_D2s_v5) … (on Azure usually 60–120 s)")
    assert started < out.index("create the repair VM (Standard_D2s_v5): ok")
    assert "snapshot the OS disk …" not in out and "delete the repair VM's OS disk …" not in out  # seconds
    assert "recovered: customs-proc-01 boots from" in out and "are kept in rg-customs-proc-prod" in out
    assert check(lab, "fstab-emergency").passed
    log = lab.state.serial_logs[vm_id].read_text(encoding="utf-8")
    assert log.rstrip().endswith("login:") and "emergency mode" not in log

    repair, = [a for a in read_actions(tmp_path / "INC-12") if a["kind"] == "repair"]
    assert (repair["approval"], repair["status"]) == ("CHG-77", "succeeded")
    details = repair["details"]
    assert details["finding"] == "boot_failure:fstab" and details["rolled_back"] is False
    assert details["proof"]["passed"] is True and details["original_disk"] in details["kept"]
    assert [s["result"] for s in details["steps"]] == ["ok"] * len(details["steps"])
    folder = tmp_path / "INC-12" / repair["run"]
    assert "/srv/customs/archive" in (folder / "fix.sh").read_text()
    assert "# UUID=b4e2d8f0" in (folder / "stdout.txt").read_text()
    assert lab.token not in json.dumps(repair)
    logged = sorted((w["method"], w["target"].lower()) for w in repair["writes"])
    records = lab.state.activity[info.subscription_id.lower()][before:]
    activity = sorted((r["httpRequest"]["method"], r["resourceId"].lower()) for r in records
                      if r["status"]["value"] == "Succeeded")
    assert logged == activity and len(logged) == 15
    result = verify_archive(tmp_path / "INC-12")
    assert not (result.added or result.removed or result.altered or result.chain_errors)


def test_kernel_panic_in_the_lab_is_repaired_and_proven_by_the_recovery_check(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["repair", "--lab", "kernel-panic", "--finding", "kernel", "--approval", "CHG-8", "--incident",
                 "INC-13", "--archive", str(tmp_path), "--sequential"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "run the fix on the repair VM (Run Command): ok (kit: fix applied; /rescue unmounted)" in out
    assert "recovered: hist-app-01 boots from" in out
    kinds = [(a["kind"], a["status"]) for a in read_actions(tmp_path / "INC-13")]
    assert kinds == [("recovery-check", "passed"), ("repair", "succeeded")]
    repair = read_actions(tmp_path / "INC-13")[1]
    assert "update-initramfs -c -k 6.8.0-1018-azure" in (tmp_path / "INC-13" / repair["run"] / "fix.sh").read_text()


def test_a_script_that_does_not_fix_is_rolled_back_and_says_so(lab: RunningLab, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    info = load_scenario("kernel-panic")
    script = tmp_path / "look.sh"
    script.write_text("mount /dev/sdc1 /rescue\nls /rescue/etc\numount /rescue\n")
    code = main(_azure(lab, "kernel-panic", tmp_path / "archive", "--script", str(script)))
    out = capsys.readouterr().out
    assert code == 1
    assert "prove the recovery: failed: not proven" in out and "swap the original OS disk back: ok" in out
    assert "rolled back, hist-app-01 runs its original OS disk again" in out
    repair, = [a for a in read_actions(tmp_path / "archive" / "INC-12") if a["kind"] == "repair"]
    assert repair["status"] == "rolled-back" and repair["details"]["rolled_back"] is True
    assert repair["details"]["finding"] is None
    vm = lab.state.get(str(info.vm_id(info.broken_vm)))
    assert vm is not None and vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"] == \
        repair["details"]["original_disk"]


def test_an_encrypted_disk_is_refused_with_the_documented_alternative(lab: RunningLab, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    info = load_scenario("fstab-emergency")
    vm = lab.state.get(str(info.vm_id(info.broken_vm)))
    assert vm is not None
    vm["properties"]["storageProfile"]["osDisk"]["encryptionSettings"] = {"enabled": True}
    code = main(_azure(lab, "fstab-emergency", tmp_path, "--finding", "fstab"))
    assert code == 1
    assert "az vm repair create --unlock-encrypted-vm" in _one_line_error(capsys)
    [action] = read_actions(tmp_path / "INC-12")
    assert action["status"] == "refused" and action["writes"] == []


def test_a_read_only_lock_is_refused_in_one_line_and_recorded_without_a_write(
        lab: RunningLab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    info = load_scenario("fstab-emergency")
    add_lock(lab.state, f"/subscriptions/{info.subscription_id}/resourceGroups/{info.resource_group}", "ReadOnly",
             "freeze")
    code = main(_azure(lab, "fstab-emergency", tmp_path, "--finding", "fstab"))
    assert code == 1
    error = _one_line_error(capsys)
    assert "the ReadOnly lock 'freeze' on resource group" in error and "az lock delete --ids" in error
    [action] = read_actions(tmp_path / "INC-12")
    assert action["status"] == "refused" and action["writes"] == []


def test_a_cannot_delete_lock_recovers_and_the_record_lists_what_is_left(
        lab: RunningLab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    info = load_scenario("fstab-emergency")
    add_lock(lab.state, f"/subscriptions/{info.subscription_id}/resourceGroups/{info.resource_group}",
             "CanNotDelete", "prod")
    code = main(_azure(lab, "fstab-emergency", tmp_path, "--finding", "fstab"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"read the locks over {info.resource_group}: ok (the CanNotDelete lock 'prod'" in out
    assert "refuses deletes" in out and "delete the repair" not in out
    repair, = [a for a in read_actions(tmp_path / "INC-12") if a["kind"] == "repair"]
    assert repair["status"] == "succeeded" and repair["details"]["deleted"] == []
    assert len(repair["details"]["left"]) == 4 and "left to delete: kit-repair-" in repair["summary"]
    assert check(lab, "fstab-emergency").passed


def test_ctrl_c_stops_the_repair_after_its_step_and_the_record_says_where_it_stands(tmp_path: Path) -> None:
    info = load_scenario("fstab-emergency")
    with running_lab(scenarios=["fstab-emergency"], faults=Faults(latency=0.15)) as slow:
        before = len(slow.state.activity[info.subscription_id.lower()])
        argv = [sys.executable, "-m", "kit", *_azure(slow, "fstab-emergency", tmp_path, "--finding", "fstab")]
        env = {**os.environ, "KIT_ARM_TOKEN": slow.token, "PYTHONUNBUFFERED": "1"}
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as kit:
            assert kit.stdout is not None
            seen = []
            for line in kit.stdout:  # the responder presses Ctrl-C once the snapshot is taken
                seen.append(line)
                if "snapshot the OS disk: ok" in line:
                    kit.send_signal(signal.SIGINT)
                    break
            out, err = kit.communicate(timeout=120)
        out = "".join(seen) + out
        assert kit.returncode == 130, out + err
        assert "interrupt: the repair stops once the step under way ends" in err and "Traceback" not in err
        assert "interrupted before " in out and "customs-proc-01 was not changed" in out
        assert "deallocate customs-proc-01" not in out
        repair, = [a for a in read_actions(tmp_path / "INC-12") if a["kind"] == "repair"]
        assert repair["status"] == "interrupted" and repair["writes"]
        records = slow.state.activity[info.subscription_id.lower()][before:]  # every write it made, and no other
        done = [r for r in records if r["status"]["value"] == "Succeeded"]
        assert sorted((w["method"], w["target"].lower()) for w in repair["writes"]) == sorted(
            (r["httpRequest"]["method"], r["resourceId"].lower()) for r in done)
        vm = slow.state.get(str(info.vm_id(info.broken_vm)))
        assert vm is not None and slow.state.power_state(str(vm["id"])) == "running"
    result = verify_archive(tmp_path / "INC-12")
    assert not (result.added or result.removed or result.altered or result.chain_errors)


@pytest.mark.parametrize(("extra", "message"), [
    (["--finding", "firewall"], "kit run-command --fix"),
    (["--finding", "nonsense"], "unknown finding"),
    (["--script", "/nonexistent/fix.sh"], "no such file"),
    (["--finding", "fstab", "--tag", "CostCenter"], "--tag 'CostCenter' is not KEY=VALUE"),
    (["--finding", "fstab", "--tag", "a/b=1"], "tag 'a/b': a tag name is 1-512 characters"),
    (["--finding", "fstab", "--repair-vm-size", "D2s v5"], "'D2s v5' is not a VM size"),
])
def test_bad_usage_exits_2_with_one_line(extra: list[str], message: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["repair", "--lab", "fstab-emergency", "--approval", "CHG-1", "--incident", "INC-1",
                 "--archive", str(tmp_path), *extra])
    assert code == 2
    assert message in _one_line_error(capsys)


def test_a_malformed_probe_is_refused_by_argparse_before_anything_runs(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["repair", "--lab", "fstab-emergency", "--approval", "CHG-1", "--incident", "INC-1",
              "--archive", str(tmp_path), "--finding", "fstab", "--probe", "no host:22"])
    assert exit_.value.code == 2
    assert "argument --probe: 'no host:22' is not HOST[:PORT]" in capsys.readouterr().err
    assert not (tmp_path / "INC-1").exists()
