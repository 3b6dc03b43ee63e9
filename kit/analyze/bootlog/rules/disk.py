"""Full disks: "No space left on device" (naming the path or device when the line prints one), auditd
stopping or halting the VM because its log partition is full, and systemd-journald running out of room.

Sources: gcpdiag ``gce/warn_2021_004`` (serial logs don't contain disk full messages) and its runbook's
``DISK_EXHAUSTION_ERRORS`` (gcpdiag/runbook/gce/constants.py); the audit daemon's src/auditd-event.c
(``do_space_left_action``, ``do_disk_full_action``, ``do_disk_error_action``) and auditd.conf(5)
(``space_left_action``, ``admin_space_left_action``, ``disk_full_action`` = HALT/SINGLE/SUSPEND);
Azure ALAR's ``auditd`` action (Azure/ALAR src/action_implementation/auditd-impl.sh, run by
``az vm repair run --run-id linux-alar2 --parameters auditd``), which turns HALT into SYSLOG and grows the
full audit-log volume; systemd-journald's src/journal/journald-server.c (``shall_try_append_again``,
``server_space_usage_message``); the kernel's fs/ext4/inode.c (``ext4_print_free_blocks``); Windows' disk
full messages (event 2013 "The C: disk is at or near capacity").
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_AUDITD = "linux-audit/audit-userspace src/auditd-event.c; auditd.conf(5); Azure/ALAR auditd-impl.sh"
_JOURNALD = "systemd src/journal/journald-server.c"
_GCPDIAG = "gcpdiag gce/warn_2021_004 (disk full serial messages)"
#: ENOSPC from a kernel limit, not a full disk: inotify watches, cgroups, namespaces, keyrings, BPF maps.
_NOT_A_DISK = re.compile(r"inotify|[Ww]atch|cgroup|control group|namespace|keyring|BPF|bpf|semaphore|epoll")
_QUOTED = re.compile(r"""['"‘`“]((?:/|[A-Za-z]:\\)[^'"’`”\s]*)['"’`”]""")
_PATH = re.compile(r"(?<![\w/:.])(/(?:[\w.+@%~-]+/?)+)")
_DEVICE = re.compile(r"(?:\bdev(?:ice)?[ =]|\()(?P<dev>(?:sd|vd|xvd|hd|nvme|mmcblk|dm-|md)[\w-]*)\b")
_PROGRAM = re.compile(r"(?:^|\s)(?P<prog>[\w.@-]{2,40})(?:\[\d+\])?: ")


def _where(line: str, before: int) -> str:
    """The path (or device) a disk-full line names, else the program that printed it; "" if none."""
    quoted = _QUOTED.search(line)
    if quoted:
        return quoted.group(1)
    paths = [m.group(1).rstrip("/.:,") or "/" for m in _PATH.finditer(line[:before])]
    if paths:
        return paths[-1]
    device = _DEVICE.search(line)
    if device:
        return device.group("dev")
    return ""


def _no_space(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    line = match.string
    if _NOT_A_DISK.search(line):
        return None
    where = _where(line, match.start())
    if where.startswith("/") or where[1:3] == ":\\":
        summary = f"A write to {where} failed: its file system is full (No space left on device)."
    elif where:
        summary = f"The file system on {where} is full (No space left on device)."
    else:
        program = next((m.group("prog") for m in _PROGRAM.finditer(line[: match.start()])
                        if not m.group("prog").startswith(("kernel", "error", "Error"))), "")
        summary = (f"{program} could not write: a file system is full (No space left on device)." if program
                   else "A write failed: a file system is full (No space left on device).")
    return signature.hit(match, summary=summary)


def _auditd_halt(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    single = "single user" in match.group("action")
    if "write error" in match.string:
        why, setting = "it could not write its log", "disk_error_action"
    elif "no space left" in match.string:
        why, setting = "its log partition is full", "disk_full_action"
    else:
        why, setting = "its log partition is nearly full", "space_left_action or admin_space_left_action"
    what = "switched the VM to single-user mode (network and sshd stop)" if single else "halted the VM"
    fix = "SINGLE" if single else "HALT"
    return signature.hit(match, summary=(
        f"auditd {what} because {why} ({setting}={fix} in /etc/audit/auditd.conf): it does so again on every boot "
        "until the audit log partition has room (ALAR's auditd action fixes both)."))


def _journal_write(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    path = match.group("path") or "its journal"
    return signature.hit(match, summary=f"systemd-journald could not write to {path}: {match.group('error')} "
                                        "(the journal's file system is full); new log messages are lost.")


RULE = register(Rule("disk", [
    Signature("boot:disk:auditd_halt",
              r"The audit daemon is now (?P<action>halting the system|changing the system to single user mode)",
              build=_auditd_halt, severity="critical", os="linux", source=_AUDITD,
              samples=("Nov 25 09:42:01 vm-01 auditd[854]: The audit daemon is now halting the system",
                       "[  41.233101] auditd[854]: The audit daemon is now halting the system due to no space left "
                       "on logging partition",
                       "auditd[854]: The audit daemon is now changing the system to single user mode due to no space "
                       "left on logging partition",
                       "auditd[854]: The audit daemon is now halting the system due to previously mentioned write "
                       "error.")),
    Signature("boot:disk:no_space",
              r"Audit daemon (?:has no space left on logging partition|is suspending logging due to no space left "
              r"on logging partition)",
              "auditd's log partition is full (the file system holding /var/log/audit): auditd stops logging, or "
              "halts the VM when disk_full_action=HALT.",
              severity="error", os="linux", source=_AUDITD,
              samples=("Nov 25 09:42:01 vm-01 auditd[854]: Audit daemon has no space left on logging partition",
                       "auditd[854]: Audit daemon is suspending logging due to no space left on logging partition.")),
    Signature("boot:disk:auditd_low_space",
              r"Audit daemon is (?:very )?low on disk space for logging|"
              r"Audit daemon is suspending logging due to low disk space",
              "auditd's log partition is low on space (space_left / admin_space_left reached): with "
              "admin_space_left_action=HALT auditd halts the VM next.",
              severity="warning", os="linux", source=_AUDITD,
              samples=("Mar 12 08:46:01 vm-01 auditd[854]: Audit daemon is low on disk space for logging",
                       "auditd[854]: Audit daemon is very low on disk space for logging",
                       "auditd[854]: Audit daemon is suspending logging due to low disk space.")),
    Signature("boot:disk:journal_full",
              r"Failed to write entry(?: to (?P<path>\S+))? \([^)]*\)(?: despite vacuuming)?, ignoring: "
              r"(?P<error>No space left on device|Disk quota exceeded|File too large)",
              build=_journal_write, severity="warning", os="linux", source=_JOURNALD,
              samples=("[  12.400211] systemd-journald[412]: Failed to write entry (22 items, 705 bytes), ignoring: "
                       "No space left on device",
                       "Nov 25 09:14:02 vm-01 systemd-journald[412]: Failed to write entry to "
                       "/var/log/journal/4b1c2d3e/system.journal (21 items, 612 bytes) despite vacuuming, ignoring: "
                       "No space left on device")),
    Signature("boot:disk:journal_full",
              r"Failed to (?:open|create new) (?P<which>system|runtime|user) journal: No space left on device",
              "systemd-journald could not open its {which} journal: the file system is full (No space left on "
              "device).", severity="warning", os="linux", source=_JOURNALD,
              samples=("[   3.100221] systemd-journald[412]: Failed to open system journal: No space left on device",)),
    Signature("boot:disk:journal_full",
              r"(?P<which>System|Runtime) [Jj]ournal \((?P<path>[^)]+)\) is (?P<used>\S+), max (?P<max>\S+), 0B free",
              "The {which} journal ({path}) is full: {used} of its {max} limit used and 0B free, so journald "
              "deletes old entries to write new ones.",
              severity="warning", os="linux", explains=False, source=_JOURNALD + " (server_space_usage_message)",
              samples=("[   3.121004] systemd-journald[412]: System Journal (/var/log/journal/4b1c2d3e) is 3.9G, "
                       "max 3.9G, 0B free.",)),
    Signature("boot:disk:no_space",
              r"EXT4-fs \((?P<dev>[^)]+)\): Delayed block allocation failed for inode (?P<inode>\d+) .*with error 28",
              "The ext4 file system on {dev} is full: delayed block allocation for inode {inode} failed with error "
              "28 (ENOSPC) and the data being written was lost.",
              severity="error", os="linux", source="kernel fs/ext4/inode.c (mpage_map_and_submit_extent)",
              samples=("[ 9123.441020] EXT4-fs (sda1): Delayed block allocation failed for inode 1839291 at logical "
                       "offset 0 with max blocks 2 with error 28",)),
    Signature("boot:disk:no_space", r"No usable temporary directory found in (?P<dirs>\[[^\]]*\])",
              "No temporary directory is writable ({dirs}): the file systems holding them are full.",
              severity="error", os="linux", source=_GCPDIAG,
              samples=("FileNotFoundError: [Errno 2] No usable temporary directory found in ['/tmp', '/var/tmp', "
                       "'/usr/tmp', '/']",)),
    Signature("boot:disk:no_space", r"No space left on device",
              build=_no_space, severity="error", os="linux", source=_GCPDIAG,
              samples=("cp: error writing '/boot/initrd.img-5.15.0-1052-azure.new': No space left on device",
                       "Nov 25 09:14:02 vm-01 cloud-init[812]: OSError: [Errno 28] No space left on device: "
                       "'/var/lib/cloud/instances/4b1c/obj.pkl'",
                       "2026-11-25T09:14:02.123456+00:00 vm-01 sshd[812]: error: cannot create /run/sshd.pid: "
                       "No space left on device",
                       "gzip: stdout: No space left on device",
                       "write error: No space left on device")),
    Signature("boot:disk:no_space", r"There is not enough space on the disk",
              "Windows could not write: the disk is full (There is not enough space on the disk).",
              severity="error", os="windows", source="Windows ERROR_DISK_FULL (0x70) message text",
              samples=("The operation failed: There is not enough space on the disk.",)),
    Signature("boot:disk:near_full", r"The (?P<drive>[A-Z]:) disk is at or near capacity",
              "Windows reports the {drive} disk at or near capacity (event 2013).",
              severity="warning", os="windows",
              source="Windows srv event 2013; gcpdiag runbook DISK_EXHAUSTION_ERRORS ('disk is at or near capacity')",
              samples=("EVENT: The C: disk is at or near capacity. You may need to delete some files.",)),
]))
