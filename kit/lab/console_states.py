"""Lab states that make a serial console precheck fail, set by a test (or a trainer) on a running lab.

The scenarios' data stay as they are; each function changes one running lab's state (call them
between requests, from the thread holding the lab)::

    set_responder_roles(lab.state, [(f"/subscriptions/{sub}", "Reader")])     # no connect/action
    use_boot_storage(lab.state, vm_id, storage_account_body(vm_id, "diag01", default_action="Deny"))
    set_console_endpoint(lab.state, "https://console.invalid")                 # the connect answer's host
    set_serial_log(lab.state, vm_id, b"Azure VM Health Report\\n", tmp_path)   # Windows without SAC

Who the responder is: the lab token's principal (:class:`~kit.lab.LabPrincipal`). Its roles are
the scenario's role assignments naming that principal plus the responder roles set here; until a
test sets them, the responder is a Contributor on every subscription the lab serves (what a
break-glass responder holds). :mod:`kit.lab.arm_permissions` serves the permissions they add up to and
:mod:`kit.lab.arm_storage` the storage accounts; the console gateway names
:func:`set_console_endpoint`'s host in its ``connect`` answers.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kit.errors import LabError
from kit.ids import VMSS_VM, name_of, parse_resource_id
from kit.lab._roles import BUILT_IN_ROLES
from kit.lab._state import LabState

__all__ = [
    "CONSOLE_ENDPOINT_EXTRA",
    "CONTRIBUTOR",
    "RESPONDER_ROLES_EXTRA",
    "responder_permissions",
    "set_console_endpoint",
    "set_responder_roles",
    "set_serial_log",
    "storage_account_body",
    "use_boot_storage",
]

#: :attr:`LabState.extras <kit.lab.LabState>` key: the responder's roles, ``[(scope, permissions entry)]``.
RESPONDER_ROLES_EXTRA = "console_responder_roles"
#: :attr:`LabState.extras <kit.lab.LabState>` key: the ``https://host[:port]`` the connect answers name.
CONSOLE_ENDPOINT_EXTRA = "console_endpoint"
#: The built-in Contributor role's id (the responder's role until a test sets others).
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
_BY_NAME = {name.lower(): guid for guid, (name, *_rest) in BUILT_IN_ROLES.items()}


def _entry(role: str | Mapping[str, Any]) -> dict[str, list[str]]:
    """One permissions entry (REST shape) of a built-in role (its GUID or name) or of a custom role's permissions."""
    if isinstance(role, Mapping):
        return {key: [str(action) for action in role.get(key, [])]
                for key in ("actions", "notActions", "dataActions", "notDataActions")}
    guid = _BY_NAME.get(role.lower(), role.lower())
    known = BUILT_IN_ROLES.get(guid)
    if known is None:
        known_names = ", ".join(sorted(name for name, *_rest in BUILT_IN_ROLES.values()))
        raise LabError(f"no built-in role {role!r} in the lab; known: {known_names}")
    _name, _description, actions, data_actions = known
    return {"actions": list(actions), "notActions": [], "dataActions": list(data_actions), "notDataActions": []}


def set_responder_roles(state: LabState, roles: Iterable[tuple[str, str | Mapping[str, Any]]]) -> None:
    """Give the responder exactly these roles: ``(scope, role)`` pairs, ``role`` a built-in name or GUID
    (``"Reader"``, ``"Virtual Machine Contributor"``) or a custom role's ``{"actions", "notActions"}``.

    An empty list leaves the responder only what the scenario's own role assignments give it.
    """
    state.extras[RESPONDER_ROLES_EXTRA] = [(str(parse_resource_id(scope)), _entry(role)) for scope, role in roles]


def responder_permissions(state: LabState, scope: str) -> list[dict[str, list[str]]]:
    """The permissions entries the responder holds at ``scope`` (one per role at or above it), REST shape."""
    wanted = scope.lower().rstrip("/")
    sub = parse_resource_id(scope).subscription_id.lower()

    def covers(held: str) -> bool:
        held = held.lower().rstrip("/")
        return held == wanted or wanted.startswith(held + "/")

    entries = []
    me = state.principal.object_id.lower()
    for assignment in state.role_assignments.get(sub, []):
        properties = assignment.get("properties", {})
        if str(properties.get("principalId", "")).lower() != me or not covers(str(properties.get("scope", ""))):
            continue
        guid = name_of(str(properties.get("roleDefinitionId", "")))
        if guid.lower() in BUILT_IN_ROLES:
            entries.append(_entry(guid))
    roles = state.extras.get(RESPONDER_ROLES_EXTRA)
    if roles is None:  # a Contributor on whatever subscription is asked about (a scenario's, a fleet's)
        roles = [(f"/subscriptions/{sub}", _entry(CONTRIBUTOR))]
    entries += [copy.deepcopy(entry) for held, entry in roles if covers(held)]
    return entries


