"""The manifest chain: append-only recording of an incident folder, and its verification.

Layout (folder names: :mod:`kit.archive.layout`)::

    archive/<incident>/
      manifest.json          the newest manifest (a copy of manifests/<n>.json)
      manifests/<n>.json     every manifest ever written, n = 1, 2, …; never rewritten
      evidence/<bundle>/     evidence bundles as collected
      reports/<run>/         executed .ipynb + .html (+ .pdf), results JSON
      transcripts/…          console transcripts

Each manifest lists every file (path, sha256, bytes) except the manifests themselves, the
event that produced it (a report run, a collection), the parameters (never secrets), the kit
version, who wrote it (``user@host``) and the sha256 of the previous manifest, so removing
or rewriting history breaks the chain. Files are only ever added: recording a new manifest
refuses when a file listed before was altered or removed. Every write is atomic (temp file +
rename) under an exclusive lock on ``.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit import __version__
from kit.archive.files import atomic_write, sha256_file
from kit.archive.layout import run_by
from kit.errors import ArchiveError
from kit.times import utc_text

__all__ = [
    "ARCHIVE_FORMAT",
    "VerifyResult",
    "check_appendable",
    "read_manifest",
    "record",
    "verify_archive",
]

ARCHIVE_FORMAT = "kit-archive/1"
_LOCK = ".lock"
_SKIP_TOP = {"manifest.json", "manifests", _LOCK}


def _scan(root: Path) -> dict[str, dict[str, Any]]:
    """Every archived file under ``root``: relative posix path → {sha256, bytes}."""
    files: dict[str, dict[str, Any]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == root:
            dirnames[:] = [d for d in dirnames if d not in _SKIP_TOP]
            filenames = [f for f in filenames if f not in _SKIP_TOP]
        dirnames.sort()
        for name in sorted(filenames):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():  # never followed; recorded (and flagged) as what it points at
                target = os.readlink(path).encode("utf-8", "surrogateescape")
                files[rel] = {"sha256": hashlib.sha256(b"symlink:" + target).hexdigest(), "bytes": 0}
            elif path.is_file():
                files[rel] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return files


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / _LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The newest manifest of the incident folder ``root``, or ``None`` when there is none.

    Raises
    ------
    ArchiveError
        ``manifest.json`` exists but is not readable JSON.
    """
    path = Path(root) / "manifest.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        raise ArchiveError(f"{path} is not a readable manifest ({error}); run `kit verify {root}`") from error


def _manifest_name(sequence: int) -> str:
    return f"manifests/{sequence:04d}.json"


def check_appendable(root: str | os.PathLike[str]) -> None:
    """Refuse to add to an incident folder whose recorded files changed or whose chain broke.

    Files added since the last manifest are fine (they are what the next manifest records).

    Raises
    ------
    ArchiveError
        Something listed was altered or removed, or the manifest chain is broken.
    """
    root = Path(root)
    if read_manifest(root) is None:
        return
    check = verify_archive(root)
    if check.altered or check.removed or check.chain_errors:
        problems = check.summary().replace(f"{len(check.added)} added, ", "")
        raise ArchiveError(
            f"refusing to append to {root}: it changed since its last manifest ({problems}); "
            f"run `kit verify {root}` and investigate before adding to it"
        )


