"""``kit.azure.runcommand`` against the lab (real SDK over HTTPS), and the scripts it sends (fix_scripts)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from kit.analyze.fix_scripts import diagnostics_script, finding_kind, fix_script
from kit.azure.actions import WriteLog
from kit.azure.runcommand import AgentNotReadyError, run_command
from kit.azure.target import AzureTarget
from kit.errors import AzureError, UsageError
from kit.lab import RunningLab, load_scenario, running_lab
from kit.lab.arm_runcommand import HANDLER_FAILURE, set_run_command_fault
from kit.lab.gateway import check


@pytest.fixture(scope="module")
def rc_lab() -> Iterator[RunningLab]:
    """A lab of this module's own: the fixes change the guests."""
    with running_lab() as lab:
        yield lab


def _vm(scenario: str) -> str:
    info = load_scenario(scenario)
    return str(info.vm_id(info.broken_vm))


def _facts(scenario: str) -> dict[str, Any]:
    info = load_scenario(scenario)
    facts = dict(yaml.safe_load((info.path / "scenario.yaml").read_text())["facts"])
    return {**facts, "responder_ip": info.responder_ip}


@pytest.mark.parametrize(("scenario", "os_type", "finding", "managed", "seen"), [
    ("firewall-lockout", "linux", "firewall", False, "-P INPUT DROP"),
    ("sshd-broken", "linux", "sshd", True, "Bad configuration option: StreamLocalBindUnlnk"),
    ("windows-rdp", "windows", "rdp", False, "StartType   : Disabled"),
])
def test_diagnose_then_fix_makes_the_lab_check_pass(rc_lab: RunningLab, scenario: str, os_type: str, finding: str,
                                                    managed: bool, seen: str) -> None:
    target = AzureTarget.for_lab(rc_lab)
    found = run_command(target, _vm(scenario), diagnostics_script(os_type), os_type=os_type, managed=managed)
    assert seen in found.stdout + found.stderr
    assert found.execution_state == "Succeeded" and not found.truncated
    assert found.exit_code == (None if os_type == "windows" and not managed else 0)
    assert not check(rc_lab, scenario).passed
    log = WriteLog()
    fixed = run_command(target, _vm(scenario), fix_script(finding, _facts(scenario)), os_type=os_type,
                        managed=managed, write_log=log)
    assert fixed.execution_state == "Succeeded", fixed
    result = check(rc_lab, scenario)
    assert result.passed, result.message
    expected = (["PUT virtualMachines/runCommands", "DELETE virtualMachines/runCommands"] if managed
                else ["POST virtualMachines/runCommand"])
    assert [w.operation for w in log.writes] == expected and all(w.result == "accepted" for w in log.writes)


@pytest.mark.parametrize("scenario", ["kernel-panic", "fstab-emergency"])
def test_agent_not_ready_is_refused_before_anything_runs(rc_lab: RunningLab, scenario: str) -> None:
    log = WriteLog()
    with pytest.raises(AgentNotReadyError, match=r"VM agent of .* is not Ready .*serial console.*kit repair"):
        run_command(AzureTarget.for_lab(rc_lab), _vm(scenario), "uptime", os_type="linux", write_log=log)
    assert log.writes == []


def test_a_vm_that_is_not_running_is_refused(rc_lab: RunningLab) -> None:
    with pytest.raises(AzureError, match="rpt-db-01 is deallocated: Run Command needs a running VM"):
        run_command(AzureTarget.for_lab(rc_lab), _vm("deallocated"), "uptime", os_type="linux")


def test_a_vm_that_disallows_extension_operations_is_told_apart_from_one_that_is_stopped(rc_lab: RunningLab) -> None:
    vm = rc_lab.state.get(_vm("windows-rdp"))
    assert vm is not None
    vm["properties"]["osProfile"]["allowExtensionOperations"] = False
    try:
        for managed in (False, True):
            with pytest.raises(AgentNotReadyError, match=r"allows no extension operations, and Run Command is one "
                                                         r"\(osProfile.allowExtensionOperations is false.*serial "
                                                         r"console"):
                run_command(AzureTarget.for_lab(rc_lab), _vm("windows-rdp"), "hostname", os_type="windows",
                            managed=managed)
    finally:
        vm["properties"]["osProfile"]["allowExtensionOperations"] = True


def test_timeout_then_conflict_while_the_first_script_still_runs(rc_lab: RunningLab) -> None:
    target = AzureTarget.for_lab(rc_lab)
    with pytest.raises(AzureError, match=r"did not finish on build-coord-01 within 0.5 s; action Run Command cannot "
                                         r"be cancelled"):
        run_command(target, _vm("sshd-broken"), "sleep 2\necho done", os_type="linux", timeout=0.5)
    with pytest.raises(AzureError, match=r"another Run Command is still running on build-coord-01 \(409 Conflict\)"):
        run_command(target, _vm("sshd-broken"), "echo hi", os_type="linux")


def test_managed_timeout_is_reported_as_timed_out(rc_lab: RunningLab) -> None:
    outcome = run_command(AzureTarget.for_lab(rc_lab), _vm("windows-rdp"), "Start-Sleep -Seconds 4\nWrite-Output x",
                          os_type="windows", managed=True, timeout=1)
    assert (outcome.channel, outcome.execution_state, outcome.exit_code, outcome.stdout) == (
        "managed", "TimedOut", None, "")


