"""What a collection is asked for and what it produced (the collector's inputs and outputs, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kit import ids
from kit.errors import UsageError
from kit.times import iso_z

__all__ = ["MAX_SCALE_SET_PEERS", "MAX_WINDOW", "CollectionRequest", "CollectionResult", "ProgressCallback",
           "StepCallback", "counting"]

#: The longest Activity Log window a request may ask for: the log keeps 90 days.
MAX_WINDOW = timedelta(days=90)

#: How many other instances of a scale set are collected as known-good peers when none are named.
MAX_SCALE_SET_PEERS = 3

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(vm_name, calls_done, calls_failed)`` after every call."""

StepCallback = Callable[[str, str], None]
"""Called as ``progress(step, note)`` by long operations: the step, and what is happening inside it."""


def counting(progress: StepCallback, step: str, names: tuple[str, ...] | list[str]) -> ProgressCallback:
    """A collector callback telling ``progress`` under ``step`` how many calls each VM has made."""
    counts = {name: (0, 0) for name in names}

    def update(name: str, done: int, failed: int) -> None:
        counts[name] = (done, failed)
        calls = sum(done + failed for done, failed in counts.values())
        failures = sum(failed for _, failed in counts.values())
        each = ", ".join(f"{vm} {done + failed}" for vm, (done, failed) in counts.items())
        progress(step, f"{calls} calls" + (f", {failures} failed" if failures else "") + f" ({each})")

    return update


_WORKSPACE_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _iso(moment: datetime) -> str:
    return iso_z(moment.replace(microsecond=0))


@dataclass(frozen=True)
class CollectionRequest:
    """What to collect.

    Parameters
    ----------
    subscription_id
        The subscription GUID.
    resource_group
        The VMs' resource group.
    vm
        The broken VM's name (the instance id when ``scale_set`` is given).
    known_good
        Names of healthy VMs to compare against (same resource group), or instance ids of the same
        scale set.
    start, end
        The Activity Log window (timezone-aware); ``end`` defaults to now, ``start`` to 24 h before;
        at most :data:`MAX_WINDOW` long.
    source
        ``azure`` or ``lab:<scenario>``, recorded in the manifest.
    workspace
        A Log Analytics workspace id (GUID) to query too (:mod:`kit.azure.workspace`), or ``None``.
    scale_set
        The uniform scale set ``vm`` is an instance of (``None``: plain VMs). Bundles are named as Azure
        names the instances, ``<scale set>_<instance id>``.
    peers_from_scale_set
        With ``scale_set`` and no ``known_good``: collect up to :data:`MAX_SCALE_SET_PEERS` other
        instances of the scale set as the known-good peers (listed when the collection starts).
    """

    subscription_id: str
    resource_group: str
    vm: str
    known_good: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    source: str = "azure"
    workspace: str | None = None
    scale_set: str | None = None
    peers_from_scale_set: bool = True

    def __post_init__(self) -> None:
        if self.workspace is not None and not _WORKSPACE_ID.fullmatch(self.workspace):
            raise UsageError(f"the workspace id {self.workspace!r} is not a GUID: give the Log Analytics "
                             "workspace's Workspace ID (az monitor log-analytics workspace show --query customerId)")
        object.__setattr__(self, "known_good", tuple(self.known_good))
        for name in self.names:  # validates subscription GUID, group and names (InvalidResourceId)
            self.resource_id(name)
        if len({name.lower() for name in self.names}) != len(self.names):
            what = "an instance" if self.scale_set else "a VM"
            raise UsageError(f"{what} is named twice in {', '.join(self.names)} "
                             "(the broken VM and known-good VMs differ)")
        end = self.end or datetime.now(UTC)
        start = self.start or end - timedelta(hours=24)
        if start.tzinfo is None or end.tzinfo is None:
            raise UsageError("the window's start and end must carry a time zone (use …Z for UTC)")
        if start >= end:
            raise UsageError(f"the window starts ({_iso(start)}) after it ends ({_iso(end)})")
        if end - start > MAX_WINDOW:
            raise UsageError(f"the window {_iso(start)} → {_iso(end)} is longer than {MAX_WINDOW.days} days, "
                             "which is all the Activity Log keeps; give a shorter window")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @classmethod
    def for_vm_id(cls, vm_id: str, **kwargs: Any) -> CollectionRequest:
        """A request for the VM or scale-set instance with this ARM id (known-good names are in the same
        group, or instance ids of the same scale set)."""
        parsed = ids.parse_resource_id(vm_id)
        if parsed.is_kind(ids.VMSS_VM):
            assert parsed.resource_group is not None and parsed.parent is not None
            return cls(parsed.subscription_id, parsed.resource_group, parsed.name, scale_set=parsed.parent.name,
                       **kwargs)
        parsed = ids.parse_resource_id(vm_id, expect=ids.VM)
        assert parsed.resource_group is not None
        return cls(parsed.subscription_id, parsed.resource_group, parsed.name, **kwargs)

    @classmethod
    def for_scenario(cls, info: Any, *, peers: bool = True, **kwargs: Any) -> CollectionRequest:
        """A request for a lab scenario's broken VM and (``peers``) its known-good VMs, in its window.

        ``info`` is a :class:`kit.lab.ScenarioInfo` (read by attribute: this layer imports no lab); a
        scale-set scenario's instances are asked for by instance id.
        """
        names = (info.broken_vm, *(info.known_good if peers else ()))
        scale_set = getattr(info, "scale_set", "") or None
        if scale_set:
            names = tuple(info.instance_id(name) for name in names)
        kwargs.setdefault("source", f"lab:{info.name}")
        return cls(info.subscription_id, info.resource_group, names[0], names[1:], start=info.window_start,
                   end=info.window_end, scale_set=scale_set, peers_from_scale_set=peers, **kwargs)

    def resource_id(self, name: str) -> ids.ResourceId:
        """The id of the VM ``name``, or of the instance ``name`` of :attr:`scale_set`."""
        if self.scale_set:
            return ids.vmss_vm_id(self.subscription_id, self.resource_group, self.scale_set, name)
        return ids.vm_id(self.subscription_id, self.resource_group, name)

    def bundle_name(self, name: str) -> str:
        """The bundle folder of VM ``name``: the name, or ``<scale set>_<instance id>`` for an instance."""
        return f"{self.scale_set}_{name}" if self.scale_set else name

    @property
    def wants_scale_set_peers(self) -> bool:
        """Whether the peers are to be the scale set's other instances (none named)."""
        return bool(self.scale_set) and not self.known_good and self.peers_from_scale_set

    @property
    def names(self) -> tuple[str, ...]:
        """The broken VM followed by the known-good VMs."""
        return (self.vm, *self.known_good)

    @property
    def window(self) -> dict[str, str]:
        """The window as the manifest stores it."""
        assert self.start is not None and self.end is not None
        return {"start": _iso(self.start), "end": _iso(self.end)}


@dataclass
class CollectionResult:
    """What a collection produced.

    Attributes
    ----------
    bundles
        Bundle folders, the broken VM's first.
    failures
        Failed calls per VM name.
    calls
        Calls made per VM name (done + failed).
    seconds
        Wall time.
    """

    bundles: list[Path] = field(default_factory=list)
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def subject(self) -> Path:
        """The broken VM's bundle."""
        return self.bundles[0]
