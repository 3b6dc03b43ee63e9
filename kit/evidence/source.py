"""Where evidence comes from, as one string: ``lab:<scenario>``, ``azure``, ``bundle:<path>``, ``import``.

The one parser of that string (papermill dispatches on a path prefix in one place too). Report
parameters, the console notebook and bundle manifests all write it; everything that reads it
calls :func:`parse_source`::

    >>> parse_source("lab:firewall-lockout")
    EvidenceSource(kind='lab', value='firewall-lockout')
    >>> parse_source("bundle:archive/INC-1/evidence/x/vm-web-01").path
    PosixPath('archive/INC-1/evidence/x/vm-web-01')
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from kit.errors import UsageError

__all__ = ["SOURCE_KINDS", "EvidenceSource", "parse_source"]

#: Every kind, with what follows its colon (``""``: nothing may follow).
SOURCE_KINDS: dict[str, str] = {"lab": "<scenario>", "azure": "", "bundle": "<path>", "import": ""}


@dataclass(frozen=True)
class EvidenceSource:
    """A parsed evidence source.

    Parameters
    ----------
    kind
        ``lab``, ``azure``, ``bundle`` or ``import``.
    value
        The scenario of ``lab:``, the path of ``bundle:``; empty otherwise.
    """

    kind: str
    value: str = ""

    @property
    def scenario(self) -> str | None:
        """The lab scenario, for ``lab:`` sources."""
        return self.value if self.kind == "lab" else None

    @property
    def path(self) -> Path | None:
        """The bundle path (``~`` expanded), for ``bundle:`` sources."""
        return Path(self.value).expanduser() if self.kind == "bundle" else None

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind


def _forms(kinds: Collection[str]) -> str:
    shown = [f"{kind}:{SOURCE_KINDS[kind]}" if SOURCE_KINDS[kind] else kind for kind in SOURCE_KINDS if kind in kinds]
    return ", ".join(shown[:-1]) + f" or {shown[-1]}" if len(shown) > 1 else shown[0]


def parse_source(text: str, *, allowed: Collection[str] = ("lab", "azure", "bundle")) -> EvidenceSource:
    """Parse an evidence source string.

    Parameters
    ----------
    text
        ``lab:<scenario>``, ``azure``, ``bundle:<path>`` or ``import``.
    allowed
        The kinds the caller accepts (a console can open ``lab:`` and ``azure``, not a bundle).

    Raises
    ------
    UsageError
        Not one of the allowed forms; the message lists them.
    """
    kind, colon, value = str(text).strip().partition(":")
    takes_value = bool(SOURCE_KINDS.get(kind))
    if kind not in allowed or kind not in SOURCE_KINDS or (takes_value and not value.strip()) or (
            not takes_value and colon):
        raise UsageError(f"source {text!r} must be {_forms(allowed)}")
    return EvidenceSource(kind, value.strip())
