"""Errors the kit raises on purpose.

Every error a user can cause (bad input, a failed Azure call, a broken bundle) is a
:class:`KitError`. The CLI prints its message on one line and exits with ``exit_code``;
notebooks show the message. Anything else escaping is a bug.

The tree::

    KitError
    ├── UsageError                     bad arguments or parameters (exit 2)
    │   ├── InvalidResourceId          also a ValueError
    │   └── SecretParameterError       a parameter that looks like a secret
    ├── AzureError                     an ARM call failed (status, code, operation, resource_id)
    │   ├── AuthenticationError        401/403, no or wrong token (exit 3)
    │   └── ResourceNotFoundError      404 (exit 4)
    ├── BundleError                    the evidence bundle on disk
    │   ├── BundleExistsError          refusing to overwrite (exit 5)
    │   └── BundleFormatError          unreadable, malformed or incomplete bundle/input
    ├── LabError                       the local Azure emulator
    ├── AnalysisError                  analysis could not run on this input
    ├── ConsoleError                   serial console sessions
    │   ├── ConsoleClosedError         the connection is gone
    │   │   └── ConsoleLostError       gone for good: reconnecting failed (exit 7)
    │   ├── ConsoleAuthError           the gateway refused the token
    │   ├── ConsolePrecheckError       console cannot be used for this VM (and why)
    │   └── ConsoleTimeoutError        also a TimeoutError
    └── ReportError                    notebook runs and the incident archive
        ├── NotebookExecutionError     a cell failed (the report is still written)
        └── ArchiveError               archive layout / integrity
            ├── ArchiveBusyError       another run holds the incident past the wait (exit 6)
            └── WitnessError           the archive's witness cannot be read or written
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "ArchiveBusyError",
    "ArchiveError",
    "AuthenticationError",
    "AzureError",
    "BundleError",
    "BundleExistsError",
    "BundleFormatError",
    "ConsoleAuthError",
    "ConsoleClosedError",
    "ConsoleError",
    "ConsoleLostError",
    "ConsolePrecheckError",
    "ConsoleTimeoutError",
    "InvalidResourceId",
    "KitError",
    "LabError",
    "NotebookExecutionError",
    "ReportError",
    "ResourceNotFoundError",
    "SecretParameterError",
    "UsageError",
    "WitnessError",
]


class KitError(Exception):
    """Base of every error the kit raises on purpose."""

    exit_code: int = 1


class UsageError(KitError):
    """Raised when arguments or parameters are wrong."""

    exit_code = 2


class InvalidResourceId(UsageError, ValueError):
    """Raised when an ARM resource id is malformed; the message names the bad part."""


class SecretParameterError(UsageError):
    """Raised when a notebook parameter looks like a secret (token, password, key, SAS)."""


class AzureError(KitError):
    """Raised when an ARM call fails.

    Parameters
    ----------
    message
        What went wrong, in a sentence.
    status
        HTTP status, when there was a response.
    code
        ARM error code (``ResourceNotFound``, ``AuthorizationFailed`` …).
    operation
        The call that failed (``virtual_machines.get``).
    resource_id
        The resource the call was about.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        operation: str | None = None,
        resource_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.operation = operation
        self.resource_id = resource_id


class AuthenticationError(AzureError):
    """Raised when ARM refuses the credential (401/403)."""

    exit_code = 3


class ResourceNotFoundError(AzureError):
    """Raised when the resource does not exist (404)."""

    exit_code = 4


class BundleError(KitError):
    """Raised for problems with an evidence bundle."""


class BundleExistsError(BundleError):
    """Raised when the output folder already holds the bundle; nothing is overwritten."""

    exit_code = 5


class BundleFormatError(BundleError):
    """Raised when a bundle or an imported file is unreadable, malformed or incomplete."""


class LabError(KitError):
    """Raised when the local Azure emulator cannot start or is asked for something it lacks."""


class AnalysisError(KitError):
    """Raised when an analysis cannot run on the given input."""


class ConsoleError(KitError):
    """Base of serial console errors."""


class ConsoleClosedError(ConsoleError):
    """Raised when the console connection is closed."""


class ConsoleLostError(ConsoleClosedError):
    """Raised when the console connection is lost for good: every reconnect attempt failed."""

    exit_code = 7


class ConsoleAuthError(ConsoleError):
    """Raised when the console gateway refuses the token."""

    exit_code = 3


class ConsolePrecheckError(ConsoleError):
    """Raised when the serial console cannot be used for this VM; the message says why."""


class ConsoleTimeoutError(ConsoleError, TimeoutError):
    """Raised when the console did not answer in time; the message shows the last screen lines."""


class ReportError(KitError):
    """Base of report and archive errors."""


class NotebookExecutionError(ReportError):
    """Raised when a notebook cell fails; the executed notebook and HTML are still written."""


class ArchiveError(ReportError):
    """Raised when the incident archive is malformed or fails verification."""


class ArchiveBusyError(ArchiveError):
    """Raised when another run still holds the incident's lock after the wait; nothing was written."""

    exit_code = 6


class WitnessError(ArchiveError):
    """Raised when the archive's witness (the append-only log of manifest hashes) cannot be read or written."""
