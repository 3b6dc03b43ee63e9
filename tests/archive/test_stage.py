"""kit.archive.stage: staged writing, the incident's lock, abandoned runs, and a crash at every step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from kit.archive import (
    Stage,
    incident_relative,
    read_manifest,
    record,
    staged,
    verify_archive,
)
from kit.errors import ArchiveBusyError, ArchiveError


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def incident(tmp_path: Path) -> Path:
    root = tmp_path / "archive" / "INC-9"
    _write(root / "evidence/old/vm/serial.log", "boot\n")
    record(root, {"kind": "evidence"})
    return root


def _history(root: Path) -> list[dict]:
    manifest = read_manifest(root)
    assert manifest is not None
    return manifest["history"]


def test_a_stage_is_invisible_until_committed_then_lands_in_place(incident: Path) -> None:
    with staged(incident, "triage") as stage:
        run = stage.run_dir("triage")
        evidence = stage.evidence_dir()
        _write(run / "triage.json", "{}")
        _write(evidence / "vm-a" / "serial.log", "boot\n")
        assert stage.folder.parent == incident / ".staging"
        assert verify_archive(incident).ok, "a run in progress is not a change to the archive"
        assert any("run in progress" in n for n in verify_archive(incident).notes)
        assert stage.relative(evidence / "vm-a") == f"evidence/{evidence.name}/vm-a"
        assert incident_relative(evidence / "vm-a", stage.folder) == stage.relative(evidence / "vm-a")
        manifest = stage.commit({"kind": "report", "run": stage.relative(run)})
    assert stage.final(run) == incident / "reports" / run.name and (stage.final(run) / "triage.json").is_file()
    assert (incident / "evidence" / evidence.name / "vm-a" / "serial.log").is_file()
    assert not stage.folder.exists() and not list((incident / ".staging").iterdir())
    event = json.loads(manifest.read_text())["event"]
    assert event["stage"] == stage.id and "adopted" not in event
    assert verify_archive(incident).ok


def test_links_special_files_and_partial_bundles_in_a_stage_are_never_recorded(incident: Path) -> None:
    with staged(incident, "triage") as stage:
        run = stage.run_dir("triage")
        _write(run / "ok.json", "{}")
        (run / "passwd").symlink_to("/etc/passwd")
        (run / "etc").symlink_to("/etc")
        os.mkfifo(run / "pipe")
        _write(stage.folder / "evidence/x/.vm.partial-ab12cd34/serial.log", "half")
        _write(stage.folder / "manifest.json", "{}")
        manifest = stage.commit({"kind": "report"})
    event = json.loads(manifest.read_text())["event"]
    assert sorted(r.split(":")[0] for r in event["refused"]) == sorted(
        [f"reports/{run.name}/{n}" for n in ("passwd", "etc", "pipe")] + ["manifest.json"])
    assert event["discarded"] == ["evidence/x/.vm.partial-ab12cd34"]
    listed = {f["path"] for f in json.loads(manifest.read_text())["files"]}
    assert f"reports/{run.name}/ok.json" in listed and not any("partial" in p or "passwd" in p for p in listed)
    assert verify_archive(incident).ok


def test_leaving_the_block_without_commit_records_the_run_as_abandoned(incident: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), staged(incident, "triage", about={"notebook": "t.ipynb"}) as stage:
        _write(stage.run_dir("triage") / "half.ipynb", "{")
        raise RuntimeError("boom")
    last = _history(incident)[-1]
    assert last["kind"] == "abandoned" and last["stage"] == stage.id and last["about"] == {"notebook": "t.ipynb"}
    assert "RuntimeError: boom" in last["reason"] and last["quarantined"] == f"abandoned/{stage.id}"
    assert list((incident / last["quarantined"]).rglob("half.ipynb"))
    assert verify_archive(incident).ok
    with staged(incident, "nothing"):
        pass  # an empty stage leaves no trace
    assert _history(incident)[-1]["stage"] == stage.id


def test_a_name_taken_in_the_incident_is_never_overwritten(incident: Path) -> None:
    with pytest.raises(ArchiveError, match="already exists"), staged(incident, "x") as stage:
        _write(stage.folder / "evidence/old/vm/serial.log", "other")
        stage.commit({"kind": "evidence"})
    assert (incident / "evidence/old/vm/serial.log").read_text() == "boot\n"
    assert _history(incident)[-1]["kind"] == "abandoned" and verify_archive(incident).ok


def test_record_refuses_a_staging_folder_and_a_kernel_cannot_record_into_its_stage(incident: Path) -> None:
    with staged(incident, "triage") as stage:
        with pytest.raises(ArchiveError, match="staging folder"):
            record(stage.folder, {"kind": "note"})
        assert read_manifest(stage.folder) == read_manifest(incident), "readers see the incident"
        stage.commit({"kind": "note"})


def test_loose_files_are_adopted_and_named_and_leftovers_quarantined(incident: Path) -> None:
    _write(incident / "transcripts/s.cast", "{}\n")
    _write(incident / "evidence/new/.vm.partial-zz99yy88/serial.log", "half")
    with staged(incident, "triage") as stage:
        manifest = stage.commit({"kind": "report"})
    history = _history(incident)
    assert history[-2]["kind"] == "abandoned" and "leftovers" in history[-2]["reason"] + history[-2]["name"]
    assert json.loads(manifest.read_text())["event"]["adopted"] == ["transcripts/s.cast"]
    assert not (incident / "evidence/new/.vm.partial-zz99yy88").exists()
    assert list((incident / "abandoned").rglob(".vm.partial-zz99yy88/serial.log"))
    assert verify_archive(incident).ok


def test_a_second_writer_waits_says_for_whom_then_gives_up(incident: Path) -> None:
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with staged(incident, "long-run") as stage:
            held.set()
            release.wait(10)
            stage.commit({"kind": "report"})

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    messages: list[str] = []
    began = time.monotonic()
    with pytest.raises(ArchiveBusyError, match="is busy: .* pid .*long-run") as caught:
        record(incident, {"kind": "note"}, wait=0.3, on_wait=messages.append)
    assert 0.25 < time.monotonic() - began < 5 and caught.value.exit_code == 6
    assert len(messages) == 1 and "waiting for" in messages[0]
    release.set()
    thread.join()
    record(incident, {"kind": "note"}, wait=5)
    assert [h["kind"] for h in _history(incident)][-2:] == ["report", "note"]


def test_a_console_style_stage_does_not_hold_the_lock_between_open_and_commit(incident: Path) -> None:
    stage = Stage.open(incident, "console", hold_lock=False)
    path = stage.transcript_path("vm-01")
    _write(path, "{}\n")
    record(incident, {"kind": "note"}, wait=0)  # not blocked by the open console stage
    assert verify_archive(incident).ok
    stage.commit({"kind": "console", "transcripts": [stage.relative(path)]})
    assert (incident / "transcripts" / path.name).is_file() and _history(incident)[-1]["kind"] == "console"


# ---------------------------------------------------------------------- a crash at every step
_CRASH = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from kit.archive import Stage
    root, mode, crash_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    count = 0
    def counting(real):
        def op(*args, **kwargs):
            global count
            result = real(*args, **kwargs)
            count += 1
            if count == crash_at:
                os._exit(9)
            return result
        return op
    stage = Stage.open(root, "crashing", about={"notebook": "crash.ipynb"})
    run = stage.run_dir("crashing")
    (run / "crash.ipynb").write_text("{}")
    evidence = stage.evidence_dir() / "vm-a"
    evidence.mkdir()
    (evidence / "serial.log").write_text("boot")
    os.rename, os.replace, os.link = counting(os.rename), counting(os.replace), counting(os.link)
    if mode == "commit":
        stage.commit({"kind": "report", "run": stage.relative(run)})
    else:
        stage.abandon("told to")
    print("finished", count)
""")


