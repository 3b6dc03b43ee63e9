"""The staging area on disk: stage folders, their owner record and journal, and moving files into place.

::

    archive/<incident>/.staging/<stamp>-<name>/
        .stage.lock       held (flock) by the owning process while it lives
        .stage.json       owner record and journal: {"format": "kit-stage/1", "id", "name", "about",
                          "run_by", "pid", "started_at", "state": "open" | "collecting" | "committing" | "done",
                          "commit": {"kind": "record" | "abandon", "moves": [[from, to], …],
                                     "sequence": n, "sha256": "…"}}
        reports/… evidence/… transcripts/…   the run's files, laid out as in the incident

Nothing under ``.staging/`` is ever recorded. A stage is recorded by moving its files into the
incident (one ``rename`` per top-most new folder or file) and writing the manifest; the journal
names the moves and the manifest's hash *before* anything moves, so a writer killed half-way
can be completed (the manifest was written) or rolled back (it was not) by the next one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.archive.files import atomic_write
from kit.archive.layout import STAGE_LOCK, STAGE_MARKER, STAGING, run_by, unique_folder
from kit.archive.lock import create_stage_lock
from kit.archive.manifest import parse_manifest
from kit.archive.tree import describe, lstat_inside, read_inside, safe_relative, walk
from kit.archive.verify import RESERVED
from kit.errors import ArchiveError
from kit.times import folder_stamp, utc_text

__all__ = [
    "CONTROL",
    "STAGE_FORMAT",
    "StagedFiles",
    "apply_moves",
    "collect",
    "create_stage",
    "is_leftover",
    "newest_change",
    "plan_moves",
    "read_marker",
    "remove_stage",
    "staging_dir",
    "undo_moves",
    "wait_quiet",
    "write_marker",
]

STAGE_FORMAT = "kit-stage/1"
#: A stage's control files (never moved, never recorded).
CONTROL = frozenset({STAGE_MARKER, STAGE_LOCK})

#: A bundle writer's temporary folder (``.web-01.partial-ab12cd34``) or an atomic write's temp file.
_LEFTOVER = (re.compile(r"^\..+\.partial-[A-Za-z0-9_]+$"), re.compile(r"^\..+\.[A-Za-z0-9_]{6,}\.tmp$"))
_MARKER_LIMIT = 64 << 20
_SHOWN = 20


def is_leftover(name: str) -> bool:
    """Whether a file or folder name is a writer's temporary one (a partial bundle, an atomic write's temp file)."""
    return any(pattern.match(name) for pattern in _LEFTOVER)


def staging_dir(root: Path) -> Path:
    """``root/.staging``, created when missing.

    Raises
    ------
    ArchiveError
        It exists as a link or a file.
    """
    folder = root / STAGING
    info = lstat_inside(root, STAGING)
    if info is None:
        folder.mkdir(parents=True, exist_ok=True)
    elif not stat.S_ISDIR(info.st_mode):
        raise ArchiveError(f"{folder} is not a folder (a link or a file); remove it, the kit keeps runs in progress "
                           "there")
    return folder


def read_marker(folder: Path) -> dict[str, Any]:
    """The stage's owner record and journal (``{}`` when it is missing or unreadable)."""
    try:
        return parse_manifest(read_inside(folder, STAGE_MARKER, limit=_MARKER_LIMIT), str(folder / STAGE_MARKER))
    except (OSError, ArchiveError):
        return {}


def write_marker(folder: Path, marker: Mapping[str, Any]) -> None:
    """Replace the stage's owner record and journal (atomic, fsynced)."""
    atomic_write(folder / STAGE_MARKER, (json.dumps(dict(marker), indent=1, default=str) + "\n").encode())


