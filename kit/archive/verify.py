"""``verify_archive``: recompute every hash of an incident folder and check its manifest chain.

What is checked, in time linear in what is on disk (files hashed once, each manifest read
once; a manifest's *claimed* sequence number costs nothing):

- ``manifest.json`` and every ``manifests/<n>.json`` are regular files holding well-formed
  manifests; the numbers run 1, 2, … up to ``manifest.json``'s without a gap; a missing one, a
  forged extra one, a misnamed one and anything else in ``manifests/`` is named;
- each manifest holds the sha256 of the one before, keeps every file the one before listed
  (same hash) and extends its history by exactly its own event;
- the files on disk are those the newest manifest lists, with the same bytes: each one added,
  removed or altered is named;
- nothing in the incident is a symbolic link or a special file (FIFO, socket, device): each is
  named and none is followed or opened.

Runs in progress (``.staging/``) are never recorded; they are listed as notes, and a run killed
while it was being recorded is recognised from its journal (its files and manifest are
pending, not tampering) until the next write completes or rolls it back.

What no verification of the folder alone can detect is said in ``VerifyResult.limits``: a
chain recomputed from the first manifest on, and the newest runs removed with their
manifests. Extra checks (a signer's, a witness's) are callables passed as ``checks``; one that
closes a limit names it in its ``covers`` attribute.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.archive.hooks import ExtraCheck
from kit.archive.layout import STAGE_MARKER, STAGING
from kit.archive.lock import LOCK, stage_alive
from kit.archive.manifest import (
    MANIFEST,
    MANIFESTS,
    is_manifest_temp,
    manifest_name,
    manifest_problems,
    parse_manifest,
    sequence_of,
)
from kit.archive.tree import Entry, describe, list_inside, lstat_inside, read_inside, show, walk
from kit.errors import ArchiveError

__all__ = [
    "LIMITS",
    "LIMIT_RECOMPUTED",
    "LIMIT_ROLLBACK",
    "RESERVED",
    "ExtraCheck",
    "Inspection",
    "PendingCommit",
    "VerifyResult",
    "find_incidents",
    "inspect_archive",
    "is_incident",
    "pending_commits",
    "verify_archive",
]

#: Names at the top of an incident folder that are not archived files.
RESERVED = frozenset({MANIFEST, MANIFESTS, LOCK, STAGING})
#: A chain recomputed: files changed and the manifests from some point to the newest rewritten to match.
LIMIT_RECOMPUTED = "recomputed"
#: A roll-back: the newest runs removed together with their manifests.
LIMIT_ROLLBACK = "rollback"
#: What verifying the folder alone cannot detect, by key; a check that detects it lists the key in ``covers``.
LIMITS: dict[str, str] = {
    LIMIT_RECOMPUTED: ("files changed together with the manifests that record them (the newest one, or the chain "
                       "recomputed from any point on) verify as intact: only a signature over the manifests "
                       "detects it"),
    LIMIT_ROLLBACK: ("the newest runs removed together with their manifests (a roll-back to an earlier manifest) "
                     "verify as intact: only a witness that saw the later manifests detects it"),
}

_SIDECAR = re.compile(r"^([0-9]{4,}\.json)\.[A-Za-z0-9_-][A-Za-z0-9._-]*$")
_SHOWN_GAPS = 20
_MARKER_LIMIT = 64 << 20
_RETRIES = 10


@dataclass
class VerifyResult:
    """What ``verify_archive`` found.

    Attributes
    ----------
    path
        The incident folder.
    added, removed, altered
        Relative paths of files added, removed or changed since the newest manifest.
    special
        One sentence per symbolic link or special file found (never followed or opened).
    chain_errors
        Sentences describing each break in the manifest chain or malformed manifest.
    extra_errors
        Sentences from the extra checks (signature, witness …).
    notes
        What is not a problem but worth knowing: runs in progress, runs killed and not yet
        recorded as abandoned, a recording interrupted half-way.
    limits
        What this verification could not detect (see :data:`LIMITS`); printed by ``kit verify``.
    manifests
        How many manifests the chain holds.
    files
        How many files the newest manifest lists.
    """

    path: Path
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    special: list[str] = field(default_factory=list)
    chain_errors: list[str] = field(default_factory=list)
    extra_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)
    manifests: int = 0
    files: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing was added, removed, altered or planted and the chain and extra checks hold."""
        return not (self.added or self.removed or self.altered or self.special or self.chain_errors
                    or self.extra_errors)

    def summary(self) -> str:
        """One line: ``ok`` or the counts of each kind of problem."""
        if self.ok:
            return f"ok: {self.files} files, {self.manifests} manifests, chain intact"
        parts = [
            f"{len(items)} {what}"
            for what, items in (("added", self.added), ("removed", self.removed), ("altered", self.altered),
                                ("link(s) or special file(s)", self.special))
            if items
        ]
        if self.chain_errors:
            parts.append(f"{len(self.chain_errors)} chain error(s)")
        if self.extra_errors:
            parts.append(f"{len(self.extra_errors)} failed check(s)")
        return ", ".join(parts)

    def lines(self) -> list[str]:
        """One line per finding, for people: ``altered: reports/…/triage.html``."""
        out = [f"{what}: {show(path)}" for what, items in
               (("added", self.added), ("removed", self.removed), ("altered", self.altered)) for path in items]
        out += [f"special: {line}" for line in self.special]
        out += [f"chain: {error}" for error in self.chain_errors]
        out += [f"check: {error}" for error in self.extra_errors]
        return out


