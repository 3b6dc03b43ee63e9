"""The serial console of a scale-set instance in the lab: precheck, connect under the scale set, log in to the
scripted guest of the broken instance, see the model update's firewall and fix it (the lab's check agrees)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.azure.serialconsole import SerialConsoleClient
from kit.console import lab_console_client, open_lab_session
from kit.errors import ResourceNotFoundError
from kit.lab import RunningLab, running_lab
from kit.lab.gateway import check

SCENARIO = "vmss-canary-firewall"


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    with running_lab(scenarios=[SCENARIO]) as running:
        yield running


def test_the_instance_is_a_scale_set_instance_and_its_console_is_ready(lab: RunningLab) -> None:
    info = lab.scenario(SCENARIO)
    client, vm_id = lab_console_client(lab, SCENARIO)
    assert vm_id == info.vm_id(info.broken_vm)
    assert f"/virtualMachineScaleSets/{info.scale_set}/virtualMachines/{info.instance_id(info.broken_vm)}" in vm_id
    result = client.precheck(vm_id)
    assert result.ok and result.os_type == "linux" and result.power_state == "running", result
    assert "hardening-v4 DROP:" in client.serial_log_tail(vm_id)


def test_a_missing_instance_is_refused_like_arm_does(lab: RunningLab) -> None:
    info = lab.scenario(SCENARIO)
    client = SerialConsoleClient.for_lab(lab)
    missing = info.vm_id(info.broken_vm).rsplit("/", 1)[0] + "/9"
    with pytest.raises(ResourceNotFoundError, match="ParentResourceNotFound") as raised:
        client.connection_string(missing)
    assert raised.value.status == 404


async def test_log_in_see_the_baseline_and_fix_it(lab: RunningLab, tmp_path: Path) -> None:
    info = lab.scenario(SCENARIO)
    assert not check(lab, SCENARIO).passed
    async with open_lab_session(lab, SCENARIO, approval="CHG-VMSS", transcript=tmp_path / "i.cast") as session:
        await session.async_expect("checkout000002 login: ", timeout=10)
        await session.async_login(str(info.guest["username"]), str(info.guest["password"]), timeout=20)
        rules = await session.async_run("sudo iptables -S INPUT", timeout=20)
        assert "-P INPUT DROP" in rules and "10.60.0.0/16" in rules
        await session.async_run(f"sudo iptables -I INPUT -p tcp -s {info.responder_ip} --dport 22 -j ACCEPT",
                                timeout=20)
        half = check(lab, SCENARIO)  # SSH is back, but the load balancer's probe is still dropped
        assert not half.passed and "168.63.129.16" in half.message and "8080" in half.message
        await session.async_run("sudo iptables -I INPUT -p tcp -s 168.63.129.16 --dport 8080 -j ACCEPT", timeout=20)
        await session.async_run("sudo netfilter-persistent save", timeout=20)
    result = check(lab, SCENARIO)
    assert result.passed, result
    assert info.vm_id(info.broken_vm) in (tmp_path / "i.cast").read_text().splitlines()[0]


async def test_a_healthy_instance_has_its_own_console(lab: RunningLab, tmp_path: Path) -> None:
    info = lab.scenario(SCENARIO)
    async with open_lab_session(lab, SCENARIO, approval="CHG-VMSS", vm=info.known_good[0],
                                transcript=tmp_path / "p.cast") as session:
        await session.async_expect("checkout000000 login: ", timeout=10)


def test_kit_console_precheck_takes_vmss_and_instance(lab: RunningLab, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from kit.cli import main

    info = lab.scenario(SCENARIO)
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    where = ["--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential", "env-token",
             "--subscription", info.subscription_id, "--resource-group", info.resource_group]
    assert main(["console", "precheck", *where, "--vmss", info.scale_set,
                 "--instance", info.instance_id(info.broken_vm)]) == 0
    out = capsys.readouterr().out
    assert "ready" in out and info.vm_id(info.broken_vm) in out
    assert main(["console", "precheck", *where, "--vmss", info.scale_set]) == 2
    assert "--vmss and --instance go together" in capsys.readouterr().err
