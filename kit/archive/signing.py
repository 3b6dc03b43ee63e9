"""Signed manifests: each ``manifests/<n>.json`` gets an SSH signature ``manifests/<n>.json.sig``.

Signing runs ``ssh-keygen -Y sign -n kit-archive`` (the format git uses for SSH-signed
commits), so any key OpenSSH can use works: a private key file, or a ``.pub`` whose private
half is in ``ssh-agent``. It never prompts: a passphrase-protected key must be in the agent.
Verifying is pure Python (:mod:`kit.archive.sshsig`) against an ``allowed_signers`` file
(:mod:`kit.archive.allowed_signers`), so ``kit verify`` needs no OpenSSH.

The signature names no one; the key inside it does, and ``allowed_signers`` says whose key it
is. The namespace :data:`NAMESPACE` (``kit-archive``) keeps these signatures apart from git's
(``git``) or file signatures (``file``) made with the same key; ``namespaces="kit-archive"`` in
``allowed_signers`` restricts a key to archive manifests. A key's ``valid-after`` /
``valid-before`` are checked against the manifest's ``written_at``, as git checks them against
the commit time.

- :func:`ssh_signer` → an ``after_write`` hook for ``record(root, event, after_write=…)``.
- :func:`signature_check` → a check for ``verify_archive(root, checks=[…])``: every unsigned
  manifest, bad signature, signer not allowed, sequence gap and orphaned signature.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kit.archive.allowed_signers import AllowedSigner, read_allowed_signers
from kit.archive.files import atomic_write
from kit.archive.hooks import Manifests
from kit.archive.sshsig import PublicKey, SignatureFormatError, UnsupportedKey, parse_signature
from kit.errors import ArchiveError
from kit.times import parse_time

__all__ = [
    "KEY_ENV",
    "NAMESPACE",
    "SignatureCheck",
    "SignatureResult",
    "SshSigner",
    "orphaned_signatures",
    "sequence_problems",
    "signature_check",
    "signature_path",
    "signer_from_env",
    "ssh_signer",
    "verify_signatures",
]

#: The sshsig namespace of archive manifests (``ssh-keygen -Y sign -n kit-archive``).
NAMESPACE = "kit-archive"
#: The environment variable holding the *path* of the signing key (never the key itself).
KEY_ENV = "KIT_ARCHIVE_SIGNING_KEY"
_SUFFIX = ".sig"
_MAX_SIGNATURE = 64 * 1024  # an RSA-16384 signature is under 6 KiB
_PROBE = b"kit-archive signing probe\n"
_NOISE = ("Signing file", "Write signature to", "Enter passphrase")


def signature_path(manifest: Path) -> Path:
    """Where the signature of ``manifest`` lives: ``manifests/<n>.json.sig``."""
    return manifest.with_name(manifest.name + _SUFFIX)


def _stderr_reason(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    useful = [line for line in lines if line and not line.startswith(_NOISE)]
    return " ".join(useful[-1].split())[:300] if useful else "no reason given"


class SshSigner:
    """Signs manifests with ``ssh-keygen -Y sign``; an ``after_write`` hook (see :func:`ssh_signer`).

    Parameters
    ----------
    key
        Path of an OpenSSH private key, or of a public key whose private half is in ssh-agent.
    namespace
        The sshsig namespace.
    ssh_keygen
        The program to run.
    timeout
        Seconds one signature may take (a security key waiting for a touch, a confirming agent).
    """

    def __init__(self, key: str | os.PathLike[str], *, namespace: str = NAMESPACE, ssh_keygen: str = "ssh-keygen",
                 timeout: float = 30.0) -> None:
        self.key = Path(key).expanduser()
        self.namespace = namespace
        self._program = ssh_keygen
        self._timeout = timeout
        self.public_key: PublicKey | None = None

    def sign(self, data: bytes) -> bytes:
        """The armored SSH signature of ``data``.

        Raises
        ------
        ArchiveError
            The key is missing or unreadable, needs a passphrase no agent provides, ssh-keygen is
            missing, fails or hangs; one line saying what to do.
        """
        if not self.key.exists():
            raise ArchiveError(f"the signing key {self.key} does not exist ({KEY_ENV} names a key file: "
                               "your private key, or its .pub with the key loaded in ssh-agent)")
        if not self.key.is_file():
            raise ArchiveError(f"the signing key {self.key} is not a file; point {KEY_ENV} at the key file itself")
        if not os.access(self.key, os.R_OK):
            raise ArchiveError(f"the signing key {self.key} is not readable by this user; fix its permissions "
                               f"or point {KEY_ENV} at a key you can read")
        # Sign a private copy: ssh-keygen writes <file>.sig itself and would ask before overwriting.
        with tempfile.TemporaryDirectory(prefix="kit-sign-") as folder:
            message = Path(folder) / "manifest"
            message.write_bytes(data)
            command = [self._program, "-Y", "sign", "-f", str(self.key), "-n", self.namespace, str(message)]
            try:
                # No terminal and no askpass: a key that needs a passphrase fails at once instead of prompting
                # while the incident is locked.
                done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=self._timeout,
                                      start_new_session=True, env={**os.environ, "SSH_ASKPASS_REQUIRE": "never"},
                                      check=False)
            except FileNotFoundError:
                raise ArchiveError(f"{self._program} is not installed, so manifests cannot be signed: install "
                                   f"OpenSSH's client (Debian: apt-get install openssh-client) or unset {KEY_ENV}"
                                   ) from None
            except subprocess.TimeoutExpired:
                raise ArchiveError(f"{self._program} did not sign within {self._timeout:g} s (waiting for a "
                                   f"passphrase, a confirmation or a security-key touch?); load {self.key} into "
                                   "ssh-agent and try again") from None
            signature = message.with_name(message.name + _SUFFIX)
            if done.returncode != 0 or not signature.is_file():
                reason = _stderr_reason(done.stderr)
                if "passphrase" in done.stderr.decode("utf-8", "replace").lower():
                    raise ArchiveError(f"the signing key {self.key} is protected by a passphrase and no ssh-agent "
                                       f"holds it: run `ssh-add {self.key}` (with ssh-agent running), then try again")
                raise ArchiveError(f"{self._program} could not sign with {self.key}: {reason}; {KEY_ENV} must name "
                                   "an OpenSSH private key, or a .pub whose private key is in ssh-agent")
            return signature.read_bytes()

    def probe(self) -> PublicKey:
        """Sign and verify a probe now, so a bad key fails before a run rather than after it.

        Returns
        -------
        PublicKey
            The key that signs (also kept as :attr:`public_key`).

        Raises
        ------
        ArchiveError
            As :meth:`sign`, or the key is of a type ``kit verify`` cannot check.
        """
        armored = self.sign(_PROBE)
        try:
            parsed = parse_signature(armored)
        except SignatureFormatError as error:
            raise ArchiveError(f"{self._program} wrote a signature the kit cannot read ({error})") from None
        try:
            valid = parsed.verify(_PROBE, self.namespace)
        except (UnsupportedKey, SignatureFormatError):
            raise ArchiveError(f"{self.key} can sign, but kit verify cannot check {parsed.public_key.kind} signatures; "
                               "use an ssh-ed25519, ecdsa-sha2-nistp256 or RSA key") from None
        if not valid:
            raise ArchiveError(f"the signature {self._program} made with {self.key} does not verify; "
                               "check the key and ssh-agent")
        self.public_key = parsed.public_key
        return parsed.public_key

    def __call__(self, manifest: Path, data: bytes) -> None:
        """Sign ``data`` (the bytes of ``manifest``) into ``manifest``'s ``.sig``, atomically."""
        atomic_write(signature_path(manifest), self.sign(data))


