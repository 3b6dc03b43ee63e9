"""The triage report on a scale-set instance's bundle: the scale set and instance id shown, the instance's
verdict (from tests/answers.py), and reproduce-the-evidence commands that work for an instance (``az vmss``)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from answers import ANSWERS

from kit.evidence import load_bundle
from kit.report import run_report
from kit.report.triage import az_commands, identity

SCENARIO = "vmss-canary-firewall"


def _bundle(collected: dict[str, Path]) -> Any:
    if SCENARIO not in collected:
        pytest.skip(f"scenario {SCENARIO} is not in kit/lab/scenarios")
    return load_bundle(collected[SCENARIO])


def test_identity_names_the_scale_set_and_the_instance(collected: dict[str, Path], lab: Any) -> None:
    info = lab.scenario(SCENARIO)
    shown = identity(_bundle(collected), incident="INC-1")
    assert shown["VM"] == info.broken_vm and shown["VM id"] == info.vm_id(info.broken_vm)
    assert (shown["scale set"], shown["instance id"]) == (info.scale_set, info.instance_id(info.broken_vm))
    assert shown["size"] and shown["OS"] == "Linux"
    assert set(shown["known-good VMs"].split(", ")) == set(info.known_good)


def test_the_reproduce_commands_are_scale_set_commands(collected: dict[str, Path], lab: Any) -> None:
    info = lab.scenario(SCENARIO)
    rows = {row["evidence"]: row["command"] for row in az_commands(_bundle(collected))}
    one = (f"--subscription {info.subscription_id} --resource-group {info.resource_group} --name {info.scale_set} "
           f"--instance-id {info.instance_id(info.broken_vm)}")
    assert rows["vm.json"] == f"az vmss show {one} -o json"
    assert rows["instance_view.json"] == f"az vmss get-instance-view {one} -o json"
    assert rows["vmss.json"].startswith("az vmss show") and "--instance-id" not in rows["vmss.json"]
    assert rows["serial_console_status.json / the console itself"] == f"az serial-console connect {one}"
    assert not any(command.startswith("az vm ") for command in rows.values())
    assert not any(key.startswith(("effective_nsg/", "effective_routes/")) for key in rows)  # ARM has none


@pytest.mark.slow
def test_the_triage_notebook_shows_the_instance_and_its_verdict(collected: dict[str, Path], lab: Any,
                                                                tmp_path: Path) -> None:
    info = lab.scenario(SCENARIO)
    _bundle(collected)
    run = run_report("triage", incident="INC-VMSS", archive_root=tmp_path, parameters={
        "source": f"bundle:{collected[SCENARIO]}", "responder_ip": info.responder_ip})
    assert run.status == "ok" and run.html is not None
    page = html.unescape(run.html.read_text())
    match = re.search(r'class="kit-classification" data-hypothesis="([^"]*)"', page)
    assert match is not None and match.group(1) == ANSWERS[SCENARIO].hypothesis
    top = run.result("triage")["top_hypothesis"]
    assert (top["kind"], top["next_step"]) == (ANSWERS[SCENARIO].hypothesis, ANSWERS[SCENARIO].next_step)
    assert info.scale_set in page and f"--instance-id {info.instance_id(info.broken_vm)}" in page
    assert "virtualMachineScaleSets/write" in page  # the model update on the timeline / as the cited change
