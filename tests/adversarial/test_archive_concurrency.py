"""Reports racing into one incident, and reports killed with ``kill -9`` at random points.

Each trial runs the real ``run_report`` (and, once, ``kit report``) in subprocesses on a small
notebook of our own that does what the triage does to the archive: it collects a bundle into
``<archive_dir>/evidence/<stamp>/`` with the real ``BundleWriter`` (so a ``.partial-…`` folder
exists while it writes), saves a result naming the bundle relative to ``archive_dir``, and
takes its time doing so. After every trial ``kit verify`` must pass and every run that started
writing must be recorded, either as a report or as ``abandoned``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from kit.archive import read_manifest, verify_archive
from kit.cli import main

pytestmark = pytest.mark.slow

TRIALS = 10


def _notebook(path: Path) -> Path:
    cells = [
        new_code_cell('incident = ""\nrun_dir = ""\narchive_dir = ""\npause = 0.3\nlabel = ""',
                      metadata={"tags": ["parameters"]}),
        new_code_cell(textwrap.dedent("""
            import time
            from pathlib import Path
            from kit.archive import new_evidence_dir
            from kit.evidence.writer import BundleWriter
            from kit.report.present import save_result
            evidence = new_evidence_dir(archive_dir)
            with BundleWriter(evidence / "vm-a") as writer:
                writer.add_bytes("serial.log", f"boot {label}\\n".encode() * 2000, call="test")
                time.sleep(pause)
                bundle = writer.commit({"format": "kit-bundle/1", "vm_name": "vm-a", "role": "subject"})
            """)),
        new_code_cell(textwrap.dedent("""
            time.sleep(pause)
            rel = Path(bundle).resolve().relative_to(Path(archive_dir).resolve()).as_posix()
            save_result(run_dir, "trial", {"label": label, "bundles": {"vm-a": rel}})
            print("trial", label, "done")
            """)),
    ]
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.write(nb, path)
    return path


#: A long-lived process that runs reports on request: concurrent trials without paying the import each time.
_WORKER = textwrap.dedent("""
    import json, sys
    from kit.report.runner import run_report
    notebook, archive = sys.argv[1], sys.argv[2]
    print("ready", flush=True)
    for line in sys.stdin:
        incident, label = line.split()
        waited = []
        try:
            run = run_report(notebook, incident=incident, archive_root=archive, wait=120,
                             parameters={"label": label, "pause": 0.1}, on_wait=waited.append)
            print(json.dumps({"status": run.status, "stage": run.stage, "waited": waited,
                              "run": str(run.run_dir)}), flush=True)
        except Exception as error:
            print(json.dumps({"status": "error", "error": f"{type(error).__name__}: {error}", "waited": waited}),
                  flush=True)
""")

#: Forks one child per request, each running a report; the test kills children with SIGKILL, then asks to reap.
_ZYGOTE = textwrap.dedent("""
    import os, sys
    import kit.report.runner  # papermill, nbformat, jupyter_client: imported once, before forking
    notebook, archive, incident = sys.argv[1], sys.argv[2], sys.argv[3]
    print("ready", flush=True)
    for line in sys.stdin:
        label, pause = line.split()
        pid = os.fork()
        if pid == 0:
            try:
                kit.report.runner.run_report(notebook, incident=incident, archive_root=archive, wait=120,
                                             parameters={"label": label, "pause": float(pause)})
                code = 0
            except BaseException:
                code = 1
            os._exit(code)
        print(pid, flush=True)
        sys.stdin.readline()  # "reap": until then a finished child stays a zombie, so its pid is never reused
        print("exit", os.waitpid(pid, 0)[1], flush=True)
""")


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, bufsize=1)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def _ask(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdin is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()


def _answer(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    return process.stdout.readline().strip()


def _stop(process: subprocess.Popen[str]) -> None:
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _check_results(root: Path, manifest: dict[str, Any]) -> None:
    """Every recorded report's result names a bundle that is where it says, and is recorded."""
    listed = {f["path"] for f in manifest["files"]}
    for event in manifest["history"]:
        if event["kind"] != "report" or event.get("status") != "ok":
            continue
        result = json.loads((root / event["run"] / "trial.json").read_text())
        bundle = result["bundles"]["vm-a"]
        assert not Path(bundle).is_absolute() and (root / bundle / "serial.log").is_file(), bundle
        assert f"{bundle}/serial.log" in listed and f"{event['run']}/trial.json" in listed
    assert not any(".partial-" in p for p in listed if not p.startswith("abandoned/"))


