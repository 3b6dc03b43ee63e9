"""The lab's serial console: the ``/connect`` POST, the gateway websocket, admin commands.

Shaped like Azure's (see the serial-console reference): ``serialPorts/0/connect`` on the ARM
side answers ``{"connectionString": "wss://127.0.0.1:PORT/n/connector/<c>/sessions/<s>/client"}``
on the lab's own TLS server; the websocket must send the bearer token as its first frame (else
it is closed with code 4401); guest output goes out as text frames for short echoes and as
binary frames cut at a fixed byte size (so multibyte characters do split across frames, as raw
serial bytes do); ``POST …/adminCommand/{nmi,reset,sysrq}`` needs the token and a live
authenticated session. Each broken VM has one scripted guest (:mod:`kit.lab.guest`) for the
lab's lifetime, or a real one (:mod:`kit.lab.realguest`: the websocket is bridged to its QEMU
serial socket, admin commands go to the QEMU monitor, the check logs in over real SSH); every
socket of a VM sees the same serial line.

Test hooks (thread-safe, from outside the lab's loop): :meth:`ConsoleHub.drop` closes a VM's
sockets abruptly, :meth:`ConsoleHub.say` writes raw bytes to them in frames of a given size.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import http.client
import json
import re
import shutil
import ssl
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from kit.errors import LabError, UsageError
from kit.lab._arm import arm_error, arm_json, arm_route, check_scope, find, own_credential_route, state_of
from kit.lab._state import STATE_KEY, LabState
from kit.lab.arm_permissions import CONNECT_ACTION, refused_unless_allowed
from kit.lab.console_states import CONSOLE_ENDPOINT_EXTRA
from kit.lab.guest import CheckResult, Guest, load_guest
from kit.lab.realguest import RealGuest

__all__ = ["HUB_EXTRA", "ConsoleHub", "ConsoleSession", "add_routes", "boot_from_disk", "check", "check_remote",
           "hub_of", "register_real_guest"]

#: The key of :attr:`LabState.extras <kit.lab.LabState>` the console hub is kept under.
HUB_EXTRA = "console"

_CONNECT = ("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}"
            "/providers/Microsoft.SerialConsole/serialPorts/{port}/connect")
_CONNECT_VMSS = ("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss}"
                 "/virtualMachines/{instance}/providers/Microsoft.SerialConsole/serialPorts/{port}/connect")
_SCENARIO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]+")
_AUTH_TIMEOUT = 10.0
_UNAUTHORIZED = 4401


@dataclass
class ConsoleSession:
    """One ``serialPorts/0/connect`` answer: the VM it is for and the websockets opened on it.

    Parameters
    ----------
    vm_id
        The VM's ARM id, lower-cased.
    scenario
        The scenario the VM belongs to.
    sockets
        The open (authenticated) websockets of this session.
    """

    vm_id: str
    scenario: str
    sockets: set[web.WebSocketResponse] = field(default_factory=set)


class ConsoleHub:
    """Per-lab console state: one guest per VM, sessions by id, the sockets attached to each VM.

    Parameters
    ----------
    state
        The lab's state (token, scenarios, serial logs).

    Attributes
    ----------
    guests
        Lower-cased VM id → its scripted guest.
    sessions
        Session id → :class:`ConsoleSession`.
    chunk
        The byte size guest output is cut into binary frames at.
    loop
        The lab's event loop, once a websocket has been opened (for the thread-safe hooks).
    """

    def __init__(self, state: LabState) -> None:
        self.state = state
        self.guests: dict[str, Guest | RealGuest] = {}
        self.sessions: dict[str, ConsoleSession] = {}
        self.chunk = 256
        self.loop: asyncio.AbstractEventLoop | None = None
        self._folder: Path | None = None

    # ------------------------------------------------------------------ guests
    def guest(self, scenario: str, vm_id: str) -> Guest | RealGuest:
        """The VM's guest: a real one if registered, else scripted (created on first use)."""
        key = vm_id.lower()
        if key not in self.guests:
            info = self.state.scenario(scenario)
            log_path = self.state.serial_logs.get(key)
            vm_name = next((vm for vm in info.vms if info.vm_id(vm).lower() == key), info.broken_vm)
            guest = load_guest(info, log_path.read_bytes() if log_path is not None else b"", vm=vm_name)
            guest.on_reboot.append(functools.partial(self._store_boot_log, key))
            self.guests[key] = guest
        return self.guests[key]

    def scenario_guest(self, scenario: str) -> Guest | RealGuest:
        """The guest of ``scenario``'s broken VM."""
        info = self.state.scenario(scenario)
        return self.guest(scenario, info.vm_id(info.broken_vm))

    def _store_boot_log(self, key: str, guest: Guest | RealGuest) -> None:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="kit-lab-console-"))
        path = self._folder / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}-{guest.reboots}.log"
        path.write_bytes(guest.boot_log())
        self.state.serial_logs[key] = path

    def cleanup(self) -> None:
        """Delete the rewritten boot logs."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    # ------------------------------------------------------------------ output
    async def broadcast(self, vm_id: str, text: str | bytes, chunk: int | None = None) -> None:
        """Send guest output to every socket attached to ``vm_id``."""
        data = text.encode("utf-8") if isinstance(text, str) else text
        if not data:
            return
        sockets = [ws for s in self.sessions.values() if s.vm_id == vm_id.lower() for ws in s.sockets]
        for ws in sockets:
            try:
                if chunk is None and len(data) <= 32 and isinstance(text, str):
                    await ws.send_str(text)
                    continue
                size = chunk or self.chunk
                for start in range(0, len(data), size):
                    await ws.send_bytes(data[start:start + size])
            except (ConnectionError, RuntimeError):
                continue

    def drop(self, vm_id: str) -> None:
        """Close every socket of ``vm_id`` abruptly (code 1011), as a flaky gateway does."""
        self._threadsafe(self._drop(vm_id.lower()))

    def say(self, vm_id: str, data: bytes, chunk: int) -> None:
        """Write raw ``data`` to the VM's sockets in binary frames of ``chunk`` bytes."""
        self._threadsafe(self.broadcast(vm_id.lower(), data, chunk))

    def _threadsafe(self, coro: Coroutine[Any, Any, None]) -> None:
        if self.loop is None:
            coro.close()
            raise LabError("no console websocket has been opened on this lab yet")
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    async def _drop(self, vm_id: str) -> None:
        for session in self.sessions.values():
            if session.vm_id == vm_id:
                for ws in list(session.sockets):
                    await ws.close(code=1011, message=b"lab: connection dropped on purpose")


