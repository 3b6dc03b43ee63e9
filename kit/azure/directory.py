"""Who the Activity Log names: the principal GUIDs worth a Microsoft Graph display-name lookup.

A record's ``caller`` is a UPN for people (no lookup needed) and a GUID for applications (the
appId) or, now and then, a user's object id; its ``claims`` carry the object id and the appId.
Graph's ``directoryObjects/getByIds`` takes at most :data:`BATCH` ids a request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["BATCH", "PATH", "TYPES", "batches", "principal_ids"]

PATH = "/v1.0/directoryObjects/getByIds"
BATCH = 1000
TYPES = ("user", "servicePrincipal", "group")
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid", "appid")


def principal_ids(records: Iterable[Any]) -> list[str]:
    """The distinct GUIDs (lower-cased, first seen first) in the ``caller`` and id claims of ``records``."""
    found: dict[str, None] = {}
    for record in records:
        if not isinstance(record, dict):
            continue
        claims = record.get("claims")
        claims = claims if isinstance(claims, dict) else {}
        values = [record.get("caller"), *(claims.get(name) for name in _ID_CLAIMS)]
        for value in values:
            if isinstance(value, str) and _GUID.fullmatch(value.strip()):
                found.setdefault(value.strip().lower(), None)
    return list(found)


def batches(ids: list[str]) -> Iterator[list[str]]:
    """``ids`` in slices of at most :data:`BATCH`."""
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]