def test_output_past_4096_bytes_is_flagged_truncated(rc_lab: RunningLab) -> None:
    script = "\n".join(f"echo {n:05d}{'y' * 60}" for n in range(100))
    target = AzureTarget.for_lab(rc_lab)
    cut = run_command(target, _vm("firewall-lockout"), script, os_type="linux")
    assert cut.truncated and len(cut.stdout.encode()) == 4096 and cut.stdout.endswith(f"00099{'y' * 60}\n")
    whole = run_command(target, _vm("firewall-lockout"), script, os_type="linux", managed=True)
    assert not whole.truncated and whole.stdout.startswith("00000") and whole.exit_code == 0


def test_a_failing_script_reports_its_exit_code(rc_lab: RunningLab) -> None:
    outcome = run_command(AzureTarget.for_lab(rc_lab), _vm("firewall-lockout"), "cat /nope", os_type="linux")
    assert (outcome.exit_code, outcome.execution_state) == (1, "Failed")
    assert outcome.stderr == "cat: /nope: No such file or directory\n"


def test_extension_handler_failure_says_where_to_look(rc_lab: RunningLab) -> None:
    vm = _vm("firewall-lockout")
    set_run_command_fault(rc_lab.state, vm, HANDLER_FAILURE)
    try:
        with pytest.raises(AzureError, match=r"the Run Command extension failed on sched-01 "
                                             r"\(VMExtensionProvisioningError\).*extension logs"):
            run_command(AzureTarget.for_lab(rc_lab), vm, "echo hi", os_type="linux")
    finally:
        set_run_command_fault(rc_lab.state, vm, None)


def test_a_scale_set_instance_runs_through_the_scale_set_vm_api(rc_lab: RunningLab) -> None:
    info = load_scenario("vmss-canary-firewall")
    healthy = str(info.vm_id(info.known_good[0]))
    target, log = AzureTarget.for_lab(rc_lab), WriteLog()
    outcome = run_command(target, healthy, "echo from-the-instance\nexit 3", os_type="linux", managed=True,
                          write_log=log)
    assert (outcome.stdout, outcome.exit_code, outcome.execution_state) == ("from-the-instance\n", 3, "Failed")
    assert [w.operation for w in log.writes] == ["PUT virtualMachineScaleSets/virtualMachines/runCommands",
                                                 "DELETE virtualMachineScaleSets/virtualMachines/runCommands"]
    assert all(w.target.lower().startswith(healthy.lower() + "/runcommands/kit-") for w in log.writes)
    view = rc_lab.state.instance_views[healthy.lower()]
    saved = view["statuses"]
    view["statuses"] = [{"code": "PowerState/deallocated", "displayStatus": "VM deallocated"}]
    try:
        with pytest.raises(AzureError, match="vmss-checkout instance 0 is deallocated: Run Command needs a running VM"):
            run_command(target, healthy, "uptime", os_type="linux")
    finally:
        view["statuses"] = saved


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"os_type": "macos"}, "linux or windows"),
    ({"os_type": "linux", "timeout": 9000}, "at most 5400"),
    ({"os_type": "linux", "script": "  \n"}, "script is empty"),
])
def test_bad_arguments_are_usage_errors(rc_lab: RunningLab, kwargs: dict[str, Any], message: str) -> None:
    arguments = {"script": "uptime", **kwargs}
    with pytest.raises(UsageError, match=message):
        run_command(AzureTarget.for_lab(rc_lab), _vm("firewall-lockout"), **arguments)


def test_the_scripts_name_what_they_read_and_fix() -> None:
    linux = diagnostics_script("linux")
    for command in ("iptables -S", "nft list ruleset", "systemctl --failed", "sshd -t",
                    "journalctl -u ssh -u sshd -b --no-pager | tail -n 50", "firewall-cmd --list-all", "getenforce",
                    "ausearch -m avc -ts boot", "findmnt --verify", "df -h"):
        assert command in linux
    assert "fDenyTSConnections" in diagnostics_script("windows") and "UserAuthentication" in diagnostics_script(
        "windows")
    firewall = fix_script("firewall", {"responder_ip": "198.51.100.4"})
    assert "iptables -I INPUT -s 198.51.100.4 -p tcp --dport 22 -j ACCEPT" in firewall
    assert "netfilter-persistent save || iptables-save > /etc/iptables/rules.v4" in firewall
    sshd = fix_script("service_failure:sshd", {"bad_option": "ListenAdress"})
    assert "sed -i 's/^ListenAdress/# ListenAdress/' /etc/ssh/sshd_config" in sshd
    assert "systemctl reset-failed ssh" in sshd and "mkdir -p /run/sshd" in sshd
    rdp = fix_script("rdp", {})
    assert "Set-Service -Name TermService -StartupType Manual" in rdp and "Group Policy" in rdp
    assert finding_kind("kernel") == "boot_failure:kernel_panic"


@pytest.mark.parametrize(("finding", "facts", "message"), [
    ("fstab", {}, "use kit repair"),
    ("boot_failure:kernel_panic", {}, "use kit repair"),
    ("sshd", {}, "say which line sshd -t rejects"),
    ("firewall", {"responder_ip": "not-an-ip"}, "not an IP address"),
    ("firewall", {"blocked": "203.0.113.7"}, "not SOURCE:PORT"),
    ("reboot", {}, "unknown finding"),
])
def test_fixes_refuse_what_they_cannot_do(finding: str, facts: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        fix_script(finding, facts)
