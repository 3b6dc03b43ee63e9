"""Run Command scripts on the scripted guests: what the VM agent runs, as root (Linux) or SYSTEM (Windows).

A Linux script runs line by line through the console's interpreter (:func:`._commands.run_steps`)
on the guest's own state, as root, without echo or prompt, so a fix made by Run Command is judged
by the same check as a console fix. ``set -e``, ``exit N`` and ``sleep N`` are understood; the
exit code is the last command's. Output of a failing command goes to stderr (as the real tools
write their errors there), except for commands that report on stdout whatever their status
(``systemctl status``, ``grep``, ``findmnt --verify`` …).

A Windows script is read by a small PowerShell: ``Get-Service``, ``Set-Service``, ``Start-Service``,
``Get-ItemPropertyValue``, ``Set-ItemProperty``, ``netstat -ano | findstr``, ``netsh advfirewall
firewall show rule``, ``Write-Output``, ``Start-Sleep``, ``exit N``; ``sc.exe``, ``reg`` and ``net``
go to the guest's cmd interpreter.
"""

from __future__ import annotations

import asyncio
import re

from kit.lab.guest._commands import run_steps
from kit.lab.guest._linux import LinuxGuest
from kit.lab.guest._windows import WindowsGuest

__all__ = ["run_bash", "run_powershell"]

#: commands whose output stays on stdout when they exit non-zero
_REPORTS = re.compile(r"^(sudo\s+)?(grep|findmnt|systemctl\s+(status|is-active|is-enabled|--failed|list-units))\b")
_MAX_SLEEP = 3600.0
_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|\S+")
_START_TYPES = {"automatic": "auto", "manual": "demand", "disabled": "disabled", "automaticdelayedstart": "auto"}
_SHOWN_START = {"auto": "Automatic", "demand": "Manual", "disabled": "Disabled"}
#: values every Windows Server has that the scenario data leaves out (NLA required, the default)
_REGISTRY_DEFAULTS = {"hklm\\system\\currentcontrolset\\control\\terminal server\\winstations\\rdp-tcp":
                      {"UserAuthentication": "0x1"}}
_RDP_RULES = ("Remote Desktop - User Mode (TCP-In)", "Remote Desktop - User Mode (UDP-In)")


def _sleep_seconds(words: list[str]) -> float:
    value = next((w for w in words[1:] if not w.startswith("-")), "0")
    try:
        return min(max(float(value.rstrip("s")), 0.0), _MAX_SLEEP)
    except ValueError:
        return 0.0


async def run_bash(shell: LinuxGuest, script: str) -> tuple[str, str, int]:
    """Run ``script`` as root; ``(stdout, stderr, exit code)``. The console's own state is left as it was."""
    saved = (shell.user, shell.mode, shell.cwd, shell.sudo_shell, shell.pending_user)
    shell.user, shell.mode, shell.cwd = "root", "shell", "/"
    stdout: list[str] = []
    stderr: list[str] = []
    status, errexit = 0, False
    try:
        for raw in script.splitlines():
            line = raw.strip()
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            if words[0] == "set":
                errexit = any(w.startswith("-") and "e" in w for w in words[1:]) or errexit
                continue
            if words[0] == "exit":
                status = int(words[1]) % 256 if len(words) > 1 and words[1].isdigit() else status
                break
            if words[0] == "sleep":
                await asyncio.sleep(_sleep_seconds(words))
                status = 0
                continue
            for command, text, code in run_steps(shell, line):
                (stderr if code and not _REPORTS.match(command) else stdout).append(text)
                status = code
            if shell.mode != "shell" or (errexit and status):
                break
    finally:
        if shell.mode != "rebooting":
            shell.user, shell.mode, shell.cwd, shell.sudo_shell, shell.pending_user = saved
    return "".join(stdout), "".join(stderr), status


