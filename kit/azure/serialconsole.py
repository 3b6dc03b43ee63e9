"""Azure Serial Console: prechecks, the ``/connect`` POST, and admin commands (NMI, SysRq, reset).

Raw ARM requests through azure-core's pipeline (the target's credential, CA bundle and retry
settings), so no ``azure-mgmt-serialconsole`` dependency and the required ``Content-Type`` on
the connect POST. This client only returns connection facts (the websocket URL, a token, the
TLS settings); :func:`kit.console.azure_transport` builds the websocket transport from them.

>>> client = SerialConsoleClient.from_target(AzureTarget(credential="cli"))
>>> client.precheck(vm_id)            # ConsolePrecheck: console enabled, boot diagnostics, power, OS
>>> client.connection_string(vm_id)   # the per-session wss:// URL
>>> client.permissions(vm_id)         # the caller's effective permissions there (REST ``value``)
>>> client.storage_account(uri, sub)  # the boot-diagnostics storage account behind a blob endpoint

:func:`kit.console.precheck.console_readiness` adds what these facts mean (permissions, storage
settings, the console host's reachability, SAC or a serial getty in the log).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from azure.core import PipelineClient
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, HeadersPolicy, RetryPolicy, UserAgentPolicy
from azure.core.rest import HttpRequest, HttpResponse

from kit.azure.errors import map_azure_errors
from kit.azure.target import AzureTarget, LabAddress
from kit.azure.tokens import read_claims
from kit.errors import (
    AuthenticationError,
    AzureError,
    ConsoleAuthError,
    ConsoleError,
    ConsolePrecheckError,
    KitError,
    ResourceNotFoundError,
    UsageError,
)
from kit.ids import VM, VMSS_VM, ResourceId, parse_resource_id

__all__ = [
    "ADMIN_COMMANDS",
    "ConsoleEndpoint",
    "ConsolePrecheck",
    "SerialConsoleClient",
    "admin_command_url",
    "send_admin_command",
    "token_principal",
]

SERIAL_API_VERSION = "2024-07-01"
COMPUTE_API_VERSION = "2024-07-01"
AUTHORIZATION_API_VERSION = "2022-04-01"
STORAGE_API_VERSION = "2023-05-01"
_MAX_PAGES = 50
ADMIN_COMMANDS = ("nmi", "sysrq", "reset")
_HEADERS = {"Accept": "application/json", "Accept-Language": "en", "Content-Type": "application/json"}


@dataclass(frozen=True)
class ConsolePrecheck:
    """Whether the serial console can be used for one VM, and why not.

    Parameters
    ----------
    vm_id
        The VM or scale-set instance.
    console_enabled
        ``consoleServices/default`` says ``properties.disabled`` is ``False``.
    boot_diagnostics
        Boot diagnostics is on (managed storage is fine).
    power_state
        ``running``, ``stopped``, ``deallocated`` … (``None`` if unknown).
    os_type
        ``linux`` / ``windows`` (``None`` if unknown).
    problems
        Reasons the console cannot be opened (empty = it can).
    hints
        What the responder should know (Windows: SAC; SysRq not available).
    boot_storage_uri
        The custom boot-diagnostics storage endpoint (``None``: managed storage, or unknown).
    """

    vm_id: str
    console_enabled: bool
    boot_diagnostics: bool
    power_state: str | None
    os_type: str | None
    problems: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    boot_storage_uri: str | None = None

    @property
    def ok(self) -> bool:
        """Whether nothing stands in the way."""
        return not self.problems

    def __str__(self) -> str:
        lines = [f"serial console for {self.vm_id}: {'ready' if self.ok else 'NOT available'}",
                 f"  subscription console enabled: {'yes' if self.console_enabled else 'no'}",
                 f"  boot diagnostics enabled:     {'yes' if self.boot_diagnostics else 'no'}",
                 f"  power state:                  {self.power_state or 'unknown'}",
                 f"  OS:                           {self.os_type or 'unknown'}"]
        lines += [f"  problem: {p}" for p in self.problems] + [f"  note: {h}" for h in self.hints]
        return "\n".join(lines)


class ConsoleEndpoint(Protocol):
    """What an admin command needs of an open console: its websocket URL and the token it used."""

    @property
    def url(self) -> str: ...

    @property
    def token(self) -> str: ...


def token_principal(token: str) -> str:
    """Who an access token belongs to (:func:`kit.azure.tokens.read_claims`); never the token."""
    return read_claims(token).principal or "unknown principal"


def admin_command_url(connection_string: str, command: str) -> str:
    """The gateway URL of an admin command: ``wss://…/client`` → ``https://…/adminCommand/<command>``.

    Only the scheme and the last path segment change (the az CLI's blanket ``replace("ws", …)``
    corrupts any other ``ws`` in the URL).
    """
    if command not in ADMIN_COMMANDS:
        raise UsageError(f"unknown admin command {command!r}: choose one of {', '.join(ADMIN_COMMANDS)}")
    parts = urlsplit(connection_string)
    scheme = {"wss": "https", "ws": "http"}.get(parts.scheme)
    if scheme is None or not parts.path.endswith("/client"):
        raise ConsoleError(f"not a serial console connection string: {parts.scheme}://{parts.netloc}{parts.path}")
    path = parts.path[: -len("/client")] + f"/adminCommand/{command}"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


class SerialConsoleClient:
    """Serial console REST calls for one :class:`~kit.azure.target.AzureTarget`.

    Parameters
    ----------
    target
        Endpoint, cloud, CA bundle, credential kind (the same options as ``kit collect``).
    credential
        A ready sync credential; built from ``target`` when ``None``.
    """

    def __init__(self, target: AzureTarget, credential: Any = None) -> None:
        self.target = target
        self.credential = credential or target.sync_credential()
        kwargs = target.retry.as_kwargs() if hasattr(target, "retry") else {}
        self._pipeline: PipelineClient[HttpRequest, HttpResponse] = PipelineClient(
            base_url=target.arm_endpoint,
            policies=[HeadersPolicy(_HEADERS), UserAgentPolicy("kit-serialconsole/0.1"),
                      RetryPolicy(**{k: v for k, v in kwargs.items() if k.startswith("retry_")}),
                      BearerTokenCredentialPolicy(self.credential, target.scope)],
        )
        self._verify = target.connection_verify
        self._timeouts = {k: v for k, v in kwargs.items() if k in ("connection_timeout", "read_timeout")}

    @classmethod
    def from_target(cls, target: AzureTarget) -> SerialConsoleClient:
        """A client for ``target`` with its own credential."""
        return cls(target)

    @classmethod
    def for_lab(cls, lab: LabAddress) -> SerialConsoleClient:
        """A client for a running lab (endpoint, CA, token through ``env-token``)."""
        return cls(AzureTarget.for_lab(lab))

    # ------------------------------------------------------------------ plumbing
    def token(self) -> str:
        """A current ARM access token (for the websocket's first frame; never print it)."""
        with map_azure_errors("get_token"):
            return str(self.credential.get_token(self.target.scope).token)

    def responder(self) -> str:
        """Who is opening the console, from the token's claims."""
        return token_principal(self.token())

    def _call(self, method: str, path: str, api_version: str, *, operation: str, resource_id: str,
              allow: tuple[int, ...] = ()) -> tuple[int, Any]:
        params = None if "?" in path else {"api-version": api_version}  # a nextLink carries its own
        request = HttpRequest(method, f"{self.target.arm_endpoint}{path}", params=params,
                              content=b"" if method == "POST" else None)
        with map_azure_errors(operation, resource_id):
            response = self._pipeline.send_request(request, connection_verify=self._verify, **self._timeouts)
        status = response.status_code
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        if status >= 400 and status not in allow:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            message = error.get("message") or response.text()[:300]
            code = error.get("code")
            if status in (401, 403):
                raise AuthenticationError(f"{operation}: HTTP {status} {code}: {message}", status=status, code=code,
                                          operation=operation, resource_id=resource_id)
            if status == 404:
                raise ResourceNotFoundError(f"{operation}: not found (HTTP 404 {code}): {message}", status=status,
                                            code=code, operation=operation, resource_id=resource_id)
            raise AzureError(f"{operation}: HTTP {status} {code}: {message}", status=status, code=code,
                             operation=operation, resource_id=resource_id)
        return status, body

    # ------------------------------------------------------------------ REST
    def console_enabled(self, subscription_id: str) -> bool:
        """``GET consoleServices/default``: enabled only when ``properties.disabled is False``."""
        path = f"/subscriptions/{subscription_id}/providers/Microsoft.SerialConsole/consoleServices/default"
        status, body = self._call("GET", path, SERIAL_API_VERSION, operation="serial_console.get_console_status",
                                  resource_id=f"/subscriptions/{subscription_id}", allow=(404,))
        return status == 200 and isinstance(body, dict) and body.get("properties", {}).get("disabled") is False

    def precheck(self, vm_id: str | ResourceId) -> ConsolePrecheck:
        """Check everything the az extension checks, and say what is wrong in words."""
        rid = _vm_resource(vm_id)
        problems: list[str] = []
        hints: list[str] = []
        enabled = self.console_enabled(rid.subscription_id)
        if not enabled:
            problems.append("Azure Serial Console is not enabled for this subscription "
                            "(enable it: az serial-console enable).")
        storage_uri: str | None = None
        if rid.is_kind(VMSS_VM):
            _, view = self._call("GET", f"{rid}/instanceView", COMPUTE_API_VERSION,
                                 operation="virtual_machine_scale_set_vms.get_instance_view", resource_id=str(rid))
            boot = view.get("bootDiagnostics") is not None
            os_name = str(view.get("osName", ""))
            offer = ""
        else:
            try:
                _, vm = self._call("GET", str(rid), COMPUTE_API_VERSION, operation="virtual_machines.get",
                                   resource_id=str(rid))
            except AzureError as error:
                if error.status == 404 and self._is_scale_set(rid):
                    raise ConsolePrecheckError(
                        f"{rid.name} is a Virtual Machine Scale Set, not a VM: give the id of one instance "
                        f"(…/virtualMachineScaleSets/{rid.name}/virtualMachines/<instance-id>)") from error
                raise
            properties = vm.get("properties", {})
            boot = bool(properties.get("diagnosticsProfile", {}).get("bootDiagnostics", {}).get("enabled"))
            storage_uri = properties.get("diagnosticsProfile", {}).get("bootDiagnostics", {}).get("storageUri") or None
            _, view = self._call("GET", f"{rid}/instanceView", COMPUTE_API_VERSION,
                                 operation="virtual_machines.instance_view", resource_id=str(rid))
            os_name = str(view.get("osName", ""))
            offer = str(properties.get("storageProfile", {}).get("imageReference", {}).get("offer", ""))
            os_disk = str(properties.get("storageProfile", {}).get("osDisk", {}).get("osType", ""))
            os_name = os_name or os_disk
        if not boot:
            problems.append("Azure Serial Console requires boot diagnostics to be enabled "
                            "(az vm boot-diagnostics enable --name VM --resource-group RG).")
        power = next((str(s.get("code", "")).split("/", 1)[1] for s in view.get("statuses", [])
                      if str(s.get("code", "")).startswith("PowerState/")), None)
        if power in ("deallocated", "deallocating"):
            problems.append("Azure Serial Console requires a virtual machine to be running (it is deallocated; "
                            "start it first).")
        elif power == "stopped":
            hints.append("the VM is stopped (but allocated): the console connects, "
                         "but nothing will answer until it starts")
        os_type = "windows" if "windows" in (os_name + offer).lower() else ("linux" if (os_name or offer) else None)
        if os_type == "windows":
            hints.append("Windows: you get the Special Administration Console (SAC>); type `cmd`, then `ch -si 1`, "
                         "then log in. If no SAC> appears, SAC is not enabled in the guest. SysRq is Linux-only.")
        return ConsolePrecheck(str(rid), enabled, boot, power, os_type, tuple(problems), tuple(hints),
                               str(storage_uri) if storage_uri else None)

    def permissions(self, scope: str | ResourceId) -> list[dict[str, Any]]:
        """The caller's permissions at ``scope``: ``GET {scope}/providers/Microsoft.Authorization/permissions``.

        One ``{"actions", "notActions", "dataActions", "notDataActions"}`` entry per role held at or
        above the scope, every page (:class:`kit.analyze.permissions.EffectivePermissions` reads them).
        """
        return self._pages(f"{scope}/providers/Microsoft.Authorization/permissions", AUTHORIZATION_API_VERSION,
                           operation="permissions.list_for_resource", resource_id=str(scope))

    def storage_account(self, blob_uri: str, subscription_id: str) -> dict[str, Any] | None:
        """The storage account whose blob endpoint is ``blob_uri`` (``storage_accounts.list``), or ``None``.

        Boot diagnostics name the account only by its endpoint, so the subscription's accounts
        are listed and matched on ``primaryEndpoints.blob`` (host, case-insensitive).
        """
        wanted = (urlsplit(blob_uri).hostname or "").lower()
        if not wanted:
            raise UsageError(f"not a blob endpoint: {blob_uri!r}")
        path = f"/subscriptions/{subscription_id}/providers/Microsoft.Storage/storageAccounts"
        for account in self._pages(path, STORAGE_API_VERSION, operation="storage_accounts.list",
                                   resource_id=f"/subscriptions/{subscription_id}"):
            endpoints = account.get("properties", {}).get("primaryEndpoints", {})
            blob = endpoints.get("blob") if isinstance(endpoints, dict) else None
            if isinstance(blob, str) and (urlsplit(blob).hostname or "").lower() == wanted:
                return account
        return None

    def _pages(self, path: str, api_version: str, *, operation: str, resource_id: str) -> list[dict[str, Any]]:
        """Every item of a paged ARM list (``value`` + ``nextLink``), the next links kept on this endpoint."""
        items: list[dict[str, Any]] = []
        _, body = self._call("GET", path, api_version, operation=operation, resource_id=resource_id)
        for _page in range(_MAX_PAGES):
            value = body.get("value") if isinstance(body, dict) else None
            if not isinstance(value, list):
                raise AzureError(f"{operation}: the answer has no value list", operation=operation,
                                 resource_id=resource_id)
            items += [item for item in value if isinstance(item, dict)]
            next_link = body.get("nextLink")
            if not next_link:
                return items
            parts = urlsplit(str(next_link))
            if f"{parts.scheme}://{parts.netloc}".lower() != self.target.arm_endpoint.rstrip("/").lower():
                raise AzureError(f"{operation}: nextLink leaves {self.target.arm_endpoint}", operation=operation,
                                 resource_id=resource_id)
            _, body = self._call("GET", parts.path + (f"?{parts.query}" if parts.query else ""), api_version,
                                 operation=operation, resource_id=resource_id)
        raise AzureError(f"{operation}: more than {_MAX_PAGES} pages", operation=operation, resource_id=resource_id)

    def serial_log_tail(self, vm_id: str | ResourceId, size: int = 8192) -> str:
        """The last ``size`` bytes of the VM's boot-diagnostics serial log, decoded; ``""`` when unreadable.

        Best effort (a console still opens without it): ``retrieveBootDiagnosticsData`` for the
        log's SAS URL, then a ranged GET of the blob.
        """
        rid = _vm_resource(vm_id)
        try:
            _, body = self._call("POST", f"{rid}/retrieveBootDiagnosticsData", COMPUTE_API_VERSION,
                                 operation="virtual_machines.retrieve_boot_diagnostics_data", resource_id=str(rid))
            url = body.get("serialConsoleLogBlobUri") if isinstance(body, dict) else None
            if not url:
                return ""
            headers = {"Range": f"bytes=-{size}", "x-ms-version": "2021-08-06"}
            request = urllib.request.Request(str(url), headers=headers)
            with urllib.request.urlopen(request, context=self.ssl_context(), timeout=15) as response:
                data = response.read()
        except (KitError, OSError, ValueError, urllib.error.URLError):
            return ""
        return data[-size:].decode("utf-8", errors="replace")

    def _is_scale_set(self, rid: ResourceId) -> bool:
        path = f"/subscriptions/{rid.subscription_id}/resourceGroups/{rid.resource_group}/providers/" \
               f"Microsoft.Compute/virtualMachineScaleSets/{rid.name}"
        try:
            status, _ = self._call("GET", path, COMPUTE_API_VERSION, operation="virtual_machine_scale_sets.get",
                                   resource_id=path, allow=(404,))
        except AzureError:
            return False
        return status == 200

    def require(self, vm_id: str | ResourceId) -> ConsolePrecheck:
        """:meth:`precheck`, raising :class:`~kit.errors.ConsolePrecheckError` with every reason."""
        result = self.precheck(vm_id)
        if not result.ok:
            raise ConsolePrecheckError(" ".join(result.problems))
        return result

    def connection_string(self, vm_id: str | ResourceId) -> str:
        """``POST …/serialPorts/0/connect`` (with ``Content-Type``) → the per-session websocket URL."""
        rid = _vm_resource(vm_id)
        path = f"{rid}/providers/Microsoft.SerialConsole/serialPorts/0/connect"
        _, body = self._call("POST", path, SERIAL_API_VERSION, operation="serial_ports.connect", resource_id=str(rid))
        url = body.get("connectionString") if isinstance(body, dict) else None
        if not url:
            raise ConsoleError(f"the connect call for {rid.name} returned no connectionString")
        return str(url)

    def ssl_context(self) -> ssl.SSLContext:
        """TLS settings for the websocket: the target's CA bundle, else the system store."""
        if self.target.ca_bundle is not None:
            return ssl.create_default_context(cafile=str(self.target.ca_bundle))
        return ssl.create_default_context()

    async def admin_command(self, endpoint: ConsoleEndpoint, command: str, parameters: dict[str, Any]) -> None:
        """Post an admin command for an open console (:func:`send_admin_command`), TLS as the target's."""
        await send_admin_command(endpoint, command, parameters, confirm=True, verify=self._verify)


async def send_admin_command(connection: ConsoleEndpoint, command: str, parameters: dict[str, Any] | None = None,
                             *, confirm: bool = False, verify: str | bool = True) -> None:
    """POST an admin command (``nmi``, ``sysrq`` with ``{"SysRqCommand": key}``, ``reset``) to the gateway.

    Needs ``confirm=True``: these act on the running VM (reset = power cycle). A live,
    authenticated websocket for ``connection`` must be open.
    """
    if confirm is not True:
        raise UsageError(f"{command} acts on the running VM; pass confirm=True if you mean it")
    url = admin_command_url(connection.url, command)
    body = json.dumps({"command": command, "requestId": str(uuid.uuid4()), "commandParameters": parameters or {}})

    def post() -> int:
        headers = HeadersPolicy({**_HEADERS, "Authorization": f"Bearer {connection.token}"})
        client: PipelineClient[HttpRequest, HttpResponse] = PipelineClient(base_url=url, policies=[headers])
        with client:
            response = client.send_request(HttpRequest("POST", url, content=body.encode()), connection_verify=verify)
            return response.status_code

    with map_azure_errors(f"serial_console.admin_command.{command}"):
        status = await asyncio.to_thread(post)
    if status in (401, 403):
        raise ConsoleAuthError(f"the gateway refused the {command} command (HTTP {status}); get a fresh token")
    if status != 200:
        raise ConsoleError(f"the gateway did not accept the {command} command (HTTP {status}); "
                           "admin commands need a live console session")


def _vm_resource(vm_id: str | ResourceId) -> ResourceId:
    rid = vm_id if isinstance(vm_id, ResourceId) else parse_resource_id(str(vm_id))
    if not (rid.is_kind(VM) or rid.is_kind(VMSS_VM)):
        raise UsageError(f"{rid} is a {rid.kind}: the serial console needs a VM or a scale-set instance id")
    return rid


