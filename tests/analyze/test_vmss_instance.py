"""A scale-set instance's bundle is analysed like a VM's: the right verdict, the scale set's model update as
the change behind it, and a next step that names the instance (``-n <scale set> --instance-id <id>``).

The bundles are the session's (``scenario_bundles``): the ``vmss-canary-firewall`` instances collected
from the lab over HTTPS with the real collector, by instance id.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from answers import ANSWERS

from kit.analyze.attribution import attribute
from kit.analyze.triage import triage
from kit.analyze.verdict import classify

SCENARIO = "vmss-canary-firewall"


def _scenario(scenario_bundles: dict[str, Any]) -> tuple[Any, Any, list[Any]]:
    if SCENARIO not in scenario_bundles:
        pytest.skip(f"scenario {SCENARIO} is not in kit/lab/scenarios")
    return scenario_bundles[SCENARIO]


def test_the_broken_instance_gets_the_expected_verdict_from_its_serial_log(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles)
    assert (subject.scale_set, subject.instance_id) == (info.scale_set, info.instance_id(info.broken_vm))
    result = classify(subject, peers, responder_ip=info.responder_ip)
    answer = ANSWERS[SCENARIO]
    assert (result.top.kind, result.top.next_step.kind, result.top.level) == answer
    assert result.vm == info.broken_vm and result.vm_id == info.vm_id(info.broken_vm)
    marker = yaml.safe_load((info.path / "scenario.yaml").read_text(encoding="utf-8"))["facts"]["log_marker"]
    cited = [row for row in result.top.supporting
             if row.source == "boot_log" and row.evidence.startswith("serial.log:")]
    assert cited and any(marker in str(row.details.get("text", "")) for row in cited)


def test_the_scale_sets_model_update_is_the_change_behind_it(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles)
    result = triage(subject, peers, responder_ip=info.responder_ip)
    cited = {row.kind for row in result.classification.top.supporting if row.source == "activity_log"}
    assert {"Microsoft.Compute/virtualMachineScaleSets/write",
            "Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action"} <= cited
    who = attribute(result)
    assert who is not None and who.resource_id is not None
    assert who.resource_id.lower().endswith(f"/virtualmachinescalesets/{info.scale_set}")
    assert who.operation == "Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action"


def test_the_console_step_names_the_instance(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles)
    step = classify(subject, peers, responder_ip=info.responder_ip).top.next_step
    assert (f"az serial-console connect --subscription {info.subscription_id} -g {info.resource_group} "
            f"-n {info.scale_set} --instance-id {info.instance_id(info.broken_vm)}") in step.text
    assert f"-n {info.broken_vm}" not in step.text


def test_the_other_instances_are_healthy_peers(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles)
    assert sorted(peer.name for peer in peers) == sorted(info.known_good)
    for peer in peers:
        assert peer.scale_set == info.scale_set
        top = classify(peer, [subject], responder_ip=info.responder_ip).top
        assert (top.kind, top.next_step.kind) == ("no_fault_found", "none")
