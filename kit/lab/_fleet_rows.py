"""The fleet's rows in Azure's shapes: Resource Graph rows and statusOnly list items, from one machine's facts.

:class:`Machine` holds what the seeded draw decided for a VM or a scale-set instance;
the ``*_row`` functions render it the way Resource Graph returns it (lower-case ``type``,
``properties.extended.instanceView.powerState``), :func:`status_item` the way
``virtualMachines?statusOnly=true`` does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Machine",
    "extension_row",
    "group_row",
    "instance_row",
    "scale_set_row",
    "status_item",
    "storage_row",
    "subscription_row",
    "vm_row",
]

_CREATED = "2025-06-02T08:14:31.5528491+00:00"
_AGENT_TIME = "2026-01-01T00:00:00+00:00"
_POWER_TEXT = {"running": "VM running", "deallocated": "VM deallocated", "stopped": "VM stopped"}
_LINUX_IMAGE = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2",
                "version": "latest"}
_WINDOWS_IMAGE = {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                  "sku": "2022-datacenter-azure-edition", "version": "latest"}
_EXTENSIONS = {
    ("monitor", True): ("AzureMonitorLinuxAgent", "Microsoft.Azure.Monitor", "AzureMonitorLinuxAgent", "1.33"),
    ("monitor", False): ("AzureMonitorWindowsAgent", "Microsoft.Azure.Monitor", "AzureMonitorWindowsAgent", "1.30"),
    ("ade", True): ("AzureDiskEncryptionForLinux", "Microsoft.Azure.Security", "AzureDiskEncryptionForLinux", "1.1"),
    ("ade", False): ("AzureDiskEncryption", "Microsoft.Azure.Security", "AzureDiskEncryption", "2.2"),
}


@dataclass(frozen=True)
class Machine:
    """What the draw decided for one VM (``instance`` is ``None``) or one scale-set instance."""

    subscription: str
    group: str
    name: str
    location: str
    linux: bool
    size: str
    security: str  # "", "TrustedLaunch" or "ConfidentialVM"
    power: str  # running, deallocated, stopped
    boot: str  # off, managed, custom
    account: str
    account_problems: tuple[str, ...]
    agent: str  # Ready, NotReady, Missing
    no_password: bool
    ade: bool
    console_disabled: bool
    zone: str
    tags: dict[str, str]
    vm_uuid: str
    instance: str | None
    agent_version: str
    ephemeral: bool = False  # the OS disk lives on the host (diffDiskSettings.option Local)
    no_extensions: bool = False  # osProfile.allowExtensionOperations false

    def reasons(self) -> tuple[str, ...]:
        """The C2 reasons these facts plant, in ``kit.lab.fleet.REASONS`` order."""
        found = []
        if self.power != "running":
            found.append("not_running")
        if self.boot == "off":
            found.append("boot_diagnostics_off")
        if self.boot == "custom":
            found.extend(reason for reason in ("storage_firewall", "storage_private_endpoint",
                                               "storage_shared_key_disabled") if reason in self.account_problems)
        if self.console_disabled:
            found.append("serial_console_disabled")
        if self.instance is None and self.power == "running" and self.agent != "Ready":
            found.append("agent_not_ready")
        if self.no_extensions:
            found.append("extensions_disallowed")
        if self.linux and self.no_password:
            found.append("no_local_password")
        if self.ade:
            found.append("encrypted_disk_ade")
        if self.security == "ConfidentialVM":
            found.append("confidential_vm")
        if self.ephemeral:
            found.append("ephemeral_os_disk")
        return tuple(found)


def _arg_row(resource_id: str, name: str, type_: str, machine_or_sub: str, group: str, location: str,
             tenant: str, properties: dict[str, Any], *, tags: dict[str, str] | None = None, kind: str = "",
             sku: dict[str, Any] | None = None, zones: list[str] | None = None,
             identity: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": resource_id, "name": name, "type": type_, "tenantId": tenant, "kind": kind, "location": location,
            "resourceGroup": group, "subscriptionId": machine_or_sub, "managedBy": "", "sku": sku, "plan": None,
            "properties": properties, "tags": tags if tags is not None else {}, "identity": identity,
            "zones": zones, "extendedLocation": None}


def _group_id(sub: str, group: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{group}"


def _boot_diagnostics(machine: Machine) -> dict[str, Any]:
    if machine.boot == "off":
        return {"bootDiagnostics": {"enabled": False}}
    if machine.boot == "managed":
        return {"bootDiagnostics": {"enabled": True}}
    return {"bootDiagnostics": {"enabled": True, "storageUri": f"https://{machine.account}.blob.core.windows.net/"}}


def _security(machine: Machine) -> dict[str, Any] | None:
    if not machine.security:
        return None
    return {"securityType": machine.security, "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}


def _os_profile(machine: Machine, computer: str) -> dict[str, Any]:
    profile: dict[str, Any] = {"computerName": computer, "adminUsername": "azureuser", "secrets": [],
                               "allowExtensionOperations": not machine.no_extensions,
                               "requireGuestProvisionSignal": True}
    if machine.linux:
        profile["linuxConfiguration"] = {"disablePasswordAuthentication": machine.no_password,
                                         "provisionVMAgent": True,
                                         "patchSettings": {"patchMode": "ImageDefault",
                                                           "assessmentMode": "ImageDefault"}}
    else:
        profile["windowsConfiguration"] = {"provisionVMAgent": True, "enableAutomaticUpdates": True,
                                           "patchSettings": {"patchMode": "AutomaticByOS",
                                                             "assessmentMode": "ImageDefault"}}
    return profile


def _storage_profile(machine: Machine, disk_name: str, disk_id: str | None) -> dict[str, Any]:
    managed: dict[str, Any] = {"storageAccountType": "Premium_LRS"}
    if disk_id is not None:
        managed["id"] = disk_id
    if machine.security == "ConfidentialVM":
        managed["securityProfile"] = {"securityEncryptionType": "VMGuestStateOnly"}
    os_disk: dict[str, Any] = {"osType": "Linux" if machine.linux else "Windows", "name": disk_name,
                               "createOption": "FromImage", "caching": "ReadWrite", "managedDisk": managed,
                               "deleteOption": "Delete", "diskSizeGB": 30 if machine.linux else 127}
    if machine.ephemeral:  # Azure's shape: read-only caching, the disk on the VM's resource (temp) disk
        os_disk.update(caching="ReadOnly", diffDiskSettings={"option": "Local", "placement": "ResourceDisk"})
    return {"imageReference": dict(_LINUX_IMAGE if machine.linux else _WINDOWS_IMAGE), "osDisk": os_disk,
            "dataDisks": []}


def _os_name(machine: Machine) -> str:
    return "ubuntu" if machine.linux else "Windows Server 2022 Datacenter Azure Edition"


def _os_version(machine: Machine) -> str:
    return "22.04" if machine.linux else "10.0.20348.2762"


def _power(machine: Machine) -> dict[str, str]:
    return {"code": f"PowerState/{machine.power}", "displayStatus": _POWER_TEXT[machine.power], "level": "Info"}


def vm_row(machine: Machine, tenant: str) -> dict[str, Any]:
    """A ``microsoft.compute/virtualmachines`` row of the ``resources`` table."""
    sub, group, name = machine.subscription, machine.group, machine.name
    vm_id = f"{_group_id(sub, group)}/providers/Microsoft.Compute/virtualMachines/{name}"
    disk = f"{name}_OsDisk_1_{machine.vm_uuid.replace('-', '')}"
    properties: dict[str, Any] = {
        "vmId": machine.vm_uuid,
        "hardwareProfile": {"vmSize": machine.size},
        "storageProfile": _storage_profile(machine, disk, f"{_group_id(sub, group)}/providers/Microsoft.Compute/"
                                                          f"disks/{disk}"),
        "osProfile": _os_profile(machine, name),
        "networkProfile": {"networkInterfaces": [
            {"id": f"{_group_id(sub, group)}/providers/Microsoft.Network/networkInterfaces/{name}-nic",
             "properties": {"deleteOption": "Delete"}}]},
        "diagnosticsProfile": _boot_diagnostics(machine),
        "provisioningState": "Succeeded",
        "timeCreated": _CREATED,
        "extended": {"instanceView": {
            "computerName": name, "osName": _os_name(machine),
            "osVersion": _os_version(machine), "hyperVGeneration": "V2",
            "powerState": _power(machine)}},
    }
    security = _security(machine)
    if security is not None:
        properties["securityProfile"] = security
    return _arg_row(vm_id, name, "microsoft.compute/virtualmachines", sub, group, machine.location, tenant,
                    properties, tags=dict(machine.tags), zones=[machine.zone] if machine.zone else None)


def extension_row(machine: Machine, vm_id: str, which: str, tenant: str) -> dict[str, Any]:
    """A ``microsoft.compute/virtualmachines/extensions`` row (``monitor`` or ``ade``)."""
    name, publisher, type_, version = _EXTENSIONS[(which, machine.linux)]
    properties: dict[str, Any] = {"publisher": publisher, "type": type_, "typeHandlerVersion": version,
                                  "autoUpgradeMinorVersion": True, "provisioningState": "Succeeded"}
    if which == "ade":
        vault = f"{_group_id(machine.subscription, machine.group)}/providers/Microsoft.KeyVault/vaults/kv-ade-" \
                f"{machine.subscription[:8]}"
        properties["settings"] = {"EncryptionOperation": "EnableEncryption", "VolumeType": "All",
                                  "KeyVaultURL": f"https://kv-ade-{machine.subscription[:8]}.vault.azure.net/",
                                  "KeyVaultResourceId": vault, "KeyEncryptionAlgorithm": "RSA-OAEP"}
    return _arg_row(f"{vm_id}/extensions/{name}", name,
                    "microsoft.compute/virtualmachines/extensions", machine.subscription, machine.group,
                    machine.location, tenant, properties)


def _scale_set_id(machine: Machine) -> str:
    return f"{_group_id(machine.subscription, machine.group)}/providers/Microsoft.Compute/virtualMachineScaleSets/" \
           f"{machine.name}"


def scale_set_row(machine: Machine, tenant: str, capacity: int) -> dict[str, Any]:
    """A uniform ``microsoft.compute/virtualmachinescalesets`` row of ``resources`` (its model is ``machine``)."""
    extensions = []
    for which in ("monitor", "ade") if machine.ade else ("monitor",):
        name, publisher, type_, version = _EXTENSIONS[(which, machine.linux)]
        extensions.append({"name": name, "properties": {"publisher": publisher, "type": type_,
                                                        "typeHandlerVersion": version,
                                                        "autoUpgradeMinorVersion": True}})
    profile: dict[str, Any] = {
        "osProfile": _os_profile(machine, machine.name[:9]),
        "storageProfile": _storage_profile(machine, "", None),
        "diagnosticsProfile": _boot_diagnostics(machine),
        "extensionProfile": {"extensions": extensions},
        "networkProfile": {"networkInterfaceConfigurations": [{"name": f"{machine.name}-nic",
                                                              "properties": {"primary": True}}]},
    }
    security = _security(machine)
    if security is not None:
        profile["securityProfile"] = security
    del profile["storageProfile"]["osDisk"]["name"]
    properties = {"orchestrationMode": "Uniform", "upgradePolicy": {"mode": "Manual"},
                  "virtualMachineProfile": profile, "provisioningState": "Succeeded", "uniqueId": machine.vm_uuid,
                  "overprovision": False, "singlePlacementGroup": True, "timeCreated": _CREATED}
    return _arg_row(_scale_set_id(machine), machine.name, "microsoft.compute/virtualmachinescalesets",
                    machine.subscription, machine.group, machine.location, tenant, properties,
                    tags=dict(machine.tags), sku={"name": machine.size, "tier": "Standard", "capacity": capacity})


def instance_row(machine: Machine, tenant: str) -> dict[str, Any]:
    """A ``microsoft.compute/virtualmachinescalesets/virtualmachines`` row of ``computeresources``."""
    assert machine.instance is not None
    parent = _scale_set_id(machine)
    name = f"{machine.name}_{machine.instance}"
    disk = f"{name}_OsDisk_1_{machine.vm_uuid.replace('-', '')}"
    computer = f"{machine.name[:9]}{int(machine.instance):06X}"
    properties: dict[str, Any] = {
        "instanceId": machine.instance,
        "latestModelApplied": True,
        "vmId": machine.vm_uuid,
        "storageProfile": _storage_profile(machine, disk, f"{_group_id(machine.subscription, machine.group)}/"
                                                          f"providers/Microsoft.Compute/disks/{disk}"),
        "osProfile": _os_profile(machine, computer),
        "diagnosticsProfile": _boot_diagnostics(machine),
        "networkProfile": {"networkInterfaces": [{"id": f"{parent}/virtualMachines/{machine.instance}/"
                                                        f"networkInterfaces/{machine.name}-nic"}]},
        "provisioningState": "Succeeded",
        "timeCreated": _CREATED,
        "extended": {"instanceView": {"computerName": computer, "powerState": _power(machine)}},
    }
    security = _security(machine)
    if security is not None:
        properties["securityProfile"] = security
    return _arg_row(f"{parent}/virtualMachines/{machine.instance}", name,
                    "microsoft.compute/virtualmachinescalesets/virtualmachines", machine.subscription, machine.group,
                    machine.location, tenant, properties, sku={"name": machine.size, "tier": "Standard"},
                    zones=[machine.zone] if machine.zone else None)


def storage_row(sub: str, group: str, name: str, location: str, problems: tuple[str, ...], tenant: str,
                rng: random.Random) -> dict[str, Any]:
    """A ``microsoft.storage/storageaccounts`` row; ``problems`` are the C2 storage reasons it causes."""
    account_id = f"{_group_id(sub, group)}/providers/Microsoft.Storage/storageAccounts/{name}"
    endpoints = {kind: f"https://{name}.{kind}.core.windows.net/" for kind in ("blob", "queue", "table", "file")}
    endpoints["dfs"] = f"https://{name}.dfs.core.windows.net/"
    endpoints["web"] = f"https://{name}.z{rng.randint(1, 39)}.web.core.windows.net/"
    firewall = "storage_firewall" in problems
    private = "storage_private_endpoint" in problems
    connections = []
    if private:
        endpoint = f"{_group_id(sub, group)}/providers/Microsoft.Network/privateEndpoints/pe-{name}-blob"
        connections.append({
            "id": f"{account_id}/privateEndpointConnections/{name}.{rng.getrandbits(64):016x}",
            "properties": {"privateEndpoint": {"id": endpoint},
                           "privateLinkServiceConnectionState": {"status": "Approved", "description": "Auto-Approved",
                                                                 "actionRequired": "None"},
                           "provisioningState": "Succeeded"}})
    properties = {
        "primaryEndpoints": endpoints,
        "primaryLocation": location,
        "statusOfPrimary": "available",
        "provisioningState": "Succeeded",
        "creationTime": "2025-04-11T09:30:12.4433128Z",
        "accessTier": "Hot",
        "minimumTlsVersion": "TLS1_2",
        "supportsHttpsTrafficOnly": True,
        "allowBlobPublicAccess": False,
        "allowSharedKeyAccess": "storage_shared_key_disabled" not in problems,
        "publicNetworkAccess": "Disabled" if private else "Enabled",
        "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny" if firewall else "Allow",
                        "ipRules": [{"value": "203.0.113.0/24", "action": "Allow"}] if firewall else [],
                        "virtualNetworkRules": [], "resourceAccessRules": []},
        "privateEndpointConnections": connections,
        "encryption": {"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": False,
                       "services": {"blob": {"enabled": True, "keyType": "Account"},
                                    "file": {"enabled": True, "keyType": "Account"}}},
    }
    return _arg_row(account_id, name, "microsoft.storage/storageaccounts", sub, group, location, tenant, properties,
                    kind="StorageV2", sku={"name": "Standard_LRS", "tier": "Standard"})


def subscription_row(sub: str, display_name: str, tenant: str) -> dict[str, Any]:
    """A ``microsoft.resources/subscriptions`` row of ``resourcecontainers``."""
    properties = {"state": "Enabled", "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                                                               "quotaId": "EnterpriseAgreement_2014-09-01",
                                                               "spendingLimit": "Off"}}
    row = _arg_row(f"/subscriptions/{sub}", display_name, "microsoft.resources/subscriptions", sub, "", "", tenant,
                   properties)
    return row


def group_row(sub: str, group: str, location: str, tenant: str) -> dict[str, Any]:
    """A ``microsoft.resources/subscriptions/resourcegroups`` row of ``resourcecontainers``."""
    return _arg_row(_group_id(sub, group), group, "microsoft.resources/subscriptions/resourcegroups", sub, group,
                    location, tenant, {"provisioningState": "Succeeded"})


def status_item(machine: Machine, vm_id: str) -> dict[str, Any]:
    """The VM as ``virtualMachines?statusOnly=true`` lists it: id, name, location and the instance view."""
    statuses: list[dict[str, Any]] = [{"code": "ProvisioningState/succeeded", "level": "Info",
                                       "displayStatus": "Provisioning succeeded", "time": _AGENT_TIME},
                                      _power(machine)]
    view: dict[str, Any] = {"computerName": machine.name, "osName": _os_name(machine),
                            "osVersion": _os_version(machine), "hyperVGeneration": "V2", "statuses": statuses}
    if machine.power == "running" and machine.agent != "Missing":
        ready = machine.agent == "Ready"
        view["vmAgent"] = {
            "vmAgentVersion": machine.agent_version if ready else "Unknown",
            "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Ready",
                          "message": "GuestAgent is running and processing the extensions.", "time": _AGENT_TIME}
                         if ready else
                         {"code": "ProvisioningState/Unavailable", "level": "Warning", "displayStatus": "Not Ready",
                          "message": "VM status blob is found but not yet populated.", "time": _AGENT_TIME}],
            "extensionHandlers": []}
    if machine.power != "running":
        view.pop("computerName")
        view.pop("osName")
        view.pop("osVersion")
    return {"name": machine.name, "id": vm_id, "type": "Microsoft.Compute/virtualMachines",
            "location": machine.location, "properties": {"vmId": machine.vm_uuid, "instanceView": view}}
