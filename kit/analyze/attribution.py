"""One attribution of the causal change: the Activity Log operation behind the top hypothesis.

Every report names the same change::

    attribution = attribute(triage(bundle, bundle.peers()))
    attribution.caller_name, attribution.time, attribution.operation

Network hypotheses take the operation the network diff linked to the verdict-changing
difference; the others take the latest Activity Log operation their evidence cites (a Run
Command, an extension, a deallocation …); a boot failure with none takes the change to the VM
between its previous boot and the boot that failed (a disk attach/detach for fstab and volume
failures; patches, extensions, Run Commands or a model write otherwise), else that failed boot
itself. ``None`` when nothing is attributable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kit.analyze.activity import Operation
    from kit.analyze.triage import TriageResult

__all__ = ["Attribution", "attribute", "display_name", "of_operation"]

_BOOTS = ("/restart/action", "/start/action", "/redeploy/action", "/reapply/action")
#: Changes that break a boot on the next restart, by what failed.
_STORAGE_CHANGES = ("microsoft.compute/virtualmachines/write", "microsoft.compute/disks/write")
_SOFTWARE_CHANGES = ("/installpatches/action", "/extensions/write", "/runcommand/action", "/runcommands/write",
                     "microsoft.compute/virtualmachines/write")


@dataclass(frozen=True)
class Attribution:
    """The change that caused the incident, and who made it.

    Parameters
    ----------
    time
        When the operation started (UTC).
    caller, caller_name
        Its caller as the Activity Log records it (object id, appId or UPN) and that caller's
        display name from the bundle's directory lookup (``None`` when unknown).
    operation
        The operation name (``Microsoft.Network/networkSecurityGroups/securityRules/write`` …).
    resource_id, status
        What it acted on and how it ended.
    source
        How it was found: ``network diff``, ``verdict evidence`` or ``last boot``.
    """

    time: datetime
    caller: str | None
    caller_name: str | None
    operation: str
    resource_id: str | None
    status: str | None
    source: str

    @property
    def text(self) -> str:
        """``who · when UTC · operation · status``, as every report shows it."""
        when = self.time.strftime("%Y-%m-%d %H:%M:%S UTC")
        return " · ".join(x for x in (self.who, when, self.operation, self.status) if x)

    @property
    def marker(self) -> tuple[datetime, str]:
        """``(time, "who: operation")`` for the timeline's causal-change marker."""
        return self.time, f"{self.who}: {self.operation.split('/', 1)[-1]}"

    @property
    def who(self) -> str:
        """The display name, else the caller, else ``unknown caller``."""
        return self.caller_name or self.caller or "unknown caller"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Attribution:
        """The attribution :meth:`to_json` wrote (a saved triage result's ``attribution``)."""
        return cls(time=datetime.fromisoformat(str(data["time"])), caller=data.get("caller"),
                   caller_name=data.get("caller_name"), operation=str(data["operation"]),
                   resource_id=data.get("resource_id"), status=data.get("status"), source=str(data.get("source", "")))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"time": self.time.isoformat(), "caller": self.caller, "caller_name": self.caller_name,
                "operation": self.operation, "resource_id": self.resource_id, "status": self.status,
                "source": self.source}


def display_name(caller: str | None, names: Mapping[str, str]) -> str | None:
    """``caller``'s display name: a UPN is its own, an object id/appId is looked up in ``names``."""
    if not caller:
        return None
    if "@" in caller:
        return caller
    return names.get(caller.lower())


def _network_operation(result: TriageResult) -> Operation | None:
    diff = result.diff
    return next((d.operation for d in diff.explaining if d.operation is not None), None) if diff else None


def _cited_operation(result: TriageResult) -> Operation | None:
    """The latest operation the top hypothesis's Activity Log evidence rows cite."""
    cited = {(e.kind, e.time) for e in result.classification.top.supporting
             if e.source == "activity_log" and e.time is not None}
    ops = [op for op in result.activity.operations if (op.operation_name, op.start) in cited
           and op.category.lower() not in ("resourcehealth", "servicehealth")]
    return ops[-1] if ops else None


def _vm_operations(operations: Iterable[Operation], vm_id: str) -> list[Operation]:
    vm = vm_id.lower()
    return [op for op in operations if not op.failed and (not vm or op.resource_id.lower().startswith(vm))]


def _boot_change(operations: Iterable[Operation], vm_id: str, kind: str) -> tuple[Operation | None, str]:
    """The change made between the VM's previous boot and its failed (last) boot, else that boot."""
    ops = _vm_operations(operations, vm_id)
    boots = [op for op in ops if op.operation_name.lower().endswith(_BOOTS)]
    if not boots:
        return None, ""
    failed, previous = boots[-1], (boots[-2].start if len(boots) > 1 else None)
    wanted = _STORAGE_CHANGES if any(word in kind for word in ("fstab", "volume")) else _SOFTWARE_CHANGES
    changes = [op for op in ops if op.start < failed.start and (previous is None or op.start > previous)
               and op.operation_name.lower().endswith(wanted)]
    return (changes[-1], "change before the failed boot") if changes else (failed, "last boot")


def attribute(result: TriageResult) -> Attribution | None:
    """The Activity Log operation behind the top hypothesis of ``result``, or ``None``."""
    top = result.classification.top
    op, source = None, ""
    if top.level == "platform" and result.diff is not None:
        op, source = _network_operation(result), "network diff"
    if op is None:
        op, source = _cited_operation(result), "verdict evidence"
    if op is None and top.kind.startswith("boot_failure"):
        op, source = _boot_change(result.activity.operations, result.classification.vm_id, top.kind)
    return None if op is None else of_operation(op, result.bundle.directory_names, source)


def of_operation(op: Operation, names: Mapping[str, str], source: str) -> Attribution:
    """``op`` as an attribution, its caller's display name looked up in ``names``."""
    caller = op.caller or None
    return Attribution(time=op.start, caller=caller, caller_name=display_name(caller, names),
                       operation=op.operation_name, resource_id=op.resource_id or None,
                       status=op.status or None, source=source)
