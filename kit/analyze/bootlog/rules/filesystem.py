"""File system damage: XFS and ext4 errors, fsck failures."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.analyze.bootlog.rules._base import Context, Hit, register

__all__ = ["FilesystemRule"]

_XFS = re.compile(r"XFS \(([^)]+)\):\s*(.*)")
_XFS_BAD = re.compile(
    r"[Cc]orrupt|Internal error|log mount failed|metadata I/O error|I/O Error|shut ?down|"
    r"rectify the problem|Unmount and run xfs_repair|bad magic|mount failed|Structure needs cleaning"
)
_EXT4 = re.compile(r"EXT4-fs (?:error )?\(?(?:device )?([^)\s:]+)\)?:?\s*(.*)")
_EXT4_BAD = re.compile(r"EXT4-fs error|bad geometry|corrupt|unable to read superblock|Can't find ext4|"
                       r"journal .*(?:error|abort)|Aborting journal|Remounting filesystem read-only")
_EXT4_WARN = re.compile(r"warning: mounting fs with errors|running e2fsck is recommended|"
                        r"mounted filesystem with errors")


class FilesystemRule:
    """Kernel file system errors and fsck results."""

    NAME = "filesystem"
    TRIGGERS = ("XFS (", "XFS:", "EXT4-fs error", "EXT4-fs warning", "Remounting filesystem read-only",
                "UNEXPECTED INCONSISTENCY", "File System Check", "Structure needs cleaning", "Can't find ext4")

    def matches(self, line: str) -> bool:
        return "XFS" in line or "EXT4-fs" in line or "fsck" in line or "INCONSISTENCY" in line or (
            "File System Check" in line) or "Structure needs cleaning" in line or "ext4" in line

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        if "UNEXPECTED INCONSISTENCY" in line:
            return [Hit("boot:filesystem:fsck_failed", "fsck found damage it will not repair on its own "
                        "(UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY).", severity="critical", os="linux")]
        if (("Failed to start" in line and "File System Check" in line)
                or re.search(r"fsck.*(?:failed|exit status [248])", line)):
            return [Hit("boot:filesystem:fsck_failed", "The file system check failed.", severity="error", os="linux")]
        if "contains a file system with errors" in line or "was not cleanly unmounted, check forced" in line:
            return [Hit("boot:filesystem:fsck_errors", "fsck found a file system with errors and is checking it.",
                        severity="warning", os="linux")]
        if "XFS" in line:
            xfs = _XFS.search(line)
            if not _XFS_BAD.search(line):
                return []
            where = f" on {xfs.group(1)}: {xfs.group(2).strip()[:160]}" if xfs else f": {line.strip()[-160:]}"
            return [Hit("boot:filesystem:xfs_error", f"XFS error{where}", severity="error", os="linux")]
        if "EXT4" not in line and "ext4" not in line:
            return []
        if _EXT4_WARN.search(line):
            return [Hit("boot:filesystem:ext4_warning", "ext4 was mounted with errors; e2fsck is recommended.",
                        severity="warning", os="linux")]
        if _EXT4_BAD.search(line):
            ext4 = _EXT4.search(line)
            where = f" on {ext4.group(1)}" if ext4 else ""
            return [Hit("boot:filesystem:ext4_error", f"ext4 error{where}: {line.strip()[-160:]}", severity="error",
                        os="linux")]
        return []


register(FilesystemRule())
