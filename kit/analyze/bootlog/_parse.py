"""The parser: one scan for every signature's literals, signatures on the lines that hit, then the report.

Steps: drop NUL padding → find literal positions in the raw bytes (one Aho–Corasick pass) →
for each line holding a literal, decode and clean it and ask the signatures concerned → split
into boots → anchor uptime to wall time → assemble the report. Undecodable bytes are found by
one validity check of the whole log (skipped for ASCII logs) and reported as warnings.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kit.analyze.bootlog import rules as _rules  # noqa: F401  (registers every rule)
from kit.analyze.bootlog._decode import DISPLAY_LIMIT, clean_line, decode_warnings, display
from kit.analyze.bootlog._events import LineTime, line_time, with_year
from kit.analyze.bootlog._model import (
    BootEvent,
    BootReport,
    Finding,
    ParseWarning,
    TimeAnchor,
    stage_rank,
)
from kit.analyze.bootlog._scan import Route, Scanner, scanner_for
from kit.analyze.bootlog.rules import REGISTRY, Context, Hit, Rule
from kit.errors import AnalysisError

__all__ = ["parse_boot_log"]

#: Lines longer than this (in bytes) are looked at in windows around each literal.
LONG_LINE = 4096
_WINDOW = 1024
_WINDOWS_PER_LINE = 20
#: Findings of one kind listed per boot; the rest are counted in a warning.
FINDINGS_PER_KIND = 25
_RULE_WARNINGS = 5
_RULE_FAILURES_BEFORE_STOP = 20
_LONG_LINE_WARNINGS = 10
#: Generic kinds dropped when a more specific finding comes from the same line.
_GENERIC = frozenset({"boot:systemd:unit_failed", "boot:systemd:dependency_failed"})
_AZURE_MARKERS = frozenset({"168.63.129.16", "DataSourceAzure", "waagent", "Azure VM Health Report",
                            "WindowsAzureGuestAgent"})
#: Boot-start lines printed once per boot: seeing one again means a new boot even at the same stage.
_ONCE_PER_BOOT = frozenset({"boot:kernel:start", "boot:windows:sac_started"})
_LINUX_LATE = frozenset({"systemd", "multi-user", "login"})


@dataclass
class _State:
    source: str
    context: Context = field(default_factory=Context)
    rules: tuple[Rule, ...] = ()
    warnings: list[ParseWarning] = field(default_factory=list)
    # (line, boot, LineTime, kind, text, stage, severity) per event, in log order
    pending: list[tuple[int, int, LineTime, str, str, str | None, str | None]] = field(default_factory=list)
    # (kind, severity, line, text, summary, boot, detect_only) per finding; Finding objects are made for the listed ones
    findings: list[tuple[str, str, int, str, str, int, bool]] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    max_rank: dict[int, int] = field(default_factory=dict)
    stage: dict[int, str] = field(default_factory=dict)
    os_votes: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    anchors: dict[int, list[TimeAnchor]] = field(default_factory=lambda: defaultdict(list))
    years: list[int] = field(default_factory=list)
    rule_failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    stopped: set[str] = field(default_factory=set)
    long_lines: int = 0
    starts: set[str] = field(default_factory=set)
    any_event: bool = False


def parse_boot_log(data: bytes, *, source: str = "serial.log", anchor: datetime | None = None) -> BootReport:
    """Read a serial/boot log as Azure stores it and say how far the last boot got and why.

    Never raises for bad bytes: what cannot be read becomes a warning in the report.

    Parameters
    ----------
    data
        The raw log bytes (a ``str`` is accepted and encoded as UTF-8).
    source
        Name used in evidence references (``serial.log:123``).
    anchor
        The VM start time (from the Activity Log or instance view), used as uptime 0 of the
        last boot when the log itself carries no dated line to anchor uptime stamps.

    Returns
    -------
    BootReport
        OS, platform, stage, events, findings of the last boot, warnings.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogatepass")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise AnalysisError(f"a boot log must be bytes, not {type(data).__name__}; read the file in binary mode")
    raw = bytes(data)
    collecting = gc.isenabled()
    gc.disable()  # tens of thousands of small tuples: collection passes would cost ~10% and free nothing
    try:
        warnings = decode_warnings(raw)
        body = _without_nul(raw)
        rules = REGISTRY.rules()
        state = _State(source=source, rules=rules, warnings=warnings)
        scanner = scanner_for(REGISTRY.names())
        _walk(body, scanner.hits(body), scanner, state)
        total_lines = body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)
        if not state.long_lines and len(body) > LONG_LINE * total_lines:
            _warn_longest_line(body, state)  # no literal was on it, but lines this long are worth saying
        return _report(state, raw_size=len(raw), lines=total_lines, given=anchor)
    finally:
        if collecting:
            gc.enable()


