"""A uniform scale set's resources: the story's VMs rendered as the scale set's instances.

A story with ``scale_set`` names its VMs ``<scale set>_<instance id>`` (the ``name`` Azure gives a
uniform instance). :func:`scale_set_resources` turns what :func:`~kit.lab.scenarios._render.arm.build_resources`
rendered for them into what ARM serves for a scale set (compute 2024-07-01, the VMSS VM Get examples):
the scale set's model (``Microsoft.Compute/virtualMachineScaleSets``), one
``virtualMachineScaleSets/virtualMachines`` body per instance (``instanceId``, ``sku``,
``latestModelApplied``, ``networkProfileConfiguration``), and the instances' NICs under the scale
set (``…/virtualMachines/<id>/networkInterfaces/<nic config>``), which are no top-level
``Microsoft.Network/networkInterfaces`` resources. The subnet's back-references follow the NICs.
"""

from __future__ import annotations

import copy
from typing import Any

from kit.lab.scenarios._render.arm import Ids, os_disk_name
from kit.lab.scenarios._render.common import guid, hexid, iso, ts
from kit.lab.scenarios._render.images import IMAGES

__all__ = ["instance_id", "scale_set_id", "scale_set_resources"]

_CMP = "Microsoft.Compute"


def scale_set_id(story: dict[str, Any]) -> str:
    """The scale set's resource id."""
    return Ids(story).of(_CMP, "virtualMachineScaleSets", story["scale_set"])


def instance_id(story: dict[str, Any], vm: dict[str, Any]) -> str:
    """The resource id of the instance ``vm`` of the story's scale set."""
    return f"{scale_set_id(story)}/virtualMachines/{vm['instance_id']}"


def _nic_id(story: dict[str, Any], vm: dict[str, Any]) -> str:
    return f"{instance_id(story, vm)}/networkInterfaces/{story['vmss']['nic_config']}"


def _ip_configuration(story: dict[str, Any]) -> dict[str, Any]:
    spec = story["vmss"]
    subnet = Ids(story).subnet(story["network"]["vnet"]["name"], spec["subnet"])
    return {"name": spec["ipconfig"], "properties": {"subnet": {"id": subnet}, "primary": True,
                                                    "privateIPAddressVersion": "IPv4"}}


def _network_configuration(story: dict[str, Any]) -> dict[str, Any]:
    spec = story["vmss"]
    return {"name": spec["nic_config"], "properties": {
        "primary": True, "enableAcceleratedNetworking": False, "disableTcpStateTracking": False,
        "dnsSettings": {"dnsServers": []}, "enableIPForwarding": False,
        "ipConfigurations": [_ip_configuration(story)]}}


def _extension(story: dict[str, Any]) -> dict[str, Any]:
    ext = story["vmss"]["extension"]
    return {"name": ext["name"], "properties": {
        "autoUpgradeMinorVersion": True, "publisher": ext["publisher"], "type": ext["type"],
        "typeHandlerVersion": ext["version"], "settings": dict(ext["settings"]), "provisioningState": "Succeeded"}}


def _scale_set_body(story: dict[str, Any]) -> dict[str, Any]:
    spec = story["vmss"]
    image = IMAGES[spec["image"]]
    return {
        "name": story["scale_set"], "id": scale_set_id(story), "type": f"{_CMP}/virtualMachineScaleSets",
        "location": story["location"], "tags": dict(story.get("tags", {})),
        "sku": {"name": spec["size"], "tier": "Standard", "capacity": spec["capacity"]},
        "zones": sorted({vm["zone"] for vm in story["vms"] if vm.get("zone")}),
        "etag": f'"{spec["model_version"]}"',
        "properties": {
            "singlePlacementGroup": False, "orchestrationMode": "Uniform",
            "upgradePolicy": {"mode": spec["upgrade_policy"]},
            "virtualMachineProfile": {
                "osProfile": {"computerNamePrefix": spec["computer_name_prefix"], "adminUsername": "azureuser",
                              "linuxConfiguration": {"disablePasswordAuthentication": True, "provisionVMAgent": True,
                                                     "enableVMAgentPlatformUpdates": False},
                              "secrets": [], "allowExtensionOperations": True, "requireGuestProvisionSignal": True},
                "storageProfile": {"osDisk": {"osType": image["os_type"], "createOption": "FromImage",
                                              "caching": "ReadWrite",
                                              "managedDisk": {"storageAccountType": "Premium_LRS"},
                                              "diskSizeGB": image["os_disk_gb"]},
                                   "imageReference": dict(image["reference"]), "diskControllerType": "SCSI"},
                "networkProfile": {"networkInterfaceConfigurations": [_network_configuration(story)]},
                "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
                "extensionProfile": {"extensions": [_extension(story)]},
                "securityProfile": {"uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
                                    "securityType": "TrustedLaunch"},
            },
            "provisioningState": "Succeeded", "overprovision": False, "doNotRunExtensionsOnOverprovisionedVMs": False,
            "uniqueId": guid(story["name"], "vmss", story["scale_set"]), "platformFaultDomainCount": 1,
            "timeCreated": iso(ts(spec["created"])),
        },
    }


