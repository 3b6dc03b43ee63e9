"""Screenshots as the collector stores them (real SDK, lab over HTTPS): what OCR reads follows the scenario."""

from __future__ import annotations

from typing import Any

from screenshot_data import needs_tesseract

from kit.analyze.screenshot import analyze_screenshot

pytestmark = needs_tesseract


def test_a_collected_linux_screenshot_shows_where_the_boot_stopped(scenario_bundles: dict[str, Any]) -> None:
    _info, subject, peers = scenario_bundles["fstab-emergency"]
    assert "boot:systemd:emergency_mode" in {f.kind for f in analyze_screenshot(subject.screenshot).findings}
    for peer in peers:
        assert "boot:systemd:login_prompt" in {f.kind for f in analyze_screenshot(peer.screenshot).findings}


def test_a_firewall_that_logs_to_the_console_shows_its_drops(scenario_bundles: dict[str, Any]) -> None:
    _info, subject, _peers = scenario_bundles["firewall-lockout"]
    lines = analyze_screenshot(subject.screenshot).text.lines
    assert sum("fw-baseline-v7 DROP" in line for line in lines) >= 5


def test_the_windows_vm_whose_rdp_is_off_sits_at_its_lock_screen(scenario_bundles: dict[str, Any]) -> None:
    _info, subject, _peers = scenario_bundles["windows-rdp"]
    report = analyze_screenshot(subject.screenshot)
    assert report.text.size == (1024, 768) and "Press Ctrl+Alt+Delete to unlock." in report.text.lines
    assert not [f for f in report.findings if f.severity in ("critical", "error")]
