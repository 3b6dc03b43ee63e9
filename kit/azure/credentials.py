"""Credentials: the ways the kit authenticates to ARM.

``default`` (:class:`~azure.identity.DefaultAzureCredential`), ``cli`` (the ``az login``
session), ``managed-identity`` (the VM or container the kit runs on) and ``env-token``: a
pre-issued ARM access token read from an environment variable at the moment it is needed
(a break-glass workstation handed a token out of band). A running lab's token is held in
memory instead (:meth:`kit.azure.target.AzureTarget.for_lab`). The kit never writes a token
anywhere.

:class:`StaticTokenCredential` implements azure-core's ``TokenCredential`` (sync
``get_token``) and :class:`AsyncStaticTokenCredential` its ``AsyncTokenCredential`` twin;
both read the variable on every call so a refreshed token is picked up without a restart.
"""

from __future__ import annotations

import os
import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

from kit.azure.choices import CREDENTIAL_KINDS
from kit.azure.tokens import read_claims
from kit.errors import AuthenticationError, UsageError

__all__ = [
    "AsyncStaticTokenCredential",
    "StaticTokenCredential",
    "async_credential",
    "sync_credential",
]

_FALLBACK_LIFETIME = 3600


def _expiry(token: str) -> int:
    """The ``exp`` claim of a JWT, or an hour from now for opaque tokens (the lab's)."""
    expires = read_claims(token).expires_on
    return expires if expires is not None else int(time.time()) + _FALLBACK_LIFETIME


class _Held:
    """A token kept in memory; its repr never shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<token held in memory>"


class _StaticToken:
    def __init__(self, env: str = "KIT_ARM_TOKEN", *, token: str | None = None) -> None:
        self.env = env
        self._held = _Held(token) if token is not None else None

    def _read(self) -> AccessToken:
        token = (self._held.value if self._held is not None else os.environ.get(self.env, "")).strip()
        if not token:
            where = "the token given" if self._held is not None else f"the environment variable {self.env}"
            raise AuthenticationError(
                f"no ARM access token: {where} is empty or not set "
                f"(export it, or choose another --credential such as 'default' or 'cli')"
            )
        return AccessToken(token, _expiry(token))

    def __repr__(self) -> str:  # never show the token
        held = f", token={self._held!r}" if self._held is not None else ""
        return f"{type(self).__name__}(env={self.env!r}{held})"


class StaticTokenCredential(_StaticToken):
    """A ``TokenCredential`` that hands out a pre-issued token.

    Parameters
    ----------
    env
        The variable holding the bearer token (``KIT_ARM_TOKEN``), read on every call.
    token
        The token itself, held in memory (a running lab's); ``env`` is not read then.
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


class AsyncStaticTokenCredential(_StaticToken):
    """The ``AsyncTokenCredential`` twin of :class:`StaticTokenCredential` (same parameters)."""

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


def async_credential(kind: str, *, authority: str, token_env: str = "KIT_ARM_TOKEN", token: str | None = None) -> Any:
    """Build an async credential of ``kind``.

    Parameters
    ----------
    kind
        ``default``, ``cli``, ``managed-identity`` or ``env-token``.
    authority
        The Entra ID authority host of the cloud (``login.microsoftonline.com``).
    token_env
        The variable ``env-token`` reads.
    token
        For ``env-token``: the token itself, held in memory instead of read from ``token_env``.

    Returns
    -------
    AsyncTokenCredential
        A credential for the ``azure.mgmt.*.aio`` clients; close it when done.
    """
    _check_kind(kind)
    if kind == "env-token":
        credential = AsyncStaticTokenCredential(token_env, token=token)
        credential._read()  # fail now, with the clear message, rather than on the first call
        return credential
    from azure.identity.aio import AzureCliCredential, DefaultAzureCredential, ManagedIdentityCredential

    if kind == "cli":
        return AzureCliCredential()
    if kind == "managed-identity":
        return ManagedIdentityCredential()
    return DefaultAzureCredential(authority=authority)


def sync_credential(kind: str, *, authority: str, token_env: str = "KIT_ARM_TOKEN", token: str | None = None) -> Any:
    """Build a blocking credential of ``kind`` (same parameters as :func:`async_credential`)."""
    _check_kind(kind)
    if kind == "env-token":
        credential = StaticTokenCredential(token_env, token=token)
        credential._read()
        return credential
    from azure.identity import AzureCliCredential, DefaultAzureCredential, ManagedIdentityCredential

    if kind == "cli":
        return AzureCliCredential()
    if kind == "managed-identity":
        return ManagedIdentityCredential()
    return DefaultAzureCredential(authority=authority)
