"""Staged writing: a run writes into its own folder, recorded (or abandoned) atomically at the end.

::

    with staged(root, "triage", about={"notebook": "triage.ipynb"}) as stage:   # lock, recover, check
        run = stage.run_dir("triage")           # .staging/<id>/reports/<stamp>-triage/
        evidence = stage.evidence_dir()         # .staging/<id>/evidence/<stamp>/
        ...                                     # write there (a kernel gets stage.folder as archive_dir)
        manifest = stage.commit({"kind": "report", "run": stage.relative(run), ...})
    stage.final(run)                            # reports/<stamp>-triage/ in the incident

Opening takes the incident's lock (waiting up to ``wait`` seconds, saying once for whom),
settles what dead writers left (:func:`kit.archive.recovery.recover`), checks the archive and
creates the stage. With ``hold_lock=True`` (report runs) the lock is kept until the stage is
committed or abandoned, so the check, the writing and the recording are one critical section;
with ``hold_lock=False`` (a console session that may last an hour) it is taken again only to
commit. Either way nothing in the stage is recorded until :meth:`Stage.commit` moves it into
place and writes the manifest, journalled so that a ``kill -9`` at any point leaves a state the
next writer completes or rolls back. Leaving the ``with`` block without committing (an
exception, or no commit) *abandons* the stage: its files go to ``abandoned/<id>/`` and a
``kind: abandoned`` manifest records it; an empty stage just disappears.

Names (folder names, paths in results) chosen in a stage stay valid after the commit: a folder
made in the stage has a name that is free in the incident too, and :meth:`Stage.relative` gives
the path as it will be recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from kit.archive.hooks import AfterWrite, ExtraCheck
from kit.archive.layout import incident_of, incident_relative, new_evidence_dir, new_run_dir, transcript_path
from kit.archive.lock import DEFAULT_WAIT, incident_lock
from kit.archive.manifest import manifest_name
from kit.archive.recovery import quarantine, recover
from kit.archive.staging import (
    apply_moves,
    collect,
    create_stage,
    plan_moves,
    read_marker,
    remove_stage,
    undo_moves,
    write_marker,
)
from kit.archive.tree import ArchiveWarning, read_inside
from kit.errors import ArchiveError

__all__ = ["Stage", "staged"]

_SHOWN = 50


def _check_root(root: Path) -> None:
    if incident_of(root) != root:
        raise ArchiveError(f"{root} is a run's staging folder: the run records it when it ends; "
                           "write files into it, but record into its incident")
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise ArchiveError(f"{root} is not a folder (a link or a file); an incident archive is a plain folder")


class Stage:
    """A run's private folder inside the incident, recorded atomically (or abandoned) at the end.

    Create with :meth:`Stage.open` or :func:`staged`; see the module docstring.

    Attributes
    ----------
    root
        The incident folder.
    folder
        The staging folder (``<incident>/.staging/<id>``): what a report's kernel gets as
        ``archive_dir``; it has the incident's layout inside.
    id
        The stage's name (``20261125T180000Z-triage``), also recorded in the event (``stage``).
    manifest
        The manifest :meth:`commit` or :meth:`abandon` wrote, once done.
    """

    def __init__(self, root: Path, folder: Path, lock_fd: int, *, hold: contextlib.ExitStack | None,
                 wait: float | None, on_wait: Callable[[str], None] | None, after_write: AfterWrite | None,
                 checks: Sequence[ExtraCheck]) -> None:
        self.root = root
        self.folder = folder
        self.id = folder.name
        self.manifest: Path | None = None
        self._lock_fd: int | None = lock_fd
        self._hold = hold
        self._wait = wait
        self._on_wait = on_wait
        self._after_write = after_write
        self._checks = tuple(checks)

    @classmethod
    def open(cls, root: str | os.PathLike[str], name: str, *, about: Mapping[str, Any] | None = None,
             hold_lock: bool = True, wait: float | None = DEFAULT_WAIT, on_wait: Callable[[str], None] | None = None,
             after_write: AfterWrite | None = None, checks: Sequence[ExtraCheck] = ()) -> Stage:
        """Lock the incident, settle dead writers' leftovers, check it, and create a stage.

        Parameters
        ----------
        root
            The incident folder (created when missing).
        name
            What runs (``triage``, ``console``): part of the stage's id.
        about
            What an ``abandoned`` record should say about this run if it dies (notebook,
            parameters; never secrets).
        hold_lock
            Keep the incident's lock until the stage is committed or abandoned (report runs).
            ``False``: take it again only to commit (long console sessions). A stage holding
            the lock must be committed from the thread that opened it.
        wait, on_wait
            How long to wait for another writer, and what to call (once) with a sentence
            saying whom this one waits for.
        after_write
            Called under the lock after each manifest this stage (or the recovery it runs)
            writes, with ``manifests/<n>.json``'s path and bytes: a signer, a witness.
        checks
            Extra checks the archive must pass before anything is added (see ``verify_archive``).

        Raises
        ------
        ArchiveBusyError
            Another writer held the incident for longer than ``wait``.
        ArchiveError
            The archive is not appendable (it changed since its last manifest, or holds a link).
        """
        path = Path(root)
        _check_root(path)
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(incident_lock(path, wait=wait, on_wait=on_wait, purpose=name))
            recover(path, after_write=after_write, checks=checks)
            folder, fd, _ = create_stage(path, name, about=about)
        except BaseException:
            stack.close()
            raise
        if not hold_lock:
            stack.close()
        return cls(path, folder, fd, hold=stack if hold_lock else None, wait=wait, on_wait=on_wait,
                   after_write=after_write, checks=checks)

    # ------------------------------------------------------------------ where to write
    @property
    def done(self) -> bool:
        """Whether the stage was committed or abandoned."""
        return self._lock_fd is None

    def run_dir(self, name: str) -> Path:
        """Create ``reports/<stamp>-<name>/`` in the stage (a name free in the incident too)."""
        return new_run_dir(self.folder, name)

    def evidence_dir(self) -> Path:
        """Create ``evidence/<stamp>/`` in the stage (a name free in the incident too)."""
        return new_evidence_dir(self.folder)

    def transcript_path(self, vm_name: str) -> Path:
        """Where a console transcript goes in the stage: ``transcripts/<stamp>-<vm>.cast`` (not created)."""
        return transcript_path(self.folder, vm_name)

    def relative(self, path: str | os.PathLike[str]) -> str:
        """``path`` relative to the incident as it is (or will be) recorded: ``reports/<stamp>-triage/triage.json``.

        Raises
        ------
        ArchiveError
            ``path`` is neither in the stage nor in the incident.
        """
        rel = incident_relative(path, self.folder)
        if rel is None:
            raise ArchiveError(f"{path} is not inside {self.root}")
        return rel

    def final(self, path: str | os.PathLike[str]) -> Path:
        """Where ``path`` (in the stage) is once the stage is recorded; other paths are returned unchanged."""
        try:
            rel = Path(path).resolve().relative_to(self.folder.resolve())
        except ValueError:
            return Path(path)
        return self.root / rel

    # ------------------------------------------------------------------ ending
    def _locked(self) -> contextlib.AbstractContextManager[None]:
        if self._hold is not None:
            return contextlib.nullcontext()
        return incident_lock(self.root, wait=self._wait, on_wait=self._on_wait, purpose=f"recording {self.id}")

    def _require_open(self) -> None:
        if self.done:
            raise ArchiveError(f"{self.id} was already {'recorded' if self.manifest else 'abandoned'}")

    def _finish(self) -> None:
        remove_stage(self.folder)
        self._let_go()

    def commit(self, event: Mapping[str, Any], *, note_adopted: bool = True) -> Path:
        """Move the stage's files into the incident and record ``event`` in one step; the manifest written.

        Links and special files in the stage are removed and named in the event (``refused``),
        temporary leftovers (a partial bundle folder) too (``discarded``). Files lying loose in
        the incident that no manifest lists (written there by a writer that does not stage)
        are recorded with it and named (``adopted``) unless ``note_adopted`` is false.

        Raises
        ------
        ArchiveError
            The archive changed since its last manifest, or a file of the stage exists in the
            incident already; the stage stays (and is abandoned when the ``with`` block ends).
        ArchiveBusyError
            (``hold_lock=False``) another writer held the incident for longer than ``wait``.
        """
        self._require_open()
        with self._locked():
            chain = recover(self.root, after_write=self._after_write, checks=self._checks)
            staged = collect(self.folder, discard_leftovers=True)
            moves = plan_moves(self.root, self.folder, staged.files)
            record = {**dict(event), "stage": self.id}
            if staged.refused:
                record["refused"] = staged.refused[:_SHOWN]
            if staged.discarded:
                record["discarded"] = staged.discarded[:_SHOWN]
            if note_adopted and chain.loose:
                record["adopted"] = sorted(chain.loose)[:_SHOWN]
                record["adopted_count"] = len(chain.loose)
            sequence, data = chain.prepare(record, {**chain.loose, **staged.files})
            marker = read_marker(self.folder)
            marker.update(state="committing", commit={"kind": "record", "moves": moves, "sequence": sequence,
                                                      "sha256": hashlib.sha256(data).hexdigest()})
            write_marker(self.folder, marker)
            try:
                apply_moves(self.root, self.folder, moves)
                written = chain.write(sequence, data, after_write=self._after_write)
            except BaseException:
                if not self._manifest_is(sequence, data):
                    undo_moves(self.root, self.folder, moves)
                    write_marker(self.folder, {**marker, "state": "open", "commit": None})
                    raise
                self.manifest = self.root / manifest_name(sequence)
                self._finish()
                raise
            self.manifest = written
            self._finish()
            return written

    def _manifest_is(self, sequence: int, data: bytes) -> bool:
        try:
            return read_inside(self.root, manifest_name(sequence)) == data
        except (OSError, ArchiveError):
            return False

    def abandon(self, reason: str = "the run ended without being recorded") -> Path | None:
        """Record the stage as abandoned (its files to ``abandoned/<id>/``); an empty stage just goes.

        Returns
        -------
        Path | None
            The ``kind: abandoned`` manifest, or ``None`` for an empty stage.

        Raises
        ------
        ArchiveError
            The archive is not appendable; the stage is left for the next writer.
        """
        if self.done:
            return self.manifest
        try:
            with self._locked():
                if not collect(self.folder, discard_leftovers=False).files:
                    self._finish()
                    return None
                chain = recover(self.root, after_write=self._after_write, checks=self._checks)
                self.manifest = quarantine(chain, self.folder, reason=reason, after_write=self._after_write)
        except BaseException:
            if self.folder.exists():
                self._let_go()
            else:
                self._finish()
            raise
        self._finish()
        return self.manifest

    def _let_go(self) -> None:
        """Release the stage without removing it: the next writer finds it dead and records it as abandoned."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        if self._hold is not None:
            hold, self._hold = self._hold, None
            hold.close()

    def close(self) -> None:
        """Abandon the stage if it was neither committed nor abandoned."""
        if not self.done:
            self.abandon()

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.done:
            return
        if error is None:
            self.abandon("the run ended without being recorded")
            return
        reason = f"the run failed before it was recorded: {type(error).__name__}: {str(error)[:300]}"
        try:
            self.abandon(reason)
        except Exception as secondary:  # noqa: BLE001 - the run's own error is the one to raise
            warnings.warn(f"{self.folder} could not be recorded as abandoned: {secondary}", ArchiveWarning,
                          stacklevel=2)


@contextlib.contextmanager
def staged(root: str | os.PathLike[str], name: str, *, about: Mapping[str, Any] | None = None,
           hold_lock: bool = True, wait: float | None = DEFAULT_WAIT, on_wait: Callable[[str], None] | None = None,
           after_write: AfterWrite | None = None, checks: Sequence[ExtraCheck] = ()) -> Iterator[Stage]:
    """A :class:`Stage` for the ``with`` block: commit it inside; anything else abandons it (see :meth:`Stage.open`)."""
    stage = Stage.open(root, name, about=about, hold_lock=hold_lock, wait=wait, on_wait=on_wait,
                       after_write=after_write, checks=checks)
    with stage:
        yield stage
