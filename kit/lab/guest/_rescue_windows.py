"""The Windows repair VM's PowerShell: Run Command scripts against a copy of a broken Windows VM's OS disk.

The repair VM runs Windows Server with its own system drive ``C:``. Its data disks are copies of
Windows OS disks (a scenario guest's ``services`` and ``registry``) and arrive **offline**, as Windows
keeps a disk whose signature collides with its own (the usual case for a copy of a disk from the same
image); ``Set-Disk -IsOffline $false`` brings them online with letters from ``E:`` (the System
Reserved partition, then the Windows volume). Its SYSTEM hive, ``reg load``-ed from
``<W>:\\Windows\\System32\\config\\SYSTEM``, shows the guest's state as an offline hive does:
``ControlSet001`` (the only control set of Windows Server 2016 and later) with ``Services\\<name>``
(``Start`` 2/3/4 is the service's start type) and ``Control\\…`` (the guest's
``CurrentControlSet\\Control`` values); ``reg add`` edits the disk's guest data.

What it understands: ``Get-Disk | Where-Object IsOffline | Set-Disk -IsOffline $false`` (and
``IsReadOnly``), ``$V = Get-Volume | Where-Object { … (Test-Path "$($_.DriveLetter):\\PATH") } |
Select-Object -First 1 -ExpandProperty DriveLetter`` (the first online data volume holding PATH),
``reg load|add|query|unload``, ``Test-Path`` (files, ``HKLM:\\`` keys), ``Copy-Item``,
``Write-Output``, ``[Console]::Error.WriteLine``, ``[gc]::Collect()``, ``Start-Sleep`` and
``Update-HostStorageCache`` (a wait, after which a disk brought online has its letters: not
before, as on Windows, which mounts a disk's volumes a moment after it comes online; they return
at once), ``$ErrorActionPreference``,
``$LASTEXITCODE``, ``if (…) { … } else { … }`` (on one line or several: a script whose block
never closes is a parse error, and none of it runs) and ``exit N``. Anything else is a command PowerShell does not
know (with ``$ErrorActionPreference = 'Stop'`` the script ends there, exit 1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["WindowsRescueDisk", "WindowsRescueShell"]

_HIVE_FILE = "\\windows\\system32\\config\\system"
_SYSTEM_KEY = "hklm\\system\\currentcontrolset"
_START = {"0": "boot", "1": "system", "2": "auto", "3": "demand", "4": "disabled"}
_START_VALUE = {"boot": "0x0", "system": "0x1", "auto": "0x2", "demand": "0x3", "disabled": "0x4"}
#: What a Windows Server 2022 volume holds that the fixes look for (the inbox NVMe driver among them)
_WINDOWS_FILES = {_HIVE_FILE: "SYSTEM hive", "\\windows\\system32\\drivers\\stornvme.sys": "NVMe driver"}
_DRIVE_FROM_VOLUMES = re.compile(r"^\$(\w+)\s*=\s*Get-Volume\s*\|.*Test-Path\s+\"\$\(\$_\.DriveLetter\):([^\"]+)\"",
                                 re.I)
_DISK_PIPE = re.compile(r"^Get-Disk\s*\|\s*Where-Object\s+(IsOffline|IsReadOnly)\s*\|\s*Set-Disk\s+-\1\s+\$false$",
                        re.I)
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass
class WindowsRescueDisk:
    """A data disk of the Windows repair VM: a copy of a Windows OS disk.

    Parameters
    ----------
    lun
        Its LUN.
    definition
        The guest data it holds (``services``, ``registry``, ``files``): edited in place.
    online
        Whether Windows has it online (a copy arrives offline: its signature collides).
    mounted
        Whether its volumes have their drive letters: a moment after it comes online (after a wait in
        the script, or by the next script).
    """

    lun: int
    definition: dict[str, Any]
    online: bool = False
    mounted: bool = False

    @property
    def files(self) -> dict[str, str]:
        """Files on its Windows volume by lower-cased path from the volume's root (``\\windows\\…``)."""
        files: dict[str, str] = self.definition.setdefault("windows_files", dict(_WINDOWS_FILES))
        return files


@dataclass
class _Run:
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    status: int | None = None
    last_exit: int = 0
    stop_on_error: bool = False


