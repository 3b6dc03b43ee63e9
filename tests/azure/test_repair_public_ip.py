"""``kit repair`` and a legacy VM's dynamic public address: refused before a deallocation would release it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.mgmt.network import NetworkManagementClient

from kit.analyze.repair_scripts import facts_from_boot_log, fix_script
from kit.azure.actions import WriteLog
from kit.azure.repair import BootProof, RepairRefused, boot_proof, read_boot_state, repair
from kit.azure.target import AzureTarget
from kit.lab import RunningLab, running_lab
from kit.lab.public_ips import add_public_ip


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    with running_lab(scenarios=["kernel-panic"]) as running:
        yield running


def test_a_dynamic_public_ip_is_refused_and_the_command_it_gives_keeps_the_address_through_the_repair(
        lab: RunningLab) -> None:
    info = lab.scenario("kernel-panic")
    target, vm_id = AzureTarget.for_lab(lab), str(info.vm_id(info.broken_vm))
    group, name = info.resource_group, info.broken_vm
    pip_id = add_public_ip(lab.state, vm_id, sku="Basic", allocation="Dynamic")
    address = lab.state.get(pip_id)["properties"]["ipAddress"]  # type: ignore[index]
    state = read_boot_state(target, vm_id)
    script = fix_script("boot_failure:kernel_panic", facts_from_boot_log(state.serial_log), os_type=state.os_type)
    log = WriteLog()
    with pytest.raises(RepairRefused) as refused:
        repair(target, vm_id, script=script, approval="CHG-30", prove=lambda: BootProof(True, "unused"), write_log=log)
    said = str(refused.value)
    assert f"public IP {name}-pip ({address}) is dynamic" in said and "releases it" in said
    assert f"az network public-ip update -g {group} -n {name}-pip --allocation-method Static" in said
    assert log.writes == [] and lab.state.power_state(vm_id) == "running"

    network = NetworkManagementClient(target.sync_credential(), info.subscription_id, **target.client_kwargs())
    pip = network.public_ip_addresses.get(group, f"{name}-pip")  # what `az network public-ip update` does
    pip.public_ip_allocation_method = "Static"
    network.public_ip_addresses.begin_create_or_update(group, f"{name}-pip", pip).result()
    outcome = repair(target, vm_id, script=script, finding="boot_failure:kernel_panic", approval="CHG-31",
                     prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "recovered", outcome.message
    assert any(step.name == f"read the public IP {name}-pip" for step in outcome.steps)
    assert network.public_ip_addresses.get(group, f"{name}-pip").ip_address == address


def test_a_standard_public_ip_is_static_and_the_repair_goes_on(lab: RunningLab) -> None:
    info = lab.scenario("kernel-panic")
    target, vm_id = AzureTarget.for_lab(lab), str(info.vm_id(info.broken_vm))
    pip_id = add_public_ip(lab.state, vm_id, sku="Standard", allocation="Static")
    address = lab.state.get(pip_id)["properties"]["ipAddress"]  # type: ignore[index]
    state = read_boot_state(target, vm_id)
    script = fix_script("boot_failure:kernel_panic", facts_from_boot_log(state.serial_log), os_type=state.os_type)
    outcome = repair(target, vm_id, script=script, approval="CHG-32",
                     prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "recovered", outcome.message
    assert lab.state.get(pip_id)["properties"]["ipAddress"] == address  # type: ignore[index]
