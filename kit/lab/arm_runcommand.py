"""Run Command: the action (``virtualMachines/{vm}/runCommand``) and managed Run Commands (``…/runCommands/{name}``).

Shaped as Azure answers them. The action is a long-running POST (202, poll) whose result is
``{"value": [...]}``: on Linux one status whose message is ``Enable succeeded: \\n[stdout]\\n…\\n[stderr]\\n…``
(``Enable failed: failed to execute command: command terminated with exit status=N`` for a
non-zero exit), on Windows two (``ComponentStatus/StdOut/succeeded``, ``ComponentStatus/StdErr/succeeded``);
only the last 4096 bytes of each stream are kept. A managed Run Command is a child resource
(PUT 201 + poll, GET, DELETE, list) whose ``$expand=instanceView`` holds the whole output, the
exit code, the times and the execution state (``TimedOut`` past ``timeoutInSeconds``).

The script runs in the VM's guest: a runner registered with :func:`kit.lab._scripts.register_script_runner`
(a repair VM) or the scenario guest the serial console talks to (scripted: through the
console's interpreter, so ``kit lab check`` judges the fix; real: over SSH as root).

Refusals, as Azure gives them: a VM that is not running, or whose model disallows extension
operations (``osProfile.allowExtensionOperations`` false; 409 ``OperationNotAllowed``), a command
id for the other OS (409 ``Conflict``), an action while another runs on the VM (409
``Conflict``). A VM agent that is not Ready makes the operation fail after a wait with
``VMAgentStatusCommunicationError``; :func:`set_run_command_fault` makes the extension handler
fail (``VMExtensionProvisioningError``) for tests and drills.
"""

from __future__ import annotations

import asyncio
import copy
import time
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from kit.ids import parse_resource_id
from kit.lab._activity import record_write
from kit.lab._arm import arm_error, arm_json, arm_route, check_scope, read_json_body, state_of
from kit.lab._scripts import ScriptRun, script_runner
from kit.lab._state import STATE_KEY, LabState, Operation
from kit.lab.arm_operations import start_operation
from kit.lab.arm_vmss import MACHINE_PATHS, find_machine
from kit.lab.gateway import hub_of

__all__ = ["AGENT_WAIT_POLLS", "HANDLER_FAILURE", "OUTPUT_LIMIT", "add_routes", "set_run_command_fault"]

#: bytes of each stream the action Run Command keeps (its last ones)
OUTPUT_LIMIT = 4096
#: status polls a Run Command on a VM whose agent is not Ready stays ``InProgress`` before it fails
AGENT_WAIT_POLLS = 5
#: the fault :func:`set_run_command_fault` injects: the Run Command extension handler fails
HANDLER_FAILURE = "handler-failure"
_FAULTS, _ACTIVE, _TASKS = "run_command_faults", "run_command_active", "run_command_tasks"
_RUNNING = 10**9  # polls left while the script runs: the operation ends when the script does
_SHELLS = {"RunShellScript": ("Linux", "bash"), "RunPowerShellScript": ("Windows", "powershell")}
_CONFLICT = "Run command extension execution is in progress. Please wait for completion before invoking a run command."
_NO_EXTENSIONS = ("This operation cannot be performed when extension operations are disallowed. To allow, please "
                  "ensure VM Agent is installed on the VM and the osProfile.allowExtensionOperations property is true.")
_EXTENSIONS = {"Linux": ("RunCommandLinux", "Microsoft.CPlat.Core"),
               "Windows": ("RunCommandWindows", "Microsoft.CPlat.Core")}


def add_routes(app: web.Application) -> None:
    """Register the action, the managed Run Command routes and the command list."""
    for machine in MACHINE_PATHS:  # a VM, or a uniform scale-set instance: the same API under its path
        arm_route(app, "POST", machine + "/runCommand", _action)
        arm_route(app, "GET", machine + "/runCommands", _list_managed)
        arm_route(app, "PUT", machine + "/runCommands/{name}", _put_managed)
        arm_route(app, "GET", machine + "/runCommands/{name}", _get_managed)
        arm_route(app, "DELETE", machine + "/runCommands/{name}", _delete_managed)
    arm_route(app, "GET", "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/runCommands",
              _list_commands)

    async def _cancel(app: web.Application) -> None:
        for task in list(app[STATE_KEY].extras.get(_TASKS, ())):
            task.cancel()

    app.on_shutdown.append(_cancel)


