"""``kit train list|report|reset`` as a facilitator uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.cli import main


def test_list_names_every_walkthrough_and_how_it_is_fixed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "list"]) == 0
    out = capsys.readouterr().out
    for scenario, fix in (("firewall-lockout", "console"), ("nsg-deny", "nsg"), ("kernel-panic", "decision")):
        assert any(line.split()[:2] == [scenario, fix] for line in out.splitlines()), out


@pytest.mark.slow
def test_report_lists_drills_with_pass_fail_and_time_to_repair(matrix, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "report", "--archive", str(matrix.archive)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["DRILL", "SCENARIO", "SEED"] and "TIME TO REPAIR" in lines[0]
    fixed = matrix.drills[("sshd-broken", 11, True)]
    row = next(line for line in lines if line.startswith(fixed))
    assert " PASS " in row and row.rstrip().endswith(" s") and " 11 " in row
    broken = next(line for line in lines if "-nofix-" in line)
    assert " FAIL " in broken and broken.rstrip().endswith("-")
    assert main(["train", "report", "--archive", str(matrix.archive), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(matrix.drills)
    assert {r["passed"] for r in rows} == {True, False}


def test_report_on_an_empty_archive_says_how_to_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "report", "--archive", str(tmp_path)]) == 0
    assert "kit train start" in capsys.readouterr().out


def test_unknown_walkthrough_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["train", "reset", "no-such", "--workspace", str(tmp_path)]) == 2
    assert "walkthroughs: firewall-lockout" in capsys.readouterr().err


def test_reset_breaks_the_vm_again_and_gives_a_fresh_walkthrough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from kit.console import open_lab_session
    from kit.train import training_lab

    with training_lab({"windows-rdp": 4}) as lab:
        info = lab.lab.scenario("windows-rdp")
        with open_lab_session(lab.lab, "windows-rdp", approval="TEST-2", timeout=15) as session:
            session.login(info.guest["username"], info.guest["password"])
            session.run("sc config TermService start= demand")
            session.run("net start TermService")
        assert lab.lab.check("windows-rdp").passed
        for key, value in lab.env().items():
            monkeypatch.setenv(key, value)
        workspace = tmp_path / "training"
        (workspace).mkdir()
        (workspace / "windows-rdp.ipynb").write_text("{}")                  # the trainee's worked copy
        assert main(["train", "reset", "windows-rdp", "--workspace", str(workspace),
                     "--archive", str(tmp_path / "archive")]) == 0
        out = capsys.readouterr().out
        assert "broken again" in out
        assert not lab.lab.check("windows-rdp").passed
        kept = [p.name for p in workspace.iterdir()]
        assert "windows-rdp.ipynb" in kept and len(kept) == 2                 # fresh copy + the old one kept
        fresh = json.loads((workspace / "windows-rdp.ipynb").read_text())
        assert str(tmp_path / "archive") in "".join(fresh["cells"][1]["source"])


@pytest.mark.slow
def test_start_serves_the_variant_and_jupyterlab_until_ctrl_c(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    process = subprocess.Popen([sys.executable, "-m", "kit", "train", "start", "nsg-deny", "--seed", "2",
                                "--trainee", "Ada"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if line.startswith("open:"):
                break
        url = lines[-1].split()[1]
        with urllib.request.urlopen(url, timeout=20) as response:
            assert response.status == 200
        text = "".join(lines)
        assert "nsg-deny (seed 2)" in text and "pos-api-01" not in text      # the variant's VM is announced
        assert (tmp_path / "training" / "nsg-deny.ipynb").is_file()
        assert "KIT_ARM_TOKEN" not in text and "eyJ0eXAi" not in text
    finally:
        process.send_signal(signal.SIGINT)
        out, _err = process.communicate(timeout=30)
    assert process.returncode == 0 and "stopped" in out
