"""``kit repair`` under management locks, and when a step fails after the broken VM was changed.

Against the lab through the real SDK: a ReadOnly lock refuses the repair before any write, a
CanNotDelete lock lets it recover but keeps the repair VM (with the commands to finish), a lock a
policy puts on what the repair made stops only the clean-up, and a start Azure has no room for
says where the VM stands and how to go on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from repairs import FSTAB, PANIC, broken_vm, kit_fix

from kit.azure.actions import WriteLog
from kit.azure.repair import BootProof, RepairRefused, boot_proof, repair
from kit.lab import RunningLab, running_lab
from kit.lab.capacity import refuse_start
from kit.lab.console_states import set_responder_roles
from kit.lab.gateway import check
from kit.lab.locks import add_lock

RECORDINGS = Path(__file__).parents[1] / "data" / "azure-cli-recordings"


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    """A lab of its own per test: a repair changes the VM, its disks and its guest."""
    with running_lab(scenarios=[PANIC, FSTAB]) as running:
        yield running


def _group_scope(vm_id: str) -> str:
    return "/".join(vm_id.split("/")[:5])


def _os_disk(lab: RunningLab, vm_id: str) -> str:
    return str(lab.state.get(vm_id)["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"])  # type: ignore[index]


def test_a_read_only_lock_on_the_resource_group_refuses_the_repair_before_any_write(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, PANIC)
    group = vm_id.split("/")[4]
    lock_id = add_lock(lab.state, _group_scope(vm_id), "ReadOnly", "freeze", notes="change freeze until Friday")
    before, log = _os_disk(lab, vm_id), WriteLog()
    with pytest.raises(RepairRefused) as refused:
        repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:kernel_panic"), approval="CHG-20",
               prove=lambda: BootProof(True, "unused"), write_log=log)
    said = str(refused.value)
    assert "the ReadOnly lock 'freeze' on resource group" in said and "change freeze until Friday" in said
    assert f"az lock delete --ids {lock_id}" in said
    assert f"az lock create --name freeze --lock-type ReadOnly --resource-group {group}" in said
    assert "Nothing was changed" in said
    assert log.writes == []
    assert _os_disk(lab, vm_id) == before and lab.state.power_state(vm_id) == "running"


def test_a_cannot_delete_lock_lets_the_repair_recover_and_keeps_the_repair_vm_with_the_way_to_finish(
        lab: RunningLab) -> None:
    target, vm_id, compute = broken_vm(lab, FSTAB)
    group = vm_id.split("/")[4]
    add_lock(lab.state, _group_scope(vm_id), "CanNotDelete", "prod-no-delete")
    info = lab.scenario(FSTAB)
    other = next(str(info.vm_id(vm)) for vm in info.vms if str(info.vm_id(vm)).lower() != vm_id.lower())
    add_lock(lab.state, other, "ReadOnly", "someone-else")  # another VM's lock is not this repair's business
    log = WriteLog()
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:fstab"), finding="boot_failure:fstab",
                     approval="CHG-21", prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2),
                     write_log=log)
    assert outcome.status == "recovered", outcome.message
    read = next(step for step in outcome.steps if step.name == f"read the locks over {group}")
    assert "CanNotDelete lock 'prod-no-delete'" in read.detail and "someone-else" not in read.detail
    assert outcome.deleted == [] and len(outcome.left) == 4
    for left in outcome.left:  # the repair VM, its OS disk, NIC and NSG: still there, named with their commands
        assert lab.state.get(left) is not None
        assert left.rsplit("/", 1)[1] in outcome.message
    assert not any(step.name.startswith("delete") for step in outcome.steps)
    assert not any(write.method == "DELETE" for write in log.writes)
    assert "refuses deletes" in outcome.message and "az lock delete --ids" in outcome.message
    assert f"az vm delete -g {group} -n {outcome.repair_vm.rsplit('/', 1)[1]} --yes" in outcome.message
    assert "az lock create --name prod-no-delete --lock-type CanNotDelete" in outcome.message
    assert check(lab, FSTAB).passed
    assert compute.snapshots.get(group, outcome.snapshot.rsplit("/", 1)[1]) is not None


def test_a_lock_a_policy_puts_on_the_repair_nsg_stops_only_the_clean_up_and_the_repair_stays_recovered(
        lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, PANIC)
    group = vm_id.split("/")[4]
    locked: list[str] = []

    def prove() -> BootProof:  # once the VM is proven, a DeployIfNotExists policy locks the repair's NSG
        proof = boot_proof(target, vm_id, timeout=10, interval=0.2)
        repair_nsg = next(body for body in lab.state.resources.values()
                          if str(body.get("type", "")).lower() == "microsoft.network/networksecuritygroups"
                          and (body.get("tags") or {}).get("kit-repair"))
        locked.append(add_lock(lab.state, str(repair_nsg["id"]), "CanNotDelete", "deny-delete-by-policy"))
        return proof

    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:kernel_panic"),
                     finding="boot_failure:kernel_panic", approval="CHG-22", prove=prove)
    assert locked, "the proof ran"
    assert outcome.status == "recovered", outcome.message
    assert len(outcome.deleted) == 3 and len(outcome.left) == 1 and outcome.left[0].endswith("-nsg")
    assert "ScopeLocked" in outcome.message and "the clean-up stopped" in outcome.message
    assert f"az network nsg delete -g {group} -n {outcome.left[0].rsplit('/', 1)[1]}" in outcome.message
    assert lab.state.get(outcome.left[0]) is not None and all(lab.state.get(d) is None for d in outcome.deleted)
    failed = [step for step in outcome.steps if step.result != "ok"]
    assert [step.name for step in failed] == ["delete the repair NSG"]


def test_a_start_azure_has_no_room_for_says_where_the_vm_stands_and_the_way_on_works(lab: RunningLab) -> None:
    target, vm_id, compute = broken_vm(lab, FSTAB)
    group, name = vm_id.split("/")[4], vm_id.rsplit("/", 1)[1]
    original = _os_disk(lab, vm_id)
    refuse_start(lab.state, vm_id)
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:fstab"), finding="boot_failure:fstab",
                     approval="CHG-23", prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "failed"
    assert f"start {name} failed" in outcome.message and "ZonalAllocationFailed" in outcome.message
    assert f"{name} is deallocated with the repaired copy" in outcome.message
    assert f"az vm start -g {group} -n {name}" in outcome.message and original in outcome.message
    assert "no room for its size" in outcome.message
    assert lab.state.power_state(vm_id) == "deallocated" and _os_disk(lab, vm_id) == outcome.repaired_disk
    assert lab.state.get(outcome.repair_vm) is not None  # nothing deleted before a proof
    compute.virtual_machines.begin_start(group, name).result()  # the way on the message gives
    assert lab.state.power_state(vm_id) == "running"
    assert boot_proof(target, vm_id, timeout=10, interval=0.2).passed


def test_locks_the_identity_may_not_read_are_noted_and_the_repair_goes_on(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, PANIC)
    group = vm_id.split("/")[4]
    set_responder_roles(lab.state, [(_group_scope(vm_id), "Contributor")])  # nothing at the subscription
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:kernel_panic"),
                     finding="boot_failure:kernel_panic", approval="CHG-24",
                     prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "recovered", outcome.message
    read = next(step for step in outcome.steps if step.name == f"read the locks over {group}")
    assert "the subscription's locks could not be read (HTTP 403)" in read.detail
    assert "ScopeLocked at the write it refuses" in read.detail
    assert len(outcome.deleted) == 4


def test_the_subscriptions_lock_list_as_azure_answers_it_counts_only_the_locks_over_the_vm(lab: RunningLab) -> None:
    recorded = json.loads((RECORDINGS / "test_cannotdelete_resource_group_lock.locks_list.json").read_text())
    target, vm_id, _ = broken_vm(lab, FSTAB)
    info = lab.scenario(FSTAB)
    for lock in recorded["response"]["value"]:  # azure-cli's group is this VM's; the others stay other groups
        lock_id = lock["id"].replace("00000000-0000-0000-0000-000000000000", info.subscription_id).replace(
            "cli_test_cannotdelete_resource_group_lock000001", info.resource_group)
        scope, name = lock_id.split("/providers/Microsoft.Authorization/locks/")
        add_lock(lab.state, scope, lock["properties"]["level"], name)
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:fstab"), finding="boot_failure:fstab",
                     approval="CHG-26", prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "recovered", outcome.message  # another group's ReadOnly VNet lock refuses nothing here
    read = next(step for step in outcome.steps if step.name == f"read the locks over {info.resource_group}")
    assert read.detail == f"the CanNotDelete lock 'cli-test-lock000002' on resource group {info.resource_group}"
    assert len(outcome.left) == 4 and outcome.deleted == []
