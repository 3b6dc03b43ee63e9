"""What real serial bytes contain: NUL padding, \\r\\r\\n, invalid UTF-8, ANSI escapes in both
forms, console redraws and megabyte-long lines."""

from __future__ import annotations

from kit.analyze.bootlog import log_lines, parse_boot_log
from kit.analyze.bootlog._decode import clean_line, decode

PANIC = b"[    0.541200] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"


def test_nul_padding_and_crlf_do_not_change_lines_or_findings() -> None:
    plain = parse_boot_log(b"a\n" + PANIC + b"\nvm login: ")
    azure = parse_boot_log(b"a\r\r\n" + PANIC + b"\r\n\x00\x00vm login: \x00" + b"\x00" * 8192)
    assert [(f.kind, f.line, f.text) for f in azure.findings] == [(f.kind, f.line, f.text) for f in plain.findings]
    assert azure.lines == plain.lines == 3
    assert azure.warnings == ()


def test_invalid_utf8_is_escaped_and_warned_with_its_byte_offset() -> None:
    cut = len(PANIC) - 10
    data = b"ok line\r\n" + PANIC[:cut] + b"\xff\xfe" + PANIC[cut:] + b"\r\n"
    report = parse_boot_log(data)
    assert [w.kind for w in report.warnings] == ["decode"]
    assert report.warnings[0].offset == len(b"ok line\r\n") + cut
    assert "2 undecodable byte(s)" in report.warnings[0].message
    panic = report.findings_of("boot:kernel:panic")[0]
    assert "\\xff\\xfe" in panic.text and panic.line == 2


def test_many_undecodable_bytes_give_a_bounded_number_of_warnings() -> None:
    report = parse_boot_log(b"ok \xff" * 5000)
    decode_warnings = [w for w in report.warnings if w.kind == "decode"]
    assert 2 <= len(decode_warnings) <= 11
    assert "more undecodable" in decode_warnings[-1].message


def test_ansi_with_and_without_esc_byte_is_removed() -> None:
    with_esc = ("[\x1b[0;1;31mFAILED\x1b[0m] Failed to start \x1b[0;1;39mssh.service\x1b[0m"
                " - OpenBSD Secure Shell server.")
    without = with_esc.replace("\x1b", "")
    assert clean_line(with_esc) == clean_line(without) == \
        "[FAILED] Failed to start ssh.service - OpenBSD Secure Shell server."
    grub = "\x1b[0m\x1b[30m\x1b[40m\x1b[2J\x1b[01;01H\x1b[0m\x1b[37m\x1b[40mLoading Linux 6.8.0-1017-azure ..."
    assert clean_line(grub) == clean_line(grub.replace("\x1b", "")) == "Loading Linux 6.8.0-1017-azure ..."


def test_console_redraws_keep_the_part_that_matched() -> None:
    line = ("[***   ] A start job is running for /dev/sdc1 (1min 29s / 1min 30s)\r\x1b[K"
            "[ TIME ] Timed out waiting for device dev-sdc1.device.\r\n")
    report = parse_boot_log(line.encode())
    assert [f.text for f in report.findings] == ["[***   ] A start job is running for /dev/sdc1 (1min 29s / 1min 30s)",
                                                 "[ TIME ] Timed out waiting for device dev-sdc1.device."]


def test_megabyte_line_is_scanned_throughout_but_shown_cut() -> None:
    filler = b"x" * (1 << 20)
    report = parse_boot_log(filler + PANIC + filler + b"\n" + b"vm login: ")
    panic = report.findings_of("boot:kernel:panic")
    assert len(panic) == 1 and panic[0].line == 1
    assert len(panic[0].text) < 3000 and "more characters" in panic[0].text or len(panic[0].text) <= 400
    assert any(w.kind == "long_line" and w.line == 1 for w in report.warnings)
    assert report.lines == 2 and report.stage == "login"


def test_a_long_line_with_matches_everywhere_stops_after_a_bounded_number() -> None:
    report = parse_boot_log(b"Kernel panic - not syncing: x " * 100_000)
    assert 1 <= len(report.events) <= 20
    assert any("stopped after" in w.message for w in report.warnings)


def test_decode_keeps_byte_offsets_for_several_bad_runs() -> None:
    text, warnings = decode(b"ab\xffcd\xc3\x28ef")
    assert text == "ab\\xffcd\\xc3(ef"
    assert [w.offset for w in warnings] == [2, 5]


def test_truncated_last_line_is_read() -> None:
    report = parse_boot_log(b"[  1.0] Linux version 5.15.0-1051-azure (x)\r\n[  2.0] Kernel panic - not sync")
    assert report.stage == "kernel" and report.lines == 2


def test_log_lines_number_lines_like_the_parser_without_nul_padding() -> None:
    data = b"a\r\r\n" + PANIC + b"\r\n\x00\x00vm login: \x00" + b"\x00" * 8192
    lines = log_lines(data)
    report = parse_boot_log(data)
    assert len(lines) == report.lines == 3 and lines[2] == "vm login: "
    panic = report.findings_of("boot:kernel:panic")[0]
    assert lines[panic.line - 1] == PANIC.decode()
    assert log_lines(b"") == [] and log_lines(b"\x00" * 100) == []
    assert log_lines(b"x\xff\n") == ["x\\xff"], "undecodable bytes shown as escapes, as the parser does"
