"""The lab's answer on a VM's SSH/RDP port: one TCP listener per VM on 127.0.0.1, started on first use.

A connection is answered the way the VM's port would answer the scenario's responder:

- a VM that is not running (deallocated, stopped): the connection is reset at once;
- an NSG on the VM's NIC or subnet that denies TCP from the responder to the port: reset;
- a real QEMU guest: the bytes are forwarded to its SSH port (its real sshd answers);
- a scripted guest: the SSH banner (Linux) only when its firewall accepts the responder's SSH and
  sshd runs (not in emergency mode), an X.224 connection confirm (Windows) only when TermService runs
  and Remote Desktop connections are allowed, else reset;
- any other VM (a known-good peer, a scenario without a scripted guest): it answers.

Reset means a TCP RST (``SO_LINGER`` 0): the client sees the connection reset, no banner.
:meth:`kit.lab.RunningLab.probe_address` gives the address; the listeners close with the lab.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
from typing import Any

from kit.errors import LabError
from kit.lab._state import LabState
from kit.lab.effective import effective_security_groups
from kit.lab.gateway import hub_of
from kit.lab.guest import Guest
from kit.lab.realguest import RealGuest

__all__ = ["PROBES_EXTRA", "SSH_BANNER", "X224_CONFIRM", "Probes", "close_probes", "probe_address", "probes_of"]

#: The key of :attr:`LabState.extras <kit.lab.LabState>` the listeners are kept under.
PROBES_EXTRA = "probes"
#: What a running sshd says first.
SSH_BANNER = b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n"
#: TPKT + X.224 Connection Confirm + RDP_NEG_RSP (TLS + CredSSP selected), as TermService answers a request.
X224_CONFIRM = bytes.fromhex("030000130ed00000123400021f080002000000")
_READ_REQUEST = 2.0


class Probes:
    """The listeners of one lab: VM id (lower-cased) → its server, on the lab's loop."""

    def __init__(self, state: LabState) -> None:
        self.state = state
        self.servers: dict[str, asyncio.Server] = {}

    async def address(self, vm_id: str) -> tuple[str, int]:
        """``(host, port)`` of ``vm_id``'s listener (started now if it has none)."""
        key = vm_id.lower()
        if self.state.get(key) is None:
            raise LabError(f"the lab serves no VM {vm_id!r}")
        if key not in self.servers:
            self.servers[key] = await asyncio.start_server(
                lambda reader, writer: self._answer(key, reader, writer), "127.0.0.1", 0)
        host, port = self.servers[key].sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def close(self) -> None:
        """Stop every listener."""
        for server in self.servers.values():
            server.close()
        for server in self.servers.values():
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self.servers.clear()

    async def _answer(self, key: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            guest = _guest(self.state, key)
            if isinstance(guest, RealGuest) and _open(self.state, key, 22):
                await _forward(guest.qemu.ssh_port, reader, writer)
                return
            windows = _os_type(self.state, key) == "windows"
            answers = _guest_answers(guest, _responder(self.state, key))
            if not _open(self.state, key, 3389 if windows else 22) or not answers:
                _reset(writer)
                return
            if windows:
                with contextlib.suppress(TimeoutError, asyncio.IncompleteReadError):
                    await asyncio.wait_for(reader.read(64), _READ_REQUEST)  # the client's connection request
                writer.write(X224_CONFIRM)
            else:
                writer.write(SSH_BANNER)
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader.read(1), _READ_REQUEST)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


def probes_of(state: LabState) -> Probes:
    """The lab's listeners (created on first use)."""
    probes: Probes | None = state.extras.get(PROBES_EXTRA)
    if probes is None:
        probes = state.extras[PROBES_EXTRA] = Probes(state)
    return probes


async def probe_address(state: LabState, scenario_or_vm: str) -> tuple[str, int]:
    """The listener of a scenario's broken VM, or of a VM named by its ARM id (on the lab's loop)."""
    if scenario_or_vm.lower().startswith("/subscriptions/"):
        vm_id = scenario_or_vm
    else:
        info = state.scenario(scenario_or_vm)
        vm_id = info.vm_id(info.broken_vm)
    return await probes_of(state).address(vm_id)


async def close_probes(state: LabState) -> None:
    """Stop the lab's listeners (when it stops)."""
    probes: Probes | None = state.extras.get(PROBES_EXTRA)
    if probes is not None:
        await probes.close()