class WindowsRescueShell:
    """The Windows repair VM's PowerShell; disks brought online stay online from one script to the next."""

    def __init__(self) -> None:
        self.disks: list[WindowsRescueDisk] = []
        self.hives: dict[str, WindowsRescueDisk] = {}  # loaded hive name (lower-case) → the disk it is from
        self._online: set[int] = set()

    def run(self, script: str, disks: list[WindowsRescueDisk]) -> tuple[str, str, int]:
        """Run ``script`` with ``disks`` attached; ``(stdout, stderr, exit code)``."""
        for disk in disks:
            disk.online = disk.mounted = disk.lun in self._online
        self.disks = disks
        run = _Run()
        variables: dict[str, str] = {}
        statements = _joined(script)
        if statements is None:  # PowerShell parses the whole script first: nothing of it runs
            return "", ("ParserError: Missing closing '}' in statement block or type definition.\n"), 1
        for line in statements:
            self._statements(line, variables, run)
            if run.status is not None:
                break
        return "".join(run.out), "".join(run.err), run.status if run.status is not None else run.last_exit

    # ------------------------------------------------------------------ statements
    def _statements(self, line: str, variables: dict[str, str], run: _Run) -> None:
        for statement in _split(line):
            self._statement(statement.strip(), variables, run)
            if run.status is not None:
                return

    def _statement(self, text: str, variables: dict[str, str], run: _Run) -> None:
        if not text:
            return
        if text.lower().startswith("if "):
            condition, body, otherwise = _if_parts(text)
            self._statements(body if self._true(condition, variables, run) else otherwise, variables, run)
            return
        volumes = _DRIVE_FROM_VOLUMES.match(text)
        if volumes:
            variables[volumes.group(1).lower()] = self._volume_with(volumes.group(2))
            return
        if text.lower().startswith("$erroractionpreference"):
            run.stop_on_error = "stop" in text.lower()
            return
        disk_pipe = _DISK_PIPE.match(text)
        if disk_pipe:
            if disk_pipe.group(1).lower() == "isoffline":
                for disk in self.disks:
                    disk.online = True
                    self._online.add(disk.lun)
            return
        words = _words(text, variables)
        verb = words[0].lower()
        if verb == "exit":
            run.status = _exit_code(words[1] if len(words) > 1 else "0", run)
        elif verb in ("write-output", "echo"):
            run.out.append(" ".join(words[1:]) + "\n")
        elif verb.startswith("[console]::error.writeline("):
            run.err.append(_quoted_argument(text, variables) + "\n")
        elif verb in ("update-hoststoragecache", "start-sleep"):  # a wait: what came online is mounted by then
            for disk in self.disks:
                disk.mounted = disk.online
        elif verb == "[gc]::collect()":
            return
        elif verb == "copy-item" and len(words) >= 3:
            self._copy(words[1], words[2], run)
        elif verb in ("reg", "reg.exe"):
            self._reg(words[1:], run)
        else:
            run.err.append(f"{words[0]} : The term '{words[0]}' is not recognized as the name of a cmdlet, function, "
                           "script file, or operable program.\n")
            if run.stop_on_error:
                run.status = 1

    def _true(self, condition: str, variables: dict[str, str], run: _Run) -> bool:
        condition = condition.strip()
        while condition.startswith("("):  # (…) around the whole condition
            inside, after = _balanced(condition, "(", ")")
            if after.strip():
                break
            condition = inside.strip()
        if condition.lower().startswith("-not "):
            return not self._true(condition[5:], variables, run)
        if condition.lower() == "$lastexitcode":
            return run.last_exit != 0
        if condition.lower().startswith("test-path"):
            path = _words(condition, variables)[1]
            return self._exists(path)
        if condition.startswith("$"):
            return bool(variables.get(condition[1:].lower()))
        return bool(condition)

    # ------------------------------------------------------------------ disks and files
    def _volumes(self) -> dict[str, WindowsRescueDisk]:
        """Drive letter → the disk whose Windows volume it is (online data disks, from ``F:``: ``E:`` is the copy's
        System Reserved partition)."""
        letters: dict[str, WindowsRescueDisk] = {}
        letter = ord("E")
        for disk in sorted(self.disks, key=lambda d: d.lun):
            if disk.mounted:
                letters[chr(letter + 1)] = disk
                letter += 2
        return letters

    def _volume_with(self, path: str) -> str:
        for letter, disk in self._volumes().items():
            if path.lower() in disk.files:
                return letter
        return ""

    def _file(self, path: str) -> tuple[WindowsRescueDisk | None, str]:
        drive, _, rest = path.partition(":")
        return self._volumes().get(drive.upper()), rest.lower()

    def _exists(self, path: str) -> bool:
        if path.lower().startswith("hklm:\\"):
            hive, _, rest = path[6:].partition("\\")
            disk = self.hives.get(hive.lower())
            return disk is not None and (not rest or rest.lower().split("\\")[0] == "controlset001")
        disk, rest = self._file(path)
        return disk is not None and rest in disk.files

    def _copy(self, source: str, target: str, run: _Run) -> None:
        disk, rest = self._file(source)
        into, rest_target = self._file(target)
        if disk is None or rest not in disk.files or into is None:
            run.err.append(f"Copy-Item : Cannot find path '{source}' because it does not exist.\n")
            run.status = 1 if run.stop_on_error else None
            return
        into.files[rest_target] = disk.files[rest]

    # ------------------------------------------------------------------ reg.exe
    def _reg(self, args: list[str], run: _Run) -> None:
        verb = args[0].lower() if args else ""
        text, code = {"load": self._load, "unload": self._unload, "add": self._add, "query": self._query}.get(
            verb, lambda _: ("ERROR: Invalid syntax.\nType \"REG /?\" for usage.\n", 1))(args[1:])
        (run.err if code else run.out).append(text)
        run.last_exit = code

    def _load(self, args: list[str]) -> tuple[str, int]:
        if len(args) < 2 or not args[0].lower().startswith("hklm\\"):
            return "ERROR: Invalid key name.\n", 1
        name = args[0][5:].lower()
        disk, rest = self._file(args[1])
        if disk is None or rest not in disk.files:
            return "ERROR: The system cannot find the file specified.\n", 1
        if name in self.hives:
            return "ERROR: The process cannot access the file because it is being used by another process.\n", 1
        self.hives[name] = disk
        return "The operation completed successfully.\n", 0

    def _unload(self, args: list[str]) -> tuple[str, int]:
        name = args[0][5:].lower() if args and args[0].lower().startswith("hklm\\") else ""
        if self.hives.pop(name, None) is None:
            return "ERROR: The parameter is incorrect.\n", 1
        return "The operation completed successfully.\n", 0

    def _value_place(self, key: str) -> tuple[WindowsRescueDisk, str] | None:
        """The loaded disk and the guest key (``hklm\\system\\currentcontrolset\\…``) an offline key names."""
        if not key.lower().startswith("hklm\\"):
            return None
        hive, _, rest = key[5:].partition("\\")
        disk = self.hives.get(hive.lower())
        if disk is None:
            return None
        control_set, _, inside = rest.partition("\\")
        if control_set.lower() != "controlset001":  # a control set this Windows does not have: a key of its own
            return disk, f"hklm\\system\\{rest.lower()}"
        return disk, f"{_SYSTEM_KEY}\\{inside.lower()}"

    def _add(self, args: list[str]) -> tuple[str, int]:
        place = self._value_place(args[0]) if args else None
        options = [a.lower() for a in args]
        if place is None or "/v" not in options:
            return "ERROR: Invalid key name.\n", 1
        disk, key = place
        name = args[options.index("/v") + 1]
        kind = args[options.index("/t") + 1].upper() if "/t" in options else "REG_SZ"
        data = args[options.index("/d") + 1] if "/d" in options else ""
        if kind == "REG_DWORD":
            try:
                data = f"0x{int(data, 0):x}"
            except ValueError:
                return "ERROR: Invalid syntax.\n", 1
        service = _service_of(key)
        services = disk.definition.setdefault("services", {})
        if service is not None and name.lower() == "start" and service in _lower(services):
            entry = services[_lower(services)[service]]
            entry["start"] = _START.get(str(int(data, 16)), entry.get("start", "demand"))
        else:
            disk.definition.setdefault("registry", {}).setdefault(key, {})[name] = data
        return "The operation completed successfully.\n", 0

    def _query(self, args: list[str]) -> tuple[str, int]:
        place = self._value_place(args[0]) if args else None
        options = [a.lower() for a in args]
        if place is None:
            return "ERROR: The system was unable to find the specified registry key or value.\n", 1
        disk, key = place
        values = dict(disk.definition.get("registry", {}).get(key, {}))
        service = _service_of(key)
        services = disk.definition.get("services", {})
        if service is not None and service in _lower(services):
            values["Start"] = _START_VALUE.get(services[_lower(services)[service]].get("start", ""), "0x3")
        wanted = args[options.index("/v") + 1] if "/v" in options else None
        shown = {k: v for k, v in values.items() if wanted is None or k.lower() == wanted.lower()}
        if not shown:
            return "ERROR: The system was unable to find the specified registry key or value.\n", 1
        body = "".join(f"    {k}    {'REG_DWORD' if v.startswith('0x') else 'REG_SZ'}    {v}\n"
                       for k, v in shown.items())
        return f"\n{args[0]}\n{body}\n", 0


