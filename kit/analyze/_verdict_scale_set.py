"""Next steps for a uniform scale-set instance: the ``az vmss`` commands that do what ``az vm`` ones do for a VM.

``az vm`` commands act on standalone VMs only: ``az vm start -n vmss-web_2`` finds nothing. An
instance is named by its scale set and instance id (``az vmss start -n vmss-web --instance-ids 2``);
what ``az vmss`` has no instance form of (boot diagnostics' ``retrieveBootDiagnosticsData``, a
redeploy) is ARM's instance operation through ``az rest``; a change to
the model (boot diagnostics, Secure Boot, size) is made on the scale set and rolled out to the
instance with ``az vmss update-instances``. An instance's OS disk cannot be swapped, so there is no
repair VM (``az vm repair`` and ``kit repair`` take VMs only): it is re-imaged to the scale set's
model or replaced.
"""

from __future__ import annotations

from kit.ids import ResourceId

__all__ = ["INSTANCE_NO_REPAIR_VM", "INSTANCE_REPAIR_TEXT", "instance_commands", "instance_repair_commands"]

#: ARM's compute api-version for the instance operations called through ``az rest``
_COMPUTE_API = "2024-07-01"
#: az vm verb → (az vmss verb, the option naming the instance)
_VERBS = {"start": ("start", "--instance-ids"), "restart": ("restart", "--instance-ids"),
          "deallocate": ("deallocate", "--instance-ids"),
          "show": ("show", "--instance-id"), "get-instance-view": ("get-instance-view", "--instance-id"),
          "run-command invoke": ("run-command invoke", "--instance-id")}
#: az vm commands (``{target}`` taken out) that change the model → the scale set's az vmss update arguments
_MODEL = {"boot-diagnostics enable": "--set virtualMachineProfile.diagnosticsProfile.bootDiagnostics.enabled=true",
          "update --enable-secure-boot false": "--enable-secure-boot false",
          "resize --size <a larger size>": "--set sku.name=<a larger size>"}
#: az vm verbs az vmss has no instance form of → ARM's instance operation, through az rest
_REST = {"boot-diagnostics get-boot-log": "retrieveBootDiagnosticsData", "boot-diagnostics get-boot-log-uris":
         "retrieveBootDiagnosticsData", "redeploy": "redeploy"}
#: az vm verbs whose answer is the scale set's → the az vmss verb
_SCALE_SET = {"encryption show": "encryption show", "list-vm-resize-options": "list-skus"}

INSTANCE_REPAIR_TEXT = (
    "The guest cannot boot to a shell, and a scale-set instance cannot go to a repair VM: its OS disk cannot be "
    "swapped (az vm repair and kit repair take VMs only). Re-image it to the scale set's model (its OS disk's "
    "changes are lost) or delete it and let the scale set make a new one. If a model update rolled out to it is "
    "the cause, roll the model back first, or the new instance breaks the same way.")


#: appended where a guide speaks of a repair VM: for an instance, re-imaging takes its place
INSTANCE_NO_REPAIR_VM = (" This is a scale-set instance: where this says repair VM, re-image the instance instead "
                         "(its OS disk cannot be swapped; what the disk holds is lost).")


def _names(instance: ResourceId) -> tuple[str, str]:
    """``az vmss``'s naming of the scale set, and the instance id."""
    return (f"--subscription {instance.subscription_id} -g {instance.resource_group} -n {instance.names[0]}",
            instance.names[1])


def instance_commands(commands: list[str], instance: ResourceId) -> list[str]:
    """``commands`` (templates with ``{target}``) with each ``az vm`` one made the instance's ``az vmss`` one.

    What an instance has no equivalent for (a repair VM, an OS-disk swap) is left out.
    """
    scale_set, number = _names(instance)
    out: list[str] = []
    for command in commands:
        if not command.startswith("az vm "):
            out.append(command)
            continue
        verb, _, tail = command.removeprefix("az vm ").partition(" {target}")
        if verb in _REST:
            out.append(f'az rest --method post --url "{instance}/{_REST[verb]}?api-version={_COMPUTE_API}"')
        elif f"{verb}{tail}" in _MODEL:
            out += [f"az vmss update {scale_set} {_MODEL[verb + tail]}",
                    f"az vmss update-instances {scale_set} --instance-ids {number}"]
        elif verb in _VERBS:
            vmss_verb, option = _VERBS[verb]
            out.append(f"az vmss {vmss_verb} {scale_set} {option} {number}{tail}")
        elif verb in _SCALE_SET:
            out.append(f"az vmss {_SCALE_SET[verb]} {scale_set}{tail}")
    return out


def instance_repair_commands(instance: ResourceId) -> list[str]:
    """Look at the instance, then re-image it or replace it."""
    scale_set, number = _names(instance)
    return [f"az vmss get-instance-view {scale_set} --instance-id {number}",
            f"az vmss reimage {scale_set} --instance-ids {number}",
            f"az vmss delete-instances {scale_set} --instance-ids {number}"]
