"""Report sections built from analysis results: escaped HTML for people, JSON for the archive.

The notebooks call these so their cells stay narrative; each function takes the objects
:mod:`kit.analyze` returns and renders them with :mod:`kit.report.present`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kit.report.present import Html, callout, code_block, log_excerpt, table

__all__ = [
    "boot_section",
    "classification_section",
    "hypotheses",
    "network_section",
    "notable_events",
    "triage_result",
    "verdict_rows",
]


def _lines(serial: bytes | None) -> list[str]:
    if not serial:
        return []
    # lines end at \n only, as the boot log parser counts them (a lone \r is a console redraw)
    lines = serial.decode("utf-8", errors="backslashreplace").rstrip("\x00").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def boot_section(boot: Any, serial: bytes | None, *, context: int = 2, max_findings: int = 12, tail: int = 25) -> Html:
    """Stage reached, findings (kind, line, text), the log lines around each finding, the log's tail."""
    summary = (f"OS {boot.os}, platform {boot.platform}; {boot.boots} boot(s) in {boot.lines:,} lines; "
               f"the last boot reached stage '{boot.stage}'.")
    kind = "bad" if boot.worst_severity in {"critical", "error"} else "warn" if boot.findings else "good"
    out = callout(summary + ("" if boot.findings else " No failure found in the boot log."), kind=kind,
                  title="Boot log")
    rank = {"critical": 0, "error": 1, "warning": 2}
    ordered = sorted(boot.findings, key=lambda f: (rank.get(f.severity, 3), f.line))
    problems = [f for f in ordered if f.severity in rank]
    out += table([{"severity": f.severity, "finding": f.kind, "line": f.line, "summary": f.summary, "log text": f.text}
                  for f in ordered], caption="Findings of the last boot (worst first)", empty="no findings",
                 max_rows=60)
    lines = _lines(serial)
    shown: set[str] = set()
    for finding in problems:
        if len(shown) >= max_findings or finding.kind in shown:
            continue  # one excerpt per kind of problem; the table lists every line
        shown.add(finding.kind)
        lo, hi = max(finding.line - context, 1), min(finding.line + context, len(lines))
        out += log_excerpt([(n, lines[n - 1]) for n in range(lo, hi + 1)],
                           caption=f"{finding.evidence}: {finding.kind} ({finding.severity})")
    if lines:
        start = max(len(lines) - tail + 1, 1)
        out += log_excerpt([(n, lines[n - 1]) for n in range(start, len(lines) + 1)],
                           caption=f"serial.log: the last {len(lines) - start + 1} lines (where the boot stopped)")
    if boot.warnings:
        out += table([w.to_json() for w in boot.warnings][:50], caption=f"{len(boot.warnings)} parse warning(s)")
    return out


def notable_events(timeline: Any, *, limit: int = 40) -> Html:
    """Timeline rows of severity warning or worse (and every Activity Log write), time-ordered."""
    if timeline is None or len(timeline) == 0:
        return table([], caption="Notable events", empty="the timeline is empty")
    frame = timeline[(timeline["severity"].isin(["warning", "error", "critical"]))
                     | (timeline["source"] == "activity_log")]
    rows = [{"time": _when(r["time"]),
             "source": r["source"], "severity": r["severity"], "what": r["summary"], "actor": r["actor"],
             "evidence": r["evidence"]} for r in frame.head(limit).to_dict("records")]
    more = f" (first {limit} of {len(frame)})" if len(frame) > limit else ""
    return table(rows, caption=f"Notable events{more}", empty="no warnings and no Activity Log operations")


def _when(value: Any) -> str:
    if value is None or str(value) == "NaT":
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if hasattr(value, "strftime") else str(value)


def verdict_rows(verdicts: Mapping[int, Any], vm: str) -> list[dict[str, Any]]:
    """One row per port: the NSG answer, the deciding rule and where, the reply route."""
    rows = []
    for port, v in sorted(verdicts.items()):
        flow = v.flow
        rows.append({
            "VM": vm, "port": port, "NSG access": flow.access,
            "reachable": {True: "yes", False: "no", None: "uncertain"}[v.reachable],
            "deciding rule": flow.rule_name or "—", "decided at": flow.hop or "—",
            "reply route": v.route.explain(), "explanation": v.explain(),
        })
    return rows


