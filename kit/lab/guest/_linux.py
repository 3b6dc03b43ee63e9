"""A scripted Linux guest on a serial line: getty login, emergency mode, a bash-like shell.

Only what a responder uses for the lab's failures is implemented, with the output real tools
give; everything else answers ``command not found`` like bash. State changes (iptables rules,
file edits, service restarts, reboots) are kept in memory and judged by :mod:`kit.lab.guest`.
The commands themselves are :mod:`._commands`; the line editing is :mod:`._keys`.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from kit.lab.guest._commands import run_line
from kit.lab.guest._iptables import Firewall
from kit.lab.guest._keys import feed_keys
from kit.lab.guest._shell import Service

__all__ = ["EMERGENCY_PROMPT", "LinuxGuest"]

_MAINTENANCE = "Give root password for maintenance\r\n(or press Control-D to continue): "
#: What systemd's emergency.service prints, and prints again after a wrong password.
EMERGENCY_PROMPT = ("You are in emergency mode. After logging in, type \"journalctl -xb\" to view\r\n"
                    "system logs, \"systemctl reboot\" to reboot, \"systemctl default\" or \"exit\"\r\n"
                    "to boot into default mode.\r\n" + _MAINTENANCE)
_CSI = re.compile(r"\[[0-9;]*[A-Za-z~]")
#: The sshd_config keywords the lab's sshd knows (``sshd -t`` rejects any other).
_SSHD_KEYWORDS = {keyword.lower() for keyword in (
    "Port", "ListenAddress", "AddressFamily", "HostKey", "PermitRootLogin", "PasswordAuthentication",
    "PubkeyAuthentication", "KbdInteractiveAuthentication", "ChallengeResponseAuthentication", "UsePAM",
    "X11Forwarding", "PrintMotd", "AcceptEnv", "Subsystem", "ClientAliveInterval", "ClientAliveCountMax",
    "AllowUsers", "AllowGroups", "DenyUsers", "DenyGroups", "MaxAuthTries", "MaxSessions", "LoginGraceTime",
    "Include", "PermitEmptyPasswords", "AuthorizedKeysFile", "SyslogFacility", "LogLevel", "UseDNS", "Banner",
    "TCPKeepAlive", "Compression", "AllowTcpForwarding", "GatewayPorts", "PermitTunnel", "Ciphers", "MACs",
    "KexAlgorithms", "Match", "StrictModes", "HostbasedAuthentication", "IgnoreRhosts", "PrintLastLog", "PidFile",
    "ChrootDirectory", "ForceCommand", "StreamLocalBindUnlink", "StreamLocalBindMask", "AllowAgentForwarding",
    "AllowStreamLocalForwarding", "PermitUserEnvironment", "PermitTTY",
)}


@dataclass
class LinuxGuest:
    """The state and the line discipline of one Linux VM's ttyS0.

    Parameters
    ----------
    definition
        The guest data (``kit/lab/guest/scenarios/<scenario>.yaml`` with the scenario's facts).
    hostname
        The VM name, as the prompts print it.
    username, password
        The credentials that log in (the password is also root's, for emergency mode).

    Attributes
    ----------
    files
        Path → content of every file the guest has.
    firewall
        The running iptables filter table.
    mode
        ``login``, ``password``, ``emergency``, ``shell`` or ``rebooting``.
    user
        Who is logged in (``root`` inside ``sudo -i`` or emergency mode; ``""`` at ``login:``).
    cwd
        The shell's working directory as the prompt shows it.
    booted_emergency
        Whether the last boot stopped in emergency mode (an fstab entry without its disk).
    line
        What has been typed since the last ENTER.
    pending_user
        The name typed at ``login:`` (``sudo -i`` also keeps the user it came from here).
    sudo_shell
        Whether the root shell is a ``sudo -i`` one, so ``exit`` returns to :attr:`pending_user`.
    services
        The systemd services, by short name (``ssh``).
    mounted
        The mount points mounted now.
    """

    definition: dict[str, Any]
    hostname: str
    username: str
    password: str
    files: dict[str, str] = field(default_factory=dict)
    firewall: Firewall = field(default_factory=Firewall)
    mode: str = "login"
    user: str = ""
    cwd: str = "~"
    booted_emergency: bool = False
    line: str = ""
    pending_user: str = ""
    sudo_shell: bool = False
    services: dict[str, Service] = field(default_factory=dict)
    mounted: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------ set-up
    @classmethod
    def create(cls, definition: dict[str, Any], hostname: str, username: str, password: str) -> LinuxGuest:
        """The guest with the definition's files, booted."""
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
            "ssh": Service("ssh.service", "OpenBSD Secure Shell server", active=not self.sshd_errors()
                            and not self.booted_emergency),
        }
        self.mode = "emergency" if self.booted_emergency else "login"
        self.user = ""
        self.cwd = "~"
        self.line = ""

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
        """Whether an active fstab line still mounts ``/``."""
        return any(m == "/" for m, _ in self.fstab_entries())

    def sshd_config_files(self) -> list[str]:
        """The main sshd config and what its ``Include`` lines pull in, in the order sshd reads them."""
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
                if key not in _SSHD_KEYWORDS:
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
        """The port sshd listens on (``Port`` in ``sshd_config``, else 22)."""
        for line in self.files.get("/etc/ssh/sshd_config", "").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0].lower() == "port" and parts[1].isdigit():
                return int(parts[1])
        return 22

    # ------------------------------------------------------------------ console
    def os_release(self) -> str:
        """The distribution's name as ``/etc/issue`` prints it."""
        return str(self.definition.get("issue", "Ubuntu 22.04.4 LTS"))

    def kernel(self) -> str:
        """The running kernel release."""
        return str(self.definition.get("kernel", "6.8.0-1017-azure"))

    def clock(self) -> str:
        """The guest's clock as syslog prints it."""
        return str(self.definition.get("clock", "Nov 24 22:14:05"))

    def prompt(self) -> str:
        """The prompt of the current mode (``login:``, ``Password:``, emergency mode's, the shell's)."""
        if self.mode == "login":
            return f"{self.hostname} login: "
        if self.mode == "password":
            return "Password: "
        if self.mode == "emergency":
            return EMERGENCY_PROMPT
        sigil = "#" if self.user == "root" else "$"
        return f"{self.user}@{self.hostname}:{self.cwd}{sigil} "

    def login_screen(self) -> str:
        """What getty prints: the issue line, then the ``login:`` prompt."""
        return f"\r\n{self.os_release()} {self.hostname} ttyS0\r\n\r\n{self.hostname} login: "

    def screen(self) -> str:
        """What a fresh console connection shows."""
        if self.mode == "login":
            return self.login_screen()
        return "\r\n" + self.prompt()

    def feed(self, data: str) -> str:
        """Keystrokes in, what the serial line prints back out."""
        return feed_keys(self, data)

    def echoes(self) -> bool:
        """Whether typed characters are echoed: not at a password prompt."""
        return self.mode not in ("password", "emergency")

    def control(self, data: str, index: int) -> tuple[str, int] | None:
        """Ctrl-C (drop the line), Ctrl-D (continue or log out on an empty line), escape sequences (ignored)."""
        key = data[index]
        if key == "\x03":
            self.line = ""
            return "^C\r\n" + (self.prompt() if self.mode != "login" else f"\r\n{self.prompt()}"), index + 1
        if key == "\x04":
            if self.line:
                return "", index + 1
            if self.mode == "emergency":
                return "\r\n" + self.prompt(), index + 1
            return (self.logout() if self.mode == "shell" else ""), index + 1
        if key == "\x1b":
            match = _CSI.match(data, index + 1)
            return "", match.end() if match else index + 1
        return None

    def enter(self, line: str) -> str:
        """Act on a finished line: a login name, a password, or a shell command line."""
        if self.mode == "login":
            if not line.strip():
                return self.prompt()
            self.pending_user = line.strip()
            self.mode = "password"
            return self.prompt()
        if self.mode == "password":
            if self.pending_user == self.username and line == self.password:
                self.mode, self.user, self.cwd = "shell", self.username, "~"
                return (f"Welcome to {self.os_release()} (GNU/Linux {self.kernel()} x86_64)\r\n\r\n"
                        " * Documentation:  https://help.ubuntu.com\r\n"
                        " * Management:     https://landscape.canonical.com\r\n"
                        " * Support:        https://ubuntu.com/pro\r\n\r\n" + self.prompt())
            self.mode = "login"
            return "\r\nLogin incorrect\r\n" + self.prompt()
        if self.mode == "emergency":
            if line == self.password:
                self.mode, self.user, self.cwd = "shell", "root", "~"
                return self.prompt()
            return "Login incorrect\r\n\r\n" + _MAINTENANCE
        output = run_line(self, line).replace("\r\n", "\n").replace("\n", "\r\n")
        if self.mode != "shell":
            return output
        return output + self.prompt()

    def logout(self) -> str:
        """Leave the current shell: back to emergency mode, to the user ``sudo -i`` came from, or to ``login:``."""
        if self.user == "root" and self.booted_emergency:
            self.mode = "emergency"
            return "logout\r\n" + self.prompt()
        if self.user == "root" and self.pending_user and self.pending_user != "root" and self.sudo_shell:
            self.sudo_shell = False
            self.user = self.pending_user
            return "logout\r\n" + self.prompt()
        self.mode, self.user = "login", ""
        return "logout\r\n" + self.login_screen()
