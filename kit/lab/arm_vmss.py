"""Microsoft.Compute scale-set routes: a uniform scale set, its instances, their NICs and boot diagnostics.

Shaped like ARM's (compute 2024-07-01, the VirtualMachineScaleSetVM examples):
``GET …/virtualMachineScaleSets/{vmss}`` (the model), ``…/virtualMachines`` (the instances),
``…/virtualMachines/{id}`` (``$expand=instanceView`` too), ``…/{id}/instanceView``,
``POST …/{id}/retrieveBootDiagnosticsData`` (SAS URLs on the lab's blob endpoint
``/bootdiagnostics-vmss/<sub>/<rg>/<vmss>/<id>.serialconsole.log``, signed like a VM's), and the
instance NICs the network API serves under the scale set (``…/virtualMachines/{id}/networkInterfaces``
and ``…/networkInterfaces/{nic}``, plus the scale set's whole list). An unknown instance is the 404
``ParentResourceNotFound`` / ``NotFound`` ARM answers. Effective NSGs and routes are not served for
instance NICs: ARM offers them only for top-level ``Microsoft.Network/networkInterfaces``.
"""

from __future__ import annotations

import copy

from aiohttp import web

from kit.lab._arm import arm_error, arm_json, arm_route, check_scope, find, own_credential_route, resource_id, state_of
from kit.lab._boot_blobs import blob_answer, expiry_of, refused, signed_urls, split_blob
from kit.lab._state import LabState
from kit.lab.fleet_answers import fleet_instance

__all__ = ["MACHINE_PATHS", "add_routes", "find_instance", "find_machine"]

_VMSS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets"
_INSTANCE = _VMSS + "/{vmss}/virtualMachines/{instance}"
#: a VM's route and a uniform scale-set instance's: an action offered on both is registered under each
MACHINE_PATHS = ("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}",
                 _INSTANCE)
_BLOBS = "/bootdiagnostics-vmss"


def add_routes(app: web.Application) -> None:
    """Register the scale-set routes and the instances' boot-diagnostics blob endpoint."""
    arm_route(app, "GET", _VMSS, _list_scale_sets)
    arm_route(app, "GET", _VMSS + "/{vmss}", _get_scale_set)
    arm_route(app, "GET", _VMSS + "/{vmss}/virtualMachines", _list_instances)
    arm_route(app, "GET", _INSTANCE, _get_instance)
    arm_route(app, "GET", _INSTANCE + "/instanceView", _get_instance_view)
    arm_route(app, "POST", _INSTANCE + "/retrieveBootDiagnosticsData", _retrieve_boot_diagnostics)
    arm_route(app, "GET", _VMSS + "/{vmss}/networkInterfaces", _list_scale_set_nics)
    arm_route(app, "GET", _INSTANCE + "/networkInterfaces", _list_instance_nics)
    arm_route(app, "GET", _INSTANCE + "/networkInterfaces/{nic}", _get_instance_nic)
    own_credential_route(app, "GET", _BLOBS + "/{sub}/{rg}/{vmss}/{blob}", _get_blob)  # the SAS signature


def _scale_set(state: LabState, params: dict[str, str]) -> tuple[dict | None, web.Response | None]:
    problem = check_scope(state, params["sub"], params["rg"])
    if problem is not None:
        return None, problem
    body = state.get(resource_id(params["sub"], params["rg"], "Microsoft.Compute", "virtualMachineScaleSets",
                                 params["vmss"]))
    if body is None:
        return None, arm_error(404, "ResourceNotFound",
                               f"The Resource 'Microsoft.Compute/virtualMachineScaleSets/{params['vmss']}' under "
                               f"resource group '{params['rg']}' was not found. For more details please go to "
                               "https://aka.ms/ARMResourceNotFoundFix")
    return body, None


def _instances(state: LabState, scale_set: dict) -> list[dict]:
    prefix = f"{str(scale_set.get('id', '')).lower()}/virtualmachines/"
    found = [body for key, body in state.resources.items() if key.startswith(prefix) and key.count("/") ==
             prefix.count("/")]
    return sorted(found, key=lambda body: int(str(body.get("instanceId", "0"))) if str(
        body.get("instanceId", "0")).isdigit() else 0)


def find_instance(state: LabState, params: dict[str, str]) -> tuple[dict | None, web.Response | None]:
    """A scale-set instance's body (``params``: sub, rg, vmss, instance), or the 404 ARM answers instead."""
    scale_set, problem = _scale_set(state, params)
    if scale_set is None:
        return None, problem
    body = state.get(f"{scale_set['id']}/virtualMachines/{params['instance']}")
    if body is None:
        return None, arm_error(404, "NotFound", "The entity was not found in this Azure location.")
    return body, None


def find_machine(state: LabState, params: dict[str, str]) -> tuple[dict | None, web.Response | None]:
    """The VM or scale-set instance a :data:`MACHINE_PATHS` route names, or the 404 ARM answers instead."""
    if "vmss" in params:
        return find_instance(state, params)
    return find(state, params["sub"], params["rg"], "Microsoft.Compute", "virtualMachines", params["vm"])


