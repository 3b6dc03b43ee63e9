"""Reading inside an incident folder without following links: walk, open, read, hash.

Nothing here follows a symbolic link or opens a special file (FIFO, socket, device). A path
below the incident folder is opened one component at a time, each relative to the folder
before it (``dir_fd``) with ``O_NOFOLLOW``, so a link planted anywhere on the way, or swapped
in while the kit reads, is refused instead of followed. Links and special files are reported
as :class:`Entry` objects with a ``kind`` so callers can name them (``kit verify``) or skip
them with an :class:`ArchiveWarning` (the report readers).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from kit.errors import ArchiveError

__all__ = [
    "ArchiveWarning",
    "Entry",
    "describe",
    "kind_of",
    "list_inside",
    "lstat_inside",
    "open_inside",
    "read_inside",
    "safe_relative",
    "show",
    "walk",
]

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC
_CHUNK = 1 << 20


class ArchiveWarning(UserWarning):
    """A reader skipped something in an incident archive: a link, a special file, an unreadable file."""


@dataclass(frozen=True)
class Entry:
    """One thing found under an incident folder.

    Attributes
    ----------
    path
        Relative posix path (``reports/run/triage.json``).
    kind
        ``file``, ``dir``, ``symlink``, ``fifo``, ``socket``, ``block device``, ``character device``,
        ``other`` or ``unreadable``.
    size
        Bytes (regular files), else 0.
    mtime
        Modification time (seconds since the epoch), of the entry itself (never a link's target).
    target
        Where a symbolic link points (never followed), else ``None``.
    sha256
        Hex digest of a regular file when hashing was asked for.
    detail
        Why an ``unreadable`` entry could not be read.
    """

    path: str
    kind: str
    size: int = 0
    mtime: float = 0.0
    target: str | None = None
    sha256: str | None = None
    detail: str | None = None

    @property
    def special(self) -> bool:
        """True for anything that is neither a regular file nor a folder."""
        return self.kind not in ("file", "dir")


def kind_of(mode: int) -> str:
    """The ``Entry.kind`` of an ``lstat`` mode."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISCHR(mode):
        return "character device"
    return "other"


def show(text: str) -> str:
    """``text`` on one line: control characters and undecodable bytes as escapes."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in text)


def describe(entry: Entry) -> str:
    """What a special entry is, for a sentence: ``a symbolic link to '/etc/passwd'``, ``a FIFO``."""
    if entry.kind == "symlink":
        return f"a symbolic link to {show(repr(entry.target or ''))}"
    if entry.kind == "fifo":
        return "a FIFO (named pipe)"
    if entry.kind == "unreadable":
        return f"unreadable ({entry.detail})"
    if entry.kind == "dir":
        return "a folder"
    if entry.kind == "file":
        return "a regular file"
    return f"a {entry.kind}"


def safe_relative(path: object) -> bool:
    """Whether ``path`` is a plain relative posix path inside a folder (no ``..``, ``.``, empty or absolute part)."""
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path or "\0" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def _parts(rel: str) -> list[str]:
    if rel in ("", "."):
        return []
    if not safe_relative(rel):
        raise ArchiveError(f"{show(rel)!r} is not a plain path inside the incident folder")
    return rel.split("/")


def _open_root(root: Path) -> int:
    try:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    except OSError as error:
        raise ArchiveError(f"cannot open {root}: {error.strerror or error}") from error


def _refuse(rel: str, mode: int, target: str | None = None) -> ArchiveError:
    entry = Entry(path=rel, kind=kind_of(mode), target=target)
    return ArchiveError(f"{show(rel)} is {describe(entry)}; it is not followed or read")


def _walk_down(root: Path, parts: list[str]) -> int:
    """An fd of the folder ``root/parts...``, every component opened without following links."""
    fd = _open_root(root)
    done: list[str] = []
    try:
        for part in parts:
            done.append(part)
            rel = "/".join(done)
            _stat_as(part, fd, rel, stat.S_ISDIR)
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise ArchiveError(f"{show(rel)} changed into a link while being read; not followed") from error
                raise ArchiveError(f"cannot read {show(rel)}: {error.strerror or error}") from error
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _stat_as(name: str, fd: int, rel: str, kind: Callable[[int], bool]) -> os.stat_result:
    """``lstat`` of ``name`` in the folder ``fd``, refused unless ``kind`` (``stat.S_ISDIR``/``S_ISREG``) holds.

    Raises ``FileNotFoundError`` when it is absent and :class:`ArchiveError` for the rest.
    """
    try:
        info = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise ArchiveError(f"cannot read {show(rel)}: {error.strerror or error}") from error
    if not kind(info.st_mode):
        target = os.readlink(name, dir_fd=fd) if stat.S_ISLNK(info.st_mode) else None
        raise _refuse(rel, info.st_mode, target)
    return info


def lstat_inside(root: str | os.PathLike[str], rel: str) -> os.stat_result | None:
    """``lstat`` of ``root/rel`` reached without following links on the way; ``None`` when absent.

    Raises
    ------
    ArchiveError
        A folder on the way is a link or a special file.
    """
    parts = _parts(rel)
    if not parts:
        return os.lstat(root)
    try:
        fd = _walk_down(Path(root), parts[:-1])
    except FileNotFoundError:
        return None
    try:
        return os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    finally:
        os.close(fd)


def open_inside(root: str | os.PathLike[str], rel: str) -> int:
    """An fd of the regular file ``root/rel``, opened without following any link.

    Raises
    ------
    FileNotFoundError
        It does not exist.
    ArchiveError
        It, or a folder on the way, is a link or a special file, or it cannot be read.
    """
    parts = _parts(rel)
    if not parts:
        raise ArchiveError("no file named")
    fd = _walk_down(Path(root), parts[:-1])
    try:
        name = parts[-1]
        info = _stat_as(name, fd, rel, stat.S_ISREG)
        try:
            handle = os.open(name, _FILE_FLAGS, dir_fd=fd)
        except OSError as error:
            raise ArchiveError(f"cannot read {show(rel)}: {error.strerror or error}") from error
        opened = os.fstat(handle)
        if not stat.S_ISREG(opened.st_mode) or opened.st_ino != info.st_ino:
            os.close(handle)
            raise ArchiveError(f"{show(rel)} was replaced while being read; not followed")
        return handle
    finally:
        os.close(fd)


def read_inside(root: str | os.PathLike[str], rel: str, *, limit: int | None = None) -> bytes:
    """The bytes of the regular file ``root/rel`` (at most ``limit``), never through a link.

    Raises
    ------
    FileNotFoundError
        It does not exist.
    ArchiveError
        It, or a folder on the way, is a link or a special file.
    """
    fd = open_inside(root, rel)
    with os.fdopen(fd, "rb") as handle:
        return handle.read() if limit is None else handle.read(limit)


def list_inside(root: str | os.PathLike[str], rel: str = "") -> list[Entry]:
    """The entries of the folder ``root/rel`` (not recursive, sorted by name); ``[]`` when it is absent.

    Raises
    ------
    ArchiveError
        ``rel`` or a folder on the way is a link or a special file.
    """
    try:
        fd = _walk_down(Path(root), _parts(rel))
    except FileNotFoundError:
        return []
    try:
        prefix = f"{rel}/" if rel not in ("", ".") else ""
        return [_entry(fd, name, prefix + name) for name in sorted(os.listdir(fd))]
    finally:
        os.close(fd)


def _entry(dir_fd: int, name: str, rel: str, *, hash_file: bool = False) -> Entry:
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as error:
        return Entry(path=rel, kind="unreadable", detail=error.strerror or str(error))
    kind = kind_of(info.st_mode)
    if kind == "symlink":
        try:
            target: str | None = os.readlink(name, dir_fd=dir_fd)
        except OSError:
            target = None
        return Entry(path=rel, kind=kind, mtime=info.st_mtime, target=target)
    if kind != "file":
        return Entry(path=rel, kind=kind, mtime=info.st_mtime)
    if not hash_file:
        return Entry(path=rel, kind=kind, size=info.st_size, mtime=info.st_mtime)
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        return Entry(path=rel, kind="unreadable", detail=error.strerror or str(error))
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or opened.st_ino != info.st_ino:
            return Entry(path=rel, kind="unreadable", detail="replaced while being read")
        digest = hashlib.sha256()
        size = 0
        while chunk := os.read(fd, _CHUNK):
            digest.update(chunk)
            size += len(chunk)
        return Entry(path=rel, kind=kind, size=size, mtime=opened.st_mtime, sha256=digest.hexdigest())
    except OSError as error:
        return Entry(path=rel, kind="unreadable", detail=error.strerror or str(error))
    finally:
        os.close(fd)


def walk(root: str | os.PathLike[str], *, skip_top: Collection[str] = (), hash_files: bool = False,
         under: str = "") -> Iterator[Entry]:
    """Every entry below ``root/under`` (folders too), depth first in name order, links never followed.

    Parameters
    ----------
    root
        The folder to walk.
    skip_top
        Names directly in ``root/under`` that are neither yielded nor entered.
    hash_files
        Also read every regular file once for its sha256 (``Entry.sha256``).
    under
        Walk only this sub-folder (paths stay relative to ``root``).

    Yields
    ------
    Entry
        One per file, folder, link or special file; a folder that cannot be entered is an
        ``unreadable`` entry. Cost: one ``lstat`` per entry plus one read of each file when hashing.
    """
    try:
        top = _walk_down(Path(root), _parts(under))
    except FileNotFoundError:
        return
    prefix = f"{under}/" if under not in ("", ".") else ""
    stack: list[tuple[str, int, Iterator[str]]] = [(prefix, top, iter(()))]
    try:
        try:
            stack[0] = (prefix, top, iter(sorted(n for n in os.listdir(top) if n not in skip_top)))
        except OSError as error:
            raise ArchiveError(f"cannot list {Path(root) / under}: {error.strerror or error}") from error
        while stack:
            base, fd, pending = stack[-1]
            name = next(pending, None)
            if name is None:
                os.close(fd)
                stack.pop()
                continue
            rel = base + name
            entry = _entry(fd, name, rel, hash_file=hash_files)
            if entry.kind != "dir":
                yield entry
                continue
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as error:
                yield Entry(path=rel, kind="unreadable", detail=error.strerror or str(error))
                continue
            try:
                children = sorted(os.listdir(child))
            except OSError as error:
                os.close(child)
                yield Entry(path=rel, kind="unreadable", detail=error.strerror or str(error))
                continue
            stack.append((rel + "/", child, iter(children)))
            yield entry
    finally:
        for _, fd, _ in stack:
            os.close(fd)
