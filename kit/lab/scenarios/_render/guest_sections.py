"""The sections of a healthy Ubuntu boot that carry per-VM detail: mounts, cloud-init (dated
"Up N seconds" lines and ci-info tables), the Azure Linux Agent's console lines, ssh, the login prompt."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from kit.lab.scenarios._render.common import iso, rfc2822
from kit.lab.scenarios._render.serial import Console

__all__ = ["device_unit", "mount_disks", "mount_unit", "sections_for"]


def _table(title: str, header: list[str], rows: list[list[str]], fill_char: str = "+") -> list[str]:
    """A cloud-init ci-info table (prettytable, centred cells)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) + 2 for i, h in enumerate(header)]
    rule = "+" + "+".join("-" * w for w in widths) + "+"
    total = len(rule)
    pad = total - len(title)
    banner = fill_char * (pad // 2) + title + fill_char * (pad - pad // 2)

    def row(cells: list[str]) -> str:
        return "|" + "|".join(c.center(w) for c, w in zip(cells, widths, strict=True)) + "|"

    return [banner, rule, row(header), rule, *(row(r) for r in rows), rule]


def _link_local(mac: str) -> str:
    parts = mac.split(":")
    first = f"{int(parts[0], 16) ^ 2:02x}"
    return f"fe80::{int(first + parts[1], 16):x}:{parts[2]}ff:fe{parts[3]}:{int(parts[4] + parts[5], 16):x}/64"


def device_unit(uuid: str) -> str:
    """systemd's escaped device unit for /dev/disk/by-uuid/UUID."""
    return "dev-disk-by\\x2duuid-" + uuid.replace("-", "\\x2d") + ".device"


def mount_unit(mount: str) -> str:
    """systemd's mount unit for a mount point (``/srv/data`` → ``srv-data.mount``)."""
    return mount.strip("/").replace("/", "-") + ".mount"


def mount_disks(c: Console, p: dict[str, Any], disks: list[dict[str, Any]]) -> None:
    """The data disks found, then ``/boot``, ``/boot/efi`` and each data disk mounted (XFS on RHEL, ext4 on Ubuntu)."""
    for d in disks:
        c.ok(f"Found device {{u:{device_unit(d['uuid'])}}} - Virtual_Disk {posixpath.basename(d['mount'].rstrip('/'))}.")
    rhel = p["distro"] == "rhel"
    if rhel:
        c.starting("Mounting {u:boot.mount} - /boot...")
        c.kern(f"XFS (sda3): Mounting V5 Filesystem {p['rootfs_uuid'][:9]}77e1-{p['rootfs_uuid'][14:]}", 3.61)
        c.kern("XFS (sda3): Ending clean mount")
    else:
        c.starting("Starting {u:systemd-fsck@dev-disk-by\\x2dlabel-BOOT.service} - File System Check on /dev/disk/by-label/BOOT...")
        c.ok("Finished {u:systemd-fsck@dev-disk-by\\x2dlabel-BOOT.service} - File System Check on /dev/disk/by-label/BOOT.")
        c.starting("Mounting {u:boot.mount} - /boot...")
        c.kern(f"EXT4-fs (sda16): mounted filesystem {p['rootfs_uuid'][:9]}b0c1-{p['rootfs_uuid'][14:]} r/w with ordered data mode. Quota mode: none.", 2.61)
    c.ok("Mounted {u:boot.mount} - /boot.")
    c.starting("Mounting {u:boot-efi.mount} - /boot/efi...")
    c.ok("Mounted {u:boot-efi.mount} - /boot/efi.")
    for d in disks:
        unit = mount_unit(d["mount"])
        c.starting(f"Mounting {{u:{unit}}} - {d['mount']}...")
        if rhel:
            c.kern(f"XFS ({d['dev']}1): Mounting V5 Filesystem {d['uuid']}")
            c.kern(f"XFS ({d['dev']}1): Ending clean mount")
        else:
            c.kern(f"EXT4-fs ({d['dev']}1): mounted filesystem {d['uuid']} r/w with ordered data mode. Quota mode: none.")
        c.ok(f"Mounted {{u:{unit}}} - {d['mount']}.")


def _ci(con: Console, pid: int, text: str) -> None:
    con.kern(f"cloud-init[{pid}]: {text}")


def _cloud_init_banner(con: Console, p: dict[str, Any], pid: int, stage: str) -> None:
    _ci(con, pid, f"Cloud-init v. {p['cloud_init']} running '{stage}' at {rfc2822(con.now())}. Up {con.t:.2f} seconds.")


def sections_for(story: dict[str, Any], vm: dict[str, Any], boot: dict[str, Any], p: dict[str, Any],
                 disks: list[dict[str, Any]]) -> dict[str, Callable[[Console], None]]:
    """The writers of a healthy boot's per-VM sections, by the ``#NAME`` marker of the systemd template."""
    accel = vm.get("accelerated", True)
    pids = {"local": 560 + len(vm["name"]) * 3, "init": 702 + len(vm["name"]), "config": 1004, "final": 1187}

    def mounts(c: Console) -> None:
        mount_disks(c, p, disks)

    def cloud_init_local(c: Console) -> None:
        c.starting("Starting {u:cloud-init-local.service} - Cloud-init: Local Stage (pre-network)...")
        c.at_uptime(3.02)
        _cloud_init_banner(c, p, pids["local"], "init-local")
        c.at_uptime(5.71)
        c.ok("Finished {u:cloud-init-local.service} - Cloud-init: Local Stage (pre-network).")

    def cloud_init_init(c: Console) -> None:
        c.starting("Starting {u:cloud-init.service} - Cloud-init: Network Stage...")
        c.at_uptime(6.37)
        _cloud_init_banner(c, p, pids["init"], "init")
        mac = p["mac"]
        rows = [["eth0", "True", p["ip"], p["mask"], "global", mac],
                ["eth0", "True", _link_local(mac), ".", "link", mac]]
        if accel:
            rows.append([f"enP{p['pci_dom_dec']}s1", "True", ".", ".", ".", mac])
        rows += [["lo", "True", "127.0.0.1", "255.0.0.0", "host", "."], ["lo", "True", "::1/128", ".", "host", "."]]
        for line in _table("Net device info", ["Device", "Up", "Address", "Mask", "Scope", "Hw-Address"], rows):
            _ci(c, pids["init"], f"ci-info: {line}")
        routes = [["0", "0.0.0.0", p["gw"], "0.0.0.0", "eth0", "UG"],
                  ["1", p["net"], "0.0.0.0", p["mask"], "eth0", "U"],
                  ["2", "168.63.129.16", p["gw"], "255.255.255.255", "eth0", "UGH"],
                  ["3", "169.254.169.254", p["gw"], "255.255.255.255", "eth0", "UGH"]]
        for line in _table("Route IPv4 info", ["Route", "Destination", "Gateway", "Genmask", "Interface", "Flags"], routes):
            _ci(c, pids["init"], f"ci-info: {line}")
        r6 = [["1", "fe80::/64", "::", "eth0", "U"], ["3", "local", "::", "eth0", "U"], ["4", "multicast", "::", "eth0", "U"]]
        if accel:
            r6.insert(1, ["2", "fe80::/64", "::", f"enP{p['pci_dom_dec']}s1", "U"])
        for line in _table("Route IPv6 info", ["Route", "Destination", "Gateway", "Interface", "Flags"], r6):
            _ci(c, pids["init"], f"ci-info: {line}")
        c.at_uptime(7.9)
        c.ok("Finished {u:cloud-init.service} - Cloud-init: Network Stage.")

    def app(c: Console) -> None:
        c.at_uptime(8.4)
        agent(c)
        for unit, desc, *verb in vm.get("services", []):
            c.starting(f"Starting {{u:{unit}}} - {desc}...")
            c.ok(f"{verb[0] if verb else 'Started'} {{u:{unit}}} - {desc}.")

    def agent(c: Console) -> None:
        lines = [
            f"INFO Daemon Daemon Azure Linux Agent Version: {p['waagent']}",
            f"INFO Daemon Daemon OS: {p['os_id']} {p['os_version']}",
            f"INFO Daemon Daemon Python: {'3.9.18' if p['distro'] == 'rhel' else '3.12.3'}",
            "INFO Daemon Daemon Run daemon",
            f"INFO Daemon Daemon No RDMA handler exists for distro='{p['rdma_distro']}' version='{p['os_version']}'",
            "INFO Daemon Daemon Clean protocol and wireserver endpoint",
            "INFO Daemon Daemon Provisioning already completed, skipping.",
            "INFO Daemon Daemon RDMA capabilities are not enabled, skipping",
            "INFO Daemon Daemon Determined Agent WALinuxAgent-" + p["agent_goal"] + " to be the latest agent",
            "INFO ExtHandler ExtHandler Wire server endpoint:168.63.129.16",
            "INFO ExtHandler ExtHandler Fetched a new incarnation for the WireServer goal state [incarnation " + str(boot.get("incarnation", 7)) + "]",
            "INFO ExtHandler ExtHandler Fetch goal state from WireServer completed",
            "INFO ExtHandler ExtHandler ProcessExtensionsGoalState started [incarnation_" + str(boot.get("incarnation", 7)) + "]",
            "INFO ExtHandler ExtHandler ProcessExtensionsGoalState completed [incarnation_" + str(boot.get("incarnation", 7)) + " " + str(40 + len(vm["name"])) + " ms]",
        ]
        for text in lines:
            c.advance(0.004 + c.rnd.random() * 0.09)
            c.plain(f"{iso(c.now(), 6)} {text}")

    def ssh(c: Console) -> None:
        c.starting(f"Starting {{u:{p['ssh_unit']}}} - {p['ssh_desc']}...")
        c.ok(f"Started {{u:{p['ssh_unit']}}} - {p['ssh_desc']}.")

    def cloud_init_config(c: Console) -> None:
        c.starting("Starting {u:cloud-config.service} - Cloud-init: Config Stage...")
        c.at_uptime(9.6)
        _cloud_init_banner(c, p, pids["config"], "modules:config")
        c.ok("Finished {u:cloud-config.service} - Cloud-init: Config Stage.")

    def cloud_init_final(c: Console) -> None:
        c.starting("Starting {u:cloud-final.service} - Cloud-init: Final Stage...")
        c.at_uptime(10.3)
        _cloud_init_banner(c, p, pids["final"], "modules:final")
        c.at_uptime(10.55)
        _ci(c, pids["final"], f"Cloud-init v. {p['cloud_init']} finished at {rfc2822(c.now())}. Datasource DataSourceAzure [seed=/dev/sr0].  Up {c.t:.2f} seconds")
        c.ok("Finished {u:cloud-final.service} - Cloud-init: Final Stage.")
        c.ok("Reached target {u:cloud-init.target} - Cloud-init target.")

    def login(c: Console) -> None:
        c.advance(0.9)
        if p["distro"] == "rhel":
            for line in ["", p["pretty"], f"Kernel {p['kernel']} on an x86_64", "",
                         "Activate the web console with: systemctl enable --now cockpit.socket", ""]:
                c.plain(line, end="\r\r\n")
            c.plain(f"{p['host']} login: ", end="")
            return
        c.plain("", end="\r\r\n")
        c.plain(f"{p['pretty']} {p['host']} ttyS0", end="\r\r\n")
        c.plain("", end="\r\r\n")
        c.plain(f"{p['host']} login: ", end="")

    return {"MOUNTS": mounts, "CLOUD_INIT_LOCAL": cloud_init_local, "CLOUD_INIT_INIT": cloud_init_init,
            "APP": app, "SSH": ssh, "CLOUD_INIT_CONFIG": cloud_init_config, "CLOUD_INIT_FINAL": cloud_init_final,
            "LOGIN": login}
