"""Progress of long commands: plain timestamped lines on stderr when it is no terminal, a live display on one.

Commands run as a user runs them, in a child process; stdout must carry exactly the results.
"""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from ptys import read_until

from kit.lab import Faults

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "report" / "data" / "tiny.ipynb"
PLAIN = re.compile(r"^\[\d\d:\d\d:\d\d\] (\w+): (.+)$")


def _kit(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kit", *argv], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def _progress(stderr: str, command: str) -> list[str]:
    """The progress lines of ``command``; every line of stderr must be one."""
    lines = stderr.splitlines()
    assert lines and all(PLAIN.match(line) for line in lines), stderr
    assert {PLAIN.match(line).group(1) for line in lines} == {command}  # type: ignore[union-attr]
    return [PLAIN.match(line).group(2) for line in lines]  # type: ignore[union-attr]


def _collect_argv(lab: Any, out: Path) -> list[str]:
    info = lab.scenario("nsg-deny")
    return ["collect", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential", "env-token",
            "--subscription", info.subscription_id, "--resource-group", info.resource_group, "--vm", info.broken_vm,
            "--known-good", *info.known_good, "--start", info.window_start.isoformat(),
            "--end", info.window_end.isoformat(), "--out", str(out)]


@pytest.fixture
def slow_lab(lab: Any) -> Any:
    """The session lab answering every ARM call 0.2 s late, so that a collection lasts seconds."""
    lab.set_faults(Faults(latency=0.2))
    try:
        yield lab
    finally:
        lab.set_faults(Faults())


def test_collect_shows_plain_progress_on_stderr_and_only_results_on_stdout(slow_lab: Any, tmp_path: Path) -> None:
    done = _kit(*_collect_argv(slow_lab, tmp_path / "out"), env={"KIT_ARM_TOKEN": slow_lab.token})
    assert done.returncode == 0, done.stderr
    steps = _progress(done.stderr, "collect")
    assert all(step.startswith("3 VMs: ") for step in steps)
    assert re.fullmatch(r"3 VMs: \d+ calls \(pos-api-01 \d+, pos-api-02 \d+, pos-api-03 \d+\)", steps[-1])
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines[:3]] == [str(tmp_path / "out" / vm)
                                                        for vm in ("pos-api-01", "pos-api-02", "pos-api-03")]
    assert re.fullmatch(r"collected 3 bundle\(s\) in \d+\.\d s", lines[3]) and len(lines) == 4
    assert slow_lab.token not in done.stderr + done.stdout


def test_a_command_that_fails_at_once_prints_only_its_error(lab: Any, tmp_path: Path) -> None:
    done = _kit(*_collect_argv(lab, tmp_path / "out"), env={"KIT_ARM_TOKEN": "stolen-and-expired"})
    assert done.returncode == 3
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and done.stdout == ""


def _slow_tiny(folder: Path) -> Path:
    """The tiny notebook with a cell that lasts two seconds, so that its step is always shown."""
    book = nbformat.read(TINY, as_version=4)
    book.cells.append(nbformat.v4.new_code_cell("import time\ntime.sleep(2)"))
    folder.mkdir()
    nbformat.write(book, folder / TINY.name)
    return folder / TINY.name


def test_report_shows_each_step_on_stderr_and_prints_only_the_report_path(tmp_path: Path) -> None:
    notebook = _slow_tiny(tmp_path / "notebooks")
    done = _kit("report", str(notebook), "--incident", "INC-7", "--archive", str(tmp_path / "archive"))
    assert done.returncode == 0, done.stderr
    steps = _progress(done.stderr, "report")
    assert any(re.fullmatch(r"running tiny\.ipynb: cell \d+/\d+", step) for step in steps), steps
    html = Path(done.stdout.strip())
    assert done.stdout == f"{html}\n" and html.name == "tiny.html" and html.is_file()


@pytest.mark.slow
def test_demo_shows_its_stages_on_stderr(tmp_path: Path) -> None:
    done = _kit("demo", "--archive", str(tmp_path / "archive"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    steps = _progress(done.stderr, "demo")
    assert any(re.fullmatch(r"report \(3/4\): running triage\.ipynb: cell \d+/\d+", step) for step in steps), steps
    prefixes = ("scenario firewall-lockout: ", "archive: ", "top hypothesis: ", "took ", "report: ")
    lines = done.stdout.splitlines()
    assert len(lines) == len(prefixes) and all(map(str.startswith, lines, prefixes)), done.stdout


@pytest.mark.slow
def test_train_start_shows_progress_until_the_drill_is_ready(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "kit", "train", "start", "nsg-deny"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not process.stdout.readline().startswith("open:"):
            pass
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    steps = _progress(err, "train")
    assert any(step.startswith("starting JupyterLab (3/3)") for step in steps), steps
    assert "stopped" in out


def test_collect_on_a_terminal_shows_a_live_display_and_leaves_the_results_clean(slow_lab: Any,
                                                                                 tmp_path: Path) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: `kit collect` in a real terminal (stdout and stderr both on it)
        os.environ["KIT_ARM_TOKEN"] = slow_lab.token
        os.execv(sys.executable, [sys.executable, "-m", "kit", *_collect_argv(slow_lab, tmp_path / "out")])
    seen = bytearray()
    try:
        read_until(fd, b"collected 3 bundle(s)", seen, timeout=120)
        read_until(fd, b"\n", seen)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    text = bytes(seen).decode()
    assert "collect: 3 VMs" in text and "\x1b[" in text          # the live display was drawn …
    live, _, results = text.rpartition("\x1b[2K")                  # … and its last line erased before the results
    assert "\x1b[?25h" in live and "Traceback" not in text
    lines = results.replace("\r\n", "\n").strip("\r\n").split("\n")
    assert [line.split()[0] for line in lines[:3]] == [str(tmp_path / "out" / vm)
                                                        for vm in ("pos-api-01", "pos-api-02", "pos-api-03")]
    assert lines[3].startswith("collected 3 bundle(s) in ") and "\x1b" not in results
