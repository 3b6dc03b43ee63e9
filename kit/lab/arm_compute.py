"""Microsoft.Compute routes: VMs, instance views, boot diagnostics, and the blobs behind them.

``retrieveBootDiagnosticsData`` answers SAS URLs on the lab's own blob endpoint
(``/bootdiagnostics/<sub>/<rg>/<vm>.serialconsole.log?…&sig=…``); fetching one needs no
bearer token, only a valid signature that has not expired, as with Azure Storage.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import hmac
import urllib.parse
import uuid

from aiohttp import web

from kit.lab._arm import arm_error, arm_json, arm_route, check_scope, find, own_credential_route, state_of
from kit.lab._screens import render_bmp, screen_for
from kit.lab._state import LabState
from kit.times import parse_time, utc_now

__all__ = ["add_routes"]

_VM = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines"
_SAS_VERSION = "2022-11-02"
_LOG, _SHOT = "serialconsole.log", "screenshot.bmp"


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
    problem = check_scope(state, params["sub"])
    if problem is not None:
        return problem
    return arm_json({"value": list(state.of_type(params["sub"], "Microsoft.Compute/virtualMachines"))})


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
    raw_minutes = request.query.get("sasUriExpirationTimeInMinutes", "120")
    if not raw_minutes.isdigit() or not 1 <= int(raw_minutes) <= 1440:
        return arm_error(400, "InvalidParameter", "The value of parameter sasUriExpirationTimeInMinutes is invalid. "
                                                  "It must be an integer between 1 and 1440.")
    expiry = utc_now() + dt.timedelta(minutes=int(raw_minutes))
    vm_name = str(vm.get("name", name))
    return arm_json({
        "consoleScreenshotBlobUri": _sas_url(state, sub, rg, f"{vm_name}.{_SHOT}", expiry),
        "serialConsoleLogBlobUri": _sas_url(state, sub, rg, f"{vm_name}.{_LOG}", expiry),
    })


async def _get_blob(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    sub, rg, blob = (request.match_info[key] for key in ("sub", "rg", "blob"))
    path = f"/bootdiagnostics/{sub}/{rg}/{blob}"
    expiry = request.query.get("se", "")
    signature = request.query.get("sig", "")
    if not hmac.compare_digest(signature, _sign(state, path, expiry)):
        return _storage_error(403, "AuthenticationFailed",
                              "Server failed to authenticate the request. Make sure the value of Authorization "
                              "header is formed correctly including the signature.")
    expires = parse_time(expiry) or dt.datetime.min.replace(tzinfo=dt.UTC)
    if expires < utc_now():
        return _storage_error(403, "AuthenticationFailed",
                              "Server failed to authenticate the request. Signature not valid in the specified "
                              f"time frame: Start [] - Expiry [{expiry}] - Current [{_now_text()}]")
    kind = next((suffix for suffix in (_LOG, _SHOT) if blob.endswith(f".{suffix}")), "")
    vm_name = blob[: -len(kind) - 1] if kind else blob
    vm_id = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm_name}"
    if kind == _LOG and vm_id.lower() in state.serial_logs:
        return _blob(state.serial_logs[vm_id.lower()].read_bytes(), "text/plain")
    if kind == _SHOT and (vm := state.get(vm_id)) is not None:
        return _blob(render_bmp(screen_for(state, vm)), "image/bmp")
    return _storage_error(404, "BlobNotFound", "The specified blob does not exist.")


def _instance_view(state: LabState, vm: dict) -> dict:
    view = state.instance_views.get(str(vm.get("id", "")).lower())
    if view is not None:
        return copy.deepcopy(view)
    return {"statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                          "displayStatus": "Provisioning succeeded"}]}


def _sas_url(state: LabState, sub: str, rg: str, blob: str, expiry: dt.datetime) -> str:
    path = f"/bootdiagnostics/{sub}/{rg}/{blob}"
    se = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    query = urllib.parse.urlencode({"sv": _SAS_VERSION, "st": _now_text(), "se": se, "sr": "b", "sp": "r",
                                    "sig": _sign(state, path, se)})
    return f"{state.endpoint}{urllib.parse.quote(path)}?{query}"


def _sign(state: LabState, path: str, expiry: str) -> str:
    digest = hmac.new(state.blob_secret, f"{path}\n{expiry}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _blob(data: bytes, content_type: str) -> web.Response:
    headers = {"x-ms-blob-type": "BlockBlob", "x-ms-version": _SAS_VERSION, "x-ms-request-id": str(uuid.uuid4())}
    return web.Response(body=data, content_type=content_type, headers=headers)


def _storage_error(status: int, code: str, message: str) -> web.Response:
    request_id = uuid.uuid4()
    text = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}\nRequestId:{request_id}\nTime:{_now_text()}</Message></Error>")
    return web.Response(status=status, text=text, content_type="application/xml",
                        headers={"x-ms-error-code": code, "x-ms-request-id": str(request_id)})
