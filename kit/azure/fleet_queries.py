"""The Azure Resource Graph queries of ``kit fleet readiness``: one constant per question, pasteable as is.

Each query reads as you would type it into Resource Graph Explorer (portal) or
``az graph query -q "…" --first 1000``: the table, the type, then the columns the readiness verdict
needs, ordered by ``id`` (Resource Graph pages stably only when the rows are ordered). Nothing is
filled in: the scope (subscriptions or a management group) is the request's, not the query's.

- :data:`VMS`: standalone VMs with power state, OS, boot diagnostics (and its storage account), the
  Linux password setting, whether extension operations (Run Command) are allowed, the security type
  and whether the OS disk is ephemeral;
- :data:`SCALE_SET_INSTANCES`: uniform scale-set instances, the same columns, from ``computeresources``;
- :data:`SCALE_SETS`: scale sets, for the extensions and security type their instances inherit;
- :data:`ADE_EXTENSIONS`: Azure Disk Encryption extensions of VMs;
- :data:`STORAGE_ACCOUNTS`: storage accounts with the settings that decide whether boot diagnostics
  and the serial console can reach them.

:data:`QUERIES` lists them with a one-line purpose (the report shows them).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ADE_EXTENSIONS", "QUERIES", "SCALE_SETS", "SCALE_SET_INSTANCES", "STORAGE_ACCOUNTS", "VMS",
           "FleetQuery"]

#: What is read of a VM and of a scale-set instance alike (their models have the same shape).
_MACHINE_COLUMNS = """\
| project id, name, resourceGroup, subscriptionId, location,
    powerState = tostring(properties.extended.instanceView.powerState.code),
    osType = tostring(properties.storageProfile.osDisk.osType),
    bootDiagnostics = tostring(properties.diagnosticsProfile.bootDiagnostics.enabled),
    bootStorageUri = tostring(properties.diagnosticsProfile.bootDiagnostics.storageUri),
    disablePasswordAuthentication = tostring(properties.osProfile.linuxConfiguration.disablePasswordAuthentication),
    allowExtensionOperations = tostring(properties.osProfile.allowExtensionOperations),
    securityType = tostring(properties.securityProfile.securityType),
    ephemeralOsDisk = tostring(properties.storageProfile.osDisk.diffDiskSettings.option)
| order by id asc"""

VMS = """\
resources
| where type =~ 'microsoft.compute/virtualmachines'
""" + _MACHINE_COLUMNS

SCALE_SET_INSTANCES = """\
computeresources
| where type =~ 'microsoft.compute/virtualmachinescalesets/virtualmachines'
""" + _MACHINE_COLUMNS

SCALE_SETS = """\
resources
| where type =~ 'microsoft.compute/virtualmachinescalesets'
| project id, name, resourceGroup, subscriptionId,
    extensions = properties.virtualMachineProfile.extensionProfile.extensions,
    securityType = tostring(properties.virtualMachineProfile.securityProfile.securityType)
| order by id asc"""

ADE_EXTENSIONS = """\
resources
| where type =~ 'microsoft.compute/virtualmachines/extensions'
| where tostring(properties.publisher) =~ 'Microsoft.Azure.Security'
| where tostring(properties.type) startswith 'AzureDiskEncryption'
| project id, name, subscriptionId,
    extensionType = tostring(properties.type),
    provisioningState = tostring(properties.provisioningState)
| order by id asc"""

STORAGE_ACCOUNTS = """\
resources
| where type =~ 'microsoft.storage/storageaccounts'
| project id, name, resourceGroup, subscriptionId,
    blobEndpoint = tostring(properties.primaryEndpoints.blob),
    publicNetworkAccess = tostring(properties.publicNetworkAccess),
    defaultAction = tostring(properties.networkAcls.defaultAction),
    allowSharedKeyAccess = tostring(properties.allowSharedKeyAccess),
    privateEndpointConnections = properties.privateEndpointConnections
| order by id asc"""


@dataclass(frozen=True)
class FleetQuery:
    """One Resource Graph query of the readiness collection.

    Parameters
    ----------
    name
        Its key in the collection (``vms``, ``instances`` …).
    purpose
        What it answers, in one line.
    text
        The KQL, as sent.
    """

    name: str
    purpose: str
    text: str


#: Every query ``kit fleet readiness`` sends, in the order it sends them.
QUERIES: tuple[FleetQuery, ...] = (
    FleetQuery("vms", "standalone VMs: power state, OS, boot diagnostics, Linux password login, security type", VMS),
    FleetQuery("instances", "uniform scale-set instances (computeresources): the same columns", SCALE_SET_INSTANCES),
    FleetQuery("scale_sets", "scale sets: the extensions and security type their instances inherit", SCALE_SETS),
    FleetQuery("ade_extensions", "Azure Disk Encryption extensions on VMs", ADE_EXTENSIONS),
    FleetQuery("storage_accounts", "storage accounts: what lets boot diagnostics and the console reach them",
               STORAGE_ACCOUNTS),
)
