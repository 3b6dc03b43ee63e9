"""What a collection is asked for and what it produced (the collector's inputs and outputs, no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kit import ids
from kit.errors import UsageError
from kit.times import iso_z

__all__ = ["MAX_WINDOW", "CollectionRequest", "CollectionResult", "ProgressCallback", "StepCallback", "counting"]

#: The longest Activity Log window a request may ask for: the log keeps 90 days.
MAX_WINDOW = timedelta(days=90)

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
        The broken VM's name.
    known_good
        Names of healthy VMs to compare against (same resource group).
    start, end
        The Activity Log window (timezone-aware); ``end`` defaults to now, ``start`` to 24 h before;
        at most :data:`MAX_WINDOW` long.
    source
        ``azure`` or ``lab:<scenario>``, recorded in the manifest.
    """

    subscription_id: str
    resource_group: str
    vm: str
    known_good: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    source: str = "azure"

    def __post_init__(self) -> None:
        object.__setattr__(self, "known_good", tuple(self.known_good))
        for name in self.names:  # validates subscription GUID, group and names (InvalidResourceId)
            ids.vm_id(self.subscription_id, self.resource_group, name)
        if len({name.lower() for name in self.names}) != len(self.names):
            raise UsageError(f"a VM is named twice in {', '.join(self.names)} "
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
        """A request for the VM with this ARM id (known-good names are in the same group)."""
        parsed = ids.parse_resource_id(vm_id, expect=ids.VM)
        assert parsed.resource_group is not None
        return cls(parsed.subscription_id, parsed.resource_group, parsed.name, **kwargs)

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
