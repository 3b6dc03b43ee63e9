"""Write a bundle once: into a temporary folder beside the target, then one ``os.rename``.

A crash or an error before :meth:`BundleWriter.commit` removes the temporary folder, so no
half-written bundle is ever visible under the target name; an existing target is never
overwritten (:class:`~kit.errors.BundleExistsError`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from kit.errors import BundleError, BundleExistsError, UsageError
from kit.evidence.manifest import FOLDERS, MANIFEST, SINGLE_FILES, TEXT_FILES
from kit.evidence.sas import strip_sas_bytes, strip_sas_everywhere
from kit.times import utc_text

__all__ = ["BundleWriter", "check_free", "safe_name"]

_BAD_NAME_CHARS = set('/\\\0:*?"<>|')


def safe_name(name: str) -> str:
    """``name`` if it can be a file name inside the bundle; UsageError otherwise."""
    if not name or name in (".", "..") or any(char in _BAD_NAME_CHARS for char in name):
        raise UsageError(f"{name!r} cannot be used as a file name in a bundle")
    return name


def check_free(target: Path) -> None:
    """Raise :class:`~kit.errors.BundleExistsError` if ``target`` exists."""
    if target.exists() or target.is_symlink():
        raise BundleExistsError(
            f"{target} already exists; a bundle is written once and never overwritten "
            f"(choose another --out folder or move the old bundle away)"
        )


class BundleWriter:
    """Collects the files of one bundle in a temporary folder and publishes it atomically.

    Parameters
    ----------
    target
        The bundle folder to create (``evidence/web-01``); it must not exist.

    Examples
    --------
    >>> with BundleWriter(out / "web-01") as writer:          # doctest: +SKIP
    ...     writer.add_json("vm.json", body, call="virtual_machines.get", api_version="2024-07-01")
    ...     writer.commit(manifest)
    """

    def __init__(self, target: Path) -> None:
        self.target = Path(target)
        check_free(self.target)
        self._made = [folder for folder in (self.target.parent, *self.target.parent.parents) if not folder.exists()]
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._temp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.partial-", dir=self.target.parent))
        except OSError as error:
            raise BundleError(f"cannot create the bundle folder under {self.target.parent}: "
                              f"{error.strerror}") from error
        self._files: list[dict[str, Any]] = []
        self._paths: set[str] = set()
        self.failures: list[dict[str, Any]] = []
        self._done = False

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if not self._done:
            self.abort()

    def abort(self) -> None:
        """Remove the temporary folder (and the parent, if this writer made it and it is empty)."""
        shutil.rmtree(self._temp, ignore_errors=True)
        for folder in self._made:  # innermost first; stops at the first one not empty
            try:
                folder.rmdir()
            except OSError:
                break
        self._done = True

    @staticmethod
    def path_for(attribute: str, name: str | None = None) -> str:
        """The relative path of an artefact (``vm`` → ``vm.json``; ``nics``, ``nic1`` → ``nics/nic1.json``)."""
        if attribute in SINGLE_FILES:
            return SINGLE_FILES[attribute][0]
        if attribute in FOLDERS and name:
            return f"{FOLDERS[attribute]}/{safe_name(name)}.json"
        raise ValueError(f"unknown bundle artefact {attribute!r}")

    def has(self, path: str) -> bool:
        """Whether ``path`` was already added."""
        return path in self._paths

    def add_bytes(self, path: str, data: bytes, *, call: str, api_version: str | None = None,
                  **provenance: Any) -> None:
        """Add a file with raw bytes and its provenance (call, api-version, time).

        Text evidence (:data:`~kit.evidence.manifest.TEXT_FILES`: the serial log) is stored with
        every SAS signature removed; its manifest entry then says ``"redacted": {"sas_signatures": n}``.
        """
        if path in self._paths:
            raise BundleError(f"{path} was added to the bundle twice")
        if path in TEXT_FILES:
            data, removed = strip_sas_bytes(data)
            if removed:
                provenance = {**provenance, "redacted": {"sas_signatures": removed}}
        destination = self._temp / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
        self._paths.add(path)
        self._files.append({
            "path": path,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "call": call,
            "api_version": api_version,
            "collected_at": utc_text(),
            **provenance,
        })

    def add_json(self, path: str, value: Any, *, call: str, api_version: str | None = None, **provenance: Any) -> None:
        """Add a JSON file (SAS signatures stripped from every URL inside)."""
        text = json.dumps(strip_sas_everywhere(value), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
        # a lone surrogate (an API's "\ud800") stays the JSON escape it came as: valid UTF-8, read back the same
        self.add_bytes(path, text.encode("utf-8", "backslashreplace"), call=call, api_version=api_version,
                       **provenance)

    def add_failure(self, failure: dict[str, Any]) -> None:
        """Record a call that failed (``call``, ``resource_id``, ``status``, ``code``, ``message``)."""
        self.failures.append(strip_sas_everywhere(failure))

    def commit(self, manifest: dict[str, Any]) -> Path:
        """Write ``manifest.json`` and publish the bundle under its target name.

        Returns
        -------
        Path
            The bundle folder.
        """
        manifest = dict(manifest)
        manifest["files"] = sorted(self._files, key=lambda record: record["path"])
        manifest["failures"] = list(manifest.get("failures", [])) + self.failures
        text = json.dumps(strip_sas_everywhere(manifest), indent=2, ensure_ascii=False) + "\n"
        (self._temp / MANIFEST).write_bytes(text.encode("utf-8", "backslashreplace"))
        try:
            check_free(self.target)
            os.rename(self._temp, self.target)
        except BaseException:
            self.abort()
            raise
        self._done = True
        return self.target
