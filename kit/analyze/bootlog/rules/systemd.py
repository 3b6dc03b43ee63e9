"""systemd and getty: emergency/rescue mode, a locked root account, PID 1 freezing, failed units,
time-outs, start jobs still running, targets, the switch out of the initramfs and the login prompt.

Mount and fsck failures belong to the ``fstab`` and ``filesystem`` rules (a device that never
appeared, "Timed out waiting for device …", is ``boot:fstab:device_timeout``); systemd inside an
initramfs (RHEL/dracut) to ``initramfs``; the Cryptography Setup start job to ``volume``.

Sources: systemd's own status and log messages (src/core/job.c ``job_done_messages`` /
``job_emit_done_status_message``, src/core/manager.c ``manager_print_jobs_in_progress``,
src/core/main.c ``freeze_or_exit_or_reboot``, src/core/emergency-action.c, units/emergency.service);
util-linux sulogin ("Cannot open access to console, the root account is locked");
gcpdiag ``gce/err/2021_005_mount_errors`` and runbook ``gce/constants.py`` (KERNEL_PANIC_LOGS:
emergency mode, "Give root password for maintenance", "(or press Control-D to continue)");
Microsoft, "Troubleshoot Linux VM boot issues due to fstab errors"
(learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-virtual-machine-cannot-start-fstab-errors).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register
from kit.analyze.bootlog.rules.network import NETWORK_UNITS

__all__ = ["RULE", "in_initrd", "unit_text"]

_FSTAB_DOCS = ("https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/"
               "linux-virtual-machine-cannot-start-fstab-errors")
_GCPDIAG = "GoogleCloudPlatform/gcpdiag:gcpdiag/runbook/gce/constants.py (KERNEL_PANIC_LOGS)"
_JOB_C = "systemd/systemd:src/core/job.c (job_done_messages)"
_MANAGER_C = "systemd/systemd:src/core/manager.c (manager_print_jobs_in_progress)"

# What an ellipsis leaves of a colour code it cut ("[0;1;…", "[0;1;", "[…") once the ESC byte is gone.
_COLOUR_LEFTOVER = re.compile(r"\x1b?\[(?:[0-9][0-9;]*)?(?:…|\.\.\.)|\x1b?\[[0-9]{1,3};[0-9;]*(?![0-9;m])")
_FSTAB_DEPENDENCY = re.compile(r"(?:^|- )/|Local File Systems|File System Check|\.mount\b|\.swap\b|^Swap$")
_DISTRO = re.compile(r"Ubuntu|Debian|Linux|SUSE")


def unit_text(text: str) -> str:
    """A unit name or description as printed, without colour leftovers, systemd's ``\\x2d``
    escapes or the sentence's last full stop (an ellipsis ``…`` systemd put there is kept)."""
    text = _COLOUR_LEFTOVER.sub("", text).replace("\\x2d", "-").replace("\\x2f", "/")
    text = re.sub(r"\s+", " ", text).strip()
    return text[:-1].rstrip() if text.endswith(".") and not text.endswith("...") else text


def in_initrd(line: str, context: Context) -> bool:
    """Whether ``line`` comes from systemd running inside the initramfs (dracut)."""
    return context.in_initrd or "dracut" in line or "Dracut" in line or "(Initramfs)" in line or "initrd" in line


