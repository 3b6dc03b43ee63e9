"""The incident archive: one folder per incident, append-only, hash-chained, one writer at a time.

- :mod:`kit.archive.layout`: where evidence, report runs, transcripts, runs in progress and
  abandoned runs go, and how new folders are named.
- :mod:`kit.archive.stage`: ``staged`` / ``Stage``: a run writes into its own staging folder,
  recorded atomically at the end under the incident's lock (or recorded as abandoned).
- :mod:`kit.archive.append`: ``record`` for writers that put their files in place themselves.
- :mod:`kit.archive.chain`: what is appendable, and writing the next manifest.
- :mod:`kit.archive.recovery`: settling what dead writers left (``kill -9`` included).
- :mod:`kit.archive.verify`: ``verify_archive`` recomputes every hash and checks the chain.
- :mod:`kit.archive.manifest`: the manifest's names and shape, ``read_manifest``.
- :mod:`kit.archive.lock`: the incident's lock (waiting, ``ArchiveBusyError``) and stage liveness.
- :mod:`kit.archive.staging`: stage folders on disk, their journal, moving files into place.
- :mod:`kit.archive.tree`: walking and reading without following links.
- :mod:`kit.archive.files`: atomic writes and sha256.

Every layer files things here (reports, console transcripts, drill records), so it sits below
all of them and imports nothing of the kit but :mod:`kit.errors` and :mod:`kit.times`.
"""

from kit.archive.append import record
from kit.archive.chain import Chain, check_appendable
from kit.archive.files import atomic_write, sha256_file
from kit.archive.hooks import AfterWrite, ExtraCheck, after_each
from kit.archive.layout import (
    ABANDONED,
    STAGING,
    incident_dir,
    incident_of,
    incident_relative,
    new_evidence_dir,
    new_incident,
    new_run_dir,
    run_by,
    transcript_path,
    unique_folder,
)
from kit.archive.lock import DEFAULT_WAIT, incident_lock, lock_holder
from kit.archive.manifest import ARCHIVE_FORMAT, manifest_name, read_manifest
from kit.archive.recovery import recover
from kit.archive.stage import Stage, staged
from kit.archive.tree import ArchiveWarning, describe, list_inside, open_inside, read_inside, walk
from kit.archive.verify import (
    LIMIT_RECOMPUTED,
    LIMIT_ROLLBACK,
    LIMITS,
    VerifyResult,
    find_incidents,
    is_incident,
    verify_archive,
)

__all__ = [
    "ABANDONED",
    "ARCHIVE_FORMAT",
    "DEFAULT_WAIT",
    "LIMITS",
    "LIMIT_RECOMPUTED",
    "LIMIT_ROLLBACK",
    "STAGING",
    "AfterWrite",
    "ArchiveWarning",
    "Chain",
    "ExtraCheck",
    "Stage",
    "VerifyResult",
    "after_each",
    "atomic_write",
    "check_appendable",
    "describe",
    "find_incidents",
    "incident_dir",
    "incident_lock",
    "incident_of",
    "incident_relative",
    "is_incident",
    "list_inside",
    "lock_holder",
    "manifest_name",
    "new_evidence_dir",
    "new_incident",
    "new_run_dir",
    "open_inside",
    "read_inside",
    "read_manifest",
    "record",
    "recover",
    "run_by",
    "sha256_file",
    "staged",
    "transcript_path",
    "unique_folder",
    "verify_archive",
    "walk",
]