def register_real_guest(state: LabState, scenario: str, guest: RealGuest) -> None:
    """Make ``guest`` the scenario's broken VM: its console, its boot-diagnostics serial log."""
    info = state.scenario(scenario)
    key = info.vm_id(info.broken_vm).lower()
    hub_of(state).guests[key] = guest
    state.serial_logs[key] = guest.qemu.serial_log


def boot_from_disk(state: LabState, vm_id: str, guest: Guest) -> None:
    """The VM started from another disk and runs ``guest`` now: its console, its boot-diagnostics serial log."""
    hub = hub_of(state)
    key = vm_id.lower()
    guest.on_reboot.append(functools.partial(hub._store_boot_log, key))
    hub.guests[key] = guest
    hub._store_boot_log(key, guest)


async def _judge(guest: Guest | RealGuest) -> CheckResult:
    """The guest's check; a real guest's (SSH) runs off the loop so the consoles keep flowing."""
    if isinstance(guest, RealGuest):
        return await asyncio.to_thread(guest.check)
    return guest.check()


def hub_of(state: LabState) -> ConsoleHub:
    """The lab's console hub (created on first use)."""
    hub: ConsoleHub | None = state.extras.get(HUB_EXTRA)
    if hub is None:
        hub = state.extras[HUB_EXTRA] = ConsoleHub(state)
    return hub


