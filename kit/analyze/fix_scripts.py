"""The scripts Run Command sends: a read-only diagnostics pack per OS, and the online fixes.

Pure text: nothing here talks to Azure. The fixes are the ones the verdict's guides give
(:mod:`kit.analyze._verdict_guides`), written as scripts, filled with the scenario's or the
incident's facts where those name things (the blocked flows, the sshd file and its backup)::

    diagnostics_script("linux")
    fix_script("guest_firewall", {"blocked": [{"src": "203.0.113.7", "port": 22}]})

Boot failures cannot be fixed from inside a guest that does not boot: :func:`fix_script`
refuses them and points to ``kit repair``.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Mapping
from typing import Any

from kit.errors import UsageError

__all__ = ["FINDING_ALIASES", "ONLINE_FIXES", "diagnostics_script", "finding_kind", "fix_os", "fix_script"]

#: CLI short names of the finding kinds
FINDING_ALIASES = {"firewall": "guest_firewall", "sshd": "service_failure:sshd", "rdp": "service_failure:rdp",
                   "fstab": "boot_failure:fstab", "kernel": "boot_failure:kernel_panic",
                   "dhcp": "guest_network:dhcp_disabled", "nvme": "boot_failure:storage_driver"}
#: the finding kinds Run Command can fix, and the OS of their script
ONLINE_FIXES = {"guest_firewall": "linux", "service_failure:sshd": "linux", "service_failure:rdp": "windows"}
#: the finding kinds only a repair VM fixes: the guest does not boot far enough, or has no network, for the agent
_BOOT = ("boot_failure:fstab", "boot_failure:kernel_panic", "guest_network:dhcp_disabled",
         "boot_failure:storage_driver")
_OPTION = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
_PATH = re.compile(r"/[A-Za-z0-9._/+-]{1,255}")
_TERMINAL_SERVER = r"HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server"

_LINUX_DIAGNOSTICS = (
    ("iptables -S", "iptables -S"),
    ("nft list ruleset", "nft list ruleset"),
    ("systemctl --failed", "systemctl --failed --no-pager"),
    ("sshd -t", "sshd -t"),
    ("journalctl -u ssh -u sshd -b", "journalctl -u ssh -u sshd -b --no-pager | tail -n 50"),  # Debian's, RHEL's
    ("firewalld (RHEL and its rebuilds)", "[ ! -x /usr/bin/firewall-cmd ] || firewall-cmd --list-all"),
    ("SELinux mode", "[ ! -x /usr/sbin/getenforce ] || getenforce"),
    ("SELinux denials since boot (sshd on a port SELinux does not allow)",
     "[ ! -x /usr/sbin/ausearch ] || ausearch -m avc -ts boot | tail -n 20"),
    ("findmnt --verify", "findmnt --verify"),
    ("df -h", "df -h"),
)
_WINDOWS_DIAGNOSTICS = (
    ("TermService state and start type",
     "Get-Service -Name TermService | Format-List Name,DisplayName,Status,StartType"),
    ("RDP listener (3389)", "netstat -ano | findstr 3389"),
    ("RDP firewall rules", 'netsh advfirewall firewall show rule name="Remote Desktop - User Mode (TCP-In)"'),
    ("fDenyTSConnections (0 = connections allowed)",
     f"Get-ItemPropertyValue -Path '{_TERMINAL_SERVER}' -Name fDenyTSConnections"),
    ("NLA (UserAuthentication, 1 = required)",
     f"Get-ItemPropertyValue -Path '{_TERMINAL_SERVER}\\WinStations\\RDP-Tcp' -Name UserAuthentication"),
)


def finding_kind(name: str) -> str:
    """The finding kind for a kind or its CLI alias (``firewall`` → ``guest_firewall``)."""
    kind = FINDING_ALIASES.get(name.strip().lower(), name.strip())
    if kind not in ONLINE_FIXES and kind not in _BOOT:
        known = ", ".join([*FINDING_ALIASES, *ONLINE_FIXES, *_BOOT])
        raise UsageError(f"unknown finding {name!r}; one of {known}")
    return kind


def fix_os(finding: str) -> str:
    """The OS (``linux``/``windows``) a finding's online fix is written for."""
    kind = finding_kind(finding)
    if kind in _BOOT:
        raise UsageError(_boot_message(kind))
    return ONLINE_FIXES[kind]


def diagnostics_script(os_type: str) -> str:
    """The read-only diagnostics pack: each command under a ``=== <title>`` header line."""
    if os_type == "linux":
        lines = ["# kit run-command --diagnose: read-only; changes nothing"]
        for title, command in _LINUX_DIAGNOSTICS:
            lines += [f"echo '=== {title}'", command]
        return "\n".join(lines) + "\n"
    if os_type == "windows":
        lines = ["# kit run-command --diagnose: read-only; changes nothing"]
        for title, command in _WINDOWS_DIAGNOSTICS:
            lines += [f"Write-Output '=== {title}'", command]
        return "\n".join(lines) + "\n"
    raise UsageError(f"unknown OS {os_type!r}; linux or windows")


