"""Microsoft.Compute routes: VMs, instance views, boot diagnostics, and the blobs behind them.

``retrieveBootDiagnosticsData`` answers SAS URLs on the lab's own blob endpoint
(``/bootdiagnostics/<sub>/<rg>/<vm>.serialconsole.log?…&sig=…``); fetching one needs no
bearer token, only a valid signature that has not expired, as with Azure Storage.
"""

from __future__ import annotations

import copy

from aiohttp import web

from kit.lab._arm import arm_error, arm_json, arm_route, check_scope, find, own_credential_route, state_of
from kit.lab._boot_blobs import blob_answer, expiry_of, refused, signed_urls, split_blob
from kit.lab._state import LabState
from kit.lab.fleet_answers import fleet_vm, fleet_vm_list, status_only_items

__all__ = ["add_routes"]

_VM = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines"


def add_routes(app: web.Application) -> None:
    """Register the compute routes and the boot-diagnostics blob endpoint."""
    arm_route(app, "GET", _VM + "/{vm}", _get_vm)
    arm_route(app, "GET", _VM + "/{vm}/instanceView", _get_instance_view)
    arm_route(app, "POST", _VM + "/{vm}/retrieveBootDiagnosticsData", _retrieve_boot_diagnostics)
    arm_route(app, "GET", _VM, _list_vms)
    arm_route(app, "GET", "/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines", _list_all_vms)
    own_credential_route(app, "GET", "/bootdiagnostics/{sub}/{rg}/{blob}", _get_blob)  # the SAS signature


async def _get_vm(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    fleet_answer = fleet_vm(request, params)  # a lab fleet's VM (kit.lab.fleet)
    if fleet_answer is not None:
        return fleet_answer
    vm, problem = find(state, params["sub"], params["rg"], "Microsoft.Compute", "virtualMachines", params["vm"])
    if vm is None:
        return problem  # type: ignore[return-value]
    body = copy.deepcopy(vm)
    expand = request.query.get("$expand", "")
    if expand and expand.lower() not in ("instanceview", "userdata", "resiliencypolicy"):
        return arm_error(400, "InvalidParameter", f"The value '{expand}' of parameter '$expand' is invalid.")
    if expand.lower() == "instanceview":
        body.setdefault("properties", {})["instanceView"] = _instance_view(state, vm)
    return arm_json(body)


async def _get_instance_view(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    fleet_answer = fleet_vm(request, params, view_only=True)  # a lab fleet's VM (kit.lab.fleet)
    if fleet_answer is not None:
        return fleet_answer
    vm, problem = find(state, params["sub"], params["rg"], "Microsoft.Compute", "virtualMachines", params["vm"])
    return problem if vm is None else arm_json(_instance_view(state, vm))  # type: ignore[return-value]


async def _list_vms(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    problem = check_scope(state, params["sub"], params["rg"])
    if problem is not None:
        return problem
    group = f"/resourcegroups/{params['rg'].lower()}/"
    return arm_json({"value": [vm for vm in state.of_type(params["sub"], "Microsoft.Compute/virtualMachines")
                               if group in str(vm.get("id", "")).lower()]})


async def _list_all_vms(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    fleet_answer = fleet_vm_list(request, params["sub"])  # a lab fleet's subscription (kit.lab.fleet)
    if fleet_answer is not None:
        return fleet_answer
    problem = check_scope(state, params["sub"])
    if problem is not None:
        return problem
    vms = list(state.of_type(params["sub"], "Microsoft.Compute/virtualMachines"))
    if request.query.get("statusOnly", "").lower() == "true":
        views = {str(vm.get("id", "")).lower(): _instance_view(state, vm) for vm in vms}
        return arm_json({"value": status_only_items(vms, views)})
    return arm_json({"value": vms})


async def _retrieve_boot_diagnostics(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    sub, rg, name = params["sub"], params["rg"], params["vm"]
    vm, problem = find(state, sub, rg, "Microsoft.Compute", "virtualMachines", name)
    if vm is None:
        return problem  # type: ignore[return-value]
    boot = vm.get("properties", {}).get("diagnosticsProfile", {}).get("bootDiagnostics", {})
    if not boot.get("enabled"):
        return arm_error(409, "OperationNotAllowed",
                         f"Boot diagnostics is not enabled for virtual machine '{vm.get('name', name)}'. "
                         "Enable boot diagnostics on the VM and retry the operation.")
    expiry = expiry_of(request.query.get("sasUriExpirationTimeInMinutes", "120"))
    if expiry is None:
        return arm_error(400, "InvalidParameter", "The value of parameter sasUriExpirationTimeInMinutes is invalid. "
                                                  "It must be an integer between 1 and 1440.")
    return arm_json(signed_urls(state, f"/bootdiagnostics/{sub}/{rg}", str(vm.get("name", name)), expiry))


async def _get_blob(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    sub, rg, blob = (request.match_info[key] for key in ("sub", "rg", "blob"))
    problem = refused(state, request, f"/bootdiagnostics/{sub}/{rg}/{blob}")
    if problem is not None:
        return problem
    vm_name, kind = split_blob(blob)
    vm_id = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm_name}"
    return blob_answer(state, vm_id, kind)


def _instance_view(state: LabState, vm: dict) -> dict:
    view = state.instance_views.get(str(vm.get("id", "")).lower())
    if view is not None:
        return copy.deepcopy(view)
    return {"statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                          "displayStatus": "Provisioning succeeded"}]}
