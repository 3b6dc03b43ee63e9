"""The lab's Run Command, through the real azure-mgmt-compute SDK: Azure's shapes, limits and refusals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from kit.lab import RunningLab, load_scenario, running_lab
from kit.lab.arm_runcommand import HANDLER_FAILURE, OUTPUT_LIMIT, set_run_command_fault
from kit.lab.gateway import check

from .conftest import Token, client_kwargs


@pytest.fixture(scope="module")
def rc_lab() -> Iterator[RunningLab]:
    """A lab of this module's own: the scripts change the guests."""
    with running_lab() as lab:
        yield lab


def _compute(lab: RunningLab, scenario: str) -> tuple[Any, Any]:
    from azure.mgmt.compute import ComputeManagementClient

    info = load_scenario(scenario)
    client = ComputeManagementClient(Token(lab.token), info.subscription_id,
                                     **client_kwargs(lab, polling_interval=0.05))
    return client, info


def _action(lab: RunningLab, scenario: str, lines: list[str], command: str = "RunShellScript") -> Any:
    client, info = _compute(lab, scenario)
    return client.virtual_machines.begin_run_command(info.resource_group, info.broken_vm,
                                                     {"commandId": command, "script": lines}).result()


def test_linux_action_answers_enable_succeeded_with_both_streams_and_is_logged(rc_lab: RunningLab) -> None:
    info = load_scenario("firewall-lockout")
    before = len(rc_lab.state.activity[info.subscription_id.lower()])
    result = _action(rc_lab, "firewall-lockout", ["iptables -S INPUT", "nosuchtool"])
    [status] = result.value
    assert (status.code, status.level, status.display_status) == ("ProvisioningState/failed", "Error",
                                                                  "Provisioning failed")
    head, _, rest = status.message.partition("\n[stdout]\n")
    assert head == "Enable failed: failed to execute command: command terminated with exit status=127"
    stdout, _, stderr = rest.partition("\n[stderr]\n")
    assert stdout.startswith("-P INPUT DROP\n")
    assert stderr == "-bash: nosuchtool: command not found\n"
    ok = _action(rc_lab, "firewall-lockout", ["echo hello"])
    assert ok.value[0].message == "Enable succeeded: \n[stdout]\nhello\n\n[stderr]\n"
    records = rc_lab.state.activity[info.subscription_id.lower()][before:]
    done = [r for r in records if r["status"]["value"] == "Succeeded"]
    assert [(r["operationName"]["value"], r["resourceId"].lower()) for r in done] == [
        ("Microsoft.Compute/virtualMachines/runCommand/action", info.vm_id(info.broken_vm).lower())] * 2
    assert done[0]["operationName"]["localizedValue"] == "Run Command on Virtual Machine"


def test_windows_action_answers_one_status_per_stream(rc_lab: RunningLab) -> None:
    result = _action(rc_lab, "windows-rdp", ["Get-Service -Name TermService | Format-List Name,Status,StartType",
                                             "Get-Service -Name NoSuchService"], "RunPowerShellScript")
    assert [v.code for v in result.value] == ["ComponentStatus/StdOut/succeeded", "ComponentStatus/StdErr/succeeded"]
    assert "Status      : Stopped\nStartType   : Disabled" in result.value[0].message
    assert result.value[1].message == "Get-Service : Cannot find any service with service name 'NoSuchService'.\n"


def test_action_keeps_the_last_4096_bytes_of_a_stream_and_managed_keeps_all(rc_lab: RunningLab) -> None:
    lines = [f"echo line-{n:04d}-{'x' * 40}" for n in range(200)]  # ~10 KB of stdout
    message = _action(rc_lab, "sshd-broken", lines).value[0].message
    stdout = message.split("\n[stdout]\n", 1)[1].split("\n[stderr]\n", 1)[0]
    assert len(stdout.encode()) == OUTPUT_LIMIT
    assert stdout.endswith(f"line-0199-{'x' * 40}\n") and "line-0000-" not in stdout
    client, info = _compute(rc_lab, "sshd-broken")
    client.virtual_machine_run_commands.begin_create_or_update(
        info.resource_group, info.broken_vm, "big", {"location": "westeurope",
                                                     "properties": {"source": {"script": "\n".join(lines)}}}).result()
    view = client.virtual_machine_run_commands.get_by_virtual_machine(info.resource_group, info.broken_vm, "big",
                                                                      expand="instanceView").properties.instance_view
    assert view.output.startswith("line-0000-") and len(view.output.splitlines()) == 200


def test_command_id_for_the_other_os_is_refused_as_azure_does(rc_lab: RunningLab) -> None:
    with pytest.raises(ResourceExistsError) as caught:
        _action(rc_lab, "windows-rdp", ["ls"], "RunShellScript")
    assert caught.value.status_code == 409
    assert "Run command OS type 'Linux' does not match the target OS Windows." in str(caught.value)


