"""Build a bundle from a folder of saved ``az … -o json`` outputs (``kit import``).

Files are recognised by content (:data:`~kit.evidence.importers.IMPORTERS`), never by name.
Malformed JSON stops the import before anything is written (the error names the file and
line), and so does a recognised file whose fields have the wrong shape (a ``name`` that is a
list, ``properties`` that is text, an ``id`` that is not an ARM id): a
:class:`~kit.errors.BundleFormatError` naming the file. Files no importer recognises are
listed in the result and in the manifest's ``failures`` (code ``UnrecognisedFile``), not
dropped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit import ids
from kit.errors import BundleFormatError, InvalidResourceId, UsageError
from kit.evidence.importers import IMPORTERS, Artifact, Importer, Importers
from kit.evidence.manifest import FOLDERS, new_manifest
from kit.evidence.writer import BundleWriter, safe_name

__all__ = ["ImportResult", "import_folder"]

#: Folder attributes whose files are named after the resource (effective lists are named after their NIC).
_NAMED_FOLDERS = set(FOLDERS) - {"effective_nsgs", "effective_routes"}


@dataclass
class ImportResult:
    """What ``kit import`` did.

    Attributes
    ----------
    bundle
        The bundle folder written.
    recognised
        ``{relative file: importer name}``.
    unrecognised
        Files no importer took.
    duplicates
        Files whose artefact was already provided by an earlier file (first one kept).
    """

    bundle: Path
    recognised: dict[str, str] = field(default_factory=dict)
    unrecognised: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def _parse(path: Path, shown: str, registry: Importers) -> Any:
    """JSON value for JSON files, bytes for anything else; BundleFormatError for broken JSON.

    A file that starts like JSON but is not, yet is accepted as raw bytes by an importer (a
    serial log starts with ``[    0.000000]``), is taken as bytes.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise BundleFormatError(f"cannot read {shown}: {error.strerror}") from error
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head not in (b"{", b"[", b'"'):
        return data
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        if registry.find(data) is not None:
            return data
        if isinstance(error, UnicodeDecodeError):
            raise BundleFormatError(f"{shown}: not UTF-8 JSON (byte {error.start})") from error
        raise BundleFormatError(
            f"{shown}: malformed JSON at line {error.lineno} column {error.colno}: {error.msg}") from error


def _load(importer: Importer, document: Any, shown: str) -> list[Artifact]:
    """The artefacts ``importer`` finds in ``document``, each of the shape the bundle needs.

    The importers parse files a person saved; a field of the wrong type surfaces here as a
    BundleFormatError naming the file, never as an exception from inside an importer.
    """
    try:
        artifacts = list(importer.load(document))
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
        raise BundleFormatError(f"{shown}: looks like '{importer.name}' output but a field has the wrong shape "
                                f"({type(error).__name__}: {error})") from None
    for artifact in artifacts:
        if artifact.attribute in ("serial_log", "screenshot"):
            ok = isinstance(artifact.value, bytes)
        elif artifact.attribute in ("activity_log", "role_assignments", "resource_health_history"):
            ok = isinstance(artifact.value, dict) and isinstance(artifact.value.get("value"), list) and all(
                isinstance(entry, dict) for entry in artifact.value["value"])
        else:
            ok = isinstance(artifact.value, dict)
        if not ok:
            raise BundleFormatError(f"{shown}: '{importer.name}' output of the wrong shape for {artifact.attribute}")
        if artifact.attribute in _NAMED_FOLDERS and not _file_name(artifact.name):
            raise BundleFormatError(f"{shown}: the resource name {artifact.name!r} cannot be a file name "
                                    "(ARM names are plain text without '/')")
        if artifact.attribute == "vm" and not isinstance(artifact.name, str | None):
            raise BundleFormatError(f"{shown}: the VM name {artifact.name!r} is not text")
    return artifacts


def _file_name(name: Any) -> bool:
    try:
        return isinstance(name, str) and safe_name(name) == name
    except UsageError:
        return False


def _files(source: Path) -> list[Path]:
    return sorted(path for path in source.rglob("*")
                  if path.is_file() and not any(part.startswith(".") for part in path.relative_to(source).parts))


def _subnets_of(nic: dict[str, Any]) -> list[str]:
    """The subnet ids a NIC's IP configurations name (fields of the wrong type read as absent)."""
    props = nic.get("properties")
    configurations = props.get("ipConfigurations") if isinstance(props, dict) else None
    found = []
    for configuration in configurations if isinstance(configurations, list) else []:
        inner = configuration.get("properties") if isinstance(configuration, dict) else None
        subnet = inner.get("subnet") if isinstance(inner, dict) else None
        subnet_id = subnet.get("id") if isinstance(subnet, dict) else None
        if isinstance(subnet_id, str):
            found.append(subnet_id)
    return found