def fix_script(finding_kind_or_alias: str, facts: Mapping[str, Any] | None = None) -> str:
    """The online fix of a finding, filled from ``facts``.

    Parameters
    ----------
    finding_kind_or_alias
        ``guest_firewall``, ``service_failure:sshd``, ``service_failure:rdp`` (or ``firewall``,
        ``sshd``, ``rdp``).
    facts
        What is known of the VM: ``blocked`` (``[{"src", "port"}]``, or ``"SRC:PORT,…"``) or ``responder_ip`` for the
        firewall; ``sshd_config_file``, ``bad_option``, ``backup`` for sshd.

    Raises
    ------
    UsageError
        A boot failure (use ``kit repair``), an unknown finding, or facts that are malformed.
    """
    kind = finding_kind(finding_kind_or_alias)
    facts = facts or {}
    if kind in _BOOT:
        raise UsageError(_boot_message(kind))
    if kind == "guest_firewall":
        return _firewall(facts)
    if kind == "service_failure:sshd":
        return _sshd(facts)
    return _rdp(facts)


def _boot_message(kind: str) -> str:
    why = "has no network address" if kind.startswith("guest_network") else "does not boot far enough"
    return (f"{kind} cannot be fixed with Run Command: the guest {why} for the VM agent; "
            "use kit repair (the repair VM fixes the OS disk offline) or the serial console")


def _flows(facts: Mapping[str, Any]) -> list[tuple[str, int]]:
    """The (source, port) flows to let in: the facts' blocked flows, else SSH from the responder."""
    blocked = facts.get("blocked")
    if isinstance(blocked, str):  # from the command line: "203.0.113.7:22,10.42.1.5:6817"
        blocked = [dict(zip(("src", "port"), item.strip().rsplit(":", 1), strict=False))
                   for item in blocked.split(",") if item.strip()]
    flows: list[tuple[str, int]] = []
    if isinstance(blocked, list):
        for flow in blocked:
            if not (isinstance(flow, Mapping) and str(flow.get("port", "")).isdigit()):
                raise UsageError(f"firewall fix: blocked flow {flow!r} is not SOURCE:PORT")
            flows.append((str(flow.get("src") or facts.get("responder_ip") or ""), int(flow["port"])))
    if not flows:
        flows = [(str(facts.get("responder_ip") or ""), int(facts.get("port", 22)))]
    for source, port in flows:
        if source:
            try:
                ipaddress.ip_network(source, strict=False)
            except ValueError:
                raise UsageError(f"firewall fix: {source!r} is not an IP address or network") from None
        if not 0 < port < 65536:
            raise UsageError(f"firewall fix: {port} is not a TCP port")
    return flows


def _firewall(facts: Mapping[str, Any]) -> str:
    lines = ["# kit run-command --fix guest_firewall: let the blocked flows in, then persist the rules",
             "iptables-save > /root/iptables.before-kit-fix"]
    for source, port in _flows(facts):
        where = f"-s {source} " if source else ""
        lines.append(f"iptables -I INPUT {where}-p tcp --dport {port} -j ACCEPT")
    lines += ["# persist: an iptables rule that is not saved is gone at the next reboot or rules reload",
              "netfilter-persistent save || iptables-save > /etc/iptables/rules.v4",
              "iptables -S INPUT"]
    return "\n".join(lines) + "\n"


def _sshd(facts: Mapping[str, Any]) -> str:
    path = str(facts.get("sshd_config_file") or "/etc/ssh/sshd_config")
    option = str(facts.get("bad_option") or "")
    backup = str(facts.get("backup") or "")
    if not _PATH.fullmatch(path) or (backup and not _PATH.fullmatch(backup)):
        raise UsageError(f"sshd fix: {path!r} / {backup!r} are not plain absolute paths")
    lines = ["# kit run-command --fix service_failure:sshd: repair the line sshd -t rejects, then start ssh",
             f"cp {shlex.quote(path)} {shlex.quote(path + '.before-kit-fix')}"]
    if backup:
        lines.append(f"cp {shlex.quote(backup)} {shlex.quote(path)}")
    elif option:
        if not _OPTION.fullmatch(option):
            raise UsageError(f"sshd fix: {option!r} is not an sshd_config keyword")
        lines.append(f"sed -i 's/^{option}/# {option}/' {shlex.quote(path)}")
    else:
        raise UsageError("sshd fix: say which line sshd -t rejects (facts bad_option and sshd_config_file, or a "
                         "backup to restore); run kit run-command --diagnose to see it")
    lines += ["sshd -t", "systemctl reset-failed ssh", "mkdir -p /run/sshd", "systemctl restart ssh",
              "systemctl is-active ssh"]
    return "\n".join(lines) + "\n"


def _rdp(facts: Mapping[str, Any]) -> str:
    service = str(facts.get("service") or "TermService")
    if not _OPTION.fullmatch(service):
        raise UsageError(f"RDP fix: {service!r} is not a service name")
    return "\n".join([
        "# kit run-command --fix service_failure:rdp: Remote Desktop Services back to its default start type, started",
        f"Set-Service -Name {service} -StartupType Manual",
        f"Start-Service -Name {service}",
        f"Set-ItemProperty -Path '{_TERMINAL_SERVER}' -Name fDenyTSConnections -Value 0",
        "Write-Output 'If a Group Policy disabled the service, it comes back at the next policy refresh: fix the GPO "
        "too (gpresult /r /scope computer)'",
        f"Get-Service -Name {service} | Format-List Name,Status,StartType",
    ]) + "\n"
