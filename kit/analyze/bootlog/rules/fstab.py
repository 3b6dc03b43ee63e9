"""/etc/fstab trouble: devices that never appeared, mounts that failed, what depended on them.

This family owns every "device never appeared" time-out ("Timed out waiting for device …",
``Job dev-….device/start timed out``): systemd's ``timeout`` kind covers the other units.

Sources: Microsoft, "Troubleshoot Linux VM boot issues due to fstab errors"
(learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-virtual-machine-cannot-start-fstab-errors)
and "Azure Linux virtual machine fails to boot after VFAT file system type is disabled"
(…/linux/vfat-disabled-boot-issues); gcpdiag ``gce/err/2021_005_mount_errors`` ("Failed to mount",
"Unrecognized mount option"); systemd src/core/job.c and src/core/mount.c; util-linux mount(8)
and fsck(8); Ubuntu mountall ("The disk drive for … is not ready yet or not present").
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register
from kit.analyze.bootlog.rules.systemd import unit_text

__all__ = ["RULE"]

_DOCS = ("https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/"
         "linux-virtual-machine-cannot-start-fstab-errors")
_VFAT_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/vfat-disabled-boot-issues"
_GCPDIAG = "GoogleCloudPlatform/gcpdiag:gcpdiag/lint/gce/err_2021_005_mount_errors.py"
_FSTAB_TARGET = re.compile(r"(?:^|- )/|Local File Systems|File System Check|\.mount\b|\.swap\b|^Swap$")


def _device(name: str) -> str:
    """What a person calls the unit: the description after `` - `` (systemd 25x prints
    ``unit - description``), else the unit name with ``\\x2d`` unescaped."""
    name = unit_text(name)
    if " - " in name:
        return name.split(" - ", 1)[1].strip()
    return name


def _timed_out(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    return signature.hit(match, summary=f"systemd gave up waiting for device {_device(match.group('device'))}: a "
                         "disk named in /etc/fstab is missing, detached or renamed.")


def _dependency(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    target = unit_text(match.group("unit"))
    if not _FSTAB_TARGET.search(target):
        return None  # not a mount: systemd's dependency_failed
    return signature.hit(match, summary=f"{_device(target)} did not start because the device it needs failed "
                         "(see the device time-out above).")


def _failed_mount(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    if match.group("mount").endswith("as root file system"):
        return None  # the initramfs mounting root= (boot:initramfs:root_mount_failed)
    return signature.hit(match, summary=f"Mounting {_device(match.group('mount'))} failed (check its /etc/fstab "
                         "entry: device, UUID, file system type, options such as nofail).")


def _old_mount(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    device = match.group("device") or match.group("disk")
    return signature.hit(match, summary=f"mount failed for {device}: the device named in /etc/fstab is missing or "
                         "holds another (or a damaged) file system.")


def _bad_option(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    device = f" (device {match.group('device')})" if match.group("device") else ""
    return signature.hit(match, summary=f"The mount option \"{match.group('option')}\" in /etc/fstab is not "
                         f"understood{device}: the mount fails.")


def _waiting(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    unit = match.group("unit")
    if "dev-" not in unit and "/dev/" not in unit:
        return None
    return signature.hit(match, summary=f"systemd is waiting for {_device(unit)}.")


RULE = register(Rule("fstab", [
    Signature("boot:fstab:device_timeout", r"Timed out waiting for device (?P<device>.+?)\s*$", build=_timed_out,
              severity="error", stage="systemd", os="linux", source=_DOCS,
              samples=("[ TIME ] Timed out waiting for device dev-disk-by\\x2duuid-6f0c1a7e\\x2d3b4d.device.",
                       "[ TIME ] Timed out waiting for device dev-sdc1.device - /dev/sdc1.",
                       "[ TIME ] Timed out waiting for device /dev/disk/by-uuid/6f0c1a7e-3b4d-4c2a.")),
    Signature("boot:fstab:device_timeout", r"Job (?P<device>dev-\S+\.device)/start timed out", build=_timed_out,
              severity="error", stage="systemd", os="linux", source="systemd/systemd:src/core/job.c",
              samples=("Nov 25 09:15:32 vm-01 systemd[1]: Job dev-disk-by\\x2duuid-6f0c1a7e.device/start timed out.",)),
    Signature("boot:fstab:dependency_failed", r"Dependency failed for (?P<unit>.+?)\s*$", build=_dependency,
              severity="error", stage="systemd", os="linux", source=_DOCS,
              samples=("[DEPEND] Dependency failed for /data.",
                       "[DEPEND] Dependency failed for Local File Systems.",
                       "[DEPEND] Dependency failed for data.mount - /data.",
                       "[DEPEND] Dependency failed for File System Check on /dev/disk/by-uuid/6f0c1a7e.")),
    Signature("boot:fstab:mount_failed", r"Failed to mount (?P<mount>.+?)\.?\s*$", build=_failed_mount,
              severity="error", stage="systemd", os="linux", source=_VFAT_DOCS,
              samples=("[FAILED] Failed to mount /boot/efi.",
                       "[FAILED] Failed to mount datadrive.mount - /datadrive.")),
    Signature("boot:fstab:mount_failed", r"An error occurred while mounting (?P<mount>/\S*?)\.?\s*$",
              build=_failed_mount, severity="error", os="linux", source=_DOCS + " (Ubuntu mountall)",
              samples=("An error occurred while mounting /datadrive.",)),
    Signature("boot:fstab:mount_failed", r"\bmount: (?P<mount>/\S*): (?P<reason>.+?)\.?\s*$",
              "mount {mount} failed: {reason}.", severity="error", os="linux", source="util-linux:sys-utils/mount.8",
              samples=("mount: /data: wrong fs type, bad option, bad superblock on /dev/sdc1, missing codepage or "
                       "helper program, or other error.",
                       "mount: /data: special device /dev/sdc1 does not exist.")),
    Signature("boot:fstab:mount_failed",
              r"\bmount: (?:special device (?P<device>\S+) does not exist|wrong fs type, bad option, bad superblock "
              r"on (?P<disk>[^,\s]+))",
              build=_old_mount, severity="error", os="linux", source=_DOCS,
              samples=("mount: special device /dev/sdc1 does not exist",
                       "mount: wrong fs type, bad option, bad superblock on /dev/sdc1,")),
    Signature("boot:fstab:bad_option",
              r"(?:\((?P<device>[^)]+)\): )?Unrecognized mount option \"(?P<option>[^\"]+)\"",
              build=_bad_option, severity="error", os="linux", source=_GCPDIAG,
              samples=("[    6.412201] EXT4-fs (sdc1): Unrecognized mount option \"nofial\" or missing value",)),
    Signature("boot:fstab:device_missing",
              r"(?P<fsck>fsck\.\w+): No such file or directory while trying to open (?P<device>\S+)",
              "{fsck} found no device {device}: a disk named in /etc/fstab is missing (add nofail or fix the entry).",
              severity="error", os="linux", source=_DOCS,
              samples=("fsck.ext4: No such file or directory while trying to open /dev/sdc1",)),
    Signature("boot:fstab:device_missing", r"(?P<device>/dev/\S+): nonexistent device",
              "fsck found no device {device}: a disk named in /etc/fstab is missing (the nofail option skips it).",
              severity="error", os="linux", source="util-linux:disk-utils/fsck.c",
              samples=("/dev/sdc1: nonexistent device (\"nofail\" fstab option may be used to skip this device)",)),
    Signature("boot:fstab:device_not_ready",
              r"The disk drive for (?P<mount>/\S*) is not ready yet or not present",
              "The disk for {mount} is not present and the boot waits at the console (S to skip, M for manual "
              "recovery): add nofail to its /etc/fstab entry.", severity="critical", os="linux",
              source=_DOCS + " (Ubuntu mountall)",
              samples=("The disk drive for /var/lib/mysql is not ready yet or not present.",)),
    Signature("boot:fstab:waiting_for_device", r"A start job is running for (?P<unit>.+?) \(", build=_waiting,
              stage="systemd", os="linux",
              samples=("[ ***  ] A start job is running for /dev/disk/by-uuid/6f0c1a7e (1min 17s / 1min 30s)",
                       "[ ***  ] A start job is running for dev-sdc1.device (12s / 1min 30s)")),
    Signature("boot:fstab:waiting_for_device", r"Job (?P<unit>dev-\S+\.device)/start running \(", build=_waiting,
              stage="systemd", os="linux",
              samples=("[ ***  ] (2 of 2) Job dev-mapper-var.device/start running (1min 17s / 1min 30s)",)),
]))
