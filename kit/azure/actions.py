"""What a responder's action did, and its record in the incident archive.

Run Command, the repair VM and the recovery check each change (or prove) something. Every ARM
write they make is logged as it is answered (:class:`WriteLog`, an azure-core response hook
given to the SDK clients), and the action is recorded in the incident archive as one sealed
stage: ``reports/<stamp>-<kind>/action.json`` plus its files (script, output), and a history
event ``{"kind": <kind>, "run": …, "approval": …, "status": …}`` the postmortem reads::

    log = WriteLog()
    client = ComputeManagementClient(credential, sub, raw_response_hook=log.hook, **target.client_kwargs())
    ...
    record_action(incident_root, ActionRecord(kind="repair", vm_id=vm, approval="CHG-1", ...,
                  writes=log.writes), files={"fix.sh": script})

Kinds: ``run-command``, ``repair``, ``recovery-check``. Secrets never reach the record: scripts and
outputs are redacted by the caller before they are given here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kit.archive import Stage, read_manifest, run_by
from kit.archive.tree import read_inside
from kit.azure.sealing import sealed
from kit.errors import UsageError

__all__ = ["ACTION_FILE", "ACTION_KINDS", "ActionRecord", "ArmWrite", "WriteLog", "read_actions", "record_action"]

ACTION_FILE = "action.json"
ACTION_KINDS = ("run-command", "repair", "recovery-check")
_WRITE_METHODS = frozenset({"PUT", "PATCH", "POST", "DELETE"})
#: POSTs that only read (they change nothing, so they are not writes)
_READ_POSTS = ("/retrievebootdiagnosticsdata", "/effectivenetworksecuritygroups", "/effectiveroutetable",
               "/providers/microsoft.resourcegraph/resources", "/instanceview", "/listkeys")


@dataclass(frozen=True)
class ArmWrite:
    """One ARM write as it was answered.

    Parameters
    ----------
    operation
        ``PUT virtualMachines``, ``POST virtualMachines/runCommand`` …: the method and the resource
        type path of the URL (what the Activity Log calls the operation).
    method
        The HTTP method.
    target
        The resource id written (the URL's path without the action segment or query).
    time
        When the answer came (UTC, ISO 8601).
    status
        The HTTP status of the first answer (200/201/202/204, or the error's).
    result
        ``accepted`` (2xx) or ``failed: <status>``.
    """

    operation: str
    method: str
    target: str
    time: str
    status: int
    result: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


class WriteLog:
    """The ARM writes of one action, in the order they were answered (thread-safe)."""

    def __init__(self) -> None:
        self._writes: list[ArmWrite] = []
        self._lock = threading.Lock()

    @property
    def writes(self) -> list[ArmWrite]:
        """Every write logged so far."""
        with self._lock:
            return list(self._writes)

    def hook(self, response: Any) -> None:
        """azure-core ``raw_response_hook``: log the answer when its request was a write (polls are GETs)."""
        request = response.http_request
        method = str(request.method).upper()
        path = urlsplit(str(request.url)).path
        if method not in _WRITE_METHODS or any(path.lower().endswith(p) for p in _READ_POSTS):
            return
        status = int(response.http_response.status_code)
        self.add(method, path, status)

    def add(self, method: str, path: str, status: int) -> ArmWrite:
        """Log one write (``path``: the URL path) answered with ``status``."""
        target, operation = _target_and_operation(method.upper(), path)
        write = ArmWrite(operation=operation, method=method.upper(), target=target,
                         time=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                         status=status, result="accepted" if 200 <= status < 300 else f"failed: {status}")
        with self._lock:
            self._writes.append(write)
        return write


def _target_and_operation(method: str, path: str) -> tuple[str, str]:
    """The resource a write targets and its operation (``POST virtualMachines/restart``)."""
    segments = [s for s in path.split("/") if s]
    lowered = [s.lower() for s in segments]
    if "providers" not in lowered:
        return path, f"{method} {path}"
    start = len(lowered) - 1 - lowered[::-1].index("providers") + 2  # after providers/<namespace>
    tail = segments[start:]
    types = tail[0::2]
    action = ""
    if method == "POST" and len(tail) % 2 == 1:  # …/virtualMachines/vm-1/restart: the last segment is the action
        action = "/" + tail[-1]
        segments = segments[:-1]
        types = tail[:-1][0::2]
    return "/" + "/".join(segments), f"{method} {'/'.join(types)}{action}"


@dataclass
class ActionRecord:
    """One responder action, as recorded in the archive.

    Parameters
    ----------
    kind
        ``run-command``, ``repair`` or ``recovery-check``.
    vm_id
        The VM acted on.
    approval
        The approval / ticket reference (required).
    status
        ``succeeded``, ``failed``, ``rolled-back``, ``refused``, ``passed`` …
    summary
        One sentence for the postmortem ("how it was fixed").
    started, ended
        UTC times.
    responder
        Who ran it (the token's principal, else ``user@host``).
    writes
        Every ARM write made (see :class:`WriteLog`).
    details
        Anything else the kind records (channel, exit code, steps, proofs …), JSON-ready.
    """

    kind: str
    vm_id: str
    approval: str
    status: str
    summary: str
    started: datetime
    ended: datetime
    responder: str = field(default_factory=run_by)
    writes: list[ArmWrite] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``action.json`` holds)."""
        return {"kind": self.kind, "vm_id": self.vm_id, "approval": self.approval, "status": self.status,
                "summary": self.summary, "started": _iso(self.started), "ended": _iso(self.ended),
                "responder": self.responder, "writes": [w.to_json() for w in self.writes], "details": self.details}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def record_action(incident_root: str | Path, record: ActionRecord, *,
                  files: Mapping[str, str | bytes] | None = None, wait: float | None = None,
                  stage: Stage | None = None) -> Path:
    """Record ``record`` (and ``files`` beside it) in the incident archive; the recorded folder.

    With ``stage`` (a stage of this incident the caller opened with :func:`~kit.azure.sealing.sealed`,
    holding what the action collected, e.g. evidence bundles), the record is written into it and
    the stage is committed: the evidence and the record are one sealed stage.

    Raises
    ------
    UsageError
        An unknown kind, no approval reference, or a file name that is not a plain name.
    ArchiveError, ArchiveBusyError
        The archive refuses the write or stays busy.
    """
    if record.kind not in ACTION_KINDS:
        raise UsageError(f"unknown action kind {record.kind!r}; one of {', '.join(ACTION_KINDS)}")
    if not record.approval.strip():
        raise UsageError("an action needs an approval / ticket reference (--approval REF)")
    for name in files or {}:
        if Path(name).name != name or name in ("", ".", "..", ACTION_FILE):
            raise UsageError(f"an action's file must be a plain file name, not {name!r}")
    if stage is not None:
        return _write(stage, record, files)
    options: dict[str, Any] = {"about": {"kind": record.kind, "vm": record.vm_id, "approval": record.approval}}
    if wait is not None:
        options["wait"] = wait
    with sealed(incident_root, record.kind, **options) as opened:
        return _write(opened, record, files)


def _write(stage: Stage, record: ActionRecord, files: Mapping[str, str | bytes] | None) -> Path:
    """Write the record and its files into ``stage`` and commit it; the recorded folder."""
    run = stage.run_dir(record.kind)
    for name, content in (files or {}).items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (run / name).write_bytes(data)
    (run / ACTION_FILE).write_text(json.dumps(record.to_json(), indent=2, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    stage.commit({"kind": record.kind, "run": stage.relative(run), "vm": record.vm_id,
                  "approval": record.approval, "status": record.status, "summary": record.summary,
                  "started": _iso(record.started), "ended": _iso(record.ended)})
    return stage.final(run)


def read_actions(incident_root: str | Path) -> list[dict[str, Any]]:
    """Every recorded action of the incident, oldest first: its ``action.json`` with ``run`` (the folder)."""
    root = Path(incident_root)
    manifest = read_manifest(root) or {}
    out: list[dict[str, Any]] = []
    for event in manifest.get("history", []):
        if event.get("kind") not in ACTION_KINDS or not isinstance(event.get("run"), str):
            continue
        try:
            value = json.loads(read_inside(root, f"{event['run']}/{ACTION_FILE}"))
        except (OSError, ValueError):
            continue
        if isinstance(value, dict):
            out.append({**value, "run": event["run"]})
    return out
