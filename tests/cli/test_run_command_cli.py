"""``kit run-command`` as a user runs it: output, exit codes, and the sealed record in the incident archive."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kit.archive import verify_archive
from kit.azure.actions import read_actions
from kit.cli import main
from kit.lab import Faults, RunningLab, load_scenario, running_lab
from kit.lab.gateway import check


@pytest.fixture(scope="module")
def rc_lab() -> Iterator[RunningLab]:
    """A lab of this module's own: the fixes change the guests."""
    with running_lab() as lab:
        yield lab


def _azure(lab: RunningLab, scenario: str, archive: Path, *extra: str) -> list[str]:
    """``kit run-command`` as against real Azure: endpoint, CA, env-token and the VM's full id."""
    info = load_scenario(scenario)
    return ["run-command", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential",
            "env-token", "--vm", str(info.vm_id(info.broken_vm)), "--approval", "CHG-42", "--incident", "INC-7",
            "--archive", str(archive), *extra]


def test_fix_records_the_run_and_its_writes_equal_the_activity_log(rc_lab: RunningLab, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", rc_lab.token)
    info = load_scenario("firewall-lockout")
    before = len(rc_lab.state.activity[info.subscription_id.lower()])
    facts = ["--fact", "blocked=203.0.113.7:22,10.42.1.5:6817"]
    code = main(_azure(rc_lab, "firewall-lockout", tmp_path, "--fix", "firewall", "--managed", *facts))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "-A INPUT -s 203.0.113.7/32 -p tcp -m tcp --dport 22 -j ACCEPT" in out
    assert "exit code: 0 (Succeeded, managed Run Command)" in out
    assert "recorded: " in out
    assert check(rc_lab, "firewall-lockout").passed

    [action] = read_actions(tmp_path / "INC-7")
    assert (action["kind"], action["approval"], action["status"]) == ("run-command", "CHG-42", "succeeded")
    assert action["responder"] == rc_lab.state.principal.name and rc_lab.token not in json.dumps(action)
    assert action["details"] | {"script": "fix-guest_firewall", "finding": "guest_firewall", "channel": "managed",
                                "exit_code": 0, "execution_state": "Succeeded", "truncated": False} == action["details"]
    folder = tmp_path / "INC-7" / action["run"]
    assert "iptables -I INPUT -s 203.0.113.7 -p tcp --dport 22 -j ACCEPT" in (folder / "script.sh").read_text()
    assert "-P INPUT DROP" in (folder / "stdout.txt").read_text()
    logged = [(w["operation"], w["target"].lower()) for w in action["writes"]]
    assert [op for op, _ in logged] == ["PUT virtualMachines/runCommands", "DELETE virtualMachines/runCommands"]
    records = rc_lab.state.activity[info.subscription_id.lower()][before:]
    activity = [(r["operationName"]["value"], r["resourceId"].lower()) for r in records
                if r["status"]["value"] == "Succeeded"]
    as_activity = [(f"Microsoft.Compute/virtualMachines/runCommands/{'write' if op.startswith('PUT') else 'delete'}",
                    target) for op, target in logged]
    assert activity == as_activity
    result = verify_archive(tmp_path / "INC-7")
    assert not (result.added or result.removed or result.altered or result.chain_errors)


def _verdict_fix(lab: RunningLab, scenario: str, out: Path) -> list[str]:
    """The top hypothesis's ``kit run-command --fix`` command, collected and classified as a responder would."""
    from kit.analyze.verdict import classify
    from kit.azure.collect import CollectionRequest, collect
    from kit.azure.target import AzureTarget
    from kit.evidence import load_bundle

    info = lab.scenario(scenario)
    start, end = info.window
    subject = info.instance_id(info.broken_vm) if info.scale_set else info.broken_vm
    peers = tuple(info.instance_id(vm) for vm in info.known_good) if info.scale_set else info.known_good
    result = collect(AzureTarget.for_lab(lab), CollectionRequest(
        info.subscription_id, info.resource_group, subject, peers, start=start, end=end, source=f"lab:{scenario}",
        scale_set=info.scale_set), out)
    bundle = load_bundle(result.subject)
    step = classify(bundle, bundle.peers(), responder_ip=info.responder_ip).top.next_step
    fix = next(command for command in step.commands if command.startswith("kit run-command") and " --fix " in command)
    return shlex.split(fix.replace("<change-ref>", "CHG-77").replace("<INC-ID>", "INC-77"))[1:]


@pytest.mark.parametrize("scenario", ["firewall-lockout", "vmss-canary-firewall"])
def test_the_verdicts_run_command_fix_pasted_as_it_is_fixes_the_guest(scenario: str, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with running_lab(scenarios=[scenario]) as lab:
        argv = _verdict_fix(lab, scenario, tmp_path / "bundles")
        assert not check(lab, scenario).passed
        monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
        code = main([*argv, "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential",
                     "env-token", "--archive", str(tmp_path / "archive")])
        out = capsys.readouterr().out
        assert code == 0, out
        assert check(lab, scenario).passed, check(lab, scenario).message
        [action] = read_actions(tmp_path / "archive" / "INC-77")
        assert action["vm_id"].lower() == str(lab.scenario(scenario).vm_id(lab.scenario(scenario).broken_vm)).lower()
        assert [w["operation"] for w in action["writes"]] == [
            "POST virtualMachineScaleSets/virtualMachines/runCommand" if "vmss" in scenario
            else "POST virtualMachines/runCommand"]


def test_a_script_file_and_its_output_are_redacted_in_the_record(rc_lab: RunningLab, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", rc_lab.token)
    script = tmp_path / "probe.sh"
    script.write_text("echo password=Hunter2-secret\nsshd -t\n")
    code = main(_azure(rc_lab, "sshd-broken", tmp_path / "archive", "--script", str(script)))
    out = capsys.readouterr().out
    assert code == 1  # sshd -t fails: the script failed
    assert "Hunter2-secret" not in out and "Bad configuration option: StreamLocalBindUnlnk" in out
    assert "exit code: 255 (Failed, action Run Command)" in out
    [action] = read_actions(tmp_path / "archive" / "INC-7")
    folder = tmp_path / "archive" / "INC-7" / action["run"]
    for name in ("script.sh", "stdout.txt", "stderr.txt", "action.json"):
        assert "Hunter2-secret" not in (folder / name).read_text(), name
    assert action["status"] == "failed" and action["details"]["exit_code"] == 255
    assert [w["operation"] for w in action["writes"]] == ["POST virtualMachines/runCommand"]


def test_ctrl_c_while_the_script_runs_is_recorded_with_where_its_output_is(tmp_path: Path) -> None:
    info = load_scenario("sshd-broken")
    with running_lab(scenarios=["sshd-broken"], faults=Faults(latency=1.0)) as slow:
        log = slow.state.activity[info.subscription_id.lower()]
        before = len(log)
        argv = [sys.executable, "-m", "kit", *_azure(slow, "sshd-broken", tmp_path, "--diagnose")]
        env = {**os.environ, "KIT_ARM_TOKEN": slow.token}
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as kit:
            deadline = time.monotonic() + 60
            while not any("runCommand" in str(r.get("operationName")) for r in log[before:]):  # the POST is in
                assert kit.poll() is None and time.monotonic() < deadline, kit.communicate()
                time.sleep(0.05)
            time.sleep(1.5)  # its answer (1 s) is in: the kit polls for the output
            kit.send_signal(signal.SIGINT)  # the responder gives up waiting for it
            out, err = kit.communicate(timeout=60)
    assert kit.returncode == 130, out + err
    assert "interrupted: the script was sent and runs on to its end" in err and "Traceback" not in err
    assert "output is read only by its caller, so it is lost" in err
    [action] = read_actions(tmp_path / "INC-7")
    assert action["status"] == "interrupted" and action["details"]["interrupted"] is True
    assert [w["operation"] for w in action["writes"]] == ["POST virtualMachines/runCommand"]
    assert (tmp_path / "INC-7" / action["run"] / "script.sh").read_text().strip()


def test_diagnose_in_the_lab_prints_the_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run-command", "--lab", "windows-rdp", "--diagnose", "--approval", "CHG-1", "--incident", "INC-2",
                 "--archive", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "=== TermService state and start type" in out and "StartType   : Disabled" in out
    assert "exit code: not reported (Succeeded, action Run Command)" in out
    [action] = read_actions(tmp_path / "INC-2")
    assert action["details"]["os"] == "windows" and (tmp_path / "INC-2" / action["run"] / "script.ps1").is_file()


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    error = [line for line in err if line.startswith("error: ")]
    assert len(error) == 1 and "Traceback" not in "\n".join(err), err
    return error[0]


def test_agent_not_ready_exits_1_and_the_attempt_is_recorded(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run-command", "--lab", "kernel-panic", "--diagnose", "--approval", "CHG-1", "--incident", "INC-3",
                 "--archive", str(tmp_path)])
    assert code == 1
    assert "is not Ready" in _one_line_error(capsys)
    [action] = read_actions(tmp_path / "INC-3")
    assert action["status"] == "failed" and action["writes"] == [] and "kit repair" in action["summary"]


@pytest.mark.parametrize(("extra", "code", "message"), [
    (["--fix", "fstab"], 2, "use kit repair"),
    (["--fix", "rdp", "--os", "linux"], 2, "fix is for windows guests"),
    (["--script", "/nonexistent/fix.sh"], 2, "no such file"),
    (["--diagnose", "--vm", "no-such-vm"], 4, "not found"),
])
def test_usage_and_not_found(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], code: int,
                             message: str) -> None:
    argv = ["run-command", "--lab", "firewall-lockout", "--approval", "CHG-1", "--incident", "INC-4",
            "--archive", str(tmp_path), *extra]
    assert main(argv) == code
    assert message in _one_line_error(capsys)


def test_approval_is_required(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run-command", "--lab", "firewall-lockout", "--diagnose", "--incident", "INC-5"])
    assert caught.value.code == 2 and "--approval" in capsys.readouterr().err
