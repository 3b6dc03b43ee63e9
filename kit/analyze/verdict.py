"""Classification: why can nobody reach this VM, and what to do next.

:func:`classify` answers the evidence's questions (is the VM running? how far did the guest
boot and what failed, and did a later good boot get past it? does Resource Health blame the
platform, does the VM agent reach Azure? does an NSG deny the responder's SSH/RDP, or do the
replies get dropped? what changed in the Activity Log? how does the VM differ from its
known-good peers?) and scores the hypotheses of :data:`kit.analyze._verdict_rules.RULES` against
those answers. The result is a ranked list of :class:`Hypothesis`, each with the evidence that
supports and contradicts it and a recommended :class:`NextStep`.

When the evidence cannot tell (no serial log and no network evidence, or nothing scores), it says
``insufficient_evidence`` rather than guess; a VM where every check passes is
``no_fault_found``. A subject VM (reported unreachable) on which every check from the outside
passes is a guest problem the outside cannot see: the serial console is the next step.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kit.analyze._verdict_facts import Evidence, Facts, gather_facts
from kit.analyze._verdict_rules import MIN_SCORE, RULES, Rule
from kit.analyze._verdict_steps import NextStep, next_step_for
from kit.analyze.activity import ActivityLog
from kit.analyze.bootlog import BootReport
from kit.analyze.metrics import MetricsReading
from kit.analyze.network import NetworkReading
from kit.errors import AnalysisError, UsageError

if TYPE_CHECKING:
    from kit.evidence import Bundle

__all__ = ["Classification", "Evidence", "Hypothesis", "NextStep", "check_responder", "classify"]

FORMAT = "kit-verdict/1"


@dataclass(frozen=True)
class Hypothesis:
    """One explanation, scored, with its evidence and the next step it leads to.

    Parameters
    ----------
    kind
        ``guest_firewall``, ``nsg_deny``, ``boot_failure:fstab``, ``platform_unavailable`` …
        (``docs/architecture.md``).
    level
        ``guest``, ``platform`` or ``none``.
    score
        Sum of the weights of the supporting signals that fired minus the contradicting ones.
    confidence
        ``score`` mapped onto 0–1 (``1 - exp(-score / 3)``; 0 for a score at or below 0).
    summary
        One sentence for people.
    supporting, contradicting
        The evidence rows behind the score.
    next_step
        What to do if this is the explanation.
    """

    kind: str
    level: str
    score: float
    confidence: float
    summary: str
    supporting: tuple[Evidence, ...]
    contradicting: tuple[Evidence, ...]
    next_step: NextStep

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "kind": self.kind, "level": self.level, "score": round(self.score, 3),
            "confidence": round(self.confidence, 3), "summary": self.summary,
            "supporting": [e.to_json() for e in self.supporting],
            "contradicting": [e.to_json() for e in self.contradicting],
            "next_step": self.next_step.kind,
            "next_step_text": self.next_step.text,
            "commands": list(self.next_step.commands),
            "next_step_details": self.next_step.details,
        }


@dataclass(frozen=True)
class Classification:
    """The ranked hypotheses for one VM.

    Parameters
    ----------
    vm
        The VM's name.
    vm_id
        Its resource id.
    role
        ``subject`` (reported unreachable) or ``known-good``.
    hypotheses
        Best first; never empty (``insufficient_evidence`` or ``no_fault_found`` at worst).
    checked
        What was looked at: ``serial_log``, ``network``, ``instance_view``, ``resource_health``,
        ``activity_log``, ``peers``.
    missing
        What was not available, each as a sentence.
    responder_ip
        The address network verdicts were computed from.
    warnings
        Gaps met on the way (a parser that failed, an NSG not captured …).
    """

    vm: str
    vm_id: str
    role: str
    hypotheses: tuple[Hypothesis, ...]
    checked: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    responder_ip: str | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def top(self) -> Hypothesis:
        """The best hypothesis."""
        return self.hypotheses[0]

    @property
    def insufficient(self) -> bool:
        """Whether the evidence was too thin to name a cause."""
        return self.top.kind == "insufficient_evidence"

    def to_json(self) -> dict[str, Any]:
        """A stable JSON document (``format`` ``kit-verdict/1``)."""
        return {
            "format": FORMAT, "vm": self.vm, "vm_id": self.vm_id, "role": self.role,
            "top": self.top.kind, "level": self.top.level, "next_step": self.top.next_step.kind,
            "insufficient": self.insufficient, "responder_ip": self.responder_ip,
            "checked": list(self.checked), "missing": list(self.missing), "warnings": list(self.warnings),
            "hypotheses": [h.to_json() for h in self.hypotheses],
        }


def _confidence(score: float) -> float:
    return 0.0 if score <= 0 else round(1 - math.exp(-score / 3), 3)


def _score(rule: Rule, facts: Facts) -> tuple[float, list[Evidence], list[Evidence]]:
    score, supporting, contradicting = 0.0, [], []
    for signal, weight in rule.support:
        strength, rows = facts.signal(signal)
        if strength > 0:
            score += weight * strength
            supporting.extend(rows)
    for signal, weight in rule.against:
        strength, rows = facts.signal(signal)
        if strength > 0:
            score -= weight * strength
            contradicting.extend(rows)
    return score, _unique(supporting), _unique(contradicting)


def _unique(rows: list[Evidence]) -> list[Evidence]:
    """Drop repeated rows; the same log message on many lines becomes one row naming them all."""
    groups: dict[tuple[str, str, str], list[Evidence]] = {}
    for row in rows:
        groups.setdefault((row.source, row.kind, row.summary), []).append(row)
    result = []
    for same in groups.values():
        first = same[0]
        lines = sorted({line for r in same if isinstance(line := r.details.get("line"), int)})
        if len(lines) > 1:
            summary = f"{first.summary} ({len(lines)} lines, {lines[0]}–{lines[-1]})"
            result.append(Evidence(first.source, first.kind, summary, first.evidence, first.time,
                                   {**first.details, "lines": lines}))
        else:
            result.append(first)
    return result


def check_responder(responder_ip: str | None) -> None:
    """Refuse a responder address that is not IPv4 (``None`` is fine: a documentation address is used).

    Raises
    ------
    UsageError
        Not an IPv4 address; the message says what to give.
    """
    if responder_ip is None:
        return
    try:
        if ipaddress.ip_address(str(responder_ip)).version != 4:
            raise ValueError
    except ValueError:
        raise UsageError(f"responder address {responder_ip!r} is not an IPv4 address (e.g. 203.0.113.7); "
                         f"give the address you connect from, as the VM sees it") from None


def classify(bundle: Bundle, peers: Sequence[Bundle] = (), *, responder_ip: str | None = None,
             boot_report: BootReport | None = None, network: NetworkReading | None = None,
             activity: ActivityLog | None = None, metrics: MetricsReading | None = None) -> Classification:
    """Rank the explanations for an unreachable VM from its evidence bundle.

    Parameters
    ----------
    bundle
        The VM's loaded :class:`kit.evidence.Bundle`.
    peers
        Known-good VMs' bundles to compare the network against (``bundle.peers()`` gives the
        ones named in the manifest).
    responder_ip
        The address the responder connects from, as the VM sees it. Without it, SSH/RDP verdicts
        are computed from a documentation Internet address (203.0.113.10) and say so.
    boot_report, network, activity
        The bundle's serial log, network and Activity Log already read (as
        :func:`kit.analyze.triage.triage` does once for every analysis); read here when ``None``.
        ``network`` must have been read with the same ``peers`` and ``responder_ip``.
    metrics
        The bundle's platform metrics already read (:func:`kit.analyze.metrics.metrics_from_bundle`);
        read here when ``None``. Their change points support hypotheses, never lead one.

    Returns
    -------
    Classification
        Ranked hypotheses; ``top`` is the recommendation.

    Raises
    ------
    AnalysisError
        When ``bundle`` is not a bundle.
    UsageError
        When ``responder_ip`` is not an IPv4 address.
    """
    if not hasattr(bundle, "manifest"):
        raise AnalysisError("classify needs a loaded evidence bundle (kit.evidence.load_bundle), "
                            f"got {type(bundle).__name__}")
    check_responder(responder_ip)
    facts = gather_facts(bundle, list(peers), responder_ip=responder_ip, boot_report=boot_report, network=network,
                         activity=activity, metrics=metrics)
    scored: list[Hypothesis] = []
    for rule in RULES:
        score, supporting, contradicting = _score(rule, facts)
        primary = facts.signal(rule.support[0][0])[0] > 0
        if not supporting or (not primary and score < MIN_SCORE):
            continue  # only weak, generic signals: not worth listing
        hypothesis = Hypothesis(
            kind=rule.kind, level=rule.level, score=score, confidence=_confidence(score),
            summary=facts.summary_for(rule.kind, supporting),
            supporting=tuple(supporting), contradicting=tuple(contradicting),
            next_step=next_step_for(rule.kind, rule.next_step, facts, supporting),
        )
        scored.append(hypothesis)
    scored.sort(key=lambda h: (-h.score, [r.kind for r in RULES].index(h.kind)))
    if not scored or scored[0].score < MIN_SCORE:
        scored.insert(0, _fallback(facts))
    return Classification(
        vm=facts.vm_name, vm_id=facts.vm_id, role=facts.role, hypotheses=tuple(scored),
        checked=tuple(facts.checked), missing=tuple(facts.missing), responder_ip=facts.responder_ip,
        warnings=tuple(facts.warnings),
    )


def _fallback(facts: Facts) -> Hypothesis:
    """``no_fault_found`` when every check passed, else ``insufficient_evidence``."""
    clean = facts.clean_checks()
    if facts.has_guest_evidence and facts.has_network_evidence and clean:
        return Hypothesis(
            kind="no_fault_found", level="none", score=0.0, confidence=0.8,
            summary="Every check passed: " + "; ".join(e.summary for e in clean[:4]),
            supporting=tuple(clean), contradicting=(), next_step=next_step_for("no_fault_found", "none", facts),
        )
    reasons = list(facts.missing) or ["no hypothesis is supported by the evidence collected"]
    return Hypothesis(
        kind="insufficient_evidence", level="none", score=0.0, confidence=0.0,
        summary="The evidence is not enough to name a cause: " + "; ".join(reasons),
        supporting=tuple(clean), contradicting=(),
        next_step=next_step_for("insufficient_evidence", "escalate", facts),
    )
