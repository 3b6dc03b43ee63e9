"""``kit lab list`` / ``kit lab serve``, and reading scenarios from disk."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from kit.cli import main
from kit.errors import LabError
from kit.lab import list_scenarios, load_scenario, running_lab
from lab.conftest import DATA, SUB

ROOT = Path(__file__).resolve().parents[2]


def test_load_scenario_exposes_the_yaml_fields():
    info = load_scenario("tiny", [DATA])
    assert (info.subscription_id, info.resource_group, info.broken_vm, info.known_good) == (
        SUB, "rg-tiny", "web-01", ("web-02",))
    assert info.window_start == dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    assert info.window_end == dt.datetime(2026, 11, 20, 11, tzinfo=dt.UTC)
    assert (info.expected.hypothesis, info.expected.next_step, info.expected.level) == (
        "nsg_deny", "change_nsg", "platform")
    assert info.guest["os"] == "linux" and info.console_enabled is True
    assert info.vm_id("web-02").endswith("/resourceGroups/rg-tiny/providers/Microsoft.Compute/virtualMachines/web-02")


def test_unknown_scenario_is_a_lab_error_naming_the_known_ones(tmp_path):
    with pytest.raises(LabError, match="no lab scenario named 'nope'; known scenarios: tiny"):
        load_scenario("nope", [DATA])
    with (pytest.raises(LabError, match="no lab scenario named 'nope'"),
          running_lab(scenarios=["nope"], scenario_dirs=[DATA])):
        pass


def test_malformed_scenario_yaml_is_a_lab_error(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "scenario.yaml").write_text("name: broken\ntitle: [unclosed\n")
    with pytest.raises(LabError, match="cannot read"):
        list_scenarios([tmp_path])
    (tmp_path / "broken" / "scenario.yaml").write_text("name: broken\ntitle: x\n")
    with pytest.raises(LabError, match="lacks subscription_id"):
        list_scenarios([tmp_path])


def test_every_built_in_scenario_serves_its_broken_vm():
    scenarios = list_scenarios()
    if not scenarios:
        pytest.skip("no built-in scenarios yet under kit/lab/scenarios")
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.compute import ComputeManagementClient

    from lab.conftest import Token, client_kwargs

    with running_lab() as lab:
        for info in scenarios:
            client = ComputeManagementClient(Token(lab.token), info.subscription_id, **client_kwargs(lab))
            for vm in info.vms:
                if info.scale_set:  # a scale set's instances are served by the scale-set API
                    instance = client.virtual_machine_scale_set_vms.get(info.resource_group, info.scale_set,
                                                                        info.instance_id(vm), expand="instanceView")
                    assert instance.name == vm and instance.instance_view.statuses
                    continue
                assert client.virtual_machines.get(info.resource_group, vm, expand="instanceView").name == vm
            rbac = AuthorizationManagementClient(Token(lab.token), info.subscription_id, **client_kwargs(lab))
            for assignment in rbac.role_assignments.list_for_scope(info.vm_id(info.broken_vm), filter="atScope()"):
                assert rbac.role_definitions.get_by_id(assignment.role_definition_id).role_name


def test_kit_lab_list(capsys):
    assert main(["lab", "list", "--scenario-dir", str(DATA)]) == 0
    out = capsys.readouterr().out
    assert "tiny" in out and "web-01" in out and "nsg_deny" in out and "change_nsg" in out


def test_kit_lab_serve_runs_until_interrupted():
    process = subprocess.Popen([sys.executable, "-m", "kit", "lab", "serve", "--scenario-dir", str(DATA)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = []
        while not lines or not lines[-1].startswith("Ctrl-C"):
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line.strip())
        text = "\n".join(lines)
        endpoint = lines[0].split()[-1]
        ca_path = lines[1].split()[-1]
        assert "printed only to a terminal" in text and "KIT_ARM_TOKEN=" not in text
        assert "tiny" in text and SUB in text
        answer = requests.get(f"{endpoint}/subscriptions/{SUB}/resourceGroups/rg-tiny", verify=ca_path, timeout=5)
        assert answer.status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=10)
    assert process.returncode == 0 and "lab stopped" in out
    assert not Path(ca_path).exists()


def test_kit_lab_serve_can_refuse_microsoft_graph():
    process = subprocess.Popen([sys.executable, "-m", "kit", "lab", "serve", "--scenario-dir", str(DATA),
                                "--refuse-graph"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = []
        while not lines or not lines[-1].startswith("Ctrl-C"):
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line.strip())
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert "Microsoft Graph: refuses directory reads (403 Authorization_RequestDenied)" in lines


def test_the_lab_exports_what_tests_and_training_build_on():
    import kit.lab

    assert {"running_lab", "list_scenarios", "load_scenario", "Faults", "LabState", "ScenarioInfo"} <= set(
        kit.lab.__all__)


def test_a_busy_port_is_a_lab_error_saying_what_to_do():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (pytest.raises(LabError, match=f"could not listen on 127.0.0.1:{port}.*choose another --port"),
              running_lab(port=port, scenario_dirs=[DATA])):
            pass