def _walk(data: bytes, hits: list[tuple[int, int]], scanner: Scanner, state: _State) -> None:
    line_no, cursor, count, index, total = 1, 0, data.count, 0, len(hits)
    find, rfind, size = data.find, data.rfind, len(data)
    while index < total:
        pos = hits[index][0]
        start = rfind(b"\n", 0, pos) + 1
        line_no += count(b"\n", cursor, start)
        cursor = start
        end = find(b"\n", pos)
        if end < 0:
            end = size
        first = index
        index += 1
        while index < total and hits[index][0] < end:
            index += 1
        route = scanner.route(frozenset(word for _, word in hits[first:index]))
        raw = data[start:end]
        if len(raw) > LONG_LINE:
            state.long_lines += 1
            if state.long_lines <= _LONG_LINE_WARNINGS:
                state.warnings.append(ParseWarning(
                    "long_line", f"line {line_no} is {len(raw):,} bytes long; it is shown cut to "
                    f"{DISPLAY_LIMIT} characters and read around each match", line=line_no,
                ))
            pieces = _windows(raw, [p - start for p, _ in hits[first:index]], line_no, state)
        else:
            text = raw.decode("utf-8", "backslashreplace").rstrip("\r")
            if "\r" in text:
                pieces = _redraws(text, raw, [p - start for p, _ in hits[first:index]])
            else:
                pieces = [clean_line(text)]
        reported: set[str] = set()  # a progress line redrawn in place is one finding, not one per redraw
        for piece in pieces:
            _handle(piece, line_no, route, state, reported)


def _without_nul(raw: bytes) -> bytes:
    """``raw`` without NUL bytes; the padding Azure leaves at the end is cut without copying the log twice."""
    end = len(raw)
    while end and raw[end - 1] == 0:
        end -= 1
        if end < len(raw) - 65536:
            return raw.rstrip(b"\x00").replace(b"\x00", b"")
    body = raw if end == len(raw) else raw[:end]
    return body.replace(b"\x00", b"") if b"\x00" in body else body


def _warn_longest_line(data: bytes, state: _State) -> None:
    """Say which line is longest when the lines average more than :data:`LONG_LINE` bytes."""
    lengths = [len(line) for line in data.split(b"\n")]
    longest = max(range(len(lengths)), key=lengths.__getitem__)
    state.warnings.append(ParseWarning(
        "long_line", f"line {longest + 1} is {lengths[longest]:,} bytes long and holds nothing the rules know; "
        "is this a serial log?", line=longest + 1,
    ))


def _redraws(text: str, raw: bytes, offsets: list[int]) -> list[str]:
    """The ``\r``-separated redraws of a line that hold a literal, each cleaned once."""
    pieces: list[str] = []
    seen: set[int] = set()
    for offset in offsets:
        at = len(raw[:offset].decode("utf-8", "backslashreplace"))
        redraw = text.rfind("\r", 0, at) + 1
        if redraw not in seen:
            seen.add(redraw)
            pieces.append(clean_line(text, at))
    return pieces


