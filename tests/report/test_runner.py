"""run_report: papermill into the archive, offline HTML, failures still archived."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from kit.archive import read_manifest, verify_archive
from kit.cli import main
from kit.errors import NotebookExecutionError
from kit.report import ReportRun, run_report

TINY = Path(__file__).parent / "data" / "tiny.ipynb"


@pytest.fixture(scope="module")
def ok_run(tmp_path_factory: pytest.TempPathFactory) -> ReportRun:
    root = tmp_path_factory.mktemp("runner") / "archive"
    return run_report(TINY, incident="INC-42", parameters={"greeting": "bonjour"}, archive_root=root)


def test_a_run_lands_in_the_archive_with_notebook_html_and_results(ok_run: ReportRun) -> None:
    assert ok_run.status == "ok"
    assert re.fullmatch(r"\d{8}T\d{6}Z-tiny", ok_run.run_dir.name)
    assert ok_run.run_dir.parent.name == "reports" and ok_run.run_dir.parent.parent.name == "INC-42"
    assert ok_run.executed.exists() and ok_run.html is not None
    html = ok_run.html.read_text()
    assert "bonjour from INC-42" in html
    assert ok_run.result("tiny") == {"greeting": "bonjour"}
    root = ok_run.run_dir.parent.parent
    manifest = read_manifest(root)
    assert manifest is not None
    listed = {f["path"] for f in manifest["files"]}
    rel = ok_run.run_dir.relative_to(root).as_posix()
    assert {f"{rel}/tiny.ipynb", f"{rel}/tiny.html", f"{rel}/tiny.json"} <= listed
    assert manifest["event"]["parameters"] == {"incident": "INC-42", "greeting": "bonjour"}
    assert manifest["event"]["status"] == "ok"
    assert verify_archive(root).ok


def test_the_html_needs_no_network(ok_run: ReportRun) -> None:
    assert ok_run.html is not None
    html = ok_run.html.read_text()
    assert not re.search(r"<script[^>]+src=", html), "no external script"
    assert not re.search(r"<link[^>]+href=[\"']https?:", html), "no external stylesheet"
    assert "unpkg.com" not in html and "cdnjs" not in html


def test_a_failing_cell_still_archives_a_report_that_shows_it(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", str(TINY), "--incident", "INC-43", "--archive", str(tmp_path), "-p", "fail", "true"])
    assert code == 1
    err = capsys.readouterr().err
    assert "cell In [" in err and "ValueError: the tiny notebook was told to fail" in err
    root = tmp_path / "INC-43"
    (run_dir,) = (root / "reports").iterdir()
    html = (run_dir / "tiny.html").read_text()
    assert "the tiny notebook was told to fail" in html and "ValueError" in html
    manifest = read_manifest(root)
    assert manifest is not None and manifest["event"]["status"] == "failed"
    assert manifest["event"]["failure"]["ename"] == "ValueError"
    assert verify_archive(root).ok
    with pytest.raises(NotebookExecutionError, match="the report showing the failure is at"):
        run_report(TINY, incident="INC-43", parameters={"fail": True}, archive_root=tmp_path)
    assert read_manifest(root)["sequence"] == 2


def test_kernel_is_this_python_whatever_kernelspecs_say(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken global python3 kernelspec and a conda-style kernel name must not matter."""
    specs = tmp_path / "jupyter" / "kernels" / "python3"
    specs.mkdir(parents=True)
    (specs / "kernel.json").write_text(json.dumps(
        {"argv": ["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
         "display_name": "broken", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    conda = tmp_path / "conda.ipynb"
    nb = json.loads(TINY.read_text())
    nb["metadata"]["kernelspec"] = {"name": "conda-env-kit-py", "display_name": "Python [conda env:kit]",
                                    "language": "python"}
    conda.write_text(json.dumps(nb))
    run = run_report(conda, incident="INC-44", archive_root=tmp_path / "archive")
    assert run.status == "ok" and run.result("tiny") == {"greeting": "hello"}


def test_kit_notebooks_are_found_by_name(tmp_path: Path) -> None:
    from kit.report.runner import NOTEBOOK_DIR, resolve_notebook

    if not (NOTEBOOK_DIR / "triage.ipynb").exists():
        pytest.skip("triage.ipynb not present")
    assert resolve_notebook("triage") == (NOTEBOOK_DIR / "triage.ipynb").resolve()


def test_pdf_is_printed_by_debian_chromium(tmp_path: Path) -> None:
    if not shutil.which("chromium") and not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed")
    run = run_report(TINY, incident="INC-45", archive_root=tmp_path, pdf=True)
    assert run.pdf is not None and run.pdf.read_bytes().startswith(b"%PDF")
    assert verify_archive(tmp_path / "INC-45").ok


def _staging_notebook(path: Path, body: str) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[
        new_code_cell('incident = ""\nrun_dir = ""\narchive_dir = ""', metadata={"tags": ["parameters"]}),
        new_code_cell(body),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                 "language_info": {"name": "python"}})
    nbformat.write(nb, path)
    return path


def test_the_kernel_writes_only_into_the_runs_staging_folder(tmp_path: Path) -> None:
    """archive_dir is the stage (the incident's layout inside); paths relative to it stay right after the move."""
    from kit.archive import record

    root = tmp_path / "archive" / "INC-50"
    (root / "transcripts").mkdir(parents=True)
    (root / "transcripts" / "s1.cast").write_text('{"version": 2}\n')
    record(root, {"kind": "console"})
    notebook = _staging_notebook(tmp_path / "stage.ipynb", """
import json
from pathlib import Path
from kit.archive import new_evidence_dir, read_manifest
from kit.report import postmortem as pm
from kit.report.present import save_result
here = Path(archive_dir)
assert here.parent.name == ".staging" and Path(run_dir).is_relative_to(here), (archive_dir, run_dir)
assert not (here.parent.parent / "reports").exists(), "nothing of this run is in the incident yet"
bundle = new_evidence_dir(archive_dir) / "vm-a"
bundle.mkdir()
(bundle / "serial.log").write_text("boot")
(Path(run_dir) / "evil").symlink_to("/etc/passwd")
save_result(run_dir, "stage", {"bundle": bundle.relative_to(here).as_posix(),
                               "sequence": read_manifest(archive_dir)["sequence"],
                               "sessions": [t["id"] for t in pm.transcripts(archive_dir)]})
""")
    run = run_report(notebook, incident="INC-50", archive_root=tmp_path / "archive")
    assert run.run_dir.parent == root / "reports" and run.executed.is_file() and run.html is not None
    result = run.result("stage")
    assert result["sequence"] == 1 and result["sessions"] == ["s1"], "the kernel reads the incident through its stage"
    assert (root / result["bundle"] / "serial.log").read_text() == "boot"
    assert not list((root / ".staging").iterdir())
    manifest = read_manifest(root)
    assert manifest is not None
    event = manifest["event"]
    assert event["stage"] == run.stage and event["run"] == run.run_dir.relative_to(root).as_posix()
    assert event["refused"] == [f"{event['run']}/evil: a symbolic link to '/etc/passwd'"]
    assert f"{result['bundle']}/serial.log" in {f["path"] for f in manifest["files"]}
    assert verify_archive(root).ok


def test_a_run_waits_for_the_incident_then_gives_up_with_exit_6(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess
    import sys

    root = tmp_path / "INC-51"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom kit.archive import incident_lock\n"
        f"with incident_lock({str(root)!r}, purpose='a long triage'):\n"
        "    print('held', flush=True)\n    sys.stdin.readline()\n")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code = main(["report", str(TINY), "--incident", "INC-51", "--archive", str(tmp_path), "--wait", "0.5"])
        err = capsys.readouterr().err
        assert code == 6
        lines = err.splitlines()
        assert len(lines) == 2 and "waiting for" in lines[0] and "(a long triage)" in lines[0]
        assert lines[1].startswith("error: ") and "is busy" in lines[1] and "--wait" in lines[1]
        assert not (root / "reports").exists() and not (root / "manifest.json").exists()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert main(["report", str(TINY), "--incident", "INC-51", "--archive", str(tmp_path), "--wait", "0"]) == 0
    assert verify_archive(root).ok
