"""Effective RBAC permissions as ARM evaluates them: wildcards, notActions per role, the union of roles."""

from __future__ import annotations

from typing import Any

import pytest

from kit.analyze.permissions import EffectivePermissions, action_matches
from kit.errors import AnalysisError

CONNECT = "Microsoft.SerialConsole/serialPorts/connect/action"
VM_READ = "Microsoft.Compute/virtualMachines/read"
VM_WRITE = "Microsoft.Compute/virtualMachines/write"


@pytest.mark.parametrize(("pattern", "action", "expected"), [
    ("*", CONNECT, True),
    ("Microsoft.Compute/*", VM_WRITE, True),
    ("Microsoft.Compute/*", CONNECT, False),
    ("*/read", VM_READ, True),
    ("*/read", VM_WRITE, False),
    ("Microsoft.Compute/virtualMachines/*/read", "Microsoft.Compute/virtualMachines/instanceView/read", True),
    ("Microsoft.Compute/virtualMachines/*/read", VM_READ, False),  # the * needs a segment of its own
    ("microsoft.serialconsole/SERIALPORTS/connect/action", CONNECT, True),
    ("Microsoft.Compute/virtualMachines", VM_READ, False),
    ("Microsoft.Compute/virtualMachines/read.", VM_READ, False),  # a dot is a dot, not any character
])
def test_patterns_match_as_arm_matches_them(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


def test_not_actions_subtract_from_their_own_role_only() -> None:
    reader_without_connect = {"actions": ["*"], "notActions": [CONNECT]}
    alone = EffectivePermissions.from_rest([reader_without_connect])
    assert not alone.allows(CONNECT) and alone.allows(VM_WRITE)
    with_vm_contributor = EffectivePermissions.from_rest(
        [reader_without_connect, {"actions": ["Microsoft.SerialConsole/serialPorts/connect/action"], "notActions": []}])
    assert with_vm_contributor.allows(CONNECT)


def test_missing_keeps_the_order_asked_and_no_role_allows_nothing() -> None:
    reader = EffectivePermissions.from_rest([{"actions": ["*/read"], "notActions": [], "dataActions": []}])
    assert reader.missing([CONNECT, VM_READ, VM_WRITE]) == (CONNECT, VM_WRITE)
    assert EffectivePermissions.from_rest([]).missing([VM_READ]) == (VM_READ,)


@pytest.mark.parametrize("bad", [None, "*", {"actions": ["*"]}, [["*"]], [{"actions": "*"}], [{"notActions": [1]}]])
def test_a_malformed_permissions_answer_is_refused(bad: Any) -> None:
    with pytest.raises(AnalysisError):
        EffectivePermissions.from_rest(bad)
