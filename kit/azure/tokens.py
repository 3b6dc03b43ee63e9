"""What an ARM access token says about who holds it: one reading for the manifest and the console.

The claims are read, not verified (ARM verifies the token; the kit only records who used it).
The token itself is never returned, logged or stored.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["TokenClaims", "read_claims"]

#: Claims naming a person, most specific first; an application or a bare object id comes after.
_USER_CLAIMS = ("upn", "unique_name", "preferred_username", "email")


@dataclass(frozen=True)
class TokenClaims:
    """The parts of a JWT access token the kit records.

    Parameters
    ----------
    principal
        Who: a user's UPN (``upn``, ``unique_name``, ``preferred_username``, ``email`` in that
        order), else ``app <appid>``, else ``object <oid>``; ``None`` for an opaque token.
    tenant
        The ``tid`` claim.
    expires_on
        The ``exp`` claim (seconds since the epoch).
    """

    principal: str | None = None
    tenant: str | None = None
    expires_on: int | None = None


def read_claims(token: str) -> TokenClaims:
    """The claims of ``token`` (unverified); empty for an opaque or malformed token."""
    claims = _payload(token)
    principal = next((str(claims[name]) for name in _USER_CLAIMS if claims.get(name)), None)
    if principal is None and claims.get("appid"):
        principal = f"app {claims['appid']}"
    if principal is None and claims.get("oid"):
        principal = f"object {claims['oid']}"
    tenant = str(claims["tid"]) if claims.get("tid") else None
    try:
        expires = int(claims["exp"]) if "exp" in claims else None
    except (TypeError, ValueError):
        expires = None
    return TokenClaims(principal, tenant, expires)


def _payload(token: str) -> dict[str, Any]:
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        return {}
    try:
        value = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}
