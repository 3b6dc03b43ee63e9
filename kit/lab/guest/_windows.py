"""A scripted Windows guest on COM1: the Special Administration Console (SAC) and a cmd channel.

The line editing is :mod:`._keys`, shared with the Linux guest.
"""

from __future__ import annotations

import shlex
import uuid
from dataclasses import dataclass, field
from typing import Any

from kit.lab.guest._keys import feed_keys

__all__ = ["WindowsGuest"]

_STATES = {"RUNNING": 4, "STOPPED": 1}
_START = {"auto": ("2", "AUTO_START"), "demand": ("3", "DEMAND_START"), "disabled": ("4", "DISABLED")}
#: what ``sc config … start=`` accepts → the start type it stores
_START_VALUES = {"auto": "auto", "demand": "demand", "disabled": "disabled", "delayed-auto": "auto"}
_SAC_BANNER = ("\r\nComputer is booting, SAC started and initialized.\r\n\r\n"
               "Use the \"ch -?\" command for information about using channels.\r\n"
               "Use the \"?\" command for general help.\r\n\r\n\r\nSAC>")


@dataclass
class WindowsGuest:
    """SAC, one cmd channel, and the services/registry values the RDP scenarios need.

    Parameters
    ----------
    definition
        The guest data (``kit/lab/guest/scenarios/<scenario>.yaml`` with the scenario's facts).
    hostname
        The VM name.
    username, password
        The credentials the cmd channel accepts (the user name in any case).

    Attributes
    ----------
    services
        Lower-cased service name → ``start`` (``auto``/``demand``/``disabled``), ``state``, ``display`` ….
    registry
        Lower-cased key → value name → ``0x…`` data.
    mode
        ``sac``, ``channel_info``, ``username``, ``domain``, ``password``, ``cmd`` or ``rebooting``.
    line
        What has been typed since the last ENTER.
    pending_user
        The name typed at ``Username:``.
    user
        Who is logged in to the cmd channel (``""`` before the login).
    """

    definition: dict[str, Any]
    hostname: str
    username: str
    password: str
    services: dict[str, dict[str, str]] = field(default_factory=dict)
    registry: dict[str, dict[str, str]] = field(default_factory=dict)
    mode: str = "sac"
    line: str = ""
    pending_user: str = ""
    user: str = ""
    _channel: bool = False

    @classmethod
    def create(cls, definition: dict[str, Any], hostname: str, username: str, password: str) -> WindowsGuest:
        """The guest with the definition's services and registry, booted."""
        guest = cls(definition, hostname, username, password)
        guest.services = {name.lower(): dict(body) for name, body in definition.get("services", {}).items()}
        guest.registry = {key.lower(): dict(values) for key, values in definition.get("registry", {}).items()}
        guest.boot()
        return guest

    def boot(self) -> None:
        """Services set to start automatically run again; disabled or demand ones stay stopped."""
        for service in self.services.values():
            start = service.get("start")
            starts = start == "auto" or (start == "demand" and service.get("trigger") == "yes")
            service["state"] = "RUNNING" if starts else "STOPPED"
        self.mode = "sac"
        self._channel = False
        self.line = ""

    def boots_on_nvme(self) -> bool:
        """Whether the NVMe driver (stornvme) starts at boot: Start 0, as a service or a registry value (a guest that
        says nothing is an image from before NVMe support)."""
        service = self.services.get("stornvme", {}).get("start")
        value = self.registry.get("hklm\\system\\currentcontrolset\\services\\stornvme", {}).get("Start")
        return service == "boot" or value == "0x0"

    def network_up(self) -> bool:
        """Whether the NIC has its address: the DHCP Client runs (a guest that defines none is up)."""
        return self.services.get("dhcp", {}).get("state", "RUNNING") == "RUNNING"

    def prompt(self) -> str:
        """The prompt of the current mode (``SAC>``, the login fields, cmd's)."""
        return {"sac": "SAC>", "username": "Username: ", "domain": "Domain  : ", "password": "Password: ",
                "cmd": "C:\\Windows\\system32>"}.get(self.mode, "")

    def screen(self) -> str:
        """What a fresh console connection shows."""
        return "\r\n" + self.prompt() if self.mode != "sac" else "\r\nSAC>"

    def banner(self) -> str:
        """What SAC prints when Windows boots."""
        return _SAC_BANNER

    def feed(self, data: str) -> str:
        """Keystrokes in, what COM1 prints back out."""
        return feed_keys(self, data)

    def echoes(self) -> bool:
        """Whether typed characters are echoed: not at ``Password:``."""
        return self.mode != "password"

    def control(self, data: str, index: int) -> tuple[str, int] | None:
        """SAC's channel keys: after ``ch -si`` any key shows the channel, ``<esc><tab>[0]`` go back; TAB is dropped."""
        if self.mode == "channel_info":
            if data[index:index + 2] == "\x1b\t":
                self.mode = "sac"
                return "\r\nSAC>", index + 2
            self.mode = "cmd" if self.user else "username"
            return ("\x1b[2J\x1b[H" + ("Please enter login credentials.\r\n" if not self.user else "")
                    + self.prompt()), index + 1
        if data[index] == "\x1b" and data[index + 1:index + 2] == "\t":
            after = index + 2
            if data[after:after + 1] == "0":
                self.mode = "sac"
                return "\x1b[2J\x1b[H\r\nSAC>", after + 1
            return "", after
        if data[index] == "\t":
            return "", index + 1
        return None

    def enter(self, line: str) -> str:
        """Act on a finished line: a SAC command, a login field, or a cmd command line."""
        if self.mode == "sac":
            return self._sac(line.strip())
        if self.mode == "username":
            self.pending_user = line.strip()
            self.mode = "domain"
            return self.prompt()
        if self.mode == "domain":
            self.mode = "password"
            return self.prompt()
        if self.mode == "password":
            if self.pending_user.lower() == self.username.lower() and line == self.password:
                self.user = self.pending_user
                self.mode = "cmd"
                return ("Attempting to authenticate...\r\n\r\nMicrosoft Windows [Version 10.0.20348.2849]\r\n"
                        "(c) Microsoft Corporation. All rights reserved.\r\n\r\n" + self.prompt())
            self.mode = "username"
            return ("Attempting to authenticate...\r\n"
                    "Unable to authenticate: The user name or password is incorrect.\r\n\r\n"
                    "Please enter login credentials.\r\n" + self.prompt())
        if self.mode == "cmd":
            text = self._cmd(line.strip())
            if self.mode == "rebooting":
                return text.replace("\n", "\r\n")
            return text.replace("\n", "\r\n") + ("\r\n" if text else "") + self.prompt()
        return ""

    # ------------------------------------------------------------------ SAC
    def _sac(self, line: str) -> str:
        words = line.split()
        if not words:
            return "SAC>"
        verb = words[0].lower()
        if verb in ("?", "help"):
            return ("ch                   Channel management commands.  Use ch -? for more help.\r\n"
                    "cmd                  Create a Command Prompt channel.\r\n"
                    "d                    Dump the current kernel log.\r\n"
                    "i                    List all IP network numbers and their IP addresses.\r\n"
                    "restart              Restart the system immediately.\r\n"
                    "shutdown             Shutdown the system immediately.\r\n\r\nSAC>")
        if verb == "cmd":
            self._channel = True
            return ("The Command Prompt session was successfully launched.\r\nSAC>\r\n"
                    "EVENT:   A new channel has been created.  Use \"ch -?\" for channel help.\r\n"
                    "        Channel: Cmd0001\r\nSAC>")
        if verb == "ch":
            if not self._channel:
                return ("Channel List\r\n\r\n(Use \"ch -?\" for information on using channels)\r\n\r\n"
                        "# Status  Channel Name\r\n0 (AV)    SAC\r\n\r\nSAC>")
            if len(words) >= 3 and words[1].lower() in ("-si", "-sn"):
                if words[2] not in ("1", "Cmd0001"):
                    return "Error: There is no channel present at the specified index.\r\nSAC>"
                self.mode = "channel_info"
                return ("Name:                  Cmd0001\r\nDescription:           Command\r\n"
                        "Type:                  VT-UTF8\r\n"
                        f"Channel GUID:          {{{uuid.uuid5(uuid.NAMESPACE_DNS, self.hostname)}}}\r\n"
                        "Application Type GUID: {63d02271-8aa4-11d5-bccf-00b0d014a2d0}\r\n\r\n"
                        "Press <esc><tab> for next channel.\r\nPress <esc><tab>0 to return to the SAC channel.\r\n"
                        "Use any other key to view this channel.\r\n")
            return ("Channel List\r\n\r\n(Use \"ch -?\" for information on using channels)\r\n\r\n"
                    "# Status  Channel Name\r\n0 (AV)    SAC\r\n1 (AV)    Cmd0001\r\n\r\nSAC>")
        if verb == "i":
            return "Net: 10, Ip=10.0.0.4  Subnet=255.255.255.0  Gateway=10.0.0.1\r\nSAC>"
        if verb == "restart":
            self.mode = "rebooting"
            return ""
        return "Unrecognized command.  Try '?' for help.\r\nSAC>"

    # ------------------------------------------------------------------ cmd.exe
    def _cmd(self, line: str) -> str:
        if not line:
            return ""
        try:
            words = shlex.split(line.replace("\\", "\\\\"), posix=True)
        except ValueError:
            words = line.split()
        verb = words[0].lower()
        args = words[1:]
        if verb == "sc" and args:
            return self._sc(args[0].lower(), args[1:])
        if verb == "net" and len(args) >= 2 and args[0].lower() in ("start", "stop"):
            return self._net(args[0].lower(), args[1])
        if verb == "reg" and args:
            return self._reg(args[0].lower(), args[1:])
        if verb == "shutdown" and any(a.lower() in ("/r", "-r") for a in args):
            self.mode = "rebooting"
            return ""
        if verb == "hostname":
            return self.hostname
        if verb == "whoami":
            return f"{self.hostname.lower()}\\{self.user.lower()}"
        if verb == "exit":
            self.mode = "sac"
            self.user = ""
            return ""
        if verb == "ipconfig":
            return ("\nWindows IP Configuration\n\n\nEthernet adapter Ethernet:\n\n"
                    "   Connection-specific DNS Suffix  . : reddog.microsoft.com\n"
                    "   IPv4 Address. . . . . . . . . . . : 10.0.0.4\n"
                    "   Subnet Mask . . . . . . . . . . . : 255.255.255.0\n"
                    "   Default Gateway . . . . . . . . . : 10.0.0.1\n")
        return f"'{words[0]}' is not recognized as an internal or external command,\noperable program or batch file."

    def _service(self, name: str) -> dict[str, str] | None:
        return self.services.get(name.lower())

    def _sc(self, verb: str, args: list[str]) -> str:
        if not args:
            return ("DESCRIPTION:\n        SC is a command line program used for communicating with the\n"
                    "        Service Control Manager and services.")
        name = args[0]
        service = self._service(name)
        if service is None:
            call = "OpenService" if verb != "query" else "EnumQueryServicesStatus:OpenService"
            return f"[SC] {call} FAILED 1060:\n\nThe specified service does not exist as an installed service.\n"
        real = service.get("name", name)
        if verb in ("query", "queryex"):
            state = service["state"]
            running = state == "RUNNING"
            flags = ("STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN" if running
                     else "NOT_STOPPABLE, NOT_PAUSABLE, IGNORES_SHUTDOWN")
            exit_code = 0 if running else 1077
            return (f"\nSERVICE_NAME: {real}\n        TYPE               : 20  WIN32_SHARE_PROCESS\n"
                    f"        STATE              : {_STATES[state]}  {state}\n"
                    f"                                ({flags})\n"
                    f"        WIN32_EXIT_CODE    : {exit_code}  (0x{exit_code:x})\n"
                    "        SERVICE_EXIT_CODE  : 0  (0x0)\n        CHECKPOINT         : 0x0\n"
                    "        WAIT_HINT          : 0x0\n")
        if verb == "qc":
            code, text = _START[service["start"]]
            return (f"[SC] QueryServiceConfig SUCCESS\n\nSERVICE_NAME: {real}\n"
                    "        TYPE               : 20  WIN32_SHARE_PROCESS\n"
                    f"        START_TYPE         : {code}   {text}\n        ERROR_CONTROL      : 1   NORMAL\n"
                    "        BINARY_PATH_NAME   : C:\\Windows\\System32\\svchost.exe -k NetworkService\n"
                    "        LOAD_ORDER_GROUP   :\n        TAG                : 0\n"
                    f"        DISPLAY_NAME       : {service.get('display', real)}\n"
                    "        DEPENDENCIES       : RPCSS\n        SERVICE_START_NAME : NT Authority\\NetworkService\n")
        if verb == "config":
            joined = " ".join(args[1:]).lower().replace("start=", "start= ").split()
            if "start=" in joined and joined.index("start=") + 1 < len(joined):
                start = _START_VALUES.get(joined[joined.index("start=") + 1])
                if start is None:
                    return "[SC] ChangeServiceConfig FAILED 87:\n\nThe parameter is incorrect.\n"
                service["start"] = start
                return "[SC] ChangeServiceConfig SUCCESS"
            return "[SC] ChangeServiceConfig SUCCESS"
        if verb == "start":
            return self._net("start", name, sc=True)
        if verb == "stop":
            return self._net("stop", name, sc=True)
        return f"[SC] {verb}: unsupported in the lab guest"

    def _net(self, verb: str, name: str, sc: bool = False) -> str:
        service = self._service(name)
        if service is None:
            return "The service name is invalid.\n\nMore help is available by typing NET HELPMSG 2185.\n"
        display = service.get("display", name)
        if verb == "start":
            if service["state"] == "RUNNING":
                return ("The requested service has already been started.\n\n"
                        "More help is available by typing NET HELPMSG 2182.\n")
            if service["start"] == "disabled":
                return ("[SC] StartService FAILED 1058:\n\n" if sc else "System error 1058 has occurred.\n\n") + (
                    "The service cannot be started, either because it is disabled or because it has no enabled "
                    "devices associated with it.\n")
            service["state"] = "RUNNING"
            return f"The {display} service is starting.\nThe {display} service was started successfully.\n"
        service["state"] = "STOPPED"
        return f"The {display} service is stopping.\nThe {display} service was stopped successfully.\n"

    def _reg(self, verb: str, args: list[str]) -> str:
        if not args:
            return "ERROR: Invalid syntax.\nType \"REG /?\" for usage."
        key = args[0].replace("HKEY_LOCAL_MACHINE", "HKLM").lower().rstrip("\\")
        values = self.registry.get(key)
        options = [a.lower() for a in args[1:]]
        name = args[1 + options.index("/v") + 1] if "/v" in options else None
        if verb == "query":
            if values is None:
                return "ERROR: The system was unable to find the specified registry key or value."
            shown = {k: v for k, v in values.items() if name is None or k.lower() == name.lower()}
            if not shown:
                return "ERROR: The system was unable to find the specified registry key or value."
            body = "\n".join(f"    {k}    REG_DWORD    {v}" for k, v in shown.items())
            return f"\n{args[0]}\n{body}\n"
        if verb == "add" and name is not None:
            data = args[1 + options.index("/d") + 1] if "/d" in options else "0"
            value = f"0x{int(data, 0):x}"
            self.registry.setdefault(key, {})[name] = value
            return "The operation completed successfully."
        return "ERROR: Invalid syntax.\nType \"REG /?\" for usage."
