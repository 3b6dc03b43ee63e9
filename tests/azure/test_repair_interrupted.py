"""A repair the responder interrupts: it ends the step under way, stops before the next and says where all stands."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from kit.analyze.repair_scripts import facts_from_boot_log, fix_script
from kit.azure.repair import RepairOutcome, RepairStep, boot_proof, read_boot_state, repair_async
from kit.azure.target import AzureTarget
from kit.lab import RunningLab, running_lab


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    with running_lab(scenarios=["fstab-emergency"]) as running:
        yield running


def _interrupted_after(lab: RunningLab, step_name: str) -> tuple[RepairOutcome, str]:
    info = lab.scenario("fstab-emergency")
    target, vm_id = AzureTarget.for_lab(lab), str(info.vm_id(info.broken_vm))
    state = read_boot_state(target, vm_id)
    script = fix_script("boot_failure:fstab", facts_from_boot_log(state.serial_log), os_type=state.os_type)
    stop = threading.Event()

    def on_step(step: RepairStep) -> None:
        if step.name == step_name:
            stop.set()  # what Ctrl-C does through repair(on_interrupt=…)

    outcome = asyncio.run(repair_async(target, vm_id, script=script, finding="boot_failure:fstab", approval="CHG-40",
                                       prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2),
                                       on_step=on_step, stop=stop))
    return outcome, vm_id


def test_interrupted_once_the_vm_is_deallocated_it_stops_and_says_how_to_start_it_and_what_to_delete(
        lab: RunningLab) -> None:
    info = lab.scenario("fstab-emergency")
    outcome, vm_id = _interrupted_after(lab, f"deallocate {info.broken_vm}")
    group, name = info.resource_group, info.broken_vm
    assert outcome.status == "interrupted", outcome.message
    message = outcome.message
    assert message.startswith("interrupted before swapping in the repaired OS disk")
    assert f"{name} is deallocated with its original OS disk" in message
    assert f"az vm start -g {group} -n {name}" in message
    assert f"az vm update -g {group} -n {name} --os-disk {outcome.repaired_disk} swaps it in" in message
    steps = [step.name for step in outcome.steps]
    assert "detach the copy from the repair VM" in steps and "swap in the repaired OS disk" not in steps
    assert lab.state.power_state(vm_id) == "deallocated"
    made = outcome.made
    assert len(made) == 6 and all(lab.state.get(resource) is not None for resource in made)
    repair_vm = outcome.repair_vm.rsplit("/", 1)[1]
    deletes = message[message.index("the repair VM's parts go with: "):]
    assert deletes.index(f"az vm delete -g {group} -n {repair_vm} --yes") < deletes.index(
        f"az disk delete -g {group} -n {repair_vm}-osdisk --yes") < deletes.index("az network nsg delete")
    assert "-snapshot" not in deletes and "osdisk-fixed" not in deletes  # the snapshot and the copy are kept


def test_interrupted_during_the_proof_it_stays_recovered_and_leaves_only_the_clean_up(lab: RunningLab) -> None:
    outcome, vm_id = _interrupted_after(lab, "prove the recovery")
    assert outcome.status == "recovered", outcome.message
    assert "interrupted before the clean-up" in outcome.message
    assert len(outcome.left) == 4 and outcome.deleted == []
    assert lab.state.power_state(vm_id) == "running"
