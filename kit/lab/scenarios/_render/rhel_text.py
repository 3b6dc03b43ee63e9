"""What differs on a RHEL 9 guest: kernel-line substitutions, the dracut initramfs (systemd in the
initrd, LVM root on XFS, SELinux), and unit names in the main boot and shutdown. (The login banner
is written by :mod:`~kit.lab.scenarios._render.guest_sections`.)"""

from __future__ import annotations

# Ubuntu kernel lines -> RHEL 9 (None drops the line).
__all__ = ["INITRD_AFTER_MODULES", "INITRD_BEFORE_MODULES", "KERNEL_SUBST", "convert_units"]

KERNEL_SUBST = {
    "LSM: initializing lsm=lockdown,capability,landlock,yama,apparmor,ima,evm": "LSM: initializing lsm=lockdown,capability,yama,integrity,selinux,bpf",
    "landlock: Up and running.": None,
    "AppArmor: AppArmor initialized": "SELinux:  Initializing.",
    "AppArmor: AppArmor Filesystem Enabled": None,
    "Loaded X.509 cert 'Canonical Ltd. Live Patch Signing: 14df34d1a87cf37625abec039ef2bf521249b969'": "Loaded X.509 cert 'Red Hat Enterprise Linux kernel signing key: 6b1a2f3c9d7e0a4b8c5d2e1f0a9b8c7d6e5f4a3b'",
    "Loaded X.509 cert 'Canonical Ltd. Kernel Module Signing: 88f752e560a1e0737e31163a466ad7b70a850c19'": "Loaded X.509 cert 'Red Hat Enterprise Linux Driver Update Program (key 3): bf57f3e87362bc7229d9f465321773dfd1f77a80'",
    "Dynamic Preempt: voluntary": "Dynamic Preempt: voluntary",
    "printk: legacy bootconsole [earlyser0] enabled": "printk: bootconsole [earlyser0] enabled",
    "printk: legacy console [tty1] enabled": "printk: console [tty1] enabled",
    "printk: legacy console [ttyS0] enabled": "printk: console [ttyS0] enabled",
    "printk: legacy bootconsole [earlyser0] disabled": "printk: bootconsole [earlyser0] disabled",
}

INITRD_BEFORE_MODULES = r"""
OK Reached target {u:initrd-usr-fs.target} - Initrd /usr File System.
OK Reached target {u:local-fs.target} - Local File Systems.
OK Reached target {u:slices.target} - Slice Units.
OK Reached target {u:swap.target} - Swaps.
OK Reached target {u:timers.target} - Timer Units.
OK Listening on {u:systemd-journald-audit.socket} - Journal Audit Socket.
OK Listening on {u:systemd-journald-dev-log.socket} - Journal Socket (/dev/log).
OK Listening on {u:systemd-journald.socket} - Journal Socket.
OK Listening on {u:systemd-udevd-control.socket} - udev Control Socket.
OK Listening on {u:systemd-udevd-kernel.socket} - udev Kernel Socket.
OK Reached target {u:sockets.target} - Socket Units.
ST Starting {u:kmod-static-nodes.service} - Create List of Static Device Nodes...
ST Starting {u:systemd-journald.service} - Journal Service...
ST Starting {u:systemd-modules-load.service} - Load Kernel Modules...
OK Finished {u:kmod-static-nodes.service} - Create List of Static Device Nodes.
OK Finished {u:systemd-modules-load.service} - Load Kernel Modules.
OK Started {u:systemd-journald.service} - Journal Service.
ST Starting {u:dracut-cmdline.service} - dracut cmdline hook...
OK Finished {u:dracut-cmdline.service} - dracut cmdline hook.
ST Starting {u:systemd-udevd.service} - Rule-based Manager for Device Events and Files...
OK Started {u:systemd-udevd.service} - Rule-based Manager for Device Events and Files.
ST Starting {u:systemd-udev-trigger.service} - Coldplug All udev Devices...
OK Finished {u:systemd-udev-trigger.service} - Coldplug All udev Devices.
"""

