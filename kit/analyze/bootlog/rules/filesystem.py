"""File system damage: fsck results, ext4/jbd2 and XFS errors, and corruption reported by any file system.
A file system remounted read-only or shut down is the storage family's (``read_only_remount``).

Sources: e2fsprogs e2fsck/unix.c (``UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY``, ``contains a file
system with errors, check forced``, ``Bad magic number in super-block``) and fsck(8) exit codes (4 =
errors left uncorrected, 8 = operational error); initramfs-tools scripts/functions (``fsck exited with
status code``, ``The root filesystem on … requires a manual fsck``); systemd's src/fsck/fsck.c
(``fsck failed with exit status``); the kernel's fs/ext4/super.c (``__ext4_error``, ``ext4_mount``
warnings), fs/jbd2/journal.c (``Aborting journal on device``) and fs/xfs/xfs_message.c, xfs_fsops.c;
gcpdiag's runbook ``FS_CORRUPTION_MSG`` (gcpdiag/runbook/gce/constants.py); Microsoft,
"Troubleshoot Linux VM boot issues due to filesystem errors" and "Linux VM boots to emergency shell /
fsck" (learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/…).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_FS_DOCS = ("https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/"
            "linux-recovery-cannot-start-file-system-errors")
_E2FSCK = "e2fsprogs e2fsck/unix.c; " + _FS_DOCS
#: What makes an XFS line a problem (it prints progress and mount notices too); in the pattern, so that these
#: words, not "XFS (", are the pre-filter's literal.
_XFS_BAD = (r"[Cc]orrupt|Internal error|log mount failed|metadata I/O error|I/O Error|shutdown|shut down|"
            r"Shutting down|rectify the problem|Unmount and run xfs_repair|bad magic|mount failed|"
            r"Structure needs cleaning")
#: The ext4 errors printed without the "EXT4-fs error" prefix (a remount read-only is the storage family's).
_EXT4_BAD = (r"bad geometry|VFS: Can't find ext4 filesystem|unable to read superblock|group descriptors corrupted|"
             r"ext4_check_descriptors: |error loading journal|Could not load journal inode|no journal found|"
             r"journal superblock .*(?:error|abort)")
_PATH = re.compile(r"""['‘"](/[^'’"\s]*)['’"]|(?:^|\s)(/[\w./-]+):""")
_DEVICE = re.compile(r"(/dev/\S+?):? |\(device (\w[\w-]*)\)|\b((?:sd|vd|nvme|dm-|md)[\w-]*)\b")


def _device(line: str) -> str:
    found = _DEVICE.search(line)
    return next((group for group in found.groups() if group), "") if found else ""


def _fsck_manual(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    device = match.group("dev") or _device(match.string)
    on = f" on {device}" if device else ""
    return signature.hit(match, summary=f"fsck found damage{on} it will not repair on its own (UNEXPECTED "
                                        "INCONSISTENCY; RUN fsck MANUALLY).")


def _fsck_unit(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    device = (match.group("dev") or "").rstrip(".")
    if device in ("", "Root"):
        device = "the root device" if device else ""
    of = f" of {device}" if device else ""
    return signature.hit(match, summary=f"The file system check{of} failed: the boot stops (emergency mode) when "
                                        "the file system is needed.")


def _fsck_status(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    code = int(match.group("code"))
    if not code & (4 | 8):  # 1 = errors corrected, 2 = reboot needed: the check did its job
        return signature.hit(match, kind="boot:filesystem:fsck_errors", severity="warning", summary=(
            f"fsck corrected errors on a file system (exit status {code}"
            + (": a reboot is required)." if code & 2 else ").")))
    meaning = "errors left uncorrected" if code & 4 else "an operational error"
    return signature.hit(match, summary=f"The file system check failed with exit status {code} ({meaning}).")


def _corrupt(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    line = match.string
    path = _PATH.search(line)
    where = path.group(1) or path.group(2) if path else _device(line)
    on = f" holding {where}" if where else ""
    return signature.hit(match, summary=f"The file system{on} is corrupt (Structure needs cleaning, EUCLEAN): it "
                                        "needs xfs_repair or e2fsck.")


RULE = register(Rule("filesystem", [
    # --- fsck -------------------------------------------------------------------------------------------
    Signature("boot:filesystem:fsck_failed",
              r"(?:(?P<dev>/dev/\S+?):? )?UNEXPECTED INCONSISTENCY", build=_fsck_manual,
              severity="critical", os="linux", source=_E2FSCK,
              samples=("/dev/sda1: UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY.",
                       "[    4.401221] systemd-fsck[412]: /dev/sdc1: UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY.")),
    Signature("boot:filesystem:fsck_failed", r"The root filesystem on (?P<dev>\S+) requires a manual fsck",
              "The root file system on {dev} needs a manual fsck: the initramfs stopped in its shell.",
              severity="critical", os="linux", source="initramfs-tools scripts/functions (checkfs); " + _FS_DOCS,
              samples=("The root filesystem on /dev/sda1 requires a manual fsck",)),
    Signature("boot:filesystem:fsck_failed", r"Failed to start .*File System Check(?: on (?P<dev>[^\s…]+))?",
              build=_fsck_unit, severity="error", os="linux",
              source="systemd systemd-fsck@.service; " + _FS_DOCS,
              samples=("[FAILED] Failed to start File System Check on /dev/disk/by-uuid/3f1e2c77-8a1b-4d5e-9f00-"
                       "1234567890ab.",
                       "Failed to start File System Check on Root Device.",
                       "[FAILED] Failed to start systemd-fsck@dev-sdc1.service - File System Check on /dev/sdc1.")),
    Signature("boot:filesystem:fsck_failed",
              r"fsck (?:exited with status code|failed with (?:exit status|error code)) (?P<code>\d+)",
              build=_fsck_status, severity="error", os="linux",
              source="initramfs-tools scripts/functions; systemd src/fsck/fsck.c; fsck(8) exit codes",
              samples=("fsck exited with status code 4",
                       "[    4.500112] systemd-fsck[412]: fsck failed with exit status 8.")),
    Signature("boot:filesystem:fsck_failed",
              r"fsck.*(?:fail|exit status [248])",  # "fsck", not "fail", is the pre-filter's literal
              build=lambda signature, match, context: signature.hit(match, summary=(
                  f"The file system check{' of ' + _device(match.string) if _device(match.string) else ''} failed.")),
              severity="error", os="linux", source=_FS_DOCS,
              samples=("fsck.ext4 failed for /dev/sdc1",)),
    Signature("boot:filesystem:fsck_failed",
              r"Bad magic number in super-block while trying to open (?P<dev>\S+)",
              "fsck cannot read the superblock of {dev} (Bad magic number): wrong device, wrong file system type or "
              "a destroyed superblock.", severity="error", os="linux", source=_E2FSCK,
              samples=("fsck.ext4: Bad magic number in super-block while trying to open /dev/sdc1",)),
    Signature("boot:filesystem:fsck_errors",
              r"(?P<dev>\S+) (?:contains a file system with errors|was not cleanly unmounted), check forced",
              "fsck found a file system with errors on {dev} and is checking it.",
              severity="warning", os="linux", source=_E2FSCK,
              samples=("/dev/sda1 contains a file system with errors, check forced.",
                       "/dev/sdb1 was not cleanly unmounted, check forced.")),
    Signature("boot:filesystem:fsck_errors", r"(?P<dev>\S+): \*{5} FILE SYSTEM WAS MODIFIED \*{5}",
              "fsck repaired the file system on {dev}.", severity="warning", os="linux", explains=False,
              source=_E2FSCK,
              samples=("/dev/sda1: ***** FILE SYSTEM WAS MODIFIED *****",)),
    # --- XFS --------------------------------------------------------------------------------------------
    Signature("boot:filesystem:xfs_error", rf"XFS \((?P<dev>[^)]+)\):\s*(?P<message>.*(?:{_XFS_BAD}).*)",
              "XFS error on {dev}: {message}", severity="error", os="linux",
              source="kernel fs/xfs/xfs_message.c; gcpdiag runbook FS_CORRUPTION_MSG",
              samples=("[    6.203000] XFS (sdc1): Metadata corruption detected at xfs_agf_verify+0x6a/0x110 [xfs], "
                       "xfs_agf block 0x1",
                       "[    6.203100] XFS (sdc1): Unmount and run xfs_repair",
                       "[    6.210100] XFS (sdc1): log mount failed",
                       "[ 9120.118220] XFS (sda1): Corruption of in-memory data detected.  Shutting down filesystem")),
    Signature("boot:filesystem:xfs_error", r"XFS: (?P<message>.*(?:Internal error|[Cc]orrupt).*)",
              "XFS error: {message}", severity="error", os="linux",
              source="kernel fs/xfs (2.6-era messages without a device)",
              samples=("XFS: Internal error XFS_WANT_CORRUPTED_GOTO at line 1629 of file fs/xfs/xfs_alloc.c.",)),
    # --- ext4 and its journal ---------------------------------------------------------------------------
    Signature("boot:filesystem:ext4_warning",
              r"EXT4-fs (?:warning )?\((?:device )?(?P<dev>[^)\s]+)\):?.*?(?:warning: mounting fs with errors|"
              r"running e2fsck is recommended|mounted filesystem with errors)",
              "ext4 on {dev} was mounted with errors; e2fsck is recommended.",
              severity="warning", os="linux", source="kernel fs/ext4/super.c (ext4_setup_super)",
              samples=("[    2.310000] EXT4-fs (sda1): warning: mounting fs with errors, running e2fsck is "
                       "recommended",)),
    Signature("boot:filesystem:ext4_warning",
              r"EXT4-fs \((?P<dev>[^)\s]+)\): error count since last fsck: (?P<count>\d+)",
              "ext4 on {dev} has recorded {count} errors since its last fsck; e2fsck is recommended.",
              severity="warning", os="linux", source="kernel fs/ext4/super.c (print_daily_error_info)",
              samples=("[86400.100000] EXT4-fs (sda1): error count since last fsck: 12",)),
    Signature("boot:filesystem:ext4_error",
              r"EXT4-fs error \((?:device )?(?P<dev>[^)\s:]+)\)(?: in [\w:]+)?:? ?(?P<message>.*)",
              "ext4 error on {dev}: {message}",
              severity="error", os="linux", source="kernel fs/ext4/super.c (__ext4_error); " + _FS_DOCS,
              samples=("[   12.310000] EXT4-fs error (device sda1): ext4_find_extent:915: inode #1839291: comm fsck: "
                       "pblk 0 bad header/extent: invalid magic - magic 0, entries 0, max 0(0), depth 0(0)",
                       "[ 9120.117501] EXT4-fs error (device sda1) in ext4_reserve_inode_write:5786: Journal has "
                       "aborted")),
    Signature("boot:filesystem:ext4_error",
              rf"EXT4-fs \((?P<dev>[^)\s]+)\): (?P<message>(?:{_EXT4_BAD}).*)",
              "ext4 error on {dev}: {message}",
              severity="error", os="linux", source="kernel fs/ext4/super.c (ext4_fill_super); " + _FS_DOCS,
              samples=("[    2.400100] EXT4-fs (sdc1): bad geometry: block count 26214400 exceeds size of device "
                       "(2621440 blocks)",
                       "[    2.400100] EXT4-fs (sdc1): VFS: Can't find ext4 filesystem",
                       "[    2.400100] EXT4-fs (sda1): group descriptors corrupted!",
                       "[    2.400100] EXT4-fs (sdb1): unable to read superblock")),
    Signature("boot:filesystem:ext4_error",
              r"Aborting journal on device (?P<dev>\S+?)(?:-\d+)?\.",
              "The ext4 journal on {dev} was aborted after an error: the file system stops taking writes.",
              severity="error", os="linux", source="kernel fs/jbd2/journal.c (jbd2_journal_abort)",
              samples=("[ 9120.117001] Aborting journal on device sda1-8.",)),
    Signature("boot:filesystem:ext4_error",
              r"JBD2: (?:Error (?P<errno>-?\d+) detected|I/O error) when updating journal superblock for "
              r"(?P<dev>\S+?)(?:-\d+)?\.",
              "The ext4 journal on {dev} could not be written (a JBD2 I/O error): the disk failed the write.",
              severity="error", os="linux", source="kernel fs/jbd2/journal.c (jbd2_write_superblock)",
              samples=("[ 9120.117001] JBD2: Error -5 detected when updating journal superblock for sda1-8.",
                       "JBD2: I/O error when updating journal superblock for sdc1-8.")),
    # --- any file system --------------------------------------------------------------------------------
    Signature("boot:filesystem:corrupt", r"Structure needs cleaning", build=_corrupt,
              severity="error", os="linux", source="errno EUCLEAN/EFSCORRUPTED (117) text; " + _FS_DOCS,
              samples=("mount: /data: mount(2) system call failed: Structure needs cleaning.",
                       "ls: cannot access '/data/x': Structure needs cleaning")),
]))