def _instance_body(story: dict[str, Any], vm: dict[str, Any], rendered: dict[str, Any]) -> dict[str, Any]:
    spec = story["vmss"]
    rid = instance_id(story, vm)
    props = copy.deepcopy(rendered["properties"])
    props.pop("hardwareProfile", None)
    props.pop("additionalCapabilities", None)
    props["osProfile"]["computerName"] = vm["hostname"]
    disk = os_disk_name(story, vm)
    props["storageProfile"]["osDisk"]["name"] = disk
    latest = bool(vm.get("latest_model"))
    body: dict[str, Any] = {
        "name": vm["name"], "id": rid, "type": f"{_CMP}/virtualMachineScaleSets/virtualMachines",
        "location": story["location"], "tags": dict(story.get("tags", {})), "instanceId": vm["instance_id"],
        "sku": {"name": spec["size"], "tier": "Standard"},
    }
    if vm.get("zone"):
        body["zones"] = [vm["zone"]]
    body["etag"] = f'"{spec["model_version"] if latest else spec["model_version"] - 1}"'
    body["properties"] = {
        "latestModelApplied": latest, "modelDefinitionApplied": "VirtualMachineScaleSet",
        "networkProfileConfiguration": {"networkInterfaceConfigurations": [_network_configuration(story)]},
        "vmId": props["vmId"], "hardwareProfile": {},
        "storageProfile": props["storageProfile"], "osProfile": props["osProfile"],
        "securityProfile": props["securityProfile"],
        "networkProfile": {"networkInterfaces": [{"id": _nic_id(story, vm)}]},
        "diagnosticsProfile": props["diagnosticsProfile"],
        "provisioningState": "Succeeded", "timeCreated": props["timeCreated"],
    }
    extensions = [{**copy.deepcopy(ext), "id": f"{rid}/extensions/{ext['name']}",
                   "type": f"{_CMP}/virtualMachineScaleSets/virtualMachines/extensions"}
                  for ext in rendered.get("resources", [])]
    baseline = _extension(story)
    if not latest:
        baseline["properties"]["settings"] = {**baseline["properties"]["settings"],
                                              "commandToExecute": "bash baseline.sh --version v3"}
    extensions.append({"name": baseline["name"], "id": f"{rid}/extensions/{baseline['name']}",
                       "type": f"{_CMP}/virtualMachineScaleSets/virtualMachines/extensions",
                       "location": story["location"], "properties": baseline["properties"]})
    body["resources"] = extensions
    return body


def _nic_body(story: dict[str, Any], vm: dict[str, Any], rendered: dict[str, Any]) -> dict[str, Any]:
    spec = story["vmss"]
    rid = _nic_id(story, vm)
    body = copy.deepcopy(rendered)
    body.update({"name": spec["nic_config"], "id": rid, "etag": f'W/"{guid("etag", rid)}"'})
    body.pop("type", None)
    body.pop("kind", None)
    props = body["properties"]
    props["virtualMachine"] = {"id": instance_id(story, vm)}
    props["resourceGuid"] = guid(story["name"], "nic", rid)
    for config in props["ipConfigurations"]:
        config.update({"name": spec["ipconfig"], "id": f"{rid}/ipConfigurations/{spec['ipconfig']}"})
        config.pop("type", None)
        config["properties"]["privateIPAllocationMethod"] = "Dynamic"
    props["dnsSettings"]["internalDomainNameSuffix"] = (
        f"{hexid(story['name'], 'dns', length=26)}.{story.get('dns_zone', 'ax')}.internal.cloudapp.net")
    return body


def scale_set_resources(story: dict[str, Any], resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``resources`` with the story's VMs and their NICs replaced by the scale set, its instances and their NICs."""
    ids = Ids(story)
    by_id = {str(body["id"]).lower(): body for body in resources}
    vm_ids = {ids.vm(vm["name"]).lower() for vm in story["vms"]}
    nic_ids = {ids.nic(f"{vm['name']}-nic").lower() for vm in story["vms"]}
    kept = [body for body in resources if str(body["id"]).lower() not in vm_ids | nic_ids]
    out: list[dict[str, Any]] = [_scale_set_body(story)]
    nics = []
    for vm in story["vms"]:
        out.append(_instance_body(story, vm, by_id[ids.vm(vm["name"]).lower()]))
        nics.append(_nic_body(story, vm, by_id[ids.nic(f"{vm['name']}-nic").lower()]))
    references = {f"{ids.nic(vm['name'] + '-nic')}/ipConfigurations/ipconfig1".lower():
                  f"{_nic_id(story, vm)}/ipConfigurations/{story['vmss']['ipconfig']}" for vm in story["vms"]}
    for body in kept:
        for subnet in (body.get("properties") or {}).get("subnets") or []:
            for ref in (subnet.get("properties") or {}).get("ipConfigurations") or []:
                ref["id"] = references.get(str(ref["id"]).lower(), ref["id"])
    return out + nics + kept