def check(state_or_lab: Any, scenario: str) -> CheckResult:
    """Whether the fix of ``scenario`` is right (a running lab or its state)."""
    state = getattr(state_or_lab, "state", state_or_lab)
    hub = hub_of(state)
    if hub.loop is not None and hub.loop.is_running():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not hub.loop:
            async def judge() -> CheckResult:
                return await _judge(hub.scenario_guest(scenario))

            return asyncio.run_coroutine_threadsafe(judge(), hub.loop).result(timeout=120)
    return hub.scenario_guest(scenario).check()


def add_routes(app: web.Application) -> None:
    """Register the connect POST (ARM), the gateway websocket, admin commands and the check."""
    arm_route(app, "POST", _CONNECT, _connect)
    arm_route(app, "POST", _CONNECT_VMSS, _connect_vmss)
    own_credential_route(app, "GET", "/n/connector/{container}/sessions/{session}/client", _client)  # first frame
    own_credential_route(app, "POST", "/n/connector/{container}/sessions/{session}/adminCommand/{command}", _admin)
    own_credential_route(app, "GET", "/kit-lab/check/{scenario}", _check)  # both: their own bearer check

    async def _cleanup(app: web.Application) -> None:
        hub: ConsoleHub | None = app[STATE_KEY].extras.get(HUB_EXTRA)
        if hub is not None:
            for session in hub.sessions.values():
                for ws in list(session.sockets):
                    await ws.close(code=1001, message=b"lab stopping")
            hub.cleanup()

    app.on_shutdown.append(_cleanup)


