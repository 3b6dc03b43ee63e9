"""The witness: heads appended outside the archive, and what comparing them with the chain reveals.

The end-to-end tests record a real archive with ``record()``; one calls the signer and the witness
by hand, one drives them through ``record(after_write=…)`` and ``verify_archive(checks=[…])``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from kit.archive import record, verify_archive
from kit.archive.hooks import after_each
from kit.archive.signing import NAMESPACE, signature_check, ssh_signer
from kit.archive.witness import (
    FileWitness,
    Head,
    head_of,
    parse_head_lines,
    witness_append,
    witness_check,
)
from kit.errors import WitnessError


def _chain(root: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in sorted((root / "manifests").glob("*.json"))]


def _run(root: Path, n: int, witness: FileWitness | None = None) -> Path:
    """One report run: a file, then a manifest recorded and (like after_write) witnessed."""
    folder = root / "reports" / f"run-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "triage.html").write_text(f"<p>run {n} of {root.name}</p>")
    written = record(root, {"kind": "report", "notebook": "triage.ipynb", "run": n})
    if witness is not None:
        witness_append(witness)(written, written.read_bytes())
    return written


def _roll_back_to(root: Path, sequence: int) -> None:
    """What someone erasing the newest runs does: their manifests and files go, manifest.json steps back."""
    for path in sorted((root / "manifests").glob("*.json")):
        if int(path.stem) > sequence:
            path.unlink()
    for run in (root / "reports").iterdir():
        if int(run.name.split("-")[1]) > sequence:
            shutil.rmtree(run)
    shutil.copyfile(root / "manifests" / f"{sequence:04d}.json", root / "manifest.json")


def test_file_witness_appends_and_reads_back_heads_per_incident(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "witness" / "heads.jsonl")
    assert witness.heads("INC-1") == [], "no file yet: nothing witnessed"
    witness.append(Head("INC-1", 1, "a" * 64))
    witness.append(Head("INC-2", 1, "b" * 64))
    witness.append(Head("INC-1", 2, "c" * 64))
    assert [(h.sequence, h.sha256[0]) for h in witness.heads("INC-1")] == [(1, "a"), (2, "c")]
    assert [h.incident for h in witness.heads("INC-2")] == ["INC-2"]
    lines = (tmp_path / "witness" / "heads.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["format"] == "kit-witness/1"
    assert all(json.loads(line)["recorded_at"].endswith("Z") for line in lines)
    assert witness.name == str(tmp_path / "witness" / "heads.jsonl")


def test_the_head_of_a_manifest_is_its_incident_sequence_and_hash(tmp_path: Path) -> None:
    root = tmp_path / "INC-9"
    written = _run(root, 1)
    data = written.read_bytes()
    assert head_of(written, data) == Head("INC-9", 1, hashlib.sha256(data).hexdigest())
    with pytest.raises(WitnessError, match="cannot witness"):
        head_of(tmp_path / "x" / "manifests" / "0001.json", b'{"incident": "../etc", "sequence": 1}')


def test_concurrent_appends_stay_whole_lines(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "heads.jsonl")

    def many(worker: int) -> None:
        for n in range(50):
            witness.append(Head(f"INC-{worker}", n + 1, f"{worker:x}" * 64))

    threads = [threading.Thread(target=many, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in range(8):
        assert [h.sequence for h in witness.heads(f"INC-{worker}")] == list(range(1, 51))


def test_an_intact_witnessed_archive_has_no_findings(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "heads.jsonl")
    root = tmp_path / "archive" / "INC-7"
    for n in range(1, 4):
        _run(root, n, witness)
    assert witness_check(witness)(root, _chain(root)) == []


def test_a_rollback_of_the_newest_runs_is_named(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "heads.jsonl")
    root = tmp_path / "archive" / "INC-7"
    for n in range(1, 5):
        _run(root, n, witness)
    _roll_back_to(root, 2)
    assert verify_archive(root).ok, "the chain alone cannot see it: what is left is intact"
    assert witness_check(witness)(root, _chain(root)) == [
        f"the witness {witness.name} recorded manifests 3–4 of INC-7, but the archive ends at manifest 2: "
        "the newest history was rolled back (removed)"]


def test_a_fork_is_named(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "heads.jsonl")
    original = tmp_path / "laptop-a" / "INC-7"
    for n in range(1, 3):
        _run(original, n, witness)
    copy = tmp_path / "laptop-b" / "INC-7"
    shutil.copytree(original, copy)
    _run(original, 3, witness)
    (copy / "reports" / "run-3").mkdir()
    (copy / "reports" / "run-3" / "notes.txt").write_text("another responder's run 3")
    written = record(copy, {"kind": "report", "notebook": "postmortem.ipynb"})
    witness_append(witness)(written, written.read_bytes())
    for folder in (original, copy):
        assert witness_check(witness)(folder, _chain(folder)) == [
            f"the witness {witness.name} holds 2 different manifests with sequence 3 for INC-7: two histories were "
            "recorded (a fork), and at most one of them is this archive's"]


def test_a_rewritten_history_is_named_where_it_diverges(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "heads.jsonl")
    root = tmp_path / "archive" / "INC-7"
    for n in range(1, 4):
        _run(root, n, witness)
    # someone rebuilds the chain from manifest 2 on, consistently, and never tells the witness
    _roll_back_to(root, 1)
    for n in (2, 3):
        (root / "reports" / f"run-{n}").mkdir(parents=True)
        (root / "reports" / f"run-{n}" / "triage.html").write_text("<p>a nicer story</p>")
        record(root, {"kind": "report", "notebook": "triage.ipynb", "run": n})
    assert verify_archive(root).ok
    ours = hashlib.sha256((root / "manifests" / "0002.json").read_bytes()).hexdigest()
    theirs = next(h.sha256 for h in witness.heads("INC-7") if h.sequence == 2)
    assert witness_check(witness)(root, _chain(root)) == [
        f"manifest 2 of INC-7 (sha256 {ours[:12]}…) is not the one the witness {witness.name} recorded (sha256 "
        f"{theirs[:12]}…): the history was rewritten or forked after it was witnessed; manifest 3 differs as well"]


def test_heads_missing_from_the_witness_are_named(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "heads.jsonl")
    root = tmp_path / "archive" / "INC-7"
    _run(root, 1)                 # before the witness was configured
    _run(root, 2, witness)
    _run(root, 3)                 # its append failed
    _run(root, 4)
    assert witness_check(witness)(root, _chain(root)) == [
        f"manifests 1, 3–4 of INC-7 are not in the witness {witness.name} (written without it, or its append failed): "
        "a rollback or rewrite of them could go unnoticed"]


def test_a_damaged_or_unreachable_witness_is_an_error_not_a_finding(tmp_path: Path) -> None:
    damaged = tmp_path / "heads.jsonl"
    damaged.write_text('{"format": "kit-witness/1", "incident": "INC-7", "sequence": 1, "sha256": "' + "a" * 64
                       + '"}\n{"incident": "INC-7", "sequ\n')
    with pytest.raises(WitnessError, match=r"heads.jsonl line 2 is not a witness record"):
        witness_check(FileWitness(damaged))(tmp_path / "INC-7", [])
    with pytest.raises(WitnessError, match="line 1 holds no valid sequence"):
        parse_head_lines(b'{"incident": "INC-7", "sequence": "1", "sha256": "ab"}\n', "w")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(WitnessError, match=r"cannot append to the witness .*not-a-folder/heads.jsonl: "):
        FileWitness(blocker / "heads.jsonl").append(Head("INC-7", 1, "a" * 64))


def test_after_each_runs_hooks_in_order_and_skips_none() -> None:
    calls: list[str] = []
    assert after_each(None, None) is None
    hook = after_each(lambda p, d: calls.append("sign"), None, lambda p, d: calls.append("witness"))
    assert hook is not None
    hook(Path("manifests/0001.json"), b"{}")
    assert calls == ["sign", "witness"]


# --- end to end: a signed, witnessed archive, tampered with in the three ways only these catch ---------------------

@pytest.fixture
def responder(tmp_path: Path) -> tuple[Path, Path]:
    """An ssh-keygen key for the responder and an allowed_signers file naming it."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed (apt-get install openssh-client)")
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "oncall", "-f", str(key)], check=True,
                   stdin=subprocess.DEVNULL)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'oncall@example.com namespaces="{NAMESPACE}" {Path(f"{key}.pub").read_text()}')
    return key, allowed


