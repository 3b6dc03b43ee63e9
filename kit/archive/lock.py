"""The incident's lock, and the liveness lock of each run in progress.

One writer at a time: whoever writes into an incident (a report run from its check to its
manifest, a console or drill recording) holds an exclusive ``fcntl.flock`` on
``<incident>/.lock``. A second writer waits, says once what it is waiting for (who holds the
lock, doing what, since when: the holder writes that into the lock file), and gives up with
:class:`~kit.errors.ArchiveBusyError` (exit 6) after ``wait`` seconds. The lock is re-entrant
within one process (a run that records while holding it does not deadlock itself), and the
kernel releases it when its holder dies, even by ``kill -9``.

Each staging folder has its own lock file, held by the process that owns the stage: a stage
whose lock can be taken belongs to a process that is gone (:func:`claim_stage`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kit.archive.layout import STAGE_LOCK, run_by
from kit.errors import ArchiveBusyError, ArchiveError
from kit.times import utc_text

__all__ = [
    "DEFAULT_WAIT",
    "LOCK",
    "claim_stage",
    "create_stage_lock",
    "incident_lock",
    "lock_holder",
    "stage_alive",
]

#: The incident's lock file (never recorded).
LOCK = ".lock"
#: Seconds a writer waits for the incident's lock by default.
DEFAULT_WAIT = 600.0

_FLAGS = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


@dataclass
class _Held:
    thread_lock: threading.RLock
    fd: int | None = None
    depth: int = 0


_REGISTRY_LOCK = threading.Lock()
_HELD: dict[str, _Held] = {}


def _open_lock_file(path: Path, *, create: bool) -> int:
    try:
        fd = os.open(path, _FLAGS | (os.O_CREAT if create else 0), 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ArchiveError(f"{path} is a symbolic link; remove it (the kit never follows links)") from error
        if isinstance(error, FileNotFoundError):
            raise
        raise ArchiveError(f"cannot open the lock file {path}: {error.strerror or error}") from error
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ArchiveError(f"{path} is not a regular file; remove it")
    return fd


def lock_holder(root: str | os.PathLike[str]) -> str:
    """Who holds the incident's lock, as its holder wrote it (``user@host pid 12 (report triage) since …``)."""
    try:
        fd = _open_lock_file(Path(root) / LOCK, create=False)
    except (OSError, ArchiveError):
        return "another process"
    try:
        info = json.loads(os.read(fd, 4096) or b"{}")
    except (OSError, ValueError):
        info = {}
    finally:
        os.close(fd)
    if not isinstance(info, dict) or not info.get("run_by"):
        return "another process"
    doing = f" ({info['purpose']})" if info.get("purpose") else ""
    return f"{info['run_by']} pid {info.get('pid', '?')}{doing} since {info.get('since', '?')}"


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as error:
        if error.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise ArchiveError(f"cannot lock the incident: {error.strerror or error}") from error
    return True


def _busy(root: Path, wait: float | None) -> ArchiveBusyError:
    return ArchiveBusyError(
        f"{root} is busy: {lock_holder(root)} is writing to it and still was after {wait or 0:.0f} s; "
        "try again when it has finished, or wait longer (--wait SECONDS)")


def _waiting(root: Path, wait: float | None) -> str:
    limit = "as long as it takes" if wait is None else f"up to {wait:.0f} s"
    holder = lock_holder(root)
    for _ in range(10):  # the holder writes who it is just after it takes the lock
        if holder != "another process":
            break
        time.sleep(0.02)
        holder = lock_holder(root)
    return f"waiting for {root}: {holder} is writing to it (waiting {limit})"


def _acquire_file(root: Path, wait: float | None, on_wait: Callable[[str], None] | None, purpose: str, *,
                  asked: float | None) -> int:
    root.mkdir(parents=True, exist_ok=True)
    fd = _open_lock_file(root / LOCK, create=True)
    try:
        if not _try_flock(fd):
            if on_wait is not None:
                on_wait(_waiting(root, asked))
            deadline = None if wait is None else time.monotonic() + wait
            pause = 0.05
            while not _try_flock(fd):
                if deadline is not None and time.monotonic() >= deadline:
                    raise _busy(root, asked)
                time.sleep(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))
                pause = min(pause * 2, 0.5)
        info = {"run_by": run_by(), "pid": os.getpid(), "purpose": purpose, "since": utc_text()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def incident_lock(root: str | os.PathLike[str], *, wait: float | None = DEFAULT_WAIT,
                  on_wait: Callable[[str], None] | None = None, purpose: str = "") -> Iterator[None]:
    """Hold the incident's exclusive lock for the ``with`` block.

    Parameters
    ----------
    root
        The incident folder (created when missing).
    wait
        Seconds to wait for another writer to finish; ``None`` waits as long as it takes, ``0``
        gives up at once.
    on_wait
        Called once with a sentence saying who holds the lock, when this writer has to wait.
    purpose
        What the holder is doing, shown to writers that wait (``report triage.ipynb``).

    Raises
    ------
    ArchiveBusyError
        Another writer still holds the lock after ``wait`` seconds.
    ArchiveError
        The lock file is a link or a special file, or cannot be created.
    """
    path = Path(root)
    key = os.path.realpath(path)
    with _REGISTRY_LOCK:
        held = _HELD.setdefault(key, _Held(thread_lock=threading.RLock()))
    deadline = None if wait is None else time.monotonic() + wait
    if not held.thread_lock.acquire(blocking=False):  # another thread of this process writes
        if on_wait is not None:
            on_wait(_waiting(path, wait))
            on_wait = None
        if not held.thread_lock.acquire(timeout=-1 if deadline is None else max(0.0, deadline - time.monotonic())):
            raise _busy(path, wait)
    try:
        if held.depth == 0:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            held.fd = _acquire_file(path, left, on_wait, purpose, asked=wait)
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0 and held.fd is not None:
                fd, held.fd = held.fd, None
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                os.close(fd)  # closing the last descriptor releases the flock
    finally:
        held.thread_lock.release()


def create_stage_lock(folder: Path) -> int:
    """Create ``folder``'s stage lock file and hold it; the descriptor stays open while the stage lives."""
    fd = os.open(folder / STAGE_LOCK, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                 0o644)
    if not _try_flock(fd):  # pragma: no cover - a file created just now is locked by nobody
        os.close(fd)
        raise ArchiveError(f"cannot lock the new staging folder {folder}")
    return fd


def claim_stage(folder: Path) -> int | None:
    """Take the lock of a stage whose owner is gone, to recover the stage.

    Returns
    -------
    int | None
        ``None`` when the owner is alive (it holds the lock); else the locked descriptor, to be
        closed when done, or ``-1`` when the stage has no usable lock file (no owner at all).
    """
    try:
        fd = _open_lock_file(folder / STAGE_LOCK, create=False)
    except (OSError, ArchiveError):
        return -1
    if _try_flock(fd):
        return fd
    os.close(fd)
    return None


def stage_alive(folder: Path) -> bool:
    """Whether the process that owns the staging folder ``folder`` is still running (it holds the stage's lock)."""
    fd = claim_stage(folder)
    if fd is None:
        return True
    if fd >= 0:
        os.close(fd)
    return False
