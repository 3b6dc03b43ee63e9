"""Read a bundle back: :func:`load_bundle` verifies every hash and gives typed access.

The layout and manifest are described in ``docs/architecture.md`` (and in
:mod:`kit.evidence.manifest`). Anything wrong with a bundle on disk (no manifest,
malformed JSON, a file whose sha256 does not match, a file missing or not listed, a document
or manifest field of the wrong JSON type) raises :class:`~kit.errors.BundleFormatError` with the
file (and line or field) named. Hashes only prove a file is unchanged since it was listed; the
shapes are checked too, so every consumer can rely on the attribute types of :class:`Bundle`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import BundleFormatError
from kit.evidence.manifest import DIRECTORY_CALL, FOLDERS, FORMAT, MANIFEST, SINGLE_FILES

__all__ = ["Bundle", "load_bundle", "read_json"]


def read_json(path: Path, *, shown: str | None = None) -> Any:
    """Parse a JSON file; BundleFormatError naming the file and line when it is malformed."""
    name = shown or str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise BundleFormatError(f"cannot read {name}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise BundleFormatError(f"{name} is not UTF-8 text (byte {error.start})") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BundleFormatError(
            f"{name}: malformed JSON at line {error.lineno} column {error.colno}: {error.msg}") from error


@dataclass
class Bundle:
    """One loaded evidence bundle (one VM); attributes mirror the files.

    Attributes
    ----------
    path
        The bundle folder.
    manifest
        The parsed ``manifest.json``.
    vm, instance_view, boot_diagnostics, serial_console_status
        The JSON documents, or ``None`` when not collected.
    serial_log, screenshot
        Raw bytes, or ``None``.
    resource_health
        The current Resource Health availability status (``availabilityStatuses/current``), or ``None``.
    activity_log, role_assignments, resource_health_history
        The ``value`` lists (empty when not collected); the history is newest first, as Resource Health
        answers it.
    nics, nsgs, subnets, vnets, route_tables, public_ips
        Resource bodies by name.
    effective_nsgs, effective_routes
        ``{"value": [...]}`` bodies by NIC name.
    directory_objects
        Microsoft Graph's ``directoryObjects/getByIds`` answer for the Activity Log's callers, or ``None``.
    """

    path: Path
    manifest: dict[str, Any]
    vm: dict[str, Any] | None = None
    instance_view: dict[str, Any] | None = None
    boot_diagnostics: dict[str, Any] | None = None
    serial_log: bytes | None = None
    screenshot: bytes | None = None
    activity_log: list[dict[str, Any]] = field(default_factory=list)
    role_assignments: list[dict[str, Any]] = field(default_factory=list)
    serial_console_status: dict[str, Any] | None = None
    resource_health: dict[str, Any] | None = None
    resource_health_history: list[dict[str, Any]] = field(default_factory=list)
    nics: dict[str, dict[str, Any]] = field(default_factory=dict)
    nsgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    subnets: dict[str, dict[str, Any]] = field(default_factory=dict)
    vnets: dict[str, dict[str, Any]] = field(default_factory=dict)
    route_tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    public_ips: dict[str, dict[str, Any]] = field(default_factory=dict)
    effective_nsgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    effective_routes: dict[str, dict[str, Any]] = field(default_factory=dict)
    directory_objects: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        """The VM name."""
        return str(self.manifest.get("vm_name") or self.path.name)

    @property
    def failures(self) -> list[dict[str, Any]]:
        """Calls that failed during collection (or files that could not be imported)."""
        return list(self.manifest.get("failures", []))

    @property
    def boot_diagnostics_enabled(self) -> bool | None:
        """Whether the VM model turns boot diagnostics on (None when the model does not say)."""
        properties = (self.vm or {}).get("properties")
        profile = properties.get("diagnosticsProfile") if isinstance(properties, dict) else None
        boot = profile.get("bootDiagnostics") if isinstance(profile, dict) else None
        enabled = boot.get("enabled") if isinstance(boot, dict) else None
        return enabled if isinstance(enabled, bool) else None

    @property
    def directory_names(self) -> dict[str, str]:
        """Lower-cased object id and appId → display name, from Microsoft Graph; ``{}`` when not collected."""
        names: dict[str, str] = {}
        entries = (self.directory_objects or {}).get("value")
        for entry in entries if isinstance(entries, list) else []:
            name = entry.get("displayName") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not name.strip():
                continue
            for key in ("id", "appId"):
                if isinstance(entry.get(key), str) and entry[key]:
                    names[entry[key].lower()] = name
        return names

    @property
    def directory_lookup_note(self) -> str | None:
        """Why display names are missing when the Graph lookup failed; ``None`` when it worked or was not made."""
        failure = next((item for item in self.failures
                        if isinstance(item, dict) and item.get("call") == DIRECTORY_CALL), None)
        if failure is None:
            return None
        status, code = failure.get("status"), failure.get("code")
        detail = " ".join(str(part) for part in (status, code) if part) or "no answer"
        if status in (401, 403):
            return f"display names unavailable: Microsoft Graph refused the lookup ({detail})"
        return f"display names unavailable: the Microsoft Graph lookup failed ({detail})"

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """The ``metrics/<n>.json`` documents (each one ``metrics.list`` answer in REST shape), in file
        order (``1.json``, ``2.json``, … ``10.json``); ``[]`` when none were collected."""
        folder = self.path / "metrics"
        files = sorted(folder.glob("*.json"), key=lambda file: (not file.stem.isdigit(),
                                                                int(file.stem) if file.stem.isdigit() else 0,
                                                                file.name)) if folder.is_dir() else []
        return [_object(read_json(file, shown=f"{self.path.name}/metrics/{file.name}"),
                        f"{self.path.name}/metrics/{file.name}") for file in files]

    @property
    def workspace_tables(self) -> dict[str, dict[str, Any]]:
        """Log Analytics answers by table (``workspace/<table>.json``: ``query``, ``timespan``, ``status``
        ``complete``/``partial``/``failed``, ``columns``, ``rows``, ``error``); ``{}`` when none were collected."""
        folder = self.path / "workspace"
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        return {file.stem: _object(read_json(file, shown=f"{self.path.name}/workspace/{file.name}"),
                                   f"{self.path.name}/workspace/{file.name}") for file in files}

    @property
    def scale_set(self) -> str | None:
        """The uniform scale set this bundle's VM is an instance of (manifest ``scale_set``), or ``None``."""
        value = self.manifest.get("scale_set")
        return str(value) if value else None

    @property
    def instance_id(self) -> str | None:
        """The scale-set instance id (manifest ``instance_id``), or ``None`` for a plain VM."""
        value = self.manifest.get("instance_id")
        return str(value) if value is not None and self.scale_set else None

    @property
    def scale_set_model(self) -> dict[str, Any] | None:
        """The scale set's model (``vmss.json``, ``virtual_machine_scale_sets.get``), or ``None``."""
        file = self.path / "vmss.json"
        return _object(read_json(file, shown=f"{self.path.name}/vmss.json"),
                       f"{self.path.name}/vmss.json") if file.is_file() else None

    @property
    def role(self) -> str:
        """``subject`` or ``known-good``."""
        return str(self.manifest.get("role", "subject"))

    def peers(self) -> list[Bundle]:
        """The sibling bundles named in ``manifest["peers"]`` (loaded and verified)."""
        return [load_bundle(self.path.parent / name) for name in self.manifest.get("peers", [])]

    def __repr__(self) -> str:
        return f"Bundle({str(self.path)!r}, vm={self.name!r}, files={len(self.manifest.get('files', []))})"


