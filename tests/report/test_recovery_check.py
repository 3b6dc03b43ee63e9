"""The recovery check against the lab with the real SDK: passes after a right fix, fails with the reason otherwise."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.mgmt.compute import ComputeManagementClient

from kit.archive import verify_archive
from kit.azure.actions import ActionRecord, read_actions, record_action
from kit.azure.target import AzureTarget
from kit.errors import UsageError
from kit.evidence import load_bundle
from kit.lab import RunningLab, running_lab
from kit.lab.gateway import hub_of
from kit.report import recovery_check
from kit.report.recovery_check import RecoveryResult, check_recovery

FIREWALL_FIX = ("sudo iptables -I INPUT -p tcp -s 203.0.113.0/24 --dport 22 -j ACCEPT",
                "sudo netfilter-persistent save")
SSHD_FIX = ("sudo sed -i '3s/^/#/' /etc/ssh/sshd_config.d/50-cloud-init.conf", "sudo systemctl restart ssh")


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    """A lab of its own: the tests fix its guests."""
    scenarios = ["firewall-lockout", "sshd-broken", "windows-rdp", "nsg-deny", "deallocated"]
    with running_lab(scenarios=scenarios) as running:
        yield running


def shell(lab: RunningLab, scenario: str, *lines: str) -> None:
    """Log in on the scenario's serial console and type ``lines`` (the fix as a responder types it)."""
    guest = hub_of(lab.state).scenario_guest(scenario)
    guest.feed(guest.shell.username + "\r")
    guest.feed(guest.shell.password + "\r")
    for line in lines:
        guest.feed(line + "\r")


def check(lab: RunningLab, scenario: str, incident: Path, **options: object) -> RecoveryResult:
    info = lab.scenario(scenario)
    kwargs: dict[str, object] = {"since": datetime.now(UTC), "responder_ip": info.responder_ip,
                                 "probe": lab.probe_address(scenario), "approval": "CHG-7",
                                 "source": f"lab:{scenario}", "boot_timeout": 20.0, "sleep": lambda _s: None}
    kwargs.update(options)
    return check_recovery(AzureTarget.for_lab(lab), info.vm_id(info.broken_vm), incident_root=incident,
                          **kwargs)  # type: ignore[arg-type]


def proof(result: RecoveryResult, name: str) -> tuple[bool | None, str, str]:
    found = next(p for p in result.proofs if p.name == name)
    return found.passed, found.seen, found.where


def test_firewall_lockout_without_a_fix_fails_on_the_port_and_is_recorded(lab: RunningLab, tmp_path: Path) -> None:
    incident = tmp_path / "INC-1"
    result = check(lab, "firewall-lockout", incident)
    assert result.status == "failed" and not result.passed
    assert result.failed is not None and result.failed.name == "port"
    assert "reset the connection before any SSH answer" in result.summary
    assert proof(result, "running")[0] and proof(result, "network")[0], "Azure's side is fine: the guest blocks"
    [action] = read_actions(incident)
    assert action["kind"] == "recovery-check" and action["status"] == "failed" and action["approval"] == "CHG-7"
    assert [p["name"] for p in action["details"]["proofs"]] == ["running", "boot", "network", "port", "metrics"]
    assert action["writes"] == [], "a check without --reboot changes nothing"
    bundle = load_bundle(incident / result.bundles[0])
    assert bundle.manifest["source"] == "lab:firewall-lockout" and bundle.serial_log
    assert proof(result, "boot")[2].startswith(f"{result.bundles[0]}/serial.log:")
    assert verify_archive(incident).ok, "the evidence and the record are one sealed stage"


