"""The archive's witness in Azure Storage: one append blob per incident.

``--witness https://<account>.blob.core.windows.net/<container>`` names a container; the heads
of incident ``INC-7`` go to the append blob ``<container>/INC-7.jsonl``, one JSON line per
manifest (:func:`kit.archive.witness.head_line`). One blob per incident keeps each read small
(``kit verify`` downloads only its incident's heads) and far from the 50,000 appends an append
blob takes. The container and the blob are created when missing.

Authentication, never written to disk or printed:

- Entra ID through the kit's :class:`~kit.azure.target.AzureTarget` credential (``az login``,
  managed identity, …) with the storage scope ``https://storage.azure.com/.default``; the
  identity needs *Storage Blob Data Contributor* on the container (*Reader* to verify).
- or a connection string in ``KIT_WITNESS_CONNECTION_STRING`` (account key or SAS; Azurite's
  well-known development account), read when the witness is opened. The URL still names the
  witness and must be the connection string's own endpoint and container.

Make the witness tamper-proof where it lives: a container with a time-based retention policy
that allows *protected append writes* lets the kit append and no one (account owners included)
rewrite or delete a head. Plain ``http://`` is accepted for loopback addresses only (Azurite).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import unquote, urlsplit

from azure.core import MatchConditions
from azure.core import exceptions as core
from azure.storage.blob import BlobServiceClient, ContainerClient

from kit.archive.witness import Head, Witness, head_line, open_file_witness, parse_head_lines
from kit.azure.target import AzureTarget
from kit.errors import WitnessError

__all__ = ["CONNECTION_STRING_ENV", "STORAGE_SCOPE", "BlobWitness", "open_witness"]

#: The variable holding a Storage connection string (Azurite, account keys, SAS); read, never stored.
CONNECTION_STRING_ENV = "KIT_WITNESS_CONNECTION_STRING"
#: The Entra ID scope of Azure Storage, the same in every cloud.
STORAGE_SCOPE = "https://storage.azure.com/.default"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_MAX_MESSAGE = 300


def _first_line(error: BaseException) -> str:
    message = getattr(error, "message", None) or str(error)
    line = next((part.strip() for part in str(message).splitlines() if part.strip()), type(error).__name__)
    return line if len(line) <= _MAX_MESSAGE else line[:_MAX_MESSAGE] + "…"


def _code(error: BaseException) -> str:
    code = getattr(error, "error_code", None)
    return str(getattr(code, "value", code) or "")


_REFUSED = "the credential was refused: a wrong key or SAS, or a token that is not for Storage (an ARM token is not)"
_ROLE = ("the identity lacks a data role: it needs Storage Blob Data Contributor on the container "
         "(Storage Blob Data Reader to verify)")
#: What to do, by Storage error code.
_HINTS = {
    "AuthenticationFailed": _REFUSED,
    "InvalidAuthenticationInfo": _REFUSED,
    "NoAuthenticationInformation": _REFUSED,
    "AuthorizationPermissionMismatch": _ROLE,
    "AuthorizationFailure": "the storage account refuses the request (its network rules, or the identity's role)",
    "InvalidBlobType": "the incident's witness blob is no longer an append blob: someone replaced it; keep it as "
                       "evidence and investigate",
}


def _translate(error: Exception, url: str, doing: str) -> WitnessError:
    """One-line :class:`WitnessError` for an SDK exception raised while ``doing`` something to the witness."""
    where = f"witness {url}: cannot {doing}"
    if isinstance(error, core.ClientAuthenticationError) and getattr(error, "status_code", None) is None:
        return WitnessError(f"{where}: no storage token ({_first_line(error)}); run `az login`, choose another "
                            f"--credential, or set {CONNECTION_STRING_ENV}")
    if isinstance(error, core.HttpResponseError):
        status, code = error.status_code, _code(error)
        hint = _HINTS.get(code) or (f"{_REFUSED}, or {_ROLE.removeprefix('the identity ')}" if status in (401, 403)
                                    else _first_line(error))
        return WitnessError(f"{where}: HTTP {status} {code} — {hint}".replace("  ", " "))
    if isinstance(error, core.ServiceRequestError):
        return WitnessError(f"{where}: the storage endpoint cannot be reached ({_first_line(error)}); check the URL, "
                            "the network and --ca-bundle")
    if isinstance(error, core.ServiceResponseError):
        return WitnessError(f"{where}: no usable answer from the storage endpoint ({_first_line(error)})")
    return WitnessError(f"{where}: {type(error).__name__}: {_first_line(error)}")


@contextmanager
def _mapped(url: str, doing: str) -> Iterator[None]:
    try:
        yield
    except WitnessError:
        raise
    except (core.AzureError, OSError, ValueError) as error:
        raise _translate(error, url, doing) from None


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise WitnessError("the witness URL must name a container without a query (a SAS belongs in "
                           f"{CONNECTION_STRING_ENV}, not in a URL the kit prints)")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise WitnessError(f"the witness URL {url} must use https:// (http:// only for a local emulator on 127.0.0.1)")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WitnessError(f"the witness URL {url} is not an https:// container URL "
                           "(https://<account>.blob.core.windows.net/<container>)")
    return url.rstrip("/")


class BlobWitness:
    """A :class:`~kit.archive.witness.Witness` over Azure Storage append blobs, one per incident.

    Parameters
    ----------
    container
        The container the blobs live in.
    url
        The container URL, as the witness is named in messages.

    Use :meth:`from_url` to build one from ``--witness URL``.
    """

    def __init__(self, container: ContainerClient, url: str) -> None:
        self._container = container
        self._url = url

    @classmethod
    def from_url(cls, url: str, *, target: AzureTarget | None = None,
                 connection_string_env: str = CONNECTION_STRING_ENV,
                 environ: Mapping[str, str] | None = None) -> BlobWitness:
        """The witness in the container at ``url``.

        Parameters
        ----------
        url
            ``https://<account>.blob.core.windows.net/<container>`` (Azurite:
            ``http://127.0.0.1:10000/devstoreaccount1/<container>``).
        target
            Where the credential, the CA bundle and the retry settings come from (default: an
            ``AzureTarget()`` with the ``default`` credential). Its CA bundle also applies with a
            connection string.
        connection_string_env
            The variable to read a connection string from; when set and not empty it is used
            instead of the target's credential.
        environ
            Where to read it (default: ``os.environ``).

        Raises
        ------
        WitnessError
            The URL is not a container URL, or the connection string is malformed or for
            another account, endpoint or container.
        """
        url = _check_url(url)
        target = target or AzureTarget()
        options: dict[str, Any] = {
            "connection_verify": target.connection_verify,
            "retry_total": target.retry.total,
            "connection_timeout": target.retry.connection_timeout,
            "read_timeout": target.retry.read_timeout,
        }
        try:
            named = ContainerClient.from_container_url(url)
        except ValueError as error:
            raise WitnessError(f"the witness URL {url} is not a container URL ({error}); give "
                               "https://<account>.blob.core.windows.net/<container>") from None
        if not named.container_name:
            raise WitnessError(f"the witness URL {url} names no container: add /<container> to it")
        secret = (os.environ if environ is None else environ).get(connection_string_env, "").strip()
        if not secret:
            container = ContainerClient.from_container_url(url, credential=target.sync_credential(),
                                                           audience=STORAGE_SCOPE.removesuffix("/.default"), **options)
            return cls(container, url)
        try:
            service = BlobServiceClient.from_connection_string(secret, **options)
        except (ValueError, KeyError):
            raise WitnessError(f"{connection_string_env} is not a Storage connection string "
                               "(AccountName=…;AccountKey=…;BlobEndpoint=…)") from None
        container = service.get_container_client(unquote(named.container_name))
        if container.url.rstrip("/") != url:
            raise WitnessError(f"the witness URL {url} is not the container {container.url.rstrip('/')} that "
                               f"{connection_string_env} connects to; give the URL of that container")
        return cls(container, url)

    @property
    def name(self) -> str:
        """The container URL."""
        return self._url

    def blob_name(self, incident: str) -> str:
        """The append blob holding ``incident``'s heads."""
        return f"{incident}.jsonl"

    def append(self, head: Head) -> None:
        """Append ``head`` to its incident's blob, creating the container and the blob when missing.

        Raises
        ------
        WitnessError
            Storage refused or could not be reached (one line, with the HTTP status and code).
        """
        blob = self._container.get_blob_client(self.blob_name(head.incident))
        line = head_line(head)
        with _mapped(self._url, f"append manifest {head.sequence} of {head.incident}"):
            try:
                blob.append_block(line)
                return
            except core.ResourceNotFoundError as error:
                if _code(error) == "ContainerNotFound":
                    self._ignore_exists(self._container.create_container)
                self._ignore_exists(lambda: blob.create_append_blob(match_condition=MatchConditions.IfMissing))
            blob.append_block(line)

    @staticmethod
    def _ignore_exists(create: Callable[[], object]) -> None:
        """Run ``create``; someone else creating the same thing first is fine."""
        with suppress(core.ResourceExistsError, core.ResourceModifiedError):
            create()

    def heads(self, incident: str) -> list[Head]:
        """Every head recorded for ``incident`` (none when its blob does not exist yet).

        Raises
        ------
        WitnessError
            The container does not exist, Storage refused, or the blob holds a line that is not a head.
        """
        name = self.blob_name(incident)
        with _mapped(self._url, f"read the heads of {incident}"):
            try:
                data = self._container.get_blob_client(name).download_blob().readall()
            except core.ResourceNotFoundError as error:
                if _code(error) == "ContainerNotFound":
                    raise WitnessError(f"witness {self._url}: the container does not exist; check the URL "
                                       "(it is created by the first witnessed manifest)") from None
                return []
        return [head for head in parse_head_lines(data, f"{self._url}/{name}") if head.incident == incident]

    def close(self) -> None:
        """Close the HTTP session."""
        self._container.close()


def open_witness(location: str, *, target: AzureTarget | None = None,
                 connection_string_env: str = CONNECTION_STRING_ENV,
                 environ: Mapping[str, str] | None = None) -> Witness:
    """The witness ``--witness`` names: an ``http(s)://`` container URL, or a local file.

    Parameters
    ----------
    location
        ``https://<account>.blob.core.windows.net/<container>`` → :class:`BlobWitness`;
        ``file:///path/heads.jsonl`` or a plain path → :class:`~kit.archive.witness.FileWitness`.
    target, connection_string_env, environ
        For a blob witness; see :meth:`BlobWitness.from_url`.

    Raises
    ------
    WitnessError
        The location is neither.
    """
    if urlsplit(location).scheme in ("http", "https"):
        return BlobWitness.from_url(location, target=target, connection_string_env=connection_string_env,
                                    environ=environ)
    return open_file_witness(location)
