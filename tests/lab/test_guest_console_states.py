"""What the console shows for each scenario's state, through the lab (real wss, TLS verified)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from kit.azure.serialconsole import SerialConsoleClient
from kit.console import azure_transport, open_lab_session
from kit.errors import AzureError, ConsolePrecheckError


@pytest.fixture(scope="module")
def lab() -> Iterator[Any]:
    from kit.lab import running_lab

    scenarios = ["kernel-panic", "nsg-deny", "deallocated", "fstab-emergency", "windows-rdp"]
    with running_lab(scenarios=scenarios) as running:
        yield running


def test_a_panicked_kernel_answers_nothing(lab: Any) -> None:
    with open_lab_session(lab, "kernel-panic", approval="T-PANIC") as session:
        session.sendline("")
        time.sleep(0.5)
        assert session.read(timeout=0.2) == ""
    result = lab.check("kernel-panic")
    assert not result.passed and "no console fix" in result.message


def test_a_vm_blocked_by_its_nsg_has_a_healthy_guest(lab: Any) -> None:
    info = lab.scenario("nsg-deny")
    with open_lab_session(lab, "nsg-deny", approval="T-NSG") as session:
        session.login(info.guest["username"], info.guest["password"])
        assert "-P INPUT ACCEPT" in session.run("sudo iptables -S")
        assert "active" in session.run("systemctl is-active ssh")


def test_a_deallocated_vm_fails_the_precheck_and_the_connect(lab: Any) -> None:
    info = lab.scenario("deallocated")
    client = SerialConsoleClient.for_lab(lab)
    vm_id = info.vm_id(info.broken_vm)
    result = client.precheck(vm_id)
    assert not result.ok and result.power_state == "deallocated"
    assert any("requires a virtual machine to be running" in p for p in result.problems)
    with pytest.raises(ConsolePrecheckError, match="running"):
        azure_transport(client, vm_id)
    with pytest.raises(AzureError) as refused:
        client.connection_string(vm_id)
    assert refused.value.status == 409


def test_emergency_mode_shows_its_prompt_and_a_live_finding_after_reset(lab: Any) -> None:
    found = []
    with open_lab_session(lab, "fstab-emergency", approval="T-FSTAB", on_finding=found.append) as session:
        session.expect("Give root password for maintenance", timeout=10)
        session.reset(confirm=True)
        session.expect(r"Give root password for maintenance\s*\(or press Control-D to continue\): $", timeout=15)
        time.sleep(0.3)
        session.findings.analyse()
    kinds = {finding.kind for finding in session.findings.findings}
    assert any("emergency" in kind for kind in kinds), kinds


def test_windows_precheck_hints_sac_and_refuses_sysrq(lab: Any) -> None:
    info = lab.scenario("windows-rdp")
    result = SerialConsoleClient.for_lab(lab).precheck(info.vm_id(info.broken_vm))
    assert result.ok and result.os_type == "windows"
    assert any("SAC>" in hint and "SysRq is Linux-only" in hint for hint in result.hints)
    with open_lab_session(lab, "windows-rdp", approval="T-WIN") as session:
        session.sendline("")
        session.expect("SAC>", timeout=10)
        with pytest.raises(Exception, match="Linux"):
            session.sysrq("b", confirm=True)
