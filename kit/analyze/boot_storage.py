"""Boot-diagnostics storage readiness: what in a custom storage account keeps the serial console out.

Example::

    for problem in storage_problems(account, vm_id=vm):
        print(problem.reason, problem.detail, problem.fix)

``account`` is the storage account body as ARM (``storage_accounts.get_properties``, REST shape)
or Azure Resource Graph (a ``resources`` row) serves it: ``name``, ``id`` and ``properties`` with
``networkAcls.defaultAction``, ``publicNetworkAccess``, ``allowSharedKeyAccess`` and
``privateEndpointConnections``. The serial console and the serial log reach the account from the
platform over its public endpoint with a SAS signed by the account key, so three settings break it
(reason codes shared with the fleet readiness report):

- ``storage_private_endpoint``: ``publicNetworkAccess`` is ``Disabled`` - only private endpoints
  reach the account (the firewall rules then do not matter, so no ``storage_firewall`` is added);
- ``storage_firewall``: ``networkAcls.defaultAction`` is ``Deny`` with public access on - only the
  listed networks and addresses get in;
- ``storage_shared_key_disabled``: ``allowSharedKeyAccess`` is ``false`` - no account-key SAS.

A missing setting is Azure's default (public access on, ``Allow``, shared keys allowed). Each
problem's ``fix`` names the ``az`` command that lifts it, or switching the VM to managed boot
diagnostics, which needs no account at all. A body that is not a storage account object raises
:class:`~kit.errors.AnalysisError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kit.errors import AnalysisError
from kit.ids import name_of, resource_group_of, try_parse

__all__ = ["STORAGE_REASONS", "StorageProblem", "storage_problems"]

#: The reason codes :func:`storage_problems` returns, in the order it returns them.
STORAGE_REASONS = ("storage_private_endpoint", "storage_firewall", "storage_shared_key_disabled")


@dataclass(frozen=True)
class StorageProblem:
    """One setting of the boot-diagnostics storage account that keeps the serial console out.

    Parameters
    ----------
    reason:
        ``storage_firewall``, ``storage_private_endpoint`` or ``storage_shared_key_disabled``.
    detail:
        What in the account says so (the property and its value).
    fix:
        The ``az`` command (or portal change) that fixes it.
    """

    reason: str
    detail: str
    fix: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}; fix: {self.fix}"


def storage_problems(account: Mapping[str, Any], *, vm_id: str | None = None) -> tuple[StorageProblem, ...]:
    """The settings of ``account`` that keep the serial console and the serial log out (empty: none).

    ``vm_id`` (the VM using the account) fills the VM's name and group into the managed
    boot-diagnostics alternative; without it the fix says ``VM`` and ``RG``.
    """
    if not isinstance(account, Mapping):
        raise AnalysisError(f"a storage account is a JSON object, not {type(account).__name__}")
    properties = account.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, Mapping):
        raise AnalysisError(f"storage account {account.get('name')!r}: properties is "
                            f"{type(properties).__name__}, not an object")
    name = str(account.get("name") or name_of(_text(account.get("id")), "NAME"))
    group = resource_group_of(_text(account.get("id"))) or str(account.get("resourceGroup") or "RG")
    managed = _managed_fix(vm_id)
    problems: list[StorageProblem] = []
    public = _text(properties.get("publicNetworkAccess"))
    if public is not None and public.lower() == "disabled":
        endpoints = _endpoint_names(properties.get("privateEndpointConnections"))
        through = f" (private endpoints: {', '.join(endpoints)})" if endpoints else ""
        problems.append(StorageProblem(
            "storage_private_endpoint",
            f"storage account {name}: publicNetworkAccess is Disabled{through}; the serial console reaches "
            "the account over its public endpoint",
            f"az storage account update -n {name} -g {group} --public-network-access Enabled "
            f"--default-action Deny, then allow the SerialConsole addresses of the VM's region; or {managed}"))
    acls = properties.get("networkAcls")
    default_action = _text(acls.get("defaultAction")) if isinstance(acls, Mapping) else None
    if not problems and default_action is not None and default_action.lower() == "deny":
        problems.append(StorageProblem(
            "storage_firewall",
            f"storage account {name}: networkAcls.defaultAction is Deny; only the listed networks and "
            "addresses reach it, the serial console's among them only if added",
            f"az storage account network-rule add -n {name} -g {group} --ip-address ADDRESS for each "
            f"SerialConsole address of the VM's region (or --default-action Allow); or {managed}"))
    shared_key = properties.get("allowSharedKeyAccess")
    if shared_key is False or (isinstance(shared_key, str) and shared_key.lower() == "false"):
        problems.append(StorageProblem(
            "storage_shared_key_disabled",
            f"storage account {name}: allowSharedKeyAccess is false; the serial log and console use a SAS "
            "signed with the account key",
            f"az storage account update -n {name} -g {group} --allow-shared-key-access true; or {managed}"))
    return tuple(problems)


def _managed_fix(vm_id: str | None) -> str:
    parsed = try_parse(vm_id)
    vm = parsed.name if parsed else "VM"
    group = parsed.resource_group if parsed and parsed.resource_group else "RG"
    return f"switch to managed boot diagnostics: az vm boot-diagnostics enable --name {vm} -g {group}"


def _endpoint_names(connections: Any) -> list[str]:
    if not isinstance(connections, list):
        return []
    names: list[str] = []
    for connection in connections:
        if not isinstance(connection, Mapping):
            continue
        properties = connection.get("properties")
        endpoint = properties.get("privateEndpoint") if isinstance(properties, Mapping) else None
        endpoint_id = endpoint.get("id") if isinstance(endpoint, Mapping) else None
        names.append(name_of(_text(endpoint_id), str(connection.get("name") or "?")))
    return names


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
