"""One row of evidence behind a hypothesis (what every signal answers with)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kit.analyze.activity import Operation

__all__ = ["Evidence", "operation_evidence"]


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence behind a hypothesis.

    Parameters
    ----------
    source
        ``boot_log``, ``activity_log``, ``network``, ``instance_view``, ``resource_health``, ``peers`` or
        ``kit``.
    kind
        The finding kind, operation name, rule name or status code.
    summary
        One sentence for people.
    evidence
        Where to look (as the timeline's ``evidence`` column): ``serial.log:412``,
        ``activity_log.json#3,4,7``, ``nsgs/nsg-web.json: securityRules/DenyAll`` …
    time
        When it happened, if known (UTC).
    details
        Anything else (the verdict as JSON, the operation's caller …).
    """

    source: str
    kind: str
    summary: str
    evidence: str = ""
    time: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"source": self.source, "kind": self.kind, "summary": self.summary, "evidence": self.evidence,
                "time": self.time.isoformat() if self.time else None, "details": self.details}


def operation_evidence(op: Operation, summary: str | None = None) -> Evidence:
    """The evidence row of an Activity Log operation (its records' positions in ``activity_log.json``)."""
    indices = ",".join(str(i) for i in sorted(e.position for e in op.events))
    return Evidence("activity_log", op.operation_name, summary or op.summary, f"activity_log.json#{indices}", op.start,
                    {"caller": op.caller, "status": op.status, "correlation_id": op.correlation_id,
                     "resource_id": op.resource_id})
