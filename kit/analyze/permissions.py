"""Effective Azure RBAC permissions: may the caller perform an action, as ARM decides it.

Example::

    granted = EffectivePermissions.from_rest(body["value"])   # GET …/providers/Microsoft.Authorization/permissions
    granted.allows("Microsoft.SerialConsole/serialPorts/connect/action")
    granted.missing(["Microsoft.Compute/virtualMachines/read", "Microsoft.Compute/virtualMachines/write"])

The permissions answer holds one entry per role the caller holds at or above the scope, each with
``actions`` and ``notActions``. ARM allows an action when some entry's ``actions`` match it and the
same entry's ``notActions`` do not (a ``notActions`` entry subtracts from its own role only, never
from another role; it is not a deny). Patterns are compared case-insensitively and ``*`` matches
any run of characters, ``/`` included: ``*`` is everything, ``Microsoft.Compute/*`` the whole
provider, ``*/read`` every read, ``Microsoft.Compute/virtualMachines/*/read`` every read below a VM.
A malformed answer raises :class:`~kit.errors.AnalysisError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kit.errors import AnalysisError

__all__ = ["EffectivePermissions", "PermissionEntry", "action_matches"]


@lru_cache(maxsize=512)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern)),
                      re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """Whether the RBAC ``pattern`` (``*``, ``Microsoft.Compute/*``, ``*/read`` …) covers ``action``."""
    return _pattern(pattern.strip()).fullmatch(action.strip()) is not None


@dataclass(frozen=True)
class PermissionEntry:
    """One role's permissions as the permissions answer lists them.

    Parameters
    ----------
    actions, not_actions
        Control-plane action patterns granted, and those subtracted from this entry's grant.
    """

    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()

    def allows(self, action: str) -> bool:
        """Whether this entry alone grants ``action``."""
        return (any(action_matches(p, action) for p in self.actions)
                and not any(action_matches(p, action) for p in self.not_actions))


@dataclass(frozen=True)
class EffectivePermissions:
    """Everything the caller may do at one scope: the union of its roles' entries.

    Parameters
    ----------
    entries
        One per role held at or above the scope (empty: no role at all).
    """

    entries: tuple[PermissionEntry, ...] = ()

    @classmethod
    def from_rest(cls, value: Any) -> EffectivePermissions:
        """From the ``value`` list of a permissions answer (REST shape: ``actions``, ``notActions`` …)."""
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise AnalysisError(f"a permissions answer's value is a list, not {type(value).__name__}")
        entries = []
        for index, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise AnalysisError(f"permissions entry {index} is {type(item).__name__}, not an object")
            entries.append(PermissionEntry(_patterns(item, "actions", index), _patterns(item, "notActions", index)))
        return cls(tuple(entries))

    def allows(self, action: str) -> bool:
        """Whether some role grants ``action`` without its own ``notActions`` taking it away."""
        return any(entry.allows(action) for entry in self.entries)

    def missing(self, actions: Iterable[str]) -> tuple[str, ...]:
        """The ``actions`` not allowed, in the order given."""
        return tuple(action for action in actions if not self.allows(action))


def _patterns(item: Mapping[str, Any], key: str, index: int) -> tuple[str, ...]:
    value = item.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(pattern, str) for pattern in value):
        raise AnalysisError(f"permissions entry {index}: {key} must be a list of strings")
    return tuple(value)