def _crash(root: Path, mode: str, at: int) -> str:
    done = subprocess.run([sys.executable, "-c", _CRASH, str(root), mode, str(at)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode in (0, 9), done.stderr
    return done.stdout


@pytest.mark.parametrize("mode", ["commit", "abandon"])
def test_a_writer_killed_at_any_step_leaves_a_state_the_next_writer_settles(tmp_path: Path, mode: str) -> None:
    """Kill the writer after its 1st, 2nd, … rename until it finishes: verify stays ok, the next writer settles it."""
    at = 1
    while True:
        root = tmp_path / f"{mode}-{at}" / "INC"
        _write(root / "evidence/old/serial.log", "boot")
        record(root, {"kind": "evidence"})
        out = _crash(root, mode, at)
        check = verify_archive(root)
        assert check.ok, (at, check.lines())
        record(root, {"kind": "note"})
        history = _history(root)
        assert verify_archive(root).ok and not list((root / ".staging").iterdir())
        kinds = [h["kind"] for h in history]
        if mode == "commit":
            assert kinds in (["evidence", "report", "note"], ["evidence", "abandoned", "note"]), (at, kinds)
        else:
            assert kinds == ["evidence", "abandoned", "note"], (at, kinds)
        wanted = "reports" if kinds[1] == "report" else f"{history[1]['quarantined']}/reports"
        assert list((root / wanted).rglob("crash.ipynb")), (at, kinds)
        assert len({f["path"] for f in read_manifest(root)["files"]}) == 3  # nothing lost, nothing twice
        if out.startswith("finished"):
            break
        at += 1
    assert at >= 4, "the commit has at least four steps (journal, two moves, manifest)"
