"""The one attribution of the causal change, over every lab scenario's collected bundles."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kit.analyze.attribution import attribute, display_name
from kit.analyze.triage import triage

# scenario → (operation ends with, who the report names, source)
EXPECTED = {
    "deallocated": ("/deallocate/action", "lena.nakamura@brightwater-analytics.com", "verdict evidence"),
    "firewall-lockout": ("/runCommand/action", "sp-climsim-gitops", "verdict evidence"),
    "fstab-emergency": ("/virtualMachines/write", "dmitri.volkov@portkestrel.co.uk", "change before the failed boot"),
    "kernel-panic": ("/installPatches/action", "sp-ot-update-manager", "change before the failed boot"),
    "nsg-deny": ("/securityRules/write", "rafael.ferreira@lumenretail.com", "network diff"),
    "route-blackhole": ("/networkInterfaces/delete", "nana.osei@aurorafreight.com", "network diff"),
    "sshd-broken": ("/extensions/write", "sp-buildfarm-rollout", "verdict evidence"),
    "windows-rdp": ("/runCommand/action", "samuel.adeyemi@meridian-ins.com", "verdict evidence"),
}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_each_scenario_names_the_change_and_who_made_it(scenario_bundles: dict[str, Any], scenario: str) -> None:
    _info, subject, peers = scenario_bundles[scenario]
    result = triage(subject, peers, responder_ip="203.0.113.7")
    found = attribute(result)
    suffix, who, source = EXPECTED[scenario]
    assert found is not None
    assert found.operation.lower().endswith(suffix.lower())
    assert found.who == who
    assert found.source == source
    assert found.time.tzinfo is not None
    assert found.status == "Succeeded"


def test_network_attribution_is_the_diffs_operation(scenario_bundles: dict[str, Any]) -> None:
    _info, subject, peers = scenario_bundles["nsg-deny"]
    result = triage(subject, peers, responder_ip="203.0.113.7")
    found = attribute(result)
    op = next(d.operation for d in result.diff.explaining if d.operation is not None)
    assert found is not None and (found.time, found.operation, found.caller) == (op.start, op.operation_name, op.caller)


def test_nothing_attributable_without_an_activity_log(scenario_bundles: dict[str, Any]) -> None:
    from kit.analyze.activity import ActivityLog

    _info, subject, peers = scenario_bundles["firewall-lockout"]
    result = triage(subject, peers, responder_ip="203.0.113.7")
    assert attribute(replace(result, activity=ActivityLog(events=(), operations=()))) is None


def test_a_upn_is_its_own_name_and_an_unknown_id_has_none() -> None:
    assert display_name("ana@example.com", {}) == "ana@example.com"
    assert display_name("9D2F6C1E-4B7A", {"9d2f6c1e-4b7a": "sp-gitops"}) == "sp-gitops"
    assert display_name("0000", {}) is None
    assert display_name(None, {}) is None


def test_a_boot_failure_without_a_change_since_the_previous_boot_names_the_failed_boot(
        scenario_bundles: dict[str, Any]) -> None:
    _info, subject, peers = scenario_bundles["fstab-emergency"]
    result = triage(subject, peers, responder_ip="203.0.113.7")
    activity = result.activity
    kept = tuple(op for op in activity.operations if not op.operation_name.lower().endswith(("/write",)))
    found = attribute(replace(result, activity=replace(activity, operations=kept)))
    assert found is not None and found.source == "last boot"
    assert found.operation.lower().endswith("/restart/action")
    assert found.time == max(op.start for op in kept if op.operation_name.lower().endswith("/restart/action")
                             and result.classification.vm_id.lower() in op.resource_id.lower())