def ssh_signer(key: str | os.PathLike[str], *, namespace: str = NAMESPACE, ssh_keygen: str = "ssh-keygen",
               timeout: float = 30.0, probe: bool = True) -> SshSigner:
    """An ``after_write`` hook that signs each new manifest with ``key``.

    Parameters
    ----------
    key
        Path of the signing key (private key, or ``.pub`` with the private key in ssh-agent).
    namespace, ssh_keygen, timeout
        See :class:`SshSigner`.
    probe
        Sign a probe now (the default), so a missing, locked or unusable key is reported before
        anything is recorded, not after the first manifest was written.

    Raises
    ------
    ArchiveError
        ``probe`` is set and the key cannot sign (see :meth:`SshSigner.probe`).
    """
    signer = SshSigner(key, namespace=namespace, ssh_keygen=ssh_keygen, timeout=timeout)
    if probe:
        signer.probe()
    return signer


def signer_from_env(environ: Mapping[str, str] | None = None, *, namespace: str = NAMESPACE,
                    ssh_keygen: str = "ssh-keygen", timeout: float = 30.0, probe: bool = True) -> SshSigner | None:
    """The signer :data:`KEY_ENV` asks for, or ``None`` when it is unset or empty.

    Parameters
    ----------
    environ
        Where to look (default: ``os.environ``).
    namespace, ssh_keygen, timeout, probe
        See :func:`ssh_signer`.

    Raises
    ------
    ArchiveError
        The variable holds a key rather than a path (never repeated in the message), or the key
        cannot sign.
    """
    value = (os.environ if environ is None else environ).get(KEY_ENV, "").strip()
    if not value:
        return None
    if "\n" in value or value.startswith(("-----BEGIN", "ssh-", "ecdsa-", "sk-")):
        raise ArchiveError(f"{KEY_ENV} holds a key, not a path: set it to the key file's path and keep the key "
                           "itself out of the environment")
    return ssh_signer(value, namespace=namespace, ssh_keygen=ssh_keygen, timeout=timeout, probe=probe)


