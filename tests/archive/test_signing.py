"""Signed manifests: interop with the real ssh-keygen both ways, allowed_signers, and what verify names.

Keys are made by ``ssh-keygen`` itself; signatures by ``ssh-keygen -Y sign`` are checked by the
kit's pure-Python verifier, and signatures the kit writes (and ones built here in Python with
``cryptography``) are checked by ``ssh-keygen -Y verify``. Debian: ``apt-get install openssh-client``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from kit.archive import record
from kit.archive.allowed_signers import match_pattern_list, parse_allowed_signers, read_allowed_signers
from kit.archive.signing import (
    KEY_ENV,
    NAMESPACE,
    signature_check,
    signature_path,
    signer_from_env,
    ssh_signer,
    verify_signatures,
)
from kit.archive.sshsig import SignatureFormatError, parse_signature, signed_data
from kit.errors import ArchiveError

SSH_KEYGEN = shutil.which("ssh-keygen")
pytestmark = pytest.mark.skipif(SSH_KEYGEN is None,
                                reason="ssh-keygen is not installed (apt-get install openssh-client)")
KINDS = ("ed25519", "rsa", "ecdsa")


def _keygen(path: Path, kind: str, passphrase: str = "", comment: str = "") -> Path:
    bits = ["-b", "2048"] if kind == "rsa" else []
    subprocess.run(["ssh-keygen", "-q", "-t", kind, *bits, "-N", passphrase, "-C", comment, "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL)
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Private keys made by ssh-keygen: alice has one of each kind, mallory an ed25519 one."""
    folder = tmp_path_factory.mktemp("keys")
    made = {kind: _keygen(folder / f"alice_{kind}", kind, comment="alice") for kind in KINDS}
    made["mallory"] = _keygen(folder / "mallory", "ed25519", comment="mallory")
    made["locked"] = _keygen(folder / "locked", "ed25519", passphrase="correct horse", comment="locked")
    return made


def _pub(key: Path) -> str:
    return Path(f"{key}.pub").read_text().split(" #")[0].strip()


def _allowed(tmp_path: Path, *lines: str, name: str = "allowed_signers") -> Path:
    path = tmp_path / name
    path.write_text("# who may sign the archive\n" + "\n".join(lines) + "\n")
    return path


def _ssh_verify(allowed: Path, principal: str, signature: Path, message: bytes,
                namespace: str = NAMESPACE) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", principal, "-n", namespace,
                           "-s", str(signature)], input=message, capture_output=True, check=False)


# --- ssh-keygen signs, Python verifies ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_signatures_made_by_ssh_keygen_verify_in_python(keys: dict[str, Path], tmp_path: Path, kind: str) -> None:
    message = tmp_path / "manifest.json"
    message.write_bytes(b'{"sequence": 1}\n')
    subprocess.run(["ssh-keygen", "-Y", "sign", "-f", str(keys[kind]), "-n", NAMESPACE, str(message)],
                   check=True, capture_output=True, stdin=subprocess.DEVNULL)
    signature = parse_signature(Path(f"{message}.sig").read_bytes())
    assert signature.namespace == NAMESPACE and signature.hash_algorithm == "sha512"
    assert signature.public_key.openssh == " ".join(_pub(keys[kind]).split()[:2])
    fingerprint = subprocess.run(["ssh-keygen", "-l", "-f", f"{keys[kind]}.pub"], capture_output=True, text=True,
                                 check=True).stdout.split()[1]
    assert signature.public_key.fingerprint == fingerprint
    assert signature.verify(message.read_bytes(), NAMESPACE)
    assert not signature.verify(message.read_bytes() + b" ", NAMESPACE), "one more byte must break it"
    assert not signature.verify(message.read_bytes(), "git"), "a signature is valid only in its namespace"


@pytest.mark.parametrize("garbage", [
    b"", b"not a signature", b"-----BEGIN SSH SIGNATURE-----\n!!!\n-----END SSH SIGNATURE-----\n",
    b"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n",
    b"-----BEGIN SSH SIGNATURE-----\nAAAA\n",
])
def test_malformed_signatures_are_refused_with_a_reason(garbage: bytes) -> None:
    with pytest.raises(SignatureFormatError):
        parse_signature(garbage)


# --- Python signs (sha256, rsa-sha2-256), ssh-keygen verifies -------------------------------------------------------