# ---------------------------------------------------------------------- ARM side
async def _connect(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    vm, problem = find(state, params["sub"], params["rg"], "Microsoft.Compute", "virtualMachines", params["vm"])
    if vm is None:
        return problem  # type: ignore[return-value]
    info = state.scenario_for(params["sub"])
    assert info is not None
    return _open_session(request, info, vm, str(vm.get("id", info.vm_id(params["vm"]))), params["port"])


async def _connect_vmss(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    state = state_of(request)
    problem = check_scope(state, params["sub"], params["rg"])
    if problem is not None:
        return problem
    instance_id = (f"/subscriptions/{params['sub']}/resourceGroups/{params['rg']}/providers/Microsoft.Compute/"
                   f"virtualMachineScaleSets/{params['vmss']}/virtualMachines/{params['instance']}")
    vm = state.get(instance_id)
    info = state.scenario_for(params["sub"])
    if vm is None or info is None:
        return arm_error(404, "ParentResourceNotFound",
                         f"Can not perform requested operation on nested resource. Parent resource "
                         f"'{params['vmss']}/virtualMachines/{params['instance']}' not found.")
    return _open_session(request, info, vm, str(vm.get("id", instance_id)), params["port"])


def _open_session(request: web.Request, info: Any, vm: dict, vm_id: str, port: str) -> web.Response:
    """The ``/connect`` answer for a VM or scale-set instance: Azure's refusals in its order, else a session."""
    state = state_of(request)
    refused = refused_unless_allowed(state, vm_id, CONNECT_ACTION,
                                     shown=f"{vm_id}/providers/Microsoft.SerialConsole/serialPorts/{port}")
    if refused is not None:
        return refused
    if port != "0":
        return arm_error(404, "ResourceNotFound", f"Serial port '{port}' does not exist; only port 0 is available.")
    if not info.console_enabled:
        return arm_error(403, "SerialConsoleDisabled", "Azure Serial Console is not enabled for this subscription.")
    if state.power_state(vm_id) in ("deallocated", "deallocating"):
        return arm_error(409, "OperationNotAllowed", "Azure Serial Console requires a virtual machine to be running.")
    boot = vm.get("properties", {}).get("diagnosticsProfile", {}).get("bootDiagnostics", {})
    if not boot.get("enabled"):
        return arm_error(409, "BootDiagnosticsDisabled",
                         "Azure Serial Console requires boot diagnostics to be enabled.")
    session_id = uuid.uuid4().hex
    hub_of(state).sessions[session_id] = ConsoleSession(vm_id.lower(), info.name)
    container = hashlib.sha256(vm_id.lower().encode()).hexdigest()[:32]
    endpoint = (state.extras.get(CONSOLE_ENDPOINT_EXTRA) or state.endpoint
                or f"https://{request.host}").replace("https://", "wss://", 1)
    return arm_json({"connectionString": f"{endpoint}/n/connector/{container}/sessions/{session_id}/client"})


# ---------------------------------------------------------------------- gateway side
def _authorized(request: web.Request, token: str | None) -> bool:
    expected = state_of(request).token
    return token is not None and hmac.compare_digest(token.encode(), expected.encode())


async def _client(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    hub = hub_of(state)
    hub.loop = asyncio.get_running_loop()
    session = hub.sessions.get(request.match_info["session"])
    if session is None:
        return web.json_response({"error": "unknown or expired session; POST serialPorts/0/connect again"}, status=404)
    ws = web.WebSocketResponse(heartbeat=None, autoping=True)
    await ws.prepare(request)
    try:
        first = await ws.receive(timeout=_AUTH_TIMEOUT)
    except TimeoutError:
        await ws.close(code=_UNAUTHORIZED, message=b"Unauthorized: no access token was sent")
        return ws
    if first.type != WSMsgType.TEXT or not _authorized(request, first.data.strip()):
        await ws.close(code=_UNAUTHORIZED, message=b"Unauthorized: the first message must be a valid access token")
        return ws
    guest = hub.guest(session.scenario, session.vm_id)
    session.sockets.add(ws)
    try:
        if isinstance(guest, RealGuest):
            await guest.relay(functools.partial(hub.broadcast, session.vm_id))
        await hub.broadcast(session.vm_id, guest.connect())
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                text = message.data
            elif message.type == WSMsgType.BINARY:
                text = message.data.decode("utf-8", errors="replace")
            else:
                break
            output = guest.feed(text)
            await hub.broadcast(session.vm_id, output)
    finally:
        session.sockets.discard(ws)
    return ws


async def _admin(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    hub = hub_of(state)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not _authorized(request, token.strip()):
        return web.json_response({"error": {"code": "Unauthorized", "message": "A valid bearer token is required."}},
                                 status=401)
    session = hub.sessions.get(request.match_info["session"])
    if session is None or not session.sockets:
        return web.json_response({"error": {"code": "NoActiveSession",
                                            "message": "Admin commands need a live, authenticated console session."}},
                                 status=409)
    command = request.match_info["command"].lower()
    try:
        body = await request.json()
    except (ValueError, json.JSONDecodeError):
        body = {}
    guest = hub.guest(session.scenario, session.vm_id)
    parameters = body.get("commandParameters") or {}
    if command == "nmi":
        output = guest.nmi()
    elif command == "reset":
        output = guest.reboot(reset=True)
    elif command == "sysrq":
        if guest.os == "windows":
            return web.json_response({"error": {"code": "BadRequest",
                                                "message": "SysRq is only available on Linux VMs."}}, status=400)
        key = str(parameters.get("SysRqCommand", ""))
        if len(key) != 1 or not key.isalnum():
            return web.json_response({"error": {"code": "BadRequest",
                                                "message": "SysRqCommand must be one letter or digit."}}, status=400)
        output = guest.sysrq(key)
    else:
        return web.json_response({"error": {"code": "BadRequest", "message": f"Unknown admin command '{command}'."}},
                                 status=400)
    asyncio.ensure_future(hub.broadcast(session.vm_id, output))
    return web.json_response({"requestId": body.get("requestId"), "status": "Succeeded"})


async def _check(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not _authorized(request, token.strip()):
        return web.json_response({"error": "a valid bearer token is required"}, status=401)
    try:
        result = await _judge(hub_of(state).scenario_guest(request.match_info["scenario"]))
    except LabError as error:
        return web.json_response({"error": str(error)}, status=404)
    return web.json_response({"scenario": result.scenario, "passed": result.passed, "message": result.message})


def check_remote(endpoint: str, scenario: str, *, token: str, ca_path: str | Path | None = None,
                 timeout: float = 120.0) -> CheckResult:
    """Ask a lab running elsewhere (``kit lab serve``) whether the fix of ``scenario`` is right.

    Parameters
    ----------
    endpoint
        The lab's ``https://127.0.0.1:PORT``.
    scenario
        The scenario to judge.
    token
        The lab's bearer token (``KIT_ARM_TOKEN``); sent only in the Authorization header.
    ca_path
        The lab's CA certificate, a PEM file (TLS is always verified).
    timeout
        Seconds to wait for the answer (finite, more than 0).

    Raises
    ------
    UsageError
        The endpoint is not an ``https://host:port`` URL, the scenario name is not a plain
        name, the CA file is not a PEM certificate, or the timeout is not a positive number.
    LabError
        The lab cannot be reached, refuses the token, or answers something else than a check.
    """
    base = _lab_endpoint(endpoint)
    if not isinstance(scenario, str) or not _SCENARIO.fullmatch(scenario):
        raise UsageError(f"scenario {scenario!r} is not a scenario name (letters, digits, '.', '_', '-')")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600:
        raise UsageError(f"timeout must be a number of seconds from more than 0 to 3600, got {timeout!r}")
    context = _tls_context(ca_path)
    request = urllib.request.Request(f"{base}/kit-lab/check/{scenario}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 401:
            raise LabError("the lab refused the token: export KIT_ARM_TOKEN as `kit lab serve` printed it") from None
        try:
            detail = json.loads(error.read() or b"{}").get("error", error.reason)
        except (ValueError, AttributeError, OSError):
            detail = error.reason
        raise LabError(f"the lab could not check {scenario!r}: {detail}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise LabError(f"cannot reach the lab at {base}: {reason} (is `kit lab serve` running?)") from None
    if not (isinstance(body, dict) and {"scenario", "passed", "message"} <= set(body)):
        raise LabError(f"{base} answered the check with something else than a lab check; is it a kit lab?")
    return CheckResult(str(body["scenario"]), bool(body["passed"]), str(body["message"]))


def _lab_endpoint(endpoint: str) -> str:
    """``https://host:port`` without a trailing slash; UsageError for anything else."""
    try:
        parts = urllib.parse.urlsplit(str(endpoint).strip())
        port = parts.port
    except ValueError as error:
        raise UsageError(f"lab endpoint {endpoint!r} is not a URL: {error}") from None
    if (parts.scheme != "https" or not _HOST.fullmatch(parts.hostname or "") or parts.path not in ("", "/")
            or parts.query or parts.fragment or parts.username or port == 0):
        raise UsageError(f"lab endpoint {endpoint!r} must be https://HOST:PORT as `kit lab serve` printed it")
    return f"https://{parts.netloc}"


def _tls_context(ca_path: str | Path | None) -> ssl.SSLContext:
    """A verifying TLS context trusting ``ca_path`` (a PEM file) or the system store."""
    if ca_path is None:
        return ssl.create_default_context()
    file = Path(ca_path)
    if not file.is_file():
        raise UsageError(f"CA certificate {str(file)!r} does not exist or is not a file (give the PEM file "
                         "`kit lab serve` printed)")
    try:
        return ssl.create_default_context(cafile=str(file))
    except (ssl.SSLError, OSError, ValueError) as error:
        raise UsageError(f"CA certificate {str(file)!r} is not a PEM certificate: "
                         f"{getattr(error, 'reason', None) or error}") from None
