"""The few ARM writes a responder makes to fix the network path: NSG rules (the SDK, as in Azure).

Used by training walkthroughs (``nsg-deny``) and by anyone fixing a bad rule from a notebook.
Every call goes through :func:`~kit.azure.errors.map_azure_errors`, so a refusal leaves as a
kit error with ARM's code and message.
"""

from __future__ import annotations

from typing import Any

from azure.mgmt.network import NetworkManagementClient

from kit.azure.errors import map_azure_errors
from kit.azure.target import AzureTarget
from kit.ids import nsg_id

__all__ = ["delete_security_rule", "list_security_rules"]


def _client(target: AzureTarget, subscription_id: str) -> NetworkManagementClient:
    return NetworkManagementClient(target.sync_credential(), subscription_id, **target.client_kwargs())


def list_security_rules(target: AzureTarget, subscription_id: str, resource_group: str,
                        nsg: str) -> list[dict[str, Any]]:
    """The NSG's own rules as ``{name, priority, direction, access, protocol, ports, sources}`` rows."""
    rid = str(nsg_id(subscription_id, resource_group, nsg))
    with map_azure_errors("network_security_groups.get", rid):
        body = _client(target, subscription_id).network_security_groups.get(resource_group, nsg)
    rows = []
    for rule in sorted(body.security_rules or [], key=lambda r: (r.direction or "", r.priority or 0)):
        rows.append({"name": rule.name, "priority": rule.priority, "direction": rule.direction,
                     "access": rule.access, "protocol": rule.protocol,
                     "ports": rule.destination_port_range or ",".join(rule.destination_port_ranges or []),
                     "sources": rule.source_address_prefix or ",".join(rule.source_address_prefixes or [])})
    return rows


def delete_security_rule(target: AzureTarget, subscription_id: str, resource_group: str, nsg: str, rule: str) -> None:
    """Delete the security rule ``rule`` from NSG ``nsg`` and wait for ARM to finish.

    Raises
    ------
    ResourceNotFoundError
        No such NSG or rule.
    AzureError
        ARM refused the change.
    """
    rid = f"{nsg_id(subscription_id, resource_group, nsg)}/securityRules/{rule}"
    with map_azure_errors("security_rules.begin_delete", rid):
        _client(target, subscription_id).security_rules.begin_delete(resource_group, nsg, rule).result()
