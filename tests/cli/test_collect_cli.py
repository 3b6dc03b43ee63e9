"""``kit collect``, ``kit bundle show``, ``kit import`` and ``kit demo`` as a user runs them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from kit.cli import main
from kit.lab import list_scenarios

SCENARIOS = [info.name for info in list_scenarios()]
needs_scenarios = pytest.mark.skipif(not SCENARIOS, reason="no lab scenarios under kit/lab/scenarios yet")


def _azure_args(lab: Any, info: Any, out: Path, *extra: str) -> list[str]:
    """``kit collect`` as against real Azure: endpoint, CA and env-token given explicitly."""
    return ["collect", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential", "env-token",
            "--subscription", info.subscription_id, "--resource-group", info.resource_group,
            "--start", info.window_start.isoformat(), "--end", info.window_end.isoformat(), "--out", str(out), *extra]


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


@needs_scenarios
def test_collect_then_show(lab: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    info = lab.scenario(SCENARIOS[0])
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    code = main(_azure_args(lab, info, tmp_path, "--vm", info.broken_vm, "--known-good", *info.known_good))
    out = capsys.readouterr().out
    assert code == 0
    assert f"collected {1 + len(info.known_good)} bundle(s)" in out
    assert main(["bundle", "show", str(tmp_path / info.broken_vm)]) == 0
    shown = capsys.readouterr().out
    for label in ("VM", "Power state", "OS", "Boot diagnostics", "NIC", "NSGs", "Routes", "Activity log", "Failures"):
        assert f"\n{label} " in shown or shown.startswith(label) or f"\n{label}" in shown, label
    assert info.broken_vm in shown and "serial log" in shown


@needs_scenarios
def test_vm_given_as_resource_id(lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = lab.scenario(SCENARIOS[0])
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    args = ["collect", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential", "env-token",
            "--vm", info.vm_id(info.broken_vm), "--out", str(tmp_path)]
    assert main(args) == 0
    assert (tmp_path / info.broken_vm / "manifest.json").is_file()


@needs_scenarios
@pytest.mark.slow
def test_collect_lab_shorthand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = SCENARIOS[0]
    assert main(["collect", "--lab", name, "--out", str(tmp_path)]) == 0
    info = next(info for info in list_scenarios() if info.name == name)
    manifest = json.loads((tmp_path / info.broken_vm / "manifest.json").read_text())
    assert manifest["source"] == f"lab:{name}" and manifest["peers"] == list(info.known_good)


@needs_scenarios
@pytest.mark.parametrize(("change", "code", "message"), [
    (["--vm", "/subscriptions/not-a-guid/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v"], 2,
     "malformed resource id"),
    (["--vm", "no-such-vm"], 4, "'no-such-vm' not found"),
])
def test_bad_vm_is_a_one_line_error(lab: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch, change: list[str], code: int,
                                    message: str) -> None:
    info = lab.scenario(SCENARIOS[0])
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    assert main(_azure_args(lab, info, tmp_path / "out", *change)) == code
    assert message in _one_line_error(capsys)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@needs_scenarios
def test_wrong_token_exits_3(lab: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    info = lab.scenario(SCENARIOS[0])
    monkeypatch.setenv("KIT_ARM_TOKEN", "stolen-and-expired")
    assert main(_azure_args(lab, info, tmp_path, "--vm", info.broken_vm)) == 3
    assert "401" in _one_line_error(capsys)
    monkeypatch.delenv("KIT_ARM_TOKEN")
    assert main(_azure_args(lab, info, tmp_path, "--vm", info.broken_vm)) == 3
    assert "KIT_ARM_TOKEN" in _one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []


@needs_scenarios
def test_existing_bundle_exits_5_and_is_untouched(lab: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    info = lab.scenario(SCENARIOS[0])
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    assert main(_azure_args(lab, info, tmp_path, "--vm", info.broken_vm)) == 0
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    capsys.readouterr()
    assert main(_azure_args(lab, info, tmp_path, "--vm", info.broken_vm)) == 5
    assert "already exists" in _one_line_error(capsys)
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before


def test_collect_without_target_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collect", "--out", str(tmp_path)]) == 2
    assert "--subscription, --resource-group, --vm" in _one_line_error(capsys)


def test_bad_window_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["collect", "--subscription", "11111111-2222-3333-4444-555555555555", "--resource-group", "g",
            "--vm", "v", "--start", "yesterday", "--out", str(tmp_path)]
    assert main(args) == 2
    assert "--start 'yesterday' is not an ISO 8601 time" in _one_line_error(capsys)


def test_show_broken_bundle_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "b").mkdir()
    assert main(["bundle", "show", str(tmp_path / "b")]) == 1
    assert "has no manifest.json" in _one_line_error(capsys)


def test_import_malformed_json_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "az").mkdir()
    (tmp_path / "az" / "nic.json").write_text('{"name": "nic",\n "type": }')
    assert main(["import", str(tmp_path / "az"), "--out", str(tmp_path / "bundle")]) == 1
    assert "nic.json: malformed JSON at line 2" in _one_line_error(capsys)
    assert not (tmp_path / "bundle").exists()


def test_import_lists_what_it_did_not_recognise(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "az").mkdir()
    vm = {"id": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/g/providers/"
                "Microsoft.Compute/virtualMachines/web-01", "name": "web-01",
          "type": "Microsoft.Compute/virtualMachines", "hardwareProfile": {"vmSize": "Standard_B2s"}}
    (tmp_path / "az" / "1.json").write_text(json.dumps(vm))
    (tmp_path / "az" / "2.json").write_text(json.dumps({"something": "else"}))
    assert main(["import", str(tmp_path / "az"), "--out", str(tmp_path / "bundle")]) == 0
    out = capsys.readouterr().out
    assert "imported     1.json  (vm)" in out and "unrecognised 2.json" in out
    assert main(["bundle", "show", str(tmp_path / "bundle")]) == 0
    assert "UnrecognisedFile" in capsys.readouterr().out


def test_unavailable_credential_exits_3_and_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no az CLI to ask for a token
    out = tmp_path / "evidence" / "incident"
    args = ["collect", "--subscription", "11111111-2222-3333-4444-555555555555", "--resource-group", "g",
            "--vm", "v", "--credential", "cli", "--out", str(out)]
    assert main(args) == 3
    assert "could not get an ARM token" in _one_line_error(capsys)
    assert not (tmp_path / "evidence").exists()


def _collect_from(lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, faults: Any) -> tuple[int, str]:
    from kit.cli import main

    info = lab.scenario("sshd-broken")
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    lab.set_faults(faults)
    try:
        code = main(["collect", "--subscription", info.subscription_id, "--resource-group", info.resource_group,
                     "--vm", info.broken_vm, "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path),
                     "--credential", "env-token", "--retries", "0", "--timeout", "2", "--out", str(tmp_path)])
    finally:
        from kit.lab import Faults

        lab.set_faults(Faults())
    return code, info.broken_vm


def test_a_vm_that_cannot_be_read_at_all_is_exit_8_with_its_failures_kept(
        lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from kit.evidence import load_bundle
    from kit.lab import Faults

    code, vm = _collect_from(lab, tmp_path, monkeypatch, Faults(error_rate=1.0, kinds=("500",)))
    err = capsys.readouterr().err
    assert code == 8, err
    assert err.startswith(f"warning: {vm}: the VM itself could not be read (virtual_machines.get: 500)")
    bundle = load_bundle(tmp_path / vm)
    assert {failure["call"] for failure in bundle.failures} >= {"virtual_machines.get", "activity_logs.list"}


def test_a_serial_log_that_could_not_be_fetched_never_asks_to_enable_boot_diagnostics(
        lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from kit.analyze.verdict import classify
    from kit.evidence import load_bundle
    from kit.lab import Faults

    code, vm = _collect_from(lab, tmp_path, monkeypatch, Faults())
    assert code == 0
    good = load_bundle(tmp_path / vm)
    assert good.serial_log
    # the same VM's evidence with too little to decide on, once with the boot-diagnostics call failed
    bare = dataclasses.replace(good, serial_log=None, instance_view=None, nics={}, nsgs={}, effective_nsgs={},
                               effective_routes={})
    failure = {"call": "virtual_machines.retrieve_boot_diagnostics_data", "resource_id": "x", "status": 503,
               "message": "Service Unavailable"}
    unread = dataclasses.replace(bare, manifest=dict(good.manifest, failures=[*good.failures, failure]))
    result = classify(unread)
    assert result.top.kind == "insufficient_evidence"
    assert not any("boot-diagnostics enable" in command for command in result.top.next_step.commands)
    assert "retrieve_boot_diagnostics_data failed (503)" in " ".join(result.missing)
    assert any("boot-diagnostics enable" in command for command in classify(bare).top.next_step.commands)
