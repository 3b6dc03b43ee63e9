"""The SSH signature format (OpenSSH ``PROTOCOL.sshsig``), read and checked in pure Python.

``ssh-keygen -Y sign`` writes an *armored* signature: ``-----BEGIN SSH SIGNATURE-----``, the
base64 of a blob, ``-----END SSH SIGNATURE-----``. The blob holds, in SSH wire encoding::

    byte[6] "SSHSIG"  uint32 version (1)  string public key  string namespace
    string reserved   string hash algorithm ("sha256" | "sha512")  string signature

and the signature is the key's ordinary SSH signature over::

    byte[6] "SSHSIG"  string namespace  string reserved  string hash algorithm  string H(message)

(``H(message)`` as an SSH string: its length, then the digest). Keys verified here:
``ssh-ed25519``, ``ssh-rsa`` (signature algorithms ``rsa-sha2-256`` / ``rsa-sha2-512`` only, as
OpenSSH requires; moduli below 1024 bits refused) and ``ecdsa-sha2-nistp256`` / ``-nistp384`` /
``-nistp521``. Other key types (FIDO ``sk-*`` keys, certificates) parse, but
:meth:`PublicKey.verify` refuses them with :class:`UnsupportedKey` rather than guessing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = [
    "HASH_ALGORITHMS",
    "PublicKey",
    "SignatureFormatError",
    "SshSignature",
    "UnsupportedKey",
    "parse_public_key",
    "parse_signature",
    "signed_data",
]

_MAGIC = b"SSHSIG"
_VERSION = 1
_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_END = "-----END SSH SIGNATURE-----"
#: Hash algorithms an SSH signature may name, and how to compute them.
HASH_ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
_RSA_ALGORITHMS: dict[str, hashes.HashAlgorithm] = {"rsa-sha2-256": hashes.SHA256(), "rsa-sha2-512": hashes.SHA512()}
_ECDSA: dict[str, tuple[str, ec.EllipticCurve, hashes.HashAlgorithm]] = {
    "ecdsa-sha2-nistp256": ("nistp256", ec.SECP256R1(), hashes.SHA256()),
    "ecdsa-sha2-nistp384": ("nistp384", ec.SECP384R1(), hashes.SHA384()),
    "ecdsa-sha2-nistp521": ("nistp521", ec.SECP521R1(), hashes.SHA512()),
}
_RSA_MIN_BITS = 1024


class SignatureFormatError(ValueError):
    """Raised when bytes are not a well-formed SSH signature or public key; the message says which part."""


class UnsupportedKey(ValueError):
    """Raised when a well-formed key is of a type this module does not verify (``sk-*``, certificates)."""


class _Reader:
    """SSH wire-format reader (RFC 4251 §5): uint32, string, mpint."""

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._at = 0
        self._what = what

    def take(self, size: int) -> bytes:
        if size < 0 or self._at + size > len(self._data):
            raise SignatureFormatError(f"{self._what} is truncated")
        chunk = self._data[self._at:self._at + size]
        self._at += size
        return chunk

    def uint32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def string(self) -> bytes:
        return self.take(self.uint32())

    def text(self) -> str:
        try:
            return self.string().decode("utf-8")
        except UnicodeDecodeError as error:
            raise SignatureFormatError(f"{self._what} holds a name that is not UTF-8") from error

    def mpint(self) -> int:
        raw = self.string()
        if raw and raw[0] & 0x80:
            raise SignatureFormatError(f"{self._what} holds a negative number")
        return int.from_bytes(raw, "big")

    def end(self) -> None:
        if self._at != len(self._data):
            raise SignatureFormatError(f"{self._what} has trailing data")


def _string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


@dataclass(frozen=True)
class PublicKey:
    """An SSH public key, kept as its wire-format blob (what ``ssh-keygen`` compares).

    Attributes
    ----------
    blob
        The key in SSH wire encoding (the base64 part of an ``authorized_keys`` line).
    kind
        Its type name, e.g. ``ssh-ed25519``.
    """

    blob: bytes
    kind: str

    @property
    def fingerprint(self) -> str:
        """``SHA256:<base64>``, as ``ssh-keygen -l`` prints it."""
        return "SHA256:" + base64.b64encode(hashlib.sha256(self.blob).digest()).decode().rstrip("=")

    @property
    def openssh(self) -> str:
        """The key as one ``authorized_keys`` / ``allowed_signers`` key field: ``<kind> <base64>``."""
        return f"{self.kind} {base64.b64encode(self.blob).decode()}"

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` (an SSH signature blob: algorithm name + bytes) signs ``data``.

        Raises
        ------
        UnsupportedKey
            The key type is not one this module verifies.
        SignatureFormatError
            The key or the signature blob is malformed.
        """
        reader = _Reader(signature, "the signature")
        algorithm = reader.text()
        raw = reader.string()
        reader.end()
        key = _Reader(self.blob, "the public key")
        key.text()
        try:
            if self.kind == "ssh-ed25519":
                if algorithm != "ssh-ed25519":
                    return False
                public = key.string()
                key.end()
                ed25519.Ed25519PublicKey.from_public_bytes(public).verify(raw, data)
            elif self.kind == "ssh-rsa":
                if algorithm not in _RSA_ALGORITHMS:
                    return False  # "ssh-rsa" (SHA-1) is refused by OpenSSH for SSH signatures
                exponent, modulus = key.mpint(), key.mpint()
                key.end()
                if modulus.bit_length() < _RSA_MIN_BITS:
                    raise UnsupportedKey(f"RSA keys below {_RSA_MIN_BITS} bits are refused")
                size = (modulus.bit_length() + 7) // 8
                padded = raw.rjust(size, b"\0")  # OpenSSH accepts signatures shorter than the modulus
                rsa.RSAPublicNumbers(exponent, modulus).public_key().verify(
                    padded, data, padding.PKCS1v15(), _RSA_ALGORITHMS[algorithm])
            elif self.kind in _ECDSA:
                curve_name, curve, digest = _ECDSA[self.kind]
                if algorithm != self.kind or key.text() != curve_name:
                    return False
                point = key.string()
                key.end()
                numbers = _Reader(raw, "the ECDSA signature")
                r, s = numbers.mpint(), numbers.mpint()
                numbers.end()
                ec.EllipticCurvePublicKey.from_encoded_point(curve, point).verify(
                    encode_dss_signature(r, s), data, ec.ECDSA(digest))
            else:
                raise UnsupportedKey(f"{self.kind} keys are not verified by the kit")
        except InvalidSignature:
            return False
        except ValueError as error:
            if isinstance(error, SignatureFormatError | UnsupportedKey):
                raise
            raise SignatureFormatError(f"the {self.kind} key or signature is malformed ({error})") from error
        return True


