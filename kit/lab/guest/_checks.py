"""The fix checks: is the scenario's VM reachable again? (one judge per ``check:`` kind)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kit.lab.guest import Guest
    from kit.lab.guest._linux import LinuxGuest
    from kit.lab.guest._windows import WindowsGuest

__all__ = ["JUDGES", "emergency_tail", "healthy_tail", "last_boot", "block_start"]


# ---------------------------------------------------------------------- judges
def check_firewall(guest: Guest) -> tuple[bool, str]:
    from kit.lab.guest._iptables import Firewall

    shell: LinuxGuest = guest.shell  # type: ignore[assignment]
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


def check_fstab(guest: Guest) -> tuple[bool, str]:
    shell: LinuxGuest = guest.shell  # type: ignore[assignment]
    if not shell.root_in_fstab():
        return False, "/etc/fstab no longer mounts the root filesystem (/): the VM would not boot; restore that line"
    blocking = [mount for mount, nofail in shell.fstab_failures() if not nofail]
    if blocking:
        return False, (f"/etc/fstab still requires {', '.join(blocking)} whose disk is not attached: the next boot "
                       "stops in emergency mode again (comment the line out or add nofail)")
    if shell.booted_emergency or shell.mode == "emergency":
        return False, "/etc/fstab is right now, but the VM is still in emergency mode: reboot it (systemctl reboot)"
    return True, "the VM boots to the login prompt with every remaining fstab entry mounted; sshd is up"


def check_sshd(guest: Guest) -> tuple[bool, str]:
    shell: LinuxGuest = guest.shell  # type: ignore[assignment]
    errors = shell.sshd_errors()
    if errors:
        return False, f"sshd -t still rejects the configuration: {errors[0]}"
    if not shell.services["ssh"].active:
        return False, "the configuration is valid now, but sshd is not running: restart it (systemctl restart ssh)"
    return True, f"sshd -t is clean and ssh.service is listening on port {shell.sshd_port()}"


def check_rdp(guest: Guest) -> tuple[bool, str]:
    shell: WindowsGuest = guest.shell  # type: ignore[assignment]
    service = shell.services.get("termservice", {})
    deny = shell.registry.get("hklm\\system\\currentcontrolset\\control\\terminal server", {}).get("fDenyTSConnections", "0x0")
    if service.get("start") == "disabled":
        return False, "TermService (Remote Desktop Services) is still disabled: sc config TermService start= demand"
    if service.get("state") != "RUNNING":
        return False, "TermService is allowed to start but is not running: net start TermService"
    if deny != "0x0":
        return False, "Remote Desktop connections are denied (fDenyTSConnections is not 0)"
    return True, "Remote Desktop Services is running and accepts connections on port 3389"


def last_boot(text: str) -> str:
    """The last boot in a serial log (from the line with its kernel banner), or the whole text."""
    index = text.rfind("Linux version ")
    if index < 0:
        return text
    return text[text.rfind("\n", 0, index) + 1:]


def block_start(text: str, start: int) -> int:
    """Back up over the ``[ TIME ]``/``[DEPEND]`` lines right before a failure message."""
    while start > 0:
        previous = text.rfind("\n", 0, start - 1) + 1
        line = text[previous:start]
        if "TIME" in line[:20] or "DEPEND" in line[:20] or "Dependency failed" in line or "Timed out" in line:
            start = previous
            continue
        break
    return start


def healthy_tail(shell: LinuxGuest) -> str:
    return ("[  OK  ] Reached target Local File Systems.\r\n"
            "         Starting Create Volatile Files and Directories...\r\n"
            "[  OK  ] Finished Create Volatile Files and Directories.\r\n"
            "[  OK  ] Reached target System Initialization.\r\n"
            "[  OK  ] Reached target Basic System.\r\n"
            "         Starting OpenBSD Secure Shell server...\r\n"
            + ("[  OK  ] Started OpenBSD Secure Shell server.\r\n" if shell.services["ssh"].active else
               "[FAILED] Failed to start OpenBSD Secure Shell server.\r\n")
            + "[  OK  ] Reached target Multi-User System.\r\n"
            "[  OK  ] Reached target Graphical Interface.\r\n"
            f"\r\n{shell.os_release()} {shell.hostname} ttyS0\r\n\r\n{shell.hostname} login: ")


def emergency_tail(shell: LinuxGuest) -> str:
    failing = [m for m, nofail in shell.fstab_failures() if not nofail]
    lines = []
    for mount in failing:
        unit = mount.strip("/").replace("/", "-") or "-"
        lines += [f"[ TIME ] Timed out waiting for device /dev/disk/by-uuid/… ({mount}).",
                  f"[DEPEND] Dependency failed for {mount}.", "[DEPEND] Dependency failed for Local File Systems.",
                  f"         Mounting {unit}.mount skipped."]
    lines += ["You are in emergency mode. After logging in, type \"journalctl -xb\" to view",
              "system logs, \"systemctl reboot\" to reboot, \"systemctl default\" or \"exit\"",
              "to boot into default mode.", "Give root password for maintenance", "(or press Control-D to continue): "]
    return "\r\n".join(lines)


JUDGES = {"firewall": check_firewall, "fstab": check_fstab, "sshd": check_sshd, "rdp": check_rdp}
