"""Sealing the archive as the environment says: every manifest signed and witnessed, every stage alike.

Three variables configure it, for every writer in the process (reports, console transcripts,
drills) and as the defaults of ``kit verify``::

    KIT_ARCHIVE_SIGNING_KEY      path of an SSH key (or its .pub, the key in ssh-agent): sign each manifest
    KIT_ARCHIVE_WITNESS          https://<account>.blob.core.windows.net/<container>, file:///path or a
                                 path: append each manifest's head hash there
    KIT_ARCHIVE_ALLOWED_SIGNERS  the allowed_signers file ``kit verify`` checks signatures against

Use :func:`sealed` / :func:`open_sealed` wherever :func:`kit.archive.staged` / ``Stage.open``
would be used. The Azure Storage SDK (~0.6 s to import) loads only for an ``https://`` witness.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kit.archive import AfterWrite, ExtraCheck, Stage, after_each, staged
from kit.archive.signing import signature_check, signer_from_env
from kit.archive.witness import Witness, open_file_witness, witness_append, witness_check

if TYPE_CHECKING:
    from kit.azure.target import AzureTarget

__all__ = [
    "ALLOWED_SIGNERS_ENV",
    "WITNESS_ENV",
    "after_write_from_env",
    "open_sealed",
    "open_witness_at",
    "sealed",
    "verify_checks",
]

#: Where a report run appends each manifest's head (a container URL, ``file:///…`` or a path).
WITNESS_ENV = "KIT_ARCHIVE_WITNESS"
#: The ``allowed_signers`` file ``kit verify`` uses when ``--allowed-signers`` is not given.
ALLOWED_SIGNERS_ENV = "KIT_ARCHIVE_ALLOWED_SIGNERS"
def open_witness_at(location: str, *, target: AzureTarget | None = None) -> Witness:
    """The witness at ``location``: an Azure append-blob container (``https://``) or a local file."""
    if urlsplit(location).scheme in ("http", "https"):
        # the Storage SDK and the credentials (~0.8 s to import) load only for a blob witness
        from kit.azure.target import AzureTarget, RetrySettings
        from kit.azure.witness import open_witness

        # a witness append runs under the incident's lock: keep its retries short
        short = RetrySettings(total=2, connection_timeout=10.0, read_timeout=20.0, deadline=60.0)
        return open_witness(location, target=target or AzureTarget(retry=short))
    return open_file_witness(location)


def after_write_from_env(environ: Mapping[str, str] | None = None, *,
                         target: AzureTarget | None = None) -> AfterWrite | None:
    """Sign (``KIT_ARCHIVE_SIGNING_KEY``), then witness (``KIT_ARCHIVE_WITNESS``), each manifest; ``None`` if neither.

    Raises
    ------
    ArchiveError
        The signing key cannot sign (checked now, before anything is recorded).
    WitnessError
        The witness cannot be opened.
    """
    env = os.environ if environ is None else environ
    location = env.get(WITNESS_ENV, "").strip()
    witness = witness_append(open_witness_at(location, target=target)) if location else None
    return after_each(signer_from_env(env), witness)


def verify_checks(*, allowed_signers: str | os.PathLike[str] | None = None, witness: str | None = None,
                  target: AzureTarget | None = None, environ: Mapping[str, str] | None = None) -> list[ExtraCheck]:
    """The checks ``kit verify`` adds: signatures against ``allowed_signers``, heads against ``witness``.

    Each defaults to its environment variable (:data:`ALLOWED_SIGNERS_ENV`, :data:`WITNESS_ENV`).
    """
    env = os.environ if environ is None else environ
    signers = allowed_signers or env.get(ALLOWED_SIGNERS_ENV, "").strip() or None
    location = witness or env.get(WITNESS_ENV, "").strip() or None
    checks: list[ExtraCheck] = []
    if signers:
        checks.append(signature_check(Path(signers).expanduser()))
    if location:
        checks.append(witness_check(open_witness_at(location, target=target)))
    return checks


def open_sealed(root: str | os.PathLike[str], name: str, **options: Any) -> Stage:
    """``Stage.open`` with the environment's seal (``after_write``) unless one is given."""
    if "after_write" not in options:
        options["after_write"] = after_write_from_env()
    return Stage.open(root, name, **options)


@contextlib.contextmanager
def sealed(root: str | os.PathLike[str], name: str, **options: Any) -> Iterator[Stage]:
    """``kit.archive.staged`` with the environment's seal (``after_write``) unless one is given."""
    if "after_write" not in options:
        options["after_write"] = after_write_from_env()
    with staged(root, name, **options) as stage:
        yield stage
