"""The fleet's answers on routes other modules own: the subscription VM list and the console status.

``GET /subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines`` (``kit.lab.arm_compute``)
answers a fleet subscription from here: with ``statusOnly=true`` each item is the VM's id, name,
type, location and ``properties.vmId`` + ``properties.instanceView`` (statuses, ``vmAgent``), as
Compute sends it; without, the VM bodies in ARM's shape. Pages of :data:`PAGE_SIZE` with a
``nextLink`` (``$skiptoken``). A fleet VM's ``GET`` (``$expand=instanceView``) and ``instanceView``
answer from here too (:func:`fleet_vm`; a scale-set instance's: :func:`fleet_instance`, for
``kit.lab.arm_vmss`` to call). ``consoleServices/default`` (``kit.lab.arm_serialconsole``) asks
:func:`fleet_console_disabled`.
"""

from __future__ import annotations

import copy
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from kit.lab._arm import arm_error, arm_json, state_of
from kit.lab._state import LabState
from kit.lab.fleet import Fleet, fleet_of

__all__ = ["PAGE_SIZE", "fleet_console_disabled", "fleet_instance", "fleet_vm", "fleet_vm_list", "status_only_items"]

#: Items per page of the fleet's VM list.
PAGE_SIZE = 500
_ARG_ONLY = ("tenantId", "kind", "resourceGroup", "subscriptionId", "managedBy", "sku", "plan", "extendedLocation")
_BODIES_KEY = "kit.lab.fleet_answers.bodies"
_BY_ID_KEY = "kit.lab.fleet_answers.by_id"
_INSTANCES_KEY = "kit.lab.fleet_answers.instances"


def fleet_console_disabled(state: LabState, subscription_id: str) -> bool | None:
    """Whether a fleet subscription's serial console is disabled; ``None`` when it is not the fleet's."""
    fleet = fleet_of(state)
    if fleet is None or not fleet.serves(subscription_id):
        return None
    return subscription_id.lower() in fleet.console_disabled


def fleet_vm_list(request: web.Request, subscription_id: str) -> web.Response | None:
    """The VM list page for a fleet subscription; ``None`` when it is not the fleet's."""
    state = state_of(request)
    fleet = fleet_of(state)
    if fleet is None or not fleet.serves(subscription_id):
        return None
    status_only = request.query.get("statusOnly", "").lower() == "true"
    items = fleet.statuses[subscription_id.lower()] if status_only else _bodies(state, fleet)[subscription_id.lower()]
    raw_skip = request.query.get("$skiptoken", "0")
    if not raw_skip.isdigit() or int(raw_skip) > len(items):
        return arm_error(400, "InvalidParameter", f"The value '{raw_skip}' of parameter '$skiptoken' is invalid.")
    start = int(raw_skip)
    page = items[start:start + PAGE_SIZE]
    answer: dict[str, Any] = {"value": [copy.deepcopy(item) for item in page]}
    if start + PAGE_SIZE < len(items):
        query = {key: value for key, value in request.query.items() if key != "$skiptoken"}
        query["$skiptoken"] = str(start + PAGE_SIZE)
        answer["nextLink"] = f"{state.endpoint}{request.path}?{urllib.parse.urlencode(query)}"
    return arm_json(answer)


def fleet_vm(request: web.Request, params: dict[str, str], *, view_only: bool = False) -> web.Response | None:
    """A fleet VM's body (or, ``view_only``, its instance view); ``None`` when the subscription is not the fleet's."""
    state = state_of(request)
    fleet = fleet_of(state)
    sub = params["sub"]
    if fleet is None or not fleet.serves(sub):
        return None
    vm_id = f"/subscriptions/{sub}/resourceGroups/{params['rg']}/providers/Microsoft.Compute/virtualMachines/" \
            f"{params['vm']}".lower()
    found = _by_id(state, fleet).get(vm_id)
    if found is None:
        return arm_error(404, "ResourceNotFound",
                         f"The Resource 'Microsoft.Compute/virtualMachines/{params['vm']}' under resource group "
                         f"'{params['rg']}' was not found. For more details please go to "
                         "https://aka.ms/ARMResourceNotFoundFix")
    body, status = found
    view = copy.deepcopy(status["properties"]["instanceView"])
    if view_only:
        return arm_json(view)
    answer = copy.deepcopy(body)
    if request.query.get("$expand", "").lower() == "instanceview":
        answer["properties"]["instanceView"] = view
    return arm_json(answer)