# ---------------------------------------------------------------------- what the VM's port would do
def _scenario_of(state: LabState, key: str) -> tuple[str, bool] | None:
    """The scenario serving VM ``key`` and whether the VM is its broken one."""
    for name, info in state.scenarios.items():
        if info.vm_id(info.broken_vm).lower() == key:
            return name, True
        if any(info.vm_id(vm).lower() == key for vm in info.vms):
            return name, False
    return None


def _guest(state: LabState, key: str) -> Guest | RealGuest | None:
    """The broken VM's guest (real or scripted), or ``None`` for a peer or a VM without a scripted guest."""
    found = _scenario_of(state, key)
    if found is None or not found[1]:
        return None
    try:
        return hub_of(state).guest(found[0], key)
    except LabError:  # the scenario has no scripted guest
        return None


def _guest_answers(guest: Guest | RealGuest | None, responder: str) -> bool:
    """Whether the scripted guest's own state lets the responder's SSH (firewall, sshd) or RDP (TermService) in."""
    if guest is None:
        return True
    if guest.silent or not isinstance(guest, Guest):  # a kernel that panicked answers nothing
        return False
    shell: Any = guest.shell
    if guest.os == "windows":
        service = shell.services.get("termservice", {})
        terminal = shell.registry.get("hklm\\system\\currentcontrolset\\control\\terminal server", {})
        return bool(shell.network_up() and service.get("state") == "RUNNING"
                    and terminal.get("fDenyTSConnections", "0x0") == "0x0")
    if shell.mode == "emergency" or shell.booted_emergency or not shell.services["ssh"].active:
        return False
    source = responder or guest.responder_ip
    return bool(shell.firewall.verdict("INPUT", proto="tcp", dport=shell.sshd_port(), source=source) == "ACCEPT")


def _os_type(state: LabState, key: str) -> str:
    vm = state.get(key) or {}
    os_disk = vm.get("properties", {}).get("storageProfile", {}).get("osDisk", {})
    return str(os_disk.get("osType", "Linux")).lower()


def _responder(state: LabState, key: str) -> str:
    found = _scenario_of(state, key)
    return state.scenario(found[0]).responder_ip if found else ""


def _open(state: LabState, key: str, port: int) -> bool:
    """Whether the VM runs and every NSG on its primary NIC (and subnet) lets the responder's TCP to ``port`` in."""
    if (state.power_state(key) or "running") != "running":
        return False
    responder = _responder(state, key)
    vm = state.get(key) or {}
    nics = vm.get("properties", {}).get("networkProfile", {}).get("networkInterfaces", [])
    nic = state.get(str(nics[0].get("id", ""))) if nics else None
    if nic is None or not responder:
        return True
    source = ipaddress.ip_address(responder)
    return all(_allows(entry.get("effectiveSecurityRules", []), source, port)
               for entry in effective_security_groups(nic, state.get)["value"])


def _allows(rules: list[dict[str, Any]], source: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> bool:
    """The first inbound rule (by priority) matching TCP from ``source`` to ``port`` allows it."""
    inbound = sorted((r for r in rules if r.get("direction") == "Inbound"), key=lambda r: int(r.get("priority") or 0))
    for rule in inbound:
        if rule.get("protocol") not in ("All", "Tcp"):
            continue
        if not any(_in_range(port, text) for text in rule.get("destinationPortRanges") or ["0-65535"]):
            continue
        prefixes = rule.get("expandedSourceAddressPrefix") or rule.get("sourceAddressPrefixes") or []
        if any(_in_prefix(source, prefix) for prefix in prefixes):
            return str(rule.get("access")) == "Allow"
    return False


def _in_range(port: int, text: str) -> bool:
    low, _, high = str(text).partition("-")
    try:
        return int(low) <= port <= int(high or low)
    except ValueError:
        return False


def _in_prefix(address: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: str) -> bool:
    try:
        return address in ipaddress.ip_network(str(prefix), strict=False)
    except ValueError:  # an application security group's name: the responder is not in it
        return False


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST instead of a FIN (what a closed or filtered port's host sends)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _forward(port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Relay the connection to a real guest's forwarded SSH port (reset if nothing listens there)."""
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        _reset(writer)
        return

    async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        sink.close()

    await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))
