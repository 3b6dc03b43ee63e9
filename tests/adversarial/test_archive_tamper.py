"""Tampering with an incident archive: every change ``kit verify`` can see is named in one line,
every reader refuses to follow links, and what it cannot see without a signer or witness is said."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from kit.archive import (
    LIMIT_RECOMPUTED,
    LIMIT_ROLLBACK,
    LIMITS,
    AfterWrite,
    after_each,
    read_manifest,
    record,
    staged,
    verify_archive,
)
from kit.archive.manifest import manifest_name
from kit.archive.signing import NAMESPACE, ssh_signer
from kit.archive.witness import FileWitness, witness_append
from kit.cli import main
from kit.errors import ArchiveError


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _archive(root: Path, after_write: AfterWrite | None = None) -> Path:
    _write(root / "evidence/20261125T180000Z/vm-a/serial.log", "boot ok\n")
    _write(root / "evidence/20261125T180000Z/vm-a/manifest.json", "{}\n")
    record(root, {"kind": "evidence"}, after_write=after_write)
    _write(root / "reports/20261125T180100Z-triage/triage.html", "<html>report</html>")
    _write(root / "reports/20261125T180100Z-triage/triage.json", json.dumps({"vm": "vm-a", "bundles": {
        "vm-a": "evidence/20261125T180000Z/vm-a"}}))
    _write(root / "transcripts/20261125T180200Z-vm-a.cast", '{"version": 2, "kit": {"vm": "vm-a"}}\n')
    _write(root / "transcripts/20261125T180200Z-vm-a.txt", "root@vm-a:~# iptables -F\n")
    record(root, {"kind": "report", "notebook": "triage.ipynb", "run": "reports/20261125T180100Z-triage",
                  "status": "ok"}, after_write=after_write)
    _write(root / "reports/20261125T180300Z-postmortem/postmortem.html", "<html>pm</html>")
    record(root, {"kind": "report", "notebook": "postmortem.ipynb", "run": "reports/20261125T180300Z-postmortem",
                  "status": "ok"}, after_write=after_write)
    return root


def _edit_json(path: Path, change: Callable[[dict], None]) -> None:
    value = json.loads(path.read_text())
    change(value)
    path.write_text(json.dumps(value))


RUN = "reports/20261125T180100Z-triage"
TXT = "transcripts/20261125T180200Z-vm-a.txt"
EVIDENCE = "evidence/20261125T180000Z"


def _forge_extra(root: Path) -> None:
    newest = (root / "manifest.json").read_bytes()
    forged = json.loads(newest)
    forged.update(sequence=4, previous={"manifest": manifest_name(3), "sha256": hashlib.sha256(newest).hexdigest()})
    forged["history"].append({"sequence": 4, **forged["event"]})
    (root / "manifests/0004.json").write_text(json.dumps(forged))


def _claim(sequence: object) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        _edit_json(root / "manifest.json", lambda m: m.update(sequence=sequence))
    return tamper


def _replace_with_dir(rel: str) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        (root / rel).unlink()
        (root / rel).mkdir()
    return tamper


def _link(rel: str, target: str, *, replace: bool = False) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        if replace:
            (root / rel).unlink()
        (root / rel).symlink_to(target)
    return tamper


def _fifo(rel: str) -> Callable[[Path], None]:
    return lambda root: os.mkfifo(root / rel)


#: tamper name → (what to do, a fragment the one-line reason names)
CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "edit a file": (lambda r: (r / RUN / "triage.html").write_text("<html>rewritten</html>"),
                    f"altered: {RUN}/triage.html"),
    "add a file": (lambda r: _write(r / RUN / "planted.html", "x"), f"added: {RUN}/planted.html"),
    "remove a file": (lambda r: (r / TXT).unlink(), f"removed: {TXT}"),
    "rename a file": (lambda r: (r / RUN / "triage.html").rename(r / RUN / "other.html"),
                      f"removed: {RUN}/triage.html"),
    "truncate a file": (lambda r: (r / RUN / "triage.json").write_text(""), f"altered: {RUN}/triage.json"),
    "edit an old manifest": (lambda r: _edit_json(r / "manifests/0001.json", lambda m: m.update(files=[])),
                             "manifests/0001.json does not match the hash recorded in manifests/0002.json"),
    "remove an old manifest": (lambda r: (r / "manifests/0002.json").unlink(), "manifests/0002.json is missing"),
    "forge an extra manifest": (_forge_extra, "manifests/0004.json is not part of the chain"),
    "misnamed file in manifests/": (lambda r: _write(r / "manifests/notes.txt", "x"),
                                    "manifests/notes.txt is not part of the chain"),
    "edit the newest copy only": (lambda r: _edit_json(r / "manifest.json", lambda m: m["event"].update(status="x")),
                                  "manifest.json differs from manifests/0003.json"),
    "rewrite old history": (lambda r: _edit_json(r / "manifests/0002.json", lambda m: m["history"][0].update(
        kind="x")), "manifests/0002.json does not match the hash recorded in manifests/0003.json"),
    "rewrite the newest history": (lambda r: [_edit_json(r / n, lambda m: m["history"][0].update(kind="x"))
                                              for n in ("manifests/0003.json", "manifest.json")],
                                   "manifests/0003.json does not extend the history of the manifest before it"),
    "manifest {}": (lambda r: (r / "manifest.json").write_text("{}"), "manifest.json has no valid sequence number"),
    "sequence -3": (_claim(-3), "manifest.json has no valid sequence number (-3"),
    "sequence 1.5": (_claim(1.5), "no valid sequence number (1.5"),
    "sequence true": (_claim(True), "no valid sequence number (True"),
    "sequence 1e9": (_claim(10**9), "manifests/0004.json to manifests/1000000000.json are missing (999,999,997"),
    "one-line manifest claiming 1e9": (
        lambda r: (r / "manifest.json").write_text('{"format": "kit-archive/1", "sequence": 1000000000}'),
        "manifests/0004.json to manifests/1000000000.json are missing"),
    "non-JSON manifest": (lambda r: (r / "manifest.json").write_text("this is not json {"),
                          "manifest.json is not valid JSON (line 1, column 1)"),
    "manifest.json is a folder": (_replace_with_dir("manifest.json"), "manifest.json is a folder"),
    "an old manifest is a folder": (_replace_with_dir("manifests/0001.json"),
                                    "manifests/0001.json is a folder, not a manifest"),
    "manifest.json is a link": (_link("manifest.json", "manifests/0002.json", replace=True),
                                "manifest.json is a symbolic link to 'manifests/0002.json'"),
    "manifests/ is a link": (lambda r: (shutil.move(r / "manifests", r / "elsewhere"),
                                        (r / "manifests").symlink_to("elsewhere")),
                             "manifests is a symbolic link"),
    "file link in evidence/": (_link(f"{EVIDENCE}/vm-a/passwd", "/etc/passwd"),
                               f"{EVIDENCE}/vm-a/passwd is a symbolic link to '/etc/passwd'"),
    "file link in transcripts/": (_link(TXT, "/etc/passwd", replace=True),
                                  f"{TXT} is a symbolic link to '/etc/passwd' (where a file was recorded)"),
    "file link in reports/": (_link(f"{RUN}/triage.json", "/etc/passwd", replace=True),
                              f"{RUN}/triage.json is a symbolic link"),
    "folder link in evidence/": (_link("evidence/etc", "/etc"), "evidence/etc is a symbolic link to '/etc'"),
    "folder link in transcripts/": (_link("transcripts/etc", "/etc"), "transcripts/etc is a symbolic link"),
    "folder link in reports/": (_link("reports/etc", "/etc"), "reports/etc is a symbolic link"),
    "FIFO in evidence/": (_fifo(f"{EVIDENCE}/pipe"), f"{EVIDENCE}/pipe is a FIFO"),
    "FIFO in transcripts/": (_fifo("transcripts/pipe.txt"), "transcripts/pipe.txt is a FIFO"),
    "FIFO in reports/": (_fifo(f"{RUN}/pipe"), f"{RUN}/pipe is a FIFO"),
    "FIFO as an old manifest": (lambda r: ((r / "manifests/0001.json").unlink(), os.mkfifo(r / "manifests/0001.json")),
                                "manifests/0001.json is a FIFO"),
    "link as the lock file": (_link(".lock", "/etc/passwd", replace=True), ".lock is a symbolic link"),
    "file as the staging area": (lambda r: (shutil.rmtree(r / ".staging"), _write(r / ".staging", "x")),
                                 ".staging is a regular file"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_tampering_is_detected_in_one_line(tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = _archive(tmp_path / "INC-T")
    assert verify_archive(root).ok
    tamper, reason = CASES[case]
    tamper(root)
    began = time.monotonic()
    result = verify_archive(root)
    assert time.monotonic() - began < 5, "verify is linear in what is on disk, not in what a manifest claims"
    assert not result.ok
    assert any(reason in line for line in result.lines()), result.lines()
    assert main(["verify", str(root)]) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    assert reason in text and "Traceback" not in text and "internal error" not in text
    assert all(line.strip() for line in text.splitlines()), "one finding per line"
    if case == "add a file":  # a writer that does not stage may have put it there: recorded, and named
        with staged(root, "triage") as stage:
            event = json.loads(stage.commit({"kind": "report"}).read_text())["event"]
        assert event["adopted"] == [f"{RUN}/planted.html"]
        return
    with pytest.raises(ArchiveError, match="refusing to append|not a manifest|not valid JSON|valid sequence|link|"
                                           "not a folder|regular file|FIFO"):
        record(root, {"kind": "note"})
    assert "/etc/passwd" not in (root / "manifest.json").read_text(errors="replace") if (
        root / "manifest.json").is_file() and not (root / "manifest.json").is_symlink() else True


def test_a_claimed_billion_manifests_costs_nothing(tmp_path: Path) -> None:
    root = tmp_path / "INC-1E9"
    root.mkdir()
    (root / "manifest.json").write_text('{"format": "kit-archive/1", "sequence": 1000000000}')
    began = time.monotonic()
    result = verify_archive(root)
    assert time.monotonic() - began < 1.0
    assert "manifests/0001.json to manifests/1000000000.json are missing (1,000,000,000 manifests)" in \
        result.chain_errors


def test_verify_of_ten_thousand_files_is_linear(tmp_path: Path) -> None:
    root = tmp_path / "INC-10K"
    for folder in range(100):
        for index in range(100):
            _write(root / f"evidence/b{folder:03d}/f{index:03d}.json", f'{{"n": {folder * 100 + index}}}\n')
    began = time.monotonic()
    record(root, {"kind": "evidence"})
    recorded = time.monotonic() - began
    began = time.monotonic()
    result = verify_archive(root)
    took = time.monotonic() - began
    print(f"10,000 files: record {recorded:.2f} s, verify {took:.2f} s")
    assert result.ok and result.files == 10_000
    assert took < 30


# ---------------------------------------------------------------------- what cannot be detected alone
def _recompute(root: Path) -> None:
    """An attacker with write access: change a file, delete the chain, record it again from scratch."""
    (root / RUN / "triage.json").write_text(json.dumps({"vm": "someone-else"}))
    shutil.rmtree(root / "manifests")
    (root / "manifest.json").unlink()
    record(root, {"kind": "evidence"})


def _roll_back(root: Path) -> None:
    """An attacker removes the newest run and its manifest, and points manifest.json at the one before."""
    shutil.rmtree(root / "reports/20261125T180300Z-postmortem")
    (root / "manifests/0003.json").unlink()
    shutil.copy(root / "manifests/0002.json", root / "manifest.json")


def _rewrite_newest(root: Path) -> None:
    """An attacker edits a report and its entry in the newest manifest (both copies): nothing later holds its hash."""
    (root / "reports/20261125T180300Z-postmortem/postmortem.html").write_text("<html>nothing happened</html>")
    digest = hashlib.sha256(b"<html>nothing happened</html>").hexdigest()

    def change(manifest: dict) -> None:
        for entry in manifest["files"]:
            if entry["path"].endswith("postmortem.html"):
                entry.update(sha256=digest, bytes=len("<html>nothing happened</html>"))
    _edit_json(root / "manifests/0003.json", change)
    shutil.copy(root / "manifests/0003.json", root / "manifest.json")


UNSEEN_ALONE = [(_recompute, LIMIT_RECOMPUTED), (_rewrite_newest, LIMIT_RECOMPUTED), (_roll_back, LIMIT_ROLLBACK)]


@pytest.mark.parametrize(("tamper", "limit"), UNSEEN_ALONE)
def test_what_verify_cannot_detect_alone_is_said(tmp_path: Path, tamper: Callable[[Path], None], limit: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = _archive(tmp_path / "INC-L")
    tamper(root)
    result = verify_archive(root)
    assert result.ok, "undetectable without a signer or witness: this is what `limits` says"
    assert LIMITS[limit] in result.limits
    assert main(["verify", str(root)]) == 0
    assert f"not checked: {LIMITS[limit]}" in capsys.readouterr().out


# ---------------------------------------------------------------------- readers never follow links
def test_read_manifest_refuses_a_linked_or_malformed_manifest(tmp_path: Path) -> None:
    root = _archive(tmp_path / "INC-R")
    (root / "manifest.json").unlink()
    (root / "manifest.json").symlink_to("manifests/0003.json")
    with pytest.raises(ArchiveError, match="symbolic link"):
        read_manifest(root)
    (root / "manifest.json").unlink()
    (root / "manifest.json").write_text('{"sequence": 1}')
    with pytest.raises(ArchiveError, match="not a kit-archive/1 manifest.*kit verify"):
        read_manifest(root)


def test_the_postmortem_readers_skip_links_with_a_warning(tmp_path: Path) -> None:
    from kit.report import postmortem as pm

    root = _archive(tmp_path / "INC-P")
    (root / TXT).unlink()
    (root / TXT).symlink_to("/etc/passwd")
    (root / RUN / "triage.json").rename(root / RUN / "real.json")
    (root / RUN / "triage.json").symlink_to(root / RUN / "real.json")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sessions = pm.transcripts(root)
        record_ = pm.read_incident(root)
    assert sessions and sessions[0]["tail"] == [] and "root:" not in json.dumps(sessions)
    assert record_.triage is None, "a linked triage.json is not read"
    messages = [str(w.message) for w in caught]
    assert any(TXT in m and "symbolic link to '/etc/passwd'" in m for m in messages)
    assert any("triage.json" in m and "symbolic link" in m for m in messages)

    (root / RUN / "triage.json").unlink()
    (root / RUN / "real.json").rename(root / RUN / "triage.json")
    (root / f"{EVIDENCE}/vm-a/serial.log").unlink()
    (root / f"{EVIDENCE}/vm-a/serial.log").symlink_to("/etc/shadow")
    incident = pm.read_incident(root)
    assert incident.triage is not None
    with pytest.warns(UserWarning, match="evidence bundle of vm-a.*link"):
        assert incident.bundle_path("vm-a") is None
    (root / "transcripts").rename(root / "transcripts-real")
    (root / "transcripts").symlink_to("transcripts-real")
    with pytest.warns(UserWarning, match="transcripts.*symbolic link"):
        assert pm.transcripts(root) == []


def test_a_report_into_an_archive_holding_a_link_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny = Path(__file__).parents[1] / "report" / "data" / "tiny.ipynb"
    root = _archive(tmp_path / "INC-X")
    (root / TXT).unlink()
    (root / TXT).symlink_to("/etc/passwd")
    assert main(["report", str(tiny), "--incident", "INC-X", "--archive", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refusing to append" in err and "symbolic link" in err
    assert not (root / "reports").joinpath("tiny").exists() and read_manifest(root)["sequence"] == 3


# ---------------------------------------------------------------------- with a signer and a witness, nothing passes
@pytest.fixture
def seal(tmp_path: Path) -> tuple[AfterWrite, list[str]]:
    """The responder's SSH key signing, a witness file outside the archive; the matching ``kit verify`` options."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed (apt-get install openssh-client)")
    key = tmp_path / "keys/id_ed25519"
    key.parent.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "oncall", "-f", str(key)], check=True,
                   stdin=subprocess.DEVNULL)
    allowed = _write(tmp_path / "keys/allowed_signers",
                     f'oncall@example.com namespaces="{NAMESPACE}" {Path(f"{key}.pub").read_text()}')
    witness = tmp_path / "witness/heads.jsonl"
    after_write = after_each(ssh_signer(key), witness_append(FileWitness(witness)))
    assert after_write is not None
    return after_write, ["--allowed-signers", str(allowed), "--witness", str(witness)]


SEALED_CASES = {**{name: tamper for name, (tamper, _) in CASES.items()},
                **{tamper.__name__.strip("_").replace("_", " "): tamper for tamper, _ in UNSEEN_ALONE}}


@pytest.mark.parametrize("case", sorted(SEALED_CASES))
def test_with_signer_and_witness_every_tampering_is_detected(tmp_path: Path, case: str,
                                                             seal: tuple[AfterWrite, list[str]],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    after_write, options = seal
    root = _archive(tmp_path / "archive/INC-S", after_write)
    assert main(["verify", str(root), *options]) == 0
    out = capsys.readouterr().out
    assert "not checked" not in out, "with both, verify has nothing left to admit"
    assert "checked: every manifest's SSH signature" in out and "checked: every manifest's hash against" in out
    SEALED_CASES[case](root)
    assert main(["verify", str(root), *options]) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and out.out.strip()
