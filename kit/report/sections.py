"""Report sections built from analysis results: escaped HTML for people, JSON for the archive.

The notebooks call these so their cells stay narrative; each function takes the objects
:mod:`kit.analyze` returns and renders them with :mod:`kit.report.present`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.analyze.attribution import attribute, of_operation
from kit.analyze.bootlog import log_lines
from kit.analyze.network import NetworkDiff, ResponderVerdict, diff_from_bundles, os_type_of, ports_for_os
from kit.analyze.timeline import reference_times, routine_peer_rows
from kit.archive.layout import incident_relative
from kit.errors import KitError
from kit.report._screenshot_section import screenshot_section
from kit.report.present import Html, callout, code_block, details, log_excerpt, table

if TYPE_CHECKING:
    from datetime import datetime

    import pandas as pd
    
    from kit.analyze.activity import Operation
    from kit.analyze.bootlog import BootReport
    from kit.analyze.verdict import Classification

if TYPE_CHECKING:
    from kit.analyze.triage import TriageResult
    from kit.evidence import Bundle
    from kit.report.sources import Sources

__all__ = [
    "PROGRESS_KINDS",
    "boot_section",
    "classification_section",
    "collapse_repeats",
    "excerpt_regions",
    "group_findings",
    "hypotheses",
    "network_section",
    "notable_events",
    "screenshot_section",
    "triage_result",
    "verdict_rows",
]

#: Info findings that only mark how far a boot got; the boot section names them in one sentence.
PROGRESS_KINDS = frozenset({
    "boot:waagent:started", "boot:sshd:started", "boot:systemd:multi_user", "boot:systemd:login_prompt",
    "boot:windows:cmd_available", "boot:windows:rdp_running",
})
_RANK = {"critical": 0, "error": 1, "warning": 2, "info": 3}
_PROBLEMS = ("critical", "error", "warning")


def _lines(serial: bytes | None) -> list[str]:
    """The serial log's lines as the boot log parser numbers them (NUL padding dropped)."""

    return log_lines(serial) if serial else []


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–{last}"


def group_findings(findings: Iterable[Any]) -> list[dict[str, Any]]:
    """One row per finding kind: severity, count, first–last line, meaning, one example line.

    Rows are worst first (critical, error, warning, info), then by first line. Accepts
    :class:`~kit.analyze.bootlog.Finding` objects or their ``to_json()`` dicts.

    Parameters
    ----------
    findings
        Boot log findings, any order.
    """
    groups: dict[tuple[str, str], list[Any]] = {}
    for f in sorted(findings, key=lambda f: int(_get(f, "line", default=0) or 0)):
        groups.setdefault((str(_get(f, "kind")), str(_get(f, "severity"))), []).append(f)
    rows: list[dict[str, Any]] = []
    for (kind, severity), items in sorted(groups.items(), key=lambda g: (_RANK.get(g[0][1], 4),
                                                                        _get(g[1][0], "line", default=0) or 0)):
        numbers = [int(_get(f, "line", default=0) or 0) for f in items]
        summaries = {_get(f, "summary") for f in items}
        first = items[0]
        summary = str(_get(first, "summary", default="") or "")
        if len(summaries) > 1:
            summary += f" (first of {len(summaries)} variants)"
        rows.append({"severity": severity, "finding": kind, "count": len(items),
                     "lines": _span(min(numbers), max(numbers)), "what it means": summary,
                     "example": f"{numbers[0]}: {_get(first, 'text', default='')}"})
    return rows


def excerpt_regions(lines: Iterable[int], *, context: int = 2, last: int | None = None) -> list[tuple[int, int]]:
    """Windows of ``context`` lines around each line, merged when they overlap or touch.

    Parameters
    ----------
    lines
        1-based line numbers (findings' evidence lines), any order.
    context
        Lines shown before and after each.
    last
        The log's last line number; windows are clipped to it.

    Returns
    -------
    list[tuple[int, int]]
        ``(first, last)`` line numbers, in log order, none overlapping or adjacent.
    """
    regions: list[tuple[int, int]] = []
    for n in sorted(set(lines)):
        lo, hi = max(n - context, 1), n + context if last is None else min(n + context, last)
        if regions and lo <= regions[-1][1] + 1:
            regions[-1] = (regions[-1][0], max(regions[-1][1], hi))
        else:
            regions.append((lo, hi))
    return regions


