"""The storage family: block-layer and SCSI I/O errors, timeouts, offline devices, Hyper-V storvsc errors,
and file systems that stopped writing (read-only remounts, XFS shutdowns)."""

from __future__ import annotations

import pytest

from kit.analyze.bootlog import Finding, parse_boot_log

FAMILY = "boot:storage:"


def storage_findings(line: str) -> list[Finding]:
    report = parse_boot_log(line.encode() + b"\r\n")
    return [f for f in report.findings if f.kind.startswith(FAMILY)]


def forms(message: str) -> list[str]:
    """A kernel message bare, with its uptime stamp, and in both journal formats."""
    return [message, f"[ 9120.114201] {message}", f"Nov 25 09:14:02 vm-01 kernel: [ 9120.114201] {message}",
            f"2026-11-25T09:14:02.123456+00:00 vm-01 kernel: {message}"]


CASES = [
    # (message, kind, severity, words the summary must name)
    ("blk_update_request: I/O error, dev sdc, sector 2048 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 0",
     "io_error", "error", ("sdc", "2048", "WRITE")),
    ("I/O error, dev sda, sector 20971520 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2", "io_error", "error",
     ("sda", "20971520", "READ")),
    ("blk_update_request: I/O error, dev sdb, sector 4096", "io_error", "error", ("sdb", "4096")),
    ("end_request: I/O error, dev sdb, sector 0", "io_error", "error", ("sdb",)),
    ("print_req_error: I/O error, dev sdc, sector 4096 flags 801", "io_error", "error", ("sdc",)),
    ("blk_update_request: critical medium error, dev sdb, sector 81920", "io_error", "error", ("sdb", "medium")),
    ("critical target error, dev sdc, sector 1024 op 0x1:(WRITE) flags 0x0 phys_seg 8 prio class 0", "io_error",
     "error", ("sdc", "target")),
    ("Buffer I/O error on dev sdc1, logical block 262144, lost async page write", "io_error", "error",
     ("sdc1", "262144")),
    ("Buffer I/O error on device sdb1, logical block 0", "io_error", "error", ("sdb1",)),
    ("sd 1:0:0:0: [sdb] tag#3 Sense Key : Medium Error [current]", "io_error", "error", ("sdb", "Medium Error")),
    ("sd 1:0:0:0: [sdb] tag#3 Add. Sense: Unrecovered read error - auto reallocate failed", "io_error", "error",
     ("sdb", "Unrecovered read error")),
    ("sd 1:0:0:0: [sdb] tag#3 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_SENSE cmd_age=0s", "io_error", "error",
     ("sdb", "DRIVER_SENSE")),
    ("EXT4-fs warning (device sdc1): ext4_end_bio:343: I/O error 10 writing to inode 131090 starting block 8650752)",
     "io_error", "error", ("sdc1", "131090")),
    ("hv_storvsc f8b3781a-1e82-4818-a1c3-63d806ec15bb: tag#41 cmd 0x2a status: scsi 0x2 srb 0x4 hv 0xc0000001",
     "io_error", "error", ("f8b3781a-1e82-4818-a1c3-63d806ec15bb", "WRITE")),
    ("nvme0n1: I/O Cmd(0x2) @ LBA 20971520, 8 blocks, I/O Error (sct 0x2 / sc 0x81) MORE DNR", "io_error", "error",
     ("nvme0n1", "20971520")),
    ("blk_update_request: device offline error, dev sdc, sector 0 op 0x0:(READ)", "device_offline", "error",
     ("sdc",)),
    ("sd 2:0:0:0: Device offlined - not ready after error recovery", "device_offline", "error", ("2:0:0:0",)),
    ("sd 2:0:0:0: rejecting I/O to offline device", "device_offline", "error", ("2:0:0:0",)),
    ("scsi: Device offlined - not ready after error recovery: host 1 channel 0 id 0 lun 2", "device_offline", "error",
     ("1:0:0:2",)),
    ("nvme nvme0: Removing after probe failure status: -19", "device_offline", "error", ("nvme0",)),
    ("sd 0:0:0:0: timing out command, waited 180s", "timeout", "warning", ("0:0:0:0", "180")),
    ("sd 2:0:0:0: [sda] tag#12 timing out command, waited 180s", "timeout", "warning", ("2:0:0:0", "180")),
    ("sd 0:0:1:0: attempting task abort! scmd(0x000000006f3c2b1a)", "timeout", "warning", ("0:0:1:0",)),
    ("sd 0:0:1:0: task abort: SUCCESS scmd(0x000000006f3c2b1a)", "timeout", "warning", ("0:0:1:0",)),
    ("sd 0:0:0:1: [sdb] tag#18 abort", "timeout", "warning", ("sdb",)),
    ("nvme nvme0: I/O 123 QID 4 timeout, aborting", "timeout", "warning", ("nvme0",)),
    ("EXT4-fs (sda1): Remounting filesystem read-only", "read_only_remount", "error", ("sda1", "read-only")),
    ("EXT3-fs (sdb1): error: remounting filesystem read-only", "read_only_remount", "error", ("sdb1",)),
    ("BTRFS error (device nvme0n1p2 state EA): forced readonly", "read_only_remount", "error", ("nvme0n1p2",)),
    ("XFS (sdc1): I/O Error Detected. Shutting down filesystem", "read_only_remount", "error",
     ("sdc1", "I/O Error Detected")),
    ("XFS (dm-0): Log I/O Error (0x2) detected at xlog_ioend_work+0x6e/0x70 [xfs] (fs/xfs/xfs_log.c:1383).  "
     "Shutting down filesystem.", "read_only_remount", "error", ("dm-0", "Log I/O Error")),
    ("XFS (sdc1): Filesystem has been shut down due to log error (0x2).", "read_only_remount", "error", ("sdc1",)),
]