def _windows(raw: bytes, offsets: list[int], line_no: int, state: _State) -> list[str]:
    """Windows of a very long line around each literal (a cut multi-byte character shows as ``\\xNN``)."""
    pieces: list[str] = []
    covered = -1
    for offset in offsets:
        if offset < covered:
            continue
        left, right = max(0, offset - _WINDOW), min(len(raw), offset + _WINDOW)
        window = raw[left:right]
        at = len(window[: offset - left].decode("utf-8", "backslashreplace"))
        pieces.append(clean_line(window.decode("utf-8", "backslashreplace"), at))
        covered = right
        if len(pieces) >= _WINDOWS_PER_LINE:
            state.warnings.append(ParseWarning(
                "long_line", f"line {line_no}: stopped after {_WINDOWS_PER_LINE} matches on one line", line=line_no,
            ))
            break
    return pieces


def _handle(line: str, line_no: int, route: Route, state: _State, reported: set[str]) -> None:
    context = state.context
    context.line = line_no
    hits: list[Hit] = []
    for rule, signatures in route:
        if state.stopped and rule.NAME in state.stopped:
            continue
        try:
            hits.extend(rule.parse_line(line, context, signatures))
        except Exception as error:  # a rule bug must not lose the rest of the report
            _rule_failed(rule, error, line_no, state)
    if not hits:
        return
    when = line_time(line)
    text = display(line)
    for hit in hits:
        if hit.boot_start and hit.stage:
            _maybe_new_boot(hit, state)
            break
    boot = context.boot
    if when.time is not None:
        state.years.append(when.time.year)
        if when.uptime is not None:
            state.anchors[boot].append(TimeAnchor("syslog", when.time, when.uptime, line_no, text))
    specific = len(hits) > 1 and any(h.severity and h.kind not in _GENERIC for h in hits)
    seen_kinds: set[str] = set()
    for hit in hits:
        kind, severity, stage = hit.kind, hit.severity, hit.stage
        if hit.warning:
            state.warnings.append(ParseWarning("date", f"line {line_no}: {hit.warning}", line=line_no))
        if hit.marker:
            if hit.marker not in state.markers:
                state.markers.append(hit.marker)
            elif not severity and not stage:
                continue  # a marker already noted: nothing new on this line
        if hit.os:
            state.os_votes[boot][hit.os] += 1
        if hit.anchor:
            uptime, wall = hit.anchor
            state.years.append(wall.year)
            state.anchors[boot].append(TimeAnchor("cloud-init", wall, uptime, line_no, text))
        if stage:
            rank = stage_rank(stage)
            if boot not in state.stage or rank > state.max_rank[boot]:
                state.max_rank[boot] = rank
                state.stage[boot] = stage
                context.stage = stage
            if stage == "initramfs":
                context.in_initrd = True
            elif stage in _LINUX_LATE or kind == "boot:systemd:switch_root":
                context.in_initrd = False
        if kind in seen_kinds:
            continue
        seen_kinds.add(kind)
        if severity and (not specific or kind not in _GENERIC) and kind not in reported:
            reported.add(kind)
            state.findings.append((kind, severity, line_no, text, hit.summary or text, boot, hit.detect_only))
        else:
            severity = None
        state.pending.append((line_no, boot, when, kind, text, stage, severity))
    state.any_event = True


def _maybe_new_boot(hit: Hit, state: _State) -> None:
    """Start a new boot at ``hit`` when the current boot already got past its stage."""
    context = state.context
    reached = state.max_rank.get(context.boot, 0)
    again = hit.kind in _ONCE_PER_BOOT and hit.kind in state.starts
    if state.any_event and (reached > stage_rank(hit.stage or "none") or again):
        context.boot += 1
        context.in_initrd = False
        context.stage = "none"
        state.starts = set()
    state.starts.add(hit.kind)


