"""Offline fixes for a broken VM's OS disk, run on a repair VM where a copy of it is attached.

Each script finds the copy with ``lsblk`` (the unmounted ext4/xfs/btrfs file system holding
``/etc/fstab``, after LVM volume groups are activated; its ``/boot`` when that is a partition of its
own: the unmounted one labelled ``BOOT`` on Azure's Ubuntu images, else the ``UUID=`` the copy's
fstab gives it, as on RHEL), mounts it at ``/rescue``, fixes it, prints what it changed and unmounts
it. Plain bash, one command a line, so it runs the same through Run Command on Azure and in the lab::

    facts = facts_from_boot_log(serial_log_text)       # {"mount_point": "/datadrive"} …
    script = fix_script("boot_failure:fstab", facts)

Fixes: ``boot_failure:fstab`` (the failing entry commented out, or ``nofail`` added to every entry
but ``/`` when the boot log does not say which, after a backup ``/etc/fstab.kit-<stamp>``);
``boot_failure:kernel_panic`` (the initramfs regenerated in a chroot for the kernel that panicked,
or with ``boot_previous_kernel`` the previous kernel made GRUB's default), both with GRUB's config
rebuilt and the serial console (``console=ttyS0``) kept on the kernel command line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kit.analyze.repair_scripts_windows import windows_fix_script
from kit.errors import UsageError

__all__ = ["FINDINGS", "distribution_family", "facts_from_boot_log", "fix_script"]

#: Finding kinds with an offline fix, and what it does.
FINDINGS = {
    "boot_failure:fstab": "comment out the fstab entry whose device is missing (or add nofail), with a backup",
    "boot_failure:kernel_panic": "regenerate the initramfs of the installed kernel in a chroot (or boot the previous "
                                 "kernel), rebuild the GRUB config, keep the serial console on",
}
_ONLINE = {"guest_firewall", "service_failure:sshd", "service_failure:rdp"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MOUNT_FAILED = re.compile(r"Dependency failed for \S+\.mount - (/\S*?)\.?\s*$", re.M)
_KERNEL = re.compile(r"Linux version (\S+)")
_SAFE_MOUNT = re.compile(r"/[A-Za-z0-9._/+-]*")
_SAFE_KERNEL = re.compile(r"[0-9][A-Za-z0-9._+-]*")
_FAMILIES = {"debian": ("ubuntu", "debian"), "rhel": ("redhat", "centos", "almalinux", "rocky", "oracle", "ol"),
             "suse": ("sles", "opensuse")}

_FIND = """\
set -eu
# The copy was attached just before this runs: let udev finish with it, or lsblk shows no file system on it.
udevadm settle --timeout=60
# LVM roots (RHEL's LVM images): their logical volumes show once the volume group is active.
[ ! -x /usr/sbin/vgchange ] || vgchange -ay
# The copy of the broken VM's OS disk: the unmounted ext4/xfs/btrfs file system that holds /etc/fstab (this VM's
# own root is mounted on /, its resource disk on /mnt; a separate /boot, first on RHEL, holds none). A label is no
# help: the copy of an Ubuntu image carries cloudimg-rootfs like this VM's own root, Debian's and RHEL's none.
FIELDS=NAME,FSTYPE,LABEL,MOUNTPOINT
mkdir -p /rescue
CANDIDATES=$(lsblk -rnpo $FIELDS | grep -E ' (ext4|xfs|btrfs) [^ ]* $' | cut -d ' ' -f 1)
for DEV in $CANDIDATES; do mount "$DEV" /rescue || continue; [ ! -f /rescue/etc/fstab ] || break; umount /rescue; done
[ -f /rescue/etc/fstab ] || { echo "kit: no unmounted file system has /etc/fstab: is the copy attached?" >&2; exit 3; }
ROOT=$DEV
# Its /boot, when that is a partition of its own: Ubuntu's is labelled BOOT (as this VM's own is, so it is the
# unmounted one); others are named by UUID in the copy's fstab (never a /dev/sdX name: that is this VM's disk).
BOOT=$(lsblk -rnpo NAME,LABEL,MOUNTPOINT | grep ' BOOT $' | cut -d ' ' -f 1 | head -n 1)
BOOTSPEC=$(grep -E '^(UUID|PARTUUID)=\\S+\\s+/boot\\s' /rescue/etc/fstab | awk '{print $1}' | head -n 1 || true)
echo "kit: OS disk copy: root $ROOT, boot partition $BOOT$BOOTSPEC"
[ -z "$BOOT" ] || mount "$BOOT" /rescue/boot
[ -n "$BOOT" ] || [ -z "$BOOTSPEC" ] || mount "$BOOTSPEC" /rescue/boot
"""
_DONE = """\
# Files edited from this VM carry no SELinux label: a guest that enforces SELinux relabels them at its next boot.
[ ! -f /rescue/etc/selinux/config ] || touch /rescue/.autorelabel
sync
umount -R /rescue
echo "kit: fix applied; /rescue unmounted"
"""


def fix_script(finding_kind: str, facts: Mapping[str, Any] | None = None, *, os_type: str = "linux",
               stamp: str | None = None) -> str:
    """The bash script that fixes ``finding_kind`` on the OS disk copy attached to a repair VM.

    Parameters
    ----------
    finding_kind
        ``boot_failure:fstab`` or ``boot_failure:kernel_panic``.
    facts
        What the evidence says: ``mount_point`` (the fstab entry that failed), ``new_kernel`` (the
        kernel that panicked), ``previous_kernel`` and ``boot_previous_kernel`` (boot that one instead).
    os_type
        ``linux``, or ``windows`` for a Windows repair VM's PowerShell
        (:func:`~kit.analyze.repair_scripts_windows.windows_fix_script`).
    stamp
        The backup suffix (default: now, UTC).

    Raises
    ------
    UsageError
        A finding with no offline fix for the OS, or facts that are not plain names.
    """
    facts = dict(facts or {})
    if os_type.lower() == "windows":
        return windows_fix_script(finding_kind, stamp=stamp)
    if finding_kind in _ONLINE:
        raise UsageError(f"{finding_kind} is fixed in the running guest, not on a repair VM: use "
                         "`kit run-command --fix` or the serial console (kit console)")
    if finding_kind not in FINDINGS:
        raise UsageError(f"no offline fix for {finding_kind!r}; the kit repairs: {', '.join(FINDINGS)}")
    stamp = stamp or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if finding_kind == "boot_failure:fstab":
        return _FIND + _fstab(_checked(facts.get("mount_point"), _SAFE_MOUNT, "mount_point"), stamp) + _DONE
    return _FIND + _kernel(facts) + _DONE


def _fstab(mount_point: str | None, stamp: str) -> str:
    backup = f"/rescue/etc/fstab.kit-{stamp}"
    lines = [f"cp /rescue/etc/fstab {backup}", f'echo "kit: /etc/fstab saved as /etc/fstab.kit-{stamp}"']
    if mount_point and mount_point != "/":
        pattern = re.sub(r"([.+])", r"\\\1", mount_point)
        lines.append(f"sed -i 's|^\\([^#].*\\s{pattern}\\s.*\\)$|# \\1  # kit repair: device missing at boot|' "
                     "/rescue/etc/fstab")
    else:  # the boot log does not say which entry: none but / may stop the boot
        lines.append("sed -i -E 's|^([^#]\\S*\\s+/\\S+\\s+\\S+\\s+)(\\S+)|\\1\\2,nofail|' /rescue/etc/fstab")
    lines.append("cat /rescue/etc/fstab")
    return "\n".join(lines) + "\n"


def _kernel(facts: dict[str, Any]) -> str:
    new = _checked(facts.get("new_kernel"), _SAFE_KERNEL, "new_kernel")
    previous = _checked(facts.get("previous_kernel"), _SAFE_KERNEL, "previous_kernel")
    family = distribution_family(facts)
    lines = ["mount --bind /dev /rescue/dev", "mount --bind /proc /rescue/proc", "mount --bind /sys /rescue/sys",
             "ls /rescue/boot"]
    if str(facts.get("boot_previous_kernel", "")).strip().lower() in ("1", "true", "yes"):
        if not previous:
            raise UsageError("boot_previous_kernel needs previous_kernel (the kernel to boot again)")
        lines += _previous_kernel(family, previous)
    elif family == "debian":
        lines.append(f"chroot /rescue update-initramfs -c -k {new or 'all'}")
    else:  # dracut: RHEL and its rebuilds, SUSE; the initramfs is named after the kernel as each names it.
        # --no-hostonly: built here, a host-only image would hold this repair VM's disk drivers (SCSI), not
        # necessarily the broken VM's (NVMe on the v6 sizes)
        image = f"/boot/initramfs-{new}.img" if family == "rhel" else f"/boot/initrd-{new}"
        lines.append(f"chroot /rescue dracut -f --no-hostonly {image} {new}" if new
                     else "chroot /rescue dracut -f --no-hostonly --regenerate-all")
    lines += ["sed -i 's/ *console=ttyS0[^ \"]*//g' /rescue/etc/default/grub",
              "sed -i 's/^GRUB_CMDLINE_LINUX=\"\\(.*\\)\"$/GRUB_CMDLINE_LINUX=\"\\1 console=ttyS0,115200n8\"/' "
              "/rescue/etc/default/grub"]
    if family == "debian":
        lines.append("chroot /rescue update-grub || echo \"kit: update-grub failed or is missing in the guest: check "
                     "/boot/grub/grub.cfg\"")
    else:  # BLS entries (RHEL 8+) carry their own command line: grubby puts the console on every kernel's
        if family == "rhel":
            lines.append("chroot /rescue grubby --update-kernel=ALL --args=console=ttyS0,115200n8")
        lines.append("chroot /rescue grub2-mkconfig -o /boot/grub2/grub.cfg")
    lines.append("grep GRUB_ /rescue/etc/default/grub")
    return "\n".join(lines) + "\n"


def _previous_kernel(family: str, previous: str) -> list[str]:
    """The lines that make GRUB boot ``previous`` by default."""
    if family == "rhel":
        return [f"chroot /rescue grubby --set-default /boot/vmlinuz-{previous}"]
    name = "SLES" if family == "suse" else "Ubuntu"
    tool = "grub2-set-default" if family == "suse" else "grub-set-default"
    return ["sed -i 's/^GRUB_DEFAULT=.*/GRUB_DEFAULT=saved/' /rescue/etc/default/grub",
            f"chroot /rescue {tool} 'Advanced options for {name}>{name}, with Linux {previous}'"]


def distribution_family(facts: Mapping[str, Any]) -> str:
    """``debian`` (Ubuntu, Debian), ``rhel`` (RHEL, CentOS, Alma, Rocky, Oracle) or ``suse``, for the offline fix.

    The ``distribution`` fact when given, else the kernel that booted: RHEL's kernels carry ``.el8``/``.el9``,
    SUSE's ``-150500.``-style release numbers.
    """
    given = str(facts.get("distribution", "")).strip().lower()
    if given:
        for family, names in _FAMILIES.items():
            if given == family or given in names:
                return family
        raise UsageError(f"distribution {given!r}: the kit knows {', '.join(sorted(_FAMILIES))} "
                         f"({', '.join(n for names in _FAMILIES.values() for n in names)})")
    kernel = str(facts.get("new_kernel") or facts.get("previous_kernel") or "")
    if re.search(r"\.el\d+", kernel):
        return "rhel"
    if re.search(r"-1[56]\d{4}\.", kernel):
        return "suse"
    return "debian"


def _checked(value: Any, shape: re.Pattern[str], name: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not shape.fullmatch(value):
        raise UsageError(f"{name} {value!r} is not a plain path or name")
    return value


def facts_from_boot_log(text: str) -> dict[str, str]:
    """What a fix needs from a serial log's last boot: the fstab mount that failed, the kernel that booted."""
    index = text.rfind("Linux version ")
    last = _ANSI.sub("", text[index:] if index >= 0 else text)
    facts: dict[str, str] = {}
    mounts = [m for m in _MOUNT_FAILED.findall(last.replace("\r", "")) if _SAFE_MOUNT.fullmatch(m)]
    if mounts:
        facts["mount_point"] = mounts[-1]
    kernel = _KERNEL.search(last)
    if kernel and _SAFE_KERNEL.fullmatch(kernel.group(1)):
        facts["new_kernel"] = kernel.group(1)
    return facts
