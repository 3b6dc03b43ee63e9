"""Credentials: the four ways the kit authenticates to ARM.

``default`` (:class:`~azure.identity.DefaultAzureCredential`), ``cli`` (the ``az login``
session), ``managed-identity`` (the VM or container the kit runs on) and ``env-token``: a
pre-issued ARM access token read from an environment variable at the moment it is needed
(a break-glass workstation handed a token out of band, and the lab). The token is never
written anywhere by the kit.

:class:`StaticTokenCredential` implements azure-core's ``TokenCredential`` (sync
``get_token``) and :class:`AsyncStaticTokenCredential` its ``AsyncTokenCredential`` twin;
both read the variable on every call so a refreshed token is picked up without a restart.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

from kit.errors import AuthenticationError, UsageError

__all__ = [
    "AsyncStaticTokenCredential",
    "CREDENTIAL_KINDS",
    "StaticTokenCredential",
    "async_credential",
    "sync_credential",
]

CREDENTIAL_KINDS = ("default", "cli", "managed-identity", "env-token")
_FALLBACK_LIFETIME = 3600


def _expiry(token: str) -> int:
    """The ``exp`` claim of a JWT, or an hour from now for opaque tokens (the lab's)."""
    parts = token.split(".")
    if len(parts) == 3:
        try:
            payload = parts[1] + "=" * (-len(parts[1]) % 4)
            claims = json.loads(base64.urlsafe_b64decode(payload))
            return int(claims["exp"])
        except (ValueError, KeyError, TypeError):
            pass
    return int(time.time()) + _FALLBACK_LIFETIME


class _EnvToken:
    def __init__(self, env: str = "KIT_ARM_TOKEN") -> None:
        self.env = env

    def _read(self) -> AccessToken:
        token = os.environ.get(self.env, "").strip()
        if not token:
            raise AuthenticationError(
                f"no ARM access token: the environment variable {self.env} is empty or not set "
                f"(export it, or choose another --credential such as 'default' or 'cli')"
            )
        return AccessToken(token, _expiry(token))

    def __repr__(self) -> str:  # never show the token
        return f"{type(self).__name__}(env={self.env!r})"


class StaticTokenCredential(_EnvToken):
    """A ``TokenCredential`` that hands out the token found in an environment variable.

    Parameters
    ----------
    env
        The variable holding the bearer token (``KIT_ARM_TOKEN``).
    """

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """Return the current token; raises :class:`~kit.errors.AuthenticationError` if unset."""
        return self._read()

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        """Return the current token as ``AccessTokenInfo``."""
        token = self._read()
        return AccessTokenInfo(token.token, token.expires_on)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> StaticTokenCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStaticTokenCredential(_EnvToken):
    """The ``AsyncTokenCredential`` twin of :class:`StaticTokenCredential`.

    Parameters
    ----------
    env
        The variable holding the bearer token (``KIT_ARM_TOKEN``).
    """

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """Return the current token; raises :class:`~kit.errors.AuthenticationError` if unset."""
        return self._read()

    async def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        """Return the current token as ``AccessTokenInfo``."""
        token = self._read()
        return AccessTokenInfo(token.token, token.expires_on)

    async def close(self) -> None:
        """Nothing to release."""

    async def __aenter__(self) -> AsyncStaticTokenCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _check_kind(kind: str) -> None:
    if kind not in CREDENTIAL_KINDS:
        raise UsageError(f"unknown credential {kind!r}: choose one of {', '.join(CREDENTIAL_KINDS)}")


def async_credential(kind: str, *, authority: str, token_env: str = "KIT_ARM_TOKEN") -> Any:
    """Build an async credential of ``kind``.

    Parameters
    ----------
    kind
        ``default``, ``cli``, ``managed-identity`` or ``env-token``.
    authority
        The Entra ID authority host of the cloud (``login.microsoftonline.com``).
    token_env
        The variable ``env-token`` reads.

    Returns
    -------
    AsyncTokenCredential
        A credential for the ``azure.mgmt.*.aio`` clients; close it when done.
    """
    _check_kind(kind)
    if kind == "env-token":
        credential = AsyncStaticTokenCredential(token_env)
        credential._read()  # fail now, with the clear message, rather than on the first call
        return credential
    from azure.identity.aio import AzureCliCredential, DefaultAzureCredential, ManagedIdentityCredential

    if kind == "cli":
        return AzureCliCredential()
    if kind == "managed-identity":
        return ManagedIdentityCredential()
    return DefaultAzureCredential(authority=authority)


def sync_credential(kind: str, *, authority: str, token_env: str = "KIT_ARM_TOKEN") -> Any:
    """Build a blocking credential of ``kind`` (same parameters as :func:`async_credential`)."""
    _check_kind(kind)
    if kind == "env-token":
        credential = StaticTokenCredential(token_env)
        credential._read()
        return credential
    from azure.identity import AzureCliCredential, DefaultAzureCredential, ManagedIdentityCredential

    if kind == "cli":
        return AzureCliCredential()
    if kind == "managed-identity":
        return ManagedIdentityCredential()
    return DefaultAzureCredential(authority=authority)
