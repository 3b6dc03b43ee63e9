"""Render whole Linux boots (Ubuntu 24.04 and RHEL 9 on Azure) onto a serial
:class:`~kit.lab.scenarios._render.serial.Console`.

A boot is a dict from the story: ``at`` (kernel start, UTC), ``kind`` (``normal``,
``fstab_emergency``, ``sshd_fail``, ``no_initrd_panic``), optional ``kernel``, ``events`` (dated
lines after the login prompt) and ``end`` (``{"at", "how": "reboot"|"poweroff"}``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from kit.lab.scenarios._render import kernel_text as KT
from kit.lab.scenarios._render import rhel_text as RT
from kit.lab.scenarios._render import systemd_text as ST
from kit.lab.scenarios._render.common import hexid, ts
from kit.lab.scenarios._render.failures import (
    expand_events,
    fstab_emergency,
    kernel_panic_no_initrd,
    sshd_fail,
)
from kit.lab.scenarios._render.guest_sections import mount_unit, sections_for
from kit.lab.scenarios._render.images import IMAGES
from kit.lab.scenarios._render.serial import Console

__all__ = ["boot_linux"]

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _fill(text: str, params: dict[str, Any]) -> str:
    """Substitute ``{name}`` placeholders (leaving the ``{u:unit}`` markers to :class:`~kit.lab.scenarios._render.serial.Console`)."""
    return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), text)


def _guest_params(story: dict[str, Any], vm: dict[str, Any], boot: dict[str, Any]) -> dict[str, Any]:
    """The ``{placeholder}`` values of one boot's templates (hardware, kernel, disks, network, versions)."""
    image = IMAGES[vm["image"]]
    kernel = boot.get("kernel", vm.get("kernel", image["kernel"]))
    mem_gib = vm.get("mem_gib", 16)
    mem_top = f"{0x100000000 + (mem_gib - 1) * 2**30 - 1:016x}"
    mac = story["_mac"][vm["name"]].replace("-", ":").lower()
    pci_dom = int(hexid(story["name"], vm["name"], "pci", length=4), 16)
    subnet = ipaddress.ip_network(story["_subnet_prefix"][vm["name"]])
    os_blocks = image["os_disk_gb"] * 2**30 // 512
    temp_gib = vm.get("temp_gib", 150)
    partuuid = story.get("partuuid", {}).get(vm["name"]) or _uuid(story, vm, "partuuid")
    params = {
        "host": vm.get("hostname", vm["name"]), "kernel": kernel, "kernel_build": image["kernel_build"] if kernel == image["kernel"] else image["kernel_builds"][kernel],
        "partuuid": partuuid, "cpus": vm.get("cpus", 4), "mem_top": mem_top,
        "last_pfn": f"{(0x100000000 + (mem_gib - 1) * 2**30) >> 12:x}",
        "node_data": f"{int(mem_top, 16) - 0x2bfff:016x}-{int(mem_top, 16):016x}",
        "pages": (mem_gib * 2**30 // 4096) - 71000,
        "mem_total": mem_gib * 1048576 - 524404, "mem_avail": mem_gib * 1048576 - 934580,
        "rtc": boot["_at"].strftime("%Y-%m-%dT%H:%M:%S"), "epoch": int(boot["_at"].timestamp()),
        "vmbus_guid": _vmbus_guid(mac), "pci_guid": f"{pci_dom:04x}0001-b3cb-4e79-a0b5-{hexid(vm['name'], 'pcig', length=12)}",
        "pci_dom": f"{pci_dom:04x}", "pci_dom_dec": pci_dom,
        "os_blocks": os_blocks, "os_gb_dec": f"{os_blocks * 512 / 1e9:.1f}", "os_gib": f"{image['os_disk_gb']:.1f}",
        "temp_blocks": temp_gib * 2**30 // 512, "temp_gb_dec": f"{temp_gib * 2**30 / 1e9:.0f}", "temp_gib": f"{temp_gib:.0f}",
        "systemd": image.get("systemd", "255.4-1ubuntu8.4"), "systemd_short": "255.4-1ubuntu8.4",
        "systemd_features": image["systemd_features"],
        "distro": image["distro"], "os_id": image["os_name"], "os_version": image["os_version"],
        "rdma_distro": "Red Hat Enterprise Linux" if image["distro"] == "rhel" else "Ubuntu",
        "ssh_unit": image["ssh_unit"].split(" - ")[0], "ssh_desc": image["ssh_unit"].split(" - ")[1],
        "inodes": 3870720, "inodes_used": 81000 + int(hexid(vm["name"], "ino", length=4), 16) % 20000,
        "fs_blocks": 7574011, "blocks_used": 1050000 + int(hexid(vm["name"], "blk", length=5), 16) % 400000,
        "rootfs_uuid": _uuid(story, vm, "rootfs"), "pretty": image["pretty"], "mac": mac,
        "ip": vm["ip"], "gw": str(subnet.network_address + 1), "net": str(subnet.network_address),
        "mask": str(subnet.netmask), "prefixlen": subnet.prefixlen,
        "cloud_init": image["cloud_init"], "waagent": image["waagent"], "agent_goal": image["agent_goal"],
    }
    params["cmdline"] = _fill(image["cmdline"], params)
    params["boot_image"] = params["cmdline"].split()[0]
    return params


def _uuid(story: dict[str, Any], vm: dict[str, Any], what: str) -> str:
    h = hexid(story["name"], vm["name"], what)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _vmbus_guid(mac: str) -> str:
    m = mac.replace(":", "")
    return f"{m[:8]}-{m[8:12]}-{m[:4]}-{m[4:8]}-{m[8:12]}{m[:8]}"


_NO_INITRD = ("initramfs", "RAMDISK", "INITRD=", "Run /init", "Freeing unused", "initrd memory")


def _render_template(con: Console, template: str, params: dict[str, Any], *, accelerated: bool,
                    data_disks: list[dict[str, Any]], no_initrd: bool = False,
                    subst: dict[str, str | None] | None = None, shift: float = 0.0) -> None:
    """Write a kernel template of :mod:`~kit.lab.scenarios._render.kernel_text` (``@ACCEL``/``@DATA`` lines too)."""
    for line in template.strip("\n").splitlines():
        if no_initrd and any(marker in line for marker in _NO_INITRD):
            continue
        if subst:
            head, _, text = line.partition("|")
            if text in subst:
                if subst[text] is None:
                    continue
                line = f"{head}|{subst[text]}"
        if line.startswith("@ACCEL "):
            if not accelerated:
                continue
            line = line[len("@ACCEL "):]
        if line.startswith("@DATA "):
            up, text = line[len("@DATA "):].split("|", 1)
            for i, disk in enumerate(data_disks):
                con.kern(_fill(text, {**params, **disk}), float(up) + shift + i * 0.002)
            continue
        up, text = line.split("|", 1)
        con.kern(_fill(text, params), float(up) + shift)


def _systemd_lines(con: Console, template: str, params: dict[str, Any], sections: dict[str, Any]) -> None:
    """Walk a systemd status template, calling ``sections[name](con)`` at each ``#NAME`` marker."""
    for line in template.strip("\n").splitlines():
        if line.startswith("#"):
            hook = sections.get(line[1:])
            if hook:
                hook(con)
            continue
        kind, text = line.split(" ", 1)
        text = _fill(text, params)
        if kind == "OK":
            con.ok(text)
        else:
            con.starting(text)


def boot_linux(con: Console, story: dict[str, Any], vm: dict[str, Any], boot: dict[str, Any]) -> None:
    """One whole boot, from GRUB to the login prompt (or to the failure), then its events and end."""
    boot["_at"] = ts(boot["at"])
    con.new_boot(boot["_at"])
    p = _guest_params(story, vm, boot)
    kind = boot.get("kind", "normal")
    disks = [dict(d, blocks=d["size_gb"] * 2**30 // 512, gb_dec=f"{d['size_gb'] * 2**30 / 1e9:.1f}",
                  gib=f"{d['size_gb']:.1f}") for d in boot.get("guest_disks", vm.get("guest_disks", []))]
    accel = vm.get("accelerated", True)
    # GRUB on the serial terminal: it clears the screen and (for a new kernel) says what it loads.
    con.plain("\x1b[0m\x1b[30m\x1b[40m\x1b[2J\x1b[01;01H\x1b[0m\x1b[37m\x1b[40m", end="")
    if boot.get("grub_echo") or kind == "no_initrd_panic":
        con.plain(f"Loading Linux {p['kernel']} ...")
        if kind == "no_initrd_panic":
            con.plain(f"error: file `/boot/initrd.img-{p['kernel']}' not found.")
            con.plain("")
            con.plain("Press any key to continue...")
            con.plain("")
            con.plain("")
        else:
            con.plain("Loading initial ramdisk ...")
    rhel = p["distro"] == "rhel"
    _render_template(con, KT.UBUNTU_KERNEL, p, accelerated=accel, data_disks=disks,
                    no_initrd=kind == "no_initrd_panic", subst=RT.KERNEL_SUBST if rhel else None)
    if kind == "no_initrd_panic":
        kernel_panic_no_initrd(con, p)
        return
    if rhel:
        _rhel_initrd(con, p, accel, disks)
    else:
        _ubuntu_initramfs(con, p, accel, disks)
    con.plain("")
    con.plain(f"Welcome to \x1b[0;31m{p['pretty']}\x1b[0m!" if rhel else f"Welcome to \x1b[1m{p['pretty']}\x1b[0m!")
    con.plain("")
    con.kern(f"systemd[1]: Hostname set to <{p['host']}>.", 3.20 if rhel else 1.20)
    con.kern("systemd[1]: Queued start job for default target graphical.target." if not rhel
             else "systemd[1]: Queued start job for default target multi-user.target.", 3.46 if rhel else 1.46)
    _main_boot(con, story, vm, boot, p, disks, kind, rhel)


def _ubuntu_initramfs(con: Console, p: dict[str, Any], accel: bool, disks: list[dict[str, Any]]) -> None:
    for text in KT.UBUNTU_INITRAMFS_TEXT[:4]:
        con.plain(_fill(text, p))
    _render_template(con, KT.UBUNTU_INITRAMFS_MODULES, p, accelerated=accel, data_disks=disks)
    for text in KT.UBUNTU_INITRAMFS_TEXT[4:]:
        con.plain(_fill(text.replace("[[0.61]]", ""), p))
    con.kern(_fill(KT.UBUNTU_ROOT_MOUNT, p), 0.95)
    for text in KT.UBUNTU_INITRAMFS_TAIL:
        con.plain(text)
    _render_template(con, KT.SYSTEMD_KERNEL, p, accelerated=accel, data_disks=disks)


def _rhel_initrd(con: Console, p: dict[str, Any], accel: bool, disks: list[dict[str, Any]]) -> None:
    """dracut: systemd runs in the initrd, finds the LVM root, mounts XFS, switches root, loads SELinux."""
    _render_template(con, KT.SYSTEMD_KERNEL, p, accelerated=accel, data_disks=[], shift=-0.8)
    con.kern("systemd[1]: Running in initrd.")
    con.plain("")
    con.plain(f"Welcome to \x1b[0;31m{p['pretty']} dracut-057-53.git20240104.el9 (Initramfs)\x1b[0m!")
    con.plain("")
    _systemd_lines(con, RT.INITRD_BEFORE_MODULES, p, {})
    modules = KT.UBUNTU_INITRAMFS_MODULES.replace(" sda: sda1 sda14 sda15 sda16", " sda: sda1 sda2 sda3 sda4")
    _render_template(con, modules, p, accelerated=accel, data_disks=disks)

    def xfs_root(c: Console) -> None:
        c.kern("SGI XFS with ACLs, security attributes, scrub, quota, no debug enabled", 1.62)
        c.kern(f"XFS (dm-0): Mounting V5 Filesystem {p['rootfs_uuid']}")
        c.kern("XFS (dm-0): Ending clean mount", 1.71)

    _systemd_lines(con, RT.INITRD_AFTER_MODULES, p, {"XFS_ROOT": xfs_root})
    con.kern("systemd-journald[236]: Received SIGTERM from PID 1 (systemd).", 2.05)
    con.kern("audit: type=1404 audit(1.998:2): enforcing=1 old_enforcing=0 auid=4294967295 ses=4294967295 enabled=1 old-enabled=1 lsm=selinux res=1", 2.21)
    con.kern("SELinux:  policy capability network_peer_controls=1", 2.30)
    con.kern("SELinux:  policy capability open_perms=1")
    con.kern("SELinux:  policy capability extended_socket_class=1")
    con.kern("SELinux:  policy capability always_check_network=0")
    con.kern("SELinux:  policy capability cgroup_seclabel=1")
    con.kern("SELinux:  policy capability nnp_nosuid_transition=1")
    con.kern("SELinux:  policy capability genfs_seclabel_symlinks=1")
    con.kern("audit: type=1403 audit(2.313:3): auid=4294967295 ses=4294967295 lsm=selinux res=1", 2.44)
    con.kern("systemd[1]: Successfully loaded SELinux policy in 171.224ms.", 2.58)
    con.kern("systemd[1]: Relabelled /dev, /dev/shm, /run, /sys/fs/cgroup in 24.611ms.", 2.61)
    _render_template(con, KT.SYSTEMD_KERNEL, p, accelerated=accel, data_disks=[], shift=1.5)


def _main_boot(con: Console, story: dict[str, Any], vm: dict[str, Any], boot: dict[str, Any], p: dict[str, Any],
               disks: list[dict[str, Any]], kind: str, rhel: bool) -> None:
    sections = sections_for(story, vm, boot, p, disks)
    if kind == "fstab_emergency":
        sections["MOUNTS"] = lambda c: fstab_emergency(c, p, boot, disks)
        cut = ST.UBUNTU_BOOT.split("OK Reached target {u:local-fs.target}")[0]
        _systemd_lines(con, RT.convert_units(cut) if rhel else cut, p, sections)
        return
    if kind == "sshd_fail":
        sections["SSH"] = lambda c: sshd_fail(c, p, boot)
    _systemd_lines(con, RT.convert_units(ST.UBUNTU_BOOT) if rhel else ST.UBUNTU_BOOT, p, sections)
    for _at, line in sorted(expand_events(boot.get("events", []), con.rnd), key=lambda x: x[0]):
        line(con, p)
    if boot.get("end"):
        gone = set(boot.get("detached_mounts", []))
        _shutdown(con, story, vm, boot, p, [d for d in disks if d["mount"] not in gone])


def _shutdown(con: Console, story: dict[str, Any], vm: dict[str, Any], boot: dict[str, Any],
             p: dict[str, Any], disks: list[dict[str, Any]]) -> None:
    end = boot["end"]
    con.until(ts(end["at"]))
    how = end["how"]
    params = dict(p, action="poweroff" if how == "poweroff" else "reboot",
                  action_title="Power Off" if how == "poweroff" else "Reboot")
    app_stop = [(unit, desc) for unit, desc, *verb in reversed(vm.get("services", [])) if not verb]

    def stop_apps(c: Console) -> None:
        for unit, desc in app_stop:
            c.starting(f"Stopping {{u:{unit}}} - {desc}...")
        for unit, desc in app_stop:
            c.advance(0.05 + c.rnd.random() * 0.4)
            c.ok(f"Stopped {{u:{unit}}} - {desc}.")

    def unmount(c: Console) -> None:
        for d in disks:
            unit = mount_unit(d["mount"])
            c.starting(f"Unmounting {{u:{unit}}} - {d['mount']}...")
            c.ok(f"Unmounted {{u:{unit}}} - {d['mount']}.")

    template = RT.convert_units(ST.UBUNTU_SHUTDOWN) if p["distro"] == "rhel" else ST.UBUNTU_SHUTDOWN
    for unit in boot.get("dead_units", []):
        template = "\n".join(line for line in template.splitlines() if "{u:" + unit + "}" not in line)
    _systemd_lines(con, template, params,
                  {"UNMOUNT": unmount, "APP_STOP": stop_apps})
    con.advance(0.4)
    for text in ["Syncing filesystems and block devices.", "Sending SIGTERM to remaining processes..."]:
        con.kern(f"systemd-shutdown[1]: {text}")
    con.advance(0.05)
    con.kern("systemd-journald[331]: Received SIGTERM from PID 1 (systemd-shutdown).")
    con.advance(0.1)
    for text in ["Sending SIGKILL to remaining processes...", "Unmounting file systems."]:
        con.kern(f"systemd-shutdown[1]: {text}")
    if p["distro"] == "rhel":
        con.kern("[2871]: Remounting '/' read-only with options 'seclabel,attr2,inode64,logbufs=8,logbsize=32k,noquota'.")
    else:
        con.kern("[2871]: Remounting '/' read-only with options 'discard,errors=remount-ro,commit=30'.")
        con.kern(f"EXT4-fs (sda1): re-mounted {p['rootfs_uuid']} ro. Quota mode: none.")
    for text in ["All filesystems unmounted.", "Deactivating swaps.", "All swaps deactivated.",
                 "Detaching loop devices.", "All loop devices detached.", "Stopping MD devices.",
                 "All MD devices stopped.", "Detaching DM devices.", "All DM devices detached.",
                 "All filesystems, swaps, loop devices, MD devices and DM devices detached.",
                 "Syncing filesystems and block devices.",
                 "Powering off." if how == "poweroff" else "Rebooting."]:
        con.kern(f"systemd-shutdown[1]: {text}")
    con.advance(0.03)
    con.kern("reboot: Power down" if how == "poweroff" else "reboot: Restarting system")
