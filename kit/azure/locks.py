"""Management locks over a VM, read before a repair writes anything.

A ``ReadOnly`` lock on the subscription, the resource group or the VM makes ARM refuse every write
under it with 409 ``ScopeLocked`` (the snapshot, the repair VM, deallocate, the disk swap, start,
Run Command); a ``CanNotDelete`` lock on the subscription or the resource group refuses only the
deletes, so a repair can run but not clean up after itself. Production resource groups often carry
one. :func:`read_locks` lists those that bear on a repair; :func:`read_only_refusal` and
:func:`delete_blocker` say what they mean for it.
"""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass
from typing import Any

from kit.errors import InvalidResourceId
from kit.ids import parse_resource_id

__all__ = ["Lock", "delete_blocker", "lifted_and_restored", "read_locks", "read_only_refusal"]

_SUFFIX = "/providers/microsoft.authorization/locks/"


@dataclass(frozen=True)
class Lock:
    """One management lock.

    Parameters
    ----------
    id
        The lock's resource id (``{scope}/providers/Microsoft.Authorization/locks/{name}``).
    level
        ``ReadOnly`` or ``CanNotDelete``.
    notes
        What its owner wrote on it.
    """

    id: str
    level: str
    notes: str = ""

    @property
    def name(self) -> str:
        """The lock's name."""
        return self.id.rsplit("/", 1)[-1]

    @property
    def scope(self) -> str:
        """The resource id the lock is on."""
        cut = self.id.lower().rfind(_SUFFIX)
        return self.id[:cut] if cut >= 0 else self.id

    def where(self) -> str:
        """``resource group rg``, ``subscription …`` or ``virtualMachines vm``: what it is on, for a sentence."""
        kind, name, _ = _scope_of(self)
        return {"subscription": f"subscription {name}", "group": f"resource group {name}"}.get(
            kind, f"{kind.rsplit('/', 1)[-1]} {name}")

    def __str__(self) -> str:
        said = f" ({self.notes.strip()})" if self.notes.strip() else ""
        return f"the {self.level} lock '{self.name}' on {self.where()}{said}"


async def read_locks(client: Any, subscription: str, group: str, vm_id: str) -> tuple[list[Lock], str]:
    """The locks on ``subscription``, ``group`` or the VM, and a note when some could not be read.

    ``client`` is an async ``ManagementLockClient``. The resource group's list holds its own locks
    and its resources'; the subscription's, the ones it inherits. A list the identity may not read
    (403) is noted, not fatal: a lock it hides shows as ``ScopeLocked`` at the write it refuses.
    """
    from azure.core.exceptions import AzureError as SdkError

    wanted = {f"/subscriptions/{subscription}".lower(), f"/subscriptions/{subscription}/resourcegroups/{group}".lower(),
              vm_id.lower().rstrip("/")}

    async def listed(what: str, pages: Any) -> tuple[list[Lock], str]:
        try:
            return [Lock(str(item.id), str(item.level), str(item.notes or "")) async for item in pages], ""
        except SdkError as error:  # a list it may not read is a note: the repair decides on what it has
            status = getattr(error, "status_code", None)
            return [], f"the {what}'s locks could not be read ({f'HTTP {status}' if status else type(error).__name__})"

    answers = await asyncio.gather(
        listed("resource group", client.management_locks.list_at_resource_group_level(group)),
        listed("subscription", client.management_locks.list_at_subscription_level()))
    found = {lock.id.lower(): lock for locks, _ in answers for lock in locks
             if lock.scope.lower().rstrip("/") in wanted}
    note = "; ".join(unread for _, unread in answers if unread)
    if note:
        note += ": a lock there shows as ScopeLocked at the write it refuses"
    return sorted(found.values(), key=lambda lock: len(lock.scope)), note


def read_only_refusal(locks: list[Lock], vm_name: str) -> str | None:
    """Why the repair cannot start under a ``ReadOnly`` lock (with the commands to lift and restore it), or ``None``."""
    read_only = [lock for lock in locks if lock.level.lower() == "readonly"]
    if not read_only:
        return None
    lock = read_only[0]
    lift, restore = lifted_and_restored(lock)
    return (f"{lock}: Azure refuses every write under it — the snapshot, the repair VM, deallocating {vm_name}, the "
            f"disk swap, start, Run Command — so the repair would fail at its first write. Nothing was changed. With "
            f"approval, lift it for the repair and put it back afterwards: {lift}; then {restore}")


def delete_blocker(locks: list[Lock]) -> Lock | None:
    """The ``CanNotDelete`` lock that keeps a repair from deleting its repair VM, NIC, NSG and disk, or ``None``."""
    return next((lock for lock in locks if lock.level.lower() == "cannotdelete"
                 and _scope_of(lock)[0] in ("subscription", "group")), None)


def lifted_and_restored(lock: Lock) -> tuple[str, str]:
    """The ``az`` commands that delete ``lock``, and that create it again as it was."""
    kind, name, group = _scope_of(lock)
    where = ""
    if kind == "group":
        where = f" --resource-group {shlex.quote(name)}"
    elif kind != "subscription":
        where = f" --resource-group {shlex.quote(group)} --resource {shlex.quote(name)} --resource-type {kind}"
    notes = f" --notes {shlex.quote(lock.notes)}" if lock.notes.strip() else ""
    return (f"az lock delete --ids {shlex.quote(lock.id)}",
            f"az lock create --name {shlex.quote(lock.name)} --lock-type {lock.level}{where}{notes}")


def _scope_of(lock: Lock) -> tuple[str, str, str]:
    """(``subscription`` | ``group`` | the resource type, its name, its resource group) of what ``lock`` is on."""
    try:
        parsed = parse_resource_id(lock.scope)
    except InvalidResourceId:
        return "resource", lock.scope, ""
    kind = str(parsed.kind or "")
    if kind.lower() == "microsoft.resources/subscriptions":
        return "subscription", parsed.subscription_id, ""
    if kind.lower() == "microsoft.resources/resourcegroups":
        return "group", str(parsed.resource_group), str(parsed.resource_group)
    return kind, str(parsed.name), str(parsed.resource_group or "")
