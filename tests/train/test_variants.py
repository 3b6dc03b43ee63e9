"""Variants differ between seeds and stay consistent across every file of the scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kit.lab.variants import render_variant, variant_story

SCENARIOS = ("firewall-lockout", "fstab-emergency", "sshd-broken", "windows-rdp", "nsg-deny", "kernel-panic")
BUILTIN = Path(__file__).resolve().parents[2] / "kit" / "lab" / "scenarios"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
            and p.name != "variant.json"}


def test_seed_zero_is_the_committed_scenario(tmp_path: Path) -> None:
    folder = render_variant("sshd-broken", 0, tmp_path)
    assert _files(folder) == _files(BUILTIN / "sshd-broken")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_seeds_change_what_should_not_be_memorised(scenario: str) -> None:
    stories = [variant_story(scenario, seed)[0] for seed in (0, 4, 11)]
    brokens = {s["broken_vm"] for s in stories}
    assert len(brokens) == 3, brokens
    windows = {s["window"]["start"] for s in stories}
    assert len(windows) == 3
    rules = [{r["name"]: r["priority"] for n in s["network"]["nsgs"] for r in n["rules"]} for s in stories]
    assert rules[0] != rules[1] and rules[0] != rules[2]
    assert variant_story(scenario, 4) == variant_story(scenario, 4)   # reproducible


@pytest.mark.parametrize("seed", (4, 11))
def test_fstab_variant_is_consistent_everywhere(tmp_path: Path, seed: int) -> None:
    folder = render_variant("fstab-emergency", seed, tmp_path)
    doc = yaml.safe_load((folder / "scenario.yaml").read_text())
    facts = doc["facts"]
    assert facts["mount_point"] != "/srv/customs/archive"
    serial = (folder / "serial" / f"{doc['broken_vm']}.log").read_bytes().decode("utf-8", "replace")
    assert facts["uuid"] in serial and facts["mount_point"] in doc["fix"] and facts["uuid"] in facts["fstab_line"]
    assert "/srv/customs/archive" not in serial and "b4e2d8f0" not in serial
    activity = (folder / "activity_log.json").read_text()
    assert doc["broken_vm"] in activity and "customs-proc-01" not in activity
    resources = json.loads((folder / "resources.json").read_text())["value"]
    assert any(r["name"] == doc["broken_vm"] for r in resources)


def test_sshd_variant_moves_the_option_and_the_line(tmp_path: Path) -> None:
    folder = render_variant("sshd-broken", 11, tmp_path)
    doc = yaml.safe_load((folder / "scenario.yaml").read_text())
    facts = doc["facts"]
    serial = (folder / "serial" / f"{doc['broken_vm']}.log").read_bytes().decode("utf-8", "replace")
    assert f"line {facts['bad_line']}: Bad configuration option: {facts['bad_option']}" in serial
    assert facts["bad_option"] != "StreamLocalBindUnlnk" or facts["bad_line"] != 3


def test_nsg_variant_keeps_the_deny_rule_winning(tmp_path: Path) -> None:
    for seed in (4, 11):
        story, changes = variant_story("nsg-deny", seed)
        facts = story["facts"]
        nsg = next(n for n in story["network"]["nsgs"] if n["name"] == facts["nsg"])
        by_name = {r["name"]: r["priority"] for r in nsg["rules"]}
        assert by_name[facts["rule"]] == facts["priority"] < by_name[facts["shadowed_rule"]]
        assert f"priority {facts['priority']}" in story["fix"] and facts["rule"] in story["fix"]


def test_the_lab_serves_a_variant_and_the_guest_follows_it(tmp_path: Path) -> None:
    from kit.console import open_lab_session
    from kit.train import training_lab

    with training_lab({"sshd-broken": 4}) as lab:
        info = lab.lab.scenario("sshd-broken")
        facts = yaml.safe_load((info.path / "scenario.yaml").read_text())["facts"]
        with open_lab_session(lab.lab, "sshd-broken", approval="TEST-1", timeout=15) as session:
            session.login(info.guest["username"], info.guest["password"])
            errors = session.run("sudo sshd -t")
        assert f"line {facts['bad_line']}: Bad configuration option: {facts['bad_option']}" in errors
        assert info.broken_vm != "build-coord-01"


def test_unknown_scenario_or_bad_seed_is_a_clear_error() -> None:
    from kit.errors import LabError

    with pytest.raises(LabError, match="known scenarios"):
        variant_story("no-such", 1)
    with pytest.raises(LabError, match="non-negative"):
        variant_story("nsg-deny", -1)
