"""Report sections quote the right log lines and escape what they show."""

from __future__ import annotations

from kit.analyze.bootlog import parse_boot_log
from kit.report.present import clean_text, log_excerpt, table
from kit.report.sections import _lines, boot_section


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