async def run_powershell(shell: WindowsGuest, script: str) -> tuple[str, str, int]:
    """Run ``script`` as SYSTEM; ``(stdout, stderr, exit code)``."""
    stdout: list[str] = []
    stderr: list[str] = []
    status = 0
    for raw in script.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = [w[1:-1] if len(w) > 1 and w[0] == w[-1] and w[0] in "'\"" else w for w in _TOKEN.findall(line)]
        verb = words[0].lower()
        if verb == "exit":
            status = int(words[1]) if len(words) > 1 and words[1].lstrip("-").isdigit() else status
            break
        if verb == "start-sleep":
            await asyncio.sleep(_sleep_seconds(words))
            continue
        out, err = _powershell_line(shell, line, words)
        stdout.append(out)
        stderr.append(err)
        status = 1 if err else 0
        if shell.mode == "rebooting":
            break
    return "".join(stdout), "".join(stderr), status


def _option(words: list[str], name: str, position: int | None = None) -> str | None:
    """The value of ``-Name value`` (case-insensitive), else the ``position``-th bare argument."""
    lowered = [w.lower() for w in words]
    if f"-{name.lower()}" in lowered:
        index = lowered.index(f"-{name.lower()}")
        return words[index + 1] if index + 1 < len(words) else None
    if position is None:
        return None
    bare = [w for i, w in enumerate(words[1:], 1) if not w.startswith("-") and not words[i - 1].startswith("-")]
    return bare[position] if position < len(bare) else None


def _not_recognized(name: str) -> str:
    return (f"{name} : The term '{name}' is not recognized as the name of a cmdlet, function, script file, or "
            "operable program. Check the spelling of the name, or if a path was included, verify that the path is "
            "correct and try again.\n")


def _powershell_line(shell: WindowsGuest, line: str, words: list[str]) -> tuple[str, str]:
    """``(stdout, stderr)`` of one PowerShell line."""
    verb = words[0].lower().removesuffix(".exe")
    if verb in ("write-output", "write-host", "echo"):
        return " ".join(words[1:]) + "\n", ""
    if verb in ("sc", "reg", "net"):
        text = shell._cmd(" ".join(['"' + w + '"' if " " in w else w for w in [verb, *words[1:]]]))
        failed = "FAILED" in text or text.startswith(("ERROR", "System error", "The service name is invalid"))
        text = text if text.endswith("\n") else text + "\n"
        return ("", text) if failed else (text, "")
    if verb == "netstat":
        return _netstat(shell, line), ""
    if verb == "netsh":
        return _netsh(shell, words), ""
    if verb in ("get-service", "set-service", "start-service", "stop-service", "restart-service"):
        return _service_cmdlet(shell, verb, words, "format-list" in line.lower())
    if verb in ("get-itempropertyvalue", "set-itemproperty"):
        return _registry_cmdlet(shell, verb, words)
    if verb == "restart-computer":
        shell.mode = "rebooting"
        return "", ""
    return "", _not_recognized(words[0])


def _service_cmdlet(shell: WindowsGuest, verb: str, words: list[str], as_list: bool) -> tuple[str, str]:
    name = _option(words, "Name", 0) or ""
    service = shell.services.get(name.lower())
    cmdlet = words[0]
    if service is None:
        return "", (f"{cmdlet} : Cannot find any service with service name '{name}'.\n")
    real, display = service.get("name", name), service.get("display", name)
    if verb == "get-service":
        status = "Running" if service["state"] == "RUNNING" else "Stopped"
        start = _SHOWN_START.get(service["start"], "Manual")
        if as_list:
            return (f"\nName        : {real}\nDisplayName : {display}\nStatus      : {status}\n"
                    f"StartType   : {start}\n\n"), ""
        return f"\nStatus   Name               DisplayName\n------   ----               -----------\n" \
               f"{status:<8} {real:<18} {display}\n\n", ""
    if verb == "set-service":
        wanted = (_option(words, "StartupType") or "").lower()
        if wanted not in _START_TYPES:
            return "", (f"Set-Service : Cannot bind parameter 'StartupType'. Cannot convert value \"{wanted}\" to "
                        "type \"System.ServiceProcess.ServiceStartMode\".\n")
        service["start"] = _START_TYPES[wanted]
        return "", ""
    if verb == "stop-service":
        service["state"] = "STOPPED"
        return "", ""
    if service["start"] == "disabled":
        return "", (f"{cmdlet} : Service '{display} ({real})' cannot be started due to the following error: Cannot "
                    f"start service {real} on computer '.'.\n")
    service["state"] = "RUNNING"
    return "", ""