INITRD_AFTER_MODULES = r"""
OK Found device {u:dev-mapper-rootvg\x2drootlv.device} - /dev/mapper/rootvg-rootlv.
OK Reached target {u:initrd-root-device.target} - Initrd Root Device.
ST Starting {u:systemd-fsck-root.service} - File System Check on /dev/mapper/rootvg-rootlv...
OK Finished {u:systemd-fsck-root.service} - File System Check on /dev/mapper/rootvg-rootlv.
ST Mounting {u:sysroot.mount} - /sysroot...
#XFS_ROOT
OK Mounted {u:sysroot.mount} - /sysroot.
OK Reached target {u:initrd-root-fs.target} - Initrd Root File System.
ST Starting {u:initrd-parse-etc.service} - Mountpoints Configured in the Real Root...
OK Finished {u:initrd-parse-etc.service} - Mountpoints Configured in the Real Root.
OK Reached target {u:initrd-fs.target} - Initrd File Systems.
OK Reached target {u:initrd.target} - Initrd Default Target.
ST Starting {u:dracut-pre-pivot.service} - dracut pre-pivot and cleanup hook...
OK Finished {u:dracut-pre-pivot.service} - dracut pre-pivot and cleanup hook.
ST Starting {u:initrd-cleanup.service} - Cleaning Up and Shutting Down Daemons...
OK Stopped target {u:initrd.target} - Initrd Default Target.
OK Stopped target {u:initrd-root-device.target} - Initrd Root Device.
OK Stopped {u:dracut-pre-pivot.service} - dracut pre-pivot and cleanup hook.
OK Stopped {u:systemd-udevd.service} - Rule-based Manager for Device Events and Files.
OK Finished {u:initrd-cleanup.service} - Cleaning Up and Shutting Down Daemons.
OK Reached target {u:initrd-switch-root.target} - Switch Root.
ST Starting {u:initrd-switch-root.service} - Switch Root...
"""

# Ubuntu unit lines -> RHEL (a substring of the unit marker; None drops the line).
_UNIT_SUBST = {
    "{u:ssh.service} - OpenBSD Secure Shell server": "{u:sshd.service} - OpenSSH server daemon",
    "{u:walinuxagent.service} - Azure Linux Agent": "{u:waagent.service} - Azure Linux Agent",
    "{u:chrony.service} - chrony, an NTP client/server": "{u:chronyd.service} - NTP client/server",
    "{u:hv-kvp-daemon.service} - Hyper-V KVP Protocol Daemon": "{u:hypervkvpd.service} - Hyper-V KVP daemon",
    "{u:systemd-networkd.service} - Network Configuration": "{u:NetworkManager.service} - Network Manager",
    "{u:systemd-networkd-wait-online.service} - Wait for Network to be Configured": "{u:NetworkManager-wait-online.service} - Network Manager Wait Online",
    "{u:apt-daily.timer} - Daily apt download activities": "{u:dnf-makecache.timer} - dnf makecache --timer",
    "{u:logrotate.timer} - Daily rotation of log files": "{u:logrotate.timer} - Daily rotation of log files",
    "{u:motd-news.timer} - Message of the Day": "{u:insights-client-boot.service} - Run Insights Client at boot",
    "{u:console-setup.service} - Set console font and keymap": "{u:systemd-vconsole-setup.service} - Setup Virtual Console",
}
_UNIT_DROP = ("apparmor", "snapd", "ufw.service", "apt-daily-upgrade", "dpkg-db-backup", "e2scrub_all", "man-db",
             "keyboard-setup", "iscsid.socket", "uuidd.socket", "systemd-resolved", "systemd-timesyncd",
             "time-set.target", "systemd-networkd.socket", "systemd-pcrextend", "syslog.socket", "lvm2-lvmpolld",
             "boot-efi.mount", "label-BOOT", "boot.mount", "graphical.target")


def convert_units(template: str) -> str:
    """The Ubuntu systemd template, rewritten for RHEL 9."""
    out = []
    for line in template.splitlines():
        if any(drop in line for drop in _UNIT_DROP):
            continue
        for old, new in _UNIT_SUBST.items():
            if old in line:
                line = line.replace(old, new)
        out.append(line)
    return "\n".join(out)