def _numbered(lines: Sequence[str], lo: int, hi: int, limit: int) -> list[tuple[int | None, str]]:
    """Lines ``lo``..``hi``; past ``limit`` lines, the middle is replaced by one note."""
    shown: list[tuple[int | None, str]]
    if hi - lo + 1 <= limit:
        return [(n, lines[n - 1]) for n in range(lo, hi + 1)]
    head = limit // 2
    keep_from = hi - (limit - head) + 1
    shown = [(n, lines[n - 1]) for n in range(lo, lo + head)]
    shown.append((None, f"… lines {lo + head}–{keep_from - 1} not shown ({keep_from - lo - head:,} lines) …"))
    shown.extend((n, lines[n - 1]) for n in range(keep_from, hi + 1))
    return shown


def _kinds_in(findings: Sequence[Any], lo: int, hi: int) -> str:
    counts: dict[str, int] = {}
    for f in findings:
        if lo <= f.line <= hi:
            counts[f"{f.kind} ({f.severity})"] = counts.get(f"{f.kind} ({f.severity})", 0) + 1
    return ", ".join(k if c == 1 else f"{k} ×{c}" for k, c in counts.items())


def _progress(findings: Sequence[Any]) -> str:
    marks: dict[str, list[int]] = {}
    for f in findings:
        if f.kind in PROGRESS_KINDS and f.severity == "info":
            marks.setdefault(f.kind.removeprefix("boot:"), []).append(f.line)
    if not marks:
        return ""
    parts = [f"{kind} (line{'s' if len(ns) > 1 else ''} {_span(min(ns), max(ns))}"
             + (f", {len(ns)}×)" if len(ns) > 1 else ")") for kind, ns in marks.items()]
    return " Progress markers: " + "; ".join(parts) + "."


def boot_section(boot: BootReport, serial: bytes | None, *, context: int = 2, max_excerpts: int = 5, tail: int = 25,
                 region_lines: int = 40) -> Html:
    """How far the boot got, its findings grouped by kind, merged log excerpts, the log's tail.

    Parameters
    ----------
    boot
        A :class:`~kit.analyze.bootlog.BootReport`.
    serial
        The raw serial log (line numbers and text of the excerpts).
    context
        Lines shown around each warning-or-worse finding.
    max_excerpts
        Excerpts shown besides the tail; the other regions are listed by line number.
    tail
        Lines of the log's end shown (where the boot stopped).
    region_lines
        Lines an excerpt shows before its middle is left out.
    """
    summary = (f"OS {boot.os}, platform {boot.platform}; {boot.boots} boot(s) in {boot.lines:,} lines; "
               f"the last boot reached stage '{boot.stage}'.")
    findings = list(boot.findings)
    worst = "bad" if boot.worst_severity in {"critical", "error"} else "warn" if findings else "good"
    out = callout(summary + _progress(findings) + ("" if findings else " No failure found in the boot log."),
                  kind=worst, title="Boot log")
    shown = [f for f in findings if not (f.kind in PROGRESS_KINDS and f.severity == "info")]
    if findings:
        out += table(group_findings(shown), ["severity", "finding", "count", "lines", "what it means", "example"],
                     caption=f"Findings of the last boot by kind, worst first ({len(findings)} finding lines)",
                     empty="only progress markers (above)", nowrap=("severity", "finding", "count", "lines"))
        out += details(f"Every finding line ({len(findings)})", table(
            [{"severity": f.severity, "finding": f.kind, "line": f.line, "log text": f.text}
             for f in sorted(findings, key=lambda f: f.line)], nowrap=("severity", "finding", "line"), max_rows=1000))
    lines = _lines(serial)
    problems = [f for f in findings if f.severity in _PROBLEMS]
    marked = {f.line for f in problems if f.line <= len(lines)}
    regions = excerpt_regions(marked, context=context, last=len(lines)) if lines else []
    tail_lo = max(len(lines) - tail + 1, 1)
    while regions and regions[-1][1] >= tail_lo - 1 - context:  # regions reaching the tail are shown with it
        tail_lo = min(tail_lo, regions.pop()[0])
    worst_first = sorted(regions, key=lambda r: (min(_RANK.get(f.severity, 4) for f in problems
                                                      if r[0] <= f.line <= r[1]), r[0]))
    chosen, left = sorted(worst_first[:max_excerpts]), sorted(worst_first[max_excerpts:])
    for lo, hi in chosen:
        out += log_excerpt(_numbered(lines, lo, hi, region_lines), highlight=marked,
                           caption=f"serial.log lines {lo}–{hi}: {_kinds_in(problems, lo, hi)}")
    if left:
        out += Html('<p class="kit-caption">') + (
            f"{len(left)} more region(s) with findings, not excerpted: "
            + "; ".join(f"lines {lo}–{hi} ({_kinds_in(problems, lo, hi)})" for lo, hi in left)) + Html("</p>")
    if lines:
        inside = _kinds_in(problems, tail_lo, len(lines))
        out += log_excerpt(_numbered(lines, tail_lo, len(lines), max(region_lines, 2 * tail)), highlight=marked,
                           caption=f"serial.log: the last {len(lines) - tail_lo + 1} lines (where the boot stopped)"
                                   + (f"; highlighted: {inside}" if inside else ""))
    if boot.warnings:
        out += table([w.to_json() for w in boot.warnings][:50], caption=f"{len(boot.warnings)} parse warning(s)")
    return out