def _registry_key(path: str) -> str:
    key = path.replace("HKEY_LOCAL_MACHINE", "HKLM").replace("Registry::", "")
    return key.replace("HKLM:", "HKLM").lower().rstrip("\\")


def _registry_cmdlet(shell: WindowsGuest, verb: str, words: list[str]) -> tuple[str, str]:
    path = _option(words, "Path", 0) or ""
    name = _option(words, "Name", 1) or ""
    key = _registry_key(path)
    long_path = path.replace("HKLM:\\", "HKEY_LOCAL_MACHINE\\").replace("HKLM:", "HKEY_LOCAL_MACHINE")
    if verb == "set-itemproperty":
        value = _option(words, "Value", 2) or "0"
        try:
            data = f"0x{int(value, 0):x}"
        except ValueError:
            return "", f"Set-ItemProperty : Cannot convert value \"{value}\" to type \"System.Int32\".\n"
        shell.registry.setdefault(key, {})[name] = data
        return "", ""
    values = {**_REGISTRY_DEFAULTS.get(key, {}), **shell.registry[key]} if key in shell.registry else None
    if values is None:
        return "", f"Get-ItemPropertyValue : Cannot find path '{path}' because it does not exist.\n"
    found = next((v for k, v in values.items() if k.lower() == name.lower()), None)
    if found is None:
        return "", f"Get-ItemPropertyValue : Property {name} does not exist at path {long_path}.\n"
    return f"{int(found, 16)}\n", ""


def _netstat(shell: WindowsGuest, line: str) -> str:
    """``netstat -ano [| findstr PORT]``: what listens (3389 when TermService runs)."""
    rows = ["  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       944",
            "  TCP    0.0.0.0:445            0.0.0.0:0              LISTENING       4"]
    if shell.services.get("termservice", {}).get("state") == "RUNNING":
        rows += ["  TCP    0.0.0.0:3389           0.0.0.0:0              LISTENING       1156",
                 "  TCP    [::]:3389              [::]:0                 LISTENING       1156",
                 "  UDP    0.0.0.0:3389           *:*                                    1156"]
    match = re.search(r"findstr\s+(?:/\S+\s+)*\"?([^\s\"]+)", line, re.I)
    if match:
        return "".join(row + "\n" for row in rows if match.group(1) in row)
    head = "\nActive Connections\n\n  Proto  Local Address          Foreign Address        State           PID\n"
    return head + "".join(row + "\n" for row in rows)


def _netsh(shell: WindowsGuest, words: list[str]) -> str:
    """``netsh advfirewall firewall show rule name=…``: the RDP inbound rules (enabled unless the guest says not)."""
    wanted = next((w.split("=", 1)[1].strip("\"'") for w in words if w.lower().startswith("name=")), "")
    enabled = "Yes" if shell.definition.get("rdp_firewall_rule", True) else "No"
    rules = [r for r in _RDP_RULES if wanted.lower() in ("all", r.lower()) or wanted.lower() in r.lower()]
    if not rules:
        return "No rules match the specified criteria.\n"
    out = []
    for rule in rules:
        proto = "UDP" if "UDP" in rule else "TCP"
        out.append(f"\nRule Name:                            {rule}\n" + "-" * 70 + "\n"
                   f"Enabled:                              {enabled}\nDirection:                            In\n"
                   "Profiles:                             Domain,Private,Public\n"
                   "Grouping:                             Remote Desktop\nLocalIP:                              Any\n"
                   "RemoteIP:                             Any\n"
                   f"Protocol:                             {proto}\nLocalPort:                            3389\n"
                   "RemotePort:                           Any\nEdge traversal:                       No\n"
                   "Action:                               Allow\n")
    return "".join(out) + "Ok.\n\n"
