"""Report sections quote the right log lines, escape what they show, and stay short: findings grouped
by kind, excerpt windows merged, repeated events collapsed, NUL padding hidden."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pandas as pd

import kit.analyze.bootlog.rules as rules
from kit.analyze.bootlog import Finding, parse_boot_log
from kit.report.present import clean_text, log_excerpt, table
from kit.report.sections import (
    PROGRESS_KINDS,
    _lines,
    boot_section,
    collapse_repeats,
    excerpt_regions,
    group_findings,
    notable_events,
)


def test_excerpts_use_the_boot_parsers_line_numbers() -> None:
    log = (b"[    0.000000] Linux version 6.8.0-1017-azure\r\n"
           b"progress 10%\rprogress 100%\r\n"
           b"\x1b[0;1;31m[FAILED]\x1b[0m Failed to mount mnt-data.mount - /mnt/data.\r\n"
           b"You are in emergency mode. After logging in, type \"journalctl -xb\" to view\r\n")
    lines = _lines(log)
    assert len(lines) == 4 and lines[2].startswith("\x1b[0;1;31m[FAILED]")
    report = parse_boot_log(log)
    html = boot_section(report, log)
    for finding in report.findings:
        assert f"{finding.line:>6}  " in html
    assert "Failed to mount mnt-data.mount" in html and "\x1b" not in html


def test_tables_and_excerpts_escape_markup_and_controls() -> None:
    hostile = '<script>alert(1)</script>\x1b[31mred\x1b[0m\x1b[2K\u202e'
    html = table([{"caller": hostile}]) + log_excerpt([(1, hostile)])
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\x1b" not in html and "\\x1b[2K" in html and "\\u202e" in html
    assert clean_text("A" * 5000).endswith("[3,000 more characters not shown]")


# ------------------------------------------------- grouping, merging, collapsing (a short report)

DROP = "[158704.494072] fw-baseline-v7 DROP: IN=eth0 SRC=203.0.113.7 DST=10.42.1.4 PROTO=TCP DPT=22"


def _finding(kind: str, severity: str, line: int, summary: str = "it matters") -> Finding:
    return Finding(kind=kind, severity=severity, line=line, text=f"{DROP} #{line}", evidence=f"serial.log:{line}",
                   summary=summary)


def test_findings_of_one_kind_become_one_row_with_count_range_and_example() -> None:
    findings = [_finding("boot:firewall:admin_port_blocked", "critical", n) for n in range(529, 556)]
    findings += [_finding("boot:firewall:blocked", "info", 517), _finding("boot:cloud-init:error", "warning", 600)]
    rows = group_findings(reversed(findings))
    assert [r["finding"] for r in rows] == ["boot:firewall:admin_port_blocked", "boot:cloud-init:error",
                                            "boot:firewall:blocked"], "critical first, info last"
    top = rows[0]
    assert (top["severity"], top["count"], top["lines"]) == ("critical", 27, "529–555")
    assert top["example"] == f"529: {DROP} #529"
    assert rows[2]["lines"] == "517" and rows[2]["count"] == 1
    as_json = group_findings([f.to_json() for f in findings])  # the postmortem reads the archived JSON
    assert as_json == rows


def test_differing_summaries_of_one_kind_are_counted_not_listed() -> None:
    rows = group_findings([_finding("boot:firewall:blocked", "info", 1, "from 10.0.0.1"),
                           _finding("boot:firewall:blocked", "info", 2, "from 10.0.0.2")])
    assert len(rows) == 1 and rows[0]["what it means"] == "from 10.0.0.1 (first of 2 variants)"


def test_overlapping_and_adjacent_excerpt_windows_merge() -> None:
    assert excerpt_regions([10, 12, 13], context=2, last=100) == [(8, 15)]  # overlapping
    assert excerpt_regions([10, 15], context=2, last=100) == [(8, 17)]  # 12 and 13 touch
    assert excerpt_regions([10, 16], context=2, last=100) == [(8, 12), (14, 18)]  # one line apart stays apart
    assert excerpt_regions([99, 1, 1], context=2, last=100) == [(1, 3), (97, 100)]  # clipped, sorted, deduplicated
    assert excerpt_regions([], context=2) == []


def _log(n: int) -> bytes:
    return b"".join(f"plain line {i}\r\n".encode() for i in range(1, n + 1))


def _report(findings: list[Finding], lines: int) -> object:
    report = parse_boot_log(_log(lines))
    return replace(report, findings=tuple(findings))


def test_boot_section_groups_rows_merges_excerpts_and_keeps_the_tail() -> None:
    findings = [_finding("boot:firewall:admin_port_blocked", "critical", n) for n in range(200, 227)]
    findings += [_finding("boot:systemd:multi_user", "info", 50), _finding("boot:systemd:multi_user", "info", 51),
                 _finding("boot:sshd:started", "info", 40)]
    html = boot_section(_report(findings, 300), _log(300))
    body = html.split("<details", 1)[0]  # what is shown before a click
    assert body.count(">boot:firewall:admin_port_blocked</td>") == 1
    assert '<td class="kit-nowrap">27</td>' in body and "200–226" in body
    assert "multi_user" not in body.split("</div>", 1)[1], "progress markers are in the summary, not the table"
    assert "systemd:multi_user (lines 50–51, 2×)" in body and "sshd:started (line 40)" in body
    assert html.count("<details") == 1, "every finding line is one click away"
    excerpts = re.findall(r'<pre class="kit-pre">(.*?)</pre>', html, re.S)
    assert len(excerpts) == 2, "one merged excerpt for 27 adjacent findings, then the tail"
    first = excerpts[0]
    assert first.count('class="kit-line kit-hit"') == 27 and "   198  plain line 198" in first
    assert "   228  plain line 228" in first and "   229  " not in first
    assert "the last 25 lines (where the boot stopped)" in html and "   300  plain line 300" in excerpts[1]


def test_excerpts_are_capped_and_the_rest_listed_by_line_number() -> None:
    findings = [_finding("boot:cloud-init:error", "warning", n) for n in range(10, 200, 20)]  # 10 separate regions
    findings.append(_finding("boot:kernel:panic", "critical", 195))  # joins the region of line 190
    html = boot_section(_report(findings, 400), _log(400), max_excerpts=3)
    excerpts = re.findall(r'<p class="kit-caption"><strong>(serial.log[^<]*)</strong>', html)
    assert excerpts == ["serial.log lines 8–12: boot:cloud-init:error (warning)",
                        "serial.log lines 28–32: boot:cloud-init:error (warning)",
                        "serial.log lines 188–197: boot:cloud-init:error (warning), boot:kernel:panic (critical)",
                        "serial.log: the last 25 lines (where the boot stopped)"], "the worst region first, log order"
    listed = html.split("7 more region(s) with findings, not excerpted: ", 1)[1].split("</p>", 1)[0]
    assert listed.startswith("lines 48–52 (boot:cloud-init:error (warning)); lines 68–72")
    assert listed.count("lines ") == 7 and "lines 168–172" in listed


def test_a_region_that_reaches_the_tail_is_shown_with_it_once() -> None:  # or ends within `context` lines of it
    findings = [_finding("boot:firewall:admin_port_blocked", "critical", n) for n in (270, 271)]
    html = boot_section(_report(findings, 300), _log(300))
    excerpts = re.findall(r'<pre class="kit-pre">(.*?)</pre>', html, re.S)
    assert len(excerpts) == 1 and excerpts[0].count("   270  ") == 1
    assert "the last 33 lines (where the boot stopped)" in html and "   268  " in excerpts[0]


def test_a_long_region_is_cut_in_the_middle_with_a_note() -> None:
    findings = [_finding("boot:firewall:admin_port_blocked", "critical", n) for n in range(100, 200)]
    html = boot_section(_report(findings, 1000), _log(1000), region_lines=40)
    first = re.findall(r'<pre class="kit-pre">(.*?)</pre>', html, re.S)[0]
    assert first.count('class="kit-line') == 41 and "… lines 118–181 not shown (64 lines) …" in first
    assert "   117  " in first and "   182  " in first and "   150  " not in first


def test_trailing_nul_padding_is_not_displayed() -> None:
    log = b"[    0.000000] Linux version 6.8.0\r\nvm login: \r\n" + b"\x00" * 4096
    assert _lines(log) == ["[    0.000000] Linux version 6.8.0", "vm login: "]
    html = boot_section(parse_boot_log(log), log)
    assert "\\x00" not in html and "x00" not in html
    # padding between two boots (Azure pads, then the next boot appends) does not show either
    rebooted = log + b"\r\n[    0.000000] Linux version 6.8.0\r\n"
    assert "x00" not in boot_section(parse_boot_log(rebooted), rebooted)
    assert "x00" not in log_excerpt([(1, "text\x00\x00\x00"), (2, b"more\x00\x00")])


def test_excerpt_highlight_marks_only_the_given_lines_and_stays_escaped() -> None:
    html = log_excerpt([(1, "calm"), (2, "<script>alert(1)</script>")], highlight={2})
    assert '<span class="kit-line">     1  calm\n</span>' in html
    assert '<span class="kit-line kit-hit">     2  &lt;script&gt;alert(1)&lt;/script&gt;\n</span>' in html
    assert "<script>" not in html


def _timeline(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    t0 = pd.Timestamp("2026-11-24T22:19:26Z")
    return pd.DataFrame({
        "time": [t0 + pd.Timedelta(seconds=41 * i) for i in range(len(rows))],
        "source": [r[0] for r in rows], "severity": [r[1] for r in rows], "kind": [r[2] for r in rows],
        "summary": [r[3] for r in rows], "actor": [""] * len(rows),
        "evidence": [f"serial.log:{529 + i}" for i in range(len(rows))],
    })


def test_consecutive_identical_events_collapse_into_one_row_with_count_and_range() -> None:
    blocked = ("boot_log", "critical", "boot:firewall:admin_port_blocked", "The guest firewall dropped SSH traffic")
    other = ("activity_log", "info", "Microsoft.Compute/virtualMachines/restart/action", "<b>Restart</b>")
    html = notable_events(_timeline([blocked] * 10 + [other] + [blocked]))
    rows = re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>", 1)[1], re.S)
    assert len(rows) == 3, "ten repeats, the restart, then the repeat after it stays apart"
    assert '<td class="kit-nowrap">10</td>' in rows[0] and "serial.log:529–538" in rows[0]
    assert "2026-11-24 22:19:26Z\n→ 22:25:35Z" in rows[0]
    assert "&lt;b&gt;Restart&lt;/b&gt;" in rows[1] and '<td class="kit-nowrap">1</td>' in rows[2]
    assert "12 events" in html


def test_collapse_repeats_only_folds_neighbours() -> None:
    rows = [{"k": "a"}, {"k": "a"}, {"k": "b"}, {"k": "a"}]
    runs = collapse_repeats(rows, ("k",))
    assert [(r["first"]["k"], r["count"]) for r in runs] == [("a", 2), ("b", 1), ("a", 1)]
    assert runs[0]["last"] is rows[1]


def test_progress_kinds_are_finding_kinds_the_rules_emit() -> None:
    source = "".join(p.read_text() for p in Path(rules.__file__).parent.glob("*.py"))
    assert all(f'"{kind}"' in source for kind in PROGRESS_KINDS), PROGRESS_KINDS


def test_short_columns_do_not_wrap() -> None:
    html = table([{"port": 3389, "explanation": "long"}], nowrap=("port",))
    assert '<th class="kit-nowrap">port</th>' in html and '<td class="kit-nowrap">3389</td>' in html
    assert "<td>long</td>" in html


def test_a_huge_log_line_is_cut_once_and_says_how_much() -> None:
    html = log_excerpt([(1, "A" * 1_048_576)])
    assert "[1,046,576 more characters not shown]" in html and html.count("more characters not shown") == 1
