"""End to end: a rendered screen → OCR → the boot-log rules → the finding a responder acts on.

The Windows kinds are those of ``kit/analyze/bootlog/rules/windows.py`` (bugcheck, boot_manager_error,
bcd_error, recovery, automatic_repair, updating, applying_policy, bootmgr_missing).
"""

from __future__ import annotations

import pytest
from screenshot_data import WINLOAD, needs_tesseract, report

pytestmark = needs_tesseract


def _kinds(name: str) -> set[str]:
    return {finding.kind for finding in report(name).findings}


def _summaries(name: str, kind: str) -> str:
    return " ".join(finding.summary for finding in report(name).findings if finding.kind == kind)


def test_stop_code_screen_is_a_bugcheck_naming_the_stop_code() -> None:
    result = report("stop-code")
    assert result.layout == "stop_code" and result.boot.os == "windows"
    assert "boot:windows:bugcheck" in _kinds("stop-code")
    assert "CRITICAL_PROCESS_DIED" in _summaries("stop-code", "boot:windows:bugcheck")
    assert [f.severity for f in result.findings if f.kind == "boot:windows:bugcheck"] == ["critical"]
    assert result.findings[0].evidence.startswith("screenshot:")


def test_inaccessible_boot_device_is_named() -> None:
    assert "INACCESSIBLE_BOOT_DEVICE" in _summaries("stop-code-inaccessible", "boot:windows:bugcheck")


def test_boot_manager_error_names_the_status_and_the_file_printed() -> None:
    assert report("boot-manager-winload").layout == "boot_manager"
    assert "boot:windows:boot_manager_error" in _kinds("boot-manager-winload")
    summary = _summaries("boot-manager-winload", "boot:windows:boot_manager_error")
    assert "0xc000000e" in summary.lower() and "winload.exe" in summary.lower()


def test_a_bcd_file_is_a_bcd_error_with_the_status_printed() -> None:
    assert "boot:windows:bcd_error" in _kinds("boot-manager-bcd")
    summary = _summaries("boot-manager-bcd", "boot:windows:bcd_error")
    assert "0xc000000f" in summary.lower() and "0xc0000034" not in summary.lower()


def test_recovery_screen_is_recognised_with_its_error_code() -> None:
    assert report("recovery-bcd").layout == "recovery"
    assert "boot:windows:recovery" in _kinds("recovery-bcd")
    assert "0xc0000034" in " ".join(f.summary for f in report("recovery-bcd").findings).lower()


@pytest.mark.parametrize(("name", "kind"), [
    ("automatic-repair", "boot:windows:automatic_repair"),
    ("updating", "boot:windows:updating"),
    ("applying-policy", "boot:windows:applying_policy"),
    ("bootmgr-missing", "boot:windows:bootmgr_missing"),
    ("linux-login", "boot:systemd:login_prompt"),
    ("linux-emergency", "boot:systemd:emergency_mode"),
])
def test_screens_that_tell_where_the_boot_stands(name: str, kind: str) -> None:
    assert kind in _kinds(name), report(name).rule_lines


def test_a_windows_lock_screen_raises_no_problem() -> None:
    assert not [f for f in report("windows-lock").findings if f.severity in ("critical", "error")]


def test_the_json_document_is_stable() -> None:
    doc = report("boot-manager-winload").to_json()
    assert doc["format"] == "kit-screenshot/1"
    assert {"format", "lines", "engine", "seconds", "width", "height", "layout", "rule_lines", "os", "stage",
            "findings", "warnings"} == set(doc)
    assert (doc["width"], doc["height"]) == (1024, 768)
    assert any(WINLOAD in line for line in doc["rule_lines"])
