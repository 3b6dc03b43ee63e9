"""Appending to the manifest chain, with the incident's lock held.

Layout (folder names: :mod:`kit.archive.layout`)::

    archive/<incident>/
      manifest.json          the newest manifest (a copy of manifests/<n>.json)
      manifests/<n>.json     every manifest ever written, n = 1, 2, …; never rewritten
      evidence/<bundle>/     evidence bundles as collected
      reports/<run>/         executed .ipynb + .html (+ .pdf), results JSON
      transcripts/…          console transcripts
      abandoned/<stage>/     what runs that died left

Each manifest lists every recorded file (path, sha256, bytes) except the manifests themselves,
the event that produced it, the kit version, who wrote it (``user@host``) and the sha256 of the
previous manifest, so removing or rewriting history breaks the chain. Files are only ever
added: :func:`check_appendable` refuses an archive whose recorded files changed, whose chain
broke or that holds a link or a special file, so nothing is laundered into a new manifest.

:class:`Chain` is the state a writer appends to: :meth:`Chain.prepare` builds the next
manifest's bytes (so a journal can name its hash before anything moves), :meth:`Chain.write`
writes ``manifests/<n>.json`` (never overwriting) and then ``manifest.json``, both fsynced, and
calls the optional ``after_write(path, bytes)`` hook (a signer, a witness). Callers hold the
incident's lock (:func:`kit.archive.lock.incident_lock`); :mod:`kit.archive.stage` does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit import __version__
from kit.archive.hooks import AfterWrite, ExtraCheck
from kit.archive.layout import incident_of, run_by
from kit.archive.manifest import ARCHIVE_FORMAT, MANIFEST, MANIFESTS, manifest_name, parse_manifest
from kit.archive.tree import lstat_inside, walk
from kit.archive.verify import RESERVED, Inspection, VerifyResult, inspect_archive, is_incident
from kit.errors import ArchiveError
from kit.times import utc_text

__all__ = ["Chain", "check_appendable", "write_manifest_files"]


@dataclass
class Chain:
    """An appendable incident: what is recorded, what lies loose, and the newest manifest.

    Attributes
    ----------
    root
        The incident folder.
    recorded
        Files the newest manifest lists: path → (sha256, bytes), as verified on disk.
    loose
        Regular files on disk that no manifest lists yet (legacy writers' files, leftovers).
    newest
        The newest manifest, ``None`` for a new incident.
    newest_bytes
        Its bytes.
    """

    root: Path
    recorded: dict[str, tuple[str, int]] = field(default_factory=dict)
    loose: dict[str, tuple[str, int]] = field(default_factory=dict)
    newest: dict[str, Any] | None = None
    newest_bytes: bytes | None = None

    @property
    def sequence(self) -> int:
        """The sequence number of the next manifest."""
        return int(self.newest["sequence"]) + 1 if self.newest is not None else 1

    def prepare(self, event: Mapping[str, Any], files: Mapping[str, tuple[str, int]]) -> tuple[int, bytes]:
        """The next manifest: its sequence and bytes, listing what is recorded plus ``files``.

        Raises
        ------
        ArchiveError
            ``files`` would change a recorded file.
        """
        changed = sorted(p for p, v in files.items() if p in self.recorded and self.recorded[p] != v)
        if changed:
            raise ArchiveError(f"refusing to record {self.root}: {changed[0]} is recorded with other contents")
        listing = {**self.recorded, **files}
        sequence = self.sequence
        previous_ref = None
        history: list[Any] = []
        if self.newest is not None and self.newest_bytes is not None:
            previous_ref = {"manifest": manifest_name(sequence - 1),
                            "sha256": hashlib.sha256(self.newest_bytes).hexdigest()}
            history = list(self.newest.get("history", []))
        manifest = {
            "format": ARCHIVE_FORMAT,
            "incident": self.root.name,
            "sequence": sequence,
            "written_at": utc_text(),
            "kit_version": __version__,
            "run_by": run_by(),
            "previous": previous_ref,
            "event": dict(event),
            "history": [*history, {"sequence": sequence, **dict(event)}],
            "files": [{"path": p, "sha256": h, "bytes": b} for p, (h, b) in sorted(listing.items())],
        }
        data = (json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n").encode()
        return sequence, data

    def write(self, sequence: int, data: bytes, *, after_write: AfterWrite | None = None) -> Path:
        """Write manifest ``sequence`` (``manifests/<n>.json``, then ``manifest.json``) and call ``after_write``.

        Raises
        ------
        ArchiveError
            ``sequence`` is not the next one, or ``manifests/<n>.json`` already exists.
        """
        if sequence != self.sequence:
            raise ArchiveError(f"manifest {sequence} is not the next one in {self.root} ({self.sequence} is)")
        target = write_manifest_files(self.root, sequence, data)
        manifest = parse_manifest(data, manifest_name(sequence))
        self.newest, self.newest_bytes = manifest, data
        listed = {e["path"]: (e["sha256"], e["bytes"]) for e in manifest["files"]}
        self.recorded = listed
        self.loose = {p: v for p, v in self.loose.items() if p not in listed}
        if after_write is not None:
            after_write(target, data)
        return target


def _manifests_dir(root: Path) -> Path:
    folder = root / MANIFESTS
    info = lstat_inside(root, MANIFESTS)
    if info is None:
        folder.mkdir(parents=True, exist_ok=True)
    elif not os.path.isdir(folder) or os.path.islink(folder):
        raise ArchiveError(f"{folder} is not a folder; run `kit verify {root}`")
    return folder


def _temp(folder: Path, prefix: str, data: bytes) -> str:
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def write_manifest_files(root: Path, sequence: int, data: bytes) -> Path:
    """Write ``manifests/<n>.json`` (refusing to overwrite) and then ``manifest.json``, both fsynced first.

    The two temporary files are written before either is put in place, so the moment when
    only the first exists is as short as two renames.

    Raises
    ------
    ArchiveError
        ``manifests/<n>.json`` exists already.
    """
    folder = _manifests_dir(root)
    target = root / manifest_name(sequence)
    first = _temp(folder, f".{sequence:04d}.json.", data)
    try:
        second = _temp(folder, f".{MANIFEST}.", data)
    except BaseException:
        os.unlink(first)
        raise
    try:
        try:
            os.link(first, target)
        except FileExistsError as error:
            raise ArchiveError(f"{target} already exists; the manifest chain is inconsistent, "
                               f"run `kit verify {root}`") from error
        except OSError:  # a file system without hard links: the lock keeps this check-then-rename safe
            if os.path.lexists(target):
                raise ArchiveError(f"{target} already exists; run `kit verify {root}`") from None
            os.rename(first, target)
        os.replace(second, root / MANIFEST)
    finally:
        for leftover in (first, second):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)
    return target


def _refusal(root: Path, result: VerifyResult) -> ArchiveError:
    kept = VerifyResult(path=result.path, removed=result.removed, altered=result.altered, special=result.special,
                        chain_errors=result.chain_errors, extra_errors=result.extra_errors)
    first = (kept.lines() or ["?"])[0]
    return ArchiveError(f"refusing to append to {root}: it changed since its last manifest ({kept.summary()}; "
                        f"first: {first}); run `kit verify {root}` and investigate before adding to it")


def _new_folder(root: Path) -> Chain:
    chain = Chain(root=root)
    if not os.path.isdir(root):
        return chain
    specials = []
    for entry in walk(root, skip_top=RESERVED, hash_files=True):
        if entry.kind == "file" and entry.sha256 is not None:
            chain.loose[entry.path] = (entry.sha256, entry.size)
        elif entry.kind != "dir":
            specials.append(entry.path)
    if specials:
        raise ArchiveError(f"refusing to record {root}: {specials[0]} is a link or a special file "
                           f"({len(specials)} in all); the kit never archives them, remove them first")
    return chain


def check_appendable(root: str | os.PathLike[str], *, checks: Sequence[ExtraCheck] = ()) -> Chain:
    """Refuse to add to an incident folder whose recorded files changed or whose chain broke.

    Files added since the last manifest are fine (they are what the next manifest records);
    a link or a special file anywhere, an extra check's problem, or a recording a dead writer
    left unfinished (the next writer settles it first, :func:`kit.archive.recovery.recover`) is
    not. ``root`` may be a run's staging folder: its incident is checked. Lock-free; writers
    call it again with the lock held.

    Returns
    -------
    Chain
        What a writer appends to.

    Raises
    ------
    ArchiveError
        Something listed was altered or removed, something is a link or a special file, or the
        manifest chain is broken.
    """
    path = incident_of(Path(root))
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
        raise ArchiveError(f"{path} is not a folder (a link or a file), not an incident archive")
    if not is_incident(path):
        return _new_folder(path)
    inspection: Inspection = inspect_archive(path, checks=checks)
    result = inspection.result
    if result.removed or result.altered or result.special or result.chain_errors or result.extra_errors:
        raise _refusal(path, result)
    unfinished = [p for p in inspection.pending if not p.alive]
    if unfinished:
        raise ArchiveError(f"{path} has a recording that did not finish ({unfinished[0].stage.name}); "
                           "the next write into it completes or rolls it back")
    newest = inspection.newest
    listed = {e["path"]: (e["sha256"], e["bytes"]) for e in (newest or {}).get("files", [])}
    chain = Chain(root=path, newest=newest)
    chain.newest_bytes = inspection.chain[-1][1] if inspection.chain else None
    chain.recorded = {p: inspection.on_disk[p] for p in listed}
    chain.loose = {p: v for p, v in inspection.on_disk.items() if p not in listed}
    return chain