@pytest.mark.parametrize(("message", "kind", "severity", "names"), CASES, ids=[c[0][:48] for c in CASES])
@pytest.mark.parametrize("form", range(4), ids=["bare", "stamped", "journal", "iso-journal"])
def test_each_form_gives_its_kind_and_names_the_device(message: str, kind: str, severity: str,
                                                       names: tuple[str, ...], form: int) -> None:
    found = storage_findings(forms(message)[form])
    assert [(f.kind, f.severity) for f in found] == [(FAMILY + kind, severity)]
    assert all(name in found[0].summary for name in names), found[0].summary


def test_a_read_only_remount_is_storage_and_the_ext4_error_before_it_is_filesystem() -> None:
    log = ("[ 9120.116001] EXT4-fs error (device sda1): ext4_journal_check_start:83: comm java: Detected aborted "
           "journal\r\n[ 9120.118220] EXT4-fs (sda1): Remounting filesystem read-only\r\n")
    report = parse_boot_log(log.encode())
    assert [(f.kind, f.line) for f in report.findings] == [("boot:filesystem:ext4_error", 1),
                                                           ("boot:storage:read_only_remount", 2)]


def test_a_program_refused_by_a_read_only_file_system_is_a_warning() -> None:
    (found,) = storage_findings("Nov 25 09:14:02 vm-01 waagent[1022]: OSError: [Errno 30] Read-only file system: "
                                "'/var/lib/waagent/provisioned'")
    assert (found.kind, found.severity) == ("boot:storage:write_refused", "warning")
    assert "/var/lib/waagent/provisioned" in found.summary


@pytest.mark.parametrize("line", [
    # storvsc probes the host does not support (INQUIRY VPD, ATA pass-through from smartd): not I/O errors
    "[    2.111204] hv_storvsc f8b3781a-1e82-4818-a1c3-63d806ec15bb: tag#0 cmd 0x85 status: scsi 0x2 srb 0x6 hv "
    "0xc0000001",
    "[    2.111204] hv_storvsc f8b3781a-1e82-4818-a1c3-63d806ec15bb: tag#0 cmd 0xa1 status: scsi 0x2 srb 0x6 hv "
    "0xc0000001",
    # healthy boot and shutdown lines
    "[    0.953322] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null). Quota mode: none.",
    "[    1.500000] EXT4-fs (sda1): re-mounted. Opts: discard,errors=remount-ro. Quota mode: none.",
    "[ 3600.100000] systemd-shutdown[1]: Remounting '/' read-only with options 'discard,errors=remount-ro'.",
    "[    6.101000] XFS (sdc1): Mounting V5 Filesystem",
    "[    6.201000] XFS (sdc1): Ending clean mount",
    "[ 3600.100000] XFS (sda2): Unmounting Filesystem",
    "[    1.200000] sd 0:0:0:0: [sda] 62914560 512-byte logical blocks: (32.2 GB/30.0 GiB)",
    "[    1.200000] sd 0:0:0:0: [sda] Write cache: enabled, read cache: enabled, supports DPO and FUA",
    "[ 3600.100000] sd 0:0:0:0: [sda] Synchronizing SCSI cache",
    "[    0.441190] hv_vmbus: registering driver hv_storvsc",
    "[    0.500000] scsi host0: storvsc_host_t",
    "[    1.000000] nvme nvme0: pci function c05b:00:00.0",
    "[    1.000000] nvme nvme0: 8/0/0 default/read/poll queues",
    "[    2.000000] systemd-journald[412]: /var/log/journal/4b1c/system.journal: Read-only file system, rotating.",
])
def test_healthy_lines_give_nothing(line: str) -> None:
    assert storage_findings(line) == []
