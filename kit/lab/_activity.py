"""Activity Log records for writes made through the lab's ARM API.

Each write becomes an operation as Azure logs it: a ``Started`` record (BeginRequest) and a
``Succeeded`` record (EndRequest) sharing one correlationId, with the lab principal as caller.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from kit.ids import parse_resource_id
from kit.lab._state import LabState

__all__ = ["record_write"]

_LOCALIZED = {
    "microsoft.compute/virtualmachines/start/action": "Start Virtual Machine",
    "microsoft.compute/virtualmachines/deallocate/action": "Deallocate Virtual Machine",
    "microsoft.compute/virtualmachines/poweroff/action": "Power Off Virtual Machine",
    "microsoft.compute/virtualmachines/restart/action": "Restart Virtual Machine",
    "microsoft.compute/virtualmachines/write": "Create or Update Virtual Machine",
    "microsoft.compute/virtualmachines/delete": "Delete Virtual Machine",
    "microsoft.compute/virtualmachines/runcommand/action": "Run Command on Virtual Machine",
    "microsoft.compute/virtualmachines/runcommands/write": "Create or Update Virtual Machine Run Command",
    "microsoft.compute/virtualmachines/runcommands/delete": "Delete Virtual Machine Run Command",
    "microsoft.compute/disks/write": "Create or Update Disk",
    "microsoft.compute/disks/delete": "Delete Disk",
    "microsoft.compute/snapshots/write": "Create or Update Snapshot",
    "microsoft.compute/snapshots/delete": "Delete Snapshot",
    "microsoft.network/networkinterfaces/write": "Create or Update Network Interface",
    "microsoft.network/networkinterfaces/delete": "Delete Network Interface",
    "microsoft.network/networksecuritygroups/delete": "Delete Network Security Group",
    "microsoft.network/networksecuritygroups/write": "Create or Update Network Security Group",
    "microsoft.network/networksecuritygroups/securityrules/write": "Create or Update Security Rule",
    "microsoft.network/networksecuritygroups/securityrules/delete": "Delete Security Rule",
    "microsoft.network/routetables/write": "Create or Update Route Table",
    "microsoft.network/virtualnetworks/subnets/write": "Create or Update Subnet",
    "microsoft.network/routetables/routes/write": "Create or Update Route",
    "microsoft.network/routetables/routes/delete": "Delete Route",
}


def record_write(state: LabState, resource_id: str, action: str, method: str, status_code: int,
                 client_request_id: str | None, client_ip: str) -> list[dict[str, Any]]:
    """Append the Started + Succeeded records of one write to the scenario's Activity Log.

    Parameters
    ----------
    state
        The lab state holding the log.
    resource_id
        The resource written.
    action
        ``write``, ``delete`` or ``<verb>/action``.
    method
        The HTTP method (``PUT``, ``DELETE``).
    status_code
        The status the write answered (sub-status of the Succeeded record).
    client_request_id
        The client's ``x-ms-client-request-id``, if sent.
    client_ip
        Where the request came from.

    Returns
    -------
    list of dict
        The two records, as appended.
    """
    parsed = parse_resource_id(resource_id)
    operation = f"{parsed.kind}/{action}"
    correlation = str(uuid.uuid4())
    started = dt.datetime.now(dt.UTC)
    claims = {
        "aud": "https://management.azure.com/", "iss": f"https://sts.windows.net/{state.principal.tenant_id}/",
        "http://schemas.microsoft.com/identity/claims/objectidentifier": state.principal.object_id,
        "http://schemas.microsoft.com/identity/claims/tenantid": state.principal.tenant_id,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": state.principal.name,
        "name": "Lab Responder", "http://schemas.microsoft.com/identity/claims/scope": "user_impersonation",
    }
    common = {
        "authorization": {"action": operation, "scope": resource_id},
        "caller": state.principal.name,
        "channels": "Operation",
        "claims": claims,
        "correlationId": correlation,
        "description": "",
        "httpRequest": {"clientRequestId": client_request_id or str(uuid.uuid4()), "clientIpAddress": client_ip,
                        "method": method},
        "level": "Informational",
        "resourceGroupName": parsed.resource_group,
        "resourceProviderName": {"value": parsed.namespace, "localizedValue": parsed.namespace},
        "resourceId": resource_id,
        "resourceType": {"value": parsed.kind, "localizedValue": parsed.kind},
        "operationId": correlation,
        "operationName": {"value": operation, "localizedValue": _LOCALIZED.get(operation.lower(), operation)},
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "subscriptionId": parsed.subscription_id,
        "tenantId": state.principal.tenant_id,
    }
    records = []
    for offset, event, status, sub_status in ((0.0, "BeginRequest", "Started", ""),
                                              (1.2, "EndRequest", "Succeeded", _sub_status(status_code))):
        when = started + dt.timedelta(seconds=offset)
        event_id = str(uuid.uuid4())
        record = dict(common)
        record.update(
            eventDataId=event_id,
            id=f"{resource_id}/events/{event_id}/ticks/{_ticks(when)}",
            eventName={"value": event, "localizedValue": "Begin request" if event == "BeginRequest" else "End request"},
            status={"value": status, "localizedValue": status},
            subStatus={"value": sub_status.split(" ")[0], "localizedValue": sub_status} if sub_status else
            {"value": "", "localizedValue": ""},
            eventTimestamp=_stamp(when),
            submissionTimestamp=_stamp(when + dt.timedelta(seconds=14)),
            properties={"statusCode": sub_status.split(" ")[0]} if sub_status else {},
        )
        records.append(record)
    state.activity.setdefault(parsed.subscription_id.lower(), []).extend(records)
    return records


def _sub_status(code: int) -> str:
    return {200: "OK (HTTP Status Code: 200)", 201: "Created (HTTP Status Code: 201)",
            202: "Accepted (HTTP Status Code: 202)"}.get(code, f"OK (HTTP Status Code: {code})")


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _ticks(when: dt.datetime) -> int:
    return int((when - dt.datetime(1, 1, 1, tzinfo=dt.UTC)).total_seconds() * 10_000_000)