def test_a_wrong_firewall_fix_fails_and_the_right_one_passes_and_survives_a_reboot(lab: RunningLab,
                                                                                   tmp_path: Path) -> None:
    incident = tmp_path / "INC-2"
    shell(lab, "firewall-lockout", "sudo iptables -I INPUT -p tcp --dport 2222 -j ACCEPT")
    wrong = check(lab, "firewall-lockout", incident, reboot=True)
    assert wrong.failed is not None and wrong.failed.name == "port"
    assert proof(wrong, "restart")[0] is None, "no restart while the fix is not proven"
    shell(lab, "firewall-lockout", *FIREWALL_FIX)
    right = check(lab, "firewall-lockout", incident, reboot=True)
    assert right.passed, right.summary
    names = [p.name for p in right.proofs]
    assert names == ["running", "boot", "network", "port", "restart", "running after restart",
                     "boot after restart", "network after restart", "port after restart", "metrics"]
    assert "SSH-2.0-" in proof(right, "port after restart")[1]
    assert proof(right, "boot after restart")[1].startswith("boot 2 of the serial log")
    assert "after the fix, reached the login prompt with no critical finding" in proof(right, "boot after restart")[1]
    [restart] = right.writes
    assert restart["operation"] == "POST virtualMachines/restart" and restart["result"] == "accepted"
    after = load_bundle(incident / right.bundles[1])
    operations = [r["operationName"]["value"] for r in after.activity_log]
    assert "Microsoft.Compute/virtualMachines/restart/action" in operations, "the restart is in the Activity Log"
    recorded = [a for a in read_actions(incident) if a["status"] == "passed"]
    assert recorded and recorded[-1]["writes"] == list(right.writes)
    assert verify_archive(incident).ok


def test_sshd_fix_is_proven_and_linked_to_the_run_command_record_it_proves(lab: RunningLab, tmp_path: Path) -> None:
    incident = tmp_path / "INC-3"
    info = lab.scenario("sshd-broken")
    vm = info.vm_id(info.broken_vm)
    fixed_at = datetime.now(UTC)
    record_action(incident, ActionRecord(kind="run-command", vm_id=vm, approval="CHG-FIX", status="succeeded",
                                         summary="Run Command fix-service_failure-sshd: exit code 0",
                                         started=fixed_at - timedelta(seconds=5), ended=fixed_at))
    shell(lab, "sshd-broken", "sudo systemctl restart ssh")
    wrong = check(lab, "sshd-broken", incident)
    assert wrong.failed is not None and wrong.failed.name == "port"
    shell(lab, "sshd-broken", *SSHD_FIX)
    right = check(lab, "sshd-broken", incident)
    assert right.passed, right.summary
    assert right.fix is not None and right.fix["kind"] == "run-command" and right.fix["approval"] == "CHG-FIX"
    assert "run-command fix (approval CHG-FIX)" in right.summary
    saved = json.loads((right.record / "action.json").read_text())
    assert saved["details"]["fix"]["run"] == right.fix["run"] and saved["approval"] == "CHG-7"


def test_a_repair_must_be_followed_by_a_boot(lab: RunningLab, tmp_path: Path) -> None:
    incident = tmp_path / "INC-4"
    before = check(lab, "sshd-broken", incident)  # evidence of the broken VM in the incident
    assert before.failed is not None
    fixed = datetime.now(UTC)
    shell(lab, "sshd-broken", *SSHD_FIX)
    result = check(lab, "sshd-broken", incident, since=fixed, require_new_boot=True)
    assert result.failed is not None and result.failed.name == "boot"
    assert "no boot since the fix" in result.failed.seen and "restart it" in result.failed.seen
    shell(lab, "sshd-broken", "sudo systemctl reboot")
    booted = check(lab, "sshd-broken", incident, since=fixed, require_new_boot=True)
    assert booted.passed, booted.summary
    assert "boot 3 of the serial log" in proof(booted, "boot")[1], "more boots than the evidence before the fix"