def set_run_command_fault(state: LabState, vm_id: str, fault: str | None) -> None:
    """Make Run Command on ``vm_id`` fail as ``fault`` (:data:`HANDLER_FAILURE`), or work again (``None``)."""
    faults: dict[str, str] = state.extras.setdefault(_FAULTS, {})
    if fault is None:
        faults.pop(vm_id.lower(), None)
    else:
        faults[vm_id.lower()] = fault


# ---------------------------------------------------------------------- checks
def _os_type(vm: dict[str, Any]) -> str:
    return str(vm.get("properties", {}).get("storageProfile", {}).get("osDisk", {}).get("osType") or "Linux")


def _not_running(state: LabState, vm: dict[str, Any]) -> web.Response | None:
    """Azure's 409 for a VM Run Command cannot run on: not running, or extension operations disallowed."""
    if vm.get("properties", {}).get("osProfile", {}).get("allowExtensionOperations") is False:
        return arm_error(409, "OperationNotAllowed", _NO_EXTENSIONS)
    power = state.power_state(str(vm["id"])) or "running"
    if power == "running":
        return None
    return arm_error(409, "OperationNotAllowed", f"Operation 'RunCommand' is not allowed on VM '{vm.get('name')}' "
                                                 f"since the VM is {power}.")


def _agent_error(state: LabState, vm: dict[str, Any]) -> dict[str, str] | None:
    """The error a Run Command ends with when the VM agent is not Ready, else ``None``."""
    view = state.instance_views.get(str(vm["id"]).lower()) or {}
    agent = view.get("vmAgent") or {}
    statuses = agent.get("statuses") or []
    if any(s.get("code") == "ProvisioningState/succeeded" and s.get("displayStatus") == "Ready" for s in statuses):
        return None
    return {"code": "VMAgentStatusCommunicationError",
            "message": f"VM '{vm.get('name')}' has not reported status for VM agent or extensions. Verify that the OS "
                       "is up and healthy, the VM has a running VM agent, and that it can establish outbound "
                       "connections to Azure storage. Please refer to https://aka.ms/vmextensionlinuxtroubleshoot for "
                       "additional VM agent troubleshooting information."}


def _handler_error(vm: dict[str, Any], detail: str) -> dict[str, str]:
    name, publisher = _EXTENSIONS["Windows" if _os_type(vm).lower() == "windows" else "Linux"]
    return {"code": "VMExtensionProvisioningError",
            "message": f"VM has reported a failure when processing extension '{name}' (publisher '{publisher}' and "
                       f"type '{name}'). Error message: '{detail}'. More information on troubleshooting is available "
                       "at https://aka.ms/VMExtensionLinuxTroubleshoot."}


# ---------------------------------------------------------------------- running a script
def _operation(state: LabState, headers: dict[str, str]) -> Operation:
    return state.operations[PurePosixPath(urlsplit(headers["Azure-AsyncOperation"]).path).name]


async def _execute(state: LabState, vm_id: str, script: str, shell: str) -> ScriptRun:
    runner = script_runner(state, vm_id)
    if runner is not None:
        return await runner(script, shell)
    info = state.scenario_for(parse_resource_id(vm_id).subscription_id)
    assert info is not None
    stdout, stderr, code = await hub_of(state).guest(info.name, vm_id).run_script(script, shell)
    return ScriptRun(stdout, stderr, code)


def _background(state: LabState, coro: Any) -> None:
    tasks: set[asyncio.Task[None]] = state.extras.setdefault(_TASKS, set())
    task = asyncio.ensure_future(coro)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def _tail(text: str) -> str:
    """The last :data:`OUTPUT_LIMIT` bytes of ``text`` (a split character dropped)."""
    data = text.encode("utf-8")
    return data[-OUTPUT_LIMIT:].decode("utf-8", errors="ignore") if len(data) > OUTPUT_LIMIT else text


