"""The incident archive: manifest chain, append-only recording, verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.archive import incident_dir, read_manifest, record, verify_archive
from kit.cli import main
from kit.errors import ArchiveError, UsageError


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def archived(tmp_path: Path) -> Path:
    root = tmp_path / "archive" / "INC-7"
    _write(root, "evidence/vm-web-01/serial.log", "boot\n")
    _write(root, "evidence/vm-web-01/manifest.json", "{}")
    record(root, {"kind": "evidence", "bundles": ["vm-web-01"]})
    _write(root, "reports/run-1/triage.html", "<html>report</html>")
    record(root, {"kind": "report", "notebook": "triage.ipynb", "parameters": {"vm": "vm-web-01"}})
    return root


def test_manifests_form_a_hash_chain_listing_every_file(archived: Path) -> None:
    manifest = read_manifest(archived)
    assert manifest is not None
    assert manifest["sequence"] == 2
    assert [f["path"] for f in manifest["files"]] == [
        "evidence/vm-web-01/manifest.json", "evidence/vm-web-01/serial.log", "reports/run-1/triage.html"]
    entry = next(f for f in manifest["files"] if f["path"].endswith("serial.log"))
    assert entry["bytes"] == 5 and len(entry["sha256"]) == 64
    import hashlib

    first = (archived / "manifests/0001.json").read_bytes()
    assert manifest["previous"] == {"manifest": "manifests/0001.json", "sha256": hashlib.sha256(first).hexdigest()}
    assert json.loads(first)["previous"] is None
    assert (archived / "manifest.json").read_bytes() == (archived / "manifests/0002.json").read_bytes()
    assert "@" in manifest["run_by"] and manifest["kit_version"]
    assert [h["kind"] for h in manifest["history"]] == ["evidence", "report"]
    assert manifest["event"]["parameters"] == {"vm": "vm-web-01"}
    assert not list(archived.rglob("*.tmp")), "atomic writes leave no temp files"
    assert verify_archive(archived).ok


def test_verify_names_each_file_edited_added_and_removed(archived: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (archived / "reports/run-1/triage.html").write_text("<html>rewritten</html>")
    _write(archived, "reports/run-1/extra.txt", "planted")
    (archived / "evidence/vm-web-01/serial.log").unlink()
    result = verify_archive(archived)
    assert not result.ok
    assert result.altered == ["reports/run-1/triage.html"]
    assert result.added == ["reports/run-1/extra.txt"]
    assert result.removed == ["evidence/vm-web-01/serial.log"]
    assert main(["verify", str(archived)]) == 1
    out = capsys.readouterr()
    assert "altered: reports/run-1/triage.html" in out.out
    assert "added: reports/run-1/extra.txt" in out.out
    assert "removed: evidence/vm-web-01/serial.log" in out.out
    assert "1 added, 1 removed, 1 altered" in out.err


def test_verify_of_an_intact_archive_exits_zero(archived: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(archived)]) == 0
    assert "chain intact" in capsys.readouterr().out


def test_a_rewritten_earlier_manifest_breaks_the_chain(archived: Path) -> None:
    old = json.loads((archived / "manifests/0001.json").read_text())
    old["files"] = []  # hide the evidence from history
    (archived / "manifests/0001.json").write_text(json.dumps(old))
    result = verify_archive(archived)
    assert any("manifests/0001.json does not match the hash recorded in manifests/0002.json" in e
               for e in result.chain_errors)


def test_a_removed_earlier_manifest_or_forged_newest_is_reported(archived: Path) -> None:
    (archived / "manifests/0001.json").unlink()
    assert "manifests/0001.json is missing" in verify_archive(archived).chain_errors
    newest = (archived / "manifest.json").read_text()
    (archived / "manifest.json").write_text(newest.replace('"kind": "report"', '"kind": "x"'))
    assert "manifest.json differs from manifests/0002.json" in verify_archive(archived).chain_errors


def test_recording_refuses_to_launder_an_altered_archive(archived: Path) -> None:
    (archived / "evidence/vm-web-01/serial.log").write_text("edited")
    with pytest.raises(ArchiveError, match="refusing to append"):
        record(archived, {"kind": "report"})
    assert read_manifest(archived)["sequence"] == 2


def test_verify_of_a_folder_without_manifest_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path)]) == 1
    assert "has no manifest.json" in capsys.readouterr().err
    with pytest.raises(ArchiveError, match="has no manifest.json"):
        verify_archive(tmp_path)


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", ".", "INC 1", "x" * 81])
def test_incident_ids_are_plain_names(tmp_path: Path, bad: str) -> None:
    with pytest.raises(UsageError):
        incident_dir(tmp_path, bad)


def test_a_planted_symlink_is_flagged_not_followed(archived: Path) -> None:
    (archived / "reports/run-1/evil").symlink_to("/etc/passwd")
    result = verify_archive(archived)
    assert not result.ok and result.added == []
    assert result.special == ["reports/run-1/evil is a symbolic link to '/etc/passwd'; not followed"]
    with pytest.raises(ArchiveError, match="refusing to append.*symbolic link"):
        record(archived, {"kind": "report"})


def test_record_calls_after_write_under_the_lock_with_the_manifest_bytes(archived: Path) -> None:
    from kit.archive import lock_holder

    seen: list[tuple[Path, bytes, str]] = []

    def after_write(path: Path, data: bytes) -> None:
        seen.append((path, data, lock_holder(archived)))

    _write(archived, "reports/run-2/x.html", "x")
    written = record(archived, {"kind": "report"}, after_write=after_write)
    ((path, data, holder),) = seen
    assert path == written == archived / "manifests/0003.json"
    assert data == path.read_bytes() == (archived / "manifest.json").read_bytes()
    assert "pid" in holder, "called while the lock is still held (the holder is written into the lock file)"


def test_verify_runs_extra_checks_and_drops_the_limits_they_cover(archived: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from kit.archive import LIMIT_RECOMPUTED, LIMITS

    calls: list[list[tuple[Path, bytes]]] = []

    def signature(root: Path, chain: list[tuple[Path, bytes]]) -> list[str]:
        calls.append(chain)
        return ["signature: manifests/0002.json is not signed by a trusted key"]

    signature.covers = {LIMIT_RECOMPUTED}  # type: ignore[attr-defined]
    result = verify_archive(archived, checks=[signature])
    ((first, second),) = calls
    assert [p.name for p, _ in (first, second)] == ["0001.json", "0002.json"]
    assert second[1] == (archived / "manifest.json").read_bytes()
    assert not result.ok and result.extra_errors == ["signature: manifests/0002.json is not signed by a trusted key"]
    assert "check: signature: manifests/0002.json is not signed by a trusted key" in result.lines()
    assert "1 failed check(s)" in result.summary()
    assert LIMITS[LIMIT_RECOMPUTED] not in result.limits and len(result.limits) == 1

    def broken(root: Path, chain: list[tuple[Path, bytes]]) -> list[str]:
        raise RuntimeError("no key")

    assert verify_archive(archived, checks=[broken]).extra_errors == ["broken could not run: RuntimeError: no key"]
    plain = verify_archive(archived)
    assert plain.ok and len(plain.limits) == 2
    assert main(["verify", str(archived)]) == 0
    out = capsys.readouterr().out
    assert out.count("not checked: ") == 2 and "signature" in out and "witness" in out
