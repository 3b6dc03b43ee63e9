"""Run Command through the SDK: a second channel into a guest whose VM agent is Ready.

Two APIs, as Azure has them:

* the action (``virtual_machines.begin_run_command``, ``RunShellScript`` / ``RunPowerShellScript``):
  one at a time per VM, cannot be cancelled, keeps only the last 4096 bytes of each stream,
  and on Windows does not say the exit code;
* managed Run Commands (``virtual_machine_run_commands``, ``managed=True``): a child resource
  created for the run, read back with its instance view (whole output, exit code, times,
  ``TimedOut`` past ``timeoutInSeconds``), then deleted.

A uniform scale-set instance (``…/virtualMachineScaleSets/S/virtualMachines/N``) runs the same
through the scale-set VM operations (``virtual_machine_scale_set_vms.begin_run_command`` and
``virtual_machine_scale_set_vm_run_commands``). Before anything runs the instance view is read: a
VM that is not running, or whose agent is not Ready (a guest that does not boot), is refused with
a message pointing to the serial console or ``kit repair``::

    outcome = run_command(target, vm_id, diagnostics_script("linux"), os_type="linux", write_log=log)
    print(outcome.stdout, outcome.exit_code)

Blocking, with the blocking SDK client, so it is safe in a notebook cell.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kit.archive import run_by
from kit.azure._machines import compute_operations, machine_args
from kit.azure.actions import WriteLog
from kit.azure.errors import map_azure_errors
from kit.azure.target import AzureTarget
from kit.azure.tokens import read_claims
from kit.errors import AzureError, UsageError
from kit.ids import VM, VMSS_VM, ResourceId, parse_resource_id
from kit.times import parse_time

__all__ = ["OUTPUT_LIMIT", "AgentNotReadyError", "RunCommandOutcome", "parse_action_output", "responder",
           "run_command", "vm_os_type"]

#: bytes of each stream the action Run Command keeps
OUTPUT_LIMIT = 4096
_MAX_TIMEOUT = 5400  # 90 minutes: the most Azure lets a script run
_COMMAND_IDS = {"linux": "RunShellScript", "windows": "RunPowerShellScript"}
_LINUX_MESSAGE = re.compile(r"\A(?P<head>[^\n]*)\n\[stdout\]\n(?P<out>.*)\n\[stderr\]\n(?P<err>.*)\Z", re.S)
_EXIT = re.compile(r"exit status=(\d+)")
_CONSOLE_HINT = "use the serial console (kit console) or, for a guest that does not boot, kit repair"


class AgentNotReadyError(AzureError):
    """Raised when the VM agent is not Ready, so Run Command cannot reach the guest."""


@dataclass(frozen=True)
class RunCommandOutcome:
    """What a script run through Run Command printed and how it ended.

    Parameters
    ----------
    channel
        ``action`` or ``managed``.
    stdout, stderr
        What the script wrote (the action keeps only the last 4096 bytes of each).
    exit_code
        The script's exit status; ``None`` when the action Run Command does not say (Windows).
    started, ended
        When the run started and ended (UTC; the managed instance view's times when it has them).
    truncated
        Whether a stream reached the action's 4096-byte limit (its beginning is lost).
    execution_state
        ``Succeeded``, ``Failed`` or ``TimedOut`` (managed: the instance view's ``executionState``).
    """

    channel: str
    stdout: str
    stderr: str
    exit_code: int | None
    started: datetime
    ended: datetime
    truncated: bool
    execution_state: str


class _Machine:
    """The Run Command operations of a VM or of a scale-set instance, under one set of names."""

    def __init__(self, client: Any, parsed: ResourceId) -> None:
        self.instance = parsed.is_kind(VMSS_VM)
        self.name = f"{parsed.names[0]} instance {parsed.names[1]}" if self.instance else parsed.name
        self.key = machine_args(parsed)
        self.prefix = compute_operations(parsed).removesuffix("s")
        self.machines = getattr(client, f"{self.prefix}s")
        self.commands = getattr(client, f"{self.prefix}_run_commands")

    def operation(self, verb: str) -> str:
        """The SDK operation's name, for errors (``virtual_machines.run_command``)."""
        return f"{self.prefix}s.{verb}"

    def command_operation(self, verb: str) -> str:
        """A managed Run Command operation's name (``virtual_machine_run_commands.delete``)."""
        return f"{self.prefix}_run_commands.{verb}"

    def instance_view(self) -> Any:
        view = self.machines.get_instance_view if self.instance else self.machines.instance_view
        return view(*self.key)

    def model(self) -> Any:
        return self.machines.get(*self.key)

    def begin_action(self, body: dict[str, Any]) -> Any:
        return self.machines.begin_run_command(*self.key, body)

    def begin_create(self, command: str, body: dict[str, Any]) -> Any:
        return self.commands.begin_create_or_update(*self.key, command, body)

    def get_command(self, command: str) -> Any:
        get = self.commands.get if self.instance else self.commands.get_by_virtual_machine
        return get(*self.key, command, expand="instanceView")

    def begin_delete(self, command: str) -> Any:
        return self.commands.begin_delete(*self.key, command)


def run_command(target: AzureTarget, vm_id: str, script: str, *, os_type: str, managed: bool = False,
                timeout: float = 600, write_log: WriteLog | None = None) -> RunCommandOutcome:
    """Run ``script`` in the VM's guest through Run Command and wait for its output.

    Parameters
    ----------
    target
        Where ARM is and how to authenticate.
    vm_id
        The VM's ARM resource id, or a uniform scale-set instance's.
    script
        The script (bash for Linux, PowerShell for Windows).
    os_type
        ``linux`` or ``windows`` (picks ``RunShellScript`` / ``RunPowerShellScript``).
    managed
        Use a managed Run Command (whole output, exit code, timeout) instead of the action.
    timeout
        Seconds to wait for the script (managed: also its ``timeoutInSeconds``), at most 5400.
    write_log
        Logs every ARM write made (the action's POST; the managed command's PUT and DELETE).

    Raises
    ------
    UsageError
        A bad OS, an empty script, a timeout out of range, or an id that is not a VM's or an instance's.
    AgentNotReadyError
        The VM agent is not Ready (the guest does not boot, or the agent is down).
    AzureError
        The VM is not running, another Run Command is in progress (409), the script did not
        finish in ``timeout``, or the Run Command extension failed.
    """
    if os_type not in _COMMAND_IDS:
        raise UsageError(f"os_type must be linux or windows, not {os_type!r}")
    if not script.strip():
        raise UsageError("the script is empty")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= _MAX_TIMEOUT:
        raise UsageError(f"timeout must be more than 0 and at most {_MAX_TIMEOUT} seconds (Azure's limit), "
                         f"got {timeout!r}")
    parsed = parse_resource_id(vm_id)
    if not (parsed.is_kind(VM) or parsed.is_kind(VMSS_VM)):
        raise UsageError(f"{vm_id!r} is a {parsed.kind}, not a virtual machine or a scale-set instance")
    from azure.mgmt.compute import ComputeManagementClient

    hook: dict[str, Any] = {"raw_response_hook": write_log.hook} if write_log is not None else {}
    client = ComputeManagementClient(target.sync_credential(), parsed.subscription_id, **hook,
                                     **target.client_kwargs())
    machine = _Machine(client, parsed)
    with client:
        _precheck(machine, vm_id)
        if managed:
            return _managed(machine, vm_id, script, timeout)
        return _action(machine, vm_id, script, os_type, timeout)


def responder(target: AzureTarget) -> str:
    """Who runs the script: the ARM token's principal (never the token), else ``user@host``."""
    with map_azure_errors("credential.get_token"):
        token = target.sync_credential().get_token(target.scope).token
    return read_claims(token).principal or run_by()


def vm_os_type(target: AzureTarget, vm_id: str) -> str:
    """``linux`` or ``windows``: the OS disk's ``osType`` in the VM (or scale-set instance) model."""
    from azure.mgmt.compute import ComputeManagementClient

    parsed = parse_resource_id(vm_id)
    client = ComputeManagementClient(target.sync_credential(), parsed.subscription_id, **target.client_kwargs())
    machine = _Machine(client, parsed)
    with client, map_azure_errors(machine.operation("get"), vm_id):
        vm = machine.model()
    os_disk = vm.storage_profile.os_disk if vm.storage_profile is not None else None
    kind = str(getattr(os_disk.os_type, "value", os_disk.os_type) if os_disk is not None else "Linux")
    return "windows" if kind.lower() == "windows" else "linux"


def _precheck(machine: _Machine, vm_id: str) -> None:
    """Refuse a VM that is not running or whose agent is not Ready, with what to do instead."""
    name = machine.name
    with map_azure_errors(machine.operation("instance_view"), vm_id):
        view = machine.instance_view()
    power = next((str(s.code) for s in view.statuses or [] if str(s.code or "").startswith("PowerState/")),
                 "PowerState/unknown")
    if power != "PowerState/running":
        state = power.split("/", 1)[1]
        raise AzureError(f"{name} is {state}: Run Command needs a running VM (start it, or {_CONSOLE_HINT})",
                         code="VMNotRunning", operation=machine.operation("run_command"), resource_id=vm_id)
    agent = view.vm_agent
    statuses = list(agent.statuses or []) if agent is not None else []
    if not any(s.code == "ProvisioningState/succeeded" and s.display_status == "Ready" for s in statuses):
        shown = "; ".join(f"{s.display_status}: {s.message}" for s in statuses if s.display_status) or "no status"
        raise AgentNotReadyError(f"the VM agent of {name} is not Ready ({shown}): Run Command cannot reach the guest; "
                                 f"{_CONSOLE_HINT}", code="VMAgentNotReady",
                                 operation=machine.operation("run_command"), resource_id=vm_id)


def _explained(error: AzureError, name: str) -> AzureError:
    """A Run Command failure in words a responder acts on."""
    code, text = error.code or "", str(error)
    if code == "Conflict" and "in progress" in text:
        message = (f"another Run Command is still running on {name} (409 Conflict): action Run Command runs one script "
                   "at a time and cannot be cancelled; wait for it to finish and run again")
    elif code == "VMAgentStatusCommunicationError":
        return AgentNotReadyError(f"the VM agent of {name} did not answer (VMAgentStatusCommunicationError): "
                                  f"{_CONSOLE_HINT}", status=error.status, code=code, operation=error.operation,
                                  resource_id=error.resource_id)
    elif code == "VMExtensionProvisioningError":
        message = (f"the Run Command extension failed on {name} ({code}): {text.split(': ', 1)[-1]} -- look at the "
                   "extension logs (/var/log/azure/run-command*/handler.log, C:\\WindowsAzure\\Logs\\Plugins) or "
                   f"{_CONSOLE_HINT}")
    elif code == "OperationNotAllowed" and "extension operations are disallowed" in text:
        return AgentNotReadyError(f"{name} allows no extension operations, and Run Command is one "
                                  "(osProfile.allowExtensionOperations is false, or the VM has no VM agent): "
                                  f"{_CONSOLE_HINT}; az vm update --set osProfile.allowExtensionOperations=true allows "
                                  "them where the agent is installed", status=error.status, code=code,
                                  operation=error.operation, resource_id=error.resource_id)
    elif code == "OperationNotAllowed" and re.search(r"(?i)not running|deallocat|stopped", text):
        message = f"{name} is not running: Run Command needs a running VM ({text.split(': ', 1)[-1]})"
    else:
        return error
    return AzureError(message, status=error.status, code=code, operation=error.operation,
                      resource_id=error.resource_id)


def _wait(poller: Any, timeout: float, machine: _Machine, vm_id: str, what: str) -> Any:
    """The poller's result, or an error when it is not done within ``timeout``."""
    try:
        with map_azure_errors(machine.operation("run_command"), vm_id):
            result = poller.result(timeout=timeout)
            if not poller.done():
                raise AzureError(f"the script did not finish on {machine.name} within {timeout:g} s; {what}",
                                 code="Timeout", operation=machine.operation("run_command"), resource_id=vm_id)
    except AzureError as error:
        raise _explained(error, machine.name) from None
    return result


def parse_action_output(value: list[Any]) -> tuple[str, str, int | None, str]:
    """``(stdout, stderr, exit code or None, execution state)`` of an action Run Command's ``value``."""
    entries = [(str(_field(v, "code") or ""), str(_field(v, "message") or "")) for v in value or []]
    streams = {code.removeprefix("ComponentStatus/").partition("/")[0]: message for code, message in entries
               if code.startswith("ComponentStatus/")}
    if streams:  # Windows: one entry per stream, no exit code
        failed = any(code.endswith("/failed") for code, _ in entries)
        return streams.get("StdOut", ""), streams.get("StdErr", ""), None, "Failed" if failed else "Succeeded"
    code, message = entries[0] if entries else ("", "")
    match = _LINUX_MESSAGE.match(message)
    if match is None:
        return message, "", None, "Failed" if "failed" in code.lower() else "Succeeded"
    head = match.group("head")
    exit_match = _EXIT.search(head)
    exit_code = int(exit_match.group(1)) if exit_match else (0 if head.startswith("Enable succeeded") else None)
    return match.group("out"), match.group("err"), exit_code, "Succeeded" if exit_code == 0 else "Failed"


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def _action(machine: _Machine, vm_id: str, script: str, os_type: str, timeout: float) -> RunCommandOutcome:
    started = datetime.now(UTC)
    try:
        with map_azure_errors(machine.operation("run_command"), vm_id):
            poller = machine.begin_action({"commandId": _COMMAND_IDS[os_type], "script": script.splitlines()})
    except AzureError as error:
        raise _explained(error, machine.name) from None
    result = _wait(poller, timeout, machine, vm_id, "action Run Command cannot be cancelled: it keeps running on "
                   "the VM (up to 90 minutes) and refuses another script until it ends")
    stdout, stderr, exit_code, state = parse_action_output(list(result.value or []))
    truncated = any(len(text.encode("utf-8")) >= OUTPUT_LIMIT for text in (stdout, stderr))
    return RunCommandOutcome("action", stdout, stderr, exit_code, started, datetime.now(UTC), truncated, state)


def _managed(machine: _Machine, vm_id: str, script: str, timeout: float) -> RunCommandOutcome:
    with map_azure_errors(machine.operation("get"), vm_id):
        location = machine.model().location
    command = f"kit-{uuid.uuid4().hex[:12]}"
    body = {"location": location, "properties": {"source": {"script": script},
                                                 "timeoutInSeconds": min(_MAX_TIMEOUT, math.ceil(timeout)),
                                                 "asyncExecution": False, "treatFailureAsDeploymentFailure": False}}
    started = datetime.now(UTC)
    try:
        try:
            with map_azure_errors(machine.command_operation("create_or_update"), vm_id):
                poller = machine.begin_create(command, body)
        except AzureError as error:
            raise _explained(error, machine.name) from None
        _wait(poller, timeout + 60, machine, vm_id, f"the managed Run Command {command} may still be running")
        with map_azure_errors(machine.command_operation("get"), vm_id):
            found = machine.get_command(command)
    finally:
        with map_azure_errors(machine.command_operation("delete"), vm_id):
            machine.begin_delete(command).result(timeout=120)
    view = found.properties.instance_view
    state = str(getattr(view.execution_state, "value", view.execution_state) or "Unknown")
    exit_code = view.exit_code if state != "TimedOut" else None
    return RunCommandOutcome("managed", str(view.output or ""), str(view.error or ""), exit_code,
                             _time(view.start_time) or started, _time(view.end_time) or datetime.now(UTC),
                             False, state)


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, str) and value:
        return parse_time(value)
    return None