def _service_of(key: str) -> str | None:
    prefix = f"{_SYSTEM_KEY}\\services\\"
    rest = key[len(prefix):] if key.startswith(prefix) else ""
    return rest.split("\\")[0] if rest and "\\" not in rest else None


def _lower(services: dict[str, Any]) -> dict[str, str]:
    return {name.lower(): name for name in services}


def _exit_code(text: str, run: _Run) -> int:
    if text.lower() == "$lastexitcode":
        return run.last_exit
    return int(text) if text.lstrip("-").isdigit() else 0


def _unquoted(text: str) -> Iterator[tuple[int, str]]:
    """``(index, character)`` of ``text`` outside ``'…'`` and ``"…"`` (the quotes themselves left out)."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        else:
            yield index, char


def _split(line: str) -> list[str]:
    """``line``'s statements: split at ``;`` outside quotes, braces and parentheses."""
    parts, depth, start = [], 0, 0
    for index, char in _unquoted(line):
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif char == ";" and depth == 0:
            parts.append(line[start:index])
            start = index + 1
    parts.append(line[start:])
    return parts


def _if_parts(text: str) -> tuple[str, str, str]:
    """``if (CONDITION) { BODY } [else { OTHERWISE }]`` → ``(CONDITION, BODY, OTHERWISE)``."""
    condition, rest = _balanced(text[text.index("("):], "(", ")")
    body, rest = _balanced(rest.strip(), "{", "}") if rest.strip().startswith("{") else ("", "")
    rest = rest.strip()
    otherwise = _balanced(rest[4:].strip(), "{", "}")[0] if rest.lower().startswith("else") else ""
    return condition, body, otherwise


