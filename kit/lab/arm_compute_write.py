"""VM writes a repair needs: create a repair VM, attach/detach data disks, swap an OS disk, delete;
and the repair VM's NIC and NSG (create, delete).

Shaped like Azure's: a VM PUT answers 201 (new) or 200 (update) with the body ``Creating`` /
``Updating`` and an ``Azure-AsyncOperation`` to poll; PATCH updates too; DELETE answers 202.
A disk can be attached to one VM at a time (``managedBy``, ``diskState``); swapping the OS disk
(``storageProfile.osDisk.managedDisk.id``) needs the VM stopped or deallocated (409 otherwise),
and the next start boots what the new disk holds (:func:`kit.lab.guest.start_from_disk`: the
console and the boot-diagnostics log change). A Linux VM created from an image with a copy of the
same image's OS disk attached boots the copy, and its agent never reports Ready
(:mod:`kit.lab._root_clash`). A repair VM's Run Command scripts run in its
rescue shell (:mod:`kit.lab.guest._rescue`, through :func:`kit.lab._scripts.register_script_runner`)
with its data disks attached. NSG PUTs of existing NSGs stay with :mod:`kit.lab.arm_network_write`.
Every write is logged in the Activity Log.
"""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
import uuid
from typing import Any

from aiohttp import web

from kit.lab._activity import record_write
from kit.lab._arm import (
    ROUTER_KEY,
    ArmHandler,
    arm_error,
    arm_json,
    arm_route,
    check_scope,
    read_json_body,
    resource_id,
    state_of,
)
from kit.lab._disks import content_of, find_disk
from kit.lab._real_disks import boot_real_disk, real_rescue, stop_rescue
from kit.lab._root_clash import booted_copy
from kit.lab._scripts import ScriptRun, register_script_runner, unregister_script_runner
from kit.lab._state import LabState
from kit.lab.arm_operations import start_operation
from kit.lab.capacity import size_refusal
from kit.lab.gateway import boot_from_disk
from kit.lab.guest import RescueDisk, RescueShell, WindowsRescueDisk, WindowsRescueShell, start_from_disk
from kit.lab.policy import policy_refusal

__all__ = ["add_routes"]

_RG = "/subscriptions/{sub}/resourceGroups/{rg}/providers"
_VM = _RG + "/Microsoft.Compute/virtualMachines/{vm}"
_NIC = _RG + "/Microsoft.Network/networkInterfaces/{name}"
_NSG = _RG + "/Microsoft.Network/networkSecurityGroups/{name}"
_BOOTED = "booted_os_disks"


def add_routes(app: web.Application) -> None:
    """Register the VM, NIC and NSG write routes (after :mod:`kit.lab.arm_compute_power` and
    :mod:`kit.lab.arm_network_write`, whose start and NSG-update handlers they extend)."""
    arm_route(app, "PUT", _VM, _put_vm)
    arm_route(app, "PATCH", _VM, _put_vm)
    arm_route(app, "DELETE", _VM, _delete_vm)
    arm_route(app, "PUT", _NIC, _put_nic)
    arm_route(app, "DELETE", _NIC, _delete_nic)
    arm_route(app, "DELETE", _NSG, _delete_nsg)
    _extend(app, "PUT", _NSG, _create_nsg)
    _extend(app, "POST", _VM + "/start", _start_from_os_disk)


def _extend(app: web.Application, method: str, pattern: str, wrapper: Any) -> None:
    """Put ``wrapper(request, params, original)`` in front of the handler already registered for the route."""
    def shape(segments: Any) -> tuple[str, ...]:
        return tuple("{}" if s.startswith("{") else s.lower() for s in segments)

    wanted = shape(pattern.strip("/").split("/"))
    for route in app[ROUTER_KEY].routes:
        if route.method == method and shape(route.segments) == wanted:
            original = route.handler

            async def handler(request: web.Request, params: dict[str, str], original: ArmHandler = original
                              ) -> web.StreamResponse:
                return await wrapper(request, params, original)

            route.handler = handler
            return
    raise RuntimeError(f"kit.lab.arm_compute_write must be registered after the module serving {method} {pattern}")


