"""Scripted guests: what the serial console of each lab scenario's VM answers.

A guest is data (``kit/lab/guest/scenarios/<scenario>.yaml``: files, firewall rules, services,
devices, which check decides the fix) plus a small interpreter (:mod:`._linux` with
:mod:`._commands`, :mod:`._windows`, both editing lines with :mod:`._keys`); :mod:`._boot` writes
the boot after a reboot and :mod:`._checks` judges the fix. The gateway keeps one :class:`Guest`
per VM for the lab's lifetime, so a reconnect finds the console where it was left.

>>> guest = load_guest(info)            # info: the scenario's ScenarioInfo
>>> guest.connect()                     # what a new console connection shows
>>> guest.feed("root\\r")               # keystrokes in, serial output out
>>> guest.check()                       # CheckResult(passed, message)
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kit.errors import LabError
from kit.lab.guest._boot import last_boot, next_boot, start_boot, with_cloud_init
from kit.lab.guest._checks import JUDGES
from kit.lab.guest._linux import LinuxGuest
from kit.lab.guest._rescue import RescueDisk, RescueShell
from kit.lab.guest._rescue_windows import WindowsRescueDisk, WindowsRescueShell
from kit.lab.guest._script import run_bash, run_powershell
from kit.lab.guest._windows import WindowsGuest

__all__ = ["CheckResult", "Guest", "RescueDisk", "RescueShell", "WindowsGuest", "WindowsRescueDisk",
           "WindowsRescueShell", "guest_definition", "load_guest", "start_from_disk"]

_DEFINITIONS = Path(__file__).resolve().parent / "scenarios"
#: What EMS prints on COM1 when Windows stops because its boot disk's driver did not start
_INACCESSIBLE_BOOT = ("\r\n*** STOP: 0x0000007B (0xFFFFF880009A97E8,0xFFFFFFFFC0000034,0x0000000000000000,"
                      "0x0000000000000000)\r\n\r\nINACCESSIBLE_BOOT_DEVICE\r\n")


@dataclass(frozen=True)
class CheckResult:
    """Whether a scenario's fix is right.

    Parameters
    ----------
    scenario
        The scenario checked.
    passed
        ``True`` when the VM would be reachable again.
    message
        What a trainee reads: what is still wrong, or why it is fixed.
    """

    scenario: str
    passed: bool
    message: str

    def __str__(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.scenario}: {self.message}"


def guest_definition(scenario: str) -> dict[str, Any]:
    """The guest data for ``scenario`` (``kit/lab/guest/scenarios/<scenario>.yaml``)."""
    path = _DEFINITIONS / f"{scenario}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in _DEFINITIONS.glob("*.yaml")))
        raise LabError(f"scenario {scenario!r} has no scripted guest; scenarios with one: {known}")
    definition: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return definition


class Guest:
    """One VM's console: its interpreter, its boot log, and the scenario's check.

    Parameters
    ----------
    scenario
        The scenario name.
    hostname
        The VM name (as the guest prints it).
    definition
        The guest data (see :func:`guest_definition`).
    boot_log
        The serial log the VM booted with (replayed on reset).
    responder_ip
        Where the responder's SSH/RDP comes from (for the firewall verdict).
    username, password
        The scenario's credentials (override the definition's).

    Attributes
    ----------
    shell
        The interpreter and state of the VM (:class:`~._linux.LinuxGuest` or :class:`~._windows.WindowsGuest`).
    reboots
        How many times the VM restarted.
    on_reboot
        Called with the guest after each reboot (the gateway stores the new boot log).
    """

    def __init__(self, scenario: str, hostname: str, definition: dict[str, Any], boot_log: bytes = b"",
                 responder_ip: str = "203.0.113.10", username: str | None = None, password: str | None = None) -> None:
        self.scenario = scenario
        self.definition = definition
        self.responder_ip = responder_ip or "203.0.113.10"
        self.original_log = boot_log
        self.os = str(definition.get("os", "linux"))
        user = username or str(definition.get("username", "azureuser"))
        secret = password or str(definition.get("password", ""))
        factory = WindowsGuest if self.os == "windows" else LinuxGuest
        self.shell: LinuxGuest | WindowsGuest = factory.create(definition, hostname, user, secret)
        self.reboots = 0
        self.on_reboot: list[Callable[[Guest], None]] = []
        self._boots: list[str] = []

    # ------------------------------------------------------------------ console
    @property
    def silent(self) -> bool:
        """A guest that no longer answers (its kernel panicked): nothing is echoed."""
        return bool(self.definition.get("silent"))

    def connect(self) -> str:
        """What a new console connection shows (the VM's current state)."""
        return "" if self.silent else self.shell.screen()

    def feed(self, data: str | bytes) -> str:
        """Keystrokes in; serial output out (a reboot replays the boot)."""
        if isinstance(data, bytes):
            data = data.decode("utf-8", errors="replace")
        if self.silent:
            return ""
        out = self.shell.feed(data)
        if self.shell.mode == "rebooting":
            out += self.reboot()
        return out

    def reboot(self, *, reset: bool = False) -> str:
        """Restart the VM; return what the serial port prints (shutdown, the new boot, the prompt).

        The new boot is appended to the VM's serial log, as Azure's boot diagnostics keeps it.
        """
        self.reboots += 1
        shell = self.shell
        shell.boot()
        if self.silent:
            boot, stop = last_boot(self._original_text()), ""
        elif isinstance(shell, WindowsGuest):
            boot = shell.banner()
            stop = "" if reset else "\r\nThe system is shutting down.\r\n"
        else:
            boot = next_boot(self._original_text(), shell)
            stop = "" if reset else ("\r\n[  OK  ] Stopped target Multi-User System.\r\n"
                                     "[  OK  ] Stopped ssh.service - OpenBSD Secure Shell server.\r\n"
                                     "[  OK  ] Reached target System Reboot.\r\n"
                                     "[ 7421.553190] reboot: Restarting system\r\n")
        self._boots.append(stop + boot)
        for hook in self.on_reboot:
            hook(self)
        tail = "" if self.silent or boot.rstrip().endswith(self.shell.prompt().rstrip()) else self.connect()
        return stop + boot + tail

    def sysrq(self, key: str) -> str:
        """What a Linux kernel prints for a Magic SysRq key."""
        if self.os == "windows":
            return ""
        key = key[:1]
        if key == "b":
            return "[ 7301.118322] sysrq: Resetting\r\n" + self.reboot(reset=True)
        if key == "h":
            return ("[ 7301.118322] sysrq: HELP : loglevel(0-9) reboot(b) crash(c) terminate-all-tasks(e) "
                    "memory-full-oom-kill(f) kill-all-tasks(i) thaw-filesystems(j) sak(k) "
                    "show-backtrace-all-active-cpus(l) show-memory-usage(m) nice-all-RT-tasks(n) poweroff(o) "
                    "show-registers(p) show-all-timers(q) unraw(r) sync(s) show-task-states(t) unmount(u) "
                    "show-blocked-tasks(w) dump-ftrace-buffer(z)\r\n")
        names = {"s": "Emergency Sync", "u": "Emergency Remount R/O", "e": "Terminate All Tasks",
                 "i": "Kill All Tasks", "m": "Show Memory", "t": "Show State", "w": "Show Blocked State"}
        name = names.get(key, "HELP")
        out = f"[ 7301.118322] sysrq: {name}\r\n"
        if key == "s":
            out += "[ 7301.121014] Emergency Sync complete\r\n"
        if key == "u":
            out += "[ 7301.124337] Emergency Remount complete\r\n"
        return out

    def nmi(self) -> str:
        """What a Linux kernel prints for an NMI (unknown reason; no panic unless configured)."""
        if self.os == "windows":
            return ""
        return ("[ 7302.511870] Uhhuh. NMI received for unknown reason 30 on CPU 0.\r\n"
                "[ 7302.511870] Do you have a strange power saving mode enabled?\r\n"
                "[ 7302.511870] Dazed and confused, but trying to continue\r\n")

    async def run_script(self, script: str, shell: str = "bash") -> tuple[str, str, int]:
        """Run a Run Command script as the VM agent does (root / SYSTEM): ``(stdout, stderr, exit code)``.

        Linux scripts go through the console's interpreter on this guest's state, so the fix is
        judged by :meth:`check` like a console fix; a script that reboots the VM reboots it.
        """
        if self.silent:
            raise LabError(f"{self.scenario}: the guest does not run anything (its kernel panicked)")
        if isinstance(self.shell, WindowsGuest):
            result = await run_powershell(self.shell, script)
        else:
            result = await run_bash(self.shell, script)
        if self.shell.mode == "rebooting":
            self.reboot()
        return result

    # ------------------------------------------------------------------ boot log
    def boot_log(self) -> bytes:
        """The serial log as boot diagnostics serves it: the original boots plus every reboot since."""
        if not self._boots:
            return self.original_log
        return (self._original_text() + "".join(self._boots)).encode("utf-8")

    def _original_text(self) -> str:
        text = self.original_log.rstrip(b"\x00").decode("utf-8", errors="replace")
        return text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\n", "\r\n")

    # ------------------------------------------------------------------ the check
    def check(self) -> CheckResult:
        """Judge the VM's current state against the scenario's fix."""
        kind = self.definition.get("check")
        judge = JUDGES.get(str(kind))
        if judge is None:
            return CheckResult(self.scenario, False, "this scenario has no console fix to check")
        passed, message = judge(self)
        return CheckResult(self.scenario, passed, message)


def load_guest(info: Any, boot_log: bytes | None = None, vm: str | None = None) -> Guest:
    """The scripted guest of a scenario's broken VM.

    Parameters
    ----------
    info
        The scenario's ``ScenarioInfo`` (name, broken_vm, guest, responder_ip, path).
    boot_log
        The VM's serial log; read from ``<scenario>/serial/<vm>.log`` when ``None``.
    vm
        The VM (default: the broken one); a known-good peer gets a healthy guest.
    """
    guest_fields = dict(getattr(info, "guest", {}) or {})
    try:
        definition = guest_definition(info.name)
    except LabError:  # no console story: a healthy guest, or a dead one after a kernel panic
        definition = _healthy({"os": guest_fields.get("os", "linux"), "issue": "Ubuntu 24.04.1 LTS",
                               "username": guest_fields.get("username", "azureuser"),
                               "password": guest_fields.get("password", "")})
        expected = getattr(getattr(info, "expected", None), "hypothesis", "")
        if expected == "boot_failure:kernel_panic":
            definition["silent"] = True
    definition = _with_facts(definition, dict(getattr(info, "facts", None) or _facts(info)))
    vm = vm or info.broken_vm
    if vm != info.broken_vm:
        definition = _healthy(definition)
    if boot_log is None:
        path = Path(getattr(info, "path", ".")) / "serial" / f"{vm}.log"
        boot_log = path.read_bytes() if path.is_file() else b""
    kernel = re.search(rb"Linux version (\S+)", boot_log)
    if kernel:
        definition = {**definition, "kernel": kernel.group(1).decode()}
    end = getattr(info, "window_end", None)
    if end is not None:
        stamp = end - dt.timedelta(minutes=45)
        definition = {**definition, "clock": stamp.strftime("%b %d %H:%M:%S"),
                      "clock_long": stamp.strftime("%a %Y-%m-%d %H:%M:%S UTC")}
    issue = re.findall(rb"\n\r?\r?\n?([A-Z][^\r\n]*?) \S+ ttyS0", boot_log)
    if issue:
        definition = {**definition, "issue": issue[-1].decode("utf-8", errors="replace").strip()}
    hostname = vm
    view = Path(getattr(info, "path", ".")) / "instance_views" / f"{vm}.json"
    if getattr(info, "scale_set", "") and view.is_file():  # an instance's host name is its computer name
        hostname = str((yaml.safe_load(view.read_text(encoding="utf-8")) or {}).get("computerName") or vm)
    return Guest(info.name, hostname, definition, boot_log, str(getattr(info, "responder_ip", "") or ""),
                 guest_fields.get("username"), guest_fields.get("password"))


_UBUNTU_SSHD_CONFIG = """
# This is the sshd server system-wide configuration file.  See
# sshd_config(5) for more information.

Include /etc/ssh/sshd_config.d/*.conf

#Port 22
#PermitRootLogin prohibit-password
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem	sftp	/usr/lib/openssh/sftp-server
""".lstrip()


def _facts(info: Any) -> dict[str, Any]:
    """The ``facts`` of the scenario's ``scenario.yaml`` (what the story says the guest holds)."""
    path = Path(getattr(info, "path", ".")) / "scenario.yaml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(data.get("facts") or {})


def _with_facts(definition: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """Let the scenario's facts override the guest data, so the console agrees with the evidence."""
    definition = dict(definition)
    files = dict(definition.get("files", {}))
    for key, path in (("rules_v4", "/etc/iptables/rules.v4"), ("fstab", "/etc/fstab"),
                      ("sshd_config", "/etc/ssh/sshd_config")):
        if isinstance(facts.get(key), str):
            files[path] = facts[key]
    definition["files"] = files
    if isinstance(facts.get("fstab_line"), str):
        remaining = [str(m) for m in facts.get("remaining_mounts", [])]
        devices = list(definition.get("devices", []))
        root = devices[0] if devices else "UUID=3f1b9a52-7c4e-4d2a-8e61-9b0c5d7e2f13"
        lines = ["# CLOUD_IMG: This file was created/modified by the Cloud Image build process",
                 f"{root}\t/\text4\tdiscard,commit=30,errors=remount-ro\t0 1"]
        lines += [f"{d}\t/boot/efi\tvfat\tumask=0077\t0 1" for d in devices[1:2]]
        for mount in remaining:
            device = f"UUID={uuid.uuid5(uuid.NAMESPACE_URL, mount)}"
            devices.append(device)
            lines.append(f"{device}\t{mount}\text4\tdefaults,nofail\t0\t2")
        line = str(facts["fstab_line"])
        if facts.get("mount_point") and facts.get("uuid"):  # the facts' own fields win (variants change them)
            fields = line.split()
            options = fields[3:] if len(fields) >= 6 else ["defaults", "0", "2"]
            line = "\t".join([f"UUID={facts['uuid']}", str(facts["mount_point"]),
                              fields[2] if len(fields) > 2 else "ext4", *options])
        lines.append(line)
        files["/etc/fstab"] = "\n".join(lines) + "\n"
        definition["devices"] = devices
    if isinstance(facts.get("sshd_config_file"), str) and facts.get("bad_option"):
        bad_line = int(facts.get("bad_line", 3))
        body = ["# Managed by build-agent -- local changes are overwritten on update",
                "PasswordAuthentication yes", "StreamLocalBindUnlink yes", "ClientAliveInterval 120",
                "ClientAliveCountMax 3"]
        intended = str(facts.get("intended_option", ""))
        body = [entry for entry in body if not intended or not entry.startswith(intended + " ")]
        while len(body) < bad_line:
            body.insert(1, "#")
        good = list(body)
        if intended:
            good.insert(bad_line - 1, f"{intended} yes")
        broken = list(good)
        broken[bad_line - 1] = broken[bad_line - 1].replace(intended, str(facts["bad_option"])) if intended \
            else f"{facts['bad_option']} yes"
        files[str(facts["sshd_config_file"])] = "\n".join(broken) + "\n"
        files["/etc/ssh/sshd_config"] = _UBUNTU_SSHD_CONFIG
        if facts.get("backup"):
            files[str(facts["backup"])] = "\n".join(good) + "\n"
    blocked = facts.get("blocked")
    if isinstance(blocked, list) and all(isinstance(b, dict) and "port" in b for b in blocked):
        definition["must_accept"] = [{"src": str(b.get("src", "203.0.113.10")), "port": int(b["port"])}
                                     for b in blocked]
    return definition


def _healthy(definition: dict[str, Any]) -> dict[str, Any]:
    """A known-good peer: the same image, with none of the broken VM's faults."""
    base: dict[str, Any] = {k: definition[k] for k in ("os", "issue", "username", "password") if k in definition}
    if definition.get("os") == "windows":
        services = {name: {**body, "start": "auto" if name == "TermService" else body.get("start", "demand")}
                    for name, body in definition.get("services", {}).items()}
        return {**base, "check": "none", "services": services, "registry": definition.get("registry", {})}
    devices = ["UUID=5e0a7c21-93bd-4f18-b6c2-1d8e4a9f7b30"]
    return {**base, "check": "none", "devices": devices, "files": {
        "/etc/fstab": f"{devices[0]}\t/\text4\tdiscard,errors=remount-ro\t0 1\n",
        "/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\nPasswordAuthentication yes\n"}}


def start_from_disk(scenario: str, hostname: str, definition: dict[str, Any], previous_log: bytes,
                    responder_ip: str = "", username: str | None = None, password: str | None = None,
                    started: dt.datetime | None = None, nvme: bool = False) -> Guest:
    """The guest of a VM just started from a disk holding ``definition`` (its ``files`` as they are now).

    Its boot log is that one boot (a started VM's serial log begins again), written from
    ``previous_log``, the last boot from the disk: a fixed disk boots to login, a broken one fails
    the same way again (and a panicking one stays silent). A boot that reaches login carries
    cloud-init's banner with ``started`` (default: now), so the boot's time is known. Windows on an
    NVMe controller (``nvme``) without its NVMe driver at boot stops with INACCESSIBLE_BOOT_DEVICE.
    """
    definition = copy.deepcopy(definition)
    probe = Guest(scenario, hostname, {**definition, "silent": False}, b"", responder_ip, username, password)
    if isinstance(probe.shell, WindowsGuest) and nvme and not probe.shell.boots_on_nvme():
        boot, reached = _INACCESSIBLE_BOOT, False
    elif isinstance(probe.shell, WindowsGuest):
        boot, reached = probe.shell.banner(), True
    else:
        text = previous_log.rstrip(b"\x00").decode("utf-8", errors="replace")
        boot, reached = start_boot(text.replace("\r\n", "\n").replace("\n", "\r\n"), probe.shell)
        if reached:
            boot = with_cloud_init(boot, started or dt.datetime.now(dt.UTC))
    definition["silent"] = bool(definition.get("silent")) and not reached
    return Guest(scenario, hostname, definition, boot.encode("utf-8"), responder_ip, username, password)