def _string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def _mpint(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return _string(b"\0" + raw if raw and raw[0] & 0x80 else raw)  # a leading 0 keeps the sign bit clear


def _python_sshsig(key_path: Path, message: bytes, namespace: str, hash_algorithm: str) -> bytes:
    """An armored sshsig made without OpenSSH, straight from PROTOCOL.sshsig."""
    private = serialization.load_ssh_private_key(key_path.read_bytes(), password=None)
    public = base64.b64decode(_pub(key_path).split()[1])
    data = signed_data(message, namespace, hash_algorithm)
    if isinstance(private, ed25519.Ed25519PrivateKey):
        inner = _string(b"ssh-ed25519") + _string(private.sign(data))
    elif isinstance(private, rsa.RSAPrivateKey):
        inner = _string(b"rsa-sha2-256") + _string(private.sign(data, padding.PKCS1v15(), hashes.SHA256()))
    else:
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
        inner = _string(b"ecdsa-sha2-nistp256") + _string(_mpint(r) + _mpint(s))
    blob = (b"SSHSIG" + (1).to_bytes(4, "big") + _string(public) + _string(namespace.encode()) + _string(b"")
            + _string(hash_algorithm.encode()) + _string(inner))
    body = base64.b64encode(blob).decode()
    lines = [body[i:i + 70] for i in range(0, len(body), 70)]
    return ("-----BEGIN SSH SIGNATURE-----\n" + "\n".join(lines) + "\n-----END SSH SIGNATURE-----\n").encode()


@pytest.mark.parametrize("kind", KINDS)
def test_signatures_built_from_the_protocol_text_verify_with_ssh_keygen(keys: dict[str, Path], tmp_path: Path,
                                                                         kind: str) -> None:
    message = b'{"sequence": 7}\n'
    signature = tmp_path / "m.sig"
    signature.write_bytes(_python_sshsig(keys[kind], message, NAMESPACE, "sha256"))
    allowed = _allowed(tmp_path, f"alice@example.com {_pub(keys[kind])}")
    done = _ssh_verify(allowed, "alice@example.com", signature, message)
    assert done.returncode == 0, done.stderr
    assert b'Good "kit-archive" signature for alice@example.com' in done.stdout
    parsed = parse_signature(signature.read_bytes())
    assert parsed.hash_algorithm == "sha256" and parsed.verify(message, NAMESPACE)
    assert _ssh_verify(allowed, "alice@example.com", signature, message + b"x").returncode != 0


def test_legacy_ssh_rsa_sha1_signatures_are_refused_by_both(keys: dict[str, Path], tmp_path: Path) -> None:
    message = b'{"sequence": 7}\n'
    private = serialization.load_ssh_private_key(keys["rsa"].read_bytes(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    data = signed_data(message, NAMESPACE, "sha512")
    inner = _string(b"ssh-rsa") + _string(private.sign(data, padding.PKCS1v15(), hashes.SHA1()))
    public = base64.b64decode(_pub(keys["rsa"]).split()[1])
    blob = (b"SSHSIG" + (1).to_bytes(4, "big") + _string(public) + _string(NAMESPACE.encode()) + _string(b"")
            + _string(b"sha512") + _string(inner))
    signature = tmp_path / "m.sig"
    signature.write_text(f"-----BEGIN SSH SIGNATURE-----\n{base64.b64encode(blob).decode()}\n"
                         "-----END SSH SIGNATURE-----\n")
    assert not parse_signature(signature.read_bytes()).verify(message, NAMESPACE)
    allowed = _allowed(tmp_path, f"alice@example.com {_pub(keys['rsa'])}")
    assert _ssh_verify(allowed, "alice@example.com", signature, message).returncode != 0


# --- the kit's signer: after_write hook, verified by ssh-keygen -----------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_the_kit_signer_writes_signatures_ssh_keygen_accepts(keys: dict[str, Path], tmp_path: Path, kind: str) -> None:
    manifest = tmp_path / "manifests" / "0001.json"
    manifest.parent.mkdir()
    data = b'{"sequence": 1, "incident": "INC-1"}\n'
    manifest.write_bytes(data)
    signer = ssh_signer(keys[kind])
    assert signer.public_key is not None and signer.public_key.openssh == " ".join(_pub(keys[kind]).split()[:2])
    signer(manifest, data)
    sig = signature_path(manifest)
    assert sig.name == "0001.json.sig" and sig.read_bytes().startswith(b"-----BEGIN SSH SIGNATURE-----\n")
    allowed = _allowed(tmp_path, f'alice@example.com namespaces="{NAMESPACE}" {_pub(keys[kind])}')
    assert _ssh_verify(allowed, "alice@example.com", sig, data).returncode == 0
    found = subprocess.run(["ssh-keygen", "-Y", "find-principals", "-f", str(allowed), "-s", str(sig)],
                           capture_output=True, text=True, check=True)
    assert found.stdout.split() == ["alice@example.com"]
    [result] = verify_signatures(tmp_path, [(manifest, data)], read_allowed_signers(allowed))
    assert result.ok and result.principals == ("alice@example.com",) and result.manifest == "manifests/0001.json"
    assert not list(tmp_path.rglob("*.tmp")), "the signature is written atomically"


def test_python_and_ssh_keygen_agree_on_what_they_refuse(keys: dict[str, Path], tmp_path: Path) -> None:
    manifest = tmp_path / "manifests" / "0001.json"
    manifest.parent.mkdir()
    data = b'{"sequence": 1}\n'
    manifest.write_bytes(data)
    ssh_signer(keys["ed25519"])(manifest, data)
    sig = signature_path(manifest)
    key = _pub(keys["ed25519"])
    allowed = _allowed(tmp_path, f"alice@example.com {key}")
    cases = {
        "altered": (allowed, data.replace(b"1", b"2")),
        "not listed": (_allowed(tmp_path, f"alice@example.com {_pub(keys['mallory'])}", name="other"), data),
        "wrong namespace": (_allowed(tmp_path, f'alice@example.com namespaces="git" {key}', name="git"), data),
        "expired": (_allowed(tmp_path, f'alice@example.com valid-before="20200101Z" {key}', name="old"), data),
    }
    for case, (signers, message) in cases.items():
        ours = verify_signatures(tmp_path, [(manifest, message)], read_allowed_signers(signers))[0]
        theirs = _ssh_verify(signers, "alice@example.com", sig, message)
        assert not ours.ok and theirs.returncode != 0, case
    assert verify_signatures(tmp_path, [(manifest, data)], read_allowed_signers(allowed))[0].ok
    assert _ssh_verify(allowed, "alice@example.com", sig, data).returncode == 0


# --- allowed_signers ------------------------------------------------------------------------------------------------

def test_allowed_signers_lines_with_options_quotes_and_comments(keys: dict[str, Path], tmp_path: Path) -> None:
    ed, rsa_key, ecdsa_key = (_pub(keys[k]) for k in KINDS)
    allowed = _allowed(
        tmp_path,
        "",
        f"alice@example.com {ed} alice's laptop",
        f'"bob@example.com,oncall@example.com" namespaces="kit-archive,git",valid-after="20200101" {rsa_key}',
        f'carol@example.com VALID-BEFORE="20991231235959Z",namespaces="file" {ecdsa_key}',
        f"*@example.com cert-authority {_pub(keys['mallory'])}",
        "   # indented comment",
    )
    signers = read_allowed_signers(allowed)
    assert [s.principals for s in signers] == ["alice@example.com", "bob@example.com,oncall@example.com",
                                               "carol@example.com", "*@example.com"]
    assert signers[0].namespaces is None and signers[0].key.kind == "ssh-ed25519"
    assert signers[1].namespaces == "kit-archive,git" and signers[1].valid_after is not None
    assert signers[2].valid_before is not None and signers[2].valid_before.year == 2099
    assert signers[3].cert_authority and signers[3].line == f"{allowed}:6"
    assert signers[1].refusal(NAMESPACE, signers[1].valid_after) is None
    assert "namespaces" in (signers[2].refusal(NAMESPACE, None) or "")
    # ssh-keygen reads the same file the same way
    for kind, principals in (("rsa", "bob@example.com,oncall@example.com"), ("ecdsa", "carol@example.com")):
        message = tmp_path / f"{kind}.txt"
        message.write_bytes(b"x")
        namespace = "file" if kind == "ecdsa" else NAMESPACE
        subprocess.run(["ssh-keygen", "-Y", "sign", "-f", str(keys[kind]), "-n", namespace, str(message)],
                       check=True, capture_output=True, stdin=subprocess.DEVNULL)
        found = subprocess.run(["ssh-keygen", "-Y", "find-principals", "-f", str(allowed), "-s", f"{message}.sig"],
                               capture_output=True, text=True, check=False)
        assert found.stdout.split() == principals.split(","), found.stderr


@pytest.mark.parametrize(("line", "complaint"), [
    ("alice@example.com", "no key"),
    ("alice@example.com ssh-ed25519", "no key after the key type"),
    ("alice@example.com ssh-ed25519 notbase64!!", "not an SSH public key"),
    ('alice@example.com no-touch-required {key}', "unknown option"),
    ('alice@example.com namespaces=git {key}', "double-quoted"),
    ('alice@example.com valid-after="2020" {key}', "YYYYMMDD"),
    ('alice@example.com namespaces="git",namespaces="file" {key}', "twice"),
    ('"alice@example.com {key}', "quote"),
])
def test_a_malformed_allowed_signers_line_is_an_error_naming_file_and_line(keys: dict[str, Path], line: str,
                                                                          complaint: str) -> None:
    text = "# ok\n" + line.format(key=_pub(keys["ed25519"])) + "\n"
    with pytest.raises(ArchiveError, match=complaint) as caught:
        parse_allowed_signers(text, "team/allowed_signers")
    assert str(caught.value).startswith("team/allowed_signers:2: ") and "\n" not in str(caught.value)


def test_an_unreadable_or_empty_allowed_signers_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="cannot read the allowed signers file"):
        read_allowed_signers(tmp_path / "missing")
    (tmp_path / "empty").write_text("# nobody\n")
    with pytest.raises(ArchiveError, match="lists no signer"):
        signature_check(tmp_path / "empty")


def test_pattern_lists_follow_ssh_config() -> None:
    assert match_pattern_list("kit-archive", "git,kit-*")
    assert match_pattern_list("kit-archive", "*")
    assert not match_pattern_list("kit-archive", "*,!kit-archive")
    assert not match_pattern_list("kit-archive", "kit-archiv?x")
    assert match_pattern_list("a.b", "a.b") and not match_pattern_list("axb", "a.b")


# --- the archive: every manifest signed, and what the check names ---------------------------------------------------

def _chain(root: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in sorted((root / "manifests").glob("*.json"))]


@pytest.fixture
def signed_archive(keys: dict[str, Path], tmp_path: Path) -> Path:
    """Three manifests recorded by ``record`` and signed by alice, as ``after_write`` does it."""
    root = tmp_path / "archive" / "INC-7"
    sign = ssh_signer(keys["ed25519"])
    for n in range(1, 4):
        (root / "reports" / f"run-{n}").mkdir(parents=True)
        (root / "reports" / f"run-{n}" / "triage.html").write_text(f"<p>run {n}</p>")
        written = record(root, {"kind": "report", "notebook": "triage.ipynb", "run": n})
        sign(written, written.read_bytes())
    return root


@pytest.fixture
def allowed(keys: dict[str, Path], tmp_path: Path) -> Path:
    return _allowed(tmp_path, f'alice@example.com namespaces="{NAMESPACE}" {_pub(keys["ed25519"])}',
                    f"bob@example.com {_pub(keys['rsa'])}")


def test_an_intact_signed_archive_has_no_findings(signed_archive: Path, allowed: Path) -> None:
    chain = _chain(signed_archive)
    assert signature_check(allowed)(signed_archive, chain) == []
    results = verify_signatures(signed_archive, chain, read_allowed_signers(allowed))
    assert [r.principals for r in results] == [("alice@example.com",)] * 3
    for path, data in chain:  # and ssh-keygen agrees on every one
        assert _ssh_verify(allowed, "alice@example.com", signature_path(path), data).returncode == 0


def test_a_tampered_manifest_is_named(signed_archive: Path, allowed: Path) -> None:
    path = signed_archive / "manifests" / "0002.json"
    manifest = json.loads(path.read_bytes())
    manifest["event"]["notebook"] = "nothing-to-see.ipynb"
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    problems = signature_check(allowed)(signed_archive, _chain(signed_archive))
    assert problems == ["manifests/0002.json.sig does not verify: manifests/0002.json was altered after it was "
                        "signed, or the signature was made for other bytes"]


def test_a_manifest_rewritten_and_signed_again_by_someone_else_is_named(signed_archive: Path, allowed: Path,
                                                                        keys: dict[str, Path]) -> None:
    path = signed_archive / "manifests" / "0003.json"
    path.write_bytes(path.read_bytes().replace(b"run-3", b"run-X"))
    ssh_signer(keys["mallory"])(path, path.read_bytes())
    [problem] = signature_check(allowed)(signed_archive, _chain(signed_archive))
    mallory = parse_signature(signature_path(path).read_bytes()).public_key.fingerprint
    assert problem == (f"manifests/0003.json is signed by ssh-ed25519 key {mallory}, which {allowed} does not list: "
                       "the signer is not allowed")


def test_a_signature_moved_from_another_manifest_does_not_verify(signed_archive: Path, allowed: Path) -> None:
    manifests = signed_archive / "manifests"
    shutil.copyfile(manifests / "0003.json.sig", manifests / "0002.json.sig")
    [problem] = signature_check(allowed)(signed_archive, _chain(signed_archive))
    assert problem.startswith("manifests/0002.json.sig does not verify")


def test_missing_unreadable_and_planted_signatures_are_named(signed_archive: Path, allowed: Path) -> None:
    manifests = signed_archive / "manifests"
    (manifests / "0001.json.sig").unlink()
    (manifests / "0003.json.sig").write_text("-----BEGIN PGP SIGNATURE-----\n")
    assert signature_check(allowed)(signed_archive, _chain(signed_archive)) == [
        "manifests/0001.json is not signed: manifests/0001.json.sig is missing",
        "manifests/0003.json.sig is not an SSH signature: the signature file does not start with "
        "-----BEGIN SSH SIGNATURE-----",
    ]
    (manifests / "0001.json.sig").symlink_to(manifests / "0002.json.sig")
    os.mkfifo(manifests / "0002.json.sig.fifo")
    (manifests / "0002.json.sig").unlink()
    (manifests / "0002.json.sig.fifo").rename(manifests / "0002.json.sig")  # reading it would block
    (manifests / "0003.json.sig").write_bytes(b"-----BEGIN SSH SIGNATURE-----\n" + b"A" * 100_000)
    assert signature_check(allowed)(signed_archive, _chain(signed_archive)) == [
        "manifests/0001.json.sig is not a regular file (a link or a special file); it is not followed",
        "manifests/0002.json.sig is not a regular file (a link or a special file); it is not followed",
        "manifests/0003.json.sig is 100030 bytes, too large to be an SSH signature",
    ]


def test_a_key_allowed_only_elsewhere_or_expired_is_not_allowed(signed_archive: Path, keys: dict[str, Path],
                                                                tmp_path: Path) -> None:
    key = _pub(keys["ed25519"])
    git_only = _allowed(tmp_path, f'alice@example.com namespaces="git" {key}', name="git")
    problems = signature_check(git_only)(signed_archive, _chain(signed_archive))
    assert len(problems) == 3 and all("allows it only for namespaces 'git', not 'kit-archive'" in p for p in problems)
    expired = _allowed(tmp_path, f'alice@example.com valid-before="20200101Z" {key}', name="expired")
    problems = signature_check(expired)(signed_archive, _chain(signed_archive))
    assert len(problems) == 3 and all("valid only until 2020-01-01T00:00:00+00:00" in p for p in problems)


def test_a_gap_in_the_sequence_and_a_left_over_signature_are_named(signed_archive: Path, allowed: Path) -> None:
    chain = [item for item in _chain(signed_archive) if item[0].name != "0002.json"]
    (signed_archive / "manifests" / "0002.json").unlink()
    problems = signature_check(allowed)(signed_archive, chain)
    assert problems == [
        "manifests/0003.json holds sequence 3 where 2 was expected: the sequence numbers are not contiguous from 1 "
        "(a manifest was removed, added or renumbered)",
        "manifests/0002.json.sig signs no manifest of the chain: a signed manifest was removed",
    ]


def test_a_renamed_manifest_is_named(signed_archive: Path, allowed: Path) -> None:
    manifests = signed_archive / "manifests"
    chain = _chain(signed_archive)
    chain[2] = (manifests / "0004.json", chain[2][1])
    shutil.move(manifests / "0003.json", manifests / "0004.json")
    shutil.move(manifests / "0003.json.sig", manifests / "0004.json.sig")
    assert signature_check(allowed)(signed_archive, chain) == [
        "manifests/0004.json holds sequence 3, not the 4 its file name says"]


# --- what goes wrong with the key: one line saying what to do -------------------------------------------------------

def test_a_missing_key_or_a_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"the signing key .*nowhere does not exist \(KIT_ARCHIVE_SIGNING_KEY"):
        ssh_signer(tmp_path / "nowhere")
    with pytest.raises(ArchiveError, match=r"is not a file; point KIT_ARCHIVE_SIGNING_KEY at the key file itself"):
        ssh_signer(tmp_path)


def test_a_passphrase_protected_key_without_agent_says_ssh_add(keys: dict[str, Path],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    started = time.monotonic()
    with pytest.raises(ArchiveError, match=r"protected by a passphrase and no ssh-agent holds it: run `ssh-add ") as e:
        ssh_signer(keys["locked"])
    assert "\n" not in str(e.value)
    assert time.monotonic() - started < 10, "it must fail at once, never wait at a prompt"


def test_an_unreadable_key_is_one_line(keys: dict[str, Path], tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    key = tmp_path / "key"
    shutil.copyfile(keys["ed25519"], key)
    key.chmod(0)
    with pytest.raises(ArchiveError, match="is not readable"):
        ssh_signer(key)


def test_a_file_that_is_no_key_is_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "id_ed25519"
    bogus.write_text("this is not a key\n")
    with pytest.raises(ArchiveError, match=r"could not sign with .*id_ed25519: .*KIT_ARCHIVE_SIGNING_KEY must"):
        ssh_signer(bogus)


def test_a_missing_or_hanging_ssh_keygen_is_one_line(keys: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"apt-get install openssh-client"):
        ssh_signer(keys["ed25519"], ssh_keygen=str(tmp_path / "no-ssh-keygen"))
    slow = tmp_path / "slow-ssh-keygen"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(slow.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(ArchiveError, match=r"did not sign within 0.5 s"):
        ssh_signer(keys["ed25519"], ssh_keygen=str(slow), timeout=0.5)


def test_the_key_comes_from_a_path_in_the_environment_never_the_key_itself(keys: dict[str, Path]) -> None:
    assert signer_from_env({}) is None
    assert signer_from_env({KEY_ENV: "  "}) is None
    signer = signer_from_env({KEY_ENV: str(keys["ed25519"])})
    assert signer is not None and signer.key == keys["ed25519"]
    secret = keys["ed25519"].read_text()
    with pytest.raises(ArchiveError, match="holds a key, not a path") as caught:
        signer_from_env({KEY_ENV: secret})
    assert "PRIVATE KEY" not in str(caught.value) and secret.splitlines()[1] not in str(caught.value)


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An ssh-agent of this test's own, on a socket in tmp_path; stopped (by its pid) after."""
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        pytest.skip("ssh-agent is not installed (apt-get install openssh-client)")
    socket = tmp_path / "agent.sock"
    process = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not socket.exists():
            assert time.monotonic() < deadline, "ssh-agent did not start"
            time.sleep(0.02)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket))
        yield socket
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_key_held_by_ssh_agent_signs_from_its_pub_or_its_locked_private_file(keys: dict[str, Path], agent: Path,
                                                                               tmp_path: Path) -> None:
    askpass = tmp_path / "askpass"
    askpass.write_text("#!/bin/sh\necho 'correct horse'\n")
    askpass.chmod(0o700)
    subprocess.run(["ssh-add", str(keys["locked"])], check=True, capture_output=True, stdin=subprocess.DEVNULL,
                   env={**os.environ, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force"})
    pub_only = tmp_path / "only-the-public-half.pub"
    shutil.copyfile(f"{keys['locked']}.pub", pub_only)
    data = b'{"sequence": 1}\n'
    for key in (pub_only, keys["locked"]):
        signer = ssh_signer(key)
        signature = parse_signature(signer.sign(data))
        assert signature.verify(data, NAMESPACE)
        assert signature.public_key.openssh == " ".join(_pub(keys["locked"]).split()[:2])
