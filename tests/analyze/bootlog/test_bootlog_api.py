"""The package surface other parts of the kit build on."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from bootlog_data import read

from kit.analyze.bootlog import BootReport, Finding, boot_report_from_bundle, parse_boot_log
from kit.analyze.bootlog.rules import REGISTRY, Context, RuleRegistry
from kit.errors import AnalysisError


def test_one_rule_module_per_family_registered() -> None:
    assert set(REGISTRY.names()) >= {"bootloader", "cloud-init", "filesystem", "firewall", "fstab", "initramfs",
                                     "kernel", "platform", "sshd", "systemd", "waagent", "windows"}
    for rule in REGISTRY.rules():
        assert rule.parse_line("nothing to see here", Context()) == []


def test_registering_a_second_rule_with_the_same_name_raises() -> None:
    registry = RuleRegistry()
    rule = REGISTRY.get("sshd")
    registry.register(rule)
    with pytest.raises(KeyError, match="already registered"):
        registry.register(rule)
    with pytest.raises(KeyError, match="known: sshd"):
        registry.get("nope")


def test_report_and_findings_are_frozen() -> None:
    report = parse_boot_log(read("sshd-bad-config.log"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.stage = "login"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.findings[0].kind = "x"  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(Finding)] == ["kind", "severity", "line", "text", "evidence",
                                                              "summary", "boot", "detect_only"]
    assert report.findings[0].family == "waagent"


def test_finding_kinds_are_colon_separated_boot_family_what() -> None:
    for name in ("ubuntu-fstab-emergency.log", "sshd-bad-config.log", "windows-bcd-missing.log"):
        for finding in parse_boot_log(read(name)).findings:
            prefix, family, what = finding.kind.split(":")
            assert prefix == "boot" and family in REGISTRY.names() + ("cloud-init",) and what


def test_bundle_without_serial_log_says_so() -> None:
    report = boot_report_from_bundle(SimpleNamespace(serial_log=None))
    assert isinstance(report, BootReport)
    assert (report.stage, report.boots, report.findings) == ("none", 0, ())
    assert [w.kind for w in report.warnings] == ["no_log"]


def test_bundle_serial_log_is_parsed_as_serial_log() -> None:
    report = boot_report_from_bundle(SimpleNamespace(serial_log=read("grub-rescue.log")))
    assert report.source == "serial.log" and report.stage == "bootloader"
    assert report.findings[-1].evidence == "serial.log:4"  # the "grub rescue>" prompt (no line end)


def test_text_input_is_accepted_and_other_types_are_a_kit_error() -> None:
    assert parse_boot_log("[ 1.0] Kernel panic - not syncing: x\n").findings[0].kind == "boot:kernel:panic"  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match="must be bytes"):
        parse_boot_log(12)  # type: ignore[arg-type]


def test_repeated_findings_of_one_kind_are_capped_with_a_warning() -> None:
    line = (b"[  612.300000] [UFW BLOCK] IN=eth0 OUT= MAC=00:0d SRC=203.0.113.7 DST=10.0.0.4 LEN=60 TOS=0x00 "
            b"PROTO=TCP SPT=50000 DPT=22 WINDOW=64240 SYN URGP=0\r\n")
    report = parse_boot_log(line * 40)
    assert len(report.findings) == 25 and len(report.events) == 40
    assert [w.kind for w in report.warnings] == ["truncated"]
    assert "15 more boot:firewall:admin_port_blocked" in report.warnings[0].message


def test_a_failing_rule_becomes_warnings_and_is_stopped_after_a_run_of_failures(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(line: str, context: object, signatures: object = None) -> list:
        raise ValueError("cannot read this")

    monkeypatch.setattr(REGISTRY.get("firewall"), "parse_line", broken)
    line = b"[  612.3] [UFW BLOCK] IN=eth0 OUT= MAC=00 SRC=203.0.113.7 DST=10.0.0.4 PROTO=TCP SPT=5 DPT=22\r\n"
    report = parse_boot_log(read("ubuntu-healthy.log") + b"\r\n" + line * 30)
    rule_warnings = [w for w in report.warnings if w.kind == "rule"]
    assert len(rule_warnings) == 6  # five with their line numbers, then one saying the rule was stopped
    assert rule_warnings[0].line == 144 and "ValueError: cannot read this" in rule_warnings[0].message
    assert "failed on 20 lines" in rule_warnings[-1].message
    assert report.stage == "login" and report.findings_of("boot:systemd:login_prompt")