def collapse_repeats(rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Fold runs of consecutive rows that agree on ``keys`` into one.

    Each result is ``{"first": row, "last": row, "count": n}``; rows that repeat but not one
    after the other stay apart, so the order of events is kept.

    Parameters
    ----------
    rows
        Rows in time order.
    keys
        The columns that must be equal (for example source, severity, kind, summary, actor).
    """
    out: list[dict[str, Any]] = []
    for row in rows:
        if out and all(out[-1]["first"].get(k) == row.get(k) for k in keys):
            out[-1]["last"] = row
            out[-1]["count"] += 1
        else:
            out.append({"first": row, "last": row, "count": 1})
    return out


def _evidence_span(first: Any, last: Any) -> str:
    a, b = str(first or ""), str(last or "")
    if a == b:
        return a
    (file_a, _, n_a), (file_b, _, n_b) = a.rpartition(":"), b.rpartition(":")
    if file_a and file_a == file_b and n_a.isdigit() and n_b.isdigit():
        return f"{file_a}:{n_a}–{n_b}"
    return f"{a} … {b}"


def _time_span(first: Any, last: Any) -> str:
    a, b = _when(first), _when(last)
    if a == b:
        return a
    return f"{a}\n→ {b[11:] if a[:10] == b[:10] else b}"


def notable_events(timeline: pd.DataFrame, *, limit: int = 40, causal: tuple[datetime, str] | None = None) -> Html:
    """Timeline rows of severity warning or worse (and every Activity Log write), time-ordered.

    The known-good peers' routine operations (patching, extensions, restarts) are left out unless
    they failed or are the same operation as the ``causal`` change. Consecutive rows of the same
    source, severity, kind, summary and actor are shown as one row with a count and a time range.
    """
    if timeline is None or len(timeline) == 0:
        return table([], caption="Notable events", empty="the timeline is empty")
    routine = routine_peer_rows(timeline, causal)
    frame = timeline[((timeline["severity"].isin(["warning", "error", "critical"]))
                      | (timeline["source"] == "activity_log")) & ~routine]
    runs = collapse_repeats(frame.to_dict("records"), ("source", "severity", "kind", "summary", "actor"))
    rows = [{"time": _time_span(r["first"]["time"], r["last"]["time"]), "source": r["first"]["source"],
             "severity": r["first"]["severity"], "count": r["count"], "what": r["first"]["summary"],
             "actor": r["first"]["actor"], "evidence": _evidence_span(r["first"]["evidence"], r["last"]["evidence"])}
            for r in runs[:limit]]
    more = f"first {limit} of {len(runs)} rows, " if len(runs) > limit else ""
    peers = f"; {int(routine.sum())} routine peer operations left out" if routine.any() else ""
    caption = (f"Notable events ({more}{len(frame)} events; repeats one after another shown once with a count"
               f"{peers})")
    return table(rows, caption=caption, empty="no warnings and no Activity Log operations",
                 nowrap=("time", "source", "severity", "count"))


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
            "reachable": v.reachability,
            "deciding rule": flow.rule_name or "—", "decided at": flow.hop or "—",
            "reply route": v.route.explain(), "explanation": v.explain(),
        })
    return rows


def network_section(verdicts: Mapping[int, ResponderVerdict], diff: NetworkDiff | None, bundle: Bundle, *,
                    assumed_responder: str | None = None, ports: Sequence[int] | None = None) -> Html:
    """The SSH/RDP verdict table, the verdict-changing differences and the operations behind them.

    ``assumed_responder`` is the documentation address the verdicts are from when no responder
    address was given (:attr:`kit.analyze.triage.TriageResult.assumed_responder`); it is said first.
    Without ``diff``, the known-good VMs the bundle's manifest names are compared here (each
    difference judged from every representative source). Rows are for ``ports`` (default: SSH for
    Linux, RDP for Windows, both when the OS is unknown).
    """
    out = Html("")
    if diff is None and (bundle.manifest or {}).get("peers"):
        try:
            diff = diff_from_bundles(bundle, ports=ports)
        except KitError as error:
            out += callout(f"The known-good VMs could not be compared: {error}", kind="warn")
    if not verdicts and diff is not None:
        verdicts = diff.subject_verdicts
        assumed_responder = None if diff.responder_given else diff.responder_ip
    shown = tuple(ports) if ports else (diff.ports if diff is not None else ports_for_os(os_type_of(bundle.vm)))
    verdicts = {port: v for port, v in verdicts.items() if port in shown}
    if not verdicts:
        out += callout("No responder address was given, so no SSH/RDP verdict was computed; set responder_ip.",
                       kind="warn")
    elif assumed_responder:
        out += callout(f"No responder address was given: the verdicts below are from the Internet address "
                       f"{assumed_responder} (a documentation address); set responder_ip to the address you "
                       f"connect from, as the VM sees it.", kind="warn")
    rows = verdict_rows(verdicts, bundle.name)
    if diff is not None:
        for peer, peer_verdicts in diff.peer_verdicts.items():
            rows += verdict_rows({p: v for p, v in peer_verdicts.items() if p in shown}, f"{peer} (known good)")
    if rows:
        out += Html('<div class="kit-network-verdicts">') + table(
            rows, caption="SSH/RDP verdict from the responder's address (offline IP flow verify)",
            nowrap=("VM", "port", "NSG access", "reachable", "decided at")) + Html("</div>")
    if diff is None:
        return out + callout("No known-good VM was given, so nothing to compare against.", kind="warn")
    explaining = diff.explaining
    if explaining and not diff.responder_given:
        out += callout("; ".join(f"{d.description}: " + "; ".join(c.explain() for c in d.changes) for d in explaining),
                       kind="bad", title=f"{len(explaining)} difference(s) from the known-good VMs change the verdict "
                       "for some source (no responder address was given)")
    elif explaining:
        out += callout("; ".join(d.description for d in explaining), kind="bad",
                       title=f"{len(explaining)} difference(s) from the known-good VMs change the verdict")
    else:
        out += callout("No difference from the known-good VMs changes the SSH/RDP verdict.", kind="good")
    out += table([{
        "changes verdict": "yes" if d.changes_verdict else "no", "kind": d.kind, "item": d.item,
        "this VM": d.subject_value, "known good": d.peer_value, "peers": ", ".join(d.peers),
        "introduced by": _operation(d.operation, bundle),
    } for d in diff.differences], caption="Differences from the known-good VMs", empty="no differences")
    if diff.warnings:
        out += table([{"warning": w} for w in diff.warnings], caption="Could not compare")
    return out


def _operation(op: Operation | None, bundle: Bundle) -> str:
    """Who introduced a difference, when and how: the same words as the verdict card's causal change."""
    return "—" if op is None else of_operation(op, bundle.directory_names, "network diff").text


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, Mapping) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def hypotheses(classification: Classification) -> list[dict[str, Any]]:
    """The ranked hypotheses as JSON-ready dicts (``kind``, ``next_step``, ``score``, evidence)."""
    return list(classification.to_json()["hypotheses"])


