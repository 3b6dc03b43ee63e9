"""A witness: an append-only record, kept outside the archive, of every manifest's hash.

The manifest chain and its signatures show that what is there is unaltered; they cannot show
that nothing is *missing* at the end: deleting the newest manifests (and the files they added)
leaves a shorter chain that is intact and signed. A witness remembers every head
``(incident, sequence, sha256 of manifests/<n>.json)`` as it is written, so ``kit verify
--witness`` can name

- a **rollback**: the witness knows manifests beyond the archive's newest;
- a **fork**: the witness holds another manifest under the same sequence number (the history
  was rewritten, or two copies of the archive were appended to separately);
- **missing heads**: manifests the witness never saw (written without it, or its append
  failed), whose later removal or rewrite it could not reveal.

:class:`FileWitness` is a JSON-lines file (air-gapped use, tests); ``kit.azure.witness``
provides an Azure Storage append blob. Both store one line per head (:func:`head_line`)::

    {"format": "kit-witness/1", "incident": "INC-7", "sequence": 3, "sha256": "…", "recorded_at": "…Z"}

A witness is only as good as its write protection: put the file on a write-once medium or a
host the responders cannot rewrite, or the blob in a container with an immutability policy.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from kit.archive.hooks import AfterWrite, Manifests
from kit.archive.layout import incident_dir
from kit.errors import UsageError, WitnessError
from kit.times import utc_text

__all__ = [
    "WITNESS_FORMAT",
    "FileWitness",
    "Head",
    "Witness",
    "WitnessCheck",
    "compare_heads",
    "head_line",
    "head_of",
    "open_file_witness",
    "parse_head_lines",
    "witness_append",
    "witness_check",
]

WITNESS_FORMAT = "kit-witness/1"

@dataclass(frozen=True)
class Head:
    """One witnessed manifest.

    Attributes
    ----------
    incident
        The incident id (the manifest's ``incident``).
    sequence
        The manifest's sequence number.
    sha256
        The hex sha256 of the manifest's bytes (what the next manifest's ``previous`` records).
    recorded_at
        When the witness was told (informational; not compared).
    """

    incident: str
    sequence: int
    sha256: str
    recorded_at: str | None = field(default=None, compare=False)


class Witness(Protocol):
    """Somewhere outside the archive that keeps every head it is given, append-only."""

    @property
    def name(self) -> str:
        """What to call the witness in messages (its path or URL, never a secret)."""
        ...

    def append(self, head: Head) -> None:
        """Record ``head``; raises :class:`~kit.errors.WitnessError` when it cannot."""
        ...

    def heads(self, incident: str) -> list[Head]:
        """Every head recorded for ``incident``, in the order recorded; raises ``WitnessError`` when unreadable."""
        ...


def _check_incident(incident: str) -> str:
    try:
        incident_dir(".", incident)
    except UsageError as error:
        raise WitnessError(f"cannot witness {incident!r}: {error}") from None
    return incident


def head_of(path: Path, data: bytes) -> Head:
    """The head of the manifest ``path`` whose bytes are ``data``.

    The incident and sequence come from the manifest itself (the folder name and the file name
    when it lacks them), the hash from ``data``.

    Raises
    ------
    WitnessError
        Neither the manifest nor its path says which incident or sequence it is.
    """
    try:
        manifest = json.loads(data)
    except ValueError:
        manifest = {}
    manifest = manifest if isinstance(manifest, dict) else {}
    incident = manifest.get("incident") or path.parent.parent.name
    sequence = manifest.get("sequence")
    if not isinstance(sequence, int) or isinstance(sequence, bool):
        stem = path.name.removesuffix(".json")
        if not stem.isdigit():
            raise WitnessError(f"{path} has no sequence number to witness")
        sequence = int(stem)
    return Head(_check_incident(str(incident)), sequence, hashlib.sha256(data).hexdigest())


def head_line(head: Head) -> bytes:
    """The one JSON line a witness stores for ``head`` (ending in a newline)."""
    record = {"format": WITNESS_FORMAT, "incident": head.incident, "sequence": head.sequence, "sha256": head.sha256,
              "recorded_at": head.recorded_at or utc_text()}
    return (json.dumps(record, separators=(",", ":")) + "\n").encode()


def parse_head_lines(data: bytes, source: str) -> list[Head]:
    """Every head in witness lines (blank lines skipped).

    Raises
    ------
    WitnessError
        A line is not a head record (the message names ``source`` and the line).
    """
    heads = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            head = Head(str(record["incident"]), record["sequence"], str(record["sha256"]), record.get("recorded_at"))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WitnessError(f"{source} line {number} is not a witness record; the witness is damaged, "
                               "keep it for investigation and do not append to it") from None
        if not isinstance(head.sequence, int) or isinstance(head.sequence, bool) or len(head.sha256) != 64:
            raise WitnessError(f"{source} line {number} holds no valid sequence and sha256; the witness is damaged")
        heads.append(head)
    return heads


class FileWitness:
    """A witness in a local JSON-lines file, one line per head, for every incident.

    Appends are single ``O_APPEND`` writes under an exclusive ``flock``, flushed to disk before
    returning. Nothing in the kit rewrites the file; protect it from people (``chattr +a``, a
    write-once mount, a host of its own).

    Parameters
    ----------
    path
        The file; created, with its folder, on the first append.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()

    @property
    def name(self) -> str:
        """The file's path."""
        return str(self.path)

    def append(self, head: Head) -> None:
        """Add one line for ``head``.

        Raises
        ------
        WitnessError
            The file cannot be created or written.
        """
        line = head_line(Head(_check_incident(head.incident), head.sequence, head.sha256, head.recorded_at))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                written = os.write(fd, line)
                os.fsync(fd)
            finally:
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        except OSError as error:
            raise WitnessError(f"cannot append to the witness {self.path}: {error.strerror or error}; "
                               "check the path and its permissions") from None
        if written != len(line):
            raise WitnessError(f"the witness {self.path} took only {written} of {len(line)} bytes; check the disk")

    def heads(self, incident: str) -> list[Head]:
        """Every head recorded for ``incident`` (none when the file does not exist yet).

        Raises
        ------
        WitnessError
            The file cannot be read or holds a line that is not a head.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as error:
            raise WitnessError(f"cannot read the witness {self.path}: {error.strerror or error}") from None
        return [head for head in parse_head_lines(data, str(self.path)) if head.incident == incident]


def _span(numbers: Iterable[int]) -> str:
    """``1–3, 5`` for [1, 2, 3, 5]."""
    ordered = sorted(set(numbers))
    runs: list[list[int]] = []
    for number in ordered:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(f"{run[0]}" if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)


def _plural(numbers: list[int]) -> str:
    return f"manifest {numbers[0]}" if len(numbers) == 1 else f"manifests {_span(numbers)}"


def compare_heads(incident: str, archive: list[Head], witnessed: list[Head], witness_name: str) -> list[str]:
    """The sentences for every way the archive's heads and the witness's disagree.

    Parameters
    ----------
    incident
        The incident both are about.
    archive
        The archive's heads, in chain order.
    witnessed
        What the witness recorded for ``incident``.
    witness_name
        What to call the witness.
    """
    problems: list[str] = []
    seen: dict[int, list[str]] = {}
    for head in witnessed:
        hashes = seen.setdefault(head.sequence, [])
        if head.sha256 not in hashes:
            hashes.append(head.sha256)
    for sequence in sorted(n for n, hashes in seen.items() if len(hashes) > 1):
        problems.append(f"the witness {witness_name} holds {len(seen[sequence])} different manifests with sequence "
                        f"{sequence} for {incident}: two histories were recorded (a fork), and at most one of them "
                        "is this archive's")
    ours = {head.sequence: head.sha256 for head in archive}
    diverged = sorted(n for n, digest in ours.items() if n in seen and digest not in seen[n])
    if diverged:
        first = diverged[0]
        later = diverged[1:]
        rest = f"; {_plural(later)} {'differs' if len(later) == 1 else 'differ'} as well" if later else ""
        problems.append(f"manifest {first} of {incident} (sha256 {ours[first][:12]}…) is not the one the witness "
                        f"{witness_name} recorded (sha256 {seen[first][0][:12]}…): the history was rewritten or "
                        f"forked after it was witnessed{rest}")
    newest = max(ours, default=0)
    beyond = sorted(n for n in seen if n > newest)
    if beyond:
        problems.append(f"the witness {witness_name} recorded {_plural(beyond)} of {incident}, but the archive ends at "
                        f"manifest {newest}: the newest history was rolled back (removed)")
    missing = sorted(n for n in ours if n not in seen)
    if missing:
        problems.append(f"{_plural(missing)} of {incident} {'is' if len(missing) == 1 else 'are'} not in the witness "
                        f"{witness_name} (written without it, or its append failed): a rollback or rewrite of "
                        f"{'it' if len(missing) == 1 else 'them'} could go unnoticed")
    return problems


def witness_append(witness: Witness) -> AfterWrite:
    """An ``after_write`` hook that appends each new manifest's head to ``witness``.

    The hook raises :class:`~kit.errors.WitnessError` when the witness cannot be written; the
    manifest is already on disk then, and ``kit verify --witness`` will name it as missing.
    """

    def append(path: Path, data: bytes) -> None:
        witness.append(head_of(Path(path), data))

    return append


class WitnessCheck:
    """A check for ``verify_archive(checks=[…])`` comparing the chain with a witness.

    ``check(root, chain)`` returns one sentence per fork, rollback, diverged history and run of
    manifests missing from the witness. Build it with :func:`witness_check`.

    Attributes
    ----------
    covers
        What verifying the folder alone cannot detect and this check does (keys of
        ``kit.archive.verify.LIMITS``), for every manifest the witness saw: the newest runs
        rolled back, and a chain recomputed from the first manifest on (it diverges from the
        witnessed hashes).

    Raises
    ------
    WitnessError
        (When called.) The witness cannot be read: that is not a finding about the archive, and
        ``kit verify`` must not report it as one.
    """

    covers = ("rollback", "recomputed")

    def __init__(self, witness: Witness) -> None:
        self.witness = witness

    @property
    def checked(self) -> str:
        """What this check looks at, as ``kit verify`` reports it."""
        return f"every manifest's hash against the witness {self.witness.name}"

    def __call__(self, root: Path, chain: Manifests) -> list[str]:
        """The problem sentences for ``chain`` (``(manifest path, bytes)`` in order) of the incident ``root``."""
        heads = [head_of(Path(path), data) for path, data in chain]
        incident = heads[0].incident if heads else _check_incident(Path(root).name)
        problems = [f"{Path(path).name} says it belongs to {head.incident}, not {incident}"
                    for (path, _), head in zip(chain, heads, strict=True) if head.incident != incident]
        return problems + compare_heads(incident, heads, self.witness.heads(incident), self.witness.name)


def open_file_witness(location: str) -> FileWitness:
    """The file witness ``location`` names: ``file:///path/heads.jsonl`` or a plain path.

    Raises
    ------
    WitnessError
        ``location`` is a URL of another scheme, or a ``file://`` URL naming another host.
    """
    parts = urlsplit(location)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise WitnessError(f"the witness {location} names another host; give a local file:///path")
        return FileWitness(unquote(parts.path))
    if parts.scheme and len(parts.scheme) > 1:  # "C:" would be a drive letter, anything else a scheme
        raise WitnessError(f"the witness {location} is neither an https:// container URL nor a file")
    return FileWitness(location)


def witness_check(witness: Witness) -> WitnessCheck:
    """The :class:`WitnessCheck` against ``witness`` (a :class:`FileWitness`, a ``BlobWitness``, …)."""
    return WitnessCheck(witness)