def _verify(root: Path, manifest: dict[str, Any]) -> None:
    listed: set[str] = set()
    for record in manifest.get("files", []):
        if not isinstance(record, dict) or not isinstance(record.get("path"), str):
            raise BundleFormatError(f"{root / MANIFEST}: a 'files' entry has no path: {record!r}")
        relative = record["path"]
        if "\0" in relative or not relative.strip():
            raise BundleFormatError(f"{root / MANIFEST}: file path {relative!r} is not a file name")
        candidate = (root / relative).resolve()
        if root.resolve() not in candidate.parents:
            raise BundleFormatError(f"{root / MANIFEST}: file path {relative!r} points outside the bundle")
        if not candidate.is_file():
            raise BundleFormatError(f"{root}: {relative} is listed in the manifest but missing")
        digest = hashlib.sha256(candidate.read_bytes()).hexdigest()
        if digest != record.get("sha256"):
            raise BundleFormatError(
                f"{root}: {relative} does not match its sha256 in the manifest (altered after collection)")
        listed.add(relative)
    for file in root.rglob("*"):
        relative = file.relative_to(root).as_posix()
        if file.is_file() and relative != MANIFEST and relative not in listed:
            raise BundleFormatError(f"{root}: {relative} is not listed in the manifest (added after collection)")


#: single files holding a list response (``{"value": [...]}``), loaded as the list
_LISTS = ("activity_log", "role_assignments", "resource_health_history")
_TEXT_FIELDS = ("kit_version", "collected_at", "source", "arm_endpoint", "subscription_id", "resource_group",
                "vm_name", "vm_id")