def classification_section(classification: Classification) -> Html:
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
    return html.escape(str(value or ""), quote=True)


def triage_result(src: Sources, result: TriageResult, archive_dir: str | Path | None) -> dict[str, Any]:
    """What later notebooks (postmortem) and the archive need from a triage run, as JSON (``kit-triage/1``)."""

    def rel(path: Path) -> str:
        inside = incident_relative(path, archive_dir) if archive_dir else None
        return inside or str(path)

    ranked = hypotheses(result.classification)
    timeline = result.timeline
    refs = {k: str(v) for k, v in reference_times(timeline).items()} if len(timeline) else {}
    manifest = src.subject.manifest
    return {
        "format": "kit-triage/1",
        "source": src.source,
        "vm": src.subject.name,
        "vm_id": manifest.get("vm_id"),
        "subscription_id": manifest.get("subscription_id"),
        "resource_group": manifest.get("resource_group"),
        "window": manifest.get("window"),
        "collected_at": manifest.get("collected_at"),
        "responder_ip": src.responder_ip,
        "bundles": {b.name: rel(b.path) for b in src.bundles},
        "top_hypothesis": ranked[0] if ranked else None,
        "hypotheses": ranked,
        "boot": result.boot.to_json(events=False),
        "verdicts": {str(p): v.to_json() for p, v in result.verdicts.items()},
        "verdicts_from": result.responder_ip,
        "network_diff": result.diff.to_json() if result.diff is not None else None,
        "attribution": attribution.to_json() if (attribution := attribute(result)) is not None else None,
        "reference_times": refs,
    }