def _balanced(text: str, opening: str, closing: str) -> tuple[str, str]:
    """What ``text``'s leading ``opening … closing`` holds (quotes respected), and what follows it."""
    depth = 0
    for index, char in _unquoted(text):
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return text[1:index], text[index + 1:]
    return text[1:], ""


def _joined(script: str) -> list[str] | None:
    """The script's statements, a block that spans lines joined into one (``None``: a block never closes)."""
    statements: list[str] = []
    pending, depth = "", 0
    for raw in script.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending = f"{pending}; {line}" if pending and not pending.endswith("{") and not line.startswith("}") \
            else f"{pending} {line}".strip()
        depth += _depth(line)
        if depth <= 0:
            statements.append(pending.replace("{;", "{").replace("; }", " }"))
            pending, depth = "", 0
    return None if pending else statements


def _depth(line: str) -> int:
    """How many more ``{`` than ``}`` ``line`` has outside quotes."""
    return sum({"{": 1, "}": -1}.get(char, 0) for _, char in _unquoted(line))



def _expand(text: str, variables: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: variables.get((m.group(1) or m.group(2)).lower(), ""), text)


def _words(text: str, variables: dict[str, str]) -> list[str]:
    """The words of a command: quotes removed, variables expanded inside double quotes and bare words."""
    words = []
    for match in re.finditer(r"'([^']*)'|\"([^\"]*)\"|(\S+)", text):
        single, double, bare = match.groups()
        words.append(single if single is not None else _expand(double if double is not None else bare, variables))
    return words


def _quoted_argument(text: str, variables: dict[str, str]) -> str:
    inner = text[text.index("(") + 1:text.rindex(")")].strip()
    return inner[1:-1] if inner[:1] == "'" else _expand(inner.strip('"'), variables)
