"""``record``: append a manifest for files a writer put into the incident itself.

For writers that do not stage (drill records, older callers): they write their files into the
incident, then call :func:`record`, which takes the incident's lock, settles what dead writers
left, refuses an archive that changed since its last manifest, and records every file lying
loose together with the event. New writers should stage instead (:mod:`kit.archive.stage`):
then nothing they write is visible to the chain until it is recorded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kit.archive.hooks import AfterWrite, ExtraCheck
from kit.archive.lock import DEFAULT_WAIT
from kit.archive.stage import Stage

__all__ = ["record"]


def record(root: str | os.PathLike[str], event: Mapping[str, Any], *, after_write: AfterWrite | None = None,
           wait: float | None = DEFAULT_WAIT, on_wait: Callable[[str], None] | None = None,
           checks: Sequence[ExtraCheck] = ()) -> Path:
    """Append a manifest to the incident folder ``root`` that records ``event`` and every file now in it.

    Parameters
    ----------
    root
        ``archive/<incident>``; created when missing. Not a staging folder (a staged run is
        recorded by its stage's commit).
    event
        What happened (``{"kind": "report", "notebook": …, "parameters": …, "status": …}``);
        stored in the manifest and in its cumulative ``history``. Must hold no secret.
    after_write
        Called under the lock right after the manifest is written, with ``manifests/<n>.json``'s
        path and bytes (a signer, a witness); also for any ``abandoned`` manifest recovery writes.
    wait, on_wait
        How long to wait for another writer holding the incident, and what to tell meanwhile.
    checks
        Extra checks the archive must pass first (see :func:`kit.archive.verify.verify_archive`).

    Returns
    -------
    Path
        The new ``manifests/<n>.json``.

    Raises
    ------
    ArchiveError
        A file listed in the previous manifest was altered or removed, a link or special file
        is in the incident, or the manifest chain is broken: the archive is not appended to
        until a person has looked (``kit verify``).
    ArchiveBusyError
        Another writer held the incident for longer than ``wait`` seconds.
    """
    name = str(event.get("kind") or "record")
    with Stage.open(root, name, about={"event": name}, wait=wait, on_wait=on_wait, after_write=after_write,
                    checks=checks) as stage:
        return stage.commit(event, note_adopted=False)