def network_section(verdicts: Mapping[int, Any], diff: Any, bundle: Any) -> Html:
    """The SSH/RDP verdict table, the verdict-changing differences and the operations behind them."""
    out = Html("")
    if not verdicts:
        out += callout("No responder address was given, so no SSH/RDP verdict was computed; set responder_ip.",
                       kind="warn")
    rows = verdict_rows(verdicts, bundle.name)
    if diff is not None:
        for peer, peer_verdicts in diff.peer_verdicts.items():
            rows += verdict_rows(peer_verdicts, f"{peer} (known good)")
    if rows:
        out += Html('<div class="kit-network-verdicts">') + table(
            rows, caption="SSH/RDP verdict from the responder's address (offline IP flow verify)") + Html("</div>")
    if diff is None:
        return out + callout("No known-good VM was given, so nothing to compare against.", kind="warn")
    explaining = diff.explaining
    if explaining:
        out += callout("; ".join(d.description for d in explaining), kind="bad",
                       title=f"{len(explaining)} difference(s) from the known-good VMs change the verdict")
    else:
        out += callout("No difference from the known-good VMs changes the SSH/RDP verdict.", kind="good")
    out += table([{
        "changes verdict": "yes" if d.changes_verdict else "no", "kind": d.kind, "item": d.item,
        "this VM": d.subject_value, "known good": d.peer_value, "peers": ", ".join(d.peers),
        "introduced by": _operation(d.operation),
    } for d in diff.differences], caption="Differences from the known-good VMs", empty="no differences")
    if diff.warnings:
        out += table([{"warning": w} for w in diff.warnings], caption="Could not compare")
    return out


def _operation(op: Any) -> str:
    if op is None:
        return "—"
    start = getattr(op, "start", None)
    return " · ".join(str(x) for x in (getattr(op, "operation_name", None), getattr(op, "status", None),
                                        start.isoformat() if hasattr(start, "isoformat") else start,
                                        getattr(op, "caller", None)) if x)


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, Mapping) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def hypotheses(classification: Any) -> list[dict[str, Any]]:
    """The ranked hypotheses as JSON-ready dicts (``kind``, ``next_step``, ``score``, evidence)."""
    doc = classification.to_json() if hasattr(classification, "to_json") else dict(classification)
    return list(doc.get("hypotheses", []))


def classification_section(classification: Any) -> Html:
    """The top hypothesis and next step, then the ranked list with supporting/contradicting evidence."""
    ranked = hypotheses(classification)
    if not ranked:
        return callout("The classifier returned no hypothesis.", kind="warn")
    top = ranked[0]
    kind, step = top.get("kind"), top.get("next_step")
    text = f"{kind} — next step: {step}"
    if top.get("summary"):
        text += f". {top['summary']}"
    out = Html(f'<div class="kit-classification" data-hypothesis="{_attr(kind)}" data-next-step="{_attr(step)}">')
    out += callout(text, kind="bad" if kind not in {"no_fault_found"} else "good", title="Most likely cause")
    out += Html("</div>")
    if top.get("next_step_text"):
        out += callout(top["next_step_text"], kind="info", title=f"Next step: {step}")
    if top.get("commands"):
        out += code_block("\n".join(top["commands"]), caption="Commands for the next step")
    out += table([{"rank": i + 1, "hypothesis": h.get("kind"), "score": h.get("score", h.get("confidence")),
                   "next step": h.get("next_step"), "summary": h.get("summary", "")} for i, h in enumerate(ranked)],
                 caption="Ranked hypotheses")
    for h in ranked[:3]:
        rows = [{"for/against": side, **_evidence_row(e)} for side, key in
                (("supports", "supporting"), ("contradicts", "contradicting")) for e in h.get(key, []) or []]
        out += table(rows, caption=f"Evidence for {h.get('kind')}", empty="no evidence rows")
    return out


def _evidence_row(e: Any) -> dict[str, Any]:
    if isinstance(e, Mapping):
        return {k: e.get(k) for k in ("source", "kind", "summary", "evidence", "time") if k in e} or {"evidence": e}
    return {"evidence": e}


def _attr(value: Any) -> str:
    import html

    return html.escape(str(value or ""), quote=True)


def triage_result(src: Any, boot: Any, verdicts: Mapping[int, Any], diff: Any, classification: Any,
                  timeline: Any, archive_dir: str | Path | None) -> dict[str, Any]:
    """What later notebooks (postmortem) and the archive need from a triage run, as JSON."""
    from kit.analyze.timeline import reference_times

    def rel(path: Path) -> str:
        if archive_dir:
            try:
                return Path(path).resolve().relative_to(Path(archive_dir).resolve()).as_posix()
            except ValueError:
                pass
        return str(path)

    ranked = hypotheses(classification)
    refs = {k: str(v) for k, v in reference_times(timeline).items()} if timeline is not None and len(timeline) else {}
    return {
        "format": "kit-triage/1",
        "source": src.source,
        "vm": src.subject.name,
        "vm_id": src.subject.manifest.get("vm_id"),
        "subscription_id": src.subject.manifest.get("subscription_id"),
        "resource_group": src.subject.manifest.get("resource_group"),
        "window": src.subject.manifest.get("window"),
        "collected_at": src.subject.manifest.get("collected_at"),
        "responder_ip": src.responder_ip,
        "bundles": {b.name: rel(b.path) for b in src.bundles},
        "top_hypothesis": ranked[0] if ranked else None,
        "hypotheses": ranked,
        "boot": boot.to_json(events=False) if boot is not None else None,
        "verdicts": {str(p): v.to_json() for p, v in verdicts.items()},
        "network_diff": diff.to_json() if diff is not None else None,
        "reference_times": refs,
    }


