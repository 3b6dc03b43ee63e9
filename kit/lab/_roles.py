"""Built-in Azure role definitions the scenarios assign, keyed by their well-known GUIDs."""

from __future__ import annotations

from typing import Any

__all__ = ["BUILT_IN_ROLES", "role_definition"]

_VM_ACTIONS = [
    "Microsoft.Authorization/*/read", "Microsoft.Compute/virtualMachines/*",
    "Microsoft.Compute/disks/*", "Microsoft.Network/networkInterfaces/*",
    "Microsoft.Network/virtualNetworks/read", "Microsoft.Network/virtualNetworks/subnets/join/action",
    "Microsoft.Network/networkSecurityGroups/read", "Microsoft.Network/networkSecurityGroups/join/action",
    "Microsoft.Network/publicIPAddresses/read", "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.SerialConsole/serialPorts/connect/action",
]

#: GUID → (roleName, description, actions, dataActions)
BUILT_IN_ROLES: dict[str, tuple[str, str, list[str], list[str]]] = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": ("Owner", "Grants full access to manage all resources, including the "
                                             "ability to assign roles in Azure RBAC.", ["*"], []),
    "b24988ac-6180-42a0-ab88-20f7382dd24c": ("Contributor", "Grants full access to manage all resources, but does "
                                             "not allow you to assign roles in Azure RBAC.", ["*"], []),
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": ("Reader", "View all resources, but does not allow you to make any "
                                             "changes.", ["*/read"], []),
    "9980e02c-c2be-4d73-94e8-173b1dc7cf3c": ("Virtual Machine Contributor", "Create and manage virtual machines, "
                                             "manage disks, install and run software, reset password of the root "
                                             "user of the virtual machine using VM extensions, and manage local "
                                             "user accounts using VM extensions.", _VM_ACTIONS, []),
    "1c0163c0-47e6-4577-8991-ea5c82e286e4": ("Virtual Machine Administrator Login", "View Virtual Machines in the "
                                             "portal and login as administrator",
                                             ["Microsoft.Network/publicIPAddresses/read",
                                              "Microsoft.Network/virtualNetworks/read",
                                              "Microsoft.Network/loadBalancers/read",
                                              "Microsoft.Network/networkInterfaces/read",
                                              "Microsoft.Compute/virtualMachines/*/read"],
                                             ["Microsoft.Compute/virtualMachines/login/action",
                                              "Microsoft.Compute/virtualMachines/loginAsAdmin/action"]),
    "fb879df8-f326-4884-b1cf-06f3ad86be52": ("Virtual Machine User Login", "View Virtual Machines in the portal "
                                             "and login as a regular user.",
                                             ["Microsoft.Network/publicIPAddresses/read",
                                              "Microsoft.Network/virtualNetworks/read",
                                              "Microsoft.Network/loadBalancers/read",
                                              "Microsoft.Network/networkInterfaces/read",
                                              "Microsoft.Compute/virtualMachines/*/read"],
                                             ["Microsoft.Compute/virtualMachines/login/action"]),
    "4d97b98b-1d4f-4787-a291-c67834d212e7": ("Network Contributor", "Lets you manage networks, but not access to "
                                             "them.", ["Microsoft.Authorization/*/read", "Microsoft.Network/*",
                                                       "Microsoft.Resources/deployments/*",
                                                       "Microsoft.Resources/subscriptions/resourceGroups/read"], []),
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": ("User Access Administrator", "Lets you manage user access to Azure "
                                             "resources.", ["*/read", "Microsoft.Authorization/*"], []),
    "00c29273-979b-4161-815c-10b084fb9324": ("Backup Operator", "Lets you manage backup services, except removal "
                                             "of backup, vault creation and giving access to others.",
                                             ["Microsoft.Authorization/*/read",
                                              "Microsoft.Compute/virtualMachines/read",
                                              "Microsoft.RecoveryServices/Vaults/backupFabrics/*",
                                              "Microsoft.RecoveryServices/Vaults/read",
                                              "Microsoft.Resources/subscriptions/resourceGroups/read"], []),
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": ("Storage Account Contributor", "Permits management of storage "
                                             "accounts.",
                                             ["Microsoft.Authorization/*/read", "Microsoft.Storage/storageAccounts/*",
                                              "Microsoft.Resources/subscriptions/resourceGroups/read"], []),
    "73c42c96-874c-492b-b04d-ab87d138a893": ("Log Analytics Reader", "Log Analytics Reader can view and search all "
                                             "monitoring data as well as and view monitoring settings.",
                                             ["*/read", "Microsoft.OperationalInsights/workspaces/search/action"], []),
    "749f88d5-cbae-40b8-bcfc-e573ddc772fa": ("Monitoring Contributor", "Can read all monitoring data and update "
                                             "monitoring settings.", ["*/read", "Microsoft.Insights/*"], []),
    "43d0d8ad-25c7-4714-9337-8ba259a9fe05": ("Monitoring Reader", "Can read all monitoring data (metrics, logs, "
                                             "etc.).", ["*/read", "Microsoft.Support/*"], []),
}


def role_definition(scope: str, guid: str) -> dict[str, Any] | None:
    """The REST body of built-in role ``guid`` as read at ``scope``, or ``None`` if unknown."""
    known = BUILT_IN_ROLES.get(guid.lower())
    if known is None:
        return None
    name, description, actions, data_actions = known
    return {
        "properties": {
            "roleName": name, "type": "BuiltInRole", "description": description, "assignableScopes": ["/"],
            "permissions": [{"actions": actions, "notActions": [], "dataActions": data_actions,
                             "notDataActions": []}],
            "createdOn": "2015-02-02T21:55:09.8806423Z", "updatedOn": "2024-06-27T15:32:49.2167143Z",
            "createdBy": None, "updatedBy": None,
        },
        "id": f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleDefinitions/{guid.lower()}",
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": guid.lower(),
    }