def _action_value(os_type: str, run: ScriptRun) -> list[dict[str, str]]:
    """The ``value`` of an action Run Command's result, as the Linux or Windows extension reports it."""
    stdout, stderr = _tail(run.stdout), _tail(run.stderr)
    if os_type.lower() == "windows":
        return [{"code": "ComponentStatus/StdOut/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
                 "message": stdout},
                {"code": "ComponentStatus/StdErr/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
                 "message": stderr}]
    if run.exit_code == 0:
        return [{"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
                 "message": f"Enable succeeded: \n[stdout]\n{stdout}\n[stderr]\n{stderr}"}]
    return [{"code": "ProvisioningState/failed", "level": "Error", "displayStatus": "Provisioning failed",
             "message": f"Enable failed: failed to execute command: command terminated with exit status="
                        f"{run.exit_code}\n[stdout]\n{stdout}\n[stderr]\n{stderr}"}]


# ---------------------------------------------------------------------- the action
async def _action(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    vm, problem = find_machine(state, params)
    if vm is None:
        return problem  # type: ignore[return-value]
    body, problem = await read_json_body(request)
    if body is None:
        return problem  # type: ignore[return-value]
    command_id = str(body.get("commandId") or "")
    if command_id not in _SHELLS:
        return arm_error(400, "InvalidParameter", f"The value '{command_id}' of parameter 'commandId' is not valid; "
                                                  "this lab runs RunShellScript and RunPowerShellScript.")
    wanted, shell = _SHELLS[command_id]
    os_type = _os_type(vm)
    if os_type.lower() != wanted.lower():
        return arm_error(409, "Conflict", f"Run command OS type '{wanted}' does not match the target OS {os_type}.")
    refusal = _not_running(state, vm)
    if refusal is not None:
        return refusal
    vm_id = str(vm["id"])
    active: set[str] = state.extras.setdefault(_ACTIVE, set())
    if vm_id.lower() in active:
        return arm_error(409, "Conflict", _CONFLICT)
    script = "\n".join(str(line) for line in body.get("script") or [])
    record_write(state, vm_id, "runCommand/action", "POST", 202, request.headers.get("x-ms-client-request-id"),
                 request.remote or "127.0.0.1")
    headers = start_operation(request, params["sub"], str(vm.get("location", "eastus")).lower(), None,
                              namespace="Microsoft.Compute")
    operation = _operation(state, headers)
    error = _agent_error(state, vm)
    if error is None and state.extras.get(_FAULTS, {}).get(vm_id.lower()) == HANDLER_FAILURE:
        error = _handler_error(vm, "Failed to start the command handler: exit status 1")
    if error is not None:
        operation.result, operation.polls_left = {"error": error}, AGENT_WAIT_POLLS
        return web.Response(status=202, headers=headers)
    active.add(vm_id.lower())
    operation.polls_left = _RUNNING

    async def run() -> None:
        try:
            done = await _execute(state, vm_id, script, shell)
            operation.result = {"value": _action_value(os_type, done)}
        except Exception as failure:  # the handler itself failed: the operation fails as Azure's does
            operation.result = {"error": _handler_error(vm, str(failure))}
        finally:
            operation.polls_left = 0
            active.discard(vm_id.lower())

    _background(state, run())
    return web.Response(status=202, headers=headers)


# ---------------------------------------------------------------------- managed Run Commands
def _managed_id(machine: dict[str, Any], params: dict[str, str]) -> str:
    return f"{machine['id']}/runCommands/{params['name']}"


def _managed_type(machine: dict[str, Any]) -> str:
    """``Microsoft.Compute/virtualMachines/runCommands``, or the scale-set instance's."""
    return f"{machine.get('type') or 'Microsoft.Compute/virtualMachines'}/runCommands"


def _stamp(moment: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + f".{int((moment or time.time()) % 1 * 1e7):07d}Z"


def _managed_store(state: LabState) -> dict[str, dict[str, Any]]:
    store: dict[str, dict[str, Any]] = state.extras.setdefault("run_commands", {})
    return store


def _shown(resource: dict[str, Any], expand: bool) -> dict[str, Any]:
    body = copy.deepcopy(resource)
    if not expand:
        body["properties"].pop("instanceView", None)
    return body


async def _put_managed(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    vm, problem = find_machine(state, params)
    if vm is None:
        return problem  # type: ignore[return-value]
    body, problem = await read_json_body(request)
    if body is None:
        return problem  # type: ignore[return-value]
    props = body.get("properties") or {}
    source = props.get("source") or {}
    if not isinstance(source.get("script"), str):
        return arm_error(400, "InvalidParameter", "Required parameter 'source.script' is missing (this lab runs inline "
                                                  "scripts, not scriptUri or commandId).")
    timeout = props.get("timeoutInSeconds", 0)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 0 <= timeout <= 5400:
        return arm_error(400, "InvalidParameter", "The value of parameter 'timeoutInSeconds' is invalid. It must be an "
                                                  "integer between 0 and 5400.")
    refusal = _not_running(state, vm)
    if refusal is not None:
        return refusal
    resource_id = _managed_id(vm, params)
    store = _managed_store(state)
    created = resource_id.lower() not in store
    view: dict[str, Any] = {"executionState": "Pending", "executionMessage": "", "exitCode": 0, "output": "",
                            "error": "", "startTime": None, "endTime": None, "statuses": []}
    resource: dict[str, Any] = {
        "name": params["name"], "id": resource_id, "type": _managed_type(vm),
        "location": str(body.get("location") or vm.get("location", "eastus")).replace(" ", "").lower(),
        "properties": {"source": {"script": source["script"]}, "parameters": props.get("parameters") or [],
                       "asyncExecution": bool(props.get("asyncExecution", False)),
                       "treatFailureAsDeploymentFailure": bool(props.get("treatFailureAsDeploymentFailure", False)),
                       "timeoutInSeconds": timeout, "provisioningState": "Creating", "instanceView": view},
    }
    store[resource_id.lower()] = resource
    status = 201 if created else 200
    record_write(state, resource_id, "write", "PUT", status, request.headers.get("x-ms-client-request-id"),
                 request.remote or "127.0.0.1")
    headers = start_operation(request, params["sub"], str(vm.get("location", "eastus")).lower(), None,
                              namespace="Microsoft.Compute")
    operation = _operation(state, headers)
    error = _agent_error(state, vm)
    if error is None and state.extras.get(_FAULTS, {}).get(str(vm["id"]).lower()) == HANDLER_FAILURE:
        error = _handler_error(vm, "Failed to start the command handler: exit status 1")
    if error is not None:
        resource["properties"]["provisioningState"] = "Failed"
        view.update(executionState="Failed", executionMessage=error["message"])
        operation.result, operation.polls_left = {"error": error}, AGENT_WAIT_POLLS
        return arm_json(_shown(resource, False), status, headers)
    shell = "powershell" if _os_type(vm).lower() == "windows" else "bash"
    operation.polls_left = 1 if resource["properties"]["asyncExecution"] else _RUNNING
    _background(state, _run_managed(state, str(vm["id"]), resource, shell, operation))
    return arm_json(_shown(resource, False), status, headers)


async def _run_managed(state: LabState, vm_id: str, resource: dict[str, Any], shell: str,
                       operation: Operation) -> None:
    """Run the managed command's script, filling its instance view; the PUT's operation ends with it."""
    props = resource["properties"]
    view = props["instanceView"]
    started = time.time()
    view.update(executionState="Running", startTime=_stamp(started))
    timeout = props["timeoutInSeconds"] or None
    try:
        done = await asyncio.wait_for(_execute(state, vm_id, props["source"]["script"], shell), timeout)
    except TimeoutError:
        view.update(executionState="TimedOut", executionMessage=f"Execution timed out after {timeout} seconds.",
                    exitCode=-1, endTime=_stamp())
        props["provisioningState"] = "Failed" if props["treatFailureAsDeploymentFailure"] else "Succeeded"
    except Exception as failure:  # the handler itself failed
        view.update(executionState="Failed", executionMessage=str(failure), exitCode=-1, endTime=_stamp())
        props["provisioningState"] = "Failed"
    else:
        failed = done.exit_code != 0
        view.update(executionState="Failed" if failed else "Succeeded", exitCode=done.exit_code, output=done.stdout,
                    error=done.stderr, endTime=_stamp(),
                    executionMessage=f"Execution completed with exit code {done.exit_code}" if failed
                    else "Execution completed")
        props["provisioningState"] = "Failed" if failed and props["treatFailureAsDeploymentFailure"] else "Succeeded"
    view["statuses"] = [{"code": f"ProvisioningState/{props['provisioningState'].lower()}", "level": "Info",
                         "displayStatus": f"Provisioning {props['provisioningState'].lower()}",
                         "time": view["endTime"]}]
    if props["provisioningState"] == "Failed" and operation.polls_left:
        message = f"Run command '{resource['name']}' failed: {view['executionMessage']}"
        operation.result = {"error": {"code": "VMExtensionProvisioningError", "message": message}}
    operation.polls_left = 0


def _managed(request: web.Request, params: dict[str, str]) -> tuple[dict[str, Any] | None, web.Response | None]:
    state = state_of(request)
    vm, problem = find_machine(state, params)
    if vm is None:
        return None, problem
    resource = _managed_store(state).get(_managed_id(vm, params).lower())
    if resource is None:
        path = f"{vm.get('name')}/runCommands/{params['name']}"
        return None, arm_error(404, "ResourceNotFound", f"The Resource '{_managed_type(vm).rsplit('/', 1)[0]}/{path}' "
                                                        f"under resource group '{params['rg']}' was not found.")
    return resource, None


async def _get_managed(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    resource, problem = _managed(request, params)
    if resource is None:
        return problem  # type: ignore[return-value]
    expand = request.query.get("$expand", "")
    if expand and expand.lower() != "instanceview":
        return arm_error(400, "InvalidParameter", f"The value '{expand}' of parameter '$expand' is invalid.")
    return arm_json(_shown(resource, bool(expand)))


async def _delete_managed(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    vm, problem = find_machine(state, params)
    if vm is None:
        return problem  # type: ignore[return-value]
    resource = _managed_store(state).get(_managed_id(vm, params).lower())
    if resource is None:
        return web.Response(status=204)  # deleting what is not there: ARM answers 204
    _managed_store(state).pop(str(resource["id"]).lower(), None)
    record_write(state, str(resource["id"]), "delete", "DELETE", 202, request.headers.get("x-ms-client-request-id"),
                 request.remote or "127.0.0.1")
    headers = start_operation(request, params["sub"], str(resource.get("location", "eastus")), None,
                              namespace="Microsoft.Compute")
    return web.Response(status=202, headers=headers)


async def _list_managed(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    vm, problem = find_machine(state, params)
    if vm is None:
        return problem  # type: ignore[return-value]
    prefix = f"{str(vm['id']).lower()}/runcommands/"
    expand = request.query.get("$expand", "").lower() == "instanceview"
    found = [_shown(r, expand) for key, r in _managed_store(state).items() if key.startswith(prefix)]
    return arm_json({"value": found})


async def _list_commands(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    problem = check_scope(state_of(request), params["sub"])
    if problem is not None:
        return problem
    schema = "https://schema.management.azure.com/schemas/2016-11-17/runcommands.json"
    return arm_json({"value": [
        {"$schema": schema, "id": "RunPowerShellScript", "osType": "Windows", "label": "Executes a PowerShell script",
         "description": "Custom multiline PowerShell script should be defined in script property. Optional parameters "
                        "can be set in parameters property."},
        {"$schema": schema, "id": "RunShellScript", "osType": "Linux", "label": "Executes a Linux shell script",
         "description": "Custom multiline shell script should be defined in script property. Optional parameters can "
                        "be set in parameters property."},
    ]})
