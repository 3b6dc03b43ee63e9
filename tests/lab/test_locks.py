"""The lab's management locks, through the real SDK: listed as ARM lists them, enforced as ARM enforces them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.resource.locks import ManagementLockClient

from kit.azure.target import AzureTarget
from kit.lab import RunningLab, running_lab
from kit.lab.locks import add_lock


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    with running_lab(scenarios=["kernel-panic"]) as running:
        yield running


def _clients(lab: RunningLab) -> tuple[ComputeManagementClient, ManagementLockClient, str, str, str]:
    info = lab.scenario("kernel-panic")
    target = AzureTarget.for_lab(lab)
    credential, kwargs = target.sync_credential(), target.client_kwargs()
    vm = str(info.vm_id(info.broken_vm))
    return (ComputeManagementClient(credential, info.subscription_id, **kwargs),
            ManagementLockClient(credential, info.subscription_id, **kwargs), info.subscription_id,
            info.resource_group, vm)


def test_locks_are_listed_at_and_below_a_scope_and_a_read_only_one_refuses_writes_but_not_reads(
        lab: RunningLab) -> None:
    compute, locks, sub, group, vm = _clients(lab)
    lock_id = add_lock(lab.state, f"/subscriptions/{sub}/resourceGroups/{group}", "ReadOnly", "freeze", notes="why")
    try:
        [listed] = list(locks.management_locks.list_at_resource_group_level(group))
        assert (listed.id, listed.level, listed.notes, listed.name) == (lock_id, "ReadOnly", "why", "freeze")
        assert [lock.id for lock in locks.management_locks.list_at_subscription_level()] == [lock_id]
        name = vm.rsplit("/", 1)[1]
        with pytest.raises(HttpResponseError) as refused:
            compute.virtual_machines.begin_deallocate(group, name).result()
        assert refused.value.status_code == 409 and refused.value.error is not None
        assert refused.value.error.code == "ScopeLocked"
        assert "cannot perform write operation because following scope(s) are locked" in str(refused.value)
        assert compute.virtual_machines.get(group, name).name == name  # reads go on
        assert lab.state.power_state(vm) == "running"
    finally:
        lab.state.extras.pop("management_locks", None)


def test_a_cannot_delete_lock_refuses_deletes_only(lab: RunningLab) -> None:
    compute, _, sub, group, vm = _clients(lab)
    disk = compute.virtual_machines.get(group, vm.rsplit("/", 1)[1]).storage_profile.os_disk.managed_disk.id
    add_lock(lab.state, f"/subscriptions/{sub}", "CanNotDelete", "sub-wide")
    try:
        with pytest.raises(HttpResponseError) as refused:
            compute.disks.begin_delete(group, disk.rsplit("/", 1)[1]).result()
        assert "cannot perform delete operation" in str(refused.value) and f"'/subscriptions/{sub}'" in str(
            refused.value)
        compute.virtual_machines.begin_deallocate(group, vm.rsplit("/", 1)[1]).result()  # a write is no delete
        assert lab.state.power_state(vm) == "deallocated"
    finally:
        lab.state.extras.pop("management_locks", None)
