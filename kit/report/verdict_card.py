"""The verdict card: the answer first, in one screen, at the top of a report.

Cause, level (guest or platform), confidence as ``kit analyze verdict`` prints it, the causal
change (who, when, what), the platform metrics' change point behind it when one supports it, the
next step with its commands and one piece of contradicting evidence. Inline CSS only; every text
from evidence is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kit.analyze.attribution import Attribution, of_operation
from kit.report.present import MAX_CELL, Html, clean_text, code_block

if TYPE_CHECKING:
    from kit.analyze.network import NetworkDiff
    from kit.analyze.triage import TriageResult
    from kit.evidence import Bundle

__all__ = ["card", "diff_card", "saved_verdict_card", "verdict_card"]

_MAX_COMMANDS = 6


def _esc(value: Any, limit: int = MAX_CELL) -> str:
    return html.escape(clean_text(value, limit=limit))


_LEVELS = {
    "guest": "guest: inside the VM's operating system",
    "platform": "platform: Azure's control or network plane",
}
_STYLE = ("border:2px solid #c62828;border-radius:8px;padding:10px 14px;margin:.4em 0 1em;"
          "background:#fffdfd;max-width:1100px;font-size:14px;line-height:1.4")
_ROW = "margin:3px 0;display:flex"
_LABEL = "flex:none;width:9.5em;color:#57606a;font-weight:600"


def _row(label: str, value: str, css: str = "") -> str:
    return (f'<div class="kit-card-{_esc(label.split()[0].lower())}" style="{_ROW}">'
            f'<span style="{_LABEL}">{_esc(label)}</span><span style="{css}">{value}</span></div>')


def _level(level: str) -> str:
    return _LEVELS.get(level, "none: no fault named (no guest or platform cause)")


def _change(attribution: Attribution | Mapping[str, Any] | None) -> str:
    if attribution is None:
        return "no attributable change in the Activity Log"
    return (attribution if isinstance(attribution, Attribution) else Attribution.from_json(attribution)).text


def _contradiction(top: Mapping[str, Any]) -> str:
    against = top.get("contradicting") or []
    if against:
        first = against[0]
        return str(first.get("summary") if isinstance(first, Mapping) else first)
    if top.get("kind") in ("insufficient_evidence", "no_fault_found"):
        return "nothing contradicts it; a serial-console session or more evidence would"
    return "nothing in the evidence contradicts it"


def _metrics(top: Mapping[str, Any]) -> str | None:
    """The platform metrics' change points among the supporting evidence, one line each (at most two)."""
    rows = [row for row in top.get("supporting") or [] if isinstance(row, Mapping) and row.get("source") == "metrics"]
    if not rows:
        return None
    lines = [f"{row.get('summary')} [{row.get('evidence')}]" for row in rows[:2]]
    return "; ".join(lines) + (f" (+{len(rows) - 2} more)" if len(rows) > 2 else "")


def card(top: Mapping[str, Any], attribution: Attribution | Mapping[str, Any] | None, *, vm: str,
         subscription: str | None, commands: Sequence[str] | None = None) -> Html:
    """The card for one hypothesis as JSON (:meth:`kit.analyze.verdict.Hypothesis.to_json`)."""
    commands = list(top.get("commands") or []) if commands is None else list(commands)
    confidence = top.get("confidence")
    shown_confidence = "n/a (network comparison only)" if confidence is None else f"{float(confidence):.2f}"
    where = f"{vm} in subscription {subscription}" if subscription else vm
    out = [f'<div class="kit-verdict-card" data-level="{_esc(top.get("level"))}" style="{_STYLE}">',
           f'<div style="font-size:12px;color:#57606a">Verdict for {_esc(where)}</div>',
           f'<div class="kit-card-cause" style="font-size:17px;font-weight:700;margin:2px 0 6px">'
           f'{_esc(top.get("summary") or top.get("kind"), limit=400)}</div>',
           _row("Level", _esc(_level(str(top.get("level") or "none"))), "font-weight:700"),
           _row("Confidence", _esc(f"confidence {shown_confidence}") + f' <span style="color:#57606a">'
                f'({_esc(top.get("kind"))})</span>'),
           _row("Causal change", _esc(_change(attribution), limit=400)),
           _row("Next step", _esc(f"{top.get('next_step')}: {top.get('next_step_text') or ''}", limit=500)),
           _row("Against it", _esc(_contradiction(top), limit=300))]
    metrics = _metrics(top)
    if metrics:
        out.insert(-1, _row("Metrics", _esc(metrics, limit=600)))
    if commands:
        shown = commands[:_MAX_COMMANDS]
        more = f"\n# … {len(commands) - len(shown)} more in the classification section" if len(commands) > len(
            shown) else ""
        out.append(str(code_block("\n".join(shown) + more)))
    out.append("</div>")
    return Html("".join(out))


def verdict_card(result: TriageResult, bundle: Bundle, attribution: Attribution | None, *,
                 subscription: str | None = None, commands: Sequence[str] | None = None) -> Html:
    """The triage report's card: the top hypothesis of ``result`` and the change behind it."""
    top = result.classification.top.to_json()
    sub = subscription or (bundle.manifest or {}).get("subscription_id")
    return card(top, attribution, vm=bundle.name, subscription=sub, commands=commands)


def saved_verdict_card(triage: Mapping[str, Any]) -> Html:
    """The card from a saved triage result (``kit-triage/1``, as the postmortem reads it)."""
    top = triage.get("top_hypothesis") or {"kind": "insufficient_evidence", "level": "none", "confidence": 0}
    return card(top, triage.get("attribution"), vm=str(triage.get("vm")), subscription=triage.get("subscription_id"))


def diff_card(diff: NetworkDiff | None, bundle: Bundle) -> Html:
    """The network comparison's card: the verdict-changing difference and the operation behind it."""
    explaining = diff.explaining if diff is not None else ()
    first = explaining[0] if explaining else None
    if first is None:
        reason = "no known-good VM or responder address to compare with" if diff is None else \
            "no difference from the known-good VMs changes the SSH/RDP verdict"
        top: dict[str, Any] = {"kind": "no network difference", "level": "none", "confidence": None,
                               "summary": f"The network path does not explain it: {reason}.",
                               "next_step": "triage", "next_step_text": "read the triage report for the guest side"}
        return card(top, None, vm=bundle.name, subscription=(bundle.manifest or {}).get("subscription_id"))
    top = {"kind": first.kind, "level": "platform", "confidence": None,
           "summary": f"{first.description} ({len(explaining)} verdict-changing difference(s))",
           "next_step": "change the network", "next_step_text": f"take the known-good value: {first.peer_value}"}
    attribution = None if first.operation is None else of_operation(first.operation, bundle.directory_names,
                                                                     "network diff")
    return card(top, attribution, vm=bundle.name, subscription=(bundle.manifest or {}).get("subscription_id"),
                commands=[])