@dataclass(frozen=True)
class SignatureResult:
    """How one manifest's signature checked out.

    Attributes
    ----------
    manifest
        The manifest, relative to the incident folder (``manifests/0003.json``).
    problem
        The sentence for ``kit verify``, or ``None`` when the signature is good and allowed.
    fingerprint
        The signing key's ``SHA256:`` fingerprint, when the signature could be read.
    principals
        Who ``allowed_signers`` says holds that key (the principals fields of the lines allowing it).
    """

    manifest: str
    problem: str | None
    fingerprint: str | None = None
    principals: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the signature verifies and its key is allowed."""
        return self.problem is None


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _written_at(data: bytes) -> object:
    try:
        manifest = json.loads(data)
    except ValueError:
        return None
    return manifest.get("written_at") if isinstance(manifest, dict) else None


def _check_one(root: Path, path: Path, data: bytes, signers: Sequence[AllowedSigner], source: str,
               namespace: str) -> SignatureResult:
    name = _relative(root, path)
    file = signature_path(path)
    try:
        info = os.lstat(file)
    except FileNotFoundError:
        return SignatureResult(name, f"{name} is not signed: {name}{_SUFFIX} is missing")
    except OSError as error:
        return SignatureResult(name, f"{name}{_SUFFIX} cannot be read ({error.strerror})")
    if not stat.S_ISREG(info.st_mode):
        return SignatureResult(name, f"{name}{_SUFFIX} is not a regular file (a link or a special file); "
                                     "it is not followed")
    if info.st_size > _MAX_SIGNATURE:
        return SignatureResult(name, f"{name}{_SUFFIX} is {info.st_size} bytes, too large to be an SSH signature")
    try:
        parsed = parse_signature(file.read_bytes())
    except OSError as error:
        return SignatureResult(name, f"{name}{_SUFFIX} cannot be read ({error.strerror})")
    except SignatureFormatError as error:
        return SignatureResult(name, f"{name}{_SUFFIX} is not an SSH signature: {error}")
    key = parsed.public_key
    fingerprint = key.fingerprint
    if parsed.namespace != namespace:
        return SignatureResult(name, f"{name}{_SUFFIX} was made for namespace {parsed.namespace!r}, not "
                                     f"{namespace!r}: it is not an archive signature", fingerprint)
    try:
        valid = parsed.verify(data, namespace)
    except UnsupportedKey:
        return SignatureResult(name, f"{name}{_SUFFIX} was made with a {key.kind} key, which the kit cannot verify "
                                     f"(check it with ssh-keygen -Y verify -n {namespace})", fingerprint)
    except SignatureFormatError as error:
        return SignatureResult(name, f"{name}{_SUFFIX} is malformed: {error}", fingerprint)
    if not valid:
        return SignatureResult(name, f"{name}{_SUFFIX} does not verify: {name} was altered after it was signed, "
                                     "or the signature was made for other bytes", fingerprint)
    lines = [signer for signer in signers if not signer.cert_authority and signer.key.blob == key.blob]
    if not lines:
        return SignatureResult(name, f"{name} is signed by {key.kind} key {fingerprint}, which {source} does not "
                                     "list: the signer is not allowed", fingerprint)
    at = parse_time(_written_at(data))
    refusals = [(signer, signer.refusal(namespace, at)) for signer in lines]
    allowed = tuple(signer.principals for signer, refusal in refusals if refusal is None)
    if not allowed:
        return SignatureResult(name, f"{name} is signed by {fingerprint} ({lines[0].principals}), but "
                                     f"{refusals[0][1]}: the signer is not allowed", fingerprint)
    return SignatureResult(name, None, fingerprint, allowed)


def verify_signatures(root: Path, chain: Manifests, signers: Sequence[AllowedSigner], *, namespace: str = NAMESPACE,
                      source: str = "allowed_signers") -> list[SignatureResult]:
    """Check the signature of every manifest of ``chain`` against ``signers``.

    Parameters
    ----------
    root
        The incident folder (messages name manifests relative to it).
    chain
        ``(manifest path, manifest bytes)`` in chain order; the bytes are what is verified.
    signers
        The allowed signers (:func:`kit.archive.allowed_signers.read_allowed_signers`).
    namespace
        The namespace every signature must have been made for.
    source
        What to call the allowed signers in messages.
    """
    return [_check_one(root, path, data, signers, source, namespace) for path, data in chain]


def sequence_problems(root: Path, chain: Manifests) -> list[str]:
    """Sentences for every manifest whose sequence number is not its place in the chain (1, 2, 3 …).

    A signature makes a manifest's content permanent, sequence number included, so a gap here
    means a signed manifest was taken out, and a number that disagrees with the file name
    means one was moved.
    """
    problems = []
    for place, (path, data) in enumerate(chain, 1):
        name = _relative(root, path)
        try:
            sequence = json.loads(data).get("sequence")
        except (ValueError, AttributeError):
            problems.append(f"{name} is not a JSON manifest, so its sequence number cannot be read")
            continue
        if sequence != place:
            problems.append(f"{name} holds sequence {sequence} where {place} was expected: the sequence numbers are "
                            "not contiguous from 1 (a manifest was removed, added or renumbered)")
        stem = path.name.removesuffix(".json")
        if stem.isdigit() and int(stem) != sequence:
            problems.append(f"{name} holds sequence {sequence}, not the {int(stem)} its file name says")
    return problems


def orphaned_signatures(root: Path, chain: Manifests) -> list[str]:
    """Sentences for every ``.sig`` beside the manifests that signs no manifest of ``chain``.

    A signature left behind by a manifest that is gone is the trace a careless rollback leaves.
    """
    folders = {path.parent for path, _ in chain} | {root / "manifests"}
    expected = {signature_path(path) for path, _ in chain}
    found = sorted(sig for folder in folders if folder.is_dir() for sig in folder.glob(f"*.json{_SUFFIX}"))
    return [f"{_relative(root, sig)} signs no manifest of the chain: a signed manifest was removed"
            for sig in found if sig not in expected]


class SignatureCheck:
    """A check for ``verify_archive(checks=[…])``: signatures, signers and sequence numbers.

    ``check(root, chain)`` returns one sentence per unsigned manifest, signature that does not
    verify or cannot be read, signer not allowed (unknown key, wrong namespace, outside its
    validity), sequence number out of place, and orphaned ``.sig``. Build it with
    :func:`signature_check`.

    Attributes
    ----------
    covers
        What verifying the folder alone cannot detect and this check does (a key of
        ``kit.archive.verify.LIMITS``): a chain recomputed from the first manifest on.
    """

    covers = ("recomputed",)

    def __init__(self, signers: Sequence[AllowedSigner], *, namespace: str = NAMESPACE,
                 source: str = "the allowed signers") -> None:
        self.signers = list(signers)
        self.namespace = namespace
        self.source = source

    @property
    def checked(self) -> str:
        """What this check looks at, as ``kit verify`` reports it."""
        return f"every manifest's SSH signature and sequence number against {self.source}"

    def __call__(self, root: Path, chain: Manifests) -> list[str]:
        """The problem sentences for ``chain`` (``(manifest path, bytes)`` in order) of the incident ``root``."""
        root = Path(root)
        results = verify_signatures(root, chain, self.signers, namespace=self.namespace, source=self.source)
        return [*sequence_problems(root, chain), *(r.problem for r in results if r.problem),
                *orphaned_signatures(root, chain)]


def signature_check(allowed_signers: str | os.PathLike[str] | Sequence[AllowedSigner], *,
                    namespace: str = NAMESPACE) -> SignatureCheck:
    """The :class:`SignatureCheck` for an ``allowed_signers`` file.

    Parameters
    ----------
    allowed_signers
        The ``allowed_signers`` file (read now, so a bad one fails before verifying starts), or
        the signers already read.
    namespace
        The namespace the signatures must have been made for.

    Raises
    ------
    ArchiveError
        The allowed signers file cannot be read, is empty, or has a malformed line.
    """
    if isinstance(allowed_signers, str | os.PathLike):
        return SignatureCheck(read_allowed_signers(allowed_signers), namespace=namespace,
                              source=str(Path(allowed_signers).expanduser()))
    return SignatureCheck(allowed_signers, namespace=namespace)
