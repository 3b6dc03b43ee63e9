"""The one place where azure-core / azure-identity exceptions become kit errors.

Shaped like httpx's ``map_httpcore_exceptions``: wrap a call in :func:`map_azure_errors`
and any SDK exception leaves as the most specific :class:`~kit.errors.AzureError`
(401/403 → :class:`~kit.errors.AuthenticationError`, 404 →
:class:`~kit.errors.ResourceNotFoundError`), chained to the original, with the status, the
ARM error code, the operation and the resource id as fields. :func:`failure_record` turns
such an error into the manifest's ``failures`` entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kit.errors import AuthenticationError, AzureError, KitError, ResourceNotFoundError

__all__ = ["failure_record", "map_azure_errors", "translate"]

_MAX_MESSAGE = 400


def _arm_error(error: Any) -> tuple[str | None, str | None]:
    """ARM ``code`` and ``message`` of an ``HttpResponseError``, from its model or its body."""
    inner = getattr(error, "error", None)
    code = getattr(inner, "code", None)
    message = getattr(inner, "message", None)
    if code is None:
        response = getattr(error, "response", None)
        try:
            body = response.json() if response is not None else None
        except Exception:  # not JSON: keep the SDK's message
            body = None
        if isinstance(body, dict):
            detail = body.get("error", body)
            if isinstance(detail, dict):
                code = detail.get("code")
                message = detail.get("message", message)
    return code, message


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "…"


def translate(error: BaseException, *, operation: str | None = None, resource_id: str | None = None) -> KitError:
    """The kit error for an SDK (or transport) exception; kit errors come back unchanged.

    Parameters
    ----------
    error
        What the SDK raised.
    operation
        The call (``virtual_machines.get``), for the message and the manifest.
    resource_id
        The resource the call was about.

    Returns
    -------
    KitError
        An :class:`~kit.errors.AzureError` subclass carrying status, code, operation, resource id.
    """
    from azure.core import exceptions as core

    if isinstance(error, KitError):
        if isinstance(error, AzureError):
            error.operation = error.operation or operation
            error.resource_id = error.resource_id or resource_id
        return error
    where = f"{operation} on {resource_id}" if operation and resource_id else (operation or resource_id or "ARM call")
    if isinstance(error, core.ClientAuthenticationError) and error.status_code is None:
        return AuthenticationError(
            f"{where}: could not get an ARM token: {_short(str(error))} "
            f"(run 'az login', or choose --credential cli|managed-identity|env-token)",
            operation=operation, resource_id=resource_id)
    if isinstance(error, core.HttpResponseError):
        status = error.status_code
        code, message = _arm_error(error)
        text = _short(message or error.message or str(error))
        if status in (401, 403):
            hint = ("the token was refused; check --credential (az login, KIT_ARM_TOKEN) and its tenant"
                    if status == 401 else "the identity lacks permission; it needs Reader on the resource group")
            if operation and operation.startswith("directory_objects."):
                hint = "Microsoft Graph: the identity may not read the directory (it needs Directory.Read.All)"
            return AuthenticationError(f"{where}: HTTP {status} {code or ''} {text} ({hint})".replace("  ", " "),
                                       status=status, code=code, operation=operation, resource_id=resource_id)
        if status == 404:
            return ResourceNotFoundError(f"{where}: not found (HTTP 404 {code or ''}) {text}".replace("  ", " "),
                                         status=status, code=code, operation=operation, resource_id=resource_id)
        said = f"HTTP {status}" if not (status and 200 <= status < 300) else "its operation ended Failed:"
        return AzureError(f"{where}: {said} {code or ''} {text}".replace("  ", " "), status=status, code=code,
                          operation=operation, resource_id=resource_id)
    if isinstance(error, core.ClientAuthenticationError):
        return AuthenticationError(
            f"{where}: could not get an ARM token: {_short(str(error))} "
            f"(run 'az login', or choose --credential cli|managed-identity|env-token)",
            operation=operation, resource_id=resource_id)
    if isinstance(error, core.ServiceRequestError):
        return AzureError(f"{where}: could not reach the endpoint: {_short(str(error))}",
                          code="ConnectionError", operation=operation, resource_id=resource_id)
    if isinstance(error, core.ServiceResponseError):
        return AzureError(f"{where}: no usable response (timeout or connection reset): {_short(str(error))}",
                          code="ResponseError", operation=operation, resource_id=resource_id)
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return AzureError(f"{where}: gave up after the per-call deadline", code="Timeout", operation=operation,
                          resource_id=resource_id)
    if isinstance(error, core.AzureError):
        return AzureError(f"{where}: {_short(str(error))}", code=type(error).__name__,
                          operation=operation, resource_id=resource_id)
    if _is_credential_error(error):
        return AuthenticationError(f"{where}: no credential available: {_short(str(error))}",
                                   operation=operation, resource_id=resource_id)
    if isinstance(error, (OSError, ValueError)):  # aiohttp/ssl errors surfacing outside azure-core, bad JSON
        return AzureError(f"{where}: {type(error).__name__}: {_short(str(error))}", code=type(error).__name__,
                          operation=operation, resource_id=resource_id)
    raise error


def _is_credential_error(error: BaseException) -> bool:
    try:
        from azure.identity import CredentialUnavailableError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, CredentialUnavailableError)


@contextmanager
def map_azure_errors(operation: str | None = None, resource_id: str | None = None) -> Iterator[None]:
    """Re-raise SDK exceptions inside the block as kit errors (the original is chained).

    Parameters
    ----------
    operation
        The call made inside the block.
    resource_id
        The resource it is about.
    """
    try:
        yield
    except KitError as error:
        raise translate(error, operation=operation, resource_id=resource_id) from None
    except Exception as error:
        raise translate(error, operation=operation, resource_id=resource_id) from error


def failure_record(error: KitError, *, call: str, resource_id: str | None) -> dict[str, Any]:
    """The manifest ``failures`` entry for a failed call."""
    return {
        "call": call,
        "resource_id": resource_id,
        "status": getattr(error, "status", None),
        "code": getattr(error, "code", None),
        "message": str(error),
    }