def storage_account_body(vm_id: str, name: str, *, default_action: str = "Allow",
                         public_network_access: str = "Enabled", allow_shared_key_access: bool | None = None,
                         private_endpoint: str | None = None) -> dict[str, Any]:
    """A ``Microsoft.Storage/storageAccounts`` body (REST shape, api-version 2023-05-01) in the VM's group.

    ``private_endpoint`` names a private endpoint connected to the account (approved).
    """
    if not (3 <= len(name) <= 24 and name.isalnum() and name == name.lower()):
        raise LabError(f"storage account name {name!r}: 3-24 lowercase letters and digits")
    vm = parse_resource_id(vm_id)
    account_id = (f"/subscriptions/{vm.subscription_id}/resourceGroups/{vm.resource_group}/providers/"
                  f"Microsoft.Storage/storageAccounts/{name}")
    properties: dict[str, Any] = {
        "keyCreationTime": {"key1": "2024-03-18T04:42:22.4322836Z", "key2": "2024-03-18T04:42:22.4322836Z"},
        "privateEndpointConnections": [],
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
        "networkAcls": {"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [],
                        "defaultAction": default_action},
        "supportsHttpsTrafficOnly": True,
        "encryption": {"services": {"file": {"keyType": "Account", "enabled": True,
                                             "lastEnabledTime": "2024-03-18T04:42:22.5104084Z"},
                                    "blob": {"keyType": "Account", "enabled": True,
                                             "lastEnabledTime": "2024-03-18T04:42:22.5104084Z"}},
                       "keySource": "Microsoft.Storage"},
        "accessTier": "Hot",
        "provisioningState": "Succeeded",
        "creationTime": "2024-03-18T04:42:22.3541554Z",
        "primaryEndpoints": {kind: f"https://{name}.{kind}.core.windows.net/"
                             for kind in ("dfs", "web", "blob", "queue", "table", "file")},
        "primaryLocation": "",
        "statusOfPrimary": "available",
        "publicNetworkAccess": public_network_access,
    }
    properties["primaryEndpoints"]["web"] = f"https://{name}.z6.web.core.windows.net/"
    if allow_shared_key_access is not None:
        properties["allowSharedKeyAccess"] = allow_shared_key_access
    if private_endpoint is not None:
        pe_id = (f"/subscriptions/{vm.subscription_id}/resourceGroups/{vm.resource_group}/providers/"
                 f"Microsoft.Network/privateEndpoints/{private_endpoint}")
        properties["privateEndpointConnections"] = [{
            "id": f"{account_id}/privateEndpointConnections/{name}.{private_endpoint}",
            "name": f"{name}.{private_endpoint}",
            "type": "Microsoft.Storage/storageAccounts/privateEndpointConnections",
            "properties": {"provisioningState": "Succeeded", "privateEndpoint": {"id": pe_id},
                           "privateLinkServiceConnectionState": {"status": "Approved", "description": "Auto-Approved",
                                                                 "actionRequired": "None"}},
        }]
    return {"sku": {"name": "Standard_LRS", "tier": "Standard"}, "kind": "StorageV2", "id": account_id,
            "name": name, "type": "Microsoft.Storage/storageAccounts", "location": "", "tags": {},
            "properties": properties}


def use_boot_storage(state: LabState, vm_id: str, account: Mapping[str, Any]) -> None:
    """Serve ``account`` (a storage account body) and make it the VM's custom boot-diagnostics storage."""
    vm = state.get(vm_id)
    if vm is None or parse_resource_id(vm_id).is_kind(VMSS_VM):
        raise LabError(f"the lab serves no VM {vm_id}")
    body = copy.deepcopy(dict(account))
    location = str(vm.get("location", ""))
    body["location"] = body["location"] or location
    body["properties"]["primaryLocation"] = body["properties"].get("primaryLocation") or location
    state.put(str(body["id"]), body)
    boot = vm.setdefault("properties", {}).setdefault("diagnosticsProfile", {}).setdefault("bootDiagnostics", {})
    boot["storageUri"] = body["properties"]["primaryEndpoints"]["blob"]


def set_console_endpoint(state: LabState, endpoint: str | None) -> None:
    """Make ``connect`` answers name ``endpoint`` (``https://host[:port]``) as the console host; ``None``: the lab."""
    if endpoint is None:
        state.extras.pop(CONSOLE_ENDPOINT_EXTRA, None)
    elif not endpoint.startswith("https://"):
        raise LabError(f"a console endpoint is https://host[:port], not {endpoint!r}")
    else:
        state.extras[CONSOLE_ENDPOINT_EXTRA] = endpoint.rstrip("/")


def set_serial_log(state: LabState, vm_id: str, data: bytes, folder: Path) -> Path:
    """Serve ``data`` as the VM's boot-diagnostics serial log (written to ``folder``); the path written."""
    if state.get(vm_id) is None:
        raise LabError(f"the lab serves no VM {vm_id}")
    path = folder / f"{parse_resource_id(vm_id).name}.serialconsole.log"
    path.write_bytes(data)
    state.serial_logs[vm_id.lower()] = path
    return path
