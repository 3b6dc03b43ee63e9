"""Remove SAS signatures from URLs before anything is written to a bundle.

A boot-diagnostics blob URL carries a shared access signature in its query string
(``?sv=…&se=…&sp=r&sig=…``): whoever holds it can read the blob until it expires. The bundle
keeps the scheme, host and path (which name the storage account, container and blob) and
drops the query string of every URL that carries a signature.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

__all__ = ["has_sas", "strip_sas", "strip_sas_everywhere"]

_URL = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)
_SAS_KEYS = {"sig", "signature"}


def has_sas(url: str) -> bool:
    """Whether ``url`` carries a SAS signature (a ``sig`` query parameter)."""
    query = urlsplit(url).query
    return any(key.lower() in _SAS_KEYS for key, _ in parse_qsl(query, keep_blank_values=True))


def strip_sas(url: str) -> str:
    """``url`` without its query string when the query holds a SAS signature.

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
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def strip_sas_everywhere(value: Any) -> Any:
    """A copy of a JSON value with every URL inside every string stripped of its SAS."""
    if isinstance(value, str):
        if "sig=" not in value.lower() and "signature=" not in value.lower():
            return value
        return _URL.sub(lambda match: strip_sas(match.group(0)), value)
    if isinstance(value, dict):
        return {key: strip_sas_everywhere(item) for key, item in value.items()}
    if isinstance(value, list):
        return [strip_sas_everywhere(item) for item in value]
    return value