def parse_public_key(blob: bytes) -> PublicKey:
    """A :class:`PublicKey` from its wire-format blob; only the type name is checked here.

    Raises
    ------
    SignatureFormatError
        The blob does not start with a key type name.
    """
    kind = _Reader(blob, "the public key").text()
    if not kind:
        raise SignatureFormatError("the public key has no type name")
    return PublicKey(blob=blob, kind=kind)


@dataclass(frozen=True)
class SshSignature:
    """One parsed SSH signature (``ssh-keygen -Y sign`` output).

    Attributes
    ----------
    public_key
        The key that made it (its holder is named by ``allowed_signers``, not by the signature).
    namespace
        The domain it was made for (``-n``); a signature is only valid in its own namespace.
    hash_algorithm
        ``sha256`` or ``sha512``: how the message was digested before signing.
    signature
        The key's SSH signature blob (algorithm name + signature bytes).
    """

    public_key: PublicKey
    namespace: str
    hash_algorithm: str
    signature: bytes

    def verify(self, message: bytes, namespace: str) -> bool:
        """Whether this signs ``message`` in ``namespace``.

        Raises
        ------
        UnsupportedKey
            The signing key's type is not one this module verifies.
        SignatureFormatError
            The signature blob is malformed.
        """
        if self.namespace != namespace:
            return False
        return self.public_key.verify(self.signature, signed_data(message, namespace, self.hash_algorithm))


def signed_data(message: bytes, namespace: str, hash_algorithm: str = "sha512") -> bytes:
    """The bytes an SSH signature's key signs for ``message`` (PROTOCOL.sshsig §3)."""
    digest = HASH_ALGORITHMS[hash_algorithm](message).digest()
    return _MAGIC + _string(namespace.encode()) + _string(b"") + _string(hash_algorithm.encode()) + _string(digest)


def _dearmor(armored: bytes) -> bytes:
    try:
        text = armored.decode("ascii")
    except UnicodeDecodeError as error:
        raise SignatureFormatError("the signature file is not ASCII") from error
    lines = [line.strip() for line in text.strip().splitlines()]
    if not lines or lines[0] != _BEGIN:
        raise SignatureFormatError(f"the signature file does not start with {_BEGIN}")
    if lines[-1] != _END or len(lines) < 3:
        raise SignatureFormatError(f"the signature file does not end with {_END}")
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError) as error:
        raise SignatureFormatError("the signature file's body is not base64") from error


def parse_signature(armored: bytes) -> SshSignature:
    """Parse an armored SSH signature (the content of a ``.sig`` file ``ssh-keygen -Y sign`` wrote).

    Raises
    ------
    SignatureFormatError
        Not an SSH signature, a version newer than 1, an empty namespace, an unknown hash
        algorithm, or trailing data; the message says which.
    """
    reader = _Reader(_dearmor(armored), "the signature")
    if reader.take(len(_MAGIC)) != _MAGIC:
        raise SignatureFormatError("the signature does not start with SSHSIG")
    version = reader.uint32()
    if version > _VERSION:
        raise SignatureFormatError(f"the signature has version {version}; only version {_VERSION} is known")
    key = parse_public_key(reader.string())
    namespace = reader.text()
    reader.string()  # reserved: ignored, as the protocol says
    hash_algorithm = reader.text()
    signature = reader.string()
    reader.end()
    if not namespace:
        raise SignatureFormatError("the signature has an empty namespace")
    if hash_algorithm not in HASH_ALGORITHMS:
        raise SignatureFormatError(f"the signature uses hash algorithm {hash_algorithm!r} (not sha256 or sha512)")
    return SshSignature(public_key=key, namespace=namespace, hash_algorithm=hash_algorithm, signature=signature)
