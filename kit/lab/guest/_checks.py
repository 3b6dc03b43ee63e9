"""The fix checks: is the scenario's VM reachable again? (one judge per ``check:`` kind)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any, Protocol

from kit.lab.guest._iptables import Firewall
from kit.lab.guest._linux import LinuxGuest
from kit.lab.guest._windows import WindowsGuest

__all__ = ["JUDGES", "Judge", "Judged"]


class Judged(Protocol):
    """What a judge reads of a guest (:class:`kit.lab.guest.Guest` is one)."""

    @property
    def shell(self) -> LinuxGuest | WindowsGuest:
        """The guest's interpreter and state."""
        ...

    @property
    def definition(self) -> dict[str, Any]:
        """The guest data (``must_accept`` lists the flows the firewall check wants accepted)."""
        ...

    @property
    def responder_ip(self) -> str:
        """Where the responder's SSH/RDP comes from."""
        ...


#: A judge: ``(passed, what a trainee reads)`` for a guest.
Judge = Callable[[Judged], tuple[bool, str]]


def _linux(guest: Judged) -> LinuxGuest:
    shell = guest.shell
    assert isinstance(shell, LinuxGuest), f"a Linux check on a {type(shell).__name__}"
    return shell


def _windows(guest: Judged) -> WindowsGuest:
    shell = guest.shell
    assert isinstance(shell, WindowsGuest), f"a Windows check on a {type(shell).__name__}"
    return shell


def _check_firewall(guest: Judged) -> tuple[bool, str]:
    shell = _linux(guest)
    port = shell.sshd_port()
    try:
        ipaddress.ip_address(guest.responder_ip)
        source = guest.responder_ip
    except ValueError:
        source = "203.0.113.10"
    flows = [(str(f["src"]), int(f["port"])) for f in guest.definition.get("must_accept", [])] or [(source, port)]
    for src, dport in flows:
        verdict = shell.firewall.verdict("INPUT", proto="tcp", dport=dport, source=src)
        if verdict != "ACCEPT":
            what = "SSH" if dport == port else f"TCP port {dport}"
            return False, (f"a new {what} connection from {src} to port {dport} is still {verdict}ped by the guest "
                           "firewall (iptables INPUT chain); look at `iptables -S` and the chain policy")
    if not shell.services["ssh"].active:
        return False, "the firewall lets SSH in now, but sshd is not running (systemctl status ssh)"
    saved = shell.files.get("/etc/iptables/rules.v4")
    if saved is not None:
        persisted = Firewall.from_save(saved)
        if any(persisted.verdict("INPUT", proto="tcp", dport=d, source=s) != "ACCEPT" for s, d in flows):
            return True, ("the connections are accepted now, but /etc/iptables/rules.v4 still blocks them: the lockout "
                          "comes back at the next boot (save with `netfilter-persistent save`)")
    shown = ", ".join(f"{d}/tcp from {s}" for s, d in flows)
    return True, f"the guest firewall accepts {shown}, sshd is listening, and the rules persist across reboots"


def _check_fstab(guest: Judged) -> tuple[bool, str]:
    shell = _linux(guest)
    if not shell.root_in_fstab():
        return False, "/etc/fstab no longer mounts the root filesystem (/): the VM would not boot; restore that line"
    blocking = [mount for mount, nofail in shell.fstab_failures() if not nofail]
    if blocking:
        return False, (f"/etc/fstab still requires {', '.join(blocking)} whose disk is not attached: the next boot "
                       "stops in emergency mode again (comment the line out or add nofail)")
    if shell.booted_emergency or shell.mode == "emergency":
        return False, "/etc/fstab is right now, but the VM is still in emergency mode: reboot it (systemctl reboot)"
    return True, "the VM boots to the login prompt with every remaining fstab entry mounted; sshd is up"


def _check_sshd(guest: Judged) -> tuple[bool, str]:
    shell = _linux(guest)
    errors = shell.sshd_errors()
    if errors:
        return False, f"sshd -t still rejects the configuration: {errors[0]}"
    if not shell.services["ssh"].active:
        return False, "the configuration is valid now, but sshd is not running: restart it (systemctl restart ssh)"
    return True, f"sshd -t is clean and ssh.service is listening on port {shell.sshd_port()}"


def _check_rdp(guest: Judged) -> tuple[bool, str]:
    shell = _windows(guest)
    service = shell.services.get("termservice", {})
    terminal_server = shell.registry.get("hklm\\system\\currentcontrolset\\control\\terminal server", {})
    deny = terminal_server.get("fDenyTSConnections", "0x0")
    if service.get("start") == "disabled":
        return False, "TermService (Remote Desktop Services) is still disabled: sc config TermService start= demand"
    if service.get("state") != "RUNNING":
        return False, "TermService is allowed to start but is not running: net start TermService"
    if deny != "0x0":
        return False, "Remote Desktop connections are denied (fDenyTSConnections is not 0)"
    return True, "Remote Desktop Services is running and accepts connections on port 3389"


#: ``check:`` kind of a guest definition → its judge.
JUDGES: dict[str, Judge] = {"firewall": _check_firewall, "fstab": _check_fstab, "sshd": _check_sshd,
                            "rdp": _check_rdp}