def record(root: str | os.PathLike[str], event: Mapping[str, Any]) -> Path:
    """Append a manifest to the incident folder ``root`` that covers every file now in it.

    Parameters
    ----------
    root
        ``archive/<incident>``; created when missing.
    event
        What happened (``{"kind": "report", "notebook": …, "parameters": …, "status": …}``);
        stored in the manifest and in its cumulative ``history``. Must hold no secret.

    Returns
    -------
    Path
        The new ``manifests/<n>.json``.

    Raises
    ------
    ArchiveError
        A file listed in the previous manifest was altered or removed, or the manifest chain
        is broken: the archive is not appended to until a person has looked (``kit verify``).
    """
    root = Path(root)
    with _locked(root):
        previous = read_manifest(root)
        files = _scan(root)
        previous_ref = None
        history: list[Any] = []
        sequence = 1
        if previous is not None:
            check_appendable(root)
            sequence = int(previous["sequence"]) + 1
            prev_name = _manifest_name(sequence - 1)
            previous_ref = {"manifest": prev_name, "sha256": sha256_file(root / prev_name)}
            history = list(previous.get("history", []))
        manifest = {
            "format": ARCHIVE_FORMAT,
            "incident": root.name,
            "sequence": sequence,
            "written_at": utc_text(),
            "kit_version": __version__,
            "run_by": run_by(),
            "previous": previous_ref,
            "event": dict(event),
            "history": [*history, {"sequence": sequence, **dict(event)}],
            "files": [{"path": path, **info} for path, info in sorted(files.items())],
        }
        data = (json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n").encode()
        target = root / _manifest_name(sequence)
        if target.exists():
            raise ArchiveError(f"{target} already exists; the manifest chain is inconsistent, run `kit verify {root}`")
        atomic_write(target, data)
        atomic_write(root / "manifest.json", data)
        return target


@dataclass
class VerifyResult:
    """What ``verify_archive`` found.

    Attributes
    ----------
    path
        The incident folder.
    added, removed, altered
        Relative paths of files added, removed or changed since the newest manifest.
    chain_errors
        Sentences describing each break in the manifest chain.
    manifests
        How many manifests the chain holds.
    files
        How many files the newest manifest lists.
    """

    path: Path
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    chain_errors: list[str] = field(default_factory=list)
    manifests: int = 0
    files: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing was added, removed or altered and the chain is intact."""
        return not (self.added or self.removed or self.altered or self.chain_errors)

    def summary(self) -> str:
        """One line: ``ok`` or the counts of each kind of problem."""
        if self.ok:
            return f"ok: {self.files} files, {self.manifests} manifests, chain intact"
        parts = [
            f"{len(items)} {what}"
            for what, items in (("added", self.added), ("removed", self.removed), ("altered", self.altered))
            if items
        ]
        if self.chain_errors:
            parts.append(f"{len(self.chain_errors)} chain error(s)")
        return ", ".join(parts)

    def lines(self) -> list[str]:
        """One line per finding, for people: ``altered: reports/…/triage.html``."""
        out = [f"{what}: {path}" for what, items in
               (("added", self.added), ("removed", self.removed), ("altered", self.altered)) for path in items]
        out += [f"chain: {error}" for error in self.chain_errors]
        return out


def verify_archive(path: str | os.PathLike[str]) -> VerifyResult:
    """Recompute every hash under an incident folder and check the manifest chain.

    Parameters
    ----------
    path
        ``archive/<incident>``.

    Raises
    ------
    ArchiveError
        ``path`` is not an incident folder (no ``manifest.json``).
    """
    root = Path(path)
    manifest = read_manifest(root)
    if manifest is None:
        raise ArchiveError(f"{root} is not an incident archive: it has no manifest.json")
    result = VerifyResult(path=root)
    listed = {entry["path"]: entry for entry in manifest.get("files", [])}
    result.files = len(listed)
    on_disk = _scan(root)
    result.added = sorted(set(on_disk) - set(listed))
    result.removed = sorted(set(listed) - set(on_disk))
    result.altered = sorted(
        p for p in set(on_disk) & set(listed)
        if on_disk[p]["sha256"] != listed[p].get("sha256") or on_disk[p]["bytes"] != listed[p].get("bytes")
    )
    _check_chain(root, manifest, result)
    return result


def _check_chain(root: Path, newest: dict[str, Any], result: VerifyResult) -> None:
    errors = result.chain_errors
    try:
        sequence = int(newest.get("sequence", 0))
    except (TypeError, ValueError):
        errors.append("manifest.json has no valid sequence number")
        return
    result.manifests = sequence
    folder = root / "manifests"
    names = sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []
    expected = {Path(_manifest_name(n)).name for n in range(1, sequence + 1)}
    for extra in sorted(set(names) - expected):
        errors.append(f"manifests/{extra} is not part of the chain (newer than manifest.json or misnamed)")
    raw: dict[int, bytes] = {}
    parsed: dict[int, dict[str, Any]] = {}
    for n in range(1, sequence + 1):
        file = root / _manifest_name(n)
        if not file.exists():
            errors.append(f"{_manifest_name(n)} is missing")
            continue
        raw[n] = file.read_bytes()
        try:
            parsed[n] = json.loads(raw[n])
        except ValueError:
            errors.append(f"{_manifest_name(n)} is not valid JSON")
            continue
        if parsed[n].get("sequence") != n:
            errors.append(f"{_manifest_name(n)} says it is manifest {parsed[n].get('sequence')}")
    if sequence in raw and raw[sequence] != (root / "manifest.json").read_bytes():
        errors.append(f"manifest.json differs from {_manifest_name(sequence)}")
    if 1 in parsed and parsed[1].get("previous") is not None:
        errors.append(f"{_manifest_name(1)} is the first manifest but points at a previous one")
    for n in range(2, sequence + 1):
        if n not in parsed or n - 1 not in raw:
            continue
        ref = parsed[n].get("previous") or {}
        digest = hashlib.sha256(raw[n - 1]).hexdigest()
        if ref.get("manifest") != _manifest_name(n - 1) or ref.get("sha256") != digest:
            errors.append(f"{_manifest_name(n - 1)} does not match the hash recorded in {_manifest_name(n)}")
        if n - 1 in parsed:
            now = {e["path"]: e.get("sha256") for e in parsed[n].get("files", [])}
            for entry in parsed[n - 1].get("files", []):
                if now.get(entry["path"]) != entry.get("sha256"):
                    errors.append(
                        f"{_manifest_name(n)} drops or changes {entry['path']}, recorded in {_manifest_name(n - 1)}"
                    )
