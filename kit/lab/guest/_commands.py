"""The commands of the scripted Linux shell (bash-like output, in-memory effects).

They see the guest as a :class:`~._shell.ShellState`; :class:`~._linux.LinuxGuest` runs them.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Mapping

from kit.lab.guest._iptables import Firewall, IptablesError
from kit.lab.guest._shell import Service, ShellState

__all__ = ["run_line", "run_steps", "split_ops", "split_unquoted", "test_expression"]

_Command = Callable[[ShellState, list[str], str | None], tuple[str, int]]

_ROOT_ONLY = {"cp", "mv", "iptables", "iptables-save", "iptables-restore", "ufw", "sed", "mount", "reboot", "shutdown",
              "netfilter-persistent", "sshd", "/usr/sbin/sshd", "ss", "nft"}


def run_line(guest: ShellState, line: str) -> str:
    """Run one command line (``;``, ``&&``, ``||``, one ``|`` filter, ``>``/``>>``/``<``)."""
    return "".join(text for _, text, _ in run_steps(guest, line))


def run_steps(guest: ShellState, line: str) -> list[tuple[str, str, int]]:
    """Run one command line; ``(command, output, exit status)`` of each pipeline that ran."""
    out: list[tuple[str, str, int]] = []
    status = 0
    for separator, part in split_ops(line):
        if (separator == "&&" and status != 0) or (separator == "||" and status == 0):
            continue
        command = _expand_status(part.strip(), status)
        text, status = _run_pipeline(guest, command)
        out.append((command, text, status))
        if guest.mode != "shell":
            break
    return out


def _expand_status(text: str, status: int) -> str:
    """``$?`` outside single quotes replaced by the previous command's exit status."""
    parts = re.split(r"('[^']*')", text)
    return "".join(part if part.startswith("'") else part.replace("$?", str(status)) for part in parts)


