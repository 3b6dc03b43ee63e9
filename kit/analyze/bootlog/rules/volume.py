"""Volumes under the file systems: LUKS/dm-crypt (Azure Disk Encryption), LVM and md RAID.

A passphrase prompt at boot on an Azure VM means nobody will type it: ADE unlocks the OS disk with
the key on its BEK volume, and the prompt only shows when that failed. A missing volume group or
logical volume stops the initramfs like a missing root device.

Sources: Microsoft, "Azure Linux virtual machine fails to boot and enters dracut emergency shell"
(learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-no-boot-dracut: LVM activation,
rootvg/rootlv, osencrypt) and "Azure Linux virtual machine fails to boot after VFAT file system type
is disabled" (…/linux/vfat-disabled-boot-issues: ADE's "No key found for /dev/sda2", "Failed to mount
/bek"); systemd src/cryptsetup/cryptsetup.c ("Please enter passphrase for disk %s!"); cryptsetup
("Enter passphrase for %s:", "No key available with this passphrase."); Debian cryptsetup-initramfs
("Please unlock disk %s:", "cryptsetup failed, bad password or options?"); LVM2 tools
(toollib.c "Volume group \"%s\" not found", "Cannot process volume group %s", "Couldn't find device
with uuid %s", "Device for PV %s not found or rejected by a filter"); the kernel's md drivers
(drivers/md/raid1.c, raid10.c, raid5.c) and mdadm (Assemble.c "failed to RUN_ARRAY").
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register
from kit.analyze.bootlog.rules.systemd import unit_text

__all__ = ["RULE"]

_DRACUT_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-no-boot-dracut"
_VFAT_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/vfat-disabled-boot-issues"
_TOOLLIB = "lvmteam/lvm2:tools/toollib.c"
_PROMPT_TAIL = (": nobody types it on an Azure VM, so the boot waits forever (with Azure Disk Encryption the key "
                "on the BEK volume could not be read: VFAT disabled, BEK disk detached or Key Vault secret lost).")


def _systemd_prompt(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    disk, name = match.group("disk").strip(), match.group("name")
    what = f"{name} on disk {disk}" if name else disk
    return signature.hit(match, summary=f"The boot is waiting for the passphrase of encrypted volume {what}"
                         + _PROMPT_TAIL)


def _waiting(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    name = unit_text(match.group("name"))
    summary = (f"systemd has been waiting {match.group('elapsed').strip()} to unlock the encrypted volume {name} (a "
               "passphrase prompt or an ADE key it cannot read).")
    return signature.hit(match, summary=summary)


def _crypt_unit(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    return signature.hit(match, summary=f"Unlocking the encrypted volume {unit_text(match.group('name'))} failed: "
                         "the file systems on it cannot be mounted.")


def _crypt_key(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    name = f" ({match.group('name')})" if match.group("name") else ""
    return signature.hit(match, summary=f"An encrypted volume{name} did not unlock: the passphrase or key given was "
                         "wrong.")


def _lv(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    lv = match.group("lv") or match.group("name") or match.group("partial")
    return signature.hit(match, summary=f"LVM logical volume {lv} is missing or incomplete: the file system on it "
                         "cannot be mounted (a PV disk is detached or its partition changed).")


def _pv(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    pv = match.group("uuid") or match.group("pv")
    return signature.hit(match, summary=f"An LVM physical volume is missing (PV {pv}): its volume group is incomplete "
                         "(a data disk was detached or its partition changed).")


def _run_array(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    md = match.group("md") or match.group("md2")
    return signature.hit(match, summary=f"mdadm could not start RAID array {md}: members are missing or failed, so "
                         "the file system on it is not available.")


def _raid_event(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    md = match.group("md") or match.group("dev") or match.group("started")
    if match.group("disk"):
        why = f": member {match.group('disk')} failed and was disabled"
    elif match.group("n"):
        why = f": it was started with {match.group('n')} of {match.group('of')} drives"
    else:
        why = ""
    return signature.hit(match, summary=f"RAID array {md} is degraded{why} (it runs without redundancy).")


def _degraded(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    active, total = int(match.group("active")), int(match.group("total"))
    if active >= total:
        return None  # every member present: a healthy array
    return signature.hit(match, summary=f"RAID array {match.group('md')} runs degraded with {active} of {total} "
                         "members: another failure loses it (a member disk is missing or failed).")


RULE = register(Rule("volume", [
    # --- LUKS / dm-crypt / Azure Disk Encryption --------------------------------------------------------
    Signature("boot:volume:luks_passphrase",
              r"Please enter passphrase for disk (?P<disk>.+?)(?: \((?P<name>[^()]+)\))?(?: on \S+)?\s*[!:]",
              build=_systemd_prompt, severity="critical", os="linux",
              source="systemd/systemd:src/cryptsetup/cryptsetup.c (get_password)",
              samples=("Please enter passphrase for disk Virtual_Disk (osencrypt)!: ",
                       "[  OK  ] Started Dispatch Password Requests to Console. Please enter passphrase for disk "
                       "Virtual_Disk (luks-4a1b2c3d)!",
                       "Please enter passphrase for disk sda3_crypt:")),
    Signature("boot:volume:luks_passphrase", r"Enter passphrase for (?P<device>\S+?):",
              "The boot is waiting for the passphrase of encrypted device {device}" + _PROMPT_TAIL,
              severity="critical", os="linux", source="cryptsetup:src/utils_password.c",
              samples=("Enter passphrase for /dev/sda2: ", "Enter passphrase for osencrypt:")),
    Signature("boot:volume:luks_passphrase", r"Please unlock disk (?P<device>\S+?):",
              "The boot is waiting for the passphrase of encrypted disk {device}" + _PROMPT_TAIL,
              severity="critical", os="linux",
              source="salsa.debian.org/cryptsetup-team/cryptsetup:debian/initramfs/scripts/local-top/cryptroot",
              samples=("Please unlock disk sda5_crypt: ",)),
    Signature("boot:volume:ade_key_missing", r"No key found for (?P<device>\S+?)\.?\s+Will try",
              "Azure Disk Encryption found no key for {device} on the BEK volume (BEK disk not mounted: VFAT disabled "
              "or the disk detached); the OS disk stays locked.", severity="error", os="linux",
              source=_VFAT_DOCS,
              samples=("[   24.817478] dracut-initqueue[261]: + info 'No key found for /dev/sda2.  Will try 1 time(s) "
                       "more later.'",
                       "No key found for /dev/sda2.  Will try 3 time(s) more later.")),
    Signature("boot:volume:crypt_failed",
              r"Failed to start (?:systemd-cryptsetup@\S+ - )?Cryptography Setup for (?P<name>.+?)\s*$",
              build=_crypt_unit,
              severity="error", os="linux", source="systemd/systemd:units/systemd-cryptsetup@.service",
              samples=("[FAILED] Failed to start Cryptography Setup for osencrypt.",
                       "[FAILED] Failed to start systemd-cryptsetup@osencrypt.service - Cryptography Setup for "
                       "osencrypt.")),
    Signature("boot:volume:crypt_failed",
              r"cryptsetup(?:: ERROR)?: (?P<name>\S+?): cryptsetup failed, bad password or options|"
              r"No key available with this passphrase|Failed to activate with specified passphrase",
              build=_crypt_key,
              severity="error", os="linux", source="cryptsetup:lib/setup.c",
              samples=("cryptsetup: ERROR: sda5_crypt: cryptsetup failed, bad password or options?",
                       "No key available with this passphrase.",
                       "Failed to activate with specified passphrase. (Passphrase incorrect?)")),
    Signature("boot:volume:crypt_waiting",
              r"A start job is running for (?:systemd-cryptsetup@\S+ - )?Cryptography Setup for (?P<name>.+?) "
              r"\((?P<elapsed>[^/()]+) /",
              build=_waiting, severity="warning", os="linux", source=_VFAT_DOCS,
              samples=("[ ***  ] A start job is running for Cryptography Setup for osencrypt (1min 12s / no limit)",)),
    # --- LVM --------------------------------------------------------------------------------------------
    Signature("boot:volume:lvm_missing", r"Volume group \"(?P<vg>[^\"]+)\" not found",
              "LVM volume group {vg} was not found: its disk (PV) is missing, so the logical volumes on it cannot "
              "be activated.", severity="critical", os="linux", source=_DRACUT_DOCS,
              samples=("  Volume group \"rootvg\" not found",
                       "[    4.211030] dracut-initqueue[398]: Volume group \"datavg\" not found")),
    Signature("boot:volume:lvm_missing", r"Cannot process volume group (?P<vg>\S+)",
              "LVM could not process volume group {vg} (not found or incomplete): its logical volumes stay "
              "inactive.", severity="critical", os="linux", source=_TOOLLIB,
              samples=("  Cannot process volume group rootvg",)),
    Signature("boot:volume:lvm_missing",
              r"\bLV (?P<lv>[\w.+-]+/[\w.+-]+) not found|Failed to find logical volume \"(?P<name>[^\"]+)\"|"
              r"Refusing activation of partial LV (?P<partial>\S+?)\.?\s",
              build=_lv,
              severity="critical", os="linux", source=_DRACUT_DOCS,
              samples=("LV rootvg/rootlv not found",
                       "  Failed to find logical volume \"rootvg/homelv\"",
                       "  Refusing activation of partial LV rootvg/rootlv.  Use '--activationmode partial' to "
                       "override.")),
    Signature("boot:volume:pv_missing",
              r"Couldn't find device with uuid (?P<uuid>[\w-]+)|Device for PV (?P<pv>[\w-]+) not found",
              build=_pv,
              severity="error", os="linux", source=_TOOLLIB,
              samples=("  WARNING: Couldn't find device with uuid 8Yd1kA-0Hc3-p6lT-1l2H-W5yF-0Cqg-b8mQ2N.",
                       "  WARNING: Device for PV 8Yd1kA-0Hc3-p6lT-1l2H-W5yF-0Cqg-b8mQ2N not found or rejected by a "
                       "filter.")),
    # --- md RAID ----------------------------------------------------------------------------------------
    Signature("boot:volume:raid_failed",
              r"md/raid(?:\d+)?:(?P<md>md\S+?): not enough operational (?:mirrors|devices)",
              "RAID array {md} cannot run: not enough of its members are present.", severity="error", os="linux",
              source="torvalds/linux:drivers/md/raid1.c (raid1_run)",
              samples=("[    5.102331] md/raid1:md0: not enough operational mirrors.",
                       "[    5.102331] md/raid:md1: not enough operational devices (2/4 failed)")),
    Signature("boot:volume:raid_failed",
              r"failed to RUN_ARRAY (?P<md>\S+?):|(?P<md2>/dev/md\S*) assembled from \d+ drives?.*not enough to start",
              build=_run_array,
              severity="error", os="linux", source="neilbrown/mdadm:Assemble.c",
              samples=("mdadm: failed to RUN_ARRAY /dev/md0: Input/output error",
                       "mdadm: /dev/md0 assembled from 1 drive - not enough to start the array.")),
    Signature("boot:volume:raid_degraded",
              r"md/raid(?:\d+)?:(?P<md>md\S+?):.* active with (?P<active>\d+) out of (?P<total>\d+) "
              r"(?:mirrors|devices)",
              build=_degraded, severity="warning", os="linux", source="torvalds/linux:drivers/md/raid1.c (raid1_run)",
              samples=("[    5.102331] md/raid1:md0: active with 1 out of 2 mirrors",
                       "[    5.102331] md/raid:md1: raid level 5 active with 3 out of 4 devices, algorithm 2")),
    Signature("boot:volume:raid_degraded",
              r"md/raid(?:\d+)?:(?P<md>md\S+?): Disk failure on (?P<disk>\S+?), disabling device|"
              r"DegradedArray event detected on md device (?P<dev>\S+)|(?P<started>/dev/md\S*) has been started with "
              r"(?P<n>\d+) drives? \(out of (?P<of>\d+)",
              build=_raid_event,
              severity="warning", os="linux", source="torvalds/linux:drivers/md/raid1.c (raid1_error)",
              samples=("[ 8812.331002] md/raid1:md0: Disk failure on sdc1, disabling device.",
                       "mdadm: DegradedArray event detected on md device /dev/md0",
                       "mdadm: /dev/md0 has been started with 1 drive (out of 2).")),
    Signature("boot:volume:raid_stopped", r"\bmd: (?P<md>md\S+?) stopped\.",
              "RAID array {md} was stopped (normal at shutdown; at boot it means the array could not be assembled).",
              severity="info", os="linux", source="torvalds/linux:drivers/md/md.c (do_md_stop)",
              samples=("[    5.201110] md: md0 stopped.",)),
]))
