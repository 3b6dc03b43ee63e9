"""``kit recover-check`` as a user runs it: each proof printed, exit 0/1, the record sealed in the archive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.azure.actions import read_actions
from kit.cli import main
from kit.cli._connection import parse_probe
from kit.lab import RunningLab, running_lab
from kit.lab.gateway import hub_of


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    """A lab of its own: the test fixes its guest."""
    with running_lab(scenarios=["sshd-broken"]) as running:
        yield running


def _azure(lab: RunningLab, archive: Path, *extra: str) -> list[str]:
    """``kit recover-check`` as against real Azure: endpoint, CA, env-token and the VM's full id."""
    info = lab.scenario("sshd-broken")
    return ["recover-check", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential",
            "env-token", "--vm", info.vm_id(info.broken_vm), "--approval", "CHG-42", "--incident", "INC-5",
            "--archive", str(archive), *extra]


def test_lab_check_of_an_unfixed_vm_fails_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["recover-check", "--lab", "firewall-lockout", "--incident", "INC-1", "--archive", str(tmp_path),
                 "--approval", "CHG-1", "--known-good", "sched-02"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "✓ running: the VM is running (PowerState/running)" in out
    assert "✓ network: from 203.0.113.7: SSH: reachable" in out, "the lab scenario's responder is the default"
    assert "✗ port: 127.0.0.1:" in out and "[tcp://127.0.0.1:" in out
    assert "fix proven: none recorded for this VM" in out
    assert err.startswith("FAILED: sched-01 is not proven recovered: port failed: ")
    [action] = read_actions(tmp_path / "INC-1")
    assert action["kind"] == "recovery-check" and action["status"] == "failed"
    assert main(["verify", str(tmp_path / "INC-1")]) == 0


def test_azure_path_proves_the_fix_survives_a_reboot(lab: RunningLab, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    guest = hub_of(lab.state).scenario_guest("sshd-broken")
    for line in (guest.shell.username, guest.shell.password,
                 "sudo sed -i '3s/^/#/' /etc/ssh/sshd_config.d/50-cloud-init.conf", "sudo systemctl restart ssh"):
        guest.feed(line + "\r")
    host, port = lab.probe_address("sshd-broken")
    code = main(_azure(lab, tmp_path, "--probe", f"{host}:{port}", "--responder-ip", "203.0.113.7", "--reboot",
                       "--boot-timeout", "30"))
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "✓ restart: restarted at " in out and "✓ port after restart: " in out and "SSH-2.0-" in out
    assert "PASSED: build-coord-01 recovered" in out
    [action] = read_actions(tmp_path / "INC-5")
    assert action["status"] == "passed" and action["approval"] == "CHG-42"
    assert [w["operation"] for w in action["writes"]] == ["POST virtualMachines/restart"]


def test_without_probe_or_responder_those_proofs_are_not_checked(lab: RunningLab, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    code = main(_azure(lab, tmp_path))
    out, err = capsys.readouterr()
    assert "– port: not checked: give --probe HOST[:PORT]" in out
    assert "– network: not checked: give --responder-ip" in out
    assert "– boot: not proven: the running boot 2 of the serial log (started " in out
    assert "is from before the fix and shows 'The SSH service failed" in out
    assert code == 1 and "answers failed: nothing proves the VM is reachable again" in err


@pytest.mark.parametrize("extra, message", [
    (["--probe", "no host:22"], "argument --probe: 'no host:22' is not HOST[:PORT]"),
    (["--probe", "10.0.0.4:99999"], "is not HOST[:PORT]"),
    (["--since", "2026-11-25T09:30:00"], "has no time zone"),
    (["--responder-ip", "2001:db8::1"], "is not an IPv4 address"),
])
def test_bad_arguments_are_usage_errors(extra: list[str], message: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["recover-check", "--lab", "sshd-broken", "--incident", "INC-2", "--archive", str(tmp_path),
            "--approval", "CHG-1", *extra]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own usage error
        code = int(exit_.code or 0)
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "INC-2").exists(), "nothing is written on bad usage"


def test_empty_approval_and_lab_with_an_endpoint_are_refused(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    base = ["recover-check", "--lab", "sshd-broken", "--incident", "INC-3", "--archive", str(tmp_path)]
    assert main([*base, "--approval", " "]) == 2
    assert "--approval is empty" in capsys.readouterr().err
    assert main([*base, "--approval", "CHG-1", "--arm-endpoint", "https://example.org"]) == 2
    assert "--lab fills in the endpoint" in capsys.readouterr().err


def test_parse_probe_forms() -> None:
    assert parse_probe("10.0.0.4:2222") == ("10.0.0.4", 2222)
    assert parse_probe("bastion.example.org") == ("bastion.example.org", 0)
    assert parse_probe("[::1]:22") == ("::1", 22)


def test_a_scale_set_instance_fixed_by_run_command_is_proven_across_a_restart(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with running_lab(scenarios=["vmss-canary-firewall"]) as lab:
        info = lab.scenario("vmss-canary-firewall")
        monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
        connection = ["--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential", "env-token",
                      "--subscription", info.subscription_id, "--resource-group", info.resource_group,
                      "--vmss", "vmss-checkout", "--instance", "2", "--approval", "CHG-9", "--incident", "INC-9",
                      "--archive", str(tmp_path)]
        assert main(["run-command", *connection, "--fix", "firewall", "--fact",
                     "blocked=168.63.129.16:8080,10.24.1.4:8080,203.0.113.24:22"]) == 0
        host, port = lab.probe_address("vmss-canary-firewall")
        code = main(["recover-check", *connection, "--probe", f"{host}:{port}", "--responder-ip", info.responder_ip,
                     "--reboot", "--boot-timeout", "30"])
        out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "✓ restart: restarted at " in out and "✓ port after restart: " in out and "fix proven: run-command " in out
    assert "PASSED: vmss-checkout_2 recovered" in out + err
    actions = {action["kind"]: action for action in read_actions(tmp_path / "INC-9")}
    check = actions["recovery-check"]
    assert check["status"] == "passed" and check["vm_id"].endswith("/virtualMachineScaleSets/vmss-checkout/"
                                                                   "virtualMachines/2")
    assert [w["operation"] for w in check["writes"]] == ["POST virtualMachineScaleSets/virtualMachines/restart"]