def fleet_instance(request: web.Request, params: dict[str, str], *,
                   view_only: bool = False) -> web.Response | None:
    """A fleet scale-set instance's body (or, ``view_only``, its instance view); ``None`` when not the fleet's.

    ``params`` are the route's captures ``sub``, ``rg``, ``vmss`` and ``instance``.
    """
    state = state_of(request)
    fleet = fleet_of(state)
    if fleet is None or not fleet.serves(params["sub"]):
        return None
    instance_id = (f"/subscriptions/{params['sub']}/resourceGroups/{params['rg']}/providers/Microsoft.Compute/"
                   f"virtualMachineScaleSets/{params['vmss']}/virtualMachines/{params['instance']}").lower()
    row = _instances(state, fleet).get(instance_id)
    if row is None:
        return arm_error(404, "ResourceNotFound",
                         f"The Resource 'Microsoft.Compute/virtualMachineScaleSets/{params['vmss']}/virtualMachines/"
                         f"{params['instance']}' under resource group '{params['rg']}' was not found. For more "
                         "details please go to https://aka.ms/ARMResourceNotFoundFix")
    properties = row["properties"]
    power = properties["extended"]["instanceView"]["powerState"]
    view: dict[str, Any] = {"platformUpdateDomain": 0, "platformFaultDomain": 0,
                            "computerName": properties["osProfile"]["computerName"],
                            "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                                          "displayStatus": "Provisioning succeeded"}, dict(power)]}
    if power["code"] == "PowerState/running":
        view["vmAgent"] = {"vmAgentVersion": "2.11.1.4", "statuses": [
            {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Ready",
             "message": "GuestAgent is running and processing the extensions."}], "extensionHandlers": []}
    if view_only:
        return arm_json(view)
    body: dict[str, Any] = {"name": row["name"], "id": row["id"],
                            "type": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
                            "location": row["location"], "instanceId": properties["instanceId"],
                            "sku": copy.deepcopy(row["sku"]), "tags": {},
                            "properties": {key: copy.deepcopy(value) for key, value in properties.items()
                                           if key not in ("extended", "instanceId")}}
    if row.get("zones"):
        body["zones"] = list(row["zones"])
    if request.query.get("$expand", "").lower() == "instanceview":
        body["properties"]["instanceView"] = view
    return arm_json(body)


def status_only_items(vms: Iterable[Mapping[str, Any]], views: Mapping[str, Mapping[str, Any]],
                      ) -> list[dict[str, Any]]:
    """Scenario VMs as ``statusOnly=true`` lists them; ``views`` maps lower-cased id → instance view."""
    items = []
    for vm in vms:
        vm_id = str(vm.get("id", ""))
        properties = vm.get("properties") or {}
        item: dict[str, Any] = {"name": vm.get("name"), "id": vm_id, "type": vm.get("type"),
                                "location": vm.get("location"),
                                "properties": {"instanceView": copy.deepcopy(dict(views.get(vm_id.lower(), {})))}}
        if "vmId" in properties:
            item["properties"]["vmId"] = properties["vmId"]
        items.append(item)
    return items


def _by_id(state: LabState, fleet: Fleet) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    cached = state.extras.get(_BY_ID_KEY)
    if cached is not None and cached[0] is fleet:
        return cached[1]
    statuses = {item["id"].lower(): item for items in fleet.statuses.values() for item in items}
    found = {str(body["id"]).lower(): (body, statuses[str(body["id"]).lower()])
             for bodies in _bodies(state, fleet).values() for body in bodies}
    state.extras[_BY_ID_KEY] = (fleet, found)
    return found


def _instances(state: LabState, fleet: Fleet) -> dict[str, dict[str, Any]]:
    cached = state.extras.get(_INSTANCES_KEY)
    if cached is not None and cached[0] is fleet:
        return cached[1]
    found = {str(row["id"]).lower(): row for row in fleet.tables["computeresources"]}
    state.extras[_INSTANCES_KEY] = (fleet, found)
    return found


def _bodies(state: LabState, fleet: Fleet) -> dict[str, list[dict[str, Any]]]:
    cached = state.extras.get(_BODIES_KEY)
    if cached is not None and cached[0] is fleet:
        return cached[1]
    bodies: dict[str, list[dict[str, Any]]] = {sub: [] for sub in fleet.subscriptions}
    for row in fleet.tables["resources"]:
        if row["type"] != "microsoft.compute/virtualmachines":
            continue
        body = {key: value for key, value in row.items() if key not in _ARG_ONLY}
        body["type"] = "Microsoft.Compute/virtualMachines"
        body["properties"] = {key: value for key, value in row["properties"].items() if key != "extended"}
        if body.get("zones") is None:
            body.pop("zones", None)
        if body.get("identity") is None:
            body.pop("identity", None)
        bodies[row["subscriptionId"]].append(body)
    state.extras[_BODIES_KEY] = (fleet, bodies)
    return bodies
