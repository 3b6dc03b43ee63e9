"""Instance views (Compute 2024-07-01 ``instanceView`` bodies) and role assignments (REST shape)."""

from __future__ import annotations

from typing import Any

from kit.lab.scenarios._render.arm import Ids, os_disk_name
from kit.lab.scenarios._render.common import guid, hexid, iso_offset, ts
from kit.lab.scenarios._render.images import IMAGES

__all__ = ["instance_view", "role_assignments"]

_ROLES = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Virtual Machine Contributor": "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
    "Virtual Machine Administrator Login": "1c0163c0-47e6-4577-8991-ea5c82e286e4",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Backup Operator": "00c29273-979b-4161-815c-10b084fb9324",
}


def _status(code: str, display: str, at: str | None = None, level: str = "Info",
            message: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "level": level, "displayStatus": display}
    if message:
        out["message"] = message
    if at:
        moment = ts(at)
        if moment.microsecond == 0:  # the platform's clocks are never that round
            moment = moment.replace(microsecond=int(hexid(at, code, length=5), 16) % 1_000_000)
        out["time"] = iso_offset(moment)
    return out


def instance_view(story: dict[str, Any], vm: dict[str, Any]) -> dict[str, Any]:
    """The VM's ``instanceView`` body, from its ``view`` facts (power state, agent, disks, extensions)."""
    image = IMAGES[vm["image"]]
    view_state = vm["view"]
    running = view_state["power"] == "running"
    body: dict[str, Any] = {}
    agent = view_state.get("agent")
    if running and agent == "ready":
        body.update({"computerName": vm.get("hostname", vm["name"]), "osName": image["os_name"], "osVersion": image["os_version"]})
    if running:
        if agent == "ready":
            body["vmAgent"] = {
                "vmAgentVersion": image["agent_goal"] if image["os_type"] == "Linux" else image["waagent"],
                "statuses": [_status("ProvisioningState/succeeded", "Ready", view_state["agent_at"],
                                     message="Guest Agent is running")],
                "extensionHandlers": [
                    {"type": f"{e['publisher']}.{e['type']}", "typeHandlerVersion": e["handler_version"],
                     "status": _status("ProvisioningState/succeeded", "Ready")}
                    for e in vm.get("extensions", [])
                ],
            }
        else:
            body["vmAgent"] = {
                "vmAgentVersion": "Unknown",
                "statuses": [_status("ProvisioningState/Unavailable", "Not Ready", view_state["agent_at"], level="Warning",
                                     message="VM Agent is unresponsive.")],
                "extensionHandlers": [],
            }
    disks = [{"name": os_disk_name(story, vm),
              "statuses": [_status("ProvisioningState/succeeded", "Provisioning succeeded", view_state["disks_at"])]}]
    for d in vm.get("data_disks", []):
        disks.append({"name": d["name"], "statuses": [_status("ProvisioningState/succeeded", "Provisioning succeeded",
                                                              view_state["disks_at"])]})
    body["disks"] = disks
    body["bootDiagnostics"] = {}
    if running and agent == "ready" and vm.get("extensions"):
        body["extensions"] = [
            {"name": e["name"], "type": f"{e['publisher']}.{e['type']}", "typeHandlerVersion": e["handler_version"],
             "statuses": [_status("ProvisioningState/succeeded", "Provisioning succeeded",
                                  message=e.get("message", "Enable succeeded"))]}
            for e in vm["extensions"]
        ]
    body["hyperVGeneration"] = "V2"
    if view_state.get("patch"):
        body["patchStatus"] = view_state["patch"]
    body["isVMInStandbyPool"] = False
    power = {"running": ("PowerState/running", "VM running"), "deallocated": ("PowerState/deallocated", "VM deallocated"),
             "stopped": ("PowerState/stopped", "VM stopped")}[view_state["power"]]
    body["statuses"] = [_status("ProvisioningState/succeeded", "Provisioning succeeded", view_state["provisioned_at"]),
                        _status(*power)]
    return body


def role_assignments(story: dict[str, Any]) -> dict[str, Any]:
    """The story's role assignments, ``{"value": [roleAssignment…]}``."""
    ids = Ids(story)
    sub = story["subscription_id"]
    out = []
    for ra in story["role_assignments"]:
        who = story["principals"][ra["who"]]
        scope = {"sub": f"/subscriptions/{sub}", "rg": ids.rg_id()}.get(ra["scope"]) or ids.vm(ra["scope"].split(":", 1)[1])
        name = guid(story["name"], "ra", ra["who"], ra["role"], ra["scope"])
        out.append({
            "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
            "type": "Microsoft.Authorization/roleAssignments",
            "name": name,
            "properties": {
                "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{_ROLES[ra['role']]}",
                "principalId": who["oid"],
                "principalType": {"user": "User", "sp": "ServicePrincipal", "group": "Group"}[who["kind"]],
                "scope": scope,
                "condition": None, "conditionVersion": None,
                "createdOn": _created(ra["created"]),
                "updatedOn": _created(ra["created"]),
                "createdBy": story["principals"][ra.get("by", "admin")]["oid"],
                "updatedBy": story["principals"][ra.get("by", "admin")]["oid"],
                "delegatedManagedIdentityResourceId": None,
                "description": ra.get("description"),
            },
        })
    return {"value": out}


def _created(text: str) -> str:
    moment = ts(text)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}"[:7].rstrip("0").ljust(1, "0") + "Z"