def test_end_to_end_signed_and_witnessed_without_the_hooks(tmp_path: Path, responder: tuple[Path, Path]) -> None:
    """The flow the hooks run, calling them by hand."""
    key, allowed = responder
    witness = FileWitness(tmp_path / "witness" / "heads.jsonl")
    hook = after_each(ssh_signer(key), witness_append(witness))
    assert hook is not None
    checks = [signature_check(allowed), witness_check(witness)]
    root = tmp_path / "archive" / "INC-42"
    for n in range(1, 5):
        (root / "evidence" / f"vm-{n}").mkdir(parents=True)
        (root / "evidence" / f"vm-{n}" / "serial.log").write_bytes(b"login: " * n)
        written = record(root, {"kind": "evidence", "bundles": [f"vm-{n}"]})
        hook(written, written.read_bytes())
    assert verify_archive(root).ok
    assert [problem for check in checks for problem in check(root, _chain(root))] == []
    # the newest two runs vanish; the signatures left behind give it away
    _roll_back_evidence(root, 2)
    assert [problem for check in checks for problem in check(root, _chain(root))] == [
        "manifests/0003.json.sig signs no manifest of the chain: a signed manifest was removed",
        "manifests/0004.json.sig signs no manifest of the chain: a signed manifest was removed",
        f"the witness {witness.name} recorded manifests 3–4 of INC-42, but the archive ends at manifest 2: "
        "the newest history was rolled back (removed)",
    ]
    # a careful attacker removes them too: the chain and the signatures are intact, only the witness still sees it
    for sig in ("0003.json.sig", "0004.json.sig"):
        (root / "manifests" / sig).unlink()
    assert verify_archive(root).ok
    assert [problem for check in checks for problem in check(root, _chain(root))] == [
        f"the witness {witness.name} recorded manifests 3–4 of INC-42, but the archive ends at manifest 2: "
        "the newest history was rolled back (removed)"]