# ---------------------------------------------------------------------- virtual machines
async def _put_vm(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    problem = check_scope(state, params["sub"], params["rg"])
    if problem is not None:
        return problem
    body, problem = await read_json_body(request)
    if body is None:
        return problem  # type: ignore[return-value]
    vm_id = resource_id(params["sub"], params["rg"], "Microsoft.Compute", "virtualMachines", params["vm"])
    current = state.get(vm_id)
    if current is None:
        if request.method == "PATCH":
            return _vm_not_found(params)
        return _create_vm(request, state, vm_id, params, body)
    updated = copy.deepcopy(current)
    storage = (body.get("properties") or {}).get("storageProfile") or {}
    problem = _swap_os_disk(state, updated, storage.get("osDisk") or {})
    if problem is None and "dataDisks" in storage:
        problem = _set_data_disks(state, updated, storage["dataDisks"] or [])
    if problem is not None:
        return problem
    if "tags" in body:
        updated["tags"] = body["tags"]
    _commit_disks(state, current, updated)
    if _disk_ids(current) != _disk_ids(updated):
        stop_rescue(state, vm_id)  # a real repair VM never keeps writing a copy once it is detached
    updated["properties"]["provisioningState"] = "Succeeded"
    state.put(vm_id, updated)
    _refresh_disk_views(state, updated)
    return _accepted(request, state, params["sub"], updated, 200, "Updating")


def _create_vm(request: web.Request, state: LabState, vm_id: str, params: dict[str, str],
               body: dict[str, Any]) -> web.Response:
    properties = copy.deepcopy(body.get("properties") or {})
    location = str(body.get("location", "")).replace(" ", "").lower()
    if not location:
        return arm_error(400, "LocationRequired", "The location property is required for this definition.")
    if not (properties.get("hardwareProfile") or {}).get("vmSize"):
        return arm_error(400, "InvalidParameter", "Required parameter 'hardwareProfile.vmSize' is missing (null).")
    refused = policy_refusal(state, params["sub"], params["vm"], body, str(properties["hardwareProfile"]["vmSize"])) \
        or size_refusal(state, str(properties["hardwareProfile"]["vmSize"]), location)
    if refused is not None:
        return refused
    os_profile = properties.get("osProfile") or {}
    if not os_profile.get("adminUsername"):
        return arm_error(400, "InvalidParameter", "Required parameter 'osProfile.adminUsername' is missing (null).")
    refused = _windows_profile_refusal(properties, os_profile)
    if refused is not None:
        return refused
    os_profile.pop("adminPassword", None)  # Azure never returns it
    nics = (properties.get("networkProfile") or {}).get("networkInterfaces") or []
    for nic in nics:
        found = state.get(str(nic.get("id", "")))
        if found is None:
            return arm_error(404, "NotFound", f"Resource {nic.get('id')} not found.")
        if found.get("properties", {}).get("virtualMachine"):
            return arm_error(400, "NicInUse", f"Network Interface {nic.get('id')} is used by existing resource "
                                              f"{found['properties']['virtualMachine']['id']}.")
    if not nics:
        return arm_error(400, "InvalidParameter", "Required parameter 'networkProfile' is missing (null).")
    storage = properties.setdefault("storageProfile", {})
    os_disk = storage.setdefault("osDisk", {})
    if str(os_disk.get("createOption", "")).lower() != "fromimage" or not storage.get("imageReference"):
        return arm_error(400, "InvalidParameter", "The lab creates VMs from an image: storageProfile.osDisk."
                                                  "createOption must be 'FromImage' with an imageReference.")
    vm: dict[str, Any] = {"id": vm_id, "name": params["vm"], "type": "Microsoft.Compute/virtualMachines",
                          "location": location, "properties": properties}
    for key in ("tags", "zones"):
        if key in body:
            vm[key] = body[key]
    disk_name = os_disk.get("name") or f"{params['vm']}_OsDisk_1_{uuid.uuid4().hex}"
    disk_id = resource_id(params["sub"], params["rg"], "Microsoft.Compute", "disks", disk_name)
    account = (os_disk.get("managedDisk") or {}).get("storageAccountType", "Premium_LRS")
    encryption_set = (os_disk.get("managedDisk") or {}).get("diskEncryptionSet")
    os_disk.update(name=disk_name, osType=os_disk.get("osType", "Linux"), diskSizeGB=os_disk.get("diskSizeGB", 30),
                   managedDisk={"storageAccountType": account, "id": disk_id,
                                **({"diskEncryptionSet": encryption_set} if encryption_set else {})},
                   deleteOption=os_disk.get("deleteOption", "Detach"))
    state.put(disk_id, _new_os_disk(vm, disk_id, disk_name, account))
    attached = copy.deepcopy(vm)
    attached["properties"]["storageProfile"]["dataDisks"] = []
    problem = _set_data_disks(state, attached, storage.get("dataDisks") or [])
    if problem is not None:
        state.delete(disk_id)
        return problem
    properties.update(provisioningState="Succeeded", vmId=str(uuid.uuid4()), timeCreated=_now())
    storage["dataDisks"] = attached["properties"]["storageProfile"]["dataDisks"]
    _commit_disks(state, {"properties": {"storageProfile": {}}}, vm)
    for nic in nics:
        nic_body = state.get(str(nic["id"]))
        if nic_body is not None:
            nic_body.setdefault("properties", {})["virtualMachine"] = {"id": vm_id}
    state.put(vm_id, vm)
    state.instance_views[vm_id.lower()] = _running_view(vm)
    if booted_copy(state, vm) is not None:  # it booted the broken system it was meant to repair
        state.instance_views[vm_id.lower()]["vmAgent"]["statuses"] = [_agent_status(False)]
    windows = str(os_disk.get("osType", "")).lower() == "windows"
    shell = WindowsRescueShell() if windows else RescueShell(params["vm"])
    register_script_runner(state, vm_id, _rescue_runner(state, vm_id, shell))
    return _accepted(request, state, params["sub"], vm, 201, "Creating")


def _windows_profile_refusal(properties: dict[str, Any], os_profile: dict[str, Any]) -> web.Response | None:
    """Azure's refusals of a Windows VM's ``osProfile``: no admin password or a weak one, a bad computer name."""
    os_type = str(((properties.get("storageProfile") or {}).get("osDisk") or {}).get("osType", ""))
    if os_type.lower() != "windows" and "windowsConfiguration" not in os_profile:
        return None
    password = os_profile.get("adminPassword")
    if not password:
        return arm_error(400, "InvalidParameter", "Required parameter 'adminPassword' is missing (null).")
    classes = sum(any(test(c) for c in str(password)) for test in (str.isupper, str.islower, str.isdigit,
                                                                   lambda c: not c.isalnum()))
    if not 8 <= len(str(password)) <= 123 or classes < 3:
        return arm_error(400, "InvalidParameter", _WEAK_PASSWORD)
    name = str(os_profile.get("computerName", ""))
    if len(name) > 15 or name.isdigit() or any(c in _NOT_IN_COMPUTER_NAMES for c in name):
        return arm_error(400, "InvalidParameter", "Windows computer name cannot be more than 15 characters long, be "
                                                  "entirely numeric, or contain the following characters: ` ~ ! @ # "
                                                  "$ % ^ & * ( ) = + _ [ ] { } \\ | ; : . ' \" , < > / ?.")
    return None


_WEAK_PASSWORD = ("The supplied password must be between 8-123 characters long and must satisfy at least 3 of password "
                  "complexity requirements from the following: 1) Contains an uppercase character 2) Contains a "
                  "lowercase character 3) Contains a numeric digit 4) Contains a special character 5) Control "
                  "characters are not allowed")
_NOT_IN_COMPUTER_NAMES = set("`~!@#$%^&*()=+_[]{}\\|;:.'\",<>/?")


def _swap_os_disk(state: LabState, vm: dict[str, Any], requested: dict[str, Any]) -> web.Response | None:
    os_disk = vm["properties"]["storageProfile"]["osDisk"]
    new_id = str((requested.get("managedDisk") or {}).get("id") or "")
    old_id = str(os_disk.get("managedDisk", {}).get("id", ""))
    if not new_id or new_id.lower() == old_id.lower():
        return None
    if state.power_state(str(vm["id"])) not in ("deallocated", "stopped"):
        return arm_error(409, "OperationNotAllowed", f"The OS disk of VM '{vm['name']}' can only be swapped while "
                                                     "the VM is stopped or deallocated. Stop the VM and retry.")
    disk = find_disk(state, new_id)
    if disk is None:
        return arm_error(404, "NotFound", f"Disk {new_id} was not found.")
    problem = _attachable(disk, vm)
    if problem is not None:
        return problem
    old = find_disk(state, old_id)
    if str(disk["properties"].get("osType", "")).lower() != str(os_disk.get("osType", "")).lower():
        return arm_error(409, "OperationNotAllowed", f"Disk {disk['name']} has OS type "
                                                     f"{disk['properties'].get('osType')!r}; VM '{vm['name']}' runs "
                                                     f"{os_disk.get('osType')!r}.")
    if old is not None and disk["properties"].get("hyperVGeneration") != old["properties"].get("hyperVGeneration"):
        return arm_error(409, "OperationNotAllowed", f"Disk {disk['name']} is Hyper-V generation "
                                                     f"{disk['properties'].get('hyperVGeneration')}; the VM's is "
                                                     f"{old['properties'].get('hyperVGeneration')}.")
    state.extras.setdefault(_BOOTED, {}).setdefault(str(vm["id"]).lower(), old_id)
    if old is not None:
        content_of(state, old_id)  # the disk keeps what the VM ran when it was swapped out
    os_disk["managedDisk"] = {**os_disk.get("managedDisk", {}), "id": disk["id"]}
    os_disk["name"] = disk["name"]
    return None


def _set_data_disks(state: LabState, vm: dict[str, Any], requested: list[dict[str, Any]]) -> web.Response | None:
    current = {str(d.get("managedDisk", {}).get("id", "")).lower(): d
               for d in vm["properties"]["storageProfile"].get("dataDisks", [])}
    kept = []
    for entry in requested:
        disk_id = str((entry.get("managedDisk") or {}).get("id") or "")
        if entry.get("toBeDetached") or not disk_id:
            continue
        if disk_id.lower() in current:
            kept.append(current[disk_id.lower()])
            continue
        disk = find_disk(state, disk_id)
        if disk is None:
            return arm_error(404, "NotFound", f"Disk {disk_id} was not found.")
        problem = _attachable(disk, vm)
        if problem is not None:
            return problem
        if any(int(d.get("lun", -1)) == int(entry.get("lun", 0)) for d in kept):
            return arm_error(409, "OperationNotAllowed", f"LUN {entry.get('lun', 0)} is already in use.")
        kept.append({"lun": int(entry.get("lun", 0)), "name": disk["name"], "createOption": "Attach",
                     "caching": entry.get("caching", "None"), "writeAcceleratorEnabled": False,
                     "managedDisk": {"storageAccountType": disk.get("sku", {}).get("name", "Premium_LRS"),
                                     "id": disk["id"]},
                     "deleteOption": entry.get("deleteOption", "Detach"),
                     "diskSizeGB": disk["properties"].get("diskSizeGB", 30), "toBeDetached": False})
    vm["properties"]["storageProfile"]["dataDisks"] = kept
    return None


def _attachable(disk: dict[str, Any], vm: dict[str, Any]) -> web.Response | None:
    owner = str(disk.get("managedBy") or "")
    if owner and owner.lower() != str(vm["id"]).lower():
        return arm_error(409, "OperationNotAllowed", f"Disk {disk['name']} is already attached to VM {owner}.")
    if disk.get("zones") and vm.get("zones") and set(disk["zones"]) != set(vm["zones"]):
        return arm_error(400, "BadRequest", f"Disk {disk['name']} is in zone {','.join(disk['zones'])}; VM "
                                            f"'{vm['name']}' is in zone {','.join(vm['zones'])}.")
    return None


def _disk_ids(vm: dict[str, Any]) -> set[str]:
    storage = vm.get("properties", {}).get("storageProfile", {})
    ids = {str(storage.get("osDisk", {}).get("managedDisk", {}).get("id", "")).lower()}
    ids |= {str(d.get("managedDisk", {}).get("id", "")).lower() for d in storage.get("dataDisks", [])}
    return ids - {""}


def _commit_disks(state: LabState, before: dict[str, Any], after: dict[str, Any]) -> None:
    """``managedBy`` / ``diskState`` of the disks the write attached and detached."""
    old, new = _disk_ids(before), _disk_ids(after)
    for disk_id in old - new:
        disk = find_disk(state, disk_id)
        if disk is not None:
            disk.pop("managedBy", None)
            disk["properties"]["diskState"] = "Unattached"
    for disk_id in new - old:
        disk = find_disk(state, disk_id)
        if disk is not None:
            disk["managedBy"] = after["id"]
            disk["properties"]["diskState"] = "Attached"


async def _delete_vm(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    problem = check_scope(state, params["sub"], params["rg"])
    if problem is not None:
        return problem
    vm_id = resource_id(params["sub"], params["rg"], "Microsoft.Compute", "virtualMachines", params["vm"])
    vm = state.get(vm_id)
    if vm is None:
        return web.Response(status=204)
    _commit_disks(state, vm, {"id": vm_id, "properties": {"storageProfile": {}}})
    os_disk = vm["properties"]["storageProfile"].get("osDisk", {})
    if str(os_disk.get("deleteOption", "")).lower() == "delete":
        state.delete(str(os_disk.get("managedDisk", {}).get("id", "")))
    for nic in vm["properties"].get("networkProfile", {}).get("networkInterfaces", []):
        nic_body = state.get(str(nic.get("id", "")))
        if nic_body is not None:
            nic_body.get("properties", {}).pop("virtualMachine", None)
    state.delete(vm_id)
    state.instance_views.pop(vm_id.lower(), None)
    unregister_script_runner(state, vm_id)
    stop_rescue(state, vm_id)
    record_write(state, vm_id, "delete", "DELETE", 202, request.headers.get("x-ms-client-request-id"),
                 request.remote or "127.0.0.1")
    headers = start_operation(request, params["sub"], str(vm.get("location", "eastus")), None,
                              namespace="Microsoft.Compute")
    return web.Response(status=202, headers=headers)


async def _start_from_os_disk(request: web.Request, params: dict[str, str], original: ArmHandler
                              ) -> web.StreamResponse:
    """Start the VM; when its OS disk was swapped since it last ran, it boots what the new disk holds."""
    response = await original(request, params)
    state = state_of(request)
    vm_id = resource_id(params["sub"], params["rg"], "Microsoft.Compute", "virtualMachines", params["vm"])
    vm = state.get(vm_id)
    booted: dict[str, str] = state.extras.setdefault(_BOOTED, {})
    if response.status != 202 or vm is None or vm_id.lower() not in booted:
        return response
    disk_id = str(vm["properties"]["storageProfile"]["osDisk"].get("managedDisk", {}).get("id", ""))
    content = content_of(state, disk_id)
    if content is None or booted[vm_id.lower()].lower() == disk_id.lower():
        return response
    if content.image is not None:  # a real guest: QEMU boots the swapped image
        await boot_real_disk(state, vm_id, content.scenario, content.variant, content.image)
        booted[vm_id.lower()] = disk_id
        return response
    nvme = str(vm["properties"]["storageProfile"].get("diskControllerType", "")).lower() == "nvme"
    guest = start_from_disk(content.scenario, str(vm["name"]), content.definition, content.boot_log,
                            content.responder_ip, content.username, content.password, nvme=nvme)
    boot_from_disk(state, vm_id, guest)
    booted[vm_id.lower()] = disk_id
    agent = state.instance_views.setdefault(vm_id.lower(), {"statuses": []}).setdefault("vmAgent", {})
    agent["statuses"] = [_agent_status(not guest.silent and not getattr(guest.shell, "booted_emergency", False)
                                       and getattr(guest.shell, "network_up", lambda: True)())]
    return response


# ---------------------------------------------------------------------- the repair VM's NIC and NSG
async def _put_nic(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    problem = check_scope(state, params["sub"], params["rg"])
    if problem is not None:
        return problem
    body, problem = await read_json_body(request)
    if body is None:
        return problem  # type: ignore[return-value]
    nic_id = resource_id(params["sub"], params["rg"], "Microsoft.Network", "networkInterfaces", params["name"])
    denied = policy_refusal(state, params["sub"], params["name"], body)
    if denied is not None:
        return denied
    if state.get(nic_id) is not None:
        return arm_error(409, "OperationNotAllowed", f"Network interface '{params['name']}' exists; the lab only "
                                                     "creates new ones.")
    properties = copy.deepcopy(body.get("properties") or {})
    configs = properties.get("ipConfigurations") or []
    if not configs:
        return arm_error(400, "InvalidRequestFormat", "Network interface needs at least one IP configuration.")
    nsg = (properties.get("networkSecurityGroup") or {}).get("id")
    if nsg and state.get(str(nsg)) is None:
        return arm_error(404, "NotFound", f"Resource {nsg} not found.")
    for index, config in enumerate(configs):
        config_properties = config.setdefault("properties", {})
        if config_properties.get("publicIPAddress"):
            return arm_error(400, "InvalidParameter", "The lab's repair NICs take no public IP address.")
        subnet = state.get(str((config_properties.get("subnet") or {}).get("id", "")))
        if subnet is None:
            return arm_error(404, "NotFound", f"Subnet {(config_properties.get('subnet') or {}).get('id')} not found.")
        config_properties.update(privateIPAddress=_free_address(state, params["sub"], subnet),
                                 privateIPAllocationMethod="Dynamic", privateIPAddressVersion="IPv4",
                                 primary=index == 0, provisioningState="Succeeded")
        config["id"] = f"{nic_id}/ipConfigurations/{config.get('name', 'ipconfig1')}"
        config.setdefault("name", "ipconfig1")
    properties.update(provisioningState="Succeeded", resourceGuid=str(uuid.uuid4()), primary=True,
                      enableAcceleratedNetworking=bool(properties.get("enableAcceleratedNetworking")),
                      enableIPForwarding=False, macAddress="", nicType="Standard")
    stored = {"id": nic_id, "name": params["name"], "type": "Microsoft.Network/networkInterfaces",
              "location": str(body.get("location", "")).replace(" ", "").lower(), "etag": f'W/"{uuid.uuid4()}"',
              "properties": properties}
    if "tags" in body:
        stored["tags"] = body["tags"]
    state.put(nic_id, stored)
    return _accepted(request, state, params["sub"], stored, 201, "Updating", namespace="Microsoft.Network")


async def _delete_nic(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    nic_id = resource_id(params["sub"], params["rg"], "Microsoft.Network", "networkInterfaces", params["name"])
    return _delete_network(request, state, params, nic_id, "virtualMachine", "NicInUse")


async def _delete_nsg(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    nsg_id = resource_id(params["sub"], params["rg"], "Microsoft.Network", "networkSecurityGroups", params["name"])
    users = [nic["id"] for nic in state.of_type(params["sub"], "Microsoft.Network/networkInterfaces")
             if str(nic.get("properties", {}).get("networkSecurityGroup", {}).get("id", "")).lower() == nsg_id.lower()]
    if users:
        return arm_error(400, "InUseNetworkSecurityGroupCannotBeDeleted",
                         f"Network security group {nsg_id} cannot be deleted because it is in use by the following "
                         f"resources: {', '.join(users)}.")
    return _delete_network(request, state, params, nsg_id, "", "")


def _delete_network(request: web.Request, state: LabState, params: dict[str, str], target_id: str,
                    used_by: str, code: str) -> web.Response:
    problem = check_scope(state, params["sub"], params["rg"])
    if problem is not None:
        return problem
    body = state.get(target_id)
    if body is None:
        return web.Response(status=204)
    if used_by and body.get("properties", {}).get(used_by):
        return arm_error(400, code, f"{target_id} is used by existing resource "
                                    f"{body['properties'][used_by].get('id')}.")
    state.delete(target_id)
    record_write(state, target_id, "delete", "DELETE", 202, request.headers.get("x-ms-client-request-id"),
                 request.remote or "127.0.0.1")
    headers = start_operation(request, params["sub"], str(body.get("location", "eastus")), None)
    return web.Response(status=202, headers=headers)


async def _create_nsg(request: web.Request, params: dict[str, str], original: ArmHandler) -> web.StreamResponse:
    """A PUT of a new NSG creates it with Azure's default rules; updates go to :mod:`kit.lab.arm_network_write`."""
    state = state_of(request)
    name = params["parent"]  # the capture of arm_network_write's pattern
    nsg_id = resource_id(params["sub"], params["rg"], "Microsoft.Network", "networkSecurityGroups", name)
    problem = check_scope(state, params["sub"], params["rg"])
    if problem is not None or state.get(nsg_id) is not None:
        return problem or await original(request, params)
    body, problem = await read_json_body(request)
    if body is None:
        return problem  # type: ignore[return-value]
    denied = policy_refusal(state, params["sub"], name, body)
    if denied is not None:
        return denied
    location = str(body.get("location", "")).replace(" ", "").lower()
    stored = {"id": nsg_id, "name": name, "type": "Microsoft.Network/networkSecurityGroups",
              "location": location, "etag": f'W/"{uuid.uuid4()}"',
              "properties": {"securityRules": [], "defaultSecurityRules": _default_rules(nsg_id),
                             "resourceGuid": str(uuid.uuid4())}}
    if "tags" in body:
        stored["tags"] = body["tags"]
    state.put(nsg_id, stored)
    for rule in (body.get("properties") or {}).get("securityRules") or []:
        rule_id = f"{nsg_id}/securityRules/{rule.get('name')}"
        state.put(rule_id, {"id": rule_id, "name": rule.get("name"), "type": "Microsoft.Network/"
                            "networkSecurityGroups/securityRules",
                            "properties": {**(rule.get("properties") or {}), "provisioningState": "Succeeded"}})
    return _accepted(request, state, params["sub"], stored, 201, "Updating", namespace="Microsoft.Network")


def _default_rules(nsg_id: str) -> list[dict[str, Any]]:
    rules = [("AllowVnetInBound", "Inbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
             ("AllowAzureLoadBalancerInBound", "Inbound", 65001, "Allow", "AzureLoadBalancer", "*"),
             ("DenyAllInBound", "Inbound", 65500, "Deny", "*", "*"),
             ("AllowVnetOutBound", "Outbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
             ("AllowInternetOutBound", "Outbound", 65001, "Allow", "*", "Internet"),
             ("DenyAllOutBound", "Outbound", 65500, "Deny", "*", "*")]
    return [{"id": f"{nsg_id}/defaultSecurityRules/{name}", "name": name,
             "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
             "properties": {"protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*",
                            "sourceAddressPrefix": source, "destinationAddressPrefix": destination,
                            "access": access, "priority": priority, "direction": direction,
                            "provisioningState": "Succeeded"}}
            for name, direction, priority, access, source, destination in rules]


# ---------------------------------------------------------------------- helpers
def _rescue_runner(state: LabState, vm_id: str, shell: RescueShell | WindowsRescueShell) -> Any:
    async def run(script: str, kind: str) -> ScriptRun:
        wanted, runs, command_id = (("powershell", "Windows", "RunPowerShellScript")
                                    if isinstance(shell, WindowsRescueShell) else ("bash", "Linux", "RunShellScript"))
        if kind != wanted:
            return ScriptRun("", f"This repair VM runs {runs}: use {command_id}.\n", 1)
        vm = state.get(vm_id)
        entries = sorted((vm or {}).get("properties", {}).get("storageProfile", {}).get("dataDisks", []),
                         key=lambda d: int(d.get("lun", 0)))
        contents = [content_of(state, str(entry.get("managedDisk", {}).get("id", ""))) for entry in entries]
        if isinstance(shell, WindowsRescueShell):
            windows = [WindowsRescueDisk(int(entry.get("lun", 0)), content.definition if content is not None else {})
                       for entry, content in zip(entries, contents, strict=True)]
            return ScriptRun(*shell.run(script, windows))
        images = tuple(c.image for c in contents if c is not None and c.image is not None)
        if images:  # a copy of a real guest's disk: a real repair VM runs the script
            return await real_rescue(state, vm_id, str((vm or {}).get("name", "repair-vm"))).run(script, images)
        disks = []
        for entry, content in zip(entries, contents, strict=True):
            files = content.files if content is not None else {}
            separate = bool(content.definition.get("boot_partition")) if content is not None else False
            layout = str(content.definition.get("disk_layout", "ubuntu")) if content is not None else "ubuntu"
            disks.append(RescueDisk(int(entry.get("lun", 0)), files, separate, int(entry.get("diskSizeGB", 30)),
                                    layout))
        out, err, code = shell.run(script, disks)
        return ScriptRun(out, err, code)

    return run


def _new_os_disk(vm: dict[str, Any], disk_id: str, name: str, account: str) -> dict[str, Any]:
    image = vm["properties"]["storageProfile"].get("imageReference", {})
    body: dict[str, Any] = {
        "id": disk_id, "name": name, "type": "Microsoft.Compute/disks", "location": vm["location"],
        "managedBy": vm["id"], "sku": {"name": account, "tier": account.split("_")[0]},
        "properties": {"osType": vm["properties"]["storageProfile"]["osDisk"].get("osType", "Linux"),
                       "hyperVGeneration": "V2" if vm["properties"].get("securityProfile") else "V1",
                       "creationData": {"createOption": "FromImage", "imageReference": {"id": str(image)}},
                       "diskSizeGB": 30, "encryption": _encryption(vm),
                       "provisioningState": "Succeeded", "diskState": "Attached", "timeCreated": _now(),
                       "uniqueId": str(uuid.uuid4())}}
    if vm.get("zones"):
        body["zones"] = list(vm["zones"])
    return body


def _encryption(vm: dict[str, Any]) -> dict[str, str]:
    """The new OS disk's encryption: the disk encryption set the VM's OS disk names, else a platform key."""
    wanted = ((vm["properties"]["storageProfile"]["osDisk"].get("managedDisk") or {}).get("diskEncryptionSet") or {})
    if wanted.get("id"):
        return {"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": str(wanted["id"])}
    return {"type": "EncryptionAtRestWithPlatformKey"}


def _running_view(vm: dict[str, Any]) -> dict[str, Any]:
    storage = vm["properties"]["storageProfile"]
    names = [storage["osDisk"]["name"]] + [d["name"] for d in storage.get("dataDisks", [])]
    ok = {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
          "time": _now()}
    return {"computerName": vm["properties"].get("osProfile", {}).get("computerName", vm["name"]),
            "osName": "ubuntu", "vmAgent": {"vmAgentVersion": "2.12.0.2", "statuses": [_agent_status(True)],
                                            "extensionHandlers": []},
            "disks": [{"name": name, "statuses": [ok]} for name in names],
            "hyperVGeneration": "V2" if vm["properties"].get("securityProfile") else "V1",
            "statuses": [ok, {"code": "PowerState/running", "level": "Info", "displayStatus": "VM running"}]}


def _refresh_disk_views(state: LabState, vm: dict[str, Any]) -> None:
    view = state.instance_views.get(str(vm["id"]).lower())
    if view is None:
        return
    storage = vm["properties"]["storageProfile"]
    names = [storage["osDisk"]["name"]] + [d["name"] for d in storage.get("dataDisks", [])]
    ok = {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
          "time": _now()}
    view["disks"] = [{"name": name, "statuses": [ok]} for name in names]


def _agent_status(ready: bool) -> dict[str, Any]:
    if ready:
        return {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Ready",
                "message": "Guest Agent is running", "time": _now()}
    return {"code": "ProvisioningState/Unavailable", "level": "Warning", "displayStatus": "Not Ready",
            "message": "VM Agent is unresponsive.", "time": _now()}


def _free_address(state: LabState, sub: str, subnet: dict[str, Any]) -> str:
    prefix = subnet.get("properties", {}).get("addressPrefix") or "10.0.0.0/24"
    network = ipaddress.ip_network(prefix, strict=False)
    used = {str(config.get("properties", {}).get("privateIPAddress", ""))
            for nic in state.of_type(sub, "Microsoft.Network/networkInterfaces")
            for config in nic.get("properties", {}).get("ipConfigurations", [])}
    hosts = list(network.hosts())[3:]  # Azure keeps the first addresses of a subnet
    return str(next((host for host in reversed(hosts) if str(host) not in used), hosts[-1]))


def _accepted(request: web.Request, state: LabState, sub: str, body: dict[str, Any], status: int,
              provisioning: str, namespace: str = "Microsoft.Compute") -> web.Response:
    record_write(state, str(body["id"]), "write", request.method, status,
                 request.headers.get("x-ms-client-request-id"), request.remote or "127.0.0.1")
    headers = start_operation(request, sub, str(body.get("location", "eastus")), None, namespace=namespace)
    headers.pop("Location")
    answer = copy.deepcopy(body)
    answer.setdefault("properties", {})["provisioningState"] = provisioning
    return arm_json(answer, status, headers)




def _vm_not_found(params: dict[str, str]) -> web.Response:
    return arm_error(404, "ResourceNotFound", f"The Resource 'Microsoft.Compute/virtualMachines/{params['vm']}' under "
                                              f"resource group '{params['rg']}' was not found. For more details "
                                              "please go to https://aka.ms/ARMResourceNotFoundFix")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