def _rule_failed(rule: Rule, error: Exception, line_no: int, state: _State) -> None:
    failures = state.rule_failures[rule.NAME] = state.rule_failures[rule.NAME] + 1
    if failures <= _RULE_WARNINGS:
        state.warnings.append(ParseWarning(
            "rule", f"line {line_no}: the {rule.NAME} rule could not read this line ({type(error).__name__}: {error})",
            line=line_no,
        ))
    if failures >= _RULE_FAILURES_BEFORE_STOP:
        state.stopped.add(rule.NAME)
        state.warnings.append(ParseWarning(
            "rule", f"the {rule.NAME} rule failed on {failures} lines; it was not used after line {line_no}",
            line=line_no,
        ))


def _boot_anchor(state: _State, boot: int, last: int, given: datetime | None) -> TimeAnchor | None:
    candidates = state.anchors.get(boot, [])
    for source in ("cloud-init", "syslog"):
        for candidate in candidates:
            if candidate.source == source:
                return candidate
    if boot == last and given is not None:
        when = given if given.tzinfo else given.replace(tzinfo=UTC)
        return TimeAnchor("given", when.astimezone(UTC), 0.0)
    return None


def _report(state: _State, *, raw_size: int, lines: int, given: datetime | None) -> BootReport:
    boots = state.context.boot + 1 if state.any_event else 0
    last = max(boots - 1, 0)
    anchors = {b: _boot_anchor(state, b, last, given) for b in range(boots)}
    year = state.years[0] if state.years else (given.year if given else None)
    events = []
    for line_no, boot, when, kind, text, stage, severity in state.pending:
        time, desc = when.time, None
        boot_anchor = anchors.get(boot)
        if time is not None:
            desc = "event"
        elif when.uptime is not None and boot_anchor is not None:
            time, desc = boot_anchor.at(when.uptime), "estimated from uptime"
        elif when.dated_without_year is not None:
            guess_year = boot_anchor.time.year if boot_anchor else year
            guess = with_year(when.dated_without_year, guess_year) if guess_year else None
            if guess is not None:
                time, desc = guess, "event"
        events.append(BootEvent(line_no, boot, when.uptime, time, desc, kind, text, stage, severity))
    findings: list[Finding] = []
    earlier: list[Finding] = []
    per_kind: dict[tuple[int, str], int] = defaultdict(int)
    for kind, severity, line_no, text, summary, boot, detect_only in state.findings:
        key = (boot, kind)
        per_kind[key] += 1
        if per_kind[key] <= FINDINGS_PER_KIND:
            finding = Finding(kind=kind, severity=severity, line=line_no, text=text,
                              evidence=f"{state.source}:{line_no}", summary=summary, boot=boot,
                              detect_only=detect_only)
            (findings if boot == last else earlier).append(finding)
    for (boot, kind), number in per_kind.items():
        if number > FINDINGS_PER_KIND:
            which = "the last boot" if boot == last else f"boot {boot}"
            state.warnings.append(ParseWarning(
                "truncated", f"{number - FINDINGS_PER_KIND} more {kind} findings in {which} are not listed "
                "(they are in the events)",
            ))
    votes = state.os_votes.get(last) or _total_votes(state)
    os_name = max(votes, key=lambda k: votes[k]) if votes else "unknown"
    markers = tuple(state.markers)
    if any(m in _AZURE_MARKERS for m in markers):
        platform = "azure-hyperv"
    elif markers:
        platform = "hyperv"
    else:
        platform = "unknown"
    return BootReport(
        source=state.source, os=os_name, platform=platform, platform_markers=markers,
        stage=state.stage.get(last, "none"), events=tuple(events), findings=tuple(findings),
        warnings=tuple(state.warnings), boots=boots, anchor=anchors.get(last), lines=lines, size=raw_size,
        earlier_findings=tuple(earlier),
    )


def _total_votes(state: _State) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for votes in state.os_votes.values():
        for name, number in votes.items():
            total[name] += number
    return total