def _emergency(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    if in_initrd(match.string, context):
        return None  # the initramfs rule reports dracut's emergency shell
    return signature.hit(match)


def _login(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    return signature.hit(match, summary=f"The login prompt was shown ({match.group('host')} login:): the OS "
                         "finished booting.")


def _dependency(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    unit = unit_text(match.group("unit"))
    if _FSTAB_DEPENDENCY.search(unit):
        return None  # the fstab rule reports these
    return signature.hit(match, summary=f"A unit did not start because something it needs failed: {unit}.")


def _failed_start(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    if NETWORK_UNITS.match(match.group("unit").rstrip(". ")):
        return None  # the guest's network service: boot:network:service_failed
    unit = unit_text(match.group("unit"))
    if not unit.strip("…. "):
        unit = "a unit whose name the console cut off"
    return signature.hit(match, summary=f"A systemd unit failed to start: {unit}.")


def _timeout(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    groups = match.groupdict()
    unit = unit_text(groups.get("unit") or "")
    if unit.endswith(".device") or "/dev/" in unit:
        return None  # a device that never appeared: boot:fstab:device_timeout
    action = (groups.get("action") or "start").lower()
    return signature.hit(match, summary=f"systemd timed out waiting for {unit} to {action} (its job was cancelled "
                         "and what depends on it did not start).")


def _job(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    unit = unit_text(match.group("unit"))
    if unit.startswith(("Cryptography Setup for", "systemd-cryptsetup@")):
        return None  # waiting for a passphrase: boot:volume:crypt_waiting
    which = f" ({match.group('n')} of {match.group('total')} jobs running)" if match.group("n") else ""
    limit = match.group("limit").strip()
    limit = "no time limit" if limit == "no limit" else f"limit {limit}"
    summary = (f"systemd has been waiting {match.group('elapsed').strip()} ({limit}) for the {match.group('type')} "
               f"job of {unit}{which}.")
    # the same wait, redrawn every second: one finding, the rest events. The console cuts the unit's
    # name at a different place as the timer grows, so the wait is known by the name's start.
    waited = context.notes.setdefault("systemd:jobs", set())
    key = (context.boot, unit[:16])
    if key in waited:
        return signature.hit(match, summary=summary, severity=None)
    waited.add(key)
    return signature.hit(match, summary=summary)


def _target(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    name = unit_text(match.group("name"))
    if " - " in name:
        name = name.split(" - ", 1)[0]
    stage = "initramfs" if in_initrd(match.string, context) or name.startswith("Initrd") else "systemd"
    return signature.hit(match, summary=f"systemd reached {name}.", stage=stage)


def _welcome(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    if "GRUB" in match.string or in_initrd(match.string, context):
        return None  # GRUB's banner, or systemd in the initramfs (the initramfs rule)
    return signature.hit(match, summary=f"systemd started the OS: {unit_text(match.group('os'))}.")


def _virtualization(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    return None if context.in_initrd else signature.hit(match)


def _banner(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    return signature.hit(match) if _DISTRO.search(match.string) else None


RULE = register(Rule("systemd", [
    Signature("boot:systemd:root_locked",
              r"Cannot open access to console, the root account is locked|root account is locked",
              "Emergency mode could not open a shell: the root account is locked, so the serial console cannot be "
              "used to repair from here (repair the disk offline, or boot with systemd.unit=... / init=/bin/bash).",
              severity="critical", os="linux", source="util-linux:login-utils/sulogin.c",
              samples=("Cannot open access to console, the root account is locked.",
                       "[  OK  ] Started Emergency Shell. Cannot open access to console, the root account is locked. "
                       "See sulogin(8) man page for more details. Press Enter to continue.")),
    Signature("boot:systemd:emergency_mode",
              r"You are in emergency mode|Welcome to emergency mode|"
              r"Reached target (?:emergency\.target - )?Emergency Mode|Reached target emergency\.target|"
              r"Started (?:emergency\.service - )?Emergency Shell|Started emergency\.service|"
              r"Give root password for maintenance|Press Enter for maintenance|"
              r"\(or (?:press|type) Control-D to continue\)",
              "systemd dropped to emergency mode: the boot stopped before the network and sshd started (often a "
              "failed mount from /etc/fstab).", build=_emergency, severity="critical", stage="systemd", os="linux",
              source=_FSTAB_DOCS,
              samples=("You are in emergency mode. After logging in, type \"journalctl -xb\" to view",
                       "Welcome to emergency mode! After logging in, type \"journalctl -xb\" to view system logs, "
                       "\"systemctl reboot\" to reboot, \"systemctl default\" to try again to boot into default mode.",
                       "[  OK  ] Reached target Emergency Mode.",
                       "[  OK  ] Reached target emergency.target - Emergency Mode.",
                       "[  OK  ] Started emergency.service - Emergency Shell.",
                       "Give root password for maintenance",
                       "(or press Control-D to continue):")),
    Signature("boot:systemd:rescue_mode",
              r"You are in rescue mode|Welcome to rescue mode|Reached target (?:rescue\.target - )?Rescue Mode|"
              r"Reached target rescue\.target|Started (?:rescue\.service - )?Rescue Shell",
              "systemd is in rescue mode: sshd and the network are not started.", severity="critical",
              stage="systemd", os="linux", source=_GCPDIAG,
              samples=("You are in rescue mode. After logging in, type \"journalctl -xb\" to view",
                       "[  OK  ] Reached target Rescue Mode.",
                       "[  OK  ] Started rescue.service - Rescue Shell.")),
    Signature("boot:systemd:freezing", r"Freezing execution",
              "systemd (PID 1) froze execution after a fatal error: the VM hangs with nothing running until it is "
              "restarted (the lines just before say why).", severity="critical", os="linux",
              source="systemd/systemd:src/core/main.c (freeze_or_exit_or_reboot)",
              samples=("[    1.734512] systemd[1]: Freezing execution.",
                       "Freezing execution.",
                       "Nov 25 09:14:02 vm-01 systemd[1]: Freezing execution.")),
    Signature("boot:systemd:login_prompt", r"^\s*(?!Last login)(?P<host>[A-Za-z0-9][A-Za-z0-9._-]{0,62}) login:",
              build=_login, severity="info", stage="login", os="linux",
              samples=("vm-web-01 login: ", "rhel9-db.internal.cloudapp.net login:")),
    Signature("boot:systemd:switch_root", r"Switching root",
              "The initramfs switched to the real root file system.", stage="systemd", os="linux",
              samples=("[    3.512331] systemd[1]: Switching root.",)),
    Signature("boot:systemd:getty", r"Started (?:Serial )?Getty on |Started (?:serial-getty|getty)@",
              "A getty started on the console.", stage="multi-user", os="linux",
              samples=("[  OK  ] Started Serial Getty on ttyS0.",
                       "[  OK  ] Started serial-getty@ttyS0.service - Serial Getty on ttyS0.")),
    Signature("boot:systemd:dependency_failed", r"Dependency failed for (?P<unit>.+?)\s*$", build=_dependency,
              severity="warning", os="linux", source=_JOB_C,
              samples=("[DEPEND] Dependency failed for Relabel all filesystems, if necessary.",
                       "[DEPEND] Dependency failed for cloud-init.service - Initial cloud-init job.")),
    Signature("boot:systemd:unit_failed", r"Failed to start (?P<unit>.+?)\s*$", build=_failed_start,
              severity="warning", os="linux", source=_JOB_C,
              samples=("[FAILED] Failed to start Wait for Network to be Configured.",
                       "[FAILED] Failed to start nginx.service - A high performance web server.",
                       "[FAILED] Failed to start chronyd.servic… - NTP client/server.")),
    Signature("boot:systemd:unit_failed",
              r"(?P<unit>\S+\.(?:service|socket|target|timer|path)): Failed with result '(?P<result>[^']+)'",
              "{unit} failed ({result}).", severity="warning", os="linux",
              source="systemd/systemd:src/core/service.c (service_enter_dead)",
              samples=("Nov 25 09:14:02 vm-01 systemd[1]: nginx.service: Failed with result 'exit-code'.",)),
    Signature("boot:systemd:timeout", r"Timed out (?P<action>starting|stopping|reloading) (?P<unit>.+?)\s*$",
              build=_timeout, severity="error", os="linux", source=_JOB_C,
              samples=("[ TIME ] Timed out starting Wait for Network to be Configured.",
                       "[ TIME ] Timed out stopping cloud-final.service - Execute cloud user/final scripts.")),
    Signature("boot:systemd:timeout",
              r"(?P<unit>\S+\.(?:service|socket|mount|swap|target)): (?P<action>Start|Stop|Reload) operation timed out",
              build=_timeout, severity="error", os="linux",
              source="systemd/systemd:src/core/service.c (service_dispatch_timer)",
              samples=("[   95.120331] systemd[1]: cloud-init.service: Start operation timed out. Terminating.",)),
    Signature("boot:systemd:timeout", r"Job (?P<unit>\S+)/(?P<action>start|stop|reload|restart) timed out",
              build=_timeout, severity="error", os="linux", source=_JOB_C,
              samples=("Nov 25 09:15:32 vm-01 systemd[1]: Job nginx.service/start timed out.",)),
    Signature("boot:systemd:job_running",
              r"(?:\((?P<n>\d+) of (?P<total>\d+)\) )?A (?P<type>start|stop|reload|restart|verify-active) job is "
              r"running for (?P<unit>.+?) \((?P<elapsed>[^/()]+) / (?P<limit>[^()]+)\)",
              build=_job, severity="warning", os="linux", source=_MANAGER_C,
              samples=("[ ***  ] A start job is running for /dev/disk/by-uuid/6f0c1a7e-3b4d (1min 17s / 1min 30s)",
                       "[  *** ] (2 of 3) A start job is running for Wait for Network to be Configured (41s / 2min)",
                       "[   **] A stop job is running for Session 3 of user azureuser (12s / no limit)")),
    Signature("boot:systemd:job_running",
              r"(?:\((?P<n>\d+) of (?P<total>\d+)\) )?Job (?P<unit>\S+)/(?P<type>[a-z-]+) running "
              r"\((?P<elapsed>[^/()]+) / (?P<limit>[^()]+)\)",
              build=_job, severity="warning", os="linux", source=_MANAGER_C,
              samples=("[ ***  ] (2 of 2) Job dev-mapper-var.device/start running (1min 17s / 1min 30s)",
                       "[*     ] Job systemd-networkd-wait-online.service/start running (1min 2s / 2min)")),
    Signature("boot:systemd:multi_user",
              r"Reached target (?:(?:multi-user|graphical)\.target|Multi-User System|Graphical Interface)",
              "systemd reached the multi-user target: services are up.", severity="info", stage="multi-user",
              os="linux",
              samples=("[  OK  ] Reached target Multi-User System.",
                       "[  OK  ] Reached target multi-user.target - Multi-User System.",
                       "[  OK  ] Reached target Graphical Interface.")),
    Signature("boot:systemd:target", r"Reached target (?P<name>.+?)\s*$", build=_target, stage="systemd", os="linux",
              samples=("[  OK  ] Reached target network-online.target - Network is Online.",
                       "[  OK  ] Reached target Local File Systems.")),
    Signature("boot:systemd:start", r"Welcome to (?P<os>.+?)!", build=_welcome, stage="systemd", os="linux",
              samples=("Welcome to Ubuntu 22.04.3 LTS!",)),
    Signature("boot:systemd:virtualization", r"Detected virtualization", "systemd detected the hypervisor.",
              build=_virtualization, stage="systemd", os="linux",
              samples=("[    3.801000] systemd[1]: Detected virtualization microsoft.",)),
    Signature("boot:systemd:login_banner", r"\b(?:ttyS0|tty1|hvc0)\s*$", "The console login banner was shown.",
              build=_banner, stage="multi-user", os="linux",
              samples=("Ubuntu 22.04.3 LTS vm-web-01 ttyS0",)),
]))