def test_two_reports_into_one_incident_at_once(tmp_path: Path) -> None:
    notebook = _notebook(tmp_path / "trial.ipynb")
    archive = tmp_path / "archive"
    workers = [_spawn(_WORKER, str(notebook), str(archive)) for _ in range(2)]
    try:
        for trial in range(TRIALS):
            incident = f"RACE-{trial}"
            for index, worker in enumerate(workers):
                _ask(worker, f"{incident} w{index}")
            answers = [json.loads(_answer(w)) for w in workers]
            assert [a["status"] for a in answers] == ["ok", "ok"], answers
            assert sum(bool(a["waited"]) for a in answers) == 1, "one run waited for the other, and said so"
            waited = next(a["waited"][0] for a in answers if a["waited"])
            assert waited.startswith(f"waiting for {archive / incident}: ") and "pid" in waited
            root = archive / incident
            result = verify_archive(root)
            assert result.ok and not result.notes, result.lines() + result.notes
            manifest = read_manifest(root)
            assert manifest is not None
            reports = [h for h in manifest["history"] if h["kind"] == "report"]
            assert sorted(r["parameters"]["label"] for r in reports) == ["w0", "w1"]
            assert sorted(r["stage"] for r in reports) == sorted(a["stage"] for a in answers)
            _check_results(root, manifest)
            assert not list((root / ".staging").iterdir())
    finally:
        for worker in workers:
            _stop(worker)
    assert main(["verify", str(archive)]) == 0


def test_the_cli_waits_or_fails_clearly_with_exit_6(tmp_path: Path) -> None:
    notebook = _notebook(tmp_path / "trial.ipynb")
    archive = tmp_path / "archive"

    def kit_report(label: str, *extra: str, pause: float = 0.1) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "kit", "report", str(notebook), "--incident", "CLI-1",
                                 "--archive", str(archive), "-p", "label", label, "-p", "pause", str(pause), *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first = kit_report("first", pause=4.0)  # still writing when the other two have started
    deadline = time.monotonic() + 60
    while not (archive / "CLI-1" / ".staging").is_dir() or not list((archive / "CLI-1" / ".staging").iterdir()):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    impatient = kit_report("impatient", "--wait", "0")
    patient = kit_report("patient", "--wait", "120")
    out, err = impatient.communicate(timeout=60)
    assert impatient.returncode == 6, err
    assert err.count("\n") == 2 and "waiting for" in err and "error: " in err and "is busy: " in err
    assert "(trial) since" in err, "the message names the run holding the incident"
    for process in (first, patient):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert "waiting for" in err
    manifest = read_manifest(archive / "CLI-1")
    assert manifest is not None
    assert [h["parameters"]["label"] for h in manifest["history"]] == ["first", "patient"]
    assert verify_archive(archive / "CLI-1").ok


def _stages(root: Path) -> set[str]:
    folder = root / ".staging"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_reports_killed_at_random_points_leave_an_archive_the_next_run_settles(tmp_path: Path) -> None:
    notebook = _notebook(tmp_path / "trial.ipynb")
    archive = tmp_path / "archive"
    root = archive / "KILL-1"
    zygote = _spawn(_ZYGOTE, str(notebook), str(archive), root.name)
    rng = random.Random(14)
    seen_dead: set[str] = set()
    try:
        _ask(zygote, "baseline 0.15")
        began = time.monotonic()
        _answer(zygote)
        _ask(zygote, "reap")
        assert _answer(zygote) == "exit 0"
        span = time.monotonic() - began  # how long one run takes here: kills land anywhere in it
        for trial in range(TRIALS):
            _ask(zygote, f"k{trial} 0.15")
            pid = int(_answer(zygote))
            time.sleep(rng.uniform(0.0, span * 1.6))
            os.kill(pid, signal.SIGKILL)  # our own child (unreaped until "reap"), by its pid
            _ask(zygote, "reap")
            _answer(zygote)
            time.sleep(0.05)
            result = verify_archive(root)
            assert result.ok, (trial, result.lines())
            seen_dead |= _stages(root)
        _ask(zygote, "final 0.0")
        _answer(zygote)
        _ask(zygote, "reap")
        assert _answer(zygote) == "exit 0"
    finally:
        _stop(zygote)
    result = verify_archive(root)
    assert result.ok and not result.notes, result.lines() + result.notes
    assert not _stages(root), "nothing is left in the staging area"
    manifest = read_manifest(root)
    assert manifest is not None
    history = manifest["history"]
    recorded = {h.get("stage") for h in history}
    assert seen_dead <= recorded, f"every killed run that started writing is recorded: {seen_dead - recorded}"
    for event in history:
        assert event["kind"] in ("report", "abandoned"), event
        if event["kind"] == "abandoned" and event["quarantined"]:
            assert any(f["path"].startswith(event["quarantined"] + "/") for f in manifest["files"])
    labels = [h["parameters"]["label"] for h in history if h["kind"] == "report"]
    assert labels[0] == "baseline" and labels[-1] == "final"
    _check_results(root, manifest)
    abandoned = [h for h in history if h["kind"] == "abandoned"]
    states = ", ".join(f"{h['state']}/{h['files']} files" for h in abandoned)
    print(f"\nkill trials: {TRIALS} kills, {len(seen_dead)} stages left by killed runs, {len(abandoned)} recorded "
          f"as abandoned ({states}), "
          f"{len(labels) - 2} killed runs had finished first")
    assert main(["verify", str(root)]) == 0