@dataclass(frozen=True)
class PendingCommit:
    """A recording journalled by a stage (``.staging/<id>/.stage.json``, state ``committing``).

    Attributes
    ----------
    stage
        The staging folder.
    alive
        Whether its owner still runs.
    destinations
        Where its files go in the incident (relative paths; folders cover what is inside).
    sequence, sha256
        The manifest it writes.
    """

    stage: Path
    alive: bool
    destinations: tuple[str, ...]
    sequence: int
    sha256: str

    def covers(self, path: str) -> bool:
        """Whether ``path`` is one of the files this recording moves into the incident."""
        return any(path == d or path.startswith(d + "/") for d in self.destinations)


@dataclass
class Inspection:
    """The archive as one pass read it: the result, and what a writer needs to append.

    Attributes
    ----------
    result
        The verification result.
    on_disk
        Every archived regular file: relative path → (sha256, bytes).
    newest
        The newest manifest (``None`` for a folder without one).
    chain
        ``(path, bytes)`` of each manifest of the chain, in order.
    pending
        Recordings journalled by stages.
    """

    result: VerifyResult
    on_disk: dict[str, tuple[str, int]] = field(default_factory=dict)
    newest: dict[str, Any] | None = None
    chain: list[tuple[Path, bytes]] = field(default_factory=list)
    pending: list[PendingCommit] = field(default_factory=list)


