"""Remove SAS signatures before anything is written: URLs, connection strings, free text.

A boot-diagnostics blob URL carries a shared access signature (``?sv=…&se=…&sp=r&sig=…``):
whoever holds it can read the blob until it expires. The kit keeps the scheme, host and path
(which name the storage account, container and blob) and drops the query and fragment of every
URL that carries a signature. The signature is found in the forms it is printed in: a query or
fragment parameter ``sig``/``signature`` (``&``, ``&amp;``, ``%26``, ``\\u0026`` separators,
``=`` or ``%3D``), and ``SharedAccessSignature=…`` in connection strings. Text that is not a URL
(a log line, a transcript) gets the same treatment: :func:`strip_sas_text` says how many it removed.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["REDACTED", "has_sas", "strip_sas", "strip_sas_bytes", "strip_sas_everywhere", "strip_sas_text"]

#: What stands where a signature was, outside URLs.
REDACTED = "[redacted]"

# a separator before a parameter, in every spelling a URL reaches a log or a page in
_SEP = r"(?:[?&#;]|&amp;|%26|%3[Ff]|%23|\\u0026|\\u003[Ff])"
_SIG = re.compile(_SEP + r"(?:sig|signature)(?:=|%3[Dd])", re.IGNORECASE)
_URL = re.compile(r"(?:https?|wss?)://[^\s\"'<>\\]+(?:\\u0026[^\s\"'<>\\]+)*", re.IGNORECASE)
_CONNECTION = re.compile(r"(?i)(SharedAccessSignature\s*=\s*)[^;\s\"'<>]+")
_BARE = re.compile(r"(?i)((?<![\w-])(?:sig|signature)(?:=|%3D))[^&\s\"'<>#;\\]+")
_SIG_BYTES = re.compile(rb"(?i)sig(?:nature)?(?:=|%3d)|sharedaccesssignature")
_ANY = re.compile("sig", re.IGNORECASE)


def has_sas(url: str) -> bool:
    """Whether ``url`` carries a SAS signature (a ``sig``/``signature`` parameter, in any spelling)."""
    return bool(_SIG.search(url))


def strip_sas(url: str) -> str:
    """``url`` without its query string and fragment when they hold a SAS signature.

    Parameters
    ----------
    url
        Any URL; URLs without a signature come back unchanged.

    Returns
    -------
    str
        ``https://account.blob.core.windows.net/container/blob`` for a SAS URL.
    """
    if not has_sas(url):
        return url
    cut = min((i for i in (url.find("?"), url.find("#"), url.lower().find("%3f"), url.lower().find("&amp;"),
                           url.lower().find("\\u003f"), url.lower().find("\\u0026")) if i >= 0), default=len(url))
    head = url[:cut]
    try:
        parts = urlsplit(head)
    except ValueError:  # not a URL after all: keep nothing after the cut
        return head
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def strip_sas_text(text: str) -> tuple[str, int]:
    """``text`` with every SAS signature removed, and how many were removed.

    URLs that carry a signature lose their query and fragment; connection strings keep their
    other fields, with ``SharedAccessSignature=[redacted]``; a bare ``sig=…`` outside any URL
    becomes ``sig=[redacted]``.
    """
    if not _ANY.search(text):
        return text, 0
    count = 0

    def url(match: re.Match[str]) -> str:
        nonlocal count
        found = match.group(0)
        stripped = strip_sas(found)
        if stripped != found:
            count += 1
        return stripped

    def connection(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return match.group(1) + REDACTED

    def bare(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return match.group(1) + REDACTED

    text = _URL.sub(url, text)
    text = _CONNECTION.sub(connection, text)
    text = _BARE.sub(lambda m: m.group(0) if m.group(0).endswith(REDACTED) else bare(m), text)
    return text, count


def strip_sas_bytes(data: bytes) -> tuple[bytes, int]:
    """Raw text evidence (a serial log) with every SAS signature removed, every other byte kept.

    The bytes are read as Latin-1 (one character per byte, so nothing is lost or re-encoded),
    cleaned with :func:`strip_sas_text`, and written back the same way.
    """
    if not _SIG_BYTES.search(data):
        return data, 0
    text, count = strip_sas_text(data.decode("latin-1"))
    return text.encode("latin-1"), count


def strip_sas_everywhere(value: Any) -> Any:
    """A copy of a JSON value with every SAS signature removed from every string inside it."""
    if isinstance(value, str):
        return strip_sas_text(value)[0]
    if isinstance(value, dict):
        return {key: strip_sas_everywhere(item) for key, item in value.items()}
    if isinstance(value, list):
        return [strip_sas_everywhere(item) for item in value]
    return value
