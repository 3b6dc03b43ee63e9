"""Recovering what dead writers left, before anything new is recorded (the incident's lock held).

A writer can die anywhere, ``kill -9`` included. What it leaves is found and settled by the next
writer, so an incident always returns to a verified state without a person and no dead run's
file is ever adopted as if it belonged to a later one:

1. a stage whose journal says it was being recorded is completed when its manifest was written
   (``manifest.json`` rolled forward) and rolled back (its files moved back) when it was not;
2. temporary files of an interrupted manifest write are removed;
3. the archive is checked (:func:`kit.archive.chain.check_appendable`): tampering stops here;
4. every other dead stage (its lock is free) is *quarantined*: after its last writers (a
   kernel the dead runner started) have been quiet for a moment, its links and special files
   are removed, its files moved to ``abandoned/<stage>/`` and a manifest with a
   ``kind: abandoned`` event records who ran it, since when, what it left and what was removed;
5. temporary leftovers lying loose in the incident (a ``.<vm>.partial-…`` bundle folder of an
   interrupted collection, an atomic write's ``.tmp``) are quarantined the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kit.archive.chain import Chain, check_appendable
from kit.archive.files import atomic_write
from kit.archive.hooks import AfterWrite, ExtraCheck
from kit.archive.layout import ABANDONED, STAGING
from kit.archive.lock import claim_stage
from kit.archive.manifest import MANIFEST, MANIFESTS, is_manifest_temp, manifest_name, parse_manifest
from kit.archive.staging import (
    apply_moves,
    collect,
    create_stage,
    is_leftover,
    plan_moves,
    read_marker,
    remove_stage,
    undo_moves,
    wait_quiet,
    write_marker,
)
from kit.archive.tree import describe, list_inside, lstat_inside, read_inside
from kit.errors import ArchiveError

__all__ = ["QUIET", "SETTLE", "quarantine", "recover"]

#: Seconds a dead stage must have been unchanged before it is moved (its runner's kernel stops within ~1 s).
QUIET = 1.5
#: Seconds at most spent waiting for that.
SETTLE = 5.0
_SHOWN = 20


def _owner(marker: Mapping[str, Any]) -> str:
    if not marker.get("run_by"):
        return "an unknown process"
    return f"{marker['run_by']} pid {marker.get('pid', '?')}"


def _manifest_bytes(root: Path, sequence: int) -> bytes | None:
    try:
        return read_inside(root, manifest_name(sequence))
    except (OSError, ArchiveError):
        return None


def _newest_sequence(root: Path) -> int:
    try:
        value = parse_manifest(read_inside(root, MANIFEST), MANIFEST).get("sequence")
    except (OSError, ArchiveError):
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _resolve_journal(root: Path, folder: Path, marker: dict[str, Any], after_write: AfterWrite | None) -> None:
    """Complete (manifest written) or roll back (not written) the recording a dead stage journalled."""
    commit = marker.get("commit")
    if marker.get("state") != "committing" or not isinstance(commit, Mapping):
        return
    sequence, digest, moves = commit.get("sequence"), commit.get("sha256"), commit.get("moves") or []
    data = _manifest_bytes(root, sequence) if isinstance(sequence, int) and sequence >= 1 else None
    if data is not None and hashlib.sha256(data).hexdigest() == digest:
        assert isinstance(sequence, int)
        if _newest_sequence(root) == sequence - 1:  # killed between the two renames: roll manifest.json forward
            atomic_write(root / MANIFEST, data)
            if after_write is not None:
                after_write(root / manifest_name(sequence), data)
        marker["state"] = "done"
    else:
        undo_moves(root, folder, [m for m in moves if isinstance(m, list)])
        marker["state"] = "open"
        marker["rolled_back"] = True
    marker.pop("commit", None)
    write_marker(folder, marker)


def _remove_manifest_temps(root: Path) -> None:
    with contextlib.suppress(ArchiveError):
        for entry in list_inside(root, MANIFESTS):
            if entry.kind == "file" and is_manifest_temp(entry.path.split("/", 1)[1]):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(root / entry.path)


def _reason(marker: Mapping[str, Any]) -> str:
    if not marker:
        return "a staging folder with no owner record"
    if marker.get("state") == "done":
        return "files were written into its staging folder after the run was recorded"
    if marker.get("rolled_back"):
        return (f"its process ({_owner(marker)}) ended while the run was being recorded; "
                "the half-done recording was rolled back")
    if marker.get("state") == "collecting":
        return "temporary leftovers of writers that never finished (a partial bundle folder or temporary file)"
    return f"its process ({_owner(marker)}) ended before the run was recorded"


def _free_name(root: Path, name: str) -> str:
    for attempt in range(1, 1000):
        candidate = name if attempt == 1 else f"{name}-{attempt}"
        info = lstat_inside(root, f"{ABANDONED}/{candidate}")
        if info is None or (stat.S_ISDIR(info.st_mode) and not list_inside(root, f"{ABANDONED}/{candidate}")):
            return candidate  # free, or left empty by a quarantine that was rolled back
    raise ArchiveError(f"no free folder name for {name!r} under {root / ABANDONED}")


def quarantine(chain: Chain, folder: Path, *, reason: str | None = None,
               after_write: AfterWrite | None = None) -> Path:
    """Record the stage ``folder`` as abandoned: its files to ``abandoned/<stage>/``, a ``kind: abandoned`` manifest.

    The incident's lock is held and the stage is claimed (its owner is gone, or is the caller).

    Returns
    -------
    Path
        The manifest written.
    """
    root = chain.root
    marker = read_marker(folder)
    staged = collect(folder, discard_leftovers=False)
    name = _free_name(root, str(marker.get("id") or folder.name)) if staged.files else ""
    into = f"{ABANDONED}/{name}"
    moves = plan_moves(root, folder, staged.files, into=into)
    files = {f"{into}/{rel}": value for rel, value in staged.files.items()}
    event: dict[str, Any] = {
        "kind": "abandoned", "stage": str(marker.get("id") or folder.name), "name": marker.get("name"),
        "about": marker.get("about") or {}, "run_by": marker.get("run_by"), "pid": marker.get("pid"),
        "started_at": marker.get("started_at"), "state": marker.get("state", "unknown"),
        "reason": reason or _reason(marker), "quarantined": into if staged.files else None,
        "files": len(staged.files), "bytes": staged.bytes,
        "removed": staged.refused[:_SHOWN], "removed_count": len(staged.refused),
    }
    sequence, data = chain.prepare(event, files)
    marker = {**marker, "state": "committing",
              "commit": {"kind": "abandon", "moves": moves, "sequence": sequence,
                         "sha256": hashlib.sha256(data).hexdigest()}}
    write_marker(folder, marker)
    try:
        apply_moves(root, folder, moves)
    except BaseException:
        undo_moves(root, folder, moves)
        write_marker(folder, {**marker, "state": "open", "commit": None})
        raise
    try:
        written = chain.write(sequence, data, after_write=after_write)
    except BaseException:
        if _manifest_bytes(root, sequence) != data:
            undo_moves(root, folder, moves)
            write_marker(folder, {**marker, "state": "open", "commit": None})
        else:
            remove_stage(folder)
        raise
    remove_stage(folder)
    return written


def _stage_folders(root: Path) -> list[Path]:
    try:
        return [root / e.path for e in list_inside(root, STAGING) if e.kind == "dir"]
    except ArchiveError:
        return []


def _sweep(chain: Chain, after_write: AfterWrite | None) -> None:
    """Quarantine loose temporary leftovers and stray entries of the staging area as one abandoned record."""
    root = chain.root
    items: set[str] = set()
    for path in chain.loose:
        parts = path.split("/")
        for index, part in enumerate(parts):
            if is_leftover(part):
                items.add("/".join(parts[: index + 1]))
                break
    try:
        strays = [e for e in list_inside(root, STAGING) if e.kind != "dir"]
    except ArchiveError:
        strays = []
    if not items and not strays:
        return
    folder, fd, marker = create_stage(root, "leftovers", state="collecting",
                                      about={"found": sorted(items)[:_SHOWN] + [e.path for e in strays][:_SHOWN]})
    try:
        for rel in sorted(items):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            os.rename(root / rel, folder / rel)
        for entry in strays:
            if entry.kind == "file":
                (folder / "staging").mkdir(exist_ok=True)
                os.rename(root / entry.path, folder / "staging" / entry.path.split("/", 1)[1])
            else:
                os.unlink(root / entry.path)
                marker.setdefault("about", {}).setdefault("removed", []).append(f"{entry.path}: {describe(entry)}")
        write_marker(folder, marker)
        chain.loose = {p: v for p, v in chain.loose.items()
                       if not any(p == i or p.startswith(i + "/") for i in items)}
        quarantine(chain, folder, after_write=after_write)
    finally:
        os.close(fd)


def recover(root: str | os.PathLike[str], *, after_write: AfterWrite | None = None,
            checks: Sequence[ExtraCheck] = (), quiet: float = QUIET, settle: float = SETTLE) -> Chain:
    """Settle what dead writers left in the incident ``root``, then return it ready to append to.

    Call with the incident's lock held. Stages whose owner is alive are left alone.

    Raises
    ------
    ArchiveError
        The archive is not appendable (tampering: see :func:`kit.archive.chain.check_appendable`);
        dead stages then stay where they are until a person has looked.
    """
    path = Path(root)
    claims: list[tuple[Path, int]] = []
    try:
        for folder in _stage_folders(path):
            fd = claim_stage(folder)
            if fd is not None:
                claims.append((folder, fd))
        markers = {folder: read_marker(folder) for folder, _ in claims}
        for folder, _ in claims:
            _resolve_journal(path, folder, markers[folder], after_write)
        _remove_manifest_temps(path)
        chain = check_appendable(path, checks=checks)
        dead = [f for f, _ in claims if f.exists()]
        for folder in list(dead):
            marker = markers[folder]
            if marker.get("state") == "done" and not collect(folder, discard_leftovers=False).files:
                remove_stage(folder)
                dead.remove(folder)
        if dead:
            wait_quiet(dead, quiet=quiet, settle=settle)
        for folder in dead:
            quarantine(chain, folder, after_write=after_write)
        _sweep(chain, after_write)
        return chain
    finally:
        for _, fd in claims:
            if fd >= 0:
                os.close(fd)
