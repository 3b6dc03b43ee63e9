"""The initramfs: dracut's emergency shell, BusyBox ``(initramfs)``, a root device that never came,
and the switch to the real root (``switch_root``/``run-init``) failing.

Sources: Microsoft, "Azure Linux virtual machine fails to boot and enters dracut emergency shell"
(learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-no-boot-dracut) and
"Resolve 'Failed to start Switch Root' for an Azure Linux VM" (…/linux/resolve-failed-start-switch-root-azure-linux-vm);
dracut (modules.d/98dracut-systemd/dracut-initqueue.sh, modules.d/99base/dracut-lib.sh);
initramfs-tools (scripts/local, init: "Gave up waiting for root file system device", "ALERT!",
"No init found"); util-linux switch_root; systemd src/shared/switch-root.c ("Failed to switch root");
BusyBox run-init; mkinitcpio ("You are now being dropped into an emergency shell").
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register
from kit.analyze.bootlog.rules.systemd import in_initrd, unit_text

__all__ = ["RULE"]

_DRACUT_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-no-boot-dracut"
_SWITCH_DOCS = ("https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/"
                "resolve-failed-start-switch-root-azure-linux-vm")
_INITRAMFS_TOOLS = "initramfs-tools:scripts/local (local_device_setup)"
_SHELL = ("The initramfs dropped to dracut's emergency shell: the root file system could not be mounted.")


def _emergency_word(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    line = match.string
    return signature.hit(match) if context.in_initrd or "racut" in line else None


def _welcome(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    if "GRUB" in match.string or not in_initrd(match.string, context):
        return None
    return signature.hit(match, summary=f"systemd started inside the initramfs ({unit_text(match.group('os'))}).")


def _missing(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    device = match.group("device") or match.group("alert")
    return signature.hit(match, summary=f"The initramfs could not find the device {device} it waits for (the root= "
                         "or rd.lvm.lv= device: disk missing, wrong UUID/name, or a driver missing from the "
                         "initramfs).")


def _root_mount(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    device = match.group("device") or match.group("source")
    return signature.hit(match, summary=f"The initramfs found {device} but could not mount it as the root file system "
                         "(file system damaged, wrong rootfstype=, or its driver missing from the initramfs).")


def _switch_root(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    reason = unit_text(match.group("reason") or match.group("detail") or "")
    return signature.hit(match, summary="The initramfs could not switch to the real root file system"
                         + (f" ({reason})" if reason else "") + ": the boot stops before systemd starts from the "
                         "disk (a wrong root=, an unmounted /sysroot or a missing /sbin/init).")


def _no_init(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    init = match.group("init") or match.group("wanted") or "/sbin/init"
    return signature.hit(match, summary=f"The initramfs mounted the root file system but could not start {init} on "
                         "it: the boot stops (wrong root= or init=, or the real root is empty or damaged).")


RULE = register(Rule("initramfs", [
    Signature("boot:initramfs:root_missing",
              r"Warning: (?P<device>/dev/\S+|UUID=\S+|LABEL=\S+|PARTUUID=\S+) does not exist|"
              r"ALERT!\s+(?P<alert>\S+) does not exist",
              build=_missing,
              severity="critical", stage="initramfs", os="linux", source=_DRACUT_DOCS,
              samples=("Warning: /dev/mapper/rootvg-rootlv does not exist",
                       "[  188.000765] dracut-initqueue[324]: Warning: /dev/VG/SwapVol does not exist",
                       "ALERT!  UUID=2b0f1d4c-8e7a-4f3b-a1c9-0d5e6f7a8b9c does not exist.  Dropping to a shell!",
                       "ALERT!  /dev/mapper/osencrypt does not exist.  Dropping to a shell!")),
    Signature("boot:initramfs:root_missing", r"Gave up waiting for root(?: file system)? device",
              "The initramfs gave up waiting for the root device.", severity="critical", stage="initramfs",
              os="linux", source=_DRACUT_DOCS,
              samples=("Gave up waiting for root file system device.  Common problems:",
                       "Gave up waiting for root device.  Common problems:")),
    Signature("boot:initramfs:root_missing", r"Warning: Could not boot",
              "dracut could not boot: the root file system was not found.", severity="critical", stage="initramfs",
              os="linux", source=_DRACUT_DOCS,
              samples=("[  201.941153] dracut-initqueue[455]: Warning: Could not boot.",)),
    Signature("boot:initramfs:resume_missing", r"Gave up waiting for suspend/resume device",
              "The initramfs waited for the resume (hibernation swap) device named by resume= and went on without "
              "it: the boot is slowed, not stopped.", severity="warning", stage="initramfs", os="linux",
              source=_INITRAMFS_TOOLS,
              samples=("Gave up waiting for suspend/resume device",)),
    Signature("boot:initramfs:timeout", r"dracut-initqueue timeout",
              "dracut timed out waiting for the root device.", severity="error", stage="initramfs", os="linux",
              source=_DRACUT_DOCS,
              samples=("[  201.935612] dracut-initqueue[455]: Warning: dracut-initqueue timeout - starting timeout "
                       "scripts",)),
    Signature("boot:initramfs:root_mount_failed",
              r"Failed to mount (?P<device>\S+) as root file system|"
              r"mount: mounting (?P<source>\S+) on /root failed: (?P<reason>.+?)\s*$",
              build=_root_mount, severity="critical", stage="initramfs", os="linux",
              source="initramfs-tools:scripts/local (local_mount_root)",
              samples=("Failed to mount /dev/sda1 as root file system.",
                       "mount: mounting /dev/sda1 on /root failed: Invalid argument")),
    Signature("boot:initramfs:switch_root_failed",
              r"switch_root: failed (?P<reason>.+)|Failed to switch root(?:: (?P<detail>.+))?",
              build=_switch_root,
              severity="critical", stage="initramfs", os="linux", source="util-linux:sys-utils/switch_root.c",
              samples=("switch_root: failed to mount moving /dev to /sysroot/dev: Invalid argument",
                       "[    4.102311] systemd[1]: Failed to switch root: Specified switch root path '/sysroot' does "
                       "not seem to be an OS tree. os-release file is missing.")),
    Signature("boot:initramfs:switch_root_failed",
              r"Failed to start (?:initrd-switch-root\.service - )?Switch Root",
              "systemd in the initramfs failed to start Switch Root: the real root file system was mounted but the "
              "boot could not move to it (often a broken boot entry or kernel command line).",
              severity="critical", stage="initramfs", os="linux", source=_SWITCH_DOCS,
              samples=("[FAILED] Failed to start Switch Root.",
                       "[FAILED] Failed to start initrd-switch-root.service - Switch Root.")),
    Signature("boot:initramfs:switch_root_failed",
              r"(?:run-init: )?can't execute '(?P<init>[^']+)'|"
              r"Target filesystem doesn't have requested (?P<wanted>\S+?)\.?\s*$|"
              r"No init found\. Try passing init= bootarg",
              build=_no_init,
              severity="critical", stage="initramfs", os="linux", source="initramfs-tools:init (validate_init)",
              samples=("run-init: can't execute '/sbin/init': No such file or directory",
                       "can't execute '/sbin/init': No such file or directory",
                       "Target filesystem doesn't have requested /sbin/init.",
                       "No init found. Try passing init= bootarg.")),
    Signature("boot:initramfs:emergency_shell",
              r"Dracut Emergency Shell|Exit the shell to continue|rdsosreport\.txt|dracut:/#|"
              r"You are now being dropped into an emergency shell",
              _SHELL, severity="critical", stage="initramfs", os="linux", source=_DRACUT_DOCS,
              samples=("         Starting Dracut Emergency Shell...",
                       "Entering emergency mode. Exit the shell to continue.",
                       "Generating \"/run/initramfs/rdsosreport.txt\"",
                       "dracut:/# ",
                       "You are now being dropped into an emergency shell.")),
    Signature("boot:initramfs:emergency_shell", r"Emergency", _SHELL, build=_emergency_word,
              severity="critical", stage="initramfs", os="linux",
              samples=("[  OK  ] Reached target dracut Emergency Mode.",)),
    Signature("boot:initramfs:emergency_shell", r"BusyBox .*built-in shell|^\s*\(initramfs\)",
              "The initramfs dropped to a BusyBox shell ((initramfs) prompt): the root file system could not be "
              "mounted.", severity="critical", stage="initramfs", os="linux", source=_DRACUT_DOCS,
              samples=("BusyBox v1.30.1 (Ubuntu 1:1.30.1-7ubuntu3) built-in shell (ash)",
                       "(initramfs) ")),
    Signature("boot:initramfs:systemd", r"Running in initial RAM disk|Running in initrd",
              "systemd started inside the initramfs.", stage="initramfs", os="linux",
              samples=("[    1.201400] systemd[1]: Running in initial RAM disk.",
                       "[    1.201400] systemd[1]: Running in initrd.")),
    Signature("boot:initramfs:systemd", r"Welcome to (?P<os>.+?)!", build=_welcome, stage="initramfs", os="linux",
              samples=("Welcome to Red Hat Enterprise Linux 8.8 (Ootpa) dracut-049-223.git20230119.el8 (Initramfs)!",)),
    Signature("boot:initramfs:start", r"Loading, please wait|^\s*Begin: ", "The initramfs is running.",
              stage="initramfs", os="linux",
              samples=("Loading, please wait...", "Begin: Loading essential drivers ... done.")),
]))
