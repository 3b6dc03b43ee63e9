"""What goes wrong on the console: emergency mode after a stale fstab entry, sshd refusing its
configuration, a kernel without its initramfs, and dated events after the login prompt."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kit.lab.scenarios._render.common import iso, plus, ts
from kit.lab.scenarios._render.guest_sections import device_unit, mount_disks, mount_unit
from kit.lab.scenarios._render.serial import Console

__all__ = ["EventWriter", "expand_events", "fstab_emergency", "kernel_panic_no_initrd", "sshd_fail"]

#: Writes one dated console line after the login prompt: ``writer(console, guest parameters)``.
EventWriter = Callable[[Console, dict[str, Any]], None]

_PANIC_TRACE = [
    "dump_stack_lvl+0x76/0xa0",
    "dump_stack+0x10/0x20",
    "panic+0x366/0x3c0",
    "mount_root_generic+0x2a5/0x2f0",
    "mount_root+0x106/0x170",
    "? __pfx_kernel_init+0x10/0x10",
    "prepare_namespace+0x1b0/0x220",
    "kernel_init_freeable+0x18c/0x1c0",
    "kernel_init+0x1b/0x1f0",
    "ret_from_fork+0x44/0x70",
    "? __pfx_kernel_init+0x10/0x10",
    "ret_from_fork_asm+0x1b/0x30",
]


def fstab_emergency(con: Console, p: dict[str, Any], boot: dict[str, Any], disks: list[dict[str, Any]]) -> None:
    """systemd waits 90 s for the retired disk's UUID, gives up, and drops to the emergency shell."""
    stale = boot["stale_mount"]
    uuid, mount = stale["uuid"], stale["mount"]
    unit = mount_unit(mount)
    fsck = f"systemd-fsck@{device_unit(uuid)[:-len('.device')]}.service"
    con.ok("Found device {u:dev-disk-by\\x2dlabel-UEFI.device} - Virtual_Disk UEFI.")
    mount_disks(con, p, disks)
    con.at_uptime(91.6)
    con.timeout(f"Timed out waiting for device {{u:{device_unit(uuid)}}} - /dev/disk/by-uuid/{uuid}.")
    con.depend(f"Dependency failed for {{u:{unit}}} - {mount}.")
    con.depend("Dependency failed for {u:local-fs.target} - Local File Systems.")
    con.depend(f"Dependency failed for {{u:{fsck}}} - File System Check on /dev/disk/by-uuid/{uuid}.")
    con.ok("Stopped target {u:graphical.target} - Graphical Interface.")
    con.ok("Stopped target {u:multi-user.target} - Multi-User System.")
    con.ok("Reached target {u:network-pre.target} - Preparation for Network.")
    con.starting("Starting {u:apparmor.service} - Load AppArmor profiles...")
    con.starting("Starting {u:systemd-tmpfiles-setup.service} - Create Volatile Files and Directories...")
    con.ok("Finished {u:systemd-tmpfiles-setup.service} - Create Volatile Files and Directories.")
    con.ok("Finished {u:apparmor.service} - Load AppArmor profiles.")
    con.starting("Starting {u:systemd-update-utmp.service} - Record System Boot/Shutdown in UTMP...")
    con.ok("Finished {u:systemd-update-utmp.service} - Record System Boot/Shutdown in UTMP.")
    con.ok("Started {u:emergency.service} - Emergency Shell.")
    con.ok("Reached target {u:emergency.target} - Emergency Mode.")
    con.starting("Starting {u:systemd-update-utmp-runlevel.service} - Record Runlevel Change in UTMP...")
    con.ok("Finished {u:systemd-update-utmp-runlevel.service} - Record Runlevel Change in UTMP.")
    for text in ['You are in emergency mode. After logging in, type "journalctl -xb" to view',
                 'system logs, "systemctl reboot" to reboot, "systemctl default" or "exit"',
                 "to boot into default mode."]:
        con.plain(text, end="\r\r\n")
    con.plain("Give root password for maintenance", end="\r\r\n")
    con.plain("(or press Control-D to continue): ", end="")


