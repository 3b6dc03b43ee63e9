"""kit.archive.layout: where runs, evidence and transcripts go, and how new folders are named."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from kit.archive import incident_dir, new_evidence_dir, new_incident, new_run_dir, transcript_path, unique_folder
from kit.errors import ArchiveError, UsageError

STAMP = r"\d{8}T\d{6}Z"


def test_run_folders_in_one_second_never_share_a_name(tmp_path: Path) -> None:
    runs = [new_run_dir(tmp_path, "triage") for _ in range(5)]
    names = [run.name for run in runs]
    assert len(set(names)) == 5 and all(run.is_dir() for run in runs)
    assert re.fullmatch(rf"{STAMP}-triage", names[0])
    assert all(run.parent == tmp_path / "reports" for run in runs)


def test_concurrent_creators_each_get_their_own_folder(tmp_path: Path) -> None:
    made: list[Path] = []
    lock = threading.Lock()

    def make() -> None:
        folder = unique_folder(tmp_path, "same")
        with lock:
            made.append(folder)

    threads = [threading.Thread(target=make) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({p.name for p in made}) == 16
    assert {p.name for p in made} == {"same", *(f"same-{n}" for n in range(2, 17))}


def test_evidence_and_incident_folders(tmp_path: Path) -> None:
    evidence = new_evidence_dir(tmp_path / "INC-1")
    assert evidence.is_dir() and evidence.parent == tmp_path / "INC-1" / "evidence"
    assert re.fullmatch(STAMP, evidence.name)
    assert new_evidence_dir(tmp_path / "INC-1") != evidence
    demo = new_incident(tmp_path, "DEMO")
    assert demo.is_dir() and re.fullmatch(rf"DEMO-{STAMP}", demo.name)
    with pytest.raises(UsageError, match="plain name"):
        new_incident(tmp_path, "../escape")


def test_transcript_names_are_safe_file_names(tmp_path: Path) -> None:
    path = transcript_path(tmp_path, "vm web/01")
    assert path.parent == tmp_path / "transcripts" and not path.exists()
    assert re.fullmatch(rf"{STAMP}-vm_web_01\.cast", path.name)


def test_incident_ids_must_be_plain_names(tmp_path: Path) -> None:
    assert incident_dir(tmp_path, "INC-1234") == tmp_path / "INC-1234"
    for bad in ("..", "a/b", "", "-x", "x" * 81):
        with pytest.raises(UsageError):
            incident_dir(tmp_path, bad)


def test_an_unwritable_parent_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ArchiveError, match="cannot create a folder under"):
        unique_folder(blocker, "run")