def test_a_deallocated_vm_is_refused(rc_lab: RunningLab) -> None:
    with pytest.raises(ResourceExistsError) as caught:
        _action(rc_lab, "deallocated", ["uptime"])
    assert caught.value.error.code == "OperationNotAllowed" and "since the VM is deallocated" in str(caught.value)


@pytest.mark.parametrize("scenario", ["kernel-panic", "fstab-emergency"])
def test_agent_not_ready_fails_after_the_wait_with_vm_agent_status_communication_error(rc_lab: RunningLab,
                                                                                      scenario: str) -> None:
    with pytest.raises(HttpResponseError) as caught:
        _action(rc_lab, scenario, ["uptime"])
    assert "VMAgentStatusCommunicationError" in str(caught.value)
    assert "has not reported status for VM agent or extensions" in str(caught.value)


def test_a_second_action_while_one_runs_is_a_409_conflict(rc_lab: RunningLab) -> None:
    client, info = _compute(rc_lab, "sshd-broken")
    body = {"commandId": "RunShellScript", "script": ["sleep 1", "echo done"]}
    slow = client.virtual_machines.begin_run_command(info.resource_group, info.broken_vm, body)
    with pytest.raises(ResourceExistsError) as caught:
        _action(rc_lab, "sshd-broken", ["echo hi"])
    assert "Run command extension execution is in progress. Please wait for completion" in str(caught.value)
    assert "done" in slow.result().value[0].message
    assert _action(rc_lab, "sshd-broken", ["echo again"]).value[0].message.endswith("again\n\n[stderr]\n")


def test_a_failing_extension_handler_fails_the_operation(rc_lab: RunningLab) -> None:
    _, info = _compute(rc_lab, "sshd-broken")
    set_run_command_fault(rc_lab.state, info.vm_id(info.broken_vm), HANDLER_FAILURE)
    try:
        with pytest.raises(HttpResponseError) as caught:
            _action(rc_lab, "sshd-broken", ["echo hi"])
    finally:
        set_run_command_fault(rc_lab.state, info.vm_id(info.broken_vm), None)
    assert "VMExtensionProvisioningError" in str(caught.value) and "RunCommandLinux" in str(caught.value)


def test_managed_run_command_lifecycle_exit_code_and_timeout(rc_lab: RunningLab) -> None:
    client, info = _compute(rc_lab, "sshd-broken")
    commands = client.virtual_machine_run_commands
    made = commands.begin_create_or_update(info.resource_group, info.broken_vm, "check-sshd", {
        "location": "westeurope", "properties": {"source": {"script": "sshd -t\nexit 255"}, "timeoutInSeconds": 30}},
    ).result()
    assert made.properties.provisioning_state == "Succeeded" and made.properties.instance_view is None
    view = commands.get_by_virtual_machine(info.resource_group, info.broken_vm, "check-sshd",
                                           expand="instanceView").properties.instance_view
    assert (view.execution_state, view.exit_code) == ("Failed", 255)
    assert "Bad configuration option: StreamLocalBindUnlnk" in view.error and view.start_time and view.end_time
    listed = list(commands.list_by_virtual_machine(info.resource_group, info.broken_vm))
    assert "check-sshd" in [c.name for c in listed]

    started = time.monotonic()
    commands.begin_create_or_update(info.resource_group, info.broken_vm, "slow", {
        "location": "westeurope", "properties": {"source": {"script": "sleep 5\necho late"}, "timeoutInSeconds": 1}},
    ).result()
    assert time.monotonic() - started < 4
    slow = commands.get_by_virtual_machine(info.resource_group, info.broken_vm, "slow", expand="instanceView")
    assert slow.properties.instance_view.execution_state == "TimedOut" and slow.properties.instance_view.output == ""

    commands.begin_delete(info.resource_group, info.broken_vm, "check-sshd").result()
    with pytest.raises(ResourceNotFoundError):
        commands.get_by_virtual_machine(info.resource_group, info.broken_vm, "check-sshd")


def test_a_fix_through_run_command_is_judged_like_a_console_fix(rc_lab: RunningLab) -> None:
    assert not check(rc_lab, "sshd-broken").passed
    _action(rc_lab, "sshd-broken", ["sed -i 's/^StreamLocalBindUnlnk/StreamLocalBindUnlink/' "
                                    "/etc/ssh/sshd_config.d/50-cloud-init.conf", "systemctl restart ssh"])
    assert check(rc_lab, "sshd-broken").passed


def test_the_location_lists_the_two_script_commands(rc_lab: RunningLab) -> None:
    client, _ = _compute(rc_lab, "windows-rdp")
    listed = {(c.id, c.os_type) for c in client.virtual_machine_run_commands.list("westeurope")}
    assert listed == {("RunShellScript", "Linux"), ("RunPowerShellScript", "Windows")}
