"""The archive manifest: its file names, its JSON shape, and reading one safely.

A manifest is a JSON object::

    {"format": "kit-archive/1", "incident": "INC-1", "sequence": 3, "written_at": "…Z",
     "kit_version": "…", "run_by": "user@host",
     "previous": {"manifest": "manifests/0002.json", "sha256": "…"} | null,
     "event": {...}, "history": [{"sequence": 1, ...}, ...],
     "files": [{"path": "reports/…/triage.html", "sha256": "…", "bytes": 123}, ...]}

``manifests/<n>.json`` holds manifest ``n`` (n = 1, 2, … written with at least four digits),
``manifest.json`` a copy of the newest. :func:`manifest_problems` says, one sentence per
problem, how a parsed manifest departs from this shape, so a malformed one is named, never a
traceback.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kit.archive.layout import incident_of
from kit.archive.tree import read_inside, safe_relative, show
from kit.errors import ArchiveError

__all__ = [
    "ARCHIVE_FORMAT",
    "MANIFEST",
    "MANIFESTS",
    "is_manifest_temp",
    "manifest_name",
    "manifest_problems",
    "parse_manifest",
    "read_manifest",
    "sequence_of",
]

ARCHIVE_FORMAT = "kit-archive/1"
#: The newest manifest, at the top of the incident folder.
MANIFEST = "manifest.json"
#: The folder holding every manifest ever written.
MANIFESTS = "manifests"

_NAME = re.compile(r"^([0-9]{4,})\.json$")
_TEMP = re.compile(r"^\.(?:[0-9]{4,}\.json|manifest\.json)\..+\.tmp$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
_SHOWN = 5


def manifest_name(sequence: int) -> str:
    """``manifests/0007.json`` for sequence 7."""
    return f"{MANIFESTS}/{sequence:04d}.json"


def sequence_of(filename: str) -> int | None:
    """The sequence number a file in ``manifests/`` is named for (``0007.json`` → 7), else ``None``."""
    match = _NAME.match(filename)
    if match is None:
        return None
    number = int(match.group(1))
    return number if number >= 1 and f"{number:04d}.json" == filename else None


def is_manifest_temp(filename: str) -> bool:
    """Whether a file in ``manifests/`` is the temporary file of a manifest being written (``.0007.json.ab12.tmp``)."""
    return bool(_TEMP.match(filename))


def parse_manifest(data: bytes, name: str) -> dict[str, Any]:
    """Parse manifest bytes into a JSON object.

    Raises
    ------
    ArchiveError
        Not UTF-8 JSON, nested too deeply, or not an object; the message is one line.
    """
    try:
        value = json.loads(data)
    except RecursionError as error:
        raise ArchiveError(f"{name} is not a manifest: its JSON is nested too deeply") from error
    except UnicodeDecodeError as error:
        raise ArchiveError(f"{name} is not a manifest: it is not UTF-8 text") from error
    except ValueError as error:
        where = f" (line {error.lineno}, column {error.colno})" if isinstance(error, json.JSONDecodeError) else ""
        reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        raise ArchiveError(f"{name} is not valid JSON{where}: {show(reason)}") from error
    if not isinstance(value, dict):
        raise ArchiveError(f"{name} is not a manifest: it holds a JSON {type(value).__name__}, not an object")
    return value


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _files_problems(files: Any, name: str) -> list[str]:
    if not isinstance(files, list):
        return [f"{name} has no list of files"]
    problems: list[str] = []
    seen: set[str] = set()
    bad = 0
    for index, entry in enumerate(files):
        path = entry.get("path") if isinstance(entry, Mapping) else None
        reason = None
        if not isinstance(entry, Mapping):
            reason = "is not an object"
        elif not safe_relative(path) or str(path).split("/", 1)[0] in (MANIFEST, MANIFESTS):
            reason = f"has an unsafe path {show(repr(path))[:120]}"
        elif not isinstance(entry.get("sha256"), str) or not _HEX.match(entry["sha256"]):
            reason = "has no valid sha256"
        elif not _whole(entry.get("bytes")) or entry["bytes"] < 0:
            reason = "has no valid byte count"
        elif path in seen:
            reason = f"repeats {show(str(path))[:120]}"
        if reason is None:
            seen.add(str(path))
            continue
        bad += 1
        if bad <= _SHOWN:
            problems.append(f"{name}: file entry {index} {reason}")
    if bad > _SHOWN:
        problems.append(f"{name}: {bad - _SHOWN} more malformed file entries")
    return problems


def manifest_problems(manifest: Mapping[str, Any], name: str) -> list[str]:
    """How ``manifest`` departs from the manifest shape, one sentence each (``[]`` when it fits).

    Checks the format tag, a whole ``sequence`` ≥ 1, the ``previous`` reference, the ``event``
    and ``history`` types and every file entry (a plain relative path, a sha256, a byte count,
    no repeats). Linear in the manifest's size.
    """
    problems: list[str] = []
    if manifest.get("format") != ARCHIVE_FORMAT:
        problems.append(f"{name} is not a {ARCHIVE_FORMAT} manifest (format {show(repr(manifest.get('format')))[:60]})")
    sequence = manifest.get("sequence")
    if not (isinstance(sequence, int) and not isinstance(sequence, bool) and sequence >= 1):
        problems.append(f"{name} has no valid sequence number ({show(repr(sequence))[:60]}; "
                        "it must be a whole number from 1)")
    previous = manifest.get("previous")
    if previous is not None and not (
            isinstance(previous, Mapping) and isinstance(previous.get("manifest"), str)
            and isinstance(previous.get("sha256"), str) and _HEX.match(previous["sha256"])):
        problems.append(f"{name} has a malformed reference to the previous manifest")
    if not isinstance(manifest.get("event"), Mapping):
        problems.append(f"{name} records no event")
    history = manifest.get("history")
    if not isinstance(history, list) or not all(isinstance(h, Mapping) for h in history):
        problems.append(f"{name} has no valid history")
    problems += _files_problems(manifest.get("files"), name)
    return problems


def read_manifest(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The newest manifest of the incident folder ``root``, or ``None`` when there is none.

    ``root`` may also be a run's staging folder (``.staging/<id>``, what a report's kernel gets
    as ``archive_dir``): its incident's manifest is read. ``manifest.json`` is never read through
    a link.

    Raises
    ------
    ArchiveError
        ``manifest.json`` is a link, a special file, unreadable, not JSON or not shaped like a
        manifest (one line; ``kit verify`` says more).
    """
    incident = incident_of(Path(root))
    try:
        data = read_inside(incident, MANIFEST)
    except FileNotFoundError:
        return None
    except ArchiveError as error:
        raise ArchiveError(f"{incident}: {error}; run `kit verify {incident}`") from error
    except OSError as error:
        raise ArchiveError(f"cannot read {incident / MANIFEST}: {error.strerror or error}") from error
    manifest = parse_manifest(data, str(incident / MANIFEST))
    problems = manifest_problems(manifest, str(incident / MANIFEST))
    if problems:
        raise ArchiveError(f"{problems[0]}; run `kit verify {incident}`")
    return manifest