def split_ops(line: str) -> list[tuple[str, str]]:
    """``a && b || c ; d`` → ``[(";", "a"), ("&&", "b"), ("||", "c"), (";", "d")]``; quotes and ``{ … }`` kept whole."""
    parts: list[tuple[str, str]] = []
    current, separator, quote, depth, i = "", ";", "", 0, 0
    while i < len(line):
        ch = line[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        elif depth == 0 and (line.startswith("&&", i) or line.startswith("||", i)):
            parts.append((separator, current))
            separator, current, i = line[i:i + 2], "", i + 2
            continue
        elif depth == 0 and ch == ";":
            parts.append((separator, current))
            separator, current, i = ";", "", i + 1
            continue
        current += ch
        i += 1
    parts.append((separator, current))
    return [(s, p) for s, p in parts if p.strip()]


def _run_pipeline(guest: ShellState, text: str) -> tuple[str, int]:
    try:
        stages = split_unquoted(text, "|")
        words = shlex.split(stages[0])
    except ValueError:
        return "-bash: unexpected EOF while looking for matching quote\n", 2
    if not words:
        return "", 0
    redirect: str | None = None
    target: str | None = None
    stdin: str | None = None
    for op in (">>", ">", "<"):
        if op in words:
            index = words.index(op)
            if op == "<":
                stdin = words[index + 1] if index + 1 < len(words) else None
            else:
                redirect, target = op, words[index + 1] if index + 1 < len(words) else None
            words = words[:index] + words[index + 2:]
    for word in list(words):
        match = re.fullmatch(r"(\d?)(>>?)(\S+)", word)
        if match and match.group(3) != "&1":
            redirect, target = match.group(2), match.group(3)
            words.remove(word)
        elif word in ("2>&1", "2>/dev/null"):
            words.remove(word)
    output, status = _command(guest, words, stdin)
    for stage in stages[1:]:
        output = _filter(shlex.split(stage), output)
    if redirect and target:
        if target == "/dev/null":
            return "", status
        if not _writable(guest, target):
            return f"-bash: {target}: Permission denied\n", 1
        previous = guest.files.get(target, "") if redirect == ">>" else ""
        guest.files[target] = previous + output
        return "", status
    return output, status


def split_unquoted(text: str, sep: str) -> list[str]:
    """``text`` split at every ``sep`` outside quotes."""
    parts, current, quote = [], "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == sep:
            parts.append(current)
            current = ""
            continue
        current += ch
    return [*parts, current]


def _filter(words: list[str], text: str) -> str:
    if not words:
        return text
    lines = text.splitlines(keepends=True)
    name, args = words[0], words[1:]
    if name == "grep":
        flags = [a for a in args if a.startswith("-")]
        pattern = next((a for a in args if not a.startswith("-")), "")
        regex = re.compile(pattern, re.I if "-i" in flags else 0)
        keep = [line for line in lines if bool(regex.search(line)) != ("-v" in flags)]
        return "".join(keep)
    if name in ("head", "tail"):
        count = 10
        for i, a in enumerate(args):
            if a == "-n" and i + 1 < len(args):
                count = int(args[i + 1])
            elif re.fullmatch(r"-\d+", a):
                count = int(a[1:])
        return "".join(lines[:count] if name == "head" else lines[-count:])
    if name in ("less", "more", "cat"):
        return text
    if name == "wc" and "-l" in args:
        return f"{len(lines)}\n"
    return text


def _writable(guest: ShellState, path: str) -> bool:
    return guest.user == "root" or path.startswith(("/tmp/", "/home/", "~"))


def _command(guest: ShellState, words: list[str], stdin: str | None) -> tuple[str, int]:
    if words[0] == "sudo":
        words = words[1:]
        if words[:1] in (["-i"], ["-s"], ["su"], ["bash"]) or words[:2] in (["su", "-"],):
            guest.pending_user = guest.user
            guest.sudo_shell = True
            guest.user, guest.cwd = "root", "~"
            return "", 0
        if not words:
            return "usage: sudo -h | -K | -k | -V\n", 1
        previous, guest.user = guest.user, "root"
        try:
            return _command(guest, words, stdin)
        finally:
            if guest.user == "root" and guest.mode == "shell":
                guest.user = previous
    name = words[0]
    handler = _COMMANDS.get(name)
    if handler is None:
        return f"-bash: {name}: command not found\n", 127
    if name in _ROOT_ONLY and guest.user != "root" and not (name == "ufw" and words[1:2] == ["--version"]):
        return _permission(name), 1 if name != "iptables" else 4
    return handler(guest, words[1:], stdin)


def _permission(name: str) -> str:
    if name.startswith("iptables"):
        return ("iptables v1.8.10 (nf_tables): Could not fetch rule set generation id: Permission denied "
                "(you must be root)\n")
    if name == "ufw":
        return "ERROR: You need to be root to run this script\n"
    if name == "reboot":
        return ("Failed to set wall message, ignoring: Interactive authentication required.\n"
                "Failed to reboot system via logind: Interactive authentication required.\n")
    return f"{name}: Permission denied (are you root? try sudo)\n"


# ---------------------------------------------------------------------- commands
def _cat(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    out, status = [], 0
    for path in [a for a in args if not a.startswith("-")] or ([stdin] if stdin else []):
        if path in guest.files:
            out.append(guest.files[path])
        else:
            out.append(f"cat: {path}: No such file or directory\n")
            status = 1
    return "".join(out), status


def _echo(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    newline = "-n" not in args
    text = " ".join(a for a in args if a not in ("-n", "-e"))
    return text + ("\n" if newline else ""), 0


def _printf(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    """bash's printf for ``%s``, ``%d``, ``%%`` and backslash escapes; the format repeats for extra arguments."""
    if not args:
        return "printf: usage: printf [-v var] format [arguments]\n", 2
    form = args[0].encode().decode("unicode_escape")
    values, out = list(args[1:]), []
    while True:
        text, used = _printf_once(form, values)
        out.append(text)
        values = values[used:]
        if not values or not used:
            return "".join(out), 0


def _printf_once(form: str, values: list[str]) -> tuple[str, int]:
    """``form`` filled from ``values`` once; how many values it took."""
    taken = iter(values)
    used = 0

    def fill(match: re.Match[str]) -> str:
        nonlocal used
        if match.group(0) == "%%":
            return "%"
        value = next(taken, "")
        used += 1
        return str(int(value)) if match.group(0) == "%d" and value.lstrip("-").isdigit() else value

    return re.sub(r"%[sd%]", fill, form), min(used, len(values))


def _sed(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    in_place = any(a == "-i" or a.startswith("-i") for a in args)
    quiet = "-n" in args
    rest = [a for a in args if not a.startswith("-i") and a not in ("-n", "-e", "-E", "-r")]
    if not rest:
        return "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n", 1
    script, files = rest[0], rest[1:]
    try:
        apply = _sed_script(script, quiet)
    except (ValueError, re.error) as error:
        return f"sed: -e expression #1, char {len(script)}: {error}\n", 1
    out = []
    for path in files:
        if path not in guest.files:
            return f"sed: can't read {path}: No such file or directory\n", 2
        result = apply(guest.files[path])
        if in_place:
            guest.files[path] = result
        else:
            out.append(result)
    return "".join(out), 0


def _sed_script(script: str, quiet: bool) -> Callable[[str], str]:
    match = re.fullmatch(r"(?:(\d+)|/((?:[^/\\]|\\.)*)/)?\s*(d|p|s(.)(.*))", script, re.S)
    if not match:
        raise ValueError(f"unknown command: `{script[:1]}'")
    line_no, address, command, delim = match.group(1), match.group(2), match.group(3), match.group(4)
    if command.startswith("s"):
        parts = re.split(r"(?<!\\)" + re.escape(delim), command[2:])
        if len(parts) < 3:
            raise ValueError("unterminated `s' command")
        pattern, replacement, flags = parts[0], parts[1], parts[2]
        pattern = pattern.replace(r"\(", "(").replace(r"\)", ")").replace(r"\+", "+").replace(r"\|", "|")
        regex = re.compile(pattern, re.I if "I" in flags else 0)
        py_replacement = re.sub(r"\\(\d)", r"\\g<\1>", replacement.replace("&", r"\g<0>").replace(r"\\g<0>", "&"))
        count = 0 if "g" in flags else 1

    def selected(number: int, line: str) -> bool:
        if line_no:
            return number == int(line_no)
        if address is not None:
            return re.search(address, line) is not None
        return True

    def apply(text: str) -> str:
        out = []
        for number, line in enumerate(text.splitlines(keepends=True), 1):
            if selected(number, line):
                if command == "d":
                    continue
                if command == "p":
                    out.append(line)
                elif command.startswith("s"):
                    body = line.rstrip("\n")
                    new = regex.sub(py_replacement, body, count=count)
                    line = new + line[len(body):]
                    if quiet and "p" in flags and new != body:
                        out.append(line)
                        continue
            if not quiet:
                out.append(line)
        return "".join(out)

    return apply


def _grep(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    flags = [a for a in args if a.startswith("-")]
    rest = [a for a in args if not a.startswith("-")]
    if not rest:
        return "Usage: grep [OPTION]... PATTERNS [FILE]...\n", 2
    pattern, files = rest[0], rest[1:]
    regex = re.compile(pattern, re.I if "-i" in flags else 0)
    out = []
    for path in files:
        if path not in guest.files:
            out.append(f"grep: {path}: No such file or directory\n")
            continue
        for number, line in enumerate(guest.files[path].splitlines(keepends=True), 1):
            if bool(regex.search(line)) != ("-v" in flags):
                out.append((f"{path}:" if len(files) > 1 else "") + (f"{number}:" if "-n" in flags else "") + line)
    return "".join(out), 0 if out else 1


def _iptables(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    try:
        return guest.firewall.command(args), 0
    except IptablesError as error:
        return str(error) + "\n", 1


def _iptables_save(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    return guest.firewall.save(), 0


def _iptables_restore(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    path = stdin or (args[0] if args else None)
    if path is None or path not in guest.files:
        return f"iptables-restore: unable to open {path}\n" if path else "", 1
    guest.firewall = Firewall.from_save(guest.files[path])
    return "", 0


def _persistent(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    if args[:1] == ["save"]:
        guest.files["/etc/iptables/rules.v4"] = guest.firewall.save()
        return "run-parts: executing /usr/share/netfilter-persistent/plugins.d/15-ip4tables save\n", 0
    if args[:1] in (["reload"], ["start"]):
        return _iptables_restore(guest, ["/etc/iptables/rules.v4"], None)
    return "Usage: /usr/sbin/netfilter-persistent (start|stop|restart|reload|flush|save)\n", 1


def _ufw(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    active = guest.definition.get("ufw_active", False)
    if args[:1] == ["status"]:
        return ("Status: active\n" if active else "Status: inactive\n"), 0
    if args[:1] == ["disable"]:
        guest.definition["ufw_active"] = False
        return "Firewall stopped and disabled on system startup\n", 0
    if args[:1] == ["enable"]:
        guest.definition["ufw_active"] = True
        return "Firewall is active and enabled on system startup\n", 0
    if args[:1] == ["allow"]:
        return "Rules updated\nRules updated (v6)\n", 0
    return "ERROR: Invalid syntax\n", 1


def _service_name(name: str) -> str:
    name = name.removesuffix(".service")
    return "ssh" if name in ("ssh", "sshd") else name


def _systemctl(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    args = [a for a in args if a not in ("--no-pager", "-l", "--full")]
    if not args:
        return "", 0
    verb, units = args[0], [_service_name(u) for u in args[1:]]
    if verb in ("reboot",):
        return _reboot(guest, [], None)
    if verb in ("default", "isolate") and guest.booted_emergency:
        return _reboot(guest, [], None)
    if verb == "daemon-reload":
        return "", 0
    if verb == "list-units" or verb == "--failed":
        return _failed_units(guest), 0
    if verb == "reset-failed":
        return "", 0
    if not units:
        return "Too few arguments.\n", 1
    service = guest.services.get(units[0])
    if service is None:
        return f"Unit {units[0]}.service could not be found.\n", 4
    if verb == "status":
        return _status(guest, service), 0 if service.active else 3
    if verb == "is-active":
        return ("active\n" if service.active else "failed\n"), 0 if service.active else 3
    if guest.user != "root":
        return (f"Failed to {verb} {service.unit}: Access denied\n"
                "See system logs and 'systemctl status {0}' for details.\n".format(service.unit)), 1
    if verb in ("restart", "start", "reload", "try-restart"):
        errors = guest.sshd_errors() if units[0] == "ssh" else []
        if errors:
            service.active = False
            return (f"Job for {service.unit} failed because the control process exited with error code.\n"
                    f"See \"systemctl status {service.unit}\" and \"journalctl -xeu {service.unit}\" for details.\n"), 1
        service.active = True
        service.since = f"{guest.definition.get('clock_long', 'Tue 2026-11-24 22:59:40 UTC')}; 2s ago"
        service.pid += 1000
        return "", 0
    if verb == "stop":
        service.active = False
        return "", 0
    if verb in ("enable", "disable"):
        service.enabled = verb == "enable"
        return "", 0
    return f"Unknown command verb {verb}.\n", 1


def _failed_units(guest: ShellState) -> str:
    """``systemctl --failed`` as systemd 249 prints it (the failing fstab mounts included)."""
    units = [(s.unit, s.description) for s in guest.services.values() if not s.active]
    units += [(_mount_unit(mount), mount) for mount, _ in guest.fstab_failures()]
    if not units:
        return "  UNIT LOAD ACTIVE SUB DESCRIPTION\n0 loaded units listed.\n"
    width = max(len(unit) for unit, _ in units)
    lines = [f"  {'UNIT':<{width}} LOAD   ACTIVE SUB    DESCRIPTION"]
    lines += [f"\u25cf {unit:<{width}} loaded failed failed {description}" for unit, description in units]
    lines += ["", "LOAD   = Reflects whether the unit definition was properly loaded.",
              "ACTIVE = The high-level unit activation state, i.e. generalization of SUB.",
              "SUB    = The low-level unit activation state, values depend on unit type.",
              f"{len(units)} loaded units listed."]
    return "\n".join(lines) + "\n"


def _mount_unit(mount: str) -> str:
    return (mount.strip("/").replace("-", "\\x2d").replace("/", "-") or "-") + ".mount"


def _findmnt(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    """``findmnt --verify``: fstab sources that do not exist; other forms list the mounts."""
    if "--verify" not in args and "-x" not in args:
        lines = ["TARGET SOURCE FSTYPE OPTIONS"]
        lines += [f"{m} {d} ext4 rw,relatime" for m, d in guest.fstab_entries() if m in guest.mounted or m == "/"]
        return "\n".join(lines) + "\n", 0
    failing = {mount for mount, _ in guest.fstab_failures()}
    errors = [(m, d) for m, d in guest.fstab_entries() if m in failing]
    if not errors:
        return "Success, no errors or warnings detected\n", 0
    out = [f"{m}\n   [E] unreachable source: {d}: No such file or directory" for m, d in errors]
    count = len(errors)
    return "\n".join(out) + f"\n\n0 parse errors, {count} error{'s' if count > 1 else ''}, 0 warnings\n", 1


def _mkdir(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    paths = [a for a in args if not a.startswith("-")]
    if not paths:
        return "mkdir: missing operand\nTry 'mkdir --help' for more information.\n", 1
    return "", 0


def _tail_or_head(name: str) -> _Command:
    def run(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
        options = [a for i, a in enumerate(args) if a.startswith("-") or (i and args[i - 1] == "-n")]
        paths = [a for a in args if a not in options]
        if not paths:
            return "", 0
        out, status = [], 0
        for path in paths:
            if path not in guest.files:
                out.append(f"{name}: cannot open '{path}' for reading: No such file or directory\n")
                status = 1
                continue
            out.append(_filter([name, *options], guest.files[path]))
        return "".join(out), status

    return run


def _nft(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    """``nft list ruleset``: the iptables-nft filter table as nftables prints it."""
    if args[:2] != ["list", "ruleset"]:
        return "Error: syntax error, unexpected end of file\n", 1
    firewall = guest.firewall
    out = ["table ip filter {"]
    for chain, rules in firewall.rules.items():
        out.append(f"\tchain {chain} {{")
        if chain in firewall.policy:
            policy = firewall.policy[chain].lower()
            out.append(f"\t\ttype filter hook {chain.lower()} priority filter; policy {policy};")
        out += [f"\t\t{_nft_rule(rule)}" for rule in rules]
        out.append("\t}")
    out.append("}")
    return "\n".join(out) + "\n", 0


def _nft_rule(rule: str) -> str:
    """One iptables rule (``-s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT``) as iptables-nft lists it."""
    try:
        words = shlex.split(rule)
    except ValueError:
        words = rule.split()
    parts: list[str] = []
    verdict = ""
    proto = ""
    i = 0
    while i < len(words):
        word, value = words[i], words[i + 1] if i + 1 < len(words) else ""
        step = 2
        if word in ("-i", "-o"):
            parts.append(f'{"iifname" if word == "-i" else "oifname"} "{value}"')
        elif word in ("-s", "-d"):
            parts.append(f"ip {'saddr' if word == '-s' else 'daddr'} {value.removesuffix('/32')}")
        elif word == "-p":
            proto = value
            if value not in ("tcp", "udp"):
                parts.append(f"ip protocol {value}")
        elif word in ("--dport", "--sport"):
            parts.append(f"{proto or 'tcp'} {word[2:]} {value}")
        elif word == "--ctstate":
            parts.append(f"ct state {value.lower()}")
        elif word == "--limit":
            rate, _, unit = value.partition("/")
            parts.append(f"limit rate {rate}/{ {'min': 'minute', 'sec': 'second', 's': 'second'}.get(unit, unit)} "
                         "burst 5 packets")
        elif word == "--log-prefix":
            verdict = f'log prefix "{value}"' + verdict
        elif word == "--log-level":
            verdict += f" level {({'4': 'warn'}).get(value, value)}"
        elif word == "-j":
            verdict = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject", "RETURN": "return"}.get(
                value, "" if value == "LOG" else f"jump {value}") + verdict
        elif word == "-m":
            pass
        else:
            step = 1
        i += step
    return " ".join([*parts, "counter packets 0 bytes 0", verdict.strip()]).strip()


def _status(guest: ShellState, service: Service) -> str:
    head = f"{'●' if service.active else '×'} {service.unit} - {service.description}\n"
    loaded = (f"     Loaded: loaded (/lib/systemd/system/{service.unit}; "
              f"{'enabled' if service.enabled else 'disabled'}; vendor preset: enabled)\n")
    if service.active:
        return (head + loaded + f"     Active: active (running) since {service.since}\n"
                "       Docs: man:sshd(8)\n             man:sshd_config(5)\n"
                f"   Main PID: {service.pid} (sshd)\n      Tasks: 1 (limit: 9498)\n     Memory: 2.9M\n"
                f"        CPU: 31ms\n     CGroup: /system.slice/{service.unit}\n"
                f"             └─{service.pid} \"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups\"\n")
    failed_since = guest.definition.get("clock_long", "Tue 2026-11-24 22:14:05 UTC")
    return (head + loaded + f"     Active: failed (Result: exit-code) since {failed_since}; 45min ago\n"
            "       Docs: man:sshd(8)\n             man:sshd_config(5)\n"
            "    Process: 731 ExecStartPre=/usr/sbin/sshd -t (code=exited, status=255/EXCEPTION)\n"
            "        CPU: 12ms\n\n" + _journal(guest, 5))


def _journal(guest: ShellState, count: int | None = None) -> str:
    lines = []
    stamp = guest.clock()
    for error in guest.sshd_errors():
        lines.append(f"{stamp} {guest.hostname} sshd[731]: {error}")
    if lines:
        lines += [f"{stamp} {guest.hostname} systemd[1]: ssh.service: Control process exited, code=exited, "
                  "status=255/EXCEPTION",
                  f"{stamp} {guest.hostname} systemd[1]: ssh.service: Failed with result 'exit-code'.",
                  f"{stamp} {guest.hostname} systemd[1]: Failed to start OpenBSD Secure Shell server.",
                  f"{stamp} {guest.hostname} systemd[1]: ssh.service: Scheduled restart job, restart counter is at 5.",
                  f"{stamp} {guest.hostname} systemd[1]: ssh.service: Start request repeated too quickly."]
    else:
        lines += [f"{guest.clock()} {guest.hostname} systemd[1]: Starting OpenBSD Secure Shell server...",
                  f"{guest.clock()} {guest.hostname} sshd[812]: Server listening on 0.0.0.0 port {guest.sshd_port()}.",
                  f"{guest.clock()} {guest.hostname} sshd[812]: Server listening on :: port {guest.sshd_port()}.",
                  f"{guest.clock()} {guest.hostname} systemd[1]: Started OpenBSD Secure Shell server."]
    if count is not None:
        lines = lines[-count:]
    return "\n".join(lines) + "\n"


def _journalctl(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    count = None
    for i, a in enumerate(args):
        if a == "-n" and i + 1 < len(args):
            count = int(args[i + 1])
    if "-u" in args or any(a.startswith("--unit") for a in args) or any("ssh" in a for a in args):
        starting = f"{guest.clock()} {guest.hostname} systemd[1]: Starting OpenBSD Secure Shell server...\n"
        return starting + _journal(guest, count), 0
    failing = guest.fstab_failures()
    lines = [f"{guest.clock()} {guest.hostname} systemd[1]: dev-disk-by\\x2duuid-{dev.split('=')[-1]}.device: "
             "Job dev-disk-by\\x2duuid-...device/start timed out." for dev in
             [d for m, d in guest.fstab_entries() if m in {f for f, _ in failing}]]
    if failing:
        lines += [f"{guest.clock()} {guest.hostname} systemd[1]: Timed out waiting for device /dev/disk/by-uuid/…",
                  f"{guest.clock()} {guest.hostname} systemd[1]: Dependency failed for Local File Systems."]
    return ("\n".join(lines) + "\n") if lines else "-- No entries --\n", 0


def _sshd(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    if "-t" in args or "-T" in args:
        errors = guest.sshd_errors()
        return ("\n".join(errors) + "\n", 255) if errors else ("", 0)
    return "sshd re-exec requires execution with an absolute path\n", 1


def _ss(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    out = "State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n"
    out += 'LISTEN 0      4096   127.0.0.53%lo:53         0.0.0.0:*    users:(("systemd-resolve",pid=602,fd=14))\n'
    ssh = guest.services.get("ssh")
    if ssh and ssh.active:
        port = guest.sshd_port()
        out += f'LISTEN 0      128          0.0.0.0:{port:<8}   0.0.0.0:*    users:(("sshd",pid={ssh.pid},fd=3))\n'
        out += f'LISTEN 0      128             [::]:{port:<8}      [::]:*    users:(("sshd",pid={ssh.pid},fd=4))\n'
    return out, 0


def _mount(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    if "-a" in args:
        failing = dict(guest.fstab_failures())
        out = []
        for mount_point, device in guest.fstab_entries():
            if mount_point in failing:
                out.append(f"mount: {mount_point}: can't find {device}.")
            else:
                guest.mounted.add(mount_point)
        return ("\n".join(out) + "\n", 32) if out else ("", 0)
    if "-o" in args and any("remount" in a for a in args):
        return "", 0
    lines = [f"{d} on {m} type ext4 (rw,relatime)" for m, d in guest.fstab_entries() if m in guest.mounted]
    data = [line for line in lines if " on / " not in line]
    return "\n".join(["/dev/sda1 on / type ext4 (rw,relatime,discard)", *data]) + "\n", 0


def _reboot(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    guest.mode = "rebooting"
    return "", 0


def _ls(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    target = next((a for a in args if not a.startswith("-")), None)
    if target is None:
        return "", 0
    prefix = target.rstrip("/") + "/"
    names = sorted({p[len(prefix):].partition("/")[0] for p in guest.files if p.startswith(prefix)})
    if target in guest.files:
        return target + "\n", 0
    if not names:
        return f"ls: cannot access '{target}': No such file or directory\n", 2
    return "  ".join(names) + "\n", 0


def _copy(guest: ShellState, args: list[str], stdin: str | None, *, move: bool = False) -> tuple[str, int]:
    paths = [a for a in args if not a.startswith("-")]
    name = "mv" if move else "cp"
    if len(paths) != 2:
        return f"{name}: missing destination file operand after '{paths[0] if paths else ''}'\n", 1
    source, target = paths
    if source not in guest.files:
        return f"{name}: cannot stat '{source}': No such file or directory\n", 1
    if target.endswith("/") or any(p.startswith(target.rstrip("/") + "/") for p in guest.files):
        target = target.rstrip("/") + "/" + posixpath.basename(source)
    guest.files[target] = guest.files[source]
    if move:
        del guest.files[source]
    return "", 0


def _exit(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    text = guest.logout()
    return text.replace("\r\n", "\n"), 0


def _editor(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    return ("the lab's scripted guest cannot run full-screen editors over the console; "
            "edit with sed -i 's/old/new/' FILE or echo '...' >> FILE\n"), 1


def _blkid(guest: ShellState, args: list[str], stdin: str | None) -> tuple[str, int]:
    lines = []
    for i, device in enumerate(guest.definition.get("devices", [])):
        if device.startswith("UUID="):
            lines.append(f'/dev/sda{i + 1}: UUID="{device[5:]}" BLOCK_SIZE="4096" TYPE="ext4"')
    return "\n".join(lines) + "\n", 0


def test_expression(words: list[str], files: Mapping[str, str]) -> int:
    """The status of ``[ WORDS ]``: ``!``, ``-e``/``-f``/``-s``/``-x`` (a file there), ``-d``, ``-n``/``-z``, ``=``."""
    if words[:1] == ["!"]:
        return 1 - test_expression(words[1:], files)
    if len(words) == 2 and words[0] in ("-n", "-z"):
        return 0 if bool(words[1]) == (words[0] == "-n") else 1
    if len(words) == 2 and words[0] in ("-e", "-f", "-s", "-x"):
        return 0 if words[1] in files else 1
    if len(words) == 2 and words[0] == "-d":
        return 0 if any(p.startswith(words[1].rstrip("/") + "/") for p in files) else 1
    if len(words) == 3 and words[1] in ("=", "==", "!="):
        return 0 if (words[0] == words[2]) == (words[1] != "!=") else 1
    return 0 if words and words[0] else 1


def _test(guest: ShellState, args: list[str], _stdin: str | None) -> tuple[str, int]:
    return "", test_expression([a for a in args if a != "]"], getattr(guest, "files", {}))


_COMMANDS: dict[str, _Command] = {
    "[": _test, "test": _test,
    "cp": _copy, "mv": lambda g, a, s: _copy(g, a, s, move=True),
    "cat": _cat, "echo": _echo, "printf": _printf, "sed": _sed, "grep": _grep, "ls": _ls,
    "iptables": _iptables, "iptables-save": _iptables_save, "iptables-restore": _iptables_restore,
    "netfilter-persistent": _persistent, "ufw": _ufw,
    "systemctl": _systemctl, "journalctl": _journalctl, "sshd": _sshd, "/usr/sbin/sshd": _sshd,
    "ss": _ss, "mount": _mount, "reboot": _reboot, "shutdown": _reboot, "blkid": _blkid,
    "service": lambda g, a, s: _systemctl(g, [a[1], a[0]] if len(a) >= 2 else a, s),
    "whoami": lambda g, a, s: (g.user + "\n", 0), "id": lambda g, a, s: (
        "uid=0(root) gid=0(root) groups=0(root)\n" if g.user == "root"
        else f"uid=1000({g.user}) gid=1000({g.user}) groups=1000({g.user}),4(adm),27(sudo)\n", 0),
    "hostname": lambda g, a, s: (g.hostname + "\n", 0),
    "uname": lambda g, a, s: ((f"Linux {g.hostname} {g.kernel()} #17-Ubuntu SMP x86_64 x86_64 x86_64 GNU/Linux\n")
                              if "-a" in a else (g.kernel() + "\n" if "-r" in a else "Linux\n"), 0),
    "exit": _exit, "logout": _exit, "clear": lambda g, a, s: ("\x1b[H\x1b[2J", 0), "true": lambda g, a, s: ("", 0),
    "vi": _editor, "vim": _editor, "nano": _editor,
    "pwd": lambda g, a, s: (("/root" if g.user == "root" else f"/home/{g.user}") + "\n", 0),
    "cd": lambda g, a, s: ("", 0), "sync": lambda g, a, s: ("", 0),
    "nft": _nft, "findmnt": _findmnt, "mkdir": _mkdir, "tail": _tail_or_head("tail"), "head": _tail_or_head("head"),
    "df": lambda g, a, s: ("Filesystem      Size  Used Avail Use% Mounted on\n"
                           "/dev/sda1        29G  2.4G   27G   9% /\n", 0),
}
