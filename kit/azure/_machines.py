"""A VM or a uniform scale-set instance in the compute SDK: its operations group and the arguments naming it.

``virtual_machines.begin_restart(group, vm)`` and ``virtual_machine_scale_set_vms.begin_restart(group,
scale_set, instance_id)`` are the same call for the two kinds of machine; so are the instance view,
boot diagnostics and Run Command.
"""

from __future__ import annotations

from kit import ids

__all__ = ["compute_operations", "machine_args", "parse_machine"]


def parse_machine(vm_id: str) -> ids.ResourceId:
    """The id of a VM or of a scale-set instance; anything else raises :class:`~kit.errors.InvalidResourceId`."""
    rid = ids.parse_resource_id(vm_id)
    if rid.is_kind(ids.VM) or rid.is_kind(ids.VMSS_VM):
        return rid
    return ids.parse_resource_id(vm_id, expect=ids.VM)  # the error names what was expected


def compute_operations(rid: ids.ResourceId) -> str:
    """The compute client's operations group: ``virtual_machines`` or ``virtual_machine_scale_set_vms``."""
    return "virtual_machine_scale_set_vms" if rid.is_kind(ids.VMSS_VM) else "virtual_machines"


def machine_args(rid: ids.ResourceId) -> tuple[str, ...]:
    """The SDK's arguments naming the machine: ``(group, vm)`` or ``(group, scale_set, instance_id)``."""
    return (str(rid.resource_group), *rid.names)
