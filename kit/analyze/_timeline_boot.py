"""Boot-log rows of the timeline, and the anchor that turns kernel uptime into wall time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kit.analyze.activity import Operation, parse_time

__all__ = ["boot_rows", "vm_start_anchor"]

_START_OPS = (
    "microsoft.compute/virtualmachines/start/action",
    "microsoft.compute/virtualmachines/restart/action",
    "microsoft.compute/virtualmachines/redeploy/action",
    "microsoft.compute/virtualmachines/reimage/action",
    "microsoft.compute/virtualmachines/performmaintenance/action",
)
_CREATE_OP = "microsoft.compute/virtualmachines/write"


def _is_start(op: Operation, vm_id: str) -> bool:
    name = op.operation_name.lower()
    if vm_id and op.resource_id and op.resource_id.lower() != vm_id.lower():
        return False
    if op.status.lower() == "failed":
        return False
    if name in _START_OPS:
        return True
    # a write only boots the VM when it created it (HTTP 201 Created)
    return name == _CREATE_OP and any(e.sub_status.lower() == "created" for e in op.events)


def vm_start_anchor(
    operations: Sequence[Operation], instance_view: Mapping[str, Any] | None, vm_id: str = ""
) -> tuple[datetime | None, dict[str, Any] | None]:
    """Where the last boot started, from the control plane.

    The start of the latest successful start / restart / redeploy / create operation on the VM
    in the Activity Log; failing that, the time of the instance view's
    ``ProvisioningState/succeeded`` status when the VM is running.

    Parameters
    ----------
    operations
        Activity Log operations (:func:`kit.analyze.activity.operations`).
    instance_view
        The VM's instance view, or ``None``.
    vm_id
        The VM's resource id; operations on other resources are ignored when given.

    Returns
    -------
    tuple
        ``(time, description)``; ``(None, None)`` when nothing can anchor the boot.
    """
    starts = [op for op in operations if _is_start(op, vm_id)]
    if starts:
        op = starts[-1]
        return op.start, {
            "from": "activity_log",
            "operation": op.label,
            "operation_name": op.operation_name,
            "correlation_id": op.correlation_id,
            "time": op.start.isoformat(),
            "caller": op.caller,
            "note": "uptime 0 taken as the start of this operation; the kernel starts some seconds later",
        }
    if isinstance(instance_view, Mapping):
        statuses = [s for s in instance_view.get("statuses") or [] if isinstance(s, Mapping)]
        running = any(str(s.get("code", "")).lower() == "powerstate/running" for s in statuses)
        for status in statuses:
            if str(status.get("code", "")).lower().startswith("provisioningstate/") and running:
                time = parse_time(status.get("time"))
                if time is not None:
                    return time, {
                        "from": "instance_view",
                        "code": status.get("code"),
                        "time": time.isoformat(),
                        "note": "uptime 0 taken as the last provisioning time of the running VM",
                    }
    return None, None


def boot_rows(rows: Any, bundle: Any, operations: Sequence[Operation], instance_view: Mapping[str, Any] | None,
              vm_id: str, warnings: list[str]) -> dict[str, Any] | None:
    """Add the serial log's events and findings to ``rows``; return how uptime was anchored."""
    data = getattr(bundle, "serial_log", None)
    if not data:
        return None
    raise NotImplementedError
