"""Malformed archive input: one-line errors with documented exit codes, never a traceback, a hang or a wrong "ok"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kit.archive import read_manifest, record, verify_archive
from kit.cli import main
from kit.errors import ArchiveError

TINY = Path(__file__).parents[1] / "report" / "data" / "tiny.ipynb"

GOOD = {"format": "kit-archive/1", "incident": "INC-M", "sequence": 1, "written_at": "2026-11-25T18:00:00Z",
        "kit_version": "0", "run_by": "a@b", "previous": None, "event": {"kind": "x"},
        "history": [{"sequence": 1, "kind": "x"}], "files": []}

#: name → manifest.json bytes
MALFORMED: dict[str, bytes] = {
    "empty file": b"",
    "not UTF-8": b"\xff\xfe\x00garbage",
    "a JSON list": b"[]",
    "JSON null": b"null",
    "a bare number": b"1e9",
    "nested a million deep": b"[" * 1_000_000,
    "NaN sequence": json.dumps({**GOOD, "sequence": float("nan")}).encode(),
    "string sequence": json.dumps({**GOOD, "sequence": "1"}).encode(),
    "sequence zero": json.dumps({**GOOD, "sequence": 0}).encode(),
    "huge integer sequence": b'{"sequence": ' + b"9" * 5000 + b"}",
    "files not a list": json.dumps({**GOOD, "files": "everything"}).encode(),
    "file entry climbing out": json.dumps({**GOOD, "files": [
        {"path": "../../etc/passwd", "sha256": "0" * 64, "bytes": 1}]}).encode(),
    "absolute file path": json.dumps({**GOOD, "files": [
        {"path": "/etc/passwd", "sha256": "0" * 64, "bytes": 1}]}).encode(),
    "file entry not an object": json.dumps({**GOOD, "files": [42]}).encode(),
    "bad sha256": json.dumps({**GOOD, "files": [{"path": "a", "sha256": "xyz", "bytes": 1}]}).encode(),
    "negative bytes": json.dumps({**GOOD, "files": [{"path": "a", "sha256": "0" * 64, "bytes": -1}]}).encode(),
    "repeated path": json.dumps({**GOOD, "files": [{"path": "a", "sha256": "0" * 64, "bytes": 1}] * 2}).encode(),
    "previous not an object": json.dumps({**GOOD, "previous": "manifests/0000.json"}).encode(),
    "history not a list": json.dumps({**GOOD, "history": {"a": 1}}).encode(),
    "event missing": json.dumps({k: v for k, v in GOOD.items() if k != "event"}).encode(),
    "wrong format tag": json.dumps({**GOOD, "format": "kit-archive/99"}).encode(),
    "a file listing the manifests": json.dumps({**GOOD, "files": [
        {"path": "manifests/0001.json", "sha256": "0" * 64, "bytes": 1}]}).encode(),
}


def _incident(tmp_path: Path, data: bytes) -> Path:
    root = tmp_path / "archive" / "INC-M"
    (root / "manifests").mkdir(parents=True)
    (root / "manifests/0001.json").write_bytes(data)
    (root / "manifest.json").write_bytes(data)
    return root


def _kit(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kit", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_manifest_is_a_finding_in_one_line(tmp_path: Path, case: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = _incident(tmp_path, MALFORMED[case])
    result = verify_archive(root)
    assert not result.ok and result.chain_errors
    assert all("\n" not in line for line in result.lines())
    assert main(["verify", str(root)]) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out and "internal error" not in out.err
    with pytest.raises(ArchiveError) as caught:
        read_manifest(root)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 600
    with pytest.raises(ArchiveError, match="refusing to append|not a manifest|not valid JSON|nested too deeply|UTF-8"):
        record(root, {"kind": "note"})


def test_the_cli_reports_a_malformed_archive_in_one_line_with_the_documented_codes(tmp_path: Path) -> None:
    root = _incident(tmp_path, MALFORMED["nested a million deep"])
    done = _kit("verify", str(root))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "manifest.json is not a manifest: its JSON is nested too deeply" in done.stdout
    done = _kit("report", str(TINY), "--incident", "INC-M", "--archive", str(root.parent))
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert "nested too deeply" in done.stderr
    garbage = _incident(tmp_path / "g", b"{not json")
    done = _kit("report", str(TINY), "--incident", "INC-M", "--archive", str(garbage.parent))
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "not valid JSON" in done.stderr


def test_archive_paths_that_are_files_or_missing_are_usage_errors(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    afile = tmp_path / "archive.txt"
    afile.write_text("not a folder")
    assert main(["report", str(TINY), "--incident", "INC-1", "--archive", str(afile)]) == 2
    assert "--archive" in capsys.readouterr().err and afile.read_text() == "not a folder"
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "INC-F").write_text("a file where the incident goes")
    assert main(["report", str(TINY), "--incident", "INC-F", "--archive", str(tmp_path / "archive")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["verify", str(afile)]) == 2
    assert main(["verify", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and all(line.startswith("error: ") for line in err.splitlines())
    with pytest.raises(SystemExit) as exited:  # argparse: usage, then one error line
        main(["report", str(TINY), "--incident", "INC-1", "--archive", str(tmp_path), "--wait", "-1"])
    assert exited.value.code == 2 and "argument --wait: '-1' is out of range" in capsys.readouterr().err


def test_verify_of_a_folder_of_incidents_checks_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "archive"
    for name in ("INC-1", "INC-2", "INC-3"):
        (base / name / "evidence").mkdir(parents=True)
        (base / name / "evidence" / "x.json").write_text("{}")
        record(base / name, {"kind": "evidence"})
    (base / "notes").mkdir()  # not an incident: ignored
    (base / "INC-LINK").symlink_to(base / "INC-1")  # never followed
    assert main(["verify", str(base)]) == 0
    out = capsys.readouterr().out
    assert f"{base / 'INC-1'}: ok" in out and f"{base / 'INC-3'}: ok" in out and "INC-LINK" not in out
    assert f"{base}: 3 of 3 incident(s) ok" in out
    (base / "INC-2" / "evidence" / "x.json").write_text("changed")
    assert main(["verify", str(base)]) == 1
    captured = capsys.readouterr()
    assert "INC-2: altered: evidence/x.json" in captured.out and "2 of 3 incident(s) ok" in captured.err
    assert main(["verify", str(tmp_path / "archive" / "notes")]) == 1
    assert "holds none" in capsys.readouterr().err


def test_stage_markers_and_staging_entries_that_are_garbage_are_settled(tmp_path: Path) -> None:
    root = tmp_path / "INC-S"
    (root / "evidence").mkdir(parents=True)
    (root / "evidence" / "x.json").write_text("{}")
    record(root, {"kind": "evidence"})
    junk = root / ".staging" / "20990101T000000Z-junk"
    (junk / "reports" / "r").mkdir(parents=True)
    (junk / "reports" / "r" / "a.html").write_text("x")
    (junk / ".stage.json").write_text("[" * 100_000)
    (junk / "reports" / "r" / "link").symlink_to("/etc/passwd")
    (root / ".staging" / "stray.txt").write_text("stray")
    (root / ".staging" / "stray-link").symlink_to("/etc")
    result = verify_archive(root)
    assert result.ok and any("no owner record" in n for n in result.notes), result.notes
    record(root, {"kind": "note"})
    manifest = read_manifest(root)
    assert manifest is not None
    kinds = [h["kind"] for h in manifest["history"]]
    assert kinds == ["evidence", "abandoned", "abandoned", "note"], kinds
    first, second = manifest["history"][1:3]
    assert first["reason"] == "a staging folder with no owner record" and first["removed_count"] == 1
    assert "leftovers" in second["reason"]
    assert not list((root / ".staging").iterdir()) and verify_archive(root).ok
    assert not any("passwd" in f["path"] for f in manifest["files"])
