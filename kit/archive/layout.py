"""Where things go in an incident folder, and how new folders get their names.

::

    archive/<incident>/
      evidence/<stamp>/<vm>/        bundles of one collection      new_evidence_dir()
      reports/<stamp>-<name>/       one report or drill step run   new_run_dir()
      transcripts/<stamp>-<vm>.cast console transcripts (+ .txt)   transcript_path()
      abandoned/<stage>/            what a run that died left (recorded as ``abandoned``)
      .staging/<stage>/             a run in progress, same layout inside; never recorded

``<stamp>`` is :func:`kit.times.folder_stamp` (``20261125T180000Z``); a name already taken gets
``-2``, ``-3`` … (:func:`unique_folder`), and folders are created on the spot, so two runs in the
same second never share one. Given a staging folder instead of the incident folder, the
``new_*`` functions create the folder inside the staging folder, with a name that is free in
the incident too, so it can be moved into place unchanged (:mod:`kit.archive.stage`).
"""

from __future__ import annotations

import getpass
import os
import re
import socket
from pathlib import Path

from kit.errors import ArchiveError, UsageError
from kit.times import folder_stamp

__all__ = [
    "ABANDONED",
    "STAGE_LOCK",
    "STAGE_MARKER",
    "STAGING",
    "incident_dir",
    "incident_of",
    "incident_relative",
    "new_evidence_dir",
    "new_incident",
    "new_run_dir",
    "run_by",
    "transcript_path",
    "unique_folder",
]

#: Top-level folder of the runs in progress (never recorded).
STAGING = ".staging"
#: Top-level folder of what dead runs left (recorded, as ``abandoned`` events).
ABANDONED = "abandoned"
#: A stage's owner record and journal (``.staging/<stage>/.stage.json``).
STAGE_MARKER = ".stage.json"
#: The file a stage's owner holds locked while it is alive.
STAGE_LOCK = ".stage.lock"

_INCIDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_ATTEMPTS = 1000


def incident_dir(archive_root: str | os.PathLike[str], incident: str) -> Path:
    """The folder of ``incident`` under ``archive_root`` (not created).

    Raises
    ------
    UsageError
        The incident id is not a plain name (letters, digits, ``.``, ``_``, ``-``).
    """
    if not isinstance(incident, str) or not _INCIDENT.match(incident) or incident in {".", ".."}:
        raise UsageError(
            f"incident id {incident!r} must be a plain name of letters, digits, '.', '_' or '-' (e.g. INC-1234)"
        )
    return Path(archive_root) / incident


def incident_of(folder: str | os.PathLike[str]) -> Path:
    """The incident folder of ``folder``: itself, or the incident of a staging folder ``<incident>/.staging/<id>``."""
    path = Path(folder)
    return path.parent.parent if path.parent.name == STAGING and path.name not in ("", ".", "..") else path


def incident_relative(path: str | os.PathLike[str], archive_dir: str | os.PathLike[str]) -> str | None:
    """``path`` relative to the incident of ``archive_dir`` as it will be recorded, or ``None`` if outside it.

    A path inside a staging folder maps to where it lands when the stage is recorded
    (``.staging/<id>/evidence/x`` → ``evidence/x``); a path already in the incident maps to itself.
    """
    incident = incident_of(Path(archive_dir).resolve())
    try:
        parts = Path(path).resolve().relative_to(incident).parts
    except ValueError:
        return None
    if parts and parts[0] == STAGING:
        parts = parts[2:]
    return "/".join(parts) or None


def _taken(also: tuple[Path, ...], name: str) -> bool:
    return any(os.path.lexists(other / name) for other in also)


def _mirrors(folder: Path) -> tuple[Path, ...]:
    """For a staging folder, the incident folder whose names a new folder must also avoid."""
    incident = incident_of(folder)
    return (incident,) if incident != folder else ()


def unique_folder(parent: Path, name: str, *, also: tuple[Path, ...] = ()) -> Path:
    """Create and return ``parent/name``, or ``parent/name-2``, ``-3`` … when it is taken.

    ``also``: other folders in which the chosen name must be free as well (a staging folder's
    incident, so the folder can later be moved there under its name).

    Raises
    ------
    ArchiveError
        No free name in 1,000 tries, or ``parent`` cannot be written.
    """
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, _ATTEMPTS + 1):
            candidate = name if attempt == 1 else f"{name}-{attempt}"
            if _taken(also, candidate):
                continue
            folder = parent / candidate
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            return folder
    except OSError as error:
        raise ArchiveError(f"cannot create a folder under {parent}: {error.strerror or error}") from error
    raise ArchiveError(f"could not create a new folder {name!r} under {parent}: {_ATTEMPTS} names are taken")


def new_incident(archive_root: str | os.PathLike[str], prefix: str) -> Path:
    """Create a fresh incident folder ``<prefix>-<stamp>`` (``DEMO-20261125T180000Z``) under ``archive_root``."""
    name = f"{prefix}-{folder_stamp()}"
    return unique_folder(incident_dir(archive_root, name).parent, name)


def new_run_dir(incident_root: Path, name: str) -> Path:
    """Create ``reports/<stamp>-<name>/`` for one report run (in a staging folder: free in its incident too)."""
    root = Path(incident_root)
    return unique_folder(root / "reports", f"{folder_stamp()}-{name}",
                         also=tuple(m / "reports" for m in _mirrors(root)))


def new_evidence_dir(incident_root: str | os.PathLike[str] | None) -> Path:
    """Create ``evidence/<stamp>/`` under the incident (or staging) folder (``./evidence/<stamp>/`` without one)."""
    if not incident_root:
        return unique_folder(Path("evidence"), folder_stamp())
    root = Path(incident_root)
    return unique_folder(root / "evidence", folder_stamp(), also=tuple(m / "evidence" for m in _mirrors(root)))


def transcript_path(incident_root: Path, vm_name: str) -> Path:
    """Where a new console transcript goes: ``transcripts/<stamp>-<vm>.cast`` (not created).

    The name is free in the folder (and, for a staging folder, in its incident): ``-2``, ``-3`` …
    are added when a transcript of the same VM started in the same second.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", vm_name) or "vm"
    root = Path(incident_root)
    folders = (root / "transcripts", *(m / "transcripts" for m in _mirrors(root)))
    stem = f"{folder_stamp()}-{safe}"
    for attempt in range(1, _ATTEMPTS + 1):
        name = stem if attempt == 1 else f"{stem}-{attempt}"
        if not any(_taken(folders, name + suffix) for suffix in (".cast", ".txt")):
            return folders[0] / f"{name}.cast"
    raise ArchiveError(f"no free transcript name for {safe!r} under {folders[0]}: {_ATTEMPTS} names are taken")


def run_by() -> str:
    """Who is running the kit, as ``user@host``."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (containers): fall back to the uid
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"