_ROLES = ("subject", "known-good")


def _kind(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def _check_manifest(manifest: dict[str, Any], shown: str) -> None:
    """Every top-level field of ``kit-bundle/1`` has its JSON type (absent is allowed)."""
    def wrong(field: str, expected: str) -> BundleFormatError:
        return BundleFormatError(f"{shown}: '{field}' is {_kind(manifest[field])}, expected {expected}")

    for name in _TEXT_FIELDS:
        if manifest.get(name) is not None and not isinstance(manifest[name], str):
            raise wrong(name, "text")
    if "role" in manifest and manifest["role"] not in _ROLES:
        raise BundleFormatError(f"{shown}: 'role' is {manifest['role']!r}, expected 'subject' or 'known-good'")
    if manifest.get("collector") is not None and not isinstance(manifest["collector"], dict):
        raise wrong("collector", "an object")
    window = manifest.get("window")
    if window is not None:
        if not isinstance(window, dict):
            raise wrong("window", "an object with 'start' and 'end'")
        for edge in ("start", "end"):
            if window.get(edge) is not None and not isinstance(window[edge], str):
                raise BundleFormatError(f"{shown}: 'window.{edge}' is {_kind(window[edge])}, expected an ISO 8601 time")
    for name in ("files", "failures", "peers"):
        if name in manifest and not isinstance(manifest[name], list):
            raise wrong(name, "a list")
    for index, failure in enumerate(manifest.get("failures") or []):
        if not isinstance(failure, dict):
            raise BundleFormatError(f"{shown}: 'failures[{index}]' is {_kind(failure)}, expected an object")
    for index, peer in enumerate(manifest.get("peers") or []):
        if not isinstance(peer, str) or not peer or peer in (".", "..") or any(c in peer for c in "/\\\0"):
            raise BundleFormatError(f"{shown}: 'peers[{index}]' is {peer!r}, expected the name of a sibling "
                                    "bundle folder")


def _object(document: Any, shown: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise BundleFormatError(f"{shown}: expected a JSON object, got {_kind(document)}")
    return document


def _value_list(document: Any, shown: str) -> list[dict[str, Any]]:
    """The ``value`` list of a list response; its entries are the analyses' to judge (a junk record
    becomes a warning there, the rest of the log still counts)."""
    if not (isinstance(document, dict) and isinstance(document.get("value"), list)):
        raise BundleFormatError(f"{shown}: expected an object with a 'value' list, got {_kind(document)}")
    return document["value"]


def load_bundle(path: str | Path) -> Bundle:
    """Load and verify a bundle folder.

    Parameters
    ----------
    path
        The bundle folder (the one holding ``manifest.json``).

    Returns
    -------
    Bundle
        Typed access to every artefact.

    Raises
    ------
    BundleFormatError
        No manifest, malformed JSON (file and line named), a hash mismatch, a missing or
        unlisted file, an unknown format, a manifest field of the wrong type, or a document that
        is not a JSON object (or, for list responses, has no ``value`` list).
    """
    root = Path(path)
    if not root.is_dir():
        raise BundleFormatError(f"{root} is not a bundle folder (it does not exist or is not a directory)")
    if not (root / MANIFEST).is_file():
        raise BundleFormatError(f"{root} has no {MANIFEST}; it is not an evidence bundle")
    manifest = read_json(root / MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise BundleFormatError(f"{root / MANIFEST}: format is {found!r}, expected {FORMAT!r}")
    _check_manifest(manifest, str(root / MANIFEST))
    _verify(root, manifest)
    bundle = Bundle(path=root, manifest=manifest)
    for attribute, (file_name, kind) in SINGLE_FILES.items():
        file = root / file_name
        if not file.is_file():
            continue
        if kind == "bytes":
            setattr(bundle, attribute, file.read_bytes())
            continue
        shown = f"{root.name}/{file_name}"
        document = read_json(file, shown=shown)
        document = _value_list(document, shown) if attribute in _LISTS else _object(document, shown)
        setattr(bundle, attribute, document)
    for attribute, folder in FOLDERS.items():
        directory = root / folder
        if directory.is_dir():
            for file in sorted(directory.glob("*.json")):
                shown = f"{root.name}/{folder}/{file.name}"
                body = _object(read_json(file, shown=shown), shown)
                if attribute in ("effective_nsgs", "effective_routes") and "value" in body:
                    _value_list(body, shown)
                getattr(bundle, attribute)[file.stem] = body
    return bundle