def _view(state: LabState, instance: dict) -> dict:
    view = state.instance_views.get(str(instance.get("id", "")).lower())
    if view is None:
        return {"statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                              "displayStatus": "Provisioning succeeded"}]}
    body = copy.deepcopy(view)
    body.setdefault("platformUpdateDomain", 0)
    body.setdefault("platformFaultDomain", 0)
    return body


async def _list_scale_sets(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    problem = check_scope(state, params["sub"], params["rg"])
    if problem is not None:
        return problem
    group = f"/resourcegroups/{params['rg'].lower()}/"
    scale_sets = state.of_type(params["sub"], "Microsoft.Compute/virtualMachineScaleSets")
    return arm_json({"value": [body for body in scale_sets if group in str(body.get("id", "")).lower()]})


async def _get_scale_set(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    body, problem = _scale_set(state_of(request), params)
    return problem if body is None else arm_json(body)  # type: ignore[return-value]


async def _list_instances(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    scale_set, problem = _scale_set(state, params)
    if scale_set is None:
        return problem  # type: ignore[return-value]
    expand = request.query.get("$expand", "").lower()
    items = []
    for instance in _instances(state, scale_set):
        body = copy.deepcopy(instance)
        if expand == "instanceview":
            body.setdefault("properties", {})["instanceView"] = _view(state, instance)
        items.append(body)
    return arm_json({"value": items})


async def _get_instance(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    fleet_answer = fleet_instance(request, params)  # a lab fleet's instance (kit.lab.fleet)
    if fleet_answer is not None:
        return fleet_answer
    state = state_of(request)
    instance, problem = find_instance(state, params)
    if instance is None:
        return problem  # type: ignore[return-value]
    body = copy.deepcopy(instance)
    expand = request.query.get("$expand", "")
    if expand and expand.lower() not in ("instanceview", "userdata", "resiliencypolicy"):
        return arm_error(400, "InvalidParameter", f"The value '{expand}' of parameter '$expand' is invalid.")
    if expand.lower() == "instanceview":
        body.setdefault("properties", {})["instanceView"] = _view(state, instance)
    return arm_json(body)


async def _get_instance_view(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    fleet_answer = fleet_instance(request, params, view_only=True)  # a lab fleet's instance (kit.lab.fleet)
    if fleet_answer is not None:
        return fleet_answer
    state = state_of(request)
    instance, problem = find_instance(state, params)
    return problem if instance is None else arm_json(_view(state, instance))  # type: ignore[return-value]


async def _retrieve_boot_diagnostics(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    instance, problem = find_instance(state, params)
    if instance is None:
        return problem  # type: ignore[return-value]
    boot = instance.get("properties", {}).get("diagnosticsProfile", {}).get("bootDiagnostics", {})
    if not boot.get("enabled"):
        return arm_error(409, "OperationNotAllowed",
                         f"Boot diagnostics is not enabled for virtual machine scale set VM "
                         f"'{params['vmss']}_{params['instance']}'. Enable boot diagnostics and retry the operation.")
    expiry = expiry_of(request.query.get("sasUriExpirationTimeInMinutes", "120"))
    if expiry is None:
        return arm_error(400, "InvalidParameter", "The value of parameter sasUriExpirationTimeInMinutes is invalid. "
                                                  "It must be an integer between 1 and 1440.")
    number = str(instance.get("instanceId", params["instance"]))
    return arm_json(signed_urls(state, f"{_BLOBS}/{params['sub']}/{params['rg']}/{params['vmss']}", number, expiry))


def _nics_of(state: LabState, instance: dict) -> list[dict]:
    refs = instance.get("properties", {}).get("networkProfile", {}).get("networkInterfaces") or []
    return [copy.deepcopy(body) for ref in refs if (body := state.get(str(ref.get("id", "")))) is not None]


async def _list_scale_set_nics(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    scale_set, problem = _scale_set(state, params)
    if scale_set is None:
        return problem  # type: ignore[return-value]
    return arm_json({"value": [nic for instance in _instances(state, scale_set) for nic in _nics_of(state, instance)]})


async def _list_instance_nics(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    instance, problem = find_instance(state, params)
    return problem if instance is None else arm_json({"value": _nics_of(state, instance)})  # type: ignore[return-value]


async def _get_instance_nic(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    instance, problem = find_instance(state, params)
    if instance is None:
        return problem  # type: ignore[return-value]
    nic = next((body for body in _nics_of(state, instance)
                if str(body.get("name", "")).lower() == params["nic"].lower()), None)
    if nic is None:
        return arm_error(404, "ResourceNotFound",
                         f"The Resource 'Microsoft.Compute/virtualMachineScaleSets/{params['vmss']}/virtualMachines/"
                         f"{params['instance']}/networkInterfaces/{params['nic']}' under resource group "
                         f"'{params['rg']}' was not found.")
    return arm_json(nic)


async def _get_blob(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    sub, rg, vmss, blob = (request.match_info[key] for key in ("sub", "rg", "vmss", "blob"))
    problem = refused(state, request, f"{_BLOBS}/{sub}/{rg}/{vmss}/{blob}")
    if problem is not None:
        return problem
    number, kind = split_blob(blob)
    return blob_answer(state, resource_id(sub, rg, "Microsoft.Compute", "virtualMachineScaleSets", vmss,
                                          "virtualMachines", number), kind)
