"""The CLI's contract: kit errors become one line and an exit code, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kit.cli import main


def test_help_lists_the_command_areas(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "analyze" in capsys.readouterr().out


def test_no_command_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: kit" in capsys.readouterr().err


def test_module_entry_point_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "kit", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("kit ")


def test_piping_into_a_reader_that_stops_early_is_not_an_error() -> None:
    log = "kit/lab/scenarios/firewall-lockout/serial/sched-01.log"
    script = f"{sys.executable} -m kit analyze boot {log} --json --events | head -c 10"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert done.stdout == '{\n  "forma'
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