def _roll_back_evidence(root: Path, sequence: int) -> None:
    for path in sorted((root / "manifests").glob("*.json")):
        if int(path.stem) > sequence:
            path.unlink()
    for folder in (root / "evidence").iterdir():
        if int(folder.name.split("-")[1]) > sequence:
            shutil.rmtree(folder)
    shutil.copyfile(root / "manifests" / f"{sequence:04d}.json", root / "manifest.json")


def test_end_to_end_through_record_after_write_and_verify_checks(tmp_path: Path,
                                                                 responder: tuple[Path, Path]) -> None:
    """The hooks wired as the runner and ``kit verify`` wire them."""
    key, allowed = responder
    witness = FileWitness(tmp_path / "witness" / "heads.jsonl")
    after_write = after_each(ssh_signer(key), witness_append(witness))
    checks = [signature_check(allowed), witness_check(witness)]
    root = tmp_path / "archive" / "INC-42"
    for n in range(1, 4):
        (root / "evidence" / f"vm-{n}").mkdir(parents=True)
        (root / "evidence" / f"vm-{n}" / "serial.log").write_bytes(b"login: " * n)
        record(root, {"kind": "evidence", "bundles": [f"vm-{n}"]}, after_write=after_write)
    assert sorted(p.name for p in (root / "manifests").iterdir()) == [
        "0001.json", "0001.json.sig", "0002.json", "0002.json.sig", "0003.json", "0003.json.sig"]
    assert [h.sequence for h in witness.heads("INC-42")] == [1, 2, 3]
    result = verify_archive(root, checks=checks)
    assert result.ok, result.lines()

    # 1. a signature removed
    (root / "manifests" / "0002.json.sig").unlink()
    result = verify_archive(root, checks=checks)
    assert not result.ok
    assert any("manifests/0002.json is not signed" in line for line in result.lines())

    # 2. the newest run rolled back
    shutil.copyfile(root / "manifests" / "0002.json", root / "manifest.json")
    (root / "manifests" / "0003.json").unlink()
    (root / "manifests" / "0003.json.sig").unlink()
    shutil.rmtree(root / "evidence" / "vm-3")
    result = verify_archive(root, checks=checks)
    assert not result.ok
    assert any("the newest history was rolled back" in line for line in result.lines())
