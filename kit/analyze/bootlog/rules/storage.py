"""The disks under the file systems: block-layer I/O errors, SCSI and NVMe timeouts and aborts,
devices taken offline, Hyper-V storvsc errors, and file systems that stopped writing (remounted
read-only or shut down) because of them. Corruption found by fsck, ext4 or XFS is the filesystem family's.

Sources: the kernel's block/blk-core.c (``blk_print_req_error``, ``blk_errors``: "I/O", "critical
medium", "critical target", "timeout" … error, dev X, sector N [op 0x1:(WRITE)]; before 5.x
``blk_update_request``/``end_request``), fs/buffer.c (``buffer_io_error``), drivers/scsi/scsi_lib.c and
scsi_error.c ("timing out command, waited Ns", "rejecting I/O to offline device", "Device offlined - not
ready after error recovery"), drivers/scsi/storvsc_drv.c (``storvsc_on_io_completion``),
drivers/nvme/host/core.c and pci.c, fs/ext4/super.c (``ext4_handle_error``: "Remounting filesystem
read-only"), fs/xfs/xfs_fsops.c (``xfs_do_force_shutdown``) and fs/btrfs ("forced readonly"); gcpdiag's
runbook ``SLOW_DISK_READS`` and ``FS_CORRUPTION_MSG`` (gcpdiag/runbook/gce/constants.py) and lint
``gce/warn_2021_004``; Microsoft, "Troubleshoot Linux VM boot issues due to filesystem errors"
(learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-recovery-cannot-start-file-system-errors).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_BLOCK = "kernel block/blk-core.c (blk_print_req_error); gcpdiag runbook SLOW_DISK_READS"
_SCSI = "kernel drivers/scsi/scsi_lib.c, scsi_error.c; gcpdiag runbook SLOW_DISK_READS"
_FS_DOCS = ("https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/"
            "linux-recovery-cannot-start-file-system-errors")
#: SCSI opcodes that read or write data (READ/WRITE 6, 10, 12, 16): a storvsc failure of anything else
#: (INQUIRY, ATA pass-through from smartd, LOG SENSE …) is a probe the host does not support, not an I/O error.
_DATA_OPCODES = frozenset({0x08, 0x0A, 0x28, 0x2A, 0xA8, 0xAA, 0x88, 0x8A})
_OP_NAMES = {0x08: "READ", 0x28: "READ", 0xA8: "READ", 0x88: "READ"}
_QUOTED_PATH = re.compile(r"""['"‘`“](/[^'"’`”\s]*)['"’`”]""")
_SECTOR_ERRORS = {"critical medium": "a medium error (unreadable sectors)",
                  "critical target": "a target error", "timeout": "a timeout",
                  "recoverable transport": "a transport error", "critical space allocation":
                  "a space allocation error (thin provisioning exhausted)", "critical nexus": "a reservation conflict",
                  "protection": "a data-integrity (protection) error"}


def _sector_error(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    what, dev, sector, op = match.group("what"), match.group("dev"), match.group("sector"), match.group("op")
    if what == "device offline":
        return signature.hit(match, kind="boot:storage:device_offline", summary=(
            f"Disk {dev} is offline: a {op or 'request'} at sector {sector} was failed without reaching it."))
    cause = _SECTOR_ERRORS.get(what, "an I/O error")
    request = f"{op} " if op else ""
    return signature.hit(match, summary=f"Disk {dev} failed a {request}request at sector {sector} with {cause}: the "
                                        "disk or its path to the host is failing.")


def _storvsc(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    opcode = int(match.group("cmd"), 16)
    if opcode not in _DATA_OPCODES:
        return None
    op = _OP_NAMES.get(opcode, "WRITE")
    return signature.hit(match, summary=(
        f"Hyper-V storvsc ({match.group('guid')}) failed a {op} (SCSI opcode {match.group('cmd')}, scsi status "
        f"{match.group('scsi')}, srb status {match.group('srb')}): the Azure host could not complete disk I/O."))


def _xfs_shutdown(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    why = re.split(r" at | \(|\.", match.group("why").strip(), maxsplit=1)[0].strip() or "a fatal error"
    return signature.hit(match, summary=f"XFS on {match.group('dev')} shut itself down ({why}): the file system is "
                                        "offline, no reads or writes, until it is unmounted and repaired.")


def _write_refused(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    if "rotating" in match.string:  # journald moving to /run while /var is read-only at shutdown
        return None
    path = _QUOTED_PATH.search(match.string)
    where = f"to {path.group(1)} " if path else ""
    return signature.hit(match, summary=f"A write {where}was refused: its file system is read-only (EROFS).")


RULE = register(Rule("storage", [
    # --- I/O errors -------------------------------------------------------------------------------------
    Signature("boot:storage:io_error",
              r"(?P<what>I/O|critical medium|critical target|critical space allocation|recoverable transport|"
              r"timeout|critical nexus|protection|device offline) error, dev (?P<dev>[\w-]+), sector (?P<sector>\d+)"
              r"(?: op 0x[0-9a-f]+:\((?P<op>\w+)\))?",
              build=_sector_error, severity="error", os="linux", source=_BLOCK,
              samples=("[ 9120.114201] blk_update_request: I/O error, dev sdc, sector 2048 op 0x1:(WRITE) flags "
                       "0x800 phys_seg 1 prio class 0",
                       "[ 9120.114201] I/O error, dev sda, sector 20971520 op 0x0:(READ) flags 0x80700 phys_seg 1 "
                       "prio class 2",
                       "[ 9120.114201] blk_update_request: critical medium error, dev sdb, sector 81920",
                       "[ 9120.114201] end_request: I/O error, dev sdb, sector 0",
                       "[ 9120.114201] print_req_error: I/O error, dev sdc, sector 4096 flags 801",
                       "Nov 25 09:14:02 vm-01 kernel: [ 9120.114201] critical target error, dev sdc, sector 1024 op "
                       "0x1:(WRITE) flags 0x0 phys_seg 8 prio class 0")),
    Signature("boot:storage:io_error",
              r"Buffer I/O error on dev(?:ice)? (?P<dev>[\w-]+), logical block (?P<block>\d+)",
              "Disk {dev} failed I/O for logical block {block} (Buffer I/O error): the disk or its path to the host "
              "is failing.", severity="error", os="linux", source="kernel fs/buffer.c (buffer_io_error); gcpdiag",
              samples=("[ 9120.115007] Buffer I/O error on dev sdc1, logical block 262144, lost async page write",
                       "[ 9120.115007] Buffer I/O error on device sdb1, logical block 0",
                       "[ 9120.115007] Buffer I/O error on dev dm-0, logical block 1, async page read")),
    Signature("boot:storage:io_error",
              r"\[(?P<dev>sd[a-z]+)\](?: tag#\d+)? Sense Key : (?P<key>Medium Error|Hardware Error)",
              "Disk {dev} reported a {key} (SCSI sense key): a read or write failed.",
              severity="error", os="linux", source="kernel drivers/scsi/scsi_logging.c (scsi_print_sense_hdr)",
              samples=("[ 9120.113001] sd 1:0:0:0: [sdb] tag#3 Sense Key : Medium Error [current]",)),
    Signature("boot:storage:io_error",
              r"\[(?P<dev>sd[a-z]+)\](?: tag#\d+)? Add\. Sense: (?P<asc>Unrecovered read error|Write error)",
              "Disk {dev} reported a failed read or write (SCSI sense: {asc}).",
              severity="error", os="linux", source="kernel drivers/scsi/scsi_logging.c (scsi_print_sense_hdr)",
              samples=("[ 9120.113002] sd 1:0:0:0: [sdb] tag#3 Add. Sense: Unrecovered read error - auto reallocate "
                       "failed",)),
    Signature("boot:storage:io_error",
              r"\[(?P<dev>sd[a-z]+)\](?: tag#\d+)? (?:FAILED |Unhandled error code.*)?Result: hostbyte=(?P<host>\w+) "
              r"driverbyte=(?P<driver>\w+)",
              "Disk {dev} failed a SCSI command (hostbyte={host}, driverbyte={driver}).",
              severity="error", os="linux", source="kernel drivers/scsi/scsi_lib.c (scsi_io_completion_action)",
              samples=("[ 9120.112811] sd 1:0:0:0: [sdb] tag#3 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_SENSE "
                       "cmd_age=0s",
                       "[ 4230.501346] sd 13:0:0:0: [sdb] Result: hostbyte=DID_ABORT driverbyte=DRIVER_OK")),
    Signature("boot:storage:io_error",
              r"hv_storvsc (?P<guid>[0-9a-f-]{36}): tag#\d+ cmd 0x(?P<cmd>[0-9a-f]{1,2}) status: "
              r"scsi 0x(?P<scsi>[0-9a-f]+) srb 0x(?P<srb>[0-9a-f]+)",
              build=_storvsc, severity="error", os="linux",
              source="kernel drivers/scsi/storvsc_drv.c (storvsc_on_io_completion)",
              samples=("[ 9120.110441] hv_storvsc f8b3781a-1e82-4818-a1c3-63d806ec15bb: tag#41 cmd 0x2a status: "
                       "scsi 0x2 srb 0x4 hv 0xc0000001",
                       "[ 9120.110441] hv_storvsc f8b3781a-1e82-4818-a1c3-63d806ec15bb: tag#7 cmd 0x28 status: "
                       "scsi 0x2 srb 0x4 host 0xc0000001")),
    Signature("boot:storage:io_error",
              r"EXT4-fs warning \(device (?P<dev>[^)]+)\): ext4_end_bio:\d+: I/O error (?P<error>-?\d+) writing to "
              r"inode (?P<inode>\d+)",
              "Disk {dev} failed a write for inode {inode} (ext4: I/O error {error}): the disk or its path to the "
              "host is failing.", severity="error", os="linux", source="kernel fs/ext4/page-io.c (ext4_end_bio)",
              samples=("[ 9120.116001] EXT4-fs warning (device sdc1): ext4_end_bio:343: I/O error 10 writing to inode "
                       "131090 starting block 8650752)",)),
    Signature("boot:storage:io_error",
              r"(?P<dev>nvme\d+n\d+): I/O Cmd\(0x[0-9a-f]+\) @ LBA (?P<lba>\d+), \d+ blocks, I/O Error",
              "NVMe disk {dev} failed a command at LBA {lba} (I/O Error).",
              severity="error", os="linux", source="kernel drivers/nvme/host/core.c (nvme_log_error)",
              samples=("[ 9120.114201] nvme0n1: I/O Cmd(0x2) @ LBA 20971520, 8 blocks, I/O Error (sct 0x2 / sc 0x81) "
                       "MORE DNR",)),
    # --- devices gone -----------------------------------------------------------------------------------
    Signature("boot:storage:device_offline",
              r"(?P<addr>\d+:\d+:\d+:\d+|\(\d+:\d+\)): (?:scsi: )?(?:Device offlined - not ready after error "
              r"recovery|rejecting I/O to offline device)",
              "SCSI device {addr} is offline (error recovery gave up on it): every read or write to that disk fails.",
              severity="error", os="linux", source=_SCSI,
              samples=("[ 4230.501322] sd 2:0:0:0: Device offlined - not ready after error recovery",
                       "[ 4230.601112] sd 2:0:0:0: rejecting I/O to offline device",
                       "scsi1 (0:2): rejecting I/O to offline device")),
    Signature("boot:storage:device_offline",
              r"scsi: Device offlined - not ready after error recovery: host (?P<host>\d+) channel (?P<channel>\d+) "
              r"id (?P<id>\d+) lun (?P<lun>\d+)",
              "SCSI device {host}:{channel}:{id}:{lun} is offline (error recovery gave up on it): every read or "
              "write to that disk fails.", severity="error", os="linux", source=_SCSI,
              samples=("scsi: Device offlined - not ready after error recovery: host 1 channel 0 id 0 lun 2",)),
    Signature("boot:storage:device_offline",
              r"nvme (?P<ctrl>nvme\d+): (?:Removing after probe failure|Device not ready; aborting|"
              r"Disabling device after reset failure|controller is down; will reset)",
              "NVMe controller {ctrl} failed or was removed: its disks stop answering.",
              severity="error", os="linux",
              source="kernel drivers/nvme/host/pci.c (nvme_remove_dead_ctrl, nvme_timeout)",
              samples=("[ 9120.114201] nvme nvme0: Removing after probe failure status: -19",
                       "[ 9120.114201] nvme nvme1: controller is down; will reset: CSTS=0x3, PCI_STATUS=0x10")),
    # --- slow or stuck storage --------------------------------------------------------------------------
    Signature("boot:storage:timeout",
              r"(?P<addr>\d+:\d+:\d+:\d+): (?:\[(?P<dev>sd[a-z]+)\] )?(?:tag#\d+ )?timing out command, waited "
              r"(?P<seconds>\d+)s",
              "SCSI device {addr} did not answer a command for {seconds} s (timing out command): the disk is stuck "
              "or throttled.", severity="warning", os="linux", source=_SCSI,
              samples=("[ 2411.300114] sd 0:0:0:0: timing out command, waited 180s",
                       "[ 2411.300114] sd 2:0:0:0: [sda] tag#12 timing out command, waited 180s")),
    Signature("boot:storage:timeout",
              r"(?P<addr>\d+:\d+:\d+:\d+): (?:attempting )?task abort[:!]",
              "A command to SCSI device {addr} timed out and was aborted (task abort).",
              severity="warning", os="linux", source="kernel drivers/scsi/mpt3sas/mpt3sas_scsih.c (scsih_abort)",
              samples=("[ 2411.300114] sd 0:0:1:0: attempting task abort! scmd(0x000000006f3c2b1a)",
                       "[ 2411.300998] sd 0:0:1:0: task abort: SUCCESS scmd(0x000000006f3c2b1a)")),
    Signature("boot:storage:timeout",
              r"\[(?P<dev>sd[a-z]+)\](?: tag#\d+)? (?:abort|device reset)\s*$",
              "A command to disk {dev} timed out; the SCSI error handler aborted it or reset the device.",
              severity="warning", os="linux", source="gcpdiag runbook SLOW_DISK_READS (abort|device reset)",
              samples=("[ 2411.300114] sd 0:0:0:1: [sdb] tag#18 abort",
                       "[ 2411.300114] sd 0:0:0:1: [sdb] device reset")),
    Signature("boot:storage:timeout",
              r"nvme (?P<ctrl>nvme\d+): I/O (?:tag )?\d+ (?:\(\w+\) )?QID (?P<qid>\d+) timeout, (?P<action>[\w ]+)",
              "A command to NVMe controller {ctrl} (queue {qid}) timed out ({action}).",
              severity="warning", os="linux", source="kernel drivers/nvme/host/pci.c (nvme_timeout)",
              samples=("[ 2411.300114] nvme nvme0: I/O 123 QID 4 timeout, aborting",
                       "[ 2411.300114] nvme nvme0: I/O tag 18 (1012) QID 2 timeout, reset controller")),
    # --- file systems that stopped writing --------------------------------------------------------------
    Signature("boot:storage:read_only_remount",
              r"(?P<fs>EXT[234])-fs (?:error )?\((?:device )?(?P<dev>[^)\s]+)\): (?:error: )?[Rr]emounting "
              r"filesystem read-only",
              "The {fs} file system on {dev} was remounted read-only after an error (errors=remount-ro): writes to "
              "it fail until it is repaired and remounted.", severity="error", os="linux", source=_FS_DOCS,
              samples=("[ 9120.118220] EXT4-fs (sda1): Remounting filesystem read-only",
                       "[ 9120.118220] EXT3-fs (sdb1): error: remounting filesystem read-only",
                       "Nov 25 09:14:02 vm-01 kernel: EXT4-fs (sdc1): Remounting filesystem read-only")),
    Signature("boot:storage:read_only_remount", r"[Rr]emounting filesystem read-only",
              "A file system was remounted read-only after an error: writes to it fail until it is repaired.",
              severity="error", os="linux", source=_FS_DOCS,
              samples=("[ 9120.118220] Remounting filesystem read-only",)),
    Signature("boot:storage:read_only_remount",
              r"BTRFS(?: \w+)? \(device (?P<dev>[^)\s]+)(?: state \w+)?\): forced readonly",
              "The btrfs file system on {dev} was forced read-only after an error: writes to it fail.",
              severity="error", os="linux", source="kernel fs/btrfs/messages.c (__btrfs_handle_fs_error)",
              samples=("[ 9120.118220] BTRFS info (device sda2): forced readonly",
                       "[ 9120.118220] BTRFS error (device nvme0n1p2 state EA): forced readonly")),
    Signature("boot:storage:read_only_remount",
              r"XFS \((?P<dev>[^)]+)\): (?P<why>.*?)\.? +Shutting down filesystem", build=_xfs_shutdown,
              severity="error", os="linux",
              source="kernel fs/xfs/xfs_fsops.c (xfs_do_force_shutdown); gcpdiag runbook FS_CORRUPTION_MSG",
              samples=("[ 9120.118220] XFS (sdc1): I/O Error Detected. Shutting down filesystem",
                       "[ 9120.118220] XFS (dm-0): Log I/O Error (0x2) detected at xlog_ioend_work+0x6e/0x70 [xfs] "
                       "(fs/xfs/xfs_log.c:1383).  Shutting down filesystem.",
                       "[ 9120.118220] XFS (sda1): Corruption of in-memory data detected.  Shutting down filesystem")),
    Signature("boot:storage:read_only_remount",
              r"XFS \((?P<dev>[^)]+)\): (?:Filesystem has been shut down due to (?P<why>[^.(]+)|"
              r"xfs_do_force_shutdown\((?P<flags>0x[0-9a-f]+)\) called)",
              "XFS on {dev} shut itself down: the file system is offline, no reads or writes, until it is unmounted "
              "and repaired.", severity="error", os="linux", source="kernel fs/xfs/xfs_fsops.c (xfs_do_force_shutdown)",
              samples=("[ 9120.118220] XFS (sdc1): Filesystem has been shut down due to log error (0x2).",
                       "[ 9120.118220] XFS (sdc1): xfs_do_force_shutdown(0x2) called from line 1196 of file "
                       "fs/xfs/xfs_log.c. Return address = 0xffffffffc0523f1a")),
    Signature("boot:storage:write_refused", r"Read-only file system", build=_write_refused,
              severity="warning", os="linux", source="errno EROFS (30) text",
              samples=("Nov 25 09:14:02 vm-01 waagent[1022]: OSError: [Errno 30] Read-only file system: "
                       "'/var/lib/waagent/provisioned'",
                       "touch: cannot touch '/data/x': Read-only file system")),
]))
