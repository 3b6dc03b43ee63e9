"""What the repair tests share: the two offline scenarios, a broken VM's clients and the kit's fix for it."""

from __future__ import annotations

from azure.mgmt.compute import ComputeManagementClient

from kit.analyze.repair_scripts import facts_from_boot_log, fix_script
from kit.azure.repair import read_boot_state
from kit.azure.target import AzureTarget
from kit.lab import RunningLab

PANIC = "kernel-panic"
FSTAB = "fstab-emergency"


def broken_vm(lab: RunningLab, scenario: str) -> tuple[AzureTarget, str, ComputeManagementClient]:
    """The lab as a target, the scenario's broken VM id and a compute client for its subscription."""
    info = lab.scenario(scenario)
    target = AzureTarget.for_lab(lab)
    compute = ComputeManagementClient(target.sync_credential(), info.subscription_id, **target.client_kwargs())
    return target, str(info.vm_id(info.broken_vm)), compute


def kit_fix(target: AzureTarget, vm_id: str, kind: str) -> str:
    """The kit's fix script for ``kind``, with the facts the VM's serial log gives."""
    state = read_boot_state(target, vm_id)
    return fix_script(kind, facts_from_boot_log(state.serial_log), os_type=state.os_type)
