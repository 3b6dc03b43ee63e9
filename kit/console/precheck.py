"""``kit console precheck``'s whole answer: will the serial console work for me, for this VM, now?

Example::

    readiness = console_readiness(SerialConsoleClient.from_target(target), vm_id)
    readiness.ok, [(c.name, c.status, c.code) for c in readiness.checks]
    print(readiness)          # every check: ok / FAILED / could not check, the reason and the fix

:meth:`SerialConsoleClient.precheck <kit.azure.serialconsole.SerialConsoleClient.precheck>` answers
what ARM says of the VM (subscription console, boot diagnostics, power state, OS). This adds, each
failure with a reason code and its fix:

- **permissions**: the responder's effective permissions on the VM
  (``…/providers/Microsoft.Authorization/permissions``) hold ``serialPorts/connect/action`` and VM
  read and write (:func:`kit.analyze.console_access.console_actions`), wildcards and ``notActions``
  evaluated as ARM does (:mod:`kit.analyze.permissions`); code ``missing_permissions``;
- **boot storage**: a custom boot-diagnostics storage account exists (``storage_account_missing``),
  lets the console in (:func:`kit.analyze.boot_storage.storage_problems`: ``storage_firewall``,
  ``storage_private_endpoint``, ``storage_shared_key_disabled``) and the responder may read it and
  list its keys (``storage_permissions``); managed boot diagnostics pass (a scale-set instance's
  storage is not read: could not check);
- **console host**: the host the ``connect`` answer names resolves (``console_host_dns``), accepts
  a TCP connection (``console_host_refused``, ``console_host_timeout``, ``console_host_unreachable``)
  and completes a TLS handshake this machine trusts (``console_host_certificate``,
  ``console_host_tls``), each step within ``timeout`` seconds. The ``connect`` POST is what opening
  the console does first (Azure records it in the Activity Log); no websocket is opened. A proxy
  is not used, as the console's websocket uses none;
- **guest**: the serial log shows SAC (Windows; ``sac_disabled``) or a getty on ttyS0 (Linux;
  ``no_serial_getty``), :func:`kit.analyze.console_access.serial_access`.

A check that cannot be made (its call refused, no serial log yet) is ``unknown`` ("could not
check") and does not fail the precheck; a failed one does.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from kit.analyze.boot_storage import storage_problems
from kit.analyze.console_access import BOOT_STORAGE_ACTIONS, console_actions, serial_access
from kit.analyze.permissions import EffectivePermissions
from kit.azure.serialconsole import ConsolePrecheck, SerialConsoleClient
from kit.errors import AnalysisError, KitError
from kit.ids import VMSS_VM, ResourceId, parse_resource_id

__all__ = ["STATUSES", "ConsoleReadiness", "HostProbe", "ReadinessCheck", "console_readiness", "probe_console_host"]

#: A check's status, and how the report shows it.
STATUSES = {"ok": "ok", "failed": "FAILED", "unknown": "could not check"}
_LOG_TAIL = 1 << 20  # SAC's banner and the gettys come early in a boot: read the last MiB of the log


@dataclass(frozen=True)
class ReadinessCheck:
    """One thing the console needs, and whether it holds.

    Parameters
    ----------
    name
        What is checked (``permissions``, ``boot storage``, ``console host`` …).
    status
        ``ok``, ``failed`` or ``unknown`` (could not check).
    reason
        What was found, in a sentence.
    fix
        What to do about a failure (empty when ``ok``).
    code
        The failure's reason code (``missing_permissions``, ``storage_firewall`` …; empty when ``ok``).
    """

    name: str
    status: str
    reason: str
    fix: str = ""
    code: str = ""


@dataclass(frozen=True)
class ConsoleReadiness:
    """Every check of one VM's serial console for one responder.

    Parameters
    ----------
    precheck
        ARM's facts about the VM (:class:`~kit.azure.serialconsole.ConsolePrecheck`).
    responder
        Who asked (the token's principal).
    checks
        In the order made.
    """

    precheck: ConsolePrecheck
    responder: str
    checks: tuple[ReadinessCheck, ...]

    @property
    def ok(self) -> bool:
        """Whether no check failed (a check that could not be made does not fail)."""
        return not self.failed

    @property
    def failed(self) -> tuple[ReadinessCheck, ...]:
        """The failed checks."""
        return tuple(check for check in self.checks if check.status == "failed")

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes of the failed checks."""
        return tuple(check.code for check in self.failed)

    def __str__(self) -> str:
        pre = self.precheck
        lines = [f"serial console for {pre.vm_id}: {'ready' if self.ok else 'NOT available'}",
                 f"  subscription console enabled: {'yes' if pre.console_enabled else 'no'}",
                 f"  boot diagnostics enabled:     {'yes' if pre.boot_diagnostics else 'no'}",
                 f"  power state:                  {pre.power_state or 'unknown'}",
                 f"  OS:                           {pre.os_type or 'unknown'}",
                 f"  checks for {self.responder}:"]
        width = max(len(check.name) for check in self.checks) if self.checks else 0
        for check in self.checks:
            code = f" [{check.code}]" if check.code else ""
            lines.append(f"    {STATUSES[check.status]:<15} {check.name:<{width}}  {check.reason}{code}")
            if check.fix:
                lines.append(f"    {'':<15} {'':<{width}}  fix: {check.fix}")
        lines += [f"  note: {hint}" for hint in pre.hints]
        return "\n".join(lines)


@dataclass(frozen=True)
class HostProbe:
    """How far a connection to the console host got.

    Parameters
    ----------
    host, port
        Where it went.
    code
        Empty when the TLS handshake completed, else ``console_host_dns``, ``…_refused``,
        ``…_timeout``, ``…_unreachable``, ``…_certificate`` or ``…_tls``.
    detail
        What happened, in words.
    """

    host: str
    port: int
    code: str
    detail: str


def probe_console_host(url: str, context: ssl.SSLContext, *, timeout: float = 5.0) -> HostProbe:
    """Resolve the host of ``url`` (``wss://`` or ``https://``), connect and shake hands with TLS.

    Each step gets ``timeout`` seconds; the first one that fails names the problem.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or 443
    except ValueError:
        return HostProbe(host, 0, "console_host_dns", f"the console URL has a bad port: {parts.netloc}")
    if not host:
        return HostProbe(host, port, "console_host_dns", f"the console URL names no host: {url.split('?', 1)[0]}")
    addresses = _resolve(host, port, timeout)
    if isinstance(addresses, str):
        return HostProbe(host, port, "console_host_dns", addresses)
    sock: socket.socket | None = None
    last = "no address"
    for family, kind, proto, _name, address in addresses:
        candidate = socket.socket(family, kind, proto)
        candidate.settimeout(timeout)
        try:
            candidate.connect(address)
        except ConnectionRefusedError:
            last = "refused"
        except TimeoutError:
            last = "timeout"
        except OSError as error:
            last = f"unreachable: {error.strerror or error}"
        else:
            sock = candidate
            break
        candidate.close()
    if sock is None:
        if last == "refused":
            return HostProbe(host, port, "console_host_refused", f"{host}:{port} refused the TCP connection")
        if last == "timeout":
            return HostProbe(host, port, "console_host_timeout",
                             f"no TCP answer from {host}:{port} within {timeout:g} s (a firewall dropping it?)")
        return HostProbe(host, port, "console_host_unreachable", f"{host}:{port} is {last}")
    try:
        with context.wrap_socket(sock, server_hostname=host) as tls:
            version = tls.version() or "TLS"
    except ssl.SSLCertVerificationError as error:
        return HostProbe(host, port, "console_host_certificate",
                         f"{host}:{port}'s certificate is not trusted here: {error.verify_message or error.reason} "
                         "(a TLS-inspecting proxy? give its CA with --ca-bundle)")
    except TimeoutError:
        return HostProbe(host, port, "console_host_timeout",
                         f"{host}:{port} accepted TCP but did not finish the TLS handshake within {timeout:g} s")
    except (ssl.SSLError, OSError) as error:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or str(error)
        return HostProbe(host, port, "console_host_tls", f"the TLS handshake with {host}:{port} failed: {reason}")
    finally:
        sock.close()
    return HostProbe(host, port, "", f"{host}:{port} answered ({version})")


def _resolve(host: str, port: int, timeout: float) -> list[tuple[int, int, int, str, tuple[str, int]]] | str:
    """``getaddrinfo`` within ``timeout`` (it has no timeout of its own), or why it failed."""
    found: dict[str, object] = {}

    def lookup() -> None:
        try:
            found["value"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            found["error"] = error

    worker = threading.Thread(target=lookup, name="kit-console-dns", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        return f"resolving {host} took longer than {timeout:g} s (is a DNS server reachable?)"
    if "error" in found:
        error = found["error"]
        return f"{host} does not resolve: {getattr(error, 'strerror', None) or error}"
    return found["value"]  # type: ignore[return-value]


def console_readiness(client: SerialConsoleClient, vm_id: str | ResourceId, *,
                      timeout: float = 5.0) -> ConsoleReadiness:
    """Run every check for ``vm_id`` as the client's responder (see the module docstring)."""
    rid = vm_id if isinstance(vm_id, ResourceId) else parse_resource_id(str(vm_id))
    pre = client.precheck(rid)
    responder = client.responder()
    checks = [*_basic(pre, rid), _permissions(client, rid, responder), *_storage(client, pre, rid, responder),
              _host(client, rid, timeout), _guest(client, pre, rid)]
    return ConsoleReadiness(pre, responder, tuple(checks))


def _basic(pre: ConsolePrecheck, rid: ResourceId) -> list[ReadinessCheck]:
    group = rid.resource_group or "RG"
    if rid.is_kind(VMSS_VM):
        scale_set = f"--name {rid.names[0]} -g {group}"
        enable_boot = (f"az vmss update {scale_set} --set virtualMachineProfile.diagnosticsProfile.bootDiagnostics."
                       f"enabled=true, then az vmss update-instances {scale_set} --instance-ids {rid.name}")
        start = f"az vmss start {scale_set} --instance-ids {rid.name}"
    else:
        enable_boot = f"az vm boot-diagnostics enable --name {rid.name} -g {group}"
        start = f"az vm start --name {rid.name} -g {group}"
    checks = [
        ReadinessCheck("subscription console", "ok", "enabled") if pre.console_enabled else
        ReadinessCheck("subscription console", "failed", "Azure Serial Console is disabled for this subscription",
                       f"az serial-console enable --subscription {rid.subscription_id}", "serial_console_disabled"),
        ReadinessCheck("boot diagnostics", "ok",
                       "on, custom storage" if pre.boot_storage_uri else "on") if pre.boot_diagnostics else
        ReadinessCheck("boot diagnostics", "failed", "boot diagnostics are off: the console needs them",
                       enable_boot, "boot_diagnostics_off"),
    ]
    power = pre.power_state
    if power in ("deallocated", "deallocating"):
        checks.append(ReadinessCheck("power state", "failed", f"{power}: the console needs a running VM",
                                     start, "not_running"))
    elif power == "stopped":
        checks.append(ReadinessCheck("power state", "ok", "stopped but allocated: the console connects, nothing "
                                                          "answers until the VM starts"))
    else:
        checks.append(ReadinessCheck("power state", "ok" if power else "unknown", power or "not in the instance view"))
    return checks


def _permissions(client: SerialConsoleClient, rid: ResourceId, responder: str) -> ReadinessCheck:
    needed = console_actions(str(rid))
    try:
        granted = EffectivePermissions.from_rest(client.permissions(rid))
    except (KitError, AnalysisError) as error:
        return ReadinessCheck("permissions", "unknown", f"could not read your permissions on {rid.name}: {error}")
    missing = granted.missing(needed)
    if not missing:
        return ReadinessCheck("permissions", "ok", f"allowed: {', '.join(needed)}")
    return ReadinessCheck(
        "permissions", "failed", f"{responder} may not {', '.join(missing)} on {rid.name}",
        f'ask an owner for Virtual Machine Contributor on the VM: az role assignment create --assignee {responder} '
        f'--role "Virtual Machine Contributor" --scope {rid}', "missing_permissions")


def _storage(client: SerialConsoleClient, pre: ConsolePrecheck, rid: ResourceId,
             responder: str) -> list[ReadinessCheck]:
    if not pre.boot_diagnostics:
        return [ReadinessCheck("boot storage", "unknown", "boot diagnostics are off")]
    if pre.boot_storage_uri is None and rid.is_kind(VMSS_VM):
        return [ReadinessCheck("boot storage", "unknown", "a scale-set instance's boot-diagnostics storage is the "
                                                          "scale set's (its diagnosticsProfile); not read here")]
    if pre.boot_storage_uri is None:
        return [ReadinessCheck("boot storage", "ok", "managed boot diagnostics storage (nothing to reach or grant)")]
    uri = pre.boot_storage_uri
    managed = f"az vm boot-diagnostics enable --name {rid.name} -g {rid.resource_group or 'RG'}"
    try:
        account = client.storage_account(uri, rid.subscription_id)
    except KitError as error:
        return [ReadinessCheck("boot storage", "unknown", f"could not read the storage account behind {uri}: {error}")]
    if account is None:
        return [ReadinessCheck("boot storage", "failed",
                               f"no storage account of subscription {rid.subscription_id} has the blob endpoint {uri} "
                               "(deleted, or in another subscription)",
                               f"switch to managed boot diagnostics: {managed}", "storage_account_missing")]
    try:
        problems = storage_problems(account, vm_id=str(rid))
    except AnalysisError as error:
        return [ReadinessCheck("boot storage", "unknown", str(error))]
    checks = [ReadinessCheck("boot storage", "failed", problem.detail, problem.fix, problem.reason)
              for problem in problems]
    if not problems:
        checks.append(ReadinessCheck("boot storage", "ok",
                                     f"storage account {account.get('name')} lets the console in"))
    account_id = str(account.get("id", ""))
    try:
        granted = EffectivePermissions.from_rest(client.permissions(account_id))
    except (KitError, AnalysisError) as error:
        checks.append(ReadinessCheck("storage permissions", "unknown",
                                     f"could not read your permissions on {account.get('name')}: {error}"))
        return checks
    missing = granted.missing(BOOT_STORAGE_ACTIONS)
    if missing:
        checks.append(ReadinessCheck(
            "storage permissions", "failed", f"{responder} may not {', '.join(missing)} on {account.get('name')}",
            f'az role assignment create --assignee {responder} --role "Virtual Machine Contributor" '
            f"--scope {account_id}; or switch to managed boot diagnostics: {managed}", "storage_permissions"))
    else:
        checks.append(ReadinessCheck("storage permissions", "ok", f"allowed: {', '.join(BOOT_STORAGE_ACTIONS)}"))
    return checks


def _host(client: SerialConsoleClient, rid: ResourceId, timeout: float) -> ReadinessCheck:
    try:
        url = client.connection_string(rid)
    except KitError as error:
        return ReadinessCheck("console host", "unknown", f"the connect call gave no console host: {error}")
    probe = probe_console_host(url, client.ssl_context(), timeout=timeout)
    if not probe.code:
        return ReadinessCheck("console host", "ok", probe.detail)
    fixes = {
        "console_host_dns": f"make {probe.host} resolvable from here (DNS server, split-horizon zone, hosts file)",
        "console_host_certificate": "trust the CA that signs what answers (--ca-bundle), or bypass TLS inspection "
                                    f"for {probe.host}",
        "console_host_tls": f"let TLS to {probe.host}:{probe.port} through unchanged (proxy or firewall inspection)",
    }
    fix = fixes.get(probe.code, f"allow outbound TCP {probe.port} to {probe.host} (firewall, proxy, NSG of this "
                                "machine), or use the portal's console from a network that can")
    return ReadinessCheck("console host", "failed", probe.detail, fix, probe.code)


def _guest(client: SerialConsoleClient, pre: ConsolePrecheck, rid: ResourceId) -> ReadinessCheck:
    name = "SAC (guest)" if pre.os_type == "windows" else "serial getty (guest)"
    log = client.serial_log_tail(rid, size=_LOG_TAIL)
    try:
        access = serial_access(log, pre.os_type)
    except AnalysisError as error:
        return ReadinessCheck(name, "unknown", f"the serial log cannot be read: {error}")
    if access.status != "failed":
        return ReadinessCheck(name, access.status, access.reason)
    code = "sac_disabled" if (pre.os_type or "").lower() == "windows" else "no_serial_getty"
    return ReadinessCheck(name, "failed", access.reason, access.fix, code)
