"""A scripted Linux guest on a serial line: getty login, emergency mode, a bash-like shell.

Only what a responder uses for the lab's failures is implemented, with the output real tools
give; everything else answers ``command not found`` like bash. State changes (iptables rules,
file edits, service restarts, reboots) are kept in memory and judged by :mod:`kit.lab.guest`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from kit.lab.guest._iptables import Firewall, IptablesError

__all__ = ["LinuxGuest"]

SSHD_KEYWORDS = {k.lower() for k in """Port ListenAddress AddressFamily HostKey PermitRootLogin PasswordAuthentication
PubkeyAuthentication KbdInteractiveAuthentication ChallengeResponseAuthentication UsePAM X11Forwarding PrintMotd
AcceptEnv Subsystem ClientAliveInterval ClientAliveCountMax AllowUsers AllowGroups DenyUsers DenyGroups MaxAuthTries
MaxSessions LoginGraceTime Include PermitEmptyPasswords AuthorizedKeysFile SyslogFacility LogLevel UseDNS Banner
TCPKeepAlive Compression AllowTcpForwarding GatewayPorts PermitTunnel Ciphers MACs KexAlgorithms Match
StrictModes HostbasedAuthentication IgnoreRhosts PrintLastLog PidFile ChrootDirectory ForceCommand
StreamLocalBindUnlink StreamLocalBindMask AllowAgentForwarding AllowStreamLocalForwarding PermitUserEnvironment
PermitTTY""".split()}


@dataclass
class _Service:
    unit: str
    description: str
    active: bool
    enabled: bool = True
    since: str = "Mon 2026-11-23 02:28:02 UTC; 1 day 20h ago"
    pid: int = 812


@dataclass
class LinuxGuest:
    """The state and the line discipline of one Linux VM's ttyS0."""

    definition: dict[str, Any]
    hostname: str
    username: str
    password: str
    files: dict[str, str] = field(default_factory=dict)
    firewall: Firewall = field(default_factory=Firewall)
    mode: str = "login"          # login | password | emergency | shell | sudo_password
    user: str = ""
    cwd: str = "~"
    booted_emergency: bool = False
    reboots: int = 0
    _line: str = ""
    _pending_user: str = ""
    _failed_logins: int = 0
    services: dict[str, _Service] = field(default_factory=dict)
    mounted: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------ set-up
    @classmethod
    def create(cls, definition: dict[str, Any], hostname: str, username: str, password: str) -> LinuxGuest:
        guest = cls(definition, hostname, username, password)
        guest.files = {path: str(text) for path, text in definition.get("files", {}).items()}
        guest.boot()
        return guest

    def boot(self) -> None:
        """(Re)start: load firewall rules, mount fstab, start services, decide the console state."""
        rules = self.files.get("/etc/iptables/rules.v4")
        self.firewall = Firewall.from_save(rules) if rules is not None else Firewall()
        failing = self.fstab_failures()
        self.mounted = {m for m, _ in self.fstab_entries() if m not in {f for f, _ in failing}}
        self.booted_emergency = any(not nofail for _, nofail in failing)
        self.services = {
            "ssh": _Service("ssh.service", "OpenBSD Secure Shell server", active=not self.sshd_errors()
                            and not self.booted_emergency),
        }
        self.mode = "emergency" if self.booted_emergency else "login"
        self.user = ""
        self.cwd = "~"
        self._line = ""

    # ------------------------------------------------------------------ facts the checks use
    def fstab_entries(self) -> list[tuple[str, str]]:
        """(mount point, device) of every active fstab line."""
        out = []
        for line in self.files.get("/etc/fstab", "").splitlines():
            parts = line.split()
            if len(parts) >= 2 and not parts[0].startswith("#"):
                out.append((parts[1], parts[0]))
        return out

    def fstab_failures(self) -> list[tuple[str, bool]]:
        """(mount point, has nofail) of fstab lines whose device does not exist."""
        devices = set(self.definition.get("devices", []))
        out = []
        for line in self.files.get("/etc/fstab", "").splitlines():
            parts = line.split()
            if len(parts) < 2 or parts[0].startswith("#"):
                continue
            device = parts[0]
            if device in devices or device in ("tmpfs", "proc", "none") or parts[1] == "none":
                continue
            options = parts[3] if len(parts) > 3 else "defaults"
            out.append((parts[1], "nofail" in options.split(",") or "noauto" in options.split(",")))
        return out

    def root_in_fstab(self) -> bool:
        return any(m == "/" for m, _ in self.fstab_entries())

    def sshd_config_files(self) -> list[str]:
        """The main sshd config and what its ``Include`` lines pull in, in the order sshd reads them."""
        import fnmatch

        main = "/etc/ssh/sshd_config"
        out = [main]
        for line in self.files.get(main, "").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].lower() == "include":
                for pattern in parts[1:]:
                    out += sorted(p for p in self.files if fnmatch.fnmatch(p, pattern))
        return out

    def sshd_errors(self) -> list[str]:
        """What ``sshd -t`` prints for the current configuration (empty when valid)."""
        main = "/etc/ssh/sshd_config"
        if main not in self.files:
            return [f"{main}: No such file or directory"]
        for path in self.sshd_config_files():
            errors = []
            for number, line in enumerate(self.files.get(path, "").splitlines(), 1):
                parts = line.strip().split(None, 1)
                if not parts or parts[0].startswith("#"):
                    continue
                key = parts[0].lower()
                value = parts[1].strip() if len(parts) > 1 else ""
                if key not in SSHD_KEYWORDS:
                    errors.append(f"{path} line {number}: Bad configuration option: {parts[0]}")
                elif key == "port" and not value.isdigit():
                    errors.append(f"{path} line {number}: Badly formatted port number.")
                elif key == "permitrootlogin" and value not in (
                        "yes", "no", "prohibit-password", "without-password", "forced-commands-only"):
                    errors.append(f'{path} line {number}: unsupported option "{value}".')
            if errors:
                bad = sum("Bad configuration" in e for e in errors)
                if bad:
                    errors.append(f"{path}: terminating, {bad} bad configuration options")
                return errors
        return []

    def sshd_port(self) -> int:
        for line in self.files.get("/etc/ssh/sshd_config", "").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0].lower() == "port" and parts[1].isdigit():
                return int(parts[1])
        return 22

    # ------------------------------------------------------------------ console
    def os_release(self) -> str:
        return str(self.definition.get("issue", "Ubuntu 22.04.4 LTS"))

    def kernel(self) -> str:
        return str(self.definition.get("kernel", "6.8.0-1017-azure"))

    def clock(self) -> str:
        return str(self.definition.get("clock", "Nov 24 22:14:05"))

    def prompt(self) -> str:
        if self.mode == "login":
            return f"{self.hostname} login: "
        if self.mode == "password":
            return "Password: "
        if self.mode == "emergency":
            return ("You are in emergency mode. After logging in, type \"journalctl -xb\" to view\r\n"
                    "system logs, \"systemctl reboot\" to reboot, \"systemctl default\" or \"exit\"\r\n"
                    "to boot into default mode.\r\nGive root password for maintenance\r\n"
                    "(or press Control-D to continue): ")
        sigil = "#" if self.user == "root" else "$"
        return f"{self.user}@{self.hostname}:{self.cwd}{sigil} "

    def screen(self) -> str:
        """What a fresh console connection shows."""
        if self.mode == "login":
            return f"\r\n{self.os_release()} {self.hostname} ttyS0\r\n\r\n{self.prompt()}"
        return "\r\n" + self.prompt()

    def feed(self, data: str) -> str:
        """Keystrokes in, what the serial line prints back out."""
        out: list[str] = []
        secret = self.mode in ("password", "emergency")
        i = 0
        while i < len(data):
            ch = data[i]
            i += 1
            if ch in "\r\n":
                if ch == "\n" and i >= 2 and data[i - 2] == "\r":
                    continue
                line, self._line = self._line, ""
                out.append("\r\n")
                out.append(self._enter(line))
                secret = self.mode in ("password", "emergency")
            elif ch in "\x7f\x08":
                if self._line:
                    self._line = self._line[:-1]
                    if not secret:
                        out.append("\x08 \x08")
            elif ch == "\x03":
                self._line = ""
                out.append("^C\r\n" + (self.prompt() if self.mode != "login" else f"\r\n{self.prompt()}"))
            elif ch == "\x04":
                if self.mode == "emergency" and not self._line:
                    out.append("\r\n" + self.prompt())
                elif self.mode == "shell" and not self._line:
                    out.append(self._logout())
            elif ch == "\x1b":
                match = re.match(r"\[[0-9;]*[A-Za-z~]", data[i:])
                i += match.end() if match else 0
            elif ch >= " " or ch == "\t":
                self._line += ch
                if not secret:
                    out.append(ch)
        return "".join(out)

    def _enter(self, line: str) -> str:
        if self.mode == "login":
            if not line.strip():
                return self.prompt()
            self._pending_user = line.strip()
            self.mode = "password"
            return self.prompt()
        if self.mode == "password":
            if self._pending_user == self.username and line == self.password:
                self.mode, self.user, self.cwd = "shell", self.username, "~"
                return (f"Welcome to {self.os_release()} (GNU/Linux {self.kernel()} x86_64)\r\n\r\n"
                        " * Documentation:  https://help.ubuntu.com\r\n * Management:     https://landscape.canonical.com\r\n"
                        " * Support:        https://ubuntu.com/pro\r\n\r\n" + self.prompt())
            self.mode = "login"
            return "\r\nLogin incorrect\r\n" + self.prompt()
        if self.mode == "emergency":
            if line == self.password:
                self.mode, self.user, self.cwd = "shell", "root", "~"
                return self.prompt()
            return "Login incorrect\r\n\r\nGive root password for maintenance\r\n(or press Control-D to continue): "
        output = self._shell(line)
        if self.mode != "shell":
            return output
        return output + self.prompt()

    def _logout(self) -> str:
        if self.user == "root" and self.booted_emergency:
            self.mode = "emergency"
            return "logout\r\n" + self.prompt()
        if self.user == "root" and self._pending_user and self._pending_user != "root" and self.definition.get("_sudo_shell"):
            self.definition["_sudo_shell"] = False
            self.user = self._pending_user
            return "logout\r\n" + self.prompt()
        self.mode, self.user = "login", ""
        return f"logout\r\n\r\n{self.os_release()} {self.hostname} ttyS0\r\n\r\n{self.prompt()}"

    # ------------------------------------------------------------------ the shell
    def _shell(self, line: str) -> str:
        from kit.lab.guest._commands import run_line

        text = run_line(self, line)
        return text.replace("\r\n", "\n").replace("\n", "\r\n")

    def iptables(self, args: list[str]) -> str:
        try:
            return self.firewall.command(args)
        except IptablesError as error:
            raise _Fail(str(error), 2 if "Bad" in str(error) or "unknown" in str(error) else 1) from None


class _Fail(Exception):
    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def split(line: str) -> list[str]:
    """``shlex.split`` that reports unbalanced quotes like bash."""
    return shlex.split(line, posix=True)
