"""Activity Log records (Microsoft.Insights 2015-04-01 EventData, REST shape) from a story's operations.

One story operation becomes several records sharing a correlationId and operationId: Started
(BeginRequest), Accepted (HTTP 202/201, for long-running operations), then Succeeded or Failed
(EndRequest). Resource Health and Service Health events are one or more records of their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kit.lab.scenarios._render.common import guid, iso, plus, rng, ticks, ts

__all__ = ["build_activity_log"]

# op key -> (operationName, localized, method, long-running, resource type)
_OPERATIONS: dict[str, tuple[str, str, str, bool, str]] = {
    "vm_write": ("Microsoft.Compute/virtualMachines/write", "Create or Update Virtual Machine", "PUT", True, "Microsoft.Compute/virtualMachines"),
    "vm_restart": ("Microsoft.Compute/virtualMachines/restart/action", "Restart Virtual Machine", "POST", True, "Microsoft.Compute/virtualMachines"),
    "vm_start": ("Microsoft.Compute/virtualMachines/start/action", "Start Virtual Machine", "POST", True, "Microsoft.Compute/virtualMachines"),
    "vm_deallocate": ("Microsoft.Compute/virtualMachines/deallocate/action", "Deallocate Virtual Machine", "POST", True, "Microsoft.Compute/virtualMachines"),
    "vm_delete": ("Microsoft.Compute/virtualMachines/delete", "Delete Virtual Machine", "DELETE", True, "Microsoft.Compute/virtualMachines"),
    "vm_runcommand": ("Microsoft.Compute/virtualMachines/runCommand/action", "Run Command on Virtual Machine", "POST", True, "Microsoft.Compute/virtualMachines"),
    "vm_ext_write": ("Microsoft.Compute/virtualMachines/extensions/write", "Create or Update Virtual Machine Extension", "PUT", True, "Microsoft.Compute/virtualMachines/extensions"),
    "vm_install_patches": ("Microsoft.Compute/virtualMachines/installPatches/action", "Install OS update patches on virtual machine", "POST", True, "Microsoft.Compute/virtualMachines"),
    "vm_assess_patches": ("Microsoft.Compute/virtualMachines/assessPatches/action", "Assess patches on a virtual machine", "POST", True, "Microsoft.Compute/virtualMachines"),
    "vmss_write": ("Microsoft.Compute/virtualMachineScaleSets/write", "Create or Update Virtual Machine Scale Set", "PUT", True, "Microsoft.Compute/virtualMachineScaleSets"),
    "vmss_manual_upgrade": ("Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action", "Manual Upgrade Virtual Machine Scale Set Instances", "POST", True, "Microsoft.Compute/virtualMachineScaleSets"),
    "disk_write": ("Microsoft.Compute/disks/write", "Create or Update Disk", "PATCH", True, "Microsoft.Compute/disks"),
    "disk_delete": ("Microsoft.Compute/disks/delete", "Delete Disk", "DELETE", True, "Microsoft.Compute/disks"),
    "nsg_rule_write": ("Microsoft.Network/networkSecurityGroups/securityRules/write", "Create or Update Security Rule", "PUT", True, "Microsoft.Network/networkSecurityGroups/securityRules"),
    "route_write": ("Microsoft.Network/routeTables/routes/write", "Create or Update Route", "PUT", True, "Microsoft.Network/routeTables/routes"),
    "route_table_write": ("Microsoft.Network/routeTables/write", "Create or Update Route Table", "PUT", True, "Microsoft.Network/routeTables"),
    "nic_delete": ("Microsoft.Network/networkInterfaces/delete", "Delete Network Interface", "DELETE", True, "Microsoft.Network/networkInterfaces"),
    "pip_delete": ("Microsoft.Network/publicIPAddresses/delete", "Delete Public Ip Address", "DELETE", True, "Microsoft.Network/publicIPAddresses"),
    "tags_write": ("Microsoft.Resources/tags/write", "Update resource tags", "PATCH", False, "Microsoft.Resources/tags"),
    "storage_listkeys": ("Microsoft.Storage/storageAccounts/listKeys/action", "List Storage Account Keys", "POST", False, "Microsoft.Storage/storageAccounts"),
    "deployment_write": ("Microsoft.Resources/deployments/write", "Create Deployment", "PUT", True, "Microsoft.Resources/deployments"),
    "restore_point_write": ("Microsoft.Compute/restorePointCollections/restorePoints/write", "Create or Update Restore Point", "PUT", True, "Microsoft.Compute/restorePointCollections/restorePoints"),
    "kv_secret_write": ("Microsoft.KeyVault/vaults/secrets/write", "Write Secret", "PUT", False, "Microsoft.KeyVault/vaults/secrets"),
    "schedule_write": ("Microsoft.DevTestLab/schedules/write", "Add or modify Schedules", "PUT", False, "Microsoft.DevTestLab/schedules"),
}

_SYNC_STATUS = {"PUT": ("Created", 201), "PATCH": ("OK", 200), "POST": ("OK", 200), "DELETE": ("OK", 200)}
_APPS = {"portal": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "cli": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"}


def _resource_id(story: dict[str, Any], op: dict[str, Any]) -> str:
    """The resourceId an operation is recorded against (shortcuts: vm, nsg+rule, rt+route, nic, …)."""
    sub, rg = story["subscription_id"], op.get("rg", story["resource_group"])
    base = f"/subscriptions/{sub}/resourceGroups/{rg}/providers"
    if "vm" in op and "extension" in op:
        return f"{base}/Microsoft.Compute/virtualMachines/{op['vm']}/extensions/{op['extension']}"
    if "vm" in op:
        return f"{base}/Microsoft.Compute/virtualMachines/{op['vm']}"
    if "nsg" in op:
        return f"{base}/Microsoft.Network/networkSecurityGroups/{op['nsg']}/securityRules/{op['rule']}"
    if "rt" in op and "route" in op:
        return f"{base}/Microsoft.Network/routeTables/{op['rt']}/routes/{op['route']}"
    if "rt" in op:
        return f"{base}/Microsoft.Network/routeTables/{op['rt']}"
    if "nic" in op:
        return f"{base}/Microsoft.Network/networkInterfaces/{op['nic']}"
    if "pip" in op:
        return f"{base}/Microsoft.Network/publicIPAddresses/{op['pip']}"
    if "resource" in op:
        return f"{base}/{op['resource']}"
    raise ValueError(f"operation {op} names no target")


def _claims(story: dict[str, Any], who: dict[str, Any], at: datetime, key: str) -> dict[str, str]:
    tenant = story["tenant_id"]
    issued = int(at.timestamp()) - 300 - rng(key, "iat").randrange(0, 1800)
    claims = {
        "aud": "https://management.core.windows.net/",
        "iss": f"https://sts.windows.net/{tenant}/",
        "iat": str(issued), "nbf": str(issued), "exp": str(issued + (3599 if who["kind"] == "sp" else 4822)),
    }
    if who["kind"] == "user":
        claims.update({
            "http://schemas.microsoft.com/claims/authnclassreference": "1",
            "aio": guid(key, "aio").replace("-", "")[:32] + "=",
            "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd,mfa",
            "appid": _APPS[who.get("app", "portal")], "appidacr": "0",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": who["name"].split()[-1],
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": who["name"].split()[0],
            "ipaddr": who["ip"], "name": who["name"],
            "http://schemas.microsoft.com/identity/claims/objectidentifier": who["oid"],
            "puid": guid(who["upn"], "puid").replace("-", "")[:16].upper(),
            "http://schemas.microsoft.com/identity/claims/scope": "user_impersonation",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": guid(who["upn"], "sub").replace("-", "")[:43],
            "http://schemas.microsoft.com/identity/claims/tenantid": tenant,
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": who["upn"],
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": who["upn"],
            "uti": guid(key, "uti").replace("-", "")[:22], "ver": "1.0",
        })
    else:
        claims.update({
            "aio": guid(key, "aio").replace("-", "")[:32] + "=",
            "appid": who["appid"], "appidacr": "2",
            "http://schemas.microsoft.com/identity/claims/identityprovider": f"https://sts.windows.net/{tenant}/",
            "idtyp": "app",
            "http://schemas.microsoft.com/identity/claims/objectidentifier": who["oid"],
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": who["oid"],
            "http://schemas.microsoft.com/identity/claims/tenantid": tenant,
            "uti": guid(key, "uti").replace("-", "")[:22], "ver": "1.0",
        })
    return claims


def _record(story: dict[str, Any], op: dict[str, Any], who: dict[str, Any], rid: str, *, key: str, status: str,
            sub_status: tuple[str, str], event_name: str, at: datetime, http: dict[str, Any] | None,
            props: dict[str, Any], level: str = "Informational") -> dict[str, Any]:
    """One EventData record of an operation (Started, Accepted, Succeeded or Failed)."""
    name, localized, _method, _lro, rtype = _OPERATIONS[op["op"]]
    rg = op.get("rg", story["resource_group"])
    event_id = guid(key, status, "event")
    submit = plus(at, 4 + rng(key, status, "lag").random() * 14)
    action = name
    record: dict[str, Any] = {
        "authorization": {"action": action, "scope": rid},
        "caller": who["upn"] if who["kind"] == "user" else who["appid"],
        "channels": "Operation",
        "claims": _claims(story, who, at, key),
        "correlationId": guid(key, "correlation"),
        "description": "",
        "eventDataId": event_id,
        "eventName": {"value": event_name, "localizedValue": "Begin request" if event_name == "BeginRequest" else "End request"},
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "eventTimestamp": iso(at),
        "id": f"{rid}/events/{event_id}/ticks/{ticks(at)}",
        "level": level,
        "operationId": guid(key, "operation"),
        "operationName": {"value": name, "localizedValue": localized},
        "resourceGroupName": rg.upper() if op.get("upper_rg") else rg,
        "resourceProviderName": {"value": name.partition("/")[0], "localizedValue": name.partition("/")[0]},
        "resourceType": {"value": rtype, "localizedValue": rtype},
        "resourceId": rid,
        "status": {"value": status, "localizedValue": status},
        "subStatus": {"value": sub_status[0], "localizedValue": sub_status[1]},
        "submissionTimestamp": iso(submit),
        "subscriptionId": story["subscription_id"],
        "tenantId": story["tenant_id"],
        "properties": {k: v for k, v in props.items() if v is not None},
        "relatedEvents": [],
    }
    if op.get("role"):
        record["authorization"]["evidence"] = {
            "role": op["role"], "roleAssignmentScope": f"/subscriptions/{story['subscription_id']}",
            "roleAssignmentId": guid(story["name"], who.get("upn", who.get("appid")), "ra").replace("-", ""),
            "roleDefinitionId": guid(op["role"], "roledef").replace("-", ""),
            "principalId": who["oid"].replace("-", ""), "principalType": "User" if who["kind"] == "user" else "ServicePrincipal",
        }
    if http:
        record["httpRequest"] = http
    return record


def _operation_records(story: dict[str, Any], op: dict[str, Any], index: int) -> list[dict[str, Any]]:
    """The records of one story operation."""
    who = story["principals"][op["by"]]
    name, _localized, method, lro, _rtype = _OPERATIONS[op["op"]]
    rid = _resource_id(story, op)
    key = f"{story['name']}/{index}/{op['op']}/{op['at']}"
    start = plus(ts(op["at"]), rng(key, "sub-ms").random() * 0.000999)  # ARM stamps carry 100 ns ticks
    http = {"clientRequestId": guid(key, "client-request"), "clientIpAddress": who["ip"], "method": method}
    hierarchy = f"{story['tenant_id']}/{story.get('management_group', 'mg-root')}/{story['subscription_id']}"
    base_props: dict[str, Any] = {"eventCategory": "Administrative", "entity": rid, "message": name,
                                  "hierarchy": hierarchy}
    final = op.get("status", "Succeeded")
    records = [_record(story, op, who, rid, key=key, status="Started", sub_status=("", ""), event_name="BeginRequest",
                       at=start, http=http, props=dict(base_props))]
    took = op.get("took", 3 if not lro else 25)
    if lro:
        code, http_code = ("Created", 201) if method == "PUT" and name.startswith("Microsoft.Network") else ("Accepted", 202)
        accepted_at = plus(start, min(1.2, took / 4) + rng(key, "acc").random() * 0.6)
        props = dict(base_props, statusCode=code, serviceRequestId=guid(key, "srid"))
        if op.get("request_body"):
            props["requestbody"] = op["request_body"]
        records.append(_record(story, op, who, rid, key=key, status="Accepted",
                               sub_status=(code, f"{code} (HTTP Status Code: {http_code})"), event_name="EndRequest",
                               at=accepted_at, http=http, props=props))
    end_at = plus(start, took + rng(key, "end").random())
    if final == "Succeeded":
        code, http_code = ("OK", 200) if lro else _SYNC_STATUS[method]
        props = dict(base_props, statusCode=code, serviceRequestId=None if lro else guid(key, "srid"))
        if op.get("response_body"):
            props["responseBody"] = op["response_body"]
        if not lro and op.get("request_body"):
            props["requestbody"] = op["request_body"]
        records.append(_record(story, op, who, rid, key=key, status="Succeeded",
                               sub_status=("", "") if lro else (code, f"{code} (HTTP Status Code: {http_code})"),
                               event_name="EndRequest", at=end_at, http=http, props=props))
    else:
        props = dict(base_props, statusCode=op.get("status_code", "Conflict"), serviceRequestId=None,
                     statusMessage=op.get("status_message", ""))
        records.append(_record(story, op, who, rid, key=key, status="Failed",
                               sub_status=(op.get("sub_status", ""), op.get("sub_status", "")),
                               event_name="EndRequest", at=end_at, http=http, props=props, level="Error"))
    return records


def _health_records(story: dict[str, Any], event: dict[str, Any], index: int) -> list[dict[str, Any]]:
    """A Resource Health event: one record per stage (Activated, Updated, Resolved)."""
    rid = _resource_id(story, event)
    key = f"{story['name']}/health/{index}"
    out = []
    for stage in event["stages"]:
        at = plus(ts(stage["at"]), rng(key, stage["status"], "sub-ms").random() * 0.000999)
        action = {"Active": "Activated", "In Progress": "Updated", "Resolved": "Resolved"}[stage["status"]]
        event_id = guid(key, stage["status"], "event")
        out.append({
            "channels": "Admin, Operation",
            "correlationId": guid(key, "correlation"),
            "description": "",
            "eventDataId": event_id,
            "eventName": {"value": "", "localizedValue": ""},
            "category": {"value": "ResourceHealth", "localizedValue": "Resource Health"},
            "eventTimestamp": iso(at),
            "id": f"{rid}/events/{event_id}/ticks/{ticks(at)}",
            "level": stage.get("level", "Critical" if stage["current"] == "Unavailable" else "Informational"),
            "operationId": guid(key, stage["status"], "operation"),
            "operationName": {"value": f"Microsoft.Resourcehealth/healthevent/{action}/action",
                              "localizedValue": f"Health Event {action}"},
            "resourceGroupName": story["resource_group"],
            "resourceProviderName": {"value": "Microsoft.Resourcehealth/healthevent/action",
                                     "localizedValue": "Microsoft.Resourcehealth/healthevent/action"},
            "resourceType": {"value": "Microsoft.Compute/virtualMachines", "localizedValue": "Microsoft.Compute/virtualMachines"},
            "resourceId": rid,
            "status": {"value": stage["status"], "localizedValue": stage["status"]},
            "subStatus": {"value": "", "localizedValue": ""},
            "submissionTimestamp": iso(plus(at, 40 + rng(key, stage["status"]).random() * 50)),
            "subscriptionId": story["subscription_id"],
            "tenantId": story["tenant_id"],
            "properties": {"title": stage["title"], "details": stage.get("details", ""),
                           "currentHealthStatus": stage["current"], "previousHealthStatus": stage["previous"],
                           "type": stage.get("type", "Downtime"), "cause": stage.get("cause", "UserInitiated")},
            "relatedEvents": [],
        })
    return out


def _service_health_records(story: dict[str, Any], event: dict[str, Any], index: int) -> list[dict[str, Any]]:
    """A Service Health communication (subscription scope), one record per update."""
    key = f"{story['name']}/service/{index}"
    sub = story["subscription_id"]
    out = []
    for n, update in enumerate(event["updates"]):
        at = ts(update["at"])
        event_id = guid(key, n, "event")
        out.append({
            "channels": "Admin", "correlationId": guid(key, n, "correlation"), "description": "",
            "eventDataId": event_id, "eventName": {"value": "", "localizedValue": ""},
            "category": {"value": "ServiceHealth", "localizedValue": "Service Health"},
            "eventTimestamp": iso(at), "id": f"/subscriptions/{sub}/events/{event_id}/ticks/{ticks(at)}",
            "level": "Informational" if update["stage"] == "Resolved" else "Warning",
            "operationId": guid(key, n, "operation"),
            "operationName": {"value": "Microsoft.ServiceHealth/incident/action", "localizedValue": "Microsoft.ServiceHealth/incident/action"},
            "resourceProviderName": {"value": "", "localizedValue": ""},
            "resourceType": {"value": "", "localizedValue": ""},
            "resourceId": f"/subscriptions/{sub}",
            "status": {"value": "Resolved" if update["stage"] == "Resolved" else "Active",
                       "localizedValue": "Resolved" if update["stage"] == "Resolved" else "Active"},
            "subStatus": {"value": "", "localizedValue": ""},
            "submissionTimestamp": iso(plus(at, 90 + n)),
            "subscriptionId": sub, "tenantId": story["tenant_id"],
            "properties": {"title": event["title"], "service": event["service"], "region": event["region"],
                           "communication": update["text"], "incidentType": "Incident", "trackingId": event["tracking_id"],
                           "impactStartTime": iso(ts(event["start"])), "impactedServices": f'[{{"ServiceName":"{event["service"]}","ImpactedRegions":[{{"RegionName":"{event["region"]}"}}]}}]',
                           "defaultLanguageTitle": event["title"], "defaultLanguageContent": update["text"],
                           "stage": update["stage"], "communicationId": guid(key, n, "comm").replace("-", "")[:13],
                           "version": "0.1.1"},
            "relatedEvents": [],
        })
    return out


def build_activity_log(story: dict[str, Any]) -> dict[str, Any]:
    """The story's Activity Log, ``{"value": [EventData…]}`` newest first: operations, Resource and Service Health."""
    records: list[dict[str, Any]] = []
    for i, op in enumerate(story["activity"]):
        records.extend(_operation_records(story, op, i))
    for i, event in enumerate(story.get("resource_health", [])):
        records.extend(_health_records(story, event, i))
    for i, event in enumerate(story.get("service_health", [])):
        records.extend(_service_health_records(story, event, i))
    records.sort(key=lambda r: (r["eventTimestamp"], r["eventDataId"]), reverse=True)
    return {"value": records}