def sshd_fail(con: Console, p: dict[str, Any], boot: dict[str, Any]) -> None:
    """ssh.service fails to start: sshd rejects an option of its configuration."""
    bad = boot["sshd"]
    pid = 1000 + len(p["host"]) * 7
    con.starting("Starting {u:ssh.service} - OpenBSD Secure Shell server...")
    con.kern(f"sshd[{pid}]: {bad['file']} line {bad['line']}: Bad configuration option: {bad['option']}")
    con.kern(f"sshd[{pid}]: {bad['file']}: terminating, 1 bad configuration options")
    con.kern("systemd[1]: ssh.service: Main process exited, code=exited, status=255/EXCEPTION")
    con.kern("systemd[1]: ssh.service: Failed with result 'exit-code'.")
    con.failed("Failed to start {u:ssh.service} - OpenBSD Secure Shell server.")
    con.plain("See 'systemctl status ssh.service' for details.")


def kernel_panic_no_initrd(con: Console, p: dict[str, Any]) -> None:
    """The kernel, booted without its initramfs, cannot mount root and panics."""
    con.kern("List of all partitions:", 0.302)
    con.kern("No filesystem could mount root, tried: ")
    con.kern("")
    reason = "VFS: Unable to mount root fs on unknown-block(0,0)"
    con.kern(f"Kernel panic - not syncing: {reason}")
    build = p["kernel_build"].split(" #", 1)[1].split(" SMP")[0]
    con.kern(f"CPU: 1 PID: 1 Comm: swapper/0 Not tainted {p['kernel']} #{build}")
    con.kern("Hardware name: Microsoft Corporation Virtual Machine/Virtual Machine, BIOS Hyper-V UEFI Release v4.1 08/23/2024")
    con.kern("Call Trace:")
    con.kern(" <TASK>")
    for frame in _PANIC_TRACE:
        con.kern(f" {frame}")
    con.kern(" </TASK>")
    con.kern("Kernel Offset: 0x2c200000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)")
    con.kern(f"---[ end Kernel panic - not syncing: {reason} ]---")


def expand_events(events: list[dict[str, Any]], rnd: random.Random) -> list[tuple[datetime, EventWriter]]:
    """Dated console events -> ``(moment, writer)`` pairs, one per line, to be sorted by time.

    Kinds: ``agent`` (the Azure Linux Agent's dated console lines), ``kernel`` (one kernel line),
    ``ufw_block``/``fw_drop`` (netfilter LOG lines, ``prefix`` as logged: a series of dropped SYNs: new connections every ``every`` seconds, or with
    ``backoff`` one connection's SYN retransmissions, 1 s, 2 s, 4 s, ... apart, same source port).
    """
    out: list[tuple[datetime, EventWriter]] = []
    for ev in events:
        start = ts(ev["at"])
        kind = ev["kind"]
        if kind == "agent":
            moment = plus(start, rnd.random() * 0.0009)
            for text in ev["lines"]:
                out.append((moment, _agent_line(moment, text)))
                moment = plus(moment, 0.004 + rnd.random() * 0.08)
        elif kind == "kernel":
            out.append((start, _kernel_line(start, ev["text"])))
        elif kind in ("ufw_block", "fw_drop"):
            offset = 0.0
            for i in range(ev.get("count", 1)):
                if i:
                    offset += (1 << (i - 1)) * 1.0 + rnd.random() * 0.004 if ev.get("backoff") else ev.get("every", 1.0) + rnd.random() * 0.3
                spt = ev.get("spt", 50000) + (0 if ev.get("backoff") else i * 2 + (i * 7919) % 13)
                moment = plus(start, offset)
                out.append((moment, _ufw_line(moment, ev, spt, (ev.get("id", 40000) + i * 4099 + spt) % 65536)))
        else:
            raise ValueError(f"unknown console event kind {kind!r}")
    return out


def _agent_line(moment: datetime, text: str) -> EventWriter:
    def write(con: Console, p: dict[str, Any]) -> None:
        con.until(moment)
        con.plain(f"{iso(moment, 6)} {text}")
    return write


def _kernel_line(moment: datetime, text: str) -> EventWriter:
    def write(con: Console, p: dict[str, Any]) -> None:
        con.until(moment)
        con.kern(text)
    return write


def _ufw_line(moment: datetime, ev: dict[str, Any], spt: int, ident: int) -> EventWriter:
    def write(con: Console, p: dict[str, Any]) -> None:
        con.until(moment)
        con.kern(
            f"{ev.get('prefix', '[UFW BLOCK] ')}IN=eth0 OUT= MAC={p['mac']}:12:34:56:78:9a:bc:08:00 SRC={ev['src']} DST={p['ip']} "
            f"LEN=60 TOS=0x00 PREC=0x00 TTL={ev.get('ttl', 52)} ID={ident} DF PROTO=TCP "
            f"SPT={spt} DPT={ev['dport']} WINDOW=64240 RES=0x00 SYN URGP=0 ")
    return write