def test_windows_rdp_fix_is_proven_with_an_x224_confirm(lab: RunningLab, tmp_path: Path) -> None:
    incident = tmp_path / "INC-5"
    before = check(lab, "windows-rdp", incident)
    assert before.failed is not None and before.failed.name == "port" and "RDP" in before.failed.seen
    services = hub_of(lab.state).scenario_guest("windows-rdp").shell.services  # type: ignore[union-attr]
    services["termservice"].update(start="demand", state="RUNNING")
    after = check(lab, "windows-rdp", incident)
    assert after.passed, after.summary
    assert "X.224 connection confirm" in proof(after, "port")[1]


def test_nsg_deny_still_blocked_fails_on_the_network_verdict(lab: RunningLab, tmp_path: Path) -> None:
    result = check(lab, "nsg-deny", tmp_path / "INC-6")
    assert result.failed is not None and result.failed.name == "network"
    assert "Deny-SSH-Inbound" in result.failed.seen and "203.0.113.7" in result.failed.seen
    assert proof(result, "port")[0] is False


def test_deallocated_fails_on_running_until_started(lab: RunningLab, tmp_path: Path) -> None:
    incident = tmp_path / "INC-7"
    stopped = check(lab, "deallocated", incident)
    assert stopped.failed is not None and stopped.failed.name == "running"
    assert "deallocated, not running: start it" in stopped.summary
    info = lab.scenario("deallocated")
    target = AzureTarget.for_lab(lab)
    compute = ComputeManagementClient(target.sync_credential(), info.subscription_id, **target.client_kwargs())
    compute.virtual_machines.begin_start(info.resource_group, info.broken_vm, polling_interval=0.05).result()
    started = check(lab, "deallocated", incident)
    assert started.passed, started.summary


def test_ctrl_c_while_waiting_for_the_boot_after_the_restart_records_the_restart(
        lab: RunningLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shell(lab, "firewall-lockout", *FIREWALL_FIX)

    def pressed(*_args: object) -> None:  # the responder's Ctrl-C, while the kit polls boot diagnostics
        raise KeyboardInterrupt

    monkeypatch.setattr(recovery_check, "_wait_for_boot", pressed)
    result = check(lab, "firewall-lockout", tmp_path / "INC-9", reboot=True)
    assert result.status == "interrupted" and not result.passed
    passed, seen, _ = proof(result, "restart")
    assert passed is False and seen.startswith("interrupted while waiting for the new boot: the VM was restarted at")
    [action] = read_actions(tmp_path / "INC-9")
    assert action["status"] == "interrupted"
    assert [w["operation"] for w in action["writes"]] == ["POST virtualMachines/restart"]


def test_skipped_proofs_say_what_to_give_and_bad_input_is_refused(lab: RunningLab, tmp_path: Path) -> None:
    shell(lab, "sshd-broken", *SSHD_FIX)
    unproven = check(lab, "sshd-broken", tmp_path / "INC-8", responder_ip=None, probe=None)
    assert proof(unproven, "network")[:2] == (None, "not checked: give --responder-ip (the address you connect from)")
    assert "give --probe HOST[:PORT]" in proof(unproven, "port")[1]
    assert proof(unproven, "boot")[0] is None and "is from before the fix" in proof(unproven, "boot")[1]
    assert unproven.failed is not None and unproven.failed.name == "answers", "nothing proved sshd is back"
    result = check(lab, "sshd-broken", tmp_path / "INC-8", responder_ip=None, probe=None, reboot=True)
    assert result.passed, result.summary
    assert proof(result, "boot after restart")[0] is True
    assert "(boot, network, port, network after restart, port after restart, metrics not checked)" in result.summary
    with pytest.raises(UsageError, match="approval"):
        check(lab, "sshd-broken", tmp_path / "INC-8", approval="  ")
    with pytest.raises(UsageError, match="time zone"):
        check(lab, "sshd-broken", tmp_path / "INC-8", since=datetime.now())  # noqa: DTZ005
    with pytest.raises(UsageError, match="IPv4"):
        check(lab, "sshd-broken", tmp_path / "INC-8", responder_ip="2001:db8::1")
