"""``kit collect --vmss NAME --instance ID`` (and an instance's resource id) as a user runs them against the lab."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kit.cli import main

SCENARIO = "vmss-canary-firewall"


def _args(lab: Any, info: Any, out: Path, *extra: str) -> list[str]:
    """``kit collect`` as against real Azure: endpoint, CA and env-token given explicitly."""
    return ["collect", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential", "env-token",
            "--start", info.window_start.isoformat(), "--end", info.window_end.isoformat(), "--out", str(out), *extra]


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def test_vmss_and_instance_collect_the_instance_and_the_other_instances(
        lab: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    info = lab.scenario(SCENARIO)
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    instance = info.instance_id(info.broken_vm)
    code = main(_args(lab, info, tmp_path, "--subscription", info.subscription_id, "--resource-group",
                      info.resource_group, "--vmss", info.scale_set, "--instance", instance))
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"collected {1 + len(info.known_good)} bundle(s)" in out
    manifest = json.loads((tmp_path / info.broken_vm / "manifest.json").read_text())
    assert (manifest["scale_set"], manifest["instance_id"], manifest["vm_id"]) == (
        info.scale_set, instance, info.vm_id(info.broken_vm))
    assert manifest["peers"] == sorted(info.known_good)
    assert (tmp_path / info.broken_vm / "vmss.json").is_file()
    assert main(["bundle", "show", str(tmp_path / info.broken_vm)]) == 0
    shown = capsys.readouterr().out
    assert info.broken_vm in shown
    assert f"Scale set         {info.scale_set}, instance {instance} (latest model: yes; upgrade policy" in shown
    assert main(["bundle", "show", str(tmp_path / info.known_good[0])]) == 0
    assert "(latest model: no;" in capsys.readouterr().out  # the peers still run the previous model


def test_an_instance_resource_id_and_named_peers(lab: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    info = lab.scenario(SCENARIO)
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    peer = info.instance_id(info.known_good[0])
    assert main(_args(lab, info, tmp_path, "--vm", info.vm_id(info.broken_vm), "--known-good", peer)) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([info.broken_vm, info.known_good[0]])


def test_the_lab_shorthand_collects_the_scale_set_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collect", "--lab", SCENARIO, "--out", str(tmp_path)]) == 0
    names = sorted(path.name for path in tmp_path.iterdir())
    manifest = json.loads((tmp_path / names[-1] / "manifest.json").read_text())
    assert manifest["role"] == "subject" and manifest["scale_set"] and len(names) == 1 + len(manifest["peers"])


@pytest.mark.parametrize(("extra", "code", "message"), [
    (["--vmss", "vmss-checkout"], 2, "--vmss and --instance go together"),
    (["--instance", "2"], 2, "--vmss and --instance go together"),
    (["--vmss", "vmss-checkout", "--instance", ""], 2, "--instance is empty"),
    (["--vmss", "vmss-checkout", "--instance", "2", "--vm", "web-01"], 2, "either --vm or --vmss/--instance"),
    (["--vmss", "vmss-checkout", "--instance", "7"], 4, "instance '7' of scale set 'vmss-checkout' not found"),
    (["--vmss", "vmss-nope", "--instance", "2"], 4, "scale set 'vmss-nope' not found"),
    (["--vmss", "bad/name", "--instance", "2"], 2, "invalid virtualMachineScaleSets name"),
])
def test_bad_scale_set_options_are_one_line_errors(lab: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch, extra: list[str], code: int,
                                                   message: str) -> None:
    info = lab.scenario(SCENARIO)
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    where = ["--subscription", info.subscription_id, "--resource-group", info.resource_group]
    assert main(_args(lab, info, tmp_path / "out", *where, *extra)) == code
    assert message in _one_line_error(capsys)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_vmss_without_subscription_and_group_says_what_to_add(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collect", "--vmss", "vmss-checkout", "--instance", "2", "--out", str(tmp_path)]) == 2
    assert "needs --subscription, --resource-group" in _one_line_error(capsys)