def create_stage(root: Path, name: str, *, about: Mapping[str, Any] | None = None,
                 state: str = "open") -> tuple[Path, int, dict[str, Any]]:
    """Create ``.staging/<stamp>-<name>/`` with its lock held and its owner record written.

    Returns
    -------
    tuple
        The folder, the descriptor holding its lock (close it to let go), and the owner record.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")[:60] or "run"
    folder = unique_folder(staging_dir(root), f"{folder_stamp()}-{safe}")
    fd = create_stage_lock(folder)
    marker: dict[str, Any] = {"format": STAGE_FORMAT, "id": folder.name, "name": name, "about": dict(about or {}),
                              "run_by": run_by(), "pid": os.getpid(), "started_at": utc_text(), "state": state}
    try:
        write_marker(folder, marker)
    except BaseException:
        os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, fd, marker


@dataclass
class StagedFiles:
    """What a stage holds, once links and special files are out.

    Attributes
    ----------
    files
        Regular files: path relative to the stage → (sha256, bytes).
    refused
        Links and special files found, each removed (``reports/x/evil: a symbolic link to '/etc/passwd'``).
    discarded
        Temporary leftovers removed (a partial bundle folder, an atomic write's temp file).
    """

    files: dict[str, tuple[str, int]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        """Total size of the files."""
        return sum(size for _, size in self.files.values())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def collect(folder: Path, *, discard_leftovers: bool) -> StagedFiles:
    """Hash every regular file of the stage ``folder``; remove links, special files (and leftovers).

    Names the incident reserves (``manifest.json``, ``manifests/``, ``.lock``, ``.staging``) at
    the top of a stage are refused too: a stage only ever adds ordinary files.
    """
    staged = StagedFiles()
    leftovers: list[str] = []
    for top in sorted(os.listdir(folder)):
        if top in RESERVED:
            staged.refused.append(f"{top}: a name the archive reserves")
            _remove(folder / top)
    for entry in walk(folder, skip_top=CONTROL):
        parts = entry.path.split("/")
        if discard_leftovers and is_leftover(parts[-1]):
            leftovers.append(entry.path)
            continue
        if discard_leftovers and any(is_leftover(p) for p in parts[:-1]):
            continue  # inside a leftover folder, which goes as a whole
        if entry.special:
            staged.refused.append(f"{entry.path}: {describe(entry)}")
            _remove(folder / entry.path)
    for rel in leftovers:
        _remove(folder / rel)
        staged.discarded.append(rel)
    for entry in walk(folder, skip_top=CONTROL, hash_files=True):
        if entry.kind == "file" and entry.sha256 is not None:
            staged.files[entry.path] = (entry.sha256, entry.size)
        elif entry.kind != "dir":  # appeared since, or unreadable: not recorded
            staged.refused.append(f"{entry.path}: {describe(entry)}")
            _remove(folder / entry.path)
    return staged


def plan_moves(root: Path, folder: Path, files: Mapping[str, tuple[str, int]], *, into: str = "") -> list[list[str]]:
    """The renames that put the stage's files into the incident: ``[[from, to], …]``, top-most new entries.

    With ``into`` (``abandoned/<id>``) each top entry of the stage goes under that folder; without
    it every path keeps its place, and folders that exist in the incident are merged into.

    Raises
    ------
    ArchiveError
        A file of the stage exists in the incident already (nothing is overwritten).
    """
    holding: set[str] = set()
    for path in files:  # every file and every folder above it
        parts = path.split("/")
        holding.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    if into:
        tops = sorted({p.split("/", 1)[0] for p in files})
        return [[top, f"{into}/{top}"] for top in tops]
    moves: list[list[str]] = []
    pending = [""]
    while pending:
        base = pending.pop()
        for name in sorted(os.listdir(folder / base) if base else os.listdir(folder)):
            rel = f"{base}/{name}" if base else name
            if rel not in holding or (not base and name in CONTROL):
                continue
            try:
                there = lstat_inside(root, rel)
            except ArchiveError as error:
                raise ArchiveError(f"cannot record {rel} in {root}: {error}") from error
            if there is None:
                moves.append([rel, rel])
            elif stat.S_ISDIR(there.st_mode) and rel not in files:
                pending.append(rel)
            else:
                raise ArchiveError(f"{rel} already exists in {root}; nothing is overwritten (the run's files stay "
                                   f"in {folder} until it is recorded as abandoned)")
    return sorted(moves)


def _valid(move: Sequence[Any]) -> bool:
    return (len(move) == 2 and all(safe_relative(m) for m in move)
            and str(move[1]).split("/", 1)[0] not in RESERVED and str(move[0]).split("/", 1)[0] not in CONTROL)


def apply_moves(root: Path, folder: Path, moves: Sequence[Sequence[str]]) -> None:
    """Rename each ``from`` of the stage to ``to`` in the incident (folders on the way created, never through links).

    Raises
    ------
    ArchiveError
        A destination exists, or a folder on the way is a link.
    """
    for move in moves:
        if not _valid(move):
            raise ArchiveError(f"refusing a move out of {folder}: {move!r} is not a plain path")
        source, target = move
        parent = target.rsplit("/", 1)[0] if "/" in target else ""
        if parent:
            info = lstat_inside(root, parent)
            if info is None:
                (root / parent).mkdir(parents=True, exist_ok=True)
                info = lstat_inside(root, parent)
            if info is None or not stat.S_ISDIR(info.st_mode):
                raise ArchiveError(f"cannot record {target}: {parent} is not a folder in {root}")
        if lstat_inside(root, target) is not None:
            raise ArchiveError(f"{target} already exists in {root}; nothing is overwritten")
        os.rename(folder / source, root / target)


def undo_moves(root: Path, folder: Path, moves: Sequence[Sequence[str]]) -> None:
    """Move back, newest first, whatever of ``moves`` was done (a recording that did not finish)."""
    for move in reversed(list(moves)):
        if not _valid(move):
            continue
        source, target = move
        try:
            moved = lstat_inside(root, target) is not None and lstat_inside(folder, source) is None
        except ArchiveError:
            continue
        if moved:
            (folder / source).parent.mkdir(parents=True, exist_ok=True)
            os.rename(root / target, folder / source)


def remove_stage(folder: Path) -> None:
    """Delete a stage folder (its files moved away; control files and empty folders left)."""
    shutil.rmtree(folder, ignore_errors=True)


def newest_change(folder: Path) -> float:
    """The newest modification time of anything in the stage (0 when empty), to tell if something still writes."""
    times = [e.mtime for e in walk(folder)]
    with contextlib.suppress(OSError):
        times.append(os.lstat(folder).st_mtime)
    return max(times, default=0.0)


def wait_quiet(folders: Sequence[Path], *, quiet: float, settle: float) -> None:
    """Wait (at most ``settle`` s) until nothing in ``folders`` changed for ``quiet`` s: a dead run's children stop."""
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        newest = max((newest_change(f) for f in folders if f.exists()), default=0.0)
        idle = time.time() - newest
        if idle >= quiet:
            return
        time.sleep(min(quiet - idle, max(0.0, deadline - time.monotonic()), 0.5) + 0.01)