def _nic_name_for(artifact: Artifact, nics: dict[str, dict[str, Any]]) -> str | None:
    """The NIC an effective-NSG/route list belongs to: its association, or the only NIC."""
    if artifact.resource_id:
        rid = ids.try_parse(artifact.resource_id)
        if rid is not None and rid.is_kind(ids.NIC):
            return rid.name
        if rid is not None and rid.is_kind(ids.SUBNET):
            users = [name for name, nic in nics.items() if any(rid.same_as(subnet) for subnet in _subnets_of(nic))]
            if len(users) == 1:
                return users[0]
    return next(iter(nics)) if len(nics) == 1 else None


def import_folder(source: str | Path, out: str | Path, *, vm: str | None = None,
                  registry: Importers = IMPORTERS) -> ImportResult:
    """Import a folder of saved ``az`` outputs into a new bundle at ``out``.

    Parameters
    ----------
    source
        Folder of files (any names, sub-folders included; hidden files skipped).
    out
        The bundle folder to create; it must not exist.
    vm
        The VM to import when the folder holds several ``az vm show`` outputs.
    registry
        The importers to use.

    Returns
    -------
    ImportResult
        The bundle path and what was (not) recognised.

    Raises
    ------
    BundleFormatError
        A file is malformed JSON (file and line named), or no VM document is present.
    BundleExistsError
        ``out`` exists.
    """
    folder = Path(source)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder; give the folder holding the saved az outputs")
    target = Path(out)
    found: list[tuple[str, str, Artifact]] = []
    result = ImportResult(bundle=target)
    for path in _files(folder):
        shown = path.relative_to(folder).as_posix()
        document = _parse(path, shown, registry)
        importer = registry.find(document)
        if importer is None:
            result.unrecognised.append(shown)
            continue
        result.recognised[shown] = importer.name
        found.extend((shown, importer.name, artifact) for artifact in _load(importer, document, shown))
    vms = {artifact.name: (shown, artifact) for shown, _, artifact in found if artifact.attribute == "vm"}
    if not vms:
        raise BundleFormatError(f"{folder} holds no 'az vm show' or 'az vm get-instance-view' output; "
                                f"the bundle needs the VM (save one with: az vm show -g G -n VM -o json)")
    if vm is None and len(vms) > 1:
        raise UsageError(f"{folder} holds several VMs ({', '.join(sorted(map(str, vms)))}); choose one with --vm")
    chosen = vm if vm is not None else next(iter(vms))
    if chosen not in vms:
        raise UsageError(f"no 'az vm show' output for VM {chosen!r} in {folder}")
    vm_file, vm_artifact = vms[chosen]
    vm_body = vm_artifact.value
    try:
        vm_rid = ids.parse_resource_id(str(vm_body.get("id", "")), expect=ids.VM)
        ids.check_name(vm_rid.name, "virtualMachines")
    except InvalidResourceId as error:
        raise BundleFormatError(f"{vm_file}: the VM's 'id' is not a VM resource id ARM would give: {error}") from None
    found = [item for item in found if item[2].attribute != "vm" or item[2].name == chosen]
    if len(vms) > 1:
        found = [item for item in found if item[2].attribute != "instance_view"
                 or vm_rid.same_as(ids.canonical_id(str(item[2].resource_id or vm_rid)))]
    nics = {artifact.name: artifact.value for _, _, artifact in found if artifact.attribute == "nics" and artifact.name}
    events = [event for _, _, artifact in found if artifact.attribute == "activity_log"
              for event in artifact.value["value"]]
    stamps = sorted(str(event["eventTimestamp"]) for event in events if event.get("eventTimestamp"))
    window: dict[str, str | None] = {"start": stamps[0], "end": stamps[-1]} if stamps else {"start": None, "end": None}
    with BundleWriter(target) as writer:
        metric_files = 0  # metrics/<n>.json, in file order (contract C5)
        for shown, importer_name, artifact in found:
            name = artifact.name
            if artifact.attribute in ("effective_nsgs", "effective_routes"):
                name = _nic_name_for(artifact, nics)
                if name is None:
                    writer.add_failure({"call": f"import:{importer_name}", "resource_id": None, "status": None,
                                        "code": "UnknownNic", "message": f"{shown}: cannot tell which NIC this "
                                        f"effective list belongs to (import one NIC's outputs per folder)"})
                    continue
            if artifact.attribute == "metrics":
                metric_files += 1
                relative = f"metrics/{metric_files}.json"
            else:
                relative = BundleWriter.path_for(artifact.attribute, name)
            if writer.has(relative):
                result.duplicates.append(shown)
                continue
            provenance = {"source_file": shown, "resource_id": artifact.resource_id}
            if isinstance(artifact.value, bytes):
                writer.add_bytes(relative, artifact.value, call=f"import:{importer_name}", **provenance)
            else:
                writer.add_json(relative, artifact.value, call=f"import:{importer_name}", **provenance)
        for shown in result.unrecognised:
            writer.add_failure({"call": "import", "resource_id": None, "status": None, "code": "UnrecognisedFile",
                                "message": f"{shown}: not an az output the kit recognises; not imported"})
        manifest = new_manifest(source="import", subscription_id=vm_rid.subscription_id,
                                resource_group=str(vm_rid.resource_group), vm_name=vm_rid.name, vm_id=str(vm_rid),
                                window=window)
        result.bundle = writer.commit(manifest)
    return result