def is_incident(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an incident folder: it has ``manifest.json`` or ``manifests/`` (links count, to be named)."""
    root = Path(path)
    return os.path.lexists(root / MANIFEST) or os.path.lexists(root / MANIFESTS)


def find_incidents(path: str | os.PathLike[str]) -> list[Path]:
    """The incident folders directly inside ``path`` (a folder of incidents), by name; links are not followed."""
    found = []
    for entry in list_inside(path):
        if entry.kind == "dir" and is_incident(Path(path) / entry.path):
            found.append(Path(path) / entry.path)
    return found


def _marker(folder: Path) -> dict[str, Any]:
    try:
        data = read_inside(folder, STAGE_MARKER, limit=_MARKER_LIMIT)
        value = parse_manifest(data, str(folder / STAGE_MARKER))
    except (OSError, ArchiveError):
        return {}
    return value


def pending_commits(root: Path) -> list[PendingCommit]:
    """Recordings journalled by the stages of ``root`` that may not be complete (state ``committing``)."""
    found = []
    try:
        stages = [e for e in list_inside(root, STAGING) if e.kind == "dir"]
    except ArchiveError:
        return []
    for entry in stages:
        folder = root / entry.path
        marker = _marker(folder)
        commit = marker.get("commit")
        if marker.get("state") != "committing" or not isinstance(commit, Mapping):
            continue
        moves = commit.get("moves")
        sequence, digest = commit.get("sequence"), commit.get("sha256")
        if not isinstance(moves, list) or not isinstance(sequence, int) or not isinstance(digest, str):
            continue
        destinations = tuple(str(m[1]) for m in moves if isinstance(m, list) and len(m) == 2)
        found.append(PendingCommit(stage=folder, alive=stage_alive(folder), destinations=destinations,
                                   sequence=sequence, sha256=digest))
    return found


def _stage_notes(root: Path, result: VerifyResult) -> None:
    try:
        entries = list_inside(root, STAGING)
    except ArchiveError:
        return  # a link or a file where the staging folder belongs: named by the scan
    for entry in entries:
        if entry.kind != "dir":
            result.notes.append(f"{show(entry.path)} is {describe(entry)} in the staging area; "
                                "the next write into this incident removes it")
            continue
        folder = root / entry.path
        marker = _marker(folder)
        who = ", ".join(str(marker[k]) for k in ("name", "run_by") if marker.get(k))
        since = f" since {marker['started_at']}" if marker.get("started_at") else ""
        label = f"{show(entry.path)} ({who or 'no owner record'}{since})"
        if stage_alive(folder):
            result.notes.append(f"run in progress, not yet recorded: {label}")
        elif marker.get("state") == "committing":
            result.notes.append(f"run killed while being recorded: {label}; "
                                "the next write into this incident completes or rolls it back")
        else:
            result.notes.append(f"run killed before it was recorded: {label}; "
                                "the next write into this incident records it as abandoned")


def _gap_lines(present: Sequence[int], last: int) -> list[str]:
    """``manifests/0004.json is missing`` / ``… to … are missing (n manifests)`` for each gap in 1..last."""
    gaps: list[tuple[int, int]] = []
    expected = 1
    for number in present:
        if number > expected:
            gaps.append((expected, number - 1))
        expected = number + 1
    if expected <= last:
        gaps.append((expected, last))
    lines = []
    for first, end in gaps[:_SHOWN_GAPS]:
        if first == end:
            lines.append(f"{manifest_name(first)} is missing")
        else:
            lines.append(f"{manifest_name(first)} to {manifest_name(end)} are missing ({end - first + 1:,} manifests)")
    if len(gaps) > _SHOWN_GAPS:
        missing = sum(e - f + 1 for f, e in gaps[_SHOWN_GAPS:])
        lines.append(f"{len(gaps) - _SHOWN_GAPS} more gaps: {missing:,} more manifests are missing")
    return lines


def _read(root: Path, rel: str, errors: list[str]) -> bytes | None:
    try:
        return read_inside(root, rel)
    except FileNotFoundError:
        return None
    except (ArchiveError, OSError) as error:
        errors.append(f"{rel}: {error}" if not str(error).startswith(rel) else str(error))
        return None


def _list_manifests(root: Path, inspection: Inspection) -> dict[int, bytes]:
    """The readable ``manifests/<n>.json`` by number; everything else in the folder named as a problem or note."""
    errors = inspection.result.chain_errors
    info = lstat_inside(root, MANIFESTS)
    if info is None:
        return {}
    try:
        entries = list_inside(root, MANIFESTS)
    except ArchiveError as error:
        errors.append(str(error))
        return {}
    names = {e.path.split("/", 1)[1] for e in entries}
    present: dict[int, bytes] = {}
    for entry in entries:
        name = entry.path.split("/", 1)[1]
        number = sequence_of(name)
        if number is not None and entry.kind == "file":
            data = _read(root, entry.path, errors)
            if data is not None:
                present[number] = data
        elif number is not None:
            errors.append(f"{show(entry.path)} is {describe(entry)}, not a manifest; it is not followed")
        elif entry.kind == "file" and (side := _SIDECAR.match(name)) and side.group(1) in names:
            continue  # a sidecar of a manifest (a signature): the extra checks read it
        elif entry.kind == "file" and is_manifest_temp(name) and inspection.pending:
            inspection.result.notes.append(f"{show(entry.path)} is a temporary file of an interrupted recording")
        else:
            errors.append(f"{show(entry.path)} is not part of the chain (not a manifest name: "
                          f"manifests are named like {Path(manifest_name(1)).name})")
    return present


def _check_links(numbers: list[int], raw: dict[int, bytes], parsed: dict[int, dict[str, Any]],
                 errors: list[str]) -> None:
    for n in numbers:
        manifest = parsed.get(n)
        if manifest is None:
            continue
        name = manifest_name(n)
        previous = manifest.get("previous")
        if n == 1:
            if previous is not None:
                errors.append(f"{name} is the first manifest but points at a previous one")
            before_history: list[Any] = []
        else:
            if n - 1 not in raw:
                continue
            digest = hashlib.sha256(raw[n - 1]).hexdigest()
            if not isinstance(previous, Mapping) or previous.get("manifest") != manifest_name(n - 1) \
                    or previous.get("sha256") != digest:
                errors.append(f"{manifest_name(n - 1)} does not match the hash recorded in {name}")
            before = parsed.get(n - 1)
            if before is None:
                continue
            now = {e["path"]: e["sha256"] for e in manifest["files"]}
            dropped = [e["path"] for e in before["files"] if now.get(e["path"]) != e["sha256"]]
            for path in dropped[:5]:
                errors.append(f"{name} drops or changes {show(path)}, recorded in {manifest_name(n - 1)}")
            if len(dropped) > 5:
                errors.append(f"{name} drops or changes {len(dropped) - 5} more files recorded in "
                              f"{manifest_name(n - 1)}")
            before_history = before["history"]
        history = manifest["history"]
        if history[:-1] != before_history or not history or history[-1] != {"sequence": n, **manifest["event"]}:
            errors.append(f"{name} does not extend the history of the manifest before it by its own event")


def _read_chain(root: Path, inspection: Inspection) -> None:
    result = inspection.result
    errors = result.chain_errors
    present = _list_manifests(root, inspection)
    newest_bytes = _read(root, MANIFEST, errors)
    newest: dict[str, Any] | None = None
    last: int | None = None
    if newest_bytes is None and not os.path.lexists(root / MANIFEST):
        pending_first = next((p for p in inspection.pending
                              if p.sequence == 1 and 1 in present
                              and hashlib.sha256(present[1]).hexdigest() == p.sha256), None)
        if pending_first is None:
            errors.append(f"{MANIFEST} is missing")
    elif newest_bytes is not None:
        try:
            newest = parse_manifest(newest_bytes, MANIFEST)
        except ArchiveError as error:
            errors.append(str(error))
        if newest is not None:
            problems = manifest_problems(newest, MANIFEST)
            errors += problems
            sequence = newest.get("sequence")
            if isinstance(sequence, int) and not isinstance(sequence, bool) and sequence >= 1:
                last = sequence
            if problems:
                newest = None
    if last is None and present and newest_bytes is None:
        last = max(present)  # no manifest.json: check what the folder holds against its newest
    numbers = sorted(present)
    if last is not None:
        for n in [n for n in numbers if n > last]:
            pend = next((p for p in inspection.pending if p.sequence == n), None)
            if pend is not None and n == last + 1 and hashlib.sha256(present[n]).hexdigest() == pend.sha256:
                result.notes.append(f"{manifest_name(n)} was written by a recording that did not finish; "
                                    f"the next write into this incident completes it")
            else:
                errors.append(f"{manifest_name(n)} is not part of the chain: {MANIFEST} says the newest is "
                              f"{manifest_name(last)}")
        numbers = [n for n in numbers if n <= last]
        errors += _gap_lines(numbers, last)
        result.manifests = last
        if last in present and newest_bytes is not None and present[last] != newest_bytes:
            errors.append(f"{MANIFEST} differs from {manifest_name(last)}")
    parsed: dict[int, dict[str, Any]] = {}
    for n in numbers:
        name = manifest_name(n)
        try:
            manifest = parse_manifest(present[n], name)
        except ArchiveError as error:
            errors.append(str(error))
            continue
        problems = manifest_problems(manifest, name)
        if problems:
            errors += problems
            continue
        if manifest["sequence"] != n:
            errors.append(f"{name} says it is manifest {show(repr(manifest['sequence']))[:40]}")
            continue
        parsed[n] = manifest
    _check_links(numbers, present, parsed, errors)
    if newest is None and newest_bytes is None and last is not None and last in parsed:
        newest = parsed[last]
    inspection.newest = newest
    inspection.chain = [(root / manifest_name(n), present[n]) for n in numbers]


def _scan(root: Path, inspection: Inspection) -> None:
    result = inspection.result
    top = {e.path: e for e in list_inside(root)}
    for reserved, kind, role in ((LOCK, "file", "lock"), (STAGING, "dir", "runs in progress")):
        entry = top.get(reserved)
        if entry is not None and entry.kind != kind:
            result.special.append(f"{reserved} is {describe(entry)}, where the kit keeps its {role}; not followed")
    specials: list[Entry] = []
    for entry in walk(root, skip_top=RESERVED, hash_files=True):
        if entry.kind == "file" and entry.sha256 is not None:
            inspection.on_disk[entry.path] = (entry.sha256, entry.size)
        elif entry.kind != "dir":
            specials.append(entry)
    listed: dict[str, tuple[str, int]] = {}
    if inspection.newest is not None:
        listed = {e["path"]: (e["sha256"], e["bytes"]) for e in inspection.newest["files"]}
        result.files = len(listed)
    for entry in specials:
        recorded = " (where a file was recorded)" if entry.path in listed else ""
        result.special.append(f"{show(entry.path)} is {describe(entry)}{recorded}; not followed")
    if inspection.newest is None and result.chain_errors:
        return  # nothing trustworthy to compare the files with: the chain errors say why
    pending = inspection.pending
    special_paths = {e.path for e in specials}
    added = sorted(set(inspection.on_disk) - set(listed))
    excused = [p for p in added if any(c.covers(p) for c in pending)]
    if excused:
        result.notes.append(f"{len(excused)} file(s) of an interrupted recording are in place but not yet recorded; "
                            "the next write into this incident completes or rolls it back")
    result.added = [p for p in added if p not in excused]
    result.removed = sorted(p for p in set(listed) - set(inspection.on_disk) - special_paths
                            if not any(c.covers(p) for c in pending))
    result.altered = sorted(p for p in set(inspection.on_disk) & set(listed) if inspection.on_disk[p] != listed[p])


def _run_checks(root: Path, inspection: Inspection, checks: Sequence[ExtraCheck]) -> None:
    result = inspection.result
    covered: set[str] = set()
    for check in checks:
        name = getattr(check, "__name__", type(check).__name__)
        try:
            problems = check(root, list(inspection.chain))
        except ArchiveError:
            raise
        except Exception as error:  # noqa: BLE001 - a broken check is a finding, not a traceback
            if hasattr(error, "exit_code"):
                raise
            problems = [f"{name} could not run: {type(error).__name__}: {show(str(error))[:300]}"]
        result.extra_errors += [show(str(p)) for p in problems]
        covered |= set(getattr(check, "covers", ()) or ())
    result.limits = [text for key, text in LIMITS.items() if key not in covered]


def inspect_archive(root: str | os.PathLike[str], *, checks: Sequence[ExtraCheck] = ()) -> Inspection:
    """One verification pass over the incident folder ``root``, keeping what a writer needs.

    Raises
    ------
    ArchiveError
        ``root`` is missing, a link, not a folder, or not an incident folder.
    """
    path = Path(root)
    try:
        os.lstat(path)
    except FileNotFoundError as error:
        raise ArchiveError(f"{path} does not exist") from error
    except OSError as error:
        raise ArchiveError(f"cannot read {path}: {error.strerror or error}") from error
    if not os.path.isdir(path) or os.path.islink(path):
        what = "a symbolic link" if os.path.islink(path) else "not a folder"
        raise ArchiveError(f"{path} is {what}, not an incident archive")
    if not is_incident(path):
        raise ArchiveError(f"{path} is not an incident archive: it has no manifest.json")
    inspection = Inspection(result=VerifyResult(path=path))
    inspection.pending = pending_commits(path)
    _read_chain(path, inspection)
    _scan(path, inspection)
    _stage_notes(path, inspection.result)
    _run_checks(path, inspection, checks)
    return inspection


def _fingerprint(root: Path) -> bytes | None:
    try:
        return read_inside(root, MANIFEST)
    except (OSError, ArchiveError):
        return None


def verify_archive(path: str | os.PathLike[str], *, checks: Sequence[ExtraCheck] = ()) -> VerifyResult:
    """Recompute every hash under an incident folder and check the manifest chain.

    Reads without locking; if a writer recorded while it read (the newest manifest changed, or
    a live run was half-way through recording), it reads again.

    Parameters
    ----------
    path
        ``archive/<incident>``.
    checks
        Extra checks (:data:`ExtraCheck`), e.g. a signature's and a witness's; their problem
        sentences go to ``extra_errors`` and make the result not ok.

    Raises
    ------
    ArchiveError
        ``path`` is not an incident folder (no ``manifest.json`` and no ``manifests/``).
    """
    root = Path(path)
    for attempt in range(_RETRIES):
        before = _fingerprint(root)
        inspection = inspect_archive(root, checks=checks)
        busy = any(p.alive for p in inspection.pending)
        if (inspection.result.ok or not busy) and _fingerprint(root) == before:
            return inspection.result
        if attempt < _RETRIES - 1:
            time.sleep(0.2)
    return inspection.result
