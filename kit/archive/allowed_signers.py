"""The ``allowed_signers`` file: who may sign, with which key, for which namespace and when.

The format is OpenSSH's (``ssh-keygen(1)``, ALLOWED SIGNERS), the one git uses for
``gpg.ssh.allowedSignersFile``: one signer per line, ``#`` comments and blank lines ignored::

    principals [options] keytype base64-key [comment]
    alice@example.com ssh-ed25519 AAAAC3Nza…
    "bob@example.com,oncall@example.com" namespaces="kit-archive,git",valid-before="20271231Z" ssh-rsa AAAAB3…

``principals`` is a comma-separated pattern list (quoted or not). Options, comma-separated
without spaces outside double quotes, case-insensitive: ``cert-authority``,
``namespaces="pattern,…"``, ``valid-after="timestamp"``, ``valid-before="timestamp"`` with
timestamps ``YYYYMMDD[Z]`` or ``YYYYMMDDHHMM[SS][Z]`` (without ``Z``: the local time zone, as
``ssh-keygen`` reads them). Unlike ``ssh-keygen``, which logs a malformed line and skips it,
a malformed line here is an error naming the file and line: a trust list is not guessed at.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kit.archive.sshsig import PublicKey, SignatureFormatError, parse_public_key
from kit.errors import ArchiveError

__all__ = ["AllowedSigner", "match_pattern_list", "parse_allowed_signers", "read_allowed_signers"]

_OPTIONS = {"cert-authority", "namespaces", "valid-after", "valid-before"}
_KEY_TYPE = re.compile(r"(ssh|ecdsa|sk)-[a-z0-9-]+(@openssh\.com)?$")
_TIME = re.compile(r"(\d{8})(\d{4}(\d{2})?)?(Z?)")


def match_pattern_list(name: str, patterns: str) -> bool:
    """Whether ``name`` matches an OpenSSH pattern list (``*``, ``?``, ``!`` negation; ssh_config(5))."""
    matched = False
    for pattern in patterns.split(","):
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in body)
        if re.fullmatch(regex, name, flags=re.DOTALL):
            if negated:
                return False
            matched = True
    return matched


@dataclass(frozen=True)
class AllowedSigner:
    """One line of an ``allowed_signers`` file.

    Attributes
    ----------
    principals
        The principals field as written (a pattern list, e.g. ``alice@example.com``).
    key
        The signer's public key.
    line
        Where it stands: ``<file>:<line number>``.
    namespaces
        The ``namespaces=`` pattern list, or ``None`` for any namespace.
    cert_authority
        The key is a CA for certificate signatures, not a signing key itself.
    valid_after, valid_before
        The key's validity window (inclusive), or ``None``.
    """

    principals: str
    key: PublicKey
    line: str
    namespaces: str | None = None
    cert_authority: bool = False
    valid_after: datetime | None = None
    valid_before: datetime | None = None

    def refusal(self, namespace: str, at: datetime | None) -> str | None:
        """Why this line does not allow a signature in ``namespace`` made at ``at``; ``None`` if it does.

        ``at`` is when the signed thing was written (git uses the commit time the same way);
        ``None`` means unknown, which only matters to a line with a validity window.
        """
        if self.namespaces is not None and not match_pattern_list(namespace, self.namespaces):
            return f"{self.line} allows it only for namespaces {self.namespaces!r}, not {namespace!r}"
        if (self.valid_after or self.valid_before) and at is None:
            return f"{self.line} limits when the key is valid and the manifest's time is unknown"
        if self.valid_after is not None and at is not None and at < self.valid_after:
            return f"{self.line} makes the key valid only from {self.valid_after.isoformat()}"
        if self.valid_before is not None and at is not None and at > self.valid_before:
            return f"{self.line} makes the key valid only until {self.valid_before.isoformat()}"
        return None


def _field(text: str, at: int) -> tuple[str, int]:
    """The whitespace-delimited field starting at ``at`` (double quotes protect spaces) and where the next starts."""
    end, quoted = at, False
    while end < len(text) and (quoted or text[end] not in " \t"):
        if text[end] == '"':
            quoted = not quoted
        end += 1
    if quoted:
        raise ValueError("a double quote is not closed")
    rest = end
    while rest < len(text) and text[rest] in " \t":
        rest += 1
    return text[at:end], rest


def _split_options(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _timestamp(value: str, option: str) -> datetime:
    match = _TIME.fullmatch(value)
    if match is None:
        raise ValueError(f"{option}={value!r} is not YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]")
    digits = match.group(1) + (match.group(2) or "0000")
    digits += "" if match.group(3) else "00"
    try:
        moment = datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError as error:
        raise ValueError(f"{option}={value!r} is not a real date or time") from error
    return moment.replace(tzinfo=UTC) if match.group(4) else moment.astimezone()


def _key(kind: str, encoded: str) -> PublicKey | None:
    """The key when ``kind encoded`` is a key field, else ``None``."""
    try:
        blob = base64.b64decode(encoded, validate=True)
        key = parse_public_key(blob)
    except (binascii.Error, ValueError, SignatureFormatError):
        return None
    return key if key.kind == kind else None


def _signer(text: str, where: str) -> AllowedSigner:
    principals, at = _field(text, 0)
    principals = principals.strip('"')
    if not principals:
        raise ValueError("no principals")
    first, after_first = _field(text, at)
    second, after_second = _field(text, after_first)
    key = _key(first, second)
    options = ""
    if key is None and _KEY_TYPE.match(first):
        raise ValueError(f"{first} {second[:16]}… is not an SSH public key" if second else "no key after the key type")
    if key is None:
        options = first
        kind, after_kind = _field(text, after_first)
        encoded, _ = _field(text, after_kind)
        if not kind or not encoded:
            raise ValueError("no key (expected: principals [options] keytype base64-key)")
        key = _key(kind, encoded)
        if key is None:
            raise ValueError(f"{kind} {encoded[:16]}… is not an SSH public key")
    values: dict[str, str] = {}
    authority = False
    for option in _split_options(options) if options else []:
        name, equals, value = option.partition("=")
        name = name.lower()
        if name not in _OPTIONS:
            raise ValueError(f"unknown option {name!r} (known: {', '.join(sorted(_OPTIONS))})")
        if name == "cert-authority":
            if equals:
                raise ValueError("cert-authority takes no value")
            authority = True
            continue
        if name in values:
            raise ValueError(f"{name} is given twice")
        if len(value) < 2 or not (value.startswith('"') and value.endswith('"')):
            raise ValueError(f'{name} needs a double-quoted value: {name}="…"')
        values[name] = value[1:-1]
    return AllowedSigner(
        principals=principals, key=key, line=where, namespaces=values.get("namespaces"), cert_authority=authority,
        valid_after=_timestamp(values["valid-after"], "valid-after") if "valid-after" in values else None,
        valid_before=_timestamp(values["valid-before"], "valid-before") if "valid-before" in values else None)


def parse_allowed_signers(text: str, source: str = "allowed_signers") -> list[AllowedSigner]:
    """Every signer in the text of an ``allowed_signers`` file, in file order.

    Parameters
    ----------
    text
        The file's content.
    source
        What to call the file in messages and in :attr:`AllowedSigner.line`.

    Raises
    ------
    ArchiveError
        A line is malformed (the message names ``source:line`` and what is wrong).
    """
    signers = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip(" \t\r")
        if not line or line.startswith("#"):
            continue
        try:
            signers.append(_signer(line, f"{source}:{number}"))
        except ValueError as error:
            raise ArchiveError(f"{source}:{number}: {error}; fix the line (format: ssh-keygen(1), "
                               "ALLOWED SIGNERS)") from None
    return signers


def read_allowed_signers(path: str | os.PathLike[str]) -> list[AllowedSigner]:
    """:func:`parse_allowed_signers` over a file.

    Raises
    ------
    ArchiveError
        The file cannot be read, is not UTF-8, lists no signer, or has a malformed line.
    """
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ArchiveError(f"cannot read the allowed signers file {file}: {reason}; "
                           "give a file with lines `principal keytype base64-key`") from None
    signers = parse_allowed_signers(text, str(file))
    if not signers:
        raise ArchiveError(f"the allowed signers file {file} lists no signer; add a line `principal keytype "
                           "base64-key` (e.g. `echo \"you@example.com $(cat ~/.ssh/id_ed25519.pub)\" >> FILE`)")
    return signers
